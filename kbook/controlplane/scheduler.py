"""kube-scheduler in the simulated cluster: :class:`kbook.scheduler.schedule_one.Scheduler`
(the framework, queue, cache and plugins) driven by informers and SimPy processes on the
cluster's environment, writing through the API server as upstream's scheduler does.

- Informers (client-go reflectors, :class:`~kbook.controlplane.controllers.informer.SharedInformer`)
  list and watch Nodes, Pods that are not finished (the field selector
  ``status.phase!=Succeeded,status.phase!=Failed`` of ``scheduler.go`` ``newPodInformer``),
  and the Services, ReplicaSets and Namespaces the default plugins read; their add, update
  and delete handlers feed the scheduler's cache and queue (``eventhandlers.go``). A watch
  ERROR or failed request means a fresh LIST after the reflector's backoff.
- One process runs scheduling cycles one pod at a time (``scheduleOne`` looped by
  ``wait.UntilWithContext``), sleeping while ``activeQ`` is empty. Each cycle takes
  ``cycle_seconds`` of simulated time: **a model assumption**, not a measurement (upstream
  takes a few milliseconds per pod, depending on nodes and plugins; scheduler_perf reaches
  several hundred to a thousand pods/s); the decision is made on the snapshot at the start
  of the cycle and its writes (preemption, nominations, PodScheduled=False) land at its end.
- A successful cycle's binding cycle (WaitOnPermit, PreBind, Bind, PostBind) runs in its own
  process (``go sched.bindingCycle``), or inline with ``parallel_binding=False``. It waits
  for a pod a Permit plugin holds (until the plugins decide or the timeout), then
  ``bind_latency`` seconds (the binding's round trip, also a model assumption), then posts
  the binding (``pods/binding``: ``spec.nodeName`` and ``PodScheduled=True``).
- The queue's timers (``PriorityQueue.Run``): ``flushBackoffQCompleted`` on a 1 s ticker
  (the process sleeps through ticks while ``backoffQ`` is empty) and
  ``flushUnschedulablePodsLeftover`` every 30 s.
- Events go to the event log with upstream's reasons and messages: ``Scheduled``
  (``Successfully assigned <ns>/<pod> to <node>``), ``FailedScheduling`` (the FitError or
  error text, truncated to the 1024-byte event limit), ``Preempted`` (``Preempted by pod
  <uid> on node <node>``). A failure also writes the pod's ``PodScheduled=False`` condition
  (reason ``Unschedulable`` or ``SchedulerError``) with its nominated node, in one status
  write, as ``updatePod`` does.

Defaults: no time per cycle and no bind latency, so pods bind at the instant they can.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any, Callable, Generator, Mapping

import numpy as np
import simpy

from kbook.api import Pod, PodCondition
from kbook.controlplane.apiserver.binding import POD_SCHEDULED, update_pod_condition
from kbook.controlplane.apiserver.metadata import timestamp
from kbook.controlplane.apiserver.types import API, APIError, NotFound
from kbook.controlplane.controllers.informer import EventHandler, SharedInformer
from kbook.errors import KbookError
from kbook.eventlog import EventLog
from kbook.scheduler.config import KubeSchedulerConfiguration
from kbook.scheduler.interface import PluginFactory
from kbook.scheduler.queue import FLUSH_BACKOFF_Q_COMPLETED_PERIOD, FLUSH_UNSCHEDULABLE_PODS_LEFTOVER_PERIOD
from kbook.scheduler.schedule_one import CycleResult, Scheduler
from kbook.scheduler.status import Status, is_success

__all__ = [
    "KubeScheduler",
    "KUBE_SCHEDULER_OPTIONS",
    "SchedulerStats",
    "ScheduledPod",
    "SchedulerOptionsError",
    "COMPONENT",
    "POD_FIELD_SELECTOR",
    "HOST_KINDS",
    "NOTE_LENGTH_LIMIT",
    "truncate_message",
]

COMPONENT = "scheduler"
POD_FIELD_SELECTOR = "status.phase!=Succeeded,status.phase!=Failed"  # scheduler.go newPodInformer
HOST_KINDS = ("Service", "ReplicaSet", "Namespace")  # what the default plugins list that kbook's API serves
NOTE_LENGTH_LIMIT = 1024  # validation.NoteLengthLimit: an event message's bytes
KUBE_SCHEDULER_OPTIONS = ("config", "engine", "cycle_seconds", "bind_latency", "parallel_binding", "registry")
CACHE_SYNC_POLL = 0.1  # cache.WaitForCacheSync polls every 100 ms
_TICK_TOLERANCE = 1e-9  # float slack when placing a backoff expiry on the 1 s ticker's grid


class SchedulerOptionsError(KbookError, ValueError):
    """A :class:`KubeScheduler` option with a value it cannot take; names the option."""


def truncate_message(message: str) -> str:
    """``truncateMessage``: an event message cut to :data:`NOTE_LENGTH_LIMIT` bytes, ending
    in `` ...``."""
    data = message.encode()
    if len(data) <= NOTE_LENGTH_LIMIT:
        return message
    suffix = " ..."
    return data[:NOTE_LENGTH_LIMIT - len(suffix)].decode(errors="ignore") + suffix


@dataclass
class SchedulerStats:
    """Counters the chapters read: scheduling cycles run (``attempts``, pods skipped because
    they were deleted or already assumed are not counted), how they ended, bindings posted
    and pods preempted."""

    attempts: int = 0
    unschedulable: int = 0  # cycles that found no node (or a plugin rejected the pod)
    errors: int = 0  # cycles or binding cycles that failed with an error
    scheduled: int = 0  # pods bound
    preempted: int = 0  # victims deleted


@dataclass(frozen=True)
class ScheduledPod:
    """One pod bound: where, when it was first tried (``initialAttemptTimestamp``), when
    the binding committed, and after how many scheduling attempts."""

    pod: str
    node: str
    first_attempt: float
    bound: float
    attempts: int


def _load_config(config: KubeSchedulerConfiguration | str | PathLike[str] | None) -> KubeSchedulerConfiguration | None:
    """A configuration object, a YAML file path or YAML text (None: the default profile)."""
    if config is None or isinstance(config, KubeSchedulerConfiguration):
        return config
    if isinstance(config, PathLike) or ("\n" not in config and Path(config).is_file()):
        return KubeSchedulerConfiguration.load_file(config)
    return KubeSchedulerConfiguration.loads(config)


def _check_seconds(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
        raise SchedulerOptionsError(f"{name}: must be a number of seconds >= 0, got {value!r}")
    return float(value)


@dataclass
class _Cycle:
    """What one cycle of ``pod_key`` asked the host to write, held until the cycle ends."""

    pod_key: str | None
    nomination: str | None = None  # the node nominated for the pod itself (merged into its status write)
    victims: list[Pod] = field(default_factory=list)
    writes: list[Callable[[], None]] = field(default_factory=list)


class _APIHost:
    """The scheduler's :class:`~kbook.scheduler.framework.SchedulerHost` over the API:
    objects from the informers' caches, bindings, deletions and status writes. During a
    call into the scheduler the owner sets ``cycle``; deletions and nominations are then
    held in it (and made when the cycle ends), the pod's own nomination separately."""

    def __init__(self, owner: KubeScheduler) -> None:
        self.owner = owner
        self.cycle: _Cycle | None = None

    def objects(self, kind: str) -> list[Any]:
        informer = self.owner.informers.get(kind)
        return informer.indexer.list() if informer is not None else []

    def bind_pod(self, pod: Pod, node_name: str) -> None:
        self.owner.api.bind(pod.metadata.name, node_name, pod.metadata.namespace, pod.metadata.uid)

    def delete_pod(self, pod: Pod) -> None:
        """A preemption victim (with the ``DisruptionTarget`` condition to patch in first)."""
        self._hold(lambda: self.owner._preempt(pod))
        if self.cycle is not None:
            self.cycle.victims.append(pod)

    def set_nominated_node_name(self, pod: Pod, node_name: str) -> None:
        if self.cycle is not None and pod.key == self.cycle.pod_key:
            self.cycle.nomination = node_name
        else:
            self._hold(lambda: self.owner._write_status(pod, None, node_name))

    def _hold(self, write: Callable[[], None]) -> None:
        if self.cycle is None:
            write()
        else:
            self.cycle.writes.append(write)


