"""``resourceAllocationScorer`` (noderesources/resource_allocation.go): what the resource
score plugins share. Per configured resource it finds the node's allocatable amount and
what would be requested with the pod, then hands both lists to a strategy's scorer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from kbook.api import Pod, pod_requests
from kbook.errors import FieldError
from kbook.quantity import Quantity
from kbook.scheduler.plugins.helper import config_error, int_arg
from kbook.scheduler.status import Code, Status
from kbook.scheduler.types import (
    DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST, NodeInfo, is_scalar_resource_name,
)

__all__ = [
    "ResourceSpec",
    "DEFAULT_RESOURCE_SPEC",
    "ResourceAllocationScorer",
    "Scorer",
    "parse_resources",
    "validate_resources",
]

# NonMissingContainerRequests: what scoring assumes a container asks for when it is silent.
_NON_ZERO_REQUESTS = {"cpu": Quantity.from_milli(DEFAULT_MILLI_CPU_REQUEST),
                      "memory": Quantity.from_int(DEFAULT_MEMORY_REQUEST)}


@dataclass(frozen=True)
class ResourceSpec:
    """``config.ResourceSpec``: a resource name and its weight in the score."""

    name: str
    weight: int


DEFAULT_RESOURCE_SPEC = (ResourceSpec("cpu", 1), ResourceSpec("memory", 1))  # v1 defaults.go

# A strategy's scorer: (requested, allocatable) per configured resource -> node score.
Scorer = Callable[[list[int], list[int]], int]


class ResourceAllocationScorer:
    """``resourceAllocationScorer``: ``use_requested`` picks ``NodeInfo.requested`` for cpu
    and memory (BalancedAllocation) instead of ``non_zero_requested`` (the Fit strategies)."""

    def __init__(self, name: str, scorer: Scorer, resources: Sequence[ResourceSpec], *,
                 use_requested: bool = False) -> None:
        self.scorer_name = name
        self.scorer = scorer
        self.resources = tuple(resources)
        self.use_requested = use_requested

    def score(self, pod: Pod, node_info: NodeInfo, pod_requests: Sequence[int]) -> tuple[int, Status | None]:
        """``resourceAllocationScorer.score``: resources the node does not have (allocatable
        0) keep zeros, which the scorers skip."""
        if node_info.node is None:
            return 0, Status.of(Code.ERROR, "node not found")
        if not self.resources:
            return 0, Status.of(Code.ERROR, "resources not found")
        requested = [0] * len(self.resources)
        allocatable = [0] * len(self.resources)
        for i, spec in enumerate(self.resources):
            alloc, req = self.calculate_resource_allocatable_request(node_info, spec.name, pod_requests[i])
            if alloc == 0:
                continue
            allocatable[i], requested[i] = alloc, req
        return self.scorer(requested, allocatable), None

    def calculate_resource_allocatable_request(self, node_info: NodeInfo, resource: str,
                                               pod_request: int) -> tuple[int, int]:
        """``calculateResourceAllocatableRequest``: (allocatable, requested with the pod);
        (0, 0) for a scalar resource the pod does not request or the node does not have."""
        requested = node_info.requested if self.use_requested else node_info.non_zero_requested
        if pod_request == 0 and is_scalar_resource_name(resource):
            return 0, 0
        if resource == "cpu":
            return node_info.allocatable.milli_cpu, requested.milli_cpu + pod_request
        if resource == "memory":
            return node_info.allocatable.memory, requested.memory + pod_request
        if resource == "ephemeral-storage":
            return node_info.allocatable.ephemeral_storage, node_info.requested.ephemeral_storage + pod_request
        if resource in node_info.allocatable.scalar_resources:
            return (node_info.allocatable.scalar_resources[resource],
                    node_info.requested.scalar_resources.get(resource, 0) + pod_request)
        return 0, 0

    def calculate_pod_resource_request_list(self, pod: Pod) -> list[int]:
        """``calculatePodResourceRequestList``: the pod's request of each configured resource,
        with the non-zero defaults for cpu and memory unless ``use_requested``."""
        requests = pod_requests(pod, non_missing=None if self.use_requested else _NON_ZERO_REQUESTS)
        out = []
        for spec in self.resources:
            q = requests.get(spec.name)
            out.append(0 if q is None else q.milli_value() if spec.name == "cpu" else q.value())
        return out


def parse_resources(value: Any, path: str) -> list[ResourceSpec]:
    """A ``resources`` list of ``{name, weight}`` from plugin args; a missing weight is 1
    (the v1 default), an explicit one is kept for validation."""
    if not isinstance(value, list):
        raise config_error([FieldError.invalid(path, value, "must be a list of {name, weight}")])
    specs = []
    for i, item in enumerate(value):
        if not isinstance(item, dict) or not isinstance(item.get("name", ""), str):
            raise config_error([FieldError.invalid(f"{path}[{i}]", item, "must be {name, weight}")])
        specs.append(ResourceSpec(item.get("name", ""), int_arg(item.get("weight", 1), f"{path}[{i}].weight")))
    return specs


def validate_resources(resources: Sequence[ResourceSpec], path: str) -> list[FieldError]:
    """``validateResources`` (validation_pluginargs.go): weights in (0, 100]."""
    return [FieldError.invalid(f"{path}[{i}].weight", r.weight,
                               f"resource weight of {r.name} not in valid range (0, 100]")
            for i, r in enumerate(resources) if r.weight <= 0 or r.weight > 100]
