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

Talking to the API server fails sometimes (:mod:`kbook.faults`), and the kubelet carries on
as upstream does: its pods come through a client-go reflector (``LIST`` then ``WATCH``
``spec.nodeName=<node>``, retried with the ListAndWatch backoff, a fresh ``LIST`` after a
watch ends); registration is retried 200 ms after a failure, doubling up to 7 s; a node
status update is tried ``nodeStatusUpdateRetry`` = 5 times per period; the lease controller
updates the lease it last wrote (no GET), falls back to GET-or-create with a backoff of
200 ms doubling to 7 s, tries an update 5 times (``maxUpdateRetries``) and otherwise waits
for the next renew interval; a pod status or the final deletion that fails is retried by
the status manager every ``syncPeriod`` (10 s).
"""

from __future__ import annotations

import copy
from collections.abc import Generator, Mapping
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
from kbook.controlplane.apiserver.types import (
    ADDED, DELETED, MODIFIED, API, AlreadyExists, APIError, Conflict, NotFound, WatchEvent,
)
from kbook.controlplane.controllers.informer import EventHandler, SharedInformer
from kbook.errors import KbookError
from kbook.eventlog import EventLog
from kbook.image import Image, LayerStore
from kbook.node.backoff import Backoff
from kbook.node.images import ImageManager, PullError
from kbook.node.ipam import HostLocalIPAM
from kbook.node.podstatus import FAILED, SUCCEEDED, ContainerRecord, pod_conditions, pod_phase
from kbook.node.timestamps import go_duration, micro_timestamp, timestamp
from kbook.quantity import Quantity

__all__ = [
    "Kubelet", "NODE_LEASE_NAMESPACE", "NODE_LEASE_DURATION_SECONDS", "NODE_LEASE_RENEW_INTERVAL_FRACTION",
    "NODE_STATUS_UPDATE_FREQUENCY", "NODE_STATUS_REPORT_FREQUENCY", "MAX_PODS", "DEFAULT_BANDWIDTH",
    "NODE_STATUS_UPDATE_RETRY", "STATUS_SYNC_PERIOD",
    "EXIT_AFTER_ANNOTATION", "EXIT_CODE_ANNOTATION",
]

NODE_LEASE_NAMESPACE = "kube-node-lease"  # v1.NamespaceNodeLease
NODE_LEASE_DURATION_SECONDS = 40  # nodeLeaseDurationSeconds
NODE_LEASE_RENEW_INTERVAL_FRACTION = 0.25  # kubelet.go nodeLeaseRenewIntervalFraction
NODE_STATUS_UPDATE_FREQUENCY = 10.0  # nodeStatusUpdateFrequency
NODE_STATUS_REPORT_FREQUENCY = 300.0  # nodeStatusReportFrequency (5 min when the update frequency is default)
MAX_PODS = 110  # maxPods
NODE_STATUS_UPDATE_RETRY = 5  # kubelet.go nodeStatusUpdateRetry
STATUS_SYNC_PERIOD = 10.0  # status_manager.go syncPeriod: failed pod status writes are retried this often
LEASE_MAX_UPDATE_RETRIES = 5  # component-helpers/apimachinery/lease maxUpdateRetries
LEASE_MAX_BACKOFF = 7.0  # lease controller maxBackoff (seconds)
REGISTER_MAX_STEP = 7.0  # registerWithAPIServer: 100 ms doubling, capped at 7 s
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
    status_pending: bool = False  # a status write failed; the status manager retries it
    terminal: bool = False  # the status to write is the final one (containers killed)
    finished: bool = False  # killed; the final status and the deletion are left to write
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
        self.pods_version = 0  # moves whenever a worker starts or goes, its Pod or a container's state changes,
        # and on start and stop (as the status manager's versionedPodStatus.version moves on each SetPodStatus)
        self._ipam = HostLocalIPAM(pod_cidr)
        self._stopped = env.event()
        self._informer: SharedInformer | None = None
        self._reflector_rng = rng.spawn(1)[0]  # backoff jitter, apart from the runtime's draws
        self._lease: Lease | None = None  # the lease as last written (the lease controller's latestLease)
        self._last_report = -np.inf

    @property
    def component(self) -> str:
        return f"kubelet/{self.node_name}"

    @property
    def running(self) -> bool:
        return self._informer is not None and not self._stopped.triggered

    def _record(self, verb: str, obj: str, detail: str = "") -> None:
        if self.log is not None:
            self.log.record(self.env.now, self.component, verb, obj, detail)

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Register the node, start heartbeating, and list and watch this node's pods."""
        if self._informer is not None:
            return
        self.pods_version += 1
        self.env.process(self._node_status_loop())
        self.env.process(self._lease_loop())
        self.env.process(self._status_sync_loop())
        self._informer = SharedInformer(self.env, self.api, "Pod", field_selector=f"spec.nodeName={self.node_name}",
                                        log=self.log, rng=self._reflector_rng, synchronous=True,
                                        component=self.component)
        self._informer.add_event_handler(EventHandler(
            on_add=lambda pod: self._on_pod(WatchEvent(ADDED, pod)),
            on_update=lambda old, pod: self._on_pod(WatchEvent(MODIFIED, pod)),
            on_delete=lambda pod: self._on_pod(WatchEvent(DELETED, pod))))
        self._informer.start()

    def stop(self) -> None:
        """The kubelet dies: no more lease renewals, node status or pod syncs. Its containers
        are left as they are."""
        if self._informer is not None:
            self._informer.stop()
        if not self._stopped.triggered:
            self._stopped.succeed()
            self.pods_version += 1
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

    def _register(self) -> Generator[Any, Any, bool]:
        """``registerWithAPIServer``: try to create the Node (an existing one is taken over)
        until it works, waiting 200 ms after the first failure, doubling up to 7 s (upstream
        sleeps a step of 100 ms before every try and doubles it); False if the kubelet
        stopped first."""
        step = 0.1
        while not self._try_register():
            step = min(step * 2, REGISTER_MAX_STEP)
            if not (yield from self._sleep(step)):
                return False
        return True

    def _try_register(self) -> bool:
        """``tryRegisterWithAPIServer``."""
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
        except AlreadyExists as e:
            self._record("RegisterNode", f"node/{self.node_name}", f"{e.reason}: {e.message}")
        except APIError as e:
            self._record("RegisterNodeFailed", f"node/{self.node_name}", f"{e.reason}: {e.message}")
            return False
        return True

    def _update_node_status(self) -> None:
        """``tryUpdateNodeStatus``: refresh the conditions' heartbeats; write when something
        besides the heartbeats changed or the report period passed."""
        node, images = self.api.get("Node", self.node_name), self._node_images()
        key = tuple((c.type, c.status, c.reason, c.message) for c in node.status.conditions)
        changed = key != _NODE_CONDITIONS or images != node.status.images
        if not changed and self.env.now - self._last_report < self.status_report_frequency:
            return
        node.status.conditions, node.status.images = self._node_conditions(node.status.conditions), images
        node.status.capacity, node.status.allocatable = dict(self.capacity), dict(self.allocatable)
        self.api.update_status(node)
        self._last_report = self.env.now
        self._record("UpdateNodeStatus", f"node/{self.node_name}", "Ready=True")

    def _node_status_loop(self) -> Generator[Any, Any, None]:
        if not (yield from self._register()):
            return
        while True:
            # updateNodeStatus: nodeStatusUpdateRetry tries, then wait for the next period
            for _ in range(NODE_STATUS_UPDATE_RETRY):
                try:
                    self._update_node_status()
                    break
                except APIError as e:
                    self._record("UpdateNodeStatusFailed", f"node/{self.node_name}", f"{e.reason}: {e.message}")
            if not (yield from self._sleep(self.status_update_frequency)):
                return

    def _new_lease(self, base: Lease | None) -> Lease:
        """``newLease``: ``base`` (or a new Lease) held by this node and renewed now, owned by
        the Node once its uid can be read (``SetNodeOwnerFunc``, tried on every renewal)."""
        if base is None:
            lease = Lease(metadata=ObjectMeta(name=self.node_name, namespace=NODE_LEASE_NAMESPACE), spec=LeaseSpec())
        else:
            lease = copy.deepcopy(base)
        lease.spec.holder_identity = self.node_name
        lease.spec.lease_duration_seconds = NODE_LEASE_DURATION_SECONDS
        lease.spec.renew_time = micro_timestamp(self.env.now)
        if not lease.metadata.owner_references:
            try:
                node = self.api.get("Node", self.node_name)
                lease.metadata.owner_references = [OwnerReference(api_version="v1", kind="Node", name=self.node_name,
                                                                  uid=node.metadata.uid)]
            except APIError as e:
                self._record("SetLeaseOwnerFailed", self._lease_name, f"{e.reason}: {e.message}")
        return lease

    @property
    def _lease_name(self) -> str:
        return f"lease/{NODE_LEASE_NAMESPACE}/{self.node_name}"

    def _ensure_lease(self) -> tuple[Lease, bool]:
        """``ensureLease``: GET the lease, create it when absent; (lease, created)."""
        try:
            return self.api.get("Lease", self.node_name, NODE_LEASE_NAMESPACE), False
        except NotFound:
            lease = self.api.create(self._new_lease(None))
            self._record("CreateLease", self._lease_name, lease.spec.renew_time)
            return lease, True

    def _backoff_ensure_lease(self) -> Generator[Any, Any, tuple[Lease | None, bool]]:
        """``backoffEnsureLease``: ``ensureLease`` until it works, waiting 200 ms after the
        first failure, doubling up to 7 s; (None, False) if the kubelet stopped first."""
        sleep = 0.1
        while True:
            try:
                return self._ensure_lease()
            except APIError as e:
                sleep = min(2 * sleep, LEASE_MAX_BACKOFF)
                self._record("EnsureLeaseFailed", self._lease_name,
                             f"{e.reason}: {e.message}; will retry in {go_duration(sleep)}")
                if not (yield from self._sleep(sleep)):
                    return None, False

    def _retry_update_lease(self, base: Lease) -> Generator[Any, Any, bool]:
        """``retryUpdateLease``: up to ``maxUpdateRetries`` updates; a Conflict GETs the
        lease again first."""
        for _ in range(LEASE_MAX_UPDATE_RETRIES):
            try:
                self._lease = self.api.update(self._new_lease(base))
                self._record("RenewLease", self._lease_name, self._lease.spec.renew_time)
                return True
            except APIError as e:
                self._record("RenewLeaseFailed", self._lease_name, f"{e.reason}: {e.message}")
                if isinstance(e, Conflict):
                    fresh, _ = yield from self._backoff_ensure_lease()
                    if fresh is None:
                        return False
                    base = fresh
        return False

    def _sync_lease(self) -> Generator[Any, Any, None]:
        """The node lease controller's ``sync``: update the lease last written (no GET);
        failing that, ensure it exists and update it (not right after creating it)."""
        if self._lease is not None and (yield from self._retry_update_lease(self._lease)):
            return
        lease, created = yield from self._backoff_ensure_lease()
        self._lease = lease
        if lease is not None and not created:
            yield from self._retry_update_lease(lease)

    def _lease_loop(self) -> Generator[Any, Any, None]:
        while True:
            yield from self._sync_lease()
            if not (yield from self._sleep(self.lease_renew_interval)):
                return

    # --- pods ----------------------------------------------------------------------------------

    def _on_pod(self, event: WatchEvent) -> None:
        """The pod watch (``spec.nodeName`` = this node): start a worker for a new pod, tell
        it when the pod is being deleted or is gone."""
        if self._stopped.triggered:
            return
        pod: Pod = event.object
        worker = self.pods.get(pod.metadata.uid or pod.key)
        if worker is None:
            if event.type == DELETED or pod.status.phase in (SUCCEEDED, FAILED):
                return
            worker = self._new_worker(pod)
            self.env.process(self._pod_worker(worker))
        worker.pod = pod
        self.pods_version += 1
        if event.type == DELETED:
            worker.gone = True
        if (event.type == DELETED or pod.metadata.deletion_timestamp) and not worker.terminating:
            worker.terminating = True
            worker.abort.succeed()

    def _new_worker(self, pod: Pod) -> _PodWorker:
        worker = _PodWorker(pod=pod, abort=self.env.event(),
                            containers=[ContainerRecord(c.name, c.image) for c in pod.spec.containers],
                            ip=self._ipam.allocate(), start_time=timestamp(self.env.now))
        self.pods[worker.uid] = worker
        return worker

    def _event(self, worker: _PodWorker, reason: str, message: str) -> None:
        self._record(reason, f"pod/{worker.pod.key}", message)

    def _sync_status(self, worker: _PodWorker, terminal: bool = False) -> bool:
        """The status manager: write the pod's status as the kubelet sees it. A failed write
        is left to :meth:`_status_sync_loop`; False then. Called on every change of the
        pod's containers (which moves :attr:`pods_version`)."""
        self.pods_version += 1
        worker.terminal |= terminal
        if worker.gone:
            return True
        try:
            self._write_status(worker)
        except NotFound:
            worker.gone = True
        except APIError as e:
            worker.status_pending = True
            self._record("UpdatePodStatusFailed", f"pod/{worker.pod.key}", f"{e.reason}: {e.message}")
            return False
        worker.status_pending = False
        return True

    def _write_status(self, worker: _PodWorker) -> None:
        meta = worker.pod.metadata
        pod = self.api.get("Pod", meta.name, meta.namespace)
        if meta.uid and pod.metadata.uid != meta.uid:
            worker.gone = True
            return
        phase = pod_phase(worker.containers, pod.spec.restart_policy, worker.terminal)
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
        worker.finished = True
        self._finish(worker)

    def _finish(self, worker: _PodWorker) -> None:
        """The status manager on a killed pod: write the final status, then delete the pod
        with grace 0 (``canBeDeleted``); what fails is retried every ``syncPeriod``."""
        if not self._sync_status(worker, terminal=True):
            return
        if not worker.gone:
            meta = worker.pod.metadata
            try:
                self.api.delete("Pod", meta.name, meta.namespace, grace_period_seconds=0)
            except NotFound:
                pass
            except APIError as e:
                self._record("DeletePodFailed", f"pod/{worker.pod.key}", f"{e.reason}: {e.message}")
                return
            self._record("DeletePod", f"pod/{worker.pod.key}", "grace period 0")
        if self.pods.pop(worker.uid, None) is not None:
            self.pods_version += 1
            self._ipam.release(worker.ip)

    def _status_sync_loop(self) -> Generator[Any, Any, None]:
        """The status manager's ``syncBatch`` ticker: every ``syncPeriod``, write again what
        failed to be written."""
        while (yield from self._sleep(STATUS_SYNC_PERIOD)):
            for worker in list(self.pods.values()):
                if worker.finished:
                    self._finish(worker)
                elif worker.status_pending:
                    self._sync_status(worker)


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
