"""NodeResourcesFit and NodeResourcesBalancedAllocation, with upstream's test tables
(pkg/scheduler/framework/plugins/noderesources/*_test.go, v1.28) transcribed as data.

Pods and nodes are written in the conformance vectors' units (``cpu_milli``,
``memory_bytes``, ``ephemeral_storage_bytes``, ``pods``, extended names) and built by
:func:`kbook.conformance.scheduler.build_pod` / ``build_node``.
"""

from __future__ import annotations

from typing import Any

import pytest

from kbook.conformance.scheduler import build_node, build_pod
from kbook.scheduler.config import ConfigError
from kbook.scheduler.cyclestate import CycleState
from kbook.scheduler.plugins.feature import NEWER_UPSTREAM, Features
from kbook.scheduler.plugins.noderesources import balanced_allocation, fit
from kbook.scheduler.plugins.noderesources.fit import InsufficientResource, fits_request
from kbook.scheduler.snapshot import Snapshot
from kbook.scheduler.status import Code
from kbook.scheduler.types import NodeInfo, pod_resource_request

EXT_A, EXT_B = "example.com/aaa", "example.com/bbb"
K8S_IO_A, K8S_IO_B = "kubernetes.io/something", "subdomain.kubernetes.io/something"
HUGE_A = "hugepages-2Mi"


def res(cpu: int = 0, mem: int = 0, eph: int = 0, **scalars: int) -> dict[str, Any]:
    """``newResourcePod``'s container: cpu, memory, pods and ephemeral-storage always set."""
    return {"cpu_milli": cpu, "memory_bytes": mem, "pods": 0, "ephemeral_storage_bytes": eph,
            **scalars}


def rpod(*containers: dict[str, Any], init: tuple[dict[str, Any], ...] = (), **spec: Any) -> dict[str, Any]:
    return {"containers": [{"requests": c} for c in containers],
            "initContainers": [{"requests": c} for c in init], **spec}


def fit_filter(pod: dict[str, Any], existing: dict[str, Any], allocatable: dict[str, int],
               args: dict[str, Any] | None = None, features: Features = Features()):
    """PreFilter then Filter, on ``framework.NewNodeInfo(existing)`` with ``allocatable``."""
    p = build_pod(pod)
    info = NodeInfo(build_node({"name": "", "allocatable": allocatable}), [build_pod(existing)])
    plugin = fit.new(args or {}, None, features)
    state = CycleState()
    assert plugin.pre_filter(state, p) == (None, None)
    status = plugin.filter(state, p, info)
    insufficient = fits_request(pod_resource_request(p), info, plugin.ignored_resources,
                                plugin.ignored_resource_groups)
    return status, insufficient


# makeAllocatableResources(10, 20, 32, 5, 20, 5)
ALLOCATABLE = {"cpu_milli": 10, "memory_bytes": 20, "pods": 32, EXT_A: 5, "ephemeral_storage_bytes": 20, HUGE_A: 5}

