"""The scheduling queue (``pkg/scheduler/internal/queue/scheduling_queue.go``, Kubernetes
v1.28): ``activeQ`` (a heap in QueueSort order), ``podBackoffQ`` (a heap by backoff expiry),
``unschedulablePods`` (a map, gated pods included) and the ``PodNominator``.

v1.28 with the ``SchedulerQueueingHints`` gate off: a pod rejected by plugins waits in
``unschedulablePods`` until a cluster event that one of those plugins registered for
(:mod:`kbook.scheduler.events`) moves it to ``backoffQ`` or ``activeQ``; a move request
received while the pod was being scheduled (``moveRequestCycle >= schedulingCycle``) sends
it straight to ``backoffQ``. Nothing here waits or reads a wall clock: ``pop`` never blocks,
time is the simulated seconds ``clock()`` returns, and the host calls
:meth:`SchedulingQueue.flush_backoff_q_completed` every
:data:`FLUSH_BACKOFF_Q_COMPLETED_PERIOD` and
:meth:`SchedulingQueue.flush_unschedulable_pods_leftover` every
:data:`FLUSH_UNSCHEDULABLE_PODS_LEFTOVER_PERIOD` seconds (``PriorityQueue.Run``).
"""

from __future__ import annotations

import copy
import functools
import itertools
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from kbook.api import Pod
from kbook.errors import KbookError
from kbook.scheduler.events import (
    ASSIGNED_POD_ADD, ASSIGNED_POD_UPDATE, DEFAULT_CLUSTER_EVENT_MAP, UNSCHEDULABLE_TIMEOUT, ClusterEvent,
)
from kbook.scheduler.interface import PreEnqueuePlugin
from kbook.scheduler.status import is_success
from kbook.scheduler.types import PodInfo, QueuedPodInfo

__all__ = [
    "DEFAULT_POD_INITIAL_BACKOFF_SECONDS",
    "DEFAULT_POD_MAX_BACKOFF_SECONDS",
    "DEFAULT_POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION",
    "FLUSH_BACKOFF_Q_COMPLETED_PERIOD",
    "FLUSH_UNSCHEDULABLE_PODS_LEFTOVER_PERIOD",
    "DEFAULT_SCHEDULER_NAME",
    "ACTIVE_Q",
    "BACKOFF_Q",
    "UNSCHEDULABLE_PODS",
    "QueueError",
    "PreEnqueueCheck",
    "calculate_backoff_duration",
    "is_pod_updated",
    "PodNominator",
    "SchedulingQueue",
]

DEFAULT_POD_INITIAL_BACKOFF_SECONDS = 1.0  # DefaultPodInitialBackoffDuration
DEFAULT_POD_MAX_BACKOFF_SECONDS = 10.0  # DefaultPodMaxBackoffDuration
DEFAULT_POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION = 300.0  # DefaultPodMaxInUnschedulablePodsDuration (5 min)
FLUSH_BACKOFF_Q_COMPLETED_PERIOD = 1.0  # PriorityQueue.Run: flushBackoffQCompleted every 1 s
FLUSH_UNSCHEDULABLE_PODS_LEFTOVER_PERIOD = 30.0  # ... flushUnschedulablePodsLeftover every 30 s
DEFAULT_SCHEDULER_NAME = "default-scheduler"  # v1.DefaultSchedulerName

# Queue names, as upstream logs them.
ACTIVE_Q = "Active"
BACKOFF_Q = "Backoff"
UNSCHEDULABLE_PODS = "Unschedulable"

PENDING_PODS_SUMMARY = "activeQ:{}; backoffQ:{}; unschedulablePods:{}"  # pendingPodsSummary

PreEnqueueCheck = Callable[[Pod], bool]
"""``queue.PreEnqueueCheck``: a host-side filter on which pods a move may consider."""


class QueueError(KbookError):
    """A queue operation upstream answers with an error (a pod already queued)."""


