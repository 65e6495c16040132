"""A WATCH: etcd watch responses turned into ADDED / MODIFIED / DELETED events of
objects, filtered by selectors as the watch cache filters them
(``storage/cacher/cache_watcher.go`` ``convertToWatchEvent``: an object that stops
matching arrives as DELETED, one that starts matching as ADDED), and a compacted start
as an ERROR event carrying Expired (``storage/cacher/watch_cache.go``).

Live events come from one :class:`Cacher` per resource (``storage/cacher/cacher.go``): a
single etcd watch whose events are decoded once and dispatched to the client watchers,
which are indexed by ``spec.nodeName`` for pods (the cacher's ``IndexerFunc`` /
``NodeNameTriggerFunc``), so a pod's event reaches its node's kubelet and the unfiltered
watchers, not every kubelet. A watcher's history (a start below the current revision)
is replayed from etcd itself before it joins the cacher, so a start is readable exactly
as long as etcd keeps the revision (no ring buffer of its own, unlike upstream's cache).
"""

from __future__ import annotations

import copy
from bisect import insort
from collections.abc import Callable
from itertools import count
from typing import Any

from kbook.api import KubeObject, Pod
from kbook.controlplane.apiserver.errors import too_old_resource_version
from kbook.controlplane.apiserver.selectors import Matcher, parse_field_selector
from kbook.controlplane.apiserver.storage import Decoded
from kbook.controlplane.apiserver.types import ADDED, DELETED, ERROR, MODIFIED, WatchEvent, WatchHandler
from kbook.controlplane.etcd.types import DELETE, Event, Store, Watch, WatchResponse, prefix_end

__all__ = ["Watcher", "Cacher", "INDEXED_FIELDS", "index_value"]

# The field each kind's cacher indexes its watchers by (``IndexerFunc`` /
# ``NodeNameTriggerFunc`` in ``pkg/registry/core/pod/storage``): a watcher whose field
# selector says ``<field>=<value>`` only hears of objects whose field had that value
# before or after the change.
INDEXED_FIELDS: dict[type, tuple[str, Callable[[Any], str]]] = {
    Pod: ("spec.nodeName", lambda pod: pod.spec.node_name),
}


def index_value(cls: type[KubeObject], field_selector: str | None) -> str | None:
    """The value a field selector requires of ``cls``'s indexed field (``spec.nodeName=n1``
    gives ``n1``), or None when it requires none."""
    if cls not in INDEXED_FIELDS:
        return None
    field = INDEXED_FIELDS[cls][0]
    return next((value for name, equal, value in parse_field_selector(field_selector) if name == field and equal),
                None)


class _Change:
    """One etcd event, decoded once for every watcher (``watchCacheEvent``): the object
    after the change (None for a delete), the object before it, the change's revision and
    the key's version. The objects are ``decoded``'s, shared."""

    __slots__ = ("key", "cur", "prev", "revision", "version", "unfiltered", "_events")

    def __init__(self, cls: type[KubeObject], decoded: Decoded, event: Event) -> None:
        kv, prev_kv = event.kv, event.prev_kv
        self.key, self.revision, self.version = kv.key, kv.mod_revision, kv.version
        self.prev = None
        if prev_kv is not None and prev_kv.value:
            self.prev = decoded.object(cls, kv.key, prev_kv.value, prev_kv.mod_revision)
        if event.type == DELETE:
            decoded.forget(kv.key, kv.mod_revision)
            self.cur = None
        else:
            self.cur = decoded.object(cls, kv.key, kv.value, kv.mod_revision)
        self._events: dict[str, WatchEvent] = {}
        # what a watch without selectors hears: there is nothing to enter or leave
        if self.cur is not None:
            self.unfiltered: WatchEvent | None = self.event(ADDED if self.prev is None and self.version == 1
                                                            else MODIFIED)
        else:
            self.unfiltered = self.event(DELETED) if self.prev is not None else None

    def event(self, type_: str) -> WatchEvent:
        """The event of ``type_``, shared by watchers. DELETED carries the previous object
        with the change's resourceVersion (``cacheWatcher.convertToWatchEvent``)."""
        ev = self._events.get(type_)
        if ev is None:
            obj = _at_revision(self.prev, self.revision) if type_ == DELETED else self.cur
            ev = self._events[type_] = WatchEvent(type_, obj)
        return ev


def _at_revision(obj: KubeObject, revision: int) -> KubeObject:
    """``obj`` with its resourceVersion set to ``revision``: a copy sharing all but the metadata."""
    new = copy.copy(obj)
    new.metadata = copy.copy(obj.metadata)
    new.metadata.resource_version = str(revision)
    return new


