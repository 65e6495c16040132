"""Load on the pods: workloads attached to Deployments, turned into the CPU counters the
kubelets' cAdvisor would report (``container_cpu_usage_seconds_total``).

Every ``step_s`` (and whenever :meth:`LoadDriver.advance` is called, as metrics-server does
before it scrapes) each attachment's Ready pods share the load of its
:class:`~kbook.autoscaling.workload.Workload`; a running container's cumulative CPU seconds
grow by its usage over the elapsed time. Usage is held constant between advances, so a pod
that turns Ready starts serving at the next advance (at most ``step_s`` late). A pod serves
when it runs on a live kubelet, is not being deleted and all its containers are Ready; the
load goes to one container (``container``, default the first), the others idle at 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import simpy

from kbook.api import LabelSelector, Pod
from kbook.autoscaling.workload import LoadResult, Workload, WorkloadStats
from kbook.controlplane.apiserver.types import API, NotFound
from kbook.controlplane.controllers.timeutil import parse_time
from kbook.errors import KbookError
from kbook.node.kubelet import Kubelet

__all__ = ["LoadDriver", "Attachment", "ContainerCPU", "LOAD_STEP"]

LOAD_STEP = 5.0  # seconds between load updates: a model choice
_NONE: dict = {}  # no counters yet


@dataclass
class ContainerCPU:
    """One running container's cAdvisor counter: cumulative CPU seconds and start time."""

    container_id: str
    start_time: float
    cpu_seconds: float = 0.0
    usage: float = 0.0  # cores, held until the next advance


@dataclass
class Attachment:
    """A workload on the pods of Deployment ``namespace/name``; ``history`` rows are
    ``(t, rate, ready pods, pods, mean latency, SLO-violation share)`` at each advance."""

    namespace: str
    name: str
    workload: Workload
    container: str | None = None
    selector: LabelSelector | None = None
    stats: WorkloadStats = field(default_factory=WorkloadStats)
    history: list[tuple[float, float, int, int, float, float]] = field(default_factory=list)
    load: LoadResult | None = None
    pods: int = 0


def _cpu_limit(pod: Pod, container: str | None) -> tuple[str, float | None]:
    """The serving container's name and CPU limit in cores (None: no limit)."""
    spec = next((c for c in pod.spec.containers if container is None or c.name == container), None)
    if spec is None:
        raise KbookError(f'load: container "{container}" not found in pod {pod.key}')
    limit = spec.resources.limits.get("cpu")
    return spec.name, (limit.milli_value() / 1000.0 if limit is not None else None)