def calculate_backoff_duration(attempts: int, initial: float, maximum: float) -> float:
    """``calculateBackoffDuration``: ``initial`` doubled for every attempt after the first,
    capped at ``maximum`` (checked before doubling, as upstream guards overflow)."""
    duration = initial
    for _ in range(1, attempts):
        if duration > maximum - duration:
            return maximum
        duration += duration
    return duration


def is_pod_updated(old_pod: Pod, new_pod: Pod) -> bool:
    """``isPodUpdated``: anything but status, resourceVersion, generation, managedFields and
    finalizers changed, so the update may have made the pod schedulable."""

    def strip(pod: Pod) -> Pod:
        p = copy.deepcopy(pod)
        p.metadata.resource_version = ""
        p.metadata.generation = 0
        p.metadata.managed_fields = []
        p.metadata.finalizers = []
        p.status = type(pod.status)()
        return p

    return strip(old_pod) != strip(new_pod)


def _kobj(pod: Pod) -> str:
    """``klog.KObj``: ``namespace/name``."""
    return f"{pod.metadata.namespace}/{pod.metadata.name}" if pod.metadata.namespace else pod.metadata.name


class _Heap:
    """``internal/heap.Heap``: queued pods keyed by ``namespace/name``, ordered by ``key``
    (the QueueSort plugin's order); pods with equal keys come out in insertion order, so
    ties are deterministic. The key is computed once per add, not per comparison."""

    __slots__ = ("_key", "_items", "_index", "_seq")

    def __init__(self, key: Callable[[QueuedPodInfo], Any]) -> None:
        self._key = key
        self._items: list[tuple[tuple[Any, int], QueuedPodInfo]] = []
        self._index: dict[str, int] = {}
        self._seq = itertools.count()

    def _before(self, i: int, j: int) -> bool:
        return self._items[i][0] < self._items[j][0]

    def _swap(self, i: int, j: int) -> None:
        items = self._items
        items[i], items[j] = items[j], items[i]
        self._index[items[i][1].pod.key] = i
        self._index[items[j][1].pod.key] = j

    def _up(self, i: int) -> bool:
        moved = False
        while i > 0:
            parent = (i - 1) // 2
            if not self._before(i, parent):
                break
            self._swap(i, parent)
            i, moved = parent, True
        return moved

    def _down(self, i: int) -> None:
        n = len(self._items)
        while True:
            smallest, left = i, 2 * i + 1
            for child in (left, left + 1):
                if child < n and self._before(child, smallest):
                    smallest = child
            if smallest == i:
                return
            self._swap(i, smallest)
            i = smallest

    def _fix(self, i: int) -> None:
        if not self._up(i):
            self._down(i)

    def add(self, qpi: QueuedPodInfo) -> None:
        """``Heap.Add``: insert, or replace (keeping its place in insertion order) if the
        pod is already there."""
        key = qpi.pod.key
        i = self._index.get(key)
        if i is not None:
            self._items[i] = ((self._key(qpi), self._items[i][0][1]), qpi)
            self._fix(i)
            return
        self._items.append(((self._key(qpi), next(self._seq)), qpi))
        self._index[key] = len(self._items) - 1
        self._up(len(self._items) - 1)

    def get(self, pod: Pod) -> QueuedPodInfo | None:
        i = self._index.get(pod.key)
        return None if i is None else self._items[i][1]

    def delete(self, pod: Pod) -> QueuedPodInfo | None:
        """``Heap.Delete``: the removed entry, ``None`` if the pod was not there."""
        i = self._index.pop(pod.key, None)
        if i is None:
            return None
        qpi = self._items[i][1]
        last = self._items.pop()
        if i < len(self._items):
            self._items[i] = last
            self._index[last[1].pod.key] = i
            self._fix(i)
        return qpi

    def peek(self) -> QueuedPodInfo | None:
        return self._items[0][1] if self._items else None

    def pop(self) -> QueuedPodInfo | None:
        head = self.peek()
        if head is not None:
            self.delete(head.pod)
        return head

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[QueuedPodInfo]:
        """``Heap.List``: every entry, in storage (not sorted) order."""
        return (qpi for _, qpi in self._items)


