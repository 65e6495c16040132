"""Plugin results: ``framework.Code`` and ``framework.Status``
(``pkg/scheduler/framework/interface.go``) and the score bounds.

A plugin returns ``None`` for success, as upstream returns a nil ``*Status``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

__all__ = [
    "Code",
    "Status",
    "is_success",
    "code_of",
    "MAX_NODE_SCORE",
    "MIN_NODE_SCORE",
    "MAX_TOTAL_SCORE",
]

MAX_NODE_SCORE = 100  # framework.MaxNodeScore
MIN_NODE_SCORE = 0  # framework.MinNodeScore
MAX_TOTAL_SCORE = 2**63 - 1  # framework.MaxTotalScore (math.MaxInt64)


class Code(IntEnum):
    """``framework.Code``; ``str()`` is upstream's name (``codes`` in interface.go)."""

    SUCCESS = 0
    ERROR = 1
    UNSCHEDULABLE = 2
    UNSCHEDULABLE_AND_UNRESOLVABLE = 3
    WAIT = 4
    SKIP = 5

    def __str__(self) -> str:
        return _NAMES[self]

    @classmethod
    def parse(cls, name: str) -> Code:
        """The code named as upstream prints it (``"UnschedulableAndUnresolvable"``)."""
        return _BY_NAME[name]


_NAMES = {
    Code.SUCCESS: "Success",
    Code.ERROR: "Error",
    Code.UNSCHEDULABLE: "Unschedulable",
    Code.UNSCHEDULABLE_AND_UNRESOLVABLE: "UnschedulableAndUnresolvable",
    Code.WAIT: "Wait",
    Code.SKIP: "Skip",
}
_BY_NAME = {v: k for k, v in _NAMES.items()}


@dataclass
class Status:
    """``framework.Status``: a code, the reasons, and the plugin that failed (set by the
    framework, ``WithFailedPlugin``)."""

    code: Code = Code.SUCCESS
    reasons: list[str] = field(default_factory=list)
    plugin: str = ""

    @classmethod
    def of(cls, code: Code, *reasons: str) -> Status:
        """``framework.NewStatus(code, reasons...)``."""
        return cls(code, list(reasons))

    @classmethod
    def error(cls, err: str | Exception) -> Status:
        """``framework.AsStatus(err)``."""
        return cls(Code.ERROR, [str(err)])

    def message(self) -> str:
        """``Status.Message()``: the reasons joined with ``", "``."""
        return ", ".join(self.reasons)

    def is_success(self) -> bool:
        return self.code == Code.SUCCESS

    def is_skip(self) -> bool:
        return self.code == Code.SKIP

    def is_wait(self) -> bool:
        return self.code == Code.WAIT

    def is_rejected(self) -> bool:
        """``Status.IsRejected``: Unschedulable or UnschedulableAndUnresolvable."""
        return self.code in (Code.UNSCHEDULABLE, Code.UNSCHEDULABLE_AND_UNRESOLVABLE)

    def with_plugin(self, plugin: str) -> Status:
        self.plugin = plugin
        return self

    def __str__(self) -> str:
        return self.message()


def is_success(status: Status | None) -> bool:
    """``Status.IsSuccess`` (a nil status is a success)."""
    return status is None or status.code == Code.SUCCESS


def code_of(status: Status | None) -> Code:
    """``Status.Code`` (a nil status is Success)."""
    return Code.SUCCESS if status is None else status.code
