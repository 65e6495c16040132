"""The selector system-default spreading uses (``plugins/helper/spread.go``):
``DefaultSelector`` merges the selectors of the Services that select a pod and of the
ReplicationController, ReplicaSet or StatefulSet that controls it."""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

from kbook.api import LabelSelectorRequirement, Pod, SelectorError
from kbook.scheduler.plugins.podtopologyspread.common import namespace_of
from kbook.scheduler.types import DEFAULT_NAMESPACE, Selector

__all__ = ["default_selector", "get_pod_services"]

# (group, version, kind) of the controllers DefaultSelector knows: rcKind, rsKind, ssKind.
RC_KIND = ("", "v1", "ReplicationController")
RS_KIND = ("apps", "v1", "ReplicaSet")
SS_KIND = ("apps", "v1", "StatefulSet")


def get_pod_services(pod: Pod, services: Iterable[Any]) -> list[Any]:
    """``GetPodServices``: the Services in the pod's namespace whose selector matches it. A
    Service without a selector matches nothing (kbook cannot tell a nil selector from an
    empty one, so an empty selector matches nothing too)."""
    ns = namespace_of(pod)
    out = []
    for svc in services:
        selector = svc.spec.selector
        if not selector or (svc.metadata.namespace or DEFAULT_NAMESPACE) != ns:
            continue
        labels = pod.metadata.labels
        if all(k in labels and labels[k] == v for k, v in selector.items()):
            out.append(svc)
    return out


def _set_requirements(label_set: Mapping[str, str]) -> list[LabelSelectorRequirement]:
    """``labels.Set.AsSelector()``: one equality requirement per key, sorted by key."""
    return [LabelSelectorRequirement(k, "=", [v]) for k, v in sorted(label_set.items())]


def _controller_of(pod: Pod) -> Any:
    """``metav1.GetControllerOfNoCopy``: the owner reference marked ``controller: true``."""
    for ref in pod.metadata.owner_references:
        if ref.controller:
            return ref
    return None


def _parse_group_version(gv: str) -> tuple[str, str] | None:
    """``schema.ParseGroupVersion``: ``v1`` -> ("", "v1"), ``apps/v1`` -> ("apps", "v1");
    more than one ``/`` is an error (None)."""
    if not gv:
        return "", ""
    parts = gv.split("/")
    if len(parts) == 1:
        return "", parts[0]
    if len(parts) == 2:
        return parts[0], parts[1]
    return None


def _find(objects: Iterable[Any], namespace: str, name: str) -> Any:
    for obj in objects:
        if obj.metadata.name == name and (obj.metadata.namespace or DEFAULT_NAMESPACE) == namespace:
            return obj
    return None


def default_selector(pod: Pod, objects: Callable[[str], list[Any]]) -> Selector:
    """``DefaultSelector``: the Services' selectors (merged label sets) ANDed with the
    selector of the pod's controlling ReplicationController, ReplicaSet or StatefulSet.
    ``objects(kind)`` lists the cluster's objects of a kind ([] when there are none)."""
    label_set: dict[str, str] = {}
    for svc in get_pod_services(pod, objects("Service")):
        label_set.update(svc.spec.selector)
    requirements = _set_requirements(label_set)

    owner = _controller_of(pod)
    if owner is None:
        return Selector(requirements)
    gv = _parse_group_version(owner.api_version)
    if gv is None:
        return Selector(requirements)
    kind = (gv[0], gv[1], owner.kind)
    ns = namespace_of(pod)
    if kind == RC_KIND:
        rc = _find(objects("ReplicationController"), ns, owner.name)
        if rc is not None:
            label_set.update(rc.spec.selector or {})
            requirements = _set_requirements(label_set)
    elif kind in (RS_KIND, SS_KIND):
        obj = _find(objects(kind[2]), ns, owner.name)
        if obj is not None:
            try:
                other = Selector.of(obj.spec.selector)
            except SelectorError:
                other = Selector(None)
            if not other.is_nothing():
                requirements = sorted(requirements + list(other.requirements), key=lambda r: r.key)
    return Selector(requirements)
