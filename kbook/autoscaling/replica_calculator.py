"""Upstream's ``ReplicaCalculator`` (pkg/controller/podautoscaler/replica_calculator.go)
on plain inputs.

The pod lister becomes a list of :class:`~kbook.api.Pod` (every pod the scale target's
selector matches, failed and deleted ones included), the metrics clients become plain
values (:data:`~kbook.autoscaling.metrics.PodMetricsInfo` per pod, one value for an Object
metric, a list of values for an External metric) and ``time.Now()`` becomes ``now``.
Each method returns what its Go namesake returns, or raises :class:`MetricsError` with
upstream's message.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping, NamedTuple, Sequence

from kbook.api import Pod
from kbook.api.core import Container
from kbook.autoscaling.metrics import (
    MAX_INT32,
    MAX_INT64,
    MIN_INT32,
    ZERO_TIME,
    MetricsError,
    PodMetric,
    PodMetricsInfo,
    get_metric_usage_ratio,
    get_resource_utilization_ratio,
    go_fdiv,
    parse_time,
)

__all__ = [
    "DEFAULT_TOLERANCE",
    "DEFAULT_CPU_INITIALIZATION_PERIOD",
    "DEFAULT_DELAY_OF_INITIAL_READINESS_STATUS",
    "MetricsError",
    "Tolerances",
    "PodGroups",
    "ResourceReplicas",
    "MetricReplicas",
    "ReplicaCalculator",
    "group_pods",
    "calculate_requests",
]

# kube-controller-manager defaults (config/v1alpha1/defaults.go), seconds.
DEFAULT_TOLERANCE = 0.1  # --horizontal-pod-autoscaler-tolerance
DEFAULT_CPU_INITIALIZATION_PERIOD = 300.0  # --horizontal-pod-autoscaler-cpu-initialization-period
DEFAULT_DELAY_OF_INITIAL_READINESS_STATUS = 30.0  # --horizontal-pod-autoscaler-initial-readiness-delay

CPU = "cpu"  # v1.ResourceCPU


@dataclass(frozen=True)
class Tolerances:
    """``Tolerances``: no change while ``1 - scale_down <= ratio <= 1 + scale_up``."""

    scale_down: float = DEFAULT_TOLERANCE
    scale_up: float = DEFAULT_TOLERANCE

    def is_within(self, usage_ratio: float) -> bool:
        """``isWithin``: both bounds inclusive."""
        return (1.0 - self.scale_down) <= usage_ratio <= (1.0 + self.scale_up)

    def __str__(self) -> str:
        return f"[down:{self.scale_down * 100:.1f}%, up:{self.scale_up * 100:.1f}%]"


@dataclass
class PodGroups:
    """What ``groupPods`` returns: the ready count and the names of the other pods."""

    ready_pod_count: int = 0
    unready: set[str] = field(default_factory=set)
    missing: set[str] = field(default_factory=set)
    ignored: set[str] = field(default_factory=set)


class ResourceReplicas(NamedTuple):
    """``GetResourceReplicas``'s results: utilization (percent) and raw average (milli)."""

    replicas: int
    utilization: int
    raw_utilization: int
    timestamp: float | None


class MetricReplicas(NamedTuple):
    """The other calculators' results: usage in milli-units. ``timestamp`` is None where
    upstream returns Go's zero time (Object and External ``Value`` targets)."""

    replicas: int
    usage: int
    timestamp: float | None


def _ready_condition(pod: Pod):
    for c in pod.status.conditions:
        if c.type == "Ready":
            return c
    return None


def _ceil_int32(x: float) -> int:
    """``int32(math.Ceil(x))``; amd64 turns NaN, ±Inf and out-of-range values into MinInt32."""
    if math.isnan(x) or math.isinf(x):
        return MIN_INT32
    c = math.ceil(x)
    return c if MIN_INT32 <= c <= MAX_INT32 else MIN_INT32


