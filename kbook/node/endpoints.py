"""A Service's endpoints as kube-proxy sees them, and which of them it sends traffic to.

``endpoints_from_pods`` stands in for the EndpointSlice controller
(``pkg/controller/endpointslice``, ``podToEndpoint``): the pods that match the selector
and have an IP, each with its ``ready`` / ``serving`` / ``terminating`` conditions.
``endpoints_from_object`` reads a v1 Endpoints object instead (ready ``addresses`` and
``notReadyAddresses``; the endpoints controller leaves terminating pods out altogether).
``usable`` is ``pkg/proxy/topology.go`` ``CategorizeEndpoints`` without topology hints.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kbook.api import Endpoints, Pod, Service, ServicePort

__all__ = ["Endpoint", "endpoints_from_pods", "endpoints_from_object", "usable"]


@dataclass(frozen=True)
class Endpoint:
    """One backend of a service port (``discovery/v1`` Endpoint, one port)."""

    ip: str
    port: int
    ready: bool = True
    serving: bool = True
    terminating: bool = False
    node_name: str = ""
    pod: str = ""  # namespace/name

    def __str__(self) -> str:
        return f"[{self.ip}]:{self.port}" if ":" in self.ip else f"{self.ip}:{self.port}"


def _pod_ready(pod: Pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions)


def _target_port(pod: Pod, port: ServicePort) -> int | None:
    """``podutil.FindPort``: a number as is, a name looked up in the pod's container ports."""
    target = port.target_port
    if target.is_int:
        return target.int_value() or port.port
    for container in pod.spec.containers:
        for p in container.ports:
            if p.name == target.value and (p.protocol or "TCP") == (port.protocol or "TCP"):
                return p.container_port
    return None


def endpoints_from_pods(service: Service, pods: Iterable[Pod]) -> dict[str, list[Endpoint]]:
    """The endpoints of each port of ``service`` (by port name), sorted as kube-proxy's
    endpoints cache sorts them (by ``ip:port``). A service without a selector has none."""
    selector = service.spec.selector
    by_port: dict[str, list[Endpoint]] = {p.name: [] for p in service.spec.ports}
    if not selector:
        return by_port
    namespace = service.metadata.namespace
    for pod in pods:
        labels = pod.metadata.labels
        if (pod.metadata.namespace != namespace or not pod.status.pod_ip
                or pod.status.phase in ("Succeeded", "Failed")
                or any(labels.get(k) != v for k, v in selector.items())):
            continue
        terminating = pod.metadata.deletion_timestamp is not None
        serving = _pod_ready(pod) or service.spec.publish_not_ready_addresses
        for port in service.spec.ports:
            number = _target_port(pod, port)
            if number is not None:
                by_port[port.name].append(Endpoint(
                    pod.status.pod_ip, number, ready=serving and not terminating, serving=serving,
                    terminating=terminating, node_name=pod.spec.node_name, pod=pod.key))
    return {name: sorted(eps, key=str) for name, eps in by_port.items()}


def endpoints_from_object(service: Service, endpoints: Endpoints) -> dict[str, list[Endpoint]]:
    """The endpoints of each port of ``service`` (by port name) as a v1 Endpoints object lists them."""
    by_port: dict[str, list[Endpoint]] = {p.name: [] for p in service.spec.ports}
    for subset in endpoints.subsets:
        for port in subset.ports:
            if port.name not in by_port:
                continue
            for ready, addresses in ((True, subset.addresses), (False, subset.not_ready_addresses)):
                for a in addresses:
                    pod = f"{a.target_ref.namespace}/{a.target_ref.name}" if a.target_ref else ""
                    by_port[port.name].append(Endpoint(a.ip, port.port, ready=ready, serving=ready,
                                                       node_name=a.node_name or "", pod=pod))
    return {name: sorted(eps, key=str) for name, eps in by_port.items()}


def usable(endpoints: Iterable[Endpoint]) -> list[Endpoint]:
    """``CategorizeEndpoints``: the ready endpoints; if there are none, the ones that are
    serving and terminating (so connections drain during a rollout instead of failing)."""
    endpoints = list(endpoints)
    ready = [e for e in endpoints if e.ready]
    return ready or [e for e in endpoints if e.serving and e.terminating]
