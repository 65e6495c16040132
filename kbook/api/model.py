"""The building blocks every kind is made of: typed dataclass fields and their wire form.

A kind is a plain dataclass whose snake_case attributes map to camelCase wire names
(``wire("podCIDR")`` overrides the derived name). Field types say everything the
generic codec (:mod:`kbook.api.codec`) needs: ``str``, ``bool``, :data:`Int32`,
:data:`Int64`, :class:`~kbook.quantity.Quantity`, :class:`IntOrString`, lists,
string-keyed maps, nested models and ``X | None`` for Go pointers; :func:`opaque`
marks parts of the API this package keeps verbatim without modelling them.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from kbook.quantity import Quantity

__all__ = [
    "GoType",
    "Int32",
    "Int64",
    "ResourceList",
    "IntOrString",
    "KubeModel",
    "Path",
    "GoLiteral",
    "wire",
    "opaque",
    "camel",
    "go_quote",
]


@dataclass(frozen=True)
class GoType:
    """Annotation: the Go type a field decodes into, as ``encoding/json`` names it in errors."""

    name: str


_ATOI = re.compile(r"[+-]?[0-9]+", re.ASCII)

Int32 = Annotated[int, GoType("int32")]
Int64 = Annotated[int, GoType("int64")]
# core/v1 ResourceList: resource name -> quantity.
ResourceList = Annotated[dict[str, Quantity], GoType("v1.ResourceList")]


@dataclass(frozen=True)
class IntOrString:
    """``intstr.IntOrString``: an int32 or a string such as ``"25%"`` or a port name."""

    value: int | str

    @property
    def is_int(self) -> bool:
        return isinstance(self.value, int)

    def int_value(self) -> int:
        """``IntValue()``: the int, or the string parsed as a decimal int (0 if it is not one)."""
        if isinstance(self.value, int):
            return self.value
        return int(self.value) if _ATOI.fullmatch(self.value) else 0

    def __str__(self) -> str:
        return str(self.value)


class GoLiteral:
    """A bad value printed verbatim in a field error (Go ``%#v`` text built by hand)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text


class Path:
    """``field.Path``: ``spec.containers[0].resources.limits[cpu]``."""

    __slots__ = ("_s",)

    def __init__(self, s: str = "") -> None:
        self._s = s

    def child(self, *names: str) -> Path:
        s = self._s
        for name in names:
            s = f"{s}.{name}" if s else name
        return Path(s)

    def index(self, i: int) -> Path:
        return Path(f"{self._s}[{i}]")

    def key(self, k: str) -> Path:
        return Path(f"{self._s}[{k}]")

    def __str__(self) -> str:
        return self._s

    def __repr__(self) -> str:
        return f"Path({self._s!r})"


def go_quote(s: str) -> str:
    """Go's ``%q`` of a string (as JSON quotes it, which agrees for printable text)."""
    return json.dumps(s, ensure_ascii=False)


def wire(name: str, **kwargs: Any) -> Any:
    """A dataclass field whose wire name is not the camelCase of its attribute."""
    return dataclasses.field(metadata={"wire": name}, **kwargs)


def opaque(go: str, *, wire: str | None = None) -> Any:
    """A field kept verbatim: a list of objects when the Go type ``go`` starts with ``[]``
    (default empty), else one object (default ``None``); only that outer shape is checked."""
    metadata = {"opaque": go} | ({"wire": wire} if wire else {})
    if go.startswith("[]"):
        return dataclasses.field(metadata=metadata, default_factory=list)
    return dataclasses.field(metadata=metadata, default=None)


def camel(attr: str) -> str:
    """``image_pull_policy`` -> ``imagePullPolicy``."""
    head, *rest = attr.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class KubeModel:
    """Base of every modelled API struct; ``GO_PACKAGE`` is the Go package name shown in
    ``json: cannot unmarshal`` errors (``v1.Container``, ``v2.MetricSpec``)."""

    GO_PACKAGE: ClassVar[str] = "v1"

    @classmethod
    def go_type(cls) -> str:
        return f"{cls.GO_PACKAGE}.{cls.__name__}"

    def __deepcopy__(self, memo: dict[int, Any]) -> KubeModel:
        """``copy.deepcopy`` (the generated ``DeepCopy``) by a function written once per
        class for its fields (:func:`kbook.api.codec.copier`)."""
        copy_fn = _COPIERS.get(type(self))
        if copy_fn is None:
            from kbook.api.codec import copier  # the codec knows the fields' types

            copy_fn = _COPIERS[type(self)] = copier(type(self))
        return copy_fn(self, memo)


_COPIERS: dict[type, Callable[[Any, dict[int, Any]], Any]] = {}
_IMMUTABLE = frozenset({str, int, float, bool, type(None), Quantity, IntOrString})


def copy_value(value: Any, memo: dict[int, Any]) -> Any:
    """A deep copy of any value a model holds: a tree of models, lists, dicts and immutable values."""
    if type(value) in _IMMUTABLE:
        return value
    if type(value) is list:
        return [v if type(v) in _IMMUTABLE else copy_value(v, memo) for v in value]
    if type(value) is dict:
        return {k: v if type(v) in _IMMUTABLE else copy_value(v, memo) for k, v in value.items()}
    if isinstance(value, KubeModel):
        return value.__deepcopy__(memo)
    return copy.deepcopy(value, memo)


def copy_attributes(obj: KubeModel, memo: dict[int, Any]) -> KubeModel:
    """A deep copy of a model, attribute by attribute (for one with attributes besides its fields)."""
    new = object.__new__(type(obj))
    new.__dict__.update({k: copy_value(v, memo) for k, v in obj.__dict__.items()})
    return new
