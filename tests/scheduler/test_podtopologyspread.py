"""PodTopologySpread, ported from upstream's tables (v1.28,
pkg/scheduler/framework/plugins/podtopologyspread/{filtering_test.go,scoring_test.go,plugin_test.go});
each table names its Go test. Feature gates are at their v1.28 defaults (all on), so
cases that upstream runs with a gate off are kept only where the outcome is the same."""

from __future__ import annotations

import pytest

from builders import handle_of, make_label_selector, make_node, make_pod
from kbook.api import ObjectMeta, ReplicaSet, ReplicaSetSpec, Service, ServiceSpec, Taint
from kbook.scheduler.cyclestate import CycleState
from kbook.scheduler.plugins import podtopologyspread
from kbook.scheduler.plugins.podtopologyspread import (
    ERR_REASON_CONSTRAINTS_NOT_MATCH,
    ERR_REASON_NODE_LABEL_NOT_MATCH,
)
from kbook.scheduler.plugins.podtopologyspread.filtering import MAX_INT32, PRE_FILTER_STATE_KEY
from kbook.scheduler.plugins.podtopologyspread.scoring import PRE_SCORE_STATE_KEY, topology_normalizing_weight
from kbook.scheduler.status import Code, Status
from kbook.scheduler.types import NodeScore

DNS = "DoNotSchedule"  # v1.DoNotSchedule
SA = "ScheduleAnyway"  # v1.ScheduleAnyway
HONOR = "Honor"
IGNORE = "Ignore"
FOO_SELECTOR = make_label_selector().exists("foo").obj()  # fooSelector
BAR_SELECTOR = make_label_selector().exists("bar").obj()  # barSelector
TAINTS = [Taint(key="node.kubernetes.io/unschedulable", value="", effect="NoSchedule")]  # taints
SKIP = Status(Code.SKIP)


def node(name: str, **labels: str):
    """``st.MakeNode().Name(name).Label(k, v)...`` (keyword order is label order)."""
    return make_node().name(name).labels(labels).obj()


def zone_node(name: str, zone: str):
    """The common ``Label("zone", zone).Label("node", name)`` node."""
    return node(name, zone=zone, node=name)


def foo_pod(name: str, node_name: str, ns: str = ""):
    return make_pod().name(name).namespace(ns).node(node_name).label("foo", "").obj()


def service(selector: dict[str, str]) -> Service:
    return Service(metadata=ObjectMeta(), spec=ServiceSpec(selector=dict(selector)))


def list_args(*constraints: dict) -> dict:
    return {"defaultingType": "List", "defaultConstraints": list(constraints)}


def sorted_paths(paths) -> list[tuple[str, int]]:
    """The two critical paths, ties between equal match numbers ordered by value (the
    ``criticalPaths.sort`` comparer the Go tests use: map order is random there)."""
    (v0, n0), (v1, n1) = paths.paths
    if n0 == n1 and v0 > v1:
        v0, v1 = v1, v0
    return [(v0, n0), (v1, n1)]


def pre_filter(pod, nodes, pods=(), args=None, objects=None):
    handle = handle_of(nodes, pods, objects)
    plugin = podtopologyspread.new(args if args is not None else list_args(), handle)
    state = CycleState()
    _, status = plugin.pre_filter(state, pod)
    return plugin, handle, state, status


# -- TestPreFilterState -------------------------------------------------------------------

ABXY = [zone_node("node-a", "zone1"), zone_node("node-b", "zone1"), zone_node("node-x", "zone2"),
        zone_node("node-y", "zone2")]
FIVE_FOO = [foo_pod("p-a1", "node-a"), foo_pod("p-a2", "node-a"), foo_pod("p-b1", "node-b"),
            foo_pod("p-y1", "node-y"), foo_pod("p-y2", "node-y")]
SEVEN_FOO = FIVE_FOO + [foo_pod("p-y3", "node-y"), foo_pod("p-y4", "node-y")]
ABY = [zone_node("node-a", "zone1"), zone_node("node-b", "zone1"), zone_node("node-y", "zone2")]


def policy_nodes(c_taints=False, a_foo=True, b_foo=True):
    """node-a, node-b labelled foo and node-c labelled bar (optionally tainted)."""
    a = make_node().name("node-a").label("node", "node-a")
    b = make_node().name("node-b").label("node", "node-b")
    if a_foo:
        a.label("foo", "")
    if b_foo:
        b.label("foo", "")
    c = make_node().name("node-c").label("node", "node-c")
    if c_taints:
        c.taints(TAINTS)
    c.label("bar", "")
    return [a.obj(), b.obj(), c.obj()]


POLICY_PODS = [make_pod().name("p-a").node("node-a").label("bar", "").obj(),
               make_pod().name("p-b").node("node-b").label("bar", "").obj(),
               make_pod().name("p-c").node("node-b").label("bar", "").obj(),
               make_pod().name("p-d").node("node-c").obj()]

