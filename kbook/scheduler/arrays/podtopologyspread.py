"""PodTopologySpread over all nodes (:mod:`kbook.scheduler.plugins.podtopologyspread`).

The matching pods of every node come from the node table's :class:`PodIndex` (one count
per node per selector, kept up to date pod by pod); a topology domain is a label code, so
the per-pair sums of PreFilter and PreScore are ``bincount``s over the codes. The quirks
of v1.28 are kept: two constraints on one key share a pair (PreFilter keeps the later
one's count, PreScore adds both), system-default spreading counts nodes lacking the zone
under the value ``""``, the hostname constraint is counted per node in Score.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kbook.api import Pod
from kbook.api.selectors import SelectorError
from kbook.scheduler.arrays.cycle import ArrayForm, FilterOutcome, PodCycle, go_round
from kbook.scheduler.arrays.nodeaffinity import required_node_affinity_mask
from kbook.scheduler.arrays.table import NodeTable
from kbook.scheduler.arrays.tainttoleration import tolerated_taints
from kbook.scheduler.plugins.nodeaffinity import RequiredNodeAffinity
from kbook.scheduler.plugins.podtopologyspread import (
    ERR_REASON_CONSTRAINTS_NOT_MATCH, ERR_REASON_NODE_LABEL_NOT_MATCH, PodTopologySpread,
)
from kbook.scheduler.plugins.podtopologyspread.common import (
    DO_NOT_SCHEDULE, LABEL_HOSTNAME, NODE_INCLUSION_POLICY_HONOR, SCHEDULE_ANYWAY, SpreadConstraint, namespace_of,
)
from kbook.scheduler.plugins.podtopologyspread.scoring import topology_normalizing_weight
from kbook.scheduler.status import MAX_NODE_SCORE, Code, Status
from kbook.scheduler.types import PreFilterResult, Selector

__all__ = ["ArrayPodTopologySpread", "selector_anchor", "selector_key", "spread_counts"]


def selector_key(selector: Selector) -> tuple | None:
    """A hashable name for a parsed selector (None for Nothing)."""
    if selector.requirements is None:
        return None
    return tuple((r.key, r.operator, tuple(r.values)) for r in selector.requirements)


def selector_anchor(selector: Selector) -> tuple[str, tuple[str, ...]] | None:
    """A label every pod the selector matches carries (an ``=`` or ``In`` requirement)."""
    for r in selector.requirements or ():
        if r.operator in ("=", "In") and r.values:
            return r.key, tuple(r.values)
    return None


def spread_counts(table: NodeTable, selector: Selector, namespace: str) -> np.ndarray:
    """``countPodsMatchSelector`` on every node: pods in ``namespace``, not terminating,
    matching ``selector``; an Everything selector counts nothing."""
    if selector.is_everything() or selector.is_nothing():
        return np.zeros(table.n, dtype=np.int64)

    def matches(pod: Pod) -> bool:
        return (pod.metadata.deletion_timestamp is None and namespace_of(pod) == namespace
                and selector.matches(pod.metadata.labels))

    return table.pods.counts(("spread", namespace, selector_key(selector)), matches, selector_anchor(selector))


class _Filtering:
    """The array PreFilter's result: per topology key, the nodes' domain codes, the
    matching pods per domain and which domains exist (``TpPairToMatchNum``), the global
    minimum (``TpKeyToCriticalPaths``) and the number of domains (``TpKeyToDomainsNum``)."""

    __slots__ = ("constraints", "codes", "sums", "present", "min_match", "domains")

    def __init__(self, constraints: list[SpreadConstraint]) -> None:
        self.constraints = constraints
        self.codes: dict[str, np.ndarray] = {}
        self.sums: dict[str, np.ndarray] = {}
        self.present: dict[str, np.ndarray] = {}
        self.min_match: dict[str, int] = {}
        self.domains: dict[str, int] = {}


class ArrayPodTopologySpread(ArrayForm):
    """PreFilter, Filter, PreScore, Score, NormalizeScore."""

    PLUGIN = PodTopologySpread

    # -- nodes that count ----------------------------------------------------------------

    @staticmethod
    def _inclusion(cycle: PodCycle, c: SpreadConstraint, affinity: dict[str, Any]) -> np.ndarray | None:
        """``matchNodeInclusionPolicies`` on every node (None: every node)."""
        m = None
        if c.node_affinity_policy == NODE_INCLUSION_POLICY_HONOR:
            if "mask" not in affinity:
                required = RequiredNodeAffinity(cycle.pod)
                affinity["mask"] = (required_node_affinity_mask(cycle.table, required)
                                    if required.node_selector or required.affinity is not None else None)
            m = affinity["mask"]
        if c.node_taints_policy == NODE_INCLUSION_POLICY_HONOR:
            taints = cycle.table.taints
            tolerated = (tolerated_taints(taints, cycle.pod.spec.tolerations)[taints.hard].all(axis=1)
                         if taints.hard.shape[1] else np.ones(cycle.table.n, dtype=bool))
            m = tolerated if m is None else m & tolerated
        return m

    # -- PreFilter and Filter ------------------------------------------------------------

    def pre_filter(self, cycle: PodCycle) -> tuple[PreFilterResult | None, Status | None]:
        """``calPreFilterState`` with the counts of every node at once."""
        try:
            constraints = self.plugin.get_constraints(cycle.pod, DO_NOT_SCHEDULE)
        except SelectorError as e:
            return None, Status.error(e)
        if not constraints:
            return None, Status(Code.SKIP)
        table, pod = cycle.table, cycle.pod
        ns = namespace_of(pod)
        s = _Filtering(constraints)
        all_keys = np.ones(table.n, dtype=bool)
        for c in constraints:
            all_keys &= table.label(c.topology_key).codes > 0
        affinity: dict[str, Any] = {}
        node_count: dict[str, np.ndarray] = {}
        counted: dict[str, np.ndarray] = {}
        for c in constraints:
            key = c.topology_key
            inclusion = self._inclusion(cycle, c, affinity)
            include = all_keys if inclusion is None else all_keys & inclusion
            counts = spread_counts(table, c.selector, ns)
            if key in node_count:  # the later constraint's count replaces the pair's
                node_count[key] = np.where(include, counts, node_count[key])
                counted[key] = counted[key] | include
            else:
                node_count[key], counted[key] = np.where(include, counts, 0), include
        for key, include in counted.items():
            codes = table.label(key).codes
            s.codes[key] = codes
            size = table.label(key).size
            s.sums[key] = np.bincount(codes[include], weights=node_count[key][include], minlength=size).astype(np.int64)
            s.present[key] = present = np.bincount(codes[include], minlength=size) > 0
            domains = int(present.sum())
            if domains:
                s.domains[key] = domains
                s.min_match[key] = int(s.sums[key][present].min())
        cycle.data[self.name, "filter"] = s
        return None, None

    def filter(self, cycle: PodCycle) -> FilterOutcome | None:
        s: _Filtering = cycle.data[self.name, "filter"]
        table = cycle.table
        codes = np.zeros(table.n, dtype=int)
        labels = cycle.pod.metadata.labels
        for c in s.constraints:
            key = c.topology_key
            node_codes = s.codes.get(key)
            if node_codes is None:
                node_codes = table.label(key).codes
            open_ = codes == 0
            codes[open_ & (node_codes == 0)] = 1
            if key not in s.domains:  # no domain: upstream skips the constraint
                continue
            min_match = 0 if s.domains[key] < c.min_domains else s.min_match[key]
            self_match = 1 if c.selector.matches(labels) else 0
            match_num = np.where(s.present[key], s.sums[key], 0)[node_codes]
            codes[open_ & (node_codes > 0) & (match_num + self_match - min_match > c.max_skew)] = 2
        return FilterOutcome(codes, lambda code: (
            Status.of(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_REASON_NODE_LABEL_NOT_MATCH) if code == 1
            else Status.of(Code.UNSCHEDULABLE, ERR_REASON_CONSTRAINTS_NOT_MATCH)))

    # -- PreScore, Score, NormalizeScore -------------------------------------------------

    def pre_score(self, cycle: PodCycle, rows: np.ndarray) -> Status | None:
        """``PreScore``: the soft constraints, the ignored scored nodes, each constraint's
        weight ``log(domains + 2)`` and the matching pods per domain over all nodes."""
        table, pod = cycle.table, cycle.pod
        if len(rows) == 0 or table.n == 0:
            return Status(Code.SKIP)
        require_all = bool(pod.spec.topology_spread_constraints) or not self.plugin.system_defaulted
        try:
            constraints = self.plugin.get_constraints(pod, SCHEDULE_ANYWAY)
        except SelectorError as e:
            return Status.error(f"calculating preScoreState: {e}")
        if not constraints:
            return Status(Code.SKIP)
        has_keys = None  # every node, unless all topology keys are required
        if require_all:
            has_keys = np.ones(table.n, dtype=bool)
            for c in constraints:
                has_keys &= table.label(c.topology_key).codes > 0
        ignored = ~has_keys[rows] if has_keys is not None else np.zeros(len(rows), dtype=bool)
        scored = rows[~ignored]
        # domains: a node without the key counts under the value "" (Go's map lookup)
        domain_codes: dict[str, np.ndarray] = {}
        pairs: dict[str, np.ndarray] = {}
        weights: list[float] = []
        for c in constraints:
            key = c.topology_key
            if key == LABEL_HOSTNAME:
                weights.append(topology_normalizing_weight(len(rows) - int(ignored.sum())))
                continue
            if key in pairs:  # the pairs were created by an earlier constraint on the key
                weights.append(topology_normalizing_weight(0))
                continue
            col = table.label(key)
            codes = col.codes
            if not require_all and (codes == 0).any():
                codes = np.where(codes == 0, col.code(""), codes)
            domain_codes[key] = codes
            pairs[key] = np.bincount(codes[scored], minlength=col.size) > 0
            weights.append(topology_normalizing_weight(int(pairs[key].sum())))
        affinity: dict[str, Any] = {}
        ns = namespace_of(pod)
        sums: dict[str, np.ndarray] = {key: np.zeros(len(p), dtype=np.int64) for key, p in pairs.items()}
        for c in constraints:
            key = c.topology_key
            if key == LABEL_HOSTNAME:
                continue
            codes = domain_codes[key]
            include = pairs[key][codes]
            for mask in (has_keys, self._inclusion(cycle, c, affinity)):
                if mask is not None:
                    include &= mask
            counts = spread_counts(table, c.selector, ns)
            sums[key] += np.bincount(codes[include], weights=counts[include], minlength=len(sums[key])).astype(np.int64)
        cycle.data[self.name, "score"] = (constraints, ignored, weights, sums)
        return None

    def score(self, cycle: PodCycle, rows: np.ndarray) -> np.ndarray:
        """``Score``: ``round(sum of cnt * weight + (maxSkew - 1))`` over the constraints
        whose key the node has; 0 for an ignored node."""
        constraints, ignored, weights, sums = cycle.data[self.name, "score"]
        table = cycle.table
        ns = namespace_of(cycle.pod)
        score = np.zeros(len(rows))
        for c, weight in zip(constraints, weights):
            key = c.topology_key
            codes = table.label(key).codes[rows]
            if key == LABEL_HOSTNAME:
                cnt = spread_counts(table, c.selector, ns)[rows]
            else:
                cnt = sums[key][codes]
            term = cnt.astype(np.float64) * weight + float(c.max_skew - 1)
            score = score + np.where(codes > 0, term, 0.0)
        return np.where(ignored, 0, go_round(score))

    def normalize_score(self, cycle: PodCycle, rows: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """``NormalizeScore``: 0 for ignored nodes; all 100 when every other score is 0; else
        ``100 * (max + min - score) / max``."""
        ignored = cycle.data[self.name, "score"][1]
        valid = scores[~ignored]
        if len(valid) == 0:
            return np.zeros_like(scores)
        min_score, max_score = int(valid.min()), max(int(valid.max()), 0)
        if max_score == 0:
            return np.where(ignored, 0, MAX_NODE_SCORE)
        return np.where(ignored, 0, MAX_NODE_SCORE * (max_score + min_score - scores) // max_score)

