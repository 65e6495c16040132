"""PodTopologySpread's PreFilter and Filter (``podtopologyspread/filtering.go``, v1.28).

PreFilter counts, over every node that carries all the pod's topology keys (and passes
the constraint's node inclusion policies), the pods matching each DoNotSchedule
constraint per topology pair ``(key, value)``; Filter admits a node when
``matchNum + selfMatch - globalMinimum <= maxSkew`` for every constraint.

As in v1.28 the counts are keyed by topology pair and the critical paths and domain
counts by topology key, so two constraints with the same key share them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from kbook.api import Node, Pod
from kbook.scheduler.cyclestate import CycleState, NotFoundError
from kbook.scheduler.plugins.nodeaffinity import RequiredNodeAffinity
from kbook.scheduler.plugins.podtopologyspread.common import (
    NAME,
    SpreadConstraint,
    count_pods_match_selector,
    namespace_of,
    node_labels_match_spread_constraints,
)
from kbook.scheduler.status import Code, Status
from kbook.scheduler.types import NodeInfo

__all__ = [
    "PRE_FILTER_STATE_KEY",
    "ERR_REASON_CONSTRAINTS_NOT_MATCH",
    "ERR_REASON_NODE_LABEL_NOT_MATCH",
    "CriticalPaths",
    "PreFilterState",
    "node_topology_counts",
    "cal_pre_filter_state",
    "update_with_pod",
    "get_pre_filter_state",
    "filter_node",
]

PRE_FILTER_STATE_KEY = "PreFilter" + NAME  # preFilterStateKey
# ErrReasonConstraintsNotMatch and ErrReasonNodeLabelNotMatch (plugin.go).
ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints"
ERR_REASON_NODE_LABEL_NOT_MATCH = ERR_REASON_CONSTRAINTS_NOT_MATCH + " (missing required label)"

MAX_INT32 = 2**31 - 1  # math.MaxInt32, the match number of an unset critical path

TopologyPair = tuple[str, str]  # topologyPair{key, value}


class CriticalPaths:
    """``criticalPaths``: the two topology values with the fewest matching pods seen so
    far; ``paths[0]`` always holds the minimum, ``paths[1]`` is not guaranteed to be the
    second smallest (enough for preemption, which changes one node at a time)."""

    __slots__ = ("paths",)

    def __init__(self, paths: list[list] | None = None) -> None:
        self.paths: list[list] = paths or [["", MAX_INT32], ["", MAX_INT32]]  # [topologyValue, matchNum]

    def update(self, tp_val: str, num: int) -> None:
        """``criticalPaths.update``."""
        p = self.paths
        i = 0 if tp_val == p[0][0] else 1 if tp_val == p[1][0] else -1
        if i >= 0:
            p[i][1] = num
            if p[0][1] > p[1][1]:
                p[0], p[1] = p[1], p[0]
        elif num < p[0][1]:
            p[1] = p[0]
            p[0] = [tp_val, num]
        elif num < p[1][1]:
            p[1] = [tp_val, num]

    def min_match_num(self) -> int:
        return self.paths[0][1]

    def clone(self) -> CriticalPaths:
        return CriticalPaths([list(self.paths[0]), list(self.paths[1])])

    def __repr__(self) -> str:
        return f"CriticalPaths({self.paths})"


@dataclass
class PreFilterState:
    """``preFilterState``: the hard constraints, ``TpKeyToCriticalPaths``,
    ``TpKeyToDomainsNum`` and ``TpPairToMatchNum``. An empty state (no constraints) lets
    every node pass."""

    constraints: list[SpreadConstraint] = field(default_factory=list)
    tp_key_to_critical_paths: dict[str, CriticalPaths] = field(default_factory=dict)
    tp_key_to_domains_num: dict[str, int] = field(default_factory=dict)
    tp_pair_to_match_num: dict[TopologyPair, int] = field(default_factory=dict)

    def min_match_num(self, tp_key: str, min_domains: int) -> int | None:
        """``preFilterState.minMatchNum``: the global minimum, 0 while fewer than
        ``minDomains`` domains are eligible; None where upstream returns an error (the
        constraint is then skipped)."""
        paths = self.tp_key_to_critical_paths.get(tp_key)
        if paths is None:
            return None
        domains_num = self.tp_key_to_domains_num.get(tp_key)
        if domains_num is None:
            return None
        return 0 if domains_num < min_domains else paths.min_match_num()

    def clone(self) -> PreFilterState:
        """``preFilterState.Clone``: constraints and domain counts shared (AddPod/RemovePod
        never change them), paths and match numbers copied."""
        return PreFilterState(
            self.constraints,
            {k: p.clone() for k, p in self.tp_key_to_critical_paths.items()},
            self.tp_key_to_domains_num,
            dict(self.tp_pair_to_match_num),
        )


def node_topology_counts(pod: Pod, node_info: NodeInfo, constraints: Sequence[SpreadConstraint],
                         required_node_affinity: RequiredNodeAffinity) -> dict[TopologyPair, int]:
    """One node's part of ``calPreFilterState`` (``processNode``): nothing if the node
    lacks one of the topology keys; else, for each constraint whose node inclusion
    policies admit the node, the number of matching pods under the node's topology pair.
    Two constraints on the same key write the same pair: the later one wins."""
    node = node_info.node
    if not node_labels_match_spread_constraints(node.metadata.labels, constraints):
        return {}
    counts: dict[TopologyPair, int] = {}
    ns = namespace_of(pod)
    for c in constraints:
        if not c.match_node_inclusion_policies(pod, node, required_node_affinity):
            continue
        pair = (c.topology_key, node.metadata.labels[c.topology_key])
        counts[pair] = count_pods_match_selector(node_info.pods, c.selector, ns)
    return counts


def cal_pre_filter_state(pod: Pod, constraints: list[SpreadConstraint], node_infos: Sequence[NodeInfo],
                         required_node_affinity: RequiredNodeAffinity) -> PreFilterState:
    """``calPreFilterState``: sum the per-node counts into ``TpPairToMatchNum``, count the
    domains per key, then find each key's critical paths."""
    s = PreFilterState(constraints)
    for node_info in node_infos:
        for pair, count in node_topology_counts(pod, node_info, constraints, required_node_affinity).items():
            s.tp_pair_to_match_num[pair] = s.tp_pair_to_match_num.get(pair, 0) + count
    for key, _ in s.tp_pair_to_match_num:
        s.tp_key_to_domains_num[key] = s.tp_key_to_domains_num.get(key, 0) + 1
    for c in constraints:
        s.tp_key_to_critical_paths[c.topology_key] = CriticalPaths()
    for (key, value), num in s.tp_pair_to_match_num.items():
        s.tp_key_to_critical_paths[key].update(value, num)
    return s


