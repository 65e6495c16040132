"""dump/dumps write the wire form back; loads(dumps(objs)) == objs."""

from pathlib import Path

import pytest
import yaml

from kbook.api import Deployment, IntOrString, Pod, dump, dumps, load_file, loads


@pytest.mark.parametrize("name", ["app.yaml", "nodes.yaml", "pods.yaml", "server-output.yaml"])
@pytest.mark.parametrize("defaults", [True, False])
def test_round_trip(data: Path, name: str, defaults: bool) -> None:
    objs = load_file(data / name, defaults=defaults)
    again = loads(dumps(objs), defaults=defaults)
    assert again == objs
    assert dumps(again) == dumps(objs)


def test_dump_is_the_wire_form(data: Path) -> None:
    deploy = load_file(data / "app.yaml")[0]
    wire = dump(deploy)
    assert list(wire)[:4] == ["apiVersion", "kind", "metadata", "spec"]
    assert "status" not in wire  # unset
    container = wire["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"] == {
        "limits": {"cpu": "500m", "memory": "512Mi"},
        "requests": {"cpu": "250m", "memory": "256Mi"},
    }
    assert container["readinessProbe"]["httpGet"]["port"] == "http"
    assert container["livenessProbe"]["tcpSocket"] == {"port": 8080}
    assert wire["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}
    assert container["volumeMounts"] == [{"name": "cache", "mountPath": "/var/cache/web"}]


def test_quantities_are_written_canonically() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: x\n"
        "    resources: {requests: {cpu: 0.5, memory: 1048576}, limits: {cpu: '1.0', memory: 2e6}}\n"
    )
    (pod,) = loads(text)
    resources = dump(pod)["spec"]["containers"][0]["resources"]
    assert resources == {"limits": {"cpu": "1", "memory": "2e6"}, "requests": {"cpu": "500m", "memory": "1048576"}}


def test_programmatic_objects_dump_and_load() -> None:
    deploy = Deployment()
    deploy.metadata.name = "api"
    deploy.spec.replicas = 0  # a pointer field: zero is kept
    text = dumps(deploy)
    expected = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api"}, "spec": {"replicas": 0}}
    assert yaml.safe_load(text) == expected
    assert dump(Pod()) == {"apiVersion": "v1", "kind": "Pod"}


def test_dumps_of_many_objects_is_multi_document(data: Path) -> None:
    objs = load_file(data / "nodes.yaml")
    text = dumps(objs)
    assert text.count("---\n") == 2
    assert [d["metadata"]["name"] for d in yaml.safe_load_all(text)] == ["worker-a", "worker-b", "gpu-1"]


def test_int_or_string_round_trips() -> None:
    assert IntOrString(8080).is_int and not IntOrString("http").is_int
    assert IntOrString("25%").int_value() == 0 and IntOrString("42").int_value() == 42
    assert str(IntOrString("25%")) == "25%"
