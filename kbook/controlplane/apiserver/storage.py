"""Objects in etcd, as ``storage/etcd3/store.go`` keeps them: JSON values without
``resourceVersion``, the key's ``mod_revision`` as the object's resourceVersion, and the
three transactions Kubernetes uses (create if absent, update and delete if unchanged).

JSON rather than protobuf is a deliberate deviation (generic apiservers default to JSON);
keys are sorted so equal objects encode to equal bytes, which no-op detection relies on.

Decoding is memoised (:class:`Decoded`): the API server decodes every value etcd returns,
but a key's value at one ``mod_revision`` only once, and shares the object where upstream
hands out one decoded object (watch events, the object a mutation reads); a caller that may
change what it gets (GET, LIST, an update's result) gets a private copy. A write hands over
a copy of the object it encoded, which stands in for decoding the bytes it wrote.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from kbook.api import KubeObject, dump
from kbook.api.codec import decode_object
from kbook.controlplane.apiserver.types import APIError
from kbook.controlplane.etcd.types import MOD, EQUAL, Compare, DeleteOp, PutOp, RangeOp, Store, prefix_end

__all__ = ["encode", "decode", "Decoded", "Stored", "Storage"]


def encode(obj: KubeObject) -> bytes:
    """The stored bytes: the wire form with ``metadata.resourceVersion`` cleared
    (``PrepareObjectForStorage``)."""
    data = dump(obj)
    data.get("metadata", {}).pop("resourceVersion", None)
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def decode(cls: type[KubeObject], value: bytes, revision: int) -> KubeObject:
    """An object read back, with ``resourceVersion`` set to ``revision``."""
    problems: list[str] = []
    obj = decode_object(cls, json.loads(value), problems)
    if problems:
        raise APIError(f"unable to decode an object from storage: {'; '.join(problems)}")
    obj.metadata.resource_version = str(revision)
    return obj


class Decoded:
    """Objects decoded from stored values, one per key: the latest revision decoded. An
    entry answers only for the same ``mod_revision`` and bytes etcd returns, so etcd stays
    the source of truth (a missed or stale entry only costs a decode). A write may hand over
    the object its bytes decode to (:meth:`writing`), which then counts as decoded. The
    objects are shared: nobody may change them (copy first)."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[int, bytes, KubeObject]] = {}
        self._written: dict[str, tuple[bytes, KubeObject]] = {}  # key -> bytes being written, their object

    def object(self, cls: type[KubeObject], key: str, value: bytes, revision: int) -> KubeObject:
        """``key``'s ``value`` at ``revision``, decoded (:func:`decode`) once, or the object
        a write in progress gave for these bytes (:meth:`writing`)."""
        entry = self._entries.get(key)
        if entry is not None and entry[0] == revision and entry[1] == value:
            return entry[2]
        written = self._written.get(key)
        if written is not None and written[0] == value:
            del self._written[key]
            obj = written[1]
            obj.metadata.resource_version = str(revision)
        else:
            obj = decode(cls, value, revision)
        if entry is None or entry[0] <= revision:
            self._entries[key] = (revision, value, obj)
        return obj

    def writing(self, key: str, value: bytes, obj: KubeObject) -> None:
        """``value``, about to be written under ``key``, decodes to ``obj`` (which nobody
        else holds): the watch event of the write shares it instead of decoding."""
        self._written[key] = (value, obj)

    def written(self, key: str, revision: int | None) -> None:
        """The write announced by :meth:`writing` committed at ``revision`` (None: it did not)."""
        written = self._written.pop(key, None)
        if written is not None and revision is not None:
            entry = self._entries.get(key)
            if entry is None or entry[0] < revision:
                written[1].metadata.resource_version = str(revision)
                self._entries[key] = (revision, written[0], written[1])

    def forget(self, key: str, revision: int) -> None:
        """``key`` was deleted at ``revision``: drop what it held before."""
        entry = self._entries.get(key)
        if entry is not None and entry[0] < revision:
            del self._entries[key]


@dataclass(frozen=True)
class Stored:
    """What a key holds: the object (shared, see :class:`Decoded`), its bytes and its mod revision."""

    obj: KubeObject
    data: bytes
    revision: int


class Storage:
    """The etcd3 storage layer of one kind over a :class:`~kbook.controlplane.etcd.types.Store`,
    decoding through ``decoded``."""

    def __init__(self, store: Store, cls: type[KubeObject], decoded: Decoded) -> None:
        self.store, self.cls, self.decoded = store, cls, decoded

    def get(self, key: str) -> Stored | None:
        """The current value; its object is shared (``GuaranteedUpdate``'s ``origState``)."""
        kvs = self.store.range(key).kvs
        if not kvs:
            return None
        kv = kvs[0]
        return Stored(self.decoded.object(self.cls, key, kv.value, kv.mod_revision), kv.value, kv.mod_revision)

    def list(self, prefix: str) -> tuple[list[KubeObject], int]:
        """``GetList``: every object under ``prefix`` (shared) and the header revision."""
        resp = self.store.range(prefix, prefix_end(prefix))
        objects = [self.decoded.object(self.cls, kv.key, kv.value, kv.mod_revision) for kv in resp.kvs]
        return objects, resp.header.revision

    def create(self, key: str, data: bytes, obj: KubeObject) -> int | None:
        """``If(mod_revision == 0) Then(Put)``: the new revision, or None if the key exists.
        ``obj`` is what ``data`` decodes to, handed to :class:`Decoded` (not to be changed)."""
        return self._put(key, data, obj, [Compare(key, MOD, EQUAL, 0)], [])

    def update(self, key: str, data: bytes, revision: int, obj: KubeObject) -> int | None:
        """``If(mod_revision == revision) Then(Put)``: the new revision, or None on a lost
        race. ``obj`` is what ``data`` decodes to, handed to :class:`Decoded` (not to be changed)."""
        return self._put(key, data, obj, [Compare(key, MOD, EQUAL, revision)], [RangeOp(key)])

    def _put(self, key: str, data: bytes, obj: KubeObject, compare: list[Compare],
             failure: list[RangeOp]) -> int | None:
        """``If(compare) Then(Put) Else(failure)``, announced to :class:`Decoded` while it runs."""
        self.decoded.writing(key, data, obj)
        revision = None
        try:
            resp = self.store.txn(compare, [PutOp(key, data)], failure)
            revision = resp.header.revision if resp.succeeded else None
        finally:
            self.decoded.written(key, revision)
        return revision

    def delete(self, key: str, revision: int) -> int | None:
        """``If(mod_revision == revision) Then(Delete)``: the delete's revision, or None on a lost race."""
        resp = self.store.txn([Compare(key, MOD, EQUAL, revision)], [DeleteOp(key)], [RangeOp(key)])
        if not resp.succeeded:
            return None
        self.decoded.forget(key, resp.header.revision)
        return resp.header.revision
