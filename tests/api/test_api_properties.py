"""Property tests: whatever text comes in, only KbookError comes out; objects round-trip."""

import dataclasses
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kbook.api import KINDS, KubeObject, dump, dumps, loads
from kbook.api.codec import decode_object, fields_of
from kbook.api.model import IntOrString
from kbook.errors import KbookError
from kbook.quantity import Quantity

DATA = Path(__file__).parent / "data"
TEXTS = [p.read_text() for p in sorted(DATA.glob("*.yaml"))]
OBJECTS = [o for text in TEXTS for o in loads(text)]


def only_kbook_errors(text: str) -> None:
    """``loads`` either returns objects or raises a KbookError; nothing else escapes."""
    try:
        objs = loads(text, "fuzz.yaml")
    except KbookError as e:
        lines = e.errors  # type: ignore[attr-defined]
        assert lines and all(line.startswith("fuzz.yaml") and len(line.splitlines()) == 1 for line in lines)
    else:
        assert all(isinstance(o, KubeObject) for o in objs)


# -- any text -----------------------------------------------------------------------------

YAML_CHARS = list(":-[]{},'\"#&*!|>%@`?~= \n\t.0123456789aZ") + ["---\n", "\n  ", "- ", ": ", "null", "~", "\\"]


@settings(max_examples=150)
@given(st.text(max_size=200))
def test_random_text(text: str) -> None:
    only_kbook_errors(text)


TOKENS = [*YAML_CHARS, "apiVersion: v1\n", "kind: Pod\n", "metadata:\n", "spec:\n"]


@settings(max_examples=150)
@given(st.lists(st.sampled_from(TOKENS), max_size=40))
def test_random_yaml_tokens(tokens: list[str]) -> None:
    only_kbook_errors("".join(tokens))


@settings(max_examples=150)
@given(
    st.sampled_from(TEXTS),
    st.lists(
        st.tuples(
            st.integers(0, 10**6), st.sampled_from(["delete", "insert", "duplicate-line"]), st.sampled_from(YAML_CHARS)
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_mutated_manifests(text: str, edits: list[tuple[int, str, str]]) -> None:
    for position, op, chars in edits:
        i = position % (len(text) + 1)
        if op == "delete":
            text = text[:i] + text[i + 1 :]
        elif op == "insert":
            text = text[:i] + chars + text[i:]
        else:
            lines = text.splitlines(keepends=True)
            j = position % max(len(lines), 1)
            text = "".join(lines[: j + 1] + lines[j:])
    only_kbook_errors(text)


# -- random structures as manifests --------------------------------------------------------

def _all_model_classes() -> set[type]:
    seen: set[type] = set()
    stack = list(KINDS.values())
    while stack:
        cls = stack.pop()
        if cls in seen:
            continue
        seen.add(cls)
        for f in fields_of(cls).values():
            t = f.type
            while t.elem is not None:
                t = t.elem
            if t.cls is not None:
                stack.append(t.cls)
    return seen


MODELS = _all_model_classes()
WIRE_NAMES = sorted({wire for cls in MODELS for wire in fields_of(cls)})
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**64), 2**64),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["", "1", "100m", "1Gi", "25%", "Always", "In", "NoSchedule", "TCP", "web", "-1"]),
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(WIRE_NAMES) | st.text(max_size=6), children, max_size=4),
    max_leaves=25,
)
KIND_PAIRS = [*KINDS, ("v1", "List"), ("v1", "Nope"), ("apps/v2", "Deployment")]


@settings(max_examples=200)
@given(st.sampled_from(KIND_PAIRS), st.dictionaries(st.sampled_from(WIRE_NAMES), json_values, max_size=5))
def test_random_structures(pair: tuple[str, str], body: dict[str, Any]) -> None:
    document = {"apiVersion": pair[0], "kind": pair[1], **body}
    only_kbook_errors(yaml.safe_dump(document, allow_unicode=True))


def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, path + (i,))
    return out


@settings(max_examples=150)
@given(st.sampled_from(range(len(OBJECTS))), st.data())
def test_real_objects_with_a_random_subtree(index: int, data: st.DataObject) -> None:
    wire = dump(OBJECTS[index])
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(wire)[1:]))
        node = wire
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = data.draw(json_values)
    only_kbook_errors(yaml.safe_dump(wire, allow_unicode=True))


# -- round trips ----------------------------------------------------------------------------

text = st.text(st.characters(codec="utf-8", categories=("L", "N", "P", "Zs")), max_size=8)
keys = st.text(st.characters(codec="ascii", categories=("L", "N")), min_size=1, max_size=6)
quantities = st.one_of(
    st.integers(-(10**12), 10**12).map(Quantity.from_milli),
    st.sampled_from(["1Gi", "512Mi", "1.5", "2e3", "100Ki", "0"]).map(Quantity),
)