# TestEnoughRequests (fit_test.go): name, pod, existing pod, args, want insufficient
# (resource, requested, used, capacity); the status carries "Insufficient <resource>" each.
ENOUGH_REQUESTS = [
    ("no resources requested always fits", {}, rpod(res(10, 20)), {}, []),
    ("too many resources fails", rpod(res(1, 1)), rpod(res(10, 20)), {},
     [("cpu", 1, 10, 10), ("memory", 1, 20, 20)]),
    ("too many resources fails due to init container cpu", rpod(res(1, 1), init=(res(3, 1),)),
     rpod(res(8, 19)), {}, [("cpu", 3, 8, 10)]),
    ("too many resources fails due to highest init container cpu", rpod(res(1, 1), init=(res(3, 1), res(2, 1))),
     rpod(res(8, 19)), {}, [("cpu", 3, 8, 10)]),
    ("too many resources fails due to init container memory", rpod(res(1, 1), init=(res(1, 3),)),
     rpod(res(9, 19)), {}, [("memory", 3, 19, 20)]),
    ("init container fits because it's the max, not sum, of containers and init containers",
     rpod(res(1, 1), init=(res(1, 1),)), rpod(res(9, 19)), {}, []),
    ("multiple init containers fit because it's the max, not sum, of containers and init containers",
     rpod(res(1, 1), init=(res(1, 1), res(1, 1))), rpod(res(9, 19)), {}, []),
    ("both resources fit", rpod(res(1, 1)), rpod(res(5, 5)), {}, []),
    ("one resource memory fits", rpod(res(2, 1)), rpod(res(9, 5)), {}, [("cpu", 2, 9, 10)]),
    ("one resource cpu fits", rpod(res(1, 2)), rpod(res(5, 19)), {}, [("memory", 2, 19, 20)]),
    ("equal edge case", rpod(res(5, 1)), rpod(res(5, 19)), {}, []),
    ("equal edge case for init container", rpod(res(4, 1), init=(res(5, 1),)), rpod(res(5, 19)), {}, []),
    ("extended resource fits", rpod(res(**{EXT_A: 1})), rpod(res()), {}, []),
    ("extended resource fits for init container", rpod(res(), init=(res(**{EXT_A: 1}),)), rpod(res()), {}, []),
    ("extended resource capacity enforced", rpod(res(1, 1, **{EXT_A: 10})), rpod(res(**{EXT_A: 0})), {},
     [(EXT_A, 10, 0, 5)]),
    ("extended resource allocatable enforced", rpod(res(1, 1, **{EXT_A: 1})), rpod(res(**{EXT_A: 5})),
     {}, [(EXT_A, 1, 5, 5)]),
    ("extended resource allocatable enforced for multiple containers",
     rpod(res(1, 1, **{EXT_A: 3}), res(1, 1, **{EXT_A: 3})), rpod(res(**{EXT_A: 2})), {},
     [(EXT_A, 6, 2, 5)]),
    ("extended resource allocatable admits multiple init containers",
     rpod(res(), init=(res(1, 1, **{EXT_A: 3}), res(1, 1, **{EXT_A: 3}))),
     rpod(res(**{EXT_A: 2})), {}, []),
    ("extended resource allocatable enforced for unknown resource", rpod(res(1, 1, **{EXT_B: 1})),
     rpod(res()), {}, [(EXT_B, 1, 0, 0)]),
    ("kubernetes.io resource capacity enforced", rpod(res(1, 1, **{K8S_IO_A: 10})), rpod(res()), {},
     [(K8S_IO_A, 10, 0, 0)]),
    ("hugepages resource capacity enforced", rpod(res(1, 1, **{HUGE_A: 10})), rpod(res(**{HUGE_A: 0})), {},
     [(HUGE_A, 10, 0, 5)]),
    ("hugepages resource allocatable enforced for multiple containers",
     rpod(res(1, 1, **{HUGE_A: 3}), res(1, 1, **{HUGE_A: 3})), rpod(res(**{HUGE_A: 2})), {},
     [(HUGE_A, 6, 2, 5)]),
    ("skip checking ignored extended resource", rpod(res(1, 1, **{EXT_B: 1})), rpod(res()),
     {"ignoredResources": [EXT_B]}, []),
    ("resources + pod overhead fits", rpod(res(1, 1), overhead={"cpu_milli": 3, "memory_bytes": 13}),
     rpod(res(5, 5)), {}, []),
    ("requests + overhead does not fit for memory", rpod(res(1, 1), overhead={"cpu_milli": 1, "memory_bytes": 15}),
     rpod(res(5, 5)), {}, [("memory", 16, 5, 20)]),
    ("skip checking ignored extended resource via resource groups",
     rpod(res(1, 1, **{EXT_B: 1}, **{K8S_IO_A: 1})), rpod(res()),
     {"ignoredResourceGroups": ["example.com"]}, [(K8S_IO_A, 1, 0, 0)]),
    ("skip checking extended resource request with quantity zero via resource groups",
     rpod(res(1, 1, **{EXT_A: 0})), rpod(res(**{EXT_A: 6})), {}, []),
    ("skip checking resource request with quantity zero", rpod({EXT_A: 1}), rpod(res(20, 30, **{EXT_A: 1})),
     {}, []),
]


@pytest.mark.parametrize("name,pod,existing,args,want", ENOUGH_REQUESTS, ids=[c[0] for c in ENOUGH_REQUESTS])
def test_enough_requests(name, pod, existing, args, want):
    status, insufficient = fit_filter(pod, existing, ALLOCATABLE, args)
    got = [(r.resource_name, r.reason, r.requested, r.used, r.capacity) for r in insufficient]
    assert got == [(r, f"Insufficient {r}", req, used, cap) for r, req, used, cap in want]
    if want:
        assert status.code == Code.UNSCHEDULABLE
        assert status.reasons == [f"Insufficient {r[0]}" for r in want]
    else:
        assert status is None


