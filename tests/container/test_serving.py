"""The serving model: throughput saturates at the quota, the tail grows as the quota shrinks,
the throttling counters agree with the CFS model, and a seed fixes every number."""

import math

import numpy as np
import pytest

from kbook.container import predicted_throttling, serve
from kbook.errors import ContainerError


def run(rate=100.0, cost=0.002, quota=None, period=100_000, threads=2, duration=60.0, seed=0, **kw):
    return serve(rate, cost, quota, period, threads, duration, np.random.default_rng(seed), **kw)


def test_light_load_without_a_limit():
    r = run()
    assert r.duration_s == 60.0
    assert r.throughput == pytest.approx(100, rel=0.05)
    assert r.completed == r.arrived or r.completed == r.arrived - 1
    assert r.p50 == pytest.approx(0.002)  # nobody waits at the median: the request's own CPU time
    assert r.cpu_stat.nr_periods == 0 and r.cpu_stat.nr_throttled == 0
    assert r.cpu_stat.usage == pytest.approx(r.completed * 0.002 * 1e9, rel=0.01)


@pytest.mark.parametrize("quota, period, threads, cost, limit", [
    (50_000, 100_000, 4, 0.010, 50.0),  # quota/period = 0.5 CPU at 10 ms a request
    (20_000, 50_000, 4, 0.004, 100.0),  # 0.4 CPU at 4 ms
    (200_000, 100_000, 1, 0.010, 100.0),  # the quota allows 2 CPUs, one thread uses one
])
def test_throughput_saturates_at_the_limit(quota, period, threads, cost, limit):
    r = run(rate=400, cost=cost, quota=quota, period=period, threads=threads, duration=30)
    assert r.arrived > 1.5 * limit * 30
    assert r.throughput == pytest.approx(limit, rel=0.01)
    assert r.throughput <= limit + 1e-9


def test_p99_grows_as_the_quota_shrinks():
    quotas = [None, 100_000, 50_000, 40_000, 30_000, 25_000, 22_000]
    p99 = [run(quota=q).p99 for q in quotas]
    assert all(a <= b for a, b in zip(p99, p99[1:])), p99
    assert p99[-1] > 10 * p99[0]
    assert p99[-2] > p99[-3] > p99[-4]


def test_a_throttled_request_waits_for_the_next_period():
    """A 30 ms request under 10 ms per 100 ms needs the quota of three periods: arriving x ms
    into a period with the quota untouched, it runs 10 ms, waits for the boundary, runs 10 ms,
    waits 90 ms, runs 10 ms: 210 - x ms, never less than 120 ms. Without a limit: 30 ms."""
    r = run(rate=0.5, cost=0.030, quota=10_000, threads=1, duration=600, seed=3)
    assert r.completed > 200
    assert r.latencies.min() >= 0.12 - 1e-9
    assert 0.12 < np.median(r.latencies) <= 0.21
    assert r.cpu_stat.nr_throttled >= 2 * r.completed
    free = run(rate=0.5, cost=0.030, threads=1, duration=600, seed=3).latencies
    assert free.min() == pytest.approx(0.03) and np.median(free) == pytest.approx(0.03)


def test_saturated_counters_match_the_busy_loop_model():
    r = run(rate=10_000, cost=0.002, quota=50_000, threads=2, duration=10)
    expected = predicted_throttling(2, 50_000, 100_000, 10.0)
    s = r.cpu_stat
    assert (s.nr_periods, s.nr_throttled) == (expected.nr_periods, expected.nr_throttled)
    assert s.throttled_time == pytest.approx(expected.throttled_time, rel=1e-3)
    assert s.usage == pytest.approx(expected.usage, rel=1e-9)
    assert r.usage.tolist() == pytest.approx([0.05] * 100)


def test_cpus_fewer_than_threads_share():
    r = run(rate=400, cost=0.01, quota=None, threads=4, cpus=1, duration=20)
    assert r.throughput == pytest.approx(100, rel=0.01)


def test_same_seed_same_results():
    a = run(quota=30_000, service="exponential", seed=7)
    b = run(quota=30_000, service="exponential", seed=7)
    assert (a.arrived, a.completed, a.cpu_stat) == (b.arrived, b.completed, b.cpu_stat)
    assert np.array_equal(a.latencies, b.latencies) and np.array_equal(a.usage, b.usage)
    c = run(quota=30_000, service="exponential", seed=8)
    assert not np.array_equal(a.latencies, c.latencies)


def test_whole_periods_and_nothing_completed():
    r = run(rate=0.001, duration=0.25)
    assert r.duration_s == pytest.approx(0.3)
    assert r.completed == 0 and math.isnan(r.p99)


@pytest.mark.parametrize("kw, message", [
    (dict(rate=0), "rate_per_s"),
    (dict(threads=0), "threads >= 1"),
    (dict(service="pareto"), 'service: Unsupported value: "pareto"'),
    (dict(quota=500), "cpu.cfs_quota_us: Invalid value: 500"),
])
def test_bad_parameters(kw, message):
    with pytest.raises(ContainerError, match=message):
        run(**kw)
