"""One pod at a time: ``pkg/scheduler/schedule_one.go`` (the scheduling and binding
cycles, ``schedulePod``, node sampling, ``selectHost``), ``scheduler.go`` (profiles, the
queue) and ``eventhandlers.go`` (which informer events go to the cache, which to the queue).

The :class:`Scheduler` is host-agnostic: the host feeds it informer events
(``add_node``, ``update_pod``, ...), calls :meth:`Scheduler.schedule_one` whenever it
likes (it never blocks) and :meth:`Scheduler.binding_cycle` for each successful cycle
(at once, or later to model a slow API server or a pod waiting on Permit). Everything
the scheduler would write through the API goes to the :class:`SchedulerHost`.

``findNodesThatFitPod`` and ``prioritizeNodes`` are delegated to an engine
(:mod:`kbook.scheduler.engine`): :class:`ReferenceEngine` runs the plugins node by node as
upstream does, sequentially in index order from ``next_start_node_index`` where upstream
runs 16 goroutines (so which nodes are evaluated is deterministic); the array engine
computes the same over all nodes at once.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from kbook.api import Node, Pod
from kbook.errors import KbookError
from kbook.scheduler import events
from kbook.scheduler.arrays import ArrayEngine
from kbook.scheduler.cache import Cache, CacheError
from kbook.scheduler.config import DEFAULT_SCHEDULER_NAME, ConfigError, KubeSchedulerConfiguration, default_config
from kbook.scheduler.cyclestate import CycleState
from kbook.scheduler.engine import Engine
from kbook.scheduler.framework import Framework, PluginError, SchedulerHost
from kbook.scheduler.interface import PluginFactory
from kbook.scheduler.plugins import nodeaffinity, nodename, nodeports
from kbook.scheduler.plugins.noderesources import fit
from kbook.scheduler.plugins.tainttoleration import find_matching_untolerated_taint
from kbook.scheduler.queue import QueueError, SchedulingQueue
from kbook.scheduler.registry import IN_TREE_REGISTRY, merge_registries
from kbook.scheduler.snapshot import Snapshot
from kbook.scheduler.status import Code, Status, code_of, is_success
from kbook.scheduler.types import Diagnosis, FitError, NodeInfo, NodePluginScores, PodInfo, QueuedPodInfo

__all__ = [
    "MIN_FEASIBLE_NODES_TO_FIND",
    "MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND",
    "NUMBER_OF_HIGHEST_SCORED_NODES_TO_REPORT",
    "SchedulingError",
    "NoNodesAvailableError",
    "EmptyPriorityListError",
    "num_feasible_nodes_to_find",
    "select_host",
    "ScheduleResult",
    "ReferenceEngine",
    "CycleResult",
    "Scheduler",
]

MIN_FEASIBLE_NODES_TO_FIND = 100  # minFeasibleNodesToFind
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5  # minFeasibleNodesPercentageToFind
NUMBER_OF_HIGHEST_SCORED_NODES_TO_REPORT = 3  # numberOfHighestScoredNodesToReport


class SchedulingError(KbookError):
    """The scheduling algorithm failed for a reason other than "no node fits" (a
    ``FitError``): e.g. a PreFilterResult naming a node the snapshot does not have."""


class NoNodesAvailableError(SchedulingError):
    """``ErrNoNodesAvailable``."""

    def __init__(self) -> None:
        super().__init__("no nodes available to schedule pods")


class EmptyPriorityListError(KbookError):
    """``selectHost`` on no nodes."""

    def __init__(self) -> None:
        super().__init__("empty priorityList")


def _go_div(a: int, b: int) -> int:
    """Go's int division: truncates toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def num_feasible_nodes_to_find(percentage_of_nodes_to_score: int | None, num_all_nodes: int,
                               global_percentage: int = 0) -> int:
    """``numFeasibleNodesToFind``: all nodes below 100; else the profile's percentage (or
    the global one), where 0 means adaptive ``50 - nodes/125`` with a floor of 5 %, and at
    least 100 nodes."""
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND:
        return num_all_nodes
    percentage = percentage_of_nodes_to_score if percentage_of_nodes_to_score is not None else global_percentage
    if percentage == 0:
        percentage = 50 - _go_div(num_all_nodes, 125)
        if percentage < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND:
            percentage = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND
    num_nodes = _go_div(num_all_nodes * percentage, 100)
    return max(num_nodes, MIN_FEASIBLE_NODES_TO_FIND)


