"""The array engine against the per-node reference: random clusters from a seed, the
same pods scheduled through the real :class:`Scheduler` with ``engine="reference"`` and
``engine="arrays"``, and every cycle's outcome must be identical -- the node chosen, the
FitError text of an unschedulable pod (preemption's part included), the nominations and
evictions preemption made.

The clusters have zones (and nodes without one), hostnames and other labels, taints of
every effect, cordoned nodes, images, extended resources; the pods have requests (some
missing, some zero, init containers), tolerations, nodeSelector, required and preferred
node affinity, required and preferred pod (anti-)affinity (namespaces, namespace
selectors), topology spread constraints (DoNotSchedule and ScheduleAnyway, minDomains,
inclusion policies, matchLabelKeys), ReplicaSet owners and Services (system default
spreading), priorities (so preemption nominates and evicts), host ports. Pods arrive in
batches; bound pods are deleted and nodes relabelled and retainted along the way.

A second run uses three profiles (configured plugin args, out-of-tree plugins without
array forms). Then each array form is checked against its plugin on random snapshots
(every node's Filter status, the scores of random node subsets), the node table kept up
to date from the cache against one built afresh, ``NodeScoreTable.select_host`` against
``select_host``, and the public ``score`` and ``filter`` vectors (upstream's own test
tables) through the array forms.

``KBOOK_DIFFERENTIAL=large`` runs a larger cluster as well (600 nodes, 6,000 pods; ~4 min).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kbook.api import (
    Affinity, Container, ContainerImage, ContainerPort, LabelSelector, LabelSelectorRequirement, Namespace, Node,
    NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, ObjectMeta, OwnerReference, Pod,
    PodAffinity, PodAffinityTerm, PodAntiAffinity, PreferredSchedulingTerm, ReplicaSet, ResourceRequirements,
    Service, Taint, Toleration, TopologySpreadConstraint, WeightedPodAffinityTerm,
)
from kbook.api.apps import ReplicaSetSpec
from kbook.api.core import NodeSpec, NodeStatus, PodSpec, ServiceSpec
from kbook.conformance import discover
from kbook.conformance.scheduler import PLUGINS as VECTOR_PLUGINS
from kbook.conformance.scheduler import build_node, build_pod
from kbook.quantity import Quantity
from kbook.scheduler.arrays import ArrayEngine, NodeScoreTable, NodeTable, array_form
from kbook.scheduler.arrays.cycle import PodCycle
from kbook.scheduler.arrays.podtopologyspread import spread_counts
from kbook.scheduler.cache import Cache
from kbook.scheduler.config import API_VERSION, KIND, KubeSchedulerConfiguration
from kbook.scheduler.cyclestate import CycleState
from kbook.scheduler.plugins import (
    imagelocality, interpodaffinity, nodeaffinity, nodename, nodeports, nodeunschedulable, podtopologyspread,
    tainttoleration,
)
from kbook.scheduler.plugins.feature import NEWER_UPSTREAM, V1_28
from kbook.scheduler.plugins.helper import default_normalize_score
from kbook.scheduler.plugins.noderesources import balanced_allocation, fit
from kbook.scheduler.schedule_one import Scheduler, select_host
from kbook.scheduler.snapshot import Snapshot
from kbook.scheduler.status import Code, Status
from kbook.scheduler.types import NodeInfo, NodePluginScores, NodeScore, PluginScore, Selector

MB = 1024 * 1024
ZONE = "topology.kubernetes.io/zone"
HOSTNAME = "kubernetes.io/hostname"
ZONES = ["zone-a", "zone-b", "zone-c"]
APPS = ["web", "api", "db", "cache", "batch", "queue"]
NAMESPACES = {"default": {}, "team-a": {"team": "a"}, "team-b": {"team": "b", "env": "prod"}}
IMAGES = [(["registry.example/web:v1", "registry.example/web@sha256:aa"], 180 * MB),
          (["registry.example/api:v2"], 450 * MB), (["db:latest"], 1200 * MB), (["cache:7"], 60 * MB),
          (["batch"], 30 * MB), (["registry.example/ml:v3"], 2500 * MB), (["tiny:1"], 5 * MB)]
POD_IMAGES = ["registry.example/web:v1", "registry.example/api:v2", "db", "cache:7", "batch:latest",
              "registry.example/ml:v3", "tiny:1", "absent:9"]
TAINTS = [("dedicated", "infra", "NoSchedule"), ("dedicated", "gpu", "NoSchedule"),
          ("spot", "true", "PreferNoSchedule"), ("maintenance", "", "NoExecute"), ("noisy", "yes", "PreferNoSchedule")]


def _pick(rng: np.random.Generator, items: list, p: float = 1.0) -> Any:
    """One item, or None with probability 1 - p."""
    return items[int(rng.integers(len(items)))] if rng.random() < p else None


# -- the cluster ---------------------------------------------------------------------------


def make_node(rng: np.random.Generator, i: int) -> Node:
    name = f"node-{i:04d}"
    labels = {HOSTNAME: name}
    if rng.random() < 0.95:
        labels[ZONE] = ZONES[i % len(ZONES)] if rng.random() < 0.8 else _pick(rng, ZONES)
    if rng.random() < 0.6:
        labels["disk"] = _pick(rng, ["ssd", "hdd"])
    labels["tier"] = str(int(rng.integers(1, 6)))
    if rng.random() < 0.1:
        labels["gpu"] = ""
    alloc = {"cpu": Quantity(str(_pick(rng, [2, 4, 8, 16]))), "memory": Quantity(f"{_pick(rng, [4, 8, 16, 32])}Gi"),
             "pods": Quantity(str(_pick(rng, [8, 16, 32, 110])))}
    if rng.random() < 0.5:
        alloc["ephemeral-storage"] = Quantity(f"{_pick(rng, [20, 100])}Gi")
    if "gpu" in labels:
        alloc["example.com/gpu"] = Quantity(str(_pick(rng, [1, 2, 4])))
    taints = [Taint(key=k, value=v, effect=e) for k, v, e in TAINTS if rng.random() < 0.08]
    images = [ContainerImage(names=list(names), size_bytes=size) for names, size in IMAGES if rng.random() < 0.4]
    return Node(metadata=ObjectMeta(name=name, labels=labels),
                spec=NodeSpec(unschedulable=bool(rng.random() < 0.03), taints=taints),
                status=NodeStatus(capacity=dict(alloc), allocatable=alloc, images=images))


def make_objects() -> dict[str, list[Any]]:
    """Namespaces with labels, a Service per app in default, a ReplicaSet per app and namespace."""
    namespaces = [Namespace(metadata=ObjectMeta(name=ns, labels=dict(labels))) for ns, labels in NAMESPACES.items()]
    services = [Service(metadata=ObjectMeta(name=f"svc-{app}", namespace="default"),
                        spec=ServiceSpec(selector={"app": app})) for app in APPS[:3]]
    replica_sets = [ReplicaSet(metadata=ObjectMeta(name=f"{app}-rs", namespace=ns),
                               spec=ReplicaSetSpec(selector=LabelSelector(match_labels={"app": app, "rs": "yes"})))
                    for ns in NAMESPACES for app in APPS]
    return {"Namespace": namespaces, "Service": services, "ReplicaSet": replica_sets}


def _quantity(rng: np.random.Generator, choices: list[str | None]) -> str | None:
    return _pick(rng, choices)


def _requests(rng: np.random.Generator, gpu: bool) -> dict[str, Quantity]:
    out = {}
    cpu = _quantity(rng, [None, "0", "100m", "250m", "500m", "1", "2"])
    memory = _quantity(rng, [None, "0", "64Mi", "256Mi", "1Gi", "2Gi"])
    if cpu is not None:
        out["cpu"] = Quantity(cpu)
    if memory is not None:
        out["memory"] = Quantity(memory)
    if rng.random() < 0.1:
        out["ephemeral-storage"] = Quantity(f"{_pick(rng, [1, 10, 50])}Gi")
    if gpu:
        out["example.com/gpu"] = Quantity("1")
    return out


def _selector(rng: np.random.Generator, app: str) -> LabelSelector:
    kind = rng.random()
    if kind < 0.6:
        return LabelSelector(match_labels={"app": app})
    if kind < 0.8:
        return LabelSelector(match_expressions=[LabelSelectorRequirement("app", "In", [app, _pick(rng, APPS)])])
    if kind < 0.9:
        return LabelSelector(match_labels={"app": app},
                             match_expressions=[LabelSelectorRequirement("tier", "NotIn", ["db"])])
    return LabelSelector(match_expressions=[LabelSelectorRequirement("app", "Exists", [])])


def _pod_affinity_term(rng: np.random.Generator) -> PodAffinityTerm:
    term = PodAffinityTerm(label_selector=_selector(rng, _pick(rng, APPS)), topology_key=_pick(rng, [HOSTNAME, ZONE]))
    r = rng.random()
    if r < 0.15:
        term.namespaces = [_pick(rng, list(NAMESPACES))]
    elif r < 0.25:
        term.namespace_selector = LabelSelector(match_labels={"team": "b"})
    elif r < 0.3:
        term.namespace_selector = LabelSelector()
    return term


def make_pod(rng: np.random.Generator, i: int, profiles: list[str] | None = None) -> Pod:
    app = _pick(rng, APPS)
    ns = _pick(rng, list(NAMESPACES)) if rng.random() < 0.3 else "default"
    labels = {"app": app}
    if rng.random() < 0.5:
        labels["tier"] = _pick(rng, ["front", "back", "db"])
    meta = ObjectMeta(name=f"pod-{i:05d}", namespace=ns, uid=f"uid-{i:05d}", labels=labels)
    if rng.random() < 0.3:
        labels["rs"] = "yes"
        meta.owner_references = [OwnerReference(api_version="apps/v1", kind="ReplicaSet", name=f"{app}-rs",
                                                 uid=f"rs-{app}", controller=True)]
    gpu = rng.random() < 0.05
    containers = [Container(name=f"c{k}", image=_pick(rng, POD_IMAGES),
                            resources=ResourceRequirements(requests=_requests(rng, gpu and k == 0)))
                  for k in range(int(rng.integers(1, 3)))]
    if rng.random() < 0.03:
        containers[0].ports = [ContainerPort(container_port=80, host_port=_pick(rng, [8080, 9090]), protocol="TCP")]
    spec = PodSpec(containers=containers)
    if profiles:
        spec.scheduler_name = profiles[int(rng.choice(len(profiles), p=[0.6, 0.25, 0.15][:len(profiles)]))]
    if rng.random() < 0.1:
        spec.init_containers = [Container(name="init", image="tiny:1",
                                          resources=ResourceRequirements(requests=_requests(rng, False)))]
    spec.priority = _pick(rng, [0, 0, 0, 100, 1000])
    if rng.random() < 0.1:
        spec.preemption_policy = "Never"
    for k, v, e in TAINTS:
        if rng.random() < 0.15:
            op = _pick(rng, ["Equal", "Exists"])
            spec.tolerations.append(Toleration(key=k, operator=op, value=v if op == "Equal" else "",
                                               effect=_pick(rng, [e, ""])))
    if rng.random() < 0.02:
        spec.tolerations.append(Toleration(operator="Exists"))
    if rng.random() < 0.05:
        spec.tolerations.append(Toleration(key="node.kubernetes.io/unschedulable", operator="Exists",
                                           effect="NoSchedule"))
    if rng.random() < 0.1:
        spec.node_selector = {"disk": "ssd"}
    affinity = Affinity()
    if rng.random() < 0.15:
        exprs = [_pick(rng, [NodeSelectorRequirement(ZONE, "In", ZONES[:2]),
                             NodeSelectorRequirement("tier", "Gt", ["2"]),
                             NodeSelectorRequirement("tier", "Lt", ["4"]),
                             NodeSelectorRequirement("disk", "NotIn", ["hdd"]),
                             NodeSelectorRequirement("gpu", "DoesNotExist", []),
                             NodeSelectorRequirement(ZONE, "Exists", [])])]
        terms = [NodeSelectorTerm(match_expressions=exprs)]
        if rng.random() < 0.2:
            terms.append(NodeSelectorTerm(match_fields=[NodeSelectorRequirement(
                "metadata.name", "In", [f"node-{int(rng.integers(50)):04d}"])]))
        affinity.node_affinity = NodeAffinity(NodeSelector(terms))
    elif rng.random() < 0.04:  # only node names: PreFilter narrows the cycle to them
        names = [f"node-{int(rng.integers(60)):04d}" for _ in range(int(rng.integers(1, 4)))]
        terms = [NodeSelectorTerm(match_fields=[NodeSelectorRequirement("metadata.name", "In", names)])]
        r = rng.random()
        if r < 0.15:  # a second, disjoint requirement: no node can match ("pod affinity terms conflict")
            terms[0].match_fields.append(NodeSelectorRequirement("metadata.name", "In", ["node-9999"]))
        elif r < 0.25:  # a node that does not exist
            terms.append(NodeSelectorTerm(match_fields=[NodeSelectorRequirement("metadata.name", "In", ["gone"])]))
        affinity.node_affinity = NodeAffinity(NodeSelector(terms))
    if rng.random() < 0.2:
        affinity.node_affinity = affinity.node_affinity or NodeAffinity()
        affinity.node_affinity.preferred_during_scheduling_ignored_during_execution = [
            PreferredSchedulingTerm(int(rng.integers(1, 100)), NodeSelectorTerm(match_expressions=[
                _pick(rng, [NodeSelectorRequirement("disk", "In", ["ssd"]),
                            NodeSelectorRequirement(ZONE, "In", [_pick(rng, ZONES)]),
                            NodeSelectorRequirement("tier", "Gt", ["3"])])]))
            for _ in range(int(rng.integers(1, 3)))]
    if rng.random() < 0.12:
        affinity.pod_affinity = PodAffinity(
            required_during_scheduling_ignored_during_execution=[_pod_affinity_term(rng)] if rng.random() < 0.4 else [],
            preferred_during_scheduling_ignored_during_execution=[
                WeightedPodAffinityTerm(int(rng.integers(1, 100)), _pod_affinity_term(rng))])
    if rng.random() < 0.15:
        required = [_pod_affinity_term(rng)] if rng.random() < 0.5 else []
        preferred = [WeightedPodAffinityTerm(int(rng.integers(1, 100)), _pod_affinity_term(rng))] \
            if rng.random() < 0.7 else []
        affinity.pod_anti_affinity = PodAntiAffinity(required_during_scheduling_ignored_during_execution=required,
                                                     preferred_during_scheduling_ignored_during_execution=preferred)
    if affinity.node_affinity or affinity.pod_affinity or affinity.pod_anti_affinity:
        spec.affinity = affinity
    if rng.random() < 0.2:
        for _ in range(int(rng.integers(1, 3))):
            c = TopologySpreadConstraint(max_skew=int(rng.integers(1, 4)), topology_key=_pick(rng, [ZONE, HOSTNAME]),
                                         when_unsatisfiable=_pick(rng, ["DoNotSchedule", "ScheduleAnyway"]),
                                         label_selector=_selector(rng, app))
            if rng.random() < 0.2:
                c.min_domains = int(rng.integers(1, 5))
                c.when_unsatisfiable = "DoNotSchedule"
            if rng.random() < 0.2:
                c.node_affinity_policy = _pick(rng, ["Honor", "Ignore"])
            if rng.random() < 0.2:
                c.node_taints_policy = _pick(rng, ["Honor", "Ignore"])
            if rng.random() < 0.1:
                c.match_label_keys = ["tier"]
            spec.topology_spread_constraints.append(c)
    return Pod(metadata=meta, spec=spec)


# -- profiles ------------------------------------------------------------------------------


class Parity:
    """An out-of-tree Score plugin (no array form): prefers nodes whose index has the
    parity of the pod's name length, normalized by the default reverse normalization."""

    name = "Parity"

    def score(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> tuple[int, Status | None]:
        return (int(node_info.name[-1]) + len(pod.metadata.name)) % 2 * 7, None

    def normalize_score(self, state: CycleState, pod: Pod, scores: list[NodeScore]) -> Status | None:
        default_normalize_score(100, True, scores)
        return None


class NoSeven:
    """An out-of-tree Filter plugin (no array form): nodes ending in 7 take no pod."""

    name = "NoSeven"

    def filter(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Status | None:
        if node_info.name.endswith("7"):
            return Status.of(Code.UNSCHEDULABLE, "node(s) end in seven")
        return None


REGISTRY = {"Parity": lambda args, handle: Parity(), "NoSeven": lambda args, handle: NoSeven()}
PROFILES = ["default-scheduler", "packer", "strict"]


def configuration() -> KubeSchedulerConfiguration:
    """Three profiles: the default one; ``packer`` (RequestedToCapacityRatio on three
    resources, hardPodAffinityWeight 7, 30 % of nodes scored, an out-of-tree Score
    plugin); ``strict`` (MostAllocated ignoring the GPUs, balance over three resources,
    zone spreading as a default hard constraint, scheduler-enforced node affinity, the
    existing pods' preferences ignored, an out-of-tree Filter plugin)."""
    return KubeSchedulerConfiguration.from_dict({"apiVersion": API_VERSION, "kind": KIND, "profiles": [
        {"schedulerName": "default-scheduler"},
        {"schedulerName": "packer", "percentageOfNodesToScore": 30,
         "plugins": {"multiPoint": {"enabled": [{"name": "Parity", "weight": 3}]}},
         "pluginConfig": [
             {"name": "NodeResourcesFit", "args": {"scoringStrategy": {
                 "type": "RequestedToCapacityRatio",
                 "resources": [{"name": "cpu", "weight": 2}, {"name": "memory", "weight": 1},
                               {"name": "example.com/gpu", "weight": 5}],
                 "requestedToCapacityRatio": {"shape": [{"utilization": 0, "score": 0},
                                                        {"utilization": 60, "score": 10},
                                                        {"utilization": 100, "score": 3}]}}}},
             {"name": "InterPodAffinity", "args": {"hardPodAffinityWeight": 7}}]},
        {"schedulerName": "strict",
         "plugins": {"multiPoint": {"enabled": [{"name": "NoSeven"}]}},
         "pluginConfig": [
             {"name": "NodeResourcesFit", "args": {"ignoredResources": ["example.com/gpu"],
                                                   "scoringStrategy": {"type": "MostAllocated"}}},
             {"name": "NodeResourcesBalancedAllocation", "args": {"resources": [
                 {"name": "cpu"}, {"name": "memory"}, {"name": "ephemeral-storage"}]}},
             {"name": "PodTopologySpread", "args": {"defaultingType": "List", "defaultConstraints": [
                 {"maxSkew": 2, "topologyKey": ZONE, "whenUnsatisfiable": "DoNotSchedule"},
                 {"maxSkew": 1, "topologyKey": HOSTNAME, "whenUnsatisfiable": "ScheduleAnyway"}]}},
             {"name": "NodeAffinity", "args": {"addedAffinity": {
                 "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                     {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["1", "2", "3", "4"]}]}]},
                 "preferredDuringSchedulingIgnoredDuringExecution": [
                     {"weight": 5, "preference": {"matchExpressions": [
                         {"key": "disk", "operator": "In", "values": ["ssd"]}]}}]}}},
             {"name": "InterPodAffinity", "args": {"ignorePreferredTermsOfExistingPods": True}}]},
    ]})


# -- the world around the scheduler --------------------------------------------------------


class Host:
    """An API server that answers at once: bindings, evictions and nominations become
    informer events for the scheduler, applied in the order they were asked for."""

    def __init__(self, objects: dict[str, list[Any]]) -> None:
        self._objects = objects
        self.live: dict[str, Pod] = {}
        self.requests: list[tuple] = []

    def objects(self, kind: str) -> list[Any]:
        return self._objects.get(kind, [])

    def bind_pod(self, pod: Pod, node_name: str) -> None:
        self.requests.append(("bind", pod.key, node_name))

    def delete_pod(self, pod: Pod) -> None:
        self.requests.append(("delete", pod.key, ""))

    def set_nominated_node_name(self, pod: Pod, node_name: str) -> None:
        self.requests.append(("nominate", pod.key, node_name))

    def create(self, sched: Scheduler, pod: Pod) -> None:
        self.live[pod.key] = pod
        sched.add_pod(pod)

    def delete(self, sched: Scheduler, key: str) -> None:
        pod = self.live.pop(key, None)
        if pod is not None:
            sched.remove_pod(pod)

    def deliver(self, sched: Scheduler, log: list) -> None:
        requests, self.requests = self.requests, []
        for verb, key, node in requests:
            log.append((verb, key, node))
            old = self.live.get(key)
            if old is None:
                continue
            if verb == "delete":
                self.delete(sched, key)
                continue
            if verb == "bind":
                new = dataclasses.replace(old, spec=dataclasses.replace(old.spec, node_name=node))
            else:
                new = dataclasses.replace(old, status=dataclasses.replace(old.status, nominated_node_name=node))
            self.live[key] = new
            sched.update_pod(old, new)


def _relabel(rng: np.random.Generator, node: Node) -> Node:
    """A node update: another disk label, a taint more or less."""
    labels = dict(node.metadata.labels)
    labels["disk"] = _pick(rng, ["ssd", "hdd"])
    taints = list(node.spec.taints)
    if taints and rng.random() < 0.5:
        taints.pop()
    else:
        k, v, e = _pick(rng, TAINTS)
        taints.append(Taint(key=k, value=v, effect=e))
    return dataclasses.replace(node, metadata=dataclasses.replace(node.metadata, labels=labels),
                               spec=dataclasses.replace(node.spec, taints=taints))


def run(engine: str, seed: int, n_nodes: int, n_pods: int, batch: int = 250, profiles: bool = False) -> list[tuple]:
    """Every cycle's outcome and every request to the API server, in order. With
    ``profiles`` the pods are spread over the three profiles of :func:`configuration`."""
    gen = np.random.default_rng(seed)
    nodes = [make_node(gen, i) for i in range(n_nodes)]
    pods = [make_pod(gen, i, PROFILES if profiles else None) for i in range(n_pods)]
    churn = np.random.default_rng(seed + 1)
    host = Host(make_objects())
    now = [0.0]
    sched = Scheduler(configuration() if profiles else None, host=host, rng=np.random.default_rng(seed + 2),
                      clock=lambda: now[0], engine=engine, out_of_tree_registry=REGISTRY if profiles else None)
    for node in nodes:
        sched.add_node(node)
    log: list[tuple] = []
    next_pod = 0
    retries = 0
    cycles = 0
    while True:
        result = sched.schedule_one()
        if result is None:
            if next_pod < len(pods):
                for pod in pods[next_pod:next_pod + batch]:
                    host.create(sched, pod)
                next_pod += batch
            elif retries < 3:  # let the backoff and the unschedulable timeout pass
                retries += 1
                now[0] += 301.0
                sched.queue.flush_unschedulable_pods_leftover()
                now[0] += 11.0
                sched.queue.flush_backoff_q_completed()
            else:
                break
            continue
        cycles += 1
        now[0] += 0.01
        sched.queue.flush_backoff_q_completed()
        if result.skipped:
            log.append(("skipped", result.pod.key, ""))
        elif result.succeeded:
            log.append(("scheduled", result.pod.key, result.suggested_host))
            sched.binding_cycle(result)
        else:
            log.append(("failed", result.pod.key, result.fit_error.message() if result.fit_error else
                        str(result.status)))
        host.deliver(sched, log)
        if cycles % 40 == 0:
            bound = sorted(k for k, p in host.live.items() if p.spec.node_name)
            if bound:
                key = bound[int(churn.integers(len(bound)))]
                log.append(("evict", key, ""))
                host.delete(sched, key)
        if cycles % 150 == 0:
            i = int(churn.integers(len(nodes)))
            new = _relabel(churn, nodes[i])
            sched.update_node(nodes[i], new)
            nodes[i] = new
            log.append(("relabel", new.metadata.name, ""))
    assert not sched.errors, sched.errors[:3]
    return log


def _compare(seed: int, n_nodes: int, n_pods: int, profiles: bool = False) -> list[tuple]:
    reference = run("reference", seed, n_nodes, n_pods, profiles=profiles)
    arrays = run("arrays", seed, n_nodes, n_pods, profiles=profiles)
    for i, (r, a) in enumerate(zip(reference, arrays)):
        assert r == a, f"seed {seed}, entry {i}: reference {r} != arrays {a}"
    assert len(reference) == len(arrays)
    return reference


@pytest.mark.parametrize("seed", [1, 2])
def test_same_placements_and_fit_errors(seed: int) -> None:
    log = _compare(seed, 200, 1600)
    kinds = {entry[0] for entry in log}
    assert {"scheduled", "failed", "bind"} <= kinds  # the cluster fills up
    assert any(entry[0] == "failed" and "nodes are available" in entry[2] for entry in log)


def test_same_placements_with_configured_and_out_of_tree_plugins() -> None:
    log = _compare(4, 150, 1500, profiles=True)
    gen = np.random.default_rng(4)  # the pods run() made, for their profiles
    for i in range(150):
        make_node(gen, i)
    profile_of = {pod.key: pod.spec.scheduler_name for pod in (make_pod(gen, i, PROFILES) for i in range(1500))}
    placed = [(profile_of[key], node) for kind, key, node in log if kind == "scheduled"]
    assert {profile for profile, _ in placed} == set(PROFILES)
    assert not any(profile == "strict" and node.endswith("7") for profile, node in placed)  # NoSeven


@pytest.mark.skipif(os.environ.get("KBOOK_DIFFERENTIAL") != "large", reason="set KBOOK_DIFFERENTIAL=large")
def test_same_placements_large_cluster() -> None:
    _compare(7, 600, 6000)


# -- each array form against its plugin, on random snapshots --------------------------------

class FakeHandle:
    """What the plugins read from their handle: the snapshot and the cluster's objects."""

    def __init__(self, snapshot: Snapshot, objects: dict[str, list[Any]]) -> None:
        self.snapshot = snapshot
        self._objects = objects

    def objects(self, kind: str) -> list[Any]:
        return self._objects.get(kind, [])


RTCR = {"type": "RequestedToCapacityRatio",
        "resources": [{"name": "cpu", "weight": 3}, {"name": "memory", "weight": 1},
                      {"name": "example.com/gpu", "weight": 2}, {"name": "ephemeral-storage", "weight": 1}],
        "requestedToCapacityRatio": {"shape": [{"utilization": 0, "score": 10}, {"utilization": 30, "score": 2},
                                               {"utilization": 70, "score": 9}, {"utilization": 100, "score": 0}]}}
ADDED_AFFINITY = {"addedAffinity": {
    "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "tier", "operator": "Gt", "values": ["1"]}]},
        {"matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["node-0003"]}]}]},
    "preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 7, "preference": {"matchExpressions": [{"key": ZONE, "operator": "In", "values": ["zone-b"]}]}}]}}

# (id, factory(handle)): every default plugin with array form, with default and other args
PLUGINS = [
    ("NodeUnschedulable", lambda h: nodeunschedulable.new({}, h)),
    ("NodeName", lambda h: nodename.new({}, h)),
    ("TaintToleration", lambda h: tainttoleration.new({}, h)),
    ("NodeAffinity", lambda h: nodeaffinity.new({}, h)),
    ("NodeAffinity/added", lambda h: nodeaffinity.new(ADDED_AFFINITY, h)),
    ("NodePorts", lambda h: nodeports.new({}, h)),
    ("Fit/LeastAllocated", lambda h: fit.new({}, h)),
    ("Fit/MostAllocated", lambda h: fit.new({"scoringStrategy": {"type": "MostAllocated", "resources": [
        {"name": "cpu", "weight": 2}, {"name": "memory", "weight": 5}, {"name": "example.com/gpu", "weight": 1}]}}, h)),
    ("Fit/RequestedToCapacityRatio", lambda h: fit.new({"scoringStrategy": RTCR}, h)),
    ("Fit/ignored", lambda h: fit.new({"ignoredResourceGroups": ["example.com"]}, h)),
    ("Fit/newer", lambda h: fit.new({}, h, NEWER_UPSTREAM)),
    ("BalancedAllocation", lambda h: balanced_allocation.new({}, h)),
    ("BalancedAllocation/three", lambda h: balanced_allocation.new({"resources": [
        {"name": "cpu"}, {"name": "memory"}, {"name": "ephemeral-storage"}, {"name": "example.com/gpu"}]}, h)),
    ("BalancedAllocation/newer", lambda h: balanced_allocation.new({}, h, NEWER_UPSTREAM)),
    ("ImageLocality", lambda h: imagelocality.new({}, h)),
    ("ImageLocality/newer", lambda h: imagelocality.new({}, h, NEWER_UPSTREAM)),
    ("PodTopologySpread", lambda h: podtopologyspread.new({}, h)),
    ("PodTopologySpread/list", lambda h: podtopologyspread.new({"defaultingType": "List", "defaultConstraints": [
        {"maxSkew": 1, "topologyKey": ZONE, "whenUnsatisfiable": "DoNotSchedule"},
        {"maxSkew": 2, "topologyKey": "disk", "whenUnsatisfiable": "ScheduleAnyway"},
        {"maxSkew": 1, "topologyKey": HOSTNAME, "whenUnsatisfiable": "ScheduleAnyway"}]}, h)),
    ("InterPodAffinity", lambda h: interpodaffinity.new({}, h)),
    ("InterPodAffinity/args", lambda h: interpodaffinity.new({"hardPodAffinityWeight": 0,
                                                              "ignorePreferredTermsOfExistingPods": True}, h)),
]


def random_snapshot(seed: int, n_nodes: int = 60, n_pods: int = 500) -> tuple[Snapshot, list[Pod], dict]:
    """Nodes with most of the pods bound (a few terminating), and the pods left to place."""
    rng = np.random.default_rng(seed)
    nodes = [make_node(rng, i) for i in range(n_nodes)]
    pods = [make_pod(rng, i) for i in range(n_pods)]
    bound = []
    for pod in pods[: n_pods * 4 // 5]:
        pod.spec.node_name = nodes[int(rng.integers(n_nodes))].metadata.name
        if rng.random() < 0.05:
            pod.metadata.deletion_timestamp = "2024-01-01T00:00:00Z"
        bound.append(pod)
    unbound = pods[n_pods * 4 // 5:]
    for pod in unbound[::7]:  # pods naming a node (NodeName)
        pod.spec.node_name = _pick(rng, [f"node-{i:04d}" for i in range(n_nodes)] + ["elsewhere"])
    return Snapshot.of(nodes, bound), unbound, make_objects()


def _status(s: Status | None) -> tuple | None:
    return None if s is None else (s.code, tuple(s.reasons))


def _check_plugin(plugin: Any, snapshot: Snapshot, handle: FakeHandle, pod: Pod, rows: np.ndarray) -> None:
    """The array form's PreFilter, Filter (every node), PreScore, Score and NormalizeScore
    (the nodes ``rows``) give what the plugin gives node by node."""
    form = array_form(plugin)
    table = NodeTable()
    table.rebuild(snapshot.node_info_list)
    infos = snapshot.node_info_list
    state, cycle = CycleState(), PodCycle(pod, CycleState(), table, handle)
    if hasattr(plugin, "filter"):
        if hasattr(plugin, "pre_filter"):
            r1, s1 = plugin.pre_filter(state, pod)
            r2, s2 = form.pre_filter(cycle)
            assert (r1, _status(s1)) == (r2, _status(s2))
            filtering = s1 is None
        else:
            filtering = True
        if filtering:
            out = form.filter(cycle)
            for i, info in enumerate(infos):
                got = None if out is None or out.codes[i] == 0 else out.status(int(out.codes[i]))
                assert _status(got) == _status(plugin.filter(state, pod, info)), info.name
    if hasattr(plugin, "score"):
        nodes = [infos[i] for i in rows]
        state, cycle = CycleState(), PodCycle(pod, CycleState(), table, handle)
        cycle.nodes, cycle.rows = nodes, rows
        s1 = plugin.pre_score(state, pod, nodes) if hasattr(plugin, "pre_score") else None
        s2 = form.pre_score(cycle, rows) if hasattr(form, "pre_score") else None
        assert _status(s1) == _status(s2)
        if s1 is not None:
            return
        expected = []
        for info in nodes:
            score, s = plugin.score(state, pod, info)
            assert s is None
            expected.append(NodeScore(info.name, score))
        got = form.score(cycle, rows)
        if hasattr(plugin, "normalize_score"):
            plugin.normalize_score(state, pod, expected)
            got = form.normalize_score(cycle, rows, got)
        assert got.tolist() == [x.score for x in expected]


@pytest.mark.parametrize("name,factory", PLUGINS, ids=[name for name, _ in PLUGINS])
def test_array_form_matches_plugin(name: str, factory: Any) -> None:
    for seed in range(3):
        snapshot, pods, objects = random_snapshot(seed)
        handle = FakeHandle(snapshot, objects)
        plugin = factory(handle)
        rng = np.random.default_rng(seed)
        for pod in pods[:40]:
            rows = rng.permutation(len(snapshot.node_info_list))[:int(rng.integers(1, len(snapshot.node_info_list)))]
            _check_plugin(plugin, snapshot, handle, pod, rows)


def test_every_default_plugin_has_an_array_form() -> None:
    sched = Scheduler(host=Host({}), rng=np.random.default_rng(0), clock=lambda: 0.0)
    fwk = sched.profiles["default-scheduler"]
    points = fwk.pre_filter_plugins + fwk.filter_plugins + fwk.pre_score_plugins + [p for p, _ in fwk.score_plugins]
    assert all(array_form(p) is not None for p in points)
    assert isinstance(sched.engine, ArrayEngine)


# -- the node table, kept up to date -----------------------------------------------------------


def _columns(table: NodeTable) -> dict[str, Any]:
    return {name: getattr(table, name).tolist() for name in (
        "alloc_cpu", "alloc_mem", "alloc_eph", "alloc_pods", "req_cpu", "req_mem", "req_eph", "nz_cpu", "nz_mem",
        "num_pods", "free_cpu", "free_mem", "free_eph", "free_pods", "unschedulable")} | {
        "names": list(table.names), "ports": sorted(table.port_rows),
        "hard": [[_taint(table, t) for t in row if t >= 0] for row in table.taints.hard.tolist()],
        "prefer": [[_taint(table, t) for t in row if t >= 0] for row in table.taints.prefer.tolist()],
        "zone": [table.label(ZONE).values[c - 1] if c else None for c in table.label(ZONE).codes.tolist()],
        "image": table.image("db:latest").size.tolist(), "gpu": [a.tolist() for a in table.scalar("example.com/gpu")]}


def _taint(table: NodeTable, i: int) -> tuple[str, str, str]:
    t = table.taints.taints[i]
    return t.key, t.value, t.effect


def test_table_refreshed_from_the_cache_equals_a_rebuilt_one() -> None:
    """Pods come and go, nodes are relabelled, retainted, added and removed: the table the
    engine keeps up to date row by row (and its pod counts) equals one built afresh."""
    rng = np.random.default_rng(5)
    cache, snapshot, engine = Cache(), Snapshot([]), ArrayEngine()
    nodes = {n.metadata.name: n for n in (make_node(rng, i) for i in range(40))}
    for node in nodes.values():
        cache.add_node(node)
    pods: dict[str, Pod] = {}
    selector = Selector.of(LabelSelector(match_labels={"app": "web"}))
    for step in range(400):
        r = rng.random()
        if r < 0.6 or not pods:
            pod = make_pod(rng, 10_000 + step)
            pod.spec.node_name = _pick(rng, sorted(nodes))
            cache.add_pod(pod)
            pods[pod.key] = pod
        elif r < 0.85:
            pod = pods.pop(_pick(rng, sorted(pods)))
            cache.remove_pod(pod)
        elif r < 0.95:
            name = _pick(rng, sorted(nodes))
            new = _relabel(rng, nodes[name])
            cache.update_node(nodes[name], new)
            nodes[name] = new
        elif r < 0.975:
            node = make_node(rng, 100 + step)
            cache.add_node(node)
            nodes[node.metadata.name] = node
        else:
            empty = sorted(n for n in nodes if not any(p.spec.node_name == n for p in pods.values()))
            if empty:
                cache.remove_node(nodes.pop(_pick(rng, empty)))
        cache.update_snapshot(snapshot)
        engine.sync(snapshot)
        if step % 25 == 0:
            fresh = NodeTable()
            fresh.rebuild(snapshot.node_info_list)
            assert _columns(engine.table) == _columns(fresh)
            assert (spread_counts(engine.table, selector, "default").tolist()
                    == spread_counts(fresh, selector, "default").tolist())


def test_score_table_selects_as_select_host_does() -> None:
    rng = np.random.default_rng(3)
    for trial in range(200):
        n = int(rng.integers(1, 30))
        weighted = rng.integers(0, 4, size=(3, n)) * 10
        names = [f"node-{i}" for i in range(n)]
        rows = np.arange(n)
        table = NodeScoreTable(names, rows, ["a", "b", "c"], weighted, weighted.sum(axis=0))
        plain = [NodePluginScores(names[i], [PluginScore(p, int(weighted[k, i])) for k, p in enumerate("abc")],
                                  int(weighted[:, i].sum())) for i in range(n)]
        assert list(table) == plain
        count = int(rng.integers(0, 5))
        fast = table.select_host(count, np.random.default_rng(trial))
        assert select_host(plain, count, np.random.default_rng(trial)) == fast
        assert select_host(table, count, np.random.default_rng(trial)) == fast


# -- upstream's test tables (the public vectors) through the array forms ----------------------

VECTORS = Path(__file__).parents[1] / "conformance" / "data" / "scheduler"


def _vector_plugin(data: dict[str, Any], handle: Any) -> Any:
    args = dict(data.get("args") or {})
    if data.get("strategy") and "scoringStrategy" not in args:
        args["scoringStrategy"] = {"type": data["strategy"]}
    features = V1_28 if str(data.get("k8s_version", "v1.28")).startswith("v1.28") else NEWER_UPSTREAM
    return VECTOR_PLUGINS[data["plugin"]](args, handle, features)


def test_array_forms_pass_the_public_score_and_filter_vectors() -> None:
    """Each ``score`` and ``filter`` case of a plugin with an array form, scored or
    filtered through the array form, gives what the Go test expects."""
    checked = 0
    for case in discover("scheduler", [VECTORS]):
        data, expected = case.data, case.data.get("expected") or {}
        if case.kind not in ("score", "filter") or "config_error" in expected:
            continue
        pod = build_pod(data.get("pod") or {})
        if case.kind == "score":
            if "scores" not in expected or expected.get("status", "Success") != "Success":
                continue
            nodes = [build_node(n) for n in data["nodes"]]
            snapshot = Snapshot.of(nodes, [build_pod(p) for n in data["nodes"] for p in n.get("pods") or []])
        else:
            n = data["node"]
            snapshot = Snapshot([NodeInfo(build_node(n), [build_pod(p) for p in n.get("pods") or []])])
        plugin = _vector_plugin(data, FakeHandle(snapshot, {}))
        form = array_form(plugin)
        table = NodeTable()
        table.rebuild(snapshot.node_info_list)
        cycle = PodCycle(pod, CycleState(), table, None)
        rows = np.arange(table.n)
        cycle.nodes, cycle.rows = snapshot.node_info_list, rows
        if case.kind == "score":
            if hasattr(form, "pre_score") and form.pre_score(cycle, rows) is not None:
                continue  # Skip: the plugin would not score
            got = form.score(cycle, rows)
            if data.get("apply_normalize_score"):
                got = form.normalize_score(cycle, rows, got)
            assert list(zip(table.names, got.tolist())) == [(e["node"], e["score"]) for e in expected["scores"]], \
                case.id
        else:
            outcome = None
            if hasattr(form, "pre_filter"):
                _, status = form.pre_filter(cycle)
                if status is not None:
                    continue  # Skip or a PreFilter rejection: what the runner checks already
            out = form.filter(cycle)
            if out is not None and out.codes[0]:
                outcome = out.status(int(out.codes[0]))
            assert (str(Code.SUCCESS if outcome is None else outcome.code),
                    [] if outcome is None else outcome.reasons) == \
                (expected.get("code", "Success"), list(expected.get("reasons") or [])), case.id
        checked += 1
    assert checked >= 50, checked
