"""InterPodAffinity over all nodes (:mod:`kbook.scheduler.plugins.interpodaffinity`).

The incoming pod's terms are matched against the existing pods through the node table's
:class:`PodIndex` (matching pods per node per term, kept up to date pod by pod) and
summed per topology domain with ``bincount``; the existing pods' own terms, held by the
few nodes in the snapshot's affinity lists, are walked as the per-node plugin does.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from kbook.api import Pod
from kbook.scheduler.arrays.cycle import ArrayForm, FilterOutcome, PodCycle
from kbook.scheduler.arrays.podtopologyspread import selector_anchor, selector_key
from kbook.scheduler.arrays.table import NodeTable
from kbook.scheduler.plugins.interpodaffinity import (
    ERR_REASON_AFFINITY_RULES_NOT_MATCH, ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH,
    ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH, InterPodAffinity,
)
from kbook.scheduler.plugins.interpodaffinity.common import (
    get_namespace_labels_snapshot, merge_affinity_term_namespaces_if_not_empty,
)
from kbook.scheduler.plugins.interpodaffinity.filtering import (
    get_existing_anti_affinity_counts, pod_matches_all_affinity_terms,
)
from kbook.scheduler.status import MAX_NODE_SCORE, Code, Status
from kbook.scheduler.types import AffinityTerm, PodInfo, PreFilterResult

__all__ = ["ArrayInterPodAffinity", "term_counts", "all_terms_counts"]

_NO_LABELS: dict[str, str] = {}  # the incoming pod's terms have their namespaceSelector merged


def _term_key(t: AffinityTerm) -> tuple:
    return (tuple(sorted(t.namespaces)), t.namespace_selector.matches(_NO_LABELS), selector_key(t.selector))


def term_counts(table: NodeTable, term: AffinityTerm) -> np.ndarray:
    """Existing pods matching an incoming pod's term (``term.Matches(pod, nil)``), per node."""
    if term.selector.is_nothing():
        return np.zeros(table.n, dtype=np.int64)
    return table.pods.counts(("term", _term_key(term)), lambda pod: term.matches(pod, _NO_LABELS),
                             selector_anchor(term.selector))


def all_terms_counts(table: NodeTable, terms: Sequence[AffinityTerm]) -> np.ndarray:
    """Existing pods matching every one of the terms (``podMatchesAllAffinityTerms``), per node."""
    if any(t.selector.is_nothing() for t in terms):
        return np.zeros(table.n, dtype=np.int64)
    return table.pods.counts(("all-terms", tuple(_term_key(t) for t in terms)),
                             lambda pod: pod_matches_all_affinity_terms(terms, pod),
                             selector_anchor(terms[0].selector))


def _domain_sums(table: NodeTable, key: str, per_node: np.ndarray) -> np.ndarray:
    """Per-node numbers summed per value of label ``key`` (nodes without it left out);
    index 0 (no value) stays 0."""
    col = table.label(key)
    has = col.codes > 0
    return np.bincount(col.codes[has], weights=per_node[has], minlength=col.size).astype(np.int64)


def _has_pod_affinity(pod: Pod) -> bool:
    """Whether the pod has pod affinity or anti-affinity (terms that may parse badly)."""
    a = pod.spec.affinity
    return a is not None and (a.pod_affinity is not None or a.pod_anti_affinity is not None)


def _grown(arr: np.ndarray | None, size: int) -> np.ndarray:
    """``arr`` padded with zeros to ``size`` (a new zero array for None)."""
    if arr is None:
        return np.zeros(size, dtype=np.int64)
    if len(arr) < size:
        return np.concatenate((arr, np.zeros(size - len(arr), dtype=np.int64)))
    return arr


class _Filtering:
    __slots__ = ("pod_info", "existing", "affinity_sums", "anti_sums")

    def __init__(self, pod_info: PodInfo, existing: dict) -> None:
        self.pod_info = pod_info
        self.existing = existing
        self.affinity_sums: dict[str, np.ndarray] = {}
        self.anti_sums: dict[str, np.ndarray] = {}


