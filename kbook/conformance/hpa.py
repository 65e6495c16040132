"""The hpa checkers: a case's pods, metrics, rules and history become kbook values, the
replica calculator or the behavior function runs as the Go test drives it, and the result
is compared with what the test asserts.

Replica-calculator kinds: ``resource_utilization`` (``GetResourceReplicas``, or
``GetRawResourceReplicas`` for an AverageValue target), ``pods_average_value``
(``GetMetricReplicas``; ``GetRawResourceReplicas`` when a resource is named),
``object_value``, ``object_average_value``, ``external_value``,
``external_average_value``, ``group_pods`` and ``calculate_requests``. Behavior kinds:
``behavior_rate_limit``, ``stabilize_with_behaviors``, ``stabilize_legacy``,
``legacy_rules_clamp``, ``store_scale_events``, ``scale_up_limit`` and
``scale_down_limit``.

Conventions (each file's ``conventions``): ``*_s`` times are seconds relative to now,
``"ZERO"`` is Go's zero time, ``null`` an unset pointer; ``age_s`` is how long ago, and
an age equal to a window or period lies outside it (Go's clock moved on), so ages get
:data:`AGE_EPSILON` added; ``*_milli`` are milli-units.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable

from kbook.api import Pod
from kbook.api.autoscaling import HorizontalPodAutoscalerBehavior, HPAScalingPolicy, HPAScalingRules
from kbook.api.codec import decode_object
from kbook.autoscaling import behavior
from kbook.autoscaling.metrics import (
    API_EPOCH,
    GO_ZERO_TIME,
    ZERO_TIME,
    ContainerMetrics,
    MetricsError,
    PodMetric,
    PodMetrics,
    get_resource_metric,
)
from kbook.autoscaling.replica_calculator import ReplicaCalculator, Tolerances, calculate_requests, group_pods
from kbook.conformance.runner import CHECKERS, Case, CaseError, guarded
from kbook.quantity import Quantity

__all__ = ["NOW", "AGE_EPSILON", "build_pod", "build_rules"]

NOW = 1_000_000.0  # the simulated "now" every case's relative times are taken from
AGE_EPSILON = 1e-6  # Go's clock between building a fixture and evaluating it
# replica_calculator_test.go's timing when a case does not name its own.
_TEST_CPU_INITIALIZATION_PERIOD = 120.0  # defaultTestingCPUInitializationPeriod
_TEST_DELAY_OF_INITIAL_READINESS_STATUS = 10.0  # defaultTestingDelayOfInitialReadinessStatus
_POD_KEYS = {"name", "phase", "deleted", "startTime_s", "readyCondition", "containers", "initContainers",
             "podLevelCpuRequest_milli"}
_REQUEST_SUFFIX = "_request_milli"


def _seconds(value: Any) -> float | None:
    """A case time: ``None`` unset, ``"ZERO"`` Go's zero time, else seconds from now."""
    if value is None:
        return None
    if value == "ZERO":
        return ZERO_TIME
    return NOW + float(value)


def _metric_time(value: Any) -> float:
    """A metric's timestamp: a Go value, so unset is the zero time."""
    return ZERO_TIME if value is None else _seconds(value)  # type: ignore[return-value]


def _rfc3339(value: Any) -> str | None:
    """A case time as the ``metav1.Time`` a pod carries."""
    if value is None:
        return None
    if value == "ZERO":
        return GO_ZERO_TIME
    at = API_EPOCH + timedelta(seconds=NOW + float(value))
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if at.microsecond else "%Y-%m-%dT%H:%M:%SZ")


def _container(c: dict[str, Any], what: str) -> dict[str, Any]:
    wire: dict[str, Any] = {"name": c.get("name", "")}
    requests = {}
    for key, value in c.items():
        if key.endswith(_REQUEST_SUFFIX):
            if value is not None:
                requests[key[: -len(_REQUEST_SUFFIX)]] = f"{value}m"
        elif key == "restartPolicy":
            wire["restartPolicy"] = value
        elif key != "name":
            raise CaseError(f"{what}: unknown field {key!r}")
    if requests:
        wire["resources"] = {"requests": requests}
    return wire


