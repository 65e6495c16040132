"""Loading real multi-document manifests into typed objects."""

from pathlib import Path

import pytest

from kbook.api import (
    Deployment,
    HorizontalPodAutoscaler,
    IntOrString,
    Node,
    Pod,
    Service,
    load_file,
    loads,
)
from kbook.errors import KbookError, ManifestError
from kbook.quantity import Quantity


def test_app_manifest_types_and_keys(data: Path) -> None:
    deploy, svc, hpa = load_file(data / "app.yaml")
    assert (type(deploy), type(svc), type(hpa)) == (Deployment, Service, HorizontalPodAutoscaler)
    assert [o.kind for o in (deploy, svc, hpa)] == ["Deployment", "Service", "HorizontalPodAutoscaler"]
    assert [o.api_version for o in (deploy, svc, hpa)] == ["apps/v1", "v1", "autoscaling/v2"]
    assert {o.key for o in (deploy, svc, hpa)} == {"shop/web"}
    assert deploy.group_kind == "Deployment.apps"


def test_deployment_fields(data: Path) -> None:
    deploy = load_file(data / "app.yaml")[0]
    spec = deploy.spec
    assert spec.replicas == 3 and spec.min_ready_seconds == 10 and spec.revision_history_limit == 5
    assert spec.selector is not None and spec.selector.match_labels == {"app.kubernetes.io/name": "web"}
    assert spec.strategy.rolling_update is not None
    assert spec.strategy.rolling_update.max_surge == IntOrString(1)
    assert spec.strategy.rolling_update.max_unavailable == IntOrString(0)
    pod = spec.template.spec
    assert [c.name for c in pod.init_containers] == ["migrate", "log-shipper"]
    assert [c.is_sidecar for c in pod.init_containers] == [False, True]
    web = pod.containers[0]
    assert web.resources.requests == {"cpu": Quantity("250m"), "memory": Quantity("256Mi")}
    assert web.ports[0].container_port == 8080 and web.ports[0].name == "http"
    assert web.readiness_probe is not None and web.readiness_probe.http_get is not None
    assert web.readiness_probe.http_get.port == IntOrString("http")
    assert web.volume_mounts == [{"name": "cache", "mountPath": "/var/cache/web"}]
    assert pod.volumes == [{"name": "cache", "emptyDir": {}}]
    anti = pod.affinity.pod_anti_affinity  # type: ignore[union-attr]
    term = anti.preferred_during_scheduling_ignored_during_execution[0]
    assert term.weight == 100 and term.pod_affinity_term.topology_key == "kubernetes.io/hostname"
    assert pod.tolerations[0].effect == "NoSchedule"
    assert pod.topology_spread_constraints[0].when_unsatisfiable == "ScheduleAnyway"


def test_service_and_hpa_fields(data: Path) -> None:
    _, svc, hpa = load_file(data / "app.yaml")
    assert svc.spec.type == "NodePort"
    assert [(p.name, p.port, p.target_port, p.node_port) for p in svc.spec.ports] == [
        ("http", 80, IntOrString("http"), 30080),
        ("metrics", 9090, IntOrString(9090), 0),
    ]
    assert hpa.spec.scale_target_ref.name == "web"
    assert (hpa.spec.min_replicas, hpa.spec.max_replicas) == (3, 20)
    cpu, pods = hpa.spec.metrics
    assert cpu.resource is not None and cpu.resource.target.average_utilization == 60
    assert pods.pods is not None and pods.pods.target.average_value == Quantity("100")
    scale_down = hpa.spec.behavior.scale_down  # type: ignore[union-attr]
    assert scale_down is not None and scale_down.stabilization_window_seconds == 300


