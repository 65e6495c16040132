"""Resource names and quantities: which names a container may request, which must be
whole numbers, which may be overcommitted.

``pkg/apis/core/helper/helpers.go`` (IsStandardContainerResourceName, IsNativeResource,
IsExtendedResourceName, IsOvercommitAllowed, IsIntegerResourceName) and the resource
checks of ``pkg/apis/core/validation/validation.go`` (validateResourceName,
validateContainerResourceName, ValidateResourceQuantityValue).
"""

from __future__ import annotations

from kbook.api.formats import is_qualified_name
from kbook.api.model import GoLiteral, Path
from kbook.api.validation import IS_NEGATIVE_ERROR_MSG, each, invalid
from kbook.errors import FieldError
from kbook.quantity import Quantity

__all__ = [
    "is_extended_resource_name",
    "is_overcommit_allowed",
    "validate_container_resource_name",
    "validate_resource_quantity_value",
    "hugepage_value_error",
    "HUGEPAGES_PREFIX",
]

Errors = list[FieldError]

_STANDARD_RESOURCES = {
    "cpu", "memory", "ephemeral-storage",
    "requests.cpu", "requests.memory", "requests.ephemeral-storage",
    "limits.cpu", "limits.memory", "limits.ephemeral-storage",
    "pods", "resourcequotas", "services", "replicationcontrollers", "secrets", "configmaps",
    "persistentvolumeclaims", "storage", "requests.storage", "services.nodeports", "services.loadbalancers",
}  # fmt: skip
_STANDARD_CONTAINER_RESOURCES = {"cpu", "memory", "ephemeral-storage"}
_INTEGER_RESOURCES = {
    "pods", "resourcequotas", "services", "replicationcontrollers", "secrets", "configmaps",
    "persistentvolumeclaims", "services.nodeports", "services.loadbalancers",
}  # fmt: skip
HUGEPAGES_PREFIX = "hugepages-"


def _is_native_resource(name: str) -> bool:
    """``IsNativeResource``: unprefixed or in ``*kubernetes.io/``."""
    return "/" not in name or "kubernetes.io/" in name


def is_extended_resource_name(name: str) -> bool:
    """``IsExtendedResourceName``: e.g. ``nvidia.com/gpu``."""
    if _is_native_resource(name) or name.startswith("requests."):
        return False
    return not is_qualified_name("requests." + name)


def is_overcommit_allowed(name: str) -> bool:
    """``IsOvercommitAllowed``: native and not hugepages (requests may then differ from limits)."""
    return _is_native_resource(name) and not name.startswith(HUGEPAGES_PREFIX)


def _validate_resource_name(name: str, path: Path) -> Errors:
    """``validateResourceName``."""
    errs = each(is_qualified_name(name), path, GoLiteral(name))
    if errs:
        return errs
    standard = name in _STANDARD_RESOURCES or name.startswith((HUGEPAGES_PREFIX, "requests." + HUGEPAGES_PREFIX))
    if "/" not in name and not standard:
        errs.append(invalid(path, GoLiteral(name), "must be a standard resource type or fully qualified"))
    return errs


def validate_container_resource_name(name: str, path: Path) -> Errors:
    """``validateContainerResourceName``: standard container resources or extended resources."""
    errs = _validate_resource_name(name, path)
    if "/" not in name:
        if name not in _STANDARD_CONTAINER_RESOURCES and not name.startswith(HUGEPAGES_PREFIX):
            errs.append(invalid(path, GoLiteral(name), "must be a standard resource for containers"))
    elif not _is_native_resource(name) and not is_extended_resource_name(name):
        errs.append(invalid(path, GoLiteral(name), "doesn't follow extended resource name standard"))
    return errs


def validate_resource_quantity_value(name: str, quantity: Quantity, path: Path) -> Errors:
    """``ValidateResourceQuantityValue``: non-negative, whole for integer resources."""
    errs = []
    if quantity.sign() < 0:
        errs.append(invalid(path, str(quantity), IS_NEGATIVE_ERROR_MSG))
    if (name in _INTEGER_RESOURCES or is_extended_resource_name(name)) and quantity.milli_value() % 1000:
        errs.append(invalid(path, GoLiteral(str(quantity)), "must be an integer"))
    return errs


def hugepage_value_error(name: str, quantity: Quantity) -> str | None:
    """``validateResourceQuantityHugePageValue`` (``IsHugePageResourceValueDivisible``)."""
    try:
        page = Quantity.parse(name[len(HUGEPAGES_PREFIX) :])
    except ValueError:
        page = None
    if page is None or page.sign() <= 0 or page.milli_value() % 1000 or quantity.value() % page.value():
        return f"{quantity} is not positive integer multiple of {name}"
    return None