def build_pod(p: dict[str, Any]) -> Pod:
    """A case's pod: name, phase, deletion, start time, Ready condition, containers and
    init containers with their requests, and the pod-level CPU request."""
    unknown = sorted(set(p) - _POD_KEYS)
    if unknown:
        raise CaseError(f"pod {p.get('name')!r}: unknown field(s) {', '.join(unknown)}")
    name = p.get("name", "")
    meta: dict[str, Any] = {"name": name}
    if p.get("deleted"):
        meta["deletionTimestamp"] = _rfc3339(0)
    status: dict[str, Any] = {"phase": p.get("phase", "")}
    if p.get("startTime_s") is not None:
        status["startTime"] = _rfc3339(p["startTime_s"])
    ready = p.get("readyCondition")
    if ready is not None:
        cond = {"type": "Ready", "status": ready.get("status", "")}
        # LastTransitionTime is a value in Go: unset is the zero time.
        cond["lastTransitionTime"] = _rfc3339(ready.get("lastTransitionTime_s", "ZERO")) or GO_ZERO_TIME
        status["conditions"] = [cond]
    spec = {key: [_container(c, f"pod {name!r} {key}") for c in p.get(key) or []]
            for key in ("containers", "initContainers")}
    if p.get("podLevelCpuRequest_milli") is not None:  # pod-level resources (KEP-2837)
        spec["resources"] = {"requests": {"cpu": f"{p['podLevelCpuRequest_milli']}m"}}
    errors: list[str] = []
    pod = decode_object(Pod, {"metadata": meta, "spec": spec, "status": status}, errors)
    if errors:
        raise CaseError(f"pod {name!r}: " + "; ".join(errors))
    return pod


def _pods(case: Case) -> list[Pod]:
    return [build_pod(p) for p in case.data.get("pods") or []]


def _tolerances(case: Case) -> Tolerances:
    t = case.data.get("tolerance") or {}
    return Tolerances(float(t.get("scaleDown", 0.1)), float(t.get("scaleUp", 0.1)))


def _calculator(case: Case, pod_level_resources: bool = False) -> ReplicaCalculator:
    return ReplicaCalculator(*_timing(case), pod_level_resources)


def _timing(case: Case) -> tuple[float, float]:
    """The CPU initialization period and the readiness delay, the Go test's by default."""
    timing = case.data.get("timing") or {}
    return (float(timing.get("cpuInitializationPeriod_s", _TEST_CPU_INITIALIZATION_PERIOD)),
            float(timing.get("delayOfInitialReadinessStatus_s", _TEST_DELAY_OF_INITIAL_READINESS_STATUS)))


def _pod_metrics(records: list[dict[str, Any]], resource: str) -> list[PodMetrics]:
    """Resource metrics API items; a container with usage ``null`` reports no usage."""
    return [PodMetrics(m["pod"], _metric_time(m.get("timestamp_s")), float(m.get("window_s") or 0),
                       tuple(ContainerMetrics(c.get("name", ""),
                                              {} if c.get("usage_milli") is None else {resource: c["usage_milli"]})
                             for c in m.get("containers") or []))
            for m in records]


def _metric_info(records: Any) -> dict[str, PodMetric]:
    """Per-pod values, as a list of ``{pod, value_milli, ...}`` or a name-keyed mapping."""
    if isinstance(records, dict):
        records = [{"pod": name, **m} for name, m in records.items()]
    return {m["pod"]: PodMetric(_metric_time(m.get("timestamp_s")), float(m.get("window_s") or 0), m["value_milli"])
            for m in records}


def _target(case: Case, *keys: str) -> Any:
    target = case.data.get("target") or {}
    for key in keys:
        if key in target:
            return target[key]
    raise CaseError(f"target {target} has none of {', '.join(keys)}")


