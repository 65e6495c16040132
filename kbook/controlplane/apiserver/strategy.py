"""What differs between kinds on the server side: the registry strategies
(``pkg/registry/<group>/<kind>/strategy.go``: ``PrepareForCreate``, ``PrepareForUpdate``,
``AllowUnconditionalUpdate``, ``CheckGracefulDelete``) and the garbage-collection
finalizers of a delete (``registry/generic/registry/store.go``)."""

from __future__ import annotations

from typing import Any

from kbook.api import (
    Deployment,
    DeploymentStatus,
    HorizontalPodAutoscaler,
    HorizontalPodAutoscalerStatus,
    KubeObject,
    Lease,
    Namespace,
    NamespaceStatus,
    Pod,
    PodStatus,
    ReplicaSet,
    ReplicaSetStatus,
    Service,
    dump,
    pod_qos_class,
)
from kbook.api.model import KubeModel
from kbook.controlplane.apiserver.errors import invalid
from kbook.errors import FieldError

__all__ = [
    "ORPHAN", "FOREGROUND", "BACKGROUND", "FINALIZER_ORPHAN", "FINALIZER_FOREGROUND",
    "has_status", "allow_unconditional_update", "prepare_for_create", "prepare_for_status_update", "bumps_generation",
    "grace_period_seconds", "gc_finalizers",
]

ORPHAN, FOREGROUND, BACKGROUND = "Orphan", "Foreground", "Background"  # metav1.DeletionPropagation
FINALIZER_ORPHAN = "orphan"  # metav1.FinalizerOrphanDependents
FINALIZER_FOREGROUND = "foregroundDeletion"  # metav1.FinalizerDeleteDependents


def has_status(cls: type[KubeObject]) -> bool:
    """Kinds with a ``status`` subresource: their main-resource writes keep the stored status."""
    return "status" in cls.__dataclass_fields__


def allow_unconditional_update(cls: type[KubeObject]) -> bool:
    """``AllowUnconditionalUpdate``: false for Leases (``coordination/lease/strategy.go``)."""
    return cls is not Lease


def prepare_for_create(obj: KubeObject) -> None:
    """``PrepareForCreate``: a new object's status is the server's, not the client's
    (pods start Pending with their QoS class; Nodes keep what the kubelet registers).
    Deployments and ReplicaSets start at ``metadata.generation`` 1
    (``apps/deployment/strategy.go``, ``apps/replicaset/strategy.go``); the other kinds
    keep the client's (``rest.BeforeCreate`` leaves it alone; v1.28's Pod, HPA, Node,
    Service, Namespace, Lease and Endpoints strategies do not set it)."""
    if isinstance(obj, Pod):
        obj.status = PodStatus(phase="Pending", qos_class=pod_qos_class(obj))
    elif isinstance(obj, Deployment):
        obj.status = DeploymentStatus()
        obj.metadata.generation = 1
    elif isinstance(obj, ReplicaSet):
        obj.status = ReplicaSetStatus()
        obj.metadata.generation = 1
    elif isinstance(obj, HorizontalPodAutoscaler):
        obj.status = HorizontalPodAutoscalerStatus()
    elif isinstance(obj, Service):
        obj.status = None
    elif isinstance(obj, Namespace):
        obj.status = NamespaceStatus(phase="Active")


def prepare_for_status_update(new: KubeObject, request: KubeObject) -> None:
    """The status strategy's ``PrepareForUpdate``, on ``new`` (a copy of the stored object
    with the request's status): what else the request may change. A Deployment's status
    update also writes its annotations (``deploymentStatusStrategy`` resets only spec and
    labels), which is how the Deployment controller sets ``deployment.kubernetes.io/revision``
    without bumping ``metadata.generation``. Other kinds: status only."""
    if isinstance(new, Deployment):
        new.metadata.annotations = dict(request.metadata.annotations)


def bumps_generation(new: KubeObject, old: KubeObject) -> bool:
    """Whether ``PrepareForUpdate`` bumps ``metadata.generation``: a Deployment's on a spec
    or annotation change (``apps/deployment/strategy.go``), a ReplicaSet's on a spec change
    (``apps/replicaset/strategy.go``). The other kinds' strategies never do in v1.28:
    ``core/pod`` (only from v1.33), ``core/node``, ``core/service``, ``core/namespace``,
    ``core/endpoint``, ``coordination/lease`` and ``autoscaling/horizontalpodautoscaler``
    (only from v1.35's HPAGeneration gate)."""
    if isinstance(new, Deployment):
        return _changed(new.spec, old.spec) or _changed(new.metadata.annotations, old.metadata.annotations)
    if isinstance(new, ReplicaSet):
        return _changed(new.spec, old.spec)
    return False


def _changed(new: Any, old: Any) -> bool:
    """``!apiequality.Semantic.DeepEqual``: models equal field by field (quantities by value)
    or in their wire form (where an empty list or map is an unset one) are the same."""
    if new == old:
        return False
    if isinstance(new, KubeModel) and isinstance(old, KubeModel):
        return dump(new) != dump(old)
    return bool(new or old)


def grace_period_seconds(obj: KubeObject, requested: int | None) -> int:
    """``CheckGracefulDelete``: Pods wait ``requested`` or ``terminationGracePeriodSeconds``
    (0 when unscheduled or finished; a negative value becomes 1); other kinds go at once."""
    if not isinstance(obj, Pod):
        return 0
    period = requested if requested is not None else (obj.spec.termination_grace_period_seconds or 0)
    if not obj.spec.node_name or obj.status.phase in ("Succeeded", "Failed"):
        period = 0
    return 1 if period < 0 else period


def gc_finalizers(obj: KubeObject, propagation_policy: str | None) -> list[str]:
    """``deletionFinalizersForGarbageCollection``: the object's finalizers with ``orphan`` or
    ``foregroundDeletion`` as the policy (or an existing GC finalizer) asks; apps/v1 kinds
    default to background deletion, which adds neither."""
    if propagation_policy not in (None, ORPHAN, FOREGROUND, BACKGROUND):
        detail = FieldError.not_supported("propagationPolicy", propagation_policy, [FOREGROUND, BACKGROUND, ORPHAN])
        raise invalid("DeleteOptions.meta.k8s.io", "", [detail])
    existing = obj.metadata.finalizers
    if propagation_policy is None:
        gc = [f for f in existing if f in (FINALIZER_ORPHAN, FINALIZER_FOREGROUND)][:1]
    else:
        gc = {ORPHAN: [FINALIZER_ORPHAN], FOREGROUND: [FINALIZER_FOREGROUND], BACKGROUND: []}[propagation_policy]
    new = [f for f in existing if f not in (FINALIZER_ORPHAN, FINALIZER_FOREGROUND)] + gc
    return list(existing) if set(new) == set(existing) else new
