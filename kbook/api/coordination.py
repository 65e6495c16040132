"""``coordination.k8s.io/v1``: the Lease (k8s.io/api/coordination/v1/types.go), which node
heartbeats (``kube-node-lease``) and leader election use. Times are RFC 3339 strings
with microseconds (``metav1.MicroTime``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from kbook.api.meta import KubeObject
from kbook.api.model import Int32, KubeModel

__all__ = ["LeaseSpec", "Lease"]


@dataclass
class LeaseSpec(KubeModel):
    holder_identity: str | None = None
    lease_duration_seconds: Int32 | None = None
    acquire_time: str | None = None
    renew_time: str | None = None
    lease_transitions: Int32 | None = None
    strategy: str | None = None
    preferred_holder: str | None = None


@dataclass
class Lease(KubeObject):
    API_VERSION: ClassVar[str] = "coordination.k8s.io/v1"
    KIND: ClassVar[str] = "Lease"

    spec: LeaseSpec = field(default_factory=LeaseSpec)
