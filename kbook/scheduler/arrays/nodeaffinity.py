"""NodeAffinity over all nodes (:mod:`kbook.scheduler.plugins.nodeaffinity`): each label
requirement is evaluated once per distinct value of its key and looked up per node, so
``nodeSelector``, the required terms (ORed) and the preferred terms' weights become
boolean arrays. PodTopologySpread reuses :func:`required_node_affinity_mask`."""

from __future__ import annotations

import numpy as np

from kbook.scheduler.arrays.cycle import FilterOutcome, OwnPreFilter, PodCycle, default_normalize_score
from kbook.scheduler.arrays.table import NodeTable
from kbook.scheduler.cyclestate import NotFoundError
from kbook.scheduler.plugins.nodeaffinity import (
    ERR_REASON_ENFORCED, ERR_REASON_POD, OBJECT_NAME_FIELD, PRE_FILTER_STATE_KEY, PRE_SCORE_STATE_KEY, NodeAffinity,
    NodeSelector, PreferredSchedulingTerms, RequiredNodeAffinity,
)
from kbook.scheduler.status import MAX_NODE_SCORE, Code, Status

__all__ = [
    "ArrayNodeAffinity",
    "label_equals_mask",
    "node_selector_term_mask",
    "node_selector_mask",
    "required_node_affinity_mask",
    "preferred_terms_score",
]


def label_equals_mask(table: NodeTable, key: str, value: str) -> np.ndarray:
    """Nodes whose label ``key`` is ``value``."""
    col = table.label(key)
    code = col.code_of.get(value)
    return col.codes == code if code is not None else np.zeros(table.n, dtype=bool)


def _name_mask(table: NodeTable, name: str) -> np.ndarray:
    m = np.zeros(table.n, dtype=bool)
    i = table.index.get(name)
    if i is not None:
        m[i] = True
    return m


def node_selector_term_mask(table: NodeTable, term) -> np.ndarray:
    """``nodeSelectorTerm.match`` on every node (a parsed term of
    :mod:`kbook.scheduler.plugins.nodeaffinity`): false if it did not parse; label
    requirements ANDed; ``metadata.name`` fields compared with the node's name."""
    if term.errors:
        return np.zeros(table.n, dtype=bool)
    m = np.ones(table.n, dtype=bool)
    for r in term.labels or ():
        col = table.label(r.key)
        m &= col.mask(("node-selector-requirement", r), lambda v, r=r: r.matches({} if v is None else {r.key: v}))
    for key, op, value in term.fields or ():
        equal = _name_mask(table, value) if key == OBJECT_NAME_FIELD else np.full(table.n, value == "")
        m &= equal if op == "In" else ~equal
    return m


def node_selector_mask(table: NodeTable, selector: NodeSelector) -> np.ndarray:
    """``NodeSelector.Match``: some term matches."""
    m = np.zeros(table.n, dtype=bool)
    for term in selector.terms:
        m |= node_selector_term_mask(table, term)
    return m


def required_node_affinity_mask(table: NodeTable, required: RequiredNodeAffinity) -> np.ndarray:
    """``RequiredNodeAffinity.Match``: every ``nodeSelector`` label, then the required terms."""
    m = np.ones(table.n, dtype=bool)
    for key, value in required.node_selector.items():
        m &= label_equals_mask(table, key, value)
    if required.affinity is not None:
        m &= node_selector_mask(table, required.affinity)
    return m


def preferred_terms_score(table: NodeTable, terms: PreferredSchedulingTerms, rows: np.ndarray) -> np.ndarray:
    """``PreferredSchedulingTerms.Score`` of the given nodes: the weights of matching terms."""
    score = np.zeros(len(rows), dtype=np.int64)
    for term, weight in terms.terms:
        score += weight * node_selector_term_mask(table, term)[rows]
    return score


class ArrayNodeAffinity(OwnPreFilter):
    """PreFilter (the plugin's own), Filter, PreScore (the plugin's own), Score, NormalizeScore."""

    PLUGIN = NodeAffinity
    def filter(self, cycle: PodCycle) -> FilterOutcome | None:
        table = cycle.table
        codes = np.zeros(table.n, dtype=int)
        try:
            required = cycle.state.read(PRE_FILTER_STATE_KEY)
        except NotFoundError:  # PreFilter disabled
            required = RequiredNodeAffinity(cycle.pod)
        codes[~required_node_affinity_mask(table, required)] = 2
        if self.plugin.added_node_selector is not None:
            codes[~node_selector_mask(table, self.plugin.added_node_selector)] = 1
        return FilterOutcome(codes, lambda code: Status.of(Code.UNSCHEDULABLE_AND_UNRESOLVABLE,
                                                           ERR_REASON_ENFORCED if code == 1 else ERR_REASON_POD))

    def pre_score(self, cycle: PodCycle, rows: np.ndarray) -> Status | None:
        return self.plugin.pre_score(cycle.state, cycle.pod, cycle.nodes)

    def score(self, cycle: PodCycle, rows: np.ndarray) -> np.ndarray:
        table = cycle.table
        score = np.zeros(len(rows), dtype=np.int64)
        if self.plugin.added_pref_sched_terms is not None:
            score += preferred_terms_score(table, self.plugin.added_pref_sched_terms, rows)
        preferred = cycle.state.read(PRE_SCORE_STATE_KEY)
        if preferred is not None:
            score += preferred_terms_score(table, preferred, rows)
        return score

    def normalize_score(self, cycle: PodCycle, rows: np.ndarray, scores: np.ndarray) -> np.ndarray:
        return default_normalize_score(MAX_NODE_SCORE, False, scores)
