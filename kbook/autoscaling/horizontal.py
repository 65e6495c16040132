"""The decision part of the HPA controller's ``reconcileAutoscaler`` on plain inputs.

``pkg/controller/podautoscaler/horizontal.go``: the controller (in
``kbook.controlplane.controllers``) reads the target's scale, asks the replica calculator
for one proposal per metric and passes them here with the HPA and its :class:`HPAState`
(the controller's ``recommendations``, ``scaleUpEvents`` and ``scaleDownEvents`` for this
HPA). :func:`reconcile_replicas` applies the min/max rules, ``computeReplicasForMetrics``
(the largest valid proposal) and the legacy or behavior normalization of
:mod:`kbook.autoscaling.behavior`, and returns a :class:`Decision`: the desired count,
whether to rescale, the reason for the event, the conditions to set and the error upstream
would return. After a successful rescale the controller calls
:meth:`HPAState.store_scale_event`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kbook.api.autoscaling import HorizontalPodAutoscaler, HorizontalPodAutoscalerCondition
from kbook.autoscaling.behavior import (
    DEFAULT_DOWNSCALE_STABILIZATION_WINDOW,
    Recommendation,
    ScaleEvent,
    normalize_desired_replicas,
    normalize_desired_replicas_with_behaviors,
    store_scale_event,
)

__all__ = [
    "SCALING_ACTIVE",
    "HPAState",
    "MetricProposal",
    "MetricFailure",
    "MetricsResult",
    "Decision",
    "unable_compute_replica_count_condition",
    "compute_replicas_for_metrics",
    "reconcile_replicas",
]

SCALING_ACTIVE = "ScalingActive"


@dataclass
class HPAState:
    """What the controller remembers about one HPA between syncs (keyed by namespace/name
    upstream): the unstabilized recommendations and the scale events per direction."""

    recommendations: list[Recommendation] | None = None  # None is Go's nil: not seeded yet
    scale_up_events: list[ScaleEvent] = field(default_factory=list)
    scale_down_events: list[ScaleEvent] = field(default_factory=list)

    def record_initial_recommendation(self, current_replicas: int, now: float) -> list[Recommendation]:
        """``recordInitialRecommendation``: the first sync (``recommendations`` still None)
        seeds the log with the current count; returns the log."""
        if self.recommendations is None:
            self.recommendations = [Recommendation(current_replicas, now)]
        return self.recommendations

    def store_scale_event(self, hpa: HorizontalPodAutoscaler, prev_replicas: int, new_replicas: int,
                          now: float) -> None:
        """``storeScaleEvent`` after a successful rescale (nothing for an HPA without behavior)."""
        store_scale_event(hpa.spec.behavior, self.scale_up_events, self.scale_down_events,
                          prev_replicas, new_replicas, now)


@dataclass(frozen=True)
class MetricProposal:
    """A metric the calculator could evaluate: ``computeReplicasForMetric``'s proposal."""

    replicas: int
    metric: str
    timestamp: float


@dataclass(frozen=True)
class MetricFailure:
    """A metric that failed: the error ``computeReplicasForMetric`` returned (e.g. ``failed to
    get cpu resource metric value: ...``) and the condition it set, usually from
    :func:`unable_compute_replica_count_condition`."""

    error: str
    condition: HorizontalPodAutoscalerCondition


@dataclass(frozen=True)
class MetricsResult:
    """``computeReplicasForMetrics``' results: ``replicas`` is -1 when no scaling may happen;
    ``error`` may be set with a usable count (some metrics failed, the rest scale up)."""

    replicas: int
    metric: str
    timestamp: float | None
    error: str | None
    condition: HorizontalPodAutoscalerCondition


@dataclass
class Decision:
    """One sync's outcome: ``desired_replicas`` (equal to current when not rescaling), the
    ``rescale_reason`` of the ``SuccessfulRescale`` event, the conditions in the order
    upstream sets them, and ``error`` as ``reconcileAutoscaler`` would return it (with
    ``failed`` when it returned before rescaling)."""

    desired_replicas: int
    rescale: bool
    rescale_reason: str = ""
    conditions: list[HorizontalPodAutoscalerCondition] = field(default_factory=list)
    metric: str = ""
    metric_timestamp: float | None = None
    error: str | None = None
    failed: bool = False


