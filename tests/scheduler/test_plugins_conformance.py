"""The scheduler plugin checkers (kbook/conformance/scheduler.py): every public vector of
their kinds passes, and doctored or unknown cases are differences, never passes."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from kbook.conformance import check, discover
from kbook.conformance.runner import Case

DATA = Path(__file__).parents[1] / "conformance" / "data" / "scheduler"
KINDS = {"score", "filter", "default_normalize_score", "broken_linear_function", "queue_sort_less",
         "normalized_image_name"}
CASES = [c for c in discover("scheduler", [DATA]) if c.kind in KINDS]
BY_ID = {c.id: c for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_public_vector(case):
    result = check(case)
    assert result.passed, result.line()


def test_every_kind_has_public_vectors():
    assert {c.kind for c in CASES} == KINDS and len(CASES) == 81


def doctored(case_id: str, **changes) -> Case:
    """The public case with ``changes`` merged into its data (a deep copy)."""
    case = BY_ID[case_id]
    data = copy.deepcopy(case.data)
    for key, value in changes.items():
        data[key] = value
    return Case(case.area, case.id, data.get("kind", case.kind), data, case.path)


LEAST = "NodeResourcesFit.LeastAllocated/TestLeastAllocatedScoringStrategy/nothing scheduled, resources requested, " \
        "differently sized nodes"
TAINT = "TaintToleration/TestTaintTolerationFilter/A pod having no tolerations can't be scheduled onto a node with " \
        "nonempty taints"
FIT = "NodeResourcesFit/TestEnoughRequests/extended resource capacity enforced for init container"
NEGATIVE = "NodeResourcesFit.MostAllocated/TestMostAllocatedScoringStrategy/resource with negative weight"
SKIP = "NodeResourcesBalancedAllocation/TestNodeResourcesBalancedAllocation/nothing scheduled, nothing requested, " \
       "skip in PreScore"


def differences(case: Case) -> tuple[str, ...]:
    return check(case).differences


def test_wrong_scores_are_a_difference():
    expected = copy.deepcopy(BY_ID[LEAST].data["expected"])
    expected["scores"][0]["score"] = 38
    assert differences(doctored(LEAST, expected=expected)) == (
        "scores [('node1', 37), ('node2', 50)] != [('node1', 38), ('node2', 50)]",)


def test_unknown_plugin_and_unknown_fields_are_differences():
    assert differences(doctored(LEAST, plugin="NodeResourcesFitt")) == (
        "unknown plugin 'NodeResourcesFitt' for kind 'score'",)
    pod = {**BY_ID[TAINT].data["pod"], "runtimeClassNam": "x"}
    (d,) = differences(doctored(TAINT, pod=pod))
    assert 'unknown field "spec.runtimeClassNam"' in d
    node = {**BY_ID[TAINT].data["node"], "zone": "a"}
    assert differences(doctored(TAINT, node=node)) == ("node: unknown field(s) zone",)


def test_filter_status_reasons_and_insufficient_resources_are_compared():
    expected = copy.deepcopy(BY_ID[FIT].data["expected"])
    expected["insufficient_resources"][0]["used"] = 1
    (d,) = differences(doctored(FIT, expected=expected))
    assert d.startswith("insufficient resources")
    expected = {**BY_ID[TAINT].data["expected"], "reasons": ["node(s) had untolerated taint {dedicated: user2}"]}
    (d,) = differences(doctored(TAINT, expected=expected))
    assert d.startswith("Filter: got UnschedulableAndUnresolvable")


def test_expected_latest_runs_as_newer_upstream():
    latest = {**BY_ID[FIT].data["expected_latest"], "code": "Unschedulable"}
    (d,) = differences(doctored(FIT, expected_latest=latest))
    assert d.startswith("Filter (newer upstream): got UnschedulableAndUnresolvable")


def test_config_errors_must_name_the_field():
    assert differences(doctored(NEGATIVE)) == ()
    expected = {"config_error": "scoringStrategy.resources[1].weight", "status": "Success"}
    (d,) = differences(doctored(NEGATIVE, expected=expected))
    assert "does not name 'scoringStrategy.resources[1].weight'" in d
    args = {"scoringStrategy": {"type": "MostAllocated", "resources": [{"name": "cpu", "weight": 1}]}}
    assert differences(doctored(NEGATIVE, args=args)) == (
        "args accepted, want a config error naming 'scoringStrategy.resources[0].weight'",)


def test_pre_score_status_follows_the_version():
    assert differences(doctored(SKIP)) == ()
    (d,) = differences(doctored(SKIP, k8s_version="v1.28.0"))
    assert d == "PreScore: got Success [], want Skip"


def test_helper_kinds_see_differences():
    case = next(c for c in CASES if c.kind == "broken_linear_function")
    expected = copy.deepcopy(case.data["expected"])
    expected[0]["value"] += 1
    assert differences(doctored(case.id, expected=expected)) == (
        f"f({expected[0]['p']}) = {expected[0]['value'] - 1}, want {expected[0]['value']}",)
    case = next(c for c in CASES if c.kind == "queue_sort_less")
    assert differences(doctored(case.id, expected={"less": not case.data["expected"]["less"]}))
    assert differences(doctored(case.id, plugin="FIFO")) == ("unknown queue sort plugin 'FIFO'",)


def test_runner_reports_these_kinds(tmp_path, capsys):
    from kbook.conformance.__main__ import main

    path = tmp_path / "v.json"
    case = copy.deepcopy(BY_ID[TAINT].data)
    case["plugin"] = "Nope"
    path.write_text(json.dumps({"cases": [case]}))
    assert main(["scheduler", str(path)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"FAIL {TAINT}: unknown plugin 'Nope' for kind 'filter'", "0 passed, 1 failed"]


def test_a_score_case_must_expect_something():
    assert differences(doctored(LEAST, expected={"status": "Success"})) == (
        "the case expects neither scores nor a PreScore status",)


MATCH_FIELDS = "NodeAffinity/TestNodeAffinity/Pod with matchFields using In operator that does not match the " \
               "existing node"


@pytest.mark.parametrize("reason", [
    "node(s) didn't match Pod's node affinity/selector",  # the Go test's Filter status
    "pod affinity terms conflict",  # the PreFilter status the framework reports
])
def test_pre_filter_rejection_accepts_either_status(reason):
    # "Pod with two conflicting mach field requirements" (node_affinity_test.go)
    pod = {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [n]} for n in ("node1", "node2")]}]}}}}
    expected = {"code": "UnschedulableAndUnresolvable", "reasons": [reason],
                "prefilter_status": "UnschedulableAndUnresolvable"}
    assert differences(doctored(MATCH_FIELDS, pod=pod, expected=expected)) == ()
    assert differences(doctored(MATCH_FIELDS, pod=pod, expected={**expected, "reasons": ["other"]}))
    (d,) = differences(doctored(MATCH_FIELDS, pod=pod, expected={**expected, "prefilter_status": "Success"}))
    assert d == "PreFilter: got UnschedulableAndUnresolvable ['pod affinity terms conflict'], want Success"


@pytest.mark.parametrize("pod,existing,want", [
    # node_ports_test.go "same udp port" / "different protocol", as host ports of the pod or of a container
    ({"hostPorts": ["UDP/127.0.0.1/8080"]}, {"hostPorts": ["UDP/127.0.0.1/8080"]},
     {"code": "Unschedulable", "reasons": ["node(s) didn't have free ports for the requested pod ports"]}),
    ({"containers": [{"hostPorts": ["UDP/127.0.0.1/8080"]}]},
     {"containers": [{"ports": [{"protocol": "TCP", "hostIP": "127.0.0.1", "hostPort": 8080}]}]},
     {"code": "Success", "reasons": []}),
    ({}, {"hostPorts": ["TCP/0.0.0.0/80"]}, {"code": "Success", "reasons": []}),  # PreFilter Skip
])
def test_node_ports_cases(pod, existing, want):
    data = {"kind": "filter", "plugin": "NodePorts", "k8s_version": "v1.28.0", "pod": pod,
            "node": {"name": "m1", "pods": [existing]}, "args": {}, "expected": want}
    assert differences(Case("scheduler", "node-ports", "filter", data, DATA)) == ()
    wrong = {**want, "code": "UnschedulableAndUnresolvable"}
    assert differences(Case("scheduler", "node-ports", "filter", {**data, "expected": wrong}, DATA))
