"""create, get, list, update, update_status and patch: server-managed metadata,
resourceVersion rules and every error text (registry/generic/registry/store.go,
apimachinery pkg/api/errors/errors.go)."""

from __future__ import annotations

import copy
import re

import numpy as np
import pytest

from apiserver_helpers import DEPLOYMENT, make_deployment, make_lease, make_pod
from kbook.api import Endpoints, EndpointSubset, Namespace, Node, ObjectMeta, loads
from kbook.quantity import Quantity
from kbook.controlplane.apiserver import (
    APIServer,
    AlreadyExists,
    BadRequest,
    Conflict,
    Invalid,
    NotFound,
    timestamp,
)
from kbook.controlplane.apiserver.metadata import NAME_ALPHABET
from kbook.controlplane.etcd import EmbeddedEtcd, ManualClock

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
CONFLICT = ('Operation cannot be fulfilled on pods "web": the object has been modified; '
            "please apply your changes to the latest version and try again")

# -- create ---------------------------------------------------------------------------------


def test_create_fills_server_metadata(api: APIServer, clock: ManualClock) -> None:
    clock.advance(3661.7)
    pod = api.create(make_pod(labels={"app": "web"}))
    meta = pod.metadata
    # v1.28's pod strategy sets no generation (pods have one only from v1.33)
    assert (meta.namespace, meta.generation, meta.creation_timestamp) == ("default", 0, "2026-01-01T01:01:01Z")
    assert UUID.fullmatch(meta.uid)
    assert pod.spec.restart_policy == "Always" and pod.spec.termination_grace_period_seconds == 30  # defaulted
    assert (pod.status.phase, pod.status.qos_class) == ("Pending", "BestEffort")


def test_create_ignores_client_status_but_nodes_keep_theirs(api: APIServer) -> None:
    pod = make_pod()
    pod.status.phase = "Running"
    assert api.create(pod).status.phase == "Pending"
    node = Node(metadata=ObjectMeta(name="n1"))
    node.status.capacity = {"cpu": Quantity("4")}
    assert api.create(node).status.allocatable == {"cpu": Quantity("4")}


def test_create_qos_class(api: APIServer) -> None:
    pod = make_pod("g")
    pod.spec.containers[0].resources.limits = {"cpu": Quantity("1"), "memory": Quantity("1Gi")}
    assert api.create(pod).status.qos_class == "Guaranteed"
    pod = make_pod("b")
    pod.spec.containers[0].resources.requests = {"cpu": Quantity("100m")}
    assert api.create(pod).status.qos_class == "Burstable"


def test_create_existing_name(api: APIServer) -> None:
    api.create(make_pod())
    with pytest.raises(AlreadyExists, match='^pods "web" already exists$') as e:
        api.create(make_pod())
    assert (e.value.code, e.value.reason) == (409, "AlreadyExists")


def test_create_existing_name_being_deleted(api: APIServer) -> None:
    pod = make_pod()
    pod.metadata.finalizers = ["example.com/hold"]
    api.create(pod)
    api.delete("Pod", "web")
    with pytest.raises(AlreadyExists, match='^object is being deleted: pods "web" already exists$'):
        api.create(make_pod())


def test_create_with_resource_version_is_rejected(api: APIServer) -> None:
    pod = make_pod()
    pod.metadata.resource_version = "5"
    with pytest.raises(BadRequest, match="^resourceVersion should not be set on objects to be created$") as e:
        api.create(pod)
    assert e.value.code == 400


def test_create_invalid_object(api: APIServer) -> None:
    deployment = make_deployment()
    deployment.spec.replicas = -1
    with pytest.raises(Invalid) as e:
        api.create(deployment)
    assert str(e.value) == (
        'Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0'
    )
    assert (e.value.code, e.value.reason) == (422, "Invalid")
    with pytest.raises(Invalid, match=r'^Pod "" is invalid: metadata.name: Required value: name or generateName'):
        api.create(make_pod(""))


