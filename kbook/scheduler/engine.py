"""The seam between a scheduling cycle and how its filters and scores are computed.

``schedulePod`` (``pkg/scheduler/schedule_one.go``) asks an engine for the two
expensive steps: ``findNodesThatFitPod`` (PreFilter, the nominated node, Filter over a
round-robin sample of nodes) and ``prioritizeNodes`` (PreScore, Score, NormalizeScore,
weights). The reference engine runs every plugin node by node, as upstream does; the array
engine (:mod:`kbook.scheduler.arrays`) computes the default plugins over arrays of all
nodes at once. A differential test holds them to identical placements.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from kbook.api import Pod
from kbook.scheduler.cyclestate import CycleState
from kbook.scheduler.types import Diagnosis, NodeInfo, NodePluginScores

if TYPE_CHECKING:  # pragma: no cover
    from kbook.scheduler.framework import Framework
    from kbook.scheduler.schedule_one import Scheduler

__all__ = ["Engine"]


class Engine(Protocol):
    """Computes a cycle's feasible nodes and their scores for one profile."""

    def find_nodes_that_fit_pod(self, sched: Scheduler, fwk: Framework, state: CycleState,
                                pod: Pod) -> tuple[list[NodeInfo], Diagnosis]:
        """``findNodesThatFitPod``: the feasible nodes in evaluation order and, for the
        others, why; advances ``sched.next_start_node_index`` as upstream does."""
        ...

    def prioritize_nodes(self, sched: Scheduler, fwk: Framework, state: CycleState, pod: Pod,
                         nodes: list[NodeInfo]) -> list[NodePluginScores]:
        """``prioritizeNodes``: each feasible node's weighted plugin scores and total, in
        the order of ``nodes``. Raises :class:`~kbook.scheduler.framework.PluginError`
        on a plugin error."""
        ...