# TestNotEnoughRequests: makeAllocatableResources(10, 20, 1, 0, 0, 0) -- room for one pod only.
NOT_ENOUGH = [
    ("even without specified resources, predicate fails when there's no space for additional pod",
     {}, rpod(res(10, 20))),
    ("even if both resources fit, predicate fails when there's no space for additional pod",
     rpod(res(1, 1)), rpod(res(5, 5))),
    ("even for equal edge case, predicate fails when there's no space for additional pod",
     rpod(res(5, 1)), rpod(res(5, 19))),
    ("even for equal edge case, predicate fails when there's no space for additional pod due to init container",
     rpod(res(5, 1), init=(res(5, 1),)), rpod(res(5, 19))),
]


@pytest.mark.parametrize("name,pod,existing", NOT_ENOUGH, ids=[c[0] for c in NOT_ENOUGH])
def test_not_enough_requests(name, pod, existing):
    allocatable = {"cpu_milli": 10, "memory_bytes": 20, "pods": 1, EXT_A: 0, "ephemeral_storage_bytes": 0, HUGE_A: 0}
    status, insufficient = fit_filter(pod, existing, allocatable)
    assert (status.code, status.reasons) == (Code.UNSCHEDULABLE, ["Too many pods"])
    assert insufficient[0] == InsufficientResource("pods", "Too many pods", 1, 1, 1)  # never "unresolvable"


# TestStorageRequests
STORAGE = [
    ("empty storage requested, and pod fits", rpod(res(1, 1)), rpod(res(2, 10)), None),
    ("storage ephemeral local storage request exceeds allocatable", rpod(res(eph=25)), rpod(res(2, 2)),
     "Insufficient ephemeral-storage"),
    ("ephemeral local storage is sufficient", rpod(res(eph=5)), rpod(res(2, 2, eph=10)), None),
    ("pod fits", rpod(res(eph=10)), rpod(res(2, 2)), None),
]


@pytest.mark.parametrize("name,pod,existing,reason", STORAGE, ids=[c[0] for c in STORAGE])
def test_storage_requests(name, pod, existing, reason):
    status, _ = fit_filter(pod, existing, ALLOCATABLE)
    assert (status.reasons if status else None) == ([reason] if reason else None)


def test_pre_filter_disabled():
    # TestPreFilterDisabled
    plugin = fit.new({}, None)
    status = plugin.filter(CycleState(), build_pod({}), NodeInfo(build_node({"name": ""})))
    assert status.code == Code.ERROR
    assert status.message() == 'error reading "PreFilterNodeResourcesFit" from cycleState: not found'


SIDECAR = {"containers": [{"name": "regular"}],
           "initContainers": [{"name": "restartable-init", "restartPolicy": "Always"}]}


@pytest.mark.parametrize("pod,enabled,want", [
    # TestRestartableInitContainers (v1.28: the check is in Filter)
    ({"containers": [{"name": "regular"}]}, False, None),
    (SIDECAR, False, (Code.UNSCHEDULABLE_AND_UNRESOLVABLE,
                      ["Pod has a restartable init container and the SidecarContainers feature is disabled"])),
    ({"containers": [{"name": "regular"}]}, True, None),
    (SIDECAR, True, None),
])
def test_restartable_init_containers(pod, enabled, want):
    status, _ = fit_filter(pod, {}, ALLOCATABLE, features=Features(enable_sidecar_containers=enabled))
    assert (None if status is None else (status.code, status.reasons)) == want


def test_sidecar_requests_add_up_when_enabled():
    # A sidecar runs beside the containers: 4m + 4m > the 10m - 3m left.
    pod = {"containers": [{"requests": {"cpu_milli": 4}}],
           "initContainers": [{"restartPolicy": "Always", "requests": {"cpu_milli": 4}}]}
    status, _ = fit_filter(pod, rpod(res(3)), ALLOCATABLE, features=Features(enable_sidecar_containers=True))
    assert status.reasons == ["Insufficient cpu"]


def test_newer_upstream_request_larger_than_node_is_unresolvable():
    # [newer] fit.go: UnschedulableAndUnresolvable when a request alone exceeds allocatable.
    too_big, _ = fit_filter(rpod(res(1, 1, **{EXT_A: 10})), rpod(res()), ALLOCATABLE, features=NEWER_UPSTREAM)
    assert too_big.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE
    crowded, _ = fit_filter(rpod(res(2, 1)), rpod(res(9, 5)), ALLOCATABLE, features=NEWER_UPSTREAM)
    assert crowded.code == Code.UNSCHEDULABLE


# -- scoring --------------------------------------------------------------------------------

CPU_MEM = [{"name": "cpu", "weight": 1}, {"name": "memory", "weight": 1}]


