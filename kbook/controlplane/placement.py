"""Placement: the seam where a scheduler binds pending pods to nodes.

:class:`Placement` is what a :class:`~kbook.cluster.Cluster` starts: a component that
watches pods with no ``spec.nodeName`` and binds each to a node through the API. The
cluster's placement is kube-scheduler (:class:`~kbook.controlplane.scheduler.KubeScheduler`);
anything built by a :data:`PlacementFactory` from the cluster's environment, API client,
event log and seeded generator can stand in for it.
"""

from __future__ import annotations

from typing import Callable, Protocol

import numpy as np
import simpy

from kbook.controlplane.apiserver.types import API
from kbook.eventlog import EventLog

__all__ = ["Placement", "PlacementFactory"]


class Placement(Protocol):
    """A component that binds pending pods to nodes; the Cluster starts and stops it."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


PlacementFactory = Callable[[simpy.Environment, API, EventLog, np.random.Generator], Placement]
