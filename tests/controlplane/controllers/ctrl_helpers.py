"""Builders shared by the controller tests, and the real API server."""

from __future__ import annotations

import numpy as np
import simpy

from kbook.api import (
    Container,
    Deployment,
    DeploymentSpec,
    DeploymentStrategy,
    IntOrString,
    RollingUpdateDeployment,
    LabelSelector,
    ObjectMeta,
    PodCondition,
    PodSpec,
    PodTemplateSpec,
    ReplicaSet,
    ReplicaSetSpec,
)
from kbook.controlplane.apiserver import APIServer
from kbook.controlplane.controllers.timeutil import rfc3339
from kbook.controlplane.etcd import EmbeddedEtcd


def real_api(env: simpy.Environment) -> APIServer:
    """The API server over the embedded etcd, on the simulation's clock."""
    clock = lambda: env.now  # noqa: E731
    return APIServer(EmbeddedEtcd(clock), clock, np.random.default_rng(0))


def template(labels: dict[str, str], image: str = "nginx:1.27") -> PodTemplateSpec:
    return PodTemplateSpec(metadata=ObjectMeta(labels=dict(labels)),
                           spec=PodSpec(containers=[Container(name="app", image=image)]))


def replica_set(name: str, replicas: int, labels: dict[str, str] | None = None) -> ReplicaSet:
    labels = labels or {"app": name}
    return ReplicaSet(metadata=ObjectMeta(name=name, namespace="default"),
                      spec=ReplicaSetSpec(replicas=replicas, selector=LabelSelector(match_labels=dict(labels)),
                                          template=template(labels)))


def mark_ready(api, env, pods) -> None:
    """What a kubelet would do: Running and Ready."""
    for pod in pods:
        if pod.metadata.deletion_timestamp is not None or any(
                c.type == "Ready" and c.status == "True" for c in pod.status.conditions):
            continue
        pod.status.phase = "Running"
        pod.status.conditions = [PodCondition(type="Ready", status="True", last_transition_time=rfc3339(env.now))]
        api.update_status(pod)


def deployment(name: str, replicas: int, image: str = "nginx:1.27", surge="25%", unavailable="25%",
               strategy: str = "RollingUpdate") -> Deployment:
    labels = {"app": name}
    rolling = None
    if strategy == "RollingUpdate":
        rolling = RollingUpdateDeployment(IntOrString(unavailable), IntOrString(surge))
    return Deployment(metadata=ObjectMeta(name=name, namespace="default"),
                      spec=DeploymentSpec(replicas=replicas, selector=LabelSelector(match_labels=dict(labels)),
                                          template=template(labels, image),
                                          strategy=DeploymentStrategy(strategy, rolling)))


def fake_kubelet(env: simpy.Environment, api, delay: float = 2.0, period: float = 0.5, ready=lambda pod: True):
    """A process that marks every pod Ready once it is ``delay`` seconds old (if ``ready(pod)``)."""
    from kbook.controlplane.controllers.timeutil import parse_time

    def run():
        while True:
            yield env.timeout(period)
            old = [p for p in api.list("Pod").items
                   if parse_time(p.metadata.creation_timestamp) + delay <= env.now and ready(p)]
            mark_ready(api, env, old)

    return env.process(run())


def guard_caches(owner, method: str, informers) -> list[int]:
    """Wrap ``owner.method`` so each call asserts it left every object in the ``informers``'
    caches as it found it (the informer rule: change only your own copy). Returns a
    one-element list counting the guarded calls."""
    from kbook.api.codec import encode

    inner, calls = getattr(owner, method), [0]

    def snapshot():
        return {(inf.kind, key): encode(inf.indexer.get(key))
                for inf in informers.informers.values() for key in inf.indexer.keys()}

    def guarded(*args, **kwargs):
        before = snapshot()
        try:
            return inner(*args, **kwargs)
        finally:
            assert snapshot() == before, f"{method} changed a cached object"
            calls[0] += 1

    setattr(owner, method, guarded)
    return calls
