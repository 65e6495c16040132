"""Fake plugins for the framework and cycle tests, after upstream's
``pkg/scheduler/testing/fake_plugins.go`` and the ``TestPlugin`` of
``framework/runtime/framework_test.go``: every extension point returns the status it
was told to, and each plugin counts its calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from kbook.api import Container, Node, ObjectMeta, Pod, ResourceRequirements
from kbook.quantity import Quantity
from kbook.scheduler.config import Plugin, Plugins, PluginSet, Profile
from kbook.scheduler.cyclestate import CycleState
from kbook.scheduler.framework import Framework
from kbook.scheduler.status import Code, Status
from kbook.scheduler.types import NodeInfo, NodeScore, PostFilterResult, PreFilterResult

INJECT_REASON = "injected status"  # injectReason
INJECT_FILTER_REASON = "injected filter status"  # injectFilterReason
QUEUE_SORT = "no-op-queue-sort-plugin"
BIND = "bind-plugin"


def status(code: Code, reason: str = INJECT_REASON) -> Status | None:
    """``framework.NewStatus(code, reason)``; Success is returned as ``None``."""
    return None if code == Code.SUCCESS else Status.of(code, reason)


@dataclass
class Injected:
    """``injectedResult``: what each extension point of a :class:`TestPlugin` returns."""

    pre_filter: Code = Code.SUCCESS
    pre_filter_result: set[str] | None = None
    add_pod: Code = Code.SUCCESS
    remove_pod: Code = Code.SUCCESS
    filter: Code = Code.SUCCESS
    post_filter: Code = Code.SUCCESS
    post_filter_result: PostFilterResult | None = None
    pre_score: Code = Code.SUCCESS
    score: int = 0
    score_status: Code = Code.SUCCESS
    normalize: int | None = None
    normalize_status: Code = Code.SUCCESS
    reserve: Code = Code.SUCCESS
    permit: Code = Code.SUCCESS
    permit_timeout: float = 0.0
    pre_bind: Code = Code.SUCCESS
    bind: Code = Code.SUCCESS


@dataclass
class TestPlugin:
    """``TestPlugin``: implements every extension point (PreFilter with extensions, Score
    with NormalizeScore) and records its calls."""

    __test__ = False  # not a pytest class

    name: str
    inj: Injected = field(default_factory=Injected)
    calls: list[str] = field(default_factory=list)
    log: list[str] | None = None  # a list shared between plugins, to see the order of calls

    def _record(self, what: str) -> None:
        self.calls.append(what)
        if self.log is not None:
            self.log.append(f"{self.name}.{what}")

    def less(self, a: Any, b: Any) -> bool:
        return False

    def pre_enqueue(self, pod: Pod) -> Status | None:
        return None

    def pre_filter(self, state: CycleState, pod: Pod) -> tuple[PreFilterResult | None, Status | None]:
        self._record("pre_filter")
        result = None if self.inj.pre_filter_result is None else PreFilterResult(set(self.inj.pre_filter_result))
        return result, status(self.inj.pre_filter)

    def pre_filter_extensions(self) -> TestPlugin:
        return self

    def add_pod(self, state: CycleState, pod: Pod, pod_info_to_add: Any, node_info: NodeInfo) -> Status | None:
        self._record("add_pod")
        return status(self.inj.add_pod)

    def remove_pod(self, state: CycleState, pod: Pod, pod_info: Any, node_info: NodeInfo) -> Status | None:
        self._record("remove_pod")
        return status(self.inj.remove_pod)

    def filter(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Status | None:
        self._record("filter")
        return status(self.inj.filter, INJECT_FILTER_REASON)

    def post_filter(self, state: CycleState, pod: Pod, statuses: Any) -> tuple[PostFilterResult | None, Status | None]:
        self._record("post_filter")
        return self.inj.post_filter_result, Status.of(self.inj.post_filter, INJECT_REASON)

    def pre_score(self, state: CycleState, pod: Pod, nodes: Any) -> Status | None:
        self._record("pre_score")
        return status(self.inj.pre_score)

    def score(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> tuple[int, Status | None]:
        self._record("score")
        return self.inj.score, status(self.inj.score_status)

    def normalize_score(self, state: CycleState, pod: Pod, scores: list[NodeScore]) -> Status | None:
        self._record("normalize_score")
        if self.inj.normalize is not None:
            for s in scores:
                s.score = self.inj.normalize
        return status(self.inj.normalize_status)

    def reserve(self, state: CycleState, pod: Pod, node_name: str) -> Status | None:
        self._record("reserve")
        return status(self.inj.reserve)

    def unreserve(self, state: CycleState, pod: Pod, node_name: str) -> None:
        self._record("unreserve")

    def permit(self, state: CycleState, pod: Pod, node_name: str) -> tuple[Status | None, float]:
        self._record("permit")
        return status(self.inj.permit), self.inj.permit_timeout

    def pre_bind(self, state: CycleState, pod: Pod, node_name: str) -> Status | None:
        self._record("pre_bind")
        return status(self.inj.pre_bind)

    def bind(self, state: CycleState, pod: Pod, node_name: str) -> Status | None:
        self._record("bind")
        return status(self.inj.bind)

    def post_bind(self, state: CycleState, pod: Pod, node_name: str) -> None:
        self._record("post_bind")


@dataclass
class TestScorePlugin:
    """``TestScorePlugin``: PreScore and Score only (no ScoreExtensions)."""

    __test__ = False

    name: str
    inj: Injected = field(default_factory=Injected)
    calls: list[str] = field(default_factory=list)

    def pre_score(self, state: CycleState, pod: Pod, nodes: Any) -> Status | None:
        self.calls.append("pre_score")
        return status(self.inj.pre_score)

    def score(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> tuple[int, Status | None]:
        self.calls.append("score")
        return self.inj.score, status(self.inj.score_status)


@dataclass
class TestScoreWithNormalizePlugin:
    """``TestScoreWithNormalizePlugin``: Score and NormalizeScore."""

    __test__ = False

    name: str
    inj: Injected = field(default_factory=Injected)

    def score(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> tuple[int, Status | None]:
        return self.inj.score, status(self.inj.score_status)

    def normalize_score(self, state: CycleState, pod: Pod, scores: list[NodeScore]) -> Status | None:
        if self.inj.normalize is not None:
            for s in scores:
                s.score = self.inj.normalize
        return status(self.inj.normalize_status)


class QueueSortPlugin:
    """``TestQueueSortPlugin``."""

    name = QUEUE_SORT

    def less(self, a: Any, b: Any) -> bool:
        return False


class BindPlugin:
    """``TestBindPlugin``: binds through the handle."""

    name = BIND

    def __init__(self, handle: Any) -> None:
        self.handle = handle

    def bind(self, state: CycleState, pod: Pod, node_name: str) -> Status | None:
        self.handle.bind_pod(pod, node_name)
        return None


class ScoreOnly:
    """A plugin with nothing but Score (``NumericMap`` style: the node's name as a number)."""

    def __init__(self, name: str, score: Callable[[NodeInfo], int]) -> None:
        self.name = name
        self._score = score

    def score(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> tuple[int, Status | None]:
        return self._score(node_info), None


class FilterOnly:
    """A plugin with nothing but Filter, deciding by a predicate on the node."""

    def __init__(self, name: str, fits: Callable[[Pod, NodeInfo], bool], code: Code = Code.UNSCHEDULABLE,
                 reason: str = "") -> None:
        self.name = name
        self._fits = fits
        self._code = code
        self._reason = reason or f"node(s) failed Filter plugin {name}"
        self.calls = 0

    def filter(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Status | None:
        self.calls += 1
        return None if self._fits(pod, node_info) else Status.of(self._code, self._reason)


class NotAScorePlugin:
    """``PluginNotImplementingScore``."""

    name = "plugin-not-implementing-score"


def registry_of(*plugins: Any, queue_sort_and_bind: bool = True) -> dict[str, Callable[[dict, Any], Any]]:
    """A registry whose factories return the given plugin objects (the args are ignored),
    plus the no-op queue sort and bind plugins (``newFrameworkWithQueueSortAndBind``)."""
    reg: dict[str, Callable[[dict, Any], Any]] = {p.name: (lambda args, handle, p=p: p) for p in plugins}
    if queue_sort_and_bind:
        reg.setdefault(QUEUE_SORT, lambda args, handle: QueueSortPlugin())
        reg.setdefault(BIND, lambda args, handle: BindPlugin(handle))
    return reg


def plugin_set(*names: str | tuple[str, int], disabled: Iterable[str] = ()) -> PluginSet:
    enabled = [Plugin(n) if isinstance(n, str) else Plugin(*n) for n in names]
    return PluginSet(enabled, [Plugin(d) for d in disabled])


def profile(name: str = "test-profile", *, with_queue_sort_and_bind: bool = True, percentage: int | None = None,
            plugin_config: list | None = None, **points: PluginSet) -> Profile:
    """A profile with the given extension points (``pre_filter=plugin_set("a")``), plus the
    no-op queue sort and bind plugins where those points are empty."""
    plugins = Plugins(**points)
    if with_queue_sort_and_bind:
        if not plugins.queue_sort.enabled and not plugins.multi_point.enabled:
            plugins.queue_sort = plugin_set(QUEUE_SORT)
        if not plugins.bind.enabled and not plugins.multi_point.enabled:
            plugins.bind = plugin_set(BIND)
    return Profile(name, percentage, plugins, list(plugin_config or []))


def framework_of(*plugins: Any, prof: Profile | None = None, **kwargs: Any) -> Framework:
    """A framework of fake plugins; without ``prof`` each plugin is enabled at every point
    through MultiPoint but QueueSort and Bind, which take the no-op plugins."""
    if prof is None:
        prof = profile(multi_point=plugin_set(*(p.name for p in plugins)),
                       queue_sort=plugin_set(QUEUE_SORT, disabled=["*"]), bind=plugin_set(BIND, disabled=["*"]))
    return Framework(prof, registry_of(*plugins), **kwargs)


def node(name: str, *, cpu: str = "4", memory: str = "8Gi", pods: str = "110",
         labels: dict[str, str] | None = None) -> Node:
    allocatable = {"cpu": Quantity(cpu), "memory": Quantity(memory), "pods": Quantity(pods)}
    n = Node(metadata=ObjectMeta(name=name, labels=dict(labels or {})))
    n.status.capacity = dict(allocatable)
    n.status.allocatable = allocatable
    return n


def pod(name: str, *, uid: str | None = None, priority: int | None = None, node_name: str = "",
        cpu: str | None = None, scheduler_name: str = "", nominated: str = "", rv: str = "1") -> Pod:
    p = Pod(metadata=ObjectMeta(name=name, namespace="default", uid=uid or name, resource_version=rv))
    requests = {"cpu": Quantity(cpu)} if cpu is not None else {}
    p.spec.containers = [Container(name="c", image="pause", resources=ResourceRequirements(requests=requests))]
    p.spec.priority = priority
    p.spec.node_name = node_name
    p.spec.scheduler_name = scheduler_name
    p.status.nominated_node_name = nominated
    return p
