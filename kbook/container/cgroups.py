"""The cgroup controllers a container runs under, as the kernel documents them (cgroup v1 file
names, the ones this project's machines have), and kubelet's conversion of a container's
requests and limits into their values.

- CPU bandwidth (Documentation/scheduler/sched-bwc.rst): ``cpu.cfs_quota_us`` of CPU time per
  ``cpu.cfs_period_us``; once a period's quota is used up, the group's runqueues are throttled
  until the next period. ``cpu.stat`` counts ``nr_periods``, ``nr_throttled`` and
  ``throttled_time``.
- CPU weight: ``cpu.shares`` splits busy CPUs in proportion, and gives away what a group
  does not use (work-conserving).
- memory (cgroup-v1/memory.rst): ``memory.limit_in_bytes``; a charge over the limit first
  reclaims page cache, then the OOM killer kills the bulkiest task (``memory.oom_control``).
- pids (cgroup-v1/pids.rst): ``pids.max``; a fork beyond it fails with EAGAIN.

The CFS model follows the global quota pool exactly (the runtime refilled at each period
boundary, ``nr_throttled`` counted by the period timer, ``throttled_time`` summed over the
throttled per-CPU runqueues) and treats work as fluid within a period; it leaves out the
per-CPU 5 ms slices and the at most 1 ms per CPU they may carry over (sched-bwc.rst "Quota
Caveats"), and the burst feature.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from kbook.container.spec import Resources
from kbook.errors import ContainerError, FieldError

if TYPE_CHECKING:
    from kbook.api.core import Container

__all__ = [
    "MIN_SHARES",
    "MAX_SHARES",
    "SHARES_PER_CPU",
    "MILLI_CPU_TO_CPU",
    "QUOTA_PERIOD",
    "MIN_QUOTA_PERIOD",
    "MAX_CFS_PERIOD",
    "milli_cpu_to_shares",
    "milli_cpu_to_quota",
    "container_resources",
    "CpuCgroup",
    "CpuStat",
    "PeriodTimer",
    "CfsTrace",
    "simulate_busy",
    "simulate_cfs",
    "predicted_throttling",
    "cpu_shares_split",
    "OomKill",
    "MemoryStat",
    "MemoryCgroup",
    "memory_timeline",
    "PidsCgroup",
    "Cgroup",
]

# pkg/kubelet/cm/helpers_linux.go (MinShares and MaxShares are the kernel's, sched.h).
MIN_SHARES = 2
MAX_SHARES = 262_144
SHARES_PER_CPU = 1024
MILLI_CPU_TO_CPU = 1000
QUOTA_PERIOD = 100_000  # us: 100 ms, the default cpu.cfs_period_us
MIN_QUOTA_PERIOD = 1_000  # us: sched-bwc.rst "The minimum quota allowed for the quota or period is 1ms"
MAX_CFS_PERIOD = 1_000_000  # us: sched-bwc.rst "an upper bound on the period length of 1s"

_NS_PER_S = 1_000_000_000
_US_PER_S = 1_000_000


def _go_div(a: int, b: int) -> int:
    """Go's integer division: truncates toward zero (Python's ``//`` floors)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def milli_cpu_to_shares(milli_cpu: int) -> int:
    """``MilliCPUToShares`` (kubelet cm/helpers_linux.go): ``milliCPU * 1024 / 1000`` rounded
    toward zero, at least ``MinShares`` (2, also for a zero request) and at most ``MaxShares``."""
    if milli_cpu == 0:
        return MIN_SHARES
    shares = _go_div(milli_cpu * SHARES_PER_CPU, MILLI_CPU_TO_CPU)
    return min(max(shares, MIN_SHARES), MAX_SHARES)


def milli_cpu_to_quota(milli_cpu: int, period_us: int = QUOTA_PERIOD) -> int:
    """``MilliCPUToQuota`` (kubelet cm/helpers_linux.go): the CFS quota in microseconds for a
    CPU limit over ``period_us`` (as with the CPUCFSQuotaPeriod gate on; off, the period is
    always 100 ms); 0 for no limit, otherwise at least ``MinQuotaPeriod`` (1 ms)."""
    if milli_cpu == 0:
        return 0
    return max(_go_div(milli_cpu * period_us, MILLI_CPU_TO_CPU), MIN_QUOTA_PERIOD)


