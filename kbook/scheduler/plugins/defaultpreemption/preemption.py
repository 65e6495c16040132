"""The preemption ``Evaluator`` (``pkg/scheduler/framework/preemption/preemption.go``,
Kubernetes v1.28) and the pod-ordering helpers it relies on (``pkg/scheduler/util/utils.go``).

``Evaluator.preempt`` runs the steps of ``Preempt``: check the preemptor may preempt,
dry-run preemption on the nodes where it might help (a window starting at a random offset),
pick one candidate node, delete its victims and clear the nominations of lower-priority pods
there, and return the node to nominate. The plugin-specific steps (eligibility, the window
size, victim selection) come from the :class:`PreemptionInterface` the plugin implements.

Deterministic where upstream is parallel or random: nodes are dry-run one after another in
window order and the dry run stops as soon as enough candidates are found; ties in
``pickOneNodeForPreemption`` go to the first candidate in that order (upstream iterates a
map); the offset is drawn from the handle's seeded generator.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Mapping, Protocol, Sequence

from kbook.api import Pod, PodCondition
from kbook.errors import aggregate
from kbook.scheduler.cyclestate import CycleState
from kbook.scheduler.interface import Handle
from kbook.scheduler.status import Code, Status, code_of, is_success
from kbook.scheduler.types import Diagnosis, FitError, NodeInfo, PostFilterResult, pod_priority

__all__ = [
    "MAX_INT32",
    "DISRUPTION_TARGET",
    "POD_REASON_PREEMPTION_BY_SCHEDULER",
    "ERR_NO_VICTIMS",
    "ERR_NOT_HELPFUL",
    "Victims",
    "Candidate",
    "PreemptionInterface",
    "pod_start_time",
    "more_important_pod",
    "get_earliest_pod_start_time",
    "nodes_where_preemption_might_help",
    "pick_one_node_for_preemption",
    "Evaluator",
]

MAX_INT32 = 2**31 - 1  # math.MaxInt32
DISRUPTION_TARGET = "DisruptionTarget"  # v1.DisruptionTarget
POD_REASON_PREEMPTION_BY_SCHEDULER = "PreemptionByScheduler"  # v1.PodReasonPreemptionByScheduler
ERR_NO_VICTIMS = "No preemption victims found for incoming pod"
ERR_NOT_HELPFUL = "Preemption is not helpful for scheduling"


@dataclass
class Victims:
    """``extenderv1.Victims``: the pods to evict on a node, most important first, and how
    many of them a PodDisruptionBudget protects."""

    pods: list[Pod] = field(default_factory=list)
    num_pdb_violations: int = 0


@dataclass
class Candidate:
    """``preemption.Candidate``: a node the preemptor fits on once its victims are gone."""

    name: str
    victims: Victims


class PreemptionInterface(Protocol):
    """``preemption.Interface``: what a preemption plugin decides for the Evaluator."""

    def get_offset_and_num_candidates(self, num_nodes: int) -> tuple[int, int]: ...

    def candidates_to_victims_map(self, candidates: Sequence[Candidate]) -> dict[str, Victims]: ...

    def pod_eligible_to_preempt_others(self, pod: Pod, nominated_node_status: Status | None) -> tuple[bool, str]: ...

    def select_victims_on_node(self, state: CycleState, pod: Pod, node_info: NodeInfo,
                               pdbs: Sequence[object]) -> tuple[list[Pod], int, Status | None]: ...

    def ordered_score_funcs(self, nodes_to_victims: Mapping[str, Victims]) -> list[Callable[[str], float]] | None: ...


# -- pkg/scheduler/util/utils.go ---------------------------------------------------------


def pod_start_time(pod: Pod) -> float:
    """``GetPodStartTime``: ``status.startTime`` in seconds. A pod that has not started
    counts as starting now, later than any recorded start: ``math.inf`` here, so such pods
    tie with each other instead of comparing successive wall-clock readings."""
    start = pod.status.start_time
    if not start:
        return math.inf
    return datetime.fromisoformat(start.replace("Z", "+00:00")).timestamp()


def more_important_pod(pod1: Pod, pod2: Pod) -> bool:
    """``MoreImportantPod``: higher priority, or the same priority and started earlier."""
    p1, p2 = pod_priority(pod1), pod_priority(pod2)
    if p1 != p2:
        return p1 > p2
    return pod_start_time(pod1) < pod_start_time(pod2)


def get_earliest_pod_start_time(victims: Victims) -> float | None:
    """``GetEarliestPodStartTime``: the earliest start among the highest-priority victims."""
    if not victims.pods:
        return None
    earliest = pod_start_time(victims.pods[0])
    max_priority = pod_priority(victims.pods[0])
    for pod in victims.pods:
        priority = pod_priority(pod)
        if priority == max_priority:
            earliest = min(earliest, pod_start_time(pod))
        elif priority > max_priority:
            max_priority, earliest = priority, pod_start_time(pod)
    return earliest


# -- preemption.go -----------------------------------------------------------------------


def nodes_where_preemption_might_help(nodes: Sequence[NodeInfo], m: Mapping[str, Status]
                                      ) -> tuple[list[NodeInfo], dict[str, Status]]:
    """``nodesWherePreemptionMightHelp``: every node whose filter status is not
    ``UnschedulableAndUnresolvable`` (removing pods cannot fix those; they are reported as
    ``Preemption is not helpful for scheduling``)."""
    potential: list[NodeInfo] = []
    statuses: dict[str, Status] = {}
    for node in nodes:
        if code_of(m.get(node.name)) == Code.UNSCHEDULABLE_AND_UNRESOLVABLE:
            statuses[node.name] = Status.of(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_NOT_HELPFUL)
            continue
        potential.append(node)
    return potential, statuses


def _default_score_funcs(nodes_to_victims: Mapping[str, Victims]) -> list[Callable[[str], float]]:
    """``pickOneNodeForPreemption``'s default criteria, each a score where higher is better."""

    def min_num_pdb_violating(node: str) -> float:
        return -nodes_to_victims[node].num_pdb_violations

    def min_highest_priority(node: str) -> float:
        return -pod_priority(nodes_to_victims[node].pods[0])

    def min_sum_priorities(node: str) -> float:
        # MaxInt32+1 is added to every priority so that negative priorities do not make a
        # node with more victims look cheaper.
        return -sum(pod_priority(p) + MAX_INT32 + 1 for p in nodes_to_victims[node].pods)

    def min_num_pods(node: str) -> float:
        return -len(nodes_to_victims[node].pods)

    def latest_start_time(node: str) -> float:
        earliest = get_earliest_pod_start_time(nodes_to_victims[node])
        return -math.inf if earliest is None else earliest

    return [min_num_pdb_violating, min_highest_priority, min_sum_priorities, min_num_pods, latest_start_time]


