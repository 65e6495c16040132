"""DefaultPreemption (``pkg/scheduler/framework/plugins/defaultpreemption/default_preemption.go``,
Kubernetes v1.28): the PostFilter plugin that, when no node fits a pod, evicts lower-priority
pods from one node so that the pod fits there, and nominates that node.

PodDisruptionBudgets are not modelled: no victim ever violates one, so the PDB tie-break
and the violating-first reprieve order are inert (every count is 0).
"""

from __future__ import annotations

from functools import cmp_to_key
from typing import Any, Callable, Mapping, Sequence

from kbook.api import Pod
from kbook.errors import FieldError
from kbook.scheduler.cyclestate import CycleState
from kbook.scheduler.interface import Handle
from kbook.scheduler.plugins.defaultpreemption.preemption import (
    DISRUPTION_TARGET, ERR_NO_VICTIMS, POD_REASON_PREEMPTION_BY_SCHEDULER, Candidate, Evaluator, Victims,
    more_important_pod,
)
from kbook.scheduler.plugins.helper import config_error, int_arg
from kbook.scheduler.status import Code, Status, code_of, is_success
from kbook.scheduler.types import NodeInfo, PodInfo, PostFilterResult, pod_priority

__all__ = [
    "NAME",
    "DEFAULT_MIN_CANDIDATE_NODES_PERCENTAGE",
    "DEFAULT_MIN_CANDIDATE_NODES_ABSOLUTE",
    "PREEMPT_NEVER",
    "DefaultPreemption",
    "pod_terminating_by_preemption",
    "new",
]

NAME = "DefaultPreemption"
DEFAULT_MIN_CANDIDATE_NODES_PERCENTAGE = 10  # apis/config/v1/defaults.go
DEFAULT_MIN_CANDIDATE_NODES_ABSOLUTE = 100
PREEMPT_NEVER = "Never"  # v1.PreemptNever


def pod_terminating_by_preemption(pod: Pod, enable_pod_disruption_conditions: bool) -> bool:
    """``podTerminatingByPreemption``: the pod is being deleted and, with
    PodDisruptionConditions (beta, on in v1.28), its ``DisruptionTarget`` condition says the
    scheduler preempted it."""
    if pod.metadata.deletion_timestamp is None:
        return False
    if not enable_pod_disruption_conditions:
        return True
    for condition in pod.status.conditions:
        if condition.type == DISRUPTION_TARGET:
            return condition.status == "True" and condition.reason == POD_REASON_PREEMPTION_BY_SCHEDULER
    return False


def _importance_order(a: PodInfo, b: PodInfo) -> int:
    if more_important_pod(a.pod, b.pod):
        return -1
    if more_important_pod(b.pod, a.pod):
        return 1
    return 0


