"""One declarative codec for every kind: JSON-shaped data <-> typed dataclasses.

Decoding behaves as the API server's strict JSON decoding (``sigs.k8s.io/json`` with
``fieldValidation=Strict``): unknown and duplicate fields are reported by path
(``unknown field "spec.template.spec.containers[0].imagePullPolicyy"``), values of the
wrong JSON type are reported as ``encoding/json`` reports them (``json: cannot unmarshal
string into Go struct field DeploymentSpec.spec.replicas of type int32``), and ``null``
leaves a field at its zero value. Unlike a single ``json.Unmarshal`` it keeps going and
collects every problem. Encoding emits camelCase wire names and omits unset fields.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import types
import typing
from dataclasses import dataclass
from decimal import Decimal
from collections.abc import Callable
from functools import cache, lru_cache
from typing import Any, Union

from kbook.api.meta import KubeObject
from kbook.api.model import GoType, IntOrString, KubeModel, camel, go_quote
from kbook.errors import QuantityError
from kbook.quantity import Quantity

__all__ = ["WireMap", "fields_of", "decode_object", "encode", "json_kind"]


class WireMap(dict[str, Any]):
    """A decoded mapping that remembers keys given more than once (last one wins)."""

    def __init__(self) -> None:
        super().__init__()
        self.duplicates: list[str] = []


@dataclass(frozen=True)
class _Type:
    """A field type compiled from its annotation."""

    kind: str  # str | int | bool | quantity | intstr | list | map | struct | opaque
    go: str  # the Go type as encoding/json names it
    elem: _Type | None = None
    cls: type | None = None
    bits: int = 0
    optional: bool = False


@dataclass(frozen=True)
class _Field:
    """A dataclass field as the codec sees it."""

    attr: str
    wire: str
    type: _Type
    default: Any
    factory: Callable[[], Any] | None
    zero: Any = dataclasses.field(default=None, compare=False)  # the default encode compares with (never handed out)

    def zero_value(self) -> Any:
        """The field's default: what an absent or ``null`` wire value decodes to."""
        return self.factory() if self.factory is not None else self.default


_PRIMITIVES = {str: _Type("str", "string"), bool: _Type("bool", "bool")}
_INT_BITS = {"int32": 32, "int64": 64}


def _compile(tp: Any, go: str | None = None) -> _Type:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        base, *extras = typing.get_args(tp)
        names = [e.name for e in extras if isinstance(e, GoType)]
        return _compile(base, names[0] if names else go)
    if origin in (Union, types.UnionType):
        (inner,) = [a for a in typing.get_args(tp) if a is not type(None)]
        return dataclasses.replace(_compile(inner, go), optional=True)
    if origin is list:
        elem = _compile(typing.get_args(tp)[0], go[2:] if go and go.startswith("[]") else None)
        return _Type("list", go or "[]" + elem.go, elem=elem)
    if origin is dict:
        elem = _compile(typing.get_args(tp)[1])
        return _Type("map", go or "map[string]" + elem.go, elem=elem)
    if tp is int:
        return _Type("int", go or "int64", bits=_INT_BITS.get(go or "int64", 64))
    if tp is Quantity:
        return _Type("quantity", "resource.Quantity")
    if tp is IntOrString:
        return _Type("intstr", "intstr.IntOrString")
    if isinstance(tp, type) and issubclass(tp, KubeModel):
        return _Type("struct", tp.go_type(), cls=tp)
    return _PRIMITIVES[tp]


@cache
def fields_of(cls: type) -> dict[str, _Field]:
    """The wire fields of a model class, keyed by wire name, in declaration order."""
    hints = typing.get_type_hints(cls, include_extras=True)
    out = {}
    for f in dataclasses.fields(cls):
        wire = f.metadata.get("wire", camel(f.name))
        if "opaque" in f.metadata:
            go = f.metadata["opaque"]
            t = _Type("opaque", go, elem=_Type("opaque", go[2:]) if go.startswith("[]") else None)
        else:
            t = _compile(hints[f.name])
        factory = None if f.default_factory is dataclasses.MISSING else f.default_factory
        out[wire] = _Field(f.name, wire, t, f.default, factory, factory() if factory is not None else f.default)
    return out