class Watcher:
    """One client watch over a key prefix (``cacheWatcher``); :meth:`stop` ends it
    (``watch.Interface.Stop``). ``matches`` is None for a watch without selectors.
    ``index`` is the value of the cacher's indexed field the selector requires, if any."""

    def __init__(self, cls: type[KubeObject], decoded: Decoded, handler: WatchHandler, matches: Matcher | None,
                 requested: int, prefix: str = "", index: str | None = None) -> None:
        self._cls, self._decoded, self._handler, self._matches = cls, decoded, handler, matches
        self._requested = requested
        self.prefix, self.index = prefix, index
        self._everywhere = False  # the prefix is the whole resource's (all namespaces)
        self.seq = 0  # the cacher's arrival order: watchers hear of a revision in this order
        self.next_rev = 0  # the first revision the cacher sends; earlier ones came from etcd's replay
        self._cacher: Cacher | None = None
        self._watch: Watch | None = None
        self.stopped = False

    def start(self, store: Store, start_revision: int, cacher: Cacher | None = None) -> None:
        """Replay etcd's history from ``start_revision`` (inclusive) up to now, with previous
        values for filtering; then take live events from ``cacher`` or, without one, stay on
        the etcd watch. The watcher joins the cacher as etcd answers the watch's creation,
        so no revision is missed or sent twice."""
        self._cacher = cacher
        self._everywhere = cacher is not None and cacher.prefix == self.prefix
        watch = store.watch(self.prefix, self._on_response, range_end=prefix_end(self.prefix),
                            start_revision=start_revision, prev_kv=True)
        if self.stopped or cacher is not None:
            watch.cancel()
        else:
            self._watch = watch

    def send(self, type_: str, obj: object) -> None:
        if not self.stopped:
            self._handler(WatchEvent(type_, obj))

    def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            if self._watch is not None:
                self._watch.cancel()
            if self._cacher is not None:
                self._cacher.remove(self)

    def _on_response(self, resp: WatchResponse) -> None:
        if self.stopped:
            return
        if resp.canceled:
            if resp.compact_revision:
                self.send(ERROR, too_old_resource_version(self._requested, resp.compact_revision - 1))
            self.stop()
            return
        if resp.created and self._cacher is not None:
            self.next_rev = resp.header.revision + 1
            self._cacher.add(self)
        for event in resp.events:
            if self._cacher is not None and event.kv.mod_revision >= self.next_rev:
                continue  # the cacher sends it
            self.deliver(_Change(self._cls, self._decoded, event))

    def event_for(self, change: _Change) -> WatchEvent | None:
        """What one change means to this watch, if anything."""
        matches = self._matches
        if matches is None and self._everywhere:
            return change.unfiltered
        if not change.key.startswith(self.prefix):
            return None
        if matches is None:
            return change.unfiltered
        prev = change.prev
        if change.cur is None:
            return change.event(DELETED) if prev is not None and matches(prev) else None
        cur_passes = matches(change.cur)
        if prev is None:
            prev_passes = change.version > 1 and cur_passes  # a modification whose old value is gone
        else:
            prev_passes = matches(prev)
        if cur_passes:
            return change.event(MODIFIED if prev_passes else ADDED)
        if prev_passes and prev is not None:
            return change.event(DELETED)
        return None

    def deliver(self, change: _Change) -> bool:
        """Send ``change`` if this watcher wants it; whether it was sent."""
        event = self.event_for(change)
        if event is None or self.stopped:
            return False
        self._handler(event)
        return True


class Cacher:
    """The watch cache of one resource (``storage/cacher/cacher.go``): one etcd watch over
    the resource's prefix while anyone watches, each event decoded once, then dispatched
    (``dispatchEvent``) to the watchers that may want it, in the order they arrived:
    the unindexed ones and those indexed under the object's old or new value of the indexed
    field (``triggerValues`` / ``watchersBuffer``)."""

    def __init__(self, store: Store, cls: type[KubeObject], decoded: Decoded, prefix: str) -> None:
        self._store, self._cls, self._decoded, self.prefix = store, cls, decoded, prefix
        self._indexed_value = INDEXED_FIELDS[cls][1] if cls in INDEXED_FIELDS else None
        self._watch: Watch | None = None
        self._seq = count(1)
        self._unindexed: list[Watcher] = []  # in arrival order
        self._by_index: dict[str, list[Watcher]] = {}  # indexed value -> watchers, in arrival order
        self.changes = 0  # etcd events received
        self.delivered = 0  # watch events sent to clients: the fan-out

    def start(self) -> None:
        """Watch etcd from the next revision, unless already watching."""
        if self._watch is None:
            self._watch = self._store.watch(self.prefix, self._on_response, range_end=prefix_end(self.prefix),
                                            prev_kv=True)

    def add(self, watcher: Watcher) -> None:
        self.start()
        watcher.seq = next(self._seq)
        self._group(watcher).append(watcher)

    def remove(self, watcher: Watcher) -> None:
        """Forget ``watcher``; stop watching etcd when no one is left."""
        group = self._group(watcher)
        if watcher in group:
            group.remove(watcher)
        if not group and group is not self._unindexed:
            del self._by_index[watcher.index]  # type: ignore[arg-type]
        if not self._unindexed and not self._by_index and self._watch is not None:
            self._watch.cancel()
            self._watch = None

    def _group(self, watcher: Watcher) -> list[Watcher]:
        if watcher.index is not None and self._indexed_value is not None:
            return self._by_index.setdefault(watcher.index, [])
        return self._unindexed

    def _targets(self, changes: list[_Change]) -> list[Watcher]:
        """The watchers to tell, in arrival order."""
        targets = list(self._unindexed)
        if self._by_index:
            values = {self._indexed_value(o) for c in changes for o in (c.cur, c.prev) if o is not None}
            for value in sorted(values):
                for watcher in self._by_index.get(value, ()):
                    insort(targets, watcher, key=_seq)
        return targets

    def _on_response(self, resp: WatchResponse) -> None:
        if not resp.events:
            return
        revision = resp.header.revision
        changes = [_Change(self._cls, self._decoded, event) for event in resp.events]
        self.changes += len(changes)
        for watcher in self._targets(changes):
            if revision >= watcher.next_rev:
                for change in changes:
                    self.delivered += watcher.deliver(change)

    @property
    def watchers(self) -> int:
        return len(self._unindexed) + sum(map(len, self._by_index.values()))


def _seq(watcher: Watcher) -> int:
    return watcher.seq
