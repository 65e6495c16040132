"""The embedded store: etcd's KV, Watch and Lease services in process, deterministic and
fast (etcd ``server/etcdserver/apply.go`` ``applierV3backend``, ``server/storage/mvcc``,
``server/lease/lessor.go``). Time comes only from the injected clock; leases expire when
:meth:`EmbeddedEtcd.tick` runs, by hand or in the SimPy process :meth:`EmbeddedEtcd.run_lessor`."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable

from kbook.controlplane.etcd.lessor import (
    LEASE_CHECK_INTERVAL, LEASE_REVOKE_RATE, Lessor, ManualClock, delay_to, first_check,
)
from kbook.controlplane.etcd.mvcc import KeySpace
from kbook.controlplane.etcd.txn import check_txn, compare_kvs
from kbook.controlplane.etcd.types import (
    DELETE, PUT, Compare, DeleteOp, DeleteRangeResponse, ErrCompacted, ErrEmptyKey, ErrFutureRev, Event, KeyValue,
    LeaseGrant, LeaseTimeToLive, Op, PutOp, PutResponse, RangeOp, RangeResponse, ResponseHeader,
    TxnOp, TxnResponse, Watch, WatchHandler,
)
from kbook.controlplane.etcd.watchable import WatchHub


def _require_key(key: str) -> None:
    if not key:
        raise ErrEmptyKey()


@dataclass(frozen=True)
class _Path:
    """The branch a txn takes, with the paths of the nested txns on it (``compareToPath``)."""

    succeeded: bool
    ops: tuple[Op, ...]
    nested: tuple["_Path", ...]


class EmbeddedEtcd:
    """An in-process etcd. One global revision (1 when empty), MVCC history, transactions,
    compaction, watches delivered synchronously at commit, and leases that expire when
    :meth:`tick` runs after the clock passed their deadline."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self.clock = clock if clock is not None else ManualClock()
        self._lock = threading.RLock()
        self._rev = 1
        self._compact_rev = -1
        self._kv = KeySpace()
        self._lessor = Lessor(self.clock)
        self._hub = WatchHub(lambda: self._rev)
        self._changes: list[Event] = []
        self._lease_granted: Callable[[], None] | None = None  # LessorLoop.arm, under run_lessor

    @property
    def revision(self) -> int:
        return self._rev

    @property
    def compact_revision(self) -> int:
        """The revision of the last compaction (-1: never compacted)."""
        return self._compact_rev

    # -- KV -----------------------------------------------------------------------------

    def range(self, key: str, range_end: str | None = None, revision: int = 0, limit: int = 0,
              keys_only: bool = False, count_only: bool = False) -> RangeResponse:
        _require_key(key)
        op = RangeOp(key, range_end, revision, limit, keys_only, count_only)
        with self._lock:
            self._check_range(op)
            return self._range(op)

    def put(self, key: str, value: bytes, lease: int = 0, prev_kv: bool = False) -> PutResponse:
        _require_key(key)
        with self._lock:
            if lease:
                self._lessor.get(lease)
            resp = self._put(PutOp(key, value, lease, prev_kv))
            self._end()
            return resp

    def delete_range(self, key: str, range_end: str | None = None, prev_kv: bool = False) -> DeleteRangeResponse:
        _require_key(key)
        with self._lock:
            resp = self._delete(DeleteOp(key, range_end, prev_kv))
            self._end()
            return DeleteRangeResponse(ResponseHeader(self._rev), resp.deleted, resp.prev_kvs)

    def txn(self, compare: tuple[Compare, ...] | list[Compare], success: tuple[Op, ...] | list[Op] = (),
            failure: tuple[Op, ...] | list[Op] = ()) -> TxnResponse:
        """Compares (AND) pick a branch, evaluated for nested txns too before anything runs;
        every change shares one new revision (``applierV3backend.Txn``)."""
        compare, success, failure = tuple(compare), tuple(success), tuple(failure)
        check_txn(compare, success, failure)
        with self._lock:
            path = self._path(compare, success, failure)
            self._check_path(path)
            responses = self._apply(path)
            self._end()
            return TxnResponse(ResponseHeader(self._rev), path.succeeded, responses)

    def compact(self, revision: int) -> None:
        """Forget history below ``revision`` (``kvstore.go`` ``updateCompactRev``)."""
        with self._lock:
            if revision <= self._compact_rev:
                raise ErrCompacted()
            if revision > self._rev:
                raise ErrFutureRev()
            self._compact_rev = revision
            self._kv.compact(revision)
            self._hub.compact(revision)

    # -- Watch --------------------------------------------------------------------------

    def watch(self, key: str, handler: WatchHandler, range_end: str | None = None, start_revision: int = 0,
              prev_kv: bool = False) -> Watch:
        """Send ``handler`` a created response, the events from ``start_revision`` (0: the
        next revision) up to now, then every later event as it commits."""
        with self._lock:
            return self._hub.watch(key, range_end or None, handler, start_revision, prev_kv)

    # -- Lease --------------------------------------------------------------------------

    def lease_grant(self, ttl: int, lease_id: int = 0) -> LeaseGrant:
        with self._lock:
            lease = self._lessor.grant(ttl, lease_id)
            if self._lease_granted is not None:
                self._lease_granted()
            return LeaseGrant(lease.id, lease.ttl)

    def lease_revoke(self, lease_id: int) -> None:
        """Delete the lease and every key attached to it, sorted, in one revision."""
        with self._lock:
            lease = self._lessor.remove(lease_id)
            for key in sorted(lease.keys):
                self._delete_key(key, self._rev + 1)
            self._end()

    def lease_keepalive(self, lease_id: int) -> int:
        with self._lock:
            return self._lessor.renew(lease_id)

    def lease_time_to_live(self, lease_id: int, keys: bool = False) -> LeaseTimeToLive:
        with self._lock:
            lease = self._lessor.leases.get(lease_id)
            if lease is None:
                return LeaseTimeToLive(lease_id, -1, 0)
            remaining = int(self._lessor.remaining(lease))
            return LeaseTimeToLive(lease_id, remaining, lease.ttl, tuple(sorted(lease.keys)) if keys else ())

    def tick(self) -> tuple[int, ...]:
        """Revoke the leases that have expired by the clock's now, at most as many as the
        revoke rate allows per check (``lessor.go`` ``revokeExpiredLeases``); returns their IDs."""
        with self._lock:
            expired = self._lessor.expired(int(LEASE_REVOKE_RATE * LEASE_CHECK_INTERVAL))
            for lease_id in expired:
                self.lease_revoke(lease_id)
            return tuple(expired)

    def run_lessor(self, env: Any) -> None:
        """Run ``lessor.go`` ``runLoop`` on the SimPy environment ``env``, whose time the clock
        must be: a check (:meth:`tick`) every ``LEASE_CHECK_INTERVAL`` from now on, as
        :class:`LessorLoop` runs the ones that can revoke a lease."""
        self._lease_granted = LessorLoop(env, self).arm

    # -- internals ----------------------------------------------------------------------

    def _end(self) -> None:
        """Close a write: if anything changed, the revision moves by one and watchers hear."""
        if self._changes:
            changes, self._changes = self._changes, []
            self._rev += 1
            self._hub.commit(self._rev, changes)

    def _txn_rev(self) -> int:
        return self._rev + 1 if self._changes else self._rev

    def _check_range(self, op: RangeOp) -> None:
        if op.revision > self._rev:
            raise ErrFutureRev()
        if 0 < op.revision < self._compact_rev:
            raise ErrCompacted()

    def _range(self, op: RangeOp) -> RangeResponse:
        kvs = self._kv.range(op.key, op.range_end, op.revision if op.revision > 0 else None)
        count = len(kvs)
        if op.count_only:
            return RangeResponse(ResponseHeader(self._txn_rev()), (), False, count)
        more = 0 < op.limit < count
        if more:
            kvs = kvs[: op.limit]
        if op.keys_only:
            kvs = [KeyValue(kv.key, b"", kv.create_revision, kv.mod_revision, kv.version, kv.lease) for kv in kvs]
        return RangeResponse(ResponseHeader(self._txn_rev()), tuple(kvs), more, count)

    def _put(self, op: PutOp) -> PutResponse:
        rev = self._rev + 1
        kv, prev = self._kv.put(op.key, op.value, op.lease, rev)
        if prev is not None and prev.lease and prev.lease != op.lease:
            self._detach(prev.lease, op.key)
        if op.lease:
            self._lessor.leases[op.lease].keys.add(op.key)
        self._changes.append(Event(PUT, kv, prev))
        return PutResponse(ResponseHeader(rev), prev if op.prev_kv else None)

    def _delete(self, op: DeleteOp) -> DeleteRangeResponse:
        rev = self._rev + 1
        latest = self._kv.latest
        keys = [k for k in self._kv.keys_in(op.key, op.range_end) if k in latest]
        prevs = tuple(self._delete_key(k, rev) for k in keys)
        return DeleteRangeResponse(ResponseHeader(self._txn_rev()), len(prevs), prevs if op.prev_kv else ())

    def _delete_key(self, key: str, rev: int) -> KeyValue:
        prev = self._kv.delete(key, rev)
        if prev.lease:
            self._detach(prev.lease, key)
        self._changes.append(Event(DELETE, KeyValue(key, mod_revision=rev), prev))
        return prev

    def _detach(self, lease_id: int, key: str) -> None:
        lease = self._lessor.leases.get(lease_id)
        if lease is not None:
            lease.keys.discard(key)

    def _path(self, compare: tuple[Compare, ...], success: tuple[Op, ...], failure: tuple[Op, ...]) -> _Path:
        ok = all(compare_kvs(c, self._kv.range(c.key, c.range_end, None)) for c in compare)
        ops = success if ok else failure
        nested = tuple(self._path(op.compare, op.success, op.failure) for op in ops if isinstance(op, TxnOp))
        return _Path(ok, ops, nested)

    def _check_path(self, path: _Path) -> None:
        """Refuse the whole txn if a put on its path names an unknown lease or a range an
        unreadable revision (``checkRequests`` with ``checkPut``/``checkRange``)."""
        for op in path.ops:
            if isinstance(op, PutOp) and op.lease:
                self._lessor.get(op.lease)
            elif isinstance(op, RangeOp):
                self._check_range(op)
        for nested in path.nested:
            self._check_path(nested)

    def _apply(self, path: _Path) -> tuple[RangeResponse | PutResponse | DeleteRangeResponse | TxnResponse, ...]:
        nested = iter(path.nested)
        responses: list[RangeResponse | PutResponse | DeleteRangeResponse | TxnResponse] = []
        for op in path.ops:
            if isinstance(op, RangeOp):
                responses.append(self._range(op))
            elif isinstance(op, PutOp):
                responses.append(self._put(op))
            elif isinstance(op, DeleteOp):
                responses.append(self._delete(op))
            else:
                sub = next(nested)
                responses.append(TxnResponse(ResponseHeader(0), sub.succeeded, self._apply(sub)))
        return tuple(responses)


