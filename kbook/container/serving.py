"""A request-serving process inside a CPU cgroup: why a CPU limit shows up as tail latency.

Requests arrive as a Poisson process (seeded), each needs ``cpu_seconds_per_request`` of CPU,
and ``threads`` worker threads take them first come, first served; busy workers share
``min(busy, cpus)`` CPUs equally. The group may use ``quota_us`` of CPU time per
``period_us`` (sched-bwc.rst): when a period's quota is gone, every worker waits for the next
period, however little work is left. A request caught there waits up to
``period - quota``: the jump in the tail.

The CFS period timer is a SimPy process that fires at every boundary; within a period the
workers' progress is computed exactly, event by event (arrivals, completions, the quota
running out), so a 60 s run at hundreds of requests per second takes a fraction of a second.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import simpy

from kbook.container.cgroups import CpuCgroup, CpuStat, PeriodTimer
from kbook.errors import ContainerError

__all__ = ["ServingResult", "serve"]

_EPS = 1e-12  # seconds of work: completions this close count as simultaneous


@dataclass(frozen=True, eq=False)
class ServingResult:
    """What a load test shows: requests arrived and completed over ``duration_s`` (whole
    periods), each completed request's latency (s, in completion order), CPU-seconds used
    per period, and the group's ``cpu.stat``."""

    duration_s: float
    arrived: int
    completed: int
    latencies: np.ndarray
    usage: np.ndarray
    cpu_stat: CpuStat

    @property
    def throughput(self) -> float:
        """Completed requests per second."""
        return self.completed / self.duration_s

    def percentile(self, q: float) -> float:
        """The ``q``-th latency percentile in seconds (NaN when nothing completed)."""
        return float(np.percentile(self.latencies, q)) if self.completed else math.nan

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p99(self) -> float:
        return self.percentile(99)


class _Workers:
    """``threads`` workers serving requests first come, first served. Busy workers progress
    at the same rate, so each one's finish is a point on a shared "virtual work" clock."""

    def __init__(self, threads: int, cpus: int, arrivals: np.ndarray, works: np.ndarray):
        self.threads, self.cpus = threads, cpus
        self.arrivals, self.works = arrivals.tolist(), works.tolist()
        self.next = 0
        self.waiting: deque[int] = deque()
        self.busy: list[tuple[float, int]] = []
        self.vclock = 0.0
        self.latencies: list[float] = []

    def _admit(self, t: float) -> None:
        arrivals = self.arrivals
        while self.next < len(arrivals) and arrivals[self.next] <= t:
            if len(self.busy) < self.threads:
                heapq.heappush(self.busy, (self.vclock + self.works[self.next], self.next))
            else:
                self.waiting.append(self.next)
            self.next += 1

    def _finish(self, t: float) -> None:
        while self.busy and self.busy[0][0] <= self.vclock + _EPS:
            i = heapq.heappop(self.busy)[1]
            self.latencies.append(t - self.arrivals[i])
            if self.waiting:
                j = self.waiting.popleft()
                heapq.heappush(self.busy, (self.vclock + self.works[j], j))

    def period(self, start: float, end: float, quota: float) -> tuple[float, bool, float]:
        """Run from ``start`` to ``end`` with ``quota`` CPU-seconds (``inf``: no limit).
        Returns the CPU-seconds used, whether the quota ran out with work waiting (the group
        throttled), and the runqueue-seconds spent throttled."""
        t, runtime, used, throttled, throttled_s = start, quota, 0.0, False, 0.0
        n = len(self.arrivals)
        while True:
            self._admit(t)
            busy = len(self.busy)
            horizon = min(self.arrivals[self.next], end) if self.next < n else end
            running = min(busy, self.cpus)
            if busy == 0 or runtime <= 0.0:
                if busy:
                    throttled = True
                    throttled_s += running * (horizon - t)
                t = horizon
                if t >= end:
                    return used, throttled, throttled_s
                continue
            rate = running / busy
            dt_done = (self.busy[0][0] - self.vclock) / rate
            dt_quota = runtime / running
            dt = min(dt_done, dt_quota, horizon - t)
            self.vclock += rate * dt
            used += running * dt
            runtime = 0.0 if dt == dt_quota else runtime - running * dt
            t = horizon if dt == horizon - t else t + dt
            self._finish(t)
            if t >= end:
                return used, throttled, throttled_s


def _arrivals(rate_per_s: float, horizon: float, rng: np.random.Generator) -> np.ndarray:
    """Poisson arrival times in [0, horizon)."""
    mean = rate_per_s * horizon
    times = np.cumsum(rng.exponential(1.0 / rate_per_s, int(mean + 6 * math.sqrt(mean) + 16)))
    while times[-1] < horizon:
        more = np.cumsum(rng.exponential(1.0 / rate_per_s, int(mean // 10 + 16)))
        times = np.concatenate([times, times[-1] + more])
    return times[times < horizon]


def serve(rate_per_s: float, cpu_seconds_per_request: float, quota_us: int | None, period_us: int,
          threads: int, duration_s: float, rng: np.random.Generator, *, cpus: int | None = None,
          service: str = "deterministic") -> ServingResult:
    """Serve Poisson traffic at ``rate_per_s`` for ``duration_s`` (rounded up to whole
    periods) with ``threads`` workers under ``quota_us`` per ``period_us`` (``None``: no
    limit) on ``cpus`` CPUs (default: one per thread). Each request needs
    ``cpu_seconds_per_request`` of CPU, exactly or, with ``service="exponential"``, on average.
    Throughput cannot exceed min(quota/period, threads, cpus) / cpu_seconds_per_request."""
    if rate_per_s <= 0 or cpu_seconds_per_request <= 0 or duration_s <= 0 or threads < 1:
        raise ContainerError("serve: rate_per_s, cpu_seconds_per_request and duration_s must be > 0, threads >= 1")
    if service not in ("deterministic", "exponential"):
        raise ContainerError(f'serve: service: Unsupported value: "{service}": '
                             'supported values: "deterministic", "exponential"')
    cpu = CpuCgroup(quota_us, period_us)
    period = cpu.cfs_period_us / 1e6
    periods = math.ceil(duration_s / period - 1e-9)
    horizon = periods * period
    arrivals = _arrivals(rate_per_s, horizon, rng)
    if service == "exponential":
        works = rng.exponential(cpu_seconds_per_request, len(arrivals))
    else:
        works = np.full(len(arrivals), float(cpu_seconds_per_request))
    workers = _Workers(threads, threads if cpus is None else cpus, arrivals, works)
    quota = math.inf if cpu.cfs_quota_us is None else cpu.cfs_quota_us / 1e6
    timer = PeriodTimer()
    usage: list[float] = []
    throttled_s = [0.0]

    def period_timer(env: simpy.Environment) -> Iterator[simpy.Event]:
        """``sched_cfs_period_timer``: at each boundary, count the period and refill the quota."""
        for k in range(periods):
            used, throttled, seconds = workers.period(k * period, (k + 1) * period, quota)
            yield env.timeout(period)
            usage.append(used)
            throttled_s[0] += seconds
            if cpu.cfs_quota_us is not None:
                timer.end_period(used > 0 or throttled, throttled)

    env = simpy.Environment()
    env.process(period_timer(env))
    env.run()
    stat = CpuStat(timer.nr_periods, timer.nr_throttled, round(throttled_s[0] * 1e9), round(sum(usage) * 1e9))
    return ServingResult(horizon, len(arrivals), len(workers.latencies), np.array(workers.latencies),
                         np.array(usage), stat)
