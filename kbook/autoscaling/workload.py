"""Workload models: a request rate turned into per-pod CPU usage, latency and SLO violations.

The model (a stated simplification, not a Kubernetes algorithm):

* Requests arrive at ``rate(t)`` requests/s (Poisson) and a load balancer spreads them evenly
  over the pods that are Ready (a pod that is not Ready receives nothing, as a Service's
  endpoints leave it out). With no Ready pod every request fails.
* A request costs ``cpu_per_request`` CPU seconds. A pod can use ``cores`` CPUs: its CPU
  limit if it has one, else ``default_cores``. Its CPU usage is ``min(λ_i·s, cores)``
  (throttled at the limit).
* Each pod is an M/M/1 processor-sharing server whose capacity is ``cores``: a request alone
  on the pod takes ``s / min(cores, 1)`` seconds (it runs on at most one core; below one core
  it is throttled), utilisation ``ρ = λ_i·s / cores``, mean latency ``T = s_eff / (1 − ρ)``,
  infinite when ``ρ >= 1`` (saturated).
* Response times are taken as exponential with mean ``T`` (exact for M/M/1 FCFS, whose mean
  equals processor sharing's), so the share of a pod's requests slower than the SLO is
  ``exp(−slo / T)``; a saturated pod violates the SLO for every request.
* Pod-hours count every pod that exists on a node (it costs money whether or not it serves).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kbook.errors import KbookError

__all__ = ["Workload", "PodLoad", "LoadResult", "WorkloadStats", "WorkloadError"]


class WorkloadError(KbookError):
    """A workload parameter is out of range."""


RateFn = Callable[[float], float]


@dataclass(frozen=True)
class PodLoad:
    """One Ready pod's share: CPU usage (cores), utilisation, mean latency (s) and the share
    of its requests that miss the SLO."""

    rate: float
    usage: float
    utilization: float
    latency: float
    slo_violation: float


@dataclass(frozen=True)
class LoadResult:
    """The load at one instant: per Ready pod, and request-weighted totals: ``latency``, the
    mean latency (s; ``inf`` when some requests are not served), and ``slo_violation``, the
    share of requests slower than the SLO (1 with no Ready pod)."""

    rate: float
    pods: tuple[PodLoad, ...]
    latency: float = field(init=False, compare=False)
    slo_violation: float = field(init=False, compare=False)

    def __post_init__(self) -> None:
        if self.rate <= 0:
            latency, slo_violation = 0.0, 0.0
        elif not self.pods:
            latency, slo_violation = math.inf, 1.0
        else:
            latency = sum(p.rate * p.latency for p in self.pods) / self.rate
            slo_violation = sum(p.rate * p.slo_violation for p in self.pods) / self.rate
        object.__setattr__(self, "latency", latency)
        object.__setattr__(self, "slo_violation", slo_violation)


def _rate_fn(rate: RateFn | pd.Series | float) -> RateFn:
    """A rate as a function of time: a constant, a callable, or a Series indexed by seconds
    (held from each point to the next, 0 before the first)."""
    if isinstance(rate, pd.Series):
        times = np.asarray(rate.index, dtype=float)
        values = np.asarray(rate.to_numpy(), dtype=float)
        if len(times) == 0 or np.any(np.diff(times) <= 0):
            raise WorkloadError("rate: a Series needs a non-empty, strictly increasing index of seconds")

        points = times.tolist()
        starts, held_values = [-math.inf, *points], [0.0, *values.tolist()]
        ends = [*points, math.inf]
        last = [math.inf, -math.inf, 0.0]  # the step last looked up: [start, end), value

        def held(t: float) -> float:
            if not last[0] <= t < last[1]:
                i = bisect.bisect_right(points, t)  # the step [starts[i], ends[i])
                last[:] = starts[i], ends[i], held_values[i]
            return last[2]
        return held
    if callable(rate):
        return rate
    constant = float(rate)
    return lambda t: constant


class Workload:
    """``rate`` (requests/s: a number, ``rate(t)`` or a Series indexed by seconds),
    ``cpu_per_request`` (CPU seconds), ``slo_s`` (latency objective, seconds) and the cores
    of a pod without a CPU limit (``default_cores``). See the module docstring."""

    def __init__(self, rate: RateFn | pd.Series | float, cpu_per_request: float, *, slo_s: float = 0.5,
                 default_cores: float = 1.0):
        if not cpu_per_request > 0:
            raise WorkloadError(f"cpu_per_request: must be > 0, got {cpu_per_request}")
        if not slo_s > 0:
            raise WorkloadError(f"slo_s: must be > 0, got {slo_s}")
        if not default_cores > 0:
            raise WorkloadError(f"default_cores: must be > 0, got {default_cores}")
        self.rate = _rate_fn(rate)
        self.cpu_per_request = float(cpu_per_request)
        self.slo_s = float(slo_s)
        self.default_cores = float(default_cores)
        self._last: tuple[float, tuple[float | None, ...], LoadResult] | None = None  # serve's last answer

    def rate_at(self, t: float) -> float:
        r = float(self.rate(t))
        if not r >= 0:
            raise WorkloadError(f"rate: must be >= 0, got {r} at t={t}")
        return r

    def serve(self, t: float, cores: Sequence[float | None]) -> LoadResult:
        """The load at time ``t`` over Ready pods with these CPU limits in cores (``None``:
        no limit, ``default_cores``)."""
        rate, cores = self.rate_at(t), tuple(cores)
        if self._last is not None and self._last[0] == rate and self._last[1] == cores:
            return self._last[2]  # the same inputs: the same (immutable) result
        if not cores:
            result = LoadResult(rate, ())
        else:
            share, by_cores = rate / len(cores), {}  # pods with the same cores get the same (immutable) share
            for c in cores:
                if c not in by_cores:
                    by_cores[c] = self._pod(share, self.default_cores if c is None else c)
            result = LoadResult(rate, tuple(by_cores[c] for c in cores))
        self._last = (rate, cores, result)
        return result

    def _pod(self, rate: float, cores: float) -> PodLoad:
        if not cores > 0:
            raise WorkloadError(f"cores: a pod's CPU limit must be > 0, got {cores}")
        demand = rate * self.cpu_per_request
        rho = demand / cores
        if rho >= 1.0:
            return PodLoad(rate, cores, rho, math.inf, 1.0)
        latency = self.cpu_per_request / min(cores, 1.0) / (1.0 - rho)
        return PodLoad(rate, demand, rho, latency, math.exp(-self.slo_s / latency))


@dataclass
class WorkloadStats:
    """Totals over time: requests, requests missing the SLO, latency x requests (finite
    latencies only) and pod-seconds. :meth:`add` one interval at a time."""

    requests: float = 0.0
    violations: float = 0.0
    latency_sum: float = 0.0
    served: float = 0.0
    pod_seconds: float = 0.0

    def add(self, dt: float, load: LoadResult, pods: int) -> None:
        """``dt`` seconds at ``load`` with ``pods`` pods existing (Ready or not)."""
        if dt < 0:
            raise WorkloadError(f"dt: must be >= 0, got {dt}")
        requests = load.rate * dt
        self.requests += requests
        self.violations += load.slo_violation * requests
        for pod in load.pods:
            if math.isfinite(pod.latency):
                self.latency_sum += pod.latency * pod.rate * dt
                self.served += pod.rate * dt
        self.pod_seconds += pods * dt

    @property
    def pod_hours(self) -> float:
        return self.pod_seconds / 3600.0

    @property
    def slo_violation(self) -> float:
        """The share of all requests that missed the SLO."""
        return self.violations / self.requests if self.requests else 0.0

    @property
    def mean_latency(self) -> float:
        """Mean latency of the requests served by unsaturated pods (s)."""
        return self.latency_sum / self.served if self.served else 0.0
