"""Manifests: multi-document YAML as ``kubectl apply -f`` reads it, and back.

A stream is split at ``---`` lines as ``k8s.io/apimachinery/pkg/util/yaml.YAMLReader``
splits it; each document is read as YAML 1.1 (as ``sigs.k8s.io/yaml`` reads it, except
that timestamps stay strings), empty documents are skipped, and a ``kind: List`` is
expanded into its ``items``. Each object then goes through what the API server does on
create: strict decoding, defaulting, validation. Loading is all-or-nothing: every
problem in every document is collected and raised as one
:class:`~kbook.errors.ManifestError`, one line per problem.
"""

from __future__ import annotations

import copy
import json
import math
from os import PathLike
from typing import Any

import yaml

from kbook.api.codec import WireMap, decode_object, encode, json_kind
from kbook.api.defaults import default
from kbook.api.meta import KINDS, KubeObject
from kbook.api.model import KubeModel, go_quote
from kbook.api.strategy import prepare_for_create, validate_defaulted
from kbook.errors import ManifestError

__all__ = ["loads", "load_file", "dump", "dumps"]

MAX_DEPTH = 100  # nesting levels a document may have
MAX_NODES = 1_000_000  # values a document may expand to through YAML aliases

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_FIND_KIND_TYPE = (
    'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }'
)


# Line breaks inside a message (from names or values in the manifest) are escaped: one problem, one line.
_LINE_BREAKS = {c: repr(chr(c))[1:-1] for c in (0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029)}