def container_resources(container: Container, *, cpu_cfs_quota: bool = True, cpu_period_us: int = QUOTA_PERIOD,
                        pids_limit: int | None = None) -> Resources:
    """kubelet's ``calculateLinuxResources`` (kuberuntime_container_linux.go) for a
    :class:`kbook.api.Container`: shares from the CPU request (from the limit when only a
    limit is set), the quota from the CPU limit (when ``--cpu-cfs-quota`` is on), the memory
    limit as is. ``pids_limit``: the kubelet's ``--pod-max-pids``, set on the pod's cgroup."""
    requests, limits = container.resources.requests, container.resources.limits
    cpu_request, cpu_limit, memory = requests.get("cpu"), limits.get("cpu"), limits.get("memory")
    if cpu_request is None and cpu_limit is not None:
        shares = milli_cpu_to_shares(cpu_limit.milli_value())
    else:
        shares = milli_cpu_to_shares(cpu_request.milli_value() if cpu_request is not None else 0)
    quota = milli_cpu_to_quota(cpu_limit.milli_value() if cpu_limit is not None else 0, cpu_period_us)
    return Resources(
        cpu_quota_us=(quota or None) if cpu_cfs_quota else None,
        cpu_period_us=cpu_period_us,
        cpu_shares=shares,
        memory_limit_bytes=(memory.value() or None) if memory is not None else None,
        pids_limit=pids_limit,
    )


def _invalid(file: str, value: object, detail: str) -> ContainerError:
    return ContainerError(str(FieldError.invalid(file, value, detail)))


# --- CPU -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CpuCgroup:
    """The ``cpu`` controller's settings. A quota of ``None`` is ``-1`` (unconstrained).
    Writes are checked as the kernel checks them (``EINVAL``); ``cpu.shares`` is clamped to
    [2, 262144] as the kernel clamps it."""

    cfs_quota_us: int | None = None
    cfs_period_us: int = QUOTA_PERIOD
    shares: int = SHARES_PER_CPU

    def __post_init__(self) -> None:
        if not MIN_QUOTA_PERIOD <= self.cfs_period_us <= MAX_CFS_PERIOD:
            raise _invalid("cpu.cfs_period_us", self.cfs_period_us, "must be between 1000 and 1000000 (1 ms to 1 s)")
        if self.cfs_quota_us is not None and self.cfs_quota_us < MIN_QUOTA_PERIOD:
            raise _invalid("cpu.cfs_quota_us", self.cfs_quota_us, "must be -1 (no limit) or at least 1000 (1 ms)")
        object.__setattr__(self, "shares", min(max(self.shares, MIN_SHARES), MAX_SHARES))

    @property
    def limit_cpus(self) -> float | None:
        """CPUs' worth of time the quota allows: quota / period (``None``: no limit)."""
        return None if self.cfs_quota_us is None else self.cfs_quota_us / self.cfs_period_us


@dataclass(frozen=True)
class CpuStat:
    """``cpu.stat`` of a cgroup v1 ``cpu`` group (sched-bwc.rst "Statistics"), plus
    ``cpuacct.usage``: periods elapsed while the group was active, periods that ended with
    the group throttled, and the summed time its per-CPU runqueues spent throttled (ns)."""

    nr_periods: int
    nr_throttled: int
    throttled_time: int
    usage: int

    @property
    def throttled_share(self) -> float:
        """nr_throttled / nr_periods: the share of periods that ended throttled."""
        return self.nr_throttled / self.nr_periods if self.nr_periods else 0.0


class PeriodTimer:
    """The bandwidth period timer (``do_sched_cfs_period_timer``, kernel/sched/fair.c): armed
    when the group first asks for runtime, it fires at every period boundary, adding to
    ``nr_periods`` (and to ``nr_throttled`` when a runqueue is still throttled), and disarms
    at the end of a whole period in which nobody asked for runtime."""

    def __init__(self) -> None:
        self.active = False
        self.idle = False
        self.nr_periods = 0
        self.nr_throttled = 0

    def end_period(self, used: bool, throttled: bool) -> None:
        """A period boundary, after a period in which the group did (``used``) or did not
        run, and did or did not end ``throttled``."""
        if used:
            self.active, self.idle = True, False
        if not self.active:
            return
        self.nr_periods += 1
        if throttled:
            self.nr_throttled += 1
            self.idle = False
        elif self.idle:
            self.active = False
        else:
            self.idle = True


