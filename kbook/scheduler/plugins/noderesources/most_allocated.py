"""The ``MostAllocated`` scoring strategy (noderesources/most_allocated.go): favour the
fullest nodes (bin packing), ``requested * 100 / capacity`` per resource, averaged by weight."""

from __future__ import annotations

from typing import Sequence

from kbook.scheduler.plugins.helper import go_div
from kbook.scheduler.plugins.noderesources.resource_allocation import ResourceSpec, Scorer
from kbook.scheduler.status import MAX_NODE_SCORE

__all__ = ["most_resource_scorer", "most_requested_score"]


def most_resource_scorer(resources: Sequence[ResourceSpec]) -> Scorer:
    """``mostResourceScorer``: the weighted integer mean over resources the node has."""

    def scorer(requested: list[int], allocatable: list[int]) -> int:
        node_score = weight_sum = 0
        for i, req in enumerate(requested):
            if allocatable[i] == 0:
                continue
            node_score += most_requested_score(req, allocatable[i]) * resources[i].weight
            weight_sum += resources[i].weight
        return 0 if weight_sum == 0 else go_div(node_score, weight_sum)

    return scorer


def most_requested_score(requested: int, capacity: int) -> int:
    """``mostRequestedScore``: requests over capacity count as full (pods without requests
    get the non-zero defaults, so this happens)."""
    if capacity == 0:
        return 0
    return go_div(min(requested, capacity) * MAX_NODE_SCORE, capacity)
