"""Core (``v1``) kinds: Pod, Node, Service and the structs they are made of.

Field for field ``k8s.io/api/core/v1/types.go`` for what the book models; parts it
does not model (volumes, security contexts, lifecycle hooks, container statuses, ...)
are :func:`~kbook.api.model.opaque` and kept verbatim. Go pointers are ``X | None``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from kbook.api.meta import KubeObject, ObjectMeta
from kbook.api.model import Int32, Int64, IntOrString, KubeModel, ResourceList, opaque, wire
from kbook.api.selectors import LabelSelector

__all__ = [
    "ContainerPort",
    "EnvVar",
    "ResourceRequirements",
    "ExecAction",
    "HTTPHeader",
    "HTTPGetAction",
    "TCPSocketAction",
    "GRPCAction",
    "Probe",
    "Container",
    "Toleration",
    "NodeSelectorRequirement",
    "NodeSelectorTerm",
    "NodeSelector",
    "PreferredSchedulingTerm",
    "NodeAffinity",
    "PodAffinityTerm",
    "WeightedPodAffinityTerm",
    "PodAffinity",
    "PodAntiAffinity",
    "Affinity",
    "TopologySpreadConstraint",
    "PodSpec",
    "PodCondition",
    "PodStatus",
    "Pod",
    "PodTemplateSpec",
    "Taint",
    "NodeSpec",
    "NodeAddress",
    "NodeCondition",
    "NodeSystemInfo",
    "ContainerImage",
    "NodeStatus",
    "Node",
    "ServicePort",
    "ClientIPConfig",
    "SessionAffinityConfig",
    "ServiceSpec",
    "Service",
]


# -- containers ---------------------------------------------------------------------


@dataclass
class ContainerPort(KubeModel):
    name: str = ""
    host_port: Int32 = 0
    container_port: Int32 = 0
    protocol: str = ""
    host_ip: str = wire("hostIP", default="")


@dataclass
class EnvVar(KubeModel):
    name: str = ""
    value: str = ""
    value_from: Any = opaque("v1.EnvVarSource")


@dataclass
class ResourceRequirements(KubeModel):
    """Requests and limits, resource name -> :class:`~kbook.quantity.Quantity`."""

    limits: ResourceList = field(default_factory=dict)
    requests: ResourceList = field(default_factory=dict)
    claims: list[Any] = opaque("[]v1.ResourceClaim")


@dataclass
class ExecAction(KubeModel):
    command: list[str] = field(default_factory=list)


@dataclass
class HTTPHeader(KubeModel):
    name: str = ""
    value: str = ""


@dataclass
class HTTPGetAction(KubeModel):
    path: str = ""
    port: IntOrString = IntOrString(0)
    host: str = ""
    scheme: str = ""
    http_headers: list[HTTPHeader] = field(default_factory=list)


@dataclass
class TCPSocketAction(KubeModel):
    port: IntOrString = IntOrString(0)
    host: str = ""


@dataclass
class GRPCAction(KubeModel):
    port: Int32 = 0
    service: str | None = None


@dataclass
class Probe(KubeModel):
    """A liveness, readiness or startup probe: one handler and its timing."""

    exec: ExecAction | None = None
    http_get: HTTPGetAction | None = None
    tcp_socket: TCPSocketAction | None = None
    grpc: GRPCAction | None = None
    initial_delay_seconds: Int32 = 0
    timeout_seconds: Int32 = 0
    period_seconds: Int32 = 0
    success_threshold: Int32 = 0
    failure_threshold: Int32 = 0
    termination_grace_period_seconds: Int64 | None = None


@dataclass
class Container(KubeModel):
    """A container (regular, init, or sidecar: an init container with ``restartPolicy: Always``)."""

    name: str = ""
    image: str = ""
    command: list[str] = field(default_factory=list)
    args: list[str] = field(default_factory=list)
    working_dir: str = ""
    ports: list[ContainerPort] = field(default_factory=list)
    env_from: list[Any] = opaque("[]v1.EnvFromSource")
    env: list[EnvVar] = field(default_factory=list)
    resources: ResourceRequirements = field(default_factory=ResourceRequirements)
    resize_policy: list[Any] = opaque("[]v1.ContainerResizePolicy")
    restart_policy: str | None = None
    volume_mounts: list[Any] = opaque("[]v1.VolumeMount")
    volume_devices: list[Any] = opaque("[]v1.VolumeDevice")
    liveness_probe: Probe | None = None
    readiness_probe: Probe | None = None
    startup_probe: Probe | None = None
    lifecycle: Any = opaque("v1.Lifecycle")
    termination_message_path: str = ""
    termination_message_policy: str = ""
    image_pull_policy: str = ""
    security_context: Any = opaque("v1.SecurityContext")
    stdin: bool = False
    stdin_once: bool = False
    tty: bool = False

    @property
    def is_sidecar(self) -> bool:
        """A restartable init container (``restartPolicy: Always``, KEP-753)."""
        return self.restart_policy == "Always"


# -- scheduling constraints ------------------------------------------------------------


@dataclass
class Toleration(KubeModel):
    key: str = ""
    operator: str = ""
    value: str = ""
    effect: str = ""
    toleration_seconds: Int64 | None = None

    def tolerates(self, taint: Taint) -> bool:
        """``Toleration.ToleratesTaint`` (core/v1/toleration.go): a set effect or key must be
        equal; operator ``Exists`` matches any value, ``Equal`` (or empty) the same value."""
        if self.effect and self.effect != taint.effect:
            return False
        if self.key and self.key != taint.key:
            return False
        if self.operator in ("", "Equal"):
            return self.value == taint.value
        return self.operator == "Exists"


@dataclass
class NodeSelectorRequirement(KubeModel):
    key: str = ""
    operator: str = ""
    values: list[str] = field(default_factory=list)


@dataclass
class NodeSelectorTerm(KubeModel):
    match_expressions: list[NodeSelectorRequirement] = field(default_factory=list)
    match_fields: list[NodeSelectorRequirement] = field(default_factory=list)


@dataclass
class NodeSelector(KubeModel):
    node_selector_terms: list[NodeSelectorTerm] = field(default_factory=list)


@dataclass
class PreferredSchedulingTerm(KubeModel):
    weight: Int32 = 0
    preference: NodeSelectorTerm = field(default_factory=NodeSelectorTerm)


@dataclass
class NodeAffinity(KubeModel):
    required_during_scheduling_ignored_during_execution: NodeSelector | None = None
    preferred_during_scheduling_ignored_during_execution: list[PreferredSchedulingTerm] = field(default_factory=list)


@dataclass
class PodAffinityTerm(KubeModel):
    label_selector: LabelSelector | None = None
    namespaces: list[str] = field(default_factory=list)
    topology_key: str = ""
    namespace_selector: LabelSelector | None = None
    match_label_keys: list[str] = field(default_factory=list)
    mismatch_label_keys: list[str] = field(default_factory=list)


@dataclass
class WeightedPodAffinityTerm(KubeModel):
    weight: Int32 = 0
    pod_affinity_term: PodAffinityTerm = field(default_factory=PodAffinityTerm)


@dataclass
class PodAffinity(KubeModel):
    required_during_scheduling_ignored_during_execution: list[PodAffinityTerm] = field(default_factory=list)
    preferred_during_scheduling_ignored_during_execution: list[WeightedPodAffinityTerm] = field(default_factory=list)


@dataclass
class PodAntiAffinity(KubeModel):
    required_during_scheduling_ignored_during_execution: list[PodAffinityTerm] = field(default_factory=list)
    preferred_during_scheduling_ignored_during_execution: list[WeightedPodAffinityTerm] = field(default_factory=list)


@dataclass
class Affinity(KubeModel):
    node_affinity: NodeAffinity | None = None
    pod_affinity: PodAffinity | None = None
    pod_anti_affinity: PodAntiAffinity | None = None


@dataclass
class TopologySpreadConstraint(KubeModel):
    max_skew: Int32 = 0
    topology_key: str = ""
    when_unsatisfiable: str = ""
    label_selector: LabelSelector | None = None
    min_domains: Int32 | None = None
    node_affinity_policy: str | None = None
    node_taints_policy: str | None = None
    match_label_keys: list[str] = field(default_factory=list)


# -- pods ----------------------------------------------------------------------------


@dataclass
class PodSpec(KubeModel):
    volumes: list[Any] = opaque("[]v1.Volume")
    init_containers: list[Container] = field(default_factory=list)
    containers: list[Container] = field(default_factory=list)
    ephemeral_containers: list[Any] = opaque("[]v1.EphemeralContainer")
    restart_policy: str = ""
    termination_grace_period_seconds: Int64 | None = None
    active_deadline_seconds: Int64 | None = None
    dns_policy: str = ""
    node_selector: dict[str, str] = field(default_factory=dict)
    service_account_name: str = ""
    service_account: str = ""
    automount_service_account_token: bool | None = None
    node_name: str = ""
    host_network: bool = False
    host_pid: bool = wire("hostPID", default=False)
    host_ipc: bool = wire("hostIPC", default=False)
    share_process_namespace: bool | None = None
    security_context: Any = opaque("v1.PodSecurityContext")
    image_pull_secrets: list[Any] = opaque("[]v1.LocalObjectReference")
    hostname: str = ""
    subdomain: str = ""
    affinity: Affinity | None = None
    scheduler_name: str = ""
    tolerations: list[Toleration] = field(default_factory=list)
    host_aliases: list[Any] = opaque("[]v1.HostAlias")
    priority_class_name: str = ""
    priority: Int32 | None = None
    dns_config: Any = opaque("v1.PodDNSConfig")
    readiness_gates: list[Any] = opaque("[]v1.PodReadinessGate")
    runtime_class_name: str | None = None
    enable_service_links: bool | None = None
    preemption_policy: str | None = None
    overhead: ResourceList = field(default_factory=dict)
    topology_spread_constraints: list[TopologySpreadConstraint] = field(default_factory=list)
    set_hostname_as_fqdn: bool | None = wire("setHostnameAsFQDN", default=None)
    os: Any = opaque("v1.PodOS")
    host_users: bool | None = None
    scheduling_gates: list[Any] = opaque("[]v1.PodSchedulingGate")
    resource_claims: list[Any] = opaque("[]v1.PodResourceClaim")
    resources: ResourceRequirements | None = None  # pod-level resources (KEP-2837)


@dataclass
class PodCondition(KubeModel):
    type: str = ""
    status: str = ""
    observed_generation: Int64 = 0
    last_probe_time: str | None = None
    last_transition_time: str | None = None
    reason: str = ""
    message: str = ""


@dataclass
class PodStatus(KubeModel):
    observed_generation: Int64 = 0
    phase: str = ""
    conditions: list[PodCondition] = field(default_factory=list)
    message: str = ""
    reason: str = ""
    nominated_node_name: str = ""
    host_ip: str = wire("hostIP", default="")
    host_ips: list[Any] = opaque("[]v1.HostIP", wire="hostIPs")
    pod_ip: str = wire("podIP", default="")
    pod_ips: list[Any] = opaque("[]v1.PodIP", wire="podIPs")
    start_time: str | None = None
    init_container_statuses: list[Any] = opaque("[]v1.ContainerStatus")
    container_statuses: list[Any] = opaque("[]v1.ContainerStatus")
    qos_class: str = ""
    ephemeral_container_statuses: list[Any] = opaque("[]v1.ContainerStatus")


@dataclass
class Pod(KubeObject):
    API_VERSION: ClassVar[str] = "v1"
    KIND: ClassVar[str] = "Pod"

    spec: PodSpec = field(default_factory=PodSpec)
    status: PodStatus = field(default_factory=PodStatus)


@dataclass
class PodTemplateSpec(KubeModel):
    """The pod a workload controller stamps out: metadata (labels) and a pod spec."""

    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    spec: PodSpec = field(default_factory=PodSpec)


# -- nodes ---------------------------------------------------------------------------


@dataclass
class Taint(KubeModel):
    key: str = ""
    value: str = ""
    effect: str = ""
    time_added: str | None = None


@dataclass
class NodeSpec(KubeModel):
    pod_cidr: str = wire("podCIDR", default="")
    pod_cidrs: list[str] = wire("podCIDRs", default_factory=list)
    provider_id: str = wire("providerID", default="")
    unschedulable: bool = False
    taints: list[Taint] = field(default_factory=list)
    config_source: Any = opaque("v1.NodeConfigSource")
    external_id: str = wire("externalID", default="")


@dataclass
class NodeAddress(KubeModel):
    type: str = ""
    address: str = ""


@dataclass
class NodeCondition(KubeModel):
    type: str = ""
    status: str = ""
    last_heartbeat_time: str | None = None
    last_transition_time: str | None = None
    reason: str = ""
    message: str = ""


@dataclass
class NodeSystemInfo(KubeModel):
    machine_id: str = wire("machineID", default="")
    system_uuid: str = wire("systemUUID", default="")
    boot_id: str = wire("bootID", default="")
    kernel_version: str = ""
    os_image: str = wire("osImage", default="")
    container_runtime_version: str = ""
    kubelet_version: str = ""
    kube_proxy_version: str = ""
    operating_system: str = ""
    architecture: str = ""
    swap: Any = opaque("v1.NodeSwapStatus")


@dataclass
class ContainerImage(KubeModel):
    """An image present on a node: its names (tags, digests) and size."""

    names: list[str] = field(default_factory=list)
    size_bytes: Int64 = 0


@dataclass
class NodeStatus(KubeModel):
    capacity: ResourceList = field(default_factory=dict)
    allocatable: ResourceList = field(default_factory=dict)
    phase: str = ""
    conditions: list[NodeCondition] = field(default_factory=list)
    addresses: list[NodeAddress] = field(default_factory=list)
    daemon_endpoints: Any = opaque("v1.NodeDaemonEndpoints")
    node_info: NodeSystemInfo = field(default_factory=NodeSystemInfo)
    images: list[ContainerImage] = field(default_factory=list)
    volumes_in_use: list[str] = field(default_factory=list)
    volumes_attached: list[Any] = opaque("[]v1.AttachedVolume")
    config: Any = opaque("v1.NodeConfigStatus")
    runtime_handlers: list[Any] = opaque("[]v1.NodeRuntimeHandler")
    features: Any = opaque("v1.NodeFeatures")


@dataclass
class Node(KubeObject):
    API_VERSION: ClassVar[str] = "v1"
    KIND: ClassVar[str] = "Node"
    NAMESPACED: ClassVar[bool] = False

    spec: NodeSpec = field(default_factory=NodeSpec)
    status: NodeStatus = field(default_factory=NodeStatus)


# -- services ------------------------------------------------------------------------


@dataclass
class ServicePort(KubeModel):
    name: str = ""
    protocol: str = ""
    app_protocol: str | None = None
    port: Int32 = 0
    target_port: IntOrString = IntOrString(0)
    node_port: Int32 = 0


@dataclass
class ClientIPConfig(KubeModel):
    timeout_seconds: Int32 | None = None


@dataclass
class SessionAffinityConfig(KubeModel):
    client_ip: ClientIPConfig | None = wire("clientIP", default=None)


@dataclass
class ServiceSpec(KubeModel):
    ports: list[ServicePort] = field(default_factory=list)
    selector: dict[str, str] = field(default_factory=dict)
    cluster_ip: str = wire("clusterIP", default="")
    cluster_ips: list[str] = wire("clusterIPs", default_factory=list)
    type: str = ""
    external_ips: list[str] = wire("externalIPs", default_factory=list)
    session_affinity: str = ""
    load_balancer_ip: str = wire("loadBalancerIP", default="")
    load_balancer_source_ranges: list[str] = field(default_factory=list)
    external_name: str = ""
    external_traffic_policy: str = ""
    health_check_node_port: Int32 = 0
    publish_not_ready_addresses: bool = False
    session_affinity_config: SessionAffinityConfig | None = None
    ip_families: list[str] = field(default_factory=list)
    ip_family_policy: str | None = None
    allocate_load_balancer_node_ports: bool | None = None
    load_balancer_class: str | None = None
    internal_traffic_policy: str | None = None
    traffic_distribution: str | None = None


@dataclass
class Service(KubeObject):
    API_VERSION: ClassVar[str] = "v1"
    KIND: ClassVar[str] = "Service"

    spec: ServiceSpec = field(default_factory=ServiceSpec)
    status: Any = opaque("v1.ServiceStatus")
