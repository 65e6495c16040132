"""The API server over both backends: what it reads and watches is what etcd holds, whether
the decoded object was remembered or not (real etcd answers watches on another thread)."""

from __future__ import annotations

from etcd_support import Backend

from kbook.api import Container, ObjectMeta, Pod, PodSpec
from kbook.controlplane.apiserver import ADDED, DELETED, MODIFIED, APIServer, WatchEvent
from kbook.controlplane.apiserver.storage import encode


def make_pod(name: str) -> Pod:
    return Pod(metadata=ObjectMeta(name=name), spec=PodSpec(containers=[Container(name="c", image="nginx:1.27")]))


def test_reads_writes_and_watches_follow_etcd(backend: Backend) -> None:
    api = APIServer(backend.store)
    events: list[WatchEvent] = []
    watch = api.watch("Pod", events.append)
    created = api.create(make_pod("a"))
    for value in "xy":
        pod = api.get("Pod", "a")
        pod.metadata.labels["v"] = value
        api.update(pod)
    assert api.get("Pod", "a").metadata.labels == {"v": "y"}
    behind = api.get("Pod", "a")  # a write that bypasses the API server
    behind.metadata.labels["v"] = "z"
    backend.store.put("/registry/pods/default/a", encode(behind))
    latest = api.get("Pod", "a")
    assert latest.metadata.labels == {"v": "z"}
    assert int(latest.metadata.resource_version) == backend.store.range("/registry/pods/default/a").kvs[0].mod_revision
    gone = api.delete("Pod", "a")
    backend.eventually(lambda: len(events) == 5)
    watch.stop()
    assert [(e.type, e.object.metadata.labels.get("v")) for e in events] == [
        (ADDED, None), (MODIFIED, "x"), (MODIFIED, "y"), (MODIFIED, "z"), (DELETED, "z")]
    assert events[0].object.metadata.resource_version == created.metadata.resource_version
    assert events[-1].object.metadata.resource_version == gone.metadata.resource_version
