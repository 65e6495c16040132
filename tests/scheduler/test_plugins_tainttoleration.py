"""TaintToleration and NodeUnschedulable, with upstream's test tables
(tainttoleration/taint_toleration_test.go, nodeunschedulable/node_unschedulable_test.go,
core/v1 toleration_test.go; v1.28) transcribed as data."""

from __future__ import annotations

from typing import Any

import pytest

from kbook.api import Taint, Toleration
from kbook.conformance.scheduler import build_node, build_pod
from kbook.scheduler.cyclestate import CycleState
from kbook.scheduler.plugins import nodeunschedulable, tainttoleration
from kbook.scheduler.plugins.helper import do_not_schedule_taints_filter
from kbook.scheduler.plugins.tainttoleration import find_matching_untolerated_taint
from kbook.scheduler.snapshot import Snapshot
from kbook.scheduler.status import Code
from kbook.scheduler.types import NodeInfo, NodeScore


def tol(key: str, value: str = "", effect: str = "", op: str = "Equal") -> dict[str, Any]:
    return {"key": key, "operator": op, "value": value, "effect": effect}


def taint(key: str, value: str, effect: str) -> dict[str, Any]:
    return {"key": key, "value": value, "effect": effect}


# TestTaintTolerationFilter: name, tolerations, taints, want reason (None: fits)
FILTER = [
    ("A pod having no tolerations can't be scheduled onto a node with nonempty taints", [],
     [taint("dedicated", "user1", "NoSchedule")], "node(s) had untolerated taint {dedicated: user1}"),
    ("A pod which can be scheduled on a dedicated node assigned to user1 with effect NoSchedule",
     [tol("dedicated", "user1", "NoSchedule")], [taint("dedicated", "user1", "NoSchedule")], None),
    ("A pod which can't be scheduled on a dedicated node assigned to user2 with effect NoSchedule",
     [tol("dedicated", "user2", "NoSchedule")], [taint("dedicated", "user1", "NoSchedule")],
     "node(s) had untolerated taint {dedicated: user1}"),
    ("A pod can be scheduled onto the node, with a toleration uses operator Exists that tolerates the taints on the node",
     [tol("foo", effect="NoSchedule", op="Exists")], [taint("foo", "bar", "NoSchedule")], None),
    ("A pod has multiple tolerations, node has multiple taints, all the taints are tolerated, pod can be scheduled "
     "onto the node", [tol("dedicated", "user2", "NoSchedule"), tol("foo", effect="NoSchedule", op="Exists")],
     [taint("dedicated", "user2", "NoSchedule"), taint("foo", "bar", "NoSchedule")], None),
    ("A pod has a toleration that keys and values match the taint on the node, but (non-empty) effect doesn't match, "
     "can't be scheduled onto the node", [tol("foo", "bar", "PreferNoSchedule")], [taint("foo", "bar", "NoSchedule")],
     "node(s) had untolerated taint {foo: bar}"),
    ("The pod has a toleration that keys and values match the taint on the node, the effect of toleration is empty, "
     "and the effect of taint is NoSchedule. Pod can be scheduled onto the node", [tol("foo", "bar")],
     [taint("foo", "bar", "NoSchedule")], None),
    ("The pod has a toleration that key and value don't match the taint on the node, but the effect of taint on node "
     "is PreferNoSchedule. Pod can be scheduled onto the node", [tol("dedicated", "user2", "NoSchedule")],
     [taint("dedicated", "user1", "PreferNoSchedule")], None),
    ("The pod has no toleration, but the effect of taint on node is PreferNoSchedule. Pod can be scheduled onto the "
     "node", [], [taint("dedicated", "user1", "PreferNoSchedule")], None),
    ("A NoExecute taint keeps pods off too", [], [taint("k", "v", "NoExecute")], "node(s) had untolerated taint {k: v}"),
]


@pytest.mark.parametrize("name,tolerations,taints,want", FILTER, ids=[c[0] for c in FILTER])
def test_taint_toleration_filter(name, tolerations, taints, want):
    info = NodeInfo(build_node({"name": "nodeA", "taints": taints}))
    status = tainttoleration.new({}, None).filter(CycleState(), build_pod({"tolerations": tolerations}), info)
    assert (None if status is None else (status.code, status.reasons)) == (
        None if want is None else (Code.UNSCHEDULABLE_AND_UNRESOLVABLE, [want]))


