"""The cgroup controllers: kubelet's conversions (the cases of kubelet's own
helpers_linux_test.go), CFS bandwidth counters on hand-computed cases, the shares split,
the memory controller's OOM killer and the pids limit."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kbook.api import Container, ResourceRequirements
from kbook.container import (
    MAX_SHARES, MIN_SHARES, Cgroup, CpuCgroup, MemoryCgroup, PeriodTimer, PidsCgroup, Resources,
    container_resources, cpu_shares_split, memory_timeline, milli_cpu_to_quota, milli_cpu_to_shares,
    predicted_throttling, simulate_busy, simulate_cfs,
)
from kbook.errors import ContainerError
from kbook.quantity import Quantity

MiB = 1 << 20

# --- kubelet's conversions (pkg/kubelet/cm/helpers_linux_test.go) ----------------------


@pytest.mark.parametrize("milli, shares", [
    (0, 2), (1, 2), (2, 2), (3, 3), (5, 5), (10, 10), (100, 102), (200, 204), (500, 512), (1000, 1024),
    (2000, 2048), (255_999, 255_999 * 1024 // 1000), (256_000, MAX_SHARES), (256_001, MAX_SHARES),
    (1_000_000, MAX_SHARES), (-1, MIN_SHARES), (-1_000_000, MIN_SHARES),
])
def test_milli_cpu_to_shares(milli, shares):
    assert milli_cpu_to_shares(milli) == shares


@pytest.mark.parametrize("milli, period, quota", [
    # TestMilliCPUToQuota
    (0, 0, 0), (5, 100_000, 1000), (9, 100_000, 1000), (10, 100_000, 1000), (200, 100_000, 20_000),
    (500, 100_000, 50_000), (1000, 100_000, 100_000), (1500, 100_000, 150_000),
    # TestMilliCPUToQuotaWithCustomCPUCFSQuotaPeriod
    (5, 10_000, 1000), (5, 5000, 1000), (9, 10_000, 1000), (10, 200_000, 2000), (200, 200_000, 40_000),
    (500, 20_000, 10_000), (1000, 10_000, 10_000), (1500, 5000, 7500),
])
def test_milli_cpu_to_quota(milli, period, quota):
    assert milli_cpu_to_quota(milli, period) == quota


def _quantities(d: dict | None) -> dict:
    return {k: Quantity(v) for k, v in (d or {}).items()}


def _container(requests=None, limits=None) -> Container:
    return Container(name="c", resources=ResourceRequirements(limits=_quantities(limits), requests=_quantities(requests)))


@pytest.mark.parametrize("requests, limits, expected", [
    ({"cpu": "250m"}, {"cpu": "500m", "memory": "64Mi"}, Resources(50_000, 100_000, 256, 64 * MiB)),
    (None, {"cpu": "1"}, Resources(100_000, 100_000, 1024)),  # the limit stands in for the request
    ({"cpu": "100m", "memory": "1Gi"}, None, Resources(None, 100_000, 102)),
    (None, None, Resources(None, 100_000, 2)),  # BestEffort: MinShares
])
def test_container_resources(requests, limits, expected):
    assert container_resources(_container(requests, limits)) == expected


def test_container_resources_options():
    c = _container({"cpu": "200m"}, {"cpu": "200m"})
    assert container_resources(c, cpu_cfs_quota=False).cpu_quota_us is None
    assert container_resources(c, cpu_period_us=5000, pids_limit=1024) == Resources(1000, 5000, 204, None, 1024)


# --- the cpu controller's settings -----------------------------------------------------


@pytest.mark.parametrize("kw, message", [
    (dict(cfs_quota_us=999), "cpu.cfs_quota_us: Invalid value: 999: must be -1 (no limit) or at least 1000"),
    (dict(cfs_period_us=999), "cpu.cfs_period_us: Invalid value: 999"),
    (dict(cfs_period_us=1_000_001), "cpu.cfs_period_us: Invalid value: 1000001"),
])
def test_cpu_settings_the_kernel_refuses(kw, message):
    with pytest.raises(ContainerError, match=message.replace("(", r"\(").replace(")", r"\)")):
        CpuCgroup(**kw)


def test_cpu_shares_are_clamped_as_the_kernel_clamps_them():
    assert CpuCgroup(shares=1).shares == 2
    assert CpuCgroup(shares=10**6).shares == MAX_SHARES
    assert CpuCgroup(50_000, 100_000).limit_cpus == 0.5 and CpuCgroup().limit_cpus is None


# --- CFS bandwidth ---------------------------------------------------------------------


def test_two_busy_threads_at_half_a_cpu():
    """2 busy threads on 2 CPUs, quota 50 ms per 100 ms, for 1 s: both CPUs run until the
    quota is gone at 25 ms, then both runqueues wait 75 ms: 150 ms throttled per period."""
    trace = simulate_busy([2] * 10, 50_000, 100_000, cpus=2)
    s = trace.stat
    assert (s.nr_periods, s.nr_throttled, s.throttled_time, s.usage) == (10, 10, 1_500_000_000, 500_000_000)
    assert s.throttled_share == 1.0
    assert trace.usage.tolist() == [0.05] * 10 and trace.throttled.all()
    assert predicted_throttling(2, 50_000, 100_000, 1.0) == s


def test_one_busy_thread_matches_the_reference_measurement():
    """real-components.md: a busy loop for 3 s at 50000/100000 gave nr_periods 30,
    nr_throttled 30, throttled_time 1444637571 ns and 1.47 s of CPU."""
    s = simulate_busy([1] * 30, 50_000, 100_000, cpus=2).stat
    assert (s.nr_periods, s.nr_throttled, s.throttled_time, s.usage) == (30, 30, 1_500_000_000, 1_500_000_000)
    assert s.throttled_time == pytest.approx(1_444_637_571, rel=0.05)
    assert predicted_throttling(1, 50_000, 100_000, 3.0, cpus=2) == s


def test_more_threads_than_cpus():
    s = simulate_busy([4] * 10, 150_000, 100_000, cpus=2).stat
    assert (s.nr_throttled, s.throttled_time, s.usage) == (10, 10 * 50_000_000, 1_500_000_000)
    assert predicted_throttling(4, 150_000, 100_000, 1.0, cpus=2) == s


def test_no_throttling_within_quota_and_none_without_a_limit():
    s = simulate_busy([1] * 10, 100_000, 100_000).stat
    assert (s.nr_periods, s.nr_throttled, s.throttled_time, s.usage) == (10, 0, 0, 1_000_000_000)
    s = simulate_busy([2] * 10, None, cpus=2).stat
    assert (s.nr_periods, s.nr_throttled, s.usage) == (0, 0, 2_000_000_000)  # no timer without a quota
    assert predicted_throttling(1, 100_000, 100_000, 1.0).nr_throttled == 0


def test_period_timer_stays_armed_one_idle_period():
    """do_sched_cfs_period_timer: a period ends idle only after one with no runtime asked
    for; a throttled period clears the idle mark, so it takes two quiet periods to disarm."""
    s = simulate_busy([1, 1, 0, 0, 0], 50_000, 100_000).stat
    assert (s.nr_periods, s.nr_throttled) == (4, 2)
    s = simulate_busy([1, 0, 0, 1, 0, 0, 0], 200_000, 100_000).stat
    assert (s.nr_periods, s.nr_throttled) == (4, 0)
    timer = PeriodTimer()
    timer.end_period(False, False)
    assert timer.nr_periods == 0 and not timer.active


def test_demand_carries_over_to_the_next_period():
    trace = simulate_cfs([0.15, 0, 0, 0], 50_000, 100_000)
    assert trace.usage.tolist() == pytest.approx([0.05, 0.05, 0.05, 0])
    assert trace.throttled.tolist() == [True, True, False, False]
    assert trace.backlog.tolist() == pytest.approx([0.1, 0.05, 0, 0])
    assert trace.throttled_s.tolist() == pytest.approx([0.05, 0.05, 0, 0])
    assert (trace.stat.nr_periods, trace.stat.nr_throttled) == (4, 2)


def test_parallel_demand_is_limited_by_threads_and_cpus():
    # 0.3 CPU-s per period on 2 threads: 0.2 s fits in a 100 ms period without a quota
    trace = simulate_cfs([0.3] * 3, None, 100_000, cpus=4, threads=2)
    assert trace.usage.tolist() == pytest.approx([0.2] * 3)
    assert trace.backlog.tolist() == pytest.approx([0.1, 0.2, 0.3])
    trace = simulate_cfs([0.3], 120_000, 100_000, cpus=4, threads=4)
    assert (trace.usage[0], trace.throttled_s[0]) == pytest.approx((0.12, 0.4 - 0.12))


# --- cpu.shares --------------------------------------------------------------------------


def test_shares_split_under_contention():
    assert cpu_shares_split([2, 2], [1024, 512], 2) == pytest.approx([4 / 3, 2 / 3])
    assert cpu_shares_split([2, 2, 0.5], [1024, 512, 1024], 2) == pytest.approx([1.0, 0.5, 0.5])
    assert cpu_shares_split([0.5, 4], [2, 262_144], 2) == pytest.approx([2 * 2 / 262_146, 2 - 2 * 2 / 262_146])


def test_shares_split_is_work_conserving():
    assert cpu_shares_split([0.5, 4], [1024, 1024], 2) == pytest.approx([0.5, 1.5])
    assert cpu_shares_split([0.5, 0.25, 0], [2, 1024, 99], 2) == [0.5, 0.25, 0.0]  # no contention


def test_shares_split_bad_input():
    with pytest.raises(ContainerError):
        cpu_shares_split([1], [1024, 1024], 2)
    with pytest.raises(ContainerError):
        cpu_shares_split([1, 1], [1024, 0], 2)


@given(st.lists(st.tuples(st.floats(0, 8), st.integers(2, 262_144)), min_size=1, max_size=8),
       st.floats(0.5, 16))
def test_shares_split_properties(groups, cpus):
    demands, shares = [d for d, _ in groups], [s for _, s in groups]
    alloc = cpu_shares_split(demands, shares, cpus)
    total_shares = sum(shares)
    assert sum(alloc) == pytest.approx(min(cpus, sum(demands)), rel=1e-9, abs=1e-9)
    for a, d, s in zip(alloc, demands, shares):
        assert -1e-12 <= a <= d + 1e-9
        assert a >= min(d, cpus * s / total_shares) - 1e-9  # never less than its guaranteed share
    short = [(a, s) for a, d, s in zip(alloc, demands, shares) if a < d - 1e-9]
    for a, s in short:  # groups that want more split the rest in proportion to their shares
        assert a / s == pytest.approx(short[0][0] / short[0][1], rel=1e-9)


# --- memory ------------------------------------------------------------------------------


def test_oom_at_the_limit():
    m = MemoryCgroup(50 * MiB)
    assert m.charge(1, 30 * MiB, now=1.0)
    assert m.charge(1, 20 * MiB, now=2.0)  # exactly at the limit is fine
    assert not m.charge(1, 1, now=3.0)
    s = m.stat()
    assert (s.oom_kill, s.failcnt, s.under_oom, s.usage_in_bytes, s.max_usage_in_bytes) == (1, 1, False, 0, 50 * MiB)
    assert (s.kills[0].time, s.kills[0].pid, s.kills[0].rss) == (3.0, 1, 50 * MiB)


def test_page_cache_is_reclaimed_before_the_oom_killer():
    m = MemoryCgroup(50 * MiB)
    assert m.charge(1, 40 * MiB, cache=True)
    assert m.charge(1, 20 * MiB)
    s = m.stat()
    assert (s.oom_kill, s.failcnt, s.usage_in_bytes, m.cache) == (0, 1, 50 * MiB, 30 * MiB)


def test_oom_killer_picks_the_biggest_task():
    m = MemoryCgroup(100 * MiB)
    m.charge(10, 70 * MiB)
    m.charge(11, 20 * MiB)
    assert m.charge(11, 20 * MiB)
    assert [k.pid for k in m.kills] == [10] and m.rss == {11: 40 * MiB}


def test_oom_kill_disable_leaves_the_group_under_oom():
    m = MemoryCgroup(10 * MiB, oom_kill_disable=True)
    m.charge(1, 8 * MiB)
    assert not m.charge(1, 4 * MiB)
    s = m.stat()
    assert (s.under_oom, s.oom_kill, s.oom_kill_disable) == (True, 0, True)
    m.uncharge(1, 4 * MiB)
    assert not m.under_oom and m.charge(1, 4 * MiB)


def test_memory_timeline():
    times = [float(t) for t in range(10)]
    ramp = [(t + 1) * 10 * MiB for t in range(10)]
    s = memory_timeline(times, ramp, 50 * MiB)
    assert (s.oom_kill, s.kills[0].time, s.max_usage_in_bytes, s.usage_in_bytes) == (1, 5.0, 50 * MiB, 0)
    s = memory_timeline(times, [10 * MiB, 40 * MiB, 20 * MiB, 45 * MiB], 50 * MiB)
    assert (s.oom_kill, s.usage_in_bytes, s.max_usage_in_bytes, s.failcnt) == (0, 45 * MiB, 45 * MiB, 0)
    assert memory_timeline(times, ramp, None).oom_kill == 0


def test_memory_bad_values():
    with pytest.raises(ContainerError, match="memory.limit_in_bytes: Invalid value: 0"):
        MemoryCgroup(0)
    with pytest.raises(ContainerError):
        MemoryCgroup().charge(1, -1)


# --- pids --------------------------------------------------------------------------------


def test_pids_max():
    p = PidsCgroup(2)
    assert p.fork() and p.fork() and not p.fork() and not p.fork()
    assert (p.current, p.events_max) == (2, 2)
    p.attach()  # organisational: never refused
    assert p.current == 3
    assert not PidsCgroup(0).fork()
    unlimited = PidsCgroup()
    assert all(unlimited.fork() for _ in range(1000))
    with pytest.raises(ContainerError, match="pids.max: Invalid value: -1"):
        PidsCgroup(-1)


def test_cgroup_from_resources():
    g = Cgroup.from_resources(Resources(cpu_quota_us=20_000, cpu_shares=1, memory_limit_bytes=MiB, pids_limit=5))
    assert (g.cpu.cfs_quota_us, g.cpu.shares, g.memory.limit_in_bytes, g.pids.max) == (20_000, 2, MiB, 5)
