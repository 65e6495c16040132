"""Core (``v1``) Endpoints: the addresses behind a Service, as the endpoints controller
writes them and kube-proxy reads them (k8s.io/api/core/v1/types.go)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from kbook.api.meta import KubeObject
from kbook.api.model import Int32, KubeModel

__all__ = ["ObjectReference", "EndpointAddress", "EndpointPort", "EndpointSubset", "Endpoints"]


@dataclass
class ObjectReference(KubeModel):
    kind: str = ""
    namespace: str = ""
    name: str = ""
    uid: str = ""
    api_version: str = ""
    resource_version: str = ""
    field_path: str = ""


@dataclass
class EndpointAddress(KubeModel):
    ip: str = ""
    hostname: str = ""
    node_name: str | None = None
    target_ref: ObjectReference | None = None


@dataclass
class EndpointPort(KubeModel):
    name: str = ""
    port: Int32 = 0
    protocol: str = ""
    app_protocol: str | None = None


@dataclass
class EndpointSubset(KubeModel):
    """Ready ``addresses`` and ``notReadyAddresses``, all serving every one of ``ports``."""

    addresses: list[EndpointAddress] = field(default_factory=list)
    not_ready_addresses: list[EndpointAddress] = field(default_factory=list)
    ports: list[EndpointPort] = field(default_factory=list)


@dataclass
class Endpoints(KubeObject):
    API_VERSION: ClassVar[str] = "v1"
    KIND: ClassVar[str] = "Endpoints"

    subsets: list[EndpointSubset] = field(default_factory=list)

