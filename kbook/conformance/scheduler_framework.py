"""The scheduler checkers for the framework's kinds: the FitError message, node sampling
(``numFeasibleNodesToFind`` and the round-robin ``nextStartNodeIndex``), ``selectHost`` and
the queue's backoff.

``next_start_node_index`` runs the real search (a :class:`~kbook.scheduler.schedule_one.Scheduler`
with the default profile over nodes that all fit) as ``TestFairEvaluationForNodes`` does;
``select_host`` draws many times from seeded generators, since ties are broken at random.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kbook.api import Node, NodeSpec, NodeStatus, ObjectMeta, Pod
from kbook.conformance.runner import CHECKERS, Case
from kbook.quantity import Quantity
from kbook.scheduler.config import API_VERSION, KIND, KubeSchedulerConfiguration
from kbook.scheduler.cyclestate import CycleState
from kbook.scheduler.framework import StaticHost
from kbook.scheduler.queue import calculate_backoff_duration
from kbook.scheduler.schedule_one import EmptyPriorityListError, Scheduler, num_feasible_nodes_to_find, select_host
from kbook.scheduler.status import Code, Status
from kbook.scheduler.types import Diagnosis, FitError, NodePluginScores

__all__ = [
    "check_fit_error_message",
    "check_num_feasible_nodes_to_find",
    "check_next_start_node_index",
    "check_select_host",
    "check_backoff_sequence",
]

SELECT_HOST_DRAWS = 64  # picks per select_host case, each from its own seeded generator


def _diff(what: str, got: Any, want: Any) -> list[str]:
    return [] if got == want else [f"{what}: got {got!r}, want {want!r}"]


def check_fit_error_message(case: Case) -> list[str]:
    """``FitError.Error()`` for the case's diagnosis."""
    d = case.data["diagnosis"]
    statuses = {name: Status(Code.parse(s["code"]), list(s.get("reasons") or []))
                for name, s in (d.get("node_to_status") or {}).items()}
    diagnosis = Diagnosis(statuses, set(), d.get("pre_filter_msg") or "", d.get("post_filter_msg") or "")
    got = FitError(None, case.data["num_all_nodes"], diagnosis).message()
    return _diff("message", got, case.data["expected"]["message"])


def check_num_feasible_nodes_to_find(case: Case) -> list[str]:
    """``numFeasibleNodesToFind``."""
    got = num_feasible_nodes_to_find(case.data.get("profile_percentage"), case.data["num_all_nodes"],
                                     case.data.get("global_percentage") or 0)
    return _diff("num_nodes", got, case.data["expected"]["num_nodes"])


def _node(name: str) -> Node:
    allocatable = {"cpu": Quantity("64"), "memory": Quantity("256Gi"), "pods": Quantity("110")}
    return Node(metadata=ObjectMeta(name=name, labels={"kubernetes.io/hostname": name}),
                spec=NodeSpec(), status=NodeStatus(capacity=dict(allocatable), allocatable=allocatable))


def check_next_start_node_index(case: Case) -> list[str]:
    """``TestFairEvaluationForNodes``: over nodes that all fit, each search finds
    ``numFeasibleNodesToFind`` nodes and moves the start index on by as many, round robin,
    for more than two passes over the nodes."""
    n = case.data["num_all_nodes"]
    doc: dict[str, Any] = {"apiVersion": API_VERSION, "kind": KIND,
                           "percentageOfNodesToScore": case.data.get("global_percentage") or 0}
    if case.data.get("profile_percentage") is not None:
        doc["profiles"] = [{"schedulerName": "default-scheduler",
                            "percentageOfNodesToScore": case.data["profile_percentage"]}]
    sched = Scheduler(KubeSchedulerConfiguration.from_dict(doc), host=StaticHost(),
                      rng=np.random.default_rng(0), clock=lambda: 0.0, engine="reference")
    for i in range(n):
        sched.add_node(_node(str(i)))
    sched.cache.update_snapshot(sched.snapshot)
    fwk = sched.profiles["default-scheduler"]
    to_find = num_feasible_nodes_to_find(fwk.percentage_of_nodes_to_score, n, sched.percentage_of_nodes_to_score)
    diffs = []
    want = case.data["expected"].get("nodes_to_find")
    if want is not None:
        diffs += _diff("nodes_to_find", to_find, want)
    pod = Pod(metadata=ObjectMeta(name="p", namespace="default", uid="p"))
    for i in range(2 * (n // to_find + 1)):
        feasible, _ = sched.engine.find_nodes_that_fit_pod(sched, fwk, CycleState(), pod)
        diffs += _diff(f"iteration {i}: feasible nodes", len(feasible), to_find)
        diffs += _diff(f"iteration {i}: next_start_node_index", sched.next_start_node_index,
                       (i + 1) * to_find % n)
    return diffs


def _scores(entries: list[dict[str, Any]]) -> list[NodePluginScores]:
    return [NodePluginScores(e["name"], [], e["total_score"]) for e in entries]


def check_select_host(case: Case) -> list[str]:
    """``selectHost``: every pick is a possible host and, when the case lists them, the
    reported top nodes are one of the possible lists; an empty list is an error."""
    expected = case.data["expected"]
    entries = case.data["list"]
    if expected.get("error"):
        try:
            select_host(_scores(entries), case.data["count"], np.random.default_rng(0))
        except EmptyPriorityListError as e:
            return _diff("error", str(e), expected["error"])
        return [f"no error, want {expected['error']!r}"]
    top_lists = [[(e["name"], e["total_score"]) for e in lst] for lst in expected.get("possible_top_lists") or []]
    diffs: list[str] = []
    for seed in range(SELECT_HOST_DRAWS):
        host, top = select_host(_scores(entries), case.data["count"], np.random.default_rng(seed))
        if host not in expected["possible_hosts"]:
            diffs.append(f"seed {seed}: host {host!r} not in {expected['possible_hosts']}")
        got_top = [(s.name, s.total_score) for s in top]
        if top_lists and got_top not in top_lists:
            diffs.append(f"seed {seed}: top list {got_top} not one of {top_lists}")
        if diffs:
            break
    return diffs


def check_backoff_sequence(case: Case) -> list[str]:
    """``calculateBackoffDuration`` for attempts 1, 2, ... (``TestBackOffFlow``)."""
    want = case.data["expected"]["backoff_seconds_by_attempt"]
    got = [calculate_backoff_duration(k, case.data["initial_seconds"], case.data["max_seconds"])
           for k in range(1, len(want) + 1)]
    return _diff("backoff_seconds_by_attempt", got, want)


CHECKERS["scheduler"].update({
    "fit_error_message": check_fit_error_message,
    "num_feasible_nodes_to_find": check_num_feasible_nodes_to_find,
    "next_start_node_index": check_next_start_node_index,
    "select_host": check_select_host,
    "backoff_sequence": check_backoff_sequence,
})
