"""One HorizontalPodAutoscaler and its Deployment in a simulated cluster, driven by a trace.

:func:`simulate` builds a :class:`~kbook.cluster.Cluster` with enough nodes for the HPA's
``maxReplicas``, applies the Deployment and the HPA, attaches a
:class:`~kbook.autoscaling.workload.Workload` whose request rate is the trace (resampled to
the sync period, :func:`~kbook.autoscaling.traces.resample`), and runs the whole trace. The
HorizontalPodAutoscaler controller reads metrics-server every sync period and scales the
Deployment; new pods wait for the image pull (the first pod on each node), the container
start and the readiness delay before they take load.

The result is one row per sync period (see :data:`COLUMNS`), sampled at the end of each
period, plus the totals of the run.

It sits above :mod:`kbook.cluster` (as :mod:`kbook.microservices` does), while
``kbook.autoscaling`` computes on plain values and never imports the control plane.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from kbook.api import Deployment, HorizontalPodAutoscaler, KubeObject, load_file
from kbook.autoscaling.traces import resample
from kbook.autoscaling.workload import Workload, WorkloadStats
from kbook.cluster import Cluster, NodePool
from kbook.errors import KbookError
from kbook.image import FILE, Entry, Image, Layer
from kbook.plots import PALETTE, use_style
from kbook.quantity import Quantity

__all__ = ["SimulationError", "SimulationResult", "simulate", "load_pair", "plot_scaling", "COLUMNS", "NODE_CPU",
           "NODE_MEMORY", "SYNC_PERIOD"]

SYNC_PERIOD = 15.0  # kube-controller-manager --horizontal-pod-autoscaler-sync-period
NODE_CPU, NODE_MEMORY = "16", "64Gi"  # each simulated node: a model choice
_LAYER_BYTES = 100_000  # the image's one layer; the bandwidth is set so its pull takes image_pull_s

COLUMNS = {
    "time": "end of the sync period, seconds",
    "rate": "requests per second offered over the period (mean)",
    "ready_replicas": "pods serving at the end of the period",
    "replicas": "the Deployment's spec.replicas",
    "desired_replicas": "the HPA's status.desiredReplicas",
    "utilization": "the HPA's current CPU utilization (% of requests), as it last read it",
    "target_utilization": "the HPA's CPU averageUtilization target (%)",
    "latency": "mean latency of the requests served over the period, seconds",
    "slo_violation": "share of the period's requests slower than the SLO (or not served)",
    "pod_hours": "pod-hours used since the start",
}


class SimulationError(KbookError):
    """An HPA and Deployment that cannot be simulated together, or a bad parameter."""


@dataclass(frozen=True)
class SimulationResult:
    """``frame``: one row per sync period with :data:`COLUMNS`; ``stats``: the workload's
    totals (requests, SLO violations, mean latency, pod-hours)."""

    frame: pd.DataFrame
    stats: WorkloadStats


def load_pair(hpa_path: str, deployment_path: str) -> tuple[HorizontalPodAutoscaler, Deployment]:
    """The one HorizontalPodAutoscaler and the one Deployment of two manifest files."""
    return (_one(load_file(hpa_path), HorizontalPodAutoscaler, hpa_path),
            _one(load_file(deployment_path), Deployment, deployment_path))


def _one(objs: list[KubeObject], kind: type, path: str) -> Any:
    found = [o for o in objs if isinstance(o, kind)]
    if len(found) != 1:
        raise SimulationError(f"{path}: expected one {kind.__name__}, found {len(found)}")
    return found[0]


def _check(hpa: HorizontalPodAutoscaler, deployment: Deployment) -> None:
    ref = hpa.spec.scale_target_ref
    if ref.kind != "Deployment" or ref.name != deployment.metadata.name:
        raise SimulationError(f"spec.scaleTargetRef: HorizontalPodAutoscaler {hpa.metadata.name!r} targets "
                              f"{ref.kind} {ref.name!r}, not Deployment {deployment.metadata.name!r}")
    if (hpa.metadata.namespace or "default") != (deployment.metadata.namespace or "default"):
        raise SimulationError(f"metadata.namespace: the HorizontalPodAutoscaler is in "
                              f"{hpa.metadata.namespace or 'default'!r}, the Deployment in "
                              f"{deployment.metadata.namespace or 'default'!r}")


def _target_utilization(hpa: HorizontalPodAutoscaler) -> float:
    for m in hpa.spec.metrics:
        if m.type == "Resource" and m.resource is not None and m.resource.name == "cpu" \
                and m.resource.target.average_utilization is not None:
            return float(m.resource.target.average_utilization)
    return math.nan


def _current_utilization(hpa: HorizontalPodAutoscaler) -> float:
    for m in hpa.status.current_metrics or []:
        resource = m.get("resource") or {}
        if m.get("type") == "Resource" and resource.get("name") == "cpu":
            value = (resource.get("current") or {}).get("averageUtilization")
            return math.nan if value is None else float(value)
    return math.nan


def _nodes(hpa: HorizontalPodAutoscaler, deployment: Deployment) -> int:
    """Nodes of NODE_CPU and NODE_MEMORY enough for maxReplicas pods by their requests."""
    cpu = memory = 0
    for c in deployment.spec.template.spec.containers:
        cpu += c.resources.requests["cpu"].milli_value() if "cpu" in c.resources.requests else 0
        memory += c.resources.requests["memory"].value() if "memory" in c.resources.requests else 0
    per_node = min(110, Quantity(NODE_CPU).milli_value() // cpu if cpu else 110,
                   Quantity(NODE_MEMORY).value() // memory if memory else 110)
    if per_node < 1:
        raise SimulationError(f"spec.template: a pod's requests do not fit a node of {NODE_CPU} CPU, {NODE_MEMORY}")
    return max(1, math.ceil(hpa.spec.max_replicas / per_node))


def _registry(deployment: Deployment) -> dict[str, Image]:
    """Each container image as one incompressible layer of _LAYER_BYTES."""
    data = np.random.default_rng(0).bytes(_LAYER_BYTES)
    layer = Layer.from_entries([Entry("app", FILE, 0o755, data=data)])
    return {c.image: Image(layers=(layer,)) for c in deployment.spec.template.spec.containers}


def simulate(hpa: HorizontalPodAutoscaler, deployment: Deployment, trace: pd.Series, *,
             cpu_per_request: float = 0.01, slo_s: float = 0.25, sync_period: float = SYNC_PERIOD,
             metric_resolution: float = 15.0, image_pull_s: float = 10.0, container_start_s: float = 1.0,
             readiness_delay_s: float = 5.0, warmup: float = 120.0, nodes: int | None = None, seed: int = 0,
             hpa_options: Mapping[str, Any] | None = None) -> SimulationResult:
    """Run ``trace`` (requests per second, indexed by seconds) through the HPA and its
    Deployment; see the module docstring. ``cpu_per_request`` and ``slo_s`` go to the
    :class:`~kbook.autoscaling.workload.Workload`; ``metric_resolution`` is metrics-server's
    ``--metric-resolution`` (15 s, as its official manifest sets); ``image_pull_s``,
    ``container_start_s`` and ``readiness_delay_s`` set how long a new pod takes to serve.
    The trace starts ``warmup`` seconds after the Deployment and the HPA are applied (time
    0 of the result), so the first pods can come up; the warm-up is not in the totals."""

    _check(hpa, deployment)
    if not sync_period > 0:
        raise SimulationError(f"sync_period: {sync_period}: must be greater than 0")
    if not image_pull_s > 0:
        raise SimulationError(f"image_pull_s: {image_pull_s}: must be greater than 0")
    if not warmup >= 0:
        raise SimulationError(f"warmup: {warmup}: must be >= 0")
    rate = resample(trace, sync_period)
    shifted = pd.Series(rate.to_numpy(), index=rate.index + warmup)
    workload = Workload(shifted, cpu_per_request, slo_s=slo_s)
    cluster = Cluster(
        nodes=NodePool(count=nodes or _nodes(hpa, deployment), cpu=NODE_CPU, memory=NODE_MEMORY), seed=seed,
        kube_proxy="shared", metric_resolution=metric_resolution,
        hpa_options={"sync_period": sync_period, **dict(hpa_options or {})},
        kubelet_options={"images": _registry(deployment), "bandwidth_bytes_per_s": _LAYER_BYTES / image_pull_s,
                         "container_start_s": container_start_s, "readiness_delay_s": readiness_delay_s})
    namespace = deployment.metadata.namespace or "default"
    attachment = cluster.attach_load(deployment.metadata.name, workload, namespace)
    cluster.apply([deployment, hpa])
    target = _target_utilization(hpa)
    rows: list[tuple[float, ...]] = []
    env = cluster.env

    def sample():
        yield env.timeout(warmup)
        cluster.load.advance()
        start = last = copy.copy(attachment.stats)
        for t in rate.index.to_numpy() + sync_period:
            yield env.timeout(t + warmup - env.now)
            cluster.load.advance()
            s = attachment.stats
            requests, served = s.requests - last.requests, s.served - last.served
            live_hpa = cluster.api.get("HorizontalPodAutoscaler", hpa.metadata.name, namespace)
            live_deploy = cluster.api.get("Deployment", deployment.metadata.name, namespace)
            rows.append((t, requests / sync_period, len(attachment.load.pods) if attachment.load else 0,
                         live_deploy.spec.replicas, live_hpa.status.desired_replicas,
                         _current_utilization(live_hpa), target,
                         (s.latency_sum - last.latency_sum) / served if served else (math.inf if requests else 0.0),
                         (s.violations - last.violations) / requests if requests else 0.0,
                         s.pod_hours - start.pod_hours))
            last = copy.copy(s)
        return start

    done = env.process(sample())
    cluster.run(until=done)
    start, end = done.value, attachment.stats
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame = frame.astype({"ready_replicas": int, "replicas": int, "desired_replicas": int})
    return SimulationResult(frame, WorkloadStats(end.requests - start.requests, end.violations - start.violations,
                                                 end.latency_sum - start.latency_sum, end.served - start.served,
                                                 end.pod_seconds - start.pod_seconds))


def plot_scaling(frame: pd.DataFrame, title: str = "") -> Figure:
    """The scaling curves of a :func:`simulate` frame in the book's style: request rate,
    replicas (desired, spec and ready), CPU utilization against its target, and latency."""
    use_style()
    fig = Figure(figsize=(7.0, 8.0), layout="constrained")
    ax_rate, ax_replicas, ax_cpu, ax_latency = fig.subplots(4, 1, sharex=True)
    hours = frame["time"] / 3600.0
    ax_rate.plot(hours, frame["rate"], color=PALETTE[0])
    ax_rate.set_ylabel("load (requests/s)")
    ax_replicas.step(hours, frame["desired_replicas"], where="post", label="desired (HPA)", color=PALETTE[1])
    ax_replicas.step(hours, frame["replicas"], where="post", label="spec.replicas", color=PALETTE[2], linestyle="--")
    ax_replicas.step(hours, frame["ready_replicas"], where="post", label="ready", color=PALETTE[3])
    ax_replicas.set_ylabel("replicas (pods)")
    ax_replicas.legend(loc="upper left", fontsize=8)
    ax_cpu.plot(hours, frame["utilization"], label="CPU utilization", color=PALETTE[4])
    ax_cpu.plot(hours, frame["target_utilization"], label="target", color=PALETTE[7], linestyle=":")
    ax_cpu.set_ylabel("CPU utilization (% of request)")
    ax_cpu.legend(loc="upper left", fontsize=8)
    ax_latency.plot(hours, frame["latency"].replace(math.inf, np.nan) * 1000.0, color=PALETTE[5])
    ax_latency.set_ylabel("latency (ms)")
    ax_latency.set_xlabel("time (hours)")
    if title:
        ax_rate.set_title(title)
    return fig
