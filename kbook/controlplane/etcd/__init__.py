"""``kbook.controlplane.etcd``: a multi-version key-value store with etcd's semantics, embedded or real."""

from kbook.controlplane.etcd.embedded import EmbeddedEtcd
from kbook.controlplane.etcd.lessor import LEASE_CHECK_INTERVAL, MAX_LEASE_TTL, MIN_LEASE_TTL, ManualClock
from kbook.controlplane.etcd.remote import RemoteEtcd
from kbook.controlplane.etcd.server import EtcdServer, EtcdServerError
from kbook.controlplane.etcd.txn import MAX_TXN_OPS
from kbook.controlplane.etcd.types import *  # noqa: F403
from kbook.controlplane.etcd.types import __all__ as _types_all

__all__ = [
    *_types_all, "EmbeddedEtcd", "RemoteEtcd", "EtcdServer", "EtcdServerError", "ManualClock",
    "MIN_LEASE_TTL", "MAX_LEASE_TTL", "LEASE_CHECK_INTERVAL", "MAX_TXN_OPS",
]
