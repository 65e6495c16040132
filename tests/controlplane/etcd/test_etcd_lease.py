"""Leases on both backends: grant, minimum and maximum TTL, attach, revoke, expiry."""

from __future__ import annotations

import pytest
from etcd_support import Recorder

from kbook.controlplane.etcd import DELETE, MAX_LEASE_TTL, ErrLeaseExist, ErrLeaseNotFound, EtcdError


def test_grant_raises_small_ttls_and_refuses_bad_ones(backend):
    s = backend.store
    assert s.lease_grant(1).ttl == 2
    assert s.lease_grant(30, lease_id=777).id == 777
    with pytest.raises(ErrLeaseExist) as err:
        s.lease_grant(30, lease_id=777)
    assert str(err.value) == "etcdserver: lease already exists"
    with pytest.raises(EtcdError) as err:
        s.lease_grant(MAX_LEASE_TTL + 1)
    assert str(err.value) == "etcdserver: too large lease TTL"
    for call in (lambda: s.put("k", b"v", lease=778), lambda: s.lease_revoke(778), lambda: s.lease_keepalive(778)):
        with pytest.raises(ErrLeaseNotFound) as err:
            call()
        assert str(err.value) == "etcdserver: requested lease not found"
    assert s.lease_time_to_live(778).ttl == -1
    assert s.revision == 1


def test_revoke_deletes_attached_keys_in_one_revision(backend):
    s = backend.store
    lease = s.lease_grant(60)
    assert s.lease_keepalive(lease.id) == 60
    for key in ["b", "a", "c", "d"]:
        s.put(key, b"v", lease=lease.id)
    s.put("d", b"v")  # putting without the lease detaches the key
    assert s.range("a").kvs[0].lease == lease.id
    ttl = s.lease_time_to_live(lease.id, keys=True)
    assert (ttl.granted_ttl, ttl.keys) == (60, ("a", "b", "c")) and 58 <= ttl.ttl <= 60
    rec = Recorder()
    w = s.watch("", rec, "\0", prev_kv=True)
    s.lease_revoke(lease.id)
    assert s.revision == 7
    backend.eventually(lambda: len(rec.events) == 3)
    assert [(e.type, e.kv.key, e.kv.mod_revision) for e in rec.events] == [(DELETE, k, 7) for k in "abc"]
    assert all(e.prev_kv.lease == lease.id for e in rec.events)
    assert [kv.key for kv in s.range("\0", "\0").kvs] == ["d"]
    assert s.lease_time_to_live(lease.id).ttl == -1
    w.cancel()


def test_expired_lease_deletes_its_keys(backend):
    s = backend.store
    lease = s.lease_grant(2)
    s.put("/registry/events/e1", b"v", lease=lease.id)
    kept = s.lease_grant(60)
    s.put("/registry/events/e2", b"v", lease=kept.id)
    backend.elapse(2.5)
    backend.eventually(lambda: s.range("/registry/events/e1").kvs == (), timeout=3)
    assert s.lease_time_to_live(lease.id).ttl == -1
    assert s.range("/registry/events/e2").kvs[0].lease == kept.id
