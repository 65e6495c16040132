"""The array engine: ``findNodesThatFitPod`` and ``prioritizeNodes``
(``pkg/scheduler/schedule_one.go``) over numpy arrays of all nodes.

Each default plugin has an array form (:mod:`kbook.scheduler.arrays.registry`) that
computes its Filter verdict for every node, or its scores for every feasible node, at
once; the per-node plugin stays the reference. The search keeps upstream's sequential
semantics exactly (:class:`~kbook.scheduler.schedule_one.ReferenceEngine`): nodes are
taken in index order from ``next_start_node_index``, the search stops after
``numFeasibleNodesToFind`` feasible nodes, only the nodes taken get a status, and the
index advances by the nodes processed. Per node, the framework itself decides where the
arrays cannot: a node with nominated pods of equal or higher priority, every node when a
Filter plugin has no array form, the nominated node of a preemptor. Those need the
per-node PreFilter states, which are computed then (PreFilter is a function of the pod
and the snapshot, so running it again in the same cycle gives the same states), and
before a cycle that found no node returns, for PostFilter (preemption).
"""

from __future__ import annotations

import json
from typing import Any, Iterator, Sequence

import numpy as np

from kbook.api import Pod
from kbook.scheduler.arrays.cycle import FilterOutcome, OwnPreFilter, PodCycle
from kbook.scheduler.arrays.registry import array_form
from kbook.scheduler.arrays.scores import NodeScoreTable
from kbook.scheduler.arrays.table import NodeTable
from kbook.scheduler.cyclestate import CycleState
from kbook.scheduler.framework import Framework, PluginError
from kbook.scheduler.snapshot import Snapshot
from kbook.scheduler.status import MAX_NODE_SCORE, MIN_NODE_SCORE, Code, Status, is_success
from kbook.scheduler.types import Diagnosis, NodeInfo, NodePluginScores, NodeScore, PreFilterResult, pod_priority

__all__ = ["ArrayEngine"]


def _go_quote(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


class NodeRows(Sequence[NodeInfo]):
    """The feasible nodes ``infos[rows[i]]``, without building a list of them: what
    ``findNodesThatFitPod`` returns and PreScore is given."""

    __slots__ = ("infos", "rows")

    def __init__(self, infos: list[NodeInfo], rows: np.ndarray) -> None:
        self.infos = infos
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self.infos[r] for r in self.rows[i].tolist()]
        return self.infos[int(self.rows[i])]

    def __iter__(self) -> Iterator[NodeInfo]:
        infos = self.infos
        return (infos[r] for r in self.rows.tolist())


class _Profile:
    """A framework's plugins per extension point, each with its array form or None."""

    def __init__(self, fwk: Framework) -> None:
        forms: dict[str, Any] = {}

        def form(pl: Any, point: str) -> Any | None:
            if pl.name not in forms:
                forms[pl.name] = array_form(pl)
            f = forms[pl.name]
            if f is None or not hasattr(f, point):
                return None
            supports = getattr(f, "supports", None)
            return f if supports is None or supports(point) else None

        pre_filter_names = {pl.name for pl in fwk.pre_filter_plugins}
        pre_score_names = {pl.name for pl in fwk.pre_score_plugins}
        self.pre_filter = [(pl, form(pl, "pre_filter")) for pl in fwk.pre_filter_plugins]
        # an array Filter (Score) reads what the plugin's PreFilter (PreScore) wrote
        self.filter = [(pl, form(pl, "filter") if not hasattr(pl, "pre_filter") or pl.name in pre_filter_names
                        else None) for pl in fwk.filter_plugins]
        self.pre_score = [(pl, form(pl, "pre_score")) for pl in fwk.pre_score_plugins]
        self.score = [(pl, w, form(pl, "score") if not hasattr(pl, "pre_score") or pl.name in pre_score_names
                       else None) for pl, w in fwk.score_plugins]
        # the array PreFilters of PodTopologySpread and InterPodAffinity keep their own state
        self.pre_filter_is_reference = all(f is None or isinstance(f, OwnPreFilter)
                                           for _, f in self.pre_filter)
        self.all_filters_arrays = all(f is not None for _, f in self.filter)
        self.all_scores_arrays = all(f is not None for _, _, f in self.score)
        self._weights: dict[tuple[str, ...], tuple[list[str], np.ndarray]] = {}

    def weights(self, plugins: list) -> tuple[list[str], np.ndarray]:
        """The names of the Score plugins that run this cycle and their weights as a column."""
        names = tuple(pl.name for pl, _, _ in plugins)
        entry = self._weights.get(names)
        if entry is None:
            entry = self._weights[names] = (list(names), np.array([w for _, w, _ in plugins],
                                                                  dtype=np.int64).reshape(-1, 1))
        return entry