def node(name: str, cpu: int, mem: int, **scalars: int) -> dict[str, Any]:
    """``st.MakeNode().Capacity({"cpu": "<cores>", "memory": ...})`` (cpu in cores)."""
    return {"name": name, "allocatable": {"cpu_milli": cpu * 1000, "memory_bytes": mem,
                                          **scalars}}


def req(*containers: tuple[int, int], node_name: str = "") -> dict[str, Any]:
    """``st.MakePod().Req({"cpu": "<cores>", "memory": ...})`` per container."""
    pod: dict[str, Any] = {"containers": [{"requests": {"cpu_milli": c * 1000, "memory_bytes": m}} for c, m in containers]}
    if node_name:
        pod["nodeName"] = node_name
    return pod


def scores(plugin: Any, pod: dict[str, Any], nodes: list[dict[str, Any]], existing: list[dict[str, Any]] = (),
           pre_score: bool = True) -> list[tuple[int, Code]]:
    """PreScore once, then Score on every node, as the Go tests do."""
    snapshot = Snapshot.of([build_node(n) for n in nodes], [build_pod(p) for p in existing])
    p, state = build_pod(pod), CycleState()
    if pre_score:
        assert plugin.pre_score(state, p, snapshot.node_info_list) is None
    out = []
    for info in snapshot.node_info_list:
        score, status = plugin.score(state, p, info)
        out.append((score, Code.SUCCESS if status is None else status.code))
    return out


def strategy(kind: str, resources: list[dict[str, Any]], shape: list[tuple[int, int]] | None = None) -> dict[str, Any]:
    s: dict[str, Any] = {"type": kind, "resources": resources}
    if shape is not None:
        s["requestedToCapacityRatio"] = {"shape": [{"utilization": u, "score": v} for u, v in shape]}
    return {"scoringStrategy": s}


EXT_RES = "abc.com/xyz"
WITH_EXT = CPU_MEM + [{"name": EXT_RES, "weight": 1}]

# TestLeastAllocatedScoringStrategy: name, pod, nodes, existing pods, resources, want scores
LEAST_ALLOCATED = [
    ("no resources requested, pods scheduled", {}, [node("node1", 4000, 10000), node("node2", 4000, 10000)],
     [req(node_name="node1"), req(node_name="node1"), req(node_name="node2"), req(node_name="node2")],
     CPU_MEM, [100, 100]),
    ("no resources requested, pods scheduled with resources", {},
     [node("node1", 10000, 20000), node("node2", 10000, 20000)],
     [req((3000, 0), node_name="node1"), req((3000, 0), node_name="node1"), req((3000, 0), node_name="node2"),
      req((3000, 5000), node_name="node2")], CPU_MEM, [70, 57]),
    ("resources requested, pods scheduled with resources", req((1000, 2000), (2000, 3000)),
     [node("node1", 10000, 20000), node("node2", 10000, 20000)],
     [req((3000, 0), node_name="node1"), req((3000, 5000), node_name="node2")], CPU_MEM, [57, 45]),
    ("resources requested, pods scheduled with resources, differently sized nodes", req((1000, 2000), (2000, 3000)),
     [node("node1", 10000, 20000), node("node2", 10000, 50000)],
     [req((3000, 0), node_name="node1"), req((3000, 5000), node_name="node2")], CPU_MEM, [57, 60]),
    ("requested resources exceed node capacity", req((3000, 0)), [node("node1", 4000, 10000), node("node2", 4000, 10000)],
     [req((3000, 0), node_name="node1"), req((3000, 5000), node_name="node2")], CPU_MEM, [50, 25]),
    ("zero node resources, pods scheduled with resources", {}, [{"name": "node1"}, {"name": "node2"}],
     [req((3000, 0), node_name="node1"), req((3000, 5000), node_name="node2")], CPU_MEM, [0, 0]),
    ("nothing scheduled, resources requested with different weight on CPU and memory, differently sized nodes",
     req((1000, 2000), (2000, 3000)), [node("node1", 4000, 10000), node("node2", 6000, 10000)], [],
     [{"name": "memory", "weight": 2}, {"name": "cpu", "weight": 1}], [41, 50]),
    ("bypass extended resource if the pod does not request", req((1000, 2000), (2000, 3000)),
     [node("node1", 6000, 10000), node("node2", 6000, 10000, **{"abc.com/xyz": 4})], [], WITH_EXT, [50, 50]),
]


@pytest.mark.parametrize("name,pod,nodes,existing,resources,want", LEAST_ALLOCATED, ids=[c[0] for c in LEAST_ALLOCATED])
def test_least_allocated(name, pod, nodes, existing, resources, want):
    plugin = fit.new(strategy("LeastAllocated", resources), None)
    assert scores(plugin, pod, nodes, existing) == [(s, Code.SUCCESS) for s in want]