# (name, pod, nodes, existing pods, args, objects, want status,
#  want TpPairToMatchNum, want TpKeyToCriticalPaths, want TpKeyToDomainsNum or None)
PRE_FILTER_STATE_CASES = [
    ("clean cluster with one spreadConstraint",
     make_pod().name("p").label("foo", "")
     .spread_constraint(5, "zone", DNS, make_label_selector().label("foo", "bar").obj()).obj(),
     ABXY, [], None, None, None,
     {("zone", "zone1"): 0, ("zone", "zone2"): 0}, {"zone": [("zone1", 0), ("zone2", 0)]}, None),
    ("normal case with one spreadConstraint",
     make_pod().name("p").label("foo", "").spread_constraint(1, "zone", DNS, FOO_SELECTOR).obj(),
     ABXY, FIVE_FOO, None, None, None,
     {("zone", "zone1"): 3, ("zone", "zone2"): 2}, {"zone": [("zone2", 2), ("zone1", 3)]}, None),
    ("normal case with null label selector",
     make_pod().name("p").label("foo", "").spread_constraint(1, "zone", DNS, None).obj(),
     ABXY, FIVE_FOO, None, None, None,
     {("zone", "zone1"): 0, ("zone", "zone2"): 0}, {"zone": [("zone1", 0), ("zone2", 0)]}, None),
    ("normal case with one spreadConstraint, on a 3-zone cluster",
     make_pod().name("p").label("foo", "").spread_constraint(1, "zone", DNS, FOO_SELECTOR).obj(),
     ABXY + [zone_node("node-o", "zone3"), zone_node("node-p", "zone3")], FIVE_FOO, None, None, None,
     {("zone", "zone1"): 3, ("zone", "zone2"): 2, ("zone", "zone3"): 0},
     {"zone": [("zone3", 0), ("zone2", 2)]}, None),
    ("namespace mismatch doesn't count",
     make_pod().name("p").label("foo", "").spread_constraint(1, "zone", DNS, FOO_SELECTOR).obj(),
     ABXY, [foo_pod("p-a1", "node-a"), foo_pod("p-a2", "node-a", "ns1"), foo_pod("p-b1", "node-b"),
            foo_pod("p-y1", "node-y", "ns2"), foo_pod("p-y2", "node-y")], None, None, None,
     {("zone", "zone1"): 2, ("zone", "zone2"): 1}, {"zone": [("zone2", 1), ("zone1", 2)]}, None),
    ("normal case with two spreadConstraints",
     make_pod().name("p").label("foo", "").spread_constraint(1, "zone", DNS, FOO_SELECTOR)
     .spread_constraint(1, "node", DNS, FOO_SELECTOR).obj(),
     ABXY, SEVEN_FOO, None, None, None,
     {("zone", "zone1"): 3, ("zone", "zone2"): 4, ("node", "node-a"): 2, ("node", "node-b"): 1,
      ("node", "node-x"): 0, ("node", "node-y"): 4},
     {"zone": [("zone1", 3), ("zone2", 4)], "node": [("node-x", 0), ("node-b", 1)]}, {"zone": 2, "node": 4}),
    ("soft spreadConstraints should be bypassed",
     make_pod().name("p").label("foo", "").spread_constraint(1, "zone", SA, FOO_SELECTOR)
     .spread_constraint(1, "zone", DNS, FOO_SELECTOR).spread_constraint(1, "node", SA, FOO_SELECTOR)
     .spread_constraint(1, "node", DNS, FOO_SELECTOR).obj(),
     ABY, SEVEN_FOO[:3] + [foo_pod("p-y1", "node-y"), foo_pod("p-y2", "node-y"), foo_pod("p-y3", "node-y"),
                           foo_pod("p-y4", "node-y")], None, None, None,
     {("zone", "zone1"): 3, ("zone", "zone2"): 4, ("node", "node-a"): 2, ("node", "node-b"): 1,
      ("node", "node-y"): 4},
     {"zone": [("zone1", 3), ("zone2", 4)], "node": [("node-b", 1), ("node-a", 2)]}, None),
    ("different labelSelectors - simple version",
     make_pod().name("p").label("foo", "").label("bar", "").spread_constraint(1, "zone", DNS, FOO_SELECTOR)
     .spread_constraint(1, "node", DNS, BAR_SELECTOR).obj(),
     ABY, [make_pod().name("p-a").node("node-a").label("foo", "").obj(),
           make_pod().name("p-b").node("node-b").label("bar", "").obj()], None, None, None,
     {("zone", "zone1"): 1, ("zone", "zone2"): 0, ("node", "node-a"): 0, ("node", "node-b"): 1,
      ("node", "node-y"): 0},
     {"zone": [("zone2", 0), ("zone1", 1)], "node": [("node-a", 0), ("node-y", 0)]}, None),
    ("different labelSelectors - complex pods",
     make_pod().name("p").label("foo", "").label("bar", "").spread_constraint(1, "zone", DNS, FOO_SELECTOR)
     .spread_constraint(1, "node", DNS, BAR_SELECTOR).obj(),
     ABY, [make_pod().name("p-a1").node("node-a").label("foo", "").obj(),
           make_pod().name("p-a2").node("node-a").label("foo", "").label("bar", "").obj(),
           make_pod().name("p-b1").node("node-b").label("foo", "").obj(),
           make_pod().name("p-y1").node("node-y").label("foo", "").obj(),
           make_pod().name("p-y2").node("node-y").label("foo", "").label("bar", "").obj(),
           make_pod().name("p-y3").node("node-y").label("foo", "").obj(),
           make_pod().name("p-y4").node("node-y").label("foo", "").label("bar", "").obj()], None, None, None,
     {("zone", "zone1"): 3, ("zone", "zone2"): 4, ("node", "node-a"): 1, ("node", "node-b"): 0,
      ("node", "node-y"): 2},
     {"zone": [("zone1", 3), ("zone2", 4)], "node": [("node-b", 0), ("node-a", 1)]}, None),
    ("two spreadConstraints, and with podAffinity",
     make_pod().name("p").label("foo", "").node_affinity_not_in("node", ["node-x"])  # exclude node-x
     .spread_constraint(1, "zone", DNS, FOO_SELECTOR).spread_constraint(1, "node", DNS, FOO_SELECTOR).obj(),
     ABXY, SEVEN_FOO, None, None, None,
     {("zone", "zone1"): 3, ("zone", "zone2"): 4, ("node", "node-a"): 2, ("node", "node-b"): 1,
      ("node", "node-y"): 4},
     {"zone": [("zone1", 3), ("zone2", 4)], "node": [("node-b", 1), ("node-a", 2)]}, None),
    ("default constraints and a service",
     make_pod().name("p").label("foo", "bar").label("baz", "kar").obj(), [], [],
     list_args({"maxSkew": 3, "topologyKey": "node", "whenUnsatisfiable": DNS},
               {"maxSkew": 2, "topologyKey": "node", "whenUnsatisfiable": SA},
               {"maxSkew": 5, "topologyKey": "rack", "whenUnsatisfiable": DNS}),
     {"Service": [service({"foo": "bar"})]}, None,
     {}, {"node": [("", MAX_INT32), ("", MAX_INT32)], "rack": [("", MAX_INT32), ("", MAX_INT32)]}, None),
    ("default constraints and a service that doesn't match",
     make_pod().name("p").label("foo", "bar").obj(), [], [],
     list_args({"maxSkew": 3, "topologyKey": "node", "whenUnsatisfiable": DNS}),
     {"Service": [service({"baz": "kep"})]}, SKIP, None, None, None),
    ("default constraints and a service, but pod has constraints",
     make_pod().name("p").label("foo", "bar").label("baz", "tar")
     .spread_constraint(1, "zone", DNS, make_label_selector().label("baz", "tar").obj())
     .spread_constraint(2, "planet", SA, make_label_selector().label("fot", "rok").obj()).obj(), [], [],
     list_args({"maxSkew": 2, "topologyKey": "node", "whenUnsatisfiable": DNS}),
     {"Service": [service({"foo": "bar"})]}, None, {}, {"zone": [("", MAX_INT32), ("", MAX_INT32)]}, None),
    ("default soft constraints and a service",
     make_pod().name("p").label("foo", "bar").obj(), [], [],
     list_args({"maxSkew": 2, "topologyKey": "node", "whenUnsatisfiable": SA}),
     {"Service": [service({"foo": "bar"})]}, SKIP, None, None, None),
    ("feature gate disabled with NodeAffinityPolicy",  # same outcome with the gate on
     make_pod().name("p").label("foo", "").node_selector({"foo": ""})
     .spread_constraint(1, "node", DNS, BAR_SELECTOR).obj(),
     policy_nodes(), POLICY_PODS, None, None, None,
     {("node", "node-a"): 1, ("node", "node-b"): 2}, {"node": [("node-a", 1), ("node-b", 2)]}, None),
    ("NodeAffinityPolicy honored with labelSelectors",
     make_pod().name("p").label("foo", "").node_selector({"foo": ""})
     .spread_constraint(1, "node", DNS, BAR_SELECTOR).obj(),
     policy_nodes(), POLICY_PODS, None, None, None,
     {("node", "node-a"): 1, ("node", "node-b"): 2}, {"node": [("node-a", 1), ("node-b", 2)]}, None),
    ("NodeAffinityPolicy ignored with labelSelectors",
     make_pod().name("p").label("foo", "").node_selector({"foo": ""})
     .spread_constraint(1, "node", DNS, BAR_SELECTOR, None, IGNORE).obj(),
     policy_nodes(), POLICY_PODS, None, None, None,
     {("node", "node-a"): 1, ("node", "node-b"): 2, ("node", "node-c"): 0},
     {"node": [("node-c", 0), ("node-a", 1)]}, None),
    ("NodeAffinityPolicy honored with nodeAffinity",
     make_pod().name("p").label("foo", "").node_affinity_in("foo", [""])
     .spread_constraint(1, "node", DNS, BAR_SELECTOR).obj(),
     policy_nodes(), POLICY_PODS, None, None, None,
     {("node", "node-a"): 1, ("node", "node-b"): 2}, {"node": [("node-a", 1), ("node-b", 2)]}, None),
    ("NodeAffinityPolicy ignored with nodeAffinity",
     make_pod().name("p").label("foo", "").node_affinity_in("foo", [""])
     .spread_constraint(1, "node", DNS, BAR_SELECTOR, None, IGNORE).obj(),
     policy_nodes(), POLICY_PODS, None, None, None,
     {("node", "node-a"): 1, ("node", "node-b"): 2, ("node", "node-c"): 0},
     {"node": [("node-c", 0), ("node-a", 1)]}, None),
    ("NodeTaintsPolicy ignored",
     make_pod().name("p").label("foo", "").spread_constraint(1, "node", DNS, BAR_SELECTOR).obj(),
     policy_nodes(c_taints=True, a_foo=False, b_foo=False), POLICY_PODS, None, None, None,
     {("node", "node-a"): 1, ("node", "node-b"): 2, ("node", "node-c"): 0},
     {"node": [("node-c", 0), ("node-a", 1)]}, None),
    ("NodeTaintsPolicy honored",
     make_pod().name("p").label("foo", "").spread_constraint(1, "node", DNS, BAR_SELECTOR, None, None, HONOR).obj(),
     policy_nodes(c_taints=True, a_foo=False, b_foo=False), POLICY_PODS, None, None, None,
     {("node", "node-a"): 1, ("node", "node-b"): 2}, {"node": [("node-a", 1), ("node-b", 2)]}, None),
    ("NodeTaintsPolicy honored with tolerated taints",
     make_pod().name("p").label("foo", "").toleration("node.kubernetes.io/unschedulable")
     .spread_constraint(1, "node", DNS, BAR_SELECTOR, None, None, HONOR).obj(),
     policy_nodes(c_taints=True, a_foo=False, b_foo=False), POLICY_PODS, None, None, None,
     {("node", "node-a"): 1, ("node", "node-b"): 2, ("node", "node-c"): 0},
     {"node": [("node-c", 0), ("node-a", 1)]}, None),
    ("two node inclusion Constraints, zone: honor/ignore, node: ignore/ignore",
     make_pod().name("p").label("foo", "").node_selector({"foo": ""})
     .spread_constraint(1, "zone", DNS, FOO_SELECTOR).spread_constraint(1, "node", DNS, FOO_SELECTOR, None, IGNORE)
     .obj(),
     [node("node-a", zone="zone1", node="node-a", foo=""), node("node-b", zone="zone1", node="node-b"),
      node("node-x", zone="zone2", node="node-x", foo="")],
     [foo_pod("p-b1", "node-b"), foo_pod("p-b2", "node-b"), foo_pod("p-x1", "node-x")], None, None, None,
     {("zone", "zone1"): 0, ("zone", "zone2"): 1, ("node", "node-a"): 0, ("node", "node-b"): 2,
      ("node", "node-x"): 1},
     {"zone": [("zone1", 0), ("zone2", 1)], "node": [("node-a", 0), ("node-x", 1)]}, None),
    ("two node inclusion Constraints, zone: honor/honor, node: honor/ignore",
     make_pod().name("p").label("foo", "").spread_constraint(1, "zone", DNS, FOO_SELECTOR, None, None, HONOR)
     .spread_constraint(1, "node", DNS, FOO_SELECTOR).obj(),
     [node("node-a", zone="zone1", node="node-a", foo=""),
      make_node().name("node-b").label("zone", "zone1").label("node", "node-b").taints(TAINTS).obj(),
      node("node-x", zone="zone2", node="node-x", foo="")],
     [foo_pod("p-b1", "node-b"), foo_pod("p-b2", "node-b"), foo_pod("p-x1", "node-x")], None, None, None,
     {("zone", "zone1"): 0, ("zone", "zone2"): 1, ("node", "node-a"): 0, ("node", "node-b"): 2,
      ("node", "node-x"): 1},
     {"zone": [("zone1", 0), ("zone2", 1)], "node": [("node-a", 0), ("node-x", 1)]}, None),
    ("two node inclusion Constraints, zone: honor/ignore, node: honor/ignore",
     make_pod().name("p").label("foo", "").node_selector({"foo": ""})
     .spread_constraint(1, "zone", DNS, FOO_SELECTOR).spread_constraint(1, "node", DNS, FOO_SELECTOR).obj(),
     [node("node-a", zone="zone1", node="node-a"),
      make_node().name("node-b").label("zone", "zone1").label("node", "node-b").label("foo", "")
      .taints(TAINTS).obj(),
      node("node-x", zone="zone2", node="node-x", foo=""), node("node-y", zone="zone2", node="node-y")],
     [foo_pod("p-a1", "node-a"), foo_pod("p-a2", "node-a"), foo_pod("p-x1", "node-x"), foo_pod("p-y1", "node-y")],
     None, None, None,
     {("zone", "zone1"): 0, ("zone", "zone2"): 1, ("node", "node-b"): 0, ("node", "node-x"): 1},
     {"zone": [("zone1", 0), ("zone2", 1)], "node": [("node-b", 0), ("node-x", 1)]}, None),
    ("two node inclusion Constraints, zone: ignore/ignore, node: honor/honor",
     make_pod().name("p").label("foo", "").node_selector({"foo": ""})
     .spread_constraint(1, "zone", DNS, FOO_SELECTOR, None, IGNORE)
     .spread_constraint(1, "node", DNS, FOO_SELECTOR, None, None, HONOR).obj(),
     [node("node-a", zone="zone1", node="node-a"),
      make_node().name("node-b").label("zone", "zone1").label("node", "node-b").label("foo", "")
      .taints(TAINTS).obj(),
      node("node-x", zone="zone2", node="node-x", foo=""), node("node-y", zone="zone2", node="node-y", foo="")],
     [foo_pod("p-a1", "node-a"), foo_pod("p-a2", "node-a"), foo_pod("p-x1", "node-x"), foo_pod("p-x2", "node-x"),
      foo_pod("p-y1", "node-y")], None, None, None,
     {("zone", "zone1"): 2, ("zone", "zone2"): 3, ("node", "node-x"): 2, ("node", "node-y"): 1},
     {"zone": [("zone1", 2), ("zone2", 3)], "node": [("node-y", 1), ("node-x", 2)]}, None),
    ("matchLabelKeys ANDed with LabelSelector when LabelSelector isn't empty",
     make_pod().name("p").label("foo", "").label("bar", "a")
     .spread_constraint(1, "zone", DNS, FOO_SELECTOR, None, None, None, ["bar"]).obj(),
     ABXY, [make_pod().name("p-a1").node("node-a").label("foo", "").obj(),
            make_pod().name("p-a2").node("node-a").label("foo", "").label("bar", "a").obj(),
            make_pod().name("p-b1").node("node-b").label("foo", "").obj(),
            make_pod().name("p-y1").node("node-y").label("foo", "").label("bar", "a").obj(),
            make_pod().name("p-y2").node("node-y").label("bar", "").obj()], None, None, None,
     {("zone", "zone1"): 1, ("zone", "zone2"): 1}, {"zone": [("zone1", 1), ("zone2", 1)]}, None),
    ("matchLabelKeys ANDed with LabelSelector when LabelSelector is empty",
     make_pod().name("p").label("foo", "a")
     .spread_constraint(1, "zone", DNS, make_label_selector().obj(), None, None, None, ["foo"]).obj(),
     ABXY, [make_pod().name(n).node(at).label("foo", "a").obj() for n, at in
            (("p-a1", "node-a"), ("p-a2", "node-a"), ("p-b1", "node-b"), ("p-y1", "node-y"), ("p-y2", "node-y"))],
     None, None, None,
     {("zone", "zone1"): 3, ("zone", "zone2"): 2}, {"zone": [("zone2", 2), ("zone1", 3)]}, None),
    ("key in matchLabelKeys is ignored when LabelSelector is nil when feature gate enabled",
     make_pod().name("p").label("foo", "").spread_constraint(1, "zone", DNS, None, None, None, None, ["bar"]).obj(),
     ABXY, [make_pod().name(n).node(at).label("foo", "a").obj() for n, at in
            (("p-a1", "node-a"), ("p-a2", "node-a"), ("p-b1", "node-b"), ("p-y1", "node-y"), ("p-y2", "node-y"))],
     None, None, None,
     {("zone", "zone1"): 0, ("zone", "zone2"): 0}, {"zone": [("zone1", 0), ("zone2", 0)]}, None),
    ("key in matchLabelKeys is ignored when it isn't exist in pod.labels",
     make_pod().name("p").label("foo", "")
     .spread_constraint(1, "zone", DNS, FOO_SELECTOR, None, None, None, ["bar"]).obj(),
     ABXY, [make_pod().name(n).node(at).label("foo", "a").obj() for n, at in
            (("p-a1", "node-a"), ("p-a2", "node-a"), ("p-b1", "node-b"), ("p-y1", "node-y"), ("p-y2", "node-y"))],
     None, None, None,
     {("zone", "zone1"): 3, ("zone", "zone2"): 2}, {"zone": [("zone2", 2), ("zone1", 3)]}, None),
    ("skip if not specified", make_pod().name("p").label("foo", "").obj(), [zone_node("node-a", "zone1")], [],
     None, None, SKIP, None, None, None),
]


