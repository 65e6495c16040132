"""DefaultPreemption and the preemption Evaluator, ported from upstream's tables (v1.28 era,
pkg/scheduler/framework/plugins/defaultpreemption/default_preemption_test.go): each test
names its Go test. Cases that need PodDisruptionBudgets, volumes or extenders are left out
(not modelled). Start times are whole seconds here where upstream uses nanoseconds
(``time.Unix(0, n)``); only their order matters."""

from __future__ import annotations

import numpy as np
import pytest

from kbook.api import (
    Affinity, LabelSelector, LabelSelectorRequirement, Node, ObjectMeta, Pod, PodAffinityTerm, PodAntiAffinity,
    PodCondition, TopologySpreadConstraint,
)
from kbook.api.core import Container, ResourceRequirements
from kbook.quantity import Quantity
from kbook.scheduler.cyclestate import CycleState
from kbook.scheduler.plugins import defaultpreemption, interpodaffinity, podtopologyspread
from kbook.scheduler.plugins.defaultpreemption import (
    Candidate, DefaultPreemption, Evaluator, Victims, get_earliest_pod_start_time, more_important_pod,
    pick_one_node_for_preemption,
)
from kbook.scheduler.plugins.noderesources import fit
from kbook.scheduler.snapshot import Snapshot
from kbook.scheduler.status import Code, Status, is_success
from kbook.scheduler.types import PodInfo, PostFilterResult, pod_priority

NEG, LOW, MID, HIGH, VERY_HIGH = -100, 0, 100, 1000, 10000
SMALL = {"cpu": "100m", "memory": "100"}
MEDIUM = {"cpu": "200m", "memory": "200"}
LARGE = {"cpu": "300m", "memory": "300"}
VERY_LARGE = {"cpu": "500m", "memory": "500"}
ONE_POD = {"pods": "1"}
NODE_RES = {"cpu": "200m", "memory": "400"}


# -- builders (st.MakePod / st.MakeNode) -----------------------------------------------


def pod(name: str, priority: int | None = None, node: str = "", req: dict[str, str] | None = None,
        start: int | None = None, ns: str = "default", labels: dict[str, str] | None = None,
        nominated: str = "", preemption_policy: str | None = None) -> Pod:
    p = Pod(metadata=ObjectMeta(name=name, namespace=ns, uid=name, labels=dict(labels or {})))
    p.spec.priority = priority
    p.spec.node_name = node
    p.spec.preemption_policy = preemption_policy
    p.spec.containers = [Container(name="c", resources=ResourceRequirements(
        requests={k: Quantity(v) for k, v in (req or {}).items()}))]
    if start is not None:
        p.status.start_time = f"1970-01-01T00:00:{start:02d}Z"
    p.status.nominated_node_name = nominated
    return p


def node(name: str, capacity: dict[str, str] | None = None, labels: dict[str, str] | None = None) -> Node:
    """``st.MakeNode().Capacity(res)``: 32 pods unless the resources say otherwise."""
    n = Node(metadata=ObjectMeta(name=name, labels=dict(labels or {})))
    res = {"pods": "32", **(capacity or {})}
    n.status.capacity = {k: Quantity(v) for k, v in res.items()}
    n.status.allocatable = dict(n.status.capacity)
    return n


def topology_nodes(names: list[str], capacity: dict[str, str]) -> list[Node]:
    """``node-a/zone1`` -> node ``node-a`` labelled hostname=node-a, zone=zone1."""
    out = []
    for full in names:
        parts = full.split("/")
        out.append(node(parts[0], capacity, dict(zip(("hostname", "zone", "region"), parts))))
    return out


# -- a small framework handle that runs real plugins -----------------------------------


class ScriptedRng:
    """Offsets for ``GetOffsetAndNumCandidates``: upstream's tests seed Go's ``rand`` with 4,
    whose ``Int31n(5)`` draws are 4, 1, 3."""

    def __init__(self, draws: list[int]) -> None:
        self.draws = list(draws)

    def integers(self, n: int) -> int:
        v = self.draws.pop(0)
        assert 0 <= v < n
        return v


class FakeFilter:
    """``tf.FakeFilterPlugin``: counts its calls; fails with the code set for a node."""

    name = "FakeFilter"

    def __init__(self, codes: dict[str, Code] | None = None) -> None:
        self.codes = codes or {}
        self.num_filter_called = 0

    def filter(self, state, p, node_info):
        self.num_filter_called += 1
        code = self.codes.get(node_info.name, Code.SUCCESS)
        return None if code == Code.SUCCESS else Status.of(code, f"injecting failure for pod {p.metadata.name}")


class TrueFilter:
    name = "TrueFilter"

    def filter(self, state, p, node_info):
        return None


class FalseFilter:
    name = "FalseFilter"

    def filter(self, state, p, node_info):
        return Status.of(Code.UNSCHEDULABLE, "Nodes failed the fake plugin")


class MatchFilter:
    """``tf.MatchFilterPlugin``: fits only the node named like the pod."""

    name = "MatchFilter"

    def filter(self, state, p, node_info):
        if node_info.name == p.metadata.name:
            return None
        return Status.of(Code.UNSCHEDULABLE, "Nodes failed the fake plugin")


class ErroringExtensions:
    """``TestPlugin``: a PreFilter plugin whose AddPod/RemovePod fail on nodes labelled error=true."""

    name = "test-plugin"

    def pre_filter(self, state, p):
        return None, None

    def pre_filter_extensions(self):
        return self

    def add_pod(self, state, p, info, node_info):
        if node_info.node.metadata.labels.get("error") == "true":
            return Status.error(f"failed to add pod: {p.metadata.name}")
        return None

    def remove_pod(self, state, p, info, node_info):
        if node_info.node.metadata.labels.get("error") == "true":
            return Status.error(f"failed to remove pod: {p.metadata.name}")
        return None