def unable_compute_replica_count_condition(reason: str, error: str) -> HorizontalPodAutoscalerCondition:
    """``getUnableComputeReplicaCountCondition``: ``ScalingActive`` False with ``reason``
    (``FailedGetResourceMetric``, ``FailedGetPodsMetric``, ...)."""
    return HorizontalPodAutoscalerCondition(
        type=SCALING_ACTIVE, status="False", reason=reason,
        message=f"the HPA was unable to compute the replica count: {error}")


def compute_replicas_for_metrics(
    results: list[MetricProposal | MetricFailure], spec_replicas: int
) -> MetricsResult:
    """``computeReplicasForMetrics``: the first valid proposal, then any larger one. If every
    metric failed, or some failed and the valid ones would scale below ``spec_replicas``,
    the result is -1 with the first failure's condition; otherwise ``ValidMetricFound``
    (and the failures' error, if any, still returned)."""
    replicas, metric, timestamp = 0, "", None
    failures = [r for r in results if isinstance(r, MetricFailure)]
    for r in results:
        if isinstance(r, MetricProposal) and (replicas == 0 or r.replicas > replicas):
            replicas, metric, timestamp = r.replicas, r.metric, r.timestamp
    error = None
    if failures:
        error = (f"invalid metrics ({len(failures)} invalid out of {len(results)}), "
                 f"first error is: {failures[0].error}")
    if len(failures) >= len(results) or (failures and replicas < spec_replicas):
        # computeReplicasForMetrics sets the zero condition for an HPA without metrics.
        condition = failures[0].condition if failures else HorizontalPodAutoscalerCondition()
        return MetricsResult(-1, "", None, error, condition)
    condition = HorizontalPodAutoscalerCondition(
        type=SCALING_ACTIVE, status="True", reason="ValidMetricFound",
        message=f"the HPA was able to successfully calculate a replica count from {metric}")
    return MetricsResult(replicas, metric, timestamp, error, condition)


def reconcile_replicas(
    hpa: HorizontalPodAutoscaler,
    current_replicas: int,
    results: list[MetricProposal | MetricFailure],
    state: HPAState,
    now: float,
    downscale_stabilization_window: float = DEFAULT_DOWNSCALE_STABILIZATION_WINDOW,
) -> Decision:
    """The decision of ``reconcileAutoscaler`` for ``current_replicas = scale.Spec.Replicas``:
    a target at zero with ``minReplicas`` not zero is ``ScalingDisabled``; a count above
    ``maxReplicas`` or below ``minReplicas`` goes straight to that bound; otherwise the
    largest metric proposal is normalized by the legacy path (no ``behavior``) or the
    behavior path. ``state`` is updated (initial and new recommendations); ``results`` is
    only read in the last case, so the controller may pass the proposals it computed."""
    recommendations = state.record_initial_recommendation(current_replicas, now)
    spec = hpa.spec
    min_replicas = spec.min_replicas if spec.min_replicas is not None else 1
    if current_replicas == 0 and min_replicas != 0:
        disabled = HorizontalPodAutoscalerCondition(
            type=SCALING_ACTIVE, status="False", reason="ScalingDisabled",
            message="scaling is disabled since the replica count of the target is zero")
        return Decision(0, False, conditions=[disabled])
    if current_replicas > spec.max_replicas:
        return Decision(spec.max_replicas, True, "Current number of replicas above Spec.MaxReplicas")
    if current_replicas < min_replicas:
        return Decision(min_replicas, True, "Current number of replicas below Spec.MinReplicas")

    computed = compute_replicas_for_metrics(results, current_replicas)
    if computed.replicas == -1 and computed.error is not None:
        return Decision(current_replicas, False, conditions=[computed.condition], error=computed.error, failed=True)
    desired, rescale_metric = 0, ""  # without metrics (never after defaulting) -1 falls through as 0
    if computed.replicas > desired:
        desired, rescale_metric = computed.replicas, computed.metric
    reason = ""
    if desired > current_replicas:
        reason = f"{rescale_metric} above target"
    if desired < current_replicas:
        reason = "All metrics below target"
    if spec.behavior is None:
        desired, conditions = normalize_desired_replicas(
            recommendations, current_replicas, desired, min_replicas, spec.max_replicas, now,
            downscale_stabilization_window)
    else:
        desired, conditions = normalize_desired_replicas_with_behaviors(
            recommendations, state.scale_up_events, state.scale_down_events, spec.behavior,
            current_replicas, desired, min_replicas, spec.max_replicas, now, downscale_stabilization_window)
    rescale = desired != current_replicas
    return Decision(desired if rescale else current_replicas, rescale, reason, [computed.condition, *conditions],
                    computed.metric, computed.timestamp, computed.error)