@pytest.mark.parametrize("name,pod,nodes,pods,args,objects,want_status,want_counts,want_paths,want_domains",
                         PRE_FILTER_STATE_CASES, ids=[c[0] for c in PRE_FILTER_STATE_CASES])
def test_pre_filter_state(name, pod, nodes, pods, args, objects, want_status, want_counts, want_paths,
                          want_domains):
    """TestPreFilterState."""
    _, _, state, status = pre_filter(pod, nodes, pods, args, objects)
    assert status == want_status
    if status is not None:
        return
    s = state.read(PRE_FILTER_STATE_KEY)
    assert s.tp_pair_to_match_num == want_counts
    assert {k: sorted_paths(p) for k, p in s.tp_key_to_critical_paths.items()} == want_paths
    if want_domains is not None:
        assert s.tp_key_to_domains_num == want_domains


# -- TestPreFilterStateAddPod ---------------------------------------------------------------

def node_zone_foo(name: str, zone: str, foo: str):
    return node(name, zone=zone, node=name, foo=foo)


ADD_POD_CASES = [
    ("node a and b both impact current min match",
     make_pod().name("p").label("foo", "").spread_constraint(1, "node", DNS, FOO_SELECTOR).obj(),
     foo_pod("p-a1", "node-a"), [], 0, [zone_node("node-a", "zone1"), zone_node("node-b", "zone1")],
     {("node", "node-a"): 1, ("node", "node-b"): 0}, {"node": [("node-b", 0), ("node-a", 1)]}),
    ("only node a impacts current min match",
     make_pod().name("p").label("foo", "").spread_constraint(1, "node", DNS, FOO_SELECTOR).obj(),
     foo_pod("p-a1", "node-a"), [foo_pod("p-b1", "node-b")], 0,
     [zone_node("node-a", "zone1"), zone_node("node-b", "zone1")],
     {("node", "node-a"): 1, ("node", "node-b"): 1}, {"node": [("node-a", 1), ("node-b", 1)]}),
    ("add a pod in a different namespace doesn't change topologyKeyToMinPodsMap",
     make_pod().name("p").label("foo", "").spread_constraint(1, "node", DNS, FOO_SELECTOR).obj(),
     foo_pod("p-a1", "node-a", "ns1"), [foo_pod("p-b1", "node-b")], 0,
     [zone_node("node-a", "zone1"), zone_node("node-b", "zone1")],
     {("node", "node-a"): 0, ("node", "node-b"): 1}, {"node": [("node-a", 0), ("node-b", 1)]}),
    ("add pod on non-critical node won't trigger re-calculation",
     make_pod().name("p").label("foo", "").spread_constraint(1, "node", DNS, FOO_SELECTOR).obj(),
     foo_pod("p-b2", "node-b"), [foo_pod("p-b1", "node-b")], 1,
     [zone_node("node-a", "zone1"), zone_node("node-b", "zone1")],
     {("node", "node-a"): 0, ("node", "node-b"): 2}, {"node": [("node-a", 0), ("node-b", 2)]}),
    ("node a and x both impact topologyKeyToMinPodsMap on zone and node",
     make_pod().name("p").label("foo", "").spread_constraint(1, "zone", DNS, FOO_SELECTOR)
     .spread_constraint(1, "node", DNS, FOO_SELECTOR).obj(),
     foo_pod("p-a1", "node-a"), [], 0, [zone_node("node-a", "zone1"), zone_node("node-x", "zone2")],
     {("zone", "zone1"): 1, ("zone", "zone2"): 0, ("node", "node-a"): 1, ("node", "node-x"): 0},
     {"zone": [("zone2", 0), ("zone1", 1)], "node": [("node-x", 0), ("node-a", 1)]}),
    ("only node a impacts topologyKeyToMinPodsMap on zone and node",
     make_pod().name("p").label("foo", "").spread_constraint(1, "zone", DNS, FOO_SELECTOR)
     .spread_constraint(1, "node", DNS, FOO_SELECTOR).obj(),
     foo_pod("p-a1", "node-a"), [foo_pod("p-x1", "node-x")], 0,
     [zone_node("node-a", "zone1"), zone_node("node-x", "zone2")],
     {("zone", "zone1"): 1, ("zone", "zone2"): 1, ("node", "node-a"): 1, ("node", "node-x"): 1},
     {"zone": [("zone1", 1), ("zone2", 1)], "node": [("node-a", 1), ("node-x", 1)]}),
    ("node a impacts topologyKeyToMinPodsMap on node, node x impacts topologyKeyToMinPodsMap on zone",
     make_pod().name("p").label("foo", "").spread_constraint(1, "zone", DNS, FOO_SELECTOR)
     .spread_constraint(1, "node", DNS, FOO_SELECTOR).obj(),
     foo_pod("p-a1", "node-a"), [foo_pod("p-b1", "node-b"), foo_pod("p-b2", "node-b"), foo_pod("p-x1", "node-x")], 0,
     [zone_node("node-a", "zone1"), zone_node("node-b", "zone1"), zone_node("node-x", "zone2")],
     {("zone", "zone1"): 3, ("zone", "zone2"): 1, ("node", "node-a"): 1, ("node", "node-b"): 2,
      ("node", "node-x"): 1},
     {"zone": [("zone2", 1), ("zone1", 3)], "node": [("node-a", 1), ("node-x", 1)]}),
    ("Constraints hold different labelSelectors, node a impacts topologyKeyToMinPodsMap on zone",
     make_pod().name("p").label("foo", "").label("bar", "").spread_constraint(1, "zone", DNS, FOO_SELECTOR)
     .spread_constraint(1, "node", DNS, BAR_SELECTOR).obj(),
     foo_pod("p-a1", "node-a"),
     [make_pod().name("p-b1").node("node-b").label("foo", "").label("bar", "").obj(),
      make_pod().name("p-x1").node("node-x").label("foo", "").label("bar", "").obj(),
      make_pod().name("p-x2").node("node-x").label("bar", "").obj()], 0,
     [zone_node("node-a", "zone1"), zone_node("node-b", "zone1"), zone_node("node-x", "zone2")],
     {("zone", "zone1"): 2, ("zone", "zone2"): 1, ("node", "node-a"): 0, ("node", "node-b"): 1,
      ("node", "node-x"): 2},
     {"zone": [("zone2", 1), ("zone1", 2)], "node": [("node-a", 0), ("node-b", 1)]}),
    ("Constraints hold different labelSelectors, node a impacts topologyKeyToMinPodsMap on both zone and node",
     make_pod().name("p").label("foo", "").label("bar", "").spread_constraint(1, "zone", DNS, FOO_SELECTOR)
     .spread_constraint(1, "node", DNS, BAR_SELECTOR).obj(),
     make_pod().name("p-a1").node("node-a").label("foo", "").label("bar", "").obj(),
     [make_pod().name("p-b1").node("node-b").label("bar", "").obj(),
      make_pod().name("p-x1").node("node-x").label("foo", "").label("bar", "").obj(),
      make_pod().name("p-x2").node("node-x").label("bar", "").obj()], 0,
     [zone_node("node-a", "zone1"), zone_node("node-b", "zone1"), zone_node("node-x", "zone2")],
     {("zone", "zone1"): 1, ("zone", "zone2"): 1, ("node", "node-a"): 1, ("node", "node-b"): 1,
      ("node", "node-x"): 2},
     {"zone": [("zone1", 1), ("zone2", 1)], "node": [("node-a", 1), ("node-b", 1)]}),
    ("add a pod when scheduling node affinity unmatched pod with NodeInclusionPolicy enabled",
     make_pod().name("p").label("foo", "").node_affinity_not_in("foo", ["bar"])
     .spread_constraint(1, "zone", DNS, FOO_SELECTOR).obj(),
     make_pod().name("p-a1").node("node-a").label("foo", "").label("zone", "zone1").obj(),
     [make_pod().name("p-a2").node("node-a").label("foo", "").label("zone", "zone1").obj(),
      make_pod().name("p-b1").node("node-b").label("foo", "").label("zone", "zone2").obj()], 0,
     [node_zone_foo("node-a", "zone1", "bar"), node_zone_foo("node-b", "zone2", "")],
     {("zone", "zone2"): 1}, {"zone": [("zone2", 1), ("", MAX_INT32)]}),
    ("add a pod when scheduling node affinity matched pod with NodeInclusionPolicy enabled",
     make_pod().name("p").label("foo", "").spread_constraint(1, "zone", DNS, FOO_SELECTOR).obj(),
     make_pod().name("p-b1").node("node-b").label("foo", "").label("zone", "zone2").obj(),
     [make_pod().name("p-a1").node("node-a").label("foo", "").label("zone", "zone1").obj(),
      make_pod().name("p-b2").node("node-b").label("foo", "").label("zone", "zone2").obj()], 1,
     [node_zone_foo("node-a", "zone1", "bar"), node_zone_foo("node-b", "zone2", "")],
     {("zone", "zone1"): 1, ("zone", "zone2"): 2}, {"zone": [("zone1", 1), ("zone2", 2)]}),
    ("add a label selector not matched pod when with NodeInclusionPolicy enabled",
     make_pod().name("p").label("foo", "").spread_constraint(1, "zone", DNS, FOO_SELECTOR).obj(),
     make_pod().name("p-b1").node("node-b").label("zone", "zone2").obj(),
     [make_pod().name("p-a1").node("node-a").label("foo", "").label("zone", "zone1").obj(),
      make_pod().name("p-b2").node("node-b").label("foo", "").label("zone", "zone2").obj()], 1,
     [node_zone_foo("node-a", "zone1", "bar"), node_zone_foo("node-b", "zone2", "")],
     {("zone", "zone1"): 1, ("zone", "zone2"): 1}, {"zone": [("zone1", 1), ("zone2", 1)]}),
]


