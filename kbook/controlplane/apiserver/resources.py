"""Which resource a kind is and where it lives in etcd: plural names, scope and keys.

Keys are ``/registry/<resourcePrefix>/<namespace>/<name>`` or, cluster-scoped,
``/registry/<resourcePrefix>/<name>`` (``NamespaceKeyFunc`` / ``NoNamespaceKeyFunc`` in
``registry/generic/registry/store.go``); the prefix is the plural without its group,
except the ``SpecialDefaultResourcePrefixes`` of ``default_storage_factory_builder.go``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property

from kbook.api import DEFAULT_NAMESPACE, KINDS, KubeObject

__all__ = ["REGISTRY_PREFIX", "SPECIAL_RESOURCE_PREFIXES", "Resource", "resource_for", "resource_of"]

REGISTRY_PREFIX = "/registry"  # --etcd-prefix (DefaultEtcdPathPrefix)
SPECIAL_RESOURCE_PREFIXES = {
    "replicationcontrollers": "controllers",
    "endpoints": "services/endpoints",
    "services": "services/specs",
    "nodes": "minions",
    "ingresses": "ingress",
}
_IRREGULAR_PLURALS = {"Endpoints": "endpoints"}


def _plural(kind: str) -> str:
    """The lower-case plural resource name, as ``meta.UnsafeGuessKindToResource`` makes it."""
    if kind in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[kind]
    lower = kind.lower()
    if lower.endswith("s"):
        return lower + "es"
    if lower.endswith("y") and lower[-2:-1] not in "aeiou":
        return lower[:-1] + "ies"
    return lower + "s"


@dataclass(frozen=True)
class Resource:
    """One API resource: its kind class, plural name and etcd prefix."""

    cls: type[KubeObject]
    plural: str

    @property
    def namespaced(self) -> bool:
        return self.cls.NAMESPACED

    @property
    def group(self) -> str:
        return self.cls.API_VERSION.rpartition("/")[0]

    @property
    def group_resource(self) -> str:
        """``pods`` or ``deployments.apps``, as NotFound and Conflict messages print it."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def group_kind(self) -> str:
        """``Pod`` or ``Deployment.apps``, as Invalid messages print it."""
        return f"{self.cls.KIND}.{self.group}" if self.group else self.cls.KIND

    @cached_property
    def prefix(self) -> str:
        return f"{REGISTRY_PREFIX}/{SPECIAL_RESOURCE_PREFIXES.get(self.plural, self.plural)}"

    def namespace(self, namespace: str | None) -> str:
        """The request's namespace: ``default`` when omitted for namespaced kinds, none otherwise."""
        return (namespace or DEFAULT_NAMESPACE) if self.namespaced else ""

    def key(self, namespace: str, name: str) -> str:
        return f"{self.prefix}/{namespace}/{name}" if self.namespaced else f"{self.prefix}/{name}"

    def list_prefix(self, namespace: str | None) -> str:
        """The range a LIST or WATCH reads: every namespace, or one (trailing ``/`` included)."""
        return f"{self.prefix}/{namespace}/" if self.namespaced and namespace else f"{self.prefix}/"


@cache
def resource_of(cls: type[KubeObject]) -> Resource:
    return Resource(cls, _plural(cls.KIND))


def resource_for(kind: str) -> Resource | None:
    """The resource of a Kind name (``"Pod"``), or None when no kind has that name."""
    cls = _BY_KIND.get(kind)
    if cls is None:
        cls = next((c for c in KINDS.values() if c.KIND == kind), None)
        if cls is None:
            return None
        _BY_KIND[kind] = cls
    return resource_of(cls)


_BY_KIND: dict[str, type[KubeObject]] = {}  # kinds found by resource_for
