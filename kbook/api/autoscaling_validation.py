"""Validation of ``autoscaling/v2`` HorizontalPodAutoscalers.

Ported from ``pkg/apis/autoscaling/validation/validation.go`` (each docstring names the
upstream function), with the ``HPAScaleToZero`` feature gate off (its default), so
``minReplicas`` must be at least 1.
"""

from __future__ import annotations

from kbook.api.autoscaling import (
    CrossVersionObjectReference,
    HorizontalPodAutoscaler,
    HPAScalingRules,
    MetricIdentifier,
    MetricSpec,
    MetricTarget,
)
from kbook.api.formats import is_valid_path_segment_name
from kbook.api.model import GoLiteral, Path
from kbook.api.resource_names import validate_container_resource_name
from kbook.api.validation import each, name_is_dns_subdomain, validate_dns1123_label, validate_object_meta
from kbook.errors import FieldError

__all__ = ["validate_horizontal_pod_autoscaler", "MAX_PERIOD_SECONDS", "MAX_STABILIZATION_WINDOW_SECONDS"]

Errors = list[FieldError]

MAX_PERIOD_SECONDS = 1800  # MaxPeriodSeconds
MAX_STABILIZATION_WINDOW_SECONDS = 3600  # MaxStabilizationWindowSeconds
MIN_REPLICAS_LOWER_BOUND = 1  # HPAScaleToZero off
_METRIC_SOURCE_TYPES = ["ContainerResource", "External", "Object", "Pods", "Resource"]  # validMetricSourceTypesList
_SELECT_POLICIES = ["Disabled", "Max", "Min"]
_POLICY_TYPES = ["Percent", "Pods"]


def _validate_cross_version_object_reference(ref: CrossVersionObjectReference, path: Path) -> Errors:
    """``ValidateCrossVersionObjectReference``: ``kind`` and ``name`` set and path-safe."""
    errs: Errors = []
    for value, wire in ((ref.kind, "kind"), (ref.name, "name")):
        if not value:
            errs.append(FieldError.required(str(path.child(wire))))
        else:
            errs += each(is_valid_path_segment_name(value), path.child(wire), value)
    return errs


def _validate_metric_target(mt: MetricTarget, path: Path) -> Errors:
    """``validateMetricTarget``."""
    errs: Errors = []
    if not mt.type:
        errs.append(FieldError.required(str(path.child("type")), "must specify a metric target type"))
    if mt.type not in ("Utilization", "Value", "AverageValue"):
        detail = "must be either Utilization, Value, or AverageValue"
        errs.append(FieldError.invalid(str(path.child("type")), mt.type, detail))
    for value, wire in ((mt.value, "value"), (mt.average_value, "averageValue")):
        if value is not None and value.sign() != 1:
            errs.append(FieldError.invalid(str(path.child(wire)), GoLiteral(str(value)), "must be positive"))
    if mt.average_utilization is not None and mt.average_utilization < 1:
        path_au = path.child("averageUtilization")
        errs.append(FieldError.invalid(str(path_au), mt.average_utilization, "must be greater than 0"))
    return errs


def _validate_metric_identifier(metric: MetricIdentifier, path: Path) -> Errors:
    """``validateMetricIdentifier``."""
    if not metric.name:
        return [FieldError.required(str(path.child("name")), "must specify a metric name")]
    return each(is_valid_path_segment_name(metric.name), path.child("name"), metric.name)


def _validate_source(spec: MetricSpec, field: str, path: Path) -> Errors:
    """``validateObjectSource``, ``validateExternalSource``, ``validatePodsSource``,
    ``validateResourceSource``, ``validateContainerResourceSource``."""
    source = getattr(spec, {"containerResource": "container_resource"}.get(field, field))
    target, tp = source.target, path.child("target")
    errs: Errors = []
    if field == "object":
        errs += _validate_cross_version_object_reference(source.described_object, path.child("describedObject"))
    if field in ("object", "external", "pods"):
        errs += _validate_metric_identifier(source.metric, path.child("metric"))
    if field == "containerResource":
        if not source.name:
            errs.append(FieldError.required(str(path.child("name")), "must specify a resource name"))
        else:
            errs += validate_container_resource_name(source.name, path.child("name"))
        if not source.container:
            errs.append(FieldError.required(str(path.child("container")), "must specify a container"))
        else:
            errs += validate_dns1123_label(source.container, path.child("container"))
    if field == "resource" and not source.name:
        errs.append(FieldError.required(str(path.child("name")), "must specify a resource name"))
    errs += _validate_metric_target(target, tp)
    if field == "object" and target.value is None and target.average_value is None:
        detail = "must set either a target value or averageValue"
        errs.append(FieldError.required(str(tp.child("averageValue")), detail))
    if field == "external":
        if target.value is None and target.average_value is None:
            detail = "must set either a target value for metric or a per-pod target"
            errs.append(FieldError.required(str(tp.child("averageValue")), detail))
        if target.value is not None and target.average_value is not None:
            detail = "may not set both a target value for metric and a per-pod target"
            errs.append(FieldError.forbidden(str(tp.child("value")), detail))
    if field == "pods" and target.average_value is None:
        errs.append(FieldError.required(str(tp.child("averageValue")), "must specify a positive target averageValue"))
    if field in ("resource", "containerResource"):
        if target.average_utilization is None and target.average_value is None:
            detail = "must set either a target raw value or a target utilization"
            errs.append(FieldError.required(str(tp.child("averageUtilization")), detail))
        if target.average_utilization is not None and target.average_value is not None:
            detail = "may not set both a target raw value and a target utilization"
            errs.append(FieldError.forbidden(str(tp.child("averageValue")), detail))
    return errs


