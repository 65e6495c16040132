"""The API server: the REST verbs over an etcd store, as the generic registry
(``registry/generic/registry/store.go`` with ``registry/rest/{create,update,delete}.go``)
and the etcd3 storage (``storage/etcd3/store.go``) implement them.

Simplifications, each deliberate: the only admission is ``TaintNodesByCondition``
(:mod:`~kbook.controlplane.apiserver.admission`; a namespace need not exist), no update
validation beyond ``metadata.uid`` and finalizers on deleting objects (so ``spec.nodeName``
may also be set with an update or patch; schedulers use :meth:`APIServer.bind`), status writes take
only ``status`` (and a Deployment's annotations), watches are served by one watch cache
per resource that replays a past start from etcd's own history (no ring buffer; an
expired start is reported in the cache's words; see
:mod:`~kbook.controlplane.apiserver.watch`), and Pod graceful deletion is two steps: a
DELETE stamps ``deletionTimestamp = now + grace`` and keeps the pod; a DELETE with grace 0
(the kubelet confirming) removes it.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from kbook.api import KubeObject, default, dump
from kbook.api.codec import decode_object
from kbook.api.model import GoLiteral
from kbook.api.strategy import prepare_for_create as scope_namespace
from kbook.api.strategy import validate_defaulted
from kbook.controlplane.apiserver import strategy
from kbook.controlplane.apiserver.admission import admit_create
from kbook.controlplane.apiserver.binding import assign_pod
from kbook.controlplane.apiserver.errors import (
    already_exists,
    conflict,
    generate_name_conflict,
    invalid,
    not_found,
    precondition_failed,
)
from kbook.controlplane.apiserver.mergepatch import merge_patch
from kbook.controlplane.apiserver.metadata import generate_name, new_uid, parse_timestamp, timestamp
from kbook.controlplane.apiserver.resources import Resource, resource_for, resource_of
from kbook.controlplane.apiserver.selectors import matcher
from kbook.controlplane.apiserver.storage import Decoded, Storage, Stored, encode
from kbook.controlplane.apiserver.types import ADDED, BadRequest, NotFound, ObjectList, WatchHandler
from kbook.controlplane.apiserver.watch import Cacher, Watcher, index_value
from kbook.controlplane.etcd.embedded import EmbeddedEtcd
from kbook.controlplane.etcd.types import Store
from kbook.errors import FieldError, go_value

__all__ = ["APIServer", "MAX_NAME_GENERATION_CREATE_ATTEMPTS"]

MAX_NAME_GENERATION_CREATE_ATTEMPTS = 8  # maxNameGenerationCreateAttempts (RetryGenerateName)

Mutation = Callable[[KubeObject], KubeObject]


class APIServer:
    """kube-apiserver's storage path over ``store``. ``clock`` gives simulated seconds
    (timestamps count from :data:`~kbook.controlplane.apiserver.metadata.EPOCH`), ``rng``
    draws generated names and uids; the same seed gives the same names and uids.
    Thread-safe as far as the store is: every write is an etcd compare-and-swap."""

    def __init__(self, store: Store, clock: Callable[[], float] | None = None,
                 rng: np.random.Generator | None = None) -> None:
        self.store = store
        self.clock = clock or (lambda: 0.0)
        self._rng = rng if rng is not None else np.random.default_rng(0)
        self._rng_lock = threading.Lock()
        self._cachers: dict[str, Cacher] = {}  # by resource prefix
        self._decoded = Decoded()
        self._storages: dict[Resource, Storage] = {}

    # -- reads --------------------------------------------------------------------------

    def get(self, kind: str, name: str, namespace: str | None = None) -> KubeObject:
        res = _resource(kind)
        if not name:
            raise BadRequest("resource name may not be empty")
        return copy.deepcopy(self._read(res, res.namespace(namespace), name).obj)

    def list(self, kind: str, namespace: str | None = None, label_selector: str | None = None,
             field_selector: str | None = None) -> ObjectList:
        """``GetList``: matching objects in key order; the list RV is the header revision."""
        res = _resource(kind)
        matches = matcher(res.cls, label_selector, field_selector)
        items, revision = self._storage(res).list(res.list_prefix(namespace))
        return ObjectList(tuple(copy.deepcopy(o) for o in items if matches(o)), str(revision))

    def watch(self, kind: str, handler: WatchHandler, namespace: str | None = None, resource_version: str = "",
              label_selector: str | None = None, field_selector: str | None = None) -> Watcher:
        """Events to ``handler`` as writes commit. RV ``""`` or ``"0"``: a synthetic ADDED per
        current object first; ``"N"``: only changes after N (an ERROR event carrying Expired
        when N is compacted away)."""
        res = _resource(kind)
        matches = matcher(res.cls, label_selector, field_selector)
        prefix = res.list_prefix(namespace)
        requested = _parse_resource_version(resource_version)
        selective = bool(label_selector or field_selector)
        watcher = Watcher(res.cls, self._decoded, handler, matches if selective else None, requested, prefix,
                          index_value(res.cls, field_selector))
        if requested == 0:
            items, revision = self._storage(res).list(prefix)
            for obj in items:
                if matches(obj):
                    watcher.send(ADDED, obj)
            requested = revision
        watcher.start(self.store, requested + 1, self._cacher(res))
        return watcher

    def watch_fanout(self) -> dict[str, tuple[int, int, int]]:
        """Per resource served from the watch cache: (watchers now, changes seen, events
        delivered to watchers). Delivered / changes is the watch fan-out."""
        return {prefix.removeprefix("/registry/"): (c.watchers, c.changes, c.delivered)
                for prefix, c in self._cachers.items()}

    def _cacher(self, res: Resource) -> Cacher | None:
        """The resource's watch cache, over the embedded store only: the cache relies on its
        watches answering synchronously (a real etcd's answer comes on another thread, so
        there each client keeps its own etcd watch)."""
        if not isinstance(self.store, EmbeddedEtcd):
            return None
        cacher = self._cachers.get(res.prefix)
        if cacher is None:
            cacher = self._cachers[res.prefix] = Cacher(self.store, res.cls, self._decoded, res.prefix + "/")
        return cacher

    # -- writes -------------------------------------------------------------------------

    def create(self, obj: KubeObject) -> KubeObject:
        """``Store.Create``: default, fill server metadata, validate, and put if absent."""
        res = resource_of(type(obj))
        if obj.metadata.resource_version:
            raise BadRequest("resourceVersion should not be set on objects to be created")
        template = default(scope_namespace(copy.deepcopy(obj)))
        admit_create(template)
        meta = template.metadata
        meta.deletion_timestamp, meta.deletion_grace_period_seconds = None, None
        strategy.prepare_for_create(template)
        generate = not meta.name and bool(meta.generate_name)
        storage = self._storage(res)
        for _ in range(MAX_NAME_GENERATION_CREATE_ATTEMPTS if generate else 1):
            new = copy.deepcopy(template)
            with self._rng_lock:
                if generate:
                    new.metadata.name = generate_name(meta.generate_name, self._rng)
                new.metadata.uid = new_uid(self._rng)
            new.metadata.creation_timestamp = timestamp(self.clock())
            errors = validate_defaulted(new)
            if errors:
                raise invalid(res.group_kind, new.metadata.name, errors)
            key = res.key(new.metadata.namespace, new.metadata.name)
            revision = storage.create(key, encode(new), copy.deepcopy(new))
            if revision is not None:
                new.metadata.resource_version = str(revision)
                return new
            if not generate:
                existing = storage.get(key)
                deleting = existing is not None and existing.obj.metadata.deletion_timestamp is not None
                raise already_exists(res, new.metadata.name, deleting)
        raise generate_name_conflict(res, new.metadata.name)

    def update(self, obj: KubeObject) -> KubeObject:
        """``Store.Update``: replace the object (its status kept) if its RV is current, or
        unconditionally without an RV where the kind allows it."""
        res = resource_of(type(obj))
        name, rv = obj.metadata.name, obj.metadata.resource_version

        def mutate(cur: KubeObject) -> KubeObject:
            _check_resource_version(res, name, rv, cur)
            return self._before_update(res, copy.deepcopy(obj), cur)

        return self._guaranteed_update(res, res.namespace(obj.metadata.namespace), name, mutate)

    def update_status(self, obj: KubeObject) -> KubeObject:
        """The ``status`` subresource: ``status`` changes (and a Deployment's annotations,
        :func:`~kbook.controlplane.apiserver.strategy.prepare_for_status_update`); generation stays."""
        res = resource_of(type(obj))
        if not strategy.has_status(res.cls):
            raise NotFound("the server could not find the requested resource")
        name, rv = obj.metadata.name, obj.metadata.resource_version

        def mutate(cur: KubeObject) -> KubeObject:
            _check_resource_version(res, name, rv, cur)
            new = _with_status(cur, obj.status)  # type: ignore[attr-defined]
            strategy.prepare_for_status_update(new, obj)
            default(new)
            _raise_invalid(res, new, validate_defaulted(new))
            return new

        return self._guaranteed_update(res, res.namespace(obj.metadata.namespace), name, mutate)

    def patch(self, kind: str, name: str, patch: dict[str, Any], namespace: str | None = None) -> KubeObject:
        """A JSON merge patch, applied to the current object and retried on conflict as
        the server retries it, unless the patch itself names a resourceVersion."""
        res = _resource(kind)
        if not isinstance(patch, dict):
            raise BadRequest("json: cannot unmarshal into Go value of type map[string]interface {}: not an object")
        meta = patch.get("metadata")
        patch_rv = meta.get("resourceVersion") if isinstance(meta, dict) else None

        def mutate(cur: KubeObject) -> KubeObject:
            problems: list[str] = []
            new = decode_object(res.cls, merge_patch(dump(cur), patch), problems)
            if problems:
                raise BadRequest("; ".join(dict.fromkeys(problems)))
            if new.metadata.name != name:
                raise BadRequest(
                    f"the name of the object ({new.metadata.name}) does not match the name on the URL ({name})"
                )
            if patch_rv is not None:
                _check_resource_version(res, name, str(patch_rv), cur)
            return self._before_update(res, new, cur)

        return self._guaranteed_update(res, res.namespace(namespace), name, mutate)

    def bind(self, name: str, node_name: str, namespace: str | None = None, uid: str | None = None) -> KubeObject:
        """``POST pods/<name>/binding``: assign the pod to ``node_name`` (see
        :mod:`~kbook.controlplane.apiserver.binding`); ``uid`` is the Binding's precondition.
        Returns the bound pod."""
        res = _resource("Pod")

        def mutate(cur: KubeObject) -> KubeObject:
            return assign_pod(res, cur, node_name, uid, timestamp(self.clock()))  # type: ignore[arg-type]

        return self._guaranteed_update(res, res.namespace(namespace), name, mutate)

    def delete(self, kind: str, name: str, namespace: str | None = None, resource_version: str | None = None,
               propagation_policy: str | None = None, grace_period_seconds: int | None = None) -> KubeObject:
        """``Store.Delete``: an object with finalizers (or a GC finalizer the policy adds) gets
        ``deletionTimestamp`` and stays; a scheduled Pod is deleted gracefully (see the module
        docstring); anything else is removed. Returns the object's last state."""
        res = _resource(kind)
        storage = self._storage(res)
        key = res.key(res.namespace(namespace), name)
        while True:
            cur = storage.get(key)
            if cur is None:
                raise not_found(res, name)
            obj = cur.obj  # shared: changed only in copies
            if resource_version is not None and resource_version != obj.metadata.resource_version:
                raise precondition_failed(res, name, resource_version, obj.metadata.resource_version)
            grace = strategy.grace_period_seconds(obj, grace_period_seconds)
            new = copy.deepcopy(obj)
            new.metadata.finalizers = strategy.gc_finalizers(obj, propagation_policy)
            if grace > 0:
                self._mark_graceful(new, grace)
            elif new.metadata.finalizers:
                self._mark_as_deleting(new)
            else:
                revision = storage.delete(key, cur.revision)
                if revision is not None:
                    gone = copy.deepcopy(obj)
                    gone.metadata.resource_version = str(revision)
                    return gone
                continue
            result = self._write(storage, key, cur, new)
            if result is not None:
                return result

    # -- the update path ------------------------------------------------------------------

    def _storage(self, res: Resource) -> Storage:
        storage = self._storages.get(res)
        if storage is None:
            storage = self._storages[res] = Storage(self.store, res.cls, self._decoded)
        return storage

    def _read(self, res: Resource, namespace: str, name: str) -> Stored:
        """The current value; its object is shared, so a mutation must copy before it changes it."""
        return self._read_key(res, res.key(namespace, name), name)

    def _read_key(self, res: Resource, key: str, name: str) -> Stored:
        stored = self._storage(res).get(key)
        if stored is None:
            raise not_found(res, name)
        return stored

    def _guaranteed_update(self, res: Resource, namespace: str, name: str, mutate: Mutation) -> KubeObject:
        """``GuaranteedUpdate``: read, mutate, compare-and-swap on mod_revision, retry on a
        lost race. Equal bytes write nothing (the RV stays); an update that removes the last
        finalizer of an object being deleted deletes it (``ShouldDeleteDuringUpdate``)."""
        storage = self._storage(res)
        key = res.key(namespace, name)
        while True:
            cur = self._read_key(res, key, name)
            new = mutate(cur.obj)
            result = self._write(storage, key, cur, new)
            if result is not None:
                return result

    @staticmethod
    def _write(storage: Storage, key: str, cur: Stored, new: KubeObject) -> KubeObject | None:
        """Store ``new`` over ``cur`` if the key is unchanged; None when the race was lost."""
        data = encode(new)
        if data == cur.data:
            return copy.deepcopy(cur.obj)
        old_meta = cur.obj.metadata
        if not new.metadata.finalizers and old_meta.deletion_grace_period_seconds == 0:
            revision = storage.delete(key, cur.revision)
        else:
            revision = storage.update(key, data, cur.revision, copy.deepcopy(new))
        if revision is None:
            return None
        new.metadata.resource_version = str(revision)
        return new

    def _before_update(self, res: Resource, new: KubeObject, old: KubeObject) -> KubeObject:
        """``rest.BeforeUpdate`` with ``PrepareForUpdate``, ``ValidateObjectMetaUpdate`` and
        ``Validate``: server-owned metadata and the status come from the stored object."""
        scope_namespace(new)
        new.metadata.namespace = old.metadata.namespace
        default(new)
        meta, old_meta = new.metadata, old.metadata
        meta.generation = old_meta.generation
        meta.uid = meta.uid or old_meta.uid
        meta.creation_timestamp = old_meta.creation_timestamp
        meta.deletion_timestamp = old_meta.deletion_timestamp
        meta.deletion_grace_period_seconds = old_meta.deletion_grace_period_seconds
        if strategy.has_status(res.cls):
            new.status = copy.deepcopy(old.status)  # type: ignore[attr-defined]
        if strategy.bumps_generation(new, old):
            meta.generation += 1
        errors = []
        if meta.uid != old_meta.uid:
            errors.append(FieldError.invalid("metadata.uid", meta.uid, "field is immutable"))
        added = [f for f in meta.finalizers if f not in old_meta.finalizers]
        if old_meta.deletion_timestamp and added:
            detail = "no new finalizers can be added if the object is being deleted, found new finalizers "
            detail += go_value(added)
            errors.append(FieldError.forbidden("metadata.finalizers", detail))
        _raise_invalid(res, new, errors + validate_defaulted(new))
        return new

    def _mark_graceful(self, obj: KubeObject, grace: int) -> None:
        """``rest.BeforeDelete``: stamp ``now + grace``; a pending deletion may only be shortened."""
        meta = obj.metadata
        if meta.deletion_timestamp is None:
            meta.deletion_timestamp = timestamp(self.clock() + grace)
            meta.deletion_grace_period_seconds = grace
            meta.generation += 1 if meta.generation > 0 else 0
        elif meta.deletion_grace_period_seconds and grace < meta.deletion_grace_period_seconds:
            start = parse_timestamp(meta.deletion_timestamp) - meta.deletion_grace_period_seconds
            meta.deletion_timestamp = timestamp(start + grace)
            meta.deletion_grace_period_seconds = grace

    def _mark_as_deleting(self, obj: KubeObject) -> None:
        """``markAsDeleting``: deletionTimestamp now (or earlier), grace 0, generation +1 once."""
        meta, now = obj.metadata, self.clock()
        if meta.deletion_timestamp is None and meta.generation > 0:
            meta.generation += 1
        if meta.deletion_timestamp is None or parse_timestamp(meta.deletion_timestamp) > now:
            meta.deletion_timestamp = timestamp(now)
        meta.deletion_grace_period_seconds = 0


