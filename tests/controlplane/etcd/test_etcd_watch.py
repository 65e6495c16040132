"""Watch on both backends: start revisions, replay, order without gaps or duplicates,
atomic revisions, compaction cancels, cancel()."""

from __future__ import annotations

import threading

from etcd_support import Recorder

from kbook.controlplane.etcd import DELETE, PUT, DeleteOp, PutOp, prefix_end


def test_watch_from_now_sees_later_events(backend):
    s = backend.store
    s.put("/p/a", b"before")
    rec = Recorder()
    w = s.watch("/p/", rec, prefix_end("/p/"))
    s.put("/p/a", b"1")
    s.put("/q", b"outside")
    s.delete_range("/p/a")
    backend.eventually(lambda: len(rec.events) == 2)
    assert rec.responses[0].created and rec.responses[0].watch_id == w.watch_id
    put, delete = rec.events
    assert (put.type, put.kv.key, put.kv.value, put.kv.version, put.prev_kv) == (PUT, "/p/a", b"1", 2, None)
    assert (delete.type, delete.kv.key, delete.kv.mod_revision, delete.kv.value) == (DELETE, "/p/a", 5, b"")
    w.cancel()


def test_watch_from_past_revision_replays_then_goes_live(backend):
    s = backend.store
    s.put("k", b"1")  # 2
    s.put("other", b"x")  # 3
    s.put("k", b"2")  # 4
    rec = Recorder()
    w = s.watch("k", rec, start_revision=2, prev_kv=True)
    s.delete_range("k")  # 5
    backend.eventually(lambda: len(rec.events) == 3)
    assert [(e.type, e.kv.mod_revision) for e in rec.events] == [(PUT, 2), (PUT, 4), (DELETE, 5)]
    assert rec.events[1].prev_kv.value == b"1" and rec.events[2].prev_kv.value == b"2"
    w.cancel()


def test_one_revision_is_never_split(backend):
    s = backend.store
    rec = Recorder()
    w = s.watch("", rec, "\0")
    s.txn([], [PutOp("a", b"1"), PutOp("b", b"1"), PutOp("c", b"1")])
    s.txn([], [DeleteOp("a", "c")])
    backend.eventually(lambda: len(rec.events) == 5)
    by_response = [[(e.type, e.kv.key, e.kv.mod_revision) for e in r.events] for r in rec.responses if r.events]
    assert by_response == [[(PUT, "a", 2), (PUT, "b", 2), (PUT, "c", 2)], [(DELETE, "a", 3), (DELETE, "b", 3)]]
    w.cancel()


def test_concurrent_writers_give_ordered_gapless_stream(backend):
    s = backend.store
    rec = Recorder()
    w = s.watch("/c/", rec, prefix_end("/c/"))
    writers, per_writer = 4, 25

    def write(n: int) -> None:
        for i in range(per_writer):
            s.put(f"/c/{n}/{i % 5}", str(i).encode())

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = writers * per_writer
    backend.eventually(lambda: len(rec.events) >= total)
    revisions = [e.kv.mod_revision for e in rec.events]
    assert revisions == list(range(2, 2 + total))  # ordered, no gaps, no duplicates
    final = {kv.key: kv.mod_revision for kv in s.range("/c/", prefix_end("/c/")).kvs}
    last = {}
    for e in rec.events:
        last[e.kv.key] = e.kv.mod_revision
    assert last == final
    w.cancel()


def test_watch_below_compaction_is_canceled(backend):
    s = backend.store
    for i in range(5):
        s.put("k", str(i).encode())  # 2..6
    s.compact(4)
    rec = Recorder()
    s.watch("k", rec, start_revision=3)
    backend.eventually(lambda: any(r.canceled for r in rec.responses))
    canceled = next(r for r in rec.responses if r.canceled)
    assert canceled.compact_revision == 4 and not canceled.events
    at_compaction = Recorder()
    w = s.watch("k", at_compaction, start_revision=4)  # the compacted revision itself is still there
    backend.eventually(lambda: len(at_compaction.events) == 3)
    assert [e.kv.mod_revision for e in at_compaction.events] == [4, 5, 6]
    w.cancel()


def test_cancel_stops_delivery(backend):
    s = backend.store
    rec, other = Recorder(), Recorder()
    w = s.watch("k", rec)
    w2 = s.watch("k", other)
    s.put("k", b"1")
    backend.eventually(lambda: len(rec.events) == 1 == len(other.events))
    w.cancel()
    s.put("k", b"2")
    backend.eventually(lambda: len(other.events) == 2)
    assert len(rec.events) == 1
    w2.cancel()


def test_future_start_waits_for_the_revision(backend):
    s = backend.store
    rec = Recorder()
    w = s.watch("k", rec, start_revision=4)
    for i in range(4):
        s.put("k", str(i).encode())  # 2..5
    backend.eventually(lambda: len(rec.events) == 2)
    assert [e.kv.mod_revision for e in rec.events] == [4, 5]
    w.cancel()
