"""Stabilization, scaling policies and the scale-event history, ported from upstream
(pkg/controller/podautoscaler/horizontal_test.go and pkg/apis/autoscaling/v2/defaults_test.go;
each test names its Go test). The public conformance vectors cover the rest of those tables.

Go's clock runs on between building a fixture and the call, so a fixture aged exactly one
window is outside it; ``_at`` places items a millisecond earlier for the same effect."""

from __future__ import annotations

import pytest

from kbook.api.autoscaling import HorizontalPodAutoscalerBehavior, HPAScalingPolicy, HPAScalingRules
from kbook.autoscaling.behavior import (
    BehaviorError,
    NormalizationArg,
    Recommendation,
    ScaleEvent,
    calculate_scale_down_limit_with_behaviors,
    calculate_scale_up_limit,
    calculate_scale_up_limit_with_scaling_rules,
    convert_desired_replicas_with_behavior_rate,
    convert_desired_replicas_with_rules,
    generate_scale_down_rules,
    generate_scale_up_rules,
    get_replicas_change_per_period,
    normalize_desired_replicas,
    normalize_desired_replicas_with_behaviors,
    stabilize_recommendation,
    stabilize_recommendation_with_behaviors,
    store_scale_event,
)

NOW = 10_000.0


def _at(age: float) -> float:
    return NOW - age - 1e-3


def pods(value: int, period: int) -> HPAScalingPolicy:
    return HPAScalingPolicy(type="Pods", value=value, period_seconds=period)


def percent(value: int, period: int) -> HPAScalingPolicy:
    return HPAScalingPolicy(type="Percent", value=value, period_seconds=period)


def rules(policies=None, select=None, window=None) -> HPAScalingRules:
    return HPAScalingRules(stabilization_window_seconds=window, select_policy=select, policies=policies)


# defaults_test.go TestGenerateScaleUpRules: (input rules, expected policies, window, select)
SCALE_UP_DEFAULTS = [
    ("Default values", rules(), [pods(4, 15), percent(100, 15)], 0, "Max"),
    ("All parameters are specified", rules([pods(1, 2), percent(3, 4)], "Max", 25),
     [pods(1, 2), percent(3, 4)], 25, "Max"),
    ("Pod policy is specified", rules([pods(1, 2)], "Min"), [pods(1, 2)], 0, "Min"),
    ("Percent policy is specified", rules([percent(7, 10)]), [percent(7, 10)], 0, "Max"),
    ("Pod policy and stabilization window are specified", rules([pods(4, 2)], None, 25), [pods(4, 2)], 25, "Max"),
    ("Percent policy and stabilization window are specified", rules([percent(7, 60)], None, 25),
     [percent(7, 60)], 25, "Max"),
]

# defaults_test.go TestGenerateScaleDownRules
SCALE_DOWN_DEFAULTS = [
    ("Default values", rules(), [percent(100, 15)], None, "Max"),
    ("All parameters are specified", rules([pods(1, 2), percent(3, 4)], "Max", 25),
     [pods(1, 2), percent(3, 4)], 25, "Max"),
    ("Percent policy is specified", rules([percent(1, 2)], "Min"), [percent(1, 2)], None, "Min"),
    ("Pods policy is specified", rules([pods(3, 4)]), [pods(3, 4)], None, "Max"),
]


@pytest.mark.parametrize("name,given,policies,window,select", SCALE_UP_DEFAULTS, ids=[c[0] for c in SCALE_UP_DEFAULTS])
def test_generate_scale_up_rules(name, given, policies, window, select):
    up = generate_scale_up_rules(given)
    assert (up.policies, up.stabilization_window_seconds, up.select_policy) == (policies, window, select)


@pytest.mark.parametrize("name,given,policies,window,select", SCALE_DOWN_DEFAULTS,
                         ids=[c[0] for c in SCALE_DOWN_DEFAULTS])
def test_generate_scale_down_rules(name, given, policies, window, select):
    down = generate_scale_down_rules(given)
    assert (down.policies, down.stabilization_window_seconds, down.select_policy) == (policies, window, select)