@pytest.mark.parametrize("name,preemptor,added,existing,node_idx,nodes,want_counts,want_paths", ADD_POD_CASES,
                         ids=[c[0] for c in ADD_POD_CASES])
def test_pre_filter_state_add_pod(name, preemptor, added, existing, node_idx, nodes, want_counts, want_paths):
    """TestPreFilterStateAddPod."""
    from kbook.scheduler.types import PodInfo
    plugin, handle, state, status = pre_filter(preemptor, nodes, existing)
    assert status is None
    node_info = handle.snapshot.get(nodes[node_idx].metadata.name)
    assert plugin.add_pod(state, preemptor, PodInfo(added), node_info) is None
    s = state.read(PRE_FILTER_STATE_KEY)
    assert s.tp_pair_to_match_num == want_counts
    assert {k: sorted_paths(p) for k, p in s.tp_key_to_critical_paths.items()} == want_paths


# -- TestSingleConstraint -----------------------------------------------------------------

S = Code.SUCCESS
U = Code.UNSCHEDULABLE
UU = Code.UNSCHEDULABLE_AND_UNRESOLVABLE


def foo_pods(counts: dict[str, int]) -> list:
    """``count`` pods labelled ``foo`` on each node, named ``p-<x><i>`` as upstream does."""
    return [foo_pod(f"p-{n[-1]}{i}", n) for n, count in counts.items() for i in range(1, count + 1)]


def run_filters(pod, nodes, pods=(), args=None):
    """PreFilter, then Filter on every node: {node name: code}."""
    plugin, handle, state, status = pre_filter(pod, nodes, pods, args)
    assert status is None
    out = {}
    for n in nodes:
        st = plugin.filter(state, pod, handle.snapshot.get(n.metadata.name))
        out[n.metadata.name] = Code.SUCCESS if st is None else st.code
    return out


SINGLE_CONSTRAINT_CASES = [
    ("no existing pods",
     make_pod().name("p").label("foo", "").spread_constraint(1, "zone", DNS, FOO_SELECTOR).obj(),
     ABXY, [], {"node-a": S, "node-b": S, "node-x": S, "node-y": S}),
    ("no existing pods, incoming pod doesn't match itself",
     make_pod().name("p").label("foo", "").spread_constraint(1, "zone", DNS, BAR_SELECTOR).obj(),
     ABXY, [], {"node-a": S, "node-b": S, "node-x": S, "node-y": S}),
    ("existing pods in a different namespace do not count",
     make_pod().name("p").label("foo", "").spread_constraint(1, "zone", DNS, FOO_SELECTOR).obj(),
     ABXY, [foo_pod("p-a1", "node-a", "ns1"), foo_pod("p-b1", "node-a", "ns2"), foo_pod("p-x1", "node-x"),
            foo_pod("p-y1", "node-y")], {"node-a": S, "node-b": S, "node-x": U, "node-y": U}),
    ("existing pods do not match null selector",
     make_pod().name("p").label("foo", "").spread_constraint(1, "zone", DNS, None).obj(),
     ABXY, foo_pods({"node-x": 1, "node-y": 1}), {"node-a": S, "node-b": S, "node-x": S, "node-y": S}),
    ("pods spread across zones as 3/3, all nodes fit",
     make_pod().name("p").label("foo", "").spread_constraint(1, "zone", DNS, FOO_SELECTOR).obj(),
     ABXY, foo_pods({"node-a": 2, "node-b": 1, "node-y": 3}), {"node-a": S, "node-b": S, "node-x": S, "node-y": S}),
    # a typo on a node label can cause unexpected behaviour
    ("pods spread across zones as 1/2 due to absence of label 'zone' on node-b",
     make_pod().name("p").label("foo", "").spread_constraint(1, "zone", DNS, FOO_SELECTOR).obj(),
     [zone_node("node-a", "zone1"), node("node-b", zon="zone1", node="node-b"), zone_node("node-x", "zone2"),
      zone_node("node-y", "zone2")],
     foo_pods({"node-a": 1, "node-b": 1, "node-x": 1, "node-y": 1}),
     {"node-a": S, "node-b": UU, "node-x": U, "node-y": U}),
    ("pod cannot be scheduled as all nodes don't have label 'rack'",
     make_pod().name("p").label("foo", "").spread_constraint(1, "rack", DNS, FOO_SELECTOR).obj(),
     [zone_node("node-a", "zone1"), zone_node("node-x", "zone2")], [], {"node-a": UU, "node-x": UU}),
    ("pods spread across nodes as 2/1/0/3, only node-x fits",
     make_pod().name("p").label("foo", "").spread_constraint(1, "node", DNS, FOO_SELECTOR).obj(),
     ABXY, foo_pods({"node-a": 2, "node-b": 1, "node-y": 3}), {"node-a": U, "node-b": U, "node-x": S, "node-y": U}),
    ("pods spread across nodes as 2/1/0/3, maxSkew is 2, node-b and node-x fit",
     make_pod().name("p").label("foo", "").spread_constraint(2, "node", DNS, FOO_SELECTOR).obj(),
     ABXY, foo_pods({"node-a": 2, "node-b": 1, "node-y": 3}), {"node-a": U, "node-b": S, "node-x": S, "node-y": U}),
    # the incoming pod doesn't match itself, so placing it doesn't change the distribution
    ("pods spread across nodes as 2/1/0/3, but pod doesn't match itself",
     make_pod().name("p").label("bar", "").spread_constraint(1, "node", DNS, FOO_SELECTOR).obj(),
     ABXY, foo_pods({"node-a": 2, "node-b": 1, "node-y": 3}), {"node-a": U, "node-b": S, "node-x": S, "node-y": U}),
    # only node-a and node-y count (2/~1~/~0~/3); NodeAffinity's own Filter is not run here,
    # so node-b and node-x still pass this plugin
    ("incoming pod has nodeAffinity, pods spread as 2/~1~/~0~/3, hence node-a fits",
     make_pod().name("p").label("foo", "").node_affinity_in("node", ["node-a", "node-y"])
     .spread_constraint(1, "node", DNS, FOO_SELECTOR).obj(),
     ABXY, foo_pods({"node-a": 2, "node-b": 1, "node-y": 3}), {"node-a": S, "node-b": S, "node-x": S, "node-y": U}),
    ("terminating Pods should be excluded",
     make_pod().name("p").label("foo", "").spread_constraint(1, "node", DNS, FOO_SELECTOR).obj(),
     [node("node-a", node="node-a"), node("node-b", node="node-b")],
     [make_pod().name("p-a").node("node-a").label("foo", "").terminating().obj(), foo_pod("p-b", "node-b")],
     {"node-a": S, "node-b": U}),
]
SINGLE_CONSTRAINT_CASES += [
    ("incoming pod has nodeAffinity, pods spread as 0/~2~/0/1, hence node-a fits",
     make_pod().name("p").label("foo", "").node_affinity_not_in("node", ["node-b"])
     .spread_constraint(1, "zone", DNS, FOO_SELECTOR).obj(),
     ABXY, foo_pods({"node-b": 2, "node-y": 1}), {"node-a": S, "node-b": S, "node-x": U, "node-y": U}),
    ("pods spread across nodes as 2/2/1, maxSkew is 2, and the number of domains < minDomains, then the third "
     "node fits",
     make_pod().name("p").label("foo", "").spread_constraint(2, "node", DNS, FOO_SELECTOR, 4).obj(),
     [node(n, node=n) for n in ("node-a", "node-b", "node-c")], foo_pods({"node-a": 2, "node-b": 2, "node-c": 1}),
     {"node-a": U, "node-b": U, "node-c": S}),
    ("pods spread across nodes as 2/2/1, maxSkew is 2, and the number of domains > minDomains, then the all nodes "
     "fit",
     make_pod().name("p").label("foo", "").spread_constraint(2, "node", DNS, FOO_SELECTOR, 2).obj(),
     [node(n, node=n) for n in ("node-a", "node-b", "node-c")], foo_pods({"node-a": 2, "node-b": 2, "node-c": 1}),
     {"node-a": S, "node-b": S, "node-c": S}),
    ("pods spread across zone as 2/1, maxSkew is 2 and the number of domains < minDomains, then the third and "
     "fourth nodes fit",
     make_pod().name("p").label("foo", "").spread_constraint(2, "zone", DNS, FOO_SELECTOR, 3).obj(),
     ABXY, [foo_pod("p-b1", "node-a"), foo_pod("p-b2", "node-b"), foo_pod("p-y1", "node-y")],
     {"node-a": U, "node-b": U, "node-x": S, "node-y": S}),
    ("pods spread across zone as 2/1, maxSkew is 2 and the number of domains > minDomains, then the all nodes fit",
     make_pod().name("p").label("foo", "").spread_constraint(2, "zone", DNS, FOO_SELECTOR, 1).obj(),
     ABXY, [foo_pod("p-b1", "node-a"), foo_pod("p-b2", "node-b"), foo_pod("p-y1", "node-y")],
     {"node-a": S, "node-b": S, "node-x": S, "node-y": S}),
]


