"""Placement: the seam where a scheduler binds pending pods to nodes.

:class:`Placement` is what a :class:`~kbook.cluster.Cluster` starts: a component that
watches pods with no ``spec.nodeName`` and binds each to a node through the API.
:class:`SimplePlacement` is a minimal stand-in for kube-scheduler until ``kbook.scheduler``
plugs in: one filter pass (node Ready and schedulable, NoSchedule/NoExecute taints
tolerated, ``nodeSelector``, requests fit ``allocatable`` minus what is bound there:
``NodeResourcesFit``) and one score (``NodeResourcesLeastAllocated`` on cpu and memory with
the non-zero request defaults), ties broken at random with the cluster's seeded generator.
An unschedulable pod is retried after the scheduler's backoff, 1 s doubling to 10 s
(``podInitialBackoffSeconds``, ``podMaxBackoffSeconds``); there is no unschedulable pool,
so cluster events do not bring a retry forward. No priorities, preemption, affinity,
spreading or parallelism; a placement takes no simulated time. Nodes and pods are listed
and then watched; a watch ERROR (an expired or timed-out watch) means a fresh list.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np
import simpy

from kbook.api import Node, Pod, Taint, Toleration, pod_requests
from kbook.controlplane.apiserver.types import (
    ADDED, DELETED, ERROR, MODIFIED, API, APIError, NotFound, WatchEvent, WatchHandle,
)
from kbook.eventlog import EventLog

__all__ = [
    "Placement",
    "PlacementFactory",
    "SimplePlacement",
    "POD_INITIAL_BACKOFF_SECONDS",
    "POD_MAX_BACKOFF_SECONDS",
    "DEFAULT_MILLI_CPU_REQUEST",
    "DEFAULT_MEMORY_REQUEST",
    "fit_error",
]

POD_INITIAL_BACKOFF_SECONDS = 1.0  # kube-scheduler podInitialBackoffSeconds
POD_MAX_BACKOFF_SECONDS = 10.0  # podMaxBackoffSeconds
RELIST_BACKOFF_SECONDS = 1.0  # before listing again after a failed list or watch
DEFAULT_MILLI_CPU_REQUEST = 100  # pkg/scheduler/util: DefaultMilliCPURequest, for scoring only
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024  # DefaultMemoryRequest, 200 MB
MAX_NODE_SCORE = 100  # framework.MaxNodeScore
DEFAULT_SCHEDULER_NAME = "default-scheduler"
COMPONENT = "scheduler"


class Placement(Protocol):
    """A component that binds pending pods to nodes; the Cluster starts and stops it."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


PlacementFactory = Callable[[simpy.Environment, API, EventLog, np.random.Generator], Placement]


def fit_error(total: int, reasons: dict[str, int]) -> str:
    """``FitError.Error()``: ``0/3 nodes are available: 1 Insufficient cpu, 2 node(s) were
    not ready.`` (count-prefixed reasons sorted as strings)."""
    parts = sorted(f"{n} {reason}" for reason, n in reasons.items())
    return f"0/{total} nodes are available: {', '.join(parts)}."


def _tolerates(tolerations: list[Toleration], taint: Taint) -> bool:
    """``Toleration.ToleratesTaint`` for any of ``tolerations``."""
    for t in tolerations:
        if (t.effect and t.effect != taint.effect) or (t.key and t.key != taint.key):
            continue
        if t.operator == "Exists" or (t.operator in ("", "Equal") and t.value == taint.value):
            return True
    return False


def _ready(node: Node) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in node.status.conditions)


@dataclass(frozen=True)
class _Request:
    """A pod's requests as plain ints: exact for the fit, non-zero defaults for the score."""

    cpu: int  # millicores
    memory: int  # bytes
    nz_cpu: int
    nz_memory: int

    @classmethod
    def of(cls, pod: Pod) -> _Request:
        req = pod_requests(pod)
        cpu = req["cpu"].milli_value() if "cpu" in req else 0
        memory = req["memory"].value() if "memory" in req else 0
        return cls(cpu, memory, cpu or DEFAULT_MILLI_CPU_REQUEST, memory or DEFAULT_MEMORY_REQUEST)