class FakeHandle:
    """The framework as a plugin sees it: PreFilter (with extensions) and Filter plugins
    run as ``frameworkImpl`` runs them, nominated pods, and a host recording deletions and
    nominations."""

    def __init__(self, nodes: list[Node], pods: list[Pod], plugins: list, rng=None,
                 nominated: dict[str, list[Pod]] | None = None) -> None:
        self.snapshot = Snapshot.of(nodes, pods)
        self.plugins = plugins
        self.rng = rng if rng is not None else np.random.default_rng(0)
        self.nominated = nominated or {}
        self.deleted: list[Pod] = []
        self.nominations: list[tuple[str, str]] = []
        self.waiting: dict[str, object] = {}

    def objects(self, kind):
        return []

    def nominated_pods_for_node(self, name):
        return [PodInfo(p) for p in self.nominated.get(name, [])]

    def delete_pod(self, p):
        self.deleted.append(p)

    def set_nominated_node_name(self, p, name):
        self.nominations.append((p.metadata.name, name))

    def get_waiting_pod(self, uid):
        return self.waiting.get(uid)

    def run_pre_filter(self, state: CycleState, p: Pod) -> None:
        for pl in self.plugins:
            if hasattr(pl, "pre_filter"):
                _, status = pl.pre_filter(state, p)
                assert is_success(status), status

    def _extension(self, method, go_name, state, p, info, node_info):
        for pl in self.plugins:
            ext = pl.pre_filter_extensions() if hasattr(pl, "pre_filter_extensions") else None
            if ext is None:
                continue
            s = getattr(ext, method)(state, p, info, node_info)
            if not is_success(s):
                return Status.error(f'running {go_name} on PreFilter plugin "{pl.name}": {s.message()}')
        return None

    def run_pre_filter_extension_add_pod(self, state, p, info, node_info):
        return self._extension("add_pod", "AddPod", state, p, info, node_info)

    def run_pre_filter_extension_remove_pod(self, state, p, info, node_info):
        return self._extension("remove_pod", "RemovePod", state, p, info, node_info)

    def run_filter_plugins(self, state, p, node_info):
        for pl in self.plugins:
            if hasattr(pl, "filter"):
                s = pl.filter(state, p, node_info)
                if not is_success(s):
                    return Status(s.code, list(s.reasons), pl.name)
        return None

    def run_filter_plugins_with_nominated_pods(self, state, p, node_info):
        """``RunFilterPluginsWithNominatedPods``: with nominated pods of equal or higher
        priority added, then (if that passed) without them."""
        higher = [info for info in self.nominated_pods_for_node(node_info.name)
                  if pod_priority(info.pod) >= pod_priority(p) and info.pod.metadata.uid != p.metadata.uid]
        if higher:
            info_with, state_with = node_info.clone(), state.clone()
            for info in higher:
                info_with.add_pod(info)
                s = self.run_pre_filter_extension_add_pod(state_with, p, info, info_with)
                if not is_success(s):
                    return s
            s = self.run_filter_plugins(state_with, p, info_with)
            if not is_success(s):
                return s
        return self.run_filter_plugins(state, p, node_info)


def fit_plugin():
    return fit.new({}, None)


def plugin_for(handle: FakeHandle, args: dict | None = None) -> DefaultPreemption:
    return defaultpreemption.new(args or {}, handle)


def evaluator(handle: FakeHandle, p: Pod, args: dict | None = None) -> Evaluator:
    state = CycleState()
    handle.run_pre_filter(state, p)
    return Evaluator(defaultpreemption.NAME, handle, plugin_for(handle, args), state)


def statuses(**codes: Code) -> dict[str, Status]:
    return {name: Status.of(code) for name, code in codes.items()}


# -- TestPostFilter --------------------------------------------------------------------

U, UU = Code.UNSCHEDULABLE, Code.UNSCHEDULABLE_AND_UNRESOLVABLE

POST_FILTER_CASES = [
    ("pod with higher priority can be made schedulable",
     pod("p", HIGH), [pod("p1", node="node1")], [node("node1", ONE_POD)], statuses(node1=U), False,
     PostFilterResult("node1"), None),
    ("pod with tied priority is still unschedulable",
     pod("p"), [pod("p1", node="node1")], [node("node1", ONE_POD)], statuses(node1=U), False,
     PostFilterResult(""),
     Status.of(U, "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.")),
    ("preemption should respect filteredNodesStatuses",
     pod("p", HIGH), [pod("p1", node="node1")], [node("node1", ONE_POD)], statuses(node1=UU), False,
     PostFilterResult(""),
     Status.of(U, "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.")),
    ("pod can be made schedulable on one node",
     pod("p", MID), [pod("p1", HIGH, "node1"), pod("p2", LOW, "node2")],
     [node("node1", ONE_POD), node("node2", ONE_POD)], statuses(node1=U, node2=U), False,
     PostFilterResult("node2"), None),
    # Upstream's case also has PDBs; without them node2 still wins on the lowest highest priority.
    ("pod can be made schedulable on minHighestPriority node",
     pod("p", VERY_HIGH), [pod("p1", HIGH, "node1"), pod("p2", LOW, "node1"), pod("p3", MID, "node2")],
     [node("node1", ONE_POD), node("node2", ONE_POD)], statuses(node1=U, node2=U), False,
     PostFilterResult("node2"), None),
    ("no candidate nodes found, no enough resource after removing low priority pods",
     pod("p", HIGH, req=LARGE), [pod("p1", node="node1"), pod("p2", node="node2")],
     [node("node1", NODE_RES), node("node2", NODE_RES)], statuses(node1=U, node2=U), False,
     PostFilterResult(""), Status.of(U, "preemption: 0/2 nodes are available: 2 Insufficient cpu.")),
    ("no candidate nodes found with mixed reasons, no lower priority pod and no enough CPU resource",
     pod("p", HIGH, req=LARGE), [pod("p1", HIGH, "node1"), pod("p2", node="node2"), pod("p3", HIGH, "node3")],
     [node("node1", ONE_POD), node("node2", NODE_RES), node("node3", ONE_POD)], statuses(node1=U, node2=U, node3=U),
     False, PostFilterResult(""),
     Status.of(U, "preemption: 0/3 nodes are available: 1 Insufficient cpu, "
                  "2 No preemption victims found for incoming pod.")),
    ("no candidate nodes found with mixed reason, 2 UnschedulableAndUnresolvable nodes and 2 nodes don't have "
     "enough CPU resource",
     pod("p", HIGH, req=LARGE), [pod("p1", node="node1"), pod("p2", node="node2")],
     [node(f"node{i}", NODE_RES) for i in range(1, 5)], statuses(node1=U, node2=U, node3=UU, node4=UU), False,
     PostFilterResult(""),
     Status.of(U, "preemption: 0/4 nodes are available: 2 Insufficient cpu, "
                  "2 Preemption is not helpful for scheduling.")),
    ("only one node but failed with TestPlugin",
     pod("p", HIGH, req=LARGE), [pod("p1", node="node1")], [node("node1", LARGE, {"error": "true"})],
     statuses(node1=U), True, None,
     Status.error('preemption: running RemovePod on PreFilter plugin "test-plugin": failed to remove pod: p')),
    ("one failed with TestPlugin and the other pass",
     pod("p", HIGH, req=LARGE), [pod("p1", node="node1"), pod("p2", node="node2", req=MEDIUM)],
     [node("node1", LARGE, {"error": "true"}), node("node2", LARGE)], statuses(node1=U, node2=U), True,
     PostFilterResult("node2"), None),
]