class KubeScheduler:
    """kube-scheduler as a :class:`~kbook.controlplane.placement.Placement` on ``env``,
    talking to ``api``; see the module docstring.

    ``config``: a :class:`~kbook.scheduler.config.KubeSchedulerConfiguration`, or YAML text
    or a file path (None: the default profile). ``engine``: ``"arrays"`` or ``"reference"``.
    ``cycle_seconds``: simulated seconds each scheduling cycle takes. ``bind_latency``:
    simulated seconds before each binding commits. ``parallel_binding``: binding cycles run
    alongside the scheduling loop (upstream) or, if False, the loop waits for each one.
    ``registry``: out-of-tree plugin factories by name, added to the in-tree ones
    (``WithFrameworkOutOfTreeRegistry``) for profiles to enable.
    """

    def __init__(self, env: simpy.Environment, api: API, log: EventLog, rng: np.random.Generator, *,
                 config: KubeSchedulerConfiguration | str | PathLike[str] | None = None, engine: str = "arrays",
                 cycle_seconds: float = 0.0, bind_latency: float = 0.0, parallel_binding: bool = True,
                 registry: Mapping[str, PluginFactory] | None = None) -> None:
        self.env, self.api, self.log = env, api, log
        self.cycle_seconds = _check_seconds("cycle_seconds", cycle_seconds)
        self.bind_latency = _check_seconds("bind_latency", bind_latency)
        if not isinstance(parallel_binding, bool):
            raise SchedulerOptionsError(f"parallel_binding: must be true or false, got {parallel_binding!r}")
        self.parallel_binding = parallel_binding
        self.host = _APIHost(self)
        self.scheduler = Scheduler(_load_config(config), host=self.host, rng=rng, clock=lambda: env.now,
                                   engine=engine, out_of_tree_registry=registry)
        self.stats = SchedulerStats()
        self.scheduled: list[ScheduledPod] = []
        reflector_rng = rng.spawn(1)[0]  # list/watch backoff jitter, apart from the scheduler's draws
        self.informers: dict[str, SharedInformer] = {
            kind: SharedInformer(env, api, kind, log=log, rng=reflector_rng, component=COMPONENT,
                                 field_selector=POD_FIELD_SELECTOR if kind == "Pod" else None)
            for kind in ("Node", "Pod", *HOST_KINDS)}
        self._register_handlers()
        self._processes: list[simpy.Process] = []
        self._bindings: set[simpy.Process] = set()  # binding cycles in flight
        self._idle: simpy.Event | None = None  # the scheduling loop waits on it for work
        self._backoff_wake: simpy.Event | None = None  # the backoff flusher waits on it
        self._flush_planned: float | None = None  # the backoff expiry the flusher sleeps towards
        self._permits: dict[str, simpy.Event] = {}  # uid of a pod waiting on Permit -> its decision
        self._started_at = 0.0

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Start the informers, the scheduling loop and the queue's timers."""
        if self._processes:
            return
        self._started_at = self.env.now
        for informer in self.informers.values():
            informer.start()
        self._processes = [self.env.process(p) for p in (
            self._scheduling_loop(), self._flush_backoff_loop(), self._flush_leftover_loop())]

    def stop(self) -> None:
        """Stop everything: informers, loops, binding cycles in flight."""
        for informer in self.informers.values():
            informer.stop()
        for process in [*self._processes, *self._bindings]:
            if process.is_alive:
                process.interrupt()
        self._processes, self._bindings = [], set()

    @property
    def running(self) -> bool:
        return bool(self._processes)

    def _register_handlers(self) -> None:
        """``addAllEventHandlers``: nodes and pods to the scheduler; the listed kinds only
        fill the informers' caches, which the plugins read through the host."""
        s = self.scheduler
        self.informers["Node"].add_event_handler(EventHandler(
            on_add=self._after(s.add_node), on_update=self._after(s.update_node),
            on_delete=self._after(s.remove_node)))
        self.informers["Pod"].add_event_handler(EventHandler(
            on_add=self._after(s.add_pod), on_update=self._after(s.update_pod),
            on_delete=self._after(s.remove_pod)))

    def _after(self, handler: Callable[..., None]) -> Callable[..., None]:
        def call(*args: Any) -> None:
            handler(*args)
            self._poke()
        return call

    # -- waking up ----------------------------------------------------------------------------

    def _poke(self) -> None:
        """After anything that may have given the queue work: wake the scheduling loop if
        ``activeQ`` has pods, the backoff flusher if an earlier expiry came, and the binding
        cycles of pods whose Permit wait the plugins decided."""
        queue = self.scheduler.queue
        if self._idle is not None and not self._idle.triggered and len(queue.active_q):
            self._idle.succeed()
        nxt = queue.next_backoff_time()
        if (self._backoff_wake is not None and not self._backoff_wake.triggered and nxt is not None
                and (self._flush_planned is None or nxt < self._flush_planned)):
            self._backoff_wake.succeed()
        for uid, decided in list(self._permits.items()):
            if not decided.triggered and self._permit_decided(uid):
                decided.succeed()

    def _permit_decided(self, uid: str) -> bool:
        for fwk in self.scheduler.profiles.values():
            waiting = fwk.get_waiting_pod(uid)
            if waiting is not None:
                return waiting.decided
        return True

    # -- the scheduling loop ------------------------------------------------------------------

    def _synced(self) -> bool:
        return all(informer.has_synced() for informer in self.informers.values())

    def _call(self, cycle: _Cycle, call: Callable[[], Any]) -> Any:
        """Call into the scheduler with ``cycle`` collecting what it asks the host to write."""
        self.host.cycle = cycle
        try:
            return call()
        finally:
            self.host.cycle = None

    def _scheduling_loop(self) -> Generator[simpy.Event, Any, None]:
        try:
            while not self._synced():  # WaitForCacheSync
                yield self.env.timeout(CACHE_SYNC_POLL)
            while True:
                head = self.scheduler.queue.active_q.peek()
                cycle = _Cycle(head.pod.key if head is not None else None)
                result = self._call(cycle, self.scheduler.schedule_one)
                if result is None:
                    self._idle = self.env.event()
                    yield self._idle
                    self._idle = None
                    continue
                if result.skipped:
                    continue
                self.stats.attempts += 1
                if self.cycle_seconds:
                    yield self.env.timeout(self.cycle_seconds)
                self._end_cycle(result, cycle)
                self._poke()
                if not result.succeeded:
                    continue
                if self.parallel_binding:
                    self._bindings.add(self.env.process(self._binding_process(result)))
                else:
                    yield from self._binding(result)
        except simpy.Interrupt:
            return

    def _end_cycle(self, result: CycleResult, cycle: _Cycle) -> None:
        """The cycle's writes land: preemption first, then the failure's status."""
        for write in cycle.writes:
            write()
        for victim in cycle.victims:
            self.stats.preempted += 1
            self._record("Preempted", victim,
                         f"Preempted by pod {result.pod.metadata.uid} on node {victim.spec.node_name}")
        if not result.succeeded:
            self._failed(result, result.status, cycle.nomination)

    def _failed(self, result: CycleResult, status: Status | None, nomination: str | None) -> None:
        """``handleSchedulingFailure``'s event and ``updatePod``."""
        message = status.message() if status is not None else ""
        if status is not None and status.is_rejected():
            self.stats.unschedulable += 1
        else:
            self.stats.errors += 1
        self._record("FailedScheduling", result.pod, truncate_message(message))
        condition = PodCondition(type=POD_SCHEDULED, status="False", reason=result.reason, message=message)
        self._write_status(result.pod, condition, nomination)

    # -- the binding cycle --------------------------------------------------------------------

    def _binding_process(self, result: CycleResult) -> Generator[simpy.Event, Any, None]:
        """A binding cycle in its own process (``go sched.bindingCycle``)."""
        try:
            yield from self._binding(result)
        except simpy.Interrupt:
            return
        finally:
            self._bindings.discard(self.env.active_process)

    def _binding(self, result: CycleResult) -> Generator[simpy.Event, Any, None]:
        """Wait on Permit, wait out the bind latency, run the binding cycle."""
        uid = result.pod.metadata.uid
        if result.permit_timeout > 0:
            decided = self._permits[uid] = self.env.event()
            yield self.env.timeout(result.permit_timeout) | decided
            del self._permits[uid]
        if self.bind_latency:
            yield self.env.timeout(self.bind_latency)
        cycle = _Cycle(result.pod.key)
        status = self._call(cycle, lambda: self.scheduler.binding_cycle(result))
        for write in cycle.writes:
            write()
        if is_success(status):
            self._bound(result)
        else:
            self._failed(result, status, cycle.nomination)
        self._poke()

    def _bound(self, result: CycleResult) -> None:
        pod, node = result.pod, result.suggested_host
        self.stats.scheduled += 1
        qpi = result.pod_info
        first = qpi.initial_attempt_timestamp if qpi.initial_attempt_timestamp is not None else self.env.now
        self.scheduled.append(ScheduledPod(pod.key, node, first, self.env.now, qpi.attempts))
        self._record("Scheduled", pod, f"Successfully assigned {pod.metadata.namespace}/{pod.metadata.name} to {node}")

    # -- the queue's timers -------------------------------------------------------------------

    def _flush_backoff_loop(self) -> Generator[simpy.Event, Any, None]:
        """``flushBackoffQCompleted`` on a 1 s ticker from the start, asleep while nothing
        backs off: it runs on the first tick at or after the earliest backoff expiry."""
        period = FLUSH_BACKOFF_Q_COMPLETED_PERIOD
        last = -math.inf  # the tick of the last flush
        try:
            while True:
                nxt = self.scheduler.queue.next_backoff_time()
                self._backoff_wake, self._flush_planned = self.env.event(), nxt
                if nxt is None:
                    yield self._backoff_wake
                    continue
                k = math.ceil((max(nxt, self.env.now) - self._started_at) / period - _TICK_TOLERANCE)
                tick = self._started_at + k * period
                if tick <= last:
                    tick = last + period
                if tick > self.env.now:
                    yield self.env.timeout(tick - self.env.now) | self._backoff_wake
                    if self.env.now < tick:  # an earlier expiry came: plan again
                        continue
                last = self.env.now
                self.scheduler.queue.flush_backoff_q_completed()
                self._poke()
        except simpy.Interrupt:
            return

    def _flush_leftover_loop(self) -> Generator[simpy.Event, Any, None]:
        """``flushUnschedulablePodsLeftover`` every 30 s."""
        try:
            while True:
                yield self.env.timeout(FLUSH_UNSCHEDULABLE_PODS_LEFTOVER_PERIOD)
                self.scheduler.queue.flush_unschedulable_pods_leftover()
                self._poke()
        except simpy.Interrupt:
            return

    # -- writes ---------------------------------------------------------------------------------

    def _write_status(self, pod: Pod, condition: PodCondition | None, nomination: str | None) -> None:
        """``updatePod`` / ``ClearNominatedNodeName``: the condition and the nominated node
        in one status write on the current pod, skipped when nothing would change. A pod
        gone meanwhile needs nothing; other errors are recorded (upstream logs them)."""
        try:
            live = self.api.get("Pod", pod.metadata.name, pod.metadata.namespace)
            changed = False
            if condition is not None:
                changed = update_pod_condition(live.status, condition, timestamp(self.env.now))
            if nomination is not None and live.status.nominated_node_name != nomination:
                live.status.nominated_node_name = nomination
                changed = True
            if changed:
                self.api.update_status(live)
        except NotFound:
            return
        except APIError as err:
            self._record("UpdatePodStatusFailed", pod, str(err))

    def _preempt(self, victim: Pod) -> None:
        """``preemptPod``: patch the victim's ``DisruptionTarget`` condition, then delete it
        (gracefully: it stays until its kubelet has stopped it)."""
        condition = next((c for c in victim.status.conditions if c.type == "DisruptionTarget"), None)
        try:
            if condition is not None:
                self._write_status(victim, condition, None)
            self.api.delete("Pod", victim.metadata.name, victim.metadata.namespace)
        except NotFound:
            return
        except APIError as err:
            self._record("PreemptionFailed", victim, str(err))

    def _record(self, verb: str, pod: Pod, detail: str) -> None:
        self.log.record(self.env.now, COMPONENT, verb, f"pod/{pod.key}", detail)

    # -- what the chapters read -------------------------------------------------------------

    def pending(self) -> Mapping[str, str]:
        """Pods waiting in the queue, by key: where (``Active``, ``Backoff``,
        ``Unschedulable``)."""
        pods, _ = self.scheduler.queue.pending_pods()
        return {p.key: self.scheduler.queue.where(p) or "" for p in pods}
