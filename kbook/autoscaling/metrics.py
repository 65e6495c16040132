"""The HPA's view of metrics: plain records and the arithmetic on them.

``pkg/controller/podautoscaler/metrics``: :class:`PodMetric` (``PodMetric``), the
resource metrics API's :class:`PodMetrics` (``metrics.k8s.io/v1beta1``), the client's
reduction of them to one value per pod (``getPodMetrics``, ``getContainerMetrics``) and
``utilization.go``'s ratios. Values are milli-units (``Quantity.MilliValue()``) as Python
ints, so the big-integer "exact" paths upstream takes on int64 overflow are the only path
here; divisions truncate toward zero as Go's do. Times are simulated seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Iterable, Mapping, NamedTuple

from kbook.errors import KbookError

__all__ = [
    "API_EPOCH",
    "GO_ZERO_TIME",
    "ZERO_TIME",
    "MAX_INT32",
    "MIN_INT32",
    "MAX_INT64",
    "MetricsError",
    "PodMetric",
    "PodMetricsInfo",
    "ContainerMetrics",
    "PodMetrics",
    "parse_time",
    "go_fdiv",
    "go_quo",
    "get_pod_metrics",
    "get_container_metrics",
    "get_resource_metric",
    "get_resource_utilization_ratio",
    "get_metric_usage_ratio",
]

# The API server's simulated time 0 (kbook.controlplane.apiserver.metadata.EPOCH; this
# package may not import the control plane, a test holds the two equal).
API_EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)
GO_ZERO_TIME = "0001-01-01T00:00:00Z"  # Go's zero time.Time as metav1.Time prints it

MAX_INT32 = 2**31 - 1
MIN_INT32 = -(2**31)
MAX_INT64 = 2**63 - 1


class MetricsError(KbookError):
    """A replica count that cannot be computed, with upstream's message."""


@lru_cache(maxsize=4096)  # the same pod timestamps come back every sync
def parse_time(value: str) -> float:
    """Simulated seconds of an RFC 3339 ``metav1.Time`` (Go's zero time included)."""
    return (datetime.fromisoformat(value.replace("Z", "+00:00")) - API_EPOCH).total_seconds()


ZERO_TIME = parse_time(GO_ZERO_TIME)  # Go's zero time.Time in simulated seconds


def go_fdiv(a: float, b: float) -> float:
    """Go's ``float64(a) / float64(b)``: IEEE 754, so a zero divisor gives ±Inf or NaN."""
    a, b = float(a), float(b)
    if b == 0.0:
        return float("nan") if a == 0.0 or a != a else math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def go_quo(a: int, b: int) -> int:
    """Go's integer ``a / b``: truncated toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


class PodMetric(NamedTuple):
    """``metricsclient.PodMetric``: one pod's value, the sample's end time and window."""

    timestamp: float
    window: float
    value_milli: int


PodMetricsInfo = dict[str, PodMetric]  # pod name -> metric (``PodMetricsInfo``)


@dataclass(frozen=True)
class ContainerMetrics:
    """``metricsapi.ContainerMetrics``: a container's usage, resource name -> milli-units."""

    name: str
    usage_milli: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PodMetrics:
    """``metricsapi.PodMetrics``: what the resource metrics API serves for one pod."""

    name: str
    timestamp: float
    window: float
    containers: tuple[ContainerMetrics, ...] = ()
    namespace: str = ""


def get_pod_metrics(items: Iterable[PodMetrics], resource: str) -> PodMetricsInfo:
    """``getPodMetrics``: the sum over a pod's containers; a pod with no containers, or a
    container without the resource, is left out (it counts as missing)."""
    res: PodMetricsInfo = {}
    for m in items:
        if not m.containers:
            continue
        total = 0
        for c in m.containers:
            usage = c.usage_milli.get(resource)
            if usage is None:
                break
            total += usage
        else:
            res[m.name] = PodMetric(m.timestamp, m.window, total)
    return res


def get_container_metrics(items: Iterable[PodMetrics], resource: str, container: str) -> PodMetricsInfo:
    """``getContainerMetrics`` (newest client): the named container's usage; a pod whose
    metrics lack the container or its usage is left out (missing), never an error."""
    res: PodMetricsInfo = {}
    for m in items:
        c = next((c for c in m.containers if c.name == container), None)
        if c is not None and resource in c.usage_milli:
            res[m.name] = PodMetric(m.timestamp, m.window, c.usage_milli[resource])
    return res


def get_resource_metric(items: list[PodMetrics], resource: str, container: str = "") -> tuple[PodMetricsInfo, float]:
    """``resourceMetricsClient.GetResourceMetric`` as ``GetResourceReplicas`` reports it:
    one value per pod and the first item's timestamp."""
    if not items:
        raise MetricsError(f"unable to get metrics for resource {resource}: "
                           "no metrics returned from resource metrics API")
    info = get_container_metrics(items, resource, container) if container else get_pod_metrics(items, resource)
    return info, items[0].timestamp


def get_resource_utilization_ratio(metrics: Mapping[str, PodMetric], requests: Mapping[str, int],
                                   target_utilization: int) -> tuple[float, int, int]:
    """``GetResourceUtilizationRatio``: (ratio, utilization, raw average). Utilization is
    the INTEGER percentage of summed usage over summed requests of the pods that have a
    request (extraneous metrics are skipped); the ratio is taken from that integer."""
    metrics_total = requests_total = entries = 0
    for name, metric in metrics.items():
        if name not in requests:
            continue
        metrics_total += metric.value_milli
        requests_total += requests[name]
        entries += 1
    if requests_total == 0:
        raise MetricsError("no metrics returned matched known pods")
    percentage = go_quo(metrics_total * 100, requests_total)
    if not MIN_INT32 <= percentage <= MAX_INT32:
        raise MetricsError(f"resource utilization {percentage} is outside the int32 range")
    return go_fdiv(percentage, target_utilization), percentage, go_quo(metrics_total, entries)


def get_metric_usage_ratio(metrics: Mapping[str, PodMetric], target_usage: int) -> tuple[float, int]:
    """``GetMetricUsageRatio``: (ratio, average usage), the average an integer division
    over every metric, extraneous ones included."""
    usage = go_quo(sum(m.value_milli for m in metrics.values()), len(metrics))
    return go_fdiv(usage, target_usage), usage
