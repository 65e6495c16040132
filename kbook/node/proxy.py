"""kube-proxy: the Services and their endpoints, and which endpoint a new connection to a
Service goes to.

``iptables`` mode walks the ``KUBE-SVC-*`` chain as the kernel does: rule ``i`` of ``n``
matches with probability ``1/(n-i)`` (``-m statistic --mode random``), the last one always,
so each endpoint gets ``1/n`` (``pkg/proxy/iptables/proxier.go``). ``ipvs`` mode uses the
default ``rr`` scheduler (``pkg/proxy/ipvs/proxier.go``). ``sessionAffinity: ClientIP``
sends a client back to its endpoint while it was last seen within the timeout (``-m recent
--rcheck --seconds``; IPVS persistence). Only ready endpoints get traffic, or the serving
and terminating ones when none is ready (``CategorizeEndpoints``).

Endpoints come from Pods (``source="pods"``, the default: what the EndpointSlice controller
would publish, :func:`~kbook.node.endpoints.endpoints_from_pods`) or from v1 Endpoints
objects (``source="endpoints"``, written by an endpoints controller); either way they apply
as soon as a watch event arrives (``--iptables-min-sync-period`` is not modelled).

Services and Pods (or Endpoints) come through client-go reflectors
(:class:`~kbook.controlplane.controllers.informer.SharedInformer`): a failed LIST or WATCH,
or a watch that ends, is retried with the ListAndWatch backoff and a fresh LIST.
"""

from __future__ import annotations

import numpy as np
import simpy

from kbook.api import Endpoints, Pod, Service
from kbook.controlplane.apiserver.types import ADDED, DELETED, ERROR, MODIFIED, API, WatchEvent
from kbook.controlplane.controllers.informer import EventHandler, SharedInformer
from kbook.errors import KbookError
from kbook.eventlog import EventLog
from kbook.node.endpoints import Endpoint, endpoints_from_object, endpoints_from_pods, usable
from kbook.node.iptables import affinity_timeout, probability, render_rules

__all__ = ["KubeProxy", "IPTABLES", "IPVS", "PODS", "ENDPOINTS", "iptables_pick"]

IPTABLES, IPVS = "iptables", "ipvs"
PODS, ENDPOINTS = "pods", "endpoints"


def iptables_pick(endpoints: list[Endpoint], rng: np.random.Generator) -> Endpoint:
    """Walk the random rules: rule ``i`` matches with ``float(probability(n - i))``, the last
    one unconditionally."""
    n = len(endpoints)
    for i, endpoint in enumerate(endpoints[:-1]):
        if rng.random() < float(probability(n - i)):
            return endpoint
    return endpoints[-1]


def _selects(service: Service, pod: Pod) -> bool:
    """Whether ``service``'s selector picks ``pod`` (a Service without one picks none)."""
    selector = service.spec.selector
    return (bool(selector) and pod.metadata.namespace == service.metadata.namespace
            and all(pod.metadata.labels.get(k) == v for k, v in selector.items()))


