"""Defaulting: the values the API server fills in before validating and storing an object.

``SetDefaults_*`` from ``pkg/apis/core/v1/defaults.go``, ``pkg/apis/apps/v1/defaults.go``
and ``pkg/apis/autoscaling/v2/defaults.go``, in the order the generated
``SetObjectDefaults_*`` call them. Every function mutates in place and is idempotent.
"""

from __future__ import annotations

import re

from kbook.api.apps import Deployment, ReplicaSet, RollingUpdateDeployment
from kbook.api.autoscaling import (
    HorizontalPodAutoscaler,
    HPAScalingPolicy,
    HPAScalingRules,
    MetricSpec,
    MetricTarget,
    ResourceMetricSource,
)
from kbook.api.coordination import Lease
from kbook.api.core import ClientIPConfig, Container, Node, Pod, PodSpec, Probe, Service, SessionAffinityConfig
from kbook.api.endpoints import Endpoints
from kbook.api.meta import KubeObject
from kbook.api.model import IntOrString
from kbook.api.namespace import Namespace
from kbook.quantity import MILLI, Quantity

__all__ = [
    "default",
    "default_requests_from_limits",
    "image_pull_policy",
    "DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS",
    "DEFAULT_SCHEDULER_NAME",
    "TERMINATION_MESSAGE_PATH_DEFAULT",
    "DEFAULT_CLIENT_IP_SERVICE_AFFINITY_SECONDS",
    "DEFAULT_CPU_UTILIZATION",
    "LABEL_METADATA_NAME",
]

DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 30  # v1.DefaultTerminationGracePeriodSeconds
DEFAULT_SCHEDULER_NAME = "default-scheduler"  # v1.DefaultSchedulerName
TERMINATION_MESSAGE_PATH_DEFAULT = "/dev/termination-log"  # v1.TerminationMessagePathDefault
DEFAULT_CLIENT_IP_SERVICE_AFFINITY_SECONDS = 10800  # v1.DefaultClientIPServiceAffinitySeconds
DEFAULT_CPU_UTILIZATION = 80  # autoscaling.DefaultCPUUtilization
LABEL_METADATA_NAME = "kubernetes.io/metadata.name"  # v1.LabelMetadataName

# The image reference grammar of github.com/distribution/reference (regexp.go).
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_REFERENCE = re.compile(
    rf"(?P<name>(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?",
    re.ASCII,
)


def _image_tag(image: str) -> str:
    """The tag ``parsers.ParseImageName`` finds: ``latest`` when neither a tag nor a digest
    is given, ``""`` for a digest-only or unparsable reference."""
    m = _REFERENCE.fullmatch(image)
    if m is None or len(m["name"]) > 255 or re.fullmatch("[a-f0-9]{64}", image):
        return ""
    if not m["tag"] and not m["digest"]:
        return "latest"
    return m["tag"] or ""


def image_pull_policy(image: str) -> str:
    """``SetDefaults_Container``'s pull policy: ``Always`` for ``:latest`` (or no tag), else ``IfNotPresent``."""
    return "Always" if _image_tag(image) == "latest" else "IfNotPresent"


def _round_up_milli(resources: dict[str, Quantity]) -> None:
    """``SetDefaults_ResourceList``: values finer than a milli-unit are rounded up to one."""
    for name, quantity in resources.items():
        if (quantity.as_fraction() * 1000).denominator != 1:
            resources[name] = Quantity.from_scaled(quantity.scaled_value(MILLI), MILLI, quantity.format)


def _default_probe(probe: Probe | None) -> None:
    """``SetDefaults_Probe`` and ``SetDefaults_HTTPGetAction``."""
    if probe is None:
        return
    probe.timeout_seconds = probe.timeout_seconds or 1
    probe.period_seconds = probe.period_seconds or 10
    probe.success_threshold = probe.success_threshold or 1
    probe.failure_threshold = probe.failure_threshold or 3
    if probe.http_get is not None:
        probe.http_get.path = probe.http_get.path or "/"
        probe.http_get.scheme = probe.http_get.scheme or "HTTP"


