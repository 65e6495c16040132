"""Test builders for pods and nodes, after upstream's ``pkg/scheduler/testing/wrappers.go``
(``st.MakePod()``, ``st.MakeNode()``, ``st.MakeLabelSelector()``), plus a fake plugin
handle: enough to transcribe upstream's plugin test tables nearly line for line."""

from __future__ import annotations

from typing import Any, Iterable

from kbook.api import (
    Affinity,
    LabelSelector,
    LabelSelectorRequirement,
    Namespace,
    Node,
    NodeAffinity,
    NodeSelector,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    ObjectMeta,
    OwnerReference,
    Pod,
    PodAffinity,
    PodAffinityTerm,
    PodAntiAffinity,
    Taint,
    Toleration,
    TopologySpreadConstraint,
    WeightedPodAffinityTerm,
)
from kbook.scheduler.snapshot import Snapshot

# st.PodAffinityKind
REQUIRED = "required"  # PodAffinityWithRequiredReq
PREFERRED = "preferred"  # PodAffinityWithPreferredReq


class LabelSelectorBuilder:
    """``st.MakeLabelSelector()``."""

    def __init__(self) -> None:
        self._s = LabelSelector()

    def label(self, k: str, v: str) -> LabelSelectorBuilder:
        self._s.match_labels[k] = v
        return self

    def _expr(self, k: str, op: str, values: list[str]) -> LabelSelectorBuilder:
        self._s.match_expressions.append(LabelSelectorRequirement(k, op, list(values)))
        return self

    def exists(self, k: str) -> LabelSelectorBuilder:
        return self._expr(k, "Exists", [])

    def obj(self) -> LabelSelector:
        return self._s


def make_label_selector() -> LabelSelectorBuilder:
    return LabelSelectorBuilder()