def test_new_kinds_are_validated(api: APIServer) -> None:
    lease = make_lease()
    lease.spec.lease_duration_seconds = 0
    with pytest.raises(Invalid, match=r'^Lease.coordination.k8s.io "n1" is invalid: spec.leaseDurationSeconds: '
                                      r"Invalid value: 0: must be greater than 0$"):
        api.create(lease)
    with pytest.raises(Invalid, match=r"subsets\[0\]: Required value: must specify `addresses` or `notReadyAddresses`"):
        api.create(Endpoints(metadata=ObjectMeta(name="web"), subsets=[EndpointSubset()]))
    with pytest.raises(Invalid, match=r'^Namespace "Bad" is invalid: metadata.name: Invalid value: "Bad"'):
        api.create(Namespace(metadata=ObjectMeta(name="Bad")))
    namespace = api.create(Namespace(metadata=ObjectMeta(name="team", namespace="ignored")))
    assert namespace.metadata.namespace == "" and namespace.status.phase == "Active"
    assert namespace.metadata.labels == {"kubernetes.io/metadata.name": "team"}


def _generate(seed: int, names: int = 3) -> list[str]:
    api = APIServer(EmbeddedEtcd(), rng=np.random.default_rng(seed))
    out = []
    for _ in range(names):
        pod = make_pod("")
        pod.metadata.generate_name = "web-"
        out.append(api.create(pod).metadata.name)
    return out


def test_generate_name_is_deterministic_per_seed() -> None:
    first = _generate(1)
    assert first == _generate(1) and first != _generate(2)
    for name in first:
        assert name.startswith("web-") and len(name) == 9
        assert set(name[4:]) <= set(NAME_ALPHABET)


def test_generate_name_truncates_the_base(api: APIServer) -> None:
    pod = make_pod("")
    pod.metadata.generate_name = "x" * 70
    name = api.create(pod).metadata.name
    assert len(name) == 63 and name.startswith("x" * 58)


def test_generate_name_retries_then_gives_up(api: APIServer, store: EmbeddedEtcd) -> None:
    class OneName:
        """A generator whose every draw is the same, so every generated name clashes."""

        def integers(self, low: int, high: int, size: int) -> np.ndarray:
            return np.zeros(size, dtype=int)

        def bytes(self, n: int) -> bytes:
            return bytes(n)

    api = APIServer(store, rng=OneName())  # type: ignore[arg-type]
    pod = make_pod("")
    pod.metadata.generate_name = "web-"
    assert api.create(pod).metadata.name == "web-bbbbb"
    with pytest.raises(AlreadyExists) as e:
        api.create(pod)
    assert str(e.value) == (
        'pods "web-bbbbb" already exists, the server was not able to generate a unique name for the object'
    )


# -- get and list ---------------------------------------------------------------------------


def test_get_not_found(api: APIServer) -> None:
    with pytest.raises(NotFound, match='^pods "nope" not found$') as e:
        api.get("Pod", "nope")
    assert (e.value.code, e.value.reason) == (404, "NotFound")
    with pytest.raises(NotFound, match='^deployments.apps "nope" not found$'):
        api.get("Deployment", "nope")
    with pytest.raises(NotFound, match="^the server could not find the requested resource$"):
        api.get("Widget", "x")


def test_list_by_namespace_and_all(api: APIServer) -> None:
    api.create(make_pod("a"))
    api.create(make_pod("b", namespace="prod"))
    api.create(make_pod("c", namespace="prod"))
    assert [p.metadata.name for p in api.list("Pod").items] == ["a", "b", "c"]
    assert [p.metadata.name for p in api.list("Pod", namespace="prod").items] == ["b", "c"]
    assert api.list("Pod", namespace="empty").items == ()


# -- update ---------------------------------------------------------------------------------