@pytest.mark.parametrize("name,preemptor,pods,nodes,m,with_test_plugin,want_result,want_status", POST_FILTER_CASES,
                         ids=[c[0] for c in POST_FILTER_CASES])
def test_post_filter(name, preemptor, pods, nodes, m, with_test_plugin, want_result, want_status):
    """TestPostFilter."""
    plugins = [fit_plugin()] + ([ErroringExtensions()] if with_test_plugin else [])
    handle = FakeHandle(nodes, pods, plugins)
    state = CycleState()
    handle.run_pre_filter(state, preemptor)
    result, status = plugin_for(handle).post_filter(state, preemptor, m)
    assert result == want_result
    if want_status is None:
        assert status is None
    else:
        assert (status.code, status.reasons) == (want_status.code, want_status.reasons)
    if want_result is not None and want_result.nominated_node_name:
        victims_node = want_result.nominated_node_name
        assert handle.deleted and all(v.spec.node_name == victims_node for v in handle.deleted)


# -- TestDryRunPreemption --------------------------------------------------------------


def _dry_run_case(name, plugins, node_names, test_pods, init_pods, expected, num_filter_called,
                  fake_rc=Code.SUCCESS, args=None):
    return (name, plugins, node_names, test_pods, init_pods, expected, num_filter_called, fake_rc, args)


DRY_RUN_CASES = [
    _dry_run_case("a pod that does not fit on any node", lambda: [FalseFilter()], ["node1", "node2"],
                  [pod("p", HIGH)], [pod("p1", MID, "node1"), pod("p2", MID, "node2")], [{}], [2]),
    _dry_run_case("a pod that fits with no preemption", lambda: [TrueFilter()], ["node1", "node2"],
                  [pod("p", HIGH)], [pod("p1", MID, "node1"), pod("p2", MID, "node2")], [{}], [2], U),
    _dry_run_case("a pod that fits on one node with no preemption", lambda: [MatchFilter()], ["node1", "node2"],
                  [pod("node1", HIGH)], [pod("p1", MID, "node1"), pod("p2", MID, "node2")], [{}], [2], U),
    _dry_run_case("a pod that fits on both nodes when lower priority pods are preempted", lambda: [fit_plugin()],
                  ["node1", "node2"], [pod("p", HIGH, req=LARGE)],
                  [pod("p1", MID, "node1", LARGE), pod("p2", MID, "node2", LARGE)],
                  [{"node1": ["p1"], "node2": ["p2"]}], [4]),
    _dry_run_case("a pod that would fit on the nodes, but other pods running are higher priority, no preemption "
                  "would happen", lambda: [fit_plugin()], ["node1", "node2"], [pod("p", LOW, req=LARGE)],
                  [pod("p1", MID, "node1", LARGE), pod("p2", MID, "node2", LARGE)], [{}], [0]),
    _dry_run_case("medium priority pod is preempted, but lower priority one stays as it is small",
                  lambda: [fit_plugin()], ["node1", "node2"], [pod("p", HIGH, req=LARGE)],
                  [pod("p1.1", LOW, "node1", SMALL), pod("p1.2", MID, "node1", LARGE), pod("p2", MID, "node2", LARGE)],
                  [{"node1": ["p1.2"], "node2": ["p2"]}], [5]),
    _dry_run_case("mixed priority pods are preempted", lambda: [fit_plugin()], ["node1", "node2"],
                  [pod("p", HIGH, req=LARGE)],
                  [pod("p1.1", MID, "node1", SMALL), pod("p1.2", LOW, "node1", SMALL),
                   pod("p1.3", MID, "node1", MEDIUM), pod("p1.4", HIGH, "node1", SMALL),
                   pod("p2", HIGH, "node2", LARGE)],
                  [{"node1": ["p1.2", "p1.3"]}], [4]),
    _dry_run_case("mixed priority pods are preempted, pick later StartTime one when priorities are equal",
                  lambda: [fit_plugin()], ["node1", "node2"], [pod("p", HIGH, req=LARGE)],
                  [pod("p1.1", LOW, "node1", SMALL, 5), pod("p1.2", LOW, "node1", SMALL, 4),
                   pod("p1.3", MID, "node1", MEDIUM, 3), pod("p1.4", HIGH, "node1", SMALL, 2),
                   pod("p2", HIGH, "node2", LARGE, 1)],
                  [{"node1": ["p1.1", "p1.3"]}], [4]),
    _dry_run_case("all nodes are possible candidates, but DefaultPreemptionArgs limits to 2", lambda: [fit_plugin()],
                  [f"node{i}" for i in range(1, 6)], [pod("p", HIGH, req=LARGE)],
                  [pod(f"p{i}", MID, f"node{i}", LARGE) for i in range(1, 6)],
                  [{"node1": ["p1"], "node5": ["p5"]}], [4],
                  args={"minCandidateNodesPercentage": 40, "minCandidateNodesAbsolute": 1}),
    _dry_run_case("some nodes are not possible candidates, DefaultPreemptionArgs limits to 2", lambda: [fit_plugin()],
                  [f"node{i}" for i in range(1, 6)], [pod("p", HIGH, req=LARGE)],
                  [pod("p1", MID, "node1", LARGE), pod("p2", VERY_HIGH, "node2", LARGE), pod("p3", MID, "node3", LARGE),
                   pod("p4", MID, "node4", LARGE), pod("p5", VERY_HIGH, "node5", LARGE)],
                  [{"node1": ["p1"], "node3": ["p3"]}], [4],
                  args={"minCandidateNodesPercentage": 40, "minCandidateNodesAbsolute": 1}),
    _dry_run_case("preemption offset across multiple scheduling cycles and wrap around", lambda: [fit_plugin()],
                  [f"node{i}" for i in range(1, 6)],
                  [pod("tp1", HIGH, req=LARGE), pod("tp2", HIGH, req=LARGE), pod("tp3", HIGH, req=LARGE)],
                  [pod(f"p{i}", MID, f"node{i}", LARGE) for i in range(1, 6)],
                  [{"node1": ["p1"], "node5": ["p5"]}, {"node2": ["p2"], "node3": ["p3"]},
                   {"node4": ["p4"], "node5": ["p5"]}], [4, 4, 4],
                  args={"minCandidateNodesPercentage": 40, "minCandidateNodesAbsolute": 1}),
    _dry_run_case("get Unschedulable in the preemption phase when the filter plugins filtering the nodes",
                  lambda: [fit_plugin()], ["node1", "node2"], [pod("p", HIGH, req=LARGE)],
                  [pod("p1", MID, "node1", LARGE), pod("p2", MID, "node2", LARGE)], [{}], [2], U),
]


