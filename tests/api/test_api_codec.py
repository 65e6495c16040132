"""The per-class generated functions agree with the generic code they stand in for."""

import copy
import json
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from test_api_properties import OBJECTS, WIRE_NAMES, json_values, models

from kbook.api import KINDS, Container, KubeObject, ObjectMeta, Pod, PodSpec, ResourceRequirements, dump, dumps
from kbook.api.codec import _decode_generic, decode_object, encode
from kbook.api.manifest import _Loader
from kbook.api.model import KubeModel
from kbook.quantity import Quantity

KIND_CLASSES = sorted(KINDS.values(), key=lambda c: c.KIND)


def mutable_ids(value: Any) -> list[int]:
    """The ids of every model, list and dict in a tree."""
    if isinstance(value, KubeModel):
        return [id(value), *(i for v in vars(value).values() for i in mutable_ids(v))]
    if isinstance(value, dict):
        return [id(value), *(i for v in value.values() for i in mutable_ids(v))]
    if isinstance(value, list):
        return [id(value), *(i for v in value for i in mutable_ids(v))]
    return []


def assert_decodes_as_generic(cls: type[KubeObject], data: dict[str, Any]) -> None:
    fast: list[str] = []
    generic: list[str] = []
    assert decode_object(cls, data, fast) == _decode_generic(cls, data, generic)
    assert fast == generic


@settings(max_examples=40)
@given(st.sampled_from(KIND_CLASSES).flatmap(models))
def test_deep_copy_is_equal_and_shares_nothing_mutable(obj: KubeObject) -> None:
    again = copy.deepcopy(obj)
    assert again == obj and type(again) is type(obj)
    assert list(vars(again)) == list(vars(obj))
    assert not set(mutable_ids(again)) & set(mutable_ids(obj))


@settings(max_examples=40)
@given(st.sampled_from(KIND_CLASSES).flatmap(models))
def test_typed_objects_decode_as_the_generic_decoder_does(obj: KubeObject) -> None:
    wire = dump(obj)
    for data in (wire, json.loads(json.dumps(wire)), yaml.load(dumps(obj), Loader=_Loader)):  # noqa: S506
        assert_decodes_as_generic(type(obj), data)


@settings(max_examples=200)
@given(st.sampled_from(KIND_CLASSES), st.dictionaries(st.sampled_from(WIRE_NAMES), json_values, max_size=5))
def test_any_structure_decodes_as_the_generic_decoder_does(cls: type[KubeObject], body: dict[str, Any]) -> None:
    assert_decodes_as_generic(cls, body)
    assert_decodes_as_generic(cls, yaml.load(yaml.safe_dump(body), Loader=_Loader))  # noqa: S506


def test_real_objects_decode_as_the_generic_decoder_does() -> None:
    for obj in OBJECTS:
        wire = dump(obj)
        wire["metadata"]["labels"] = {"a": None}  # null in a map: left to the generic decoder
        assert_decodes_as_generic(type(obj), dump(obj))
        assert_decodes_as_generic(type(obj), wire)


def test_duplicate_and_unknown_fields_are_reported_by_the_generic_decoder() -> None:
    text = "metadata: {name: a, name: b}\nspec: {containers: [{name: c, image: x, imagePullPolicyy: Always}]}\n"
    errors: list[str] = []
    pod = decode_object(Pod, yaml.load(text, Loader=_Loader), errors)  # noqa: S506
    assert pod.metadata.name == "b"
    assert errors == ['duplicate field "metadata.name"', 'unknown field "spec.containers[0].imagePullPolicyy"']


def test_a_quantity_written_as_a_number_decodes() -> None:
    errors: list[str] = []
    resources = {"requests": {"cpu": 2, "memory": 0.5}}
    pod = decode_object(Pod, {"spec": {"containers": [{"name": "c", "resources": resources}]}}, errors)
    assert errors == []
    assert pod.spec.containers[0].resources.requests == {"cpu": Quantity("2"), "memory": Quantity("500m")}


def test_attributes_besides_the_fields_are_deep_copied() -> None:
    meta = ObjectMeta(name="a")
    meta.notes = ["x"]  # type: ignore[attr-defined]
    again = copy.deepcopy(meta)
    assert again.notes == ["x"] and again.notes is not meta.notes  # type: ignore[attr-defined]


def test_values_of_other_types_are_copied_and_encoded_generically() -> None:
    spec = PodSpec(containers=(Container(name="c"),), affinity={"nodeAffinity": {}})  # type: ignore[arg-type]
    again = copy.deepcopy(spec)
    assert again == spec and again.containers[0] is not spec.containers[0]
    assert again.affinity is not spec.affinity and again.affinity["nodeAffinity"] is not spec.affinity["nodeAffinity"]
    resources = ResourceRequirements(requests={"cpu": 1, "memory": Quantity("1Gi")})  # type: ignore[dict-item]
    assert encode(resources) == {"requests": {"cpu": 1, "memory": "1Gi"}}
    assert encode(spec)["containers"] == (Container(name="c"),)  # not a list: copied as is


def test_a_struct_field_is_left_out_only_at_its_zero_value() -> None:
    assert "metadata" not in encode(Pod(metadata=ObjectMeta()))
    assert encode(Pod(metadata=ObjectMeta(name=None)))["metadata"] == {}  # type: ignore[arg-type]  # not ObjectMeta()
    assert encode(Pod(spec=PodSpec(containers=[]))) == {"apiVersion": "v1", "kind": "Pod"}