def _default_container(c: Container) -> None:
    """``SetDefaults_Container`` and the container parts of ``SetObjectDefaults_*``."""
    c.image_pull_policy = c.image_pull_policy or image_pull_policy(c.image)
    c.termination_message_path = c.termination_message_path or TERMINATION_MESSAGE_PATH_DEFAULT
    c.termination_message_policy = c.termination_message_policy or "File"
    for port in c.ports:
        port.protocol = port.protocol or "TCP"
    for var in c.env:
        field_ref = var.value_from.get("fieldRef") if isinstance(var.value_from, dict) else None
        if isinstance(field_ref, dict) and not field_ref.get("apiVersion"):
            field_ref["apiVersion"] = "v1"  # SetDefaults_ObjectFieldSelector
    _round_up_milli(c.resources.limits)
    _round_up_milli(c.resources.requests)
    for probe in (c.liveness_probe, c.readiness_probe, c.startup_probe):
        _default_probe(probe)


def _default_pod_spec(spec: PodSpec) -> None:
    """``SetDefaults_PodSpec`` and the containers it holds."""
    spec.dns_policy = spec.dns_policy or "ClusterFirst"
    spec.restart_policy = spec.restart_policy or "Always"
    if spec.security_context is None:
        spec.security_context = {}
    if spec.termination_grace_period_seconds is None:
        spec.termination_grace_period_seconds = DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS
    spec.scheduler_name = spec.scheduler_name or DEFAULT_SCHEDULER_NAME
    for c in spec.init_containers + spec.containers:
        _default_container(c)
    _round_up_milli(spec.overhead)


def default_requests_from_limits(spec: PodSpec) -> None:
    """The first part of ``SetDefaults_Pod``: a container's limits stand in for its
    missing requests (pods only, not pod templates)."""
    for c in spec.containers + spec.init_containers:
        for name, limit in c.resources.limits.items():
            c.resources.requests.setdefault(name, limit)


def _default_pod(pod: Pod) -> None:
    """``SetDefaults_Pod`` then ``SetDefaults_PodSpec``."""
    default_requests_from_limits(pod.spec)
    if pod.spec.enable_service_links is None:
        pod.spec.enable_service_links = True
    if pod.spec.host_network:
        for c in pod.spec.containers + pod.spec.init_containers:
            for port in c.ports:
                port.host_port = port.host_port or port.container_port
    _default_pod_spec(pod.spec)


def _default_service(svc: Service) -> None:
    """``SetDefaults_Service``."""
    spec = svc.spec
    spec.session_affinity = spec.session_affinity or "None"
    if spec.session_affinity == "None":
        spec.session_affinity_config = None
    if spec.session_affinity == "ClientIP":
        config = spec.session_affinity_config
        if config is None or config.client_ip is None or config.client_ip.timeout_seconds is None:
            spec.session_affinity_config = SessionAffinityConfig(
                client_ip=ClientIPConfig(timeout_seconds=DEFAULT_CLIENT_IP_SERVICE_AFFINITY_SECONDS)
            )
    spec.type = spec.type or "ClusterIP"
    for port in spec.ports:
        port.protocol = port.protocol or "TCP"
        if port.target_port in (IntOrString(0), IntOrString("")):
            port.target_port = IntOrString(port.port)
    accessible = spec.type in ("LoadBalancer", "NodePort") or (spec.type == "ClusterIP" and bool(spec.external_ips))
    if accessible and not spec.external_traffic_policy:
        spec.external_traffic_policy = "Cluster"
    if spec.internal_traffic_policy is None and spec.type in ("NodePort", "LoadBalancer", "ClusterIP"):
        spec.internal_traffic_policy = "Cluster"
    if spec.type == "LoadBalancer" and spec.allocate_load_balancer_node_ports is None:
        spec.allocate_load_balancer_node_ports = True


def _default_node(node: Node) -> None:
    """``SetDefaults_NodeStatus``: allocatable defaults to capacity."""
    _round_up_milli(node.status.capacity)
    _round_up_milli(node.status.allocatable)
    if not node.status.allocatable and node.status.capacity:
        node.status.allocatable = dict(node.status.capacity)