def _ceil_int64(x: float) -> int:
    """``int64(math.Ceil(x))``; amd64 turns NaN, ±Inf and out-of-range values into MinInt64."""
    if math.isnan(x) or math.isinf(x):
        return -MAX_INT64 - 1
    c = math.ceil(x)
    return c if -MAX_INT64 - 1 <= c <= MAX_INT64 else -MAX_INT64 - 1


def group_pods(pods: Sequence[Pod], metrics: Mapping[str, PodMetric], resource: str,
               cpu_initialization_period: float, delay_of_initial_readiness_status: float,
               now: float) -> PodGroups:
    """``groupPods``: deleted and Failed pods are ignored, Pending ones unready, pods
    without a metric missing. For CPU only, a pod is also unready without a Ready
    condition or start time; inside its initialization period when not Ready or when the
    sample does not cover a full window after the last readiness change; after it when
    not Ready and never Ready since start. Comparisons are strict, as Go's After/Before."""
    groups = PodGroups()
    ignored, unready, missing = groups.ignored, groups.unready, groups.missing
    ready = 0
    cpu = resource == CPU
    for pod in pods:
        name, status = pod.metadata.name, pod.status
        if pod.metadata.deletion_timestamp is not None or status.phase == "Failed":
            ignored.add(name)
            continue
        if status.phase == "Pending":
            unready.add(name)
            continue
        metric = metrics.get(name)
        if metric is None:
            missing.add(name)
            continue
        if cpu:
            condition = _ready_condition(pod)
            if condition is None or status.start_time is None:
                is_unready = True
            else:
                start = parse_time(status.start_time)
                # LastTransitionTime is a value in Go: unset is the zero time.
                ltt = condition.last_transition_time
                transition = parse_time(ltt) if ltt else ZERO_TIME
                if start + cpu_initialization_period > now:
                    is_unready = condition.status == "False" or metric.timestamp < transition + metric.window
                else:
                    is_unready = condition.status == "False" and start + delay_of_initial_readiness_status > transition
            if is_unready:
                unready.add(name)
                continue
        ready += 1
    groups.ready_pod_count = ready
    return groups


def _supported_pod_level_resource(name: str) -> bool:
    """``IsSupportedPodLevelResource``: cpu, memory and hugepages."""
    return name in ("cpu", "memory") or name.startswith("hugepages-")


def _pod_level_requests_set(pod: Pod) -> bool:
    """``IsPodLevelRequestsSet`` (KEP-2837): ``spec.resources.requests`` names a supported
    resource."""
    resources = pod.spec.resources
    return resources is not None and any(_supported_pod_level_resource(r) for r in resources.requests)


def _add(total: int | None, value: int | None) -> int | None:
    """``addResourceList`` for one resource: absent plus absent stays absent."""
    if value is None:
        return total
    return value if total is None else total + value


def _container_request(c: Container, resource: str) -> int | None:
    quantity = c.resources.requests.get(resource)
    return None if quantity is None else quantity.milli_value()


def _aggregate_container_request(pod: Pod, resource: str) -> int | None:
    """``AggregateContainerRequests`` for one resource: the containers and sidecars summed,
    or the largest init container (with the sidecars started before it) if that is more."""
    total: int | None = None
    for c in pod.spec.containers:
        total = _add(total, _container_request(c, resource))
    sidecars: int | None = None
    init_max: int | None = None
    for c in pod.spec.init_containers:
        if c.is_sidecar:
            total = _add(total, _container_request(c, resource))
            sidecars = _add(sidecars, _container_request(c, resource))
            candidate = sidecars
        else:
            candidate = _add(_container_request(c, resource), sidecars)
        if candidate is not None and (init_max is None or candidate > init_max):
            init_max = candidate
    if init_max is not None and (total is None or init_max > total):
        total = init_max
    return total


