"""The watch cache's fan-out counters: one etcd change, sent to the watchers that want it."""

from kbook.api import loads
from kbook.controlplane.apiserver import APIServer
from kbook.controlplane.etcd import EmbeddedEtcd

POD = """
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: default}
spec: {nodeName: node-1, containers: [{name: c, image: nginx}]}
"""


def test_fanout_counts_changes_and_deliveries_per_resource():
    api = APIServer(EmbeddedEtcd())
    seen = {"all": [], "node-1": [], "node-2": []}
    api.watch("Pod", seen["all"].append)
    api.watch("Pod", seen["node-1"].append, field_selector="spec.nodeName=node-1")
    api.watch("Pod", seen["node-2"].append, field_selector="spec.nodeName=node-2")
    api.create(loads(POD)[0])
    assert [len(v) for v in seen.values()] == [1, 1, 0]  # the pod's node index skips node-2's watcher
    assert api.watch_fanout()["pods"] == (3, 1, 2)  # 3 watchers, 1 change, 2 events sent
