"""KV semantics on both backends: revisions, versions, ranges, history, compaction, errors."""

from __future__ import annotations

import pytest

from kbook.controlplane.etcd import ErrCompacted, ErrEmptyKey, ErrFutureRev, prefix_end


def test_empty_store_is_revision_1_and_first_put_is_2(backend):
    s = backend.store
    assert s.revision == 1
    assert s.range("a").header.revision == 1
    assert s.put("a", b"1").header.revision == 2
    assert s.revision == 2


def test_create_mod_revision_and_version(backend):
    s = backend.store
    s.put("a", b"1")
    s.put("b", b"x")
    assert s.put("a", b"1").header.revision == 4  # the same value still writes a revision
    kv = s.range("a").kvs[0]
    assert (kv.create_revision, kv.mod_revision, kv.version, kv.value) == (2, 4, 2, b"1")
    assert s.delete_range("a").deleted == 1
    assert s.revision == 5
    assert s.delete_range("a").deleted == 0  # deleting nothing writes nothing
    assert s.revision == 5
    s.put("a", b"2")
    kv = s.range("a").kvs[0]
    assert (kv.create_revision, kv.mod_revision, kv.version) == (6, 6, 1)


def test_prev_kv_on_put_and_delete(backend):
    s = backend.store
    assert s.put("k", b"1", prev_kv=True).prev_kv is None
    prev = s.put("k", b"2", prev_kv=True).prev_kv
    assert (prev.value, prev.version, prev.mod_revision) == (b"1", 1, 2)
    s.put("k2", b"3")
    resp = s.delete_range("k", prefix_end("k"), prev_kv=True)
    assert resp.deleted == 2
    assert [(kv.key, kv.value) for kv in resp.prev_kvs] == [("k", b"2"), ("k2", b"3")]


def test_range_prefix_limit_count_and_projections(backend):
    s = backend.store
    for key in ["/registry/pods/b", "/registry/pods/a", "/registry/pods/c", "/registry/podsx", "/z"]:
        s.put(key, key.encode())
    prefix = "/registry/pods/"
    resp = s.range(prefix, prefix_end(prefix))
    assert [kv.key for kv in resp.kvs] == ["/registry/pods/a", "/registry/pods/b", "/registry/pods/c"]
    assert (resp.count, resp.more) == (3, False)
    limited = s.range(prefix, prefix_end(prefix), limit=2)
    assert ([kv.key for kv in limited.kvs], limited.count, limited.more) == (["/registry/pods/a", "/registry/pods/b"], 3, True)
    keys_only = s.range(prefix, prefix_end(prefix), keys_only=True)
    assert all(kv.value == b"" and kv.version == 1 for kv in keys_only.kvs)
    counted = s.range(prefix, prefix_end(prefix), count_only=True)
    assert (counted.kvs, counted.count) == ((), 3)
    assert s.range("/registry/pods/b", "\0").count == 4  # every key >= key
    assert s.range("\0", "\0").count == 5
    assert s.range("/registry/pods/b", "/registry/pods/c").count == 1  # range_end is exclusive
    assert s.range("/nope").kvs == ()


def test_read_at_past_revision(backend):
    s = backend.store
    s.put("a", b"1")  # 2
    s.put("a", b"2")  # 3
    s.put("b", b"1")  # 4
    s.delete_range("a")  # 5
    assert s.range("a", revision=2).kvs[0].value == b"1"
    assert s.range("a", revision=3).kvs[0].value == b"2"
    assert s.range("a", revision=5).kvs == ()
    past = s.range("a", "\0", revision=4)
    assert [(kv.key, kv.value) for kv in past.kvs] == [("a", b"2"), ("b", b"1")]
    assert past.header.revision == 5  # the header is always the current revision
    assert s.range("a", revision=1).kvs == ()


def test_future_revision_is_refused(backend):
    s = backend.store
    s.put("a", b"1")
    with pytest.raises(ErrFutureRev) as err:
        s.range("a", revision=3)
    assert str(err.value) == "etcdserver: mvcc: required revision is a future revision"


def test_compaction(backend):
    s = backend.store
    for i in range(5):
        s.put("a", str(i).encode())  # revisions 2..6
    s.delete_range("gone")
    s.put("gone", b"x")  # 7
    s.delete_range("gone")  # 8
    s.compact(5)
    assert s.revision == 8  # compaction writes no revision
    with pytest.raises(ErrCompacted) as err:
        s.range("a", revision=4)
    assert str(err.value) == "etcdserver: mvcc: required revision has been compacted"
    assert s.range("a", revision=5).kvs[0].value == b"3"  # the compacted revision itself is readable
    assert s.range("a", revision=6).kvs[0].value == b"4"
    assert s.range("gone", revision=7).kvs[0].value == b"x"
    with pytest.raises(ErrCompacted):
        s.compact(5)
    with pytest.raises(ErrCompacted):
        s.compact(3)
    with pytest.raises(ErrFutureRev):
        s.compact(9)
    s.compact(8)
    assert s.range("gone", revision=8).kvs == ()
    assert s.range("a").kvs[0].version == 5  # the latest value keeps its version


def test_an_empty_key_is_refused(backend):
    s = backend.store
    for call in (lambda: s.range(""), lambda: s.put("", b"v"), lambda: s.delete_range("", "\0")):
        with pytest.raises(ErrEmptyKey) as err:
            call()
        assert str(err.value) == "etcdserver: key is not provided"
