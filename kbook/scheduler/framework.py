"""One profile's runtime: ``frameworkImpl`` (``pkg/scheduler/framework/runtime/framework.go``).

A :class:`Framework` builds the profile's plugins from a registry (``NewFramework``:
explicit extension points first, then MultiPoint expanded into every point a plugin
implements, score weights defaulting to 1), runs each extension point with upstream's
semantics and messages, and is the plugins' ``Handle``: it forwards what only the
embedding world can do (list Services, post a binding, delete a victim, set a nominated
node) to a :class:`SchedulerHost`.

Plugins run one after another here where upstream runs nodes in parallel; where that
changes an order (the first Score error among nodes) the sequential order is the node
order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping, Protocol, Sequence

import numpy as np

from kbook.api import Pod
from kbook.errors import KbookError
from kbook.scheduler.config import (
    DEFAULT_PARALLELISM, NOT_MODELLED, ConfigError, Plugin, Plugins, PluginSet, Profile, not_modelled_reason,
)
from kbook.scheduler.cyclestate import CycleState
from kbook.scheduler.interface import PluginFactory
from kbook.scheduler.registry import IN_TREE_REGISTRY
from kbook.scheduler.snapshot import Snapshot
from kbook.scheduler.status import MAX_NODE_SCORE, MAX_TOTAL_SCORE, MIN_NODE_SCORE, Code, Status, is_success
from kbook.scheduler.types import (
    NodeInfo, NodePluginScores, NodeScore, PluginScore, PodInfo, PostFilterResult, PreFilterResult, pod_priority,
)

__all__ = [
    "MAX_PERMIT_TIMEOUT",
    "PluginError",
    "SchedulerHost",
    "StaticHost",
    "Nominator",
    "WaitingPod",
    "Framework",
    "go_duration",
]

MAX_PERMIT_TIMEOUT = 15 * 60.0  # maxTimeout: a Permit plugin may make a pod wait at most 15 minutes


class PluginError(KbookError):
    """A plugin's ``Error`` status turned into an error of the cycle (``Status.AsError``),
    e.g. ``running Score plugins: plugin "X" failed with: ...``."""

    def __init__(self, message: str) -> None:
        self.status = Status(Code.ERROR, [message])
        super().__init__(message)


class SchedulerHost(Protocol):
    """What the world around the scheduler provides (the API server, through client-go
    in upstream): listing objects the default plugins read, posting a binding, deleting
    a preemption victim, writing ``status.nominatedNodeName``."""

    def objects(self, kind: str) -> list[Any]: ...

    def bind_pod(self, pod: Pod, node_name: str) -> None: ...

    def delete_pod(self, pod: Pod) -> None: ...

    def set_nominated_node_name(self, pod: Pod, node_name: str) -> None: ...


class StaticHost:
    """A :class:`SchedulerHost` over fixed objects that records what the scheduler asked
    for: ``bindings`` (pod, node), ``deleted`` pods and ``nominations`` (pod, node)."""

    def __init__(self, objects: Mapping[str, Iterable[Any]] | None = None) -> None:
        self._objects = {kind: list(items) for kind, items in (objects or {}).items()}
        self.bindings: list[tuple[Pod, str]] = []
        self.deleted: list[Pod] = []
        self.nominations: list[tuple[Pod, str]] = []

    def objects(self, kind: str) -> list[Any]:
        return list(self._objects.get(kind, ()))

    def bind_pod(self, pod: Pod, node_name: str) -> None:
        self.bindings.append((pod, node_name))

    def delete_pod(self, pod: Pod) -> None:
        self.deleted.append(pod)

    def set_nominated_node_name(self, pod: Pod, node_name: str) -> None:
        self.nominations.append((pod, node_name))


class Nominator(Protocol):
    """``framework.PodNominator`` as the framework reads it (the scheduling queue)."""

    def nominated_pods_for_node(self, node_name: str) -> list[PodInfo]: ...


def go_duration(seconds: float) -> str:
    """Go's ``time.Duration.String()``: ``10s``, ``1m30s``, ``15m0s``, ``1.5s``, ``500ms``."""
    ns = round(seconds * 1e9)
    sign, u = ("-" if ns < 0 else ""), abs(ns)
    if u == 0:
        return "0s"
    if u < 1_000_000_000:
        scale, unit = ((1, "ns") if u < 1_000 else (1_000, "µs") if u < 1_000_000 else (1_000_000, "ms"))
        return sign + _with_fraction(u, scale) + unit
    secs = _with_fraction(u % 60_000_000_000, 1_000_000_000) + "s"
    minutes, hours = (u // 60_000_000_000) % 60, u // 3_600_000_000_000
    if hours:
        return f"{sign}{hours}h{minutes}m{secs}"
    if u >= 60_000_000_000:
        return f"{sign}{minutes}m{secs}"
    return sign + secs


def _with_fraction(value: int, scale: int) -> str:
    whole, frac = divmod(value, scale)
    if not frac:
        return str(whole)
    digits = str(frac).rjust(len(str(scale)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}"


def _go_quote(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


class WaitingPod:
    """``waitingPod``: a pod a Permit plugin told to wait. Each waiting plugin must
    ``allow`` it; one ``reject`` (or the first plugin timer to expire) rejects it."""

    def __init__(self, pod: Pod, plugin_timeouts: Mapping[str, float]) -> None:
        self.pod = pod
        self.timeouts = dict(plugin_timeouts)
        self._pending = dict(plugin_timeouts)
        self._decided = False
        self._status: Status | None = None

    @property
    def pending_plugins(self) -> list[str]:
        """``GetPendingPlugins``."""
        return list(self._pending)

    @property
    def decided(self) -> bool:
        """Whether every plugin allowed the pod, or one rejected it."""
        return self._decided

    @property
    def status(self) -> Status | None:
        """The decision: ``None`` when allowed, an Unschedulable status when rejected."""
        return self._status

    def allow(self, plugin: str) -> None:
        """``Allow``: the pod may go once no plugin is pending."""
        self._pending.pop(plugin, None)
        if not self._pending and not self._decided:
            self._decided = True

    def reject(self, plugin: str, message: str) -> None:
        """``Reject``: the first decision wins."""
        if not self._decided:
            self._decided, self._status = True, Status(Code.UNSCHEDULABLE, [message], plugin)

    def expire(self) -> None:
        """The first pending plugin's timer fires: rejected after waiting its timeout."""
        if self._decided or not self._pending:
            return
        plugin = min(self._pending, key=lambda p: self._pending[p])
        wait = self._pending[plugin]
        self.reject(plugin, f"rejected due to timeout after waiting {go_duration(wait)} at plugin {plugin}")


# (wire name, method, Go interface) in getExtensionPoints order.
_EXTENSION_POINTS = (
    ("preFilter", "pre_filter", "PreFilterPlugin"),
    ("filter", "filter", "FilterPlugin"),
    ("postFilter", "post_filter", "PostFilterPlugin"),
    ("reserve", "reserve", "ReservePlugin"),
    ("preScore", "pre_score", "PreScorePlugin"),
    ("score", "score", "ScorePlugin"),
    ("preBind", "pre_bind", "PreBindPlugin"),
    ("bind", "bind", "BindPlugin"),
    ("postBind", "post_bind", "PostBindPlugin"),
    ("permit", "permit", "PermitPlugin"),
    ("preEnqueue", "pre_enqueue", "PreEnqueuePlugin"),
    ("queueSort", "less", "QueueSortPlugin"),
)


def _implements(plugin: Any, method: str) -> bool:
    if method == "reserve":
        return callable(getattr(plugin, "reserve", None)) and callable(getattr(plugin, "unreserve", None))
    return callable(getattr(plugin, method, None))


def _plugins_needed(plugins: Plugins) -> set[str]:
    """``pluginsNeeded``: every plugin enabled at some point or through MultiPoint."""
    return {p.name for wire, _, _ in _EXTENSION_POINTS for p in plugins.point(wire).enabled} | {
        p.name for p in plugins.multi_point.enabled}


@dataclass
class _Point:
    """The plugins of one extension point, in order."""

    wire: str
    method: str
    interface: str
    plugins: list[Any] = field(default_factory=list)


class Framework:
    """``frameworkImpl``: a profile's plugins per extension point, and the runs."""

    def __init__(self, profile: Profile, registry: Mapping[str, PluginFactory] | None = None, *,
                 host: SchedulerHost | None = None, rng: np.random.Generator | None = None,
                 snapshot: Snapshot | None = None, nominator: Nominator | None = None,
                 parallelism: int = DEFAULT_PARALLELISM) -> None:
        """``NewFramework``. ``registry`` defaults to the in-tree registry; ``rng``
        defaults to a generator seeded with 0 (reproducible, never global)."""
        if registry is None:
            registry = IN_TREE_REGISTRY
        self.profile = profile
        self.profile_name = profile.scheduler_name
        self.percentage_of_nodes_to_score = profile.percentage_of_nodes_to_score
        self.host: SchedulerHost = host if host is not None else StaticHost()
        self.rng = rng if rng is not None else np.random.default_rng(0)
        self.snapshot = snapshot if snapshot is not None else Snapshot([])
        self.nominator = nominator
        self.parallelism = parallelism
        self.waiting_pods: dict[str, WaitingPod] = {}
        self._plugins: dict[str, Any] = {}
        self._points = {wire: _Point(wire, method, iface) for wire, method, iface in _EXTENSION_POINTS}
        self.score_weights: dict[str, int] = {}
        self._build(profile, registry)

    # -- construction -----------------------------------------------------------------

    def _build(self, profile: Profile, registry: Mapping[str, PluginFactory]) -> None:
        plugins = profile.plugins
        needed = _plugins_needed(plugins)
        args: dict[str, dict[str, Any]] = {}
        for pc in profile.plugin_config:
            if pc.name in args:
                raise ConfigError(f"repeated config for plugin {pc.name}")
            args[pc.name] = pc.args
        for name in sorted(needed):
            if name in NOT_MODELLED and name not in registry:
                raise ConfigError(not_modelled_reason(name))
        for name, factory in registry.items():
            if name not in needed:
                continue
            try:
                self._plugins[name] = factory(dict(args.get(name, {})), self)
            except ConfigError as e:
                raise ConfigError(f'initializing plugin "{name}": {e}') from None
        for point in self._points.values():
            self._update_plugin_list(point, plugins.point(point.wire))
        if plugins.multi_point.enabled:
            self._expand_multi_point(plugins)
        queue_sort = self._points["queueSort"].plugins
        if len(queue_sort) != 1:
            raise ConfigError(f"only one queue sort plugin required for profile with scheduler name "
                              f"{_go_quote(self.profile_name)}, but got {len(queue_sort)}")
        if not self._points["bind"].plugins:
            raise ConfigError(f"at least one bind plugin is needed for profile with scheduler name "
                              f"{_go_quote(self.profile_name)}")
        self._set_score_weights(plugins.score.enabled + plugins.multi_point.enabled)
        for pl in self._points["score"].plugins:
            if self.score_weights.get(pl.name, 0) == 0:
                raise ConfigError(f"score plugin {_go_quote(pl.name)} is not configured with weight")

    def _lookup(self, point: _Point, name: str) -> Any:
        try:
            return self._plugins[name]
        except KeyError:
            raise ConfigError(f"{point.interface} {_go_quote(name)} does not exist") from None

    def _update_plugin_list(self, point: _Point, plugin_set: PluginSet) -> None:
        """``updatePluginList``: the explicitly enabled plugins of one point."""
        seen: set[str] = set()
        for p in plugin_set.enabled:
            pl = self._lookup(point, p.name)
            if not _implements(pl, point.method):
                raise ConfigError(f"plugin {_go_quote(p.name)} does not extend {point.interface} plugin")
            if p.name in seen:
                raise ConfigError(f"plugin {_go_quote(p.name)} already registered as {_go_quote(point.interface)}")
            seen.add(p.name)
            point.plugins.append(pl)

    def _expand_multi_point(self, plugins: Plugins) -> None:
        """``expandMultiPointPlugins``: per point, plugins named explicitly there and in
        MultiPoint keep their explicit place first, then the MultiPoint ones, then the
        remaining explicit ones; a point disabling ``*`` takes none."""
        for point in self._points.values():
            plugin_set = plugins.point(point.wire)
            enabled = [p.name for p in plugin_set.enabled]
            disabled = {p.name for p in plugin_set.disabled}
            if "*" in disabled:
                continue
            multi: list[str] = []
            overrides: set[str] = set()
            for p in plugins.multi_point.enabled:
                pl = self._lookup(point, p.name)
                if not _implements(pl, point.method) or p.name in disabled:
                    continue
                if p.name in enabled:
                    overrides.add(p.name)
                    continue
                if p.name in multi:
                    raise ConfigError(f"plugin {_go_quote(p.name)} already registered as {_go_quote(point.interface)}")
                multi.append(p.name)
            order = ([n for n in enabled if n in overrides] + multi + [n for n in enabled if n not in overrides])
            point.plugins = [self._plugins[n] for n in order]

    def _set_score_weights(self, configured: Sequence[Plugin]) -> None:
        """``getScoreWeights``: the first configured weight of each Score plugin (explicit
        Score before MultiPoint); 0 means 1; the sum must not overflow int64."""
        total = 0
        for p in configured:
            pl = self._plugins.get(p.name)
            if pl is None or not _implements(pl, "score") or p.name in self.score_weights:
                continue
            weight = p.weight or 1
            self.score_weights[p.name] = weight
            if weight * MAX_NODE_SCORE > MAX_TOTAL_SCORE - total:
                raise ConfigError("total score of Score plugins could overflow")
            total += weight * MAX_NODE_SCORE

    # -- what the profile has ------------------------------------------------------------

    @property
    def pre_enqueue_plugins(self) -> list[Any]:
        return list(self._points["preEnqueue"].plugins)

    @property
    def queue_sort_plugin(self) -> Any:
        return self._points["queueSort"].plugins[0]

    @property
    def pre_filter_plugins(self) -> list[Any]:
        return list(self._points["preFilter"].plugins)

    @property
    def filter_plugins(self) -> list[Any]:
        return list(self._points["filter"].plugins)

    @property
    def post_filter_plugins(self) -> list[Any]:
        return list(self._points["postFilter"].plugins)

    @property
    def pre_score_plugins(self) -> list[Any]:
        return list(self._points["preScore"].plugins)

    @property
    def score_plugins(self) -> list[tuple[Any, int]]:
        return [(pl, self.score_weights[pl.name]) for pl in self._points["score"].plugins]

    @property
    def reserve_plugins(self) -> list[Any]:
        return list(self._points["reserve"].plugins)

    @property
    def permit_plugins(self) -> list[Any]:
        return list(self._points["permit"].plugins)

    @property
    def pre_bind_plugins(self) -> list[Any]:
        return list(self._points["preBind"].plugins)

    @property
    def bind_plugins(self) -> list[Any]:
        return list(self._points["bind"].plugins)

    @property
    def post_bind_plugins(self) -> list[Any]:
        return list(self._points["postBind"].plugins)

    def plugin(self, name: str) -> Any:
        """A plugin of this profile by name; KeyError if it is not enabled."""
        return self._plugins[name]

    def has_filter_plugins(self) -> bool:
        return bool(self._points["filter"].plugins)

    def has_post_filter_plugins(self) -> bool:
        return bool(self._points["postFilter"].plugins)

    def has_score_plugins(self) -> bool:
        return bool(self._points["score"].plugins)

    def enqueue_extensions(self) -> list[Any]:
        """Every plugin of the profile, each of which may register cluster events
        (``fillEnqueueExtensions``)."""
        return list(self._plugins.values())

    def queue_sort_less(self, a: Any, b: Any) -> bool:
        """``QueueSortFunc``."""
        return self.queue_sort_plugin.less(a, b)

    def list_plugins(self) -> dict[str, list[Plugin]]:
        """``ListPlugins``: each point's plugins in order (Score with weights); points
        without plugins are left out."""
        out: dict[str, list[Plugin]] = {}
        for point in self._points.values():
            if point.plugins:
                out[point.wire] = [Plugin(pl.name, self.score_weights[pl.name] if point.wire == "score" else 0)
                                   for pl in point.plugins]
        return out

    # -- Handle ---------------------------------------------------------------------------

    def nominated_pods_for_node(self, node_name: str) -> list[PodInfo]:
        return self.nominator.nominated_pods_for_node(node_name) if self.nominator is not None else []

    def objects(self, kind: str) -> list[Any]:
        return self.host.objects(kind)

    def bind_pod(self, pod: Pod, node_name: str) -> None:
        self.host.bind_pod(pod, node_name)

    def delete_pod(self, pod: Pod) -> None:
        self.host.delete_pod(pod)

    def set_nominated_node_name(self, pod: Pod, node_name: str) -> None:
        self.host.set_nominated_node_name(pod, node_name)

    def get_waiting_pod(self, uid: str) -> WaitingPod | None:
        """``GetWaitingPod``."""
        return self.waiting_pods.get(uid)

    def iterate_over_waiting_pods(self) -> Iterator[WaitingPod]:
        """``IterateOverWaitingPods``."""
        return iter(list(self.waiting_pods.values()))

    def reject_waiting_pod(self, uid: str) -> bool:
        """``RejectWaitingPod``: rejects it as ``removed``; False if it was not waiting."""
        wp = self.waiting_pods.get(uid)
        if wp is None:
            return False
        wp.reject("", "removed")
        return True

    # -- PreFilter and Filter -------------------------------------------------------------

    def run_pre_filter_plugins(self, state: CycleState, pod: Pod,
                               run: Callable[[Any], tuple[PreFilterResult | None, Status | None]] | None = None,
                               ) -> tuple[PreFilterResult | None, Status | None]:
        """``RunPreFilterPlugins``: Skip excludes the plugin's Filter this cycle; a
        rejection stops at once (with the plugin set); an empty intersection of the
        plugins' node sets is Unschedulable ``node(s) didn't satisfy plugin(s) [..]``.
        ``run(plugin)`` stands in for ``plugin.pre_filter`` (the array engine's forms)."""
        skip: set[str] = set()
        result = PreFilterResult()
        plugins_with_nodes: list[str] = []
        try:
            for pl in self._points["preFilter"].plugins:
                r, s = pl.pre_filter(state, pod) if run is None else run(pl)
                if s is not None and s.code == Code.SKIP:
                    skip.add(pl.name)
                    continue
                if not is_success(s):
                    if s.is_rejected():
                        return None, Status(s.code, list(s.reasons), pl.name)
                    return None, Status(Code.ERROR, [f"running PreFilter plugin {_go_quote(pl.name)}: {s.message()}"],
                                        pl.name)
                if r is not None and not r.all_nodes():
                    plugins_with_nodes.append(pl.name)
                result = result.merge(r)
                if not result.all_nodes() and not result.node_names:
                    if len(plugins_with_nodes) == 1:
                        msg = f"node(s) didn't satisfy plugin {plugins_with_nodes[0]}"
                    else:
                        msg = f"node(s) didn't satisfy plugin(s) [{' '.join(plugins_with_nodes)}] simultaneously"
                    return None, Status.of(Code.UNSCHEDULABLE, msg)
            return (None if result.all_nodes() else result), None
        finally:
            state.skip_filter_plugins = skip

    def run_pre_filter_extension_add_pod(self, state: CycleState, pod: Pod, pod_info_to_add: PodInfo,
                                         node_info: NodeInfo) -> Status | None:
        """``RunPreFilterExtensionAddPod``."""
        return self._run_extension(state, pod, pod_info_to_add, node_info, "add_pod", "AddPod")

    def run_pre_filter_extension_remove_pod(self, state: CycleState, pod: Pod, pod_info_to_remove: PodInfo,
                                            node_info: NodeInfo) -> Status | None:
        """``RunPreFilterExtensionRemovePod``."""
        return self._run_extension(state, pod, pod_info_to_remove, node_info, "remove_pod", "RemovePod")

    def _run_extension(self, state: CycleState, pod: Pod, pod_info: PodInfo, node_info: NodeInfo,
                       method: str, go_name: str) -> Status | None:
        for pl in self._points["preFilter"].plugins:
            ext = pl.pre_filter_extensions() if callable(getattr(pl, "pre_filter_extensions", None)) else None
            if ext is None or pl.name in state.skip_filter_plugins:
                continue
            s = getattr(ext, method)(state, pod, pod_info, node_info)
            if not is_success(s):
                return Status(Code.ERROR, [f"running {go_name} on PreFilter plugin {_go_quote(pl.name)}: {s.message()}"])
        return None

    def run_filter_plugins(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Status | None:
        """``RunFilterPlugins``: the first plugin that does not pass decides (its status,
        with ``plugin`` set; a non-rejection becomes an Error)."""
        for pl in self._points["filter"].plugins:
            if pl.name in state.skip_filter_plugins:
                continue
            s = pl.filter(state, pod, node_info)
            if not is_success(s):
                if not s.is_rejected():
                    return Status(Code.ERROR, [f"running {_go_quote(pl.name)} filter plugin: {s.message()}"], pl.name)
                return Status(s.code, list(s.reasons), pl.name)
        return None

    def run_filter_plugins_with_nominated_pods(self, state: CycleState, pod: Pod,
                                               node_info: NodeInfo) -> Status | None:
        """``RunFilterPluginsWithNominatedPods``: when pods of equal or higher priority
        are nominated to the node, filters run with them added and, if that passes,
        again without them; the pod must fit both ways."""
        status: Status | None = None
        pods_added = False
        for i in range(2):
            state_to_use, info_to_use = state, node_info
            if i == 0:
                try:
                    pods_added, state_to_use, info_to_use = self._add_nominated_pods(pod, state, node_info)
                except PluginError as e:
                    return e.status
            elif not pods_added or not is_success(status):
                break
            status = self.run_filter_plugins(state_to_use, pod, info_to_use)
            if not is_success(status) and not status.is_rejected():
                return status
        return status

    def _add_nominated_pods(self, pod: Pod, state: CycleState,
                            node_info: NodeInfo) -> tuple[bool, CycleState, NodeInfo]:
        """``addNominatedPods``: a copy of the node and state with the nominated pods of
        equal or higher priority (other than the pod itself) added."""
        if node_info.node is None:
            return False, state, node_info
        nominated = self.nominated_pods_for_node(node_info.name)
        if not nominated:
            return False, state, node_info
        info_out, state_out = node_info.clone(), state.clone()
        added = False
        for pi in nominated:
            if pod_priority(pi.pod) >= pod_priority(pod) and pi.pod.metadata.uid != pod.metadata.uid:
                info_out.add_pod(pi)
                s = self.run_pre_filter_extension_add_pod(state_out, pod, pi, info_out)
                if not is_success(s):
                    raise PluginError(s.message())
                added = True
        return added, state_out, info_out

    def run_post_filter_plugins(self, state: CycleState, pod: Pod,
                                statuses: Mapping[str, Status]) -> tuple[PostFilterResult | None, Status | None]:
        """``RunPostFilterPlugins``: the first plugin that makes the pod schedulable wins;
        otherwise Unschedulable with every plugin's reasons and the first failed plugin."""
        result: PostFilterResult | None = None
        reasons: list[str] = []
        failed = ""
        for pl in self._points["postFilter"].plugins:
            r, s = pl.post_filter(state, pod, statuses)
            if is_success(s):
                return r, s
            if s.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE:
                return r, Status(s.code, list(s.reasons), pl.name)
            if not s.is_rejected():
                return None, Status(Code.ERROR, [s.message()], pl.name)
            if r is not None:
                result = r
            reasons += s.reasons
            failed = failed or pl.name
        return result, Status(Code.UNSCHEDULABLE, reasons, failed)

    # -- PreScore and Score ---------------------------------------------------------------

    def run_pre_score_plugins(self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]) -> Status | None:
        """``RunPreScorePlugins``: Skip excludes the plugin from Score this cycle."""
        skip: set[str] = set()
        try:
            for pl in self._points["preScore"].plugins:
                s = pl.pre_score(state, pod, nodes)
                if s is not None and s.code == Code.SKIP:
                    skip.add(pl.name)
                    continue
                if not is_success(s):
                    return Status(Code.ERROR, [f"running PreScore plugin {_go_quote(pl.name)}: {s.message()}"])
            return None
        finally:
            state.skip_score_plugins = skip

    def run_score_plugins(self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]) -> list[NodePluginScores]:
        """``RunScorePlugins``: score every node with every plugin not skipped, normalize
        per plugin, check the range [0, 100], weight and sum. Raises :class:`PluginError`."""
        plugins = [pl for pl in self._points["score"].plugins if pl.name not in state.skip_score_plugins]
        per_plugin: dict[str, list[NodeScore]] = {}
        for pl in plugins:
            per_plugin[pl.name] = [NodeScore(n.name, 0) for n in nodes]
        for i, node_info in enumerate(nodes):
            for pl in plugins:
                score, s = pl.score(state, pod, node_info)
                if not is_success(s):
                    raise PluginError(f"running Score plugins: plugin {_go_quote(pl.name)} failed with: {s.message()}")
                per_plugin[pl.name][i].score = score
        for pl in plugins:
            normalize = getattr(pl, "normalize_score", None)
            if normalize is None:
                continue
            s = normalize(state, pod, per_plugin[pl.name])
            if not is_success(s):
                raise PluginError(f"running Normalize on Score plugins: plugin {_go_quote(pl.name)} "
                                  f"failed with: {s.message()}")
        out = []
        for i, node_info in enumerate(nodes):
            scores = []
            total = 0
            for pl in plugins:
                score = per_plugin[pl.name][i].score
                if score > MAX_NODE_SCORE or score < MIN_NODE_SCORE:
                    raise PluginError(f"applying score defaultWeights on Score plugins: plugin {_go_quote(pl.name)} "
                                      f"returns an invalid score {score}, it should in the range of "
                                      f"[{MIN_NODE_SCORE}, {MAX_NODE_SCORE}] after normalizing")
                weighted = score * self.score_weights[pl.name]
                scores.append(PluginScore(pl.name, weighted))
                total += weighted
            out.append(NodePluginScores(node_info.name, scores, total))
        return out

    # -- Reserve, Permit, binding ---------------------------------------------------------

    def run_reserve_plugins_reserve(self, state: CycleState, pod: Pod, node_name: str) -> Status | None:
        """``RunReservePluginsReserve``: stops at the first failure; a rejection keeps its
        code (with the plugin), anything else becomes an Error."""
        for pl in self._points["reserve"].plugins:
            s = pl.reserve(state, pod, node_name)
            if not is_success(s):
                if s.is_rejected():
                    return Status(s.code, list(s.reasons), pl.name)
                return Status(Code.ERROR, [f"running Reserve plugin {_go_quote(pl.name)}: {s.message()}"])
        return None

    def run_reserve_plugins_unreserve(self, state: CycleState, pod: Pod, node_name: str) -> None:
        """``RunReservePluginsUnreserve``: every Reserve plugin, in reverse order."""
        for pl in reversed(self._points["reserve"].plugins):
            pl.unreserve(state, pod, node_name)

    def run_permit_plugins(self, state: CycleState, pod: Pod, node_name: str) -> tuple[Status | None, float]:
        """``RunPermitPlugins``: a rejection or error stops at once; plugins asking to
        Wait (each at most :data:`MAX_PERMIT_TIMEOUT`) make the pod a :class:`WaitingPod`
        and return Wait with the time the host should wait before the binding cycle
        (the first plugin timeout), else ``(None, 0.0)``."""
        waits: dict[str, float] = {}
        for pl in self._points["permit"].plugins:
            s, timeout = pl.permit(state, pod, node_name)
            if is_success(s):
                continue
            if s.is_rejected():
                return Status(s.code, list(s.reasons), pl.name), 0.0
            if s.code == Code.WAIT:
                waits[pl.name] = min(timeout, MAX_PERMIT_TIMEOUT)
                continue
            return Status(Code.ERROR, [f"running Permit plugin {_go_quote(pl.name)}: {s.message()}"], pl.name), 0.0
        if waits:
            self.waiting_pods[pod.metadata.uid] = WaitingPod(pod, waits)
            msg = f"one or more plugins asked to wait and no plugin rejected pod {_go_quote(pod.metadata.name)}"
            return Status.of(Code.WAIT, msg), min(waits.values())
        return None, 0.0

    def wait_on_permit(self, pod: Pod) -> Status | None:
        """``WaitOnPermit``: the decision on a waiting pod. The host calls the binding
        cycle once the plugins decided or the wait it was given is over; a pod still
        pending then has hit its first plugin timeout."""
        wp = self.waiting_pods.pop(pod.metadata.uid, None)
        if wp is None:
            return None
        wp.expire()
        return wp.status

    def run_pre_bind_plugins(self, state: CycleState, pod: Pod, node_name: str) -> Status | None:
        """``RunPreBindPlugins``."""
        for pl in self._points["preBind"].plugins:
            s = pl.pre_bind(state, pod, node_name)
            if not is_success(s):
                if s.is_rejected():
                    return Status(s.code, list(s.reasons), pl.name)
                return Status(Code.ERROR, [f"running PreBind plugin {_go_quote(pl.name)}: {s.message()}"])
        return None

    def run_bind_plugins(self, state: CycleState, pod: Pod, node_name: str) -> Status | None:
        """``RunBindPlugins``: the first plugin that does not Skip binds; Skip from all
        of them (or no plugin) is returned as Skip."""
        status: Status | None = Status.of(Code.SKIP)
        for pl in self._points["bind"].plugins:
            status = pl.bind(state, pod, node_name)
            if status is not None and status.code == Code.SKIP:
                continue
            if not is_success(status):
                if status.is_rejected():
                    return Status(status.code, list(status.reasons), pl.name)
                return Status(Code.ERROR, [f"running Bind plugin {_go_quote(pl.name)}: {status.message()}"])
            return status
        return status

    def run_post_bind_plugins(self, state: CycleState, pod: Pod, node_name: str) -> None:
        """``RunPostBindPlugins``: informational, every plugin."""
        for pl in self._points["postBind"].plugins:
            pl.post_bind(state, pod, node_name)

    def __repr__(self) -> str:
        return f"Framework({self.profile_name!r})"
