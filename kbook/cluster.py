"""The facade: a whole simulated cluster on one SimPy environment.

    cluster = Cluster(nodes=3, seed=0)
    cluster.apply(open("web.yaml").read())      # like kubectl apply
    cluster.run(until=60)                       # simulated seconds (absolute, as SimPy's until)
    cluster.events                              # what every component did: a DataFrame

A :class:`Cluster` owns the environment, one seeded ``numpy.random.Generator`` (each
component gets a child of it, keyed by the component's name, so adding a component or a
fault leaves the others' draws alone) and one :class:`~kbook.eventlog.EventLog`. It builds the
embedded etcd (timed by the environment, its lessor checked every 0.5 s, compacted every
5 min as kube-apiserver does), the API server, the controller manager, kube-scheduler
(:class:`~kbook.controlplane.scheduler.KubeScheduler`, behind the
:class:`~kbook.controlplane.placement.Placement` seam), and per node a kubelet and
kube-proxy. Faults (:mod:`kbook.faults`) sit between a component and the API server.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from typing import Any

import numpy as np
import pandas as pd
import simpy

from kbook.api import KubeObject, Node, Pod, dump, load_file, loads
from kbook.autoscaling.workload import Workload
from kbook.controlplane.apiserver import APIServer
from kbook.controlplane.apiserver.types import API, NotFound
from kbook.controlplane.controllers import ControllerManager
from kbook.controlplane.etcd import EmbeddedEtcd
from kbook.controlplane.etcd.types import EQUAL, VERSION, Compare, PutOp, RangeOp
from kbook.controlplane.metricsserver import METRIC_RESOLUTION, MetricsServer
from kbook.controlplane.placement import Placement, PlacementFactory
from kbook.controlplane.scheduler import KUBE_SCHEDULER_OPTIONS, KubeScheduler
from kbook.errors import KbookError
from kbook.eventlog import EventLog
from kbook.faults import Faults, FaultyAPI
from kbook.node import Kubelet
from kbook.node.load import LOAD_STEP, Attachment, LoadDriver
from kbook.node.proxy import KubeProxy

__all__ = ["Cluster", "NodePool", "COMPACTION_INTERVAL", "LAST_APPLIED_ANNOTATION"]

COMPACTION_INTERVAL = 300.0  # kube-apiserver --etcd-compaction-interval (DefaultCompactInterval, 5 min)
COMPACT_REV_KEY = "compact_rev_key"  # storage/etcd3/compact.go
LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
_POD_CIDR_BASE = int(ipaddress.IPv4Address("10.128.0.0"))  # node i gets 10.128.0.0/24 + i
_NODE_IP_BASE = int(ipaddress.IPv4Address("10.0.0.2"))


@dataclass(frozen=True)
class NodePool:
    """``count`` identical nodes named ``<prefix>-1``, ``<prefix>-2``, ...: capacity (which
    is also allocatable) and labels."""

    count: int = 1
    cpu: str = "4"
    memory: str = "16Gi"
    pods: int = 110
    labels: Mapping[str, str] = field(default_factory=dict)
    prefix: str = "node"

    def nodes(self) -> list[tuple[str, dict[str, str], dict[str, str], dict[str, str]]]:
        """(name, capacity, allocatable, labels) of each node."""
        capacity = {"cpu": self.cpu, "memory": self.memory, "pods": str(self.pods)}
        return [(f"{self.prefix}-{i + 1}", capacity, capacity, dict(self.labels)) for i in range(self.count)]


NodesSpec = int | NodePool | Node | str | Sequence[NodePool | Node]


def _node_specs(nodes: NodesSpec) -> list[tuple[str, dict[str, str], dict[str, str], dict[str, str]]]:
    """The nodes a description names: a count, pools, Node objects or Node manifests."""
    if isinstance(nodes, int):
        nodes = [NodePool(count=nodes)]
    elif isinstance(nodes, str):
        nodes = loads(nodes)
    elif isinstance(nodes, (NodePool, Node)):
        nodes = [nodes]
    specs = []
    for item in nodes:
        if isinstance(item, NodePool):
            specs.extend(item.nodes())
        elif isinstance(item, Node):
            capacity = {k: str(v) for k, v in item.status.capacity.items()}
            allocatable = {k: str(v) for k, v in item.status.allocatable.items()} or capacity
            specs.append((item.metadata.name, capacity or None, allocatable or None, dict(item.metadata.labels)))
        else:
            raise KbookError(f"nodes: expected a count, NodePool or Node, got {type(item).__name__}")
    names = [s[0] for s in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise KbookError(f"nodes: duplicate node names: {', '.join(duplicates)}")
    return specs


def _kube_scheduler(options: Mapping[str, Any]) -> PlacementFactory:
    """A factory of :class:`KubeScheduler` with ``options``."""
    if not isinstance(options, Mapping):
        raise KbookError(f"scheduler: expected a dict of KubeScheduler options or a factory, "
                         f"got {type(options).__name__}")
    unknown = sorted(set(options) - set(KUBE_SCHEDULER_OPTIONS))
    if unknown:
        raise KbookError(f"scheduler: unknown options {', '.join(unknown)}; expected some of "
                         f"{', '.join(KUBE_SCHEDULER_OPTIONS)}")
    return lambda env, api, log, rng: KubeScheduler(env, api, log, rng, **options)


def _merge_patch_between(old: Any, new: Any) -> Any:
    """The JSON merge patch that turns ``old`` into ``new`` (``jsonmergepatch.CreateMergePatch``)."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return new
    patch: dict[str, Any] = {k: None for k in old if k not in new}
    for k, v in new.items():
        if k not in old:
            patch[k] = v
        elif old[k] != v:
            patch[k] = _merge_patch_between(old[k], v)
    return patch


