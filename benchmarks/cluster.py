"""A big Deployment on a big cluster: from ``apply`` to every replica Ready.

    python benchmarks/cluster.py                       # 1,000 nodes, 10,000 replicas
    python benchmarks/cluster.py --nodes 100 --replicas 1000 --profile 25

Prints the wall time, the simulated time it took, and how many simulated events (event-log
records and SimPy events) ran per second of wall time. ``--profile N`` prints the N
functions with the most cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

import simpy

from kbook.api import Pod
from kbook.cluster import Cluster, NodePool
from kbook.controlplane.apiserver.types import DELETED, WatchEvent

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        resources: {{requests: {{cpu: 100m, memory: 128Mi}}}}
"""


class ReadyCounter:
    """Fires ``done`` when ``target`` pods labelled app=web are Ready."""

    def __init__(self, cluster: Cluster, target: int) -> None:
        self.target, self.ready = target, set()
        self.done = cluster.env.event()
        cluster.api.watch("Pod", self.on_pod, label_selector="app=web")

    def on_pod(self, event: WatchEvent) -> None:
        pod: Pod = event.object
        ready = event.type != DELETED and any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions)
        (self.ready.add if ready else self.ready.discard)(pod.key)
        if len(self.ready) >= self.target and not self.done.triggered:
            self.done.succeed()


class StepCounter:
    """Counts the SimPy events an environment processes."""

    def __init__(self, env: simpy.Environment) -> None:
        self.steps, self._step = 0, env.step
        env.step = self.step  # type: ignore[method-assign]

    def step(self) -> None:
        self.steps += 1
        self._step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--replicas", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=float, default=3600.0, help="simulated seconds to give up after")
    parser.add_argument("--kube-proxy", choices=("per-node", "shared"), default="per-node")
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    args = parser.parse_args()

    profiler = cProfile.Profile() if args.profile else None
    wall = time.perf_counter()
    if profiler:
        profiler.enable()
    cluster = Cluster(nodes=NodePool(count=args.nodes, cpu="16", memory="64Gi"), seed=args.seed,
                      kube_proxy=args.kube_proxy)
    build = time.perf_counter() - wall
    steps = StepCounter(cluster.env)
    counter = ReadyCounter(cluster, args.replicas)
    start = cluster.now
    records = len(cluster.log)
    cluster.apply(DEPLOYMENT.format(replicas=args.replicas))
    cluster.run(until=cluster.env.any_of([counter.done, cluster.env.timeout(args.limit)]))
    if profiler:
        profiler.disable()
    wall = time.perf_counter() - wall
    simulated = cluster.now - start
    records = len(cluster.log) - records

    print(f"cluster: {args.nodes} nodes (kube-proxy {args.kube_proxy}), Deployment of {args.replicas} replicas, "
          f"seed {args.seed}")
    print(f"ready: {len(counter.ready)}/{args.replicas}" + ("" if counter.done.triggered else " (gave up)"))
    print(f"wall time: {wall:.2f} s (building the cluster {build:.2f} s)")
    print(f"simulated time, apply to all Ready: {simulated:.2f} s")
    print(f"event-log records: {records} ({records / wall:,.0f} per wall second)")
    print(f"SimPy events: {steps.steps} ({steps.steps / wall:,.0f} per wall second)")
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile)


if __name__ == "__main__":
    main()