class PodNominator:
    """``nominator`` (``framework.PodNominator``): the pods nominated to each node by
    preemption, by uid, whether or not ``status.nominatedNodeName`` has caught up yet.

    ``pod_lister(pod)`` returns the live pod or ``None`` (the informer's lister): a pod that
    is gone or already bound is not nominated. Without a lister every pod counts as live.
    """

    def __init__(self, pod_lister: Callable[[Pod], Pod | None] | None = None) -> None:
        self._pod_lister = pod_lister
        self.nominated_pods: dict[str, list[PodInfo]] = {}
        self.nominated_pod_to_node: dict[str, str] = {}

    def add_nominated_pod(self, pod_info: PodInfo, node_name: str | None = None) -> None:
        """``AddNominatedPod``: ``node_name`` given is ``NominatingInfo{ModeOverride}``;
        ``None`` (``ModeNoop``) uses the pod's ``status.nominatedNodeName``, if any."""
        pod = pod_info.pod
        self._delete(pod)
        if node_name is None:
            if not pod.status.nominated_node_name:
                return
            node_name = pod.status.nominated_node_name
        if self._pod_lister is not None:
            live = self._pod_lister(pod)
            if live is None or live.spec.node_name:
                return
        uid = pod.metadata.uid
        self.nominated_pod_to_node[uid] = node_name
        infos = self.nominated_pods.setdefault(node_name, [])
        if any(p.pod.metadata.uid == uid for p in infos):
            return
        infos.append(pod_info)

    def _delete(self, pod: Pod) -> None:
        uid = pod.metadata.uid
        node = self.nominated_pod_to_node.pop(uid, None)
        if node is None:
            return
        infos = self.nominated_pods.get(node, [])
        for i, p in enumerate(infos):
            if p.pod.metadata.uid == uid:
                del infos[i]
                break
        if not infos:
            self.nominated_pods.pop(node, None)

    def delete_nominated_pod_if_exists(self, pod: Pod) -> None:
        """``DeleteNominatedPodIfExists``."""
        self._delete(pod)

    def update_nominated_pod(self, old_pod: Pod, new_pod_info: PodInfo) -> None:
        """``UpdateNominatedPod``: keep a nomination made in memory when an update arrives
        before ``status.nominatedNodeName`` is written (neither pod names a node)."""
        node_name: str | None = None
        if not old_pod.status.nominated_node_name and not new_pod_info.pod.status.nominated_node_name:
            node_name = self.nominated_pod_to_node.get(old_pod.metadata.uid)
        self._delete(old_pod)
        self.add_nominated_pod(new_pod_info, node_name)

    def nominated_pods_for_node(self, node_name: str) -> list[PodInfo]:
        """``NominatedPodsForNode``: a new list (upstream deep-copies; callers here never
        mutate the pods)."""
        return list(self.nominated_pods.get(node_name, ()))


