"""What the API server offers its clients: the verbs, watch events and ``metav1.Status``
errors of kube-apiserver, in Kubernetes' words (apimachinery ``pkg/api/errors/errors.go``).

Objects are ``kbook.api`` objects. ``kind`` names the resource by its Kind (``"Pod"``,
``"Deployment"``). Calls are synchronous; a watch delivers events to its handler as the
writes commit, so a simulation can route them through SimPy with whatever delay it models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol

from kbook.api import KubeObject
from kbook.errors import KbookError

__all__ = [
    "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR",
    "APIError", "NotFound", "AlreadyExists", "Conflict", "Invalid", "Expired", "BadRequest",
    "WatchEvent", "WatchHandler", "WatchHandle", "ObjectList", "API",
]

ADDED, MODIFIED, DELETED, BOOKMARK, ERROR = "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"


class APIError(KbookError):
    """A ``metav1.Status`` failure: HTTP ``code``, ``reason`` and ``message``."""

    code = 500
    reason = "InternalError"

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class NotFound(APIError):
    """``pods "x" not found``."""

    code, reason = 404, "NotFound"


class AlreadyExists(APIError):
    """``pods "x" already exists``."""

    code, reason = 409, "AlreadyExists"


class Conflict(APIError):
    """``Operation cannot be fulfilled on pods "x": the object has been modified; please
    apply your changes to the latest version and try again``."""

    code, reason = 409, "Conflict"


class Invalid(APIError):
    """``Pod "x" is invalid: <field errors>`` (422)."""

    code, reason = 422, "Invalid"


class Expired(APIError):
    """``too old resource version: <rv> (<oldest>)`` (410)."""

    code, reason = 410, "Expired"


class BadRequest(APIError):
    code, reason = 400, "BadRequest"


@dataclass(frozen=True)
class WatchEvent:
    """One watch event: ``type`` is ADDED, MODIFIED, DELETED, BOOKMARK or ERROR; ``object`` is
    the object (its state after the change; the last state for DELETED) or, for ERROR, the
    APIError (an Expired when the watch fell behind compaction)."""

    type: str
    object: Any


WatchHandler = Callable[[WatchEvent], None]


class WatchHandle(Protocol):
    def stop(self) -> None: ...


@dataclass(frozen=True)
class ObjectList:
    """A list response: the items and the list's ``resourceVersion`` (the store revision)."""

    items: tuple[KubeObject, ...]
    resource_version: str


class API(Protocol):
    """The verbs of the REST API (create, get, list, update, patch, delete, watch, and the
    ``pods/binding`` subresource as ``bind``) that controllers, kubelets and the scheduler
    use through client-go."""

    def create(self, obj: KubeObject) -> KubeObject: ...

    def get(self, kind: str, name: str, namespace: str | None = None) -> KubeObject: ...

    def list(self, kind: str, namespace: str | None = None, label_selector: str | None = None,
             field_selector: str | None = None) -> ObjectList: ...

    def update(self, obj: KubeObject) -> KubeObject: ...

    def update_status(self, obj: KubeObject) -> KubeObject: ...

    def patch(self, kind: str, name: str, patch: dict[str, Any], namespace: str | None = None) -> KubeObject: ...

    def bind(self, name: str, node_name: str, namespace: str | None = None, uid: str | None = None) -> KubeObject: ...

    def delete(self, kind: str, name: str, namespace: str | None = None,
               resource_version: str | None = None, propagation_policy: str | None = None) -> KubeObject | None: ...

    def watch(self, kind: str, handler: WatchHandler, namespace: str | None = None, resource_version: str = "",
              label_selector: str | None = None, field_selector: str | None = None) -> WatchHandle: ...