def _pod_level_request(pod: Pod, resource: str) -> int:
    """``calculatePodLevelRequests``: ``PodRequests`` for one resource (the containers'
    aggregate, replaced by the pod-level value of a supported resource, plus the overhead)."""
    pod_level = pod.spec.resources.requests
    if resource in pod_level and _supported_pod_level_resource(resource):
        request: int | None = pod_level[resource].milli_value()
    else:
        request = _aggregate_container_request(pod, resource)
    overhead = pod.spec.overhead.get(resource)
    request = _add(request, None if overhead is None else overhead.milli_value())
    if request is None:
        raise MetricsError(f"missing pod-level request for {resource} in Pod {pod.metadata.name}")
    return request


def _requests_from_containers(pod: Pod, container: str, resource: str) -> int:
    """``calculatePodRequestsFromContainers``: containers plus sidecars (init containers
    with ``restartPolicy: Always``), or only the named one."""
    request = 0
    containers = pod.spec.containers
    if pod.spec.init_containers:
        containers = [*containers, *(c for c in pod.spec.init_containers if c.is_sidecar)]
    for c in containers:
        if not container or container == c.name:
            quantity = c.resources.requests.get(resource)
            if quantity is None:
                raise MetricsError(f"missing request for {resource} in container {c.name} of Pod {pod.metadata.name}")
            request += quantity.milli_value()
            if container == c.name:
                return request
    if container:
        raise MetricsError(f"container {container} not found in Pod {pod.metadata.name}")
    return request


def calculate_requests(pods: Sequence[Pod], container: str, resource: str,
                       pod_level_resources: bool = False) -> dict[str, int]:
    """``calculateRequests``: each pod's request in milli-units. With the
    ``PodLevelResources`` gate on, a pod-level request wins unless a container is named."""
    requests: dict[str, int] = {}
    for pod in pods:
        if pod_level_resources and not container and _pod_level_requests_set(pod):
            requests[pod.metadata.name] = _pod_level_request(pod, resource)
        else:
            requests[pod.metadata.name] = _requests_from_containers(pod, container, resource)
    return requests


