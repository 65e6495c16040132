"""Stabilization and scaling policies: what the HPA controller does with a metric proposal.

A port of the normalization half of ``pkg/controller/podautoscaler/horizontal.go``: the
legacy path of an HPA without ``behavior`` (``stabilizeRecommendation`` over the
``--horizontal-pod-autoscaler-downscale-stabilization`` window, then
``convertDesiredReplicasWithRules`` with ``scaleUpLimitFactor`` 2 and
``scaleUpLimitMinimum`` 4) and the behavior path (``stabilizeRecommendationWithBehaviors``,
then ``convertDesiredReplicasWithBehaviorRate`` over the history of scale events that
``storeScaleEvent`` keeps). The default rules are ``GenerateHPAScaleUpRules`` and
``GenerateHPAScaleDownRules`` of ``pkg/apis/autoscaling/v2/defaults.go``.

Time is simulated: ``now`` and every timestamp are float seconds. Go compares timestamps
with ``After``/``Before``, both strict; each function keeps upstream's branches, so an item
exactly at a cutoff is treated as Go treats it on a frozen clock. The recommendation and event lists are the
controller's per-HPA state (:class:`kbook.autoscaling.horizontal.HPAState`) and are
updated in place, as upstream updates its maps.

The conformance checkers of the behavior kinds (``kbook.conformance.hpa``) call these functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from kbook.api.autoscaling import HorizontalPodAutoscalerBehavior, HorizontalPodAutoscalerCondition, HPAScalingRules
from kbook.api.defaults import _copy_rules, _scale_down_rules, _scale_up_rules
from kbook.errors import KbookError

__all__ = [
    "SCALE_UP_LIMIT_FACTOR",
    "SCALE_UP_LIMIT_MINIMUM",
    "DEFAULT_DOWNSCALE_STABILIZATION_WINDOW",
    "ABLE_TO_SCALE",
    "SCALING_LIMITED",
    "BehaviorError",
    "Recommendation",
    "ScaleEvent",
    "NormalizationArg",
    "generate_scale_up_rules",
    "generate_scale_down_rules",
    "stabilize_recommendation",
    "stabilize_recommendation_with_behaviors",
    "convert_desired_replicas_with_rules",
    "calculate_scale_up_limit",
    "convert_desired_replicas_with_behavior_rate",
    "calculate_scale_up_limit_with_scaling_rules",
    "calculate_scale_down_limit_with_behaviors",
    "get_replicas_change_per_period",
    "get_longest_policy_period",
    "mark_scale_events_outdated",
    "store_scale_event",
    "normalize_desired_replicas",
    "normalize_desired_replicas_with_behaviors",
]

SCALE_UP_LIMIT_FACTOR = 2.0  # scaleUpLimitFactor
SCALE_UP_LIMIT_MINIMUM = 4.0  # scaleUpLimitMinimum
DEFAULT_DOWNSCALE_STABILIZATION_WINDOW = 300.0  # --horizontal-pod-autoscaler-downscale-stabilization (5m)

_MAX_INT32 = 2**31 - 1
_MIN_INT32 = -(2**31)

# Condition types (autoscalingv2.HorizontalPodAutoscalerConditionType).
ABLE_TO_SCALE = "AbleToScale"
SCALING_LIMITED = "ScalingLimited"

# Messages, word for word.
_MSG_READY = "recommended size matches current size"
_MSG_UP_STABILIZED = "recent recommendations were lower than current one, applying the lowest recent recommendation"
_MSG_DOWN_STABILIZED = "recent recommendations were higher than current one, applying the highest recent recommendation"
_MSG_UP_LIMIT = "the desired replica count is increasing faster than the maximum scale rate"
_MSG_DOWN_LIMIT = "the desired replica count is decreasing faster than the maximum scale rate"
_MSG_TOO_MANY = "the desired replica count is more than the maximum replica count"
_MSG_TOO_FEW = "the desired replica count is less than the minimum replica count"
_MSG_WITHIN = "the desired count is within the acceptable range"


class BehaviorError(KbookError, ValueError):
    """Scaling rules the controller cannot use: a field that defaulting fills is missing."""


@dataclass
class Recommendation:
    """``timestampedRecommendation``: an unstabilized replica count and when it was made."""

    recommendation: int
    timestamp: float


@dataclass
class ScaleEvent:
    """``timestampedScaleEvent``: the absolute change of one rescale; ``outdated`` slots are reused."""

    replica_change: int
    timestamp: float
    outdated: bool = False


@dataclass
class NormalizationArg:
    """``NormalizationArg``: the inputs of the behavior path (rules after defaulting)."""

    scale_up_behavior: HPAScalingRules
    scale_down_behavior: HPAScalingRules
    min_replicas: int
    max_replicas: int
    current_replicas: int
    desired_replicas: int


def _int32(value: int) -> int:
    """Go's int32 arithmetic wraps around."""
    return (value - _MIN_INT32) % 2**32 + _MIN_INT32