def select_host(scores: Sequence[NodePluginScores], count: int,
                rng: np.random.Generator) -> tuple[str, list[NodePluginScores]]:
    """``selectHost``: the node with the highest total score; among nodes tied at the top,
    one uniformly at random (one ``rng.integers(ties)`` draw over the tied nodes in the
    order of ``scores``; no draw without a tie). Also returns the top ``count`` entries,
    the chosen node first (upstream's heap order is arbitrary among equal scores; here
    it is the order of ``scores``). Raises :class:`EmptyPriorityListError`."""
    if not scores:
        raise EmptyPriorityListError()
    on_arrays = getattr(scores, "select_host", None)
    if on_arrays is not None:  # the array engine's NodeScoreTable: the same choice, on its totals
        return on_arrays(count, rng)
    ranked = sorted(scores, key=lambda s: -s.total_score)
    top = ranked[0].total_score
    ties = 1
    while ties < len(ranked) and ranked[ties].total_score == top:
        ties += 1
    if ties > 1:
        chosen = int(rng.integers(ties))
        ranked[0], ranked[chosen] = ranked[chosen], ranked[0]
    return ranked[0].name, ranked[:count]


@dataclass
class ScheduleResult:
    """``ScheduleResult``: the chosen node, how many nodes were evaluated and how many fit."""

    suggested_host: str
    evaluated_nodes: int
    feasible_nodes: int


