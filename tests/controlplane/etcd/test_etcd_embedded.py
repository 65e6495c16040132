"""The embedded store only: the injected clock and tick(), synchronous delivery, writes made
from inside handlers, replay batching."""

from __future__ import annotations

import pytest
from etcd_support import Recorder

from kbook.controlplane.etcd import DELETE, EmbeddedEtcd, ErrLeaseNotFound, ManualClock, PutOp, prefix_end


def test_lease_expiry_follows_the_clock_and_keepalive():
    s = EmbeddedEtcd()
    assert s.clock() == 0
    lease = s.lease_grant(5)
    s.put("k", b"v", lease=lease.id)
    s.clock.advance(4.5)
    assert s.tick() == () and s.lease_time_to_live(lease.id).ttl == 0  # truncated seconds, as etcd
    assert s.lease_keepalive(lease.id) == 5
    s.clock.advance(4.5)
    assert s.tick() == () and s.range("k").kvs
    s.clock.advance(0.5)  # a lease is expired once no time remains
    assert s.tick() == (lease.id,)
    assert s.range("k").kvs == () and s.revision == 3


def test_an_expired_lease_cannot_be_kept_alive_before_tick():
    s = EmbeddedEtcd()
    lease = s.lease_grant(2)
    s.clock.advance(2)
    with pytest.raises(ErrLeaseNotFound):
        s.lease_keepalive(lease.id)
    assert s.tick() == (lease.id,)


def test_tick_revokes_at_most_half_the_revoke_rate_earliest_first():
    t = [0.0]
    s = EmbeddedEtcd(clock=lambda: t[0])
    ids = [s.lease_grant(10 + i // 100).id for i in range(1200)]
    t[0] = 100.0
    assert s.tick() == tuple(ids[:500])
    assert s.tick() == tuple(ids[500:1000])
    assert len(s.tick()) == 200 and s.tick() == ()


def test_delivery_is_synchronous_and_ordered_when_handlers_write():
    s = EmbeddedEtcd()
    seen: list[int] = []

    def echo(resp):
        for e in resp.events:
            if e.kv.key == "ping" and e.kv.version < 3:
                s.put("ping", b"again")  # committed now, delivered after this handler returns
                seen.append(s.revision)

    s.watch("ping", echo)
    later = Recorder()
    s.watch("ping", later)
    s.put("ping", b"first")
    assert seen == [3, 4]
    assert [e.kv.mod_revision for e in later.events] == [2, 3, 4]


def test_watch_created_from_a_handler_has_no_duplicates():
    s = EmbeddedEtcd()
    inner = Recorder()

    def open_watch(resp):
        if resp.events and resp.events[0].kv.mod_revision == 3:
            s.watch("a", inner, prefix_end("a"), start_revision=2)
            s.put("a2", b"from handler")

    s.watch("a", open_watch, prefix_end("a"))
    s.put("a1", b"1")
    s.put("a1", b"2")
    s.put("a1", b"3")
    assert [e.kv.mod_revision for e in inner.events] == [2, 3, 4, 5]


def test_replay_is_batched_by_1000_revisions_and_strips_prev_kv():
    s = EmbeddedEtcd(clock=ManualClock(10.0))
    for i in range(2500):
        s.put("k", str(i).encode())
    s.txn([], [PutOp("k", b"x"), PutOp("l", b"y")])
    rec = Recorder()
    s.watch("k", rec, prefix_end("k"), start_revision=1)
    sizes = [len(r.events) for r in rec.responses if r.events]
    assert sizes == [1000, 1000, 501] and all(e.prev_kv is None for e in rec.events)
    s.delete_range("k", prefix_end("k"))
    assert [e.type for e in rec.responses[-1].events] == [DELETE]
