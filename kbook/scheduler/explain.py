"""Why a pod goes where it goes: every node by every plugin, as kube-scheduler-simulator
shows a scheduling result (kubernetes-sigs/kube-scheduler-simulator).

:func:`explain` runs one profile's plugins for one pod on the scheduler's current
snapshot, without changing anything: PreFilter; every Filter plugin on every node (all of
them, where the framework stops at a node's first rejection, so the table shows each
plugin's own verdict); then on the feasible nodes PreScore, each Score plugin's raw
score, its normalized score and the weighted one, and the total. The chosen node is the
one ``selectHost`` picks from those totals. Every node is evaluated here; a real cycle
on a cluster of 100 nodes or more evaluates only ``numFeasibleNodesToFind`` of them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kbook.api import Pod
from kbook.scheduler.cyclestate import CycleState
from kbook.scheduler.schedule_one import NUMBER_OF_HIGHEST_SCORED_NODES_TO_REPORT, Scheduler, select_host
from kbook.scheduler.status import is_success
from kbook.scheduler.types import Diagnosis, FitError, NodePluginScores, NodeScore, PluginScore

__all__ = ["explain", "Explanation", "PASSED", "SKIPPED"]

PASSED = "passed"
_STAGES = ("Filter", "Score", "Normalized", "Weighted", "Total")
SKIPPED = "skipped"


@dataclass
class Explanation:
    """``table``: one row per node; columns ``(stage, plugin)`` for the stages ``Filter``
    (``passed``, ``skipped`` or the plugin's reasons), ``Score`` (raw), ``Normalized``,
    ``Weighted`` (normalized x weight), and ``("Total", "")``. ``chosen`` is the node
    picked (``""`` if none fits, then ``fit_error`` says why); ``tied`` the nodes that
    share the best total; ``why`` one sentence."""

    pod: str
    table: pd.DataFrame
    chosen: str
    tied: list[str]
    why: str
    fit_error: str = ""
    weights: dict[str, int] = field(default_factory=dict)


def explain(sched: Scheduler, pod: Pod, *, rng: np.random.Generator | None = None) -> Explanation:
    """Explain the placement of ``pod`` by ``sched`` (its profile for the pod's
    ``schedulerName``) on the scheduler's current state. Ties are broken with ``rng``, by
    default a copy of the scheduler's generator, so the chosen node is the one the
    scheduler's next cycle would pick when it evaluates every node."""
    rng = copy.deepcopy(sched.rng) if rng is None else rng
    fwk = sched.profiles[pod.spec.scheduler_name or "default-scheduler"]
    sched.cache.update_snapshot(sched.snapshot)
    nodes = sched.snapshot.node_info_list
    state = CycleState()
    pre_result, pre_status = fwk.run_pre_filter_plugins(state, pod)
    rows: dict[str, dict[tuple[str, str], object]] = {n.name: {} for n in nodes}
    diagnosis = Diagnosis()
    feasible = []
    start = sched.next_start_node_index % len(nodes) if nodes else 0
    for info in nodes[start:] + nodes[:start]:  # the order a cycle evaluates them in
        row = rows[info.name]
        first = None
        for pl in fwk.filter_plugins:
            if not is_success(pre_status):
                verdict = pre_status.message()
            elif pre_result is not None and info.name not in pre_result.node_names:
                verdict = "node is filtered out by the prefilter result"
            elif pl.name in state.skip_filter_plugins:
                verdict = SKIPPED
            else:
                s = pl.filter(state, pod, info)
                verdict = PASSED if is_success(s) else s.message()
                if first is None and not is_success(s):
                    first = s.with_plugin(pl.name)
            row[("Filter", pl.name)] = verdict
        if not is_success(pre_status):
            diagnosis.node_to_status[info.name] = pre_status
        elif first is not None:
            diagnosis.node_to_status[info.name] = first
            diagnosis.unschedulable_plugins.add(first.plugin)
        elif pre_result is None or info.name in pre_result.node_names:
            feasible.append(info)
    weights = {pl.name: w for pl, w in fwk.score_plugins}
    if not feasible:
        if not is_success(pre_status):
            diagnosis.pre_filter_msg = pre_status.message()
        error = FitError(pod, len(nodes), diagnosis).message()
        return Explanation(pod.key, _frame(rows), "", [], error, error, weights)
    if len(feasible) == 1:  # schedulePod returns the only feasible node without scoring
        name = feasible[0].name
        return Explanation(pod.key, _frame(rows), name, [name],
                           f"{name} is the only node that passes every filter, so it is not scored.", "", weights)
    totals = {n.name: 0 for n in feasible}
    fwk.run_pre_score_plugins(state, pod, feasible)
    scored = [(pl, w) for pl, w in fwk.score_plugins if pl.name not in state.skip_score_plugins]
    per_plugin: dict[str, list[PluginScore]] = {n.name: [] for n in feasible}
    for pl, weight in fwk.score_plugins:
        if pl.name in state.skip_score_plugins:
            for info in feasible:
                rows[info.name][("Score", pl.name)] = SKIPPED
            continue
        raw = [NodeScore(info.name, pl.score(state, pod, info)[0]) for info in feasible]
        normalized = [NodeScore(s.name, s.score) for s in raw]
        if getattr(pl, "normalize_score", None) is not None:
            pl.normalize_score(state, pod, normalized)
        for r, n in zip(raw, normalized):
            row = rows[r.name]
            row[("Score", pl.name)] = r.score
            row[("Normalized", pl.name)] = n.score
            row[("Weighted", pl.name)] = n.score * weight
            totals[r.name] += n.score * weight
            per_plugin[r.name].append(PluginScore(pl.name, n.score * weight))
    for info in feasible:
        rows[info.name][("Total", "")] = totals[info.name]
    scores = [NodePluginScores(info.name, per_plugin[info.name], totals[info.name]) for info in feasible]
    chosen, _ = select_host(scores, NUMBER_OF_HIGHEST_SCORED_NODES_TO_REPORT, rng)
    best = max(totals.values())
    tied = [name for name, t in totals.items() if t == best]
    return Explanation(pod.key, _frame(rows), chosen, tied, _why(chosen, tied, totals, per_plugin, scored), "",
                       weights)


def _frame(rows: dict[str, dict[tuple[str, str], object]]) -> pd.DataFrame:
    df = pd.DataFrame(list(rows.values()), index=list(rows), dtype=object).fillna("")  # infeasible: not scored
    if len(df.columns):
        order = sorted(df.columns, key=lambda c: _STAGES.index(c[0]))  # stable: plugins keep their order
        df = df[order]
        df.columns = pd.MultiIndex.from_tuples(order, names=["stage", "plugin"])
    df.index.name = "node"
    return df


def _why(chosen: str, tied: list[str], totals: dict[str, int], per_plugin: dict[str, list[PluginScore]],
         scored: list) -> str:
    """One sentence: the chosen node's total against the runner-up's, and the plugins
    whose weighted scores made the difference."""
    if len(tied) > 1:
        return (f"{len(tied)} nodes tie at the best total of {totals[chosen]}; selectHost picks one of them "
                f"at random: {chosen}.")
    runner_up = max((name for name in totals if name != chosen), key=lambda n: totals[n])
    mine = {s.name: s.score for s in per_plugin[chosen]}
    theirs = {s.name: s.score for s in per_plugin[runner_up]}
    diffs = sorted(((mine[n] - theirs[n], n) for n in mine if mine[n] != theirs[n]), key=lambda d: -abs(d[0]))
    parts = ", ".join(f"{name} {d:+d}" for d, name in diffs[:3])
    return (f"{chosen} has the best total, {totals[chosen]}, against {totals[runner_up]} for the runner-up "
            f"{runner_up}; the weighted differences: {parts}.")
