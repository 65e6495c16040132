"""NodeName over all nodes: a pod naming a node in ``spec.nodeName`` fits only there
(:mod:`kbook.scheduler.plugins.nodename`)."""

from __future__ import annotations

import numpy as np

from kbook.scheduler.arrays.cycle import ArrayForm, FilterOutcome, PodCycle, rejection
from kbook.scheduler.plugins.nodename import ERR_REASON, NodeName
from kbook.scheduler.status import Code

__all__ = ["ArrayNodeName"]


class ArrayNodeName(ArrayForm):
    """Filter."""

    PLUGIN = NodeName

    def filter(self, cycle: PodCycle) -> FilterOutcome | None:
        wanted = cycle.pod.spec.node_name
        if not wanted:
            return None
        codes = np.ones(cycle.table.n, dtype=int)
        i = cycle.table.index.get(wanted)
        if i is not None:
            codes[i] = 0
        return rejection(codes, Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_REASON)
