"""Watchers of the embedded store: the event log, replay from a past revision, and
delivery at commit time (etcd ``server/storage/mvcc/watchable_store.go`` ``watch()``,
``notify()``, ``syncWatchers()``; ``watcher_group.go`` ``chooseAll()``)."""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from dataclasses import dataclass
from typing import Callable

from kbook.controlplane.etcd.mvcc import ALL_KEYS, in_range
from kbook.controlplane.etcd.types import Event, ResponseHeader, WatchHandler, WatchResponse

WATCH_BATCH_MAX_REVS = 1000  # revisions per replayed response, watcher.go watchBatchMaxRevs


@dataclass(eq=False)
class Watcher:
    """A running watch; ``next_rev`` is the lowest revision it has not been sent yet."""

    watch_id: int
    key: str
    end: str | None
    handler: WatchHandler
    prev_kv: bool
    next_rev: int
    hub: "WatchHub"
    canceled: bool = False

    def cancel(self) -> None:
        self.hub.cancel(self)


class WatchHub:
    """The event log since the compacted revision and the watchers it feeds. Handlers run
    synchronously; writes made inside a handler are queued, so every watcher sees
    revisions in order."""

    def __init__(self, current_revision: Callable[[], int]) -> None:
        self._current = current_revision
        self._events: list[Event] = []
        self._event_revs: list[int] = []
        self._by_key: dict[str, list[Watcher]] = {}
        self._ranges: list[Watcher] = []
        self._pending: deque[tuple[int, list[Event]]] = deque()
        self._delivering = False
        self._next_id = 0
        self.compact_rev = -1

    def commit(self, revision: int, events: list[Event]) -> None:
        """Log the events of one revision and send them to every matching watcher."""
        self._events.extend(events)
        self._event_revs.extend([revision] * len(events))
        self._pending.append((revision, events))
        if not self._delivering:
            self._drain()

    def compact(self, revision: int) -> None:
        self.compact_rev = revision
        i = bisect_left(self._event_revs, revision)
        del self._events[:i], self._event_revs[:i]

    def watch(self, key: str, end: str | None, handler: WatchHandler, start: int, prev_kv: bool) -> Watcher:
        """Register a watcher, replaying ``[start, current]`` first; a start below the
        compacted revision cancels it with ``compact_revision`` set."""
        current = self._current()
        w = Watcher(self._next_id, key, end, handler, prev_kv, 0, self)
        self._next_id += 1
        header = ResponseHeader(current)
        if start < 0:
            handler(WatchResponse(header, -1, created=True, canceled=True,
                                  cancel_reason="mvcc: required revision has been compacted"))
            w.canceled = True
            return w
        handler(WatchResponse(header, w.watch_id, created=True))
        if 0 < start < self.compact_rev:
            handler(WatchResponse(header, w.watch_id, canceled=True, compact_revision=self.compact_rev))
            w.canceled = True
            return w
        start = start or current + 1
        was_delivering, self._delivering = self._delivering, True
        try:
            self._replay(w, start, current)
            if not w.canceled:
                w.next_rev = max(start, current + 1)
                if end:
                    self._ranges.append(w)
                else:
                    self._by_key.setdefault(key, []).append(w)
        finally:
            self._delivering = was_delivering
        if not was_delivering:
            self._drain()
        return w

    def cancel(self, w: Watcher) -> None:
        if w.canceled:
            return
        w.canceled = True
        if w.end:
            self._ranges.remove(w)
        elif w in self._by_key.get(w.key, ()):
            self._by_key[w.key].remove(w)
            if not self._by_key[w.key]:
                del self._by_key[w.key]

    def _replay(self, w: Watcher, start: int, current: int) -> None:
        events, revs = self._events, self._event_revs
        i, n = bisect_left(revs, start), len(revs)
        batch: list[Event] = []
        first = start
        while i < n and revs[i] <= current and not w.canceled:
            e = events[i]
            if in_range(e.kv.key, w.key, w.end):
                if batch and revs[i] >= first + WATCH_BATCH_MAX_REVS:
                    w.handler(WatchResponse(ResponseHeader(current), w.watch_id, tuple(batch)))
                    batch = []
                if not batch:
                    first = revs[i]
                batch.append(e if w.prev_kv or e.prev_kv is None else Event(e.type, e.kv))
            i += 1
        if batch and not w.canceled:
            w.handler(WatchResponse(ResponseHeader(current), w.watch_id, tuple(batch)))

    def _drain(self) -> None:
        self._delivering = True
        try:
            while self._pending:
                revision, events = self._pending.popleft()
                self._deliver(revision, events)
        finally:
            self._delivering = False

    def _deliver(self, revision: int, events: list[Event]) -> None:
        matched: dict[int, tuple[Watcher, list[Event]]] = {}
        for e in events:
            key = e.kv.key
            for w in self._by_key.get(key, ()):
                matched.setdefault(w.watch_id, (w, []))[1].append(e)
            for w in self._ranges:
                if w.key <= key and (w.end == ALL_KEYS or key < w.end):  # in_range of a range watcher
                    matched.setdefault(w.watch_id, (w, []))[1].append(e)
        if not matched:
            return
        header = ResponseHeader(revision)
        for wid in sorted(matched) if len(matched) > 1 else matched:
            w, evs = matched[wid]
            if w.canceled or revision < w.next_rev:
                continue
            w.next_rev = revision + 1
            if not w.prev_kv:
                evs = [e if e.prev_kv is None else Event(e.type, e.kv) for e in evs]
            w.handler(WatchResponse(header, wid, tuple(evs)))
