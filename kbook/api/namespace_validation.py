"""Validation of Namespaces: ``ValidateNamespace`` (``pkg/apis/core/validation/validation.go``)."""

from __future__ import annotations

from kbook.api.formats import is_qualified_name
from kbook.api.model import Path
from kbook.api.namespace import Namespace
from kbook.api.validation import STANDARD_FINALIZERS, each, invalid, name_is_dns_label, validate_object_meta
from kbook.errors import FieldError

__all__ = ["validate_namespace"]


def validate_namespace(namespace: Namespace) -> list[FieldError]:
    """``ValidateNamespace``: a DNS-label name, no namespace, and ``spec.finalizers`` that
    are qualified names, standard or fully qualified (``validateFinalizerName``)."""
    errs = validate_object_meta(namespace.metadata, False, name_is_dns_label, Path("metadata"))
    path = Path("spec").child("finalizers")
    for finalizer in namespace.spec.finalizers:
        errs += each(is_qualified_name(finalizer), path, finalizer)
        if "/" not in finalizer and finalizer not in STANDARD_FINALIZERS:
            errs.append(invalid(path, finalizer, "name is neither a standard finalizer name nor is it fully qualified"))
    return errs
