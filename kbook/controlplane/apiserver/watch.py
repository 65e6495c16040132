"""A WATCH: etcd watch responses turned into ADDED / MODIFIED / DELETED events of
objects, filtered by selectors as the watch cache filters them
(``storage/cacher/cache_watcher.go`` ``convertToWatchEvent``: an object that stops
matching arrives as DELETED, one that starts matching as ADDED), and a compacted start
as an ERROR event carrying Expired (``storage/cacher/watch_cache.go``)."""

from __future__ import annotations

from kbook.api import KubeObject
from kbook.controlplane.apiserver.errors import too_old_resource_version
from kbook.controlplane.apiserver.selectors import Matcher
from kbook.controlplane.apiserver.storage import decode
from kbook.controlplane.apiserver.types import ADDED, DELETED, ERROR, MODIFIED, WatchEvent, WatchHandler
from kbook.controlplane.etcd.types import DELETE, KeyValue, Store, Watch, WatchResponse, prefix_end

__all__ = ["Watcher"]


class Watcher:
    """One client watch over a key prefix; :meth:`stop` ends it (``watch.Interface.Stop``)."""

    def __init__(self, cls: type[KubeObject], handler: WatchHandler, matches: Matcher, requested: int) -> None:
        self._cls, self._handler, self._matches, self._requested = cls, handler, matches, requested
        self._watch: Watch | None = None
        self.stopped = False

    def start(self, store: Store, prefix: str, start_revision: int) -> None:
        """Watch etcd from ``start_revision`` (inclusive), with previous values for filtering."""
        watch = store.watch(prefix, self._on_response, range_end=prefix_end(prefix),
                            start_revision=start_revision, prev_kv=True)
        if self.stopped:
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

    def _on_response(self, resp: WatchResponse) -> None:
        if self.stopped:
            return
        if resp.canceled:
            if resp.compact_revision:
                self.send(ERROR, too_old_resource_version(self._requested, resp.compact_revision - 1))
            self.stopped = True
            return
        for event in resp.events:
            self._on_event(event.type, event.kv, event.prev_kv)

    def _on_event(self, type_: str, kv: KeyValue, prev_kv: KeyValue | None) -> None:
        prev = decode(self._cls, prev_kv.value, prev_kv.mod_revision) if prev_kv is not None and prev_kv.value else None
        if type_ == DELETE:
            if prev is not None and self._matches(prev):
                prev.metadata.resource_version = str(kv.mod_revision)
                self.send(DELETED, prev)
            return
        cur = decode(self._cls, kv.value, kv.mod_revision)
        cur_passes = self._matches(cur)
        if prev is None:
            prev_passes = kv.version > 1 and cur_passes  # a modification whose old value is gone
        else:
            prev_passes = self._matches(prev)
        if cur_passes:
            self.send(MODIFIED if prev_passes else ADDED, cur)
        elif prev_passes and prev is not None:
            prev.metadata.resource_version = str(kv.mod_revision)
            self.send(DELETED, prev)