def generate_scale_up_rules(rules: HPAScalingRules | None) -> HPAScalingRules:
    """``GenerateHPAScaleUpRules``: the set fields of ``rules`` over the defaults (0 s window,
    ``Max`` of 4 pods and 100 % per 15 s). A new object (sharing the policies, as Go shares
    the pointers); ``rules`` is not modified."""
    return _copy_rules(rules, _scale_up_rules())


def generate_scale_down_rules(rules: HPAScalingRules | None) -> HPAScalingRules:
    """``GenerateHPAScaleDownRules``: the set fields of ``rules`` over the defaults (window
    unset, which the controller fills from its flag; ``Max`` of 100 % per 15 s)."""
    return _copy_rules(rules, _scale_down_rules())


def stabilize_recommendation(
    recommendations: list[Recommendation],
    prenormalized_desired_replicas: int,
    now: float,
    downscale_stabilization_window: float = DEFAULT_DOWNSCALE_STABILIZATION_WINDOW,
) -> int:
    """``stabilizeRecommendation`` (legacy path): the largest of the proposal and every
    recommendation not before ``now - window``. The proposal is recorded over the last
    recommendation older than the window, else appended."""
    max_recommendation = prenormalized_desired_replicas
    old_index = -1
    cutoff = now - downscale_stabilization_window
    for i, rec in enumerate(recommendations):
        if rec.timestamp < cutoff:
            old_index = i
        elif rec.recommendation > max_recommendation:
            max_recommendation = rec.recommendation
    new = Recommendation(prenormalized_desired_replicas, now)
    if old_index >= 0:
        recommendations[old_index] = new
    else:
        recommendations.append(new)
    return max_recommendation


def _window(rules: HPAScalingRules, direction: str) -> int:
    if rules.stabilization_window_seconds is None:
        raise BehaviorError(f"behavior.{direction}.stabilizationWindowSeconds: Required value: not defaulted")
    return rules.stabilization_window_seconds


def stabilize_recommendation_with_behaviors(
    recommendations: list[Recommendation], arg: NormalizationArg, now: float
) -> tuple[int, str, str]:
    """``stabilizeRecommendationWithBehaviors``: the current count raised to the lowest
    recommendation after ``now - scaleUp window`` and capped at the highest after
    ``now - scaleDown window`` (both including the proposal). The proposal is recorded
    over the last recommendation before both cutoffs, else appended. Returns
    ``(replicas, reason, message)``; the reason is ``ScaleUpStabilized`` when the proposal
    is not below current, else ``ScaleDownStabilized``."""
    up_recommendation = arg.desired_replicas
    down_recommendation = arg.desired_replicas
    up_cutoff = now - _window(arg.scale_up_behavior, "scaleUp")
    down_cutoff = now - _window(arg.scale_down_behavior, "scaleDown")
    old_index = -1
    for i, rec in enumerate(recommendations):
        if rec.timestamp > up_cutoff:
            up_recommendation = min(rec.recommendation, up_recommendation)
        if rec.timestamp > down_cutoff:
            down_recommendation = max(rec.recommendation, down_recommendation)
        if rec.timestamp < up_cutoff and rec.timestamp < down_cutoff:
            old_index = i
    recommendation = arg.current_replicas
    if recommendation < up_recommendation:
        recommendation = up_recommendation
    if recommendation > down_recommendation:
        recommendation = down_recommendation
    new = Recommendation(arg.desired_replicas, now)
    if old_index >= 0:
        recommendations[old_index] = new
    else:
        recommendations.append(new)
    if arg.desired_replicas >= arg.current_replicas:
        return recommendation, "ScaleUpStabilized", _MSG_UP_STABILIZED
    return recommendation, "ScaleDownStabilized", _MSG_DOWN_STABILIZED


