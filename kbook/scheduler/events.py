"""Cluster events and which plugins care about them.

``framework.ClusterEvent`` / ``ActionType`` / ``GVK`` (``pkg/scheduler/framework/types.go``),
the events the scheduler raises (``pkg/scheduler/internal/queue/events.go``), what each
default plugin returns from ``EventsToRegister`` in Kubernetes v1.28, and how a node update
turns into events (``nodeSchedulingPropertiesChange`` in ``pkg/scheduler/eventhandlers.go``).
The scheduling queue moves a pod out of ``unschedulablePods`` only on an event that one of
the plugins that rejected it registered for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntFlag
from typing import Iterable, Mapping

from kbook.api import Node

__all__ = [
    "ActionType",
    "ClusterEvent",
    "GVK_POD",
    "GVK_NODE",
    "GVK_PERSISTENT_VOLUME",
    "GVK_PERSISTENT_VOLUME_CLAIM",
    "GVK_POD_SCHEDULING_CONTEXT",
    "GVK_RESOURCE_CLAIM",
    "GVK_RESOURCE_CLASS",
    "GVK_STORAGE_CLASS",
    "GVK_CSI_NODE",
    "GVK_CSI_DRIVER",
    "GVK_CSI_STORAGE_CAPACITY",
    "WILDCARD",
    "ALL_GVKS",
    "POD_ADD",
    "SCHEDULE_ATTEMPT_FAILURE",
    "BACKOFF_COMPLETE",
    "FORCE_ACTIVATE",
    "POD_UPDATE",
    "ASSIGNED_POD_ADD",
    "NODE_ADD",
    "NODE_DELETE",
    "ASSIGNED_POD_UPDATE",
    "UNSCHEDULED_POD_ADD",
    "UNSCHEDULED_POD_UPDATE",
    "UNSCHEDULED_POD_DELETE",
    "ASSIGNED_POD_DELETE",
    "NODE_SPEC_UNSCHEDULABLE_CHANGE",
    "NODE_ALLOCATABLE_CHANGE",
    "NODE_LABEL_CHANGE",
    "NODE_ANNOTATION_CHANGE",
    "NODE_TAINT_CHANGE",
    "NODE_CONDITION_CHANGE",
    "PV_ADD",
    "PV_UPDATE",
    "PVC_ADD",
    "PVC_UPDATE",
    "STORAGE_CLASS_ADD",
    "STORAGE_CLASS_UPDATE",
    "CSI_NODE_ADD",
    "CSI_NODE_UPDATE",
    "CSI_DRIVER_ADD",
    "CSI_DRIVER_UPDATE",
    "CSI_STORAGE_CAPACITY_ADD",
    "CSI_STORAGE_CAPACITY_UPDATE",
    "WILDCARD_EVENT",
    "UNSCHEDULABLE_TIMEOUT",
    "EVENTS_TO_REGISTER",
    "events_to_register",
    "unroll_wildcard_resource",
    "cluster_event_map",
    "DEFAULT_CLUSTER_EVENT_MAP",
    "node_scheduling_properties_change",
]


class ActionType(IntFlag):
    """``framework.ActionType``: one bit per kind of change, so registrations and events
    match when they share a bit (``Update`` covers every ``UpdateNodeXYZ``)."""

    ADD = 1
    DELETE = 1 << 1
    UPDATE_NODE_ALLOCATABLE = 1 << 2
    UPDATE_NODE_LABEL = 1 << 3
    UPDATE_NODE_TAINT = 1 << 4
    UPDATE_NODE_CONDITION = 1 << 5
    UPDATE_NODE_ANNOTATION = 1 << 6
    ALL = (1 << 7) - 1
    UPDATE = (UPDATE_NODE_ALLOCATABLE | UPDATE_NODE_LABEL | UPDATE_NODE_TAINT | UPDATE_NODE_CONDITION
              | UPDATE_NODE_ANNOTATION)


# framework.GVK names.
GVK_POD = "Pod"
GVK_NODE = "Node"
GVK_PERSISTENT_VOLUME = "PersistentVolume"
GVK_PERSISTENT_VOLUME_CLAIM = "PersistentVolumeClaim"
GVK_POD_SCHEDULING_CONTEXT = "PodSchedulingContext"
GVK_RESOURCE_CLAIM = "ResourceClaim"
GVK_RESOURCE_CLASS = "ResourceClass"
GVK_STORAGE_CLASS = "storage.k8s.io/StorageClass"
GVK_CSI_NODE = "storage.k8s.io/CSINode"
GVK_CSI_DRIVER = "storage.k8s.io/CSIDriver"
GVK_CSI_STORAGE_CAPACITY = "storage.k8s.io/CSIStorageCapacity"
WILDCARD = "*"
ALL_GVKS = (GVK_POD, GVK_NODE, GVK_PERSISTENT_VOLUME, GVK_PERSISTENT_VOLUME_CLAIM, GVK_POD_SCHEDULING_CONTEXT,
            GVK_RESOURCE_CLAIM, GVK_RESOURCE_CLASS, GVK_STORAGE_CLASS, GVK_CSI_NODE, GVK_CSI_DRIVER,
            GVK_CSI_STORAGE_CAPACITY)


@dataclass(frozen=True)
class ClusterEvent:
    """``framework.ClusterEvent``: a resource, what happened to it, and a label for logs
    and metrics. The label takes no part in equality, as a registration carries none."""

    resource: str
    action_type: ActionType
    label: str = field(default="", compare=False)

    def is_wildcard(self) -> bool:
        """``IsWildCard``: every resource, every action."""
        return self.resource == WILDCARD and self.action_type == ActionType.ALL

    def matches(self, event: ClusterEvent) -> bool:
        """Whether this registration covers ``event`` (``podMatchesEvent``): a wildcard
        registration covers everything, otherwise the resources are equal and the action
        types share a bit."""
        return self.is_wildcard() or (self.resource == event.resource and bool(self.action_type & event.action_type))

    def __str__(self) -> str:
        return self.label or f"{self.resource}/{self.action_type.value}"


# Labels of the queue's own moves (events.go).
POD_ADD = "PodAdd"
SCHEDULE_ATTEMPT_FAILURE = "ScheduleAttemptFailure"
BACKOFF_COMPLETE = "BackoffComplete"
FORCE_ACTIVATE = "ForceActivate"
POD_UPDATE = "PodUpdate"

_A = ActionType
ASSIGNED_POD_ADD = ClusterEvent(GVK_POD, _A.ADD, "AssignedPodAdd")
NODE_ADD = ClusterEvent(GVK_NODE, _A.ADD, "NodeAdd")
NODE_DELETE = ClusterEvent(GVK_NODE, _A.DELETE, "NodeDelete")
ASSIGNED_POD_UPDATE = ClusterEvent(GVK_POD, _A.UPDATE, "AssignedPodUpdate")
UNSCHEDULED_POD_ADD = ClusterEvent(GVK_POD, _A.UPDATE, "UnschedulablePodAdd")
UNSCHEDULED_POD_UPDATE = ClusterEvent(GVK_POD, _A.UPDATE, "UnschedulablePodUpdate")
UNSCHEDULED_POD_DELETE = ClusterEvent(GVK_POD, _A.UPDATE, "UnschedulablePodDelete")
ASSIGNED_POD_DELETE = ClusterEvent(GVK_POD, _A.DELETE, "AssignedPodDelete")
NODE_SPEC_UNSCHEDULABLE_CHANGE = ClusterEvent(GVK_NODE, _A.UPDATE_NODE_TAINT, "NodeSpecUnschedulableChange")
NODE_ALLOCATABLE_CHANGE = ClusterEvent(GVK_NODE, _A.UPDATE_NODE_ALLOCATABLE, "NodeAllocatableChange")
NODE_LABEL_CHANGE = ClusterEvent(GVK_NODE, _A.UPDATE_NODE_LABEL, "NodeLabelChange")
NODE_ANNOTATION_CHANGE = ClusterEvent(GVK_NODE, _A.UPDATE_NODE_ANNOTATION, "NodeAnnotationChange")
NODE_TAINT_CHANGE = ClusterEvent(GVK_NODE, _A.UPDATE_NODE_TAINT, "NodeTaintChange")
NODE_CONDITION_CHANGE = ClusterEvent(GVK_NODE, _A.UPDATE_NODE_CONDITION, "NodeConditionChange")
PV_ADD = ClusterEvent(GVK_PERSISTENT_VOLUME, _A.ADD, "PvAdd")
PV_UPDATE = ClusterEvent(GVK_PERSISTENT_VOLUME, _A.UPDATE, "PvUpdate")
PVC_ADD = ClusterEvent(GVK_PERSISTENT_VOLUME_CLAIM, _A.ADD, "PvcAdd")
PVC_UPDATE = ClusterEvent(GVK_PERSISTENT_VOLUME_CLAIM, _A.UPDATE, "PvcUpdate")
STORAGE_CLASS_ADD = ClusterEvent(GVK_STORAGE_CLASS, _A.ADD, "StorageClassAdd")
STORAGE_CLASS_UPDATE = ClusterEvent(GVK_STORAGE_CLASS, _A.UPDATE, "StorageClassUpdate")
CSI_NODE_ADD = ClusterEvent(GVK_CSI_NODE, _A.ADD, "CSINodeAdd")
CSI_NODE_UPDATE = ClusterEvent(GVK_CSI_NODE, _A.UPDATE, "CSINodeUpdate")
CSI_DRIVER_ADD = ClusterEvent(GVK_CSI_DRIVER, _A.ADD, "CSIDriverAdd")
CSI_DRIVER_UPDATE = ClusterEvent(GVK_CSI_DRIVER, _A.UPDATE, "CSIDriverUpdate")
CSI_STORAGE_CAPACITY_ADD = ClusterEvent(GVK_CSI_STORAGE_CAPACITY, _A.ADD, "CSIStorageCapacityAdd")
CSI_STORAGE_CAPACITY_UPDATE = ClusterEvent(GVK_CSI_STORAGE_CAPACITY, _A.UPDATE, "CSIStorageCapacityUpdate")
WILDCARD_EVENT = ClusterEvent(WILDCARD, _A.ALL, "WildCardEvent")
UNSCHEDULABLE_TIMEOUT = ClusterEvent(WILDCARD, _A.ALL, "UnschedulableTimeout")


def _reg(resource: str, action: ActionType) -> ClusterEvent:
    return ClusterEvent(resource, action)


# EventsToRegister of v1.28's default plugins that can reject a pod (PreEnqueue, PreFilter,
# Filter, Reserve, Permit). Score-only, QueueSort, PostFilter and Bind plugins register nothing.
EVENTS_TO_REGISTER: dict[str, tuple[ClusterEvent, ...]] = {
    # schedulinggates/scheduling_gates.go: only an update of the pod itself lifts a gate.
    "SchedulingGates": (_reg(GVK_POD, _A.UPDATE),),
    # nodeunschedulable/node_unschedulable.go
    "NodeUnschedulable": (_reg(GVK_NODE, _A.ADD | _A.UPDATE_NODE_TAINT),),
    # nodename/node_name.go
    "NodeName": (_reg(GVK_NODE, _A.ADD | _A.UPDATE),),
    # tainttoleration/taint_toleration.go
    "TaintToleration": (_reg(GVK_NODE, _A.ADD | _A.UPDATE),),
    # nodeaffinity/node_affinity.go
    "NodeAffinity": (_reg(GVK_NODE, _A.ADD | _A.UPDATE),),
    # nodeports/node_ports.go: container ports are immutable, so pod updates are ignored.
    "NodePorts": (_reg(GVK_POD, _A.DELETE), _reg(GVK_NODE, _A.ADD | _A.UPDATE)),
    # noderesources/fit.go (InPlacePodVerticalScaling off: pod deletes only).
    "NodeResourcesFit": (_reg(GVK_POD, _A.DELETE), _reg(GVK_NODE, _A.ADD | _A.UPDATE)),
    # volumerestrictions/volume_restrictions.go
    "VolumeRestrictions": (_reg(GVK_POD, _A.DELETE), _reg(GVK_NODE, _A.ADD),
                           _reg(GVK_PERSISTENT_VOLUME_CLAIM, _A.ADD | _A.UPDATE)),
    # nodevolumelimits/non_csi.go
    "EBSLimits": (_reg(GVK_NODE, _A.ADD), _reg(GVK_POD, _A.DELETE)),
    "GCEPDLimits": (_reg(GVK_NODE, _A.ADD), _reg(GVK_POD, _A.DELETE)),
    "AzureDiskLimits": (_reg(GVK_NODE, _A.ADD), _reg(GVK_POD, _A.DELETE)),
    # nodevolumelimits/csi.go
    "NodeVolumeLimits": (_reg(GVK_CSI_NODE, _A.ADD), _reg(GVK_POD, _A.DELETE)),
    # volumebinding/volume_binding.go
    "VolumeBinding": (_reg(GVK_STORAGE_CLASS, _A.ADD | _A.UPDATE),
                      _reg(GVK_PERSISTENT_VOLUME_CLAIM, _A.ADD | _A.UPDATE),
                      _reg(GVK_PERSISTENT_VOLUME, _A.ADD | _A.UPDATE),
                      _reg(GVK_NODE, _A.ADD | _A.UPDATE_NODE_LABEL),
                      _reg(GVK_CSI_NODE, _A.ADD | _A.UPDATE),
                      _reg(GVK_CSI_DRIVER, _A.ADD | _A.UPDATE),
                      _reg(GVK_CSI_STORAGE_CAPACITY, _A.ADD | _A.UPDATE)),
    # volumezone/volume_zone.go
    "VolumeZone": (_reg(GVK_STORAGE_CLASS, _A.ADD), _reg(GVK_NODE, _A.ADD | _A.UPDATE_NODE_LABEL),
                   _reg(GVK_PERSISTENT_VOLUME_CLAIM, _A.ADD), _reg(GVK_PERSISTENT_VOLUME, _A.ADD | _A.UPDATE)),
    # podtopologyspread/plugin.go
    "PodTopologySpread": (_reg(GVK_POD, _A.ALL), _reg(GVK_NODE, _A.ADD | _A.DELETE | _A.UPDATE_NODE_LABEL)),
    # interpodaffinity/plugin.go
    "InterPodAffinity": (_reg(GVK_POD, _A.ALL), _reg(GVK_NODE, _A.ADD | _A.UPDATE_NODE_LABEL)),
}


def unroll_wildcard_resource() -> tuple[ClusterEvent, ...]:
    """``framework.UnrollWildCardResource``: every resource with ``All``, what a plugin that
    does not implement ``EnqueueExtensions`` is registered for (``defaultEnqueueExtension``)."""
    return tuple(_reg(gvk, _A.ALL) for gvk in ALL_GVKS)


def events_to_register(plugin: object) -> tuple[ClusterEvent, ...]:
    """What a plugin (or a plugin name) registers: its own ``events_to_register()`` if it has
    one, else the v1.28 table entry for its name, else every event, as the framework does for
    a plugin without ``EnqueueExtensions`` (``fillEnqueueExtensions``)."""
    method = getattr(plugin, "events_to_register", None)
    if callable(method):
        return tuple(method())
    name = plugin if isinstance(plugin, str) else getattr(plugin, "name", "")
    if name in EVENTS_TO_REGISTER:
        return EVENTS_TO_REGISTER[name]
    return unroll_wildcard_resource()


def cluster_event_map(plugins: Iterable[object]) -> dict[ClusterEvent, frozenset[str]]:
    """Registered event -> names of the plugins interested in it, for one profile's plugins
    that can reject a pod (``buildQueueingHintMap`` with every hint ``QueueAfterBackoff``)."""
    out: dict[ClusterEvent, set[str]] = {}
    for plugin in plugins:
        name = plugin if isinstance(plugin, str) else getattr(plugin, "name")
        for event in events_to_register(plugin):
            out.setdefault(event, set()).add(name)
    return {event: frozenset(names) for event, names in out.items()}


DEFAULT_CLUSTER_EVENT_MAP: Mapping[ClusterEvent, frozenset[str]] = cluster_event_map(EVENTS_TO_REGISTER)
"""The map for v1.28's default profile (every default plugin that can reject a pod)."""


def _conditions(node: Node) -> dict[str, str]:
    return {c.type: c.status for c in node.status.conditions}


def node_scheduling_properties_change(new_node: Node, old_node: Node) -> list[ClusterEvent]:
    """``nodeSchedulingPropertiesChange``: the events a node update raises, in upstream's
    order. ``spec.unschedulable`` counts only when it is lifted; conditions compare by
    type and status only (heartbeats are not a change)."""
    events: list[ClusterEvent] = []
    if new_node.spec.unschedulable != old_node.spec.unschedulable and not new_node.spec.unschedulable:
        events.append(NODE_SPEC_UNSCHEDULABLE_CHANGE)
    if old_node.status.allocatable != new_node.status.allocatable:
        events.append(NODE_ALLOCATABLE_CHANGE)
    if old_node.metadata.labels != new_node.metadata.labels:
        events.append(NODE_LABEL_CHANGE)
    if new_node.spec.taints != old_node.spec.taints:
        events.append(NODE_TAINT_CHANGE)
    if _conditions(old_node) != _conditions(new_node):
        events.append(NODE_CONDITION_CHANGE)
    if old_node.metadata.annotations != new_node.metadata.annotations:
        events.append(NODE_ANNOTATION_CHANGE)
    return events
