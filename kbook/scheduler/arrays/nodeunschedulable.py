"""NodeUnschedulable over all nodes: a cordoned node rejects a pod that does not tolerate
``node.kubernetes.io/unschedulable:NoSchedule``
(:mod:`kbook.scheduler.plugins.nodeunschedulable`)."""

from __future__ import annotations

from kbook.api import Taint
from kbook.scheduler.arrays.cycle import ArrayForm, FilterOutcome, PodCycle, rejection
from kbook.scheduler.plugins.nodeunschedulable import (
    ERR_REASON_UNSCHEDULABLE, TAINT_NODE_UNSCHEDULABLE, NodeUnschedulable,
)
from kbook.scheduler.plugins.tainttoleration import tolerations_tolerate_taint
from kbook.scheduler.status import Code

__all__ = ["ArrayNodeUnschedulable"]

_UNSCHEDULABLE_TAINT = Taint(key=TAINT_NODE_UNSCHEDULABLE, effect="NoSchedule")


class ArrayNodeUnschedulable(ArrayForm):
    """Filter."""

    PLUGIN = NodeUnschedulable

    def filter(self, cycle: PodCycle) -> FilterOutcome | None:
        cordoned = cycle.table.unschedulable
        if not cordoned.any() or tolerations_tolerate_taint(cycle.pod.spec.tolerations, _UNSCHEDULABLE_TAINT):
            return None
        return rejection(cordoned.astype(int), Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_REASON_UNSCHEDULABLE)
