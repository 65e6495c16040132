"""A scheduler test bench: the API server over the embedded etcd, the node lifecycle
controller (for the NoSchedule taints) and a KubeScheduler, with hand-made Nodes and Pods."""

from __future__ import annotations

import numpy as np
import simpy

from kbook.api import (
    Container, Node, NodeCondition, NodeSpec, NodeStatus, ObjectMeta, Pod, PodSpec, ResourceRequirements, Taint,
)
from kbook.controlplane.apiserver import APIServer
from kbook.controlplane.controllers import NodeLifecycleController
from kbook.controlplane.controllers.timeutil import rfc3339
from kbook.controlplane.etcd import EmbeddedEtcd
from kbook.controlplane.scheduler import KubeScheduler
from kbook.eventlog import EventLog
from kbook.faults import Faults, FaultyAPI
from kbook.quantity import Quantity


class Harness:
    """An API server, the node lifecycle controller (no heartbeats are needed: its grace
    period is beyond the tests) and a KubeScheduler, optionally behind faults."""

    def __init__(self, seed: int = 0, faults: Faults | None = None, **options) -> None:
        self.env = simpy.Environment()
        self.log = EventLog()
        self.api = APIServer(EmbeddedEtcd(clock=lambda: self.env.now), lambda: self.env.now,
                             np.random.default_rng(seed))
        client = self.api if faults is None else FaultyAPI(self.api, self.env, np.random.default_rng(seed), faults,
                                                           self.log, "scheduler")
        self.nlc = NodeLifecycleController(self.env, self.api, log=self.log, node_monitor_grace_period=1e9)
        self.scheduler = KubeScheduler(self.env, client, self.log, np.random.default_rng(seed), **options)

    def start(self) -> None:
        """The controller first, left to settle (the nodes already created lose their
        admission taint if they are Ready), then the scheduler."""
        self.nlc.start()
        while self.env.peek() == self.env.now:
            self.env.step()
        self.scheduler.start()

    def node(self, name: str, cpu: str = "4", memory: str = "8Gi", pods: int = 110, ready: bool = True,
             labels: dict[str, str] | None = None, taints: list[Taint] | None = None) -> None:
        alloc = {"cpu": Quantity(cpu), "memory": Quantity(memory), "pods": Quantity(str(pods))}
        cond = NodeCondition(type="Ready", status="True" if ready else "False",
                             last_heartbeat_time=rfc3339(self.env.now), last_transition_time=rfc3339(self.env.now))
        self.api.create(Node(metadata=ObjectMeta(name=name, labels=labels or {}), spec=NodeSpec(taints=taints or []),
                             status=NodeStatus(capacity=alloc, allocatable=alloc, conditions=[cond])))

    def pod(self, name: str, cpu: str = "1", memory: str = "1Gi", **spec) -> None:
        req = ResourceRequirements(requests={"cpu": Quantity(cpu), "memory": Quantity(memory)})
        self.api.create(Pod(metadata=ObjectMeta(name=name),
                            spec=PodSpec(containers=[Container(name="c", image="app:1", resources=req)], **spec)))

    def placements(self) -> dict[str, str]:
        return {p.metadata.name: p.spec.node_name for p in self.api.list("Pod").items}

    def records(self, verb: str) -> list[tuple[float, str, str]]:
        return [(r.time, r.object, r.detail) for r in self.log.records if r.verb == verb]

    def set_ready(self, name: str, ready: bool) -> None:
        """What the kubelet posts: the Ready condition, True or False."""
        node = self.api.get("Node", name)
        node.status.conditions = [NodeCondition(type="Ready", status="True" if ready else "False",
                                                last_heartbeat_time=rfc3339(self.env.now),
                                                last_transition_time=rfc3339(self.env.now))]
        self.api.update_status(node)

    def taints(self, name: str) -> list[tuple[str, str]]:
        return [(t.key, t.effect) for t in self.api.get("Node", name).spec.taints]