_SOURCES = {  # metric type -> the field holding its source
    "Object": "object",
    "Pods": "pods",
    "Resource": "resource",
    "External": "external",
    "ContainerResource": "containerResource",
}


def _validate_metric_spec(spec: MetricSpec, path: Path) -> Errors:
    """``validateMetricSpec``: a supported ``type`` and exactly that one source."""
    errs: Errors = []
    if not spec.type:
        errs.append(FieldError.required(str(path.child("type")), "must specify a metric source type"))
    if spec.type not in _METRIC_SOURCE_TYPES:
        errs.append(FieldError.not_supported(str(path.child("type")), spec.type, _METRIC_SOURCE_TYPES))
    present = [
        f for f, attr in (("object", "object"), ("external", "external"), ("pods", "pods"),
                          ("resource", "resource"), ("containerResource", "container_resource"))
        if getattr(spec, attr) is not None
    ]  # fmt: skip
    if present:
        errs += _validate_source(spec, present[0], path.child(present[0]))
    expected = _SOURCES.get(spec.type)
    if expected is None:
        errs.append(FieldError.not_supported(str(path.child("type")), spec.type, _METRIC_SOURCE_TYPES))
    elif expected not in present:
        detail = "must populate information for the given metric source"
        errs.append(FieldError.required(str(path.child(expected)), detail))
    if len(present) != 1:
        for field in sorted(set(present) - {expected}):
            errs.append(FieldError.forbidden(str(path.child(field)), "must populate the given metric source only"))
    return errs


def _validate_scaling_rules(rules: HPAScalingRules | None, path: Path) -> Errors:
    """``validateScalingRules`` and ``validateScalingPolicy``."""
    if rules is None:
        return []
    errs: Errors = []
    window, wp = rules.stabilization_window_seconds, path.child("stabilizationWindowSeconds")
    if window is not None and window < 0:
        errs.append(FieldError.invalid(str(wp), window, "must be greater than or equal to zero"))
    if window is not None and window > MAX_STABILIZATION_WINDOW_SECONDS:
        detail = f"must be less than or equal to {MAX_STABILIZATION_WINDOW_SECONDS}"
        errs.append(FieldError.invalid(str(wp), window, detail))
    if rules.select_policy is not None and rules.select_policy not in _SELECT_POLICIES:
        errs.append(FieldError.not_supported(str(path.child("selectPolicy")), rules.select_policy, _SELECT_POLICIES))
    policies = path.child("policies")
    if not rules.policies:
        errs.append(FieldError.required(str(policies), "must specify at least one Policy"))
    for i, policy in enumerate(rules.policies or []):
        p = policies.index(i)
        if policy.type not in _POLICY_TYPES:
            errs.append(FieldError.not_supported(str(p.child("type")), policy.type, _POLICY_TYPES))
        if policy.value <= 0:
            errs.append(FieldError.invalid(str(p.child("value")), policy.value, "must be greater than zero"))
        if policy.period_seconds <= 0:
            detail = "must be greater than zero"
            errs.append(FieldError.invalid(str(p.child("periodSeconds")), policy.period_seconds, detail))
        if policy.period_seconds > MAX_PERIOD_SECONDS:
            detail = f"must be less than or equal to {MAX_PERIOD_SECONDS}"
            errs.append(FieldError.invalid(str(p.child("periodSeconds")), policy.period_seconds, detail))
    return errs


def validate_horizontal_pod_autoscaler(hpa: HorizontalPodAutoscaler) -> Errors:
    """``ValidateHorizontalPodAutoscaler`` (``validateHorizontalPodAutoscalerSpec``)."""
    spec, path = hpa.spec, Path("spec")
    errs = validate_object_meta(hpa.metadata, True, name_is_dns_subdomain, Path("metadata"))
    if spec.min_replicas is not None and spec.min_replicas < MIN_REPLICAS_LOWER_BOUND:
        detail = f"must be greater than or equal to {MIN_REPLICAS_LOWER_BOUND}"
        errs.append(FieldError.invalid(str(path.child("minReplicas")), spec.min_replicas, detail))
    if spec.max_replicas < 1:
        errs.append(FieldError.invalid(str(path.child("maxReplicas")), spec.max_replicas, "must be greater than 0"))
    if spec.min_replicas is not None and spec.max_replicas < spec.min_replicas:
        detail = "must be greater than or equal to `minReplicas`"
        errs.append(FieldError.invalid(str(path.child("maxReplicas")), spec.max_replicas, detail))
    errs += _validate_cross_version_object_reference(spec.scale_target_ref, path.child("scaleTargetRef"))
    for i, metric in enumerate(spec.metrics):  # validateMetrics
        errs += _validate_metric_spec(metric, path.child("metrics").index(i))
    if spec.min_replicas == 0 and not any(m.type in ("Object", "External") for m in spec.metrics):
        detail = "must specify at least one Object or External metric to support scaling to zero replicas"
        errs.append(FieldError.forbidden(str(path.child("metrics")), detail))
    if spec.behavior is not None:
        errs += _validate_scaling_rules(spec.behavior.scale_up, path.child("behavior", "scaleUp"))
        errs += _validate_scaling_rules(spec.behavior.scale_down, path.child("behavior", "scaleDown"))
    return errs