class ArrayInterPodAffinity(ArrayForm):
    """PreFilter, Filter, PreScore, Score, NormalizeScore."""

    PLUGIN = InterPodAffinity

    def _namespaces(self) -> list[Any]:
        handle = self.plugin.handle
        return list(handle.objects("Namespace")) if handle is not None else []

    # -- PreFilter and Filter ------------------------------------------------------------

    def pre_filter(self, cycle: PodCycle) -> tuple[PreFilterResult | None, Status | None]:
        """``PreFilter``: the existing pods' anti-affinity as the per-node plugin counts it;
        the incoming pod's affinity and anti-affinity counts per domain from the index."""
        pod, table = cycle.pod, cycle.table
        snapshot = self.plugin.handle.snapshot
        if not _has_pod_affinity(pod) and not snapshot.have_pods_with_required_anti_affinity_list:
            return None, Status(Code.SKIP)  # no terms of its own, no existing pod's to match
        pod_info = PodInfo(pod)
        if pod_info.parse_error:
            return None, Status.of(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, f"parsing pod: {pod_info.parse_error}")
        namespaces = self._namespaces()
        pod_info.required_affinity_terms = [merge_affinity_term_namespaces_if_not_empty(t, namespaces)
                                            for t in pod_info.required_affinity_terms]
        pod_info.required_anti_affinity_terms = [merge_affinity_term_namespaces_if_not_empty(t, namespaces)
                                                 for t in pod_info.required_anti_affinity_terms]
        ns_labels = get_namespace_labels_snapshot(pod.metadata.namespace, namespaces)
        existing = get_existing_anti_affinity_counts(pod, ns_labels,
                                                     snapshot.have_pods_with_required_anti_affinity_list)
        if not existing and not pod_info.required_affinity_terms and not pod_info.required_anti_affinity_terms:
            return None, Status(Code.SKIP)
        s = _Filtering(pod_info, existing)
        terms = pod_info.required_affinity_terms
        if terms:
            matching = all_terms_counts(table, terms)
            for t in terms:
                if t.topology_key not in s.affinity_sums:
                    s.affinity_sums[t.topology_key] = _domain_sums(table, t.topology_key, matching)
        for t in pod_info.required_anti_affinity_terms:
            sums = _domain_sums(table, t.topology_key, term_counts(table, t))
            prev = s.anti_sums.get(t.topology_key)
            s.anti_sums[t.topology_key] = sums if prev is None else prev + sums
        cycle.data[self.name, "filter"] = s
        return None, None

    def filter(self, cycle: PodCycle) -> FilterOutcome | None:
        """The pod's affinity (UnschedulableAndUnresolvable), its anti-affinity, then the
        existing pods' anti-affinity (Unschedulable)."""
        s: _Filtering = cycle.data[self.name, "filter"]
        table = cycle.table
        codes = np.zeros(table.n, dtype=int)
        terms = s.pod_info.required_affinity_terms
        if terms:
            lacking = np.zeros(table.n, dtype=bool)
            pods_exist = np.ones(table.n, dtype=bool)
            for t in terms:
                node_codes = table.label(t.topology_key).codes
                lacking |= node_codes == 0
                pods_exist &= s.affinity_sums[t.topology_key][node_codes] > 0
            no_matches = not any(sums.any() for sums in s.affinity_sums.values())
            first_of_group = no_matches and pod_matches_all_affinity_terms(terms, s.pod_info.pod)
            codes[lacking | (~pods_exist & (not first_of_group))] = 1
        if any(sums.any() for sums in s.anti_sums.values()):
            anti = np.zeros(table.n, dtype=bool)
            for t in s.pod_info.required_anti_affinity_terms:
                anti |= s.anti_sums[t.topology_key][table.label(t.topology_key).codes] > 0
            codes[(codes == 0) & anti] = 2
        if s.existing:
            clash = np.zeros(table.n, dtype=bool)
            for (key, value), count in s.existing.items():
                col = table.label(key)
                code = col.code_of.get(value)
                if count > 0 and code is not None:
                    clash |= col.codes == code
            codes[(codes == 0) & clash] = 3
        reasons = {1: (Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_REASON_AFFINITY_RULES_NOT_MATCH),
                   2: (Code.UNSCHEDULABLE, ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH),
                   3: (Code.UNSCHEDULABLE, ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH)}
        return FilterOutcome(codes, lambda code: Status.of(*reasons[code]))

    # -- PreScore, Score, NormalizeScore -------------------------------------------------

    def pre_score(self, cycle: PodCycle, rows: np.ndarray) -> Status | None:
        """``PreScore``: ``topologyScore`` as one array per topology key over its values."""
        if len(rows) == 0:
            return Status(Code.SKIP)
        pod, table = cycle.pod, cycle.table
        snapshot = self.plugin.handle.snapshot if self.plugin.handle is not None else None
        if snapshot is None:
            return Status.of(Code.ERROR, "empty shared lister in InterPodAffinity PreScore")
        affinity = pod.spec.affinity
        has_constraints = affinity is not None and (
            (affinity.pod_affinity is not None
             and bool(affinity.pod_affinity.preferred_during_scheduling_ignored_during_execution))
            or (affinity.pod_anti_affinity is not None
                and bool(affinity.pod_anti_affinity.preferred_during_scheduling_ignored_during_execution)))
        if self.plugin.ignore_preferred_terms_of_existing_pods and not has_constraints:
            return Status(Code.SKIP)
        if not _has_pod_affinity(pod) and not snapshot.have_pods_with_affinity_list:
            return Status(Code.SKIP)  # nothing can score
        pod_info = PodInfo(pod)
        if pod_info.parse_error:
            return Status.error(f"failed to parse pod: {pod_info.parse_error}")
        namespaces = self._namespaces()
        ns_labels = get_namespace_labels_snapshot(pod.metadata.namespace, namespaces)
        scores: dict[str, np.ndarray] = {}
        scored_any = False

        def add(key: str, amounts: np.ndarray) -> None:
            """Add per-value amounts (indexed by the key's label codes) to the key's scores."""
            arr = _grown(scores.get(key), table.label(key).size)
            arr[:len(amounts)] += amounts
            scores[key] = arr

        if has_constraints:
            for terms, sign in ((pod_info.preferred_affinity_terms, 1), (pod_info.preferred_anti_affinity_terms, -1)):
                for wt in terms:
                    term = merge_affinity_term_namespaces_if_not_empty(wt.term, namespaces)
                    counts = term_counts(table, term)
                    sums = _domain_sums(table, term.topology_key, counts)
                    if sums.any():
                        scored_any = True
                        add(term.topology_key, sums * (wt.weight * sign))
        hard_weight = self.plugin.hard_pod_affinity_weight
        for node_info in snapshot.have_pods_with_affinity_list:
            labels = node_info.node.metadata.labels
            if not labels:
                continue
            for existing in node_info.pods_with_affinity:
                contributions = []
                if hard_weight > 0:
                    contributions += [(t, hard_weight) for t in existing.required_affinity_terms]
                contributions += [(wt.term, wt.weight) for wt in existing.preferred_affinity_terms]
                contributions += [(wt.term, -wt.weight) for wt in existing.preferred_anti_affinity_terms]
                for term, amount in contributions:
                    if term.topology_key in labels and term.matches(pod, ns_labels):
                        scored_any = True
                        col = table.label(term.topology_key)
                        one = np.zeros(col.size, dtype=np.int64)
                        one[col.code(labels[term.topology_key])] = amount
                        add(term.topology_key, one)
        if not scored_any:
            return Status(Code.SKIP)
        cycle.data[self.name, "score"] = scores
        return None

    def score(self, cycle: PodCycle, rows: np.ndarray) -> np.ndarray:
        """The topology scores at each node's label values, summed over the keys."""
        table = cycle.table
        total = np.zeros(len(rows), dtype=np.int64)
        for key, arr in cycle.data[self.name, "score"].items():
            col = table.label(key)
            codes = col.codes[rows]
            total += np.where(codes > 0, _grown(arr, col.size)[codes], 0)
        return total

    def normalize_score(self, cycle: PodCycle, rows: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """``int(100 * (score - min) / (max - min))`` in float64; all 0 when max == min."""
        if len(scores) == 0:
            return scores
        min_count, max_count = int(scores.min()), int(scores.max())
        diff = max_count - min_count
        if diff <= 0:
            return np.zeros_like(scores)
        return (float(MAX_NODE_SCORE) * ((scores - min_count).astype(np.float64) / float(diff))).astype(np.int64)
