"""metrics-server (``kubernetes-sigs/metrics-server``): the resource metrics API
(``metrics.k8s.io/v1beta1`` PodMetrics) the HPA reads.

Every ``metric_resolution`` seconds (``--metric-resolution``, binary default 60 s; the
official manifest sets 15 s) it scrapes each live kubelet's ``/metrics/resource``: the
cumulative CPU seconds of each running container (:class:`~kbook.node.load.LoadDriver`
holds those counters, as cAdvisor does). It keeps the last two points per container
(``pkg/storage/pod.go``) and serves a pod's CPU usage as the rate between them
(``resourceUsage`` in ``pkg/storage/types.go``): ``timestamp`` is the last scrape,
``window`` the time between the two points. A container first seen in the last scrape uses
``(startTime, 0)`` as its previous point if it started at least
``freshContainerMinMetricsResolution`` (10 s) before the scrape. A pod is served only when
every one of its containers has a rate, so pods without a sample yet have no metrics.
Memory is not modelled (no ``memory`` usage is reported).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

import simpy

from kbook.api import LabelSelector, Pod
from kbook.autoscaling.metrics import ContainerMetrics, PodMetrics
from kbook.errors import KbookError
from kbook.eventlog import EventLog

if TYPE_CHECKING:  # the node components import the controllers' informers: no import cycle at run time
    from kbook.node.kubelet import Kubelet
    from kbook.node.load import LoadDriver

__all__ = ["MetricsServer", "METRIC_RESOLUTION", "FRESH_CONTAINER_MIN_METRICS_RESOLUTION"]

METRIC_RESOLUTION = 60.0  # options.go MetricResolution: 60 * time.Second
MIN_METRIC_RESOLUTION = 10.0  # options.go: --metric-resolution must be at least 10 s
FRESH_CONTAINER_MIN_METRICS_RESOLUTION = 10.0  # pkg/storage/pod.go freshContainerMinMetricsResolution


class _Point(NamedTuple):
    timestamp: float
    cpu_seconds: float
    start_time: float


class MetricsServer:
    """Scrapes ``kubelets`` through ``load`` every ``metric_resolution`` seconds."""

    def __init__(self, env: simpy.Environment, kubelets: Mapping[str, Kubelet], load: LoadDriver, *,
                 metric_resolution: float = METRIC_RESOLUTION, log: EventLog | None = None):
        if not metric_resolution >= MIN_METRIC_RESOLUTION:
            raise KbookError(f"metric_resolution: --metric-resolution must be at least "
                             f"{MIN_METRIC_RESOLUTION:g}s, got {metric_resolution}")
        self.env, self.kubelets, self.load, self.log = env, kubelets, load, log
        self.metric_resolution = metric_resolution
        self._prev: dict[tuple[str, str], _Point] = {}
        self._last: dict[tuple[str, str], _Point] = {}
        self._pods: dict[str, tuple[str, str, Mapping[str, str], tuple[str, ...]]] = {}  # uid -> pod identity
        self._seen: dict[str, tuple[Pod, tuple[str, str, Mapping[str, str], tuple[str, ...]]]] = {}  # by uid:
        # the Pod object last scraped and its identity (shared objects are never mutated: same object, same identity)
        self._served: list[tuple[Mapping[str, str], PodMetrics]] | None = None  # the store's items, per scrape
        self.scrapes = 0

    def start(self) -> None:
        self.env.process(self._run())

    def _run(self):
        while True:
            yield self.env.timeout(self.metric_resolution)
            self.scrape()

    def scrape(self) -> None:
        """One scrape of every live kubelet (``scraper.Scrape`` + ``storage.Store``)."""
        self.load.advance()
        now = self.env.now
        last: dict[tuple[str, str], _Point] = {}
        pods, seen = {}, {}
        for kubelet in self.kubelets.values():
            if not kubelet.running:
                continue
            for uid, worker in kubelet.pods.items():
                counters = self.load.counters.get(uid)
                if not counters:
                    continue
                pod, before = worker.pod, self._seen.get(uid)
                if before is not None and before[0] is pod:
                    identity = before[1]
                else:
                    meta = pod.metadata
                    identity = (meta.namespace, meta.name, dict(meta.labels), tuple(c.name for c in pod.spec.containers))
                pods[uid], seen[uid] = identity, (pod, identity)
                for name, counter in counters.items():
                    last[(uid, name)] = _Point(now, counter.cpu_seconds, counter.start_time)
        self._prev = {k: self._last[k] for k in last if k in self._last}
        self._last, self._pods, self._seen, self._served = last, pods, seen, None
        self.scrapes += 1

    def _rate(self, point: _Point, prev: _Point | None) -> tuple[float, float] | None:
        """(cores, window) of one container from its last two points, or None without two
        usable points."""
        if prev is None or prev.start_time != point.start_time:
            if point.timestamp - point.start_time < FRESH_CONTAINER_MIN_METRICS_RESOLUTION:
                return None
            prev = _Point(point.start_time, 0.0, point.start_time)
        window = point.timestamp - prev.timestamp
        if window <= 0:
            return None
        return (point.cpu_seconds - prev.cpu_seconds) / window, window

    def _items(self) -> list[tuple[Mapping[str, str], PodMetrics]]:
        """Every pod with a rate for each of its containers, with its labels, by name."""
        if self._served is None:
            served = []
            last, prev = self._last, self._prev
            for uid, (ns, name, labels, containers) in self._pods.items():
                usage, window = [], 0.0
                for c in containers:
                    point = last.get((uid, c))
                    rate = None if point is None else self._rate(point, prev.get((uid, c)))
                    if rate is None:
                        break
                    usage.append(ContainerMetrics(c, {"cpu": math.ceil(round(rate[0] * 1e9) / 1e6)}))
                    window = max(window, rate[1])
                else:
                    served.append((labels, PodMetrics(name, last[(uid, containers[0])].timestamp, window,
                                                      tuple(usage), ns)))
            self._served = sorted(served, key=lambda item: (item[1].namespace, item[1].name))
        return self._served

    def pod_metrics(self, namespace: str, selector: LabelSelector | None = None) -> list[PodMetrics]:
        """``GET /apis/metrics.k8s.io/v1beta1/namespaces/<ns>/pods?labelSelector=...``: the
        items, in pod-name order; CPU usage in milli-cores (``MilliValue`` of the nano-core
        quantity metrics-server serves). The selector is turned into requirements once
        (``LabelSelectorAsSelector``), then each pod's labels are matched."""
        items = [(labels, m) for labels, m in self._items() if m.namespace == namespace]
        if selector is None or not items:
            return [m for _, m in items]
        requirements = selector.requirements()
        return [m for labels, m in items if all(r.matches(labels) for r in requirements)]