def _applied_configuration(obj: KubeObject) -> dict[str, Any]:
    """What ``kubectl apply`` remembers of a manifest: it without status and server fields."""
    data = dump(obj)
    data.pop("status", None)
    meta = data.get("metadata", {})
    for server_field in ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields"):
        meta.pop(server_field, None)
    meta.get("annotations", {}).pop(LAST_APPLIED_ANNOTATION, None)
    if not meta.get("annotations"):
        meta.pop("annotations", None)
    return data


class Cluster:
    """A simulated Kubernetes cluster; see the module docstring.

    ``nodes``: a count, a :class:`NodePool`, Node objects or a Node manifest (or a list of
    pools and Nodes). ``scheduler``: the options of
    :class:`~kbook.controlplane.scheduler.KubeScheduler` as a dict (``config``, ``engine``,
    ``cycle_seconds``, ``bind_latency``, ``parallel_binding``, ``registry``), or a
    :data:`~kbook.controlplane.placement.PlacementFactory` to run instead of it.
    ``faults`` maps a component (``controller-manager``, ``scheduler``,
    ``kube-proxy``, ``kubelet`` for every kubelet or ``kubelet/<node>`` for one) to what goes
    wrong between it and the API server. ``kubelet_options`` go to every Kubelet (e.g.
    ``readiness_delay_s``, ``container_start_s``, ``images``). ``kube_proxy="shared"`` runs
    one kube-proxy for all nodes (their rules are the same) instead of one per node, which
    saves a Pod and a Service watch per node in big clusters.

    Load: ``load`` maps a Deployment (``name`` or ``namespace/name``) to a
    :class:`~kbook.autoscaling.workload.Workload` (or call :meth:`attach_load`); its Ready pods
    burn CPU that metrics-server (``metric_resolution`` seconds, ``--metric-resolution``)
    scrapes for the HorizontalPodAutoscaler controller, whose flags go in ``hpa_options``
    (see :class:`~kbook.controlplane.controllers.hpa.HorizontalController`). ``load_step_s``:
    how often the load is shared anew over the Ready pods.
    """

    def __init__(self, nodes: NodesSpec = 3, seed: int = 0, *, faults: Mapping[str, Faults] | None = None,
                 scheduler: Mapping[str, Any] | PlacementFactory | None = None,
                 kubelet_options: Mapping[str, Any] | None = None,
                 kube_proxy: str = "per-node", load: Mapping[str, Workload] | None = None,
                 metric_resolution: float = METRIC_RESOLUTION, load_step_s: float = LOAD_STEP,
                 hpa_options: Mapping[str, Any] | None = None):
        if kube_proxy not in ("per-node", "shared"):
            raise KbookError(f'kube_proxy: expected "per-node" or "shared", got "{kube_proxy}"')
        self.env = simpy.Environment()
        self.rng = np.random.default_rng(seed)
        self.log = EventLog()
        self.faults = dict(faults or {})
        self.etcd = EmbeddedEtcd(clock=lambda: self.env.now)
        self.api = APIServer(self.etcd, lambda: self.env.now, self._child_rng("kube-apiserver"))
        self.etcd.run_lessor(self.env)
        self.env.process(self._compactor())
        self.kubelets: dict[str, Kubelet] = {}
        self.proxies: dict[str, KubeProxy] = {}
        for i, (name, capacity, allocatable, labels) in enumerate(_node_specs(nodes)):
            kubelet = Kubelet(self.env, self._client(f"kubelet/{name}", "kubelet"), name, log=self.log,
                              rng=self._child_rng(f"kubelet/{name}"), capacity=capacity, allocatable=allocatable,
                              labels=labels,
                              node_ip=str(ipaddress.IPv4Address(_NODE_IP_BASE + i)),
                              pod_cidr=str(ipaddress.IPv4Network((_POD_CIDR_BASE + 256 * i, 24))),
                              **dict(kubelet_options or {}))
            self.kubelets[name] = kubelet
            kubelet.start()
        self.load = LoadDriver(self.env, self.api, self.kubelets, step_s=load_step_s)
        self.metrics_server = MetricsServer(self.env, self.kubelets, self.load, metric_resolution=metric_resolution,
                                            log=self.log)
        self.metrics_server.start()
        self.controllers = ControllerManager(self.env, self._client("controller-manager"), log=self.log,
                                             rng=self._child_rng("controller-manager"), metrics=self.metrics_server,
                                             hpa_options=hpa_options)
        self.controllers.start()
        factory = scheduler if callable(scheduler) else _kube_scheduler(scheduler or {})
        self.scheduler: Placement = factory(self.env, self._client("scheduler"), self.log,
                                            self._child_rng("scheduler"))
        self.scheduler.start()
        for name in self.kubelets if kube_proxy == "per-node" else [""]:
            component = f"kube-proxy/{name}" if name else "kube-proxy"
            proxy = KubeProxy(self.env, self._client(component, "kube-proxy"), rng=self._child_rng(component),
                              node_name=name, log=self.log)
            proxy.start()
            self.proxies.update({name: proxy} if name else dict.fromkeys(self.kubelets, proxy))
        for target, workload in (load or {}).items():
            namespace, _, name = target.rpartition("/")
            self.attach_load(name, workload, namespace or "default")

    # -- wiring -------------------------------------------------------------------------

    def _child_rng(self, component: str) -> np.random.Generator:
        """The generator of ``component``: the cluster's seed sequence, spawned under a key
        made from the name (``SeedSequence`` spawn keys)."""
        seq = self.rng.bit_generator.seed_seq
        key = zlib.crc32(component.encode())
        child = np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, key))
        return np.random.Generator(np.random.PCG64(child))

    def _client(self, name: str, group: str | None = None) -> API:
        """The API as component ``name`` sees it: through its faults (or its group's), if any."""
        faults = self.faults.get(name) or (self.faults.get(group) if group else None)
        if faults is None:
            return self.api
        return FaultyAPI(self.api, self.env, self._child_rng(f"faults/{name}"), faults, self.log, name)

    def _compactor(self):
        """kube-apiserver's compactor (``storage/etcd3/compact.go``): every interval, bump
        ``compact_rev_key`` by CAS on its version and compact to the revision seen at the
        previous tick, so 5-10 min of history stay readable."""
        compact_time, rev = 0, 0
        while True:
            yield self.env.timeout(COMPACTION_INTERVAL)
            resp = self.etcd.txn([Compare(COMPACT_REV_KEY, VERSION, EQUAL, compact_time)],
                                 [PutOp(COMPACT_REV_KEY, str(rev).encode())], [RangeOp(COMPACT_REV_KEY)])
            if not resp.succeeded:
                compact_time, rev = resp.responses[0].kvs[0].version, resp.header.revision
                continue
            if rev:
                self.etcd.compact(rev)
                self.log.record(self.env.now, "kube-apiserver", "Compact", "etcd", f"revision {rev}")
            compact_time, rev = compact_time + 1, resp.header.revision

    # -- kubectl ------------------------------------------------------------------------

    def apply(self, manifests: str | PathLike[str] | KubeObject | Iterable[KubeObject]) -> list[KubeObject]:
        """``kubectl apply``: create what is absent, else patch the difference between the
        last applied configuration (kept in an annotation) and this one; unchanged objects
        are not written. Takes YAML text, a file path, or objects; returns the live objects."""
        if isinstance(manifests, KubeObject):
            objs = [manifests]
        elif isinstance(manifests, PathLike):
            objs = load_file(manifests)
        elif isinstance(manifests, str):
            objs = loads(manifests)
        else:
            objs = list(manifests)
        return [self._apply_one(obj) for obj in objs]

    def _apply_one(self, obj: KubeObject) -> KubeObject:
        meta = obj.metadata
        what = f"{obj.kind.lower()}/{obj.key}"
        applied = _applied_configuration(obj)
        text = json.dumps(applied, sort_keys=True, separators=(",", ":"))
        try:
            live = self.api.get(obj.kind, meta.name, meta.namespace or None)
        except NotFound:
            new = copy.deepcopy(obj)
            new.metadata.annotations[LAST_APPLIED_ANNOTATION] = text
            created = self.api.create(new)
            self.log.record(self.env.now, "kubectl", "created", what)
            return created
        last = live.metadata.annotations.get(LAST_APPLIED_ANNOTATION)
        if last == text:
            self.log.record(self.env.now, "kubectl", "unchanged", what)
            return live
        patch = _merge_patch_between(json.loads(last) if last else {}, applied)
        patch.setdefault("metadata", {}).setdefault("annotations", {})[LAST_APPLIED_ANNOTATION] = text
        patched = self.api.patch(obj.kind, meta.name, patch, meta.namespace or None)
        self.log.record(self.env.now, "kubectl", "configured", what)
        return patched

    def get(self, kind: str, name: str, namespace: str | None = None) -> KubeObject:
        return self.api.get(kind, name, namespace)

    def list(self, kind: str, namespace: str | None = None, selector: str | Mapping[str, str] | None = None
             ) -> list[KubeObject]:
        """Objects of ``kind``, optionally in one namespace and matching a label selector
        (``"app=web,tier!=db"`` or a dict of labels)."""
        if isinstance(selector, Mapping):
            selector = ",".join(f"{k}={v}" for k, v in selector.items())
        return list(self.api.list(kind, namespace=namespace, label_selector=selector).items)

    def pods(self, selector: str | Mapping[str, str] | None = None, namespace: str | None = None) -> list[Pod]:
        return self.list("Pod", namespace, selector)

    def attach_load(self, deployment: str, workload: Workload, namespace: str = "default",
                    container: str | None = None) -> Attachment:
        """Drive the Ready pods of Deployment ``namespace/deployment`` with ``workload`` (on
        ``container``, default each pod's first); the attachment keeps the workload's
        statistics (latency, SLO violations, pod-hours) and history."""
        self.log.record(self.env.now, "cluster", "AttachLoad", f"deployment/{namespace}/{deployment}")
        return self.load.attach(deployment, workload, namespace, container)

    # -- time ---------------------------------------------------------------------------

    def run(self, until: float | simpy.Event) -> None:
        """Run the simulation to simulated time ``until`` (absolute), or until an event fires."""
        self.env.run(until=until)

    @property
    def now(self) -> float:
        return self.env.now

    @property
    def events(self) -> pd.DataFrame:
        """The event log: ``time, component, verb, object, detail``, in order."""
        return self.log.to_frame()

    # -- faults -------------------------------------------------------------------------

    def kill_node(self, name: str) -> None:
        """The node's kubelet dies now: no more lease renewals, status or pod syncs."""
        if name not in self.kubelets:
            raise KbookError(f'node "{name}" is not in the cluster')
        self.log.record(self.env.now, "cluster", "KillNode", f"node/{name}")
        self.kubelets[name].stop()

    def restart_controllers(self) -> None:
        """Restart kube-controller-manager now: its caches, queues and timers are lost and
        rebuilt from a fresh LIST."""
        self.log.record(self.env.now, "cluster", "RestartControllers", "controller-manager")
        self.controllers.stop()
        self.controllers.start()
