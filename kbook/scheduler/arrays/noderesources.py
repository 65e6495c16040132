"""NodeResourcesFit and NodeResourcesBalancedAllocation over all nodes
(:mod:`kbook.scheduler.plugins.noderesources`): the Filter's insufficient resources as
bits per node, and the three scoring strategies and the balance score with the same Go
integer and float64 steps as the per-node scorers."""

from __future__ import annotations

import numpy as np

from kbook.api.resource_names import is_extended_resource_name
from kbook.scheduler.arrays.cycle import ArrayForm, FilterOutcome, OwnPreFilter, PodCycle, go_div, go_round
from kbook.scheduler.arrays.table import NodeTable
from kbook.scheduler.plugins.noderesources import balanced_allocation, fit
from kbook.scheduler.plugins.noderesources.resource_allocation import ResourceAllocationScorer
from kbook.scheduler.plugins.noderesources.requested_to_capacity_ratio import MAX_UTILIZATION
from kbook.scheduler.status import MAX_NODE_SCORE, Code, Status
from kbook.scheduler.types import is_scalar_resource_name

__all__ = ["ArrayFit", "ArrayBalancedAllocation", "allocatable_requested"]

_UNRESOLVABLE_BIT = 62  # newer upstream: some request alone exceeds the node


def allocatable_requested(table: NodeTable, scorer: ResourceAllocationScorer, pod_requests: list[int],
                          rows: np.ndarray) -> list[tuple[np.ndarray, np.ndarray] | None]:
    """``calculateResourceAllocatableRequest`` for each configured resource over the given
    nodes: (allocatable, requested with the pod), or None for a scalar resource the pod
    does not request (upstream's (0, 0), skipped like a node without the resource)."""
    out: list[tuple[np.ndarray, np.ndarray] | None] = []
    for spec, pod_request in zip(scorer.resources, pod_requests):
        name = spec.name
        if pod_request == 0 and is_scalar_resource_name(name):
            out.append(None)
        elif name == "cpu":
            used = table.req_cpu if scorer.use_requested else table.nz_cpu
            out.append((table.alloc_cpu[rows], used[rows] + pod_request))
        elif name == "memory":
            used = table.req_mem if scorer.use_requested else table.nz_mem
            out.append((table.alloc_mem[rows], used[rows] + pod_request))
        elif name == "ephemeral-storage":
            out.append((table.alloc_eph[rows], table.req_eph[rows] + pod_request))
        else:  # a scalar resource; a node without it (or a name no node can have) has 0
            alloc, used = table.scalar(name)
            out.append((alloc[rows], used[rows] + pod_request))
    return out


def _least_allocated(alloc: np.ndarray, req: np.ndarray, safe: np.ndarray) -> np.ndarray:
    """``leastRequestedScore``."""
    return np.where(req > alloc, 0, go_div((alloc - req) * MAX_NODE_SCORE, safe))


def _most_allocated(alloc: np.ndarray, req: np.ndarray, safe: np.ndarray) -> np.ndarray:
    """``mostRequestedScore``."""
    return go_div(np.minimum(req, alloc) * MAX_NODE_SCORE, safe)


