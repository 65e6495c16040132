"""The HorizontalPodAutoscaler controller (``pkg/controller/podautoscaler/horizontal.go``).

Every HPA is synced once per ``--horizontal-pod-autoscaler-sync-period`` (15 s): its key is
always re-added with that delay (``NewDefaultHPARateLimiter``, ``enqueueHPA`` and
``processNextWorkItem``), so a new HPA is first synced one period after it appears.
``reconcileAutoscaler`` reads the target's scale (``spec.replicas``, ``status.replicas``
and the selector of a Deployment or ReplicaSet) through the API, lists its pods from the
informer cache, reads the resource metrics API (:class:`~kbook.controlplane.metricsserver.
MetricsServer`) and asks :class:`~kbook.autoscaling.ReplicaCalculator` for one proposal per
metric (``computeReplicasForMetric``); :func:`~kbook.autoscaling.horizontal.reconcile_replicas`
takes the largest and stabilizes and limits it. A rescale writes the target's
``spec.replicas``; then the HPA's status (currentReplicas, desiredReplicas, currentMetrics,
conditions, lastScaleTime) is written if it changed. Events are upstream's
(``SuccessfulRescale`` "New size: N; reason: ...", ``FailedGetResourceMetric``, ...).

Simplified: only the resource metrics API exists, so Pods, Object and External metrics fail
as they do without a custom or external metrics adapter; the ``AmbiguousSelector`` check of
HPAs sharing pods is left out.
"""

from __future__ import annotations

import copy
import functools

import simpy

from kbook.api import (
    HorizontalPodAutoscaler,
    HorizontalPodAutoscalerCondition,
    HorizontalPodAutoscalerStatus,
    KubeObject,
    LabelSelector,
)
from kbook.api.autoscaling import MetricSpec, MetricTarget
from kbook.autoscaling import MetricsError, ReplicaCalculator, Tolerances, get_resource_metric
from kbook.autoscaling.behavior import DEFAULT_DOWNSCALE_STABILIZATION_WINDOW
from kbook.autoscaling.horizontal import (
    HPAState,
    MetricFailure,
    MetricProposal,
    reconcile_replicas,
    unable_compute_replica_count_condition,
)
from kbook.autoscaling.replica_calculator import (
    DEFAULT_CPU_INITIALIZATION_PERIOD,
    DEFAULT_DELAY_OF_INITIAL_READINESS_STATUS,
    DEFAULT_TOLERANCE,
)
from kbook.controlplane.apiserver.types import API, APIError
from kbook.controlplane.controllers.base import QueueController
from kbook.controlplane.controllers.controller_utils import copy_fields, label_selector_as_selector
from kbook.controlplane.controllers.informer import EventHandler, InformerFactory
from kbook.controlplane.controllers.timeutil import rfc3339
from kbook.controlplane.controllers.workqueue import RateLimitingQueue
from kbook.controlplane.metricsserver import MetricsServer
from kbook.errors import KbookError
from kbook.eventlog import EventLog
from kbook.quantity import Quantity

__all__ = ["HorizontalController", "FixedIntervalRateLimiter", "SYNC_PERIOD", "HPA_OPTIONS"]

SYNC_PERIOD = 15.0  # --horizontal-pod-autoscaler-sync-period
HPA_OPTIONS = ("sync_period", "tolerance", "cpu_initialization_period", "initial_readiness_delay",
               "downscale_stabilization")
NO_METRICS_API = ("unable to fetch metrics from resource metrics API: "
                  "the server could not find the requested resource (get pods.metrics.k8s.io)")
SCALABLE = ("Deployment", "ReplicaSet")  # kinds with a scale subresource in kbook


class FixedIntervalRateLimiter:
    """``NewDefaultHPARateLimiter``: every item waits exactly ``interval``."""

    def __init__(self, interval: float):
        self.interval = interval

    def when(self, item: object) -> float:
        return self.interval

    def forget(self, item: object) -> None:
        pass

    def num_requeues(self, item: object) -> int:
        return 0


@functools.lru_cache(maxsize=1024)  # the same averages come back sync after sync
def _milli(value: int) -> str:
    """``resource.NewMilliQuantity(value, DecimalSI).String()``."""
    return str(Quantity(f"{value}m"))


