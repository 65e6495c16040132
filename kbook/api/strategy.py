"""What the API server does to each kind on create, besides defaulting: scope the
namespace, fill server-side derived fields, and validate.

Named after the registry strategies (``pkg/registry/<group>/<kind>/strategy.go``):
``PrepareForCreate`` and ``Validate``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from kbook.api.apps import Deployment, ReplicaSet
from kbook.api.apps_validation import validate_deployment, validate_replica_set
from kbook.api.autoscaling import HorizontalPodAutoscaler
from kbook.api.autoscaling_validation import validate_horizontal_pod_autoscaler
from kbook.api.coordination import Lease
from kbook.api.coordination_validation import validate_lease
from kbook.api.core import Node, Pod, Service
from kbook.api.defaults import default
from kbook.api.endpoints import Endpoints
from kbook.api.endpoints_validation import validate_endpoints
from kbook.api.meta import DEFAULT_NAMESPACE, KubeObject
from kbook.api.namespace import Namespace
from kbook.api.namespace_validation import validate_namespace
from kbook.api.node_validation import validate_node
from kbook.api.pod_validation import validate_pod
from kbook.api.service_validation import validate_service
from kbook.errors import FieldError

__all__ = ["validate", "validate_defaulted", "prepare_for_create"]

_VALIDATORS: dict[type[KubeObject], Callable[..., list[FieldError]]] = {
    Pod: validate_pod,
    Node: validate_node,
    Service: validate_service,
    Deployment: validate_deployment,
    ReplicaSet: validate_replica_set,
    HorizontalPodAutoscaler: validate_horizontal_pod_autoscaler,
    Endpoints: validate_endpoints,
    Namespace: validate_namespace,
    Lease: validate_lease,
}


def validate(obj: KubeObject) -> list[FieldError]:
    """The field errors the API server reports when ``obj`` is created: checked on a copy
    that is scoped (:func:`prepare_for_create`) and defaulted first, as the server does.
    Empty when the object is valid."""
    return validate_defaulted(default(prepare_for_create(copy.deepcopy(obj))))


def validate_defaulted(obj: KubeObject) -> list[FieldError]:
    """``Strategy.Validate``: the field errors of an object already prepared and defaulted."""
    return _VALIDATORS[type(obj)](obj)


def prepare_for_create(obj: KubeObject) -> KubeObject:
    """Scope the namespace as ``kubectl`` and ``rest.BeforeCreate`` do (the context's
    ``default`` for namespaced kinds, none for cluster-scoped ones), and for Services fill
    ``clusterIPs`` from ``clusterIP`` (the registry's ``normalizeClusterIPs``)."""
    if obj.NAMESPACED:
        obj.metadata.namespace = obj.metadata.namespace or DEFAULT_NAMESPACE
    else:
        obj.metadata.namespace = ""
    if isinstance(obj, Service) and obj.spec.cluster_ip and not obj.spec.cluster_ips:
        obj.spec.cluster_ips = [obj.spec.cluster_ip]
    return obj
