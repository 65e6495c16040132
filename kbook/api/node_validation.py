"""Validation of Nodes: ``ValidateNode`` and ``validateNodeTaints``
(``pkg/apis/core/validation/validation.go``). Taint errors are reported under
``metadata.taints``, as upstream reports them.
"""

from __future__ import annotations

from kbook.api.core import Node, Taint
from kbook.api.formats import cidr_family, is_valid_cidr, is_valid_label_value
from kbook.api.model import GoLiteral, Path, go_quote
from kbook.api.pod_validation import TAINT_EFFECTS
from kbook.api.resource_names import validate_resource_quantity_value
from kbook.api.validation import (
    each,
    invalid,
    name_is_dns_subdomain,
    validate_label_name,
    validate_object_meta,
)
from kbook.errors import DUPLICATE, FieldError

__all__ = ["validate_node"]

Errors = list[FieldError]


def _taint_literal(taint: Taint) -> GoLiteral:
    """``%#v`` of a ``core.Taint``."""
    added = "(*v1.Time)(nil)" if taint.time_added is None else "(*v1.Time)(0xc000000000)"
    key, value, effect = (go_quote(s) for s in (taint.key, taint.value, taint.effect))
    return GoLiteral(f"core.Taint{{Key:{key}, Value:{value}, Effect:{effect}, TimeAdded:{added}}}")


def _validate_node_taints(taints: list[Taint], path: Path) -> Errors:
    """``validateNodeTaints``: key, value, effect; unique by (key, effect)."""
    errs: Errors = []
    seen: set[tuple[str, str]] = set()
    for i, taint in enumerate(taints):
        p = path.index(i)
        errs += validate_label_name(taint.key, p.child("key"))
        msgs = is_valid_label_value(taint.value)
        if msgs:
            errs.append(invalid(p.child("value"), taint.value, ";".join(msgs)))
        if not taint.effect:
            errs.append(FieldError.required(str(p.child("effect"))))
        elif taint.effect not in TAINT_EFFECTS:
            errs.append(FieldError.not_supported(str(p.child("effect")), taint.effect, TAINT_EFFECTS))
        if (taint.effect, taint.key) in seen:
            detail = "taints must be unique by key and effect pair"
            errs.append(FieldError(DUPLICATE, str(p), _taint_literal(taint), detail))
            continue
        seen.add((taint.effect, taint.key))
    return errs


def validate_node(node: Node) -> Errors:
    """``ValidateNode``: metadata, taints, capacity/allocatable quantities, pod CIDRs."""
    errs = validate_object_meta(node.metadata, False, name_is_dns_subdomain, Path("metadata"))
    errs += _validate_node_taints(node.spec.taints, Path("metadata").child("taints"))
    for section, resources in (("capacity", node.status.capacity), ("allocatable", node.status.allocatable)):
        for name, quantity in sorted(resources.items()):
            errs += validate_resource_quantity_value(name, quantity, Path("status").child(section, name))
    cidrs = node.spec.pod_cidrs or ([node.spec.pod_cidr] if node.spec.pod_cidr else [])
    path = Path("spec").child("podCIDRs")
    for i, cidr in enumerate(cidrs):
        errs += each(is_valid_cidr(cidr), path.index(i), cidr)
    if len(cidrs) > 1 and all(not is_valid_cidr(c) for c in cidrs):
        families = {cidr_family(c) for c in cidrs}
        if families != {4, 6} or len(cidrs) > 2:
            errs.append(invalid(path, cidrs, "may specify no more than one CIDR for each IP family"))
        for i, cidr in enumerate(cidrs):
            if cidr in cidrs[:i]:
                errs.append(FieldError.duplicate(str(path.index(i)), cidr))
    return errs