def test_generate_rules_of_nil_are_the_defaults_and_leave_the_input_alone():
    assert generate_scale_up_rules(None) == generate_scale_up_rules(rules())
    given = rules(select="Min")
    generate_scale_down_rules(given)
    assert given.policies is None and given.stabilization_window_seconds is None


def test_stabilize_recommendation_legacy_keeps_the_window_max_and_reuses_the_last_old_slot():
    """TestNormalizeDesiredReplicas "stabilize - old recommendations", with the slots checked."""
    recs = [Recommendation(10, _at(600)), Recommendation(4, _at(60)), Recommendation(5, _at(120)),
            Recommendation(9, _at(540))]
    assert stabilize_recommendation(recs, 3, NOW, 300.0) == 5
    assert [r.recommendation for r in recs] == [10, 4, 5, 3]
    assert recs[3].timestamp == NOW


def test_stabilize_recommendation_legacy_raises_a_scale_up_too():
    """The legacy window is a max in both directions: an older, higher recommendation wins."""
    recs = [Recommendation(8, _at(100))]
    assert stabilize_recommendation(recs, 6, NOW) == 8
    assert stabilize_recommendation(recs, 9, NOW) == 9


def test_stabilize_recommendation_legacy_at_the_cutoff_is_not_old():
    """Go's Before is strict: on a frozen clock an item exactly at the cutoff is not old, so it
    still counts for the max and its slot is not reused."""
    recs = [Recommendation(8, NOW - 300)]
    assert stabilize_recommendation(recs, 3, NOW) == 8
    assert len(recs) == 2


def _arg(current, desired, up_window, down_window, min_replicas=1, max_replicas=1000):
    return NormalizationArg(rules(window=up_window), rules(window=down_window), min_replicas, max_replicas,
                            current, desired)


@pytest.mark.parametrize("recs,current,desired,up,down,want,reason,after", [
    # TestNormalizeDesiredReplicasWithBehavior "scale up stabilization": only the minimum of the window
    ([(4, 60), (5, 120)], 1, 7, 300, 0, 4, "ScaleUpStabilized", [4, 5, 7]),
    # a recommendation below current in the up-window blocks the scale-up altogether
    ([(1, 60)], 3, 7, 300, 0, 3, "ScaleUpStabilized", [1, 7]),
    # scale-down stabilization applies the highest recent recommendation
    ([(4, 120), (5, 60)], 100, 3, 0, 180, 5, "ScaleDownStabilized", [4, 5, 3]),
    # outside both windows nothing holds the proposal back
    ([(10, 600), (9, 540)], 100, 3, 0, 0, 3, "ScaleDownStabilized", [10, 3]),
])
def test_stabilize_recommendation_with_behaviors(recs, current, desired, up, down, want, reason, after):
    store = [Recommendation(r, _at(age)) for r, age in recs]
    got, got_reason, message = stabilize_recommendation_with_behaviors(store, _arg(current, desired, up, down), NOW)
    assert (got, got_reason) == (want, reason)
    assert message.startswith("recent recommendations were")
    assert [r.recommendation for r in store] == after


def test_stabilize_with_behaviors_reuses_only_slots_older_than_both_windows():
    store = [Recommendation(10, _at(200)), Recommendation(9, _at(50))]
    stabilize_recommendation_with_behaviors(store, _arg(5, 7, 100, 300), NOW)
    assert [r.recommendation for r in store] == [10, 9, 7]  # 200 s is inside the 300 s window
    stabilize_recommendation_with_behaviors(store, _arg(5, 6, 100, 150), NOW)
    assert [r.recommendation for r in store] == [6, 9, 7]


def test_stabilize_with_behaviors_needs_defaulted_windows():
    with pytest.raises(BehaviorError, match="scaleDown.stabilizationWindowSeconds"):
        stabilize_recommendation_with_behaviors([], _arg(1, 2, 0, None), NOW)