def abxy_foo(y_taints: bool = False):
    """node-a, node-b, node-x labelled foo; node-y not (optionally tainted)."""
    y = make_node().name("node-y").label("node", "node-y")
    if y_taints:
        y.taints(TAINTS)
    return [node(n, node=n, foo="") for n in ("node-a", "node-b", "node-x")] + [y.obj()]


ONE_ONE_ONE = [foo_pod("p-b1", "node-a"), foo_pod("p-b2", "node-b"), foo_pod("p-y1", "node-y")]
SINGLE_CONSTRAINT_CASES += [
    # pods spread across node as 1/1/0/~0~; NodeAffinity's own Filter would reject node-y
    ("NodeAffinityPolicy honored with labelSelectors",
     make_pod().name("p").label("foo", "").node_selector({"foo": ""}).spread_constraint(1, "node", DNS, FOO_SELECTOR)
     .obj(), abxy_foo(), ONE_ONE_ONE, {"node-a": U, "node-b": U, "node-x": S, "node-y": S}),
    # pods spread across node as 1/1/0/~1~
    ("NodeAffinityPolicy ignored with labelSelectors",
     make_pod().name("p").label("foo", "").node_selector({"foo": ""})
     .spread_constraint(1, "node", DNS, FOO_SELECTOR, None, IGNORE).obj(),
     abxy_foo(), ONE_ONE_ONE, {"node-a": U, "node-b": U, "node-x": S, "node-y": U}),
    ("NodeAffinityPolicy honored with nodeAffinity",
     make_pod().name("p").label("foo", "").node_affinity_in("foo", [""])
     .spread_constraint(1, "node", DNS, FOO_SELECTOR).obj(),
     abxy_foo(), ONE_ONE_ONE, {"node-a": U, "node-b": U, "node-x": S, "node-y": S}),
    ("NodeAffinityPolicy ignored with labelSelectors (nodeAffinity)",
     make_pod().name("p").label("foo", "").node_affinity_in("foo", [""])
     .spread_constraint(1, "node", DNS, FOO_SELECTOR, None, IGNORE).obj(),
     abxy_foo(), ONE_ONE_ONE, {"node-a": U, "node-b": U, "node-x": S, "node-y": U}),
    # TaintToleration's own Filter would reject node-y
    ("NodeTaintsPolicy honored",
     make_pod().name("p").label("foo", "").spread_constraint(1, "node", DNS, FOO_SELECTOR, None, None, HONOR).obj(),
     abxy_foo(y_taints=True), ONE_ONE_ONE, {"node-a": U, "node-b": U, "node-x": S, "node-y": S}),
    ("NodeTaintsPolicy ignored",
     make_pod().name("p").label("foo", "").spread_constraint(1, "node", DNS, FOO_SELECTOR).obj(),
     abxy_foo(y_taints=True), ONE_ONE_ONE, {"node-a": U, "node-b": U, "node-x": S, "node-y": U}),
]


@pytest.mark.parametrize("name,pod,nodes,pods,want", SINGLE_CONSTRAINT_CASES,
                         ids=[c[0] for c in SINGLE_CONSTRAINT_CASES])
def test_single_constraint(name, pod, nodes, pods, want):
    """TestSingleConstraint."""
    assert run_filters(pod, nodes, pods) == want


# -- TestMultipleConstraints --------------------------------------------------------------

def zone_and_node(pod_builder):
    return (pod_builder.spread_constraint(1, "zone", DNS, FOO_SELECTOR)
            .spread_constraint(1, "node", DNS, FOO_SELECTOR).obj())


def foo_bar(sel_zone=FOO_SELECTOR, sel_node=BAR_SELECTOR, **labels):
    b = make_pod().name("p").labels(labels)
    return b.spread_constraint(1, "zone", DNS, sel_zone).spread_constraint(1, "node", DNS, sel_node).obj()


def lp(name: str, node_name: str, *labels: str):
    b = make_pod().name(name).node(node_name)
    for label in labels:
        b.label(label, "")
    return b.obj()


ABXY_FOO_Y_TAINTED = [node("node-a", zone="zone1", node="node-a", foo=""), node("node-b", zone="zone1", node="node-b"),
                      node("node-x", zone="zone2", node="node-x", foo=""),
                      make_node().name("node-y").label("zone", "zone2").label("node", "node-y").label("foo", "")
                      .taints(TAINTS).obj()]
MULTIPLE_CONSTRAINTS_CASES = [
    # zone: any node; node: node-x; both: node-x
    ("two Constraints on zone and node, spreads = [3/3, 2/1/0/3]",
     zone_and_node(make_pod().name("p").label("foo", "")), ABXY, foo_pods({"node-a": 2, "node-b": 1, "node-y": 3}),
     {"node-a": U, "node-b": U, "node-x": S, "node-y": U}),
    # zone: zone1; node: node-x; both: none
    ("two Constraints on zone and node, spreads = [3/4, 2/1/0/4]",
     zone_and_node(make_pod().name("p").label("foo", "")), ABXY, foo_pods({"node-a": 2, "node-b": 1, "node-y": 4}),
     {"node-a": U, "node-b": U, "node-x": U, "node-y": U}),
    # zone: zone2; node: node-a, node-b or node-x; both: node-x
    ("Constraints hold different labelSelectors, spreads = [1/0, 1/0/0/1]",
     foo_bar(foo="", bar=""), ABXY, [lp("p-a1", "node-a", "foo"), lp("p-y1", "node-y", "bar")],
     {"node-a": U, "node-b": U, "node-x": S, "node-y": U}),
    # zone: zone2; node: node-a or node-b; both: none
    ("Constraints hold different labelSelectors, spreads = [1/0, 0/0/1/1]",
     foo_bar(foo="", bar=""), ABXY, [lp("p-a1", "node-a", "foo"), lp("p-x1", "node-x", "bar"),
                                     lp("p-y1", "node-y", "bar")],
     {"node-a": U, "node-b": U, "node-x": U, "node-y": U}),
    # zone: zone1; node: node-b or node-x; both: node-b
    ("Constraints hold different labelSelectors, spreads = [2/3, 1/0/0/1]",
     foo_bar(foo="", bar=""), ABXY, [lp("p-a1", "node-a", "foo"), lp("p-a2", "node-a", "foo", "bar"),
                                     lp("p-y1", "node-y", "foo"), lp("p-y2", "node-y", "foo", "bar"),
                                     lp("p-y3", "node-y", "foo")],
     {"node-a": U, "node-b": S, "node-x": U, "node-y": U}),
    # zone: the pod doesn't match itself, any zone; node: node-a or node-b
    ("Constraints hold different labelSelectors but pod doesn't match itself on 'zone' constraint",
     foo_bar(bar=""), ABXY, [lp("p-a1", "node-a", "foo"), lp("p-x1", "node-x", "bar"), lp("p-y1", "node-y", "bar")],
     {"node-a": S, "node-b": S, "node-x": U, "node-y": U}),
    # zone: any node; node: node-b (node-x lacks the label)
    ("two Constraints on zone and node, absence of label 'node' on node-x, spreads = [1/1, 1/0/0/1]",
     zone_and_node(make_pod().name("p").label("foo", "")),
     [zone_node("node-a", "zone1"), zone_node("node-b", "zone1"), node("node-x", zone="zone2"),
      zone_node("node-y", "zone2")],
     [lp("p-a1", "node-a", "foo"), lp("p-y3", "node-y", "foo")], {"node-a": U, "node-b": S, "node-x": UU, "node-y": U}),
    # zone: 2/~0~; node: 1/1/0/~1~; both: node-x
    ("two node inclusion Constraints, zone: honor/ignore, node: ignore/ignore",
     make_pod().name("p").label("foo", "").node_selector({"foo": ""}).spread_constraint(1, "zone", DNS, FOO_SELECTOR)
     .spread_constraint(1, "node", DNS, FOO_SELECTOR, None, IGNORE).obj(),
     [node("node-a", zone="zone1", node="node-a", foo=""), node("node-b", zone="zone1", node="node-b", foo=""),
      node("node-x", zone="zone2", node="node-x", foo=""), zone_node("node-y", "zone2")],
     foo_pods({"node-a": 1, "node-b": 1, "node-y": 1}), {"node-a": U, "node-b": U, "node-x": S, "node-y": U}),
    # zone: 2/0; node: 1/1/0/~1~; both: node-x
    ("two node inclusion Constraints, zone: honor/honor, node: honor/ignore",
     make_pod().name("p").label("foo", "").spread_constraint(1, "zone", DNS, FOO_SELECTOR, None, None, HONOR)
     .spread_constraint(1, "node", DNS, FOO_SELECTOR).obj(),
     [node("node-a", zone="zone1", node="node-a", foo=""), node("node-b", zone="zone1", node="node-b", foo=""),
      node("node-x", zone="zone2", node="node-x", foo=""),
      make_node().name("node-y").label("zone", "zone2").label("node", "node-y").taints(TAINTS).obj()],
     foo_pods({"node-a": 1, "node-b": 1, "node-y": 1}), {"node-a": U, "node-b": U, "node-x": S, "node-y": U}),
    # zone: 1/~1~; node: 1/0/0/~1~
    ("two node inclusion Constraints, zone: honor/ignore, node: honor/ignore",
     make_pod().name("p").label("foo", "").node_selector({"foo": ""}).spread_constraint(1, "zone", DNS, FOO_SELECTOR)
     .spread_constraint(1, "node", DNS, FOO_SELECTOR).obj(),
     ABXY_FOO_Y_TAINTED, foo_pods({"node-a": 1, "node-b": 1, "node-y": 1}),
     {"node-a": U, "node-b": S, "node-x": S, "node-y": U}),
    # zone: 1/0; node: 1/~1~/0/~1~; both: node-x
    ("two node inclusion Constraints, zone: honor/honor, node: ignore/ignore",
     make_pod().name("p").label("foo", "").node_selector({"foo": ""})
     .spread_constraint(1, "zone", DNS, FOO_SELECTOR, None, None, HONOR)
     .spread_constraint(1, "node", DNS, FOO_SELECTOR, None, IGNORE).obj(),
     ABXY_FOO_Y_TAINTED, foo_pods({"node-a": 1, "node-b": 1, "node-y": 1}),
     {"node-a": U, "node-b": U, "node-x": S, "node-y": U}),
]


