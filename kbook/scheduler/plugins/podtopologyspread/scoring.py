"""PodTopologySpread's PreScore, Score and NormalizeScore (``podtopologyspread/scoring.go``, v1.28).

PreScore counts, per topology pair of the nodes being scored, the pods matching each
ScheduleAnyway constraint across all nodes; Score sums ``count * log(size + 2) +
(maxSkew - 1)`` over the constraints (size = the number of domains of that key among the
scored nodes); NormalizeScore turns the fewest matches into the highest score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

from kbook.api import Pod
from kbook.scheduler.cyclestate import CycleState, NotFoundError
from kbook.scheduler.plugins.nodeaffinity import RequiredNodeAffinity
from kbook.scheduler.plugins.podtopologyspread.common import (
    LABEL_HOSTNAME,
    NAME,
    SpreadConstraint,
    count_pods_match_selector,
    namespace_of,
    node_labels_match_spread_constraints,
)
from kbook.scheduler.plugins.helper import go_round
from kbook.scheduler.status import MAX_NODE_SCORE, Status
from kbook.scheduler.types import NodeInfo, NodeScore

__all__ = [
    "PRE_SCORE_STATE_KEY",
    "INVALID_SCORE",
    "PreScoreState",
    "topology_normalizing_weight",
    "score_for_count",
    "init_pre_score_state",
    "node_pod_counts",
    "get_pre_score_state",
    "score_node",
    "normalize_scores",
]

PRE_SCORE_STATE_KEY = "PreScore" + NAME  # preScoreStateKey
INVALID_SCORE = -1  # invalidScore

TopologyPair = tuple[str, str]


@dataclass
class PreScoreState:
    """``preScoreState``: the soft constraints, the scored nodes lacking a topology key
    (``IgnoredNodes``, scored 0), the matching pods per topology pair
    (``TopologyPairToPodCounts``; hostname pairs are counted in Score instead) and each
    constraint's ``TopologyNormalizingWeight``."""

    constraints: list[SpreadConstraint] = field(default_factory=list)
    ignored_nodes: set[str] = field(default_factory=set)
    topology_pair_to_pod_counts: dict[TopologyPair, int] = field(default_factory=dict)
    topology_normalizing_weight: list[float] = field(default_factory=list)

    def clone(self) -> PreScoreState:
        """Upstream does not copy the PreScore state."""
        return self


def topology_normalizing_weight(size: int) -> float:
    """``topologyNormalizingWeight``: ``log(size + 2)``, so the counts of a topology with
    few domains are not watered down by one with many."""
    return math.log(size + 2)


def score_for_count(cnt: int, max_skew: int, tp_weight: float) -> float:
    """``scoreForCount``: ``cnt * tpWeight + (maxSkew - 1)``; the ``maxSkew - 1`` term
    makes the score tolerate skews up to maxSkew."""
    return float(cnt) * tp_weight + float(max_skew - 1)


def init_pre_score_state(s: PreScoreState, filtered_nodes: Sequence[NodeInfo], require_all_topologies: bool) -> None:
    """``initPreScoreState`` (with ``s.constraints`` set): ignore scored nodes lacking a
    topology key (when all are required), create a zero count for each non-hostname pair
    of the scored nodes, and weigh each constraint by its number of domains (for
    hostname: the scored nodes not ignored)."""
    topo_size = [0] * len(s.constraints)
    for node_info in filtered_nodes:
        labels = node_info.node.metadata.labels
        if require_all_topologies and not node_labels_match_spread_constraints(labels, s.constraints):
            s.ignored_nodes.add(node_info.name)
            continue
        for i, c in enumerate(s.constraints):
            if c.topology_key == LABEL_HOSTNAME:
                continue
            pair = (c.topology_key, labels.get(c.topology_key, ""))
            if pair not in s.topology_pair_to_pod_counts:
                s.topology_pair_to_pod_counts[pair] = 0
                topo_size[i] += 1
    s.topology_normalizing_weight = []
    for i, c in enumerate(s.constraints):
        size = topo_size[i]
        if c.topology_key == LABEL_HOSTNAME:
            size = len(filtered_nodes) - len(s.ignored_nodes)
        s.topology_normalizing_weight.append(topology_normalizing_weight(size))


def node_pod_counts(s: PreScoreState, pod: Pod, node_info: NodeInfo, require_all_topologies: bool,
                    required_node_affinity: RequiredNodeAffinity) -> list[tuple[TopologyPair, int]]:
    """One node's part of PreScore (``processAllNode``): for each constraint whose node
    inclusion policies admit the node and whose pair is one of the scored nodes' pairs,
    the node's matching pods under that pair (a pair appears once per such constraint)."""
    node = node_info.node
    labels = node.metadata.labels
    if require_all_topologies and not node_labels_match_spread_constraints(labels, s.constraints):
        return []
    out = []
    ns = namespace_of(pod)
    for c in s.constraints:
        if not c.match_node_inclusion_policies(pod, node, required_node_affinity):
            continue
        pair = (c.topology_key, labels.get(c.topology_key, ""))
        if pair not in s.topology_pair_to_pod_counts:
            continue
        out.append((pair, count_pods_match_selector(node_info.pods, c.selector, ns)))
    return out


def get_pre_score_state(state: CycleState) -> tuple[PreScoreState | None, Status | None]:
    """``getPreScoreState``: the state, or an Error status worded as upstream's."""
    try:
        return state.read(PRE_SCORE_STATE_KEY), None
    except NotFoundError as e:
        return None, Status.error(f'error reading "{PRE_SCORE_STATE_KEY}" from cycleState: {e}')


def score_node(s: PreScoreState, pod: Pod, node_info: NodeInfo) -> int:
    """``Score``: 0 for an ignored node; else ``round(sum of scoreForCount)`` over the
    constraints whose key the node has, the hostname count taken from the node itself."""
    if node_info.name in s.ignored_nodes:
        return 0
    labels = node_info.node.metadata.labels
    score = 0.0
    ns = namespace_of(pod)
    for i, c in enumerate(s.constraints):
        if c.topology_key not in labels:
            continue
        if c.topology_key == LABEL_HOSTNAME:
            cnt = count_pods_match_selector(node_info.pods, c.selector, ns)
        else:
            cnt = s.topology_pair_to_pod_counts[(c.topology_key, labels[c.topology_key])]
        score += score_for_count(cnt, c.max_skew, s.topology_normalizing_weight[i])
    return go_round(score)


def normalize_scores(s: PreScoreState, scores: list[NodeScore]) -> None:
    """``NormalizeScore``: ignored nodes get 0; if every other score is 0 they all get
    100; else ``100 * (max + min - score) / max`` (integer division; all terms are
    non-negative), so the node with the fewest matches scores highest."""
    min_score = 2**63 - 1
    max_score = 0
    for ns in scores:
        if ns.name in s.ignored_nodes:
            ns.score = INVALID_SCORE
            continue
        min_score = min(min_score, ns.score)
        max_score = max(max_score, ns.score)
    for ns in scores:
        if ns.score == INVALID_SCORE:
            ns.score = 0
        elif max_score == 0:
            ns.score = MAX_NODE_SCORE
        else:
            ns.score = MAX_NODE_SCORE * (max_score + min_score - ns.score) // max_score
