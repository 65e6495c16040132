"""The ``LeastAllocated`` scoring strategy (noderesources/least_allocated.go): favour nodes
with the most room left, ``(capacity - requested) * 100 / capacity`` per resource,
averaged by weight."""

from __future__ import annotations

from typing import Sequence

from kbook.scheduler.plugins.helper import go_div
from kbook.scheduler.plugins.noderesources.resource_allocation import ResourceSpec, Scorer
from kbook.scheduler.status import MAX_NODE_SCORE

__all__ = ["least_resource_scorer", "least_requested_score"]


def least_resource_scorer(resources: Sequence[ResourceSpec]) -> Scorer:
    """``leastResourceScorer``: the weighted integer mean over resources the node has."""

    def scorer(requested: list[int], allocatable: list[int]) -> int:
        node_score = weight_sum = 0
        for i, req in enumerate(requested):
            if allocatable[i] == 0:
                continue
            node_score += least_requested_score(req, allocatable[i]) * resources[i].weight
            weight_sum += resources[i].weight
        return 0 if weight_sum == 0 else go_div(node_score, weight_sum)

    return scorer


def least_requested_score(requested: int, capacity: int) -> int:
    """``leastRequestedScore``: 0 when over capacity."""
    if capacity == 0 or requested > capacity:
        return 0
    return go_div((capacity - requested) * MAX_NODE_SCORE, capacity)