@pytest.mark.parametrize("name,pod,nodes,pods,want", MULTIPLE_CONSTRAINTS_CASES,
                         ids=[f"{i}-{c[0]}" for i, c in enumerate(MULTIPLE_CONSTRAINTS_CASES)])
def test_multiple_constraints(name, pod, nodes, pods, want):
    """TestMultipleConstraints."""
    assert run_filters(pod, nodes, pods) == want


def test_filter_reasons():
    """The statuses carry upstream's reasons (ErrReasonConstraintsNotMatch,
    ErrReasonNodeLabelNotMatch), as TestSingleConstraint's case "pods spread across zones
    as 1/2 due to absence of label 'zone' on node-b" produces them."""
    pod = make_pod().name("p").label("foo", "").spread_constraint(1, "zone", DNS, FOO_SELECTOR).obj()
    nodes = [zone_node("node-a", "zone1"), node("node-b", zon="zone1", node="node-b"), zone_node("node-x", "zone2"),
             zone_node("node-y", "zone2")]
    plugin, handle, state, _ = pre_filter(pod, nodes, foo_pods({"node-a": 1, "node-b": 1, "node-x": 1, "node-y": 1}))
    got = [plugin.filter(state, pod, handle.snapshot.get(n)) for n in ("node-a", "node-b", "node-x")]
    assert got == [None,
                   Status.of(Code.UNSCHEDULABLE_AND_UNRESOLVABLE,
                             "node(s) didn't match pod topology spread constraints (missing required label)"),
                   Status.of(Code.UNSCHEDULABLE, "node(s) didn't match pod topology spread constraints")]
    assert ERR_REASON_NODE_LABEL_NOT_MATCH == ERR_REASON_CONSTRAINTS_NOT_MATCH + " (missing required label)"


def test_pre_filter_disabled():
    """TestPreFilterDisabled: Filter without PreFilter's state is an Error."""
    from kbook.scheduler.types import NodeInfo
    plugin = podtopologyspread.new(list_args(), handle_of([]))
    got = plugin.filter(CycleState(), make_pod().obj(), NodeInfo(make_node().obj()))
    assert got == Status.error('reading "PreFilterPodTopologySpread" from cycleState: not found')


# -- TestPreScoreStateEmptyNodes ------------------------------------------------------------

HOSTNAME = "kubernetes.io/hostname"  # v1.LabelHostname
ZONE = "topology.kubernetes.io/zone"  # v1.LabelTopologyZone
TW = topology_normalizing_weight


def host_node(name: str, **labels: str):
    """A node labelled with ``kubernetes.io/hostname`` (and more labels, in order)."""
    return make_node().name(name).label(HOSTNAME, name).labels(labels).obj()


def zone_host_node(name: str, zone: str, **labels: str):
    return make_node().name(name).label("zone", zone).labels(labels).label(HOSTNAME, name).obj()


def replica_set(name: str, selector) -> ReplicaSet:
    return ReplicaSet(metadata=ObjectMeta(namespace="default", name=name), spec=ReplicaSetSpec(selector=selector))


def rs_pod(owner: str, **labels: str):
    return (make_pod().name("p").namespace("default").labels(labels)
            .owner_reference(owner, "apps/v1", "ReplicaSet"))


ZONE_ABX = [zone_host_node("node-a", "zone1"), zone_host_node("node-b", "zone1"), zone_host_node("node-x", "zone2")]
ZONE_ABX_FOO = [zone_host_node("node-a", "zone1", foo=""), zone_host_node("node-b", "zone1", foo=""),
                zone_host_node("node-x", "zone2")]

# (name, pod, nodes, args, objects, want status, want ignored, want counts, want weights)
PRE_SCORE_STATE_CASES = [
    ("normal case",
     make_pod().name("p").label("foo", "").spread_constraint(1, "zone", SA, FOO_SELECTOR)
     .spread_constraint(1, HOSTNAME, SA, FOO_SELECTOR).obj(),
     ZONE_ABX, list_args(), None, None, set(), {("zone", "zone1"): 0, ("zone", "zone2"): 0}, [TW(2), TW(3)]),
    ("null selector",
     make_pod().name("p").label("foo", "").spread_constraint(1, "zone", SA, None).obj(),
     ZONE_ABX, list_args(), None, None, set(), {("zone", "zone1"): 0, ("zone", "zone2"): 0}, [TW(2)]),
    ("node-x doesn't have label zone",
     make_pod().name("p").label("foo", "").spread_constraint(1, "zone", SA, FOO_SELECTOR)
     .spread_constraint(1, HOSTNAME, SA, BAR_SELECTOR).obj(),
     [zone_host_node("node-a", "zone1"), zone_host_node("node-b", "zone1"), host_node("node-x")],
     list_args(), None, None, {"node-x"}, {("zone", "zone1"): 0}, [TW(1), TW(2)]),
    # nodes with no zone are not excluded: they are one more zone, ""
    ("system default constraints and a replicaset",
     rs_pod("rs1", foo="tar", baz="sup").obj(),
     [make_node().name("node-a").label(HOSTNAME, "node-a").label(ZONE, "mars").obj(),
      make_node().name("node-b").label(HOSTNAME, "node-b").label(ZONE, "mars").obj(),
      host_node("node-c"), host_node("node-d")],
     {"defaultingType": "System"}, {"ReplicaSet": [replica_set("rs1", FOO_SELECTOR)]}, None, set(),
     {(ZONE, "mars"): 0, (ZONE, ""): 0}, [TW(4), TW(2)]),
    ("default constraints and a replicaset",
     rs_pod("rs1", foo="tar", baz="sup").obj(),
     [make_node().name("node-a").label("rack", "rack1").label(HOSTNAME, "node-a").label("planet", "mars").obj()],
     list_args({"maxSkew": 1, "topologyKey": HOSTNAME, "whenUnsatisfiable": SA},
               {"maxSkew": 2, "topologyKey": "rack", "whenUnsatisfiable": DNS},
               {"maxSkew": 2, "topologyKey": "planet", "whenUnsatisfiable": SA}),
     {"ReplicaSet": [replica_set("rs1", FOO_SELECTOR)]}, None, set(), {("planet", "mars"): 0}, [TW(1), TW(1)]),
    # v1.28 (kubernetes#118608): PreScore returns Skip when there is nothing to score.
    ("default constraints and a replicaset that doesn't match",
     rs_pod("rs2", foo="bar", baz="sup").obj(), [node("node-a", planet="mars")],
     list_args({"maxSkew": 2, "topologyKey": "planet", "whenUnsatisfiable": SA}),
     {"ReplicaSet": [replica_set("rs1", make_label_selector().exists("tar").obj())]}, SKIP, None, None, None),
    ("default constraints and a replicaset, but pod has constraints",
     rs_pod("rs1", foo="bar", baz="sup").spread_constraint(1, "zone", DNS, BAR_SELECTOR)
     .spread_constraint(2, "planet", SA, make_label_selector().label("baz", "sup").obj()).obj(),
     [node("node-a", planet="mars", galaxy="andromeda")],
     list_args({"maxSkew": 2, "topologyKey": "galaxy", "whenUnsatisfiable": SA}),
     {"ReplicaSet": [replica_set("rs1", FOO_SELECTOR)]}, None, set(), {("planet", "mars"): 0}, [TW(1)]),
    ("NodeAffinityPolicy honored with labelSelectors",
     make_pod().name("p").label("foo", "").node_selector({"foo": ""}).spread_constraint(1, "zone", SA, BAR_SELECTOR)
     .obj(), ZONE_ABX_FOO, list_args(), None, None, set(), {("zone", "zone1"): 0, ("zone", "zone2"): 0}, [TW(2)]),
    ("NodeAffinityPolicy ignored with labelSelectors",
     make_pod().name("p").label("foo", "").node_selector({"foo": ""})
     .spread_constraint(1, "zone", SA, BAR_SELECTOR, None, IGNORE).obj(),
     ZONE_ABX_FOO, list_args(), None, None, set(), {("zone", "zone1"): 0, ("zone", "zone2"): 0}, [TW(2)]),
    ("NodeAffinityPolicy honored with nodeAffinity",
     make_pod().name("p").label("foo", "").node_affinity_in("foo", [""]).spread_constraint(1, "zone", SA, BAR_SELECTOR)
     .obj(), ZONE_ABX_FOO, list_args(), None, None, set(), {("zone", "zone1"): 0, ("zone", "zone2"): 0}, [TW(2)]),
    ("NodeTaintsPolicy honored",
     make_pod().name("p").label("foo", "").spread_constraint(1, "zone", SA, BAR_SELECTOR, None, None, HONOR).obj(),
     ZONE_ABX_FOO[:2] + [make_node().name("node-x").label("zone", "zone2").label(HOSTNAME, "node-x")
                         .taints(TAINTS).obj()],
     list_args(), None, None, set(), {("zone", "zone1"): 0, ("zone", "zone2"): 0}, [TW(2)]),
]


