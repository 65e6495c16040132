"""The decision of ``reconcileAutoscaler``, ported from upstream's controller tests
(pkg/controller/podautoscaler/horizontal_test.go; each test names its Go test). The metric
proposals the fake metrics clients lead to are given directly: the replica calculator has its
own tests. Upstream's later ``SucceededRescale`` (AbleToScale) is the controller's."""

from __future__ import annotations

import pytest

from kbook.api.autoscaling import (
    HorizontalPodAutoscaler,
    HorizontalPodAutoscalerBehavior,
    HorizontalPodAutoscalerSpec,
    HPAScalingPolicy,
    HPAScalingRules,
)
from kbook.autoscaling.behavior import Recommendation, ScaleEvent
from kbook.autoscaling.horizontal import (
    HPAState,
    MetricFailure,
    MetricProposal,
    compute_replicas_for_metrics,
    reconcile_replicas,
    unable_compute_replica_count_condition,
)

NOW = 10_000.0
CPU = "cpu resource utilization (percentage of request)"


def hpa(min_replicas=2, max_replicas=6, behavior=None) -> HorizontalPodAutoscaler:
    return HorizontalPodAutoscaler(spec=HorizontalPodAutoscalerSpec(
        min_replicas=min_replicas, max_replicas=max_replicas, behavior=behavior))


def ok(replicas: int, metric: str = CPU) -> MetricProposal:
    return MetricProposal(replicas, metric, NOW - 30)


def cheddar() -> MetricFailure:
    """The failure of TestScaleUpOneMetricInvalid's metric of type "CheddarCheese"."""
    error = 'unknown metric source type "CheddarCheese"'
    return MetricFailure(error, unable_compute_replica_count_condition("InvalidMetricSourceType", error))


def conditions(decision):
    return [(c.type, c.status, c.reason) for c in decision.conditions]


STATUS_OK = [("ScalingActive", "True", "ValidMetricFound"), ("AbleToScale", "True", "ReadyForNewScale"),
             ("ScalingLimited", "False", "DesiredWithinRange")]


def test_scale_down():
    """TestScaleDown: an empty (not nil) recommendation log does not hold the scale-down."""
    d = reconcile_replicas(hpa(), 5, [ok(3)], HPAState(recommendations=[]), NOW)
    assert (d.desired_replicas, d.rescale, d.rescale_reason) == (3, True, "All metrics below target")
    assert conditions(d) == STATUS_OK
    assert d.conditions[0].message == f"the HPA was able to successfully calculate a replica count from {CPU}"


def test_scale_down_stabilize_initial_size():
    """TestScaleDownStabilizeInitialSize: the first sync seeds the log with the current count."""
    state = HPAState()
    d = reconcile_replicas(hpa(), 5, [ok(3)], state, NOW)
    assert (d.desired_replicas, d.rescale) == (5, False)
    assert conditions(d)[1] == ("AbleToScale", "True", "ScaleDownStabilized")
    assert [(r.recommendation, r.timestamp) for r in state.recommendations] == [(5, NOW), (3, NOW)]


def test_scale_up():
    d = reconcile_replicas(hpa(), 3, [ok(5)], HPAState(recommendations=[]), NOW)
    assert (d.desired_replicas, d.rescale_reason) == (5, f"{CPU} above target")
    assert d.metric == CPU and d.metric_timestamp == NOW - 30


def test_scale_up_one_metric_invalid():
    """TestScaleUpOneMetricInvalid: the valid metrics still scale up; the error is returned."""
    d = reconcile_replicas(hpa(), 3, [ok(4), cheddar()], HPAState(recommendations=[]), NOW)
    assert (d.desired_replicas, d.rescale, d.failed) == (4, True, False)
    assert d.error == ('invalid metrics (1 invalid out of 2), first error is: '
                       'unknown metric source type "CheddarCheese"')


def test_no_scale_down_one_metric_invalid():
    """TestNoScaleDownOneMetricInvalid: with an invalid metric a scale-down is refused."""
    d = reconcile_replicas(hpa(), 5, [ok(3), cheddar()], HPAState(recommendations=[]), NOW)
    assert (d.desired_replicas, d.rescale, d.failed) == (5, False, True)
    assert conditions(d) == [("ScalingActive", "False", "InvalidMetricSourceType")]
    assert d.conditions[0].message == ('the HPA was unable to compute the replica count: '
                                       'unknown metric source type "CheddarCheese"')


def test_scale_up_both_metrics_empty():
    """TestScaleUpBothMetricsEmpty: every metric invalid, no scaling."""
    d = reconcile_replicas(hpa(), 3, [cheddar()], HPAState(recommendations=[]), NOW)
    assert (d.desired_replicas, d.rescale, d.failed) == (3, False, True)
    assert conditions(d) == [("ScalingActive", "False", "InvalidMetricSourceType")]


def test_scale_up_from_zero_one_metric_invalid():
    """TestScaleUpFromZeroOneMetricInvalid: minReplicas 0 keeps scaling on at zero replicas."""
    d = reconcile_replicas(hpa(min_replicas=0), 0, [ok(4), cheddar()], HPAState(recommendations=[]), NOW)
    assert (d.desired_replicas, d.rescale) == (4, True)