class _Loader(yaml.CSafeLoader):
    """YAML 1.1 without timestamps, keeping duplicate keys in view (:class:`WireMap`).
    libyaml underneath: fast, and its syntax errors read as go-yaml's (a libyaml port)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _json_key(loader: yaml.SafeLoader, node: yaml.Node, key: Any) -> str:
    """A mapping key as JSON has it (``sigs.k8s.io/yaml`` stringifies scalar keys)."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, (int, float)):
        return str(key)
    raise yaml.constructor.ConstructorError(None, None, "found unhashable key", node.start_mark)


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> WireMap:
    data = WireMap()
    merges = []
    for key_node, value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            merges.append(value_node)
            continue
        key = _json_key(loader, key_node, loader.construct_object(key_node, deep=True))
        if key in data:
            data.duplicates.append(key)
        data[key] = loader.construct_object(value_node, deep=True)
    for merge in merges:  # YAML merge keys: explicit keys win
        sources = merge.value if isinstance(merge, yaml.SequenceNode) else [merge]
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark, "expected a mapping for merging", source.start_mark
                )
            for key, value in _construct_mapping(loader, source).items():
                data.setdefault(key, value)
    return data


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
for _tag in ("binary", "set", "omap", "pairs", "timestamp"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", yaml.SafeLoader.construct_undefined)


class _Problem(Exception):
    """One problem with a document, before it is located in the stream."""


def _check_json(value: Any) -> None:
    """Refuse what JSON cannot hold or what would take unbounded work: NaN and infinities,
    reference cycles, nesting deeper than :data:`MAX_DEPTH`, alias bombs."""
    count = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise _Problem("yaml: document contains excessive aliasing")
        if depth > MAX_DEPTH:
            raise _Problem(f"yaml: document is nested more than {MAX_DEPTH} levels deep")
        if isinstance(item, float) and not math.isfinite(item):
            raise _Problem(f"json: unsupported value: {'NaN' if math.isnan(item) else '+Inf' if item > 0 else '-Inf'}")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def _split(text: str) -> list[tuple[int, str]]:
    """``YAMLReader``: documents (with their first line number) split at ``---`` lines."""
    docs: list[tuple[int, str]] = []
    start, lines = 1, []
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        if line.startswith("---"):
            rest = line[3:].strip()
            if rest and not rest.startswith("#"):
                raise _Problem(f"invalid Yaml document separator: {rest}")
            docs.append((start, "".join(lines)))
            start, lines = number + 1, []
        else:
            lines.append(line)
    docs.append((start, "".join(lines)))
    return docs


def _parse(text: str, first_line: int) -> Any:
    try:
        value = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"line {mark.line + first_line}, column {mark.column + 1}: " if mark else ""
        problem = ": ".join(p for p in (e.context, e.problem) if p)
        raise _Problem(f"yaml: {where}{problem}") from None
    except yaml.YAMLError as e:
        raise _Problem("yaml: " + " ".join(str(e).split())) from None
    except RecursionError:
        raise _Problem(f"yaml: document is nested more than {MAX_DEPTH} levels deep") from None
    _check_json(value)
    return value


def _compact_json(data: Any) -> str:
    """``json.Marshal`` of a decoded document: sorted keys, HTML-safe escapes."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _type_meta(data: Any) -> tuple[str, str]:
    """``json.DefaultMetaFactory.Interpret``: apiVersion and kind, or the decoder's error."""
    if data is None:
        raise _Problem("Object 'Kind' is missing in 'null'")
    if not isinstance(data, dict):
        raise _Problem(f"json: cannot unmarshal {json_kind(data)} into Go value of type {_FIND_KIND_TYPE}")
    values = []
    for field in ("apiVersion", "kind"):
        value = data.get(field)
        if value is not None and not isinstance(value, str):
            raise _Problem(f"json: cannot unmarshal {json_kind(value)} into Go struct field .{field} of type string")
        values.append(value or "")
    api_version, kind = values
    if not kind:
        raise _Problem(f"Object 'Kind' is missing in '{_compact_json(data)}'")
    if not api_version:
        raise _Problem(f"Object 'apiVersion' is missing in '{_compact_json(data)}'")
    return api_version, kind


class _Stream:
    """Loads one manifest stream, collecting every problem as a located one-line message."""

    def __init__(self, source: str, defaults: bool) -> None:
        self.source, self.defaults = source, defaults
        self.objects: list[KubeObject] = []
        self.errors: list[str] = []

    def load(self, text: str) -> None:
        try:
            docs = _split(text)
        except _Problem as e:
            self.errors.append(f"{self.source}: {e}")
            return
        number = 0
        for first_line, chunk in docs:
            if not chunk.strip():
                continue
            try:
                data = _parse(chunk, first_line)
            except _Problem as e:
                number += 1
                self.errors.append(f"{self.source}: document {number}: {e}")
                continue
            if data is not None:  # a document of only comments is empty too
                number += 1
                self._object(data, f"document {number}")

    def _object(self, data: Any, where: str) -> None:
        try:
            api_version, kind = _type_meta(data)
        except _Problem as e:
            self.errors.append(f"{self.source}: {where}: {e}")
            return
        if (api_version, kind) == ("v1", "List"):
            self._list(data, where)
            return
        cls = KINDS.get((api_version, kind))
        if cls is None:
            self.errors.append(
                f"{self.source}: {where}: no matches for kind {go_quote(kind)} in version {go_quote(api_version)}"
            )
            return
        metadata = data.get("metadata")
        name = metadata.get("name") if isinstance(metadata, dict) else None
        group = api_version.rpartition("/")[0]
        label = f'{kind}.{group}' if group else kind
        label += " " + go_quote(name if isinstance(name, str) else "")
        prefix = f"{self.source}: {label} ({where}): "
        problems: list[str] = []
        obj = decode_object(cls, data, problems)
        if not problems:
            prepare_for_create(obj)
            defaulted = default(copy.deepcopy(obj))
            problems.extend(str(e) for e in validate_defaulted(defaulted))
            self.objects.append(defaulted if self.defaults else obj)
        # As the API server's aggregate message does, report each distinct problem once.
        self.errors.extend(prefix + p for p in dict.fromkeys(problems))

    def _list(self, data: dict[str, Any], where: str) -> None:
        """``kind: List``: each item is an object of its own (``meta.ExtractList``)."""
        for key in data:
            if key not in ("apiVersion", "kind", "metadata", "items"):
                self.errors.append(f"{self.source}: List ({where}): unknown field {go_quote(key)}")
        items = data.get("items") or []
        if not isinstance(items, list):
            self.errors.append(
                f"{self.source}: List ({where}): json: cannot unmarshal {json_kind(items)} into Go struct field "
                "List.items of type []runtime.RawExtension"
            )
            return
        for i, item in enumerate(items):
            self._object(item, f"{where}, items[{i}]")


def loads(text: str, source: str = "<string>", *, defaults: bool = True) -> list[KubeObject]:
    """Decode, default and validate every object in a multi-document YAML manifest.

    Returns the objects in order (defaulted unless ``defaults=False``; validation always
    runs on the defaulted form, as the API server's does). Raises
    :class:`~kbook.errors.ManifestError` listing every problem, and returns nothing, if
    any document has one.
    """
    stream = _Stream(source, defaults)
    stream.load(text)
    if stream.errors:
        raise ManifestError([line.translate(_LINE_BREAKS) for line in stream.errors])
    return stream.objects


def load_file(path: str | PathLike[str], *, defaults: bool = True) -> list[KubeObject]:
    """:func:`loads` on a file (UTF-8); the file's path names it in error messages."""
    source = str(path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise ManifestError([f'the path "{source}" does not exist']) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ManifestError([f"{source}: {e}"]) from None
    return loads(text, source, defaults=defaults)


def dump(obj: KubeModel) -> dict[str, Any]:
    """The wire form of an object: camelCase keys, quantities as canonical strings, unset
    fields left out."""
    return encode(obj)


def dumps(objs: KubeObject | list[KubeObject]) -> str:
    """A multi-document YAML manifest of the objects; :func:`loads` reads it back equal."""
    if isinstance(objs, KubeObject):
        objs = [objs]
    return "---\n".join(yaml.safe_dump(dump(o), sort_keys=False, allow_unicode=True) for o in objs)
