"""DELETE: preconditions, finalizers, garbage-collection finalizers and Pod graceful
deletion (registry/generic/registry/store.go, registry/rest/delete.go)."""

from __future__ import annotations

import pytest

from apiserver_helpers import make_deployment, make_lease, make_pod
from kbook.controlplane.apiserver import APIServer, Conflict, Invalid, NotFound
from kbook.controlplane.etcd import EmbeddedEtcd, ManualClock


def test_delete_removes_and_returns_last_state(api: APIServer, store: EmbeddedEtcd) -> None:
    api.create(make_lease())
    gone = api.delete("Lease", "n1", "kube-node-lease")
    assert gone.metadata.name == "n1" and gone.metadata.resource_version == str(store.revision)
    assert store.range("/registry/leases/kube-node-lease/n1").kvs == ()
    with pytest.raises(NotFound, match='^leases.coordination.k8s.io "n1" not found$'):
        api.delete("Lease", "n1", "kube-node-lease")


def test_delete_precondition(api: APIServer) -> None:
    lease = api.create(make_lease())
    api.patch("Lease", "n1", {"spec": {"leaseTransitions": 1}}, "kube-node-lease")
    with pytest.raises(Conflict) as e:
        api.delete("Lease", "n1", "kube-node-lease", resource_version=lease.metadata.resource_version)
    assert str(e.value) == (
        'Operation cannot be fulfilled on leases.coordination.k8s.io "n1": Precondition failed: '
        "ResourceVersion in precondition: 2, ResourceVersion in object meta: 3"
    )
    current = api.get("Lease", "n1", "kube-node-lease").metadata.resource_version
    api.delete("Lease", "n1", "kube-node-lease", resource_version=current)


def test_finalizers_keep_the_object_until_removed(api: APIServer, clock: ManualClock, store: EmbeddedEtcd) -> None:
    deployment = make_deployment()
    deployment.metadata.finalizers = ["example.com/cleanup"]
    api.create(deployment)
    clock.advance(10)
    deleting = api.delete("Deployment", "web")
    meta = deleting.metadata
    assert (meta.deletion_timestamp, meta.deletion_grace_period_seconds, meta.generation) == (
        "2026-01-01T00:00:10Z", 0, 2)
    assert api.get("Deployment", "web") == deleting
    revision = store.revision
    assert api.delete("Deployment", "web") == deleting and store.revision == revision  # already deleting
    deleting.metadata.finalizers.append("example.com/more")
    with pytest.raises(Invalid) as e:
        api.update(deleting)
    assert str(e.value) == (
        'Deployment.apps "web" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the '
        'object is being deleted, found new finalizers []string{"example.com/more"}'
    )
    api.patch("Deployment", "web", {"metadata": {"finalizers": None}})
    with pytest.raises(NotFound):
        api.get("Deployment", "web")


@pytest.mark.parametrize(
    ("policy", "finalizer"),
    [("Orphan", "orphan"), ("Foreground", "foregroundDeletion")],
)
def test_propagation_policy_adds_a_gc_finalizer(api: APIServer, policy: str, finalizer: str) -> None:
    api.create(make_deployment())
    deleting = api.delete("Deployment", "web", propagation_policy=policy)
    assert deleting.metadata.finalizers == [finalizer] and deleting.metadata.deletion_timestamp
    api.patch("Deployment", "web", {"metadata": {"finalizers": []}})  # the garbage collector's job
    with pytest.raises(NotFound):
        api.get("Deployment", "web")


def test_background_deletes_at_once_and_bad_policy_is_invalid(api: APIServer) -> None:
    api.create(make_deployment())
    with pytest.raises(Invalid) as e:
        api.delete("Deployment", "web", propagation_policy="Later")
    assert str(e.value) == (
        'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Later": '
        'supported values: "Foreground", "Background", "Orphan"'
    )
    api.delete("Deployment", "web", propagation_policy="Background")
    with pytest.raises(NotFound):
        api.get("Deployment", "web")


def test_unscheduled_pod_is_deleted_at_once(api: APIServer) -> None:
    api.create(make_pod())
    api.delete("Pod", "web")
    assert api.list("Pod").items == ()


def test_scheduled_pod_is_deleted_gracefully(api: APIServer, clock: ManualClock, store: EmbeddedEtcd) -> None:
    api.create(make_pod(node_name="n1", termination_grace_period_seconds=20))
    clock.advance(5)
    deleting = api.delete("Pod", "web")
    assert (deleting.metadata.deletion_timestamp, deleting.metadata.deletion_grace_period_seconds) == (
        "2026-01-01T00:00:25Z", 20)
    revision = store.revision
    assert api.delete("Pod", "web") == deleting and store.revision == revision  # pending: nothing changes
    shorter = api.delete("Pod", "web", grace_period_seconds=5)
    assert (shorter.metadata.deletion_timestamp, shorter.metadata.deletion_grace_period_seconds) == (
        "2026-01-01T00:00:10Z", 5)
    api.delete("Pod", "web", grace_period_seconds=0)  # the kubelet confirms
    with pytest.raises(NotFound):
        api.get("Pod", "web")


def test_finished_pod_is_deleted_at_once(api: APIServer) -> None:
    pod = api.create(make_pod(node_name="n1"))
    pod.status.phase = "Succeeded"
    api.update_status(pod)
    api.delete("Pod", "web")
    assert api.list("Pod").items == ()


def test_graceful_pod_with_finalizer_goes_when_both_are_done(api: APIServer) -> None:
    pod = make_pod(node_name="n1")
    pod.metadata.finalizers = ["example.com/hold"]
    api.create(pod)
    api.delete("Pod", "web")
    held = api.delete("Pod", "web", grace_period_seconds=0)
    assert held.metadata.deletion_grace_period_seconds == 0
    api.patch("Pod", "web", {"metadata": {"finalizers": None}})
    assert api.list("Pod").items == ()
