"""Transactions on both backends: Kubernetes' three CAS shapes, compares, nesting, errors."""

from __future__ import annotations

import pytest

from kbook.controlplane.etcd import (
    CREATE, EQUAL, GREATER, LEASE, LESS, MOD, NOT_EQUAL, VALUE, VERSION,
    Compare, DeleteOp, ErrDuplicateKey, ErrLeaseNotFound, ErrTooManyOps, PutOp, RangeOp, TxnOp,
)


def k8s_create(s, key, value):
    """staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go Create."""
    return s.txn([Compare(key, MOD, EQUAL, 0)], [PutOp(key, value)])


def k8s_update(s, key, value, rev):
    return s.txn([Compare(key, MOD, EQUAL, rev)], [PutOp(key, value)], [RangeOp(key)])


def k8s_delete(s, key, rev):
    return s.txn([Compare(key, MOD, EQUAL, rev)], [DeleteOp(key, prev_kv=True)], [RangeOp(key)])


def test_kubernetes_create_update_delete(backend):
    s = backend.store
    created = k8s_create(s, "/registry/pods/default/web", b"v1")
    assert created.succeeded and created.header.revision == 2
    assert not k8s_create(s, "/registry/pods/default/web", b"again").succeeded  # KeyExists
    assert s.revision == 2

    stale = k8s_update(s, "/registry/pods/default/web", b"v2", rev=1)
    assert not stale.succeeded and stale.header.revision == 2
    current = stale.responses[0].kvs[0]  # the Else(Get) carries what to retry with
    assert (current.value, current.mod_revision) == (b"v1", 2)
    updated = k8s_update(s, "/registry/pods/default/web", b"v2", rev=current.mod_revision)
    assert updated.succeeded and updated.responses[0].header.revision == 3

    assert not k8s_delete(s, "/registry/pods/default/web", rev=2).succeeded
    deleted = k8s_delete(s, "/registry/pods/default/web", rev=3)
    assert deleted.succeeded and deleted.responses[0].deleted == 1
    assert deleted.responses[0].prev_kvs[0].value == b"v2"
    assert s.range("/registry/pods/default/web").kvs == () and s.revision == 4


def test_compare_targets_and_results(backend):
    s = backend.store
    s.put("a", b"m")  # 2
    s.put("a", b"m")  # 3: version 2, create 2, mod 3
    cases = [
        (Compare("a", VERSION, EQUAL, 2), True), (Compare("a", VERSION, GREATER, 1), True),
        (Compare("a", VERSION, LESS, 2), False), (Compare("a", VERSION, NOT_EQUAL, 2), False),
        (Compare("a", CREATE, EQUAL, 2), True), (Compare("a", MOD, GREATER, 2), True),
        (Compare("a", MOD, LESS, 3), False), (Compare("a", LEASE, EQUAL, 0), True),
        (Compare("a", VALUE, EQUAL, b"m"), True), (Compare("a", VALUE, GREATER, b"l"), True),
        (Compare("a", VALUE, LESS, b"m"), False), (Compare("a", VALUE, NOT_EQUAL, b"z"), True),
        # a missing key has zero version, revisions and lease; any VALUE compare on it is false
        (Compare("x", VERSION, EQUAL, 0), True), (Compare("x", CREATE, EQUAL, 0), True),
        (Compare("x", MOD, LESS, 1), True), (Compare("x", LEASE, EQUAL, 0), True),
        (Compare("x", VALUE, EQUAL, b""), False), (Compare("x", VALUE, NOT_EQUAL, b"q"), False),
    ]
    for c, expected in cases:
        assert s.txn([c]).succeeded is expected, c
    assert s.txn([Compare("a", VERSION, EQUAL, 2), Compare("x", VERSION, EQUAL, 1)]).succeeded is False  # AND
    s.put("a2", b"m")
    assert s.txn([Compare("a", VALUE, EQUAL, b"m", range_end="b")]).succeeded  # every key in the range
    assert not s.txn([Compare("a", VERSION, EQUAL, 2, range_end="b")]).succeeded
    assert s.txn([Compare("q", VERSION, EQUAL, 0, range_end="r")]).succeeded  # an empty range compares as zero
    assert s.revision == 4


def test_one_revision_for_every_change_and_reads_see_earlier_writes(backend):
    s = backend.store
    s.put("c", b"old")
    resp = s.txn([], [PutOp("a", b"1"), PutOp("b", b"2"), DeleteOp("c"), RangeOp("a")])
    assert resp.succeeded and resp.header.revision == 3 and s.revision == 3
    assert [kv.mod_revision for kv in s.range("a", "\0").kvs] == [3, 3]
    assert resp.responses[3].kvs[0].value == b"1"
    assert resp.responses[3].header.revision == 3
    assert s.txn([], [RangeOp("a")]).header.revision == 3  # a read-only txn writes nothing


def test_nested_txn(backend):
    s = backend.store
    s.put("flag", b"on")
    inner = TxnOp((Compare("flag", VALUE, EQUAL, b"on"),), (PutOp("x", b"1"),), (PutOp("x", b"0"),))
    resp = s.txn([Compare("flag", VERSION, GREATER, 0)], [inner, PutOp("y", b"1")])
    assert resp.succeeded and resp.responses[0].succeeded
    assert s.range("x").kvs[0].value == b"1" and s.range("x").kvs[0].mod_revision == 3 == s.revision


def test_txn_errors_have_etcds_messages(backend):
    s = backend.store
    with pytest.raises(ErrDuplicateKey) as err:
        s.txn([], [PutOp("a", b"1"), PutOp("a", b"2")])
    assert str(err.value) == "etcdserver: duplicate key given in txn request"
    with pytest.raises(ErrDuplicateKey):
        s.txn([], [PutOp("b", b"1"), DeleteOp("a", "c")])  # a put inside a deleted range
    # the two branches of a nested txn may put the same key
    s.txn([], [TxnOp((), (PutOp("a", b"1"),), (PutOp("a", b"2"),))])
    with pytest.raises(ErrTooManyOps) as err:
        s.txn([], [PutOp(f"k{i}", b"") for i in range(129)])
    assert str(err.value) == "etcdserver: too many operations in txn request"
    assert s.txn([], [PutOp(f"k{i}", b"") for i in range(128)]).succeeded
    with pytest.raises(ErrLeaseNotFound) as err:
        s.txn([], [PutOp("z", b"1"), PutOp("w", b"1", lease=12345)])
    assert str(err.value) == "etcdserver: requested lease not found"
    assert s.range("z").kvs == ()  # nothing of a refused txn is applied