class LoadDriver:
    """The CPU counters of every container on ``kubelets``, driven by attached workloads."""

    def __init__(self, env: simpy.Environment, api: API, kubelets: Mapping[str, Kubelet], *,
                 step_s: float = LOAD_STEP):
        if not step_s > 0:
            raise KbookError(f"load step_s: must be > 0, got {step_s}")
        self.env, self.api, self.kubelets, self.step_s = env, api, kubelets, step_s
        self.attachments: list[Attachment] = []
        self.counters: dict[str, dict[str, ContainerCPU]] = {}  # pod uid -> container -> counter
        self._last = env.now
        self._matches: dict[str, tuple[Pod, int | None, str, float | None]] = {}  # uid -> (pod, attachment, ...)
        self._process: simpy.Process | None = None
        self._versions: list[tuple[Kubelet, int]] | None = None  # the kubelets' pods_version at the last look
        self._shares: list[tuple[tuple[ContainerCPU, ...], tuple[float | None, ...], int]] = []  # per attachment,
        # from the last look: the Ready pods' serving counters and CPU limits, and the pods

    def attach(self, deployment: str, workload: Workload, namespace: str = "default",
               container: str | None = None) -> Attachment:
        """Put ``workload`` on the pods of Deployment ``namespace/deployment`` (it may be
        created later); starts the driver."""
        attachment = Attachment(namespace, deployment, workload, container)
        self.attachments.append(attachment)
        self._versions = None
        if self._process is None:
            self._process = self.env.process(self._run())
        return attachment

    def _run(self):
        while True:
            self.advance()
            yield self.env.timeout(self.step_s)

    def _selector(self, a: Attachment) -> LabelSelector | None:
        if a.selector is None:
            try:
                a.selector = self.api.get("Deployment", a.name, a.namespace).spec.selector
            except NotFound:
                return None
        return a.selector

    def advance(self) -> None:
        """Account the CPU used since the last advance, then share the load anew. The pods
        are looked at again only when some kubelet's ``pods_version`` moved (or a
        Deployment's selector is not known yet); otherwise the last look still holds."""
        now = self.env.now
        dt = now - self._last
        self._last = now
        for a in self.attachments:
            if a.load is not None and dt > 0:
                a.stats.add(dt, a.load, a.pods)
        versions = [(kubelet, kubelet.pods_version) for kubelet in self.kubelets.values()]
        if versions != self._versions:
            self._look(dt)
            self._versions = versions if all(a.selector is not None for a in self.attachments) else None
        else:  # only the serving counters have a usage: the others' stays 0 from the look
            for ready, _, _ in self._shares:
                for counter in ready:
                    counter.cpu_seconds += counter.usage * dt
        for a, (ready, cores, pods) in zip(self.attachments, self._shares):
            a.load = a.workload.serve(now, cores)
            for counter, pod_load in zip(ready, a.load.pods):
                counter.usage = pod_load.usage
            a.pods = pods
            a.history.append((now, a.load.rate, len(a.load.pods), a.pods, a.load.latency, a.load.slo_violation))

    def _look(self, dt: float) -> None:
        """Look at every pod on the live kubelets: account its running containers' CPU over
        ``dt``, and note per attachment its Ready pods' counters and CPU limits and its pods."""
        counters: dict[str, dict[str, ContainerCPU]] = {}
        serving: dict[int, list[tuple[ContainerCPU, float | None]]] = {}  # Ready pods per attachment
        existing: dict[int, int] = {}  # pods per attachment
        seen: set[str] = set()
        for kubelet in self.kubelets.values():
            if not kubelet.running:
                continue
            for uid, worker in kubelet.pods.items():
                old = self.counters.get(uid, _NONE)
                mine: dict[str, ContainerCPU] = {}
                ready = not worker.terminating
                for record in worker.containers:
                    running = record.state.get("running")
                    if running is None:
                        ready = False
                        continue
                    ready &= record.ready
                    counter = old.get(record.name)
                    if counter is None or counter.container_id != record.container_id:  # new or restarted
                        counter = ContainerCPU(record.container_id, parse_time(running["startedAt"]))
                    else:
                        counter.cpu_seconds += counter.usage * dt
                    counter.usage = 0.0
                    mine[record.name] = counter
                if mine:
                    counters[uid] = mine
                seen.add(uid)
                i, name, cores = self._match(uid, worker.pod)
                if i is not None:  # the pod counts for its attachment, and serves if Ready
                    existing[i] = existing.get(i, 0) + 1
                    if ready and name in mine:
                        serving.setdefault(i, []).append((mine[name], cores))
        self.counters = counters
        self._matches = {uid: m for uid, m in self._matches.items() if uid in seen}
        self._shares = [(tuple(c for c, _ in serving.get(i, ())), tuple(cores for _, cores in serving.get(i, ())),
                         existing.get(i, 0)) for i in range(len(self.attachments))]

    def _match(self, uid: str, pod: Pod) -> tuple[int | None, str, float | None]:
        """The attachment whose Deployment selects the pod, its serving container and that
        container's CPU limit; kept while the worker holds the same Pod object."""
        cached = self._matches.get(uid)
        if cached is not None and cached[0] is pod:
            return cached[1:]
        match: tuple[int | None, str, float | None] = (None, "", None)
        resolved = True
        for i, a in enumerate(self.attachments):
            selector = self._selector(a)
            resolved &= selector is not None
            if selector is not None and pod.metadata.namespace == a.namespace and selector.matches(pod.metadata.labels):
                match = (i, *_cpu_limit(pod, a.container))
                break
        if resolved:
            self._matches[uid] = (pod, *match)
        return match
