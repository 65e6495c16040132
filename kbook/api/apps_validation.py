"""Validation of ``apps/v1`` kinds: Deployment and ReplicaSet.

Ported from ``pkg/apis/apps/validation/validation.go`` (each docstring names the
upstream function); the pod template is checked by core's ``ValidatePodTemplateSpec``.
"""

from __future__ import annotations

from kbook.api.apps import Deployment, DeploymentStrategy, ReplicaSet, RollingUpdateDeployment
from kbook.api.core import PodTemplateSpec
from kbook.api.formats import is_valid_percent
from kbook.api.model import GoLiteral, IntOrString, Path, go_quote
from kbook.api.pod_validation import validate_pod_template_spec
from kbook.api.selectors import LabelSelector, SelectorError
from kbook.api.validation import (
    name_is_dns_subdomain,
    validate_label_selector,
    validate_nonnegative_field,
    validate_object_meta,
)
from kbook.errors import FieldError

__all__ = ["validate_deployment", "validate_replica_set", "int_or_percent_value"]

Errors = list[FieldError]


def _selector_literal(selector: LabelSelector) -> GoLiteral:
    """``%#v`` of a ``v1.LabelSelector``."""
    labels = ", ".join(f"{go_quote(k)}:{go_quote(v)}" for k, v in sorted(selector.match_labels.items()))
    exprs = ", ".join(
        f"v1.LabelSelectorRequirement{{Key:{go_quote(e.key)}, Operator:{go_quote(e.operator)}, Values:"
        + ("[]string{" + ", ".join(go_quote(v) for v in e.values) + "}" if e.values else "[]string(nil)")
        + "}"
        for e in selector.match_expressions
    )
    return GoLiteral(
        "v1.LabelSelector{MatchLabels:"
        + (f"map[string]string{{{labels}}}" if labels else "map[string]string(nil)")
        + ", MatchExpressions:"
        + (f"[]v1.LabelSelectorRequirement{{{exprs}}}" if exprs else "[]v1.LabelSelectorRequirement(nil)")
        + "}"
    )


def _labels_literal(labels: dict[str, str]) -> object:
    """A template's labels as ``%#v`` prints them (``nil`` when there are none)."""
    return labels if labels else GoLiteral("map[string]string(nil)")


def _validate_positive_int_or_percent(value: IntOrString, path: Path) -> Errors:
    """``ValidatePositiveIntOrPercent``."""
    if not value.is_int:
        return [FieldError.invalid(str(path), value, msg) for msg in is_valid_percent(str(value.value))]
    return validate_nonnegative_field(value.int_value(), path)


def _percent(value: IntOrString) -> int | None:
    """``getPercentValue``."""
    if value.is_int or is_valid_percent(str(value.value)):
        return None
    return int(str(value.value)[:-1])


def int_or_percent_value(value: IntOrString) -> int:
    """``getIntOrPercentValue``: the percentage number, else the int (0 for other strings)."""
    percent = _percent(value)
    return percent if percent is not None else value.int_value()


def _validate_rolling_update(ru: RollingUpdateDeployment, path: Path) -> Errors:
    """``ValidateRollingUpdateDeployment``: both non-negative, not both 0, ``maxUnavailable`` <= 100%."""
    unavailable = ru.max_unavailable or IntOrString(0)
    surge = ru.max_surge or IntOrString(0)
    errs = _validate_positive_int_or_percent(unavailable, path.child("maxUnavailable"))
    errs += _validate_positive_int_or_percent(surge, path.child("maxSurge"))
    if int_or_percent_value(unavailable) == 0 and int_or_percent_value(surge) == 0:
        detail = "may not be 0 when `maxSurge` is 0"
        errs.append(FieldError.invalid(str(path.child("maxUnavailable")), unavailable, detail))
    percent = _percent(unavailable)
    if percent is not None and percent > 100:
        errs.append(FieldError.invalid(str(path.child("maxUnavailable")), unavailable, "must not be greater than 100%"))
    return errs


def _strategy_literal(strategy: DeploymentStrategy) -> GoLiteral:
    address = "nil" if strategy.rolling_update is None else "0xc000000000"  # a real address is unpredictable
    ru = f"(*apps.RollingUpdateDeployment)({address})"
    return GoLiteral(f"apps.DeploymentStrategy{{Type:{go_quote(strategy.type)}, RollingUpdate:{ru}}}")