def _resource(kind: str) -> Resource:
    res = resource_for(kind)
    if res is None:
        raise NotFound("the server could not find the requested resource")
    return res


def _parse_resource_version(rv: str) -> int:
    """``APIObjectVersioner.ParseResourceVersion``: ``""`` is 0, else a non-negative integer."""
    if not rv:
        return 0
    if not rv.isdigit():
        raise BadRequest(f'resourceVersion: Invalid value: "{rv}": strconv.ParseUint: parsing "{rv}": invalid syntax')
    return int(rv)


def _check_resource_version(res: Resource, name: str, rv: str, cur: KubeObject) -> None:
    """The optimistic-concurrency check of ``Store.Update``."""
    if not rv:
        if strategy.allow_unconditional_update(res.cls):
            return
        error = FieldError.invalid("metadata.resourceVersion", GoLiteral("0x0"), "must be specified for an update")
        raise invalid(res.group_resource, name, [error])
    if rv != cur.metadata.resource_version:
        raise conflict(res, name)


def _with_status(obj: KubeObject, status: Any) -> KubeObject:
    """A deep copy of ``obj`` with a deep copy of ``status`` (``obj``'s own is not copied)."""
    new = copy.copy(obj)
    for name, value in vars(obj).items():
        setattr(new, name, copy.deepcopy(status if name == "status" else value))
    return new


def _raise_invalid(res: Resource, obj: KubeObject, errors: list[FieldError]) -> None:
    if errors:
        raise invalid(res.group_kind, obj.metadata.name, errors)
