import math

import pytest

from kbook.api import LabelSelector
from kbook.autoscaling.workload import Workload
from kbook.cluster import Cluster
from kbook.faults import Faults
from kbook.node.load import LoadDriver

WEB = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: app, image: "web:1", resources: {requests: {cpu: 500m}, limits: {cpu: "1"}}}
"""


def _run(monkeypatch: pytest.MonkeyPatch, look_every_time: bool, faults: dict) -> tuple:
    if look_every_time:
        original = LoadDriver.advance

        def advance(self):
            self._versions = None  # forget the last look: look at every pod again
            original(self)
        monkeypatch.setattr(LoadDriver, "advance", advance)
    cluster = Cluster(nodes=2, seed=3, metric_resolution=15.0, faults=faults, kubelet_options={"readiness_delay_s": 10.0},
                      load={"web": Workload(lambda t: 10.0 + 5.0 * math.sin(t / 50), 0.05)})
    cluster.apply(WEB)
    cluster.run(100.0)
    pod = cluster.pods("app=web")[0]
    cluster.kubelets[pod.spec.node_name].exit_container(pod.key, "app")
    cluster.run(200.0)
    cluster.api.delete("Pod", cluster.pods("app=web")[1].metadata.name, "default")
    cluster.run(300.0)
    cluster.kill_node(cluster.pods("app=web")[-1].spec.node_name)
    cluster.run(400.0)
    (a,) = cluster.load.attachments
    counters = {uid: {n: (c.container_id, c.cpu_seconds, c.usage) for n, c in m.items()}
                for uid, m in cluster.load.counters.items()}
    return a.history, a.stats, counters, cluster.events.to_csv()


@pytest.mark.parametrize("faults", [{}, {"kubelet": Faults(drop=0.3, latency=2.0)}])  # late watch events, failed writes
def test_skipping_the_look_while_no_kubelet_changed_gives_the_same_numbers(monkeypatch, faults):
    looked_once = _run(monkeypatch, False, faults)
    assert looked_once == _run(monkeypatch, True, faults)
    history = looked_once[0]
    assert {ready for _, _, ready, *_ in history} >= {0, 2, 3}  # pods came, restarted, went


def test_pods_version_moves_when_a_container_changes():
    cluster = Cluster(nodes=1, seed=0, kubelet_options={"readiness_delay_s": 30.0},
                      load={"web": Workload(10.0, 0.05)})
    cluster.apply(WEB)
    cluster.run(60.0)
    kubelet = next(iter(cluster.kubelets.values()))
    before = kubelet.pods_version
    cluster.run(120.0)
    assert kubelet.pods_version == before  # nothing happened to the pods
    pod = cluster.pods("app=web")[0]
    kubelet.exit_container(pod.key, "app")
    cluster.run(125.1)
    assert kubelet.pods_version > before
    assert cluster.load.attachments[0].history[-1][2:4] == (2, 3)  # the restarted pod is not Ready yet


def test_pod_metrics_parse_the_selector_once_and_match_each_pod():
    cluster = Cluster(nodes=1, seed=0, metric_resolution=15.0, load={"web": Workload(10.0, 0.05)})
    cluster.apply(WEB)
    cluster.run(60.0)
    ms = cluster.metrics_server
    assert len(ms.pod_metrics("default", LabelSelector(match_labels={"app": "web"}))) == 3
    assert ms.pod_metrics("default", LabelSelector(match_labels={"app": "db"})) == []
    bad = LabelSelector(match_labels={"app": "not a valid value!"})
    assert ms.pod_metrics("elsewhere", bad) == []  # no pod to match: the selector is not looked at
    with pytest.raises(Exception, match="a valid label must be"):
        ms.pod_metrics("default", bad)