# TestConvertDesiredReplicasWithRules plus TestUpscaleCap/TestUpscaleCapGreaterThanMaxReplicas,
# with production's scaleUpLimitFactor 2 (current, desired, min, max, want, reason)
@pytest.mark.parametrize("current,desired,lo,hi,want,reason", [
    (5, 7, 3, 8, 7, "DesiredWithinRange"),
    (1, 0, 0, 10, 0, "DesiredWithinRange"),
    (3, 1000, 1, 2000, 6, "ScaleUpLimit"),
    (1, 1000, 1, 2000, 4, "ScaleUpLimit"),  # scaleUpLimitMinimum
    (3, 1000, 1, 5, 5, "TooManyReplicas"),
    (5, 1, 3, 8, 3, "TooFewReplicas"),
    (3, 6, 1, 6, 6, "DesiredWithinRange"),
])
def test_convert_desired_replicas_with_rules(current, desired, lo, hi, want, reason):
    assert convert_desired_replicas_with_rules(current, desired, lo, hi)[:2] == (want, reason)


def test_convert_desired_replicas_with_rules_under_the_go_tests_factor():
    """horizontal_test.go's init() sets scaleUpLimitFactor = 8: TestUpscaleCap expects 24 from 3."""
    assert convert_desired_replicas_with_rules(3, 1000, 1, 2000, 8.0) == (
        24, "ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate")
    assert calculate_scale_up_limit(0) == 4


def test_get_replicas_change_per_period_is_strictly_after_the_cutoff():
    events = [ScaleEvent(1, NOW - 60), ScaleEvent(2, NOW - 59.999), ScaleEvent(4, NOW - 61)]
    assert get_replicas_change_per_period(60, events, NOW) == 2


@pytest.mark.parametrize("select,up_limit,down_limit", [
    # TestCalculateScaleUpLimitWithScalingRules / ...DownLimitWithBehaviors, all three selectors:
    # current 5 (up: 1), Pods 2 and Percent 50 per 60 s
    ("Min", 2, 3),
    ("Max", 3, 2),
    ("Disabled", 1, 5),
])
def test_policy_selection(select, up_limit, down_limit):
    r = rules([pods(2, 60), percent(50, 60)], select, 300)
    assert calculate_scale_up_limit_with_scaling_rules(1, [], [], r, NOW) == up_limit
    assert calculate_scale_down_limit_with_behaviors(5, [], [], r, NOW) == down_limit


def test_percent_rounding_up_and_truncating_down():
    """Scale-up rounds a percentage up (so 1 % still adds a pod), scale-down truncates toward
    zero and may go negative."""
    assert calculate_scale_up_limit_with_scaling_rules(3, [], [], rules([percent(1, 60)], "Max"), NOW) == 4
    assert calculate_scale_down_limit_with_behaviors(7, [], [], rules([percent(50, 60)], "Max"), NOW) == 3
    events = [ScaleEvent(30, _at(10))]
    assert calculate_scale_down_limit_with_behaviors(10, [], events, rules([percent(1000, 120)], "Max"), NOW) == -360


def test_period_start_counts_both_directions():
    """TestScalingWithRules "scaleDown with percent policy and previous scale up and down events":
    (10 - 2 + 4) * 50 % = 6."""
    up_events, down_events = [ScaleEvent(2, _at(60))], [ScaleEvent(4, _at(60))]
    arg = NormalizationArg(generate_scale_up_rules(None), rules([percent(50, 180)], "Max", 0), 1, 1000, 10, 1)
    assert convert_desired_replicas_with_behavior_rate(arg, up_events, down_events, NOW) == (
        6, "ScaleDownLimit", "the desired replica count is decreasing faster than the maximum scale rate")


def test_scale_up_limit_never_below_current():
    """Events that already used the period's budget hold the count, they never shrink it."""
    arg = NormalizationArg(rules([pods(2, 60)], "Max", 0), generate_scale_down_rules(None), 1, 1000, 10, 20)
    events = [ScaleEvent(5, _at(10))]
    assert convert_desired_replicas_with_behavior_rate(arg, events, [], NOW)[:2] == (10, "ScaleUpLimit")


