import numpy as np
import pytest
import simpy

from kbook.api import (
    ClientIPConfig, Container, ContainerPort, EndpointAddress, EndpointPort, Endpoints, EndpointSubset, IntOrString,
    ObjectMeta, Pod, PodCondition, PodSpec, PodStatus, Service, ServicePort, ServiceSpec, SessionAffinityConfig,
)
from kbook.controlplane.apiserver import APIServer
from kbook.controlplane.etcd import EmbeddedEtcd
from kbook.errors import KbookError
from kbook.eventlog import EventLog
from kbook.node import Endpoint, Kubelet, KubeProxy, probability, render_rules, svc_chain

CHI2_DF3_P001 = 16.266  # chi-square critical value, 3 degrees of freedom, p = 0.001


def _service(affinity: str = "None", timeout: int | None = None, port_name: str = "") -> Service:
    config = SessionAffinityConfig(client_ip=ClientIPConfig(timeout_seconds=timeout)) if timeout else None
    return Service(metadata=ObjectMeta(name="web", namespace="default"),
                   spec=ServiceSpec(selector={"app": "web"}, cluster_ip="10.96.0.10", session_affinity=affinity,
                                    session_affinity_config=config,
                                    ports=[ServicePort(name=port_name, protocol="TCP", port=80,
                                                       target_port=IntOrString("http"))]))


def _new_api(env: simpy.Environment) -> APIServer:
    return APIServer(EmbeddedEtcd(lambda: env.now), lambda: env.now, np.random.default_rng(0))


def _pod(i: int, app: str = "web") -> Pod:
    return Pod(metadata=ObjectMeta(name=f"web-{i}", namespace="default", labels={"app": app}),
               spec=PodSpec(node_name="n1", containers=[Container(name="main", image="app:1", ports=[
                   ContainerPort(name="http", container_port=8080, protocol="TCP")])]))


def _run(api: APIServer, pod: Pod, ready: bool = True, terminating: bool = False) -> None:
    """Create the pod as a kubelet would have it running (and, if asked, being deleted)."""
    pod = api.create(pod)
    pod.status = PodStatus(phase="Running", pod_ip=f"10.244.0.{int(pod.metadata.name[4:]) + 2}",
                           conditions=[PodCondition(type="Ready", status="True" if ready else "False")])
    api.update_status(pod)
    if terminating:
        api.delete("Pod", pod.metadata.name, "default")


def _proxy(pods, mode="iptables", service=None, seed=0):
    env = simpy.Environment()
    api = _new_api(env)
    api.create(service or _service())
    for pod in pods:
        _run(api, *pod) if isinstance(pod, tuple) else _run(api, pod)
    proxy = KubeProxy(env, api, rng=np.random.default_rng(seed), mode=mode, log=EventLog())
    proxy.start()
    return env, api, proxy


def test_iptables_selection_is_uniform():
    _, _, proxy = _proxy([_pod(i) for i in range(4)])
    picks = [proxy.pick("default/web", f"10.0.{i // 250}.{i % 250}").ip for i in range(40_000)]
    counts = np.array([picks.count(f"10.244.0.{i + 2}") for i in range(4)])
    expected = len(picks) / 4
    assert ((counts - expected) ** 2 / expected).sum() < CHI2_DF3_P001


def test_iptables_pick_is_seeded():
    def picks(seed):
        _, _, proxy = _proxy([_pod(i) for i in range(3)], seed=seed)
        return [proxy.pick("default/web", "1.2.3.4").ip for _ in range(20)]
    assert picks(7) == picks(7) and picks(7) != picks(8)


def test_ipvs_round_robin_order():
    _, api, proxy = _proxy([_pod(i) for i in range(3)], mode="ipvs")
    picks = [proxy.pick("default/web", "1.2.3.4").ip for _ in range(7)]
    assert picks == ["10.244.0.2", "10.244.0.3", "10.244.0.4"] * 2 + ["10.244.0.2"]
    _run(api, _pod(3))  # a new backend joins the rotation after the last one used
    assert [proxy.pick("default/web", "1.2.3.4").ip for _ in range(4)] == [
        "10.244.0.3", "10.244.0.4", "10.244.0.5", "10.244.0.2"]


@pytest.mark.parametrize("mode", ["iptables", "ipvs"])
def test_client_ip_affinity(mode):
    env, _, proxy = _proxy([_pod(i) for i in range(4)], mode=mode, service=_service("ClientIP", timeout=100))
    first = proxy.pick("default/web", "1.1.1.1")
    assert all(proxy.pick("default/web", "1.1.1.1") == first for _ in range(50))
    others = {proxy.pick("default/web", f"2.2.2.{i}") for i in range(50)}
    assert len(others) > 1


