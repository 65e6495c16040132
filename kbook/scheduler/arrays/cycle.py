"""What the array forms of the plugins share: one pod's cycle (:class:`PodCycle`), the
shape of a Filter over all nodes (:class:`FilterOutcome`), and Go's integer and float
steps over arrays (``go_div``, ``go_round``, ``default_normalize_score``) so the scores
are bit-identical to the per-node plugins'."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from kbook.api import Pod
from kbook.scheduler.cyclestate import CycleState
from kbook.scheduler.status import Code, Status

if TYPE_CHECKING:  # pragma: no cover
    from kbook.scheduler.arrays.table import NodeTable

__all__ = ["ArrayForm", "OwnPreFilter", "PodCycle", "FilterOutcome", "go_div", "go_round", "default_normalize_score",
           "rejection"]


class ArrayForm:
    """The array form of one plugin over all nodes; it keeps the plugin and its name."""

    def __init__(self, plugin: Any) -> None:
        self.plugin = plugin
        self.name = plugin.name


class OwnPreFilter(ArrayForm):
    """An array form whose PreFilter is the plugin's own."""

    def pre_filter(self, cycle: PodCycle) -> tuple[Any, Any]:
        return self.plugin.pre_filter(cycle.state, cycle.pod)


class PodCycle:
    """One pod's scheduling cycle for the array plugins: the pod, the cycle state, the
    node table, the framework (the plugins' handle), the feasible nodes once found
    (``nodes``, what PreScore gets, and their table ``rows``), each plugin's data for this
    cycle (``data[plugin name, "filter" or "score"]``, written by its PreFilter or
    PreScore), and whether the per-node plugins' PreFilter states are in ``state``."""

    __slots__ = ("pod", "state", "table", "handle", "nodes", "rows", "data", "reference_states")

    def __init__(self, pod: Pod, state: CycleState, table: NodeTable, handle: Any) -> None:
        self.pod = pod
        self.state = state
        self.table = table
        self.handle = handle
        self.nodes: list[Any] = []
        self.rows = np.empty(0, dtype=np.int64)
        self.reference_states = False
        self.data: dict[tuple[str, str], Any] = {}


class FilterOutcome:
    """A Filter over all nodes: ``codes[i]`` is 0 where node ``i`` passes, else a code
    that ``status(code)`` turns into the plugin's Status for that node (one shared Status
    per code)."""

    __slots__ = ("codes", "_status_of", "_statuses")

    def __init__(self, codes: np.ndarray, status_of: Callable[[int], Status]) -> None:
        self.codes = codes
        self._status_of = status_of
        self._statuses: dict[int, Status] = {}

    def status(self, code: int) -> Status:
        s = self._statuses.get(code)
        if s is None:
            s = self._statuses[code] = self._status_of(code)
        return s


def rejection(codes: np.ndarray, code: Code, reason: str) -> FilterOutcome:
    """A Filter with one rejection: every nonzero code is ``Status(code, [reason])``."""
    return FilterOutcome(codes, lambda _: Status.of(code, reason))


def go_div(a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
    """Go's int64 division over arrays: truncates toward zero (numpy's ``//`` floors)."""
    q = np.abs(a) // np.abs(b)
    return np.where((a >= 0) == (np.asarray(b) >= 0), q, -q)


def go_round(x: np.ndarray) -> np.ndarray:
    """Go's ``math.Round`` over float64: halves away from zero (the fraction ``x - trunc(x)``
    is exact, so this agrees with Go for every value), as int64."""
    t = np.trunc(x)
    return (t + np.where(np.abs(x - t) >= 0.5, np.sign(x), 0.0)).astype(np.int64)


def default_normalize_score(max_priority: int, reverse: bool, scores: np.ndarray) -> np.ndarray:
    """``helper.DefaultNormalizeScore`` over an array of scores."""
    max_count = int(scores.max(initial=0))
    if max_count == 0:
        return np.full_like(scores, max_priority) if reverse else scores
    s = go_div(max_priority * scores, max_count)
    return max_priority - s if reverse else s