def update_with_pod(s: PreFilterState, updated_pod: Pod, preemptor_pod: Pod, node: Node | None, delta: int,
                    required_node_affinity: RequiredNodeAffinity) -> None:
    """``updateWithPod`` (PreFilterExtensions AddPod/RemovePod): add ``delta`` to the
    pair of every constraint the pod matches on a node that counts, and refresh the key's
    critical paths. Unlike PreFilter's count, a terminating pod is not skipped."""
    if node is None or namespace_of(updated_pod) != namespace_of(preemptor_pod):
        return
    labels = node.metadata.labels
    if not node_labels_match_spread_constraints(labels, s.constraints):
        return
    for c in s.constraints:
        if not c.selector.matches(updated_pod.metadata.labels):
            continue
        if not c.match_node_inclusion_policies(preemptor_pod, node, required_node_affinity):
            continue
        pair = (c.topology_key, labels[c.topology_key])
        s.tp_pair_to_match_num[pair] = s.tp_pair_to_match_num.get(pair, 0) + delta
        s.tp_key_to_critical_paths[c.topology_key].update(pair[1], s.tp_pair_to_match_num[pair])


def get_pre_filter_state(state: CycleState) -> tuple[PreFilterState | None, Status | None]:
    """``getPreFilterState``: the state, or an Error status worded as upstream's."""
    try:
        return state.read(PRE_FILTER_STATE_KEY), None
    except NotFoundError as e:
        return None, Status.error(f'reading "{PRE_FILTER_STATE_KEY}" from cycleState: {e}')


def filter_node(s: PreFilterState, pod: Pod, node_info: NodeInfo) -> Status | None:
    """``Filter``: a node without a constraint's topology key is
    UnschedulableAndUnresolvable; a node where ``matchNum + selfMatchNum - minMatchNum``
    exceeds ``maxSkew`` is Unschedulable."""
    if not s.constraints:
        return None
    labels = node_info.node.metadata.labels
    for c in s.constraints:
        if c.topology_key not in labels:
            return Status.of(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_REASON_NODE_LABEL_NOT_MATCH)
        min_match_num = s.min_match_num(c.topology_key, c.min_domains)
        if min_match_num is None:
            continue
        self_match_num = 1 if c.selector.matches(pod.metadata.labels) else 0
        match_num = s.tp_pair_to_match_num.get((c.topology_key, labels[c.topology_key]), 0)
        if match_num + self_match_num - min_match_num > c.max_skew:
            return Status.of(Code.UNSCHEDULABLE, ERR_REASON_CONSTRAINTS_NOT_MATCH)
    return None
