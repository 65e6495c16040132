"""client-go's shared informer (``tools/cache``): a reflector that LISTs then WATCHes one
kind, an indexer that caches what it saw, and the add/update/delete handlers of every
controller that shares it.

Watch handlers run synchronously when a write commits; the informer only puts the event in
a ``simpy.Store`` and applies it in its own SimPy process (``reflector.go`` ``watchHandler``
-> DeltaFIFO -> ``sharedIndexInformer.HandleDeltas``). Every event queued by the time the
process runs is applied in that one step, as a DeltaFIFO that keeps up with its stream pops
them back to back, so a worker that runs next does not act on a cache missing events that
had already arrived (and writes from stale copies, which fail with Conflict, stay rare). A
watch ERROR (410 Expired when the watch fell behind compaction) ends the watch and the
reflector LISTs again, after the ListAndWatch backoff (800 ms doubling to 30 s, reset after
2 min healthy); so does a failed LIST or WATCH request. Left out: the 12-24 h resync, watch
timeouts and bookmarks, paged lists.

Node agents (the kubelet, kube-proxy) use the same reflector with ``synchronous=True``: the
first LIST and WATCH are tried in ``start()`` and watch events reach the handlers as they
commit (no hop through the process), as those components handled them before they had a
reflector; failures and watch ends still go through the backoff and a fresh LIST.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np
import simpy

from kbook.api import KubeObject, LabelSelector
from kbook.controlplane.apiserver.types import BOOKMARK, DELETED, ERROR, API, APIError, WatchEvent
from kbook.controlplane.controllers.controller_utils import label_selector_as_selector
from kbook.eventlog import EventLog

__all__ = ["Indexer", "EventHandler", "SharedInformer", "InformerFactory", "owner_uids"]

IndexFunc = Callable[[KubeObject], Iterable[str]]

# ListAndWatch backoff: NewExponentialBackoffManager(800ms, 30s, 2m, 2.0, 1.0)
BACKOFF_INITIAL, BACKOFF_CAP, BACKOFF_RESET, BACKOFF_JITTER = 0.8, 30.0, 120.0, 1.0


def owner_uids(obj: KubeObject) -> list[str]:
    return [ref.uid for ref in obj.metadata.owner_references]


class Indexer:
    """``cache.Indexer``: objects by ``namespace/name`` key, plus named secondary indexes
    (``namespace`` and ``owner`` uid are built in; controllers add e.g. ``nodeName``).
    An index is built the first time it is read and kept up to date from then on, so a
    cache nobody queries by index (a node agent's) costs only its dict."""

    def __init__(self) -> None:
        self._items: dict[str, KubeObject] = {}
        self._funcs: dict[str, IndexFunc] = {}
        self._indexes: dict[str, dict[str, set[str]]] = {}  # the indexes built so far
        self.add_index("namespace", lambda o: [o.metadata.namespace])
        self.add_index("owner", owner_uids)

    def add_index(self, name: str, func: IndexFunc) -> None:
        """Add a named index (a no-op if one of that name exists)."""
        self._funcs.setdefault(name, func)

    def _index(self, name: str) -> dict[str, set[str]]:
        """Index ``name``: value -> keys, built on first use."""
        index = self._indexes.get(name)
        if index is None:
            func, index = self._funcs[name], {}
            for key, obj in self._items.items():
                for value in func(obj):
                    index.setdefault(value, set()).add(key)
            self._indexes[name] = index
        return index

    def _update_indexes(self, key: str, old: KubeObject | None, new: KubeObject | None) -> None:
        """Move ``key`` in each built index from ``old``'s values to ``new``'s; entries are
        only touched where the values changed (``threadSafeMap.updateIndices``)."""
        for name, index in self._indexes.items():
            func = self._funcs[name]
            old_values = [] if old is None else list(func(old))
            values = [] if new is None else list(func(new))
            if values == old_values:
                continue
            for value in old_values:
                keys = index.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del index[value]
            for value in values:
                index.setdefault(value, set()).add(key)

    def put(self, obj: KubeObject) -> KubeObject | None:
        """Store ``obj``; return the object it replaced."""
        key = obj.key
        old = self._items.get(key)
        self._items[key] = obj
        if self._indexes:
            self._update_indexes(key, old, obj)
        return old

    def remove(self, key: str) -> KubeObject | None:
        old = self._items.pop(key, None)
        if old is not None and self._indexes:
            self._update_indexes(key, old, None)
        return old

    def get(self, key: str) -> KubeObject | None:
        return self._items.get(key)

    def keys(self) -> list[str]:
        return sorted(self._items)

    def list(self, namespace: str | None = None) -> list[KubeObject]:
        if namespace is None:
            return [self._items[k] for k in sorted(self._items)]
        return self.by_index("namespace", namespace)

    def by_index(self, name: str, value: str) -> list[KubeObject]:
        return [self._items[k] for k in sorted(self._index(name).get(value, ()))]

    def by_owner(self, uid: str) -> list[KubeObject]:
        """Objects with an ownerReference to ``uid``."""
        return self.by_index("owner", uid)

    def by_labels(self, selector: LabelSelector, namespace: str | None = None) -> list[KubeObject]:
        """Objects whose labels match ``selector`` (an empty selector matches all)."""
        matches = label_selector_as_selector(selector)
        return [o for o in self.list(namespace) if matches(o.metadata.labels)]

    def __len__(self) -> int:
        return len(self._items)


@dataclass
class EventHandler:
    """``cache.ResourceEventHandlerFuncs``."""

    on_add: Callable[[Any], None] | None = None
    on_update: Callable[[Any, Any], None] | None = None
    on_delete: Callable[[Any], None] | None = None


class SharedInformer:
    """``sharedIndexInformer`` for one kind (optionally one namespace)."""

    def __init__(self, env: simpy.Environment, api: API, kind: str, *, namespace: str | None = None,
                 log: EventLog | None = None, rng: np.random.Generator | None = None,
                 field_selector: str | None = None, label_selector: str | None = None,
                 synchronous: bool = False, component: str = "reflector"):
        self.env, self.api, self.kind, self.namespace = env, api, kind, namespace
        self.log, self.rng = log, rng
        # NewFilteredSharedInformer's tweakListOptions: every LIST and WATCH carries these
        self.field_selector, self.label_selector = field_selector, label_selector
        self.synchronous, self.component = synchronous, component
        self.indexer = Indexer()
        self.handlers: list[EventHandler] = []
        self.last_sync_resource_version = ""
        self.lists = 0  # how many LISTs the reflector made
        self._synced = False
        self._events: simpy.Store = simpy.Store(env)
        self._watch: Any = None
        self._generation = 0  # events of a superseded watch are ignored
        self._process: simpy.Process | None = None
        self._backoff = 0.0
        self._healthy_since = 0.0
        self._stopped = False

    def add_event_handler(self, handler: EventHandler) -> None:
        """Register ``handler``; it is first told about every cached object (as client-go does)."""
        self.handlers.append(handler)
        if handler.on_add:
            for obj in self.indexer.list():
                handler.on_add(obj)

    def has_synced(self) -> bool:
        """True once the first LIST has been delivered to the handlers."""
        return self._synced

    def start(self) -> None:
        if self._process is not None or self._stopped:
            return
        if not self.synchronous:
            self._process = self.env.process(self._run())
            return
        try:
            self._list_and_watch()
            self._process = self.env.event()  # started; nothing to wait for
        except APIError as err:
            self._record("ListAndWatchFailed", str(err))
            self._process = self.env.process(self._relist(self._next_backoff()))

    def stop(self) -> None:
        self._stopped = True
        self._stop_watch()
        self._events.put(None)

    @property
    def running(self) -> bool:
        return self._process is not None and not self._stopped

    def _stop_watch(self) -> None:
        if self._watch is not None:
            self._watch.stop()
            self._watch = None

    def _record(self, verb: str, detail: str = "") -> None:
        if self.log is not None:
            self.log.record(self.env.now, self.component, verb, self.kind, detail)

    def _run(self):
        """``Reflector.ListAndWatch`` under ``wait.BackoffUntil``."""
        while True:
            try:
                self._list_and_watch()
            except APIError as err:
                self._record("ListAndWatchFailed", str(err))
                yield self.env.timeout(self._next_backoff())
                if self._stopped:
                    return
                continue
            closed = False
            while not closed:
                batch = [(yield self._events.get())]
                # Pop every event already queued in one go (DeltaFIFO.Pop runs back to back),
                # so no worker acts on a cache that is missing events that arrived before.
                batch += self._events.items
                self._events.items.clear()
                for item in batch:
                    if item is None:
                        return
                    generation, event = item
                    if generation != self._generation:
                        continue
                    if event.type == ERROR:
                        self._record("WatchClosed", str(event.object))
                        self._stop_watch()
                        closed = True
                        break
                    self._apply(event)
            yield self.env.timeout(self._next_backoff())
            if self._stopped:
                return

    def _relist(self, delay: float):
        """``synchronous`` mode: after ``delay``, LIST and WATCH again until both succeed."""
        while True:
            yield self.env.timeout(delay)
            if self._stopped:
                return
            try:
                self._list_and_watch()
                return
            except APIError as err:
                self._record("ListAndWatchFailed", str(err))
                delay = self._next_backoff()

    def _on_watch_event(self, generation: int, event: WatchEvent) -> None:
        """``synchronous`` mode: apply an event as it arrives; an ERROR ends the watch and
        LISTs again after the backoff."""
        if generation != self._generation or self._stopped:
            return
        if event.type != ERROR:
            self._apply(event)
            return
        self._record("WatchClosed", str(event.object))
        self._stop_watch()
        self._generation += 1
        self._process = self.env.process(self._relist(self._next_backoff()))

    def _next_backoff(self) -> float:
        """``ExponentialBackoffManager.Backoff``: jittered delay, doubled each time, reset after
        ``BACKOFF_RESET`` seconds without one."""
        if self.env.now - self._healthy_since > BACKOFF_RESET:
            self._backoff = 0.0
        self._backoff = BACKOFF_INITIAL if self._backoff == 0 else min(self._backoff * 2, BACKOFF_CAP)
        self._healthy_since = self.env.now
        jitter = self.rng.random() * BACKOFF_JITTER if self.rng is not None else 0.0
        return self._backoff * (1 + jitter)

    def _list_and_watch(self) -> None:
        """LIST, replace the cache, then WATCH from the list's resourceVersion."""
        selectors = {k: v for k, v in (("label_selector", self.label_selector),
                                       ("field_selector", self.field_selector)) if v is not None}
        result = self.api.list(self.kind, namespace=self.namespace, **selectors)
        self.lists += 1
        self._replace(result.items)
        self.last_sync_resource_version = result.resource_version
        self._generation += 1
        generation = self._generation
        if self.synchronous:
            handler = lambda ev: self._on_watch_event(generation, ev)  # noqa: E731
        else:
            handler = lambda ev: self._events.put((generation, ev))  # noqa: E731
        self._watch = self.api.watch(self.kind, handler, namespace=self.namespace,
                                     resource_version=result.resource_version, **selectors)
        self._synced = True

    def _replace(self, items: Iterable[KubeObject]) -> None:
        """``DeltaFIFO.Replace``: adds and updates for listed objects, deletes for the rest."""
        fresh = {obj.key: obj for obj in items}
        for key in self.indexer.keys():
            if key not in fresh:
                self._deliver(WatchEvent(DELETED, self.indexer.get(key)))
        for obj in fresh.values():
            old = self.indexer.put(obj)
            self._notify(old, obj)

    def _apply(self, event: WatchEvent) -> None:
        if event.type == BOOKMARK:
            self.last_sync_resource_version = event.object.metadata.resource_version
            return
        self.last_sync_resource_version = event.object.metadata.resource_version or self.last_sync_resource_version
        self._deliver(event)

    def _deliver(self, event: WatchEvent) -> None:
        obj = event.object
        if event.type == DELETED:
            old = self.indexer.remove(obj.key)
            for h in self.handlers:
                if h.on_delete:
                    h.on_delete(old if old is not None else obj)
            return
        self._notify(self.indexer.put(obj), obj)

    def _notify(self, old: KubeObject | None, new: KubeObject) -> None:
        for h in self.handlers:
            if old is None:
                if h.on_add:
                    h.on_add(new)
            elif h.on_update:
                h.on_update(old, new)


class InformerFactory:
    """``SharedInformerFactory``: one informer per (kind, namespace), shared by controllers."""

    def __init__(self, env: simpy.Environment, api: API, *, log: EventLog | None = None,
                 rng: np.random.Generator | None = None):
        self.env, self.api, self.log, self.rng = env, api, log, rng
        self.informers: dict[tuple[str, str | None], SharedInformer] = {}
        self._started = False

    def informer(self, kind: str, namespace: str | None = None) -> SharedInformer:
        key = (kind, namespace)
        if key not in self.informers:
            inf = SharedInformer(self.env, self.api, kind, namespace=namespace, log=self.log, rng=self.rng)
            self.informers[key] = inf
            if self._started:
                inf.start()
        return self.informers[key]

    def start(self) -> None:
        self._started = True
        for inf in self.informers.values():
            inf.start()

    def stop(self) -> None:
        for inf in self.informers.values():
            inf.stop()

    def has_synced(self) -> bool:
        return all(inf.has_synced() for inf in self.informers.values())