def test_store_scale_event_reuses_the_last_outdated_slot():
    behavior = HorizontalPodAutoscalerBehavior(scale_up=rules([pods(4, 30), percent(100, 60)], "Max", 0))
    up = [ScaleEvent(1, _at(100)), ScaleEvent(2, _at(90)), ScaleEvent(3, _at(10))]
    store_scale_event(behavior, up, [], 5, 8, NOW)
    assert [(e.replica_change, e.outdated) for e in up] == [(1, True), (3, False), (3, False)]
    assert up[1].timestamp == NOW
    store_scale_event(behavior, up, [], 8, 9, NOW)
    assert [(e.replica_change, e.outdated) for e in up] == [(1, False), (3, False), (3, False)]


def test_store_scale_event_of_a_scale_down_and_without_behavior():
    down: list[ScaleEvent] = []
    store_scale_event(HorizontalPodAutoscalerBehavior(scale_up=None, scale_down=rules([pods(1, 15)], "Max")),
                      [], down, 10, 7, NOW)
    assert [(e.replica_change, e.outdated) for e in down] == [(3, False)]
    store_scale_event(None, [], down, 10, 7, NOW)
    assert len(down) == 1
    with pytest.raises(BehaviorError, match="behavior.scaleUp"):
        store_scale_event(HorizontalPodAutoscalerBehavior(), [], [], 1, 2, NOW)


def _conditions(conds):
    return [(c.type, c.status, c.reason) for c in conds]


def test_normalize_desired_replicas_conditions():
    """normalizeDesiredReplicas: ScaleDownStabilized when the window held the count, ScalingLimited
    True when a bound applied."""
    desired, conds = normalize_desired_replicas([Recommendation(5, _at(60))], 5, 3, 2, 6, NOW)
    assert desired == 5
    assert _conditions(conds) == [("AbleToScale", "True", "ScaleDownStabilized"),
                                  ("ScalingLimited", "False", "DesiredWithinRange")]
    desired, conds = normalize_desired_replicas([], 3, 20, 1, 10, NOW)
    assert desired == 6
    assert _conditions(conds) == [("AbleToScale", "True", "ReadyForNewScale"),
                                  ("ScalingLimited", "True", "ScaleUpLimit")]


def test_normalize_with_behaviors_fills_the_scale_down_window_from_the_flag():
    """maybeInitScaleDownStabilizationWindow: a behavior without a scale-down window uses the
    controller's --horizontal-pod-autoscaler-downscale-stabilization."""
    behavior = HorizontalPodAutoscalerBehavior(scale_up=rules(), scale_down=rules())
    recs = [Recommendation(8, _at(200))]
    desired, conds = normalize_desired_replicas_with_behaviors(recs, [], [], behavior, 8, 2, 1, 10, NOW)
    assert desired == 8
    assert _conditions(conds)[0] == ("AbleToScale", "True", "ScaleDownStabilized")
    recs = [Recommendation(8, _at(200))]
    desired, _ = normalize_desired_replicas_with_behaviors(recs, [], [], behavior, 8, 2, 1, 10, NOW,
                                                           downscale_stabilization_window=120.0)
    assert desired == 2


def test_default_behavior_and_legacy_scale_up_limits_differ():
    """hpa.md §8: from 1 replica the default behavior allows 5 (1 + 4), the legacy path 4; from 3,
    7 versus 6."""
    behavior = HorizontalPodAutoscalerBehavior(scale_up=None, scale_down=None)
    for current, with_behavior, legacy in ((1, 5, 4), (3, 7, 6), (10, 20, 20)):
        got, conds = normalize_desired_replicas_with_behaviors([], [], [], behavior, current, 100, 1, 100, NOW)
        assert (got, _conditions(conds)[1]) == (with_behavior, ("ScalingLimited", "True", "ScaleUpLimit"))
        assert normalize_desired_replicas([], current, 100, 1, 100, NOW)[0] == legacy
