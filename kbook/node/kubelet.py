"""The kubelet: registers its Node, heartbeats through its Lease and the Node's status, and
runs the pods bound to it on the container runtime model.

Models ``pkg/kubelet``: ``kubelet_node_status.go`` (``registerWithAPIServer``,
``updateNodeStatus``: conditions refreshed every ``nodeStatusUpdateFrequency``, written when
they change or every ``nodeStatusReportFrequency``), the node lease controller
(``component-helpers/apimachinery/lease``: renew every 0.25 x 40 s), ``pod_workers.go`` (one
worker per pod), ``kuberuntime_manager.go`` ``SyncPod`` (per container: ensure the image,
create, start; restart per ``restartPolicy`` with CrashLoopBackOff) and the status manager
(the pod's status written through the status subresource; the deletion confirmed once the
containers are gone).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from kbook.api import (
    Container, ContainerImage, Lease, LeaseSpec, Node, NodeAddress, NodeCondition, NodeStatus, NodeSystemInfo,
    ObjectMeta, OwnerReference, Pod,
)
from kbook.container import SIGTERM, ContainerConfig, ModelRuntime, container_resources
from kbook.container.runtime import Host
from kbook.controlplane.apiserver.types import DELETED, ERROR, API, APIError, NotFound, WatchEvent, WatchHandle
from kbook.errors import KbookError
from kbook.eventlog import EventLog
from kbook.image import Image, LayerStore
from kbook.node.backoff import Backoff
from kbook.node.images import ImageManager, PullError
from kbook.node.podstatus import FAILED, SUCCEEDED, ContainerRecord, pod_conditions, pod_phase
from kbook.node.timestamps import go_duration, micro_timestamp, timestamp
from kbook.quantity import Quantity

__all__ = [
    "Kubelet", "NODE_LEASE_NAMESPACE", "NODE_LEASE_DURATION_SECONDS", "NODE_LEASE_RENEW_INTERVAL_FRACTION",
    "NODE_STATUS_UPDATE_FREQUENCY", "NODE_STATUS_REPORT_FREQUENCY", "MAX_PODS", "DEFAULT_BANDWIDTH",
    "EXIT_AFTER_ANNOTATION", "EXIT_CODE_ANNOTATION",
]

NODE_LEASE_NAMESPACE = "kube-node-lease"  # v1.NamespaceNodeLease
NODE_LEASE_DURATION_SECONDS = 40  # nodeLeaseDurationSeconds
NODE_LEASE_RENEW_INTERVAL_FRACTION = 0.25  # kubelet.go nodeLeaseRenewIntervalFraction
NODE_STATUS_UPDATE_FREQUENCY = 10.0  # nodeStatusUpdateFrequency
NODE_STATUS_REPORT_FREQUENCY = 300.0  # nodeStatusReportFrequency (5 min when the update frequency is default)
MAX_PODS = 110  # maxPods
DEFAULT_BANDWIDTH = 12_500_000.0  # bytes/s (100 Mbit/s): a model choice, not a Kubernetes default
DEFAULT_CAPACITY = {"cpu": "4", "memory": "16Gi", "pods": str(MAX_PODS)}

# kbook's failure model: a container exits this long after each start, with this code (default 1).
EXIT_AFTER_ANNOTATION = "kbook.io/exit-after-seconds"
EXIT_CODE_ANNOTATION = "kbook.io/exit-code"

# The node conditions the kubelet posts when healthy (kubelet_node_status.go setters).
_NODE_CONDITIONS = (
    ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
)
_NODE_STATUS_MAX_IMAGES = 50  # nodeStatusMaxImages


@dataclass
class _PodWorker:
    """One pod as its worker sees it."""

    pod: Pod
    abort: simpy.Event  # the pod is being deleted or the kubelet stopped (a plain event: SimPy
    # conditions nested in other conditions lose their callbacks, so none is kept for long)
    containers: list[ContainerRecord]
    ip: str
    start_time: str
    sandbox_ready: bool = False
    terminating: bool = False  # being deleted
    gone: bool = False  # the API object no longer exists
    live: dict[str, str] = field(default_factory=dict)  # container name -> runtime id
    exits: dict[str, simpy.Event] = field(default_factory=dict)  # container name -> exit, while running

    @property
    def uid(self) -> str:
        return self.pod.metadata.uid or self.pod.key


class Kubelet:
    """A node agent on ``env``, talking to ``api``.

    ``images`` is the registry (ref -> Image) pulls come from, into ``layer_store`` at
    ``bandwidth_bytes_per_s``; ``images=None`` leaves images out of the model (every image
    present, empty). A started container becomes ready ``readiness_delay_s`` after it
    starts (a readiness probe's initial delay); starting one takes ``container_start_s``.
    """

    def __init__(self, env: simpy.Environment, api: API, node_name: str, *,
                 images: Mapping[str, Image] | None = None, layer_store: LayerStore | None = None,
                 bandwidth_bytes_per_s: float = DEFAULT_BANDWIDTH, runtime: ModelRuntime | None = None,
                 log: EventLog | None = None, rng: np.random.Generator,
                 readiness_delay_s: float = 0.0, container_start_s: float = 1.0,
                 capacity: Mapping[str, str] | None = None, allocatable: Mapping[str, str] | None = None,
                 labels: Mapping[str, str] | None = None, node_ip: str = "10.0.0.2",
                 pod_cidr: str = "10.244.0.0/24", serialize_image_pulls: bool = True,
                 node_status_update_frequency_s: float = NODE_STATUS_UPDATE_FREQUENCY,
                 node_status_report_frequency_s: float = NODE_STATUS_REPORT_FREQUENCY):
        self.env = env
        self.api = api
        self.node_name = node_name
        self.log = log
        self.rng = rng
        self.runtime = runtime or ModelRuntime(Host(node_name), env)
        self.layer_store = layer_store or LayerStore()
        self.images = ImageManager(env, images, self.layer_store, bandwidth_bytes_per_s,
                                   serialize_image_pulls=serialize_image_pulls)
        self.restarts = Backoff()
        self.readiness_delay_s = readiness_delay_s
        self.container_start_s = container_start_s
        self.capacity = {k: Quantity(v) for k, v in (capacity or DEFAULT_CAPACITY).items()}
        self.allocatable = {k: Quantity(v) for k, v in (allocatable or capacity or DEFAULT_CAPACITY).items()}
        self.labels = {"kubernetes.io/hostname": node_name, "kubernetes.io/os": "linux",
                       "kubernetes.io/arch": "amd64", **(labels or {})}
        self.node_ip = node_ip
        self.status_update_frequency = node_status_update_frequency_s
        self.status_report_frequency = node_status_report_frequency_s
        self.lease_renew_interval = NODE_LEASE_DURATION_SECONDS * NODE_LEASE_RENEW_INTERVAL_FRACTION
        self.pods: dict[str, _PodWorker] = {}  # by pod UID
        self._ips: Iterator[ipaddress.IPv4Address | ipaddress.IPv6Address] = iter(
            list(ipaddress.ip_network(pod_cidr).hosts())[1:])  # .1 is the bridge's gateway
        self._stopped = env.event()
        self._watch: WatchHandle | None = None
        self._last_report = -np.inf

    @property
    def component(self) -> str:
        return f"kubelet/{self.node_name}"

    @property
    def running(self) -> bool:
        return self._watch is not None and not self._stopped.triggered

    def _record(self, verb: str, obj: str, detail: str = "") -> None:
        if self.log is not None:
            self.log.record(self.env.now, self.component, verb, obj, detail)

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Register the node, start heartbeating, and list and watch this node's pods."""
        self.env.process(self._node_status_loop())
        self.env.process(self._lease_loop())
        selector = f"spec.nodeName={self.node_name}"
        pods = self.api.list("Pod", field_selector=selector)
        for pod in pods.items:
            self._on_pod(WatchEvent("ADDED", pod))
        self._watch = self.api.watch("Pod", self._on_pod, resource_version=pods.resource_version,
                                     field_selector=selector)

    def stop(self) -> None:
        """The kubelet dies: no more lease renewals, node status or pod syncs. Its containers
        are left as they are."""
        if self._watch is not None:
            self._watch.stop()
        if not self._stopped.triggered:
            self._stopped.succeed()
            for worker in self.pods.values():
                if not worker.abort.triggered:
                    worker.abort.succeed()
            self._record("Stopped", f"node/{self.node_name}")

    def _sleep(self, seconds: float) -> Generator[Any, Any, bool]:
        """Wait; False if the kubelet stopped meanwhile."""
        yield self.env.timeout(seconds) | self._stopped
        return not self._stopped.triggered

    # --- node registration, status and lease --------------------------------------------------

    def _node_conditions(self, old: list[NodeCondition]) -> list[NodeCondition]:
        now, before = timestamp(self.env.now), {c.type: c for c in old}
        conditions = []
        for type_, status, reason, message in _NODE_CONDITIONS:
            prior = before.get(type_)
            since = prior.last_transition_time if prior is not None and prior.status == status else now
            conditions.append(NodeCondition(type=type_, status=status, last_heartbeat_time=now,
                                            last_transition_time=since, reason=reason, message=message))
        return conditions

    def _node_images(self) -> list[ContainerImage]:
        """``status.images``: the images on the node, largest first (at most 50)."""
        images = [ContainerImage(names=[ref], size_bytes=sum(layer.size for layer in self.layer_store.get(ref).layers))
                  for ref in self.layer_store.refs]
        return sorted(images, key=lambda i: -i.size_bytes)[:_NODE_STATUS_MAX_IMAGES]

    def _register(self) -> None:
        """``registerWithAPIServer``: create the Node (an existing one is taken over)."""
        node = Node(metadata=ObjectMeta(name=self.node_name, labels=dict(self.labels)),
                    status=NodeStatus(capacity=dict(self.capacity), allocatable=dict(self.allocatable),
                                      conditions=self._node_conditions([]),
                                      addresses=[NodeAddress(type="InternalIP", address=self.node_ip),
                                                 NodeAddress(type="Hostname", address=self.node_name)],
                                      node_info=NodeSystemInfo(operating_system="linux", architecture="amd64",
                                                               container_runtime_version="kbook://model"),
                                      images=self._node_images()))
        try:
            self.api.create(node)
            self._record("RegisterNode", f"node/{self.node_name}")
        except APIError as e:
            self._record("RegisterNode", f"node/{self.node_name}", f"{e.reason}: {e.message}")

    def _update_node_status(self) -> None:
        """``tryUpdateNodeStatus``: refresh the conditions' heartbeats; write when something
        besides the heartbeats changed or the report period passed."""
        node = self.api.get("Node", self.node_name)
        conditions, images = self._node_conditions(node.status.conditions), self._node_images()
        key = [(c.type, c.status, c.reason, c.message) for c in node.status.conditions]
        changed = key != [(c.type, c.status, c.reason, c.message) for c in conditions] or images != node.status.images
        if not changed and self.env.now - self._last_report < self.status_report_frequency:
            return
        node.status.conditions, node.status.images = conditions, images
        node.status.capacity, node.status.allocatable = dict(self.capacity), dict(self.allocatable)
        self.api.update_status(node)
        self._last_report = self.env.now
        self._record("UpdateNodeStatus", f"node/{self.node_name}", "Ready=True")

    def _node_status_loop(self) -> Generator[Any, Any, None]:
        self._register()
        while True:
            try:
                self._update_node_status()
            except APIError as e:
                self._record("UpdateNodeStatusFailed", f"node/{self.node_name}", f"{e.reason}: {e.message}")
            if not (yield from self._sleep(self.status_update_frequency)):
                return

    def _renew_lease(self) -> None:
        """The node lease controller: create the Lease, then move its ``renewTime``."""
        name, now = f"lease/{NODE_LEASE_NAMESPACE}/{self.node_name}", micro_timestamp(self.env.now)
        try:
            lease = self.api.get("Lease", self.node_name, NODE_LEASE_NAMESPACE)
        except NotFound:
            node = self.api.get("Node", self.node_name)
            owner = OwnerReference(api_version="v1", kind="Node", name=self.node_name, uid=node.metadata.uid)
            self.api.create(Lease(
                metadata=ObjectMeta(name=self.node_name, namespace=NODE_LEASE_NAMESPACE, owner_references=[owner]),
                spec=LeaseSpec(holder_identity=self.node_name, lease_duration_seconds=NODE_LEASE_DURATION_SECONDS,
                               renew_time=now)))
            self._record("CreateLease", name, now)
            return
        lease.spec.holder_identity = self.node_name
        lease.spec.lease_duration_seconds = NODE_LEASE_DURATION_SECONDS
        lease.spec.renew_time = now
        self.api.update(lease)
        self._record("RenewLease", name, now)

    def _lease_loop(self) -> Generator[Any, Any, None]:
        while True:
            try:
                self._renew_lease()
            except APIError as e:
                self._record("RenewLeaseFailed", f"lease/{NODE_LEASE_NAMESPACE}/{self.node_name}",
                             f"{e.reason}: {e.message}")
            if not (yield from self._sleep(self.lease_renew_interval)):
                return

    # --- pods ----------------------------------------------------------------------------------

    def _on_pod(self, event: WatchEvent) -> None:
        """The pod watch (``spec.nodeName`` = this node): start a worker for a new pod, tell
        it when the pod is being deleted or is gone."""
        if self._stopped.triggered:
            return
        if event.type == ERROR:
            self._record("WatchError", "pod", str(event.object))
            return
        pod: Pod = event.object
        worker = self.pods.get(pod.metadata.uid or pod.key)
        if worker is None:
            if event.type == DELETED or pod.status.phase in (SUCCEEDED, FAILED):
                return
            worker = self._new_worker(pod)
            self.env.process(self._pod_worker(worker))
        worker.pod = pod
        if event.type == DELETED:
            worker.gone = True
        if (event.type == DELETED or pod.metadata.deletion_timestamp) and not worker.terminating:
            worker.terminating = True
            worker.abort.succeed()

    def _new_worker(self, pod: Pod) -> _PodWorker:
        worker = _PodWorker(pod=pod, abort=self.env.event(),
                            containers=[ContainerRecord(c.name, c.image) for c in pod.spec.containers],
                            ip=str(next(self._ips)), start_time=timestamp(self.env.now))
        self.pods[worker.uid] = worker
        return worker

    def _event(self, worker: _PodWorker, reason: str, message: str) -> None:
        self._record(reason, f"pod/{worker.pod.key}", message)

    def _sync_status(self, worker: _PodWorker, terminal: bool = False) -> None:
        """The status manager: write the pod's status as the kubelet sees it."""
        if worker.gone:
            return
        meta = worker.pod.metadata
        try:
            pod = self.api.get("Pod", meta.name, meta.namespace)
        except NotFound:
            worker.gone = True
            return
        if meta.uid and pod.metadata.uid != meta.uid:
            worker.gone = True
            return
        phase = pod_phase(worker.containers, pod.spec.restart_policy, terminal)
        status = pod.status
        status.phase = phase
        status.conditions = pod_conditions(worker.containers, phase, worker.sandbox_ready, status.conditions,
                                           timestamp(self.env.now))
        status.host_ip, status.pod_ip, status.start_time = self.node_ip, worker.ip, worker.start_time
        status.container_statuses = [c.wire() for c in worker.containers]
        self.api.update_status(pod)
        states = " ".join(f"{c.name}={_state_text(c)}" for c in worker.containers)
        self._record("UpdatePodStatus", f"pod/{pod.key}", f"{phase} {states}")

    def _pod_worker(self, worker: _PodWorker) -> Generator[Any, Any, None]:
        """``podWorkerLoop``: sync the pod until it is deleted, then kill its containers and
        confirm the deletion."""
        self._sync_status(worker)
        worker.sandbox_ready = True  # RunPodSandbox: not timed in the model
        containers = [self.env.process(self._container_worker(worker, record, spec))
                      for record, spec in zip(worker.containers, worker.pod.spec.containers)]
        yield self.env.all_of(containers)
        yield worker.abort
        if not self._stopped.triggered:
            self._terminate(worker)

    def _container_worker(self, worker: _PodWorker, record: ContainerRecord,
                          spec: Container) -> Generator[Any, Any, None]:
        """One container through pulls, starts, exits and restarts (``SyncPod`` for one container)."""
        pull_key, restart_key = f"{worker.uid}_{spec.image}", f"{worker.uid}/{spec.name}"
        while not worker.abort.triggered:
            try:
                image = yield from self.images.ensure(spec, pull_key, lambda r, m: self._event(worker, r, m),
                                                  worker.abort)
            except PullError as e:
                record.state = {"waiting": {"reason": e.reason, "message": e.message}}
                self._sync_status(worker)
                retry = self.env.timeout(e.retry_after) if e.retry_after is not None else self.env.event()
                yield retry | worker.abort
                continue
            if image is None:
                return
            code = yield from self._run_once(worker, record, spec, image)
            if code is None:
                return
            policy = worker.pod.spec.restart_policy or "Always"
            if policy == "Never" or (policy == "OnFailure" and code == 0):
                return
            terminated = record.state
            # IsInBackOffSince(key, finishedAt): the first restart is immediate, then 10 s, 20 s, ...
            wait = self.restarts.remaining(restart_key, self.env.now, since=self.env.now)
            if wait > 0:
                delay = go_duration(self.restarts.get(restart_key))
                pod = f"{worker.pod.metadata.name}_{worker.pod.metadata.namespace}({worker.uid})"
                record.last_state = terminated
                record.state = {"waiting": {"reason": "CrashLoopBackOff", "message":
                                            f"back-off {delay} restarting failed container={spec.name} pod={pod}"}}
                self._event(worker, "BackOff", f"Back-off restarting failed container {spec.name} in pod {pod}")
                self._sync_status(worker)
                yield self.env.timeout(wait) | worker.abort
                if worker.abort.triggered:
                    return
            self.restarts.next(restart_key, self.env.now)
            record.last_state = terminated
            record.restart_count += 1

    def _run_once(self, worker: _PodWorker, record: ContainerRecord, spec: Container,
                  image: Image) -> Generator[Any, Any, int | None]:
        """Create, start and run the container until it exits (its exit code) or the pod is
        being deleted or the kubelet stopped (None)."""
        container_id = self.rng.bytes(32).hex()
        meta = worker.pod.metadata
        config = ContainerConfig(args=_process_args(spec, image), env=tuple(f"{e.name}={e.value}" for e in spec.env),
                                 hostname=worker.pod.spec.hostname or meta.name, resources=container_resources(spec))
        self.runtime.create(container_id, config, image, handles=(SIGTERM,))
        worker.live[spec.name] = container_id
        self._event(worker, "Created", f"Created container: {spec.name}")
        yield self.env.timeout(self.container_start_s) | worker.abort
        if worker.abort.triggered:
            return None
        self.runtime.start(container_id)
        started = self.env.now
        self._event(worker, "Started", f"Started container {spec.name}")
        record.container_id, record.image_id = container_id, image.config_digest
        record.state = {"running": {"startedAt": timestamp(started)}}
        record.ready = self.readiness_delay_s <= 0
        self._sync_status(worker)
        exited = worker.exits[spec.name] = self.env.event()
        exit_after, exit_code = self._exit_model(worker)
        timer = self.env.timeout(exit_after) if exit_after is not None else self.env.event()
        ready = self.env.timeout(max(0.0, self.readiness_delay_s))
        while True:
            yield self.env.any_of([worker.abort, exited, timer] + ([] if record.ready else [ready]))
            if worker.abort.triggered:
                return None
            if timer.processed and not exited.triggered:
                self.runtime.exit(container_id, exit_code)
                exited.succeed()
            if exited.triggered:
                break
            record.ready = True
            self._sync_status(worker)
        del worker.exits[spec.name]
        state = self.runtime.state(container_id)
        self.runtime.delete(container_id)
        del worker.live[spec.name]
        code = state.exit_code if state.exit_code is not None else 0
        record.state = {"terminated": _terminated(code, state.oom_killed, started, self.env.now, container_id)}
        record.ready = False
        self._event(worker, "ContainerDied", f"Container {spec.name} exited with code {code}")
        self._sync_status(worker)
        return code

    def _exit_model(self, worker: _PodWorker) -> tuple[float | None, int]:
        """The pod's failure-model annotations: seconds until each run exits (None: never)
        and the exit code; a value that does not parse is reported and ignored."""
        annotations = worker.pod.metadata.annotations
        after, code = annotations.get(EXIT_AFTER_ANNOTATION), annotations.get(EXIT_CODE_ANNOTATION, "1")
        try:
            seconds = float(after) if after is not None else None
            if seconds is not None and not seconds >= 0:
                raise ValueError
        except ValueError:
            self._event(worker, "InvalidAnnotation", f"{EXIT_AFTER_ANNOTATION}: {after!r}: expected seconds >= 0")
            seconds = None
        if not code.lstrip("-").isdigit():
            self._event(worker, "InvalidAnnotation", f"{EXIT_CODE_ANNOTATION}: {code!r}: expected an integer")
            code = "1"
        return seconds, int(code) % 256

    def exit_container(self, pod_key: str, container: str, exit_code: int = 1) -> None:
        """Make a running container's process exit now with ``exit_code`` (a test's or an
        experiment's failure injection); ``pod_key`` is ``namespace/name``."""
        for worker in self.pods.values():
            if worker.pod.key == pod_key and container in worker.exits:
                self.runtime.exit(worker.live[container], exit_code)
                worker.exits[container].succeed()
                return
        raise KbookError(f'pod "{pod_key}": container "{container}" is not running on node "{self.node_name}"')

    def _terminate(self, worker: _PodWorker) -> None:
        """``killPod``: stop the containers (SIGTERM; the model's programs handle it and exit
        0), write the final status (a terminal phase) and delete the pod with grace 0."""
        for record in worker.containers:
            container_id = worker.live.pop(record.name, None)
            if container_id is None:
                continue
            self._event(worker, "Killing", f"Stopping container {record.name}")
            was_running = "running" in record.state
            state = self.runtime.kill(container_id, SIGTERM)
            self.runtime.delete(container_id)
            if was_running:
                started = record.state["running"]["startedAt"]
                record.state = {"terminated": _terminated(state.exit_code or 0, False, started, self.env.now,
                                                          container_id)}
                record.ready = False
        self._sync_status(worker, terminal=True)
        del self.pods[worker.uid]
        if not worker.gone:
            meta = worker.pod.metadata
            try:
                self.api.delete("Pod", meta.name, meta.namespace, grace_period_seconds=0)
            except NotFound:
                pass
            self._record("DeletePod", f"pod/{worker.pod.key}", "grace period 0")


def _process_args(spec: Container, image: Image) -> tuple[str, ...]:
    """The process: command/args over the image's Entrypoint/Cmd (as the runtime merges them)."""
    entrypoint = spec.command or image.config.get("Entrypoint") or []
    args = spec.args or ([] if spec.command else image.config.get("Cmd") or [])
    return tuple(entrypoint) + tuple(args) or (spec.image,)


def _terminated(code: int, oom: bool, started: float | str, finished: float, container_id: str) -> dict[str, Any]:
    reason = "OOMKilled" if oom else ("Completed" if code == 0 else "Error")
    return {"exitCode": code, "reason": reason,
            "startedAt": started if isinstance(started, str) else timestamp(started),
            "finishedAt": timestamp(finished), "containerID": f"containerd://{container_id}"}


def _state_text(record: ContainerRecord) -> str:
    (kind, detail), = record.state.items()
    if kind == "running":
        return f"Running(ready={record.ready})"
    return f"{kind.capitalize()}({detail.get('reason', '')})"
