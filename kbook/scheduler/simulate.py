"""Scheduling without a cluster: nodes and pods in, placements out.

:func:`simulate` runs the real :class:`~kbook.scheduler.schedule_one.Scheduler` (queue,
scheduling cycles, binding cycles, preemption) on a simulated clock: a bind takes effect
at once, as if the API server answered instantly, and when no pod is ready the clock
jumps to the next backoff expiry. Pods no event can help stay pending with the FitError
of their last attempt: what ``kubectl describe pod`` shows under ``FailedScheduling``.

Workloads in the input (Deployments, ReplicaSets) become their pods, named as the
ReplicaSet controller would (``<name>-<n>`` here, without the random suffix) and owned
by their ReplicaSet, so the default topology spreading sees them as one workload.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np
import pandas as pd

from kbook.api import Deployment, KubeObject, Node, OwnerReference, Pod, ReplicaSet
from kbook.scheduler.config import KubeSchedulerConfiguration
from kbook.scheduler.explain import Explanation
from kbook.scheduler.explain import explain as explain_pod
from kbook.scheduler.schedule_one import Scheduler

__all__ = ["simulate", "Simulation", "workload_pods", "HOST_KINDS"]

# kinds the default plugins list through the Handle (DefaultSelector, namespace selectors)
HOST_KINDS = ("Service", "ReplicaSet", "StatefulSet", "ReplicationController", "Namespace")


def _uid(key: str) -> str:
    """A stable uid for an object that has none (the API server would assign one)."""
    h = hashlib.sha256(key.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def workload_pods(obj: KubeObject) -> list[Pod]:
    """The pods a Pod, ReplicaSet or Deployment stands for (a Deployment through one
    ReplicaSet of the same name)."""
    if isinstance(obj, Pod):
        pod = copy.deepcopy(obj)
        pod.metadata.namespace = pod.metadata.namespace or "default"
        pod.metadata.uid = pod.metadata.uid or _uid(pod.key)
        return [pod]
    if not isinstance(obj, (Deployment, ReplicaSet)):
        return []
    ns = obj.metadata.namespace or "default"
    name = obj.metadata.name
    owner = OwnerReference(api_version="apps/v1", kind="ReplicaSet", name=name, uid=_uid(f"rs/{ns}/{name}"),
                           controller=True)
    pods = []
    replicas = 1 if obj.spec.replicas is None else obj.spec.replicas
    for i in range(replicas):
        template = copy.deepcopy(obj.spec.template)
        pod = Pod(metadata=template.metadata, spec=template.spec)
        pod.metadata.name = f"{name}-{i}"
        pod.metadata.namespace = ns
        pod.metadata.uid = _uid(pod.key)
        pod.metadata.owner_references = [owner]
        pods.append(pod)
    return pods


def _as_replicaset(obj: KubeObject) -> ReplicaSet | None:
    """A Deployment seen as the ReplicaSet it would own (for the default selector)."""
    if isinstance(obj, ReplicaSet):
        return obj
    if isinstance(obj, Deployment):
        return ReplicaSet(metadata=copy.deepcopy(obj.metadata), spec=copy.deepcopy(obj.spec))
    return None


class _Host:
    """The scheduler's world in a simulation: binds, deletes and nominations apply at once
    and are fed back to the scheduler as the informers would."""

    def __init__(self, objects: dict[str, list[Any]]) -> None:
        self._objects = objects
        self.sched: Scheduler | None = None
        self.pods: dict[str, Pod] = {}
        self.preempted: list[tuple[str, str]] = []  # (victim, preemptor's nominated node)

    def objects(self, kind: str) -> list[Any]:
        return list(self._objects.get(kind, ()))

    def bind_pod(self, pod: Pod, node_name: str) -> None:
        old = self.pods[pod.key]
        new = copy.deepcopy(old)
        new.spec.node_name = node_name
        self.pods[pod.key] = new
        self.sched.update_pod(old, new)

    def delete_pod(self, pod: Pod) -> None:
        old = self.pods.pop(pod.key, None)
        if old is not None:
            self.preempted.append((pod.key, old.spec.node_name))
            self.sched.remove_pod(old)

    def set_nominated_node_name(self, pod: Pod, node_name: str) -> None:
        old = self.pods.get(pod.key)
        if old is None:
            return
        new = copy.deepcopy(old)
        new.status.nominated_node_name = node_name
        self.pods[pod.key] = new
        self.sched.update_pod(old, new)


@dataclass
class Simulation:
    """The outcome: where each pod went (``""`` when pending), the FitError of each pending
    pod's last attempt, the pods preemption deleted, the attempt log, and the requested
    explanations."""

    placements: dict[str, str]
    pending: dict[str, str]
    preempted: list[str]
    attempts: list[dict[str, Any]] = field(repr=False)
    scheduler: Scheduler = field(repr=False)
    explanations: dict[str, Explanation] = field(default_factory=dict, repr=False)

    def table(self) -> pd.DataFrame:
        """One row per pod: its node, or why it is pending."""
        rows = [{"pod": key, "node": node, "status": "Scheduled" if node else "Pending",
                 "message": self.pending.get(key, "")} for key, node in self.placements.items()]
        return pd.DataFrame(rows, columns=["pod", "node", "status", "message"])


def simulate(nodes: Iterable[Node], pods: Iterable[KubeObject], config: KubeSchedulerConfiguration | None = None,
             *, seed: int = 0, engine: str = "arrays", objects: Iterable[KubeObject] = (),
             max_cycles: int | None = None, explain: Iterable[str] = ()) -> Simulation:
    """Schedule ``pods`` (Pods, ReplicaSets, Deployments; pods with ``spec.nodeName`` are
    already bound) onto ``nodes`` with the profile(s) of ``config`` (the default profile
    if None). ``objects`` are further cluster objects the plugins may list (Services,
    Namespaces). Pods enter the queue in input order, all at time 0. For each pod key in
    ``explain``, the state just before its first attempt is explained
    (:func:`kbook.scheduler.explain.explain`)."""
    now = [0.0]
    inputs = list(pods)
    listed: dict[str, list[Any]] = {kind: [] for kind in HOST_KINDS}
    for obj in [*inputs, *objects]:
        rs = _as_replicaset(obj)
        if rs is not None:
            listed["ReplicaSet"].append(rs)
        elif obj.kind in listed:
            listed[obj.kind].append(obj)
    host = _Host(listed)
    sched = Scheduler(config, host=host, rng=np.random.default_rng(seed), clock=lambda: now[0], engine=engine)
    host.sched = sched
    for node in nodes:
        sched.add_node(node)
    order = [p for obj in inputs for p in workload_pods(obj)]
    for pod in sorted(order, key=lambda p: not p.spec.node_name):  # bound pods first, as a list would
        host.pods[pod.key] = pod
        sched.add_pod(pod)
    last_error: dict[str, str] = {}
    attempts: list[dict[str, Any]] = []
    cycles = 0
    to_explain = set(explain)
    explanations: dict[str, Explanation] = {}
    while max_cycles is None or cycles < max_cycles:
        head = sched.queue.active_q.peek()
        if head is not None and head.pod.key in to_explain:
            to_explain.discard(head.pod.key)
            explanations[head.pod.key] = explain_pod(sched, head.pod)
        result = sched.schedule_one()
        if result is None:
            nxt = sched.queue.next_backoff_time()
            if nxt is None:
                break
            now[0] = max(now[0], nxt)
            sched.queue.flush_backoff_q_completed()
            continue
        cycles += 1
        if result.skipped:
            continue
        key = result.pod.key
        if result.succeeded and sched.binding_cycle(result) is None:
            last_error.pop(key, None)
            attempts.append({"time": now[0], "pod": key, "node": result.suggested_host, "message": ""})
        else:
            message = result.status.message() if result.status is not None else ""
            last_error[key] = message
            attempts.append({"time": now[0], "pod": key, "node": "", "message": message})
    placements = {p.key: host.pods[p.key].spec.node_name if p.key in host.pods else "" for p in order}
    victims = [key for key, _ in host.preempted]
    pending = {key: last_error.get(key, "") for key, node in placements.items() if not node and key not in victims}
    return Simulation(placements, pending, victims, attempts, sched, explanations)