@dataclass(frozen=True, eq=False)
class CfsTrace:
    """Period by period: CPU-seconds used, whether the period ended throttled, the throttled
    runqueue-seconds, the work left over; and the totals as ``cpu.stat`` shows them."""

    cpu: CpuCgroup
    usage: np.ndarray
    throttled: np.ndarray
    throttled_s: np.ndarray
    backlog: np.ndarray
    stat: CpuStat


def _trace(cpu: CpuCgroup, usage: list[float], throttled: list[bool], throttled_s: list[float],
           backlog: list[float]) -> CfsTrace:
    timer = PeriodTimer()
    if cpu.cfs_quota_us is not None:  # without a quota the period timer never runs
        for u, t in zip(usage, throttled):
            timer.end_period(u > 0 or t, t)
    stat = CpuStat(timer.nr_periods, timer.nr_throttled,
                   round(sum(throttled_s) * _NS_PER_S), round(sum(usage) * _NS_PER_S))
    return CfsTrace(cpu, np.array(usage, float), np.array(throttled, bool), np.array(throttled_s, float),
                    np.array(backlog, float), stat)


def _period(cpu: CpuCgroup, pending: float, parallel: int) -> tuple[float, bool, float]:
    """One period for work ``pending`` (CPU-seconds) spread over ``parallel`` runnable
    runqueues: they run until the work is done, the quota is gone (then each stays
    throttled to the period's end) or the period ends. Returns usage, throttled and the
    runqueue-seconds spent throttled."""
    period = cpu.cfs_period_us / _US_PER_S
    capacity = parallel * period
    if cpu.cfs_quota_us is None:
        return min(pending, capacity), False, 0.0
    quota = cpu.cfs_quota_us / _US_PER_S
    if pending > quota and capacity > quota:
        return quota, True, capacity - quota
    return min(pending, capacity), False, 0.0


def simulate_busy(runnable: Sequence[int], quota_us: int | None, period_us: int = QUOTA_PERIOD,
                  cpus: int = 1) -> CfsTrace:
    """CPU-bound threads under a CFS quota: ``runnable[k]`` busy-looping threads in period
    ``k`` (at most ``cpus`` of them run at once). A busy loop's unmet demand is not carried
    over: each period starts afresh."""
    cpu = CpuCgroup(quota_us, period_us)
    rows = [_period(cpu, min(n, cpus) * period_us / _US_PER_S, min(n, cpus)) for n in runnable]
    return _trace(cpu, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [0.0] * len(rows))


def simulate_cfs(demand_s: Sequence[float], quota_us: int | None, period_us: int = QUOTA_PERIOD,
                 cpus: int = 1, threads: int = 1) -> CfsTrace:
    """A workload under a CFS quota: ``demand_s[k]`` CPU-seconds of work become runnable at
    the start of period ``k``, run on up to ``min(threads, cpus)`` CPUs at once, and what a
    period cannot finish (out of quota or time) waits for the next."""
    cpu = CpuCgroup(quota_us, period_us)
    parallel = min(threads, cpus)
    usage, throttled, throttled_s, backlog = [], [], [], []
    left = 0.0
    for d in demand_s:
        u, t, ts = _period(cpu, left + d, parallel)
        left = max(left + d - u, 0.0)
        usage.append(u)
        throttled.append(t)
        throttled_s.append(ts)
        backlog.append(left)
    return _trace(cpu, usage, throttled, throttled_s, backlog)