class ArrayEngine:
    """Filters and scores over arrays of all nodes, placing pods exactly as the
    :class:`~kbook.scheduler.schedule_one.ReferenceEngine` does."""

    def __init__(self) -> None:
        self.table = NodeTable()
        self._snapshot: Snapshot | None = None
        self._node_list: list[NodeInfo] | None = None
        self._profiles: dict[int, tuple[Framework, _Profile]] = {}
        self._cycle: PodCycle | None = None

    # -- the node table ------------------------------------------------------------------

    def sync(self, snapshot: Snapshot) -> None:
        """Bring the table up to date: the rows of the NodeInfos the cache refreshed since
        the last sync (``Snapshot.take_changes``), or a rebuild when the node list changed."""
        changed, list_changed = snapshot.take_changes()
        node_list = snapshot.node_info_list
        if list_changed or snapshot is not self._snapshot or node_list is not self._node_list:
            self.table.rebuild(node_list)
            self._snapshot, self._node_list = snapshot, node_list
            return
        index = self.table.index
        for info in changed:
            i = index.get(info.name)
            if i is not None:
                self.table.refresh(i, info)

    def _profile(self, fwk: Framework) -> _Profile:
        entry = self._profiles.get(id(fwk))
        if entry is None or entry[0] is not fwk:
            entry = self._profiles[id(fwk)] = (fwk, _Profile(fwk))
        return entry[1]

    # -- PreFilter -----------------------------------------------------------------------

    @staticmethod
    def _run_pre_filter(fwk: Framework, prof: _Profile, cycle: PodCycle) -> tuple[PreFilterResult | None, Status | None]:
        """``RunPreFilterPlugins`` with the array forms where a plugin has one."""
        forms = {pl.name: form for pl, form in prof.pre_filter}

        def run(pl):
            form = forms[pl.name]
            return form.pre_filter(cycle) if form is not None else pl.pre_filter(cycle.state, cycle.pod)

        return fwk.run_pre_filter_plugins(cycle.state, cycle.pod, run)

    def _reference_states(self, fwk: Framework, prof: _Profile, cycle: PodCycle) -> None:
        """Make the per-node plugins' PreFilter states exist in the cycle state."""
        if not cycle.reference_states and not prof.pre_filter_is_reference:
            fwk.run_pre_filter_plugins(cycle.state, cycle.pod)
        cycle.reference_states = True

    # -- findNodesThatFitPod -------------------------------------------------------------

    def find_nodes_that_fit_pod(self, sched: Any, fwk: Framework, state: CycleState,
                                pod: Pod) -> tuple[Sequence[NodeInfo], Diagnosis]:
        """``findNodesThatFitPod`` (see the module docstring for what runs per node)."""
        from kbook.scheduler.schedule_one import ReferenceEngine, SchedulingError

        snapshot = sched.snapshot
        self.sync(snapshot)
        table = self.table
        prof = self._profile(fwk)
        cycle = self._cycle = PodCycle(pod, state, table, fwk)
        diagnosis = Diagnosis()
        pre_result, s = self._run_pre_filter(fwk, prof, cycle)
        if not is_success(s):
            if not s.is_rejected():
                raise PluginError(s.message())
            self._reference_states(fwk, prof, cycle)
            for info in table.infos:
                diagnosis.node_to_status[info.name] = s
            diagnosis.pre_filter_msg = s.message()
            if s.plugin:
                diagnosis.unschedulable_plugins.add(s.plugin)
            return [], diagnosis
        if pod.status.nominated_node_name:
            self._reference_states(fwk, prof, cycle)
            info = snapshot.node_info_map.get(pod.status.nominated_node_name)
            if info is not None:
                feasible, err = ReferenceEngine().find_nodes_that_pass_filters(sched, fwk, state, pod, diagnosis,
                                                                               [info])
                if err is None and feasible:
                    self._feasible(cycle, feasible)
                    return feasible, diagnosis
        rows = table.node_index
        if pre_result is not None:
            for name in sorted(pre_result.node_names):
                if name not in snapshot.node_info_map:
                    raise SchedulingError(f'nodeinfo not found for node name "{name}"')
            rows = np.array(sorted(table.index[name] for name in pre_result.node_names), dtype=np.int64)
        feasible_rows, err = self._find_nodes_that_pass_filters(sched, fwk, prof, cycle, diagnosis, rows)
        processed = len(feasible_rows) + len(diagnosis.node_to_status)
        sched.next_start_node_index = (sched.next_start_node_index + processed) % len(rows)
        if err is not None:
            raise err
        feasible = NodeRows(table.infos, feasible_rows)
        if not feasible:
            self._reference_states(fwk, prof, cycle)  # PostFilter (preemption) reads them
        cycle.nodes, cycle.rows = feasible, feasible_rows
        return feasible, diagnosis

    def _feasible(self, cycle: PodCycle, nodes: list[NodeInfo]) -> None:
        cycle.nodes = nodes
        cycle.rows = np.array([self.table.index[n.name] for n in nodes], dtype=np.int64)

    def _filter_verdicts(self, prof: _Profile, cycle: PodCycle) -> tuple[np.ndarray | None, np.ndarray, list]:
        """Each node's first rejecting Filter plugin (index into the active plugins, -1 when
        all pass; None when every node passes) and that plugin's code; and the active
        (plugin, outcome) pairs."""
        n = cycle.table.n
        first: np.ndarray | None = None
        codes = np.zeros(0, dtype=np.int64)
        active: list[tuple[Any, FilterOutcome | None]] = []
        skip = cycle.state.skip_filter_plugins
        for pl, form in prof.filter:
            if pl.name in skip:
                continue
            out = form.filter(cycle)
            k = len(active)
            active.append((pl, out))
            if out is None or not out.codes.any():
                continue
            if first is None:
                first, codes = np.full(n, -1, dtype=np.int64), np.zeros(n, dtype=np.int64)
            new = (first < 0) & (out.codes != 0)
            first[new] = k
            codes[new] = out.codes[new]
        return first, codes, active

    def _nominated_rows(self, fwk: Framework, pod: Pod) -> set[int]:
        """Nodes where ``addNominatedPods`` adds pods: nominated pods of equal or higher
        priority, other than the pod itself."""
        table = self.table
        nominator = getattr(fwk.nominator, "nominator", None)
        by_node = getattr(nominator, "nominated_pods", None)
        names = (name for name, infos in by_node.items() if infos) if by_node is not None else table.names
        priority, uid = pod_priority(pod), pod.metadata.uid
        rows = set()
        for name in names:
            i = table.index.get(name)
            if i is not None and any(pod_priority(pi.pod) >= priority and pi.pod.metadata.uid != uid
                                     for pi in fwk.nominated_pods_for_node(name)):
                rows.add(i)
        return rows

    def _find_nodes_that_pass_filters(self, sched: Any, fwk: Framework, prof: _Profile, cycle: PodCycle,
                                      diagnosis: Diagnosis, rows: np.ndarray) -> tuple[np.ndarray, PluginError | None]:
        """``findNodesThatPassFilters`` over the nodes ``rows`` (table indices, in list
        order): the feasible rows in evaluation order; statuses go to the diagnosis in
        evaluation order."""
        from kbook.scheduler.schedule_one import num_feasible_nodes_to_find

        n = len(rows)
        num_to_find = num_feasible_nodes_to_find(fwk.percentage_of_nodes_to_score, n,
                                                 sched.percentage_of_nodes_to_score)
        table = self.table
        start = sched.next_start_node_index % n
        if rows is table.node_index:
            order = table.rotation[start:start + n]
        else:
            order = rows[(start + np.arange(n)) % n]
        if not fwk.has_filter_plugins():
            return order[:num_to_find], None
        if prof.all_filters_arrays:
            first, codes, active = self._filter_verdicts(prof, cycle)
            per_node = self._nominated_rows(fwk, cycle.pod)
            if first is None:
                if not per_node:  # every node passes
                    return order[:num_to_find], None
                first = np.full(table.n, -1, dtype=np.int64)
        else:  # a Filter plugin runs per node, so every node is checked by the framework
            first, codes, active = np.full(table.n, -1, dtype=np.int64), np.zeros(table.n, dtype=np.int64), []
            per_node = set(order.tolist())
        passes = first[order] < 0
        stops = (np.flatnonzero(np.isin(order, list(per_node))).tolist() if per_node else []) + [n]
        feasible: list[np.ndarray] = []
        found = pos = 0
        for stop in stops:
            # the array verdicts of order[pos:stop], up to the node that makes num_to_find
            end = stop
            if stop > pos:
                cum = np.cumsum(passes[pos:stop])
                if found + int(cum[-1]) >= num_to_find:
                    end = pos + int(np.searchsorted(cum, num_to_find - found)) + 1
            taken, ok = order[pos:end], passes[pos:end]
            feasible.append(taken[ok])
            self._record_array_failures(diagnosis, taken[~ok], first, codes, active)
            found += int(ok.sum())
            if found >= num_to_find or stop == n:
                break
            # a node the framework checks itself
            self._reference_states(fwk, prof, cycle)
            row = int(order[stop])
            s = fwk.run_filter_plugins_with_nominated_pods(cycle.state, cycle.pod, table.infos[row])
            pos = stop + 1
            if s is not None and s.code == Code.ERROR:
                return np.concatenate(feasible), PluginError(s.message())
            if is_success(s):
                feasible.append(np.array([row], dtype=np.int64))
                found += 1
                if found >= num_to_find:
                    break
            else:
                self._record(diagnosis, table.names[row], s)
        return np.concatenate(feasible), None

    @staticmethod
    def _record(diagnosis: Diagnosis, name: str, s: Status) -> None:
        diagnosis.node_to_status[name] = s
        if s.plugin:
            diagnosis.unschedulable_plugins.add(s.plugin)

    def _record_array_failures(self, diagnosis: Diagnosis, rows: np.ndarray, first: np.ndarray,
                               codes: np.ndarray, active: list) -> None:
        """The statuses of rows the array Filters rejected (one Status per plugin and code,
        with the plugin set as the framework sets it)."""
        if not len(rows):
            return
        statuses: dict[tuple[int, int], Status] = {}
        names = self.table.names
        for row, k, code in zip(rows.tolist(), first[rows].tolist(), codes[rows].tolist()):
            s = statuses.get((k, code))
            if s is None:
                pl, out = active[k]
                base = out.status(code)
                s = statuses[k, code] = Status(base.code, list(base.reasons), pl.name)
            self._record(diagnosis, names[row], s)

    # -- prioritizeNodes -----------------------------------------------------------------

    def prioritize_nodes(self, sched: Any, fwk: Framework, state: CycleState, pod: Pod,
                         nodes: list[NodeInfo]) -> Sequence[NodePluginScores]:
        """``prioritizeNodes``: PreScore, Score, NormalizeScore, the range check and the
        weights, with array forms where plugins have them. Raises :class:`PluginError`."""
        if not fwk.has_score_plugins():
            return [NodePluginScores(n.name, [], 1) for n in nodes]
        cycle = self._cycle
        if cycle is None or cycle.state is not state or cycle.pod is not pod:
            self.sync(sched.snapshot)
            cycle = self._cycle = PodCycle(pod, state, self.table, fwk)
        if cycle.nodes is not nodes:
            self._feasible(cycle, nodes)
        prof = self._profile(fwk)
        rows = cycle.rows
        if not prof.all_scores_arrays:
            self._reference_states(fwk, prof, cycle)
        skip: set[str] = set()
        try:
            for pl, form in prof.pre_score:
                s = form.pre_score(cycle, rows) if form is not None else pl.pre_score(state, pod, nodes)
                if s is not None and s.code == Code.SKIP:
                    skip.add(pl.name)
                    continue
                if not is_success(s):
                    raise PluginError(f"running PreScore plugin {_go_quote(pl.name)}: {s.message()}")
        finally:
            state.skip_score_plugins = skip
        plugins = [(pl, w, form) for pl, w, form in prof.score if pl.name not in skip]
        raw = self._scores(cycle, plugins, nodes)
        for k, (pl, _, form) in enumerate(plugins):
            if form is not None:
                normalize = getattr(form, "normalize_score", None)
                if normalize is not None:
                    raw[k] = normalize(cycle, rows, raw[k])
                continue
            normalize = getattr(pl, "normalize_score", None)
            if normalize is None:
                continue
            scores = [NodeScore(n.name, int(v)) for n, v in zip(nodes, raw[k].tolist())]
            s = normalize(state, pod, scores)
            if not is_success(s):
                raise PluginError(f"running Normalize on Score plugins: plugin {_go_quote(pl.name)} "
                                  f"failed with: {s.message()}")
            raw[k] = np.array([x.score for x in scores], dtype=np.int64)
        matrix = np.array(raw, dtype=np.int64).reshape(len(plugins), len(nodes))
        if matrix.size and (matrix.min() < MIN_NODE_SCORE or matrix.max() > MAX_NODE_SCORE):
            bad = (matrix > MAX_NODE_SCORE) | (matrix < MIN_NODE_SCORE)
            i = int(np.flatnonzero(bad.any(axis=0))[0])
            k = int(np.flatnonzero(bad[:, i])[0])
            raise PluginError(f"applying score defaultWeights on Score plugins: plugin {_go_quote(plugins[k][0].name)} "
                              f"returns an invalid score {int(matrix[k, i])}, it should in the range of "
                              f"[{MIN_NODE_SCORE}, {MAX_NODE_SCORE}] after normalizing")
        names, weights = prof.weights(plugins)
        weighted = matrix * weights
        return NodeScoreTable(self.table.names, rows, names, weighted, weighted.sum(axis=0))

    @staticmethod
    def _scores(cycle: PodCycle, plugins: list, nodes: list[NodeInfo]) -> list[np.ndarray]:
        """Each plugin's raw scores; the per-node plugins node by node, as the framework
        does (so the first error is the framework's)."""
        raw: list[np.ndarray | None] = [None] * len(plugins)
        per_node = [k for k, (_, _, form) in enumerate(plugins) if form is None]
        if per_node:
            values = {k: [] for k in per_node}
            for info in nodes:
                for k in per_node:
                    pl = plugins[k][0]
                    score, s = pl.score(cycle.state, cycle.pod, info)
                    if not is_success(s):
                        raise PluginError(f"running Score plugins: plugin {_go_quote(pl.name)} "
                                          f"failed with: {s.message()}")
                    values[k].append(score)
            for k in per_node:
                raw[k] = np.array(values[k], dtype=np.int64)
        for k, (_, _, form) in enumerate(plugins):
            if form is not None:
                raw[k] = np.asarray(form.score(cycle, cycle.rows), dtype=np.int64)
        return raw  # type: ignore[return-value]
