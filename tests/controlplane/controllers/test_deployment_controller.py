"""The Deployment controller: fenceposts, rollouts under maxSurge/maxUnavailable, Recreate,
revisions, scaling, conditions."""

from __future__ import annotations

import pytest
from ctrl_helpers import deployment, fake_kubelet, guard_caches, mark_ready, template

from kbook.api import IntOrString, ResourceRequirements
from kbook.controlplane.controllers import deployment_util as du
from kbook.controlplane.controllers.controller_utils import is_pod_active, is_pod_ready, semantic_deep_equal
from kbook.controlplane.controllers.deployment import DeploymentController
from kbook.controlplane.controllers.informer import InformerFactory
from kbook.controlplane.controllers.replicaset import ReplicaSetController
from kbook.eventlog import EventLog
from kbook.quantity import Quantity


@pytest.mark.parametrize("desired,surge,unavail", [(10, 3, 2), (4, 1, 1), (3, 1, 0), (1, 1, 0)])
def test_resolve_fenceposts_at_25_percent(desired, surge, unavail):
    assert du.resolve_fenceposts(IntOrString("25%"), IntOrString("25%"), desired) == (surge, unavail)


def test_resolve_fenceposts_zero_zero_means_one_unavailable():
    assert du.resolve_fenceposts(IntOrString(0), IntOrString("0%"), 5) == (0, 1)


def test_compute_hash_is_stable_and_safe():
    d = deployment("web", 3)
    h = du.compute_hash(d.spec.template, None)
    assert h == du.compute_hash(deployment("web", 3).spec.template, None)
    assert set(h) <= set("bcdfghjklmnpqrstvwxz2456789")
    assert h != du.compute_hash(d.spec.template, 1)
    assert h != du.compute_hash(deployment("web", 3, image="nginx:1.28").spec.template, None)



def test_semantic_deep_equal_compares_quantities_by_value_and_empty_as_unset():
    assert semantic_deep_equal(Quantity("1Gi"), Quantity("1073741824"))
    assert semantic_deep_equal([], None) and semantic_deep_equal({}, None)
    assert not semantic_deep_equal(0, None) and not semantic_deep_equal([1], None)
    assert semantic_deep_equal({"a": [Quantity("1")]}, {"a": [Quantity("1000m")]})
    assert not semantic_deep_equal({"a": 1}, {"b": 1})
    assert not semantic_deep_equal([1, 2], [1]) and not semantic_deep_equal([1], {"a": 1})
    assert semantic_deep_equal([{"a": []}], [{"a": None}])


def test_equal_ignore_hash_ignores_only_the_hash_label_and_copies_nothing():
    rs_template = template({"app": "web", du.DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY: "abc"})
    d_template = template({"app": "web"})
    assert du.equal_ignore_hash(rs_template, d_template) and du.equal_ignore_hash(d_template, rs_template)
    assert rs_template.metadata.labels == {"app": "web", du.DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY: "abc"}
    assert not du.equal_ignore_hash(rs_template, template({"app": "web", "tier": "x"}))
    assert not du.equal_ignore_hash(rs_template, template({"app": "web"}, image="nginx:1.28"))
    rs_template.metadata.annotations["a"] = "b"
    assert not du.equal_ignore_hash(rs_template, d_template)
    # Semantic.DeepEqual: the same quantity written two ways is the same template
    a, b = template({"app": "web"}), template({"app": "web"})
    a.spec.containers[0].resources = ResourceRequirements(requests={"memory": Quantity("1Gi")})
    b.spec.containers[0].resources = ResourceRequirements(requests={"memory": Quantity("1073741824")})
    assert du.equal_ignore_hash(a, b)


def test_syncs_change_no_cached_object(env, api):
    """A rollout, a scale-up and a scale-down: every sync leaves the informer caches alone
    (the new ReplicaSet is handed out uncopied unless its annotations must be written)."""
    dc = start(env, api)
    calls = guard_caches(dc, "sync", dc.informers)
    fake_kubelet(env, api)
    api.create(deployment("web", 2))
    env.run(until=10)
    set_image(api, "web", "nginx:1.28")
    env.run(until=40)
    for replicas in (5, 3):
        d = api.get("Deployment", "web", "default")
        d.spec.replicas = replicas
        api.update(d)
        env.run(until=env.now + 20)
    assert calls[0] > 20
    assert api.get("Deployment", "web", "default").status.available_replicas == 3

def start(env, api, log=None):
    informers = InformerFactory(env, api, log=log)
    dc = DeploymentController(env, api, informers=informers, log=log)
    rsc = ReplicaSetController(env, api, informers=informers, log=log)
    informers.start()
    dc.start()
    rsc.start()
    return dc


def watch_invariants(api, desired, surge, unavailable, armed):
    """On every pod write: active pods <= desired + surge, and once armed, Ready pods >= desired - unavailable."""
    seen = {"max_pods": 0, "min_ready": desired}

    def check(event):
        pods = [p for p in api.list("Pod", "default").items if is_pod_active(p)]
        ready = sum(is_pod_ready(p) for p in pods)
        seen["max_pods"] = max(seen["max_pods"], len(pods))
        if armed["on"]:
            seen["min_ready"] = min(seen["min_ready"], ready)

    api.watch("Pod", check)
    return seen


