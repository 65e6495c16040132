"""DefaultBinder (plugins/defaultbinder): the Bind plugin that posts the pod's binding
(``pods/binding``) through the host."""

from __future__ import annotations

from typing import Any

from kbook.api import Pod
from kbook.errors import KbookError
from kbook.scheduler.cyclestate import CycleState
from kbook.scheduler.interface import Handle
from kbook.scheduler.status import Status

__all__ = ["NAME", "DefaultBinder", "new"]

NAME = "DefaultBinder"


class DefaultBinder:
    """``DefaultBinder``: Bind."""

    name = NAME

    def __init__(self, handle: Handle) -> None:
        self.handle = handle

    def bind(self, state: CycleState, pod: Pod, node_name: str) -> Status | None:
        """Bind via ``handle.bind_pod``; a refusal becomes an ``Error`` status (``AsStatus``)."""
        try:
            self.handle.bind_pod(pod, node_name)
        except KbookError as e:
            return Status.error(e)
        return None


def new(args: dict[str, Any], handle: Handle) -> DefaultBinder:
    """``defaultbinder.New``: no arguments."""
    return DefaultBinder(handle)