def test_affinity_timeout_defaults_to_10800_seconds():
    env, _, proxy = _proxy([_pod(i) for i in range(8)], service=_service("ClientIP"))
    first = proxy.pick("default/web", "1.1.1.1")
    env.run(until=10_800)
    assert proxy.pick("default/web", "1.1.1.1") == first  # seen at 0, still within 10800 s
    assert "--rcheck --seconds 10800 --reap" in proxy.rules("default/web")


def test_affinity_expires_after_timeout():
    env, _, proxy = _proxy([_pod(i) for i in range(8)], service=_service("ClientIP", timeout=10), seed=3)
    seen = set()
    for _ in range(20):
        seen.add(proxy.pick("default/web", "1.1.1.1"))
        env.run(until=env.now + 11)
    assert len(seen) > 1


def test_only_ready_endpoints_then_serving_terminating_fallback():
    pods = [(_pod(0), False), (_pod(1), True, True), _pod(2), _pod(3, app="other")]
    _, api, proxy = _proxy(pods)
    assert [e.ip for e in proxy.backends("default/web")] == ["10.244.0.4"]
    api.delete("Pod", "web-2", "default", grace_period_seconds=0)
    assert [e.ip for e in proxy.backends("default/web")] == ["10.244.0.3"]  # serving and terminating
    api.delete("Pod", "web-1", "default", grace_period_seconds=0)
    assert proxy.backends("default/web") == [] and proxy.pick("default/web", "1.2.3.4") is None
    assert "has no endpoints" in proxy.rules("default/web")


def test_unknown_service_or_port():
    _, _, proxy = _proxy([_pod(0)])
    with pytest.raises(KbookError, match='service "default/nope" not found'):
        proxy.pick("default/nope", "1.2.3.4")
    with pytest.raises(KbookError, match='has no port named "http"'):
        proxy.pick("default/web", "1.2.3.4", port="http")


def test_rendered_rules():
    service = _service(port_name="http")
    eps = [Endpoint(f"10.244.0.{i}", 8080) for i in (2, 3, 4)]
    rules = render_rules(service, {"http": eps}).splitlines()
    svc = svc_chain("default/web:http", "tcp")
    random_rules = [r for r in rules if r.startswith(f"-A {svc}")]
    assert [r.split("--probability ")[1].split()[0] if "--probability" in r else None for r in random_rules] == [
        "0.3333333333", "0.5000000000", None]
    assert rules[0] == "*filter" and f":{svc} - [0:0]" in rules
    assert (f'-A KUBE-SERVICES -m comment --comment "default/web:http cluster IP" -m tcp -p tcp '
            f"-d 10.96.0.10 --dport 80 -j {svc}") in rules
    dnat = [r for r in rules if "DNAT" in r]
    assert dnat[0].endswith("-m tcp -p tcp -j DNAT --to-destination 10.244.0.2:8080") and len(dnat) == 3
    assert probability(1001) == "0.0009990010"


def test_chain_names_match_upstream():
    assert svc_chain("default/kubernetes:https", "tcp") == "KUBE-SVC-NPX46M4PTMTKRN6Y"
    assert svc_chain("kube-system/kube-dns:dns", "udp") == "KUBE-SVC-TCOU7JCQXEZGVUNU"


def test_kubelet_pod_becomes_endpoint_when_ready():
    env = simpy.Environment()
    api = _new_api(env)
    api.create(_service())
    kubelet = Kubelet(env, api, "n1", rng=np.random.default_rng(0), readiness_delay_s=5.0, container_start_s=1.0)
    proxy = KubeProxy(env, api, rng=np.random.default_rng(1))
    kubelet.start()
    proxy.start()
    api.create(_pod(0))
    env.run(until=5.5)
    assert proxy.backends("default/web") == []
    env.run(until=6.5)
    assert [e.ip for e in proxy.backends("default/web")] == ["10.244.0.2"]


def test_endpoints_object_source():
    env = simpy.Environment()
    api = _new_api(env)
    api.create(_service(port_name="http"))
    proxy = KubeProxy(env, api, "n1", rng=np.random.default_rng(0), source="endpoints")
    proxy.start()
    assert proxy.backends("default/web", "http") == []
    api.create(Endpoints(metadata=ObjectMeta(name="web", namespace="default"), subsets=[EndpointSubset(
        addresses=[EndpointAddress(ip="10.244.0.3"), EndpointAddress(ip="10.244.0.2")],
        not_ready_addresses=[EndpointAddress(ip="10.244.0.4")],
        ports=[EndpointPort(name="http", port=8080, protocol="TCP")])]))
    assert [str(e) for e in proxy.backends("default/web", "http")] == ["10.244.0.2:8080", "10.244.0.3:8080"]
