"""NodeAffinity, with upstream's test tables (nodeaffinity/node_affinity_test.go and
component-helpers' nodeaffinity_test.go, v1.28) transcribed as data."""

from __future__ import annotations

from typing import Any

import pytest

from kbook.conformance.scheduler import build_node, build_pod
from kbook.scheduler.config import ConfigError
from kbook.scheduler.cyclestate import CycleState
from kbook.scheduler.plugins import nodeaffinity
from kbook.scheduler.plugins.nodeaffinity import RequiredNodeAffinity, node_selector_term_matches
from kbook.scheduler.snapshot import Snapshot
from kbook.scheduler.status import Code
from kbook.scheduler.types import NodeInfo, NodeScore, PreFilterResult

POD = "node(s) didn't match Pod's node affinity/selector"
ENFORCED = "node(s) didn't match scheduler-enforced node affinity"
CONFLICT = "pod affinity terms conflict"


def expr(key: str, op: str, *values: str) -> dict[str, Any]:
    return {"key": key, "operator": op, "values": list(values)}


def name_in(*names: str) -> dict[str, Any]:
    return expr("metadata.name", "In", *names)


def required(*terms: dict[str, Any]) -> dict[str, Any]:
    """A pod whose required node affinity has these terms ({matchExpressions, matchFields})."""
    return {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": list(terms)}}}}


def term(*expressions: dict[str, Any], fields: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    t: dict[str, Any] = {}
    if expressions:
        t["matchExpressions"] = list(expressions)
    if fields:
        t["matchFields"] = list(fields)
    return t


ADDED_NODE2 = {"addedAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
    "nodeSelectorTerms": [{"matchFields": [name_in("node2")]}]}}}

# TestNodeAffinity: name, pod, node name, node labels, args, run PreFilter,
# want PreFilter (code, reasons) or None, want PreFilterResult names or None, want Filter reasons or None.
FILTER = [
    ("missing labels", {"nodeSelector": {"foo": "bar"}}, "", {}, {}, True, None, None, POD),
    ("same labels", {"nodeSelector": {"foo": "bar"}}, "", {"foo": "bar"}, {}, True, None, None, None),
    ("node labels are subset", {"nodeSelector": {"foo": "bar", "baz": "blah"}}, "", {"foo": "bar"}, {}, True,
     None, None, POD),
    ("Pod with matchExpressions using In operator that matches the existing node",
     required(term(expr("foo", "In", "bar", "value2"))), "", {"foo": "bar"}, {}, True, None, None, None),
    ("Pod with matchExpressions using Gt operator that matches the existing node",
     required(term(expr("kernel-version", "Gt", "0204"))), "", {"kernel-version": "0206"}, {}, True, None, None, None),
    ("Pod with matchExpressions using NotIn operator that matches the existing node",
     required(term(expr("mem-type", "NotIn", "DDR", "DDR2"))), "", {"mem-type": "DDR3"}, {}, True, None, None, None),
    ("Pod with matchExpressions using Exists operator that matches the existing node",
     required(term(expr("GPU", "Exists"))), "", {"GPU": "NVIDIA-GRID-K1"}, {}, True, None, None, None),
    ("Pod with affinity that don't match node's labels won't schedule onto the node",
     required(term(expr("foo", "In", "value1", "value2"))), "", {"foo": "bar"}, {}, True, None, None, POD),
    ("Pod with empty MatchExpressions is not a valid value will match no objects and won't schedule onto the node",
     required({"matchExpressions": []}), "", {"foo": "bar"}, {}, True, None, None, POD),
    ("Pod with no Affinity will schedule onto a node", {}, "", {"foo": "bar"}, {}, True, "Skip", None, None),
    ("Pod with Affinity but nil NodeSelector will schedule onto a node", {"affinity": {"nodeAffinity": {}}}, "",
     {"foo": "bar"}, {}, True, "Skip", None, None),
    ("Pod with multiple matchExpressions ANDed that doesn't match the existing node",
     required(term(expr("GPU", "Exists"), expr("GPU", "In", "AMD", "INTER"))), "", {"GPU": "NVIDIA-GRID-K1"}, {},
     True, None, None, POD),
    ("Pod with an Affinity matches node's labels but the PodSpec.NodeSelector(the old thing that we are deprecating) "
     "is not satisfied, won't schedule onto the node",
     {"nodeSelector": {"foo": "bar"}, **required(term(expr("foo", "Exists")))}, "", {"foo": "barrrrrr"}, {}, True,
     None, None, POD),
    ("Pod with an invalid value in Affinity term won't be scheduled onto the node",
     required(term(expr("foo", "NotIn", "invalid value: ___@#$%^"))), "", {"foo": "bar"}, {}, True, None, None, POD),
    ("Pod with matchFields using In operator that matches the existing node", required(term(fields=(name_in("node1"),))),
     "node1", {}, {}, True, None, {"node1"}, None),
    ("Pod with matchFields using In operator that does not match the existing node",
     required(term(fields=(name_in("node1"),))), "node2", {}, {}, True, None, {"node1"}, POD),
    ("Pod with two terms: matchFields does not match, but matchExpressions matches",
     required(term(fields=(name_in("node1"), name_in("node2"))), term(expr("foo", "In", "bar"))), "node2",
     {"foo": "bar"}, {}, True, None, None, None),
    ("Pod with one term: matchFields does not match, but matchExpressions matches",
     required(term(expr("foo", "In", "bar"), fields=(name_in("node1"),))), "node2", {"foo": "bar"}, {}, True, None,
     {"node1"}, POD),
    ("Pod with one term: both matchFields and matchExpressions match",
     required(term(expr("foo", "In", "bar"), fields=(name_in("node1"),))), "node1", {"foo": "bar"}, {}, True, None,
     {"node1"}, None),
    ("Pod with two terms: both matchFields and matchExpressions do not match",
     required(term(fields=(name_in("node1"),)), term(expr("foo", "In", "not-match-to-bar"))), "node2", {"foo": "bar"},
     {}, True, None, None, POD),
    ("Pod with two terms of node.Name affinity",
     required(term(fields=(name_in("node1"),)), term(fields=(name_in("node2"),))), "node2", {}, {}, True, None,
     {"node1", "node2"}, None),
    ("Pod with two conflicting mach field requirements",
     required(term(fields=(name_in("node1"), name_in("node2")))), "node2", {"foo": "bar"}, {}, True,
     "UnschedulableAndUnresolvable", None, POD),
    ("Matches added affinity and Pod's node affinity", required(term(expr("zone", "In", "foo"))), "node2",
     {"zone": "foo"}, ADDED_NODE2, True, None, None, None),
    ("Matches added affinity but not Pod's node affinity", required(term(expr("zone", "In", "bar"))), "node2",
     {"zone": "foo"}, ADDED_NODE2, True, None, None, POD),
    ("Doesn't match added affinity", {}, "node2", {"zone": "foo"},
     {"addedAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
         "nodeSelectorTerms": [{"matchExpressions": [expr("zone", "In", "bar")]}]}}}, True, None, None, ENFORCED),
    ("Matches node selector correctly even if PreFilter is not called", {"nodeSelector": {"foo": "bar"}}, "",
     {"foo": "bar", "baz": "blah"}, {}, False, None, None, None),
    ("Matches node affinity correctly even if PreFilter is not called",
     required(term(expr("GPU", "Exists"), expr("GPU", "NotIn", "AMD", "INTER"))), "", {"GPU": "NVIDIA-GRID-K1"}, {},
     False, None, None, None),
]


