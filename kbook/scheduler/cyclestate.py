"""``framework.CycleState`` (``pkg/scheduler/framework/cycle_state.go``): what plugins
compute in one scheduling cycle for one pod (PreFilter's state read by Filter, PreScore's
by Score), and which plugins skip Filter or Score this cycle."""

from __future__ import annotations

from typing import Any

__all__ = ["CycleState", "NotFoundError"]


class NotFoundError(KeyError):
    """``framework.ErrNotFound``: ``not found``."""

    def __str__(self) -> str:
        return "not found"


class CycleState:
    """Plugin state for one scheduling cycle, keyed by name."""

    __slots__ = ("_storage", "skip_filter_plugins", "skip_score_plugins", "record_plugin_metrics")

    def __init__(self) -> None:
        self._storage: dict[str, Any] = {}
        self.skip_filter_plugins: set[str] = set()
        self.skip_score_plugins: set[str] = set()
        self.record_plugin_metrics = False

    def read(self, key: str) -> Any:
        """``CycleState.Read``; raises :class:`NotFoundError`."""
        try:
            return self._storage[key]
        except KeyError:
            raise NotFoundError(key) from None

    def write(self, key: str, value: Any) -> None:
        self._storage[key] = value

    def delete(self, key: str) -> None:
        self._storage.pop(key, None)

    def clone(self) -> CycleState:
        """``CycleState.Clone``: values with a ``clone()`` method are cloned, as upstream's
        ``StateData.Clone``; others are shared."""
        c = CycleState()
        c._storage = {k: (v.clone() if hasattr(v, "clone") else v) for k, v in self._storage.items()}
        c.skip_filter_plugins = set(self.skip_filter_plugins)
        c.skip_score_plugins = set(self.skip_score_plugins)
        c.record_plugin_metrics = self.record_plugin_metrics
        return c
