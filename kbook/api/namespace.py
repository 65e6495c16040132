"""Core (``v1``) Namespace (k8s.io/api/core/v1/types.go): a cluster-scoped object whose
name scopes every namespaced object."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from kbook.api.meta import KubeObject
from kbook.api.model import KubeModel, opaque

__all__ = ["NamespaceSpec", "NamespaceStatus", "Namespace"]


@dataclass
class NamespaceSpec(KubeModel):
    finalizers: list[str] = field(default_factory=list)


@dataclass
class NamespaceStatus(KubeModel):
    phase: str = ""
    conditions: list[Any] = opaque("[]v1.NamespaceCondition")


@dataclass
class Namespace(KubeObject):
    API_VERSION: ClassVar[str] = "v1"
    KIND: ClassVar[str] = "Namespace"
    NAMESPACED: ClassVar[bool] = False

    spec: NamespaceSpec = field(default_factory=NamespaceSpec)
    status: NamespaceStatus = field(default_factory=NamespaceStatus)