class ReferenceEngine:
    """The per-node engine (upstream's code path): ``findNodesThatFitPod`` and
    ``prioritizeNodes`` calling the framework for each node."""

    def find_nodes_that_fit_pod(self, sched: Scheduler, fwk: Framework, state: CycleState,
                                pod: Pod) -> tuple[list[NodeInfo], Diagnosis]:
        """``findNodesThatFitPod``: PreFilter (a rejection marks every node with its status
        and sets ``pre_filter_msg``), then the nominated node alone if the pod has one and
        it fits, else Filter over the PreFilterResult's nodes (or all) from
        ``next_start_node_index``, which then advances by the nodes processed."""
        diagnosis = Diagnosis()
        all_nodes = sched.snapshot.node_info_list
        pre_result, s = fwk.run_pre_filter_plugins(state, pod)
        if not is_success(s):
            if not s.is_rejected():
                raise PluginError(s.message())
            for n in all_nodes:
                diagnosis.node_to_status[n.name] = s
            diagnosis.pre_filter_msg = s.message()
            if s.plugin:
                diagnosis.unschedulable_plugins.add(s.plugin)
            return [], diagnosis
        if pod.status.nominated_node_name:
            feasible = self._evaluate_nominated_node(sched, fwk, state, pod, diagnosis)
            if feasible:
                return feasible, diagnosis
        nodes = all_nodes
        if pre_result is not None:
            for name in sorted(pre_result.node_names):
                if name not in sched.snapshot.node_info_map:
                    raise SchedulingError(f'nodeinfo not found for node name "{name}"')
            nodes = [n for n in all_nodes if n.name in pre_result.node_names]
        feasible, err = self.find_nodes_that_pass_filters(sched, fwk, state, pod, diagnosis, nodes)
        processed = len(feasible) + len(diagnosis.node_to_status)
        sched.next_start_node_index = (sched.next_start_node_index + processed) % len(nodes)
        if err is not None:
            raise err
        return feasible, diagnosis

    def _evaluate_nominated_node(self, sched: Scheduler, fwk: Framework, state: CycleState, pod: Pod,
                                 diagnosis: Diagnosis) -> list[NodeInfo]:
        """``evaluateNominatedNode``: filter the nominated node alone; a node that is gone
        or a Filter error only means falling back to all nodes."""
        info = sched.snapshot.node_info_map.get(pod.status.nominated_node_name)
        if info is None:
            return []
        feasible, err = self.find_nodes_that_pass_filters(sched, fwk, state, pod, diagnosis, [info])
        return [] if err is not None else feasible

    def find_nodes_that_pass_filters(self, sched: Scheduler, fwk: Framework, state: CycleState, pod: Pod,
                                     diagnosis: Diagnosis,
                                     nodes: Sequence[NodeInfo]) -> tuple[list[NodeInfo], PluginError | None]:
        """``findNodesThatPassFilters``: nodes at ``(next_start_node_index + i) % n`` in
        order until ``numFeasibleNodesToFind`` fit (without Filter plugins: that many nodes
        as they come); a rejected node's status goes to the diagnosis. A Filter error
        stops the search and is returned with the nodes found so far."""
        n = len(nodes)
        num_to_find = num_feasible_nodes_to_find(fwk.percentage_of_nodes_to_score, n,
                                                 sched.percentage_of_nodes_to_score)
        start = sched.next_start_node_index
        if not fwk.has_filter_plugins():
            return [nodes[(start + i) % n] for i in range(num_to_find)], None
        feasible: list[NodeInfo] = []
        for i in range(n):
            info = nodes[(start + i) % n]
            s = fwk.run_filter_plugins_with_nominated_pods(state, pod, info)
            if code_of(s) == Code.ERROR:
                return feasible, PluginError(s.message())
            if is_success(s):
                feasible.append(info)
                if len(feasible) >= num_to_find:
                    break
            else:
                diagnosis.node_to_status[info.name] = s
                if s.plugin:
                    diagnosis.unschedulable_plugins.add(s.plugin)
        return feasible, None

    def prioritize_nodes(self, sched: Scheduler, fwk: Framework, state: CycleState, pod: Pod,
                         nodes: list[NodeInfo]) -> list[NodePluginScores]:
        """``prioritizeNodes``: without Score plugins every node scores 1; else PreScore
        and Score. Raises :class:`PluginError`."""
        if not fwk.has_score_plugins():
            return [NodePluginScores(n.name, [], 1) for n in nodes]
        s = fwk.run_pre_score_plugins(state, pod, nodes)
        if not is_success(s):
            raise PluginError(s.message())
        return fwk.run_score_plugins(state, pod, nodes)


@dataclass
class CycleResult:
    """What one scheduling cycle did for one pod.

    On success ``pod`` is the assumed pod (``spec.nodeName`` set), reserved and permitted;
    pass the result to :meth:`Scheduler.binding_cycle`. ``permit_timeout`` > 0 means a
    Permit plugin made the pod wait: call the binding cycle once the plugins allowed it
    or after that many seconds (it is then rejected). On failure ``status`` holds why
    (``fit_error`` when no node fit; its message is the PodScheduled condition's), and
    the pod is back in the queue. ``skipped`` marks a pod being deleted or already
    assumed, which is not scheduled.
    """

    pod_info: QueuedPodInfo
    framework: Framework
    state: CycleState
    schedule_result: ScheduleResult | None = None
    status: Status | None = None
    fit_error: FitError | None = None
    permit_timeout: float = 0.0
    skipped: bool = False

    @property
    def pod(self) -> Pod:
        return self.pod_info.pod

    @property
    def suggested_host(self) -> str:
        return self.schedule_result.suggested_host if self.schedule_result is not None else ""

    @property
    def succeeded(self) -> bool:
        return not self.skipped and is_success(self.status)

    @property
    def reason(self) -> str:
        """The PodScheduled condition's reason: ``Unschedulable`` or ``SchedulerError``."""
        return "Unschedulable" if self.status is not None and self.status.is_rejected() else "SchedulerError"