class ArrayFit(OwnPreFilter):
    """PreFilter (the plugin's own), Filter, PreScore (the plugin's own), Score."""

    PLUGIN = fit.Fit

    def __init__(self, plugin: fit.Fit) -> None:
        super().__init__(plugin)
        scorer = plugin.scorer
        self._rtcr_luts: list[np.ndarray] | None = None
        if scorer.scorer_name == fit.REQUESTED_TO_CAPACITY_RATIO:
            self._rtcr_luts = [self._shape_lut(scorer, i) for i in range(len(scorer.resources))]

    @staticmethod
    def _shape_lut(scorer: ResourceAllocationScorer, i: int) -> np.ndarray:
        """RequestedToCapacityRatio's score of resource ``i`` at each utilization 0..100, 0
        where it is not positive (such resources leave the mean): the per-node scorer
        asked with only that resource, at requested ``u`` of capacity 100."""
        n = len(scorer.resources)
        alloc = [100 if j == i else 0 for j in range(n)]
        return np.array([scorer.scorer([u if j == i else 0 for j in range(n)], alloc)
                         for u in range(MAX_UTILIZATION + 1)], dtype=np.int64)

    def supports(self, point: str) -> bool:
        """No array Score for a plugin without resources (the per-node one reports the error)."""
        return point != "score" or bool(self.plugin.scorer.resources)

    def filter(self, cycle: PodCycle) -> FilterOutcome | None:
        """``fitsRequest`` on every node: bit 0 too many pods, bits 1-3 cpu, memory,
        ephemeral-storage, then one bit per requested scalar resource in checking order."""
        table, plugin = cycle.table, self.plugin
        if not plugin.features.enable_sidecar_containers and any(c.is_sidecar for c in cycle.pod.spec.init_containers):
            return FilterOutcome(np.ones(table.n, dtype=np.int64),
                                 lambda _: Status.of(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, fit.ERR_REASON_SIDECAR))
        request = cycle.state.read(fit.PRE_FILTER_STATE_KEY)
        reasons = ["Too many pods"]
        insufficient: list[np.ndarray | None] = [table.free_pods < 1]  # len(pods) + 1 > allowed pods
        unresolvable: list[np.ndarray] = []
        if request.milli_cpu or request.memory or request.ephemeral_storage or request.scalar_resources:
            checks = [("cpu", request.milli_cpu, table.free_cpu, table.alloc_cpu),
                      ("memory", request.memory, table.free_mem, table.alloc_mem),
                      ("ephemeral-storage", request.ephemeral_storage, table.free_eph, table.alloc_eph)]
            for name in sorted(request.scalar_resources):
                req = request.scalar_resources[name]
                if req == 0 or (is_extended_resource_name(name) and (
                        name in plugin.ignored_resources or name.split("/")[0] in plugin.ignored_resource_groups)):
                    continue
                alloc, used = table.scalar(name)
                checks.append((name, req, alloc - used, alloc))
            for j, (name, req, free, alloc) in enumerate(checks, start=1):
                reasons.append(f"Insufficient {name}")
                bad = req > free if req > 0 or j > 3 else None  # cpu, memory, storage: only if requested
                insufficient.append(bad)
                if bad is not None and plugin.features.newer_upstream:
                    unresolvable.append(bad & (req > alloc))
        if not any(bad is not None and bad.any() for bad in insufficient):
            return None
        bits = np.zeros(table.n, dtype=np.int64)
        for j, bad in enumerate(insufficient):
            if bad is not None:
                bits |= bad.astype(np.int64) << j
        for bad in unresolvable:
            bits |= bad.astype(np.int64) << _UNRESOLVABLE_BIT

        def status(code: int) -> Status:
            failed = [reason for j, reason in enumerate(reasons) if code >> j & 1]
            code_of = Code.UNSCHEDULABLE_AND_UNRESOLVABLE if code >> _UNRESOLVABLE_BIT & 1 else Code.UNSCHEDULABLE
            return Status.of(code_of, *failed)

        return FilterOutcome(bits, status)

    def pre_score(self, cycle: PodCycle, rows: np.ndarray) -> Status | None:
        return self.plugin.pre_score(cycle.state, cycle.pod, cycle.nodes)

    def score(self, cycle: PodCycle, rows: np.ndarray) -> np.ndarray:
        """The configured strategy's weighted integer mean over the resources each node has
        (floor division where every operand is known non-negative, Go's otherwise)."""
        scorer = self.plugin.scorer
        per_resource = allocatable_requested(cycle.table, scorer, cycle.state.read(fit.PRE_SCORE_STATE_KEY), rows)
        node_score = np.zeros(len(rows), dtype=np.int64)
        weight_sum: int | np.ndarray = 0
        for i, (spec, pair) in enumerate(zip(scorer.resources, per_resource)):
            if pair is None:
                continue
            alloc, req = pair
            everywhere = bool(alloc.min(initial=1) > 0 and req.min(initial=0) >= 0)
            div = np.floor_divide if everywhere else go_div
            safe = alloc if everywhere else np.where(alloc != 0, alloc, 1)
            if self._rtcr_luts is not None:
                utilization = np.where(req > alloc, MAX_UTILIZATION, div(req * MAX_UTILIZATION, safe))
                s = self._rtcr_luts[i][np.clip(utilization, 0, MAX_UTILIZATION)]
                counted: np.ndarray | None = (alloc != 0) & (s > 0)
            else:
                if scorer.scorer_name == fit.MOST_ALLOCATED:  # mostRequestedScore
                    s = div(np.minimum(req, alloc) * MAX_NODE_SCORE, safe)
                else:  # leastRequestedScore
                    s = np.where(req > alloc, 0, div((alloc - req) * MAX_NODE_SCORE, safe))
                counted = None if everywhere else alloc != 0
            if counted is None:
                node_score += s * spec.weight
                weight_sum = weight_sum + spec.weight
            else:
                node_score += np.where(counted, s * spec.weight, 0)
                weight_sum = weight_sum + np.where(counted, spec.weight, 0)
        if isinstance(weight_sum, int) and weight_sum > 0 and self._rtcr_luts is None and node_score.min() >= 0:
            return node_score // weight_sum
        none = np.asarray(weight_sum) == 0
        safe_sum = np.where(none, 1, weight_sum)
        if self._rtcr_luts is not None:
            mean = go_round(node_score.astype(np.float64) / safe_sum.astype(np.float64))
        else:
            mean = go_div(node_score, safe_sum)
        return np.where(none, 0, mean)


