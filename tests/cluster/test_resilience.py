"""A whole cluster when its node agents' API calls fail, and a plain rollout's log."""

from __future__ import annotations

from kbook.api import Pod
from kbook.cluster import Cluster
from kbook.controlplane.controllers import deployment_util as du
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
        image: {image}
        resources: {{requests: {{cpu: 100m, memory: 128Mi}}}}
"""


def web(replicas: int = 5, image: str = "nginx:1.25") -> str:
    return WEB.format(replicas=replicas, image=image)


def ready(pod: Pod) -> bool:
    return pod.status.phase == "Running" and any(
        c.type == "Ready" and c.status == "True" for c in pod.status.conditions)


def live_pods(cluster: Cluster) -> list[Pod]:
    return [p for p in cluster.pods("app=web") if p.metadata.deletion_timestamp is None]


SERVICE = """\
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
"""


def test_cluster_converges_with_dropped_requests_and_watch_timeouts_on_the_node_agents():
    faults = {"kubelet": Faults(drop=0.3, watch_timeout=7.0), "kube-proxy": Faults(drop=0.3, watch_timeout=5.0)}
    cluster = Cluster(nodes=3, seed=0, faults=faults)
    cluster.apply(web(5))
    cluster.apply(SERVICE)
    cluster.run(until=120)
    pods = live_pods(cluster)
    assert len(pods) == 5 and all(ready(p) for p in pods)
    ips = sorted(p.status.pod_ip for p in pods)
    for proxy in cluster.proxies.values():
        assert sorted(e.ip for e in proxy.backends("default/web")) == ips
    for node in cluster.list("Node"):
        assert next(c.status for c in node.status.conditions if c.type == "Ready") == "True"
    df = cluster.events
    agents = df[df.component.str.startswith(("kubelet/", "kube-proxy/"))]
    for verb in ("ListAndWatchFailed", "WatchClosed", "UpdateNodeStatusFailed", "RenewLeaseFailed"):
        assert (agents.verb == verb).any(), verb  # the faults were felt, and survived
    d = cluster.get("Deployment", "web")
    assert (d.status.ready_replicas, d.status.updated_replicas) == (5, 5)


def test_a_cluster_whose_node_agents_cannot_reach_the_api_server_still_builds():
    cluster = Cluster(nodes=2, seed=0, faults={"kubelet": Faults(drop=1.0), "kube-proxy": Faults(drop=1.0)})
    cluster.apply(web(2))
    cluster.run(until=60)
    assert cluster.list("Node") == []  # never registered, still trying
    assert all(k.running for k in cluster.kubelets.values())


def test_a_plain_rollout_has_no_conflict_storm_and_keeps_generation_1():
    cluster = Cluster(nodes=3, seed=0)
    cluster.apply(web(5))
    cluster.run(until=60)
    d = cluster.get("Deployment", "web")
    assert d.metadata.annotations[du.REVISION_ANNOTATION] == "1"
    assert (d.metadata.generation, d.status.observed_generation) == (1, 1)
    cluster.apply(web(5, image="nginx:1.26"))
    cluster.run(until=180)
    d = cluster.get("Deployment", "web")
    assert d.metadata.annotations[du.REVISION_ANNOTATION] == "2"
    assert (d.metadata.generation, d.status.observed_generation) == (2, 2)
    assert (d.status.updated_replicas, d.status.available_replicas, d.status.replicas) == (5, 5, 5)
    df = cluster.events
    conflict = df.detail.str.contains("Operation cannot be fulfilled")
    errors = df[df.verb.isin(["SyncError", "DroppedFromQueue"]) | conflict]
    assert errors.empty, errors.to_string()
