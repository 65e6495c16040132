import math

import numpy as np
import pytest
from ctrl_helpers import guard_caches

from kbook.autoscaling.workload import Workload
from kbook.cluster import Cluster
from kbook.errors import KbookError
from kbook.image import FILE, Entry, Image, Layer

WEB = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: app, image: "web:1", resources: {requests: {cpu: 500m}}}
"""
HPA = """
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 10
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
"""
CPU_PER_REQUEST = 0.05


def _cluster(rate, seed: int = 0, **kwargs) -> Cluster:
    kwargs.setdefault("kubelet_options", {"readiness_delay_s": 10.0})
    cluster = Cluster(nodes=3, seed=seed, metric_resolution=15.0,
                      load={"web": Workload(rate, CPU_PER_REQUEST, default_cores=4.0)}, **kwargs)
    cluster.apply(WEB)
    return cluster


def _rescales(cluster: Cluster) -> list[tuple[float, int]]:
    ev = cluster.events
    ev = ev[ev.verb == "SuccessfulRescale"]
    return [(t, int(d.split(";")[0].removeprefix("New size: "))) for t, d in zip(ev.time, ev.detail)]


def test_metrics_are_absent_before_the_first_scrape():
    cluster = _cluster(20.0)
    cluster.run(14.9)
    assert cluster.pods("app=web")[0].status.phase == "Running"
    assert cluster.metrics_server.pod_metrics("default") == []
    cluster.run(15.1)
    (metrics,) = cluster.metrics_server.pod_metrics("default")
    assert metrics.timestamp == 15.0 and 10.0 <= metrics.window < 15.0  # (startTime, 0) as the previous point
    cluster.run(30.1)
    (metrics,) = cluster.metrics_server.pod_metrics("default")
    assert metrics.window == 15.0
    assert metrics.containers[0].usage_milli["cpu"] == 1000  # 20 req/s x 0.05 CPU s, one Ready pod


def test_pods_that_are_not_ready_do_not_serve():
    layer = Layer.from_entries([Entry("app", FILE, 0o644, data=np.random.default_rng(0).bytes(2_000_000))])
    options = {"readiness_delay_s": 30.0, "images": {"web:1": Image(layers=(layer,), config={"Cmd": ["/app"]})},
               "bandwidth_bytes_per_s": 100_000.0}  # a ~20 s pull, then 1 s to start, then 30 s to Ready
    cluster = _cluster(10.0, kubelet_options=options)
    cluster.run(40.0)
    (attachment,) = cluster.load.attachments
    pod = cluster.pods("app=web")[0]
    assert pod.status.phase == "Running"
    assert not any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions)
    assert attachment.history[-1][2:4] == (0, 1)  # no Ready pod, one pod
    assert attachment.load.slo_violation == 1.0
    counters = cluster.load.counters[pod.metadata.uid]
    assert counters["app"].usage == 0.0 and counters["app"].cpu_seconds == 0.0
    cluster.run(90.0)
    first_served = next(t for t, _, ready, *_ in attachment.history if ready)
    ev = cluster.events
    pulled = ev[(ev.verb == "Pulled")].time.iloc[0]
    assert pulled >= 20.0 and first_served >= pulled + 1.0 + 30.0
    assert cluster.load.counters[pod.metadata.uid]["app"].usage == pytest.approx(0.5)


def test_scale_up_follows_ceil_of_current_times_utilization_over_target():
    # 30 req/s x 0.05 CPU s = 1.5 cores on pods requesting 500m, target 50%: 6 pods.
    cluster = _cluster(lambda t: 5.0 if t < 300 else 30.0)
    cluster.apply(HPA)
    cluster.run(1200)
    rescales = _rescales(cluster)
    assert all(t > 300 for t, _ in rescales)
    # the first sync after the step sees one pod at 300%: ceil(1 * 300 / 50) = 6, capped by
    # the legacy scale-up limit max(2 * 1, 4) = 4; then 1.5 cores over 4 pods = 75%: ceil(4 * 75 / 50) = 6
    assert [n for _, n in rescales] == [4, 6]
    hpa = cluster.get("HorizontalPodAutoscaler", "web", "default")
    assert (hpa.status.current_replicas, hpa.status.desired_replicas) == (6, 6)
    assert hpa.status.current_metrics[0]["resource"]["current"] == {"averageUtilization": 50, "averageValue": "250m"}
    assert cluster.get("Deployment", "web", "default").spec.replicas == 6
    reasons = {c.type: c.reason for c in hpa.status.conditions}
    assert reasons == {"AbleToScale": "ReadyForNewScale", "ScalingActive": "ValidMetricFound",
                       "ScalingLimited": "DesiredWithinRange"}
    ev = cluster.events
    detail = ev[ev.verb == "SuccessfulRescale"].detail.iloc[0]
    assert detail == "New size: 4; reason: cpu resource utilization (percentage of request) above target"


def test_scale_down_waits_for_the_300s_stabilization_window():
    drop = 900.0
    cluster = _cluster(lambda t: 30.0 if t < drop else 10.0)  # 0.5 cores: 2 pods at 50%
    cluster.apply(HPA)
    cluster.run(drop + 600)
    rescales = _rescales(cluster)
    ups = [(t, n) for t, n in rescales if t < drop]
    downs = [(t, n) for t, n in rescales if t >= drop]
    assert ups[-1][1] == 6
    assert len(downs) == 1 and downs[0][1] == 2
    # the metric sees the drop within a scrape and a sync; the 6-replica recommendations
    # then keep the count for the 300 s window
    assert drop + 300 < downs[0][0] <= drop + 300 + 15 + 15 + 5
    ev = cluster.events
    assert ev[ev.verb == "SuccessfulRescale"].detail.iloc[-1] == "New size: 2; reason: All metrics below target"


def test_a_seed_gives_the_same_run():
    def run() -> tuple:
        cluster = _cluster(lambda t: 5.0 + 25.0 * (math.sin(t / 300) > 0), seed=7)
        cluster.apply(HPA)
        cluster.run(1800)
        a = cluster.load.attachments[0]
        return cluster.events.to_csv(), a.history, a.stats
    assert run() == run()


def test_unknown_hpa_options_are_rejected():
    with pytest.raises(KbookError, match="hpa_options: unknown options sync_periods"):
        Cluster(nodes=1, hpa_options={"sync_periods": 30})


def test_without_metrics_server_the_metric_fails_and_nothing_scales():
    cluster = _cluster(30.0)
    cluster.controllers.metrics = None
    cluster.restart_controllers()
    cluster.apply(HPA)
    cluster.run(100)
    hpa = cluster.get("HorizontalPodAutoscaler", "web", "default")
    active = next(c for c in hpa.status.conditions if c.type == "ScalingActive")
    assert (active.status, active.reason) == ("False", "FailedGetResourceMetric")
    assert active.message == ("the HPA was unable to compute the replica count: failed to get cpu utilization: "
                              "unable to get metrics for resource cpu: unable to fetch metrics from resource metrics "
                              "API: the server could not find the requested resource (get pods.metrics.k8s.io)")
    assert hpa.status.current_replicas == 1 and _rescales(cluster) == []


def test_a_restarted_container_starts_a_new_cpu_counter():
    cluster = _cluster(20.0, kubelet_options={"readiness_delay_s": 0.0})
    cluster.run(60.1)
    pod = cluster.pods("app=web")[0]
    before = cluster.load.counters[pod.metadata.uid]["app"]
    assert before.cpu_seconds > 0
    cluster.kubelets[pod.spec.node_name].exit_container(pod.key, "app")
    cluster.run(75.1)
    after = cluster.load.counters[pod.metadata.uid]["app"]
    assert after.container_id != before.container_id and after.cpu_seconds < before.cpu_seconds
    # the scrape at 75 s takes (startTime, 0) of the new container as its previous point
    (metrics,) = cluster.metrics_server.pod_metrics("default")
    assert metrics.window == 75.0 - after.start_time


def test_syncs_change_no_cached_object():
    """The HPA compares its status with the cached one instead of a copy, and the Deployment
    controller shares the new ReplicaSet uncopied: neither may change a cached object."""
    cluster = _cluster(lambda t: 5.0 if t < 300 else 30.0)
    manager = cluster.controllers
    hpa_syncs = guard_caches(manager.controllers["horizontalpodautoscaling"], "sync", manager.informers)
    deployment_syncs = guard_caches(manager.controllers["deployment"], "sync", manager.informers)
    cluster.apply(HPA)
    cluster.run(600)
    assert [n for _, n in _rescales(cluster)] == [4, 6]
    assert hpa_syncs[0] > 30 and deployment_syncs[0] > 10
