"""The scheduler at Kubernetes' documented scale limits: 5,000 nodes, 150,000 pods.

    python benchmarks/scheduler.py                          # basic workload, full size
    python benchmarks/scheduler.py --workload deployments   # pods owned by ReplicaSets
    python benchmarks/scheduler.py --nodes 500 --pods 5000 --profile 30

Builds the nodes (32 cores, 128 GiB, 110 pods each, hostname and zone labels over three
zones) and the pods, then schedules every pod through the real ``Scheduler`` (queue pop,
snapshot update, PreFilter, Filter, Score, selectHost, assume, Reserve, Permit, then the
binding cycle with a host that binds at once and reports the bound pod back as the
informer would) under the default profile. Timing starts at the first ``schedule_one``
and ends when the last pod is bound; building the objects is not timed.

Workloads:

- ``basic`` (default): the shape of scheduler_perf's SchedulingBasic -- identical pods
  asking for 100m cpu and 500Mi memory, no owner, so system default spreading has no
  selector and skips.
- ``deployments``: the same requests, but the pods belong to 100 Deployments (the host
  lists their ReplicaSets), so PodTopologySpread's system default constraints (hostname,
  maxSkew 3; zone, maxSkew 5; ScheduleAnyway) score every pod.

Prints pods per second for the array engine at full size and, on the first
``--reference-pods`` pods from the same empty cluster, for both engines (the per-node
reference is the baseline) with their ratio and whether they placed those pods alike.
Upstream's scheduler_perf CI floor for SchedulingBasic at 5,000 nodes is 270 pods/s.
``--profile N`` prints the N functions with the most cumulative time of the full run.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import pstats
import time
from typing import Any

import numpy as np

from kbook.api import Container, LabelSelector, Node, ObjectMeta, OwnerReference, Pod, ReplicaSet, ResourceRequirements
from kbook.api.apps import ReplicaSetSpec
from kbook.api.core import NodeStatus, PodSpec
from kbook.quantity import Quantity
from kbook.scheduler.schedule_one import Scheduler

TARGET = 2500  # pods/s, the array engine at full size
ZONE = "topology.kubernetes.io/zone"
HOSTNAME = "kubernetes.io/hostname"


class InstantHost:
    """An API server that binds at once and lists the workload's ReplicaSets."""

    def __init__(self, objects: dict[str, list[Any]]) -> None:
        self._objects = objects
        self.live: dict[str, Pod] = {}  # the API server's pods
        self.bindings: list[tuple[Pod, str]] = []

    def objects(self, kind: str) -> list[Any]:
        return self._objects.get(kind, [])

    def bind_pod(self, pod: Pod, node_name: str) -> None:
        self.bindings.append((pod, node_name))

    def delete_pod(self, pod: Pod) -> None:
        raise AssertionError("nothing is preempted in this benchmark")

    def set_nominated_node_name(self, pod: Pod, node_name: str) -> None:
        raise AssertionError("nothing is preempted in this benchmark")


_SPEC_FIELDS = [f.name for f in dataclasses.fields(PodSpec)]


def bound_copy(pod: Pod, node_name: str) -> Pod:
    """The pod as the API server returns it after the binding: a new Pod and PodSpec
    (``spec.nodeName`` set) sharing everything else with the old version."""
    spec = object.__new__(PodSpec)
    for name in _SPEC_FIELDS:
        setattr(spec, name, getattr(pod.spec, name))
    spec.node_name = node_name
    bound = object.__new__(Pod)
    bound.metadata, bound.spec, bound.status = pod.metadata, spec, pod.status
    return bound


def make_nodes(count: int, zones: int) -> list[Node]:
    allocatable = {"cpu": Quantity("32"), "memory": Quantity("128Gi"), "pods": Quantity("110"),
                   "ephemeral-storage": Quantity("200Gi")}
    return [Node(metadata=ObjectMeta(name=f"node-{i}", labels={HOSTNAME: f"node-{i}", ZONE: f"zone-{i % zones}"}),
                 status=NodeStatus(capacity=dict(allocatable), allocatable=dict(allocatable)))
            for i in range(count)]