def calculate_scale_up_limit(
    current_replicas: int,
    scale_up_limit_factor: float = SCALE_UP_LIMIT_FACTOR,
    scale_up_limit_minimum: float = SCALE_UP_LIMIT_MINIMUM,
) -> int:
    """``calculateScaleUpLimit``: ``int32(max(scaleUpLimitFactor * current, scaleUpLimitMinimum))``."""
    return int(max(scale_up_limit_factor * float(current_replicas), scale_up_limit_minimum))


def convert_desired_replicas_with_rules(
    current_replicas: int,
    desired_replicas: int,
    hpa_min_replicas: int,
    hpa_max_replicas: int,
    scale_up_limit_factor: float = SCALE_UP_LIMIT_FACTOR,
    scale_up_limit_minimum: float = SCALE_UP_LIMIT_MINIMUM,
) -> tuple[int, str, str]:
    """``convertDesiredReplicasWithRules`` (legacy path): ``desired`` clamped to
    ``[min, min(max, calculateScaleUpLimit(current))]``, with the reason and message of the
    bound that applied. The package variables are parameters: ``horizontal_test.go`` sets
    ``scaleUpLimitFactor`` to 8."""
    scale_up_limit = calculate_scale_up_limit(current_replicas, scale_up_limit_factor, scale_up_limit_minimum)
    if hpa_max_replicas > scale_up_limit:
        maximum, reason, message = scale_up_limit, "ScaleUpLimit", _MSG_UP_LIMIT
    else:
        maximum, reason, message = hpa_max_replicas, "TooManyReplicas", _MSG_TOO_MANY
    if desired_replicas < hpa_min_replicas:
        return hpa_min_replicas, "TooFewReplicas", _MSG_TOO_FEW
    if desired_replicas > maximum:
        return maximum, reason, message
    return desired_replicas, "DesiredWithinRange", _MSG_WITHIN


def get_replicas_change_per_period(period_seconds: int, scale_events: list[ScaleEvent], now: float) -> int:
    """``getReplicasChangePerPeriod``: the sum of the changes strictly after ``now - period``."""
    cutoff = now - period_seconds
    replicas = 0
    for event in scale_events:
        if event.timestamp > cutoff:
            replicas = _int32(replicas + event.replica_change)
    return replicas


def _select_policy(rules: HPAScalingRules, direction: str) -> str:
    if rules.select_policy is None:
        raise BehaviorError(f"behavior.{direction}.selectPolicy: Required value: not defaulted")
    return rules.select_policy


def _period_start_replicas(
    current_replicas: int, period_seconds: int, scale_up_events: list[ScaleEvent],
    scale_down_events: list[ScaleEvent], now: float,
) -> int:
    """The replica count at the start of the period: current minus what was added in it plus
    what was removed."""
    added = get_replicas_change_per_period(period_seconds, scale_up_events, now)
    deleted = get_replicas_change_per_period(period_seconds, scale_down_events, now)
    return _int32(current_replicas - added + deleted)


def calculate_scale_up_limit_with_scaling_rules(
    current_replicas: int,
    scale_up_events: list[ScaleEvent],
    scale_down_events: list[ScaleEvent],
    scaling_rules: HPAScalingRules,
    now: float,
) -> int:
    """``calculateScaleUpLimitWithScalingRules``: per policy, the period's start count plus
    ``value`` pods (``Pods``) or ``ceil(start * (1 + value/100))`` (``Percent``); ``Max``
    takes the largest proposal, ``Min`` the smallest, ``Disabled`` keeps ``current``."""
    select = _select_policy(scaling_rules, "scaleUp")
    if select == "Disabled":
        return current_replicas
    result, choose = (_MAX_INT32, min) if select == "Min" else (_MIN_INT32, max)
    proposed = 0
    for policy in scaling_rules.policies or []:
        start = _period_start_replicas(current_replicas, policy.period_seconds, scale_up_events, scale_down_events, now)
        if policy.type == "Pods":
            proposed = _int32(start + policy.value)
        elif policy.type == "Percent":
            # Rounded up, or a small percentage could never add a pod.
            proposed = int(math.ceil(float(start) * (1 + float(policy.value) / 100)))
        result = choose(result, proposed)
    return result


