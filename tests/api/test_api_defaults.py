"""Defaulting as the API server's SetDefaults_* functions do it."""

import pytest

from kbook.api import (
    Container,
    Deployment,
    HorizontalPodAutoscaler,
    HPAScalingPolicy,
    IntOrString,
    Node,
    Pod,
    PodSpec,
    Service,
    default,
    loads,
)
from kbook.api.defaults import image_pull_policy
from kbook.quantity import Quantity

POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: nginx:1.27\n"


@pytest.mark.parametrize(
    "image, policy",
    [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("nginx:1.27", "IfNotPresent"),
        ("registry.example.com:5000/team/app", "Always"),
        ("registry.example.com:5000/team/app:v2", "IfNotPresent"),
        ("nginx@sha256:" + "a" * 64, "IfNotPresent"),
        ("nginx:latest@sha256:" + "a" * 64, "Always"),
        ("localhost/app", "Always"),
        ("Nginx", "IfNotPresent"),  # not a valid reference: ParseImageName fails, no tag
    ],
)
def test_image_pull_policy(image: str, policy: str) -> None:
    assert image_pull_policy(image) == policy


def test_pod_defaults() -> None:
    (pod,) = loads(POD)
    assert isinstance(pod, Pod)
    spec = pod.spec
    assert (spec.restart_policy, spec.dns_policy) == ("Always", "ClusterFirst")
    assert spec.scheduler_name == "default-scheduler"
    assert spec.termination_grace_period_seconds == 30
    assert spec.enable_service_links is True and spec.security_context == {}
    c = spec.containers[0]
    assert (c.image_pull_policy, c.termination_message_path, c.termination_message_policy) == (
        "IfNotPresent",
        "/dev/termination-log",
        "File",
    )


def test_pod_limits_become_missing_requests() -> None:
    (pod,) = loads(POD + "    resources: {requests: {cpu: 100m}, limits: {cpu: 500m, memory: 1Gi}}\n")
    assert pod.spec.containers[0].resources.requests == {"cpu": Quantity("100m"), "memory": Quantity("1Gi")}


def test_templates_keep_requests_unset() -> None:
    text = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {a: b}}\n"
        "  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers:\n      - name: c\n"
        "        image: x\n        resources: {limits: {cpu: '1'}}\n"
    )
    (deploy,) = loads(text)
    assert isinstance(deploy, Deployment)
    assert deploy.spec.template.spec.containers[0].resources.requests == {}
    assert deploy.spec.replicas == 1 and deploy.spec.revision_history_limit == 10
    assert deploy.spec.progress_deadline_seconds == 600
    assert deploy.spec.strategy.type == "RollingUpdate"
    ru = deploy.spec.strategy.rolling_update
    assert ru is not None and (ru.max_surge, ru.max_unavailable) == (IntOrString("25%"), IntOrString("25%"))
    assert deploy.spec.template.spec.termination_grace_period_seconds == 30


def test_defaults_can_be_skipped() -> None:
    (pod,) = loads(POD, defaults=False)
    assert pod.spec.restart_policy == "" and pod.spec.containers[0].image_pull_policy == ""
    assert pod.metadata.namespace == "default"  # the namespace comes from the context, not defaulting


def test_service_defaults() -> None:
    (svc,) = loads(
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  clusterIP: 10.96.0.10\n"
        "  ports: [{name: dns, port: 53, protocol: UDP}, {name: web, port: 80, targetPort: web}]\n"
    )
    assert isinstance(svc, Service)
    spec = svc.spec
    assert (spec.type, spec.session_affinity, spec.internal_traffic_policy) == ("ClusterIP", "None", "Cluster")
    assert spec.external_traffic_policy == "" and spec.cluster_ips == ["10.96.0.10"]
    assert [(p.protocol, p.target_port) for p in spec.ports] == [("UDP", IntOrString(53)), ("TCP", IntOrString("web"))]
    (lb,) = loads(
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: LoadBalancer, sessionAffinity: ClientIP, "
        "ports: [{port: 443}]}\n"
    )
    assert lb.spec.external_traffic_policy == "Cluster" and lb.spec.allocate_load_balancer_node_ports is True
    assert lb.spec.session_affinity_config.client_ip.timeout_seconds == 10800  # type: ignore[union-attr]


def test_hpa_defaults() -> None:
    head = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec:\n"
    ref = "  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: d}\n  maxReplicas: 10\n"
    (hpa,) = loads(head + ref)
    assert isinstance(hpa, HorizontalPodAutoscaler)
    assert hpa.spec.min_replicas == 1 and hpa.spec.behavior is None
    (metric,) = hpa.spec.metrics
    assert metric.type == "Resource" and metric.resource is not None
    assert (metric.resource.name, metric.resource.target.type, metric.resource.target.average_utilization) == (
        "cpu",
        "Utilization",
        80,
    )
    (hpa,) = loads(head + ref + "  behavior: {scaleDown: {stabilizationWindowSeconds: 60}}\n")
    up, down = hpa.spec.behavior.scale_up, hpa.spec.behavior.scale_down  # type: ignore[union-attr]
    assert up is not None and down is not None
    assert (up.stabilization_window_seconds, up.select_policy) == (0, "Max")
    assert up.policies == [HPAScalingPolicy("Pods", 4, 15), HPAScalingPolicy("Percent", 100, 15)]
    assert (down.stabilization_window_seconds, down.select_policy) == (60, "Max")
    assert down.policies == [HPAScalingPolicy("Percent", 100, 15)]


def test_node_allocatable_defaults_to_capacity() -> None:
    (node,) = loads("apiVersion: v1\nkind: Node\nmetadata: {name: n}\nstatus: {capacity: {cpu: '4', memory: 8Gi}}\n")
    assert isinstance(node, Node) and node.status.allocatable == {"cpu": Quantity("4"), "memory": Quantity("8Gi")}


def test_quantities_finer_than_milli_round_up() -> None:
    (pod,) = loads(POD + "    resources: {requests: {cpu: '0.0001'}}\n")
    assert str(pod.spec.containers[0].resources.requests["cpu"]) == "1m"


def test_default_is_idempotent_and_in_place() -> None:
    pod = Pod(spec=PodSpec(containers=[Container(name="c", image="busybox")]))
    assert default(pod) is pod
    once = str(pod)
    default(pod)
    assert str(pod) == once