class ReplicaCalculator:
    """``ReplicaCalculator``: its two timing knobs (seconds) and the feature gate it reads."""

    def __init__(self, cpu_initialization_period: float = DEFAULT_CPU_INITIALIZATION_PERIOD,
                 delay_of_initial_readiness_status: float = DEFAULT_DELAY_OF_INITIAL_READINESS_STATUS,
                 pod_level_resources: bool = False) -> None:
        self.cpu_initialization_period = cpu_initialization_period
        self.delay_of_initial_readiness_status = delay_of_initial_readiness_status
        self.pod_level_resources = pod_level_resources

    def _group(self, pods: Sequence[Pod], metrics: PodMetricsInfo, resource: str, now: float) -> PodGroups:
        if not pods:
            raise MetricsError("no pods returned by selector while calculating replica count")
        groups = group_pods(pods, metrics, resource, self.cpu_initialization_period,
                            self.delay_of_initial_readiness_status, now)
        for name in groups.ignored | groups.unready:  # removeMetricsForPods
            metrics.pop(name, None)
        if not metrics:
            raise MetricsError("did not receive metrics for targeted pods (pods might be unready)")
        return groups

    def get_resource_replicas(self, current_replicas: int, target_utilization: int, resource: str,
                              tolerances: Tolerances, pods: Sequence[Pod], metrics: Mapping[str, PodMetric],
                              timestamp: float, now: float, container: str = "") -> ResourceReplicas:
        """``GetResourceReplicas``: a Utilization target (percent of requests) for a
        Resource, or a ContainerResource when ``container`` is named. ``metrics`` and
        ``timestamp`` are what :func:`~kbook.autoscaling.metrics.get_resource_metric` gives."""
        metrics = dict(metrics)
        groups = self._group(pods, metrics, resource, now)
        requests = calculate_requests(pods, container, resource, self.pod_level_resources)
        ratio, utilization, raw = get_resource_utilization_ratio(metrics, requests, target_utilization)

        scale_up_with_unready = bool(groups.unready) and ratio > 1.0
        if not scale_up_with_unready and not groups.missing:
            if tolerances.is_within(ratio):
                return ResourceReplicas(current_replicas, utilization, raw, timestamp)
            return ResourceReplicas(_ceil_int32(ratio * groups.ready_pod_count), utilization, raw, timestamp)

        if groups.missing:
            if ratio < 1.0:  # scale-down: missing pods use 100% of their request, or the target above 100%
                fallback = max(100, target_utilization)
                for name in groups.missing:
                    metrics[name] = PodMetric(ZERO_TIME, 0.0, requests[name] * fallback // 100)
            elif ratio > 1.0:  # scale-up: missing pods use nothing
                for name in groups.missing:
                    metrics[name] = PodMetric(ZERO_TIME, 0.0, 0)
        if scale_up_with_unready:
            for name in groups.unready:
                metrics[name] = PodMetric(ZERO_TIME, 0.0, 0)

        new_ratio, _, _ = get_resource_utilization_ratio(metrics, requests, target_utilization)
        return ResourceReplicas(self._rebalanced(current_replicas, ratio, new_ratio, len(metrics), tolerances),
                                utilization, raw, timestamp)

    @staticmethod
    def _rebalanced(current_replicas: int, ratio: float, new_ratio: float, count: int,
                    tolerances: Tolerances) -> int:
        """The slow path's end: no change within tolerance or when the direction flips."""
        if tolerances.is_within(new_ratio) or (ratio < 1.0 < new_ratio) or (ratio > 1.0 > new_ratio):
            return current_replicas
        new_replicas = _ceil_int32(new_ratio * count)
        if (new_ratio < 1.0 and new_replicas > current_replicas) or \
                (new_ratio > 1.0 and new_replicas < current_replicas):
            return current_replicas
        return new_replicas

    def get_raw_resource_replicas(self, current_replicas: int, target_usage: int, resource: str,
                                  tolerances: Tolerances, pods: Sequence[Pod], metrics: Mapping[str, PodMetric],
                                  timestamp: float, now: float) -> MetricReplicas:
        """``GetRawResourceReplicas``: an AverageValue target (milli-units) for a Resource or
        ContainerResource metric; CPU readiness rules apply."""
        replicas, usage = self._plain_metric_replicas(dict(metrics), current_replicas, target_usage, tolerances,
                                                      pods, resource, now)
        return MetricReplicas(replicas, usage, timestamp)

    def get_metric_replicas(self, current_replicas: int, target_usage: int, tolerances: Tolerances,
                            pods: Sequence[Pod], metrics: Mapping[str, PodMetric], timestamp: float,
                            now: float) -> MetricReplicas:
        """``GetMetricReplicas``: a Pods metric's AverageValue target; readiness is not examined."""
        replicas, usage = self._plain_metric_replicas(dict(metrics), current_replicas, target_usage, tolerances,
                                                      pods, "", now)
        return MetricReplicas(replicas, usage, timestamp)

    def _plain_metric_replicas(self, metrics: PodMetricsInfo, current_replicas: int, target_usage: int,
                               tolerances: Tolerances, pods: Sequence[Pod], resource: str,
                               now: float) -> tuple[int, int]:
        """``calcPlainMetricReplicas``."""
        groups = self._group(pods, metrics, resource, now)
        ratio, usage = get_metric_usage_ratio(metrics, target_usage)

        scale_up_with_unready = bool(groups.unready) and ratio > 1.0
        if not scale_up_with_unready and not groups.missing:
            if tolerances.is_within(ratio):
                return current_replicas, usage
            return _ceil_int32(ratio * groups.ready_pod_count), usage

        if groups.missing:
            if ratio < 1.0:  # scale-down: missing pods use exactly the target
                for name in groups.missing:
                    metrics[name] = PodMetric(ZERO_TIME, 0.0, target_usage)
            elif ratio > 1.0:
                for name in groups.missing:
                    metrics[name] = PodMetric(ZERO_TIME, 0.0, 0)
        if scale_up_with_unready:
            for name in groups.unready:
                metrics[name] = PodMetric(ZERO_TIME, 0.0, 0)

        new_ratio, _ = get_metric_usage_ratio(metrics, target_usage)
        return self._rebalanced(current_replicas, ratio, new_ratio, len(metrics), tolerances), usage

    def get_object_metric_replicas(self, current_replicas: int, target_usage: int, tolerances: Tolerances,
                                   pods: Sequence[Pod], usage: int) -> MetricReplicas:
        """``GetObjectMetricReplicas``: an Object metric's Value target."""
        replicas = self._usage_ratio_replica_count(current_replicas, go_fdiv(usage, target_usage), tolerances, pods)
        return MetricReplicas(replicas, usage, None)

    def _usage_ratio_replica_count(self, current_replicas: int, usage_ratio: float, tolerances: Tolerances,
                                   pods: Sequence[Pod]) -> int:
        """``getUsageRatioReplicaCount``: scaled by the Running, Ready pods; from zero
        replicas ``ceil(ratio)`` without tolerance."""
        if current_replicas == 0:
            return _ceil_int32(usage_ratio)
        if tolerances.is_within(usage_ratio):
            return current_replicas
        replicas = usage_ratio * self._ready_pods_count(pods)
        return MAX_INT32 if replicas > MAX_INT32 else _ceil_int32(replicas)

    @staticmethod
    def _ready_pods_count(pods: Sequence[Pod]) -> int:
        """``getReadyPodsCount``: Running pods whose Ready condition is True."""
        if not pods:
            raise MetricsError("unable to calculate ready pods: "
                               "no pods returned by selector while calculating replica count")
        return sum(1 for p in pods if p.status.phase == "Running"
                   and (c := _ready_condition(p)) is not None and c.status == "True")

    def get_object_per_pod_metric_replicas(self, status_replicas: int, target_average_usage: int,
                                           tolerances: Tolerances, usage: int, timestamp: float) -> MetricReplicas:
        """``GetObjectPerPodMetricReplicas``: an Object metric's AverageValue target, over
        ``scale.status.replicas``; pods are not looked at."""
        replicas = status_replicas
        if not tolerances.is_within(go_fdiv(usage, float(target_average_usage) * float(replicas))):
            replicas = _ceil_int32(go_fdiv(usage, target_average_usage))
        return MetricReplicas(replicas, _ceil_int64(go_fdiv(usage, status_replicas)), timestamp)

    def get_external_metric_replicas(self, current_replicas: int, target_usage: int, tolerances: Tolerances,
                                     pods: Sequence[Pod], values: Sequence[int]) -> MetricReplicas:
        """``GetExternalMetricReplicas``: the sum of the series (capped at MaxInt64) against
        a Value target."""
        usage = 0
        for value in values:
            if value > 0 and usage > MAX_INT64 - value:
                usage = MAX_INT64
                break
            usage += value
        replicas = self._usage_ratio_replica_count(current_replicas, go_fdiv(usage, target_usage), tolerances, pods)
        return MetricReplicas(replicas, usage, None)

    def get_external_per_pod_metric_replicas(self, status_replicas: int, target_usage_per_pod: int,
                                             tolerances: Tolerances, values: Sequence[int],
                                             timestamp: float) -> MetricReplicas:
        """``GetExternalPerPodMetricReplicas``: the sum against an AverageValue target, over
        ``scale.status.replicas``; a sum that overflows int64 is MaxInt64."""
        usage = 0
        for value in values:
            usage += value
            if usage < 0 or usage > MAX_INT64:  # Go's wrapped sum turned negative
                usage = MAX_INT64
                break
        replicas = status_replicas
        if not tolerances.is_within(go_fdiv(usage, float(target_usage_per_pod) * float(replicas))):
            result = go_fdiv(usage, target_usage_per_pod)
            replicas = MAX_INT32 if math.ceil(result) > MAX_INT32 else _ceil_int32(result)
        usage = MAX_INT64 if float(usage) >= float(MAX_INT64) else _ceil_int64(go_fdiv(usage, status_replicas))
        return MetricReplicas(replicas, usage, timestamp)