class DefaultPreemption:
    """``DefaultPreemption``: the PostFilter plugin and the ``preemption.Interface`` its
    :class:`Evaluator` calls back."""

    name = NAME

    def __init__(self, handle: Handle, min_candidate_nodes_percentage: int = DEFAULT_MIN_CANDIDATE_NODES_PERCENTAGE,
                 min_candidate_nodes_absolute: int = DEFAULT_MIN_CANDIDATE_NODES_ABSOLUTE,
                 enable_pod_disruption_conditions: bool = True) -> None:
        self.handle = handle
        self.min_candidate_nodes_percentage = min_candidate_nodes_percentage
        self.min_candidate_nodes_absolute = min_candidate_nodes_absolute
        self.enable_pod_disruption_conditions = enable_pod_disruption_conditions

    def post_filter(self, state: CycleState, pod: Pod,
                    filtered_node_status_map: Mapping[str, Status]) -> tuple[PostFilterResult | None, Status | None]:
        """``PostFilter``: run the Evaluator; its message gets the ``preemption: `` prefix."""
        result, status = Evaluator(NAME, self.handle, self, state).preempt(pod, filtered_node_status_map)
        if status.message():
            return result, Status.of(status.code, "preemption: " + status.message())
        return result, None if is_success(status) else status

    # -- preemption.Interface -----------------------------------------------------------

    def calculate_num_candidates(self, num_nodes: int) -> int:
        """``calculateNumCandidates``: ``minCandidateNodesPercentage`` of the nodes, at least
        ``minCandidateNodesAbsolute``, at most all of them."""
        n = num_nodes * self.min_candidate_nodes_percentage // 100
        n = max(n, self.min_candidate_nodes_absolute)
        return min(n, num_nodes)

    def get_offset_and_num_candidates(self, num_nodes: int) -> tuple[int, int]:
        """``GetOffsetAndNumCandidates``: a random start (``rand.Int31n``, from the handle's
        generator) and the window size."""
        return int(self.handle.rng.integers(num_nodes)), self.calculate_num_candidates(num_nodes)

    def candidates_to_victims_map(self, candidates: Sequence[Candidate]) -> dict[str, Victims]:
        """``CandidatesToVictimsMap``."""
        return {c.name: c.victims for c in candidates}

    def ordered_score_funcs(self, nodes_to_victims: Mapping[str, Victims]) -> list[Callable[[str], float]] | None:
        """``OrderedScoreFuncs``: none, so the default criteria apply."""
        return None

    def pod_eligible_to_preempt_others(self, pod: Pod, nominated_node_status: Status | None) -> tuple[bool, str]:
        """``PodEligibleToPreemptOthers``: not with ``preemptionPolicy: Never``, nor while a
        lower-priority pod on its nominated node is still terminating from an earlier
        preemption (unless that node now rejects the pod as unresolvable)."""
        if pod.spec.preemption_policy == PREEMPT_NEVER:
            return False, "not eligible due to preemptionPolicy=Never."
        nominated = pod.status.nominated_node_name
        if nominated:
            if code_of(nominated_node_status) == Code.UNSCHEDULABLE_AND_UNRESOLVABLE:
                return True, ""
            try:
                node_info = self.handle.snapshot.get(nominated)
            except KeyError:
                return True, ""
            priority = pod_priority(pod)
            for info in node_info.pods:
                if pod_priority(info.pod) < priority and pod_terminating_by_preemption(
                        info.pod, self.enable_pod_disruption_conditions):
                    return False, "not eligible due to a terminating pod on the nominated node."
        return True, ""

    def select_victims_on_node(self, state: CycleState, pod: Pod, node_info: NodeInfo,
                               pdbs: Sequence[object]) -> tuple[list[Pod], int, Status | None]:
        """``SelectVictimsOnNode`` on copies of the node and the cycle state: remove every
        lower-priority pod; if the pod then passes the filters (nominated pods included),
        put the removed pods back one by one, most important first (``MoreImportantPod``),
        keeping each that still lets the pod fit. Those that do not fit are the victims."""

        def remove(info: PodInfo) -> str | None:
            if not node_info.remove_pod(info.pod):
                return f"no corresponding pod {info.pod.metadata.name} in pods of node {node_info.name}"
            status = self.handle.run_pre_filter_extension_remove_pod(state, pod, info, node_info)
            return None if is_success(status) else status.message()

        def add(info: PodInfo) -> str | None:
            node_info.add_pod(info)
            status = self.handle.run_pre_filter_extension_add_pod(state, pod, info, node_info)
            return None if is_success(status) else status.message()

        priority = pod_priority(pod)
        potential = [info for info in node_info.pods if pod_priority(info.pod) < priority]
        for info in potential:
            err = remove(info)
            if err is not None:
                return [], 0, Status.error(err)
        if not potential:
            return [], 0, Status.of(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_NO_VICTIMS)
        status = self.handle.run_filter_plugins_with_nominated_pods(state, pod, node_info)
        if not is_success(status):
            return [], 0, status
        # Stable: victims of equal importance keep the node's order (Go's sort.Slice does not).
        potential.sort(key=cmp_to_key(_importance_order))
        victims: list[Pod] = []
        # filterPodsWithPDBViolation: without PDBs every victim is non-violating.
        for info in potential:
            err = add(info)
            if err is not None:
                return [], 0, Status.error(err)
            if is_success(self.handle.run_filter_plugins_with_nominated_pods(state, pod, node_info)):
                continue
            err = remove(info)
            if err is not None:
                return [], 0, Status.error(err)
            victims.append(info.pod)
        return victims, 0, None


def new(args: dict[str, Any], handle: Handle) -> DefaultPreemption:
    """``New``: ``DefaultPreemptionArgs`` with the v1 defaults for missing keys, checked as
    ``ValidateDefaultPreemptionArgs``."""
    for key in args:
        if key not in ("minCandidateNodesPercentage", "minCandidateNodesAbsolute", "apiVersion", "kind"):
            raise config_error([f'unknown field "{key}"'])
    percentage = int_arg(args.get("minCandidateNodesPercentage", DEFAULT_MIN_CANDIDATE_NODES_PERCENTAGE),
                         "minCandidateNodesPercentage")
    absolute = int_arg(args.get("minCandidateNodesAbsolute", DEFAULT_MIN_CANDIDATE_NODES_ABSOLUTE),
                       "minCandidateNodesAbsolute")
    errs: list[FieldError] = []
    if percentage < 0 or percentage > 100:
        errs.append(FieldError.invalid("minCandidateNodesPercentage", percentage, "not in valid range [0, 100]"))
    if absolute < 0:
        errs.append(FieldError.invalid("minCandidateNodesAbsolute", absolute, "not in valid range [0, inf)"))
    if percentage == 0 and absolute == 0:
        errs.append(FieldError.invalid("minCandidateNodesPercentage", percentage,
                                       "cannot be zero at the same time as minCandidateNodesAbsolute"))
        errs.append(FieldError.invalid("minCandidateNodesAbsolute", absolute,
                                       "cannot be zero at the same time as minCandidateNodesPercentage"))
    if errs:
        raise config_error(errs)
    return DefaultPreemption(handle, percentage, absolute)