def set_image(api, name, image):
    d = api.get("Deployment", name, "default")
    d.spec.template.spec.containers[0].image = image
    api.update(d)


@pytest.mark.parametrize("surge,unavailable,max_surge,max_unavail",
                         [("25%", "25%", 3, 2), (1, 0, 1, 0), (0, 1, 0, 1), ("50%", "50%", 5, 5)])
def test_rolling_update_respects_surge_and_unavailable(env, api, surge, unavailable, max_surge, max_unavail):
    log = EventLog()
    start(env, api, log)
    fake_kubelet(env, api)
    armed = {"on": False}
    seen = watch_invariants(api, 10, max_surge, max_unavail, armed)
    api.create(deployment("web", 10, surge=surge, unavailable=unavailable))
    env.run(until=20)
    d = api.get("Deployment", "web", "default")
    assert (d.status.replicas, d.status.available_replicas, d.status.updated_replicas) == (10, 10, 10)
    armed["on"] = True
    seen["max_pods"] = 0
    set_image(api, "web", "nginx:1.28")
    env.run(until=120)
    d = api.get("Deployment", "web", "default")
    rss = api.list("ReplicaSet", "default").items
    assert len(rss) == 2 and sorted(rs.spec.replicas for rs in rss) == [0, 10]
    assert (d.status.replicas, d.status.updated_replicas, d.status.available_replicas) == (10, 10, 10)
    assert seen["max_pods"] <= 10 + max_surge
    assert seen["min_ready"] >= 10 - max_unavail
    assert seen["max_pods"] == 10 + max_surge or max_surge == 0  # the surge is used
    new = next(rs for rs in rss if rs.spec.replicas == 10)
    assert new.metadata.name == f"web-{new.spec.template.metadata.labels['pod-template-hash']}"
    assert new.metadata.annotations[du.REVISION_ANNOTATION] == "2"
    assert new.metadata.annotations[du.DESIRED_REPLICAS_ANNOTATION] == "10"
    assert new.metadata.annotations[du.MAX_REPLICAS_ANNOTATION] == str(10 + max_surge)
    conds = {c.type: (c.status, c.reason) for c in d.status.conditions}
    assert conds == {"Available": ("True", "MinimumReplicasAvailable"),
                     "Progressing": ("True", "NewReplicaSetAvailable")}
    assert d.metadata.annotations[du.REVISION_ANNOTATION] == "2"
    assert d.status.observed_generation == d.metadata.generation


def test_first_steps_of_a_25_percent_rollout(env, api):
    log = EventLog()
    start(env, api, log)
    api.create(deployment("web", 4))
    env.run(until=1)
    mark_ready(api, env, api.list("Pod", "default").items)
    env.run(until=2)
    set_image(api, "web", "nginx:1.28")
    env.run(until=3)
    steps = [r.detail for r in log.records if r.verb == "ScalingReplicaSet"]
    # 4 desired, 25 %: surge 1, unavailable 1. Up to 5 pods, down to 3 available.
    assert steps[0].startswith("Scaled up replica set web-") and steps[0].endswith("from 0 to 4")
    assert steps[1].endswith("from 0 to 1")  # the new RS, created at the surge
    assert steps[2].endswith("from 4 to 3")  # one old pod may go unavailable
    assert steps[3].endswith("from 1 to 2")  # room again under desired + surge


def test_recreate_scales_old_to_zero_first(env, api):
    log = EventLog()
    start(env, api, log)
    fake_kubelet(env, api)
    api.create(deployment("web", 3, strategy="Recreate"))
    env.run(until=10)
    set_image(api, "web", "nginx:1.28")
    env.run(until=30)
    steps = [r.detail for r in log.records if r.verb == "ScalingReplicaSet"]
    assert steps[1].endswith("from 3 to 0") and steps[2].endswith("from 0 to 3")
    d = api.get("Deployment", "web", "default")
    assert (d.status.updated_replicas, d.status.available_replicas) == (3, 3)


def test_rollback_reuses_the_old_replica_set_with_a_new_revision(env, api):
    start(env, api)
    fake_kubelet(env, api)
    api.create(deployment("web", 2))
    env.run(until=10)
    set_image(api, "web", "nginx:1.28")
    env.run(until=40)
    set_image(api, "web", "nginx:1.27")
    env.run(until=80)
    rss = {rs.spec.template.spec.containers[0].image: rs for rs in api.list("ReplicaSet", "default").items}
    assert len(rss) == 2
    first = rss["nginx:1.27"]
    assert first.spec.replicas == 2
    assert first.metadata.annotations[du.REVISION_ANNOTATION] == "3"
    assert first.metadata.annotations[du.REVISION_HISTORY_ANNOTATION] == "1"


