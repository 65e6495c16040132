"""InterPodAffinity's PreFilter and Filter (``interpodaffinity/filtering.go``, v1.28).

PreFilter counts, per topology pair ``(key, value)``:
- ``existing_anti_affinity_counts``: existing pods whose required anti-affinity terms
  match the incoming pod, at the pair of the existing pod's node;
- ``affinity_counts``: existing pods matching ALL the incoming pod's required affinity
  terms, once per term at that term's pair;
- ``anti_affinity_counts``: existing pods matching each required anti-affinity term.
Filter then only looks up the node's pairs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

from kbook.api import Node, Pod
from kbook.scheduler.cyclestate import CycleState, NotFoundError
from kbook.scheduler.plugins.interpodaffinity.common import NAME
from kbook.scheduler.status import Code, Status
from kbook.scheduler.types import AffinityTerm, NodeInfo, PodInfo

__all__ = [
    "PRE_FILTER_STATE_KEY",
    "ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH",
    "ERR_REASON_AFFINITY_RULES_NOT_MATCH",
    "ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH",
    "PreFilterState",
    "pod_matches_all_affinity_terms",
    "node_existing_anti_affinity_counts",
    "node_incoming_affinity_counts",
    "get_existing_anti_affinity_counts",
    "get_incoming_affinity_anti_affinity_counts",
    "get_pre_filter_state",
    "satisfy_pod_affinity",
    "satisfy_pod_anti_affinity",
    "satisfy_existing_pods_anti_affinity",
    "filter_node",
]

PRE_FILTER_STATE_KEY = "PreFilter" + NAME  # preFilterStateKey
ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't satisfy existing pods anti-affinity rules"
ERR_REASON_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod affinity rules"
ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod anti-affinity rules"

TopologyPair = tuple[str, str]
Counts = dict[TopologyPair, int]  # topologyToMatchedTermCount

# Where upstream passes a nil labels.Set (the incoming pod's terms have their
# namespaceSelector merged into namespaces already).
_NO_LABELS: Mapping[str, str] = {}


# -- topologyToMatchedTermCount ------------------------------------------------------------

def _append(m: Counts, other: Counts) -> None:
    for pair, n in other.items():
        m[pair] = m.get(pair, 0) + n


def _update(m: Counts, node: Node, topology_key: str, value: int) -> None:
    """``topologyToMatchedTermCount.update``: add at the node's pair for the key (if the
    node has it), dropping an entry that falls to zero."""
    labels = node.metadata.labels
    if topology_key in labels:
        pair = (topology_key, labels[topology_key])
        m[pair] = m.get(pair, 0) + value
        if m[pair] == 0:
            del m[pair]


def pod_matches_all_affinity_terms(terms: Sequence[AffinityTerm], pod: Pod) -> bool:
    """``podMatchesAllAffinityTerms``: true iff there are terms and the pod matches all."""
    return bool(terms) and all(t.matches(pod, _NO_LABELS) for t in terms)


def _update_with_affinity_terms(m: Counts, terms: Sequence[AffinityTerm], pod: Pod, node: Node, value: int) -> None:
    """``updateWithAffinityTerms``: if ``pod`` matches ALL terms, add at each term's pair."""
    if pod_matches_all_affinity_terms(terms, pod):
        for t in terms:
            _update(m, node, t.topology_key, value)


def _update_with_anti_affinity_terms(m: Counts, terms: Iterable[AffinityTerm], pod: Pod,
                                     ns_labels: Mapping[str, str], node: Node, value: int) -> None:
    """``updateWithAntiAffinityTerms``: add at the pair of each term ``pod`` matches."""
    for t in terms:
        if t.matches(pod, ns_labels):
            _update(m, node, t.topology_key, value)


# -- the state ----------------------------------------------------------------------------

@dataclass
class PreFilterState:
    """``preFilterState``: the three counts, the incoming pod's PodInfo (namespaceSelectors
    merged) and its namespace's labels."""

    existing_anti_affinity_counts: Counts = field(default_factory=dict)
    affinity_counts: Counts = field(default_factory=dict)
    anti_affinity_counts: Counts = field(default_factory=dict)
    pod_info: PodInfo | None = None
    namespace_labels: dict[str, str] = field(default_factory=dict)

    def clone(self) -> PreFilterState:
        return PreFilterState(dict(self.existing_anti_affinity_counts), dict(self.affinity_counts),
                              dict(self.anti_affinity_counts), self.pod_info, self.namespace_labels)

    def update_with_pod(self, p_info: PodInfo, node: Node, multiplier: int) -> None:
        """``preFilterState.updateWithPod``: count (or uncount) one pod added to (removed
        from) ``node``, as PreFilter would have."""
        incoming = self.pod_info
        _update_with_anti_affinity_terms(self.existing_anti_affinity_counts, p_info.required_anti_affinity_terms,
                                         incoming.pod, self.namespace_labels, node, multiplier)
        _update_with_affinity_terms(self.affinity_counts, incoming.required_affinity_terms, p_info.pod, node,
                                    multiplier)
        _update_with_anti_affinity_terms(self.anti_affinity_counts, incoming.required_anti_affinity_terms,
                                         p_info.pod, _NO_LABELS, node, multiplier)


# -- PreFilter's counting, one node at a time -----------------------------------------------

