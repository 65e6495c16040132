"""The scores of one cycle as arrays: :class:`NodeScoreTable` is the list of
``NodePluginScores`` that ``prioritizeNodes`` returns, built lazily from a matrix of
weighted plugin scores, with ``selectHost`` done on the totals."""

from __future__ import annotations

from typing import Sequence, overload

import numpy as np

from kbook.scheduler.types import NodePluginScores, PluginScore

__all__ = ["NodeScoreTable"]


class NodeScoreTable(Sequence[NodePluginScores]):
    """``[]NodePluginScores`` for the nodes ``names[rows[i]]``: ``weighted[p, i]`` is
    plugin ``p``'s weighted score of the ``i``-th node; an item is made when it is read."""

    def __init__(self, names: Sequence[str], rows: np.ndarray, plugins: Sequence[str], weighted: np.ndarray,
                 totals: np.ndarray) -> None:
        self.names = names
        self.rows = rows
        self.plugins = list(plugins)
        self.weighted = weighted
        self.totals = totals

    def __len__(self) -> int:
        return len(self.rows)

    def name(self, i: int) -> str:
        return self.names[int(self.rows[i])]

    @overload
    def __getitem__(self, i: int) -> NodePluginScores: ...

    @overload
    def __getitem__(self, i: slice) -> list[NodePluginScores]: ...

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        column = self.weighted[:, i].tolist()
        return NodePluginScores(self.name(i), [PluginScore(p, s) for p, s in zip(self.plugins, column)],
                                int(self.totals[i]))

    def select_host(self, count: int, rng: np.random.Generator) -> tuple[str, list[NodePluginScores]]:
        """``selectHost`` on the totals, with the draw and the order of
        :func:`kbook.scheduler.schedule_one.select_host`: ranked by total (stable), one
        ``rng.integers(ties)`` among the nodes tied at the top, swapped to the front."""
        totals = self.totals
        tied = np.flatnonzero(totals == totals.max())
        # the ranking's head: the tied nodes in order, then (if too few) the others by score
        ranked = tied if len(tied) >= count else np.argsort(-totals, kind="stable")
        if len(tied) > 1:
            chosen = int(rng.integers(len(tied)))
            head = [int(ranked[chosen])] + [int(i) for i in ranked[1:count]]
            if 0 < chosen < count:
                head[chosen] = int(ranked[0])
        else:
            head = [int(i) for i in ranked[:max(count, 1)]]
        return self.name(head[0]), [self[i] for i in head[:count]]