@pytest.mark.parametrize("name,pod,node_name,labels,args,run_pre_filter,want_pre_filter,want_names,want",
                         FILTER, ids=[c[0] for c in FILTER])
def test_node_affinity_filter(name, pod, node_name, labels, args, run_pre_filter, want_pre_filter, want_names, want):
    p = build_pod(pod)
    info = NodeInfo(build_node({"name": node_name, "labels": labels}))
    plugin = nodeaffinity.new(args, None)
    state = CycleState()
    if run_pre_filter:
        result, status = plugin.pre_filter(state, p)
        assert (None if status is None else str(status.code)) == want_pre_filter
        if status is not None and status.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE:
            assert status.reasons == [CONFLICT]
        assert result == (None if want_names is None else PreFilterResult(want_names))
    status = plugin.filter(state, p, info)
    assert (None if status is None else (status.code, status.reasons)) == (
        None if want is None else (Code.UNSCHEDULABLE_AND_UNRESOLVABLE, [want]))


AFFINITY1 = {"weight": 2, "preference": term(expr("foo", "In", "bar"))}
AFFINITY2 = [AFFINITY1, {"weight": 4, "preference": term(expr("key", "In", "value"))},
             {"weight": 5, "preference": term(expr("foo", "In", "bar"), expr("key", "In", "value"),
                                              expr("az", "In", "az1"))}]
LABEL1, LABEL2, LABEL3 = {"foo": "bar"}, {"key": "value"}, {"az": "az1"}
LABEL5 = {"foo": "bar", "key": "value", "az": "az1"}


def preferred(*terms: dict[str, Any]) -> dict[str, Any]:
    return {"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": list(terms)}}}


# TestNodeAffinityPriority: name, pod, nodes (name, labels), args, run PreScore, want normalized scores
PRIORITY = [
    ("all nodes are same priority as NodeAffinity is nil", {},
     [("node1", LABEL1), ("node2", LABEL2), ("node3", LABEL3)], {}, False, [0, 0, 0]),
    ("all nodes matches the preferred scheduling requirements of pod but with different priorities ",
     preferred(*AFFINITY2), [("node1", LABEL1), ("node5", LABEL5), ("node2", LABEL2)], {}, True, [18, 100, 36]),
    ("added affinity", {}, [("node1", LABEL1), ("node2", LABEL2)],
     {"addedAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [AFFINITY1]}}, True, [100, 0]),
    ("added affinity and pod has default affinity", preferred(AFFINITY1),
     [("node1", LABEL1), ("node2", LABEL2), ("node3", LABEL5)],
     {"addedAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
         {"weight": 3, "preference": term(expr("key", "In", "value"))}]}}, True, [40, 60, 100]),
    ("calculate the priorities correctly even if PreScore is not called", preferred(*AFFINITY2),
     [("node1", LABEL1), ("node5", LABEL5), ("node2", LABEL2)], {}, False, [18, 100, 36]),
]


