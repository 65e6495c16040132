"""Validation shared by every kind: names, labels, annotations, selectors, object metadata.

Each function is the upstream function named in its docstring
(``k8s.io/apimachinery/pkg/api/validation/{generic,objectmeta}.go``,
``pkg/apis/meta/v1/validation/validation.go``, and the thin wrappers in
``pkg/apis/core/validation/validation.go``), with its messages and field paths. Maps
are walked in sorted key order (Go's order is random) so results are reproducible.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from kbook.api.formats import (
    byte_len,
    is_dns1035_label,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_label_value,
)
from kbook.api.meta import ObjectMeta
from kbook.api.model import Path
from kbook.api.selectors import LabelSelector, LabelSelectorRequirement
from kbook.errors import FieldError

__all__ = [
    "invalid",
    "each",
    "validate_choice",
    "NameFunc",
    "IS_NEGATIVE_ERROR_MSG",
    "TOTAL_ANNOTATION_SIZE_LIMIT",
    "name_is_dns_subdomain",
    "name_is_dns_label",
    "name_is_dns1035_label",
    "validate_nonnegative_field",
    "validate_dns1123_label",
    "validate_dns1123_subdomain",
    "validate_qualified_name",
    "validate_label_name",
    "validate_labels",
    "validate_annotations",
    "validate_label_selector",
    "validate_object_meta",
    "STANDARD_FINALIZERS",
]

IS_NEGATIVE_ERROR_MSG = "must be greater than or equal to 0"
TOTAL_ANNOTATION_SIZE_LIMIT = 256 * (1 << 10)  # TotalAnnotationSizeLimitB, 256 kB

NameFunc = Callable[[str, bool], list[str]]


def _mask_trailing_dash(name: str) -> str:
    """``maskTrailingDash`` (its two-character cut included)."""
    return name[: max(len(name) - 2, 0)] + "a" if name.endswith("-") else name


def name_is_dns_subdomain(name: str, prefix: bool) -> list[str]:
    """``NameIsDNSSubdomain``: most kinds (Pod, Node, Deployment, ReplicaSet, HPA)."""
    return is_dns1123_subdomain(_mask_trailing_dash(name) if prefix else name)


def name_is_dns_label(name: str, prefix: bool) -> list[str]:
    """``NameIsDNSLabel``: namespaces (``ValidateNamespaceName``)."""
    return is_dns1123_label(_mask_trailing_dash(name) if prefix else name)


def name_is_dns1035_label(name: str, prefix: bool) -> list[str]:
    """``NameIsDNS1035Label``: Service names (``ValidateServiceName``)."""
    return is_dns1035_label(_mask_trailing_dash(name) if prefix else name)


def validate_nonnegative_field(value: int, path: Path) -> list[FieldError]:
    """``ValidateNonnegativeField``."""
    return [FieldError.invalid(str(path), value, IS_NEGATIVE_ERROR_MSG)] if value < 0 else []


def invalid(path: Path, value: object, detail: str) -> FieldError:
    """``field.Invalid``."""
    return FieldError.invalid(str(path), value, detail)


def each(msgs: list[str], path: Path, value: object) -> list[FieldError]:
    """One ``field.Invalid`` per message of a format check."""
    return [FieldError.invalid(str(path), value, msg) for msg in msgs] if msgs else []


def validate_choice(value: str, supported: list[str], path: Path) -> list[FieldError]:
    """The ``switch`` upstream uses for enums: empty is Required, unknown is NotSupported."""
    if not value:
        return [FieldError.required(str(path))]
    return [] if value in supported else [FieldError.not_supported(str(path), value, supported)]


def validate_dns1123_label(value: str, path: Path) -> list[FieldError]:
    """``ValidateDNS1123Label`` (core)."""
    return each(is_dns1123_label(value), path, value)


def validate_dns1123_subdomain(value: str, path: Path) -> list[FieldError]:
    """``ValidateDNS1123Subdomain`` (core)."""
    return each(is_dns1123_subdomain(value), path, value)


def validate_qualified_name(value: str, path: Path) -> list[FieldError]:
    """``ValidateQualifiedName`` (core)."""
    return each(is_qualified_name(value), path, value)


def validate_label_name(name: str, path: Path) -> list[FieldError]:
    """``ValidateLabelName`` (metav1)."""
    return each(is_qualified_name(name), path, name)


def validate_labels(labels: Mapping[str, str], path: Path) -> list[FieldError]:
    """``ValidateLabels`` (metav1): keys are qualified names, values label values; both
    reported at the map's own path."""
    errs = []
    for key, value in sorted(labels.items()):
        errs += validate_label_name(key, path)
        errs += each(is_valid_label_value(value), path, value)
    return errs


def validate_annotations(annotations: Mapping[str, str], path: Path) -> list[FieldError]:
    """``ValidateAnnotations``: keys are qualified names (case-insensitive), total size at most 256 kB."""
    errs = []
    for key in sorted(annotations):
        errs += each(is_qualified_name(key.lower()), path, key)
    size = sum(map(byte_len, annotations)) + sum(map(byte_len, annotations.values()))
    if size > TOTAL_ANNOTATION_SIZE_LIMIT:
        errs.append(FieldError.too_long(str(path), "", TOTAL_ANNOTATION_SIZE_LIMIT))
    return errs


