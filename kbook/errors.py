"""Every error a user of kbook can cause, with Kubernetes' wording where it has one.

Field errors render exactly as apimachinery's ``field.Error.Error()``
(staging/src/k8s.io/apimachinery/pkg/util/validation/field/errors.go):
``<field path>: <type>[: <value>][: <detail>]``; several errors aggregate as
``util/errors.aggregate`` does (duplicates dropped, ``[a, b]`` when more than one).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

__all__ = [
    "KbookError",
    "QuantityError",
    "FieldError",
    "ValidationError",
    "ManifestError",
    "ImageError",
    "ContainerError",
    "DependencyError",
    "ConformanceError",
    "go_value",
    "aggregate",
]


class KbookError(Exception):
    """Base of every error kbook raises on purpose."""


class QuantityError(KbookError, ValueError):
    """A string that is not a resource.Quantity (``resource.ParseQuantity``)."""


class ManifestError(KbookError):
    """A manifest that cannot be loaded: YAML syntax, unknown kinds or fields, wrong types,
    invalid objects. ``errors`` holds one line per problem, each naming the source, the
    document or object and the field; ``str()`` is those lines joined by newlines."""

    def __init__(self, errors: list[str] | str):
        self.errors = [errors] if isinstance(errors, str) else list(errors)
        super().__init__("\n".join(self.errors))


class ImageError(KbookError):
    """An image, layer or layout that cannot be read, or a layer entry that is refused
    (an unsafe path, a bad whiteout name, a root that would change type, ...)."""


class ContainerError(KbookError):
    """A container operation the runtime refuses: an invalid lifecycle transition (in the OCI
    runtime spec's terms), an unknown container, a limit that cannot be set."""


class DependencyError(KbookError, ValueError):
    """A version or version constraint that cannot be parsed (PEP 440 and semver operators),
    or a service or library index that names one badly."""


class ConformanceError(KbookError):
    """A conformance vector file or folder that cannot be read."""


# field.ErrorType strings (field/errors.go ErrorType.String()).
NOT_FOUND = "Not found"
REQUIRED = "Required value"
DUPLICATE = "Duplicate value"
INVALID = "Invalid value"
NOT_SUPPORTED = "Unsupported value"
FORBIDDEN = "Forbidden"
TOO_LONG = "Too long"
TOO_MANY = "Too many"
INTERNAL = "Internal error"

# Types whose body omits the bad value (field.Error.ErrorBody()).
_OMIT_VALUE = {REQUIRED, FORBIDDEN, TOO_LONG, INTERNAL}


def _go_float(x: float) -> str:
    """Go's ``%v`` for a float64: shortest repr, exponent form outside [1e-4, 1e21)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    if x == int(x) and abs(x) < 1e21:
        return str(int(x))
    r = repr(x)
    if "e" in r:
        mant, exp = r.split("e")
        sign = "-" if exp.startswith("-") else "+"
        return f"{mant}e{sign}{abs(int(exp)):02d}"
    return r


def go_value(value: Any) -> str:
    """Render a bad value as ``field.Error`` does: ``%v`` for numbers and bools,
    ``%q`` for strings, ``null`` for nil, Go-syntax (``%#v``) for the rest."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        if all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            body = ", ".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in sorted(value.items()))
            return "map[string]string{" + body + "}"
        body = ", ".join(f"{json.dumps(str(k))}:{go_value(v)}" for k, v in sorted(value.items(), key=lambda kv: str(kv[0])))
        return "map[string]interface {}{" + body + "}"
    if isinstance(value, (list, tuple)):
        if all(isinstance(v, str) for v in value):
            return "[]string{" + ", ".join(json.dumps(v) for v in value) + "}"
        return "[]interface {}{" + ", ".join(go_value(v) for v in value) + "}"
    return str(value)


@dataclass(frozen=True)
class FieldError:
    """One field error: ``field.Error`` with its type, path, bad value and detail."""

    type: str
    field: str
    bad_value: Any = None
    detail: str = ""

    def body(self) -> str:
        """``field.Error.ErrorBody()``: the message without the field path."""
        s = self.type
        if self.type not in _OMIT_VALUE:
            s += ": " + go_value(self.bad_value)
        if self.detail:
            s += ": " + self.detail
        return s

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}" if self.field else self.body()

    # Constructors named as apimachinery's field.Invalid, field.Required, ...
    @classmethod
    def invalid(cls, field: str, value: Any, detail: str) -> "FieldError":
        return cls(INVALID, field, value, detail)

    @classmethod
    def required(cls, field: str, detail: str = "") -> "FieldError":
        return cls(REQUIRED, field, "", detail)

    @classmethod
    def not_supported(cls, field: str, value: Any, supported: list[str]) -> "FieldError":
        detail = "supported values: " + ", ".join(json.dumps(v) for v in supported) if supported else ""
        return cls(NOT_SUPPORTED, field, value, detail)

    @classmethod
    def forbidden(cls, field: str, detail: str) -> "FieldError":
        return cls(FORBIDDEN, field, "", detail)

    @classmethod
    def duplicate(cls, field: str, value: Any) -> "FieldError":
        return cls(DUPLICATE, field, value, "")

    @classmethod
    def too_long(cls, field: str, value: Any, max_length: int) -> "FieldError":
        return cls(TOO_LONG, field, value, f"must have at most {max_length} bytes")


def aggregate(messages: list[str]) -> str:
    """``utilerrors.NewAggregate(...).Error()``: one message as is, several as ``[a, b]``,
    duplicates dropped in first-seen order."""
    seen: list[str] = []
    for m in messages:
        if m not in seen:
            seen.append(m)
    if len(seen) == 1:
        return seen[0]
    return "[" + ", ".join(seen) + "]"


class ValidationError(KbookError, ValueError):
    """An object that fails validation: ``apierrors.NewInvalid`` (HTTP 422, reason Invalid).

    ``str()`` is ``<Kind[.group]> "<name>" is invalid: <aggregate>``; ``errors`` keeps
    the individual field errors, each printable on its own line.
    """

    def __init__(self, kind: str, name: str, errors: list[FieldError | str]):
        self.kind = kind
        self.name = name
        self.errors = list(errors)
        msg = f'{kind} "{name}" is invalid'
        if self.errors:
            msg += ": " + aggregate([str(e) for e in self.errors])
        super().__init__(msg)
