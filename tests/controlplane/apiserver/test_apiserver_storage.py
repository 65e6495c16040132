"""Where objects live in etcd and what resourceVersion means (etcd3/store.go, store.go key funcs)."""

from __future__ import annotations

import json

import pytest

from apiserver_helpers import make_deployment, make_lease, make_pod
from kbook.api import (
    Endpoints,
    Namespace,
    Node,
    ObjectMeta,
    Service,
    ServicePort,
    ServiceSpec,
)
from kbook.controlplane.apiserver import APIServer, resource_for
from kbook.controlplane.etcd import EmbeddedEtcd


@pytest.mark.parametrize(
    ("kind", "gr", "gk", "prefix"),
    [
        ("Pod", "pods", "Pod", "/registry/pods"),
        ("Node", "nodes", "Node", "/registry/minions"),
        ("Service", "services", "Service", "/registry/services/specs"),
        ("Endpoints", "endpoints", "Endpoints", "/registry/services/endpoints"),
        ("Deployment", "deployments.apps", "Deployment.apps", "/registry/deployments"),
        ("ReplicaSet", "replicasets.apps", "ReplicaSet.apps", "/registry/replicasets"),
        ("HorizontalPodAutoscaler", "horizontalpodautoscalers.autoscaling", "HorizontalPodAutoscaler.autoscaling",
         "/registry/horizontalpodautoscalers"),
        ("Lease", "leases.coordination.k8s.io", "Lease.coordination.k8s.io", "/registry/leases"),
        ("Namespace", "namespaces", "Namespace", "/registry/namespaces"),
    ],
)
def test_resource_names_and_prefixes(kind: str, gr: str, gk: str, prefix: str) -> None:
    res = resource_for(kind)
    assert res is not None
    assert (res.group_resource, res.group_kind, res.prefix) == (gr, gk, prefix)


def test_keys_of_namespaced_and_cluster_scoped_objects(api: APIServer, store: EmbeddedEtcd) -> None:
    api.create(make_pod("web"))
    api.create(make_pod("db", namespace="prod"))
    api.create(Node(metadata=ObjectMeta(name="n1")))
    api.create(Service(metadata=ObjectMeta(name="web"), spec=ServiceSpec(ports=[ServicePort(port=80)])))
    api.create(Endpoints(metadata=ObjectMeta(name="web")))
    api.create(make_lease("n1"))
    api.create(Namespace(metadata=ObjectMeta(name="prod")))
    keys = [kv.key for kv in store.range("/registry/", "/registry0").kvs]
    assert keys == [
        "/registry/leases/kube-node-lease/n1",
        "/registry/minions/n1",
        "/registry/namespaces/prod",
        "/registry/pods/default/web",
        "/registry/pods/prod/db",
        "/registry/services/endpoints/default/web",
        "/registry/services/specs/default/web",
    ]


def test_stored_value_is_json_without_resource_version(api: APIServer, store: EmbeddedEtcd) -> None:
    created = api.create(make_pod("web"))
    kv = store.range("/registry/pods/default/web").kvs[0]
    data = json.loads(kv.value)
    assert data["apiVersion"] == "v1" and data["kind"] == "Pod"
    assert "resourceVersion" not in data["metadata"]
    assert created.metadata.resource_version == str(kv.mod_revision) == "2"  # empty store is revision 1


def test_resource_version_is_mod_revision_and_list_rv_is_header_revision(api: APIServer, store: EmbeddedEtcd) -> None:
    a = api.create(make_pod("a"))
    b = api.create(make_pod("b"))
    store.put("/unrelated", b"x")  # moves the global revision only
    listed = api.list("Pod")
    assert [p.metadata.resource_version for p in listed.items] == ["2", "3"]
    assert (a.metadata.resource_version, b.metadata.resource_version) == ("2", "3")
    assert listed.resource_version == str(store.revision) == "4"
    assert api.get("Pod", "a").metadata.resource_version == "2"


def test_objects_read_back_equal_to_what_create_returned(api: APIServer) -> None:
    for obj in (make_pod(), make_lease(), make_deployment()):
        created = api.create(obj)
        assert api.get(obj.kind, obj.metadata.name, created.metadata.namespace) == created