def test_update_bumps_rv_and_generation_on_spec_change(api: APIServer) -> None:
    deployment = api.create(make_deployment())
    deployment.spec.replicas = 5
    updated = api.update(deployment)
    assert int(updated.metadata.resource_version) > int(deployment.metadata.resource_version)
    assert updated.metadata.generation == 2
    updated.metadata.labels["tier"] = "front"
    relabelled = api.update(updated)
    assert relabelled.metadata.generation == 2  # metadata only
    relabelled.metadata.annotations["note"] = "x"
    assert api.update(relabelled).metadata.generation == 3  # Deployments bump on annotations too


def test_only_apps_strategies_count_generations(api: APIServer) -> None:
    """Deployments and ReplicaSets start at generation 1 and count spec changes; a Lease,
    Pod or HPA keeps the client's generation on create and never bumps it (their v1.28
    strategies leave ``metadata.generation`` alone)."""
    (rs,) = loads(DEPLOYMENT.replace("kind: Deployment", "kind: ReplicaSet"), defaults=False)
    rs = api.create(rs)
    assert rs.metadata.generation == 1
    rs.spec.replicas = 3
    rs = api.update(rs)
    assert rs.metadata.generation == 2
    rs.metadata.annotations["note"] = "x"
    assert api.update(rs).metadata.generation == 2  # annotations count for Deployments only
    lease = make_lease()
    lease.metadata.generation = 7
    lease = api.create(lease)
    assert lease.metadata.generation == 7
    lease.spec.holder_identity = "n2"
    assert api.update(lease).metadata.generation == 7
    pod = api.create(make_pod())
    pod.spec.active_deadline_seconds = 30
    assert api.update(pod).metadata.generation == 0


def test_update_with_stale_rv_conflicts(api: APIServer) -> None:
    pod = api.create(make_pod())
    first = copy.deepcopy(pod)
    first.metadata.labels["a"] = "1"
    api.update(first)
    pod.metadata.labels["b"] = "2"
    with pytest.raises(Conflict) as e:
        api.update(pod)
    assert str(e.value) == CONFLICT and (e.value.code, e.value.reason) == (409, "Conflict")


def test_noop_update_writes_nothing(api: APIServer, store: EmbeddedEtcd) -> None:
    pod = api.create(make_pod())
    revision = store.revision
    again = api.update(pod)
    assert again.metadata.resource_version == pod.metadata.resource_version
    assert store.revision == revision


def test_update_without_rv_is_unconditional_where_allowed(api: APIServer) -> None:
    api.create(make_pod())
    pod = make_pod(labels={"x": "1"})
    assert api.update(pod).metadata.labels == {"x": "1"}


def test_lease_update_requires_rv(api: APIServer) -> None:
    api.create(make_lease())
    with pytest.raises(Invalid) as e:
        api.update(make_lease())
    assert str(e.value) == (
        'leases.coordination.k8s.io "n1" is invalid: metadata.resourceVersion: Invalid value: 0x0: '
        "must be specified for an update"
    )


def test_update_keeps_server_fields_and_status(api: APIServer) -> None:
    pod = api.create(make_pod())
    changed = copy.deepcopy(pod)
    changed.metadata.creation_timestamp = "2030-01-01T00:00:00Z"
    changed.metadata.generation = 99
    changed.status.phase = "Running"
    updated = api.update(changed)
    assert updated.metadata.creation_timestamp == pod.metadata.creation_timestamp
    assert updated.metadata.generation == 0 and updated.status.phase == "Pending"


def test_update_uid_is_immutable(api: APIServer) -> None:
    pod = api.create(make_pod())
    pod.metadata.uid = "other"
    with pytest.raises(Invalid, match='^Pod "web" is invalid: metadata.uid: Invalid value: "other": field is immutable'):
        api.update(pod)


def test_update_missing_object(api: APIServer) -> None:
    with pytest.raises(NotFound, match='^pods "web" not found$'):
        api.update(make_pod())


def test_update_invalid(api: APIServer) -> None:
    deployment = api.create(make_deployment())
    deployment.spec.replicas = -2
    with pytest.raises(Invalid, match="spec.replicas: Invalid value: -2"):
        api.update(deployment)