def test_zero_replicas_is_scaling_disabled():
    """TestZeroReplicas: a target at 0 with minReplicas > 0 is left alone."""
    d = reconcile_replicas(hpa(min_replicas=3), 0, [ok(4)], HPAState(), NOW)
    assert (d.desired_replicas, d.rescale) == (0, False)
    assert conditions(d) == [("ScalingActive", "False", "ScalingDisabled")]
    assert d.conditions[0].message == "scaling is disabled since the replica count of the target is zero"


@pytest.mark.parametrize("current,want,reason", [
    (1, 2, "Current number of replicas below Spec.MinReplicas"),  # TestScaleUpRCImmediately
    (8, 6, "Current number of replicas above Spec.MaxReplicas"),  # TestScaleDownRCImmediately
])
def test_out_of_range_goes_straight_to_the_bound(current, want, reason):
    d = reconcile_replicas(hpa(), current, [], HPAState(), NOW)
    assert (d.desired_replicas, d.rescale, d.rescale_reason, d.conditions) == (want, True, reason, [])


def test_min_replicas_defaults_to_one():
    d = reconcile_replicas(hpa(min_replicas=None), 0, [], HPAState(), NOW)
    assert conditions(d) == [("ScalingActive", "False", "ScalingDisabled")]


def test_upscale_cap():
    """TestUpscaleCap with production's scaleUpLimitFactor 2: from 3 at most 6 per sync."""
    d = reconcile_replicas(hpa(min_replicas=1, max_replicas=100), 3, [ok(100)], HPAState(recommendations=[]), NOW)
    assert d.desired_replicas == 6
    assert conditions(d)[2] == ("ScalingLimited", "True", "ScaleUpLimit")


def test_upscale_cap_greater_than_max_replicas():
    """TestUpscaleCapGreaterThanMaxReplicas: maxReplicas binds before the scale-up limit."""
    d = reconcile_replicas(hpa(min_replicas=1, max_replicas=5), 3, [ok(100)], HPAState(recommendations=[]), NOW)
    assert d.desired_replicas == 5
    assert conditions(d)[2] == ("ScalingLimited", "True", "TooManyReplicas")


def test_compute_replicas_for_metrics_takes_the_first_then_the_largest():
    """A proposal of 0 is taken first and then replaced by any larger one; ties keep the first name."""
    r = compute_replicas_for_metrics([ok(0, "a"), ok(3, "b"), ok(3, "c"), ok(2, "d")], 5)
    assert (r.replicas, r.metric, r.error) == (3, "b", None)


def test_compute_replicas_for_metrics_with_some_invalid_at_spec_replicas():
    """Invalid metrics block only proposals below the spec replicas."""
    r = compute_replicas_for_metrics([cheddar(), ok(5), cheddar()], 5)
    assert r.replicas == 5
    assert r.error.startswith("invalid metrics (2 invalid out of 3), first error is:")
    assert (r.condition.type, r.condition.status, r.condition.reason) == ("ScalingActive", "True", "ValidMetricFound")


def test_behavior_path_limits_and_remembers_scale_events():
    """TestScaleUpWithScalingRules-like: Pods 2 per 60 s from 3; after the rescale the stored
    event uses the budget of the period until it ages out."""
    up = HPAScalingRules(stabilization_window_seconds=0, select_policy="Max",
                         policies=[HPAScalingPolicy(type="Pods", value=2, period_seconds=60)])
    h = hpa(min_replicas=1, max_replicas=10, behavior=HorizontalPodAutoscalerBehavior(scale_up=up))
    state = HPAState(recommendations=[])
    d = reconcile_replicas(h, 3, [ok(9)], state, NOW)
    assert d.desired_replicas == 5
    assert conditions(d)[2] == ("ScalingLimited", "True", "ScaleUpLimit")
    state.store_scale_event(h, 3, 5, NOW)
    assert [(e.replica_change, e.outdated) for e in state.scale_up_events] == [(2, False)]
    d = reconcile_replicas(h, 5, [ok(9)], state, NOW + 15)
    assert (d.desired_replicas, d.rescale) == (5, False)
    d = reconcile_replicas(h, 5, [ok(9)], state, NOW + 61)
    assert d.desired_replicas == 7


def test_behavior_path_scale_down_waits_for_the_default_window():
    """An explicit behavior without a scale-down window gets the controller's 300 s."""
    h = hpa(min_replicas=1, max_replicas=10, behavior=HorizontalPodAutoscalerBehavior())
    state = HPAState()
    assert reconcile_replicas(h, 6, [ok(2)], state, NOW).desired_replicas == 6
    assert reconcile_replicas(h, 6, [ok(2)], state, NOW + 299).desired_replicas == 6
    assert reconcile_replicas(h, 6, [ok(2)], state, NOW + 301).desired_replicas == 2


def test_legacy_path_stores_no_scale_events():
    h = hpa()
    state = HPAState(recommendations=[Recommendation(4, NOW - 10)], scale_up_events=[ScaleEvent(1, NOW - 5)])
    state.store_scale_event(h, 3, 5, NOW)
    assert [e.replica_change for e in state.scale_up_events] == [1]
