"""Label selectors in labels.Parse syntax and field selectors (fields.ParseSelector)."""

from __future__ import annotations

import pytest

from apiserver_helpers import make_deployment, make_pod
from kbook.api import Node, NodeSpec, ObjectMeta
from kbook.controlplane.apiserver import APIServer, BadRequest


@pytest.fixture
def pods(api: APIServer) -> APIServer:
    api.create(make_pod("a", labels={"app": "web", "tier": "front", "env": "prod"}))
    api.create(make_pod("b", labels={"app": "web", "tier": "db", "env": "dev"}))
    api.create(make_pod("c", labels={"app": "api", "env": "qa", "x": "1"}))
    api.create(make_pod("d", namespace="other", labels={"app": "web"}, node_name="n1"))
    api.patch("Pod", "a", {"spec": {"nodeName": "n1"}})
    return api


def names(api: APIServer, **kwargs: str) -> list[str]:
    return [p.metadata.name for p in api.list("Pod", **kwargs).items]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("", ["a", "b", "c", "d"]),
        ("app=web", ["a", "b", "d"]),
        ("app==web", ["a", "b", "d"]),
        ("app!=web", ["c"]),
        ("tier!=db", ["a", "c", "d"]),  # a missing label is "not equal"
        ("env in (prod,qa)", ["a", "c"]),
        ("env notin (prod, qa)", ["b", "d"]),
        ("x", ["c"]),
        ("!x", ["a", "b", "d"]),
        ("app=web,tier!=db,env in (prod,dev),!x", ["a"]),
        ("app=", []),
    ],
)
def test_label_selectors(pods: APIServer, selector: str, expected: list[str]) -> None:
    assert names(pods, label_selector=selector) == expected


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("metadata.name=b", ["b"]),
        ("metadata.namespace=other", ["d"]),
        ("spec.nodeName=n1", ["a", "d"]),
        ("spec.nodeName=", ["b", "c"]),
        ("spec.nodeName!=n1,metadata.name!=c", ["b"]),
        ("status.phase=Pending", ["a", "b", "c", "d"]),
        ("status.phase==Running", []),
    ],
)
def test_field_selectors(pods: APIServer, selector: str, expected: list[str]) -> None:
    assert names(pods, field_selector=selector) == expected


def test_selectors_combine_with_namespace(pods: APIServer) -> None:
    assert names(pods, namespace="default", label_selector="app=web", field_selector="spec.nodeName=n1") == ["a"]


def test_node_field_selector(api: APIServer) -> None:
    api.create(Node(metadata=ObjectMeta(name="n1")))
    api.create(Node(metadata=ObjectMeta(name="n2"), spec=NodeSpec(unschedulable=True)))
    assert [n.metadata.name for n in api.list("Node", field_selector="spec.unschedulable=false").items] == ["n1"]


@pytest.mark.parametrize(
    ("label_selector", "field_selector", "message"),
    [
        ("env in prod", None, "unable to parse requirement: found 'prod', expected: '('"),
        ("env in (a", None, "unable to parse requirement: found '', expected: ',', ')' or identifier"),
        ("a=b c", None, "unable to parse requirement: found 'c', expected: ','"),
        ("bad key!=x", None, "unable to parse requirement: found 'key', expected: in, notin, =, ==, !=, gt, lt"),
        ("app=-x", None, 'unable to parse requirement: values[0][app]: Invalid value: "-x"'),
        (None, "spec.nodeName", "invalid selector: 'spec.nodeName'; can't understand 'spec.nodeName'"),
        (None, "spec.host=n1", "field label not supported: spec.host"),
    ],
)
def test_bad_selectors(pods: APIServer, label_selector: str | None, field_selector: str | None, message: str) -> None:
    with pytest.raises(BadRequest) as e:
        pods.list("Pod", label_selector=label_selector, field_selector=field_selector)
    assert str(e.value).startswith(message) and e.value.code == 400


def test_kinds_without_field_labels_allow_only_metadata(api: APIServer) -> None:
    api.create(make_deployment())
    assert len(api.list("Deployment", field_selector="metadata.name=web").items) == 1
    with pytest.raises(BadRequest) as e:
        api.list("Deployment", field_selector="spec.replicas=2")
    assert str(e.value) == '"spec.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"'