class LessorLoop:
    """The checks of ``runLoop``'s ticker (check k at ``origin + k * LEASE_CHECK_INTERVAL``)
    that can revoke something, each at its instant: a timer is armed for the first check at
    or after the earliest expiry, and again after each check and on each grant (the only
    change that can bring that check forward; a renewal or revocation only postpones it, so
    the check it finds early revokes nothing and changes nothing, as the ticker's would)."""

    def __init__(self, env: Any, etcd: EmbeddedEtcd) -> None:
        self.env, self.etcd = env, etcd
        self.origin, self.last = env.now, 0  # the last check run
        self._armed: int | None = None  # the check a timer is armed for
        self.arm()

    def arm(self) -> None:
        """Arm a timer for the first check that can revoke a lease, unless one is armed for it
        or an earlier check."""
        expiry = self.etcd._lessor.earliest_expiry()
        if expiry is None:
            return
        k = first_check(self.origin, self.last, max(expiry, self.env.now))
        if self._armed is not None and self._armed <= k:
            return
        self._armed = k
        timer = self.env.timeout(delay_to(self.env.now, self.origin + k * LEASE_CHECK_INTERVAL))
        timer.callbacks.append(lambda _: self._check(k))

    def _check(self, k: int) -> None:
        if k != self._armed:
            return  # superseded by an earlier check
        self._armed, self.last = None, k
        self.etcd.tick()
        self.arm()