@pytest.mark.parametrize("name,plugins,node_names,test_pods,init_pods,expected,num_filter_called,fake_rc,args",
                         DRY_RUN_CASES, ids=[c[0] for c in DRY_RUN_CASES])
def test_dry_run_preemption(name, plugins, node_names, test_pods, init_pods, expected, num_filter_called,
                            fake_rc, args):
    """TestDryRunPreemption: the candidates (victims sorted by name) and the number of
    Filter runs, cycle by cycle."""
    nodes = [node(n, VERY_LARGE, {"hostname": n}) for n in node_names]
    fake = FakeFilter({n: fake_rc for n in node_names})
    # Go's rand seeded with 4 draws 4, 1, 3 from Int31n(5); elsewhere every node is tried anyway.
    rng = ScriptedRng([4, 1, 3]) if len(nodes) == 5 else None
    handle = FakeHandle(nodes, init_pods, [fake] + plugins(), rng=rng)
    node_infos = sorted(handle.snapshot.node_info_list, key=lambda n: n.name)
    previous = 0
    for cycle, p in enumerate(test_pods):
        ev = evaluator(handle, p, args)
        offset, num_candidates = ev.interface.get_offset_and_num_candidates(len(node_infos))
        got, _, _ = ev.dry_run_preemption(p, node_infos, [], offset, num_candidates)
        assert {c.name: sorted(v.metadata.name for v in c.victims.pods) for c in got} == expected[cycle]
        assert all(c.victims.num_pdb_violations == 0 for c in got)
        assert fake.num_filter_called - previous == num_filter_called[cycle]
        previous = fake.num_filter_called


def test_dry_run_preemption_with_affinity_and_spreading():
    """TestDryRunPreemption: "pod with anti-affinity is preempted" and "preemption to
    resolve pod topology spread filter failure", with the real InterPodAffinity and
    PodTopologySpread plugins and their PreFilter extensions."""
    p = pod("p", HIGH, req=SMALL, labels={"foo": ""})
    victim = pod("p1.1", LOW, "node1", SMALL, labels={"foo": ""})
    exists_foo = LabelSelector(match_expressions=[LabelSelectorRequirement("foo", "Exists")])
    victim.spec.affinity = Affinity(pod_anti_affinity=PodAntiAffinity(
        required_during_scheduling_ignored_during_execution=[PodAffinityTerm(label_selector=exists_foo,
                                                                             topology_key="hostname")]))
    init = [victim, pod("p1.2", MID, "node1", SMALL), pod("p1.3", HIGH, "node1", SMALL),
            pod("p2", HIGH, "node2", SMALL)]
    nodes = [node(n, VERY_LARGE, {"hostname": n}) for n in ("node1", "node2")]
    fake = FakeFilter()
    handle = FakeHandle(nodes, init, [fake, fit_plugin()])
    handle.plugins.append(interpodaffinity.new({}, handle))
    ev = evaluator(handle, p)
    offset, n = ev.interface.get_offset_and_num_candidates(2)
    got, _, _ = ev.dry_run_preemption(p, sorted(handle.snapshot.node_info_list, key=lambda x: x.name), [], offset, n)
    assert {c.name: [v.metadata.name for v in c.victims.pods] for c in got} == {"node1": ["p1.1"]}
    assert fake.num_filter_called == 3

    selector = LabelSelector(match_expressions=[LabelSelectorRequirement("foo", "Exists")])
    p = pod("p", HIGH, labels={"foo": ""})
    p.spec.topology_spread_constraints = [
        TopologySpreadConstraint(max_skew=1, topology_key="zone", when_unsatisfiable="DoNotSchedule",
                                 label_selector=selector),
        TopologySpreadConstraint(max_skew=1, topology_key="hostname", when_unsatisfiable="DoNotSchedule",
                                 label_selector=selector)]
    init = [pod("pod-a1", MID, "node-a", labels={"foo": ""}), pod("pod-a2", LOW, "node-a", labels={"foo": ""}),
            pod("pod-b1", LOW, "node-b", labels={"foo": ""}), pod("pod-x1", HIGH, "node-x", labels={"foo": ""}),
            pod("pod-x2", HIGH, "node-x", labels={"foo": ""})]
    fake = FakeFilter()
    handle = FakeHandle(topology_nodes(["node-a/zone1", "node-b/zone1", "node-x/zone2"], VERY_LARGE), init, [fake])
    handle.plugins.append(podtopologyspread.new({}, handle))
    ev = evaluator(handle, p)
    offset, n = ev.interface.get_offset_and_num_candidates(3)
    got, _, _ = ev.dry_run_preemption(p, sorted(handle.snapshot.node_info_list, key=lambda x: x.name), [], offset, n)
    assert {c.name: [v.metadata.name for v in c.victims.pods] for c in got} == {"node-a": ["pod-a2"],
                                                                               "node-b": ["pod-b1"]}
    assert fake.num_filter_called == 5  # node-a (3), node-b (2), node-x (0)


