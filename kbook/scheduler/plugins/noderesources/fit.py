"""NodeResourcesFit (noderesources/fit.go): the Filter that keeps pods off nodes without
room for their requests, and the Score that ranks nodes by one of three strategies
(LeastAllocated, MostAllocated, RequestedToCapacityRatio)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from kbook.api import Pod
from kbook.api.formats import is_qualified_name
from kbook.api.resource_names import is_extended_resource_name
from kbook.errors import FieldError
from kbook.scheduler.cyclestate import CycleState, NotFoundError
from kbook.scheduler.interface import Handle
from kbook.scheduler.plugins.feature import V1_28, Features
from kbook.scheduler.plugins.helper import config_error
from kbook.scheduler.plugins.noderesources.least_allocated import least_resource_scorer
from kbook.scheduler.plugins.noderesources.most_allocated import most_resource_scorer
from kbook.scheduler.plugins.noderesources.requested_to_capacity_ratio import (
    UtilizationShapePoint, parse_shape, requested_to_capacity_ratio_scorer, validate_function_shape,
)
from kbook.scheduler.plugins.noderesources.resource_allocation import (
    DEFAULT_RESOURCE_SPEC, ResourceAllocationScorer, parse_resources, validate_resources,
)
from kbook.scheduler.status import Code, Status
from kbook.scheduler.types import NodeInfo, PreFilterResult, Resource, pod_resource_request

__all__ = [
    "NAME",
    "LEAST_ALLOCATED",
    "MOST_ALLOCATED",
    "REQUESTED_TO_CAPACITY_RATIO",
    "InsufficientResource",
    "Fit",
    "fits_request",
    "fits",
    "new",
]

NAME = "NodeResourcesFit"
PRE_FILTER_STATE_KEY = "PreFilter" + NAME
PRE_SCORE_STATE_KEY = "PreScore" + NAME

# config.ScoringStrategyType
LEAST_ALLOCATED = "LeastAllocated"
MOST_ALLOCATED = "MostAllocated"
REQUESTED_TO_CAPACITY_RATIO = "RequestedToCapacityRatio"
SUPPORTED_SCORING_STRATEGY_TYPES = (LEAST_ALLOCATED, MOST_ALLOCATED, REQUESTED_TO_CAPACITY_RATIO)

ERR_REASON_SIDECAR = "Pod has a restartable init container and the SidecarContainers feature is disabled"


@dataclass(frozen=True)
class InsufficientResource:
    """``InsufficientResource``: which resource does not fit, and by how much.
    ``unresolvable`` (newer upstream): the request alone exceeds the node's allocatable."""

    resource_name: str
    reason: str
    requested: int
    used: int
    capacity: int
    unresolvable: bool = False


def fits_request(pod_request: Resource, node_info: NodeInfo, ignored_extended_resources: frozenset[str] = frozenset(),
                 ignored_resource_groups: frozenset[str] = frozenset()) -> list[InsufficientResource]:
    """``fitsRequest``: too many pods first, then cpu, memory, ephemeral-storage and each
    requested scalar resource whose request exceeds what is left (``req > alloc - used``)."""
    out: list[InsufficientResource] = []
    alloc, used = node_info.allocatable, node_info.requested
    if len(node_info.pods) + 1 > alloc.allowed_pod_number:
        out.append(InsufficientResource("pods", "Too many pods", 1, len(node_info.pods), alloc.allowed_pod_number))
    if (pod_request.milli_cpu == 0 and pod_request.memory == 0 and pod_request.ephemeral_storage == 0
            and not pod_request.scalar_resources):
        return out
    for name, req, have, cap in (("cpu", pod_request.milli_cpu, used.milli_cpu, alloc.milli_cpu),
                                 ("memory", pod_request.memory, used.memory, alloc.memory),
                                 ("ephemeral-storage", pod_request.ephemeral_storage,
                                  used.ephemeral_storage, alloc.ephemeral_storage)):
        if req > 0 and req > cap - have:
            out.append(InsufficientResource(name, f"Insufficient {name}", req, have, cap, req > cap))
    for name in sorted(pod_request.scalar_resources):  # Go ranges over a map: any order
        req = pod_request.scalar_resources[name]
        if req == 0:
            continue
        if is_extended_resource_name(name) and (
                name in ignored_extended_resources or name.split("/")[0] in ignored_resource_groups):
            continue
        have, cap = used.scalar_resources.get(name, 0), alloc.scalar_resources.get(name, 0)
        if req > cap - have:
            out.append(InsufficientResource(name, f"Insufficient {name}", req, have, cap, req > cap))
    return out


def fits(pod: Pod, node_info: NodeInfo) -> list[InsufficientResource]:
    """``Fits``: what does not fit, with no resources ignored (used by preemption)."""
    return fits_request(pod_resource_request(pod), node_info)


def _has_restartable_init_container(pod: Pod) -> bool:
    """``hasRestartableInitContainer``."""
    return any(c.is_sidecar for c in pod.spec.init_containers)


