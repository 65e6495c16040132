"""EmbeddedEtcd.run_lessor: the lessor's 500 ms runLoop, run only at the checks that can
revoke a lease, revokes the same leases at the same instants and revisions as the ticker."""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from kbook.controlplane.etcd import LEASE_CHECK_INTERVAL, EmbeddedEtcd, ErrLeaseNotFound, WatchResponse
from kbook.controlplane.etcd.lessor import delay_to, first_check


def ticker(env: simpy.Environment, etcd: EmbeddedEtcd):  # type: ignore[no-untyped-def]
    """The plain runLoop: a check every 500 ms."""
    while True:
        yield env.timeout(LEASE_CHECK_INTERVAL)
        etcd.tick()


def actor(env: simpy.Environment, etcd: EmbeddedEtcd, seed: int):  # type: ignore[no-untyped-def]
    """Grants, attaches keys, renews and revokes leases at random times (a burst of grants
    beyond the revoke rate included); writes happen between checks, grants also on them."""
    rng = np.random.default_rng(seed)
    leases: list[int] = []
    for step in range(400):
        yield env.timeout(float(rng.choice([rng.uniform(0.01, 3.0), 0.5 - env.now % 0.5])))
        op = rng.integers(0, 10)
        if op < 4 or not leases:
            leases.append(etcd.lease_grant(int(rng.integers(1, 9))).id)
            if env.now % 0.5:
                etcd.put(f"k{step}", b"v", lease=leases[-1])
        elif op < 7:
            try:
                etcd.lease_keepalive(leases[int(rng.integers(len(leases)))])
            except ErrLeaseNotFound:
                pass
        elif op < 9 and env.now % 0.5:
            lease = leases.pop(int(rng.integers(len(leases))))
            if etcd.lease_time_to_live(lease).ttl >= 0:
                etcd.lease_revoke(lease)
        elif step == 200:
            for _ in range(1200):
                etcd.lease_grant(3)
    yield env.timeout(20)


def run(seed: int, event_driven: bool) -> list[tuple[float, int, str, str]]:
    env = simpy.Environment()
    etcd = EmbeddedEtcd(clock=lambda: env.now)
    log: list[tuple[float, int, str, str]] = []

    def record(resp: WatchResponse) -> None:
        log.extend((env.now, resp.header.revision, e.type, e.kv.key) for e in resp.events)

    etcd.watch("\0", record, range_end="\0")
    if event_driven:
        etcd.run_lessor(env)
    else:
        env.process(ticker(env, etcd))
    env.run(env.process(actor(env, etcd, seed)))
    assert not etcd.lease_time_to_live(1).ttl > 0
    revoked = [lease_id for lease_id in range(1, 3000) if etcd.lease_time_to_live(lease_id).ttl >= 0]
    log.append((env.now, etcd.revision, "LEASES LEFT", str(revoked)))
    return log


@pytest.mark.parametrize("seed", range(4))
def test_the_same_revocations_as_the_ticker(seed: int) -> None:
    ticked = run(seed, event_driven=False)
    assert sum(1 for t in ticked if t[2] == "DELETE") > 50
    assert run(seed, event_driven=True) == ticked


def test_no_leases_no_steps() -> None:
    env = simpy.Environment()
    etcd = EmbeddedEtcd(clock=lambda: env.now)
    etcd.run_lessor(env)
    env.run()  # nothing to wait for
    assert env.now == 0
    env.run(until=1.2)
    lease = etcd.lease_grant(5).id  # expires at 6.2: revoked at the check at 6.5
    env.run()
    assert (env.now, etcd.lease_time_to_live(lease).ttl) == (6.5, -1)


def test_first_check_and_exact_delays() -> None:
    assert first_check(0.0, 0, 0.0) == 1
    assert first_check(0.0, 0, 2.0) == 4
    assert first_check(0.0, 0, 2.01) == 5
    assert first_check(0.0, 7, 1.0) == 8
    assert first_check(0.25, 0, 2.0) == 4  # 0.25 + 2.0 >= 2.0, 0.25 + 1.5 is not
    for now, at in [(0.1, 2.5), (1e6 + 0.1, 1e6 + 0.5), (0.3, 1e9), (12345.678, 12346.0)]:
        assert now + delay_to(now, at) == at


def test_one_check_per_instant_when_a_grant_brings_the_check_forward() -> None:
    """The timer armed before a grant still fires; the check it was armed for runs once, so
    the revoke rate holds (500 leases per check)."""
    env = simpy.Environment()
    etcd = EmbeddedEtcd(clock=lambda: env.now)
    etcd.run_lessor(env)
    revoked: list[tuple[float, int]] = []
    env.run(until=0.3)
    late = etcd.lease_grant(8).id  # expires at 8.3: check 8.5
    env.run(until=0.4)
    etcd.lease_grant(2)  # expires at 2.4: check 2.5, armed before 8.5
    env.run(until=1.0)
    burst = [etcd.lease_grant(7).id for _ in range(1200)]  # expire at 8.0
    for t in (2.5, 8.0, 8.5, 9.0):
        env.run(until=t + 0.1)
        revoked.append((t, sum(etcd.lease_time_to_live(i).ttl == -1 for i in burst)))
    assert revoked == [(2.5, 0), (8.0, 500), (8.5, 1000), (9.0, 1200)]
    assert etcd.lease_time_to_live(late).ttl == -1
