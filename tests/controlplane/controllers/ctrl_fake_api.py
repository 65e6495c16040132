"""A small in-memory API for the controller tests that inject faults (``fail``) or end
watches with 410 Expired (``expire_watches``): resourceVersions, generateName, uids,
generation, finalizers, graceful pod deletion and synchronous watches."""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass
from typing import Any, Callable

from kbook.api import KubeObject
from kbook.controlplane.apiserver.types import (
    ADDED,
    DELETED,
    ERROR,
    MODIFIED,
    AlreadyExists,
    APIError,
    Conflict,
    Expired,
    NotFound,
    ObjectList,
    WatchEvent,
)
from kbook.controlplane.controllers.timeutil import rfc3339


@dataclass
class _Watch:
    kind: str
    namespace: str | None
    handler: Callable[[WatchEvent], None]
    active: bool = True

    def stop(self) -> None:
        self.active = False


class FakeAPI:
    def __init__(self, env):
        self.env = env
        self.objects: dict[str, dict[str, KubeObject]] = {}
        self.rv = 0
        self.watches: list[_Watch] = []
        self._names = itertools.count()
        self.fail: Callable[[str, KubeObject], APIError | None] | None = None  # (verb, obj) -> error

    def _key(self, namespace: str | None, name: str) -> str:
        return f"{namespace}/{name}" if namespace else name

    def _emit(self, kind: str, etype: str, obj: KubeObject) -> None:
        for w in list(self.watches):
            if w.active and w.kind == kind and (w.namespace is None or w.namespace == obj.metadata.namespace):
                w.handler(WatchEvent(etype, copy.deepcopy(obj)))

    def _check(self, verb: str, obj: KubeObject) -> None:
        if self.fail is not None and (err := self.fail(verb, obj)) is not None:
            raise err

    def _store(self, obj: KubeObject) -> dict[str, KubeObject]:
        return self.objects.setdefault(obj.KIND, {})

    def create(self, obj: KubeObject) -> KubeObject:
        obj = copy.deepcopy(obj)
        if obj.NAMESPACED and not obj.metadata.namespace:
            obj.metadata.namespace = "default"
        if not obj.metadata.name:
            obj.metadata.name = f"{obj.metadata.generate_name}{next(self._names):05d}"
        self._check("create", obj)
        store = self._store(obj)
        if obj.key in store:
            raise AlreadyExists(f'{obj.KIND.lower()}s "{obj.metadata.name}" already exists')
        self.rv += 1
        obj.metadata.uid = f"uid-{self.rv}"
        obj.metadata.resource_version = str(self.rv)
        obj.metadata.generation = 1
        obj.metadata.creation_timestamp = rfc3339(self.env.now)
        store[obj.key] = obj
        self._emit(obj.KIND, ADDED, obj)
        return copy.deepcopy(obj)

    def get(self, kind: str, name: str, namespace: str | None = None) -> KubeObject:
        for obj in self.objects.get(kind, {}).values():
            if obj.metadata.name == name and (namespace is None or obj.metadata.namespace == namespace):
                return copy.deepcopy(obj)
        raise NotFound(f'{kind.lower()}s "{name}" not found')

    def list(self, kind: str, namespace: str | None = None, label_selector: str | None = None,
             field_selector: str | None = None) -> ObjectList:
        items = [copy.deepcopy(o) for k, o in sorted(self.objects.get(kind, {}).items())
                 if namespace is None or o.metadata.namespace == namespace]
        return ObjectList(tuple(items), str(self.rv))

    def _current(self, obj: KubeObject) -> KubeObject:
        cur = self.objects.get(obj.KIND, {}).get(obj.key)
        if cur is None:
            raise NotFound(f'{obj.KIND.lower()}s "{obj.metadata.name}" not found')
        if obj.metadata.resource_version and obj.metadata.resource_version != cur.metadata.resource_version:
            raise Conflict(f'Operation cannot be fulfilled on {obj.KIND.lower()}s "{obj.metadata.name}": '
                           "the object has been modified; please apply your changes to the latest version "
                           "and try again")
        return cur

    def _write(self, new: KubeObject) -> KubeObject:
        self.rv += 1
        new.metadata.resource_version = str(self.rv)
        store = self._store(new)
        if new.metadata.deletion_timestamp is not None and not new.metadata.finalizers and new.KIND != "Pod":
            del store[new.key]
            self._emit(new.KIND, DELETED, new)
        else:
            store[new.key] = new
            self._emit(new.KIND, MODIFIED, new)
        return copy.deepcopy(new)

    def update(self, obj: KubeObject) -> KubeObject:
        self._check("update", obj)
        cur = self._current(obj)
        new = copy.deepcopy(obj)
        for attr in ("uid", "creation_timestamp", "deletion_timestamp", "generation"):
            setattr(new.metadata, attr, getattr(cur.metadata, attr))
        if hasattr(cur, "status"):
            new.status = copy.deepcopy(cur.status)
        if getattr(new, "spec", None) != getattr(cur, "spec", None):
            new.metadata.generation += 1
        return self._write(new)

    def update_status(self, obj: KubeObject) -> KubeObject:
        self._check("update_status", obj)
        cur = self._current(obj)
        new = copy.deepcopy(cur)
        new.status = copy.deepcopy(obj.status)
        if obj.KIND == "Deployment":  # deploymentStatusStrategy keeps the request's annotations
            new.metadata.annotations = dict(obj.metadata.annotations)
        return self._write(new)

    def patch(self, kind: str, name: str, patch: dict[str, Any], namespace: str | None = None) -> KubeObject:
        raise NotImplementedError

    def delete(self, kind: str, name: str, namespace: str | None = None, resource_version: str | None = None,
               propagation_policy: str | None = None) -> KubeObject | None:
        cur = self.get(kind, name, namespace)
        self._check("delete", cur)
        finalizers = list(cur.metadata.finalizers)
        if propagation_policy == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        if propagation_policy == "Orphan" and "orphan" not in finalizers:
            finalizers.append("orphan")
        graceful = kind == "Pod" and cur.spec.node_name and cur.status.phase not in ("Succeeded", "Failed")
        if finalizers or graceful:
            if cur.metadata.deletion_timestamp is None:
                cur.metadata.deletion_timestamp = rfc3339(self.env.now)
                cur.metadata.finalizers = finalizers
                return self._write(cur)
            return cur
        self.rv += 1
        del self.objects[kind][cur.key]
        cur.metadata.resource_version = str(self.rv)
        self._emit(kind, DELETED, cur)
        return cur

    def watch(self, kind: str, handler: Callable[[WatchEvent], None], namespace: str | None = None,
              resource_version: str = "", label_selector: str | None = None,
              field_selector: str | None = None) -> _Watch:
        w = _Watch(kind, namespace, handler)
        self.watches.append(w)
        return w

    def expire_watches(self, kind: str) -> None:
        """End every watch of ``kind`` with an ERROR 410 Expired (compaction overtook it)."""
        for w in self.watches:
            if w.active and w.kind == kind:
                w.active = False
                w.handler(WatchEvent(ERROR, Expired("too old resource version: 1 (5)")))

    def all(self, kind: str) -> list[KubeObject]:
        return [copy.deepcopy(o) for _, o in sorted(self.objects.get(kind, {}).items())]
