"""The small default plugins -- NodeName, NodePorts, ImageLocality, PrioritySort,
SchedulingGates, DefaultBinder -- with upstream's test tables (v1.28) as data."""

from __future__ import annotations

from typing import Any

import pytest

from kbook.conformance.scheduler import build_node, build_pod
from kbook.errors import KbookError
from kbook.scheduler.cyclestate import CycleState
from kbook.scheduler.plugins import defaultbinder, imagelocality, nodename, nodeports, queuesort, schedulinggates
from kbook.scheduler.plugins.feature import NEWER_UPSTREAM, Features
from kbook.scheduler.snapshot import Snapshot
from kbook.scheduler.status import Code
from kbook.scheduler.types import NodeInfo, PodInfo, QueuedPodInfo


# TestNodeName
@pytest.mark.parametrize("name,pod_node,node,fits", [
    ("no host specified", "", "foo", True),
    ("host matches", "foo", "foo", True),
    ("host doesn't match", "bar", "foo", False),
])
def test_node_name(name, pod_node, node, fits):
    pod = build_pod({"nodeName": pod_node} if pod_node else {})
    status = nodename.new({}, None).filter(CycleState(), pod, NodeInfo(build_node({"name": node})))
    assert (status is None) is fits
    if not fits:
        assert (status.code, status.reasons) == (Code.UNSCHEDULABLE_AND_UNRESOLVABLE,
                                                 ["node(s) didn't match the requested node name"])


def ports(*specs: str) -> dict[str, Any]:
    """``newPod(host, "PROTO/IP/PORT", ...)`` of node_ports_test.go."""
    out = []
    for spec in specs:
        proto, ip, port = spec.split("/")
        out.append({"protocol": proto, "hostIP": ip, "hostPort": int(port), "containerPort": int(port)})
    return {"nodeName": "m1", "containers": [{"ports": out}]}


# TestNodePorts: name, pod ports, existing pod ports, conflict
NODE_PORTS = [
    ("other port", ["UDP/127.0.0.1/8080"], ["UDP/127.0.0.1/9090"], False),
    ("same udp port", ["UDP/127.0.0.1/8080"], ["UDP/127.0.0.1/8080"], True),
    ("same tcp port", ["TCP/127.0.0.1/8080"], ["TCP/127.0.0.1/8080"], True),
    ("different host ip", ["TCP/127.0.0.1/8080"], ["TCP/127.0.0.2/8080"], False),
    ("different protocol", ["UDP/127.0.0.1/8080"], ["TCP/127.0.0.1/8080"], False),
    ("second udp port conflict", ["UDP/127.0.0.1/8000", "UDP/127.0.0.1/8080"], ["UDP/127.0.0.1/8080"], True),
    ("first tcp port conflict", ["TCP/127.0.0.1/8001", "UDP/127.0.0.1/8080"],
     ["TCP/127.0.0.1/8001", "UDP/127.0.0.1/8081"], True),
    ("first tcp port conflict due to 0.0.0.0 hostIP", ["TCP/0.0.0.0/8001"], ["TCP/127.0.0.1/8001"], True),
    ("TCP hostPort conflict due to 0.0.0.0 hostIP", ["TCP/10.0.10.10/8001", "TCP/0.0.0.0/8001"],
     ["TCP/127.0.0.1/8001"], True),
    ("second tcp port conflict to 0.0.0.0 hostIP", ["TCP/127.0.0.1/8001"], ["TCP/0.0.0.0/8001"], True),
    ("second different protocol", ["UDP/127.0.0.1/8001"], ["TCP/0.0.0.0/8001"], False),
    ("UDP hostPort conflict due to 0.0.0.0 hostIP", ["UDP/127.0.0.1/8001"], ["TCP/0.0.0.0/8001", "UDP/0.0.0.0/8001"],
     True),
]


@pytest.mark.parametrize("name,want,have,conflict", NODE_PORTS, ids=[c[0] for c in NODE_PORTS])
def test_node_ports(name, want, have, conflict):
    plugin, pod, state = nodeports.new({}, None), build_pod(ports(*want)), CycleState()
    info = NodeInfo(build_node({"name": "m1"}), [build_pod(ports(*have))])
    assert plugin.pre_filter(state, pod) == (None, None)
    status = plugin.filter(state, pod, info)
    assert (None if status is None else (status.code, status.reasons)) == (
        (Code.UNSCHEDULABLE, ["node(s) didn't have free ports for the requested pod ports"]) if conflict else None)
    assert nodeports.fits(pod, info) is not conflict


def test_node_ports_skip_without_host_ports():
    # "skip filter": a pod without host ports needs no Filter
    plugin, state = nodeports.new({}, None), CycleState()
    for pod in ({}, {"containers": [{"ports": [{"containerPort": 80}]}]}):
        result, status = plugin.pre_filter(state, build_pod(pod))
        assert result is None and status.code == Code.SKIP
    assert plugin.filter(state, build_pod({}), NodeInfo(build_node({"name": "n"}))).code == Code.ERROR


MB = 1024 * 1024
NODE_40_300_2000 = [{"names": ["gcr.io/40:latest", "gcr.io/40:v1", "gcr.io/40:v1"], "sizeBytes": 40 * MB},
                    {"names": ["gcr.io/300:latest", "gcr.io/300:v1"], "sizeBytes": 300 * MB},
                    {"names": ["gcr.io/2000:latest"], "sizeBytes": 2000 * MB}]
NODE_250_10 = [{"names": ["gcr.io/250:latest"], "sizeBytes": 250 * MB},
               {"names": ["gcr.io/10:latest", "gcr.io/10:v1"], "sizeBytes": 10 * MB}]