class SchedulingQueue:
    """``PriorityQueue``: the pods waiting to be scheduled.

    ``less`` is the QueueSort plugin's ``less`` (or ``sort_key``, the same order as a key,
    which is faster: PrioritySort has one); ``pre_enqueue_plugins`` the PreEnqueue
    plugins, either one list for every pod or a mapping from scheduler name (profile) to its
    list. ``cluster_event_map`` maps each registered :class:`ClusterEvent` to the names of
    the plugins interested in it (:func:`kbook.scheduler.events.cluster_event_map`), or per
    profile a mapping from scheduler name to such a map; the default is v1.28's default
    profile, and an empty mapping registers no profile, so every event moves every pod.
    ``namespace_labels(namespace)`` gives a namespace's labels for affinity terms with a
    namespace selector; ``pod_lister`` is handed to the :class:`PodNominator`. ``clock``
    returns the simulated time in seconds.
    """

    def __init__(self, less: Callable[[QueuedPodInfo, QueuedPodInfo], bool],
                 pre_enqueue_plugins: Sequence[PreEnqueuePlugin] | Mapping[str, Sequence[PreEnqueuePlugin]],
                 clock: Callable[[], float],
                 pod_initial_backoff_seconds: float = DEFAULT_POD_INITIAL_BACKOFF_SECONDS,
                 pod_max_backoff_seconds: float = DEFAULT_POD_MAX_BACKOFF_SECONDS,
                 pod_max_in_unschedulable_pods_duration: float = DEFAULT_POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION,
                 *,
                 cluster_event_map: Mapping | None = None,
                 namespace_labels: Callable[[str], Mapping[str, str] | None] | None = None,
                 pod_lister: Callable[[Pod], Pod | None] | None = None,
                 sort_key: Callable[[QueuedPodInfo], Any] | None = None) -> None:
        self.clock = clock
        self.pod_initial_backoff_seconds = pod_initial_backoff_seconds
        self.pod_max_backoff_seconds = pod_max_backoff_seconds
        self.pod_max_in_unschedulable_pods_duration = pod_max_in_unschedulable_pods_duration
        self._pre_enqueue = pre_enqueue_plugins
        self._event_map: Mapping = DEFAULT_CLUSTER_EVENT_MAP if cluster_event_map is None else cluster_event_map
        self._namespace_labels = namespace_labels
        self.nominator = PodNominator(pod_lister)
        self.active_q = _Heap(sort_key or functools.cmp_to_key(lambda a, b: -1 if less(a, b) else int(less(b, a))))
        self.backoff_q = _Heap(self.backoff_time)  # podsCompareBackoffCompleted
        # unschedulablePods: pod key -> entry, in insertion order (Go's map order is random).
        self.unschedulable_pods: dict[str, QueuedPodInfo] = {}
        self.scheduling_cycle = 0
        self.move_request_cycle = -1

    # -- profiles -----------------------------------------------------------------------

    @staticmethod
    def _profile(pod: Pod) -> str:
        return pod.spec.scheduler_name or DEFAULT_SCHEDULER_NAME

    def _pre_enqueue_plugins(self, pod: Pod) -> Sequence[PreEnqueuePlugin]:
        if isinstance(self._pre_enqueue, Mapping):
            return self._pre_enqueue.get(self._profile(pod), ())
        return self._pre_enqueue

    def _events_for(self, pod: Pod) -> Mapping[ClusterEvent, Iterable[str]] | None:
        """The profile's event map; ``None`` when none is registered for the pod's profile
        (an empty map registers no profile, as upstream's nil ``queueingHintMap``)."""
        if not self._event_map:
            return None
        if isinstance(next(iter(self._event_map)), ClusterEvent):
            return self._event_map
        return self._event_map.get(self._profile(pod))

    # -- backoff ------------------------------------------------------------------------

    def backoff_time(self, qpi: QueuedPodInfo) -> float:
        """``getBackoffTime``: when the pod's backoff ends."""
        return qpi.timestamp + calculate_backoff_duration(qpi.attempts, self.pod_initial_backoff_seconds,
                                                          self.pod_max_backoff_seconds)

    def is_pod_backing_off(self, qpi: QueuedPodInfo) -> bool:
        """``isPodBackingoff``: a gated pod never backs off."""
        if qpi.gated:
            return False
        return self.backoff_time(qpi) > self.clock()

    def next_backoff_time(self) -> float | None:
        """When the earliest pod in ``backoffQ`` completes its backoff, for a host that
        wakes up exactly then instead of polling every second."""
        head = self.backoff_q.peek()
        return None if head is None else self.backoff_time(head)

    # -- entering activeQ ---------------------------------------------------------------

    def _new_queued_pod_info(self, pod: Pod, *plugins: str) -> QueuedPodInfo:
        """``newQueuedPodInfo``."""
        return QueuedPodInfo(PodInfo(pod), timestamp=self.clock(), unschedulable_plugins=set(plugins))

    def _run_pre_enqueue_plugins(self, qpi: QueuedPodInfo) -> bool:
        """``runPreEnqueuePlugins``: the first rejecting plugin is recorded as unschedulable."""
        for plugin in self._pre_enqueue_plugins(qpi.pod):
            if is_success(plugin.pre_enqueue(qpi.pod)):
                continue
            qpi.unschedulable_plugins.add(plugin.name)
            return False
        return True

    def _add_to_active_q(self, qpi: QueuedPodInfo) -> bool:
        """``addToActiveQ``: a pod a PreEnqueue plugin rejects is parked, gated, in
        ``unschedulablePods``."""
        qpi.gated = not self._run_pre_enqueue_plugins(qpi)
        if qpi.gated:
            self.unschedulable_pods[qpi.pod.key] = qpi
            return False
        if qpi.initial_attempt_timestamp is None:
            qpi.initial_attempt_timestamp = self.clock()
        self.active_q.add(qpi)
        return True

    def add(self, pod: Pod) -> None:
        """``Add``: a new pending pod."""
        qpi = self._new_queued_pod_info(pod)
        if not self._add_to_active_q(qpi):
            return
        self.unschedulable_pods.pop(pod.key, None)
        self.backoff_q.delete(pod)
        self.nominator.add_nominated_pod(qpi.pod_info)

    def activate(self, pods: Iterable[Pod]) -> None:
        """``Activate``: move the given pods from ``unschedulablePods`` or ``backoffQ`` to
        ``activeQ`` (plugins ask for it through the cycle state)."""
        for pod in pods:
            self._activate(pod)

    def _activate(self, pod: Pod) -> bool:
        if self.active_q.get(pod) is not None:
            return False
        qpi = self.unschedulable_pods.get(pod.key) or self.backoff_q.get(pod)
        if qpi is None:
            return False
        if not self._add_to_active_q(qpi):
            return False
        self.unschedulable_pods.pop(pod.key, None)
        self.backoff_q.delete(pod)
        self.nominator.add_nominated_pod(qpi.pod_info)
        return True

    # -- scheduling attempts ------------------------------------------------------------

    def pop(self) -> QueuedPodInfo | None:
        """``Pop`` without blocking: the head of ``activeQ`` (``None`` if empty), with its
        attempts counted, the scheduling cycle advanced and its rejecting plugins cleared."""
        qpi = self.active_q.pop()
        if qpi is None:
            return None
        qpi.attempts += 1
        self.scheduling_cycle += 1
        qpi.unschedulable_plugins.clear()
        return qpi

    def done(self, uid: str) -> None:
        """``Done``: the scheduling attempt of a popped pod is over. It only clears the
        in-flight records of QueueingHints, which v1.28 keeps only with that gate on."""

    def add_unschedulable_if_not_present(self, qpi: QueuedPodInfo, pod_scheduling_cycle: int) -> None:
        """``AddUnschedulableIfNotPresent`` (``addUnschedulableWithoutQueueingHint``): a pod
        whose attempt failed goes to ``backoffQ`` if a move request came during or after
        its cycle, or no plugin rejected it; otherwise to ``unschedulablePods``."""
        pod = qpi.pod
        if pod.key in self.unschedulable_pods:
            raise QueueError(f"Pod {_kobj(pod)} is already present in unschedulable queue")
        if self.active_q.get(pod) is not None:
            raise QueueError(f"Pod {_kobj(pod)} is already present in the active queue")
        if self.backoff_q.get(pod) is not None:
            raise QueueError(f"Pod {_kobj(pod)} is already present in the backoff queue")
        qpi.timestamp = self.clock()
        if self.move_request_cycle >= pod_scheduling_cycle or not qpi.unschedulable_plugins:
            self.backoff_q.add(qpi)
        else:
            self.unschedulable_pods[pod.key] = qpi
        self.nominator.add_nominated_pod(qpi.pod_info)

    # -- timers -------------------------------------------------------------------------

    def flush_backoff_q_completed(self) -> None:
        """``flushBackoffQCompleted``: every pod whose backoff is over goes to ``activeQ``."""
        while True:
            head = self.backoff_q.peek()
            if head is None or self.is_pod_backing_off(head):
                return
            self.backoff_q.pop()
            self._add_to_active_q(head)

    def flush_unschedulable_pods_leftover(self) -> None:
        """``flushUnschedulablePodsLeftover``: pods waiting in ``unschedulablePods`` longer
        than ``podMaxInUnschedulablePodsDuration`` move, as on ``UnschedulableTimeout``."""
        now = self.clock()
        leftover = [qpi for qpi in self.unschedulable_pods.values()
                    if now - qpi.timestamp > self.pod_max_in_unschedulable_pods_duration]
        if leftover:
            self._move_pods_to_active_or_backoff_queue(leftover, UNSCHEDULABLE_TIMEOUT)

    # -- pod updates --------------------------------------------------------------------

    def update(self, old_pod: Pod | None, new_pod: Pod) -> None:
        """``Update``: refresh a queued pod; a pod waiting in ``unschedulablePods`` moves
        on if the update may make it schedulable (:func:`is_pod_updated`); a pod in no queue
        is added to ``activeQ``."""
        if old_pod is not None:
            for heap in (self.active_q, self.backoff_q):
                qpi = heap.get(old_pod)
                if qpi is not None:
                    qpi.pod_info = PodInfo(new_pod)
                    self.nominator.update_nominated_pod(old_pod, qpi.pod_info)
                    heap.add(qpi)
                    return
        qpi = self.unschedulable_pods.get(new_pod.key)
        if qpi is not None:
            qpi.pod_info = PodInfo(new_pod)
            self.nominator.update_nominated_pod(old_pod if old_pod is not None else new_pod, qpi.pod_info)
            if old_pod is not None and is_pod_updated(old_pod, new_pod):
                if self.is_pod_backing_off(qpi):
                    self.backoff_q.add(qpi)
                    del self.unschedulable_pods[new_pod.key]
                elif self._add_to_active_q(qpi):
                    del self.unschedulable_pods[new_pod.key]
            return
        qpi = self._new_queued_pod_info(new_pod)
        if self._add_to_active_q(qpi):
            self.nominator.add_nominated_pod(qpi.pod_info)

    def delete(self, pod: Pod) -> None:
        """``Delete``: drop the pod from whichever queue holds it, and its nomination."""
        self.nominator.delete_nominated_pod_if_exists(pod)
        if self.active_q.delete(pod) is None:
            self.backoff_q.delete(pod)
            self.unschedulable_pods.pop(pod.key, None)

    # -- cluster events -----------------------------------------------------------------

    def _is_pod_worth_requeuing(self, qpi: QueuedPodInfo, event: ClusterEvent) -> bool:
        """``isPodWorthRequeuing`` with every hint ``QueueAfterBackoff``: a pod no plugin
        rejected, a wildcard event, or an event registered by a plugin that rejected it."""
        if not qpi.unschedulable_plugins or event.is_wildcard():
            return True
        events = self._events_for(qpi.pod)
        if events is None:
            return True
        return any(registered.matches(event) and not qpi.unschedulable_plugins.isdisjoint(names)
                   for registered, names in events.items())

    def _requeue(self, qpi: QueuedPodInfo) -> None:
        """``requeuePodViaQueueingHint`` for ``queueAfterBackoff``: ``backoffQ`` while the
        pod backs off, else ``activeQ`` (a gated pod is parked again by ``addToActiveQ``)."""
        if self.is_pod_backing_off(qpi):
            self.backoff_q.add(qpi)
        else:
            self._add_to_active_q(qpi)

    def _move_pods_to_active_or_backoff_queue(self, pods: list[QueuedPodInfo], event: ClusterEvent) -> None:
        """``movePodsToActiveOrBackoffQueue``; records the move request's cycle."""
        for qpi in pods:
            if not self._is_pod_worth_requeuing(qpi, event):
                continue
            self.unschedulable_pods.pop(qpi.pod.key, None)
            self._requeue(qpi)
        self.move_request_cycle = self.scheduling_cycle

    def move_all_to_active_or_backoff_queue(self, event: ClusterEvent,
                                            pre_check: PreEnqueueCheck | None = None) -> None:
        """``MoveAllToActiveOrBackoffQueue``: offer ``event`` to every pod in
        ``unschedulablePods`` that passes ``pre_check``."""
        pods = [qpi for qpi in self.unschedulable_pods.values() if pre_check is None or pre_check(qpi.pod)]
        self._move_pods_to_active_or_backoff_queue(pods, event)

    def _unschedulable_pods_with_matching_affinity_term(self, pod: Pod) -> list[QueuedPodInfo]:
        """``getUnschedulablePodsWithMatchingAffinityTerm``: waiting pods with a required
        pod-affinity term the assigned ``pod`` satisfies."""
        ns_labels = None if self._namespace_labels is None else self._namespace_labels(pod.metadata.namespace)
        return [qpi for qpi in self.unschedulable_pods.values()
                if any(term.matches(pod, ns_labels) for term in qpi.pod_info.required_affinity_terms)]

    def assigned_pod_added(self, pod: Pod) -> None:
        """``AssignedPodAdded``: a bound pod may satisfy waiting pods' affinity."""
        self._move_pods_to_active_or_backoff_queue(self._unschedulable_pods_with_matching_affinity_term(pod),
                                                   ASSIGNED_POD_ADD)

    def assigned_pod_updated(self, pod: Pod) -> None:
        """``AssignedPodUpdated``: a bound pod's new labels may satisfy waiting pods'
        affinity (in-place resize is alpha and off in v1.28)."""
        self._move_pods_to_active_or_backoff_queue(self._unschedulable_pods_with_matching_affinity_term(pod),
                                                   ASSIGNED_POD_UPDATE)

    # -- introspection ------------------------------------------------------------------

    def pending_pods(self) -> tuple[list[Pod], str]:
        """``PendingPods``: every queued pod and ``activeQ:N; backoffQ:N; unschedulablePods:N``."""
        pods = ([q.pod for q in self.active_q] + [q.pod for q in self.backoff_q]
                + [q.pod for q in self.unschedulable_pods.values()])
        return pods, PENDING_PODS_SUMMARY.format(len(self.active_q), len(self.backoff_q),
                                                 len(self.unschedulable_pods))

    def where(self, pod: Pod) -> str | None:
        """Which queue holds the pod (``Active``, ``Backoff``, ``Unschedulable``), if any."""
        if self.active_q.get(pod) is not None:
            return ACTIVE_Q
        if self.backoff_q.get(pod) is not None:
            return BACKOFF_Q
        if pod.key in self.unschedulable_pods:
            return UNSCHEDULABLE_PODS
        return None

    # -- the nominator ------------------------------------------------------------------

    def add_nominated_pod(self, pod_info: PodInfo, node_name: str | None = None) -> None:
        self.nominator.add_nominated_pod(pod_info, node_name)

    def delete_nominated_pod_if_exists(self, pod: Pod) -> None:
        self.nominator.delete_nominated_pod_if_exists(pod)

    def update_nominated_pod(self, old_pod: Pod, new_pod_info: PodInfo) -> None:
        self.nominator.update_nominated_pod(old_pod, new_pod_info)

    def nominated_pods_for_node(self, node_name: str) -> list[PodInfo]:
        return self.nominator.nominated_pods_for_node(node_name)

