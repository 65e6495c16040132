"""The explain table: every node by every plugin, and the node a cycle would choose."""

from pathlib import Path

from kbook.api import load_file
from kbook.scheduler.explain import PASSED, SKIPPED
from kbook.scheduler.simulate import simulate

DATA = Path(__file__).resolve().parents[2] / "data" / "scheduling"
NODES = load_file(DATA / "nodes.yaml")
PODS = load_file(DATA / "pods.yaml")


def test_explained_choice_is_the_placement_and_totals_add_up():
    keys = [f"default/web-{i}" for i in range(4)] + ["default/api-0", "default/api-1"]
    result = simulate(NODES, PODS, explain=keys)
    for key in keys:
        e = result.explanations[key]
        assert e.chosen == result.placements[key], key
        weighted = e.table["Weighted"].replace("", 0).replace(SKIPPED, 0)
        feasible = e.table[("Total", "")] != ""
        assert (weighted[feasible].sum(axis=1) == e.table.loc[feasible, ("Total", "")]).all()
        for name, weight in e.weights.items():
            if ("Normalized", name) in e.table.columns:
                col = e.table.loc[feasible, ("Normalized", name)]
                assert (col * weight == e.table.loc[feasible, ("Weighted", name)]).all()


def test_filter_verdicts_name_the_reason_per_plugin():
    result = simulate(NODES, PODS, explain=["default/web-0"])
    t = result.explanations["default/web-0"].table
    assert t.loc["node-b1", ("Filter", "TaintToleration")] == "node(s) had untolerated taint {nvidia.com/gpu: true}"
    assert t.loc["node-b3", ("Filter", "NodeUnschedulable")] == "node(s) were unschedulable"
    assert t.loc["node-a1", ("Filter", "NodeResourcesFit")] == PASSED
    assert t.loc["node-b1", ("Total", "")] == ""  # not feasible, not scored
    # ImageLocality: only node-a1 has the web image
    assert t.loc["node-a1", ("Score", "ImageLocality")] > t.loc["node-a2", ("Score", "ImageLocality")]


def test_unschedulable_pod_gets_the_fit_error_and_no_choice():
    result = simulate(NODES, PODS, explain=["default/report"])
    e = result.explanations["default/report"]
    assert e.chosen == "" and e.tied == []
    assert e.fit_error == ("0/5 nodes are available: 1 node(s) had untolerated taint {nvidia.com/gpu: true}, "
                           "1 node(s) were unschedulable, 3 Insufficient cpu.")
    assert "Score" not in e.table.columns.get_level_values(0)


def test_why_names_the_runner_up_or_the_tie():
    result = simulate(NODES, PODS, explain=["default/web-1"])
    e = result.explanations["default/web-1"]
    assert e.why.startswith(f"{e.chosen} has the best total") or "tie at the best total" in e.why