@pytest.mark.parametrize("name,pod,nodes,args,objects,want_status,want_ignored,want_counts,want_weights",
                         PRE_SCORE_STATE_CASES, ids=[c[0] for c in PRE_SCORE_STATE_CASES])
def test_pre_score_state_empty_nodes(name, pod, nodes, args, objects, want_status, want_ignored, want_counts,
                                     want_weights):
    """TestPreScoreStateEmptyNodes: the PreScore state on a cluster without pods."""
    handle = handle_of(nodes, [], objects)
    plugin = podtopologyspread.new(args, handle)
    state = CycleState()
    status = plugin.pre_score(state, pod, handle.snapshot.node_info_list)
    assert status == want_status
    if status is not None:
        return
    s = state.read(PRE_SCORE_STATE_KEY)
    assert s.ignored_nodes == want_ignored
    assert s.topology_pair_to_pod_counts == want_counts
    assert s.topology_normalizing_weight == want_weights


# -- TestPodTopologySpreadScore -------------------------------------------------------------

def hostname_pod(max_skew: int = 1, selector=FOO_SELECTOR):
    return make_pod().name("p").label("foo", "").spread_constraint(max_skew, HOSTNAME, SA, selector).obj()


def hosts(*names: str):
    return [host_node(n) for n in names]


def node_label_nodes(c_foo: bool = False, c_taints: bool = False):
    a = node("node-a", node="node-a", foo="")
    b = node("node-b", node="node-b", foo="")
    c = make_node().name("node-c").label("node", "node-c")
    if c_taints:
        c.taints(TAINTS)
    return [a, b, c.obj()]


def plain_node_label_nodes(c_taints: bool = False):
    c = make_node().name("node-c").label("node", "node-c")
    if c_taints:
        c.taints(TAINTS)
    return [node("node-a", node="node-a"), node("node-b", node="node-b"), c.obj()]


ABC_211 = foo_pods({"node-a": 2, "node-b": 1, "node-c": 1})
FOUR_THREE_TWO_ONE = foo_pods({"node-a": 4, "node-b": 3, "node-c": 2, "node-d": 1})
AB_XY_4213 = foo_pods({"node-a": 4, "node-b": 2, "node-x": 1, "node-y": 3})
ZONE_ABCD = [zone_host_node("node-a", "zone1"), zone_host_node("node-b", "zone1"), zone_host_node("node-c", "zone2"),
             zone_host_node("node-d", "zone2")]
ZONE_ABXY = [zone_host_node("node-a", "zone1"), zone_host_node("node-b", "zone1"), zone_host_node("node-x", "zone2"),
             zone_host_node("node-y", "zone2")]

# Legend (upstream's): X/Y matching pods on two candidate nodes; X/~Y~ the second node is
# not a candidate; X/?Y? the second node lacks a topology key.
# (name, pod, existing pods, candidate nodes, failed nodes, objects, want scores)
SCORE_CASES = [
    ("one constraint on node, no existing pods", hostname_pod(), [], hosts("node-a", "node-b"), [], None,
     [("node-a", 100), ("node-b", 100)]),
    # a single candidate node scores 100
    ("one constraint on node, only one node is candidate", hostname_pod(), foo_pods({"node-a": 2, "node-b": 1}),
     hosts("node-a"), hosts("node-b"), None, [("node-a", 100)]),
    ("one constraint on node, all nodes have the same number of matching pods", hostname_pod(),
     foo_pods({"node-a": 1, "node-b": 1}), hosts("node-a", "node-b"), [], None, [("node-a", 100), ("node-b", 100)]),
    # matching pods spread as 2/1/0/3
    ("one constraint on node, all 4 nodes are candidates", hostname_pod(),
     foo_pods({"node-a": 2, "node-b": 1, "node-d": 3}), hosts("node-a", "node-b", "node-c", "node-d"), [], None,
     [("node-a", 20), ("node-b", 60), ("node-c", 100), ("node-d", 0)]),
    ("one constraint on node, null selector", hostname_pod(selector=None),
     foo_pods({"node-a": 2, "node-b": 1, "node-d": 3}), hosts("node-a", "node-b", "node-c", "node-d"), [], None,
     [("node-a", 100), ("node-b", 100), ("node-c", 100), ("node-d", 100)]),
    ("one constraint on node, all 4 nodes are candidates, maxSkew=2", hostname_pod(2),
     foo_pods({"node-a": 2, "node-b": 1, "node-d": 3}), hosts("node-a", "node-b", "node-c", "node-d"), [], None,
     [("node-a", 33), ("node-b", 66), ("node-c", 100), ("node-d", 16)]),
    # matching pods spread as 4/3/2/1
    ("one constraint on node, all 4 nodes are candidates, maxSkew=3", hostname_pod(3), FOUR_THREE_TWO_ONE,
     hosts("node-a", "node-b", "node-c", "node-d"), [], None,
     [("node-a", 44), ("node-b", 66), ("node-c", 77), ("node-d", 100)]),
    # the same scores as one spreading constraint
    ("system defaulting, nodes don't have zone, pods match service", make_pod().name("p").label("foo", "").obj(),
     FOUR_THREE_TWO_ONE, hosts("node-a", "node-b", "node-c", "node-d"), [],
     {"Service": [service({"foo": ""})]},
     [("node-a", 44), ("node-b", 66), ("node-c", 77), ("node-d", 100)]),
    # 4/2/1/~3~
    ("one constraint on node, 3 out of 4 nodes are candidates", hostname_pod(), AB_XY_4213,
     hosts("node-a", "node-b", "node-x"), hosts("node-y"), None, [("node-a", 33), ("node-b", 83), ("node-x", 100)]),
    # 4/?2?/1/~3~: node-b's label `n` isn't the topology key
    ("one constraint on node, 3 out of 4 nodes are candidates, one node doesn't match topology key", hostname_pod(),
     AB_XY_4213, [host_node("node-a"), node("node-b", n="node-b"), host_node("node-x")], hosts("node-y"), None,
     [("node-a", 16), ("node-b", 0), ("node-x", 100)]),
    ("one constraint on zone, 3 out of 4 nodes are candidates",
     make_pod().name("p").label("foo", "").spread_constraint(1, "zone", SA, FOO_SELECTOR).obj(), AB_XY_4213,
     ZONE_ABXY[:3], ZONE_ABXY[3:], None, [("node-a", 75), ("node-b", 75), ("node-x", 100)]),
    # 2/~1~/2/~4~
    ("two Constraints on zone and node, 2 out of 4 nodes are candidates",
     make_pod().name("p").label("foo", "").spread_constraint(1, "zone", SA, FOO_SELECTOR)
     .spread_constraint(1, HOSTNAME, SA, FOO_SELECTOR).obj(),
     foo_pods({"node-a": 2, "node-b": 1, "node-x": 2, "node-y": 4}), [ZONE_ABXY[0], ZONE_ABXY[2]],
     [ZONE_ABXY[1], ZONE_ABXY[3]], None, [("node-a", 100), ("node-x", 63)]),
    # zone: 2/2/1/1, node: 0/1/0/1
    ("two Constraints on zone and node, with different labelSelectors",
     make_pod().name("p").label("foo", "").label("bar", "").spread_constraint(1, "zone", SA, FOO_SELECTOR)
     .spread_constraint(1, HOSTNAME, SA, BAR_SELECTOR).obj(),
     [lp("p-a1", "node-a", "foo"), lp("p-b1", "node-b", "foo", "bar"), lp("p-y1", "node-y", "foo"),
      lp("p-y2", "node-y", "bar")], ZONE_ABXY, [], None,
     [("node-a", 60), ("node-b", 20), ("node-x", 100), ("node-y", 60)]),
    # zone: 0/0/2/2, node: 0/1/0/1
    ("two Constraints on zone and node, with different labelSelectors, some nodes have 0 pods",
     make_pod().name("p").label("foo", "").label("bar", "").spread_constraint(1, "zone", SA, FOO_SELECTOR)
     .spread_constraint(1, HOSTNAME, SA, BAR_SELECTOR).obj(),
     [lp("p-b1", "node-b", "bar"), lp("p-x1", "node-x", "foo"), lp("p-y1", "node-y", "foo", "bar")], ZONE_ABXY, [],
     None, [("node-a", 100), ("node-b", 60), ("node-x", 40), ("node-y", 0)]),
    # zone: 2/2/1/~1~, node: 0/1/0/~1~
    ("two Constraints on zone and node, with different labelSelectors, 3 out of 4 nodes are candidates",
     make_pod().name("p").label("foo", "").label("bar", "").spread_constraint(1, "zone", SA, FOO_SELECTOR)
     .spread_constraint(1, HOSTNAME, SA, BAR_SELECTOR).obj(),
     [lp("p-a1", "node-a", "foo"), lp("p-b1", "node-b", "foo", "bar"), lp("p-y1", "node-y", "foo"),
      lp("p-y2", "node-y", "bar")], ZONE_ABXY[:3], ZONE_ABXY[3:], None,
     [("node-a", 50), ("node-b", 25), ("node-x", 100)]),
    ("existing pods in a different namespace do not count", hostname_pod(),
     [foo_pod("p-a1", "node-a", "ns1"), foo_pod("p-a2", "node-a"), foo_pod("p-b1", "node-b"),
      foo_pod("p-b2", "node-b")], hosts("node-a", "node-b"), [], None, [("node-a", 100), ("node-b", 33)]),
    ("terminating Pods should be excluded", hostname_pod(),
     [make_pod().name("p-a").node("node-a").label("foo", "").terminating().obj(), foo_pod("p-b", "node-b")],
     hosts("node-a", "node-b"), [], None, [("node-a", 100), ("node-b", 0)]),
    # artificial: the API server refuses minDomains with ScheduleAnyway
    ("minDomains has no effect when ScheduleAnyway",
     make_pod().name("p").label("foo", "").spread_constraint(2, "node", SA, FOO_SELECTOR, 10).obj(),
     foo_pods({"node-a": 2, "node-b": 2, "node-c": 1}), [node(n, node=n) for n in ("node-a", "node-b", "node-c")],
     [], None, [("node-a", 75), ("node-b", 75), ("node-c", 100)]),
    ("NodeAffinityPolicy honoed with labelSelectors",
     make_pod().name("p").label("foo", "").node_selector({"foo": ""}).spread_constraint(1, "node", SA, FOO_SELECTOR)
     .obj(), ABC_211, node_label_nodes(), [], None, [("node-a", 0), ("node-b", 33), ("node-c", 100)]),
    ("NodeAffinityPolicy ignored with labelSelectors",
     make_pod().name("p").label("foo", "").node_selector({"foo": ""})
     .spread_constraint(1, "node", SA, FOO_SELECTOR, None, IGNORE).obj(),
     ABC_211, node_label_nodes(), [], None, [("node-a", 66), ("node-b", 100), ("node-c", 100)]),
    ("NodeAffinityPolicy honoed with nodeAffinity",
     make_pod().name("p").label("foo", "").node_affinity_in("foo", [""]).spread_constraint(1, "node", SA, FOO_SELECTOR)
     .obj(), ABC_211, node_label_nodes(), [], None, [("node-a", 0), ("node-b", 33), ("node-c", 100)]),
    ("NodeAffinityPolicy ignored with nodeAffinity",
     make_pod().name("p").label("foo", "").node_affinity_in("foo", [""])
     .spread_constraint(1, "node", SA, FOO_SELECTOR, None, IGNORE).obj(),
     ABC_211, node_label_nodes(), [], None, [("node-a", 66), ("node-b", 100), ("node-c", 100)]),
    ("NodeTaintsPolicy honored",
     make_pod().name("p").label("foo", "").spread_constraint(1, "node", SA, FOO_SELECTOR, None, None, HONOR).obj(),
     ABC_211, plain_node_label_nodes(c_taints=True), [], None, [("node-a", 0), ("node-b", 33), ("node-c", 100)]),
    ("NodeTaintsPolicy ignored",
     make_pod().name("p").label("foo", "").spread_constraint(1, "node", SA, FOO_SELECTOR).obj(),
     ABC_211, plain_node_label_nodes(c_taints=True), [], None, [("node-a", 66), ("node-b", 100), ("node-c", 100)]),
    ("matchLabelKeys ANDed with LabelSelector when LabelSelector is empty",
     make_pod().name("p").label("foo", "").label("bar", "")
     .spread_constraint(1, "zone", SA, make_label_selector().obj(), None, None, None, ["foo"])
     .spread_constraint(1, HOSTNAME, SA, make_label_selector().obj(), None, None, None, ["bar"]).obj(),
     [lp("p-a1", "node-a", "foo"), lp("p-b1", "node-b", "foo", "bar"), lp("p-y1", "node-c", "foo"),
      lp("p-y2", "node-c", "bar")], ZONE_ABCD, [], None,
     [("node-a", 60), ("node-b", 20), ("node-c", 60), ("node-d", 100)]),
    ("matchLabelKeys ANDed with LabelSelector when LabelSelector isn't empty",
     make_pod().name("p").label("foo", "").label("bar", "").label("baz", "")
     .spread_constraint(1, "zone", SA, FOO_SELECTOR)
     .spread_constraint(1, HOSTNAME, SA, BAR_SELECTOR, None, None, None, ["baz"]).obj(),
     [lp("p-a1", "node-a", "foo"), lp("p-b1", "node-b", "foo", "bar", "baz"), lp("p-c1", "node-c", "foo"),
      lp("p-c2", "node-c", "bar"), lp("p-d3", "node-c", "bar", "baz")], ZONE_ABCD, [], None,
     [("node-a", 60), ("node-b", 20), ("node-c", 60), ("node-d", 100)]),
]


