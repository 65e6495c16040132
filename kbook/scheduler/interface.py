"""The extension points (``pkg/scheduler/framework/interface.go``): one small protocol
per point. A plugin is an object with a ``name`` and the methods of the points it
implements; the framework finds them by method name. Returning ``None`` is success.

Plugins are built by a factory ``factory(args: dict, handle: Handle) -> plugin``
registered by name (:mod:`kbook.scheduler.registry`); ``args`` are the plugin's
``pluginConfig`` args from the profile with upstream's defaults applied.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Protocol, Sequence, runtime_checkable

import numpy as np

from kbook.api import Pod
from kbook.scheduler.cyclestate import CycleState
from kbook.scheduler.status import Status
from kbook.scheduler.types import (
    NodeInfo, NodeScore, PodInfo, PostFilterResult, PreFilterResult, QueuedPodInfo,
)

__all__ = [
    "Plugin",
    "PreEnqueuePlugin",
    "QueueSortPlugin",
    "PreFilterPlugin",
    "PreFilterExtensions",
    "FilterPlugin",
    "PostFilterPlugin",
    "PreScorePlugin",
    "ScorePlugin",
    "ReservePlugin",
    "PermitPlugin",
    "PreBindPlugin",
    "BindPlugin",
    "PostBindPlugin",
    "SharedLister",
    "Handle",
    "PluginFactory",
    "EXTENSION_POINTS",
]


class Plugin(Protocol):
    name: str


@runtime_checkable
class PreEnqueuePlugin(Protocol):
    name: str

    def pre_enqueue(self, pod: Pod) -> Status | None: ...


@runtime_checkable
class QueueSortPlugin(Protocol):
    name: str

    def less(self, a: QueuedPodInfo, b: QueuedPodInfo) -> bool: ...


class PreFilterExtensions(Protocol):
    """``PreFilterExtensions``: keep PreFilter's state right when the framework adds
    nominated pods or removes preemption victims on a copy of a node."""

    def add_pod(self, state: CycleState, pod: Pod, pod_info_to_add: PodInfo, node_info: NodeInfo) -> Status | None: ...

    def remove_pod(self, state: CycleState, pod: Pod, pod_info_to_remove: PodInfo,
                   node_info: NodeInfo) -> Status | None: ...


@runtime_checkable
class PreFilterPlugin(Protocol):
    name: str

    def pre_filter(self, state: CycleState, pod: Pod) -> tuple[PreFilterResult | None, Status | None]: ...

    def pre_filter_extensions(self) -> PreFilterExtensions | None: ...


@runtime_checkable
class FilterPlugin(Protocol):
    name: str

    def filter(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Status | None: ...


@runtime_checkable
class PostFilterPlugin(Protocol):
    name: str

    def post_filter(self, state: CycleState, pod: Pod,
                    filtered_node_status_map: Mapping[str, Status]) -> tuple[PostFilterResult | None, Status | None]: ...


@runtime_checkable
class PreScorePlugin(Protocol):
    name: str

    def pre_score(self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]) -> Status | None: ...


@runtime_checkable
class ScorePlugin(Protocol):
    """``ScorePlugin``; a plugin with ``normalize_score`` has ScoreExtensions."""

    name: str

    def score(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> tuple[int, Status | None]: ...


@runtime_checkable
class ReservePlugin(Protocol):
    name: str

    def reserve(self, state: CycleState, pod: Pod, node_name: str) -> Status | None: ...

    def unreserve(self, state: CycleState, pod: Pod, node_name: str) -> None: ...


@runtime_checkable
class PermitPlugin(Protocol):
    name: str

    def permit(self, state: CycleState, pod: Pod, node_name: str) -> tuple[Status | None, float]: ...


@runtime_checkable
class PreBindPlugin(Protocol):
    name: str

    def pre_bind(self, state: CycleState, pod: Pod, node_name: str) -> Status | None: ...


@runtime_checkable
class BindPlugin(Protocol):
    name: str

    def bind(self, state: CycleState, pod: Pod, node_name: str) -> Status | None: ...


@runtime_checkable
class PostBindPlugin(Protocol):
    name: str

    def post_bind(self, state: CycleState, pod: Pod, node_name: str) -> None: ...


# extension point name (as in a KubeSchedulerConfiguration's ``plugins``) -> method name
EXTENSION_POINTS: dict[str, str] = {
    "preEnqueue": "pre_enqueue",
    "queueSort": "less",
    "preFilter": "pre_filter",
    "filter": "filter",
    "postFilter": "post_filter",
    "preScore": "pre_score",
    "score": "score",
    "reserve": "reserve",
    "permit": "permit",
    "preBind": "pre_bind",
    "bind": "bind",
    "postBind": "post_bind",
}


class SharedLister(Protocol):
    """``framework.SharedLister``: the cycle's snapshot of nodes (see
    :class:`kbook.scheduler.snapshot.Snapshot`)."""

    node_info_list: list[NodeInfo]
    have_pods_with_affinity_list: list[NodeInfo]
    have_pods_with_required_anti_affinity_list: list[NodeInfo]

    def get(self, node_name: str) -> NodeInfo: ...


class Handle(Protocol):
    """``framework.Handle``: what plugins may use beyond their own arguments.

    - ``snapshot``: the cycle's :class:`SharedLister`, refreshed before each cycle.
    - ``nominated_pods_for_node(name)``: pods nominated to a node (``PodNominator``).
    - ``run_filter_plugins_with_nominated_pods(state, pod, node_info)`` and
      ``run_pre_filter_extension_add_pod/remove_pod``: the framework, for preemption.
    - ``objects(kind)``: the cluster's objects of a kind the default plugins list
      (``Service``, ``ReplicaSet``, ``StatefulSet``, ``ReplicationController``,
      ``Namespace``), ``[]`` when the host has none.
    - ``bind_pod(pod, node_name)``: the API's ``pods/binding`` (DefaultBinder).
    - ``delete_pod(pod)``: preemption deletes its victims.
    - ``set_nominated_node_name(pod, node_name)``: ``status.nominatedNodeName``.
    - ``get_waiting_pod(uid)``: the pod waiting on Permit with that uid, or ``None``
      (``GetWaitingPod``; preemption rejects such a victim instead of deleting it).
    - ``rng``: the scheduler's seeded generator (ties, preemption's random offset).
    - ``profile_name``, ``percentage_of_nodes_to_score``, ``parallelism``.
    """

    snapshot: SharedLister
    rng: np.random.Generator
    profile_name: str
    parallelism: int

    def nominated_pods_for_node(self, node_name: str) -> list[PodInfo]: ...

    def run_filter_plugins_with_nominated_pods(self, state: CycleState, pod: Pod,
                                               node_info: NodeInfo) -> Status | None: ...

    def run_pre_filter_extension_add_pod(self, state: CycleState, pod: Pod, pod_info_to_add: PodInfo,
                                         node_info: NodeInfo) -> Status | None: ...

    def run_pre_filter_extension_remove_pod(self, state: CycleState, pod: Pod, pod_info_to_remove: PodInfo,
                                            node_info: NodeInfo) -> Status | None: ...

    def objects(self, kind: str) -> list[Any]: ...

    def bind_pod(self, pod: Pod, node_name: str) -> None: ...

    def delete_pod(self, pod: Pod) -> None: ...

    def set_nominated_node_name(self, pod: Pod, node_name: str) -> None: ...

    def get_waiting_pod(self, uid: str) -> Any | None: ...


PluginFactory = Callable[[dict[str, Any], Handle], Any]