# -- decoding -------------------------------------------------------------------------


class _At:
    """Where the decoder is: display path, ``encoding/json`` struct and field stack. Built
    as a chain from the parent; the path and stack are only spelled out for an error."""

    __slots__ = ("parent", "step", "is_field", "struct", "errors")

    def __init__(self, parent: _At | None, step: str, is_field: bool, struct: str, errors: list[str]) -> None:
        self.parent, self.step, self.is_field, self.struct, self.errors = parent, step, is_field, struct, errors

    @property
    def path(self) -> str:
        if self.parent is None:
            return self.step
        parent = self.parent.path
        return f"{parent}.{self.step}" if self.is_field and parent else parent + self.step

    @property
    def stack(self) -> tuple[str, ...]:
        if self.parent is None:
            return ()
        return self.parent.stack + (self.step,) if self.is_field else self.parent.stack

    def field(self, struct: str, wire: str) -> _At:
        return _At(self, wire, True, struct, self.errors)

    def item(self, suffix: str) -> _At:
        return _At(self, suffix, False, self.struct, self.errors)

    def type_error(self, what: str, go: str) -> None:
        """``json.UnmarshalTypeError.Error()`` with the decoder's error context."""
        field = ".".join(self.stack)
        self.errors.append(f"json: cannot unmarshal {what} into Go struct field {self.struct}.{field} of type {go}")


def json_kind(value: Any) -> str:
    """The JSON kind ``encoding/json`` names in type errors: string, number, bool, array, object."""
    """The JSON kind ``encoding/json`` names in type errors."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _json_number(value: int | float) -> str:
    """The JSON text ``encoding/json`` writes for a number (YAML floats become float64):
    positional between 1e-6 and 1e21, else ``1e-7`` / ``1e+21``."""
    if isinstance(value, int):
        return str(value)
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    if 1e-6 <= abs(value) < 1e21:
        return format(Decimal(repr(value)), "f")
    mantissa, _, exponent = repr(value).partition("e")
    return f"{mantissa}e{int(exponent):+d}"


_ZEROS: dict[str, Any] = {"str": "", "int": 0, "bool": False, "intstr": IntOrString(0), "opaque": None}


def _zero(t: _Type) -> Any:
    """The Go zero value of a type (what ``null`` decodes to inside lists and maps)."""
    if t.kind == "struct":
        return t.cls()  # type: ignore[misc]
    if t.kind == "quantity":
        return Quantity.from_int(0)
    if t.kind in ("list", "map"):
        return [] if t.kind == "list" else {}
    return _ZEROS[t.kind]


def _plain(value: Any) -> Any:
    """A verbatim copy with plain dicts (what an opaque field keeps)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _decode(t: _Type, value: Any, at: _At) -> Any:
    if value is None:
        return None if t.optional else _zero(t)
    kind = t.kind
    if kind == "str":
        if isinstance(value, str):
            return value
        at.type_error(json_kind(value), t.go)
    elif kind == "bool":
        if isinstance(value, bool):
            return value
        at.type_error(json_kind(value), t.go)
    elif kind == "int":
        return _decode_int(value, t.go, t.bits, at)
    elif kind == "quantity":
        return _decode_quantity(value, at)
    elif kind == "intstr":
        if isinstance(value, str):
            return IntOrString(value)
        number = _decode_int(value, "int32", 32, at)
        return None if number is None else IntOrString(number)
    elif kind == "list":
        if isinstance(value, list):
            return [_decode(t.elem, v, at.item(f"[{i}]")) for i, v in enumerate(value)]  # type: ignore[arg-type]
        at.type_error(json_kind(value), t.go)
    elif kind == "map":
        if isinstance(value, dict):
            return {k: _decode(t.elem, v, at.item(f"[{k}]")) for k, v in value.items()}  # type: ignore[arg-type]
        at.type_error(json_kind(value), t.go)
    elif kind == "struct":
        if isinstance(value, dict):
            return _decode_struct(t.cls, value, at)  # type: ignore[arg-type]
        at.type_error(json_kind(value), t.go)
    elif t.elem is not None:  # a verbatim list of objects
        if isinstance(value, list):
            for i, v in enumerate(value):
                if v is not None and not isinstance(v, dict):
                    at.item(f"[{i}]").type_error(json_kind(v), t.elem.go)
            return _plain(value)
        at.type_error(json_kind(value), t.go)
    else:  # a verbatim object
        if isinstance(value, dict):
            return _plain(value)
        at.type_error(json_kind(value), t.go)
    return None


