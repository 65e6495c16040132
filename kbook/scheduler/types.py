"""The scheduler's view of pods and nodes (``pkg/scheduler/framework/types.go``):
``Resource``, ``PodInfo`` with its parsed affinity terms, ``NodeInfo`` with what the pods
bound there request, host ports and image states, and the results a cycle produces
(``NodeScore``, ``NodePluginScores``, ``Diagnosis``, ``FitError``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from kbook.api import Node, Pod, pod_requests
from kbook.api.resource_names import is_extended_resource_name
from kbook.api.selectors import LabelSelector, SelectorError
from kbook.errors import aggregate
from kbook.quantity import Quantity
from kbook.scheduler.status import Code, Status

__all__ = [
    "DEFAULT_MILLI_CPU_REQUEST",
    "DEFAULT_MEMORY_REQUEST",
    "Resource",
    "is_scalar_resource_name",
    "pod_resource_request",
    "non_zero_request",
    "Selector",
    "AffinityTerm",
    "WeightedAffinityTerm",
    "PodInfo",
    "HostPortInfo",
    "ImageStateSummary",
    "NodeInfo",
    "QueuedPodInfo",
    "NodeScore",
    "PluginScore",
    "NodePluginScores",
    "PreFilterResult",
    "PostFilterResult",
    "Diagnosis",
    "FitError",
    "pod_priority",
]

DEFAULT_MILLI_CPU_REQUEST = 100  # pkg/scheduler/util: DefaultMilliCPURequest (0.1 core)
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024  # DefaultMemoryRequest (200 MB)
_NON_ZERO = {"cpu": Quantity(f"{DEFAULT_MILLI_CPU_REQUEST}m"), "memory": Quantity(str(DEFAULT_MEMORY_REQUEST))}

DEFAULT_NAMESPACE = "default"


def pod_priority(pod: Pod) -> int:
    """``corev1helpers.PodPriority``: ``spec.priority``, 0 when unset."""
    return pod.spec.priority or 0


# -- resources --------------------------------------------------------------------------


def is_scalar_resource_name(name: str) -> bool:
    """``schedutil.IsScalarResourceName``: extended (``example.com/gpu``), ``hugepages-*``,
    prefixed native (``*kubernetes.io/*``) or ``attachable-volumes-*`` resources."""
    return (
        is_extended_resource_name(name)
        or name.startswith("hugepages-")
        or "kubernetes.io/" in name
        or name.startswith("attachable-volumes-")
    )


@dataclass
class Resource:
    """``framework.Resource``: cpu in millicores, the rest in units (bytes, pods)."""

    milli_cpu: int = 0
    memory: int = 0
    ephemeral_storage: int = 0
    allowed_pod_number: int = 0
    scalar_resources: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, resources: Mapping[str, Quantity]) -> Resource:
        """``NewResource(rl)``: cpu, memory, pods, ephemeral-storage and scalar resources."""
        r = cls()
        r.add(resources)
        return r

    def add(self, resources: Mapping[str, Quantity]) -> None:
        """``Resource.Add``."""
        for name, q in resources.items():
            if name == "cpu":
                self.milli_cpu += q.milli_value()
            elif name == "memory":
                self.memory += q.value()
            elif name == "pods":
                self.allowed_pod_number += q.value()
            elif name == "ephemeral-storage":
                self.ephemeral_storage += q.value()
            elif is_scalar_resource_name(name):
                self.scalar_resources[name] = self.scalar_resources.get(name, 0) + q.value()

    def set_max(self, resources: Mapping[str, Quantity]) -> None:
        """``Resource.SetMaxResource`` (pods is not a request)."""
        for name, q in resources.items():
            if name == "cpu":
                self.milli_cpu = max(self.milli_cpu, q.milli_value())
            elif name == "memory":
                self.memory = max(self.memory, q.value())
            elif name == "ephemeral-storage":
                self.ephemeral_storage = max(self.ephemeral_storage, q.value())
            elif is_scalar_resource_name(name):
                self.scalar_resources[name] = max(self.scalar_resources.get(name, 0), q.value())

    def add_resource(self, other: Resource, sign: int = 1) -> None:
        """Add (or with ``sign=-1`` subtract) another Resource, field by field."""
        self.milli_cpu += sign * other.milli_cpu
        self.memory += sign * other.memory
        self.ephemeral_storage += sign * other.ephemeral_storage
        self.allowed_pod_number += sign * other.allowed_pod_number
        for name, v in other.scalar_resources.items():
            self.scalar_resources[name] = self.scalar_resources.get(name, 0) + sign * v

    def get(self, name: str) -> int:
        """The amount of one resource by its API name (``cpu`` in millicores)."""
        if name == "cpu":
            return self.milli_cpu
        if name == "memory":
            return self.memory
        if name == "ephemeral-storage":
            return self.ephemeral_storage
        if name == "pods":
            return self.allowed_pod_number
        return self.scalar_resources.get(name, 0)

    def clone(self) -> Resource:
        return Resource(self.milli_cpu, self.memory, self.ephemeral_storage, self.allowed_pod_number,
                        dict(self.scalar_resources))


def pod_resource_request(pod: Pod) -> Resource:
    """NodeResourcesFit's ``computePodResourceRequest``: ``PodRequests`` (containers, the
    largest init container, sidecars, overhead) with no non-zero defaults."""
    r = Resource()
    r.set_max(pod_requests(pod))
    return r


def non_zero_request(pod: Pod) -> tuple[int, int]:
    """``calculateResource``'s non-zero cpu (millicores) and memory (bytes): 100m and
    200 MB stand in for every container that does not request them."""
    req = pod_requests(pod, non_missing=_NON_ZERO)
    cpu = req["cpu"].milli_value() if "cpu" in req else 0
    memory = req["memory"].value() if "memory" in req else 0
    return cpu, memory


# -- affinity terms ---------------------------------------------------------------------


class Selector:
    """A parsed ``labels.Selector``: ``None`` requirements is ``labels.Nothing()``; an
    empty list is ``labels.Everything()``."""

    __slots__ = ("requirements",)

    def __init__(self, requirements: list | None) -> None:
        self.requirements = requirements

    @classmethod
    def of(cls, selector: LabelSelector | None) -> Selector:
        """``metav1.LabelSelectorAsSelector``: nil is Nothing; raises SelectorError."""
        if selector is None:
            return cls(None)
        return cls(selector.requirements())

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.requirements is None:
            return False
        return all(r.matches(labels) for r in self.requirements)

    def is_nothing(self) -> bool:
        return self.requirements is None

    def is_everything(self) -> bool:
        return self.requirements is not None and not self.requirements

    def __repr__(self) -> str:
        if self.requirements is None:
            return "Selector(Nothing)"
        return "Selector(" + ",".join(f"{r.key} {r.operator} {r.values}" for r in self.requirements) + ")"


@dataclass
class AffinityTerm:
    """``framework.AffinityTerm``: namespaces (explicit, or the pod's own), the label
    selector, the topology key and the namespace selector."""

    namespaces: frozenset[str]
    selector: Selector
    topology_key: str
    namespace_selector: Selector

    def matches(self, pod: Pod, ns_labels: Mapping[str, str] | None) -> bool:
        """``AffinityTerm.Matches``; no namespace labels is an empty label set."""
        ns = pod.metadata.namespace or DEFAULT_NAMESPACE
        if ns in self.namespaces or self.namespace_selector.matches(ns_labels or {}):
            return self.selector.matches(pod.metadata.labels)
        return False


@dataclass
class WeightedAffinityTerm:
    """``framework.WeightedAffinityTerm``."""

    term: AffinityTerm
    weight: int


def _affinity_term(pod: Pod, term: Any) -> AffinityTerm:
    """``newAffinityTerm`` with ``getNamespacesFromPodAffinityTerm``."""
    selector = Selector.of(term.label_selector)
    if not term.namespaces and term.namespace_selector is None:
        namespaces = frozenset([pod.metadata.namespace or DEFAULT_NAMESPACE])
    else:
        namespaces = frozenset(ns or DEFAULT_NAMESPACE for ns in term.namespaces)
    return AffinityTerm(namespaces, selector, term.topology_key, Selector.of(term.namespace_selector))


class PodInfo:
    """``framework.PodInfo``: the pod with its affinity terms parsed once, plus its requests
    (exact and with the non-zero defaults) cached for the resource plugins."""

    __slots__ = ("pod", "required_affinity_terms", "required_anti_affinity_terms",
                 "preferred_affinity_terms", "preferred_anti_affinity_terms", "parse_error",
                 "_request", "_non_zero")

    def __init__(self, pod: Pod) -> None:
        self.pod = pod
        self._request: Resource | None = None
        self._non_zero: tuple[int, int] | None = None
        # shared empty tuples for the common pod without affinity: nothing for the GC to track
        self.required_affinity_terms: Sequence[AffinityTerm] = ()
        self.required_anti_affinity_terms: Sequence[AffinityTerm] = ()
        self.preferred_affinity_terms: Sequence[WeightedAffinityTerm] = ()
        self.preferred_anti_affinity_terms: Sequence[WeightedAffinityTerm] = ()
        self.parse_error: str | None = None
        affinity = pod.spec.affinity
        if affinity is None:
            return
        errors: list[str] = []

        def parse(what: str, terms: Iterable[Any], weighted: bool) -> list:
            """``getAffinityTerms``: the first invalid term drops every term of its kind."""
            try:
                if weighted:
                    return [WeightedAffinityTerm(_affinity_term(pod, t.pod_affinity_term), t.weight) for t in terms]
                return [_affinity_term(pod, t) for t in terms]
            except SelectorError as e:
                errors.append(f"{what}: {e}")
                return []

        pa, paa = affinity.pod_affinity, affinity.pod_anti_affinity
        if pa is not None:
            self.required_affinity_terms = parse(
                "requiredAffinityTerms", pa.required_during_scheduling_ignored_during_execution, False)
        if paa is not None:
            self.required_anti_affinity_terms = parse(
                "requiredAntiAffinityTerms", paa.required_during_scheduling_ignored_during_execution, False)
        if pa is not None:
            self.preferred_affinity_terms = parse(
                "preferredAffinityTerms", pa.preferred_during_scheduling_ignored_during_execution, True)
        if paa is not None:
            self.preferred_anti_affinity_terms = parse(
                "preferredAntiAffinityTerms", paa.preferred_during_scheduling_ignored_during_execution, True)
        if errors:
            self.parse_error = aggregate(errors)

    @property
    def request(self) -> Resource:
        """``computePodResourceRequest`` (NodeResourcesFit's PreFilter state)."""
        if self._request is None:
            self._request = pod_resource_request(self.pod)
        return self._request

    @property
    def non_zero(self) -> tuple[int, int]:
        """(millicores, bytes) with the non-zero defaults: what scoring counts."""
        if self._non_zero is None:
            self._non_zero = non_zero_request(self.pod)
        return self._non_zero

    @property
    def has_affinity(self) -> bool:
        a = self.pod.spec.affinity
        return a is not None and (a.pod_affinity is not None or a.pod_anti_affinity is not None)

    @property
    def has_required_anti_affinity(self) -> bool:
        a = self.pod.spec.affinity
        return (a is not None and a.pod_anti_affinity is not None
                and bool(a.pod_anti_affinity.required_during_scheduling_ignored_during_execution))

    def __repr__(self) -> str:
        return f"PodInfo({self.pod.key})"


# -- nodes ------------------------------------------------------------------------------

DEFAULT_BIND_ALL_HOST_IP = "0.0.0.0"


class HostPortInfo:
    """``framework.HostPortInfo``: ip -> set of (protocol, port) in use on a node."""

    __slots__ = ("ports",)

    def __init__(self) -> None:
        self.ports: dict[str, set[tuple[str, int]]] = {}

    @staticmethod
    def _sanitize(ip: str, protocol: str) -> tuple[str, str]:
        return ip or DEFAULT_BIND_ALL_HOST_IP, protocol or "TCP"

    def add(self, ip: str, protocol: str, port: int) -> None:
        if port <= 0:
            return
        ip, protocol = self._sanitize(ip, protocol)
        self.ports.setdefault(ip, set()).add((protocol, port))

    def remove(self, ip: str, protocol: str, port: int) -> None:
        if port <= 0:
            return
        ip, protocol = self._sanitize(ip, protocol)
        m = self.ports.get(ip)
        if m is not None:
            m.discard((protocol, port))
            if not m:
                del self.ports[ip]

    def check_conflict(self, ip: str, protocol: str, port: int) -> bool:
        """``HostPortInfo.CheckConflict``: 0.0.0.0 conflicts with every ip."""
        if port <= 0:
            return False
        ip, protocol = self._sanitize(ip, protocol)
        pp = (protocol, port)
        if ip == DEFAULT_BIND_ALL_HOST_IP:
            return any(pp in m for m in self.ports.values())
        return any(pp in self.ports.get(key, ()) for key in (DEFAULT_BIND_ALL_HOST_IP, ip))

    def __len__(self) -> int:
        return sum(len(m) for m in self.ports.values())

    def clone(self) -> HostPortInfo:
        h = HostPortInfo()
        h.ports = {ip: set(m) for ip, m in self.ports.items()}
        return h


@dataclass(frozen=True)
class ImageStateSummary:
    """``framework.ImageStateSummary``: an image's size and on how many nodes it is."""

    size: int
    num_nodes: int


_generation = itertools.count(1)


def _next_generation() -> int:
    """``nextGeneration``: a process-wide counter, so a cache can tell what changed."""
    return next(_generation)


def _pod_ports(pod: Pod) -> Iterable[tuple[str, str, int]]:
    for c in pod.spec.containers:
        for p in c.ports:
            yield p.host_ip, p.protocol, p.host_port


class NodeInfo:
    """``framework.NodeInfo``: a node and the pods bound (or assumed) there, with the
    sums the plugins read: ``requested``, ``non_zero_requested``, ``used_ports``."""

    __slots__ = ("node", "pods", "pods_with_affinity", "pods_with_required_anti_affinity",
                 "used_ports", "requested", "non_zero_requested", "allocatable", "image_states",
                 "generation")

    def __init__(self, node: Node | None = None, pods: Iterable[PodInfo | Pod] = ()) -> None:
        self.node: Node | None = None
        self.pods: list[PodInfo] = []
        self.pods_with_affinity: list[PodInfo] = []
        self.pods_with_required_anti_affinity: list[PodInfo] = []
        self.used_ports = HostPortInfo()
        self.requested = Resource()
        self.non_zero_requested = Resource()
        self.allocatable = Resource()
        self.image_states: dict[str, ImageStateSummary] = {}
        self.generation = _next_generation()
        if node is not None:
            self.set_node(node)
        for p in pods:
            self.add_pod(p)

    @property
    def name(self) -> str:
        return self.node.metadata.name if self.node is not None else ""

    def set_node(self, node: Node) -> None:
        """``NodeInfo.SetNode``."""
        self.node = node
        self.allocatable = Resource.of(node.status.allocatable)
        self.generation = _next_generation()

    def add_pod(self, pod: PodInfo | Pod) -> None:
        """``NodeInfo.AddPodInfo``."""
        info = pod if isinstance(pod, PodInfo) else PodInfo(pod)
        self.pods.append(info)
        if info.has_affinity:
            self.pods_with_affinity.append(info)
        if info.has_required_anti_affinity:
            self.pods_with_required_anti_affinity.append(info)
        self._update(info, 1)

    def remove_pod(self, pod: Pod) -> bool:
        """``NodeInfo.RemovePod``: by uid (or key when there is none); False if absent."""
        ident = _pod_identity(pod)
        for i, info in enumerate(self.pods):
            if _pod_identity(info.pod) == ident:
                del self.pods[i]
                self.pods_with_affinity = [p for p in self.pods_with_affinity if p is not info]
                self.pods_with_required_anti_affinity = [
                    p for p in self.pods_with_required_anti_affinity if p is not info]
                self._update(info, -1)
                return True
        return False

    def _update(self, info: PodInfo, sign: int) -> None:
        self.requested.add_resource(info.request, sign)
        cpu, memory = info.non_zero
        self.non_zero_requested.milli_cpu += sign * cpu
        self.non_zero_requested.memory += sign * memory
        for ip, protocol, port in _pod_ports(info.pod):
            if sign > 0:
                self.used_ports.add(ip, protocol, port)
            else:
                self.used_ports.remove(ip, protocol, port)
        self.generation = _next_generation()

    def clone(self) -> NodeInfo:
        """``NodeInfo.Clone``: new lists and sums, the same pod and node objects."""
        c = NodeInfo.__new__(NodeInfo)
        c.node = self.node
        c.pods = list(self.pods)
        c.pods_with_affinity = list(self.pods_with_affinity)
        c.pods_with_required_anti_affinity = list(self.pods_with_required_anti_affinity)
        c.used_ports = self.used_ports.clone()
        c.requested = self.requested.clone()
        c.non_zero_requested = self.non_zero_requested.clone()
        c.allocatable = self.allocatable.clone()
        c.image_states = dict(self.image_states)
        c.generation = self.generation
        return c

    def __repr__(self) -> str:
        return f"NodeInfo({self.name}, {len(self.pods)} pods)"


def _pod_identity(pod: Pod) -> str:
    return pod.metadata.uid or pod.key


# -- the queue's and the cycle's records ------------------------------------------------


@dataclass
class QueuedPodInfo:
    """``framework.QueuedPodInfo``: a pod in the scheduling queue, with when it was added
    (``timestamp``, what PrioritySort compares), its attempts and the plugins that
    rejected it last."""

    pod_info: PodInfo
    timestamp: float = 0.0
    attempts: int = 0
    initial_attempt_timestamp: float | None = None
    unschedulable_plugins: set[str] = field(default_factory=set)
    gated: bool = False

    @property
    def pod(self) -> Pod:
        return self.pod_info.pod


@dataclass
class NodeScore:
    """``framework.NodeScore``."""

    name: str
    score: int


@dataclass
class PluginScore:
    """``framework.PluginScore``: one plugin's weighted score for one node."""

    name: str
    score: int


@dataclass
class NodePluginScores:
    """``framework.NodePluginScores``: a node's per-plugin scores and their total."""

    name: str
    scores: list[PluginScore] = field(default_factory=list)
    total_score: int = 0


@dataclass
class PreFilterResult:
    """``framework.PreFilterResult``: ``None`` node names means all nodes."""

    node_names: set[str] | None = None

    def all_nodes(self) -> bool:
        return self.node_names is None

    def merge(self, other: PreFilterResult | None) -> PreFilterResult:
        """``PreFilterResult.Merge``: the intersection."""
        if other is None or other.all_nodes():
            return PreFilterResult(None if self.node_names is None else set(self.node_names))
        if self.all_nodes():
            return PreFilterResult(set(other.node_names))
        return PreFilterResult(self.node_names & other.node_names)


@dataclass
class PostFilterResult:
    """``framework.PostFilterResult``: the node nominated for the pod (preemption)."""

    nominated_node_name: str = ""


@dataclass
class Diagnosis:
    """``framework.Diagnosis``: why no node fits."""

    node_to_status: dict[str, Status] = field(default_factory=dict)
    unschedulable_plugins: set[str] = field(default_factory=set)
    pre_filter_msg: str = ""
    post_filter_msg: str = ""


class FitError(Exception):
    """``framework.FitError``: no node fits the pod. ``str()`` is upstream's message:
    ``0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint
    {dedicated: user1}.``"""

    def __init__(self, pod: Pod | None, num_all_nodes: int, diagnosis: Diagnosis) -> None:
        self.pod = pod
        self.num_all_nodes = num_all_nodes
        self.diagnosis = diagnosis
        super().__init__(self.message())

    def message(self) -> str:
        """``FitError.Error()``."""
        msg = f"0/{self.num_all_nodes} nodes are available:"
        d = self.diagnosis
        if d.pre_filter_msg:
            msg += f" {d.pre_filter_msg}."
        else:
            histogram: dict[str, int] = {}
            for status in d.node_to_status.values():
                for reason in status.reasons:
                    histogram[reason] = histogram.get(reason, 0) + 1
            parts = sorted(f"{n} {reason}" for reason, n in histogram.items())
            if parts:
                msg += " " + ", ".join(parts) + "."
        if d.post_filter_msg:
            msg += f" {d.post_filter_msg}."
        return msg

    def __str__(self) -> str:
        return self.message()


def unschedulable(reason: str, *, resolvable: bool = True) -> Status:
    """A Filter rejection: ``Unschedulable`` or ``UnschedulableAndUnresolvable``."""
    return Status(Code.UNSCHEDULABLE if resolvable else Code.UNSCHEDULABLE_AND_UNRESOLVABLE, [reason])
