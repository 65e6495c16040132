"""kube-controller-manager (``cmd/kube-controller-manager``): every controller on one set of
shared informers. ``stop()`` then ``start()`` models a restart: all in-memory state
(caches, queues, expectations, node health, pending evictions) is lost and rebuilt from a
fresh LIST, as after a real process restart or a leader-election handover."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import simpy

from kbook.controlplane.apiserver.types import API
from kbook.controlplane.controllers.deployment import DeploymentController
from kbook.controlplane.controllers.garbagecollector import GarbageCollector
from kbook.controlplane.controllers.hpa import HPA_OPTIONS, HorizontalController
from kbook.controlplane.controllers.informer import InformerFactory
from kbook.controlplane.controllers.nodelifecycle import NODE_MONITOR_GRACE_PERIOD, NodeLifecycleController
from kbook.controlplane.controllers.replicaset import ReplicaSetController
from kbook.controlplane.controllers.tainteviction import TaintEvictionController
from kbook.controlplane.metricsserver import MetricsServer
from kbook.errors import KbookError
from kbook.eventlog import EventLog

__all__ = ["ControllerManager", "CONTROLLERS"]

CONTROLLERS = ("deployment", "replicaset", "nodelifecycle", "taint-eviction", "garbagecollector",
               "horizontalpodautoscaling")


class ControllerManager:
    """Runs ``controllers`` (names from :data:`CONTROLLERS`) on ``env`` against ``api``.
    ``metrics`` is the resource metrics API the HPA controller reads (None: metrics-server is
    not installed); ``hpa_options`` are its flags (:data:`~kbook.controlplane.controllers.hpa.HPA_OPTIONS`)."""

    def __init__(self, env: simpy.Environment, api: API, *, log: EventLog | None = None,
                 rng: np.random.Generator | None = None, controllers: tuple[str, ...] = CONTROLLERS,
                 node_monitor_grace_period: float = NODE_MONITOR_GRACE_PERIOD, metrics: MetricsServer | None = None,
                 hpa_options: Mapping[str, Any] | None = None):
        unknown = set(controllers) - set(CONTROLLERS)
        if unknown:
            raise ValueError(f"unknown controllers {sorted(unknown)}; known: {', '.join(CONTROLLERS)}")
        bad = sorted(set(hpa_options or {}) - set(HPA_OPTIONS))
        if bad:
            raise KbookError(f"hpa_options: unknown options {', '.join(bad)}; expected some of {', '.join(HPA_OPTIONS)}")
        self.metrics, self.hpa_options = metrics, dict(hpa_options or {})
        self.env, self.api, self.log, self.rng = env, api, log, rng
        self.enabled = controllers
        self.node_monitor_grace_period = node_monitor_grace_period
        self.informers: InformerFactory | None = None
        self.controllers: dict[str, object] = {}
        self.restarts = 0

    @property
    def running(self) -> bool:
        return self.informers is not None

    def start(self) -> None:
        """Build fresh informers and controllers and start them (a no-op if running)."""
        if self.running:
            return
        env, api, log = self.env, self.api, self.log
        informers = InformerFactory(env, api, log=log, rng=self.rng)
        makers = {
            "deployment": lambda: DeploymentController(env, api, informers=informers, log=log),
            "replicaset": lambda: ReplicaSetController(env, api, informers=informers, log=log),
            "nodelifecycle": lambda: NodeLifecycleController(
                env, api, informers=informers, log=log, node_monitor_grace_period=self.node_monitor_grace_period),
            "taint-eviction": lambda: TaintEvictionController(env, api, informers=informers, log=log),
            "garbagecollector": lambda: GarbageCollector(env, api, informers=informers, log=log),
            "horizontalpodautoscaling": lambda: HorizontalController(
                env, api, informers=informers, log=log, metrics=self.metrics, **self.hpa_options),
        }
        self.controllers = {name: makers[name]() for name in self.enabled}
        self.informers = informers
        informers.start()
        for controller in self.controllers.values():
            controller.start()  # type: ignore[attr-defined]
        if log is not None:
            log.record(env.now, "kube-controller-manager", "Started", "", ",".join(self.enabled))

    def stop(self) -> None:
        """Stop every controller and informer; their state is dropped."""
        if not self.running:
            return
        for controller in self.controllers.values():
            controller.stop()  # type: ignore[attr-defined]
        self.informers.stop()  # type: ignore[union-attr]
        self.informers, self.controllers = None, {}
        self.restarts += 1
        if self.log is not None:
            self.log.record(self.env.now, "kube-controller-manager", "Stopped", "")