def test_dry_run_preemption_reports_every_failing_node():
    """The statuses DryRunPreemption returns for nodes that are not candidates, and the
    error for a node where every victim could be reprieved."""
    handle = FakeHandle([node("node1", VERY_LARGE), node("node2", VERY_LARGE)],
                        [pod("p1", MID, "node1", LARGE), pod("p2", HIGH, "node2", LARGE)], [TrueFilter()])
    p = pod("p", HIGH, req=LARGE)
    ev = evaluator(handle, p)
    got, node_statuses, err = ev.dry_run_preemption(p, handle.snapshot.node_info_list, [], 0, 2)
    assert got == []
    assert node_statuses["node1"].code == Code.ERROR
    assert node_statuses["node1"].message() == 'expected at least one victim pod on node "node1"'
    assert (node_statuses["node2"].code, node_statuses["node2"].message()) == (
        Code.UNSCHEDULABLE_AND_UNRESOLVABLE, "No preemption victims found for incoming pod")
    assert err == 'expected at least one victim pod on node "node1"'


# -- TestSelectBestCandidate -----------------------------------------------------------

SELECT_CASES = [
    ("a pod that fits on both nodes when lower priority pods are preempted", 2, pod("p", HIGH, req=LARGE),
     [pod("p1", MID, "node1", LARGE, 0), pod("p2", MID, "node2", LARGE, 0)], ["node1", "node2"]),
    ("node with min highest priority pod is picked", 3, pod("p", HIGH, req=VERY_LARGE),
     [pod("p1.1", MID, "node1", MEDIUM, 0), pod("p1.2", MID, "node1", LARGE, 0),
      pod("p2.1", MID, "node2", MEDIUM, 0), pod("p2.2", LOW, "node2", MEDIUM, 0),
      pod("p3.1", LOW, "node3", MEDIUM, 0), pod("p3.2", LOW, "node3", MEDIUM, 0)], ["node3"]),
    ("when highest priorities are the same, minimum sum of priorities is picked", 3, pod("p", HIGH, req=VERY_LARGE),
     [pod("p1.1", MID, "node1", MEDIUM, 0), pod("p1.2", MID, "node1", LARGE, 0),
      pod("p2.1", MID, "node2", LARGE, 0), pod("p2.2", LOW, "node2", MEDIUM, 0),
      pod("p3.1", MID, "node3", MEDIUM, 0), pod("p3.2", MID, "node3", MEDIUM, 0)], ["node2"]),
    ("when highest priority and sum are the same, minimum number of pods is picked", 3,
     pod("p", HIGH, req=VERY_LARGE),
     [pod("p1.1", MID, "node1", SMALL, 0), pod("p1.2", NEG, "node1", SMALL, 0), pod("p1.3", MID, "node1", SMALL, 0),
      pod("p1.4", NEG, "node1", SMALL, 0), pod("p2.1", MID, "node2", LARGE, 0), pod("p2.2", NEG, "node2", MEDIUM, 0),
      pod("p3.1", MID, "node3", MEDIUM, 0), pod("p3.2", NEG, "node3", SMALL, 0), pod("p3.3", LOW, "node3", SMALL, 0)],
     ["node2"]),
    ("sum of adjusted priorities is considered", 3, pod("p", HIGH, req=VERY_LARGE),
     [pod("p1.1", MID, "node1", SMALL, 0), pod("p1.2", NEG, "node1", SMALL, 0), pod("p1.3", NEG, "node1", SMALL, 0),
      pod("p2.1", MID, "node2", LARGE, 0), pod("p2.2", NEG, "node2", MEDIUM, 0),
      pod("p3.1", MID, "node3", MEDIUM, 0), pod("p3.2", NEG, "node3", SMALL, 0), pod("p3.3", LOW, "node3", SMALL, 0)],
     ["node2"]),
    ("non-overlapping lowest high priority, sum priorities, and number of pods", 4,
     pod("p", VERY_HIGH, req=VERY_LARGE),
     [pod("p1.1", MID, "node1", SMALL, 0), pod("p1.2", LOW, "node1", SMALL, 0), pod("p1.3", LOW, "node1", SMALL, 0),
      pod("p2.1", HIGH, "node2", LARGE, 0),
      pod("p3.1", MID, "node3", MEDIUM, 0), pod("p3.2", LOW, "node3", SMALL, 0), pod("p3.3", LOW, "node3", SMALL, 0),
      pod("p3.4", LOW, "node3", MEDIUM, 0),
      pod("p4.1", MID, "node4", MEDIUM, 0), pod("p4.2", MID, "node4", SMALL, 0), pod("p4.3", MID, "node4", SMALL, 0),
      pod("p4.4", NEG, "node4", SMALL, 0)], ["node1"]),
    ("same priority, same number of victims, different start time for each node's pod", 3,
     pod("p", HIGH, req=VERY_LARGE),
     [pod("p1.1", MID, "node1", MEDIUM, 2), pod("p1.2", MID, "node1", MEDIUM, 2),
      pod("p2.1", MID, "node2", MEDIUM, 3), pod("p2.2", MID, "node2", MEDIUM, 3),
      pod("p3.1", MID, "node3", MEDIUM, 1), pod("p3.2", MID, "node3", MEDIUM, 1)], ["node2"]),
    ("same priority, same number of victims, different start time for all pods", 3, pod("p", HIGH, req=VERY_LARGE),
     [pod("p1.1", MID, "node1", MEDIUM, 4), pod("p1.2", MID, "node1", MEDIUM, 2),
      pod("p2.1", MID, "node2", MEDIUM, 5), pod("p2.2", MID, "node2", MEDIUM, 1),
      pod("p3.1", MID, "node3", MEDIUM, 3), pod("p3.2", MID, "node3", MEDIUM, 6)], ["node3"]),
    ("different priority, same number of victims, different start time for all pods", 3,
     pod("p", HIGH, req=VERY_LARGE),
     [pod("p1.1", LOW, "node1", MEDIUM, 4), pod("p1.2", MID, "node1", MEDIUM, 2),
      pod("p2.1", MID, "node2", MEDIUM, 6), pod("p2.2", LOW, "node2", MEDIUM, 1),
      pod("p3.1", LOW, "node3", MEDIUM, 3), pod("p3.2", MID, "node3", MEDIUM, 5)], ["node2"]),
]


