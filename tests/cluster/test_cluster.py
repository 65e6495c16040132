"""The Cluster facade: a Deployment from apply to Ready pods, determinism, a dead node's pods
replaced after the node-lifecycle timeouts, idempotent apply, scaling, faults."""

from __future__ import annotations

import pytest

from kbook.api import Pod
from kbook.cluster import LAST_APPLIED_ANNOTATION, Cluster, NodePool
from kbook.controlplane.controllers import DEFAULT_TOLERATION_SECONDS, NODE_MONITOR_GRACE_PERIOD
from kbook.controlplane.controllers.nodelifecycle import NODE_MONITOR_PERIOD
from kbook.errors import KbookError
from kbook.faults import Faults

WEB = """\
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


def web(replicas: int = 5) -> str:
    return WEB.format(replicas=replicas)


def ready(pod: Pod) -> bool:
    return pod.status.phase == "Running" and any(
        c.type == "Ready" and c.status == "True" for c in pod.status.conditions)


def live_pods(cluster: Cluster) -> list[Pod]:
    return [p for p in cluster.pods("app=web") if p.metadata.deletion_timestamp is None]


def times(cluster: Cluster, verb: str, component: str | None = None) -> dict[str, float]:
    """object -> time of the first ``verb`` record (by ``component``, if given)."""
    df = cluster.events
    df = df[(df.verb == verb) & ((df.component == component) if component else True)]
    return df.groupby("object").time.min().to_dict()


def test_deployment_pods_are_ready_when_the_delays_say():
    start, readiness = 1.0, 2.0  # the kubelet's container start and readiness delay
    cluster = Cluster(nodes=3, seed=0, kubelet_options=dict(container_start_s=start, readiness_delay_s=readiness))
    cluster.apply(web(5))
    cluster.run(until=10)
    pods = cluster.pods("app=web")
    assert len(pods) == 5 and all(ready(p) for p in pods)
    assert sorted(sum(p.spec.node_name == n for p in pods) for n in cluster.kubelets) == [1, 2, 2]
    scheduled = times(cluster, "Scheduled", "scheduler")
    started = times(cluster, "Started")
    df = cluster.events
    became_ready = df[df.detail.str.contains(r"Running\(ready=True\)", regex=True)].groupby("object").time.min()
    for pod in pods:
        obj = f"pod/{pod.key}"
        assert scheduled[obj] == 0.0  # created and bound as soon as the controllers synced
        assert started[obj] == scheduled[obj] + start
        assert became_ready[obj] == started[obj] + readiness
    deployment = cluster.get("Deployment", "web")
    assert deployment.status.ready_replicas == 5


def test_same_seed_same_event_log_byte_for_byte():
    def run(seed: int) -> str:
        cluster = Cluster(nodes=3, seed=seed, faults={"controller-manager": Faults(drop=0.05)})
        cluster.apply(web(6))
        cluster.run(until=30)
        cluster.kill_node("node-1")
        cluster.apply(web(3))
        cluster.run(until=120)
        return cluster.events.to_csv(index=False)

    first = run(7)
    assert first == run(7)
    assert first != run(8)


def test_a_fault_elsewhere_leaves_names_and_placements_alone():
    def placements(**kwargs) -> dict[str, str]:
        cluster = Cluster(nodes=3, seed=4, **kwargs)
        cluster.apply(web(7))
        cluster.run(until=5)
        return {p.metadata.name: p.spec.node_name for p in cluster.pods("app=web")}

    assert placements() == placements(faults={"kube-proxy": Faults(latency=0.5)})


def test_dead_node_pods_are_replaced_after_grace_monitor_and_toleration():
    cluster = Cluster(nodes=3, seed=0)
    cluster.apply(web(6))
    cluster.run(until=33)
    before = {f"pod/{p.key}": p.spec.node_name for p in cluster.pods("app=web")}
    victims = {obj for obj, node in before.items() if node == "node-2"}
    assert victims
    cluster.kill_node("node-2")
    cluster.run(until=33 + 400)
    df = cluster.events
    beats = df[(df.component == "kubelet/node-2") & df.verb.isin(["RenewLease", "UpdateNodeStatus"])]
    last_heartbeat = beats.time.max()
    evicted = df[df.verb == "TaintManagerEviction"]
    assert {f"pod/{o}" for o in evicted.object} == victims
    # The heartbeat is noticed at the next monitor pass (<= 5 s), the node goes Unknown at the
    # first pass strictly after the grace period, is tainted unreachable at the pass after
    # that, and its pods go after the 300 s default toleration.
    unknown = df[df.verb == "NodeStatusUnknown"].time.iloc[0]
    tainted = df[(df.verb == "Taint") & (df.object == "node-2")].time.iloc[0]
    assert NODE_MONITOR_GRACE_PERIOD < unknown - last_heartbeat <= NODE_MONITOR_GRACE_PERIOD + 2 * NODE_MONITOR_PERIOD
    assert tainted - unknown == NODE_MONITOR_PERIOD
    eviction = tainted + DEFAULT_TOLERATION_SECONDS
    assert set(evicted.time) == {eviction}
    assert NODE_MONITOR_GRACE_PERIOD + DEFAULT_TOLERATION_SECONDS < eviction - last_heartbeat <= (
        NODE_MONITOR_GRACE_PERIOD + 3 * NODE_MONITOR_PERIOD + DEFAULT_TOLERATION_SECONDS)
    pods = live_pods(cluster)
    assert len(pods) == 6 and all(ready(p) and p.spec.node_name != "node-2" for p in pods)
    scheduled = times(cluster, "Scheduled", "scheduler")
    replacements = [f"pod/{p.key}" for p in pods if f"pod/{p.key}" not in before]
    assert len(replacements) == len(victims)
    assert all(scheduled[r] == eviction for r in replacements)


def test_apply_twice_changes_nothing():
    cluster = Cluster(nodes=3, seed=0)
    cluster.apply(web(5))
    cluster.run(until=20)
    before = cluster.get("Deployment", "web")
    pods_before = sorted(p.metadata.name for p in cluster.pods("app=web"))
    again, = cluster.apply(web(5))
    cluster.run(until=40)
    after = cluster.get("Deployment", "web")
    assert again.metadata.resource_version == before.metadata.resource_version
    assert after.metadata.generation == before.metadata.generation
    assert sorted(p.metadata.name for p in cluster.pods("app=web")) == pods_before
    assert len(cluster.list("ReplicaSet")) == 1
    assert list(cluster.events[cluster.events.component == "kubectl"].verb) == ["created", "unchanged"]
    assert LAST_APPLIED_ANNOTATION in after.metadata.annotations


def test_scale_up_and_down():
    cluster = Cluster(nodes=3, seed=0)
    cluster.apply(web(5))
    cluster.run(until=10)
    generation = cluster.get("Deployment", "web").metadata.generation
    cluster.apply(web(9))
    cluster.run(until=20)
    assert cluster.get("Deployment", "web").metadata.generation == generation + 1
    pods = live_pods(cluster)
    assert len(pods) == 9 and all(ready(p) for p in pods)
    assert sorted(sum(p.spec.node_name == n for p in pods) for n in cluster.kubelets) == [3, 3, 3]
    cluster.apply(web(2))
    cluster.run(until=40)
    pods = cluster.pods("app=web")
    assert len(pods) == 2 and all(ready(p) for p in pods)
    assert cluster.get("Deployment", "web").status.replicas == 2


def test_nodes_from_pools_and_manifests():
    nodes = """\
