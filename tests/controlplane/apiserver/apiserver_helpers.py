"""Objects the API server tests create."""

from __future__ import annotations

from kbook.api import Container, Deployment, Lease, LeaseSpec, ObjectMeta, Pod, PodSpec, loads

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: nginx:1.27}]}
"""


def make_pod(name: str = "web", namespace: str = "", labels: dict[str, str] | None = None, **spec: object) -> Pod:
    meta = ObjectMeta(name=name, namespace=namespace, labels=dict(labels or {}))
    return Pod(metadata=meta, spec=PodSpec(containers=[Container(name="c", image="nginx:1.27")], **spec))


def make_lease(name: str = "n1", namespace: str = "kube-node-lease", holder: str = "n1") -> Lease:
    return Lease(metadata=ObjectMeta(name=name, namespace=namespace),
                 spec=LeaseSpec(holder_identity=holder, lease_duration_seconds=40, lease_transitions=0))


def make_deployment() -> Deployment:
    (deployment,) = loads(DEPLOYMENT, defaults=False)
    assert isinstance(deployment, Deployment)
    return deployment
