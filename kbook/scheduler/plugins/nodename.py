"""NodeName (plugins/nodename): a pod that names a node in ``spec.nodeName`` fits only there."""

from __future__ import annotations

from typing import Any

from kbook.api import Pod
from kbook.scheduler.cyclestate import CycleState
from kbook.scheduler.interface import Handle
from kbook.scheduler.status import Code, Status
from kbook.scheduler.types import NodeInfo

__all__ = ["NAME", "ERR_REASON", "NodeName", "fits", "new"]

NAME = "NodeName"
ERR_REASON = "node(s) didn't match the requested node name"


def fits(pod: Pod, node_info: NodeInfo) -> bool:
    """``Fits``: no node named, or this one."""
    return not pod.spec.node_name or pod.spec.node_name == node_info.name


class NodeName:
    """``NodeName``: Filter."""

    name = NAME

    def filter(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Status | None:
        if node_info.node is None:
            return Status.error("node not found")
        return None if fits(pod, node_info) else Status.of(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_REASON)


def new(args: dict[str, Any], handle: Handle | None) -> NodeName:
    """``nodename.New``: no arguments."""
    return NodeName()