def predicted_throttling(threads: int, quota_us: int, period_us: int, duration_s: float,
                         cpus: int | None = None) -> CpuStat:
    """Closed form for ``threads`` busy loops for ``duration_s`` under quota/period, periods
    aligned with the start of the loop: with m = min(threads, cpus) runnable CPUs, every
    period is throttled when m × period > quota, each then using the quota and leaving
    m runqueues throttled for the rest of it: throttled_time = periods × (m × period − quota)."""
    CpuCgroup(quota_us, period_us)  # checks the values as the kernel would
    m = threads if cpus is None else min(threads, cpus)
    periods = round(duration_s * _US_PER_S / period_us)
    wanted = m * period_us
    throttled = wanted > quota_us and m > 0
    used = min(wanted, quota_us)
    return CpuStat(
        nr_periods=periods if m > 0 else 0,
        nr_throttled=periods if throttled else 0,
        throttled_time=periods * (wanted - quota_us) * 1000 if throttled else 0,
        usage=periods * used * 1000,
    )


def cpu_shares_split(demands: Sequence[float], shares: Sequence[int], cpus: float) -> list[float]:
    """How busy groups split ``cpus`` CPUs: in proportion to ``cpu.shares``, each capped by its
    demand (in CPUs), what a capped group leaves shared again among the rest (water-filling).
    This is the allocation CFS group scheduling converges to under contention; without
    contention everybody gets what it asks for."""
    if len(demands) != len(shares):
        raise ContainerError(f"cpu_shares_split: {len(demands)} demands but {len(shares)} shares")
    if any(d < 0 for d in demands) or any(s <= 0 for s in shares) or cpus < 0:
        raise ContainerError("cpu_shares_split: demands and cpus must be >= 0, shares > 0")
    alloc = [0.0] * len(demands)
    active = [i for i, d in enumerate(demands) if d > 0]
    capacity = float(cpus)
    while active:
        total = sum(shares[i] for i in active)
        capped = [i for i in active if demands[i] <= capacity * shares[i] / total]
        if not capped:
            for i in active:
                alloc[i] = capacity * shares[i] / total
            break
        for i in capped:
            alloc[i] = float(demands[i])
            capacity -= demands[i]
        active = [i for i in active if i not in capped]
    return alloc


# --- memory ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OomKill:
    """One kill by the memory cgroup's OOM killer: when, whom (PID), and its RSS in bytes."""

    time: float
    pid: int
    rss: int


@dataclass(frozen=True)
class MemoryStat:
    """The files of a v1 memory cgroup: ``memory.usage_in_bytes``, ``max_usage_in_bytes``,
    ``limit_in_bytes`` (``None``: unlimited), ``failcnt`` and ``memory.oom_control``
    (``oom_kill_disable``, ``under_oom``, ``oom_kill``), plus the kills themselves."""

    usage_in_bytes: int
    max_usage_in_bytes: int
    limit_in_bytes: int | None
    failcnt: int
    oom_kill_disable: bool
    under_oom: bool
    oom_kill: int
    kills: tuple[OomKill, ...]


