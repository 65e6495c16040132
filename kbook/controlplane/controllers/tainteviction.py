"""The taint-eviction controller (``pkg/controller/tainteviction/taint_eviction.go``, formerly
the NoExecute taint manager).

When a node carries NoExecute taints, each pod on it that does not tolerate all of them is
deleted at once; a pod that tolerates them for ``tolerationSeconds`` is deleted that long
after the controller saw the taint (the smallest of its tolerations' seconds); a toleration
without seconds tolerates forever. When the taints go, pending deletions are cancelled.

The DefaultTolerationSeconds admission plugin (``plugin/pkg/admission/defaulttolerationseconds``)
gives every pod without them ``not-ready:NoExecute`` and ``unreachable:NoExecute``
tolerations of 300 s; :func:`effective_tolerations` applies the same default here, so pods
created without it behave as on a real cluster. Left out: the DisruptionTarget condition
written before the delete, and the worker pool (deletions take no simulated time).
"""

from __future__ import annotations

from dataclasses import dataclass

import simpy

from kbook.api import Node, Pod, Taint, Toleration
from kbook.controlplane.apiserver.types import API, APIError, NotFound
from kbook.controlplane.controllers.informer import EventHandler, InformerFactory
from kbook.controlplane.controllers.nodelifecycle import TAINT_NOT_READY, TAINT_UNREACHABLE
from kbook.eventlog import EventLog

__all__ = [
    "DEFAULT_TOLERATION_SECONDS",
    "TaintEvictionController",
    "matching_tolerations",
    "effective_tolerations",
    "min_toleration_time",
]

DEFAULT_TOLERATION_SECONDS = 300  # --default-not-ready/unreachable-toleration-seconds


def matching_tolerations(taints: list[Taint], tolerations: list[Toleration]) -> tuple[bool, list[Toleration]]:
    """``GetMatchingTolerations``: whether every taint is tolerated, and by which tolerations."""
    used = []
    for taint in taints:
        tol = next((t for t in tolerations if t.tolerates(taint)), None)
        if tol is None:
            return False, []
        used.append(tol)
    return True, used


def effective_tolerations(pod: Pod) -> list[Toleration]:
    """The pod's tolerations plus what DefaultTolerationSeconds admission would have added."""
    tolerations = list(pod.spec.tolerations)
    for key in (TAINT_NOT_READY, TAINT_UNREACHABLE):
        probe = Taint(key=key, effect="NoExecute")
        if not any(t.tolerates(probe) for t in tolerations):
            tolerations.append(Toleration(key=key, operator="Exists", effect="NoExecute",
                                          toleration_seconds=DEFAULT_TOLERATION_SECONDS))
    return tolerations


def min_toleration_time(tolerations: list[Toleration]) -> float:
    """``getMinTolerationTime``: the smallest tolerationSeconds (<= 0 counts as 0); -1 when
    none is set (tolerate forever)."""
    seconds = [max(t.toleration_seconds, 0) for t in tolerations if t.toleration_seconds is not None]
    return float(min(seconds)) if seconds else -1.0


@dataclass
class _Work:
    created_at: float
    fire_at: float


class TaintEvictionController:
    """``tainteviction.Controller``: ``start()`` it; it shares ``informers`` when given."""

    name = "taint-eviction-controller"

    def __init__(self, env: simpy.Environment, api: API, *, informers: InformerFactory | None = None,
                 log: EventLog | None = None):
        self.env, self.api, self.log = env, api, log
        self.informers = informers or InformerFactory(env, api, log=log)
        self._own_informers = informers is None
        self.node_informer = self.informers.informer("Node")
        self.pod_informer = self.informers.informer("Pod")
        self.pod_informer.indexer.add_index("nodeName", lambda p: [p.spec.node_name] if p.spec.node_name else [])
        self.pending: dict[str, _Work] = {}
        self._running = False
        self.node_informer.add_event_handler(EventHandler(self._node_changed, lambda old, cur: self._node_changed(cur),
                                                          self._node_deleted))
        self.pod_informer.add_event_handler(EventHandler(self._pod_changed, lambda old, cur: self._pod_changed(cur),
                                                         lambda pod: self._cancel(pod.key)))

    def start(self) -> None:
        if self._own_informers:
            self.informers.start()
        self._running = True

    def stop(self) -> None:
        self._running = False
        self.pending.clear()
        if self._own_informers:
            self.informers.stop()

    def record(self, verb: str, obj: str, detail: str = "") -> None:
        if self.log is not None:
            self.log.record(self.env.now, self.name, verb, obj, detail)

    @staticmethod
    def _no_execute(node: Node | None) -> list[Taint]:
        return [t for t in node.spec.taints if t.effect == "NoExecute"] if node is not None else []

    def _node_changed(self, node: Node) -> None:
        """``handleNodeUpdate``: re-examine every pod on the node."""
        if not self._running:
            return
        taints = self._no_execute(node)
        for pod in self.pod_informer.indexer.by_index("nodeName", node.metadata.name):
            self._process_pod(pod, taints)

    def _node_deleted(self, node: Node) -> None:
        for pod in self.pod_informer.indexer.by_index("nodeName", node.metadata.name):
            self._cancel(pod.key)

    def _pod_changed(self, pod: Pod) -> None:
        """``handlePodUpdate``."""
        if not self._running or not pod.spec.node_name:
            return
        if pod.metadata.deletion_timestamp is not None:
            self._cancel(pod.key)
            return
        self._process_pod(pod, self._no_execute(self.node_informer.indexer.get(pod.spec.node_name)))

    def _process_pod(self, pod: Pod, taints: list[Taint]) -> None:
        """``processPodOnNode``."""
        key, now = pod.key, self.env.now
        if not taints:
            self._cancel(key)
            return
        all_tolerated, used = matching_tolerations(taints, effective_tolerations(pod))
        if not all_tolerated:
            self._cancel(key)
            self._schedule(key, now, now)
            return
        wait = min_toleration_time(used)
        if wait < 0:
            self._cancel(key)
            return
        work = self.pending.get(key)
        if work is not None:
            if work.created_at < now:
                return  # scheduled earlier: that deadline stands
            self._cancel(key)
        self._schedule(key, now, now + wait)

    def _cancel(self, key: str) -> None:
        if self.pending.pop(key, None) is not None:
            self.record("TaintManagerEvictionCancelled", key)

    def _schedule(self, key: str, created_at: float, fire_at: float) -> None:
        work = _Work(created_at, fire_at)
        self.pending[key] = work
        self.env.process(self._evict_later(key, work))

    def _evict_later(self, key: str, work: _Work):
        yield self.env.timeout(max(work.fire_at - self.env.now, 0.0))
        if self.pending.get(key) is not work:
            return
        del self.pending[key]
        namespace, name = key.split("/", 1)
        try:
            self.api.delete("Pod", name, namespace)
            self.record("TaintManagerEviction", key, f"Marking for deletion Pod {key}")
        except NotFound:
            pass
        except APIError as err:
            self.record("EvictionFailed", key, str(err))
