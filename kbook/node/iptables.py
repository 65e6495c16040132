"""The iptables rules kube-proxy writes for a Service (``pkg/proxy/iptables/proxier.go``,
``syncProxyRules`` and ``writeServiceToEndpointRules``), as ``iptables-restore`` input.

Chain names use upstream's recipe (``servicePortChainName`` / ``servicePortEndpointChainName``:
the first 16 characters of base32(sha256(...))), which gives ``KUBE-SVC-NPX46M4PTMTKRN6Y``
for ``default/kubernetes:https`` as real clusters show; ``KUBE-MARK-MASQ`` for cluster-CIDR
traffic, node ports, load balancers and external IPs are not rendered.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from functools import lru_cache

from kbook.api import Service, ServicePort
from kbook.api.defaults import DEFAULT_CLIENT_IP_SERVICE_AFFINITY_SECONDS
from kbook.node.endpoints import Endpoint

__all__ = ["probability", "service_port_name", "svc_chain", "sep_chain", "affinity_timeout", "render_rules"]


@lru_cache(maxsize=1001)  # proxier.go precomputes 1001 of them
def probability(n: int) -> str:
    """``computeProbability``: ``fmt.Sprintf("%0.10f", 1.0/float64(n))``."""
    return f"{1.0 / n:0.10f}"


def service_port_name(service: Service, port: ServicePort) -> str:
    """``ServicePortName.String()``: ``namespace/name`` plus ``:port`` when the port is named."""
    base = f"{service.metadata.namespace}/{service.metadata.name}"
    return f"{base}:{port.name}" if port.name else base


def _hash(text: str) -> str:
    return base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()[:16]


def svc_chain(svc_port_name: str, protocol: str) -> str:
    return "KUBE-SVC-" + _hash(svc_port_name + protocol.lower())


def sep_chain(svc_port_name: str, protocol: str, endpoint: Endpoint) -> str:
    return "KUBE-SEP-" + _hash(svc_port_name + protocol.lower() + str(endpoint))


def affinity_timeout(service: Service) -> int | None:
    """``StickyMaxAgeSeconds`` for ``sessionAffinity: ClientIP`` (default 10800 s), else None."""
    if service.spec.session_affinity != "ClientIP":
        return None
    config = service.spec.session_affinity_config
    timeout = config.client_ip.timeout_seconds if config and config.client_ip else None
    return timeout or DEFAULT_CLIENT_IP_SERVICE_AFFINITY_SECONDS


def render_rules(service: Service, endpoints: Mapping[str, Sequence[Endpoint]]) -> str:
    """The filter and nat rules for ``service``'s ClusterIP ports given each port's usable
    endpoints (by port name), in proxier.go's order: chain lines, the ``KUBE-SERVICES`` jump,
    affinity then random rules in ``KUBE-SVC-*``, then each ``KUBE-SEP-*`` (masquerade-hairpin
    and DNAT). A port without endpoints gets a REJECT in the filter table instead."""
    filter_rules: list[str] = []
    chains: list[str] = []
    nat_rules: list[str] = []
    sticky = affinity_timeout(service)
    for port in service.spec.ports:
        name, protocol = service_port_name(service, port), (port.protocol or "TCP").lower()
        eps = list(endpoints.get(port.name, ()))
        match = f"-m {protocol} -p {protocol} -d {service.spec.cluster_ip} --dport {port.port}"
        if not eps:
            filter_rules.append(f'-A KUBE-SERVICES -m comment --comment "{name} has no endpoints" {match} -j REJECT')
            continue
        svc = svc_chain(name, protocol)
        seps = [sep_chain(name, protocol, ep) for ep in eps]
        chains += [f":{svc} - [0:0]"] + [f":{sep} - [0:0]" for sep in seps]
        nat_rules.append(f'-A KUBE-SERVICES -m comment --comment "{name} cluster IP" {match} -j {svc}')
        if sticky is not None:
            nat_rules += [f'-A {svc} -m comment --comment "{name} -> {ep}" -m recent --name {sep} '
                          f"--rcheck --seconds {sticky} --reap -j {sep}" for ep, sep in zip(eps, seps)]
        for i, (ep, sep) in enumerate(zip(eps, seps)):
            statistic = f" -m statistic --mode random --probability {probability(len(eps) - i)}" \
                if i < len(eps) - 1 else ""
            nat_rules.append(f'-A {svc} -m comment --comment "{name} -> {ep}"{statistic} -j {sep}')
        for ep, sep in zip(eps, seps):
            comment = f"-A {sep} -m comment --comment {name}"
            recent = f" -m recent --name {sep} --set" if sticky is not None else ""
            nat_rules += [f"{comment} -s {ep.ip} -j KUBE-MARK-MASQ",
                          f"{comment}{recent} -m {protocol} -p {protocol} -j DNAT --to-destination {ep}"]
    lines = ["*filter", *filter_rules, "COMMIT", "*nat", *chains, *nat_rules, "COMMIT"]
    return "\n".join(lines) + "\n"