apiVersion: v1
kind: Node
metadata: {name: big, labels: {disk: ssd}}
status:
  capacity: {cpu: "32", memory: 128Gi, pods: "250"}
  allocatable: {cpu: "31", memory: 120Gi, pods: "250"}
"""
    cluster = Cluster(nodes=nodes)
    cluster.run(until=1)
    node, = cluster.list("Node")
    assert (node.metadata.name, node.metadata.labels["disk"]) == ("big", "ssd")
    assert str(node.status.allocatable["cpu"]) == "31"
    cluster = Cluster(nodes=[NodePool(2, cpu="2", labels={"pool": "a"}), NodePool(1, prefix="gpu")])
    assert list(cluster.kubelets) == ["node-1", "node-2", "gpu-1"]
    with pytest.raises(KbookError, match="duplicate node names: node-1"):
        Cluster(nodes=[NodePool(1), NodePool(1)])


def test_scheduler_watch_latency_delays_binding():
    cluster = Cluster(nodes=3, seed=0, faults={"scheduler": Faults(latency=2.0)})
    cluster.apply(web(3))
    cluster.run(until=10)
    assert set(times(cluster, "Scheduled", "scheduler").values()) == {2.0}
    assert all(ready(p) for p in cluster.pods("app=web"))


def test_controllers_converge_through_dropped_requests_and_a_restart():
    cluster = Cluster(nodes=3, seed=1, faults={"controller-manager": Faults(drop=0.3, watch_timeout=20)})
    cluster.apply(web(5))
    cluster.run(until=30)
    cluster.restart_controllers()
    cluster.run(until=90)
    pods = cluster.pods("app=web")
    assert len(pods) == 5 and all(ready(p) for p in pods)
    verbs = set(cluster.events.verb)
    assert {"Drop", "WatchTimeout", "RestartControllers"} <= verbs
    assert cluster.get("Deployment", "web").status.ready_replicas == 5


SERVICE = """\
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
"""


@pytest.mark.parametrize("kube_proxy", ["per-node", "shared"])
def test_kube_proxy_routes_a_service_to_the_ready_pods(kube_proxy):
    cluster = Cluster(nodes=2, seed=0, kube_proxy=kube_proxy)
    cluster.apply(SERVICE + "---\n" + web(3))
    cluster.run(until=10)
    ips = sorted(p.status.pod_ip for p in cluster.pods("app=web"))
    for node in cluster.kubelets:
        assert sorted(e.ip for e in cluster.proxies[node].backends("default/web")) == ips
    assert (cluster.proxies["node-1"] is cluster.proxies["node-2"]) == (kube_proxy == "shared")