@pytest.mark.parametrize("name,pod,nodes,args,run_pre_score,want", PRIORITY, ids=[c[0] for c in PRIORITY])
def test_node_affinity_priority(name, pod, nodes, args, run_pre_score, want):
    snapshot = Snapshot.of([build_node({"name": n, "labels": labels}) for n, labels in nodes])
    plugin, p, state = nodeaffinity.new(args, None), build_pod(pod), CycleState()
    if run_pre_score:
        assert plugin.pre_score(state, p, snapshot.node_info_list) is None
    scores = []
    for info in snapshot.node_info_list:
        score, status = plugin.score(state, p, info)
        assert status is None
        scores.append(NodeScore(info.name, score))
    assert plugin.normalize_score(state, p, scores) is None
    assert [s.score for s in scores] == want


def test_pre_score_skips_without_preferred_terms():
    # "Skip is returned in PreScore when NodeAffinity is nil"
    assert nodeaffinity.new({}, None).pre_score(CycleState(), build_pod({}), []).code == Code.SKIP


def test_pre_score_error_for_broken_affinity():
    # "PreScore returns error when an incoming Pod has a broken affinity"
    pod = build_pod(preferred({"weight": 2, "preference": term(expr("invalid key", "In", "bar"))}))
    status = nodeaffinity.new({}, None).pre_score(CycleState(), pod, [])
    assert status.code == Code.ERROR
    assert status.message() == (
        '[0].matchExpressions[0].key: Invalid value: "invalid key": name part must consist of alphanumeric '
        "characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or "
        "'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")


# component-helpers nodeaffinity: Gt/Lt compare integers, a label that is not one never matches.
@pytest.mark.parametrize("op,value,label,want", [
    ("Gt", "5", "6", True), ("Gt", "5", "5", False), ("Lt", "5", "4", True), ("Lt", "5", "5", False),
    ("Gt", "5", "x", False), ("Gt", "5", None, False),
    ("Lt", "-3", "-4", False),  # "-3" is no valid label value, so the requirement never matches
])
def test_gt_lt(op, value, label, want):
    labels = {} if label is None else {"n": label}
    node = build_node({"name": "n1", "labels": labels})
    assert node_selector_term_matches(build_term(term(expr("n", op, value))), node) is want


def build_term(t: dict[str, Any]):
    return build_pod(required(t)).spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution \
        .node_selector_terms[0]


@pytest.mark.parametrize("t,node_name,want", [
    (term(fields=(expr("metadata.name", "NotIn", "n1"),)), "n1", False),
    (term(fields=(expr("metadata.name", "NotIn", "n1"),)), "n2", True),
    (term(fields=(name_in("n1"),)), "", True),  # no node name: fields are not checked
    (term(fields=(name_in("n1", "n2"),)), "n1", False),  # In takes exactly one value
    (term(fields=(expr("metadata.name", "Exists"),)), "n1", False),  # fields know In/NotIn only
    (term(expr("a", "DoesNotExist")), "n1", True),
    ({}, "n1", False),  # an empty term matches nothing
])
def test_term_matching(t, node_name, want):
    assert node_selector_term_matches(build_term(t), build_node({"name": node_name})) is want


def test_required_node_affinity_needs_node_selector_and_terms():
    pod = build_pod({"nodeSelector": {"a": "1"}, **required(term(expr("b", "In", "2")), term(expr("c", "Exists")))})
    match = RequiredNodeAffinity(pod).match
    assert match(build_node({"name": "n", "labels": {"a": "1", "c": ""}}))
    assert not match(build_node({"name": "n", "labels": {"a": "2", "c": ""}}))
    assert not match(build_node({"name": "n", "labels": {"a": "1"}}))


# TestValidateNodeAffinityArgs
def test_added_affinity_validation():
    args = {"addedAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [expr("invalid/label/key", "In", "label-1-val")]}]},
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 1, "preference": {"matchFields": [name_in("node-1", "node-2")]}}]}}
    with pytest.raises(ConfigError) as e:
        nodeaffinity.new(args, None)
    assert [m.split(":")[0] for m in e.value.errors] == [
        "addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key",
        "addedAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].matchFields[0].values",
    ]
    assert e.value.errors[1].endswith('Invalid value: []string{"node-1", "node-2"}: must have one element')


def test_added_affinity_valid_and_unsupported_operator():
    valid = {"addedAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [expr("label-1", "In", "label-1-val")]}]},
        "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "preference": {"matchFields": [
            name_in("node-1")]}}]}}
    assert nodeaffinity.new(valid, None).added_node_selector is not None
    with pytest.raises(ConfigError) as e:
        nodeaffinity.new({"addedAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [expr("a", "Near", "b")]}]}}}, None)
    assert str(e.value) == (
        "addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0]"
        '.operator: Unsupported value: "Near": supported values: "In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"')