def calculate_scale_down_limit_with_behaviors(
    current_replicas: int,
    scale_up_events: list[ScaleEvent],
    scale_down_events: list[ScaleEvent],
    scaling_rules: HPAScalingRules,
    now: float,
) -> int:
    """``calculateScaleDownLimitWithBehaviors``: per policy, the period's start count minus
    ``value`` pods (``Pods``) or ``int32(start * (1 - value/100))``, truncated (``Percent``);
    ``Max`` (the largest change) takes the smallest proposal, ``Min`` the largest,
    ``Disabled`` keeps ``current``."""
    select = _select_policy(scaling_rules, "scaleDown")
    if select == "Disabled":
        return current_replicas
    result, choose = (_MIN_INT32, max) if select == "Min" else (_MAX_INT32, min)
    proposed = 0
    for policy in scaling_rules.policies or []:
        start = _period_start_replicas(current_replicas, policy.period_seconds, scale_up_events, scale_down_events, now)
        if policy.type == "Pods":
            proposed = _int32(start - policy.value)
        elif policy.type == "Percent":
            proposed = int(float(start) * (1 - float(policy.value) / 100))
        result = choose(result, proposed)
    return result


def convert_desired_replicas_with_behavior_rate(
    arg: NormalizationArg,
    scale_up_events: list[ScaleEvent],
    scale_down_events: list[ScaleEvent],
    now: float,
) -> tuple[int, str, str]:
    """``convertDesiredReplicasWithBehaviorRate``: a scale-up is capped at
    ``min(max, scale-up limit)`` (the limit never below current), a scale-down at
    ``max(min, scale-down limit)`` (the limit never above current). Returns
    ``(replicas, reason, message)``."""
    if arg.desired_replicas > arg.current_replicas:
        limit = calculate_scale_up_limit_with_scaling_rules(
            arg.current_replicas, scale_up_events, scale_down_events, arg.scale_up_behavior, now)
        limit = max(limit, arg.current_replicas)  # no scale-up until the events age out
        if arg.max_replicas > limit:
            maximum, reason, message = limit, "ScaleUpLimit", _MSG_UP_LIMIT
        else:
            maximum, reason, message = arg.max_replicas, "TooManyReplicas", _MSG_TOO_MANY
        if arg.desired_replicas > maximum:
            return maximum, reason, message
    elif arg.desired_replicas < arg.current_replicas:
        limit = calculate_scale_down_limit_with_behaviors(
            arg.current_replicas, scale_up_events, scale_down_events, arg.scale_down_behavior, now)
        limit = min(limit, arg.current_replicas)
        if arg.min_replicas < limit:
            minimum, reason, message = limit, "ScaleDownLimit", _MSG_DOWN_LIMIT
        else:
            minimum, reason, message = arg.min_replicas, "TooFewReplicas", _MSG_TOO_FEW
        if arg.desired_replicas < minimum:
            return minimum, reason, message
    return arg.desired_replicas, "DesiredWithinRange", _MSG_WITHIN


def get_longest_policy_period(scaling_rules: HPAScalingRules) -> int:
    """``getLongestPolicyPeriod``: the largest ``periodSeconds`` (0 without policies)."""
    return max((p.period_seconds for p in scaling_rules.policies or []), default=0)


def mark_scale_events_outdated(scale_events: list[ScaleEvent], longest_policy_period: int, now: float) -> None:
    """``markScaleEventsOutdated``: events before ``now - longest period`` become reusable."""
    cutoff = now - longest_policy_period
    for event in scale_events:
        if event.timestamp < cutoff:
            event.outdated = True


def _store(events: list[ScaleEvent], rules: HPAScalingRules | None, change: int, now: float, direction: str) -> None:
    if rules is None:
        raise BehaviorError(f"behavior.{direction}: Required value: not defaulted")
    mark_scale_events_outdated(events, get_longest_policy_period(rules), now)
    new = ScaleEvent(change, now, False)
    old_index = max((i for i, e in enumerate(events) if e.outdated), default=-1)
    if old_index >= 0:
        events[old_index] = new
    else:
        events.append(new)


