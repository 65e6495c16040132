"""The kubelet and kube-proxy when the API server fails them: reflectors that retry and
re-list, registration with backoff, node status tried 5 times per period, the lease
controller's retries, and the status manager writing again what failed."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
import simpy

from kbook.api import (
    Container, ContainerPort, IntOrString, ObjectMeta, Pod, PodSpec, Service, ServicePort, ServiceSpec,
)
from kbook.controlplane.apiserver import APIServer, NotFound
from kbook.controlplane.etcd import EmbeddedEtcd
from kbook.eventlog import EventLog
from kbook.faults import Faults, FaultyAPI, Timeout
from kbook.node import Kubelet, KubeProxy
from kbook.node.kubelet import NODE_STATUS_UPDATE_RETRY, STATUS_SYNC_PERIOD


class Flaky:
    """The API server, with each request failing with Timeout while ``fails(verb, kind)``."""

    def __init__(self, api: APIServer, fails: Callable[[str, str], bool]):
        self.api, self.fails = api, fails
        self.failed: list[tuple[str, str]] = []

    def __getattr__(self, verb: str) -> Callable[..., Any]:
        real = getattr(self.api, verb)

        def call(*args: Any, **kwargs: Any) -> Any:
            kind = args[0] if isinstance(args[0], str) else args[0].KIND
            if self.fails(verb, kind):
                self.failed.append((verb, kind))
                raise Timeout()
            return real(*args, **kwargs)

        return call


def _setup() -> tuple[simpy.Environment, APIServer, EventLog]:
    env = simpy.Environment()
    return env, APIServer(EmbeddedEtcd(lambda: env.now), lambda: env.now, np.random.default_rng(0)), EventLog()


def _kubelet(env, api, log, **kwargs) -> Kubelet:
    kubelet = Kubelet(env, api, "n1", log=log, rng=np.random.default_rng(0), container_start_s=1.0, **kwargs)
    kubelet.start()
    return kubelet


def _pod(name: str) -> Pod:
    return Pod(metadata=ObjectMeta(name=name, namespace="default", labels={"app": "web"}),
               spec=PodSpec(node_name="n1", containers=[Container(name="main", image="app:1", ports=[
                   ContainerPort(name="http", container_port=8080, protocol="TCP")])]))


def _at(env: simpy.Environment, t: float, fn: Callable[[], Any]) -> None:
    def proc():
        yield env.timeout(t - env.now)
        fn()
    env.process(proc())


def _times(log: EventLog, verb: str, component: str | None = None) -> list[float]:
    return [r.time for r in log.records if r.verb == verb and (component is None or r.component == component)]


def test_kubelet_starts_while_the_api_server_fails_and_catches_up():
    env, api, log = _setup()
    down = {"on": True}
    kubelet = _kubelet(env, Flaky(api, lambda verb, kind: down["on"]), log)  # does not raise
    api.create(_pod("web"))
    _at(env, 5, lambda: down.update(on=False))
    env.run(until=30)
    assert kubelet.running
    failed = _times(log, "ListAndWatchFailed", "kubelet/n1")
    assert failed[0] == 0 and all(t < 5 for t in failed) and len(failed) >= 3  # 0.8 s, 1.6 s, ... apart
    assert _times(log, "RegisterNodeFailed")[:3] == pytest.approx([0, 0.2, 0.6])
    assert 5 <= _times(log, "RegisterNode")[0] < 5 + 7
    assert api.get("Node", "n1") is not None
    assert api.get("Pod", "web", "default").status.phase == "Running"
    lease = api.get("Lease", "n1", "kube-node-lease")
    assert [ref.kind for ref in lease.metadata.owner_references] == ["Node"]


def test_kubelet_lists_again_after_its_watch_times_out():
    env, api, log = _setup()
    faulty = FaultyAPI(api, env, np.random.default_rng(1), Faults(watch_timeout=5.0), log, "kubelet/n1")
    kubelet = _kubelet(env, faulty, log)
    _at(env, 5.01, lambda: api.create(_pod("during-the-gap")))  # the watch closed at 5, the relist comes later
    _at(env, 8, lambda: api.create(_pod("later")))  # while the second watch is open
    env.run(until=20)
    closed = _times(log, "WatchClosed", "kubelet/n1")
    relisted = closed[1] - 5.0  # each new watch lasts 5 s
    assert closed[0] == 5.0 and 0.8 <= relisted - 5.0 < 1.6  # the first backoff: 800 ms, jittered up to x2
    assert kubelet._informer.lists >= 3
    created = {r.object: r.time for r in log.records if r.verb == "Created"}
    assert created["pod/default/during-the-gap"] == pytest.approx(relisted)  # found by the LIST
    assert created["pod/default/later"] == 8.0  # by the new watch
    for name in ("during-the-gap", "later"):
        assert api.get("Pod", name, "default").status.phase == "Running"
    _at(env, 25.0, lambda: api.delete("Pod", "later", "default"))
    env.run(until=40)
    with pytest.raises(NotFound):
        api.get("Pod", "later", "default")


def test_pod_status_and_the_final_delete_are_retried_every_sync_period():
    env, api, log = _setup()
    window = {"update_status": (0.5, 15.0), "delete": (29.0, 45.0)}

    def fails(verb: str, kind: str) -> bool:
        lo, hi = window.get(verb, (0, 0))
        return kind == "Pod" and lo <= env.now < hi

    _kubelet(env, Flaky(api, fails), log)
    api.create(_pod("web"))
    env.run(until=25)
    assert STATUS_SYNC_PERIOD == 10.0
    assert _times(log, "UpdatePodStatusFailed") == [1.0, 10.0]  # started at 1 s; retried at 10 s, 20 s
    assert api.get("Pod", "web", "default").status.phase == "Running"
    assert _times(log, "UpdatePodStatus")[-1] == 20.0
    _at(env, 30, lambda: api.delete("Pod", "web", "default"))
    env.run(until=60)
    assert _times(log, "Killing") == [30.0]
    assert _times(log, "DeletePodFailed") == [30.0, 40.0]
    assert _times(log, "DeletePod") == [50.0]
    with pytest.raises(NotFound):
        api.get("Pod", "web", "default")


def test_node_status_update_is_tried_5_times_per_period():
    env, api, log = _setup()
    left = {"n": 0}

    def fails(verb: str, kind: str) -> bool:
        if verb == "get" and kind == "Node" and left["n"]:
            left["n"] -= 1
            return True
        return False

    _kubelet(env, Flaky(api, fails), log, node_status_report_frequency_s=10.0)
    _at(env, 5, lambda: left.update(n=NODE_STATUS_UPDATE_RETRY + 2))
    env.run(until=25)
    assert NODE_STATUS_UPDATE_RETRY == 5
    assert _times(log, "UpdateNodeStatusFailed") == [10.0] * 5 + [20.0] * 2
    assert _times(log, "UpdateNodeStatus") == [0.0, 20.0]


def test_lease_renewal_retries_and_refetches_after_a_conflict():
    env, api, log = _setup()
    left = {"n": 0}

    def fails(verb: str, kind: str) -> bool:
        if verb == "update" and kind == "Lease" and left["n"]:
            left["n"] -= 1
            return True
        return False

    flaky = Flaky(api, fails)
    _kubelet(env, flaky, log)
    _at(env, 5, lambda: left.update(n=2))

    def someone_else_writes():
        lease = api.get("Lease", "n1", "kube-node-lease")
        lease.metadata.labels = {"touched": "yes"}
        api.update(lease)

    _at(env, 15, someone_else_writes)
    _at(env, 25, lambda: left.update(n=10))  # every try at 30 s fails: 5 on the last lease, 5 after a GET
    env.run(until=45)
    lease_name = "lease/kube-node-lease/n1"
    failed = [(r.time, r.detail.split(":")[0]) for r in log.records if r.verb == "RenewLeaseFailed"]
    assert failed == [(10.0, "Timeout")] * 2 + [(20.0, "Conflict")] + [(30.0, "Timeout")] * 10
    assert [r.time for r in log.records if r.verb == "RenewLease" and r.object == lease_name] == [10, 20, 40]
    assert ("get", "Lease") not in flaky.failed
    assert api.get("Lease", "n1", "kube-node-lease").metadata.labels == {"touched": "yes"}


def _service() -> Service:
    return Service(metadata=ObjectMeta(name="web", namespace="default"),
                   spec=ServiceSpec(selector={"app": "web"}, cluster_ip="10.96.0.10",
                                    ports=[ServicePort(name="", protocol="TCP", port=80,
                                                       target_port=IntOrString("http"))]))


def test_kube_proxy_retries_its_lists_and_lists_again_after_watch_timeouts():
    env, api, log = _setup()
    api.create(_service())
    down = {"on": True}
    proxy = KubeProxy(env, Flaky(api, lambda verb, kind: down["on"]), "n1", rng=np.random.default_rng(0),
                      log=log)
    proxy.start()  # does not raise
    assert "default/web" not in proxy.services
    _at(env, 3, lambda: down.update(on=False))
    env.run(until=20)
    assert proxy.backends("default/web") == []
    failed = _times(log, "ListAndWatchFailed", "kube-proxy/n1")
    assert failed[:2] == [0.0, 0.0] and all(t < 3 for t in failed)  # the Service and the Pod reflector

    env2, api2, log2 = _setup()
    api2.create(_service())
    faulty = FaultyAPI(api2, env2, np.random.default_rng(2), Faults(watch_timeout=4.0), log2, "kube-proxy")
    proxy2 = KubeProxy(env2, faulty, rng=np.random.default_rng(0), log=log2)
    kubelet = _kubelet(env2, api2, log2)
    proxy2.start()
    _at(env2, 10, lambda: api2.create(_pod("web-0")))
    env2.run(until=30)
    assert len(_times(log2, "WatchClosed", "kube-proxy")) >= 4
    assert [e.ip for e in proxy2.backends("default/web")] == [kubelet.pods[next(iter(kubelet.pods))].ip]