def test_node_list_is_expanded(data: Path) -> None:
    nodes = load_file(data / "nodes.yaml")
    assert [n.metadata.name for n in nodes] == ["worker-a", "worker-b", "gpu-1"]
    assert all(isinstance(n, Node) and n.key == n.metadata.name and n.metadata.namespace == "" for n in nodes)
    a, b, gpu = nodes
    assert a.status.allocatable["cpu"] == Quantity("1930m")
    assert a.status.capacity["memory"] == Quantity("8023812Ki")
    assert a.status.images[0].size_bytes == 48211327 and len(a.status.images[0].names) == 2
    assert a.status.node_info.kubelet_version == "v1.30.1"
    assert a.status.conditions[0].status == "True"
    assert a.metadata.labels["topology.kubernetes.io/zone"] == "zone-a"
    assert b.spec.taints[0].key == "dedicated"
    assert gpu.spec.unschedulable and gpu.spec.taints[1].time_added == "2024-05-01T09:00:00Z"
    assert gpu.status.capacity["nvidia.com/gpu"] == Quantity("1")


def test_pods_and_default_namespace(data: Path) -> None:
    batch, pinned, gpu = load_file(data / "pods.yaml")
    assert all(isinstance(p, Pod) for p in (batch, pinned, gpu))
    assert [p.key for p in (batch, pinned, gpu)] == ["default/batch-1", "ops/pinned", "default/gpu-trainer"]
    assert pinned.spec.node_name == "worker-a" and pinned.spec.scheduler_name == "my-scheduler"
    assert batch.spec.priority == 100
    node_affinity = gpu.spec.affinity.node_affinity  # type: ignore[union-attr]
    required = node_affinity.required_during_scheduling_ignored_during_execution  # type: ignore[union-attr]
    assert [r.operator for r in required.node_selector_terms[0].match_expressions] == ["Exists", "In"]
    assert gpu.spec.tolerations[1].toleration_seconds == 300


def test_empty_and_comment_documents_are_skipped() -> None:
    text = "---\n# only a comment\n---\n\n---\napiVersion: v1\nkind: Node\nmetadata: {name: n}\n...\n---\n"
    (node,) = loads(text)
    assert node.metadata.name == "n"
    assert loads("") == [] and loads("---\n---\n") == []


def test_cluster_scoped_namespace_is_dropped() -> None:
    (node,) = loads("apiVersion: v1\nkind: Node\nmetadata: {name: n, namespace: shop}\n")
    assert node.metadata.namespace == "" and node.key == "n"


def test_generate_name_stands_in_for_the_name() -> None:
    text = "apiVersion: v1\nkind: Pod\nmetadata: {generateName: web-}\nspec: {containers: [{name: c, image: x}]}\n"
    (pod,) = loads(text)
    assert pod.metadata.name == "" and pod.metadata.generate_name == "web-"


def test_load_file_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ManifestError) as info:
        load_file(missing)
    assert info.value.errors == [f'the path "{missing}" does not exist']
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(KbookError):
        load_file(binary)


def test_object_validate_raises_validation_error() -> None:
    from kbook.errors import ValidationError

    deploy = Deployment()
    deploy.metadata.name = "web"
    with pytest.raises(ValidationError) as info:
        deploy.validate()
    assert str(info.value).startswith('Deployment.apps "web" is invalid: [spec.selector: Required value, ')


def test_server_output_is_accepted_as_is(data: Path) -> None:
    pod, svc, deploy = load_file(data / "server-output.yaml")
    assert isinstance(pod, Pod) and isinstance(svc, Service) and isinstance(deploy, Deployment)
    assert pod.status.phase == "Running" and pod.status.conditions[0].last_probe_time is None
    assert pod.status.container_statuses[0]["restartCount"] == 0
    owner = pod.metadata.owner_references[0]
    assert (owner.kind, owner.controller, owner.block_owner_deletion) == ("ReplicaSet", True, True)
    assert svc.spec.cluster_ips == ["10.96.120.7"] and svc.spec.ip_family_policy == "SingleStack"
    assert deploy.metadata.creation_timestamp is None and deploy.status.available_replicas == 1
    assert deploy.status.conditions[0].reason == "MinimumReplicasAvailable"
