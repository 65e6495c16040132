"""One declarative codec for every kind: JSON-shaped data <-> typed dataclasses.

Decoding behaves as the API server's strict JSON decoding (``sigs.k8s.io/json`` with
``fieldValidation=Strict``): unknown and duplicate fields are reported by path
(``unknown field "spec.template.spec.containers[0].imagePullPolicyy"``), values of the
wrong JSON type are reported as ``encoding/json`` reports them (``json: cannot unmarshal
string into Go struct field DeploymentSpec.spec.replicas of type int32``), and ``null``
leaves a field at its zero value. Unlike a single ``json.Unmarshal`` it keeps going and
collects every problem. Encoding emits camelCase wire names and omits unset fields.

Each class's encoding, decoding and deep copy run through functions written once for
its fields (the generated ``DeepCopy`` and codecs of Go, in spirit); the generic code
decodes whatever they do not expect and reports the problems.
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
from typing import Any, NoReturn, Union

from kbook.api.meta import KubeObject
from kbook.api.model import GoType, IntOrString, KubeModel, camel, copy_attributes, copy_value, go_quote
from kbook.errors import QuantityError
from kbook.quantity import Quantity

__all__ = ["WireMap", "fields_of", "decode_object", "encode", "copier", "json_kind"]


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


_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})  # kept as they are, without a call


def _plain(value: Any) -> Any:
    """A verbatim copy with plain dicts (what an opaque field keeps)."""
    if isinstance(value, dict):
        return {k: v if type(v) in _JSON_SCALARS else _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [v if type(v) in _JSON_SCALARS else _plain(v) for v in value]
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
    try:
        return _function("decode_object", cls)(data)  # type: ignore[no-any-return]
    except _Slow:
        return _decode_generic(cls, data, errors)


def _decode_generic(cls: type[KubeObject], data: dict[str, Any], errors: list[str]) -> KubeObject:
    """:func:`decode_object` by the generic decoder, which finds and reports every problem."""
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
        return [v if type(v) in _JSON_SCALARS else _encode(v) for v in value]
    if isinstance(value, dict):
        return {k: v if type(v) in _JSON_SCALARS else _encode(v) for k, v in value.items()}
    return copy.deepcopy(value)


def encode(obj: KubeModel) -> dict[str, Any]:
    """The wire form of a model: camelCase keys, quantities as canonical strings, unset
    fields (``None``, or a non-pointer field at its zero value) left out."""
    return _function("encode", type(obj))(obj)  # type: ignore[no-any-return]


def copier(cls: type) -> Callable[[Any, dict[int, Any]], Any]:
    """The deep copy function of a model class (``KubeModel.__deepcopy__`` calls it)."""
    return _function("copy", cls)


# -- per-class functions --------------------------------------------------------------
#
# Copying, encoding and decoding walk the same few shapes over and over, so each model
# class gets its own functions, written once for its fields on first use (as the
# dataclasses module writes ``__init__``): straight-line code with the attribute and wire
# names, zero values and the nested classes' functions filled in. They trust a value
# declared ``str``, ``int``, ``bool``, ``Quantity`` or ``IntOrString`` (a field, or an
# element of a list or map) to be one, immutable; they check the type of lists, maps and
# structs and hand what they do not expect to the generic code above.


class _Slow(Exception):
    """A generated decoder met something other than well-typed data (a type error, a
    ``null``, an unknown or duplicate field, a float): the generic decoder redoes the
    object and reports the problems."""


def _slow() -> NoReturn:
    raise _Slow


def _decode_quantity_fast(value: Any) -> Quantity:
    if type(value) is str:
        text = value.strip()
    elif type(value) is int:
        text = str(value)
    else:
        raise _Slow
    try:
        return _parse_quantity(text)
    except QuantityError:
        raise _Slow from None


def _decode_intstr_fast(value: Any) -> IntOrString:
    if type(value) is str or (type(value) is int and -(2**31) <= value < 2**31):
        return IntOrString(value)
    raise _Slow


def _decode_opaque_fast(value: Any, is_list: bool) -> Any:
    if is_list:
        if not isinstance(value, list) or not all(v is None or isinstance(v, dict) for v in value):
            raise _Slow
    elif not isinstance(value, dict):
        raise _Slow
    return _plain(value)


_NAMESPACE: dict[str, Any] = {  # the generated functions' globals
    "_new": object.__new__, "_Quantity": Quantity, "_IntOrString": IntOrString, "_copy_value": copy_value,
    "_copy_attributes": copy_attributes, "_encode": _encode, "_slow": _slow, "_quantity": _decode_quantity_fast,
    "_intstr": _decode_intstr_fast, "_opaque": _decode_opaque_fast,
}
_NAMES: dict[type, str] = {}
_FUNCTIONS: dict[tuple[str, type], Callable[..., Any]] = {}


def _function(what: str, cls: type) -> Callable[..., Any]:
    """``copy``, ``encode``, ``decode`` or ``decode_object`` (without apiVersion and kind) of a class."""
    fn = _FUNCTIONS.get((what, cls))
    if fn is None:
        fn = _FUNCTIONS[what, cls] = _NAMESPACE[f"{what}_{_name(cls)}"]
    return fn


def _name(cls: type) -> str:
    """The suffix of a class's generated functions, writing them (and its nested classes')
    the first time."""
    name = _NAMES.get(cls)
    if name is None:
        fields = list(fields_of(cls).values())
        name = _NAMES[cls] = f"{cls.__name__}_{len(_NAMES)}"  # before the nested classes: a class may nest itself
        _NAMESPACE["C_" + name] = cls
        gen = _Writer(cls, name, fields)
        source = "\n".join([gen.copy(), gen.encode(), gen.decode(top=False)]
                           + ([gen.decode(top=True)] if issubclass(cls, KubeObject) else []))
        exec(compile(source, f"<kbook.api.codec {cls.__module__}.{cls.__qualname__}>", "exec"), _NAMESPACE)
    return name


class _Writer:
    """Writes the source of one class's functions."""

    def __init__(self, cls: type, name: str, fields: list[_Field]) -> None:
        self.cls, self.name, self.fields = cls, name, fields

    def const(self, kind: str, i: int, value: Any) -> str:
        """A name in the functions' namespace bound to ``value``."""
        key = f"{kind}_{self.name}_{i}"
        _NAMESPACE[key] = value
        return key

    # copy: a shallow copy of the instance dict, then a deep copy of each mutable field

    def copy(self) -> str:
        n = self.name
        lines = [f"def copy_{n}(self, memo):",
                 "    d = self.__dict__",
                 f"    if len(d) != {len(self.fields)}:",  # attributes besides the fields
                 "        return _copy_attributes(self, memo)",
                 "    new = d.copy()"]
        for f in self.fields:
            t = f.type
            if t.kind == "struct" or (t.kind == "opaque" and t.elem is None):  # None: as d.copy() has it
                expr = "_copy_value(v, memo)"
                if t.kind == "struct":
                    c = _name(t.cls)  # type: ignore[arg-type]
                    expr = f"copy_{c}(v, memo) if type(v) is C_{c} else {expr}"
                lines += [f"    v = d[{f.attr!r}]", "    if v is not None:", f"        new[{f.attr!r}] = {expr}"]
                continue
            expr = self.copy_expr(t, "v", 0)
            if expr != "v":
                lines += [f"    v = d[{f.attr!r}]", f"    new[{f.attr!r}] = {expr}"]
        lines += [f"    obj = _new(C_{n})", "    obj.__dict__ = new", "    return obj", ""]
        return "\n".join(lines)

    def copy_expr(self, t: _Type, v: str, depth: int) -> str:
        if t.kind == "struct":
            c = _name(t.cls)  # type: ignore[arg-type]
            return f"(copy_{c}({v}, memo) if type({v}) is C_{c} else {v} if {v} is None else _copy_value({v}, memo))"
        if t.kind in ("list", "map"):
            x = f"x{depth}"
            elem = self.copy_expr(t.elem, x, depth + 1)  # type: ignore[arg-type]
            shape = "list" if t.kind == "list" else "dict"
            if elem == x:
                return f"({v}.copy() if type({v}) is {shape} else _copy_value({v}, memo))"
            if t.kind == "list":  # an empty one without a comprehension
                return f"(([{elem} for {x} in {v}] if {v} else []) if type({v}) is list else _copy_value({v}, memo))"
            each = f"{{k{depth}: {elem} for k{depth}, {x} in {v}.items()}}"
            return f"(({each} if {v} else {{}}) if type({v}) is dict else _copy_value({v}, memo))"
        if t.kind == "opaque":  # mostly unset: None or []
            if t.elem is None:
                return f"({v} if {v} is None else _copy_value({v}, memo))"
            return f"([] if type({v}) is list and not {v} else _copy_value({v}, memo))"
        return v  # str, int, bool, Quantity, IntOrString: immutable

    # encode: each field unless unset, in declaration order

    def encode(self) -> str:
        n = self.name
        lines = [f"def encode_{n}(obj):"]
        if issubclass(self.cls, KubeObject):
            lines.append(f"    out = {{'apiVersion': {self.cls.API_VERSION!r}, 'kind': {self.cls.KIND!r}}}")
        else:
            lines.append("    out = {}")
        for i, f in enumerate(self.fields):
            t, expr = f.type, self.encode_expr(f.type, "v", 0)
            lines.append(f"    v = obj.{f.attr}")
            if t.optional:
                lines += ["    if v is not None:", f"        out[{f.wire!r}] = {expr}"]
            elif t.kind == "struct" and _empty_means_zero(t.cls):  # type: ignore[arg-type]
                # Only a struct that encodes to {} can equal its zero value: compare just those.
                zero = self.const("Z", i, f.zero)
                lines += ["    if v is not None:", f"        e = {expr}",
                          f"        if e or not v == {zero}:", f"            out[{f.wire!r}] = e"]
            elif t.kind in ("str", "int", "bool") and not f.zero:  # "", 0 or False: unset iff falsy
                lines += ["    if v:", f"        out[{f.wire!r}] = {expr}"]
            else:
                zero = self.const("Z", i, f.zero)
                lines += [f"    if v is not None and not v == {zero}:", f"        out[{f.wire!r}] = {expr}"]
        lines += ["    return out", ""]
        return "\n".join(lines)

    def encode_expr(self, t: _Type, v: str, depth: int) -> str:
        if t.kind == "struct":
            c = _name(t.cls)  # type: ignore[arg-type]
            return f"(encode_{c}({v}) if type({v}) is C_{c} else _encode({v}))"
        if t.kind == "quantity":
            return f"(str({v}) if type({v}) is _Quantity else _encode({v}))"
        if t.kind == "intstr":
            return f"({v}.value if type({v}) is _IntOrString else _encode({v}))"
        if t.kind in ("list", "map"):
            x = f"x{depth}"
            elem = self.encode_expr(t.elem, x, depth + 1)  # type: ignore[arg-type]
            if t.kind == "list":
                each = f"{v}.copy()" if elem == x else f"[{elem} for {x} in {v}]"
                return f"({each} if type({v}) is list else _encode({v}))"
            each = f"{v}.copy()" if elem == x else f"{{k{depth}: {elem} for k{depth}, {x} in {v}.items()}}"
            return f"({each} if type({v}) is dict else _encode({v}))"
        if t.kind == "opaque":
            return f"_encode({v})"
        return v  # str, int, bool

    # decode: well-typed data only, else _Slow

    def decode(self, top: bool) -> str:
        """The decoder of a struct; ``top``: of a whole object, whose apiVersion and kind are skipped."""
        n = self.name
        lines = [f"def {'decode_object' if top else 'decode'}_{n}(data):",
                 "    if type(data) is not dict and getattr(data, 'duplicates', None):",
                 "        _slow()",
                 "    n = ('apiVersion' in data) + ('kind' in data)" if top else "    n = 0"]
        values = []
        for i, f in enumerate(self.fields):
            if top and f.wire in ("apiVersion", "kind"):
                values.append(self.default(f, i))
                continue
            lines += [f"    if {f.wire!r} in data:",
                      "        n += 1",
                      f"        v = data[{f.wire!r}]",
                      f"        a{i} = {self.decode_expr(f.type, 'v', 0)}",
                      "    else:",
                      f"        a{i} = {self.default(f, i)}"]
            values.append(f"a{i}")
        lines += ["    if n != len(data):",  # an unknown field
                  "        _slow()",
                  f"    obj = _new(C_{n})",
                  "    obj.__dict__ = {" + ", ".join(f"{f.attr!r}: {v}" for f, v in zip(self.fields, values)) + "}",
                  "    return obj", ""]
        return "\n".join(lines)

    def default(self, f: _Field, i: int) -> str:
        """What the dataclass's ``__init__`` sets an absent field to."""
        if f.factory is list:
            return "[]"
        if f.factory is dict:
            return "{}"
        if f.factory is not None:
            return self.const("F", i, f.factory) + "()"
        return self.const("D", i, f.default)

    def decode_expr(self, t: _Type, v: str, depth: int) -> str:
        kind = t.kind
        if kind == "str":
            return f"({v} if type({v}) is str else _slow())"
        if kind == "bool":
            return f"({v} if type({v}) is bool else _slow())"
        if kind == "int":
            low, high = -(2 ** (t.bits - 1)), 2 ** (t.bits - 1) - 1
            return f"({v} if type({v}) is int and {low} <= {v} <= {high} else _slow())"
        if kind == "quantity":
            return f"_quantity({v})"
        if kind == "intstr":
            return f"_intstr({v})"
        if kind == "struct":
            c = _name(t.cls)  # type: ignore[arg-type]
            return f"(decode_{c}({v}) if isinstance({v}, dict) else _slow())"
        if kind == "list":
            x = f"x{depth}"
            elem = self.decode_expr(t.elem, x, depth + 1)  # type: ignore[arg-type]
            return f"([{elem} for {x} in {v}] if isinstance({v}, list) else _slow())"
        if kind == "map":
            x = f"x{depth}"
            elem = self.decode_expr(t.elem, x, depth + 1)  # type: ignore[arg-type]
            return f"({{k{depth}: {elem} for k{depth}, {x} in {v}.items()}} if isinstance({v}, dict) else _slow())"
        return f"_opaque({v}, {t.elem is not None})"


@cache
def _empty_means_zero(cls: type) -> bool:
    """Whether only an instance that encodes to ``{}`` can equal ``cls()``: true when every
    field takes part in ``==`` and every pointer field defaults to ``None`` (an instance
    that encodes a field differs from ``cls()`` in that field)."""
    return all(f.compare for f in dataclasses.fields(cls)) and all(
        f.default is None for f in fields_of(cls).values() if f.type.optional)
