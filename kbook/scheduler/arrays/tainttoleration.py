"""TaintToleration over all nodes (:mod:`kbook.scheduler.plugins.tainttoleration`): each
distinct taint is checked once against the pod's tolerations, then every node looks its
taints up -- the first untolerated NoSchedule/NoExecute taint rejects (Filter), untolerated
PreferNoSchedule taints are counted (Score)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from kbook.api import Toleration
from kbook.scheduler.arrays.cycle import ArrayForm, FilterOutcome, PodCycle, default_normalize_score
from kbook.scheduler.arrays.table import TaintTable
from kbook.scheduler.plugins.tainttoleration import PRE_SCORE_STATE_KEY, TaintToleration, tolerations_tolerate_taint
from kbook.scheduler.status import MAX_NODE_SCORE, Code, Status

__all__ = ["ArrayTaintToleration", "tolerated_taints"]


def tolerated_taints(taints: TaintTable, tolerations: Sequence[Toleration]) -> np.ndarray:
    """Whether the tolerations tolerate each distinct taint, plus a last ``True`` that the
    ``-1`` padding of the taint arrays indexes."""
    out = np.ones(len(taints.taints) + 1, dtype=bool)
    for i, taint in enumerate(taints.taints):
        out[i] = tolerations_tolerate_taint(tolerations, taint)
    return out


class ArrayTaintToleration(ArrayForm):
    """Filter, PreScore, Score, NormalizeScore."""

    PLUGIN = TaintToleration

    def filter(self, cycle: PodCycle) -> FilterOutcome | None:
        taints = cycle.table.taints
        hard = taints.hard
        if hard.shape[1] == 0:
            return None
        untolerated = ~tolerated_taints(taints, cycle.pod.spec.tolerations)[hard]
        rejected = untolerated.any(axis=1)
        if not rejected.any():
            return None
        first = hard[np.arange(len(hard)), untolerated.argmax(axis=1)]
        codes = np.where(rejected, first + 1, 0)

        def status(code: int) -> Status:
            t = taints.taints[code - 1]
            return Status.of(Code.UNSCHEDULABLE_AND_UNRESOLVABLE,
                             f"node(s) had untolerated taint {{{t.key}: {t.value}}}")

        return FilterOutcome(codes, status)

    def pre_score(self, cycle: PodCycle, rows: np.ndarray) -> Status | None:
        return self.plugin.pre_score(cycle.state, cycle.pod, cycle.nodes)

    def score(self, cycle: PodCycle, rows: np.ndarray) -> np.ndarray:
        taints = cycle.table.taints
        prefer = taints.prefer
        if prefer.shape[1] == 0:
            return np.zeros(len(rows), dtype=np.int64)
        tolerated = tolerated_taints(taints, cycle.state.read(PRE_SCORE_STATE_KEY))
        return (~tolerated[prefer[rows]]).sum(axis=1, dtype=np.int64)

    def normalize_score(self, cycle: PodCycle, rows: np.ndarray, scores: np.ndarray) -> np.ndarray:
        return default_normalize_score(MAX_NODE_SCORE, True, scores)
