"""``kbook.scheduler``: kube-scheduler's scheduling framework on plain snapshots.

    sched = Scheduler(config, host=host, rng=np.random.default_rng(0), clock=lambda: now)
    sched.add_node(node); sched.add_pod(pod)       # what the informers deliver
    result = sched.schedule_one()                  # one scheduling cycle (serial)
    sched.binding_cycle(result)                    # the binding cycle (may run in parallel)

    simulate(nodes, pods).placements               # nodes and pods in, placements out
    explain(sched, pod).table                      # every node by every plugin

The framework (:mod:`~kbook.scheduler.framework`) runs a profile's plugins at their
extension points; the queue (:mod:`~kbook.scheduler.queue`) orders pending pods and
backs them off; the default plugins live in :mod:`kbook.scheduler.plugins`; the array
engine (:mod:`kbook.scheduler.arrays`) computes the default plugins over all nodes at once
and is held to the per-node reference engine by a differential test.
"""

from kbook.scheduler.cache import Cache
from kbook.scheduler.config import ConfigError, KubeSchedulerConfiguration, default_config
from kbook.scheduler.explain import Explanation, explain
from kbook.scheduler.framework import Framework, PluginError, SchedulerHost, StaticHost
from kbook.scheduler.queue import SchedulingQueue, calculate_backoff_duration
from kbook.scheduler.schedule_one import (
    CycleResult,
    ScheduleResult,
    Scheduler,
    num_feasible_nodes_to_find,
    select_host,
)
from kbook.scheduler.simulate import Simulation, simulate
from kbook.scheduler.snapshot import Snapshot
from kbook.scheduler.status import Code, Status
from kbook.scheduler.types import FitError, NodeInfo, PodInfo

__all__ = [
    "Cache",
    "Code",
    "ConfigError",
    "CycleResult",
    "Explanation",
    "FitError",
    "Framework",
    "KubeSchedulerConfiguration",
    "NodeInfo",
    "PluginError",
    "PodInfo",
    "ScheduleResult",
    "Scheduler",
    "SchedulerHost",
    "SchedulingQueue",
    "Simulation",
    "Snapshot",
    "StaticHost",
    "Status",
    "calculate_backoff_duration",
    "default_config",
    "explain",
    "num_feasible_nodes_to_find",
    "select_host",
    "simulate",
]
