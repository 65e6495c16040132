"""``kbook.controlplane.apiserver``: the Kubernetes API over an etcd store."""

from kbook.controlplane.apiserver.metadata import EPOCH, parse_timestamp, timestamp
from kbook.controlplane.apiserver.resources import Resource, resource_for, resource_of
from kbook.controlplane.apiserver.server import APIServer
from kbook.controlplane.apiserver.types import (
    ADDED,
    API,
    BOOKMARK,
    DELETED,
    ERROR,
    MODIFIED,
    AlreadyExists,
    APIError,
    BadRequest,
    Conflict,
    Expired,
    Invalid,
    NotFound,
    ObjectList,
    WatchEvent,
    WatchHandle,
    WatchHandler,
)

__all__ = [
    "APIServer", "API", "ObjectList", "WatchEvent", "WatchHandler", "WatchHandle",
    "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR",
    "APIError", "NotFound", "AlreadyExists", "Conflict", "Invalid", "Expired", "BadRequest",
    "Resource", "resource_for", "resource_of", "EPOCH", "timestamp", "parse_timestamp",
]
