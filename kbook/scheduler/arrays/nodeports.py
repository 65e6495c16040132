"""NodePorts over all nodes (:mod:`kbook.scheduler.plugins.nodeports`): only the nodes
with host ports in use can conflict, so only those are checked."""

from __future__ import annotations

import numpy as np

from kbook.scheduler.arrays.cycle import FilterOutcome, OwnPreFilter, PodCycle, rejection
from kbook.scheduler.plugins.nodeports import ERR_REASON, PRE_FILTER_STATE_KEY, NodePorts
from kbook.scheduler.status import Code

__all__ = ["ArrayNodePorts"]


class ArrayNodePorts(OwnPreFilter):
    """PreFilter (the plugin's own) and Filter."""

    PLUGIN = NodePorts
    def filter(self, cycle: PodCycle) -> FilterOutcome | None:
        table = cycle.table
        want = cycle.state.read(PRE_FILTER_STATE_KEY)
        codes = np.zeros(table.n, dtype=int)
        for i in table.port_rows:
            used = table.infos[i].used_ports
            if any(used.check_conflict(p.host_ip, p.protocol, p.host_port) for p in want):
                codes[i] = 1
        return rejection(codes, Code.UNSCHEDULABLE, ERR_REASON)
