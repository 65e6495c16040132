"""The garbage collector (background, foreground, orphan) and the controller manager."""

from __future__ import annotations

from ctrl_helpers import deployment, fake_kubelet, replica_set

from kbook.api import ObjectMeta, OwnerReference, Pod
from kbook.controlplane.controllers import ControllerManager, GarbageCollector
from kbook.eventlog import EventLog


def test_background_deletion_of_a_deployment_removes_replica_sets_and_pods(env, api):
    log = EventLog()
    manager = ControllerManager(env, api, log=log, controllers=("deployment", "replicaset", "garbagecollector"))
    manager.start()
    api.create(deployment("web", 3))
    env.run(until=5)
    assert len(api.list("Pod", "default").items) == 3
    api.delete("Deployment", "web", "default")
    env.run(until=10)
    assert api.list("ReplicaSet", "default").items == ()
    assert api.list("Pod", "default").items == ()
    assert any(r.verb == "Delete" and r.object.startswith("ReplicaSet ") for r in log.records)


def test_dependent_of_a_missing_owner_is_collected_on_start(env, api):
    ref = OwnerReference(api_version="apps/v1", kind="ReplicaSet", name="gone", uid="no-such-uid", controller=True)
    api.create(Pod(metadata=ObjectMeta(name="leftover", namespace="default", owner_references=[ref]),
                   spec=replica_set("x", 1).spec.template.spec))
    rs = api.create(replica_set("alive", 0))
    live = OwnerReference(api_version="apps/v1", kind="ReplicaSet", name="alive", uid=rs.metadata.uid)
    api.create(Pod(metadata=ObjectMeta(name="kept", namespace="default", owner_references=[ref, live]),
                   spec=replica_set("x", 1).spec.template.spec))
    GarbageCollector(env, api).start()
    env.run(until=1)
    assert [p.metadata.name for p in api.list("Pod", "default").items] == ["kept"]


def test_orphan_and_foreground_propagation(env, api):
    manager = ControllerManager(env, api, controllers=("replicaset", "garbagecollector"))
    manager.start()
    api.create(replica_set("orph", 2))
    api.create(replica_set("fg", 2))
    env.run(until=2)
    api.delete("ReplicaSet", "orph", "default", propagation_policy="Orphan")
    api.delete("ReplicaSet", "fg", "default", propagation_policy="Foreground")
    env.run(until=5)
    pods = api.list("Pod", "default").items
    assert len(pods) == 2 and all(p.metadata.name.startswith("orph-") for p in pods)
    assert all(p.metadata.owner_references == [] for p in pods)  # orphaned, not deleted
    assert api.list("ReplicaSet", "default").items == ()  # both owners finally deleted


def test_manager_restart_resumes_from_a_fresh_list(env, api):
    log = EventLog()
    manager = ControllerManager(env, api, log=log)
    manager.start()
    fake_kubelet(env, api)
    api.create(deployment("web", 2))
    env.run(until=10)
    manager.stop()
    d = api.get("Deployment", "web", "default")
    d.spec.replicas = 4
    api.update(d)
    env.run(until=20)
    assert len(api.list("Pod", "default").items) == 2  # nobody is reconciling
    manager.start()
    env.run(until=30)
    assert len(api.list("Pod", "default").items) == 4
    assert api.get("Deployment", "web", "default").status.available_replicas == 4
    assert [r.verb for r in log.records if r.component == "kube-controller-manager"] == ["Started", "Stopped",
                                                                                         "Started"]