def _decode_int(value: Any, go: str, bits: int, at: _At) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        at.type_error(json_kind(value), go)
        return None
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        at.type_error("number", go)
        return None
    if value != int(value) or not -(2 ** (bits - 1)) <= int(value) < 2 ** (bits - 1):
        at.type_error("number " + _json_number(value), go)
        return None
    return int(value)


def _decode_quantity(value: Any, at: _At) -> Quantity | None:
    """``Quantity.UnmarshalJSON``: a string or a bare number, parsed as ``ParseQuantity``."""
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        text = _json_number(value)
    else:
        text = json.dumps(value, separators=(",", ":"))
    try:
        return _parse_quantity(text)
    except QuantityError as e:
        at.errors.append(f"{at.path}: {e}")
        return None


@lru_cache(maxsize=4096)
def _parse_quantity(text: str) -> Quantity:
    """``Quantity.parse``, remembered: quantities are immutable and a cluster's objects
    repeat the same few (``100m``, ``128Mi``)."""
    return Quantity.parse(text)


def _decode_struct(cls: type, data: dict[str, Any], at: _At) -> Any:
    fields = fields_of(cls)
    for key in getattr(data, "duplicates", ()):
        at.errors.append(f"duplicate field {go_quote(at.field('', key).path)}")
    kwargs = {}
    for key, value in data.items():
        spec = fields.get(key)
        if spec is None:
            at.errors.append(f"unknown field {go_quote(at.field('', key).path)}")
            continue
        kind = spec.type.kind
        if (kind == "str" and isinstance(value, str)) or (kind == "bool" and isinstance(value, bool)):
            kwargs[spec.attr] = value  # the common case, without the decoder's bookkeeping
            continue
        decoded = _decode(spec.type, value, at.field(cls.__name__, key))
        if decoded is not None:
            kwargs[spec.attr] = decoded
    return cls(**kwargs)


def decode_object(cls: type[KubeObject], data: dict[str, Any], errors: list[str]) -> KubeObject:
    """Decode one manifest object (``apiVersion`` and ``kind`` already resolved to ``cls``),
    appending every problem to ``errors``."""
    body = WireMap()
    body.update((k, v) for k, v in data.items() if k not in ("apiVersion", "kind"))
    body.duplicates = list(getattr(data, "duplicates", ()))
    obj: KubeObject = _decode_struct(cls, body, _At(None, "", False, "", errors))
    return obj


# -- encoding -------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float)):  # immutable: as is (bool is an int)
        return value
    if isinstance(value, KubeModel):
        return encode(value)
    if isinstance(value, Quantity):
        return str(value)
    if isinstance(value, IntOrString):
        return value.value
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return copy.deepcopy(value)


def encode(obj: KubeModel) -> dict[str, Any]:
    """The wire form of a model: camelCase keys, quantities as canonical strings, unset
    fields (``None``, or a non-pointer field at its zero value) left out."""
    out: dict[str, Any] = {}
    if isinstance(obj, KubeObject):
        out["apiVersion"], out["kind"] = obj.API_VERSION, obj.KIND
    for spec in fields_of(type(obj)).values():
        value = getattr(obj, spec.attr)
        if value is None or (not spec.type.optional and value == spec.zero):
            continue
        out[spec.wire] = _encode(value)
    return out