class _Nodes:
    """The node table as arrays: allocatable, what bound pods use, and each node's verdict
    that does not depend on the pod (Ready and schedulable)."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.names: list[str] = []
        self.objects: list[Node | None] = []
        self.alloc = np.zeros((0, 3), dtype=np.int64)  # cpu (m), memory (bytes), pods
        self.used = np.zeros((0, 3), dtype=np.int64)
        self.nz_used = np.zeros((0, 2), dtype=np.int64)  # cpu, memory with non-zero defaults
        self.live = np.zeros(0, dtype=bool)  # False once deleted
        self.ready = np.zeros(0, dtype=bool)
        self.schedulable = np.zeros(0, dtype=bool)
        self.tainted: set[int] = set()

    def upsert(self, node: Node) -> None:
        name = node.metadata.name
        i = self.index.get(name)
        if i is None:
            i = self.index[name] = len(self.names)
            self.names.append(name)
            self.objects.append(node)
            self.alloc = np.vstack([self.alloc, np.zeros((1, 3), dtype=np.int64)])
            self.used = np.vstack([self.used, np.zeros((1, 3), dtype=np.int64)])
            self.nz_used = np.vstack([self.nz_used, np.zeros((1, 2), dtype=np.int64)])
            self.live = np.append(self.live, False)
            self.ready = np.append(self.ready, False)
            self.schedulable = np.append(self.schedulable, False)
        self.objects[i] = node
        self.live[i] = True
        a = node.status.allocatable
        self.alloc[i] = (
            a["cpu"].milli_value() if "cpu" in a else 0,
            a["memory"].value() if "memory" in a else 0,
            a["pods"].value() if "pods" in a else 0,
        )
        self.ready[i] = _ready(node)
        self.schedulable[i] = not node.spec.unschedulable
        if any(t.effect in ("NoSchedule", "NoExecute") for t in node.spec.taints):
            self.tainted.add(i)
        else:
            self.tainted.discard(i)

    def remove(self, name: str) -> None:
        """A deleted node stays in the table (its row index is stable) but is never picked."""
        i = self.index.get(name)
        if i is not None:
            self.objects[i] = None
            self.live[i] = False
            self.tainted.discard(i)


class SimplePlacement:
    """A stand-in for kube-scheduler: binds each pending pod to the least-allocated node
    that fits it. ``start()`` runs it as a SimPy process on ``env``."""

    def __init__(self, env: simpy.Environment, api: API, log: EventLog, rng: np.random.Generator,
                 scheduler_name: str = DEFAULT_SCHEDULER_NAME) -> None:
        self.env, self.api, self.log, self.rng = env, api, log, rng
        self.scheduler_name = scheduler_name
        self._nodes = _Nodes()
        self._bound: dict[str, tuple[int, _Request]] = {}  # pod key -> (node row, requests)
        self._pending: dict[str, Pod] = {}  # pod key -> latest unscheduled pod
        self._assumed: set[str] = set()  # bound by us, bind not yet seen on the watch
        self._attempts: dict[str, int] = {}
        self._active: deque[str] = deque()
        self._queued: set[str] = set()
        self._wakeup: simpy.Event | None = None
        self._watches: list[WatchHandle] = []
        self._relist = True
        self._process: simpy.Process | None = None

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> None:
        self._process = self.env.process(self._run())

    def stop(self) -> None:
        self._stop_watches()
        if self._process is not None and self._process.is_alive:
            self._process.interrupt()
        self._process = None

    def _stop_watches(self) -> None:
        for w in self._watches:
            w.stop()
        self._watches = []

    def _list_and_watch(self) -> None:
        """Replace what is known with a fresh list of nodes and pods, then watch both."""
        self._stop_watches()
        nodes, pods = self.api.list("Node"), self.api.list("Pod")
        self._nodes, self._bound, self._assumed = _Nodes(), {}, set()
        for node in nodes.items:
            self._nodes.upsert(node)
        listed = {pod.key for pod in pods.items}
        for key in [k for k in self._pending if k not in listed]:
            self._forget(key)
        for pod in pods.items:
            self._on_pod(WatchEvent(ADDED, pod))
        self._watches.append(self.api.watch("Node", self._on_node, resource_version=nodes.resource_version))
        self._watches.append(self.api.watch("Pod", self._on_pod, resource_version=pods.resource_version))

    # -- informers ------------------------------------------------------------------

    def _watch_error(self, event: WatchEvent) -> None:
        self.log.record(self.env.now, COMPONENT, "WatchClosed", "", str(event.object))
        self._relist = True
        self._wake()

    def _on_node(self, event: WatchEvent) -> None:
        if event.type == ERROR:
            self._watch_error(event)
        elif event.type == DELETED:
            self._nodes.remove(event.object.metadata.name)
        elif event.type in (ADDED, MODIFIED):
            self._nodes.upsert(event.object)

    def _on_pod(self, event: WatchEvent) -> None:
        if event.type == ERROR:
            self._watch_error(event)
            return
        if event.type not in (ADDED, MODIFIED, DELETED):
            return
        pod: Pod = event.object
        key = pod.key
        node_name = pod.spec.node_name
        if event.type == DELETED or pod.status.phase in ("Succeeded", "Failed"):
            self._forget(key)
            self._unbind(key)
            return
        if node_name:
            self._assumed.discard(key)
            self._forget(key)
            self._account(key, node_name, pod)
        elif key not in self._assumed and self._responsible(pod):
            self._pending[key] = pod
            if key not in self._attempts:
                self._attempts[key] = 0
                self._enqueue(key)

    def _responsible(self, pod: Pod) -> bool:
        return pod.metadata.deletion_timestamp is None and pod.spec.scheduler_name in ("", self.scheduler_name)

    def _forget(self, key: str) -> None:
        self._pending.pop(key, None)
        self._attempts.pop(key, None)

    def _account(self, key: str, node_name: str, pod: Pod) -> None:
        i = self._nodes.index.get(node_name)
        if i is None or (key in self._bound and self._bound[key][0] == i):
            return
        self._unbind(key)
        req = _Request.of(pod)
        self._bound[key] = (i, req)
        self._nodes.used[i] += (req.cpu, req.memory, 1)
        self._nodes.nz_used[i] += (req.nz_cpu, req.nz_memory)

    def _unbind(self, key: str) -> None:
        entry = self._bound.pop(key, None)
        if entry is not None:
            i, req = entry
            self._nodes.used[i] -= (req.cpu, req.memory, 1)
            self._nodes.nz_used[i] -= (req.nz_cpu, req.nz_memory)

    # -- queue ----------------------------------------------------------------------

    def _enqueue(self, key: str) -> None:
        if key in self._queued:
            return
        self._queued.add(key)
        self._active.append(key)
        self._wake()

    def _wake(self) -> None:
        if self._wakeup is not None and not self._wakeup.triggered:
            self._wakeup.succeed()

    def _backoff(self, key: str) -> None:
        attempts = self._attempts[key] = self._attempts.get(key, 0) + 1
        delay = min(POD_INITIAL_BACKOFF_SECONDS * 2 ** (attempts - 1), POD_MAX_BACKOFF_SECONDS)
        self.env.timeout(delay).callbacks.append(lambda _: self._retry(key))

    def _retry(self, key: str) -> None:
        if key in self._pending:
            self._enqueue(key)

    # -- the scheduling loop --------------------------------------------------------

    def _run(self):
        try:
            while True:
                if self._relist:
                    try:
                        self._list_and_watch()
                        self._relist = False
                    except APIError as err:
                        self.log.record(self.env.now, COMPONENT, "ListAndWatchFailed", "", str(err))
                        yield self.env.timeout(RELIST_BACKOFF_SECONDS)
                        continue
                if not self._active:
                    self._wakeup = self.env.event()
                    yield self._wakeup
                    self._wakeup = None
                    continue
                key = self._active.popleft()
                self._queued.discard(key)
                pod = self._pending.get(key)
                if pod is not None:
                    self._schedule(key, pod)
        except simpy.Interrupt:
            return

    def _schedule(self, key: str, pod: Pod) -> None:
        req = _Request.of(pod)
        feasible, reasons = self._filter(pod, req)
        if not feasible.any():
            self.log.record(self.env.now, COMPONENT, "FailedScheduling", f"pod/{key}",
                            fit_error(int(self._nodes.live.sum()), reasons))
            self._backoff(key)
            return
        node = self._nodes.names[self._select(feasible, req)]
        try:
            self._bind(pod, node)
        except NotFound:
            self._forget(key)
            return
        except APIError as err:
            self.log.record(self.env.now, COMPONENT, "FailedBinding", f"pod/{key}", str(err))
            self._backoff(key)
            return
        self._forget(key)
        self._assumed.add(key)
        self._account(key, node, pod)
        self.log.record(self.env.now, COMPONENT, "Scheduled", f"pod/{key}",
                        f"Successfully assigned {key} to {node}")

    def _filter(self, pod: Pod, req: _Request) -> tuple[np.ndarray, dict[str, int]]:
        """The feasible nodes, and why the others are not: the first filter each fails
        (node readiness, ``NodeUnschedulable``, ``TaintToleration``, ``NodeAffinity``, then
        ``NodeResourcesFit``, which names every resource that is short)."""
        n = self._nodes
        reasons: dict[str, int] = {}
        ok = n.live.copy()

        def reject(mask: np.ndarray, reason: str) -> None:
            nonlocal ok
            hit = ok & mask
            count = int(hit.sum())
            if count:
                reasons[reason] = reasons.get(reason, 0) + count
                ok &= ~mask

        reject(~n.ready, "node(s) were not ready")
        reject(~n.schedulable, "node(s) were unschedulable")
        for i in sorted(n.tainted):
            if ok[i]:
                node = n.objects[i]
                for taint in node.spec.taints:
                    if taint.effect in ("NoSchedule", "NoExecute") and not _tolerates(pod.spec.tolerations, taint):
                        reasons_key = f"node(s) had untolerated taint {{{taint.key}: {taint.value}}}"
                        reasons[reasons_key] = reasons.get(reasons_key, 0) + 1
                        ok[i] = False
                        break
        if pod.spec.node_selector:
            sel = pod.spec.node_selector.items()
            match = np.array([o is not None and all(o.metadata.labels.get(k) == v for k, v in sel)
                              for o in n.objects], dtype=bool)
            reject(~match, "node(s) didn't match Pod's node affinity/selector")
        free = n.alloc - n.used
        short = np.stack([free[:, 2] < 1, free[:, 0] < req.cpu, free[:, 1] < req.memory])
        for reason, mask in zip(("Too many pods", "Insufficient cpu", "Insufficient memory"), short):
            count = int((ok & mask).sum())  # NodeResourcesFit names every resource a node lacks
            if count:
                reasons[reason] = reasons.get(reason, 0) + count
        return ok & ~short.any(axis=0), reasons

    def _select(self, feasible: np.ndarray, req: _Request) -> int:
        """``NodeResourcesLeastAllocated``: mean over cpu and memory of
        ``(allocatable - requested) * 100 / allocatable``, integer as upstream; a random
        node among the best (``selectHost``)."""
        rows = np.flatnonzero(feasible)
        alloc = self._nodes.alloc[rows, :2]
        requested = self._nodes.nz_used[rows] + (req.nz_cpu, req.nz_memory)
        safe = np.maximum(alloc, 1)
        per = np.where((alloc > 0) & (requested <= alloc), (alloc - requested) * MAX_NODE_SCORE // safe, 0)
        score = per.sum(axis=1) // 2
        best = rows[score == score.max()]
        return int(best[self.rng.integers(len(best))]) if len(best) > 1 else int(best[0])

    def _bind(self, pod: Pod, node: str) -> None:
        """The binding (``pods/binding``): set ``spec.nodeName`` through the API."""
        self.api.patch("Pod", pod.metadata.name, {"spec": {"nodeName": node}}, pod.metadata.namespace)