# TestTaintTolerationScore: name, tolerations, taints per node, want normalized scores
SCORE = [
    ("node with taints tolerated by the pod, gets a higher score than those node with intolerable taints",
     [tol("foo", "bar", "PreferNoSchedule")],
     [[taint("foo", "bar", "PreferNoSchedule")], [taint("foo", "blah", "PreferNoSchedule")]], [100, 0]),
    ("Default behaviour No taints and tolerations, lands on node with no taints", [],
     [[], [taint("cpu-type", "arm64", "PreferNoSchedule")]], [100, 0]),
    ("the more intolerable taints a node has, the lower score it gets.", [tol("foo", "bar", "PreferNoSchedule")],
     [[], [taint("cpu-type", "arm64", "PreferNoSchedule")],
      [taint("cpu-type", "arm64", "PreferNoSchedule"), taint("disk-type", "ssd", "PreferNoSchedule")]], [100, 50, 0]),
    ("a toleration with an empty effect covers PreferNoSchedule", [tol("cpu-type", "arm64")],
     [[taint("cpu-type", "arm64", "PreferNoSchedule")], [taint("x", "y", "PreferNoSchedule")]], [100, 0]),
]


@pytest.mark.parametrize("name,tolerations,taints,want", SCORE, ids=[c[0] for c in SCORE])
def test_taint_toleration_score(name, tolerations, taints, want):
    snapshot = Snapshot.of([build_node({"name": f"node{i}", "taints": t}) for i, t in enumerate(taints)])
    plugin, pod, state = tainttoleration.new({}, None), build_pod({"tolerations": tolerations}), CycleState()
    assert plugin.pre_score(state, pod, snapshot.node_info_list) is None
    scores = []
    for info in snapshot.node_info_list:
        score, status = plugin.score(state, pod, info)
        assert status is None
        scores.append(NodeScore(info.name, score))
    plugin.normalize_score(state, pod, scores)
    assert [s.score for s in scores] == want


def test_score_needs_pre_score():
    status = tainttoleration.new({}, None).score(CycleState(), build_pod({}), NodeInfo(build_node({"name": "n"})))[1]
    assert status.code == Code.ERROR


# core/v1 TestTolerationToleratesTaint
@pytest.mark.parametrize("toleration,t,want", [
    (Toleration(key="foo", operator="Exists", effect="NoSchedule"), Taint("foo", "bar", "NoSchedule"), True),
    (Toleration(key="foo", operator="Equal", value="bar", effect="NoSchedule"), Taint("foo", "bar", "NoSchedule"), True),
    (Toleration(key="foo", operator="Equal", value="bar", effect="NoSchedule"), Taint("foo", "baz", "NoSchedule"),
     False),
    (Toleration(key="foo", operator="Exists"), Taint("foo", "bar", "NoExecute"), True),  # empty effect: any
    (Toleration(operator="Exists"), Taint("anything", "v", "NoSchedule"), True),  # empty key + Exists: all
    (Toleration(key="foo", operator="Exists", effect="NoExecute"), Taint("foo", "bar", "NoSchedule"), False),
    (Toleration(key="foo", value="bar"), Taint("foo", "bar", "NoSchedule"), True),  # empty operator is Equal
    (Toleration(key="foo", operator="Lt", value="bar"), Taint("foo", "bar", "NoSchedule"), False),
])
def test_tolerates_taint(toleration, t, want):
    assert toleration.tolerates(t) is want


def test_find_matching_untolerated_taint_filters_effects():
    taints = [Taint("soft", "", "PreferNoSchedule"), Taint("hard", "", "NoSchedule")]
    assert find_matching_untolerated_taint(taints, []) == taints[0]
    assert find_matching_untolerated_taint(taints, [], do_not_schedule_taints_filter) == taints[1]
    assert find_matching_untolerated_taint(taints, [Toleration(operator="Exists")]) is None


# TestNodeUnschedulable
@pytest.mark.parametrize("unschedulable,tolerations,want", [
    (False, [], None),
    (True, [], "node(s) were unschedulable"),
    (True, [tol("node.kubernetes.io/unschedulable", "", "NoSchedule", op="")], None),
    (True, [tol("node.kubernetes.io/unschedulable", op="Exists")], None),
    (True, [tol("node.kubernetes.io/unschedulable", "", "NoExecute")], "node(s) were unschedulable"),
])
def test_node_unschedulable(unschedulable, tolerations, want):
    info = NodeInfo(build_node({"name": "n", "unschedulable": unschedulable}))
    status = nodeunschedulable.new({}, None).filter(CycleState(), build_pod({"tolerations": tolerations}), info)
    assert (None if status is None else (status.code, status.reasons)) == (
        None if want is None else (Code.UNSCHEDULABLE_AND_UNRESOLVABLE, [want]))
