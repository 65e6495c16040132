"""The garbage collector (``pkg/controller/garbagecollector``), for a fixed set of kinds.

Background: an object whose ownerReferences all name owners that are gone (no object of
that kind and name, or one with another uid) is deleted. Foreground: while an owner is
being deleted with the ``foregroundDeletion`` finalizer, its dependents are deleted
(themselves in the foreground), and once none with ``blockOwnerDeletion`` is left the
finalizer is removed, which lets the API server delete the owner. Orphan: the ``orphan``
finalizer makes the collector strip the owner's references from its dependents, then remove
the finalizer.

Simplified: upstream keeps a graph of every resource (``GraphBuilder``, discovery of all
kinds); here the graph is the shared informers' owner-uid indexes over ``kinds``. Dangling
references of objects that still have a live owner are not removed.
"""

from __future__ import annotations

import simpy

from kbook.api import KINDS, KubeObject
from kbook.controlplane.apiserver.types import API, NotFound
from kbook.controlplane.controllers.base import QueueController
from kbook.controlplane.controllers.controller_utils import deep_copy
from kbook.controlplane.controllers.informer import EventHandler, InformerFactory
from kbook.eventlog import EventLog

__all__ = ["GarbageCollector", "FINALIZER_ORPHAN", "FINALIZER_FOREGROUND", "GC_KINDS"]

FINALIZER_ORPHAN = "orphan"
FINALIZER_FOREGROUND = "foregroundDeletion"
GC_KINDS = ("Deployment", "ReplicaSet", "Pod")

_DEPENDENT, _OWNER = "dependent", "owner"


class GarbageCollector(QueueController):
    """``GarbageCollector``: one queue of (role, kind, key) items, ``attemptToDelete`` for
    dependents and ``processDeletingOwner`` for owners being deleted with a GC finalizer."""

    name = "garbage-collector-controller"

    def __init__(self, env: simpy.Environment, api: API, *, informers: InformerFactory | None = None,
                 log: EventLog | None = None, kinds: tuple[str, ...] = GC_KINDS):
        super().__init__(env, api, informers=informers, log=log)
        self.kinds = kinds
        for kind in kinds:
            self.informers.informer(kind).add_event_handler(EventHandler(
                lambda o, k=kind: self._changed(k, o), lambda old, cur, k=kind: self._changed(k, cur),
                lambda o, k=kind: self._deleted(o)))

    def _changed(self, kind: str, obj: KubeObject) -> None:
        if obj.metadata.owner_references:
            self.queue.add((_DEPENDENT, kind, obj.key))
        if obj.metadata.deletion_timestamp is not None and {FINALIZER_ORPHAN, FINALIZER_FOREGROUND} & set(
                obj.metadata.finalizers):
            self.queue.add((_OWNER, kind, obj.key))

    def _deleted(self, obj: KubeObject) -> None:
        """An owner went: examine its dependents; a dependent went: its deleting owners."""
        for kind, dep in self._dependents(obj.metadata.uid):
            self.queue.add((_DEPENDENT, kind, dep.key))
        for ref in obj.metadata.owner_references:
            if ref.kind in self.kinds:
                self.queue.add((_OWNER, ref.kind, self._owner_key(obj, ref.name, ref.kind)))

    @staticmethod
    def _owner_key(dependent: KubeObject, name: str, kind: str) -> str:
        """The cache key of an owner: owners are in the dependent's namespace unless cluster-scoped."""
        namespaced = next((cls.NAMESPACED for (_, k), cls in KINDS.items() if k == kind), True)
        return f"{dependent.metadata.namespace}/{name}" if namespaced else name

    def _dependents(self, uid: str) -> list[tuple[str, KubeObject]]:
        return [(kind, o) for kind in self.kinds for o in self.informers.informer(kind).indexer.by_owner(uid)]

    def sync(self, item: tuple[str, str, str]) -> None:  # type: ignore[override]
        role, kind, key = item
        obj = self.informers.informer(kind).indexer.get(key)
        if obj is None:
            return
        if role == _DEPENDENT:
            self._attempt_to_delete(kind, obj)
        else:
            self._process_deleting_owner(kind, obj)

    def _owner(self, dependent: KubeObject, ref) -> KubeObject | None:
        """The live owner a reference names (by uid), from the cache or else the API."""
        if ref.kind in self.kinds:
            cached = self.informers.informer(ref.kind).indexer.get(self._owner_key(dependent, ref.name, ref.kind))
            if cached is not None and cached.metadata.uid == ref.uid:
                return cached
        try:
            owner = self.api.get(ref.kind, ref.name, dependent.metadata.namespace or None)
        except NotFound:
            return None
        return owner if owner.metadata.uid == ref.uid else None

    def _attempt_to_delete(self, kind: str, obj: KubeObject) -> None:
        """``attemptToDeleteItem``."""
        if obj.metadata.deletion_timestamp is not None and FINALIZER_FOREGROUND not in obj.metadata.finalizers:
            return
        owners = [o for ref in obj.metadata.owner_references if (o := self._owner(obj, ref)) is not None]
        if not owners:
            policy = "Orphan" if FINALIZER_ORPHAN in obj.metadata.finalizers else (
                "Foreground" if FINALIZER_FOREGROUND in obj.metadata.finalizers else "Background")
            self._delete(kind, obj, policy, "all owners are gone")
        elif all(o.metadata.deletion_timestamp is not None and FINALIZER_FOREGROUND in o.metadata.finalizers
                 for o in owners) and obj.metadata.deletion_timestamp is None:
            self._delete(kind, obj, "Foreground", "owners are being deleted in the foreground")

    def _delete(self, kind: str, obj: KubeObject, policy: str, why: str) -> None:
        try:
            self.api.delete(kind, obj.metadata.name, obj.metadata.namespace or None, propagation_policy=policy)
        except NotFound:
            return
        self.record("Delete", f"{kind} {obj.key}", f"{why} (propagationPolicy={policy})")

    def _process_deleting_owner(self, kind: str, owner: KubeObject) -> None:
        """``orphanDependents`` / foreground: act on dependents, then drop the finalizer."""
        uid = owner.metadata.uid
        if owner.metadata.deletion_timestamp is None:
            return
        dependents = self._dependents(uid)
        if FINALIZER_ORPHAN in owner.metadata.finalizers:
            for dep_kind, dep in dependents:
                updated = deep_copy(dep)
                updated.metadata.owner_references = [r for r in dep.metadata.owner_references if r.uid != uid]
                try:
                    self.api.update(updated)
                except NotFound:
                    pass
            self._remove_finalizer(kind, owner, FINALIZER_ORPHAN)
        elif FINALIZER_FOREGROUND in owner.metadata.finalizers:
            blocking = [(k, d) for k, d in dependents
                        if any(r.uid == uid and r.block_owner_deletion for r in d.metadata.owner_references)]
            for dep_kind, dep in dependents:
                if dep.metadata.deletion_timestamp is None:
                    self._delete(dep_kind, dep, "Foreground", f"owner {kind} {owner.key} is deleted in the foreground")
            if not blocking:
                self._remove_finalizer(kind, owner, FINALIZER_FOREGROUND)

    def _remove_finalizer(self, kind: str, owner: KubeObject, finalizer: str) -> None:
        updated = deep_copy(owner)
        updated.metadata.finalizers = [f for f in owner.metadata.finalizers if f != finalizer]
        try:
            self.api.update(updated)
        except NotFound:
            return
        self.record("RemoveFinalizer", f"{kind} {owner.key}", finalizer)
