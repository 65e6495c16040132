"""The ``metav1.Status`` failures the server returns, worded as apimachinery's
``pkg/api/errors/errors.go`` words them (``NewNotFound``, ``NewAlreadyExists``,
``NewGenerateNameConflict``, ``NewConflict``, ``NewInvalid``, ``NewResourceExpired``)."""

from __future__ import annotations

from kbook.controlplane.apiserver.resources import Resource
from kbook.controlplane.apiserver.types import AlreadyExists, Conflict, Expired, Invalid, NotFound
from kbook.errors import FieldError, ValidationError

__all__ = [
    "OPTIMISTIC_LOCK_ERROR_MSG",
    "not_found",
    "already_exists",
    "generate_name_conflict",
    "conflict",
    "precondition_failed",
    "invalid",
    "too_old_resource_version",
]

OPTIMISTIC_LOCK_ERROR_MSG = (
    "the object has been modified; please apply your changes to the latest version and try again"
)


def not_found(res: Resource, name: str) -> NotFound:
    return NotFound(f'{res.group_resource} "{name}" not found')


def already_exists(res: Resource, name: str, deleting: bool = False) -> AlreadyExists:
    """``object is being deleted: `` prefixes it when the existing object has a deletionTimestamp."""
    prefix = "object is being deleted: " if deleting else ""
    return AlreadyExists(f'{prefix}{res.group_resource} "{name}" already exists')


def generate_name_conflict(res: Resource, name: str) -> AlreadyExists:
    return AlreadyExists(
        f'{res.group_resource} "{name}" already exists, '
        "the server was not able to generate a unique name for the object"
    )


def conflict(res: Resource, name: str, detail: str = OPTIMISTIC_LOCK_ERROR_MSG) -> Conflict:
    return Conflict(f'Operation cannot be fulfilled on {res.group_resource} "{name}": {detail}')


def precondition_failed(res: Resource, name: str, wanted: str, actual: str) -> Conflict:
    """A delete whose resourceVersion precondition fails (``storage.Preconditions.Check``)."""
    detail = f"Precondition failed: ResourceVersion in precondition: {wanted}, ResourceVersion in object meta: {actual}"
    return conflict(res, name, detail)


def invalid(kind: str, name: str, errors: list[FieldError]) -> Invalid:
    """``<kind> "<name>" is invalid: <aggregate>``; ``errors`` keeps the field errors."""
    error = Invalid(str(ValidationError(kind, name, list(errors))))
    error.errors = list(errors)
    return error


def too_old_resource_version(requested: int, oldest: int) -> Expired:
    """The watch cache's wording (``storage/cacher/watch_cache.go``)."""
    return Expired(f"too old resource version: {requested} ({oldest})")