class PodBuilder:
    """``st.MakePod()``; the namespace is left empty as upstream's wrapper leaves it."""

    def __init__(self) -> None:
        self._p = Pod(metadata=ObjectMeta())

    def name(self, n: str) -> PodBuilder:
        self._p.metadata.name = n
        return self

    def namespace(self, ns: str) -> PodBuilder:
        self._p.metadata.namespace = ns
        return self

    def node(self, n: str) -> PodBuilder:
        self._p.spec.node_name = n
        return self

    def label(self, k: str, v: str) -> PodBuilder:
        self._p.metadata.labels[k] = v
        return self

    def labels(self, labels: dict[str, str]) -> PodBuilder:
        self._p.metadata.labels.update(labels)
        return self

    def terminating(self) -> PodBuilder:
        self._p.metadata.deletion_timestamp = "2023-01-01T00:00:00Z"
        return self

    def owner_reference(self, name: str, api_version: str, kind: str) -> PodBuilder:
        """``OwnerReference(name, gvk)``: a controller reference."""
        self._p.metadata.owner_references.append(
            OwnerReference(api_version=api_version, kind=kind, name=name, controller=True))
        return self

    def node_selector(self, selector: dict[str, str]) -> PodBuilder:
        self._p.spec.node_selector = dict(selector)
        return self

    def _node_affinity(self, key: str, op: str, values: list[str]) -> PodBuilder:
        a = self._p.spec.affinity = self._p.spec.affinity or Affinity()
        a.node_affinity = NodeAffinity(NodeSelector(
            [NodeSelectorTerm([NodeSelectorRequirement(key, op, list(values))])]))
        return self

    def node_affinity_in(self, key: str, values: list[str]) -> PodBuilder:
        return self._node_affinity(key, "In", values)

    def node_affinity_not_in(self, key: str, values: list[str]) -> PodBuilder:
        return self._node_affinity(key, "NotIn", values)

    def toleration(self, key: str) -> PodBuilder:
        self._p.spec.tolerations.append(Toleration(key=key, operator="Exists"))
        return self

    def spread_constraint(self, max_skew: int, topology_key: str, mode: str, selector: LabelSelector | None,
                          min_domains: int | None = None, node_affinity_policy: str | None = None,
                          node_taints_policy: str | None = None,
                          match_label_keys: list[str] | None = None) -> PodBuilder:
        self._p.spec.topology_spread_constraints.append(TopologySpreadConstraint(
            max_skew=max_skew, topology_key=topology_key, when_unsatisfiable=mode, label_selector=selector,
            min_domains=min_domains, node_affinity_policy=node_affinity_policy,
            node_taints_policy=node_taints_policy, match_label_keys=list(match_label_keys or [])))
        return self

    def _pod_affinity(self, anti: bool, label_key: str, topology_key: str, op: str, values: list[str],
                      kind: str) -> PodBuilder:
        """A term on ``label_key``, required or preferred (weight 1) as ``kind`` says."""
        a = self._p.spec.affinity = self._p.spec.affinity or Affinity()
        if anti:
            group = a.pod_anti_affinity = a.pod_anti_affinity or PodAntiAffinity()
        else:
            group = a.pod_affinity = a.pod_affinity or PodAffinity()
        selector = LabelSelector(match_expressions=[LabelSelectorRequirement(label_key, op, list(values))])
        term = PodAffinityTerm(label_selector=selector, topology_key=topology_key)
        if kind == REQUIRED:
            group.required_during_scheduling_ignored_during_execution.append(term)
        else:
            group.preferred_during_scheduling_ignored_during_execution.append(WeightedPodAffinityTerm(1, term))
        return self

    def pod_affinity_in(self, label_key: str, topology_key: str, values: list[str], kind: str) -> PodBuilder:
        return self._pod_affinity(False, label_key, topology_key, "In", values, kind)

    def pod_affinity_not_in(self, label_key: str, topology_key: str, values: list[str], kind: str) -> PodBuilder:
        return self._pod_affinity(False, label_key, topology_key, "NotIn", values, kind)

    def pod_affinity_exists(self, label_key: str, topology_key: str, kind: str) -> PodBuilder:
        return self._pod_affinity(False, label_key, topology_key, "Exists", [], kind)

    def pod_anti_affinity_in(self, label_key: str, topology_key: str, values: list[str], kind: str) -> PodBuilder:
        return self._pod_affinity(True, label_key, topology_key, "In", values, kind)

    def pod_anti_affinity_not_in(self, label_key: str, topology_key: str, values: list[str],
                                 kind: str) -> PodBuilder:
        return self._pod_affinity(True, label_key, topology_key, "NotIn", values, kind)

    def pod_anti_affinity_exists(self, label_key: str, topology_key: str, kind: str) -> PodBuilder:
        return self._pod_affinity(True, label_key, topology_key, "Exists", [], kind)

    def obj(self) -> Pod:
        return self._p


def make_pod() -> PodBuilder:
    return PodBuilder()


class NodeBuilder:
    """``st.MakeNode()``."""

    def __init__(self) -> None:
        self._n = Node(metadata=ObjectMeta())

    def name(self, n: str) -> NodeBuilder:
        self._n.metadata.name = n
        return self

    def label(self, k: str, v: str) -> NodeBuilder:
        self._n.metadata.labels[k] = v
        return self

    def labels(self, labels: dict[str, str]) -> NodeBuilder:
        self._n.metadata.labels.update(labels)
        return self

    def taints(self, taints: Iterable[Taint]) -> NodeBuilder:
        self._n.spec.taints = list(taints)
        return self

    def obj(self) -> Node:
        return self._n


def make_node() -> NodeBuilder:
    return NodeBuilder()


def namespace(name: str, labels: dict[str, str]) -> Namespace:
    return Namespace(metadata=ObjectMeta(name=name, labels=dict(labels)))


class FakeHandle:
    """The part of the framework ``Handle`` the plugins use: the cycle's snapshot and the
    cluster's objects by kind."""

    def __init__(self, snapshot: Snapshot, objects: dict[str, list[Any]] | None = None) -> None:
        self.snapshot = snapshot
        self._objects = objects or {}

    def objects(self, kind: str) -> list[Any]:
        return list(self._objects.get(kind, []))


def handle_of(nodes: Iterable[Node], pods: Iterable[Pod] = (),
              objects: dict[str, list[Any]] | None = None) -> FakeHandle:
    """A :class:`FakeHandle` over ``Snapshot.of(nodes, pods)``."""
    return FakeHandle(Snapshot.of(list(nodes), list(pods)), objects)
