"""NodeUnschedulable (plugins/nodeunschedulable): a cordoned node (``spec.unschedulable``)
takes only pods that tolerate the ``node.kubernetes.io/unschedulable:NoSchedule`` taint."""

from __future__ import annotations

from typing import Any

from kbook.api import Pod, Taint
from kbook.scheduler.cyclestate import CycleState
from kbook.scheduler.interface import Handle
from kbook.scheduler.plugins.tainttoleration import tolerations_tolerate_taint
from kbook.scheduler.status import Code, Status
from kbook.scheduler.types import NodeInfo

__all__ = ["NAME", "TAINT_NODE_UNSCHEDULABLE", "ERR_REASON_UNSCHEDULABLE", "NodeUnschedulable", "new"]

NAME = "NodeUnschedulable"
TAINT_NODE_UNSCHEDULABLE = "node.kubernetes.io/unschedulable"  # v1.TaintNodeUnschedulable
ERR_REASON_UNKNOWN_CONDITION = "node(s) had unknown conditions"
ERR_REASON_UNSCHEDULABLE = "node(s) were unschedulable"


class NodeUnschedulable:
    """``NodeUnschedulable``: Filter."""

    name = NAME

    def filter(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Status | None:
        node = node_info.node
        if node is None:
            return Status.of(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_REASON_UNKNOWN_CONDITION)
        tolerated = tolerations_tolerate_taint(pod.spec.tolerations,
                                               Taint(key=TAINT_NODE_UNSCHEDULABLE, effect="NoSchedule"))
        if node.spec.unschedulable and not tolerated:
            return Status.of(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_REASON_UNSCHEDULABLE)
        return None


def new(args: dict[str, Any], handle: Handle | None) -> NodeUnschedulable:
    """``nodeunschedulable.New``: no arguments."""
    return NodeUnschedulable()
