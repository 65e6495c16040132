"""The etcd v3 API as kbook's store interface: key-values with revisions, requests and
responses, watch events, and the errors, in etcd's own terms (``api/etcdserverpb/rpc.proto``,
``api/mvccpb/kv.proto``, ``api/v3rpc/rpctypes/error.go``).

Keys are ``str`` (UTF-8 on the wire), values ``bytes``. Both backends, the embedded
deterministic store and real etcd behind its JSON gateway, implement :class:`Store`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol

from kbook.errors import KbookError

__all__ = [
    "KeyValue", "Event", "PUT", "DELETE", "ResponseHeader",
    "RangeResponse", "PutResponse", "DeleteRangeResponse", "TxnResponse",
    "Compare", "RangeOp", "PutOp", "DeleteOp", "TxnOp", "Op",
    "EQUAL", "GREATER", "LESS", "NOT_EQUAL", "VERSION", "CREATE", "MOD", "VALUE", "LEASE",
    "WatchResponse", "Watch", "WatchHandler", "LeaseGrant", "LeaseTimeToLive",
    "EtcdError", "ErrCompacted", "ErrFutureRev", "ErrLeaseNotFound", "ErrLeaseExist", "ErrKeyNotFound",
    "ErrDuplicateKey", "ErrTooManyOps", "ErrEmptyKey", "Store", "prefix_end",
]

PUT, DELETE = "PUT", "DELETE"  # mvccpb.Event.EventType
EQUAL, GREATER, LESS, NOT_EQUAL = "EQUAL", "GREATER", "LESS", "NOT_EQUAL"  # Compare.CompareResult
VERSION, CREATE, MOD, VALUE, LEASE = "VERSION", "CREATE", "MOD", "VALUE", "LEASE"  # Compare.CompareTarget


def prefix_end(prefix: str) -> str:
    """The ``range_end`` that makes a range cover every key with ``prefix`` (clientv3
    ``GetPrefixRangeEnd``: the prefix with its last byte plus one; ``"\\0"`` for all keys)."""
    b = bytearray(prefix.encode())
    for i in range(len(b) - 1, -1, -1):
        if b[i] < 0xFF:
            b[i] += 1
            return bytes(b[: i + 1]).decode("utf-8", "surrogateescape")
    return "\0"


@dataclass(frozen=True)
class KeyValue:
    """``mvccpb.KeyValue``. A deleted key's tombstone is only its key."""

    key: str
    value: bytes = b""
    create_revision: int = 0
    mod_revision: int = 0
    version: int = 0
    lease: int = 0


@dataclass(frozen=True)
class Event:
    """``mvccpb.Event``: a PUT (a create when ``kv.version == 1``) or a DELETE, whose ``kv``
    carries the key and the delete's revision as ``mod_revision``."""

    type: str
    kv: KeyValue
    prev_kv: KeyValue | None = None


@dataclass(frozen=True)
class ResponseHeader:
    revision: int
    cluster_id: int = 0
    member_id: int = 0
    raft_term: int = 0


@dataclass(frozen=True)
class RangeResponse:
    header: ResponseHeader
    kvs: tuple[KeyValue, ...] = ()
    more: bool = False
    count: int = 0


@dataclass(frozen=True)
class PutResponse:
    header: ResponseHeader
    prev_kv: KeyValue | None = None


@dataclass(frozen=True)
class DeleteRangeResponse:
    header: ResponseHeader
    deleted: int = 0
    prev_kvs: tuple[KeyValue, ...] = ()


@dataclass(frozen=True)
class TxnResponse:
    header: ResponseHeader
    succeeded: bool
    responses: tuple[RangeResponse | PutResponse | DeleteRangeResponse | "TxnResponse", ...] = ()


@dataclass(frozen=True)
class Compare:
    """``Compare``: ``target`` of ``key`` (every key in ``[key, range_end)`` when given)
    ``result`` ``value``. A missing key has version, create and mod revision and lease 0;
    a VALUE compare on a missing key is false."""

    key: str
    target: str
    result: str
    value: int | bytes
    range_end: str | None = None


@dataclass(frozen=True)
class RangeOp:
    key: str
    range_end: str | None = None
    revision: int = 0
    limit: int = 0
    keys_only: bool = False
    count_only: bool = False