def pick_one_node_for_preemption(nodes_to_victims: Mapping[str, Victims],
                                 score_funcs: Sequence[Callable[[str], float]] | None = None) -> str:
    """``pickOneNodeForPreemption``: fewest PDB violations, then the lowest highest-victim
    priority, the lowest sum of victim priorities, the fewest victims, the latest start
    among the highest-priority victims; a tie after all that goes to the first node."""
    if not nodes_to_victims:
        return ""
    candidates = list(nodes_to_victims)
    for f in score_funcs or _default_score_funcs(nodes_to_victims):
        best = -math.inf
        selected: list[str] = []
        for node in candidates:
            score = f(node)
            if score > best:
                best, selected = score, []
            if score == best:
                selected.append(node)
        if len(selected) == 1:
            return selected[0]
        candidates = selected
    return candidates[0]


def _go_quote(s: str) -> str:
    """Go's ``%q`` for a plain string."""
    return json.dumps(s, ensure_ascii=False)


class Evaluator:
    """``preemption.Evaluator``: one preemption attempt for one pod in one cycle.

    PodDisruptionBudgets are not modelled: there are none to violate, so every candidate
    has ``num_pdb_violations == 0`` and every victim is reprieved in the non-violating pass.
    """

    def __init__(self, plugin_name: str, handle: Handle, interface: PreemptionInterface, state: CycleState) -> None:
        self.plugin_name = plugin_name
        self.handle = handle
        self.interface = interface
        self.state = state

    def preempt(self, pod: Pod, m: Mapping[str, Status]) -> tuple[PostFilterResult | None, Status]:
        """``Preempt``: ``(None, Unschedulable)`` if the pod may not preempt;
        ``(PostFilterResult(""), Unschedulable FitError text)`` if no node would fit it even
        without its victims; ``(None, Error)`` if the dry run failed everywhere; else the
        nominated node with ``Success`` after its victims were deleted."""
        ok, msg = self.interface.pod_eligible_to_preempt_others(pod, m.get(pod.status.nominated_node_name))
        if not ok:
            return None, Status.of(Code.UNSCHEDULABLE, msg)

        candidates, node_statuses, err = self.find_candidates(pod, m)
        if err and not candidates:
            return None, Status.error(err)
        if not candidates:
            fit_error = FitError(pod, len(node_statuses), Diagnosis(node_to_status=node_statuses))
            return PostFilterResult(""), Status.of(Code.UNSCHEDULABLE, fit_error.message())

        best = self.select_candidate(candidates)
        if best is None or not best.name:
            return None, Status.of(Code.UNSCHEDULABLE, "no candidate node for preemption")
        status = self.prepare_candidate(best, pod)
        if not is_success(status):
            return None, status
        return PostFilterResult(best.name), Status()

    def find_candidates(self, pod: Pod, m: Mapping[str, Status]) -> tuple[list[Candidate], dict[str, Status], str]:
        """``findCandidates``: the candidates, the status of every node that is not one, and
        the aggregated dry-run errors (``""`` if none)."""
        all_nodes = self.handle.snapshot.node_info_list
        if not all_nodes:
            return [], {}, "no nodes available"
        potential, unschedulable_statuses = nodes_where_preemption_might_help(all_nodes, m)
        if not potential:
            if pod.status.nominated_node_name:  # util.ClearNominatedNodeName
                self.handle.set_nominated_node_name(pod, "")
            return [], unschedulable_statuses, ""
        offset, num_candidates = self.interface.get_offset_and_num_candidates(len(potential))
        candidates, statuses, err = self.dry_run_preemption(pod, potential, [], offset, num_candidates)
        statuses.update(unschedulable_statuses)
        return candidates, statuses, err

    def dry_run_preemption(self, pod: Pod, potential_nodes: Sequence[NodeInfo], pdbs: Sequence[object],
                           offset: int, num_candidates: int) -> tuple[list[Candidate], dict[str, Status], str]:
        """``DryRunPreemption``: select victims on copies of the nodes, from ``offset`` round
        the list, until ``num_candidates`` candidates (one without PDB violations among
        them) are found. Non-violating candidates come first."""
        non_violating: list[Candidate] = []
        violating: list[Candidate] = []
        statuses: dict[str, Status] = {}
        errs: list[str] = []
        n = len(potential_nodes)
        for i in range(n):
            node_info = potential_nodes[(offset + i) % n].clone()
            pods, num_pdb_violations, status = self.interface.select_victims_on_node(
                self.state.clone(), pod, node_info, pdbs)
            if is_success(status) and pods:
                c = Candidate(node_info.name, Victims(pods, num_pdb_violations))
                (violating if num_pdb_violations else non_violating).append(c)
                if non_violating and len(non_violating) + len(violating) >= num_candidates:
                    break
                continue
            if is_success(status):
                status = Status.error(f"expected at least one victim pod on node {_go_quote(node_info.name)}")
            if status.code == Code.ERROR:
                errs.append(status.message())
            statuses[node_info.name] = status
        return non_violating + violating, statuses, aggregate(errs) if errs else ""

    def select_candidate(self, candidates: Sequence[Candidate]) -> Candidate | None:
        """``SelectCandidate``: the candidate on the node ``pickOneNodeForPreemption`` picks."""
        if not candidates:
            return None
        if len(candidates) == 1:
            return candidates[0]
        victims_map = self.interface.candidates_to_victims_map(candidates)
        node = pick_one_node_for_preemption(victims_map, self.interface.ordered_score_funcs(victims_map))
        victims = victims_map.get(node)
        return Candidate(node, victims) if victims is not None else candidates[0]

    def prepare_candidate(self, c: Candidate, pod: Pod) -> Status | None:
        """``prepareCandidate``: reject each victim that waits on Permit and delete the
        others (marked with a ``DisruptionTarget`` condition, ``PreemptionByScheduler``, as
        PodDisruptionConditions does), then clear the nominations of lower-priority pods
        nominated to the node, which may no longer fit there."""
        message = f"{pod.spec.scheduler_name}: preempting to accommodate a higher priority pod"
        for victim in c.victims.pods:
            waiting = self.handle.get_waiting_pod(victim.metadata.uid)
            if waiting is not None:
                waiting.reject(self.plugin_name, "preempted")
            else:
                self.handle.delete_pod(_with_disruption_target(victim, message))
        priority = pod_priority(pod)
        for info in self.handle.nominated_pods_for_node(c.name):
            nominated = info.pod
            if pod_priority(nominated) < priority and nominated.status.nominated_node_name:
                self.handle.set_nominated_node_name(nominated, "")
        return None


def _with_disruption_target(victim: Pod, message: str) -> Pod:
    """The victim with the ``DisruptionTarget`` condition the scheduler patches in before
    deleting it (``apipod.UpdatePodCondition``). v1.28 copied the preemptor's status as the
    base of that patch, a bug fixed later; the victim's own status is kept here."""
    marked = copy.deepcopy(victim)
    condition = PodCondition(type=DISRUPTION_TARGET, status="True", reason=POD_REASON_PREEMPTION_BY_SCHEDULER,
                             message=message)
    conditions = [c for c in marked.status.conditions if c.type != DISRUPTION_TARGET]
    marked.status.conditions = conditions + [condition]
    return marked