def _assigned(pod: Pod) -> bool:
    """``assignedPod``."""
    return bool(pod.spec.node_name)


def _scheduler_name(pod: Pod) -> str:
    """The pod's scheduler; the API server defaults an empty one to ``default-scheduler``."""
    return pod.spec.scheduler_name or DEFAULT_SCHEDULER_NAME


def _admission_check(pod: Pod, node_info: NodeInfo) -> bool:
    """``AdmissionCheck`` (stopping at the first failure): resources, required node
    affinity, node name, host ports. True when the pod would be admitted."""
    return (not fit.fits(pod, node_info)
            and nodeaffinity.RequiredNodeAffinity(pod).match(node_info.node)
            and nodename.fits(pod, node_info)
            and nodeports.fits(pod, node_info))


def _pre_check_for_node(node_info: NodeInfo) -> Callable[[Pod], bool]:
    """``preCheckForNode``: only pods the new or changed node could admit, and whose
    tolerations cover its NoSchedule taints, are offered the node event."""

    def check(pod: Pod) -> bool:
        if not _admission_check(pod, node_info):
            return False
        return find_matching_untolerated_taint(node_info.node.spec.taints, pod.spec.tolerations,
                                               lambda t: t.effect == "NoSchedule") is None

    return check


class Scheduler:
    """``Scheduler``: the profiles (one :class:`Framework` each), the cache, the queue,
    the snapshot of the current cycle, and the cycles.

    ``host`` receives bindings, deletions and nominations; ``rng`` is the only source of
    randomness (ties in ``select_host``, preemption's offset); ``clock()`` gives the
    simulated time in seconds for the queue. ``engine`` is ``"arrays"`` (numpy over all
    nodes) or ``"reference"`` (per node, as upstream). ``out_of_tree_registry`` adds
    plugins to the in-tree ones (``WithFrameworkOutOfTreeRegistry``). Informer errors the
    cache refuses (upstream logs them) are kept in ``errors``.
    """

    def __init__(self, config: KubeSchedulerConfiguration | None = None, *, host: SchedulerHost,
                 rng: np.random.Generator, clock: Callable[[], float], engine: str = "arrays",
                 out_of_tree_registry: Mapping[str, PluginFactory] | None = None) -> None:
        self.config = config if config is not None else default_config()
        self.host = host
        self.rng = rng
        self.clock = clock
        self.percentage_of_nodes_to_score = self.config.percentage_of_nodes_to_score
        self.cache = Cache()
        self.snapshot = Snapshot([])
        self.next_start_node_index = 0
        self.errors: list[str] = []
        self._pods: dict[str, Pod] = {}
        self.profiles = self._new_profiles(merge_registries(IN_TREE_REGISTRY, out_of_tree_registry))
        first = self.profiles[self.config.profiles[0].scheduler_name]
        self.queue = SchedulingQueue(
            first.queue_sort_less,
            {name: fwk.pre_enqueue_plugins for name, fwk in self.profiles.items()},
            clock,
            self.config.pod_initial_backoff_seconds,
            self.config.pod_max_backoff_seconds,
            cluster_event_map={name: events.cluster_event_map(fwk.enqueue_extensions())
                               for name, fwk in self.profiles.items()},
            namespace_labels=self._namespace_labels,
            pod_lister=self._live_pod,
            sort_key=getattr(first.queue_sort_plugin, "sort_key", None),
        )
        for fwk in self.profiles.values():
            fwk.nominator = self.queue
        self.engine = self._new_engine(engine)

    def _new_profiles(self, registry: Mapping[str, PluginFactory]) -> dict[str, Framework]:
        """``profile.NewMap`` with ``cfgValidator``: one framework per profile, all sharing
        the snapshot, with one queue sort."""
        profiles: dict[str, Framework] = {}
        queue_sort = ""
        queue_sort_args: dict | None = None
        for prof in self.config.profiles:
            try:
                fwk = Framework(prof, registry, host=self.host, rng=self.rng, snapshot=self.snapshot,
                                parallelism=self.config.parallelism)
                if not fwk.profile_name:
                    raise ConfigError("scheduler name is needed")
                if fwk.profile_name in profiles:
                    raise ConfigError(f'duplicate profile with scheduler name "{fwk.profile_name}"')
                name = fwk.queue_sort_plugin.name
                args = prof.args(name)
                if not queue_sort:
                    queue_sort, queue_sort_args = name, args
                elif name != queue_sort:
                    raise ConfigError(f'different queue sort plugins for profile "{prof.scheduler_name}": '
                                      f'"{name}", first: "{queue_sort}"')
                elif args != queue_sort_args:
                    raise ConfigError(f'different queue sort plugin args for profile "{prof.scheduler_name}"')
            except ConfigError as e:
                raise ConfigError(f"initializing profiles: creating profile for scheduler name "
                                  f"{prof.scheduler_name}: {e}") from None
            profiles[fwk.profile_name] = fwk
        return profiles

    @staticmethod
    def _new_engine(engine: str) -> Engine:
        if engine == "reference":
            return ReferenceEngine()
        if engine == "arrays":
            return ArrayEngine()
        raise ConfigError(f'unknown engine "{engine}": expected "arrays" or "reference"')

    # -- what the queue and the plugins read ----------------------------------------------

    def _live_pod(self, pod: Pod) -> Pod | None:
        """The informer's current version of a pod (the pod lister)."""
        return self._pods.get(pod.key)

    def _namespace_labels(self, namespace: str) -> Mapping[str, str] | None:
        for ns in self.host.objects("Namespace"):
            if ns.metadata.name == namespace:
                return ns.metadata.labels
        return None

    def _framework_for(self, pod: Pod) -> Framework | None:
        """``frameworkForPod``."""
        return self.profiles.get(_scheduler_name(pod))

    def _responsible_for(self, pod: Pod) -> bool:
        """``responsibleForPod``: one of the profiles schedules it."""
        return _scheduler_name(pod) in self.profiles

    def _log(self, err: Exception) -> None:
        self.errors.append(str(err))

    # -- informer events (eventhandlers.go) -------------------------------------------------

    def add_node(self, node: Node) -> None:
        """``addNodeToCache``: the node joins the cache; waiting pods it could admit move."""
        info = self.cache.add_node(node)
        self.queue.move_all_to_active_or_backoff_queue(events.NODE_ADD, _pre_check_for_node(info))

    def update_node(self, old: Node, new: Node) -> None:
        """``updateNodeInCache``: a change that may make pods schedulable moves them (v1.28
        raises one event, the first of ``nodeSchedulingPropertiesChange``'s)."""
        info = self.cache.update_node(old, new)
        changes = events.node_scheduling_properties_change(new, old)
        if changes:
            self.queue.move_all_to_active_or_backoff_queue(changes[0], _pre_check_for_node(info))

    def remove_node(self, node: Node) -> None:
        """``deleteNodeFromCache``."""
        try:
            self.cache.remove_node(node)
        except CacheError as e:
            self._log(e)

    def add_pod(self, pod: Pod) -> None:
        """A pod appeared: bound pods go to the cache, unbound pods of a profile to the queue."""
        self._pods[pod.key] = pod
        if _assigned(pod):
            self._add_pod_to_cache(pod)
        elif self._responsible_for(pod):
            self.queue.add(pod)

    def update_pod(self, old: Pod, new: Pod) -> None:
        """A pod changed. As the two filtered handlers see it: a pod that became bound
        is added to the cache and deleted from the queue, and so on."""
        self._pods[new.key] = new
        old_assigned, new_assigned = _assigned(old), _assigned(new)
        if old_assigned and new_assigned:
            self._update_pod_in_cache(old, new)
        elif new_assigned:
            self._add_pod_to_cache(new)
        elif old_assigned:
            self._delete_pod_from_cache(old)
        old_queued = not old_assigned and self._responsible_for(old)
        new_queued = not new_assigned and self._responsible_for(new)
        if old_queued and new_queued:
            self._update_pod_in_scheduling_queue(old, new)
        elif new_queued:
            self.queue.add(new)
        elif old_queued:
            self._delete_pod_from_scheduling_queue(old)

    def remove_pod(self, pod: Pod) -> None:
        """A pod was deleted."""
        self._pods.pop(pod.key, None)
        if _assigned(pod):
            self._delete_pod_from_cache(pod)
        elif self._responsible_for(pod):
            self._delete_pod_from_scheduling_queue(pod)

    def _add_pod_to_cache(self, pod: Pod) -> None:
        """``addPodToCache``."""
        try:
            self.cache.add_pod(pod)
        except CacheError as e:
            self._log(e)
        self.queue.assigned_pod_added(pod)

    def _update_pod_in_cache(self, old: Pod, new: Pod) -> None:
        """``updatePodInCache``: a delete and re-create merged into one update (a new uid)
        is handled as both."""
        if old.metadata.uid != new.metadata.uid:
            self._delete_pod_from_cache(old)
            self._add_pod_to_cache(new)
            return
        try:
            self.cache.update_pod(old, new)
        except CacheError as e:
            self._log(e)
        self.queue.assigned_pod_updated(new)

    def _delete_pod_from_cache(self, pod: Pod) -> None:
        """``deletePodFromCache``: freed room may let waiting pods fit."""
        try:
            self.cache.remove_pod(pod)
        except CacheError as e:
            self._log(e)
        self.queue.move_all_to_active_or_backoff_queue(events.ASSIGNED_POD_DELETE)

    def _update_pod_in_scheduling_queue(self, old: Pod, new: Pod) -> None:
        """``updatePodInSchedulingQueue``: identical resource versions are ignored (a
        resync; pods without one are always taken as changed), assumed pods too."""
        rv = new.metadata.resource_version
        if rv and rv == old.metadata.resource_version:
            return
        if self.cache.is_assumed_pod(new):
            return
        self.queue.update(old, new)

    def _delete_pod_from_scheduling_queue(self, pod: Pod) -> None:
        """``deletePodFromSchedulingQueue``: a pod waiting on Permit is rejected, which
        frees what it had reserved."""
        self.queue.delete(pod)
        fwk = self._framework_for(pod)
        if fwk is not None and fwk.reject_waiting_pod(pod.metadata.uid):
            self.queue.move_all_to_active_or_backoff_queue(events.ASSIGNED_POD_DELETE)

    # -- the scheduling cycle -----------------------------------------------------------

    def schedule_pod(self, fwk: Framework, state: CycleState, pod: Pod) -> ScheduleResult:
        """``schedulePod``: refresh the snapshot, find the feasible nodes, and with more
        than one score them and pick one. Raises :class:`FitError` when none fits,
        :class:`NoNodesAvailableError`, :class:`PluginError` or :class:`SchedulingError`."""
        try:
            self.cache.update_snapshot(self.snapshot)
        except CacheError as e:
            raise SchedulingError(str(e)) from None
        if len(self.snapshot) == 0:
            raise NoNodesAvailableError()
        feasible, diagnosis = self.engine.find_nodes_that_fit_pod(self, fwk, state, pod)
        if not feasible:
            raise FitError(pod, len(self.snapshot), diagnosis)
        if len(feasible) == 1:
            return ScheduleResult(feasible[0].name, 1 + len(diagnosis.node_to_status), 1)
        scores = self.engine.prioritize_nodes(self, fwk, state, pod, feasible)
        host, _ = select_host(scores, NUMBER_OF_HIGHEST_SCORED_NODES_TO_REPORT, self.rng)
        return ScheduleResult(host, len(feasible) + len(diagnosis.node_to_status), len(feasible))

    def schedule_one(self) -> CycleResult | None:
        """``scheduleOne`` up to the binding cycle: pop the next pod (``None`` if activeQ
        is empty) and run its scheduling cycle; a failure is handled here (PostFilter,
        back to the queue, nomination)."""
        qpi = self.queue.pop()
        if qpi is None:
            return None
        pod = qpi.pod
        fwk = self._framework_for(pod)
        if fwk is None:
            self.queue.done(pod.metadata.uid)
            err = f'profile not found for scheduler name "{_scheduler_name(pod)}"'
            self.errors.append(err)
            return CycleResult(qpi, next(iter(self.profiles.values())), CycleState(), status=Status.error(err),
                               skipped=True)
        if pod.metadata.deletion_timestamp is not None or self.cache.is_assumed_pod(pod):
            self.queue.done(pod.metadata.uid)
            return CycleResult(qpi, fwk, CycleState(), skipped=True)
        return self._scheduling_cycle(CycleState(), fwk, qpi)

    def _scheduling_cycle(self, state: CycleState, fwk: Framework, qpi: QueuedPodInfo) -> CycleResult:
        """``schedulingCycle``: schedulePod (with PostFilter on a FitError), assume,
        Reserve, Permit."""
        pod = qpi.pod
        try:
            sr = self.schedule_pod(fwk, state, pod)
        except NoNodesAvailableError as e:
            return self._fail(CycleResult(qpi, fwk, state, status=Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE,
                                                                         [str(e)])), "")
        except FitError as fe:
            nominating: str | None = ""
            if fwk.has_post_filter_plugins():
                r, s = fwk.run_post_filter_plugins(state, pod, fe.diagnosis.node_to_status)
                fe.diagnosis.post_filter_msg = s.message() if s is not None else ""
                nominating = r.nominated_node_name if r is not None else None
            status = Status(Code.UNSCHEDULABLE, [fe.message()])
            return self._fail(CycleResult(qpi, fwk, state, status=status, fit_error=fe), nominating)
        except KbookError as e:
            return self._fail(CycleResult(qpi, fwk, state, status=Status.error(e)), "")

        assumed_pod = copy.copy(pod)  # upstream deep-copies; only spec.nodeName changes
        assumed_pod.spec = copy.copy(pod.spec)
        assumed_pod.spec.node_name = sr.suggested_host
        assumed = dataclasses.replace(qpi, pod_info=PodInfo(assumed_pod),
                                      unschedulable_plugins=set(qpi.unschedulable_plugins))
        result = CycleResult(assumed, fwk, state, schedule_result=sr)
        try:
            self.cache.assume_pod(assumed_pod)
        except CacheError as e:
            result.status = Status.error(e)
            return self._fail(result, "")
        self.queue.delete_nominated_pod_if_exists(assumed_pod)

        s = fwk.run_reserve_plugins_reserve(state, assumed_pod, sr.suggested_host)
        if not is_success(s):
            return self._undo(result, pod, s)
        s, timeout = fwk.run_permit_plugins(state, assumed_pod, sr.suggested_host)
        if not is_success(s) and s.code != Code.WAIT:
            return self._undo(result, pod, s)
        result.permit_timeout = timeout
        return result

    def _undo(self, result: CycleResult, pod: Pod, s: Status) -> CycleResult:
        """A Reserve or Permit failure: Unreserve, forget the assumed pod, and report a
        rejection as a FitError on that one node."""
        fwk, host = result.framework, result.suggested_host
        fwk.run_reserve_plugins_unreserve(result.state, result.pod, host)
        self._forget(result.pod)
        if s.is_rejected():
            result.fit_error = FitError(pod, 1, Diagnosis({host: s}, {s.plugin} if s.plugin else set()))
            result.status = Status(s.code, [result.fit_error.message()])
        else:
            result.status = s
        return self._fail(result, "")

    def _forget(self, pod: Pod) -> bool:
        try:
            self.cache.forget_pod(pod)
        except CacheError as e:
            self._log(e)
            return False
        return True

    def _fail(self, result: CycleResult, nominating: str | None) -> CycleResult:
        self._handle_scheduling_failure(result, nominating)
        return result

    def _handle_scheduling_failure(self, result: CycleResult, nominating: str | None) -> None:
        """``handleSchedulingFailure``: the pod (its latest version from the informer)
        goes back to the queue unless it was deleted or bound meanwhile; the plugins that
        rejected it decide which events move it on. ``nominating`` is the node preemption
        nominated (``""`` clears the nomination, ``None`` keeps the pod's own)."""
        qpi = result.pod_info
        pod = qpi.pod
        if result.fit_error is not None:
            qpi.unschedulable_plugins = set(result.fit_error.diagnosis.unschedulable_plugins)
        live = self._pods.get(pod.key)
        if live is None or live.spec.node_name:
            self.queue.done(pod.metadata.uid)
        else:
            qpi.pod_info = PodInfo(live)
            try:
                self.queue.add_unschedulable_if_not_present(qpi, self.queue.scheduling_cycle)
            except QueueError as e:
                self._log(e)
        if nominating is None:
            self.queue.add_nominated_pod(qpi.pod_info)
        elif nominating:
            self.queue.add_nominated_pod(qpi.pod_info, nominating)
        else:
            self.queue.delete_nominated_pod_if_exists(qpi.pod)
        if nominating is not None and pod.status.nominated_node_name != nominating:
            try:
                self.host.set_nominated_node_name(pod, nominating)
            except KbookError as e:  # e.g. the pod is gone; upstream logs the failed update
                self._log(e)

    # -- the binding cycle --------------------------------------------------------------

    def binding_cycle(self, result: CycleResult) -> Status | None:
        """``bindingCycle``: wait on Permit, PreBind, Bind (the first Bind plugin that
        does not skip), PostBind. On failure the pod is unreserved, forgotten and
        requeued (``handleBindingCycleError``) and the status is returned."""
        fwk, state, pod, host = result.framework, result.state, result.pod, result.suggested_host
        s = fwk.wait_on_permit(pod)
        if not is_success(s):
            fit_error = None
            if s.is_rejected():
                fit_error = FitError(pod, 1, Diagnosis({host: s}, {s.plugin} if s.plugin else set()))
                s = Status(s.code, [fit_error.message()])
            self._handle_binding_cycle_error(result, s, fit_error)
            return s
        self.queue.done(pod.metadata.uid)
        s = fwk.run_pre_bind_plugins(state, pod, host)
        if is_success(s):
            s = fwk.run_bind_plugins(state, pod, host)
            self.cache.finish_binding(pod)
        if not is_success(s):
            self._handle_binding_cycle_error(result, s, None)
            return s
        fwk.run_post_bind_plugins(state, pod, host)
        return None

    def _handle_binding_cycle_error(self, result: CycleResult, status: Status, fit_error: FitError | None) -> None:
        """``handleBindingCycleError``: forgetting the assumed pod frees room, like an
        assigned pod's deletion (not offered to the pod itself when it was rejected)."""
        pod = result.pod
        result.framework.run_reserve_plugins_unreserve(result.state, pod, result.suggested_host)
        result.status, result.fit_error = status, fit_error
        forgotten = self._forget(pod)
        if forgotten and not status.is_rejected():
            self.queue.move_all_to_active_or_backoff_queue(events.ASSIGNED_POD_DELETE)
        self._handle_scheduling_failure(result, "")
        if forgotten and status.is_rejected():
            uid = pod.metadata.uid
            self.queue.move_all_to_active_or_backoff_queue(events.ASSIGNED_POD_DELETE,
                                                           lambda p: p.metadata.uid != uid)