@pytest.mark.parametrize("name,num_nodes,preemptor,pods,expected", SELECT_CASES, ids=[c[0] for c in SELECT_CASES])
@pytest.mark.parametrize("offset", [0, 1])
def test_select_best_candidate(name, num_nodes, preemptor, pods, expected, offset):
    """TestSelectBestCandidate (any of ``expected`` is right), from two window offsets."""
    nodes = [node(f"node{i}", VERY_LARGE) for i in range(1, num_nodes + 1)]
    handle = FakeHandle(nodes, pods, [fit_plugin()], rng=ScriptedRng([offset]))
    ev = evaluator(handle, preemptor)
    node_infos = handle.snapshot.node_info_list
    o, n = ev.interface.get_offset_and_num_candidates(len(node_infos))
    candidates, _, _ = ev.dry_run_preemption(preemptor, node_infos, [], o, n)
    best = ev.select_candidate(candidates)
    assert best is not None and best.name in expected


def test_pick_one_node_for_preemption_criteria():
    """pickOneNodeForPreemption's chain on hand-made victims: PDB violations first, the
    first node on a full tie, "" for none."""
    a = Victims([pod("a", MID, start=1)], num_pdb_violations=1)
    b = Victims([pod("b", HIGH, start=1)])
    assert pick_one_node_for_preemption({"a": a, "b": b}) == "b"
    c = Victims([pod("c", MID, start=1)])
    d = Victims([pod("d", MID, start=1)])
    assert pick_one_node_for_preemption({"c": c, "d": d}) == "c"
    assert pick_one_node_for_preemption({"d": d, "c": c}) == "d"
    assert pick_one_node_for_preemption({}) == ""
    unstarted = Victims([pod("e", MID)])
    assert pick_one_node_for_preemption({"c": c, "e": unstarted}) == "e"  # started latest: not at all


def test_more_important_pod_and_earliest_start_time():
    """MoreImportantPod and GetEarliestPodStartTime (pkg/scheduler/util/utils.go)."""
    assert more_important_pod(pod("a", HIGH, start=9), pod("b", LOW, start=1))
    assert more_important_pod(pod("a", MID, start=1), pod("b", MID, start=2))
    assert not more_important_pod(pod("a", MID, start=2), pod("b", MID, start=2))
    assert more_important_pod(pod("a", MID, start=2), pod("b", MID))  # not started yet: "now"
    v = Victims([pod("x", MID, start=5), pod("y", HIGH, start=7), pod("z", HIGH, start=6), pod("w", LOW, start=1)])
    assert get_earliest_pod_start_time(v) == 6.0
    assert get_earliest_pod_start_time(Victims([])) is None


# -- TestPodEligibleToPreemptOthers ----------------------------------------------------


def terminating(p: Pod, preempted: bool) -> Pod:
    p.metadata.deletion_timestamp = "2023-01-01T00:00:00Z"
    if preempted:
        p.status.conditions.append(PodCondition(type="DisruptionTarget", status="True", reason="PreemptionByScheduler"))
    return p


ELIGIBLE_CASES = [
    ("Pod with nominated node", pod("p_with_nominated_node", HIGH, nominated="node1"),
     [terminating(pod("p1", LOW, "node1"), False)], ["node1"],
     Status.of(UU, "node(s) had untolerated taint {foo: bar}"), True, True),
    ("Pod whose nominated node became unresolvable may preempt again despite a preempted pod terminating there",
     pod("p_with_nominated_node", HIGH, nominated="node1"), [terminating(pod("p1", LOW, "node1"), True)], ["node1"],
     Status.of(UU, "node(s) had untolerated taint {foo: bar}"), True, True),
    ("Pod without nominated node", pod("p_without_nominated_node", HIGH), [], [], None, True, True),
    ("Pod nominated to a node that is gone", pod("p_with_nominated_node", HIGH, nominated="node9"),
     [terminating(pod("p1", LOW, "node1"), True)], ["node1"], None, True, True),
    ("Pod with 'PreemptNever' preemption policy", pod("p_with_preempt_never_policy", HIGH, preemption_policy="Never"),
     [], [], None, True, False),
    ("victim Pods terminating, feature PodDisruptionConditions is enabled",
     pod("p_with_nominated_node", HIGH, nominated="node1"), [terminating(pod("p1", LOW, "node1"), True)], ["node1"],
     None, True, False),
    ("non-victim Pods terminating, feature PodDisruptionConditions is enabled",
     pod("p_with_nominated_node", HIGH, nominated="node1"), [terminating(pod("p1", LOW, "node1"), False)], ["node1"],
     None, True, True),
    ("victim Pods terminating, feature PodDisruptionConditions is disabled",
     pod("p_with_nominated_node", HIGH, nominated="node1"), [terminating(pod("p1", LOW, "node1"), True)], ["node1"],
     None, False, False),
    ("non-victim Pods terminating, feature PodDisruptionConditions is disabled",
     pod("p_with_nominated_node", HIGH, nominated="node1"), [terminating(pod("p1", LOW, "node1"), False)], ["node1"],
     None, False, False),
]


@pytest.mark.parametrize("name,p,pods,nodes,nominated_status,disruption_conditions,expected", ELIGIBLE_CASES,
                         ids=[c[0] for c in ELIGIBLE_CASES])
def test_pod_eligible_to_preempt_others(name, p, pods, nodes, nominated_status, disruption_conditions, expected):
    """TestPodEligibleToPreemptOthers."""
    handle = FakeHandle([node(n) for n in nodes], pods, [])
    pl = DefaultPreemption(handle, enable_pod_disruption_conditions=disruption_conditions)
    assert pl.pod_eligible_to_preempt_others(p, nominated_status)[0] is expected


def test_not_eligible_messages():
    """The two refusals, as PostFilter reports them."""
    handle = FakeHandle([node("node1")], [terminating(pod("p1", LOW, "node1"), True)], [fit_plugin()])
    state = CycleState()
    never = pod("p", HIGH, preemption_policy="Never")
    assert plugin_for(handle).post_filter(state, never, statuses(node1=U)) == (
        None, Status.of(U, "preemption: not eligible due to preemptionPolicy=Never."))
    waiting = pod("p", HIGH, nominated="node1")
    assert plugin_for(handle).post_filter(state, waiting, statuses(node1=U)) == (
        None, Status.of(U, "preemption: not eligible due to a terminating pod on the nominated node."))


# -- TestPreempt -----------------------------------------------------------------------