def test_scaling_event_and_progress_deadline(env, api):
    start(env, api)
    fake_kubelet(env, api, ready=lambda pod: pod.spec.containers[0].image != "nginx:broken")
    api.create(deployment("web", 2))
    env.run(until=10)
    d = api.get("Deployment", "web", "default")
    d.spec.replicas = 5
    api.update(d)
    env.run(until=20)
    rs = api.list("ReplicaSet", "default").items[0]
    assert rs.spec.replicas == 5 and rs.metadata.annotations[du.DESIRED_REPLICAS_ANNOTATION] == "5"
    # A rollout whose pods never become ready times out after progressDeadlineSeconds.
    d = api.get("Deployment", "web", "default")
    d.spec.progress_deadline_seconds = 30
    d.spec.template.spec.containers[0].image = "nginx:broken"
    api.update(d)
    env.run(until=45)
    cond = du.get_condition(api.get("Deployment", "web", "default").status, "Progressing")
    assert (cond.status, cond.reason) == ("True", "ReplicaSetUpdated")
    env.run(until=60)
    d = api.get("Deployment", "web", "default")
    cond = du.get_condition(d.status, "Progressing")
    assert (cond.status, cond.reason) == ("False", "ProgressDeadlineExceeded")
    assert cond.message.endswith("has timed out progressing.")
    assert du.get_condition(d.status, "Available").status == "True"  # 4 of 5 old pods still serve


def test_revision_is_written_with_the_status_so_generation_stays_1(env, api):
    """sync.go writes ``deployment.kubernetes.io/revision`` with UpdateStatus, whose strategy
    keeps annotations and never bumps generation; a spec change does bump it."""
    log = EventLog()
    start(env, api, log)
    fake_kubelet(env, api)
    api.create(deployment("web", 3))
    env.run(until=20)
    d = api.get("Deployment", "web", "default")
    assert d.metadata.annotations[du.REVISION_ANNOTATION] == "1"
    assert (d.metadata.generation, d.status.observed_generation) == (1, 1)
    assert du.deployment_complete(d, d.status)
    set_image(api, "web", "nginx:1.28")
    env.run(until=60)
    d = api.get("Deployment", "web", "default")
    assert d.metadata.annotations[du.REVISION_ANNOTATION] == "2"
    assert (d.metadata.generation, d.status.observed_generation) == (2, 2)


def test_a_plain_rollout_logs_no_conflicts(env, api):
    """The caches lag the controller's own writes, so some writes conflict; they are requeued
    with the rate limiter and not logged (upstream: only at -v=2)."""
    log = EventLog()
    dc = start(env, api, log)
    conflicts = []
    real_update_status = api.update_status

    def update_status(obj):
        try:
            return real_update_status(obj)
        except Exception as err:
            conflicts.append(type(err).__name__)
            raise

    api.update_status = update_status
    fake_kubelet(env, api)
    api.create(deployment("web", 5))
    env.run(until=20)
    set_image(api, "web", "nginx:1.28")
    env.run(until=80)
    assert [r for r in log.records if r.verb in ("SyncError", "DroppedFromQueue")] == []
    assert set(conflicts) <= {"Conflict"}
    d = api.get("Deployment", "web", "default")
    assert (d.status.updated_replicas, d.status.available_replicas) == (5, 5)
    assert dc.queue.num_requeues("default/web") == 0  # the last sync succeeded and forgot the key


def test_errors_other_than_conflicts_are_still_logged(env, fake):
    from kbook.faults import Timeout

    log = EventLog()
    start(env, fake, log)
    failures = {"left": 2}

    def fail(verb, obj):
        if verb == "create" and obj.KIND == "ReplicaSet" and failures["left"]:
            failures["left"] -= 1
            return Timeout()
        return None

    fake.fail = fail
    fake.create(deployment("web", 2))
    env.run(until=5)
    errors = [r for r in log.records if r.verb == "SyncError"]
    assert len(errors) == 2 and all("Timeout" in r.detail for r in errors)
    assert len(fake.all("ReplicaSet")) == 1


def test_new_and_old_replica_sets_are_found_once_per_sync(env, api, monkeypatch):
    """Every step of one sync asks for the new and old ReplicaSets of the same list: the
    templates are compared once per sync, and each caller gets its own list of old ones."""
    dc = start(env, api)
    fake_kubelet(env, api)
    api.create(deployment("web", 2))
    env.run(until=10)
    set_image(api, "web", "nginx:1.28")
    env.run(until=40)
    compared = []
    real = du.equal_ignore_hash
    monkeypatch.setattr(du, "equal_ignore_hash", lambda a, b: compared.append(1) or real(a, b))
    dc.sync("default/web")
    assert compared and len(compared) <= 2  # the old one, then the new one: once
    d = dc.d_informer.indexer.get("default/web")
    rs_list = dc.rs_informer.indexer.list("default")
    new, old = dc._find_new_and_old(d, rs_list)
    again_new, again_old = dc._find_new_and_old(d, rs_list)
    assert new is again_new and old == again_old and old is not again_old
    assert new.spec.template.spec.containers[0].image == "nginx:1.28" and len(old) == 1
    other = dc._find_new_and_old(d, list(reversed(rs_list)))  # another list: found again
    assert other[0] is new and len(compared) > 2
