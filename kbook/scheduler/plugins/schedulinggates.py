"""SchedulingGates (plugins/schedulinggates): the PreEnqueue plugin that parks a pod
outside activeQ while its ``spec.schedulingGates`` is not empty (KEP-3521)."""

from __future__ import annotations

from typing import Any

from kbook.api import Pod
from kbook.scheduler.interface import Handle
from kbook.scheduler.plugins.feature import V1_28, Features
from kbook.scheduler.status import Code, Status

__all__ = ["NAME", "SchedulingGates", "new"]

NAME = "SchedulingGates"


class SchedulingGates:
    """``SchedulingGates``."""

    name = NAME

    def __init__(self, features: Features = V1_28) -> None:
        self.enable_pod_scheduling_readiness = features.enable_pod_scheduling_readiness

    def pre_enqueue(self, pod: Pod) -> Status | None:
        """``UnschedulableAndUnresolvable`` "waiting for scheduling gates: [a b]" (Go's ``%v``
        of the gate names) while any gate remains."""
        if not self.enable_pod_scheduling_readiness or not pod.spec.scheduling_gates:
            return None
        names = [g.get("name", "") if isinstance(g, dict) else str(g) for g in pod.spec.scheduling_gates]
        return Status.of(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, f"waiting for scheduling gates: [{' '.join(names)}]")


def new(args: dict[str, Any], handle: Handle | None, features: Features = V1_28) -> SchedulingGates:
    """``schedulinggates.New``: no arguments."""
    return SchedulingGates(features)