def run_score(pod, pods, nodes, failed_nodes=(), objects=None, args=None):
    """PreScore on the candidate nodes (all nodes in the snapshot), Score, NormalizeScore."""
    handle = handle_of(list(nodes) + list(failed_nodes), pods, objects)
    plugin = podtopologyspread.new(args or {"defaultingType": "System"}, handle)
    state = CycleState()
    infos = [handle.snapshot.get(n.metadata.name) for n in nodes]
    status = plugin.pre_score(state, pod, infos)
    if status is not None:
        return status
    got = []
    for info in infos:
        score, st = plugin.score(state, pod, info)
        assert st is None
        got.append(NodeScore(info.name, score))
    assert plugin.normalize_score(state, pod, got) is None
    return [(ns.name, ns.score) for ns in got]


@pytest.mark.parametrize("name,pod,pods,nodes,failed,objects,want", SCORE_CASES, ids=[c[0] for c in SCORE_CASES])
def test_pod_topology_spread_score(name, pod, pods, nodes, failed, objects, want):
    """TestPodTopologySpreadScore (plugin args: defaultingType System)."""
    assert run_score(pod, pods, nodes, failed, objects) == want


# -- plugin args: TestValidatePodTopologySpreadArgs (validation_pluginargs_test.go) --------

def constraint(max_skew: int, key: str, when: str, **more) -> dict:
    return {"maxSkew": max_skew, "topologyKey": key, "whenUnsatisfiable": when, **more}


VALIDATION_CASES = [
    ("valid config", list_args(constraint(1, "node", DNS), constraint(2, "zone", SA)), None),
    ("maxSkew less than zero", list_args(constraint(-1, "node", DNS)),
     "defaultConstraints[0].maxSkew: Invalid value: -1: not in valid range (0, inf)"),
    ("empty topology key", list_args(constraint(1, "", DNS)),
     "defaultConstraints[0].topologyKey: Required value: can not be empty"),
    ("whenUnsatisfiable is empty", list_args(constraint(1, "node", "")),
     "defaultConstraints[0].whenUnsatisfiable: Required value: can not be empty"),
    ("whenUnsatisfiable contains unsupported action", list_args(constraint(1, "node", "unknown action")),
     'defaultConstraints[0].whenUnsatisfiable: Unsupported value: "unknown action": supported values: '
     '"DoNotSchedule", "ScheduleAnyway"'),
    ("duplicated constraints", list_args(constraint(1, "node", DNS), constraint(2, "node", DNS)),
     'defaultConstraints[1]: Duplicate value: "{node, DoNotSchedule}"'),
    ("label selector present", list_args(constraint(1, "key", DNS, labelSelector={"matchLabels": {"a": "b"}})),
     "defaultConstraints[0].labelSelector: Forbidden: constraint must not define a selector, as they deduced for "
     "each pod"),
    ("list default constraints, no constraints", list_args(), None),
    ("system default constraints", {"defaultingType": "System"}, None),
    ("wrong constraints", {"defaultingType": "unknown"},
     'defaultingType: Unsupported value: "unknown": supported values: "System", "List"'),
    ("system default constraints, but has constraints",
     {"defaultingType": "System", "defaultConstraints": [constraint(1, "key", DNS)]},
     'defaultingType: Invalid value: "System": when .defaultConstraints are not empty'),
]


@pytest.mark.parametrize("name,args,want_error", VALIDATION_CASES, ids=[c[0] for c in VALIDATION_CASES])
def test_validate_pod_topology_spread_args(name, args, want_error):
    """TestValidatePodTopologySpreadArgs, through the factory: upstream's messages."""
    from kbook.scheduler.config import ConfigError
    if want_error is None:
        assert podtopologyspread.new(args, None).name == "PodTopologySpread"
    else:
        with pytest.raises(ConfigError) as e:
            podtopologyspread.new(args, None)
        assert str(e.value) == want_error


def test_args_defaults_and_several_errors():
    """``SetDefaults_PodTopologySpreadArgs``: no args means System defaulting with the
    system default constraints; several problems aggregate as ``[a, b]``."""
    from kbook.scheduler.config import ConfigError
    from kbook.scheduler.plugins.podtopologyspread import SYSTEM_DEFAULT_CONSTRAINTS
    plugin = podtopologyspread.new({}, None)
    assert plugin.system_defaulted and plugin.default_constraints == list(SYSTEM_DEFAULT_CONSTRAINTS)
    assert [(c.topology_key, c.max_skew, c.when_unsatisfiable) for c in SYSTEM_DEFAULT_CONSTRAINTS] == [
        (HOSTNAME, 3, SA), (ZONE, 5, SA)]
    with pytest.raises(ConfigError) as e:
        podtopologyspread.new(list_args(constraint(0, "", DNS)), None)
    assert str(e.value) == ("[defaultConstraints[0].maxSkew: Invalid value: 0: not in valid range (0, inf), "
                            "defaultConstraints[0].topologyKey: Required value: can not be empty]")
    with pytest.raises(ConfigError):
        podtopologyspread.new(list_args(constraint("1", "node", DNS)), None)


# -- system default spreading (DefaultSelector, plugins/helper/spread.go) ---------------------

def test_system_defaulting_with_a_replica_set_and_a_service():
    """System defaults use the selectors of the Services selecting the pod and of its
    controlling ReplicaSet, ANDed (``DefaultSelector``); nodes lacking the zone label
    still get hostname spreading."""
    from kbook.scheduler.plugins.podtopologyspread import default_selector
    pod = rs_pod("rs1", foo="tar", app="web").obj()
    objects = {"ReplicaSet": [replica_set("rs1", FOO_SELECTOR)], "Service": [service({"app": "web"})]}
    selector = default_selector(pod, lambda kind: objects.get(kind, []))
    assert [(r.key, r.operator, r.values) for r in selector.requirements] == [
        ("app", "=", ["web"]), ("foo", "Exists", [])]
    # A pod without a controller and no Service: the selector is empty and nothing is spread.
    assert default_selector(make_pod().label("foo", "").obj(), lambda kind: []).is_everything()
    # A Service in another namespace does not select the pod.
    other = Service(metadata=ObjectMeta(namespace="other"), spec=ServiceSpec(selector={"app": "web"}))
    assert default_selector(make_pod().label("app", "web").obj(), lambda kind: [other]).is_everything()

    nodes = hosts("node-a", "node-b")
    pods = [make_pod().name("w1").namespace("default").node("node-a").labels({"foo": "x", "app": "web"}).obj()]
    # hostname maxSkew 3: raw scores round(1*log(4) + 2) = 3 and 2, normalized 100*(3+2-s)/3
    assert run_score(pod, pods, nodes, objects=objects) == [("node-a", 66), ("node-b", 100)]


def test_pre_score_skip_without_soft_constraints():
    """kubernetes#118608: PreScore returns Skip when the pod has only hard constraints, or
    when there is no node to score."""
    pod = make_pod().name("p").label("foo", "").spread_constraint(1, "zone", DNS, FOO_SELECTOR).obj()
    assert run_score(pod, [], [zone_node("node-a", "zone1")]) == SKIP
    assert run_score(hostname_pod(), [], []) == SKIP