class Fit:
    """``Fit``: PreFilter, Filter, PreScore and Score of NodeResourcesFit."""

    name = NAME

    def __init__(self, ignored_resources: Sequence[str], ignored_resource_groups: Sequence[str],
                 scorer: ResourceAllocationScorer, features: Features = V1_28) -> None:
        self.ignored_resources = frozenset(ignored_resources)
        self.ignored_resource_groups = frozenset(ignored_resource_groups)
        self.scorer = scorer
        self.features = features

    def pre_filter(self, state: CycleState, pod: Pod) -> tuple[PreFilterResult | None, Status | None]:
        """Store ``computePodResourceRequest`` (no non-zero defaults) for Filter."""
        state.write(PRE_FILTER_STATE_KEY, pod_resource_request(pod))
        return None, None

    def pre_filter_extensions(self) -> None:
        return None

    def filter(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Status | None:
        """Every insufficient resource is a reason; ``Unschedulable`` (so preemption may
        help) unless newer upstream finds a request larger than the whole node."""
        if not self.features.enable_sidecar_containers and _has_restartable_init_container(pod):
            return Status.of(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_REASON_SIDECAR)
        try:
            request = state.read(PRE_FILTER_STATE_KEY)
        except NotFoundError as e:
            return Status.error(f'error reading "{PRE_FILTER_STATE_KEY}" from cycleState: {e}')
        insufficient = fits_request(request, node_info, self.ignored_resources, self.ignored_resource_groups)
        if not insufficient:
            return None
        unresolvable = self.features.newer_upstream and any(r.unresolvable for r in insufficient)
        code = Code.UNSCHEDULABLE_AND_UNRESOLVABLE if unresolvable else Code.UNSCHEDULABLE
        return Status.of(code, *(r.reason for r in insufficient))

    def pre_score(self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]) -> Status | None:
        """Store the pod's request of each scored resource (with the non-zero defaults)."""
        state.write(PRE_SCORE_STATE_KEY, self.scorer.calculate_pod_resource_request_list(pod))
        return None

    def score(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> tuple[int, Status | None]:
        """The strategy's score; computes the requests itself when PreScore did not run."""
        try:
            requests = state.read(PRE_SCORE_STATE_KEY)
        except NotFoundError:
            requests = self.scorer.calculate_pod_resource_request_list(pod)
        return self.scorer.score(pod, node_info, requests)


def _validate_label_names(names: Sequence[str], path: str) -> list[FieldError]:
    """``metav1validation.ValidateLabelName`` for each name: one error per message."""
    return [FieldError.invalid(f"{path}[{i}]", name, msg)
            for i, name in enumerate(names) for msg in is_qualified_name(name)]


def _string_list(args: dict[str, Any], key: str) -> list[str]:
    value = args.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise config_error([FieldError.invalid(key, value, "must be a list of strings")])
    return value


def new(args: dict[str, Any], handle: Handle | None, features: Features = V1_28) -> Fit:
    """``NewFit``: ``NodeResourcesFitArgs`` with the v1 defaults for missing keys (LeastAllocated
    on cpu and memory, weight 1), checked as ``ValidateNodeResourcesFitArgs``."""
    ignored = _string_list(args, "ignoredResources")
    groups = _string_list(args, "ignoredResourceGroups")
    strategy = args.get("scoringStrategy")
    if strategy is None:
        strategy = {"type": LEAST_ALLOCATED}
    if not isinstance(strategy, dict):
        raise config_error([FieldError.invalid("scoringStrategy", strategy, "must be an object")])
    strategy_type = strategy.get("type", "")
    resources = (list(DEFAULT_RESOURCE_SPEC) if "resources" not in strategy
                 else parse_resources(strategy["resources"], "scoringStrategy.resources"))
    rtcr = strategy.get("requestedToCapacityRatio")

    errs = _validate_label_names(ignored, "ignoredResources")
    for i, group in enumerate(groups):
        if "/" in group:
            errs.append(FieldError.invalid(f"ignoredResourceGroups[{i}]", group,
                                           "resource group name can't contain '/'"))
        errs += [FieldError.invalid(f"ignoredResourceGroups[{i}]", group, msg) for msg in is_qualified_name(group)]
    if strategy_type not in SUPPORTED_SCORING_STRATEGY_TYPES:
        errs.append(FieldError.not_supported("scoringStrategy.type", strategy_type,
                                             list(SUPPORTED_SCORING_STRATEGY_TYPES)))
    errs += validate_resources(resources, "scoringStrategy.resources")
    shape: list[UtilizationShapePoint] = []
    if rtcr is not None:  # v1.28 checks a shape wherever one is given
        if not isinstance(rtcr, dict):
            raise config_error([FieldError.invalid("scoringStrategy.requestedToCapacityRatio", rtcr,
                                                   "must be an object")])
        shape = parse_shape(rtcr.get("shape", []), "scoringStrategy.shape")
        errs += validate_function_shape(shape, "scoringStrategy.shape")
    elif strategy_type == REQUESTED_TO_CAPACITY_RATIO:  # v1.28 would dereference nil; newer upstream's check
        errs.append(FieldError.required("scoringStrategy.requestedToCapacityRatio",
                                        "must be specified when type is RequestedToCapacityRatio"))
    if errs:
        raise config_error(errs)

    if strategy_type == LEAST_ALLOCATED:
        scorer = least_resource_scorer(resources)
    elif strategy_type == MOST_ALLOCATED:
        scorer = most_resource_scorer(resources)
    else:
        scorer = requested_to_capacity_ratio_scorer(resources, shape)
    return Fit(ignored, groups, ResourceAllocationScorer(strategy_type, scorer, resources), features)
