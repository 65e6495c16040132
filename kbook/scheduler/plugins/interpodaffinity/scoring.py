"""InterPodAffinity's PreScore, Score and NormalizeScore (``interpodaffinity/scoring.go``, v1.28).

PreScore builds ``topologyScore[key][value]``: for every existing pod, the weights of the
incoming pod's preferred (anti-)affinity terms it matches, and of the existing pod's own
required affinity (``hardPodAffinityWeight``) and preferred (anti-)affinity terms the
incoming pod matches, all at the pairs of the existing pod's node. A node's score is the
sum over its labels; NormalizeScore maps [min, max] onto [0, 100].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

from kbook.api import Node, Pod
from kbook.scheduler.cyclestate import CycleState, NotFoundError
from kbook.scheduler.plugins.interpodaffinity.common import NAME
from kbook.scheduler.status import MAX_NODE_SCORE, Status
from kbook.scheduler.types import AffinityTerm, NodeInfo, NodeScore, PodInfo, WeightedAffinityTerm

__all__ = [
    "PRE_SCORE_STATE_KEY",
    "PreScoreState",
    "process_existing_pod",
    "node_topology_score",
    "append_scores",
    "get_pre_score_state",
    "score_node",
    "normalize_scores",
]

PRE_SCORE_STATE_KEY = "PreScore" + NAME  # preScoreStateKey

ScoreMap = dict[str, dict[str, int]]  # scoreMap: topology key -> value -> score

_NO_LABELS: Mapping[str, str] = {}  # upstream's nil labels.Set for the incoming pod's merged terms


@dataclass
class PreScoreState:
    """``preScoreState``: the topology scores, the incoming pod's PodInfo (preferred terms'
    namespaceSelectors merged) and its namespace's labels."""

    topology_score: ScoreMap = field(default_factory=dict)
    pod_info: PodInfo | None = None
    namespace_labels: dict[str, str] = field(default_factory=dict)

    def clone(self) -> PreScoreState:
        """Upstream does not copy the PreScore state."""
        return self


def _process_term(m: ScoreMap, term: AffinityTerm, weight: int, pod: Pod, ns_labels: Mapping[str, str],
                  node: Node, multiplier: int) -> None:
    """``scoreMap.processTerm``: add ``weight * multiplier`` at the node's value of the
    term's key when ``pod`` matches the term."""
    if term.matches(pod, ns_labels):
        labels = node.metadata.labels
        if term.topology_key in labels:
            values = m.setdefault(term.topology_key, {})
            value = labels[term.topology_key]
            values[value] = values.get(value, 0) + weight * multiplier


def _process_terms(m: ScoreMap, terms: Sequence[WeightedAffinityTerm], pod: Pod, ns_labels: Mapping[str, str],
                   node: Node, multiplier: int) -> None:
    for t in terms:
        _process_term(m, t.term, t.weight, pod, ns_labels, node, multiplier)


def process_existing_pod(s: PreScoreState, existing: PodInfo, existing_node: Node, incoming: Pod,
                         topo_score: ScoreMap, hard_pod_affinity_weight: int) -> None:
    """``processExistingPod``: the five contributions of one existing pod (none if its
    node has no labels)."""
    if not existing_node.metadata.labels:
        return
    # The incoming pod's preferred terms matching the existing pod: + and - their weight.
    _process_terms(topo_score, s.pod_info.preferred_affinity_terms, existing.pod, _NO_LABELS, existing_node, 1)
    _process_terms(topo_score, s.pod_info.preferred_anti_affinity_terms, existing.pod, _NO_LABELS,
                   existing_node, -1)
    # The existing pod's required affinity terms matching the incoming pod: + hardPodAffinityWeight.
    if hard_pod_affinity_weight > 0:
        for t in existing.required_affinity_terms:
            _process_term(topo_score, t, hard_pod_affinity_weight, incoming, s.namespace_labels, existing_node, 1)
    # The existing pod's preferred terms matching the incoming pod: + and - their weight.
    _process_terms(topo_score, existing.preferred_affinity_terms, incoming, s.namespace_labels, existing_node, 1)
    _process_terms(topo_score, existing.preferred_anti_affinity_terms, incoming, s.namespace_labels,
                   existing_node, -1)


def node_topology_score(s: PreScoreState, node_info: NodeInfo, incoming: Pod, has_constraints: bool,
                        hard_pod_affinity_weight: int) -> ScoreMap:
    """One node's part of PreScore (``processNode``): all its pods if the incoming pod has
    preferred terms, else only its pods with affinity."""
    pods = node_info.pods if has_constraints else node_info.pods_with_affinity
    topo_score: ScoreMap = {}
    for existing in pods:
        process_existing_pod(s, existing, node_info.node, incoming, topo_score, hard_pod_affinity_weight)
    return topo_score


def append_scores(m: ScoreMap, other: ScoreMap) -> None:
    """``scoreMap.append``."""
    for key, scores in other.items():
        mine = m.setdefault(key, {})
        for value, n in scores.items():
            mine[value] = mine.get(value, 0) + n


def get_pre_score_state(state: CycleState) -> tuple[PreScoreState | None, Status | None]:
    """``getPreScoreState``: the state, or an Error status worded as upstream's."""
    try:
        return state.read(PRE_SCORE_STATE_KEY), None
    except NotFoundError as e:
        return None, Status.error(f'failed to read "{PRE_SCORE_STATE_KEY}" from cycleState: {e}')


def score_node(s: PreScoreState, node_info: NodeInfo) -> int:
    """``Score``: the sum of the topology scores at the node's label values (positive for
    affinity, negative for anti-affinity)."""
    labels = node_info.node.metadata.labels
    return sum(values.get(labels[key], 0) for key, values in s.topology_score.items() if key in labels)


def normalize_scores(s: PreScoreState, scores: list[NodeScore]) -> None:
    """``NormalizeScore``: ``int(100 * (score - min) / (max - min))`` in float64, all 0
    when max == min; nothing to do without topology scores."""
    if not s.topology_score or not scores:
        return
    min_count = min(ns.score for ns in scores)
    max_count = max(ns.score for ns in scores)
    diff = max_count - min_count
    for ns in scores:
        f_score = 0.0
        if diff > 0:
            f_score = float(MAX_NODE_SCORE) * (float(ns.score - min_count) / float(diff))
        ns.score = int(f_score)
