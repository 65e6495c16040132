"""Which pods sit on which node, for the array engine: an index of the pods by label and,
per pod predicate (a namespace set and a label selector, say), the number of matching pods
on every node, kept up to date pod by pod as the cache adds and removes them. This is what
turns PodTopologySpread's and InterPodAffinity's per-node pod counting into a lookup."""

from __future__ import annotations

from collections import OrderedDict
from typing import Callable, Hashable, Sequence

import numpy as np

from kbook.api import Pod
from kbook.scheduler.types import PodInfo

__all__ = ["Anchor", "PodIndex", "MAX_PREDICATES"]

MAX_PREDICATES = 4096  # counts kept at once; the least recently used are dropped

# A label every matching pod carries: (key, allowed values). None: no such label known.
Anchor = tuple[str, tuple[str, ...]] | None


class _Counts:
    __slots__ = ("key", "predicate", "anchor", "counts")

    def __init__(self, key: Hashable, predicate: Callable[[Pod], bool], anchor: Anchor, n: int) -> None:
        self.key = key
        self.predicate = predicate
        self.anchor = anchor
        self.counts = np.zeros(n, dtype=np.int64)


class PodIndex:
    """Pods by label (``by_label[(key, value)]``: id -> PodInfo), the node of each pod
    (``row_of``), and per-predicate counts of matching pods per node. ``pods_on[i]`` are
    the pods of node ``i`` (the node table's lists)."""

    def __init__(self, pods_on: Sequence[Sequence[PodInfo]]) -> None:
        self.pods_on = pods_on
        self.n = len(pods_on)
        self.row_of: dict[int, int] = {}
        self.by_label: dict[tuple[str, str], dict[int, PodInfo]] = {}
        self._counts: OrderedDict[Hashable, _Counts] = OrderedDict()
        self._by_anchor: dict[tuple[str, str], list[_Counts]] = {}
        self._unanchored: list[_Counts] = []

    # -- pods ----------------------------------------------------------------------------

    def add(self, info: PodInfo, i: int) -> None:
        pid = id(info)
        self.row_of[pid] = i
        labels = info.pod.metadata.labels
        for kv in labels.items():
            postings = self.by_label.get(kv)
            if postings is None:
                postings = self.by_label[kv] = {}
            postings[pid] = info
        self._count(info.pod, labels, i, 1)

    def remove(self, info: PodInfo) -> None:
        i = self.row_of.pop(id(info), None)
        if i is None:
            return
        labels = info.pod.metadata.labels
        for kv in labels.items():
            postings = self.by_label.get(kv)
            if postings is not None:
                postings.pop(id(info), None)
                if not postings:
                    del self.by_label[kv]
        self._count(info.pod, labels, i, -1)

    def _count(self, pod: Pod, labels: dict[str, str], i: int, delta: int) -> None:
        if not self._counts:
            return
        by_anchor = self._by_anchor
        for kv in labels.items():
            for c in by_anchor.get(kv, ()):
                if c.predicate(pod):
                    c.counts[i] += delta
        for c in self._unanchored:
            if c.predicate(pod):
                c.counts[i] += delta

    def _candidates(self, anchor: Anchor) -> list[tuple[PodInfo, int]]:
        """Every pod that may satisfy a predicate with this anchor, with its node."""
        if anchor is None:
            return [(info, i) for i, infos in enumerate(self.pods_on) for info in infos]
        key, values = anchor
        row_of = self.row_of
        return [(info, row_of[pid]) for v in values for pid, info in self.by_label.get((key, v), {}).items()]

    # -- counts --------------------------------------------------------------------------

    def counts(self, key: Hashable, predicate: Callable[[Pod], bool], anchor: Anchor) -> np.ndarray:
        """Matching pods per node for the predicate named ``key`` (one key, one predicate;
        every pod it matches carries the ``anchor`` label). Read-only."""
        c = self._counts.get(key)
        if c is not None:
            self._counts.move_to_end(key)
            return c.counts
        if anchor is not None:
            anchor = (anchor[0], tuple(dict.fromkeys(anchor[1])))
        c = _Counts(key, predicate, anchor, self.n)
        for info, i in self._candidates(anchor):
            if predicate(info.pod):
                c.counts[i] += 1
        self._counts[key] = c
        if anchor is None:
            self._unanchored.append(c)
        else:
            for v in anchor[1]:
                self._by_anchor.setdefault((anchor[0], v), []).append(c)
        if len(self._counts) > MAX_PREDICATES:
            self._drop(next(iter(self._counts)))
        return c.counts

    def _drop(self, key: Hashable) -> None:
        c = self._counts.pop(key)
        if c.anchor is None:
            self._unanchored.remove(c)
        else:
            for v in c.anchor[1]:
                lst = self._by_anchor[(c.anchor[0], v)]
                lst.remove(c)
                if not lst:
                    del self._by_anchor[(c.anchor[0], v)]