PREEMPT_CASES = [
    ("basic preemption logic", pod("p", HIGH, req=VERY_LARGE, preemption_policy="PreemptLowerPriority"),
     [pod("p1.1", LOW, "node1", SMALL), pod("p1.2", LOW, "node1", SMALL), pod("p2.1", HIGH, "node2", LARGE),
      pod("p3.1", MID, "node3", MEDIUM)], "node1", ["p1.1", "p1.2"]),
    ("no preempting in pod", pod("p", HIGH, req=VERY_LARGE, preemption_policy="Never"),
     [pod("p1.1", LOW, "node1", SMALL), pod("p1.2", LOW, "node1", SMALL), pod("p2.1", HIGH, "node2", LARGE),
      pod("p3.1", MID, "node3", MEDIUM)], None, []),
    ("PreemptionPolicy is nil", pod("p", HIGH, req=VERY_LARGE),
     [pod("p1.1", LOW, "node1", SMALL), pod("p1.2", LOW, "node1", SMALL), pod("p2.1", HIGH, "node2", LARGE),
      pod("p3.1", MID, "node3", MEDIUM)], "node1", ["p1.1", "p1.2"]),
]


@pytest.mark.parametrize("name,preemptor,pods,want,want_deleted", PREEMPT_CASES, ids=[c[0] for c in PREEMPT_CASES])
def test_preempt(name, preemptor, pods, want, want_deleted):
    """TestPreempt: the nominated node and the victims deleted, each marked with the
    DisruptionTarget condition."""
    nodes = [node(f"node{i}", VERY_LARGE) for i in (1, 2, 3)]
    handle = FakeHandle(nodes, pods, [fit_plugin()])
    m = {n.metadata.name: Status.of(U, "Insufficient cpu") for n in nodes}
    state = CycleState()
    handle.run_pre_filter(state, preemptor)
    result, _ = plugin_for(handle).post_filter(state, preemptor, m)
    assert (result.nominated_node_name if result else None) == want
    assert sorted(p.metadata.name for p in handle.deleted) == want_deleted
    for victim in handle.deleted:
        condition = victim.status.conditions[-1]
        assert (condition.type, condition.status, condition.reason) == ("DisruptionTarget", "True",
                                                                        "PreemptionByScheduler")
        assert condition.message == ": preempting to accommodate a higher priority pod"


def test_preempt_for_topology_spread_constraints():
    """TestPreempt: "preemption for topology spread constraints"."""
    selector = LabelSelector(match_expressions=[LabelSelectorRequirement("foo", "Exists")])
    p = pod("p", HIGH, labels={"foo": ""})
    p.spec.topology_spread_constraints = [
        TopologySpreadConstraint(max_skew=1, topology_key=k, when_unsatisfiable="DoNotSchedule",
                                 label_selector=selector)
        for k in ("zone", "hostname")]
    pods = [pod("p-a1", HIGH, "node-a", labels={"foo": ""}), pod("p-a2", HIGH, "node-a", labels={"foo": ""}),
            pod("p-b1", LOW, "node-b", labels={"foo": ""}), pod("p-x1", HIGH, "node-x", labels={"foo": ""}),
            pod("p-x2", HIGH, "node-x", labels={"foo": ""})]
    handle = FakeHandle(topology_nodes(["node-a/zone1", "node-b/zone1", "node-x/zone2"], VERY_LARGE), pods, [])
    handle.plugins.append(podtopologyspread.new({}, handle))
    state = CycleState()
    handle.run_pre_filter(state, p)
    m = {n: Status.of(U, "node(s) didn't match pod topology spread constraints")
         for n in ("node-a", "node-b", "node-x")}
    result, status = plugin_for(handle).post_filter(state, p, m)
    assert (result, status) == (PostFilterResult("node-b"), None)
    assert [v.metadata.name for v in handle.deleted] == ["p-b1"]


def test_prepare_candidate_clears_lower_priority_nominations():
    """prepareCandidate: pods of lower priority nominated to the chosen node lose their
    nomination; equal or higher ones, and pods whose status names no node, keep theirs."""
    nodes = [node("node1", VERY_LARGE)]
    lower = pod("lower", MID, nominated="node1")
    unset = pod("unset", LOW)
    higher = pod("higher", VERY_HIGH, nominated="node1", req=SMALL)
    handle = FakeHandle(nodes, [pod("v", LOW, "node1", VERY_LARGE)], [fit_plugin()],
                        nominated={"node1": [lower, unset, higher]})
    p = pod("p", HIGH, req=LARGE)
    state = CycleState()
    handle.run_pre_filter(state, p)
    result, status = plugin_for(handle).post_filter(state, p, statuses(node1=U))
    assert (result, status) == (PostFilterResult("node1"), None)
    assert handle.nominations == [("lower", "")]


def test_nominated_higher_priority_pods_count_against_the_node():
    """Victim selection runs the filters with higher-priority nominated pods in place: the
    room they will take cannot be won by preemption."""
    nodes = [node("node1", VERY_LARGE)]
    handle = FakeHandle(nodes, [pod("v", LOW, "node1", LARGE)], [fit_plugin()],
                        nominated={"node1": [pod("big", VERY_HIGH, nominated="node1", req=LARGE)]})
    p = pod("p", HIGH, req=LARGE)
    state = CycleState()
    handle.run_pre_filter(state, p)
    result, status = plugin_for(handle).post_filter(state, p, statuses(node1=U))
    assert result == PostFilterResult("")
    assert status == Status.of(U, "preemption: 0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory.")
    assert handle.deleted == []


def test_no_potential_nodes_clears_the_pods_nomination():
    """findCandidates: with no node where preemption might help, the pod's own
    nominatedNodeName is cleared (util.ClearNominatedNodeName)."""
    handle = FakeHandle([node("node1")], [], [fit_plugin()])
    p = pod("p", HIGH, nominated="node1")
    result, status = plugin_for(handle).post_filter(CycleState(), p, statuses(node1=UU))
    assert result == PostFilterResult("")
    assert status.message() == "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
    assert handle.nominations == [("p", "")]


def test_no_nodes_is_an_error():
    """findCandidates on an empty snapshot."""
    handle = FakeHandle([], [], [])
    result, status = plugin_for(handle).post_filter(CycleState(), pod("p", HIGH), {})
    assert result is None and status == Status.error("preemption: no nodes available")


