"""What a pod asks for: ``PodRequests`` and ``PodLimits``
(``k8s.io/component-helpers/resource/helpers.go``), the numbers the scheduler fits
against a node's allocatable resources.

Regular containers add up; init containers run one at a time, so each one needs its own
resources plus those of the sidecars (restartable init containers, KEP-753) started
before it; a pod needs the larger of the two, per resource, plus its overhead. Pod-level
``spec.resources`` and in-place resize status are not modelled.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from kbook.api.apps import Deployment, ReplicaSet
from kbook.api.core import Container, Pod, PodSpec, PodTemplateSpec
from kbook.api.defaults import default_requests_from_limits
from kbook.quantity import Quantity

__all__ = ["pod_requests", "pod_limits", "template_requests", "pod_qos_class"]

Resources = dict[str, Quantity]


def _add(into: Resources, other: Resources) -> None:
    """``addResourceList``."""
    for name, quantity in other.items():
        into[name] = into[name] + quantity if name in into else quantity


def _max(into: Resources, other: Resources) -> None:
    """``maxResourceList``."""
    for name, quantity in other.items():
        if name not in into or quantity.cmp(into[name]) > 0:
            into[name] = quantity


def _aggregate(spec: PodSpec, of: Callable[[Container], Resources]) -> Resources:
    """``aggregateContainerResourcesByFn``: max(sum of containers and sidecars, each init
    container plus the sidecars started before it)."""
    result: Resources = {}
    for c in spec.containers:
        _add(result, of(c))
    sidecars: Resources = {}
    init_peak: Resources = {}
    for c in spec.init_containers:
        if c.is_sidecar:
            _add(result, of(c))
            _add(sidecars, of(c))
            use = dict(sidecars)
        else:
            use = dict(of(c))
            _add(use, sidecars)
        _max(init_peak, use)
    _max(result, init_peak)
    return result


def _spec(pod: Pod | PodSpec) -> PodSpec:
    return pod.spec if isinstance(pod, Pod) else pod


def _non_missing(requests: Resources, defaults: Resources) -> Resources:
    """``applyNonMissing``: ``defaults`` for each resource the container does not request."""
    return {**requests, **{name: q for name, q in defaults.items() if name not in requests}}


def pod_requests(pod: Pod | PodSpec, *, exclude_overhead: bool = False,
                 non_missing: Resources | None = None) -> Resources:
    """``PodRequests``: the pod's effective requests, resource name -> quantity.
    ``non_missing`` (``NonMissingContainerRequests``) stands in for every container that
    does not request a resource, as the scheduler's non-zero defaults do."""
    spec = _spec(pod)
    if non_missing:
        requests = _aggregate(spec, lambda c: _non_missing(c.resources.requests, non_missing))
    else:
        requests = _aggregate(spec, lambda c: c.resources.requests)
    if not exclude_overhead:
        _add(requests, spec.overhead)
    return requests


def pod_limits(pod: Pod | PodSpec, *, exclude_overhead: bool = False) -> Resources:
    """``PodLimits``: the pod's effective limits; overhead is added only to non-zero limits."""
    spec = _spec(pod)
    limits = _aggregate(spec, lambda c: c.resources.limits)
    if not exclude_overhead:
        for name, quantity in spec.overhead.items():
            if name in limits and not limits[name].is_zero():
                limits[name] = limits[name] + quantity
    return limits


def template_requests(workload: Deployment | ReplicaSet | PodTemplateSpec) -> Resources:
    """``PodRequests`` of one pod the workload creates: its template, with the limits
    standing in for missing requests as ``SetDefaults_Pod`` does when the pod is created."""
    template = workload if isinstance(workload, PodTemplateSpec) else workload.spec.template
    spec = copy.deepcopy(template.spec)
    default_requests_from_limits(spec)
    return pod_requests(spec)


_QOS_RESOURCES = ("cpu", "memory")  # supportedQoSComputeResources


def pod_qos_class(pod: Pod) -> str:
    """``qos.GetPodQOS`` (``pkg/apis/core/helper/qos``): ``BestEffort`` without cpu or
    memory requests and limits, ``Guaranteed`` when every container limits both and
    requests equal limits, else ``Burstable``. Pod-level resources are not modelled."""
    requests: Resources = {}
    limits: Resources = {}
    guaranteed = True
    for c in pod.spec.containers + pod.spec.init_containers:
        _add(requests, {n: q for n, q in c.resources.requests.items() if n in _QOS_RESOURCES and q.sign() > 0})
        found = {n: q for n, q in c.resources.limits.items() if n in _QOS_RESOURCES and q.sign() > 0}
        _add(limits, found)
        guaranteed = guaranteed and set(found) == set(_QOS_RESOURCES)
    if not requests and not limits:
        return "BestEffort"
    guaranteed = guaranteed and all(n in limits and limits[n].cmp(q) == 0 for n, q in requests.items())
    return "Guaranteed" if guaranteed and len(requests) == len(limits) else "Burstable"
