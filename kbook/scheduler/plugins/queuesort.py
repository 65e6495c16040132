"""PrioritySort (plugins/queuesort/priority_sort.go): the default QueueSort, higher
priority first, then earlier arrival in the queue."""

from __future__ import annotations

from typing import Any

from kbook.scheduler.interface import Handle
from kbook.scheduler.types import QueuedPodInfo, pod_priority

__all__ = ["NAME", "PrioritySort", "new"]

NAME = "PrioritySort"


class PrioritySort:
    """``PrioritySort``."""

    name = NAME

    def less(self, a: QueuedPodInfo, b: QueuedPodInfo) -> bool:
        """``Less``: ``p1 > p2 || (p1 == p2 && a.Timestamp.Before(b.Timestamp))``."""
        p1, p2 = pod_priority(a.pod), pod_priority(b.pod)
        return p1 > p2 or (p1 == p2 and a.timestamp < b.timestamp)

    def sort_key(self, qpi: QueuedPodInfo) -> tuple[int, float]:
        """The order of :meth:`less` as a key: ``less(a, b) == sort_key(a) < sort_key(b)``."""
        return -pod_priority(qpi.pod), qpi.timestamp


def new(args: dict[str, Any], handle: Handle | None) -> PrioritySort:
    """``queuesort.New``: no arguments."""
    return PrioritySort()
