"""Object metadata and the base of every top-level kind.

``metav1.ObjectMeta`` / ``OwnerReference`` (k8s.io/apimachinery/pkg/apis/meta/v1/types.go)
and :class:`KubeObject`: what every manifest document decodes into, with its
apiVersion/kind, scope and ``namespace/name`` key. Timestamps stay RFC 3339 strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from kbook.api.model import Int64, KubeModel, opaque
from kbook.errors import ValidationError

__all__ = ["ObjectMeta", "OwnerReference", "KubeObject", "KINDS", "DEFAULT_NAMESPACE"]

DEFAULT_NAMESPACE = "default"  # metav1.NamespaceDefault


@dataclass
class OwnerReference(KubeModel):
    """``metav1.OwnerReference``: who owns (and garbage-collects) an object."""

    api_version: str = ""
    kind: str = ""
    name: str = ""
    uid: str = ""
    controller: bool | None = None
    block_owner_deletion: bool | None = None


@dataclass
class ObjectMeta(KubeModel):
    """``metav1.ObjectMeta``."""

    name: str = ""
    generate_name: str = ""
    namespace: str = ""
    self_link: str = ""
    uid: str = ""
    resource_version: str = ""
    generation: Int64 = 0
    creation_timestamp: str | None = None
    deletion_timestamp: str | None = None
    deletion_grace_period_seconds: Int64 | None = None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    owner_references: list[OwnerReference] = field(default_factory=list)
    finalizers: list[str] = field(default_factory=list)
    managed_fields: list[Any] = opaque("[]v1.ManagedFieldsEntry")


# (apiVersion, kind) -> class, filled by KubeObject subclasses.
KINDS: dict[tuple[str, str], type[KubeObject]] = {}


@dataclass
class KubeObject(KubeModel):
    """A top-level API object: ``apiVersion``, ``kind``, ``metadata`` and its own fields.

    Subclasses set ``API_VERSION``, ``KIND`` and ``NAMESPACED`` and are registered in
    :data:`KINDS` so a manifest's ``apiVersion``/``kind`` finds them.
    """

    API_VERSION: ClassVar[str] = ""
    KIND: ClassVar[str] = ""
    NAMESPACED: ClassVar[bool] = True

    metadata: ObjectMeta = field(default_factory=ObjectMeta)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "KIND" in cls.__dict__:
            KINDS[(cls.API_VERSION, cls.KIND)] = cls

    @property
    def kind(self) -> str:
        return self.KIND

    @property
    def api_version(self) -> str:
        return self.API_VERSION

    @property
    def group(self) -> str:
        """The API group: ``""`` for the core group, else the part before ``/``."""
        return self.API_VERSION.rpartition("/")[0]

    @property
    def group_kind(self) -> str:
        """``Kind`` or ``Kind.group`` as API errors print it (``Deployment.apps``)."""
        return f"{self.KIND}.{self.group}" if self.group else self.KIND

    @property
    def key(self) -> str:
        """``namespace/name`` for namespaced kinds, ``name`` otherwise (``cache.MetaNamespaceKeyFunc``)."""
        if self.NAMESPACED:
            return f"{self.metadata.namespace or DEFAULT_NAMESPACE}/{self.metadata.name}"
        return self.metadata.name

    def validate(self) -> None:
        """Raise :class:`~kbook.errors.ValidationError` if the API server would reject this object."""
        from kbook.api.strategy import validate  # the strategies import every kind

        errors = validate(self)
        if errors:
            raise ValidationError(self.group_kind, self.metadata.name, errors)