class MemoryCgroup:
    """A v1 memory cgroup (cgroup-v1/memory.rst): the processes' anonymous memory (RSS) and
    the page cache are charged against ``limit_in_bytes``. A charge that would cross the limit
    counts in ``failcnt`` (memory.rst: "the number of memory usage hits limits"), reclaims page
    cache, and if that is not enough invokes the OOM killer, which kills the task with the
    largest RSS (``oom_badness``; ties: the newest PID). With ``oom_kill_disable`` the task
    waits instead and the group is ``under_oom`` until memory is freed or the limit raised.
    The kernel counts a failure for each reclaim retry too, so its ``failcnt`` runs higher."""

    def __init__(self, limit_in_bytes: int | None = None, oom_kill_disable: bool = False):
        if limit_in_bytes is not None and limit_in_bytes <= 0:
            raise _invalid("memory.limit_in_bytes", limit_in_bytes, "must be positive (or unlimited)")
        self.limit_in_bytes = limit_in_bytes
        self.oom_kill_disable = oom_kill_disable
        self.rss: dict[int, int] = {}
        self.cache = 0
        self.max_usage_in_bytes = 0
        self.failcnt = 0
        self.under_oom = False
        self.kills: list[OomKill] = []

    @property
    def usage_in_bytes(self) -> int:
        return sum(self.rss.values()) + self.cache

    def _fits(self, nbytes: int) -> bool:
        return self.limit_in_bytes is None or self.usage_in_bytes + nbytes <= self.limit_in_bytes

    def charge(self, pid: int, nbytes: int, now: float = 0.0, cache: bool = False) -> bool:
        """Charge ``nbytes`` touched by ``pid`` (anonymous memory, or page cache). False when
        the charge did not happen: ``pid`` was OOM-killed, or waits under OOM."""
        if nbytes < 0:
            raise ContainerError(f"memory charge: Invalid value: {nbytes}: must be >= 0")
        self.rss.setdefault(pid, 0)
        while not self._fits(nbytes):
            self.failcnt += 1
            self.cache -= min(self.cache, self.usage_in_bytes + nbytes - self.limit_in_bytes)
            if self._fits(nbytes):
                break
            if self.oom_kill_disable:
                self.under_oom = True
                return False
            victim = max(self.rss, key=lambda p: (self.rss[p], p))
            self.kills.append(OomKill(now, victim, self.rss.pop(victim)))
            if victim == pid:
                return False
        if cache:
            self.cache += nbytes
        else:
            self.rss[pid] += nbytes
        self.max_usage_in_bytes = max(self.max_usage_in_bytes, self.usage_in_bytes)
        return True

    def uncharge(self, pid: int, nbytes: int) -> None:
        """``pid`` frees ``nbytes`` of anonymous memory."""
        self.rss[pid] = max(self.rss.get(pid, 0) - nbytes, 0)
        self.under_oom = False

    def exit(self, pid: int) -> None:
        """``pid`` exits: its anonymous memory is freed (its page cache stays charged)."""
        self.rss.pop(pid, None)
        self.under_oom = False

    def killed(self, pid: int) -> bool:
        return any(k.pid == pid for k in self.kills)

    def stat(self) -> MemoryStat:
        return MemoryStat(self.usage_in_bytes, self.max_usage_in_bytes, self.limit_in_bytes, self.failcnt,
                          self.oom_kill_disable, self.under_oom, len(self.kills), tuple(self.kills))


def memory_timeline(times_s: Sequence[float], working_set_bytes: Sequence[int],
                    limit_in_bytes: int | None, pid: int = 1) -> MemoryStat:
    """One process whose working set follows ``working_set_bytes`` at ``times_s``: growth is
    charged, shrinking uncharged; the first sample above the limit gets it OOM-killed
    (``oom_kill`` 1, the kill time recorded) and nothing is charged after that."""
    group = MemoryCgroup(limit_in_bytes)
    held = 0
    for t, ws in zip(times_s, working_set_bytes):
        if group.killed(pid):
            break
        if ws > held:
            if group.charge(pid, ws - held, now=t):
                held = ws
        elif ws < held:
            group.uncharge(pid, held - ws)
            held = ws
    return group.stat()


# --- pids ------------------------------------------------------------------------------


@dataclass
class PidsCgroup:
    """The pids controller (cgroup-v1/pids.rst): ``pids.max`` (``None``: "max"),
    ``pids.current``, and ``pids.events`` ``max``, the number of forks refused at the limit.
    Attaching a process is organisational and never refused, so current may exceed max."""

    max: int | None = None
    current: int = 0
    events_max: int = 0

    def __post_init__(self) -> None:
        if self.max is not None and self.max < 0:
            raise _invalid("pids.max", self.max, 'must be >= 0 or "max"')

    def fork(self) -> bool:
        """A fork or clone in the group: refused (the caller sees EAGAIN) at the limit."""
        if self.max is not None and self.current + 1 > self.max:
            self.events_max += 1
            return False
        self.current += 1
        return True

    def attach(self) -> None:
        self.current += 1

    def exit(self) -> None:
        self.current -= 1


@dataclass
class Cgroup:
    """The cgroups of one container, as its ``linux.resources`` set them."""

    cpu: CpuCgroup = field(default_factory=CpuCgroup)
    memory: MemoryCgroup = field(default_factory=MemoryCgroup)
    pids: PidsCgroup = field(default_factory=PidsCgroup)

    @classmethod
    def from_resources(cls, resources: Resources) -> "Cgroup":
        return cls(
            CpuCgroup(resources.cpu_quota_us, resources.cpu_period_us, resources.cpu_shares),
            MemoryCgroup(resources.memory_limit_bytes),
            PidsCgroup(resources.pids_limit),
        )