def _compare(got: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    """Each expected value the result names (``error*`` keys aside)."""
    diffs = []
    for key, want in expected.items():
        if key in ("error", "error_contains"):
            continue
        if key not in got:
            diffs.append(f"{key} is not something this kind computes")
        elif got[key] != want:
            diffs.append(f"{key} {got[key]!r} != {want!r}")
    return diffs


def _expect(case: Case, compute: Callable[[], dict[str, Any]]) -> list[str]:
    """Run ``compute``; an ``error_contains`` (or ``error``) expectation wants a
    MetricsError naming that text, otherwise the values must match."""
    expected = case.data.get("expected") or {}
    want_error = expected.get("error_contains", expected.get("error"))
    try:
        got = compute()
    except MetricsError as e:
        if want_error is None:
            return [f"unexpected error: {e}"]
        return [] if want_error in str(e) else [f"error {str(e)!r} does not contain {want_error!r}"]
    if want_error is not None:
        return [f"no error, want one containing {want_error!r} (got {got})"]
    return _compare(got, expected)


def check_resource_utilization(case: Case) -> list[str]:
    """``GetResourceReplicas`` (Utilization) or ``GetRawResourceReplicas`` (AverageValue)
    on the metrics API items, for the pod or the named container."""
    data = case.data
    resource, container = data.get("resource", "cpu"), data.get("container", "")
    target_type = (data.get("target") or {}).get("type", "Utilization")

    def compute() -> dict[str, Any]:
        pods = _pods(case)
        items = _pod_metrics(data.get("metrics") or [], resource)
        metrics, timestamp = get_resource_metric(items, resource, container)
        calc = _calculator(case)
        if target_type == "Utilization":
            r = calc.get_resource_replicas(data["currentReplicas"], _target(case, "averageUtilization"), resource,
                                           _tolerances(case), pods, metrics, timestamp, NOW, container)
            return {"replicas": r.replicas, "utilization": r.utilization, "rawValue_milli": r.raw_utilization}
        r2 = calc.get_raw_resource_replicas(data["currentReplicas"], _target(case, "averageValue_milli"), resource,
                                            _tolerances(case), pods, metrics, timestamp, NOW)
        return {"replicas": r2.replicas, "usage_milli": r2.usage, "rawValue_milli": r2.usage}

    return _expect(case, compute)


def check_pods_average_value(case: Case) -> list[str]:
    """``GetMetricReplicas`` on per-pod values (``GetRawResourceReplicas`` if a resource is named)."""
    data = case.data

    def compute() -> dict[str, Any]:
        pods, tolerances, calc = _pods(case), _tolerances(case), _calculator(case)
        target = _target(case, "averageValue_milli")
        metrics = _metric_info(data.get("podMetrics") or [])
        resource = data.get("resource", "")
        if resource:
            r = calc.get_raw_resource_replicas(data["currentReplicas"], target, resource, tolerances, pods, metrics,
                                               NOW, NOW)
        else:
            r = calc.get_metric_replicas(data["currentReplicas"], target, tolerances, pods, metrics, NOW, NOW)
        return {"replicas": r.replicas, "usage_milli": r.usage}

    return _expect(case, compute)


def check_object_value(case: Case) -> list[str]:
    """``GetObjectMetricReplicas``."""
    data = case.data
    return _expect(case, lambda: _metric_result(_calculator(case).get_object_metric_replicas(
        data["currentReplicas"], _target(case, "value_milli"), _tolerances(case), _pods(case),
        data["objectMetric_milli"])))


def check_object_average_value(case: Case) -> list[str]:
    """``GetObjectPerPodMetricReplicas`` over ``statusReplicas``."""
    data = case.data
    return _expect(case, lambda: _metric_result(_calculator(case).get_object_per_pod_metric_replicas(
        data.get("statusReplicas", data["currentReplicas"]), _target(case, "averageValue_milli"), _tolerances(case),
        data["objectMetric_milli"], NOW)))


def check_external_value(case: Case) -> list[str]:
    """``GetExternalMetricReplicas``."""
    data = case.data
    return _expect(case, lambda: _metric_result(_calculator(case).get_external_metric_replicas(
        data["currentReplicas"], _target(case, "value_milli"), _tolerances(case), _pods(case),
        data["externalMetrics_milli"])))


def check_external_average_value(case: Case) -> list[str]:
    """``GetExternalPerPodMetricReplicas`` over ``statusReplicas``."""
    data = case.data
    return _expect(case, lambda: _metric_result(_calculator(case).get_external_per_pod_metric_replicas(
        data.get("statusReplicas", data["currentReplicas"]), _target(case, "averageValue_milli"), _tolerances(case),
        data["externalMetrics_milli"], NOW)))


def _metric_result(r: Any) -> dict[str, Any]:
    return {"replicas": r.replicas, "usage_milli": r.usage}


def check_group_pods(case: Case) -> list[str]:
    """``groupPods``: the ready count and the unready, missing and ignored pod names."""
    data = case.data
    groups = group_pods(_pods(case), _metric_info(data.get("podMetrics") or {}), data.get("resource", ""),
                        *_timing(case), NOW)
    got = {"readyPodCount": groups.ready_pod_count, "unreadyPods": sorted(groups.unready),
           "missingPods": sorted(groups.missing), "ignoredPods": sorted(groups.ignored)}
    want = {k: sorted(v) if isinstance(v, list) else v for k, v in (data.get("expected") or {}).items()}
    return _compare(got, want)


def check_calculate_requests(case: Case) -> list[str]:
    """``calculateRequests`` with the ``PodLevelResources`` gate as the case sets it."""
    data = case.data
    return _expect(case, lambda: {"requests_milli": calculate_requests(
        _pods(case), data.get("container", ""), data.get("resource", "cpu"),
        bool(data.get("podLevelResourcesEnabled", False)))})


# -- behavior --------------------------------------------------------------------------


def build_rules(r: dict[str, Any] | None) -> HPAScalingRules | None:
    """``HPAScalingRules`` from the case's wire-like form."""
    if r is None:
        return None
    unknown = sorted(set(r) - {"stabilizationWindowSeconds", "selectPolicy", "policies", "tolerance"})
    if unknown:
        raise CaseError(f"rules: unknown field(s) {', '.join(unknown)}")
    policies = None if r.get("policies") is None else [
        HPAScalingPolicy(p["type"], p["value"], p["periodSeconds"]) for p in r["policies"]]
    tolerance = None if r.get("tolerance") is None else Quantity.parse(str(r["tolerance"]))
    return HPAScalingRules(r.get("stabilizationWindowSeconds"), r.get("selectPolicy"), policies, tolerance)


def _rules(case: Case, key: str) -> HPAScalingRules:
    rules = build_rules(case.data.get(key))
    if rules is None:
        raise CaseError(f"{key} is missing")
    return rules


def _ago(age: float) -> float:
    return NOW - (float(age) + AGE_EPSILON)


def _events(records: list[dict[str, Any]] | None) -> list[behavior.ScaleEvent]:
    return [behavior.ScaleEvent(e["replicaChange"], _ago(e["age_s"]), bool(e.get("outdated", False)))
            for e in records or []]


def _recommendations(records: list[dict[str, Any]] | None) -> list[behavior.Recommendation]:
    return [behavior.Recommendation(r["replicas"], _ago(r["age_s"])) for r in records or []]


def _rules_defaulting_diffs(case: Case) -> list[str]:
    """The effective rules must be what ``GenerateHPAScale{Up,Down}Rules`` makes of the input."""
    diffs = []
    for direction, generate in (("scaleUp", behavior.generate_scale_up_rules),
                                ("scaleDown", behavior.generate_scale_down_rules)):
        if f"{direction}Rules_input" in case.data and f"{direction}Rules" in case.data:
            got = generate(build_rules(case.data[f"{direction}Rules_input"]))
            want = _rules(case, f"{direction}Rules")
            if got != want:
                diffs.append(f"{direction} defaulted rules {got} != {want}")
    return diffs


def check_behavior_rate_limit(case: Case) -> list[str]:
    """``convertDesiredReplicasWithBehaviorRate``: replicas and the ScalingLimited reason."""
    data = case.data
    arg = behavior.NormalizationArg(_rules(case, "scaleUpRules"), _rules(case, "scaleDownRules"),
                                    data["minReplicas"], data["maxReplicas"], data["currentReplicas"],
                                    data["desiredReplicas"])
    replicas, reason, _ = behavior.convert_desired_replicas_with_behavior_rate(
        arg, _events(data.get("scaleUpEvents")), _events(data.get("scaleDownEvents")), NOW)
    return _rules_defaulting_diffs(case) + _compare({"replicas": replicas, "condition": reason},
                                                    data.get("expected") or {})


def check_stabilize_with_behaviors(case: Case) -> list[str]:
    """``stabilizeRecommendationWithBehaviors``: replicas and the stored recommendations."""
    data = case.data
    recommendations = _recommendations(data.get("recommendations"))
    arg = behavior.NormalizationArg(
        HPAScalingRules(stabilization_window_seconds=data.get("scaleUpStabilizationWindow_s", 0)),
        HPAScalingRules(stabilization_window_seconds=data.get("scaleDownStabilizationWindow_s", 0)),
        0, 0, data["currentReplicas"], data["prenormalizedDesiredReplicas"])
    replicas, _, _ = behavior.stabilize_recommendation_with_behaviors(recommendations, arg, NOW)
    expected = dict(data.get("expected") or {})
    if expected.get("recommendationsAfter") is None:
        expected.pop("recommendationsAfter", None)
    return _compare({"replicas": replicas, "recommendationsAfter": [r.recommendation for r in recommendations]},
                    expected)


def check_stabilize_legacy(case: Case) -> list[str]:
    """``stabilizeRecommendation``: replicas and the length of the recommendation log."""
    data = case.data
    recommendations = _recommendations(data.get("recommendations"))
    replicas = behavior.stabilize_recommendation(recommendations, data["prenormalizedDesiredReplicas"], NOW,
                                                 float(data.get("downscaleStabilizationWindow_s", 300)))
    return _compare({"replicas": replicas, "recommendationsLogLength": len(recommendations)},
                    data.get("expected") or {})


def check_legacy_rules_clamp(case: Case) -> list[str]:
    """``convertDesiredReplicasWithRules`` with the case's ``scaleUpLimitFactor`` (the Go
    test's 8), and with production's 2 where the case gives that expectation too."""
    data = case.data
    if float(data.get("scaleUpLimitMinimum", behavior.SCALE_UP_LIMIT_MINIMUM)) != behavior.SCALE_UP_LIMIT_MINIMUM:
        return [f"scaleUpLimitMinimum {data['scaleUpLimitMinimum']} is not upstream's "
                f"{behavior.SCALE_UP_LIMIT_MINIMUM}"]
    diffs = []
    runs = [(float(data.get("scaleUpLimitFactor", behavior.SCALE_UP_LIMIT_FACTOR)), data.get("expected") or {}, "")]
    if "expected_with_production_factor_2" in data:
        runs.append((behavior.SCALE_UP_LIMIT_FACTOR, data["expected_with_production_factor_2"], " (factor 2)"))
    for factor, expected, where in runs:
        replicas, reason, _ = behavior.convert_desired_replicas_with_rules(
            data["currentReplicas"], data["desiredReplicas"], data["minReplicas"], data["maxReplicas"], factor)
        diffs += [d + where for d in _compare({"replicas": replicas, "condition": reason}, expected)]
    return diffs


def check_store_scale_events(case: Case) -> list[str]:
    """``getReplicasChangePerPeriod(60)`` on the previous events, then ``storeScaleEvent``
    run as a scale-up and as a scale-down; both must leave the expected events."""
    data = case.data
    expected = data.get("expected") or {}
    rules, change = build_rules(data.get("scalingRules")), data["replicaChange"]
    diffs = _compare({"replicasChangeInLast60s": behavior.get_replicas_change_per_period(
        60, _events(data.get("prevScaleEvents")), NOW)},
        {k: v for k, v in expected.items() if k == "replicasChangeInLast60s"})
    want = [(e["replicaChange"], bool(e.get("outdated", False))) for e in expected.get("newScaleEvents") or []]
    for direction, new in (("scaleUp", 10 + change), ("scaleDown", 10 - change)):
        events = _events(data.get("prevScaleEvents"))
        up, down = (events, []) if direction == "scaleUp" else ([], events)
        spec = None if rules is None else HorizontalPodAutoscalerBehavior(**{
            "scale_up" if direction == "scaleUp" else "scale_down": rules})
        behavior.store_scale_event(spec, up, down, 10, new, NOW)
        got = [(e.replica_change, e.outdated) for e in events]
        if got != want:
            diffs.append(f"{direction} events (replicaChange, outdated) {got} != {want}")
    return diffs


def _limit_check(case: Case, limit: Callable[..., int]) -> list[str]:
    data = case.data
    got = limit(data["currentReplicas"], _events(data.get("scaleUpEvents")), _events(data.get("scaleDownEvents")),
                _rules(case, "rules"), NOW)
    return _compare({"limit": got}, data.get("expected") or {})


def check_scale_up_limit(case: Case) -> list[str]:
    """``calculateScaleUpLimitWithScalingRules``."""
    return _limit_check(case, behavior.calculate_scale_up_limit_with_scaling_rules)


def check_scale_down_limit(case: Case) -> list[str]:
    """``calculateScaleDownLimitWithBehaviors``."""
    return _limit_check(case, behavior.calculate_scale_down_limit_with_behaviors)


CHECKERS["hpa"].update({kind: guarded(checker) for kind, checker in {
    "resource_utilization": check_resource_utilization,
    "pods_average_value": check_pods_average_value,
    "object_value": check_object_value,
    "object_average_value": check_object_average_value,
    "external_value": check_external_value,
    "external_average_value": check_external_average_value,
    "group_pods": check_group_pods,
    "calculate_requests": check_calculate_requests,
    "behavior_rate_limit": check_behavior_rate_limit,
    "stabilize_with_behaviors": check_stabilize_with_behaviors,
    "stabilize_legacy": check_stabilize_legacy,
    "legacy_rules_clamp": check_legacy_rules_clamp,
    "store_scale_events": check_store_scale_events,
    "scale_up_limit": check_scale_up_limit,
    "scale_down_limit": check_scale_down_limit,
}.items()})