def test_update_status_changes_only_status(api: APIServer) -> None:
    deployment = api.create(make_deployment())
    deployment.status.replicas = 2
    deployment.spec.replicas = 9
    updated = api.update_status(deployment)
    assert (updated.status.replicas, updated.spec.replicas, updated.metadata.generation) == (2, 2, 1)
    with pytest.raises(NotFound, match="^the server could not find the requested resource$"):
        api.update_status(api.create(make_lease()))


def test_deployment_status_update_writes_annotations_without_a_new_generation(api: APIServer) -> None:
    """``deploymentStatusStrategy.PrepareForUpdate`` resets only spec and labels: the
    Deployment controller writes its revision annotation this way."""
    deployment = api.create(make_deployment())
    deployment.metadata.annotations["deployment.kubernetes.io/revision"] = "1"
    deployment.metadata.labels = {"changed": "no"}
    updated = api.update_status(deployment)
    assert updated.metadata.annotations == {"deployment.kubernetes.io/revision": "1"}
    stored = api.get("Deployment", deployment.metadata.name, deployment.metadata.namespace)
    assert stored.metadata.annotations == {"deployment.kubernetes.io/revision": "1"}
    assert "changed" not in stored.metadata.labels and stored.metadata.generation == 1
    pod = api.create(make_pod())
    pod.metadata.annotations["x"] = "y"
    assert "x" not in api.update_status(pod).metadata.annotations  # other kinds: status only


def test_update_status_stale_rv(api: APIServer) -> None:
    pod = api.create(make_pod())
    api.update(make_pod(labels={"x": "1"}))
    pod.status.phase = "Running"
    with pytest.raises(Conflict, match="the object has been modified"):
        api.update_status(pod)


# -- patch ----------------------------------------------------------------------------------


def test_patch_merges_and_removes(api: APIServer) -> None:
    api.create(make_pod(labels={"app": "web", "old": "1"}))
    patched = api.patch("Pod", "web", {"metadata": {"labels": {"old": None, "new": "2"}}, "spec": {"nodeName": "n1"}})
    assert patched.metadata.labels == {"app": "web", "new": "2"}
    assert patched.spec.node_name == "n1"


def test_patch_retries_on_conflict_internally(api: APIServer, store: EmbeddedEtcd) -> None:
    api.create(make_pod())
    real_txn = store.txn
    raced = []

    def racing_txn(compare, success=(), failure=()):  # type: ignore[no-untyped-def]
        if not raced:  # another writer commits between the patch's read and its write
            raced.append(True)
            store.put("/registry/pods/default/web", store.range("/registry/pods/default/web").kvs[0].value)
        return real_txn(compare, success, failure)

    store.txn = racing_txn  # type: ignore[method-assign]
    assert api.patch("Pod", "web", {"metadata": {"labels": {"a": "b"}}}).metadata.labels == {"a": "b"}
    assert raced


def test_patch_with_stale_rv_conflicts(api: APIServer) -> None:
    pod = api.create(make_pod())
    api.patch("Pod", "web", {"metadata": {"labels": {"a": "b"}}})
    with pytest.raises(Conflict, match="the object has been modified"):
        api.patch("Pod", "web", {"metadata": {"resourceVersion": pod.metadata.resource_version, "labels": {"c": "d"}}})


def test_patch_errors(api: APIServer) -> None:
    with pytest.raises(NotFound, match='^pods "web" not found$'):
        api.patch("Pod", "web", {})
    api.create(make_pod())
    with pytest.raises(BadRequest, match='unknown field "spec.nodeNam"'):
        api.patch("Pod", "web", {"spec": {"nodeNam": "n1"}})
    with pytest.raises(Invalid, match=r"spec.containers\[0\].image: Required value"):
        api.patch("Pod", "web", {"spec": {"containers": [{"name": "c"}]}})


def test_timestamps_are_whole_seconds_after_the_epoch() -> None:
    assert timestamp(0) == "2026-01-01T00:00:00Z"
    assert timestamp(86399.99) == "2026-01-01T23:59:59Z"
