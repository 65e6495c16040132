"""Transaction rules of the embedded store: request checks made before anything runs
(etcd ``server/etcdserver/api/v3rpc/key.go`` ``checkTxnRequest``, ``checkIntervals``) and
compares (``server/etcdserver/apply.go`` ``applyCompare``, ``compareKV``)."""

from __future__ import annotations

from kbook.controlplane.etcd.mvcc import ALL_KEYS
from kbook.controlplane.etcd.types import (
    CREATE, EQUAL, GREATER, LEASE, LESS, MOD, NOT_EQUAL, VALUE, VERSION,
    Compare, DeleteOp, ErrDuplicateKey, ErrEmptyKey, ErrTooManyOps, KeyValue, Op, PutOp, TxnOp,
)

MAX_TXN_OPS = 128  # --max-txn-ops, embed/config.go DefaultMaxTxnOps

_Interval = tuple[str, str | None]  # [start, end); end None: a single key


def check_txn(compare: tuple[Compare, ...], success: tuple[Op, ...], failure: tuple[Op, ...],
              max_ops: int = MAX_TXN_OPS) -> None:
    """Refuse a txn with too many operations, an empty key, or a key written twice on one path."""
    _check_request(compare, success, failure, max_ops)
    _check_intervals(success)
    _check_intervals(failure)


def _check_request(compare: tuple[Compare, ...], success: tuple[Op, ...], failure: tuple[Op, ...],
                   max_ops: int) -> None:
    ops = max(len(compare), len(success), len(failure))
    if ops > max_ops:
        raise ErrTooManyOps()
    if any(not c.key for c in compare):
        raise ErrEmptyKey()
    for op in success + failure:
        if isinstance(op, TxnOp):
            _check_request(op.compare, op.success, op.failure, max_ops - ops)
        elif not op.key:
            raise ErrEmptyKey()


def _hits(dels: list[_Interval], key: str) -> bool:
    for start, end in dels:
        if (key == start) if end is None else (start <= key and (end == ALL_KEYS or key < end)):
            return True
    return False


def _check_intervals(ops: tuple[Op, ...]) -> tuple[set[str], list[_Interval]]:
    """The keys put and the ranges deleted by ``ops``; a put that another put or a delete
    on the same path also touches is a duplicate (Then/Else of a nested txn may overlap)."""
    dels: list[_Interval] = [(op.key, op.range_end or None) for op in ops if isinstance(op, DeleteOp)]
    puts: set[str] = set()
    for op in ops:
        if not isinstance(op, TxnOp):
            continue
        puts_then, dels_then = _check_intervals(op.success)
        puts_else, dels_else = _check_intervals(op.failure)
        for k in puts_then:
            if k in puts or _hits(dels, k):
                raise ErrDuplicateKey()
            puts.add(k)
        for k in puts_else:
            if (k in puts and k not in puts_then) or _hits(dels, k):
                raise ErrDuplicateKey()
            puts.add(k)
        dels += dels_then + dels_else
    for op in ops:
        if isinstance(op, PutOp):
            if op.key in puts or _hits(dels, op.key):
                raise ErrDuplicateKey()
            puts.add(op.key)
    return puts, dels


def _cmp(a: int | bytes, b: int | bytes) -> int:
    return (a > b) - (a < b)  # type: ignore[operator]


_FIELD = {VERSION: "version", CREATE: "create_revision", MOD: "mod_revision", LEASE: "lease", VALUE: "value"}
_WANT = {EQUAL: (0,), GREATER: (1,), LESS: (-1,), NOT_EQUAL: (-1, 1)}


def compare_kvs(c: Compare, kvs: list[KeyValue]) -> bool:
    """Whether every key-value in ``kvs`` (the compare's key or range) satisfies ``c``;
    a missing key counts as all zeros, except that a VALUE compare on it is false."""
    if not kvs:
        if c.target == VALUE:
            return False
        kvs = [KeyValue(c.key)]
    name, want = _FIELD[c.target], _WANT[c.result]
    return all(_cmp(getattr(kv, name), c.value) in want for kv in kvs)