class KubeProxy:
    """One node's kube-proxy on ``env``, watching ``api``; ``mode`` is ``"iptables"`` or
    ``"ipvs"``, ``source`` ``"pods"`` or ``"endpoints"``."""

    def __init__(self, env: simpy.Environment, api: API, node_name: str = "", *, rng: np.random.Generator,
                 mode: str = IPTABLES, source: str = PODS, log: EventLog | None = None):
        if mode not in (IPTABLES, IPVS):
            raise KbookError(f'kube-proxy mode "{mode}": expected "{IPTABLES}" or "{IPVS}"')
        if source not in (PODS, ENDPOINTS):
            raise KbookError(f'kube-proxy endpoints source "{source}": expected "{PODS}" or "{ENDPOINTS}"')
        self.env = env
        self.api = api
        self.rng = rng
        self.mode = mode
        self.source = source
        self.node_name = node_name
        self.log = log
        self.services: dict[str, Service] = {}
        self.pods: dict[str, Pod] = {}
        self.endpoints_objects: dict[str, Endpoints] = {}
        self.endpoints: dict[str, dict[str, list[Endpoint]]] = {}  # service key -> port name -> endpoints
        self._selected: dict[str, dict[str, Pod]] = {}  # service key -> pods its selector picks, by key
        self._affinity: dict[tuple[str, str, str], tuple[Endpoint, float]] = {}  # (svc, port, client) -> last
        self._last_rr: dict[tuple[str, str], Endpoint] = {}
        self._informers: list[SharedInformer] = []
        self._reflector_rng = rng.spawn(1)[0]  # backoff jitter, apart from the picks' draws

    @property
    def component(self) -> str:
        return f"kube-proxy/{self.node_name}" if self.node_name else "kube-proxy"

    def start(self) -> None:
        """List and watch Services and Pods (or Endpoints), retrying with backoff."""
        if self._informers:
            return
        source = ("Pod", self._on_pod) if self.source == PODS else ("Endpoints", self._on_endpoints)
        for kind, handler in (("Service", self._on_service), source):
            informer = SharedInformer(self.env, self.api, kind, log=self.log, rng=self._reflector_rng,
                                      synchronous=True, component=self.component)
            informer.add_event_handler(EventHandler(
                on_add=lambda obj, h=handler: h(WatchEvent(ADDED, obj)),
                on_update=lambda old, obj, h=handler: h(WatchEvent(MODIFIED, obj)),
                on_delete=lambda obj, h=handler: h(WatchEvent(DELETED, obj))))
            self._informers.append(informer)
            informer.start()

    def stop(self) -> None:
        for informer in self._informers:
            informer.stop()
        self._informers.clear()

    # --- watches ---------------------------------------------------------------------------

    def _on_service(self, event: WatchEvent) -> None:
        if event.type == ERROR:
            return
        service: Service = event.object
        if event.type == DELETED:
            self.services.pop(service.key, None)
            self.endpoints.pop(service.key, None)
            self._selected.pop(service.key, None)
        else:
            self.services[service.key] = service
            self._selected[service.key] = {key: pod for key, pod in self.pods.items() if _selects(service, pod)}
            self._sync(service)

    def _on_pod(self, event: WatchEvent) -> None:
        """Incremental, as the endpoints change tracker is: only the Services whose selector
        picks the pod (before or after the change) are synced again."""
        if event.type == ERROR:
            return
        pod: Pod = event.object
        key = pod.key
        if event.type == DELETED:
            self.pods.pop(key, None)
        else:
            self.pods[key] = pod
        for service_key, service in self.services.items():
            selected = self._selected[service_key]
            was = key in selected
            if event.type != DELETED and _selects(service, pod):
                selected[key] = pod
            elif was:
                del selected[key]
            else:
                continue
            self._sync(service)

    def _on_endpoints(self, event: WatchEvent) -> None:
        if event.type == ERROR:
            return
        endpoints: Endpoints = event.object
        if event.type == DELETED:
            self.endpoints_objects.pop(endpoints.key, None)
        else:
            self.endpoints_objects[endpoints.key] = endpoints
        if endpoints.key in self.services:
            self._sync(self.services[endpoints.key])

    def _sync(self, service: Service) -> None:
        if self.source == PODS:
            endpoints = endpoints_from_pods(service, self._selected[service.key].values())
        else:
            obj = self.endpoints_objects.get(service.key)
            endpoints = endpoints_from_object(service, obj) if obj else {p.name: [] for p in service.spec.ports}
        if endpoints != self.endpoints.get(service.key):
            self.endpoints[service.key] = endpoints
            if self.log is not None:
                detail = "; ".join(f"{port or '-'}: {' '.join(map(str, usable(eps))) or 'none'}"
                                   for port, eps in endpoints.items())
                self.log.record(self.env.now, self.component, "SyncEndpoints", f"service/{service.key}", detail)

    # --- data path -------------------------------------------------------------------------

    def backends(self, service: str, port: str = "") -> list[Endpoint]:
        """The endpoints that get new connections to ``service`` (``namespace/name``) ``port``."""
        if service not in self.services:
            raise KbookError(f'service "{service}" not found')
        by_port = self.endpoints.get(service, {})
        if port not in by_port:
            raise KbookError(f'service "{service}" has no port named "{port}"')
        return usable(by_port[port])

    def pick(self, service: str, client: str, port: str = "") -> Endpoint | None:
        """The endpoint a new connection from ``client`` (an IP) to ``service`` goes to;
        None when there is none (iptables rejects it)."""
        candidates = self.backends(service, port)
        if not candidates:
            return None
        timeout = affinity_timeout(self.services[service])
        key = (service, port, client)
        if timeout is not None and key in self._affinity:
            endpoint, seen = self._affinity[key]
            if endpoint in candidates and self.env.now - seen <= timeout:
                self._affinity[key] = (endpoint, self.env.now)
                return endpoint
        if self.mode == IPTABLES:
            endpoint = iptables_pick(candidates, self.rng)
        else:
            endpoint = self._round_robin((service, port), candidates)
        if timeout is not None:
            self._affinity[key] = (endpoint, self.env.now)
        return endpoint

    def _round_robin(self, key: tuple[str, str], candidates: list[Endpoint]) -> Endpoint:
        """IPVS ``rr``: the destination after the last one used, in list order."""
        last = self._last_rr.get(key)
        endpoint = candidates[(candidates.index(last) + 1) % len(candidates)] if last in candidates else candidates[0]
        self._last_rr[key] = endpoint
        return endpoint

    def rules(self, service: str) -> str:
        """The iptables rules this kube-proxy would write for ``service`` now."""
        if service not in self.services:
            raise KbookError(f'service "{service}" not found')
        by_port = {p: usable(eps) for p, eps in self.endpoints[service].items()}
        return render_rules(self.services[service], by_port)