def make_pods(count: int, workload: str, deployments: int) -> tuple[list[Pod], dict[str, list[Any]]]:
    requests = {"cpu": Quantity("100m"), "memory": Quantity("500Mi")}
    pods, replica_sets = [], []
    for d in range(deployments if workload == "deployments" else 0):
        replica_sets.append(ReplicaSet(metadata=ObjectMeta(name=f"app-{d}-rs", namespace="default"),
                                       spec=ReplicaSetSpec(selector=LabelSelector(match_labels={"app": f"app-{d}"}))))
    for i in range(count):
        meta = ObjectMeta(name=f"pod-{i}", namespace="default", uid=f"uid-{i}",
                          creation_timestamp="2024-01-01T00:00:00Z")
        if replica_sets:
            d = i % deployments
            meta.labels = {"app": f"app-{d}"}
            meta.owner_references = [OwnerReference(api_version="apps/v1", kind="ReplicaSet", name=f"app-{d}-rs",
                                                    uid=f"rs-{d}", controller=True)]
        spec = PodSpec(containers=[Container(name="pause", image="registry.k8s.io/pause:3.9",
                                             resources=ResourceRequirements(requests=dict(requests)))])
        pods.append(Pod(metadata=meta, spec=spec))
    return pods, {"ReplicaSet": replica_sets}


def schedule(engine: str, nodes: list[Node], pods: list[Pod], objects: dict[str, list[Any]], seed: int,
             profiler: cProfile.Profile | None = None) -> tuple[float, dict[str, str]]:
    """(seconds from the first cycle to the last binding, pod -> node)."""
    host = InstantHost(objects)
    now = [0.0]
    sched = Scheduler(host=host, rng=np.random.default_rng(seed), clock=lambda: now[0], engine=engine)
    for node in nodes:
        sched.add_node(node)
    for pod in pods:  # created one microsecond apart (the queue orders equal priorities by arrival)
        now[0] += 1e-6
        host.live[pod.key] = pod
        sched.add_pod(pod)
    placed: dict[str, str] = {}
    if profiler:
        profiler.enable()
    t0 = time.perf_counter()
    while True:
        result = sched.schedule_one()
        if result is None:
            break
        if not result.succeeded:
            raise SystemExit(f"{result.pod.key} was not scheduled: {result.status}")
        if sched.binding_cycle(result) is not None:
            raise SystemExit(f"{result.pod.key} was not bound")
        pod, node_name = host.bindings.pop()
        old = host.live[pod.key]
        bound = host.live[pod.key] = bound_copy(old, node_name)
        sched.update_pod(old, bound)  # the informer's update: the pod is bound
        placed[pod.key] = node_name
    elapsed = time.perf_counter() - t0
    if profiler:
        profiler.disable()
    return elapsed, placed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--pods", type=int, default=150_000)
    parser.add_argument("--zones", type=int, default=3)
    parser.add_argument("--workload", choices=("basic", "deployments"), default="basic")
    parser.add_argument("--deployments", type=int, default=100)
    parser.add_argument("--reference-pods", type=int, default=2000, metavar="N",
                        help="pods scheduled by both engines for the baseline")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    args = parser.parse_args()

    t0 = time.perf_counter()
    nodes = make_nodes(args.nodes, args.zones)
    pods, objects = make_pods(args.pods, args.workload, args.deployments)
    print(f"workload {args.workload}: {args.nodes:,} nodes in {args.zones} zones, {args.pods:,} pods, default profile"
          f" (objects built in {time.perf_counter() - t0:.1f} s)")

    prefix = pods[:args.reference_pods]
    ref_time, ref_placed = schedule("reference", nodes, prefix, objects, args.seed)
    arr_prefix_time, arr_prefix_placed = schedule("arrays", nodes, prefix, objects, args.seed)
    profiler = cProfile.Profile() if args.profile else None
    full_time, full_placed = schedule("arrays", nodes, pods, objects, args.seed, profiler)

    rows = [("arrays", len(full_placed), full_time), ("arrays (prefix)", len(arr_prefix_placed), arr_prefix_time),
            ("reference (prefix)", len(ref_placed), ref_time)]
    print()
    print(f"{'engine':<20} {'pods':>9} {'seconds':>9} {'pods/s':>9}")
    for name, n, seconds in rows:
        print(f"{name:<20} {n:>9,} {seconds:>9.2f} {n / seconds:>9,.0f}")
    print()
    same = arr_prefix_placed == ref_placed
    print(f"first {len(prefix):,} pods: arrays/reference {ref_time / arr_prefix_time:.1f}x, "
          f"same placements: {'yes' if same else 'NO'}")
    rate = len(full_placed) / full_time
    print(f"arrays at full size: {rate:,.0f} pods/s, {rate / (len(ref_placed) / ref_time):.1f}x the reference's "
          f"rate on the prefix (target >= {TARGET:,} pods/s: {'met' if rate >= TARGET else 'NOT met'}; "
          f"scheduler_perf CI floor for SchedulingBasic at 5,000 nodes: 270 pods/s)")
    if profiler:
        print()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile)


if __name__ == "__main__":
    main()