def store_scale_event(
    behavior: HorizontalPodAutoscalerBehavior | None,
    scale_up_events: list[ScaleEvent],
    scale_down_events: list[ScaleEvent],
    prev_replicas: int,
    new_replicas: int,
    now: float,
) -> None:
    """``storeScaleEvent``: after a rescale of an HPA with behavior, record the absolute
    change in its direction's history, over the last event older than that direction's
    longest policy period if there is one. Nothing is stored without behavior."""
    if behavior is None:
        return
    if new_replicas > prev_replicas:
        _store(scale_up_events, behavior.scale_up, _int32(new_replicas - prev_replicas), now, "scaleUp")
    else:
        _store(scale_down_events, behavior.scale_down, _int32(prev_replicas - new_replicas), now, "scaleDown")


def _conditions(
    stabilized: int, prenormalized: int, stabilize_reason: str, stabilize_message: str,
    desired: int, limit_reason: str, limit_message: str,
) -> list[HorizontalPodAutoscalerCondition]:
    """The ``AbleToScale`` and ``ScalingLimited`` conditions both normalizations set."""
    if stabilized != prenormalized:
        able = HorizontalPodAutoscalerCondition(type=ABLE_TO_SCALE, status="True", reason=stabilize_reason,
                                                message=stabilize_message)
    else:
        able = HorizontalPodAutoscalerCondition(type=ABLE_TO_SCALE, status="True", reason="ReadyForNewScale",
                                                message=_MSG_READY)
    limited_status = "False" if desired == stabilized else "True"
    limited = HorizontalPodAutoscalerCondition(type=SCALING_LIMITED, status=limited_status, reason=limit_reason,
                                               message=limit_message)
    return [able, limited]


def normalize_desired_replicas(
    recommendations: list[Recommendation],
    current_replicas: int,
    prenormalized_desired_replicas: int,
    min_replicas: int,
    max_replicas: int,
    now: float,
    downscale_stabilization_window: float = DEFAULT_DOWNSCALE_STABILIZATION_WINDOW,
) -> tuple[int, list[HorizontalPodAutoscalerCondition]]:
    """``normalizeDesiredReplicas`` (HPA without behavior): legacy stabilization, then
    ``convertDesiredReplicasWithRules``. Returns the replicas and the ``AbleToScale`` and
    ``ScalingLimited`` conditions upstream sets (without transition times)."""
    stabilized = stabilize_recommendation(
        recommendations, prenormalized_desired_replicas, now, downscale_stabilization_window)
    desired, reason, message = convert_desired_replicas_with_rules(
        current_replicas, stabilized, min_replicas, max_replicas)
    conditions = _conditions(stabilized, prenormalized_desired_replicas, "ScaleDownStabilized",
                             _MSG_DOWN_STABILIZED, desired, reason, message)
    return desired, conditions


def normalize_desired_replicas_with_behaviors(
    recommendations: list[Recommendation],
    scale_up_events: list[ScaleEvent],
    scale_down_events: list[ScaleEvent],
    behavior: HorizontalPodAutoscalerBehavior,
    current_replicas: int,
    prenormalized_desired_replicas: int,
    min_replicas: int,
    max_replicas: int,
    now: float,
    downscale_stabilization_window: float = DEFAULT_DOWNSCALE_STABILIZATION_WINDOW,
) -> tuple[int, list[HorizontalPodAutoscalerCondition]]:
    """``normalizeDesiredReplicasWithBehaviors``: the rules are defaulted (idempotent, as the
    API server did), a missing scale-down window is the controller's
    ``downscale_stabilization_window`` (``maybeInitScaleDownStabilizationWindow``, whole
    seconds), then stabilization and the rate limits. Returns the replicas and the
    ``AbleToScale`` and ``ScalingLimited`` conditions."""
    up = generate_scale_up_rules(behavior.scale_up)
    down = generate_scale_down_rules(behavior.scale_down)
    if down.stabilization_window_seconds is None:
        down.stabilization_window_seconds = int(downscale_stabilization_window)
    arg = NormalizationArg(up, down, min_replicas, max_replicas, current_replicas, prenormalized_desired_replicas)
    stabilized, stabilize_reason, stabilize_message = stabilize_recommendation_with_behaviors(
        recommendations, arg, now)
    arg.desired_replicas = stabilized
    desired, reason, message = convert_desired_replicas_with_behavior_rate(
        arg, scale_up_events, scale_down_events, now)
    conditions = _conditions(stabilized, prenormalized_desired_replicas, stabilize_reason,
                             stabilize_message, desired, reason, message)
    return desired, conditions