@dataclass(frozen=True)
class PutOp:
    key: str
    value: bytes
    lease: int = 0
    prev_kv: bool = False


@dataclass(frozen=True)
class DeleteOp:
    key: str
    range_end: str | None = None
    prev_kv: bool = False


@dataclass(frozen=True)
class TxnOp:
    compare: tuple[Compare, ...] = ()
    success: tuple["Op", ...] = ()
    failure: tuple["Op", ...] = ()


Op = RangeOp | PutOp | DeleteOp | TxnOp


@dataclass(frozen=True)
class WatchResponse:
    """``WatchResponse``: events of one or more revisions (never split), or a cancellation;
    ``compact_revision`` is set when the start revision was compacted."""

    header: ResponseHeader
    watch_id: int
    events: tuple[Event, ...] = ()
    created: bool = False
    canceled: bool = False
    compact_revision: int = 0
    cancel_reason: str = ""


WatchHandler = Callable[[WatchResponse], None]


class Watch(Protocol):
    """A running watch: responses go to the handler given to :meth:`Store.watch`."""

    watch_id: int

    def cancel(self) -> None: ...


@dataclass(frozen=True)
class LeaseGrant:
    id: int
    ttl: int


@dataclass(frozen=True)
class LeaseTimeToLive:
    id: int
    ttl: int  # remaining seconds; -1 when the lease has expired or does not exist
    granted_ttl: int
    keys: tuple[str, ...] = field(default=())


class EtcdError(KbookError):
    """An error etcd returns; ``str()`` is etcd's message, e.g.
    ``etcdserver: mvcc: required revision has been compacted``."""


class ErrCompacted(EtcdError):
    def __init__(self) -> None:
        super().__init__("etcdserver: mvcc: required revision has been compacted")


class ErrFutureRev(EtcdError):
    def __init__(self) -> None:
        super().__init__("etcdserver: mvcc: required revision is a future revision")


class ErrLeaseNotFound(EtcdError):
    def __init__(self) -> None:
        super().__init__("etcdserver: requested lease not found")


class ErrLeaseExist(EtcdError):
    def __init__(self) -> None:
        super().__init__("etcdserver: lease already exists")


class ErrKeyNotFound(EtcdError):
    def __init__(self) -> None:
        super().__init__("etcdserver: key not found")


class ErrDuplicateKey(EtcdError):
    def __init__(self) -> None:
        super().__init__("etcdserver: duplicate key given in txn request")


class ErrTooManyOps(EtcdError):
    def __init__(self) -> None:
        super().__init__("etcdserver: too many operations in txn request")


class ErrEmptyKey(EtcdError):
    def __init__(self) -> None:
        super().__init__("etcdserver: key is not provided")


class Store(Protocol):
    """etcd's KV, Watch and Lease services (rpc.proto), implemented by the embedded store
    and by the real-etcd client. ``revision`` is the store's current revision."""

    @property
    def revision(self) -> int: ...

    def range(self, key: str, range_end: str | None = None, revision: int = 0, limit: int = 0,
              keys_only: bool = False, count_only: bool = False) -> RangeResponse: ...

    def put(self, key: str, value: bytes, lease: int = 0, prev_kv: bool = False) -> PutResponse: ...

    def delete_range(self, key: str, range_end: str | None = None, prev_kv: bool = False) -> DeleteRangeResponse: ...

    def txn(self, compare: tuple[Compare, ...] | list[Compare], success: tuple[Op, ...] | list[Op] = (),
            failure: tuple[Op, ...] | list[Op] = ()) -> TxnResponse: ...

    def compact(self, revision: int) -> None: ...

    def watch(self, key: str, handler: WatchHandler, range_end: str | None = None, start_revision: int = 0,
              prev_kv: bool = False) -> Watch: ...

    def lease_grant(self, ttl: int, lease_id: int = 0) -> LeaseGrant: ...

    def lease_revoke(self, lease_id: int) -> None: ...

    def lease_keepalive(self, lease_id: int) -> int: ...

    def lease_time_to_live(self, lease_id: int, keys: bool = False) -> LeaseTimeToLive: ...