def _default_deployment(d: Deployment) -> None:
    """``SetDefaults_Deployment``: 1 replica, RollingUpdate 25%/25%, 10 revisions, 600 s deadline."""
    spec = d.spec
    if spec.replicas is None:
        spec.replicas = 1
    strategy = spec.strategy
    strategy.type = strategy.type or "RollingUpdate"
    if strategy.type == "RollingUpdate":
        if strategy.rolling_update is None:
            strategy.rolling_update = RollingUpdateDeployment()
        if strategy.rolling_update.max_unavailable is None:
            strategy.rolling_update.max_unavailable = IntOrString("25%")
        if strategy.rolling_update.max_surge is None:
            strategy.rolling_update.max_surge = IntOrString("25%")
    if spec.revision_history_limit is None:
        spec.revision_history_limit = 10
    if spec.progress_deadline_seconds is None:
        spec.progress_deadline_seconds = 600
    _default_pod_spec(spec.template.spec)


def _default_replica_set(rs: ReplicaSet) -> None:
    """``SetDefaults_ReplicaSet``."""
    if rs.spec.replicas is None:
        rs.spec.replicas = 1
    _default_pod_spec(rs.spec.template.spec)


def _scale_up_rules() -> HPAScalingRules:
    """``defaultHPAScaleUpRules``: no window, the larger of 4 pods or 100 % per 15 s."""
    return HPAScalingRules(
        stabilization_window_seconds=0,
        select_policy="Max",
        policies=[HPAScalingPolicy("Pods", 4, 15), HPAScalingPolicy("Percent", 100, 15)],
    )


def _scale_down_rules() -> HPAScalingRules:
    """``defaultHPAScaleDownRules``: 100 % per 15 s; the window is the controller's flag (300 s)."""
    return HPAScalingRules(select_policy="Max", policies=[HPAScalingPolicy("Percent", 100, 15)])


def _copy_rules(source: HPAScalingRules | None, into: HPAScalingRules) -> HPAScalingRules:
    """``copyHPAScalingRules``: the set fields of ``source`` over the defaults."""
    if source is not None:
        for attr in ("select_policy", "stabilization_window_seconds", "policies", "tolerance"):
            if getattr(source, attr) is not None:
                setattr(into, attr, getattr(source, attr))
    return into


def _default_hpa(hpa: HorizontalPodAutoscaler) -> None:
    """``SetDefaults_HorizontalPodAutoscaler``: minReplicas 1, cpu at 80 % utilization, full behavior."""
    spec = hpa.spec
    if spec.min_replicas is None:
        spec.min_replicas = 1
    if not spec.metrics:
        target = MetricTarget(type="Utilization", average_utilization=DEFAULT_CPU_UTILIZATION)
        spec.metrics = [MetricSpec(type="Resource", resource=ResourceMetricSource(name="cpu", target=target))]
    if spec.behavior is not None:  # SetDefaults_HorizontalPodAutoscalerBehavior
        spec.behavior.scale_up = _copy_rules(spec.behavior.scale_up, _scale_up_rules())
        spec.behavior.scale_down = _copy_rules(spec.behavior.scale_down, _scale_down_rules())


def _default_endpoints(endpoints: Endpoints) -> None:
    """``SetDefaults_EndpointPort``: protocol TCP."""
    for subset in endpoints.subsets:
        for port in subset.ports:
            port.protocol = port.protocol or "TCP"


def _default_namespace(namespace: Namespace) -> None:
    """``SetDefaults_Namespace`` (the ``kubernetes.io/metadata.name`` label) and
    ``SetDefaults_NamespaceStatus`` (phase Active)."""
    if namespace.metadata.name:
        namespace.metadata.labels[LABEL_METADATA_NAME] = namespace.metadata.name
    namespace.status.phase = namespace.status.phase or "Active"


def _default_lease(lease: Lease) -> None:
    """Leases have no defaults."""


_DEFAULTERS = {
    Pod: _default_pod,
    Node: _default_node,
    Service: _default_service,
    Deployment: _default_deployment,
    ReplicaSet: _default_replica_set,
    HorizontalPodAutoscaler: _default_hpa,
    Endpoints: _default_endpoints,
    Namespace: _default_namespace,
    Lease: _default_lease,
}


def default(obj: KubeObject) -> KubeObject:
    """Apply the API server's defaults to ``obj`` in place (``SetObjectDefaults_<Kind>``); returns it."""
    _DEFAULTERS[type(obj)](obj)  # type: ignore[operator]
    return obj