def test_nodes_absent_from_the_status_map_are_tried():
    """v1.28's nodesWherePreemptionMightHelp skips only nodes reported
    UnschedulableAndUnresolvable; a node missing from the map is a potential node."""
    handle = FakeHandle([node("node1", ONE_POD)], [pod("p1", LOW, "node1")], [fit_plugin()])
    p = pod("p", HIGH)
    state = CycleState()
    handle.run_pre_filter(state, p)
    assert plugin_for(handle).post_filter(state, p, {}) == (PostFilterResult("node1"), None)


# -- the plugin's arguments -------------------------------------------------------------


@pytest.mark.parametrize("num_nodes,percentage,absolute,want", [
    (10, 10, 100, 10), (1000, 10, 100, 100), (5000, 10, 100, 500), (5, 40, 1, 2), (5, 0, 3, 3), (7, 50, 1, 3),
])
def test_calculate_num_candidates(num_nodes, percentage, absolute, want):
    """calculateNumCandidates: percentage of the nodes, at least the absolute, at most all."""
    pl = defaultpreemption.new({"minCandidateNodesPercentage": percentage, "minCandidateNodesAbsolute": absolute},
                               None)
    assert pl.calculate_num_candidates(num_nodes) == want


def test_default_args():
    """SetDefaults_DefaultPreemptionArgs: 10 % and 100 nodes."""
    pl = defaultpreemption.new({}, None)
    assert (pl.min_candidate_nodes_percentage, pl.min_candidate_nodes_absolute) == (10, 100)
    assert pl.name == defaultpreemption.NAME == "DefaultPreemption"


@pytest.mark.parametrize("args,message", [
    ({"minCandidateNodesPercentage": -1, "minCandidateNodesAbsolute": 100},
     "minCandidateNodesPercentage: Invalid value: -1: not in valid range [0, 100]"),
    ({"minCandidateNodesPercentage": 900, "minCandidateNodesAbsolute": 100},
     "minCandidateNodesPercentage: Invalid value: 900: not in valid range [0, 100]"),
    ({"minCandidateNodesPercentage": 20, "minCandidateNodesAbsolute": -1},
     "minCandidateNodesAbsolute: Invalid value: -1: not in valid range [0, inf)"),
    ({"minCandidateNodesPercentage": 0, "minCandidateNodesAbsolute": 0},
     "[minCandidateNodesPercentage: Invalid value: 0: cannot be zero at the same time as minCandidateNodesAbsolute, "
     "minCandidateNodesAbsolute: Invalid value: 0: cannot be zero at the same time as minCandidateNodesPercentage]"),
    ({"minCandidateNodesPercentage": -1, "minCandidateNodesAbsolute": -1},
     "[minCandidateNodesPercentage: Invalid value: -1: not in valid range [0, 100], "
     "minCandidateNodesAbsolute: Invalid value: -1: not in valid range [0, inf)]"),
    ({"minCandidateNodesPercentage": "ten"}, 'minCandidateNodesPercentage: Invalid value: "ten": must be an integer'),
    ({"minCandidates": 3}, 'unknown field "minCandidates"'),
])
def test_validate_default_preemption_args(args, message):
    """TestValidateDefaultPreemptionArgs (validation_pluginargs_test.go)."""
    from kbook.scheduler.config import ConfigError

    with pytest.raises(ConfigError) as e:
        defaultpreemption.new(args, None)
    assert str(e.value) == message


def test_evaluator_candidate_order_is_window_order():
    """Deterministic DryRunPreemption: candidates come in window order from the offset."""
    nodes = [node(f"node{i}", VERY_LARGE) for i in range(1, 6)]
    handle = FakeHandle(nodes, [pod(f"p{i}", MID, f"node{i}", LARGE) for i in range(1, 6)], [fit_plugin()])
    p = pod("p", HIGH, req=LARGE)
    ev = evaluator(handle, p)
    got, _, _ = ev.dry_run_preemption(p, handle.snapshot.node_info_list, [], 3, 5)
    assert [c.name for c in got] == ["node4", "node5", "node1", "node2", "node3"]
    assert isinstance(got[0], Candidate)


def test_waiting_victims_are_rejected_not_deleted():
    """prepareCandidate: a victim waiting on Permit is rejected ("preempted") by the plugin."""

    class Waiting:
        rejected: tuple[str, str] | None = None

        def reject(self, plugin: str, message: str) -> None:
            self.rejected = (plugin, message)

    handle = FakeHandle([node("node1", VERY_LARGE)],
                        [pod("w", LOW, "node1", MEDIUM), pod("v", LOW, "node1", MEDIUM)], [fit_plugin()])
    waiting = Waiting()
    handle.waiting["w"] = waiting
    p = pod("p", HIGH, req=VERY_LARGE)
    state = CycleState()
    handle.run_pre_filter(state, p)
    assert plugin_for(handle).post_filter(state, p, statuses(node1=U)) == (PostFilterResult("node1"), None)
    assert waiting.rejected == ("DefaultPreemption", "preempted")
    assert [v.metadata.name for v in handle.deleted] == ["v"]


def test_post_filter_through_the_framework():
    """The plugin as the default profile's PostFilter in the real Framework (a contract
    check): it nominates the node of the cheaper victim and deletes that victim."""
    from kbook.scheduler.config import Profile, default_plugins
    from kbook.scheduler.framework import Framework, StaticHost

    class Host(StaticHost):
        def __init__(self) -> None:
            super().__init__()
            self.deleted: list[str] = []

        def delete_pod(self, p: Pod) -> None:
            self.deleted.append(p.metadata.name)

    host = Host()
    snapshot = Snapshot.of([node("n1", {"cpu": "1", "memory": "1Gi"}), node("n2", {"cpu": "1", "memory": "1Gi"})],
                           [pod("v1", LOW, "n1", {"cpu": "600m"}), pod("v2", MID, "n2", {"cpu": "600m"})])
    fw = Framework(Profile(plugins=default_plugins()), host=host, rng=np.random.default_rng(1), snapshot=snapshot)
    p = pod("p", HIGH, req={"cpu": "600m"})
    state = CycleState()
    fw.run_pre_filter_plugins(state, p)
    m = {n.name: fw.run_filter_plugins(state, p, n) for n in snapshot.node_info_list}
    assert fw.run_post_filter_plugins(state, p, m) == (PostFilterResult("n1"), None)
    assert host.deleted == ["v1"]