def _validate_strategy(strategy: DeploymentStrategy, path: Path) -> Errors:
    """``ValidateDeploymentStrategy``."""
    if strategy.type == "Recreate":
        if strategy.rolling_update is not None:
            detail = "may not be specified when strategy `type` is 'Recreate'"
            return [FieldError.forbidden(str(path.child("rollingUpdate")), detail)]
        return []
    if strategy.type == "RollingUpdate":
        if strategy.rolling_update is None:
            return [FieldError.required(str(path.child("rollingUpdate")), "this should be defaulted and never be nil")]
        return _validate_rolling_update(strategy.rolling_update, path.child("rollingUpdate"))
    return [FieldError.not_supported(str(path), _strategy_literal(strategy), ["Recreate", "RollingUpdate"])]


def _validate_template_for_replica_set(template: PodTemplateSpec, selector: LabelSelector | None, path: Path) -> Errors:
    """``ValidatePodTemplateSpecForReplicaSet``: the selector matches the template's labels
    (a missing selector is ``labels.Nothing()``: never empty, matching nothing), the
    template is a valid pod template that always restarts."""
    errs: Errors = []
    if selector is None or (not selector.is_empty() and not selector.matches(template.metadata.labels)):
        labels = _labels_literal(template.metadata.labels)
        detail = "`selector` does not match template `labels`"
        errs.append(FieldError.invalid(str(path.child("metadata", "labels")), labels, detail))
    errs += validate_pod_template_spec(template, path)
    if template.spec.restart_policy != "Always":
        path_rp = path.child("spec", "restartPolicy")
        errs.append(FieldError.not_supported(str(path_rp), template.spec.restart_policy, ["Always"]))
    if template.spec.active_deadline_seconds is not None:
        detail = "activeDeadlineSeconds in ReplicaSet is not Supported"
        errs.append(FieldError.forbidden(str(path.child("spec", "activeDeadlineSeconds")), detail))
    return errs


def _validate_selector_and_template(
    selector: LabelSelector | None, template: PodTemplateSpec, kind: str, path: Path
) -> Errors:
    """The selector and template part shared by ``ValidateDeploymentSpec`` and
    ``ValidateReplicaSetSpec``."""
    errs: Errors = []
    sel_path = path.child("selector")
    if selector is None:
        errs.append(FieldError.required(str(sel_path)))
    else:
        errs += validate_label_selector(selector, sel_path)
        if selector.is_empty():
            detail = f"empty selector is invalid for {kind}"
            errs.append(FieldError.invalid(str(sel_path), _selector_literal(selector), detail))
        try:
            selector.requirements()  # LabelSelectorAsSelector
        except SelectorError:
            return errs + [FieldError.invalid(str(sel_path), _selector_literal(selector), "invalid label selector")]
    return errs + _validate_template_for_replica_set(template, selector, path.child("template"))


def validate_deployment(obj: Deployment) -> Errors:
    """``ValidateDeployment`` (``ValidateDeploymentSpec``)."""
    spec, path = obj.spec, Path("spec")
    errs = validate_object_meta(obj.metadata, True, name_is_dns_subdomain, Path("metadata"))
    errs += validate_nonnegative_field(spec.replicas if spec.replicas is not None else 0, path.child("replicas"))
    errs += _validate_selector_and_template(spec.selector, spec.template, "deployment", path)
    errs += _validate_strategy(spec.strategy, path.child("strategy"))
    errs += validate_nonnegative_field(spec.min_ready_seconds, path.child("minReadySeconds"))
    if spec.revision_history_limit is not None:
        errs += validate_nonnegative_field(spec.revision_history_limit, path.child("revisionHistoryLimit"))
    if spec.progress_deadline_seconds is not None:
        pds = path.child("progressDeadlineSeconds")
        errs += validate_nonnegative_field(spec.progress_deadline_seconds, pds)
        if spec.progress_deadline_seconds <= spec.min_ready_seconds:
            detail = "must be greater than minReadySeconds"
            errs.append(FieldError.invalid(str(pds), spec.progress_deadline_seconds, detail))
    return errs


def validate_replica_set(obj: ReplicaSet) -> Errors:
    """``ValidateReplicaSet`` (``ValidateReplicaSetSpec``)."""
    spec, path = obj.spec, Path("spec")
    errs = validate_object_meta(obj.metadata, True, name_is_dns_subdomain, Path("metadata"))
    errs += validate_nonnegative_field(spec.replicas if spec.replicas is not None else 0, path.child("replicas"))
    errs += validate_nonnegative_field(spec.min_ready_seconds, path.child("minReadySeconds"))
    errs += _validate_selector_and_template(spec.selector, spec.template, "deployment", path)
    return errs