def strategy_for(t: Any) -> st.SearchStrategy[Any]:
    """Any type-correct value of a compiled field type."""
    if t.kind == "struct":
        base: st.SearchStrategy[Any] = st.deferred(lambda: models(t.cls))
    elif t.kind == "list":
        base = st.lists(strategy_for(t.elem), max_size=1)
    elif t.kind == "map":
        base = st.dictionaries(keys, strategy_for(t.elem), max_size=1)
    elif t.kind == "opaque":
        obj = st.dictionaries(keys, st.one_of(text, st.integers(-5, 5), st.booleans()), max_size=2)
        base = st.lists(obj, max_size=1) if t.elem is not None else obj
    else:
        bound = 2 ** (t.bits - 1) if t.kind == "int" else 0
        base = {
            "str": text,
            "int": st.integers(-bound, bound - 1),
            "bool": st.booleans(),
            "quantity": quantities,
            "intstr": st.one_of(st.integers(-(2**31), 2**31 - 1), text).map(IntOrString),
        }[t.kind]
    return st.none() | base if t.optional else base


def models(cls: type) -> st.SearchStrategy[Any]:
    return st.builds(cls, **{f.attr: strategy_for(f.type) for f in fields_of(cls).values()})


@settings(max_examples=20)
@given(st.sampled_from(sorted(KINDS.values(), key=lambda c: c.KIND)).flatmap(models))
def test_any_typed_object_round_trips_through_the_codec(obj: KubeObject) -> None:
    errors: list[str] = []
    again = decode_object(type(obj), yaml.safe_load(dumps(obj)), errors)
    assert errors == []
    assert again == obj


names = st.from_regex(r"[a-z]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
label_values = st.from_regex(r"([A-Za-z0-9]([A-Za-z0-9_.-]{0,6}[A-Za-z0-9])?)?", fullmatch=True)
label_keys = st.sampled_from(["app", "tier", "example.com/team", "track"])
label_maps = st.dictionaries(label_keys, label_values, min_size=1, max_size=3)


@st.composite
def containers(draw: st.DrawFn, name: str) -> dict[str, Any]:
    cpu = draw(st.integers(1, 4000))
    memory = draw(st.integers(1, 4096))
    resources: dict[str, Any] = {"requests": {"cpu": f"{cpu}m", "memory": f"{memory}Mi"}}
    if draw(st.booleans()):
        resources["limits"] = {"cpu": f"{cpu * draw(st.integers(1, 4))}m", "memory": f"{memory * 2}Mi"}
    ports = draw(st.lists(st.integers(1, 65535), unique=True, max_size=2))
    image = draw(st.sampled_from(["nginx", "nginx:1.27", "registry.example.com/a/b:v1", "busybox@sha256:" + "ab" * 32]))
    return {"name": name, "image": image, "resources": resources, "ports": [{"containerPort": p} for p in ports]}


@st.composite
def pod_specs(draw: st.DrawFn) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [draw(containers(f"c{i}")) for i in range(draw(st.integers(1, 3)))]}
    if draw(st.booleans()):
        spec["initContainers"] = [draw(containers("init"))]
        if draw(st.booleans()):
            spec["initContainers"][0]["restartPolicy"] = "Always"
    if draw(st.booleans()):
        value = draw(label_values)
        spec["tolerations"] = [{"key": "dedicated", "operator": "Equal", "value": value, "effect": "NoSchedule"}]
    if draw(st.booleans()):
        spec["nodeSelector"] = draw(label_maps)
    return spec


@st.composite
def valid_objects(draw: st.DrawFn) -> dict[str, Any]:
    name = draw(names)
    labels = draw(label_maps)
    kind = draw(st.sampled_from(["Pod", "Deployment", "ReplicaSet", "Service", "HorizontalPodAutoscaler", "Node"]))
    meta = {"name": name, "labels": labels}
    if kind == "Pod":
        return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": draw(pod_specs())}
    if kind in ("Deployment", "ReplicaSet"):
        spec = {
            "replicas": draw(st.integers(0, 50)),
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": draw(pod_specs())},
        }
        if kind == "Deployment" and draw(st.booleans()):
            surge = draw(st.sampled_from([1, 2, "10%", "50%"]))
            unavailable = draw(st.sampled_from([0, 1, "25%"]))
            spec["strategy"] = {"rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}}
        return {"apiVersion": "apps/v1", "kind": kind, "metadata": meta, "spec": spec}
    if kind == "Service":
        ports = draw(st.lists(st.integers(1, 65535), unique=True, min_size=1, max_size=3))
        port_list = [
            {"name": f"p{i}", "port": p, "targetPort": draw(st.sampled_from([p, "http"]))} for i, p in enumerate(ports)
        ]
        spec = {"selector": labels, "ports": port_list}
        return {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec}
    if kind == "Node":
        capacity = {"cpu": str(draw(st.integers(1, 96))), "memory": f"{draw(st.integers(1, 512))}Gi", "pods": "110"}
        return {"apiVersion": "v1", "kind": "Node", "metadata": meta, "status": {"capacity": capacity}}
    low = draw(st.integers(1, 10))
    spec = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
        "minReplicas": low,
        "maxReplicas": low + draw(st.integers(0, 20)),
        "metrics": [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": draw(st.integers(1, 100))},
                },
            }
        ],
    }
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": meta, "spec": spec}


@settings(max_examples=60)
@given(st.lists(valid_objects(), min_size=1, max_size=4))
def test_random_valid_objects_round_trip(documents: list[dict[str, Any]]) -> None:
    objs = loads("---\n".join(yaml.safe_dump(d) for d in documents))
    assert [type(o) for o in objs] == [KINDS[(d["apiVersion"], d["kind"])] for d in documents]
    assert loads(dumps(objs)) == objs
    assert all(dataclasses.is_dataclass(o) for o in objs)
