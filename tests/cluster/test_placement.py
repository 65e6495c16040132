"""SimplePlacement against the real API server and embedded etcd, with hand-made Nodes."""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from kbook.api import (
    Container, Node, NodeCondition, NodeSpec, NodeStatus, ObjectMeta, Pod, PodSpec, ResourceRequirements, Taint,
    Toleration,
)
from kbook.controlplane.apiserver import APIServer
from kbook.controlplane.etcd import EmbeddedEtcd
from kbook.controlplane.placement import SimplePlacement, fit_error
from kbook.eventlog import EventLog
from kbook.faults import Faults, FaultyAPI
from kbook.quantity import Quantity


class Harness:
    def __init__(self, seed: int = 0, faults: Faults | None = None) -> None:
        self.env = simpy.Environment()
        self.log = EventLog()
        self.api = APIServer(EmbeddedEtcd(clock=lambda: self.env.now), lambda: self.env.now,
                             np.random.default_rng(seed))
        client = self.api if faults is None else FaultyAPI(self.api, self.env, np.random.default_rng(seed), faults,
                                                           self.log, "scheduler")
        self.placement = SimplePlacement(self.env, client, self.log, np.random.default_rng(seed))

    def node(self, name: str, cpu: str = "4", memory: str = "8Gi", pods: int = 110, ready: bool = True,
             labels: dict[str, str] | None = None, taints: list[Taint] | None = None) -> None:
        alloc = {"cpu": Quantity(cpu), "memory": Quantity(memory), "pods": Quantity(str(pods))}
        cond = NodeCondition(type="Ready", status="True" if ready else "False")
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


def test_binds_to_least_allocated_node_that_fits():
    h = Harness()
    h.node("small", cpu="1")
    h.node("big", cpu="8")
    h.placement.start()
    h.pod("a", cpu="2")
    h.env.run(until=1)
    assert h.placements() == {"a": "big"}
    assert h.records("Scheduled") == [(0.0, "pod/default/a", "Successfully assigned default/a to big")]


def test_spreads_equal_pods_over_equal_nodes():
    h = Harness()
    for i in range(3):
        h.node(f"n{i}")
    h.placement.start()
    for i in range(6):
        h.pod(f"p{i}", cpu="500m")
    h.env.run(until=1)
    assert sorted(list(h.placements().values()).count(n) for n in ("n0", "n1", "n2")) == [2, 2, 2]


def test_unschedulable_pod_backs_off_1_2_4_8_10_seconds():
    h = Harness()
    h.node("n0", cpu="1")
    h.node("n1", cpu="2", ready=False)
    h.placement.start()
    h.pod("huge", cpu="3")
    h.env.run(until=26)
    failed = h.records("FailedScheduling")
    assert [t for t, _, _ in failed] == [0, 1, 3, 7, 15, 25]
    assert failed[0][2] == "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) were not ready."
    h.node("n2", cpu="4")  # a new node: the pod waits out its backoff, then fits
    h.env.run(until=40)
    assert h.placements() == {"huge": "n2"}
    assert h.records("Scheduled")[0][0] == 35


def test_fit_error_names_every_short_resource_of_a_node():
    h = Harness()
    h.node("tiny", cpu="1", memory="1Gi")
    h.node("cordoned", cpu="8", memory="8Gi")
    h.api.patch("Node", "cordoned", {"spec": {"unschedulable": True}})
    h.placement.start()
    h.pod("big", cpu="2", memory="2Gi")
    h.env.run(until=0.5)
    assert h.records("FailedScheduling")[0][2] == (
        "0/2 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 node(s) were unschedulable.")


def test_taints_tolerations_and_node_selector():
    h = Harness()
    h.node("tainted", cpu="8", taints=[Taint(key="dedicated", value="gpu", effect="NoSchedule")])
    h.node("plain", cpu="2", labels={"disk": "hdd"})
    h.node("ssd", cpu="1", labels={"disk": "ssd"})
    h.placement.start()
    h.pod("any", cpu="500m")
    h.pod("tolerant", cpu="500m",
          tolerations=[Toleration(key="dedicated", operator="Equal", value="gpu", effect="NoSchedule")])
    h.pod("picky", cpu="500m", node_selector={"disk": "ssd"})
    h.env.run(until=1)
    assert h.placements() == {"any": "plain", "tolerant": "tainted", "picky": "ssd"}


def test_fit_counts_bound_pods_and_frees_deleted_ones():
    h = Harness()
    h.node("n0", cpu="2", pods=2)
    h.placement.start()
    for name in ("a", "b", "c"):
        h.pod(name, cpu="500m")
    h.env.run(until=0.5)
    assert h.placements() == {"a": "n0", "b": "n0", "c": ""}
    assert h.records("FailedScheduling")[0][2] == "0/1 nodes are available: 1 Too many pods."
    h.api.delete("Pod", "a", grace_period_seconds=0)
    h.env.run(until=2)
    assert h.placements() == {"b": "n0", "c": "n0"}


def test_lists_again_after_a_watch_times_out_and_retries_dropped_requests():
    h = Harness(faults=Faults(drop=0.3, watch_timeout=5))
    h.node("n0", cpu="64", memory="64Gi")
    h.placement.start()

    def arrivals():
        for i in range(20):
            h.pod(f"p{i}", cpu="100m")
            yield h.env.timeout(1)

    h.env.process(arrivals())
    h.env.run(until=40)
    assert all(h.placements().values())
    verbs = {r.verb for r in h.log.records}
    assert {"WatchTimeout", "WatchClosed", "Drop", "ListAndWatchFailed", "FailedBinding"} <= verbs


def test_same_seed_same_choices():
    def run(seed: int) -> dict[str, str]:
        h = Harness(seed)
        for i in range(5):
            h.node(f"n{i}")
        h.placement.start()
        for i in range(20):
            h.pod(f"p{i}", cpu="100m")
        h.env.run(until=1)
        return h.placements()

    assert run(3) == run(3)


@pytest.mark.parametrize("reasons, text", [
    ({"Insufficient cpu": 3}, "0/3 nodes are available: 3 Insufficient cpu."),
    ({"Insufficient memory": 1, "Insufficient cpu": 2},
     "0/3 nodes are available: 1 Insufficient memory, 2 Insufficient cpu."),
])
def test_fit_error_text(reasons, text):
    assert fit_error(3, reasons) == text