def _validate_selector_requirement(
    req: LabelSelectorRequirement, path: Path, allow_invalid_label_value: bool
) -> list[FieldError]:
    """``ValidateLabelSelectorRequirement``."""
    errs = []
    if req.operator in ("In", "NotIn"):
        if not req.values:
            errs.append(
                FieldError.required(str(path.child("values")), "must be specified when `operator` is 'In' or 'NotIn'")
            )
    elif req.operator in ("Exists", "DoesNotExist"):
        if req.values:
            errs.append(
                FieldError.forbidden(
                    str(path.child("values")), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
                )
            )
    else:
        errs.append(FieldError.invalid(str(path.child("operator")), req.operator, "not a valid selector operator"))
    errs += validate_label_name(req.key, path.child("key"))
    if not allow_invalid_label_value:
        for i, value in enumerate(req.values):
            errs += each(is_valid_label_value(value), path.child("values").index(i), value)
    return errs


def validate_label_selector(
    selector: LabelSelector | None, path: Path, allow_invalid_label_value: bool = False
) -> list[FieldError]:
    """``ValidateLabelSelector`` (metav1, with ``LabelSelectorValidationOptions``)."""
    if selector is None:
        return []
    errs = validate_labels(selector.match_labels, path.child("matchLabels"))
    for i, expr in enumerate(selector.match_expressions):
        errs += _validate_selector_requirement(expr, path.child("matchExpressions").index(i), allow_invalid_label_value)
    return errs


STANDARD_FINALIZERS = {"kubernetes", "orphan", "foregroundDeletion"}  # helper.IsStandardFinalizerName


def _validate_finalizers(finalizers: list[str], path: Path) -> list[FieldError]:
    """``ValidateFinalizers``, then core's ``validateKubeFinalizerName`` per index."""
    errs = []
    for finalizer in finalizers:
        errs += each(is_qualified_name(finalizer), path, finalizer)
    if "orphan" in finalizers and "foregroundDeletion" in finalizers:
        errs.append(
            FieldError.invalid(str(path), finalizers, "finalizer orphan and foregroundDeletion cannot be both set")
        )
    for i, finalizer in enumerate(finalizers):
        if "/" not in finalizer and finalizer not in STANDARD_FINALIZERS:
            errs.append(
                FieldError.invalid(
                    str(path.index(i)), finalizer, "name is neither a standard finalizer name nor is it fully qualified"
                )
            )
    return errs


def _validate_owner_references(meta: ObjectMeta, path: Path) -> list[FieldError]:
    """``validateOwnerReference`` for each reference (apiVersion, kind, name, uid, banned owners)."""
    errs = []
    for ref in meta.owner_references:
        group, _, version = ref.api_version.rpartition("/")
        if not version or "/" in group:
            errs.append(FieldError.invalid(str(path.child("apiVersion")), ref.api_version, "version must not be empty"))
        if not ref.kind:
            errs.append(FieldError.invalid(str(path.child("kind")), ref.kind, "must not be empty"))
        if not ref.name:
            errs.append(FieldError.invalid(str(path.child("name")), ref.name, "must not be empty"))
        if not ref.uid:
            errs.append(FieldError.invalid(str(path.child("uid")), ref.uid, "must not be empty"))
    return errs


def validate_object_meta(meta: ObjectMeta, namespaced: bool, name_fn: NameFunc, path: Path) -> list[FieldError]:
    """``ValidateObjectMeta`` (core wrapper of ``ValidateObjectMetaAccessor``).

    Runs as on create after name generation: a ``generateName`` stands in for the name the
    server would generate, so a missing ``name`` is only an error without one.
    """
    errs = []
    if meta.generate_name:
        errs += each(name_fn(meta.generate_name, True), path.child("generateName"), meta.generate_name)
    if meta.name:
        if msgs := name_fn(meta.name, False):
            errs += each(msgs, path.child("name"), meta.name)
    elif not meta.generate_name:
        errs.append(FieldError.required(str(path.child("name")), "name or generateName is required"))
    if namespaced:
        if not meta.namespace:
            errs.append(FieldError.required(str(path.child("namespace"))))
        elif msgs := name_is_dns_label(meta.namespace, False):
            errs += each(msgs, path.child("namespace"), meta.namespace)
    elif meta.namespace:
        errs.append(FieldError.forbidden(str(path.child("namespace")), "not allowed on this type"))
    if meta.generation < 0:
        errs += validate_nonnegative_field(meta.generation, path.child("generation"))
    # Empty maps and lists have nothing to report: skip building their paths.
    if meta.labels:
        errs += validate_labels(meta.labels, path.child("labels"))
    if meta.annotations:
        errs += validate_annotations(meta.annotations, path.child("annotations"))
    if meta.owner_references:
        errs += _validate_owner_references(meta, path.child("ownerReferences"))
    if meta.finalizers:
        errs += _validate_finalizers(meta.finalizers, path.child("finalizers"))
    return errs