class HorizontalController(QueueController):
    """``HorizontalController``: ``metrics`` is the resource metrics API (None: not installed)."""

    name = "horizontal-pod-autoscaler"

    def __init__(self, env: simpy.Environment, api: API, *, informers: InformerFactory | None = None,
                 log: EventLog | None = None, metrics: MetricsServer | None = None,
                 sync_period: float = SYNC_PERIOD, tolerance: float = DEFAULT_TOLERANCE,
                 cpu_initialization_period: float = DEFAULT_CPU_INITIALIZATION_PERIOD,
                 initial_readiness_delay: float = DEFAULT_DELAY_OF_INITIAL_READINESS_STATUS,
                 downscale_stabilization: float = DEFAULT_DOWNSCALE_STABILIZATION_WINDOW):
        if not sync_period > 0:
            raise KbookError(f"sync_period: --horizontal-pod-autoscaler-sync-period must be > 0, got {sync_period}")
        if not tolerance >= 0:
            raise KbookError(f"tolerance: --horizontal-pod-autoscaler-tolerance must be >= 0, got {tolerance}")
        super().__init__(env, api, informers=informers, log=log)
        self.queue = RateLimitingQueue(env, FixedIntervalRateLimiter(sync_period), name=self.name)
        self.metrics, self.sync_period, self.tolerance = metrics, sync_period, tolerance
        self.downscale_stabilization = downscale_stabilization
        self.calculator = ReplicaCalculator(cpu_initialization_period, initial_readiness_delay)
        self.state: dict[str, HPAState] = {}  # recommendations and scale events per HPA key
        self.hpa_informer = self.informers.informer("HorizontalPodAutoscaler")
        self.pod_informer = self.informers.informer("Pod")
        self.hpa_informer.add_event_handler(EventHandler(self.enqueue, lambda old, cur: self.enqueue(cur),
                                                         self._deleted))

    def enqueue(self, obj: KubeObject) -> None:
        """``enqueueHPA``: always with the sync period's delay (a pending add wins)."""
        self.queue.add_rate_limited(obj.key)

    def _deleted(self, obj: KubeObject) -> None:
        """``deleteHPA``: forget it (its recommendations and events go too)."""
        self.queue.forget(obj.key)
        self.state.pop(obj.key, None)

    def sync(self, key: str) -> None:
        """``reconcileKey``, then the key goes back with the sync period's delay
        (``processNextWorkItem``), even after an error."""
        hpa = self.hpa_informer.indexer.get(key)
        if hpa is None:
            self.state.pop(key, None)
            return
        try:
            # upstream copies the whole HPA; only its status is changed here, so only that is copied
            self._reconcile(copy_fields(hpa, "status"), hpa.status)
        finally:
            self.queue.add_rate_limited(key)

    # -- reconcileAutoscaler ------------------------------------------------------------------

    def _set_condition(self, hpa: HorizontalPodAutoscaler, cond: HorizontalPodAutoscalerCondition) -> None:
        """``setCondition``: the transition time changes only with the status."""
        for existing in hpa.status.conditions:
            if existing.type == cond.type:
                if existing.status != cond.status:
                    existing.last_transition_time = rfc3339(self.env.now)
                existing.status, existing.reason, existing.message = cond.status, cond.reason, cond.message
                return
        hpa.status.conditions.append(HorizontalPodAutoscalerCondition(
            type=cond.type, status=cond.status, last_transition_time=rfc3339(self.env.now),
            reason=cond.reason, message=cond.message))

    def _condition(self, hpa: HorizontalPodAutoscaler, type_: str, status: str, reason: str, message: str) -> None:
        self._set_condition(hpa, HorizontalPodAutoscalerCondition(type=type_, status=status, reason=reason,
                                                                  message=message))

    def _get_scale(self, hpa: HorizontalPodAutoscaler) -> KubeObject:
        ref = hpa.spec.scale_target_ref
        if ref.kind not in SCALABLE:
            raise KbookError(f'no matches for kind "{ref.kind}" in version "{ref.api_version}"')
        try:
            return self.api.get(ref.kind, ref.name, hpa.metadata.namespace)
        except APIError as e:
            raise KbookError(e.message) from e

    def _reconcile(self, hpa: HorizontalPodAutoscaler, original: HorizontalPodAutoscalerStatus) -> None:
        """``reconcileAutoscaler`` on ``hpa``, a copy; ``original`` is the cached status
        (upstream's ``hpaStatusOriginal``, a copy there, unchanged here as the cache is)."""
        try:
            target = self._get_scale(hpa)
        except KbookError as e:
            ref = hpa.spec.scale_target_ref
            reference = f"{ref.kind}/{hpa.metadata.namespace}/{ref.name}"
            self.record("FailedGetScale", hpa.key, str(e))
            self._condition(hpa, "AbleToScale", "False", "FailedGetScale",
                            f"the HPA controller was unable to get the target's current scale: {e}")
            self._update_status_if_needed(original, hpa)
            self.record("SyncError", hpa.key, f"failed to query scale subresource for {reference}: {e}")
            return
        self._condition(hpa, "AbleToScale", "True", "SucceededGetScale",
                        "the HPA controller was able to get the target's current scale")
        current = target.spec.replicas if target.spec.replicas is not None else 1
        state = self.state.get(hpa.key)
        if state is None:
            state = self.state[hpa.key] = HPAState()
        statuses: list[dict] = []
        results: list[MetricProposal | MetricFailure] = []
        min_replicas = hpa.spec.min_replicas if hpa.spec.min_replicas is not None else 1
        if not (current == 0 and min_replicas != 0) and min_replicas <= current <= hpa.spec.max_replicas:
            results, statuses = self._compute_metrics(hpa, target, current)
        decision = reconcile_replicas(hpa, current, results, state, self.env.now, self.downscale_stabilization)
        for cond in decision.conditions:
            if cond.type:
                self._set_condition(hpa, cond)
        if decision.failed:
            self._set_status(hpa, current, hpa.status.desired_replicas, statuses, False)
            self._update_status_if_needed(original, hpa)
            self.record("FailedComputeMetricsReplicas", hpa.key, decision.error or "")
            return
        desired = decision.desired_replicas
        if decision.rescale:
            try:
                scaled = copy.deepcopy(target)
                scaled.spec.replicas = desired
                self.api.update(scaled)
            except APIError as e:
                self.record("FailedRescale", hpa.key,
                            f"New size: {desired}; reason: {decision.rescale_reason}; error: {e.message}")
                self._condition(hpa, "AbleToScale", "False", "FailedUpdateScale",
                                f"the HPA controller was unable to update the target scale: {e.message}")
                self._set_status(hpa, current, hpa.status.desired_replicas, statuses, False)
                self._update_status_if_needed(original, hpa)
                return
            self._condition(hpa, "AbleToScale", "True", "SucceededRescale",
                            f"the HPA controller was able to update the target scale to {desired}")
            self.record("SuccessfulRescale", hpa.key, f"New size: {desired}; reason: {decision.rescale_reason}")
            state.store_scale_event(hpa, current, desired, self.env.now)
        self._set_status(hpa, current, desired, statuses, decision.rescale)
        self._update_status_if_needed(original, hpa)

    def _set_status(self, hpa: HorizontalPodAutoscaler, current: int, desired: int, statuses: list[dict],
                    rescale: bool) -> None:
        """``setStatus``: lastScaleTime moves only on a rescale."""
        hpa.status.current_replicas, hpa.status.desired_replicas = current, desired
        hpa.status.current_metrics = statuses
        if rescale:
            hpa.status.last_scale_time = rfc3339(self.env.now)

    def _update_status_if_needed(self, original, hpa: HorizontalPodAutoscaler) -> None:
        """``updateStatusIfNeeded``: write the status only when it changed."""
        if original == hpa.status:
            return
        try:
            self.api.update_status(hpa)
        except APIError as e:
            self.record("FailedUpdateStatus", hpa.key, e.message)

    # -- computeReplicasForMetric(s) ------------------------------------------------------------

    def _tolerances(self, hpa: HorizontalPodAutoscaler) -> Tolerances:
        """``tolerancesForHpa``: a behavior's per-direction tolerance, else the flag."""
        behavior = hpa.spec.behavior
        up = behavior.scale_up.tolerance if behavior is not None and behavior.scale_up is not None else None
        down = behavior.scale_down.tolerance if behavior is not None and behavior.scale_down is not None else None
        return Tolerances(down.as_float() if down is not None else self.tolerance,
                          up.as_float() if up is not None else self.tolerance)

    def _compute_metrics(self, hpa: HorizontalPodAutoscaler, target: KubeObject,
                         current: int) -> tuple[list[MetricProposal | MetricFailure], list[dict]]:
        selector: LabelSelector | None = target.spec.selector
        if selector is None or selector.is_empty():
            self.record("SelectorRequired", hpa.key, "selector is required")
            return [MetricFailure("selector is required", HorizontalPodAutoscalerCondition(
                type="ScalingActive", status="False", reason="InvalidSelector",
                message="the HPA target's scale is missing a selector"))], []
        ns = hpa.metadata.namespace
        matches = label_selector_as_selector(selector)
        pods = [p for p in self.pod_informer.indexer.list(ns) if matches(p.metadata.labels)]
        tolerances = self._tolerances(hpa)
        results: list[MetricProposal | MetricFailure] = []
        statuses: list[dict] = []
        for spec in hpa.spec.metrics:
            result, status = self._compute_metric(hpa, spec, current, pods, selector, tolerances)
            results.append(result)
            statuses.append(status)
        return results, statuses

    def _failure(self, hpa: HorizontalPodAutoscaler, reason: str, inner: str, error: str) -> MetricFailure:
        """``getUnableComputeReplicaCountCondition``: a Warning event ``reason`` with the inner
        error, the ScalingActive=False condition, and the error returned upward."""
        self.record(reason, hpa.key, inner)
        return MetricFailure(error, unable_compute_replica_count_condition(reason, inner))

    def _compute_metric(self, hpa: HorizontalPodAutoscaler, spec: MetricSpec, current: int, pods: list,
                        selector: LabelSelector, tolerances: Tolerances) -> tuple[MetricProposal | MetricFailure, dict]:
        """``computeReplicasForMetric`` of one metric and its ``MetricStatus`` (empty on failure)."""
        if spec.type == "Resource" and spec.resource is not None:
            source, container, reason, key = spec.resource, "", "FailedGetResourceMetric", "resource"
            wrap = f"failed to get {spec.resource.name} resource metric value"
        elif spec.type == "ContainerResource" and spec.container_resource is not None:
            source, container = spec.container_resource, spec.container_resource.container
            reason, key = "FailedGetContainerResourceMetric", "containerResource"
            wrap = f"failed to get {container} container metric value"
        elif spec.type in ("Pods", "Object", "External"):
            reason, what, api = {"Pods": ("FailedGetPodsMetric", "pods", "custom"),
                                 "Object": ("FailedGetObjectMetric", "object", "custom"),
                                 "External": ("FailedGetExternalMetric", "external", "external")}[spec.type]
            error = f"unable to fetch metrics from {api} metrics API: the server could not find the requested resource"
            return self._failure(hpa, reason, error, f"failed to get {what} metric value: {error}"), {}
        else:
            error = f"unknown metric source type {spec.type!r}"
            return self._failure(hpa, "InvalidMetricSourceType", error, f"invalid metric source type: {error}"), {}
        try:
            replicas, name, timestamp, value = self._resource(hpa.metadata.namespace, source.name, source.target,
                                                              container, current, pods, selector, tolerances)
        except MetricsError as e:
            return self._failure(hpa, reason, str(e), f"{wrap}: {e}"), {}
        status = {"type": spec.type, key: {"name": source.name, "current": value}}
        if container:
            status[key]["container"] = container
        return MetricProposal(replicas, name, timestamp if timestamp is not None else self.env.now), status

    def _resource(self, namespace: str, resource: str, target: MetricTarget, container: str, current: int,
                  pods: list, selector: LabelSelector, tolerances: Tolerances) -> tuple[int, str, float | None, dict]:
        """``computeStatusForResourceMetricGeneric``: (replicas, metric name, timestamp,
        ``MetricValueStatus``); raises :class:`MetricsError` with upstream's text."""
        if target.average_value is None and target.average_utilization is None:
            raise MetricsError("invalid resource metric source: neither an average utilization target "
                               "nor an average value (usage) target was set")
        what = "usage" if target.average_value is not None else "utilization"
        try:
            if self.metrics is None:
                raise MetricsError(f"unable to get metrics for resource {resource}: {NO_METRICS_API}")
            items = self.metrics.pod_metrics(namespace, selector)
            metrics, timestamp = get_resource_metric(items, resource, container)
            if target.average_value is not None:
                r = self.calculator.get_raw_resource_replicas(current, target.average_value.milli_value(), resource,
                                                              tolerances, pods, metrics, timestamp, self.env.now)
                return r.replicas, f"{resource} resource", r.timestamp, {"averageValue": _milli(r.usage)}
            r = self.calculator.get_resource_replicas(current, target.average_utilization, resource, tolerances,
                                                      pods, metrics, timestamp, self.env.now, container)
        except MetricsError as e:
            raise MetricsError(f"failed to get {resource} {what}: {e}") from e
        return (r.replicas, f"{resource} resource utilization (percentage of request)", r.timestamp,
                {"averageUtilization": r.utilization, "averageValue": _milli(r.raw_utilization)})