def node_existing_anti_affinity_counts(pod: Pod, ns_labels: Mapping[str, str], node_info: NodeInfo) -> Counts:
    """One node's part of ``getExistingAntiAffinityCounts``: its pods' required
    anti-affinity terms that match the incoming pod."""
    m: Counts = {}
    for existing in node_info.pods_with_required_anti_affinity:
        _update_with_anti_affinity_terms(m, existing.required_anti_affinity_terms, pod, ns_labels,
                                         node_info.node, 1)
    return m


def get_existing_anti_affinity_counts(pod: Pod, ns_labels: Mapping[str, str],
                                      nodes: Sequence[NodeInfo]) -> Counts:
    """``getExistingAntiAffinityCounts`` over the nodes holding pods with required
    anti-affinity."""
    result: Counts = {}
    for node_info in nodes:
        _append(result, node_existing_anti_affinity_counts(pod, ns_labels, node_info))
    return result


def node_incoming_affinity_counts(pod_info: PodInfo, node_info: NodeInfo) -> tuple[Counts, Counts]:
    """One node's part of ``getIncomingAffinityAntiAffinityCounts``: its pods matching the
    incoming pod's required affinity (all terms) and anti-affinity (each term)."""
    affinity: Counts = {}
    anti_affinity: Counts = {}
    for existing in node_info.pods:
        _update_with_affinity_terms(affinity, pod_info.required_affinity_terms, existing.pod, node_info.node, 1)
        _update_with_anti_affinity_terms(anti_affinity, pod_info.required_anti_affinity_terms, existing.pod,
                                         _NO_LABELS, node_info.node, 1)
    return affinity, anti_affinity


def get_incoming_affinity_anti_affinity_counts(pod_info: PodInfo,
                                               all_nodes: Sequence[NodeInfo]) -> tuple[Counts, Counts]:
    """``getIncomingAffinityAntiAffinityCounts`` over all nodes (nothing to count when the
    pod has no required terms)."""
    affinity: Counts = {}
    anti_affinity: Counts = {}
    if not pod_info.required_affinity_terms and not pod_info.required_anti_affinity_terms:
        return affinity, anti_affinity
    for node_info in all_nodes:
        a, aa = node_incoming_affinity_counts(pod_info, node_info)
        _append(affinity, a)
        _append(anti_affinity, aa)
    return affinity, anti_affinity


def get_pre_filter_state(state: CycleState) -> tuple[PreFilterState | None, Status | None]:
    """``getPreFilterState``: the state, or an Error status worded as upstream's."""
    try:
        return state.read(PRE_FILTER_STATE_KEY), None
    except NotFoundError as e:
        return None, Status.error(f'error reading "{PRE_FILTER_STATE_KEY}" from cycleState: {e}')


# -- Filter ---------------------------------------------------------------------------------

def satisfy_existing_pods_anti_affinity(s: PreFilterState, node_info: NodeInfo) -> bool:
    """``satisfyExistingPodsAntiAffinity``: no existing pod's anti-affinity term that
    matches the incoming pod counts at any of the node's label pairs."""
    if s.existing_anti_affinity_counts:
        for pair in node_info.node.metadata.labels.items():
            if s.existing_anti_affinity_counts.get(pair, 0) > 0:
                return False
    return True


def satisfy_pod_anti_affinity(s: PreFilterState, node_info: NodeInfo) -> bool:
    """``satisfyPodAntiAffinity``: no pod matching one of the incoming pod's anti-affinity
    terms is in the node's domain for that term."""
    if s.anti_affinity_counts:
        labels = node_info.node.metadata.labels
        for term in s.pod_info.required_anti_affinity_terms:
            if term.topology_key not in labels:
                continue
            if s.anti_affinity_counts.get((term.topology_key, labels[term.topology_key]), 0) > 0:
                return False
    return True


def satisfy_pod_affinity(s: PreFilterState, node_info: NodeInfo) -> bool:
    """``satisfyPodAffinity``: the node has every term's topology key and each term's
    domain holds a matching pod; or, the first pod of a group that is affine to itself,
    no pod matches anywhere and the incoming pod matches all its own terms."""
    pods_exist = True
    labels = node_info.node.metadata.labels
    for term in s.pod_info.required_affinity_terms:
        if term.topology_key not in labels:
            return False
        if s.affinity_counts.get((term.topology_key, labels[term.topology_key]), 0) <= 0:
            pods_exist = False
    if not pods_exist:
        return not s.affinity_counts and pod_matches_all_affinity_terms(s.pod_info.required_affinity_terms,
                                                                        s.pod_info.pod)
    return True


def filter_node(s: PreFilterState, node_info: NodeInfo) -> Status | None:
    """``Filter``: the pod's affinity (UnschedulableAndUnresolvable), its anti-affinity,
    then the existing pods' anti-affinity (both Unschedulable: preemption can help)."""
    if not satisfy_pod_affinity(s, node_info):
        return Status.of(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_REASON_AFFINITY_RULES_NOT_MATCH)
    if not satisfy_pod_anti_affinity(s, node_info):
        return Status.of(Code.UNSCHEDULABLE, ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH)
    if not satisfy_existing_pods_anti_affinity(s, node_info):
        return Status.of(Code.UNSCHEDULABLE, ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH)
    return None
