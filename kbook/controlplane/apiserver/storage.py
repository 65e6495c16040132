"""Objects in etcd, as ``storage/etcd3/store.go`` keeps them: JSON values without
``resourceVersion``, the key's ``mod_revision`` as the object's resourceVersion, and the
three transactions Kubernetes uses (create if absent, update and delete if unchanged).

JSON rather than protobuf is a deliberate deviation (generic apiservers default to JSON);
keys are sorted so equal objects encode to equal bytes, which no-op detection relies on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from kbook.api import KubeObject, dump
from kbook.api.codec import decode_object
from kbook.controlplane.apiserver.types import APIError
from kbook.controlplane.etcd.types import MOD, EQUAL, Compare, DeleteOp, PutOp, RangeOp, Store, prefix_end

__all__ = ["encode", "decode", "Stored", "Storage"]


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


@dataclass(frozen=True)
class Stored:
    """What a key holds: the object, its bytes and its mod revision."""

    obj: KubeObject
    data: bytes
    revision: int


class Storage:
    """The etcd3 storage layer of one kind over a :class:`~kbook.controlplane.etcd.types.Store`."""

    def __init__(self, store: Store, cls: type[KubeObject]) -> None:
        self.store, self.cls = store, cls

    def get(self, key: str) -> Stored | None:
        kvs = self.store.range(key).kvs
        return self._stored(kvs[0].value, kvs[0].mod_revision) if kvs else None

    def list(self, prefix: str) -> tuple[list[KubeObject], int]:
        """``GetList``: every object under ``prefix`` and the header revision."""
        resp = self.store.range(prefix, prefix_end(prefix))
        return [decode(self.cls, kv.value, kv.mod_revision) for kv in resp.kvs], resp.header.revision

    def create(self, key: str, data: bytes) -> int | None:
        """``If(mod_revision == 0) Then(Put)``: the new revision, or None if the key exists."""
        resp = self.store.txn([Compare(key, MOD, EQUAL, 0)], [PutOp(key, data)])
        return resp.header.revision if resp.succeeded else None

    def update(self, key: str, data: bytes, revision: int) -> int | None:
        """``If(mod_revision == revision) Then(Put)``: the new revision, or None on a lost race."""
        resp = self.store.txn([Compare(key, MOD, EQUAL, revision)], [PutOp(key, data)], [RangeOp(key)])
        return resp.header.revision if resp.succeeded else None

    def delete(self, key: str, revision: int) -> int | None:
        """``If(mod_revision == revision) Then(Delete)``: the delete's revision, or None on a lost race."""
        resp = self.store.txn([Compare(key, MOD, EQUAL, revision)], [DeleteOp(key)], [RangeOp(key)])
        return resp.header.revision if resp.succeeded else None

    def _stored(self, value: bytes, revision: int) -> Stored:
        return Stored(decode(self.cls, value, revision), value, revision)