NODE_40_140_4000 = [{"names": ["gcr.io/40:latest"], "sizeBytes": 40 * MB},
                    {"names": ["gcr.io/140:latest"], "sizeBytes": 140 * MB},
                    {"names": ["gcr.io/4000:latest"], "sizeBytes": 4000 * MB}]


def images(*names: str) -> dict[str, Any]:
    return {"containers": [{"image": n} for n in names]}


# TestImageLocalityPriority (v1.28): name, pod, node images, want
IMAGE_LOCALITY = [
    # 100 * (40M/2 + 300M/2 - 23M) / (2000M - 23M) = 7
    ("two images on one node, prefer this node", images("gcr.io/40", "gcr.io/300"), [NODE_40_300_2000, NODE_250_10],
     [7, 0]),
    # 100 * (4000M/3 - 23M) / (2000M - 23M) = 66
    ("if exceed limit, use limit (with node which has no images present)", images("gcr.io/10", "gcr.io/4000"),
     [NODE_40_140_4000, NODE_250_10, []], [66, 0, 0]),
    ("an image without a tag is :latest", images("gcr.io/250:latest"), [NODE_40_300_2000, NODE_250_10], [0, 10]),
    ("a pod without containers scores 0", {}, [NODE_40_300_2000], [0]),
]


@pytest.mark.parametrize("name,pod,node_images,want", IMAGE_LOCALITY, ids=[c[0] for c in IMAGE_LOCALITY])
def test_image_locality(name, pod, node_images, want):
    snapshot = Snapshot.of([build_node({"name": f"machine{i}", "images": im}) for i, im in enumerate(node_images)])
    plugin = imagelocality.new({}, type("Handle", (), {"snapshot": snapshot})())
    got = [plugin.score(CycleState(), build_pod(pod), info) for info in snapshot.node_info_list]
    assert got == [(s, None) for s in want]


def test_image_locality_init_containers_count_only_in_newer_upstream():
    snapshot = Snapshot.of([build_node({"name": "m", "images": NODE_40_140_4000})])
    handle = type("Handle", (), {"snapshot": snapshot})()
    pod = build_pod({"initContainers": [{"image": "gcr.io/4000"}], "containers": [{"image": "gcr.io/40"}]})
    info = snapshot.node_info_list[0]
    assert imagelocality.new({}, handle).score(CycleState(), pod, info) == (1, None)  # 40M of [23M, 1000M]
    assert imagelocality.new({}, handle, NEWER_UPSTREAM).score(CycleState(), pod, info) == (100, None)


@pytest.mark.parametrize("sum_scores,containers,want", [
    (0, 1, 0), (23 * MB, 1, 0), (1000 * MB, 1, 100), (5000 * MB, 2, 100), (511 * MB, 1, 49), (0, 0, 0),
])
def test_calculate_priority(sum_scores, containers, want):
    assert imagelocality.calculate_priority(sum_scores, containers) == want


def queued(priority: int | None, timestamp: float) -> QueuedPodInfo:
    return QueuedPodInfo(PodInfo(build_pod({} if priority is None else {"priority": priority})), timestamp=timestamp)


# TestLess (queuesort/priority_sort_test.go)
@pytest.mark.parametrize("name,p1,p2,want", [
    ("p1.priority less than p2.priority", queued(0, 0), queued(100, 0), False),
    ("p1.priority greater than p2.priority", queued(100, 0), queued(0, 0), True),
    ("equal priority. p1 is added to schedulingQ earlier than p2", queued(100, 0), queued(100, 1), True),
    ("equal priority. p2 is added to schedulingQ earlier than p1", queued(100, 1), queued(100, 0), False),
    ("no priority is priority 0", queued(None, 0), queued(-1, 0), True),
])
def test_priority_sort_less(name, p1, p2, want):
    assert queuesort.new({}, None).less(p1, p2) is want


# TestPreEnqueue (schedulinggates/scheduling_gates_test.go)
@pytest.mark.parametrize("gates,enabled,want", [
    ([], True, None),
    (["foo", "bar"], True, "waiting for scheduling gates: [foo bar]"),
    (["foo", "bar"], False, None),
])
def test_scheduling_gates(gates, enabled, want):
    pod = build_pod({"schedulingGates": [{"name": g} for g in gates]})
    status = schedulinggates.new({}, None, Features(enable_pod_scheduling_readiness=enabled)).pre_enqueue(pod)
    assert (None if status is None else (status.code, status.reasons)) == (
        None if want is None else (Code.UNSCHEDULABLE_AND_UNRESOLVABLE, [want]))


class _Host:
    def __init__(self, refuse: bool = False) -> None:
        self.bound: list[tuple[str, str]] = []
        self.refuse = refuse

    def bind_pod(self, pod, node_name):
        if self.refuse:
            raise KbookError(f'pods "{pod.metadata.name}" not found')
        self.bound.append((pod.metadata.name, node_name))


def test_default_binder():
    # TestDefaultBinder: the binding goes to the API; its error becomes the status
    pod = build_pod({"name": "foo", "namespace": "ns"})
    host = _Host()
    assert defaultbinder.new({}, host).bind(CycleState(), pod, "foohost.kubernetes.mydomain.com") is None
    assert host.bound == [("foo", "foohost.kubernetes.mydomain.com")]
    status = defaultbinder.new({}, _Host(refuse=True)).bind(CycleState(), pod, "n")
    assert (status.code, status.message()) == (Code.ERROR, 'pods "foo" not found')
