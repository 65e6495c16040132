"""Node label and image columns for the array engine: one integer code per node for a
label key (0 = the node lacks the label), and, per image name, its size and node count on
each node, so a requirement or a topology domain becomes a table lookup over all nodes."""

from __future__ import annotations

from typing import Callable, Hashable, Mapping, Sequence

import numpy as np

from kbook.scheduler.types import ImageStateSummary

__all__ = ["LabelColumn", "ImageColumn", "MAX_LUTS"]

MAX_LUTS = 1024  # requirements remembered per label key; beyond, the cache starts over


class LabelColumn:
    """The values of one label key on every node, encoded: ``codes[i]`` is 0 when node
    ``i`` lacks the key, else ``1 + index`` of its value in ``values``. A requirement on
    the key is evaluated once per distinct value (``lut``) and looked up per node."""

    __slots__ = ("key", "codes", "values", "code_of", "_luts")

    def __init__(self, key: str, labels: Sequence[Mapping[str, str]]) -> None:
        self.key = key
        self.values: list[str] = []
        self.code_of: dict[str, int] = {}
        self._luts: dict[Hashable, np.ndarray] = {}
        self.codes = np.zeros(len(labels), dtype=np.int64)
        for i, node_labels in enumerate(labels):
            value = node_labels.get(key)
            if value is not None:
                self.codes[i] = self.code(value)

    def code(self, value: str) -> int:
        """The code of a value, adding it if new."""
        c = self.code_of.get(value)
        if c is None:
            self.values.append(value)
            c = self.code_of[value] = len(self.values)
        return c

    def set(self, i: int, node_labels: Mapping[str, str]) -> None:
        """Re-read node ``i``'s value."""
        value = node_labels.get(self.key)
        self.codes[i] = 0 if value is None else self.code(value)

    @property
    def size(self) -> int:
        """Codes in use, including 0 (missing)."""
        return len(self.values) + 1

    def lut(self, cache_key: Hashable, matches: Callable[[str | None], bool]) -> np.ndarray:
        """``matches(value)`` (``None`` for a missing label) for every code, cached under
        ``cache_key`` and extended when new values appear."""
        table = self._luts.get(cache_key)
        done = 0 if table is None else len(table)
        if done < self.size:
            new = [None, *self.values] if done == 0 else self.values[done - 1:]
            extra = np.fromiter((matches(v) for v in new), dtype=bool, count=len(new))
            table = extra if table is None else np.concatenate((table, extra))
            if len(self._luts) >= MAX_LUTS:
                self._luts.clear()
            self._luts[cache_key] = table
        return table

    def mask(self, cache_key: Hashable, matches: Callable[[str | None], bool]) -> np.ndarray:
        """``matches`` of every node's value, as a boolean array over nodes."""
        return self.lut(cache_key, matches)[self.codes]


class ImageColumn:
    """One image name on every node: the size and the node count of the node's
    ``ImageStateSummary`` for that name, 0 where the node does not list it."""

    __slots__ = ("name", "size", "num_nodes", "present")

    def __init__(self, name: str, image_states: Sequence[Mapping[str, ImageStateSummary]]) -> None:
        self.name = name
        n = len(image_states)
        self.size = np.zeros(n, dtype=np.int64)
        self.num_nodes = np.zeros(n, dtype=np.int64)
        self.present = np.zeros(n, dtype=bool)
        for i, states in enumerate(image_states):
            self.set(i, states)

    def set(self, i: int, states: Mapping[str, ImageStateSummary]) -> None:
        s = states.get(self.name)
        if s is None:
            self.size[i] = self.num_nodes[i] = 0
            self.present[i] = False
        else:
            self.size[i], self.num_nodes[i], self.present[i] = s.size, s.num_nodes, True
