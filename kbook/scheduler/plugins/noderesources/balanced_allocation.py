"""NodeResourcesBalancedAllocation (noderesources/balanced_allocation.go): favour nodes
whose resources would be used evenly, ``(1 - std) * 100`` over the fractions requested
(v1.28's standard-deviation form; requests as they are, no non-zero defaults)."""

from __future__ import annotations

import math
from typing import Any, Sequence

from kbook.api import Pod
from kbook.errors import FieldError
from kbook.scheduler.cyclestate import CycleState, NotFoundError
from kbook.scheduler.interface import Handle
from kbook.scheduler.plugins.feature import V1_28, Features
from kbook.scheduler.plugins.helper import config_error
from kbook.scheduler.plugins.noderesources.resource_allocation import (
    DEFAULT_RESOURCE_SPEC, ResourceAllocationScorer, parse_resources,
)
from kbook.scheduler.status import MAX_NODE_SCORE, Code, Status
from kbook.scheduler.types import NodeInfo

__all__ = ["NAME", "BalancedAllocation", "balanced_resource_scorer", "new"]

NAME = "NodeResourcesBalancedAllocation"
PRE_SCORE_STATE_KEY = "PreScore" + NAME


def balanced_resource_scorer(requested: list[int], allocatable: list[int]) -> int:
    """``balancedResourceScorer``: fractions capped at 1; two resources give
    ``|f0 - f1| / 2``, more give the population standard deviation; truncated."""
    fractions = [min(float(req) / float(alloc), 1.0) for req, alloc in zip(requested, allocatable) if alloc != 0]
    std = 0.0
    if len(fractions) == 2:
        std = abs((fractions[0] - fractions[1]) / 2)
    elif len(fractions) > 2:
        total = 0.0
        for f in fractions:  # accumulate in order, as Go does
            total += f
        mean = total / len(fractions)
        square_sum = 0.0
        for f in fractions:
            square_sum = square_sum + (f - mean) * (f - mean)
        std = math.sqrt(square_sum / len(fractions))
    return int((1 - std) * MAX_NODE_SCORE)


class BalancedAllocation:
    """``BalancedAllocation``: PreScore and Score."""

    name = NAME

    def __init__(self, scorer: ResourceAllocationScorer, features: Features = V1_28) -> None:
        self.scorer = scorer
        self.features = features

    def pre_score(self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]) -> Status | None:
        """Store the pod's requests; newer upstream skips a pod that requests nothing
        (kubernetes#129138), so best-effort pods do not pile onto one node."""
        requests = self.scorer.calculate_pod_resource_request_list(pod)
        if self.features.newer_upstream and not any(requests):
            return Status.of(Code.SKIP)
        state.write(PRE_SCORE_STATE_KEY, requests)
        return None

    def score(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> tuple[int, Status | None]:
        """The balance score; computes the requests itself when PreScore did not run."""
        try:
            requests = state.read(PRE_SCORE_STATE_KEY)
        except NotFoundError:
            requests = self.scorer.calculate_pod_resource_request_list(pod)
        return self.scorer.score(pod, node_info, requests)


def new(args: dict[str, Any], handle: Handle | None, features: Features = V1_28) -> BalancedAllocation:
    """``NewBalancedAllocation``: ``resources`` default to cpu and memory; checked as
    ``ValidateNodeResourcesBalancedAllocationArgs`` (no duplicates, every weight 1)."""
    resources = (list(DEFAULT_RESOURCE_SPEC) if "resources" not in args
                 else parse_resources(args["resources"], "resources"))
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, r in enumerate(resources):
        if r.name in seen:
            errs.append(FieldError.duplicate(f"resources[{i}].name", r.name))
        seen.add(r.name)
        if r.weight != 1:
            errs.append(FieldError.invalid(f"resources[{i}].weight", r.weight, "must be 1"))
    if errs:
        raise config_error(errs)
    return BalancedAllocation(ResourceAllocationScorer(NAME, balanced_resource_scorer, resources, use_requested=True),
                              features)