def test_least_allocated_honours_requested_extended_resource():
    # "honor extended resource if the pod requests": (50+50+50)/3 and (50+50+80)/3.
    pod = req((1000, 2000), (2000, 3000))
    pod["containers"][0]["requests"][EXT_RES] = 2
    nodes = [node("node1", 6000, 10000, **{EXT_RES: 4}), node("node2", 6000, 10000, **{EXT_RES: 10})]
    assert scores(fit.new(strategy("LeastAllocated", WITH_EXT), None), pod, nodes) == [(50, Code.SUCCESS),
                                                                                      (60, Code.SUCCESS)]


# TestMostAllocatedScoringStrategy
MOST_ALLOCATED = [
    ("nothing scheduled, nothing requested", {}, [node("node1", 4000, 10000), node("node2", 4000, 10000)], [],
     CPU_MEM, [0, 0]),
    ("no resources requested, pods scheduled with resources", {},
     [node("node1", 10000, 20000), node("node2", 10000, 20000)],
     [req((3000, 0), node_name="node1"), req((3000, 0), node_name="node1"), req((3000, 0), node_name="node2"),
      req((3000, 5000), node_name="node2")], CPU_MEM, [30, 42]),
    ("resources requested, pods scheduled with resources", req((1000, 2000), (2000, 3000)),
     [node("node1", 10000, 20000), node("node2", 10000, 20000)],
     [req((3000, 0), node_name="node1"), req((3000, 5000), node_name="node2")], CPU_MEM, [42, 55]),
    ("resources requested equal node capacity", req((2000, 4000), (3000, 5000)),
     [node("node1", 5000, 10000), node("node2", 10000, 9000)], [], CPU_MEM, [95, 75]),
    ("nothing scheduled, resources requested with different weight on CPU and memory, differently sized nodes",
     req((1000, 2000), (2000, 3000)), [node("node1", 4000, 10000), node("node2", 6000, 10000)], [],
     [{"name": "memory", "weight": 2}, {"name": "cpu", "weight": 1}], [58, 50]),
    ("no resources requested, pods scheduled, nonzero request for resource", {"containers": [{"name": "container"}]},
     [{"name": n, "allocatable": {"cpu_milli": 250, "memory_bytes": 1000 * 1024 * 1024}} for n in ("node1", "node2")],
     [{"nodeName": "node1", "containers": [{"name": "container"}]}] * 2, CPU_MEM, [80, 30]),
    ("bypass extended resource if the pod does not request", req((1000, 2000), (2000, 3000)),
     [node("node1", 6000, 10000), node("node2", 6000, 10000, **{EXT_RES: 4})], [], WITH_EXT, [50, 50]),
    ("honor extended resource if the pod request",
     {"containers": [{"requests": {"cpu_milli": 3000000, "memory_bytes": 5000, EXT_RES: 2}}]},
     [node("node1", 6000, 10000, **{EXT_RES: 4}), node("node2", 6000, 10000, **{EXT_RES: 10})], [], WITH_EXT,
     [50, 40]),
    ("if the node doesn't have a resource", req((3000, 4000)),
     [node("node1", 6000, 10000), node("node2", 6000, 10000, **{EXT_RES: 4})], [],
     [{"name": EXT_RES, "weight": 2}] + CPU_MEM, [45, 45]),
]


@pytest.mark.parametrize("name,pod,nodes,existing,resources,want", MOST_ALLOCATED, ids=[c[0] for c in MOST_ALLOCATED])
def test_most_allocated(name, pod, nodes, existing, resources, want):
    plugin = fit.new(strategy("MostAllocated", resources), None)
    assert scores(plugin, pod, nodes, existing) == [(s, Code.SUCCESS) for s in want]


def test_resources_not_set_is_an_error_status():
    # "Resources not set, pods scheduled with error"
    plugin = fit.new(strategy("LeastAllocated", []), None)
    got = scores(plugin, req((1000, 2000)), [node("node1", 4000, 10000)])
    assert got == [(0, Code.ERROR)]


def test_fit_score_without_pre_score():
    # TestFitScore "... if PreScore is not called"
    nodes = [node("node1", 4000, 10000), node("node2", 6000, 10000)]
    existing = [req((2000, 4000), node_name="node1"), req((1000, 2000), node_name="node2")]
    plugin = fit.new(strategy("LeastAllocated", CPU_MEM), None)
    assert scores(plugin, req((1000, 2000)), nodes, existing, pre_score=False) == [(32, Code.SUCCESS),
                                                                                   (63, Code.SUCCESS)]


