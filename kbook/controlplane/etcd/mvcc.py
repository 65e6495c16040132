"""The multi-version key space behind the embedded store: the latest value of every key,
each key's history of revisions, ranges over a sorted key list, and compaction (etcd
``server/storage/mvcc/kvstore_txn.go`` ``put()``/``delete()``/``rangeKeys()``,
``key_index.go`` ``compact()``)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from typing import Iterator

from kbook.controlplane.etcd.types import KeyValue

ALL_KEYS = "\0"  # a range_end of "\0" means every key >= key


def in_range(key: str, start: str, end: str | None) -> bool:
    """Whether ``key`` lies in the etcd range ``[start, end)`` (one key when ``end`` is empty)."""
    if not end:
        return key == start
    return start <= key and (end == ALL_KEYS or key < end)


class KeySpace:
    """Keys to values at every revision not compacted away. Deleted keys keep their
    history (ending in a tombstone, ``None``) until compaction drops it."""

    def __init__(self) -> None:
        self.latest: dict[str, KeyValue] = {}
        self._keys: list[str] = []  # sorted; every key with history
        self._revs: dict[str, list[int]] = {}
        self._vals: dict[str, list[KeyValue | None]] = {}

    def keys_in(self, key: str, end: str | None) -> Iterator[str]:
        """Keys with history in ``[key, end)``, in byte order (UTF-8 keeps code-point order)."""
        if not end:
            if key in self._revs:
                yield key
            return
        keys = self._keys
        hi = len(keys) if end == ALL_KEYS else bisect_left(keys, end)
        for i in range(bisect_left(keys, key), hi):
            yield keys[i]

    def at(self, key: str, revision: int) -> KeyValue | None:
        """The key's value as of ``revision`` (``None`` if absent then)."""
        revs = self._revs.get(key)
        if revs is None:
            return None
        i = bisect_right(revs, revision) - 1
        return self._vals[key][i] if i >= 0 else None

    def range(self, key: str, end: str | None, revision: int | None) -> list[KeyValue]:
        """Live key-values in ``[key, end)`` at ``revision`` (``None``: the latest)."""
        if revision is None:
            latest = self.latest
            if not end:
                kv = latest.get(key)
                return [kv] if kv is not None else []
            return [latest[k] for k in self.keys_in(key, end) if k in latest]
        found = (self.at(k, revision) for k in self.keys_in(key, end))
        return [kv for kv in found if kv is not None]

    def put(self, key: str, value: bytes, lease: int, revision: int) -> tuple[KeyValue, KeyValue | None]:
        """Write ``key`` at ``revision``: version +1 (1 on create), create_revision kept."""
        prev = self.latest.get(key)
        if prev is None:
            kv = KeyValue(key, value, revision, revision, 1, lease)
        else:
            kv = KeyValue(key, value, prev.create_revision, revision, prev.version + 1, lease)
        self.latest[key] = kv
        self._record(key, revision, kv)
        return kv, prev

    def delete(self, key: str, revision: int) -> KeyValue:
        """Tombstone a live ``key`` at ``revision``; returns its previous value."""
        prev = self.latest.pop(key)
        self._record(key, revision, None)
        return prev

    def _record(self, key: str, revision: int, kv: KeyValue | None) -> None:
        revs = self._revs.get(key)
        if revs is None:
            insort(self._keys, key)
            self._revs[key] = [revision]
            self._vals[key] = [kv]
        else:
            revs.append(revision)
            self._vals[key].append(kv)

    def compact(self, revision: int) -> None:
        """Drop every version older than the newest one at or below ``revision``, and that
        one too when it is a tombstone (``keyIndex.compact``)."""
        emptied = False
        for key, revs in list(self._revs.items()):
            i = bisect_right(revs, revision) - 1
            if i < 0:
                continue
            vals = self._vals[key]
            if vals[i] is None:
                i += 1
            if i == 0:
                continue
            del revs[:i], vals[:i]
            if not revs:
                del self._revs[key], self._vals[key]
                emptied = True
        if emptied:
            self._keys = [k for k in self._keys if k in self._revs]