class ArrayBalancedAllocation(ArrayForm):
    """PreScore (the plugin's own) and Score."""

    PLUGIN = balanced_allocation.BalancedAllocation

    def supports(self, point: str) -> bool:
        """No array Score for a plugin without resources (the per-node one reports the error)."""
        return point != "score" or bool(self.plugin.scorer.resources)

    def pre_score(self, cycle: PodCycle, rows: np.ndarray) -> Status | None:
        return self.plugin.pre_score(cycle.state, cycle.pod, cycle.nodes)

    def score(self, cycle: PodCycle, rows: np.ndarray) -> np.ndarray:
        """``balancedResourceScorer``: fractions capped at 1, accumulated in resource order;
        two give ``|f0 - f1| / 2``, more the population standard deviation."""
        scorer = self.plugin.scorer
        per_resource = allocatable_requested(cycle.table, scorer,
                                             cycle.state.read(balanced_allocation.PRE_SCORE_STATE_KEY), rows)
        n = len(rows)
        fractions: list[tuple[np.ndarray, np.ndarray]] = []
        for pair in per_resource:
            if pair is None:
                continue
            alloc, req = pair
            has = alloc != 0
            f = np.minimum(req.astype(np.float64) / np.where(has, alloc, 1).astype(np.float64), 1.0)
            fractions.append((has, f))
        if len(fractions) == 2 and fractions[0][0].all() and fractions[1][0].all():  # every node has both
            std = np.abs((fractions[0][1] - fractions[1][1]) / 2)
            return ((1 - std) * MAX_NODE_SCORE).astype(np.int64)
        count = np.zeros(n, dtype=np.int64)
        total = np.zeros(n)
        first = np.zeros(n)
        second = np.zeros(n)
        for has, f in fractions:
            first = np.where(has & (count == 0), f, first)
            second = np.where(has & (count == 1), f, second)
            total = total + np.where(has, f, 0.0)
            count += has
        std = np.where(count == 2, np.abs((first - second) / 2), 0.0)
        many = count > 2
        if many.any():
            mean = total / np.where(many, count, 1)
            square_sum = np.zeros(n)
            for has, f in fractions:
                square_sum = square_sum + np.where(has, (f - mean) * (f - mean), 0.0)
            std = np.where(many, np.sqrt(square_sum / np.where(many, count, 1)), std)
        return ((1 - std) * MAX_NODE_SCORE).astype(np.int64)