def test_non_zero_defaults_apply_per_container_that_does_not_request():
    # A pod with no requests counts as 100m and 200Mi (DefaultMilliCPURequest, DefaultMemoryRequest).
    nodes = [{"name": "n", "allocatable": {"cpu_milli": 1000, "memory_bytes": 1000 * 1024 * 1024}}]
    plugin = fit.new(strategy("MostAllocated", CPU_MEM), None)
    assert scores(plugin, {"containers": [{}]}, nodes) == [((10 + 20) // 2, Code.SUCCESS)]
    # an explicit zero stays zero
    assert scores(plugin, {"containers": [{"requests": {"cpu_milli": 0, "memory_bytes": 0}}]}, nodes) == [
        (0, Code.SUCCESS)]


FOO, BAR = "intel.com/foo", "intel.com/bar"


def xnode(name: str, **extended: int) -> dict[str, Any]:
    """``makeNode(name, 4000, 10000*1024*1024, extended)`` of the bin-packing tests (cpu in millicores)."""
    return {"name": name, "allocatable": {"cpu_milli": 4000, "memory_bytes": 10000 * 1024 * 1024,
                                          **extended}}


def xpod(node_name: str = "", **extended: int) -> dict[str, Any]:
    pod: dict[str, Any] = {"containers": [{"requests": extended}]}
    return {**pod, "nodeName": node_name} if node_name else pod


LEAST_SHAPE, BIN_PACKING = [(0, 10), (100, 0)], [(0, 0), (100, 1)]
# TestRequestedToCapacityRatioScoringStrategy, TestResourceBinPackingSingleExtended,
# TestResourceBinPackingMultipleExtended (Score without PreScore, as those tests do)
RTCR = [
    ("nothing scheduled, resources requested, differently sized nodes (default - least requested nodes have priority)",
     req((1000, 2000), (2000, 3000)), [node("node1", 4000, 10000), node("node2", 6000, 10000)],
     [req(node_name="node1"), req(node_name="node1")], CPU_MEM, LEAST_SHAPE, [38, 50]),
    ("no resources requested, pods scheduled with resources (default - least requested nodes have priority)", {},
     [node("node1", 4000, 10000), node("node2", 6000, 10000)],
     [req((3000, 5000), node_name="node1"), req((3000, 5000), node_name="node2")], CPU_MEM, LEAST_SHAPE, [38, 50]),
    ("single extended: resources requested, pods scheduled with less resources", xpod(**{FOO: 2}),
     [xnode("node1", **{FOO: 8}), xnode("node2", **{FOO: 4})], [{}], [{"name": FOO, "weight": 1}], BIN_PACKING,
     [2, 5]),
    ("single extended: resources requested, pods scheduled with resources, on node with existing pod running",
     xpod(**{FOO: 2}), [xnode("node1", **{FOO: 8}), xnode("node2", **{FOO: 4})], [xpod("node2", **{FOO: 2})],
     [{"name": FOO, "weight": 1}], BIN_PACKING, [2, 10]),
    ("multiple extended: resources requested, pods scheduled with less resources", xpod(**{FOO: 2, BAR: 2}),
     [xnode("node1", **{FOO: 8, BAR: 4}), xnode("node2", **{FOO: 4, BAR: 8})], [{}],
     [{"name": FOO, "weight": 3}, {"name": BAR, "weight": 5}], BIN_PACKING, [4, 3]),
    ("multiple extended: resources requested, pods scheduled with more resources", xpod(**{FOO: 4, BAR: 2}),
     [xnode("node1", **{FOO: 8, BAR: 4}), xnode("node2", **{FOO: 4, BAR: 8})], [{}],
     [{"name": FOO, "weight": 3}, {"name": BAR, "weight": 5}], BIN_PACKING, [5, 5]),
]


@pytest.mark.parametrize("name,pod,nodes,existing,resources,shape,want", RTCR, ids=[c[0] for c in RTCR])
def test_requested_to_capacity_ratio(name, pod, nodes, existing, resources, shape, want):
    plugin = fit.new(strategy("RequestedToCapacityRatio", resources, shape), None)
    assert scores(plugin, pod, nodes, existing, pre_score=False) == [(s, Code.SUCCESS) for s in want]


def test_requested_to_capacity_ratio_rounds_half_away_from_zero():
    # cpu 50% -> 5 * 10 = 50, memory 25% -> 25 with shape (0,0)-(100,10): (50 + 25) / 2 = 37.5 -> 38
    plugin = fit.new(strategy("RequestedToCapacityRatio", CPU_MEM, [(0, 0), (100, 10)]), None)
    got = scores(plugin, {"containers": [{"requests": {"cpu_milli": 500, "memory_bytes": 250}}]},
                 [{"name": "n", "allocatable": {"cpu_milli": 1000, "memory_bytes": 1000}}])
    assert got == [(38, Code.SUCCESS)]


# TestNodeResourcesBalancedAllocation (beyond the public vectors); cpu in millicores.
BALANCED = [
    ("resources requested, pods scheduled with resources", True,
     [("node1", 10000, 20000), ("node2", 10000, 20000)], [82, 95]),
    ("resources requested, pods scheduled with resources if PreScore not called", False,
     [("node1", 10000, 20000), ("node2", 10000, 20000)], [82, 95]),
]
CPU_AND_MEMORY = [{"requests": {"cpu_milli": 1000, "memory_bytes": 2000}},
                  {"requests": {"cpu_milli": 2000, "memory_bytes": 3000}}]
CPU_ONLY = [{"requests": {"cpu_milli": 1000, "memory_bytes": 0}}, {"requests": {"cpu_milli": 2000, "memory_bytes": 0}}]


@pytest.mark.parametrize("name,pre_score,nodes,want", BALANCED, ids=[c[0] for c in BALANCED])
def test_balanced_allocation(name, pre_score, nodes, want):
    plugin = balanced_allocation.new({"resources": CPU_MEM}, None)
    got = scores(plugin, {"containers": CPU_AND_MEMORY},
                 [{"name": n, "allocatable": {"cpu_milli": c, "memory_bytes": m}} for n, c, m in nodes],
                 [{"nodeName": "node1", "containers": CPU_ONLY}, {"nodeName": "node2", "containers": CPU_AND_MEMORY}],
                 pre_score=pre_score)
    assert got == [(s, Code.SUCCESS) for s in want]


def test_balanced_allocation_three_resources_uses_population_std():
    # fractions cpu 0.5, memory 0.25, gpu 0.75: std = sqrt(((0)^2 + .25^2 + .25^2) / 3) = 0.2041 -> 79
    plugin = balanced_allocation.new({"resources": CPU_MEM + [{"name": "nvidia.com/gpu", "weight": 1}]}, None)
    got = scores(plugin, {"containers": [{"requests": {"cpu_milli": 500, "memory_bytes": 250, "nvidia.com/gpu": 3}}]},
                 [{"name": "n", "allocatable": {"cpu_milli": 1000, "memory_bytes": 1000, "nvidia.com/gpu": 4}}])
    assert got == [(79, Code.SUCCESS)]


def test_balanced_allocation_best_effort_pod():
    plugin = balanced_allocation.new({}, None)
    assert scores(plugin, {}, [{"name": "n", "allocatable": {"cpu_milli": 1000, "memory_bytes": 1000}}]) == [
        (100, Code.SUCCESS)]
    newer = balanced_allocation.new({}, None, NEWER_UPSTREAM)
    assert newer.pre_score(CycleState(), build_pod({}), []).code == Code.SKIP  # kubernetes#129138


# -- arguments (validation_pluginargs.go, *_test.go wantErrs) ----------------------------------

FIT_ARG_ERRORS = [
    ("resource with negative weight", strategy("LeastAllocated", [{"name": "memory", "weight": -1}, CPU_MEM[0]]),
     "scoringStrategy.resources[0].weight: Invalid value: -1: resource weight of memory not in valid range (0, 100]"),
    ("resource with zero weight", strategy("LeastAllocated", [CPU_MEM[1], {"name": "cpu", "weight": 0}]),
     "scoringStrategy.resources[1].weight: Invalid value: 0: resource weight of cpu not in valid range (0, 100]"),
    ("resource weight larger than MaxNodeScore", strategy("MostAllocated", [{"name": "cpu", "weight": 101}]),
     "scoringStrategy.resources[0].weight: Invalid value: 101: resource weight of cpu not in valid range (0, 100]"),
    ("IgnoredResources: too long value", {"ignoredResources": ["longvalue" + "a" * 64]},
     "name part must be no more than 63 characters"),
    ("IgnoredResources: name is empty", {"ignoredResources": ["example.com/"]}, "name part must be non-empty"),
    ("IgnoredResources: name has too many slash", {"ignoredResources": ["example.com/aaa/bbb"]},
     "a qualified name must consist of alphanumeric characters"),
    ("IgnoredResourceGroups: illegal args", {"ignoredResourceGroups": ["example.com/"]}, "name part must be non-empty"),
    ("IgnoredResourceGroups: name is too long", {"ignoredResourceGroups": ["a" * 64]},
     "name part must be no more than 63 characters"),
    ("IgnoredResourceGroups: name cannot be contain slash", {"ignoredResourceGroups": ["example.com/aa"]},
     "ignoredResourceGroups[0]: Invalid value: \"example.com/aa\": resource group name can't contain '/'"),
    ("unsupported strategy", {"scoringStrategy": {"type": "Random"}},
     'scoringStrategy.type: Unsupported value: "Random": supported values: "LeastAllocated", "MostAllocated", '
     '"RequestedToCapacityRatio"'),
    # TestValidateRequestedToCapacityRatioScoringStrategy (v1.28 paths: scoringStrategy.shape)
    ("no shapes", {"scoringStrategy": {"type": "RequestedToCapacityRatio", "requestedToCapacityRatio": {"shape": []}}},
     "scoringStrategy.shape: Required value: at least one point must be specified"),
    ("utilization less than min", strategy("RequestedToCapacityRatio", CPU_MEM, [(-1, 3)]),
     "scoringStrategy.shape[0].utilization: Invalid value: -1: not in valid range [0, 100]"),
    ("utilization greater than max", strategy("RequestedToCapacityRatio", CPU_MEM, [(101, 3)]),
     "scoringStrategy.shape[0].utilization: Invalid value: 101: not in valid range [0, 100]"),
    ("duplicated utilization values", strategy("RequestedToCapacityRatio", CPU_MEM, [(10, 3), (10, 3)]),
     "scoringStrategy.shape[1].utilization: Invalid value: 10: utilization values must be sorted in increasing order"),
    ("non-increasing utilization values", strategy("RequestedToCapacityRatio", CPU_MEM, [(10, 3), (20, 3), (15, 3)]),
     "scoringStrategy.shape[2].utilization: Invalid value: 15: utilization values must be sorted in increasing order"),
    ("score less than min", strategy("RequestedToCapacityRatio", CPU_MEM, [(10, -1)]),
     "scoringStrategy.shape[0].score: Invalid value: -1: not in valid range [0, 10]"),
    ("score greater than max", strategy("RequestedToCapacityRatio", CPU_MEM, [(10, 11)]),
     "scoringStrategy.shape[0].score: Invalid value: 11: not in valid range [0, 10]"),
    # v1.28 would dereference a nil shape here; newer upstream refuses it
    ("shape missing", {"scoringStrategy": {"type": "RequestedToCapacityRatio"}},
     "scoringStrategy.requestedToCapacityRatio: Required value: must be specified when type is "
     "RequestedToCapacityRatio"),
]


@pytest.mark.parametrize("name,args,message", FIT_ARG_ERRORS, ids=[c[0] for c in FIT_ARG_ERRORS])
def test_fit_args_validation(name, args, message):
    with pytest.raises(ConfigError) as e:
        fit.new(args, None)
    assert message in str(e.value)


def test_fit_args_several_errors_aggregate():
    with pytest.raises(ConfigError) as e:
        fit.new(strategy("MostAllocated", [{"name": "cpu", "weight": 0}, {"name": "memory", "weight": 101}]), None)
    assert str(e.value).startswith("[scoringStrategy.resources[0].weight: Invalid value: 0")
    assert len(e.value.errors) == 2


def test_fit_defaults():
    plugin = fit.new({}, None)  # LeastAllocated on cpu and memory, weight 1
    assert plugin.scorer.scorer_name == "LeastAllocated"
    assert [(r.name, r.weight) for r in plugin.scorer.resources] == [("cpu", 1), ("memory", 1)]
    weighted = fit.new({"scoringStrategy": {"type": "MostAllocated", "resources": [{"name": "cpu"}]}}, None)
    assert [(r.name, r.weight) for r in weighted.scorer.resources] == [("cpu", 1)]


@pytest.mark.parametrize("args,message", [
    ({"resources": [{"name": "cpu", "weight": 2}]}, "resources[0].weight: Invalid value: 2: must be 1"),
    ({"resources": [CPU_MEM[0], CPU_MEM[0]]}, 'resources[1].name: Duplicate value: "cpu"'),
])
def test_balanced_allocation_args_validation(args, message):
    # ValidateNodeResourcesBalancedAllocationArgs
    with pytest.raises(ConfigError) as e:
        balanced_allocation.new(args, None)
    assert str(e.value) == message
