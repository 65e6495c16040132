"""The ReplicaSet controller: convergence, slow start, expectations, adoption, victims, status."""

from __future__ import annotations

from ctrl_helpers import mark_ready, replica_set

from kbook.api import ObjectMeta, OwnerReference, Pod, PodCondition, PodSpec
from kbook.controlplane.apiserver.types import Invalid
from kbook.controlplane.controllers.controller_utils import rank_pods_for_deletion, slow_start_batch
from kbook.controlplane.controllers.replicaset import ReplicaSetController
from kbook.controlplane.controllers.timeutil import rfc3339
from kbook.eventlog import EventLog


def pods_of(api, name):
    return [p for p in api.list("Pod", "default").items
            if any(r.name == name for r in p.metadata.owner_references)]


def scale(api, name, replicas):
    rs = api.get("ReplicaSet", name, "default")
    rs.spec.replicas = replicas
    api.update(rs)


def test_converges_up_and_down_with_status(env, api):
    log = EventLog()
    rsc = ReplicaSetController(env, api, log=log)
    rsc.start()
    api.create(replica_set("web", 5))
    env.run(until=1)
    pods = pods_of(api, "web")
    assert len(pods) == 5
    assert all(p.metadata.name.startswith("web-") and len(p.metadata.name) == 9 for p in pods)
    ref = pods[0].metadata.owner_references[0]
    assert (ref.kind, ref.controller, ref.block_owner_deletion) == ("ReplicaSet", True, True)
    mark_ready(api, env, pods)
    env.run(until=2)
    status = api.get("ReplicaSet", "web", "default").status
    assert (status.replicas, status.ready_replicas, status.available_replicas) == (5, 5, 5)
    assert status.observed_generation == 1
    scale(api, "web", 2)
    env.run(until=3)
    assert len(pods_of(api, "web")) == 2
    status = api.get("ReplicaSet", "web", "default").status
    assert (status.replicas, status.observed_generation) == (2, 2)
    scale(api, "web", 0)
    env.run(until=4)
    assert pods_of(api, "web") == []
    assert [r.detail for r in log.records if r.verb == "SlowStartBatches"] == ["1 2 2"]


def test_slow_start_batch_sizes_and_stop_on_failure():
    calls = []

    def ok():
        calls.append(1)

    assert slow_start_batch(10, 1, ok)[:2] == (10, [1, 2, 4, 3])
    n = 0

    def fail_fifth():
        nonlocal n
        n += 1
        if n == 5:
            raise Invalid("boom")

    successes, sizes, error = slow_start_batch(20, 1, fail_fifth)
    assert (successes, sizes, str(error)) == (6, [1, 2, 4], "boom")  # the batch of 4 finishes, no more


def test_failed_creates_lower_expectations_and_retry_with_backoff(env, fake):
    log = EventLog()
    failures = {"left": 1}

    def fail(verb, obj):
        if verb == "create" and obj.KIND == "Pod" and len(fake.all("Pod")) == 3 and failures["left"]:
            failures["left"] -= 1
            return Invalid("quota exceeded")
        return None

    fake.fail = fail
    rsc = ReplicaSetController(env, fake, log=log)
    rsc.start()
    fake.create(replica_set("web", 20))
    env.run(until=1)
    assert len(fake.all("Pod")) == 20
    batches = [r.detail for r in log.records if r.verb == "SlowStartBatches"]
    assert batches == ["1 2 4", "1 2 4 7"]  # the 4th create failed: 6 made; the retry makes 14
    retry = next(r for r in log.records if r.verb == "SyncError")
    assert retry.time == 0
    rs = fake.get("ReplicaSet", "web", "default")
    assert rs.status.replicas == 20 and not rs.status.conditions


def test_burst_replicas_caps_one_sync(env, fake):
    rsc = ReplicaSetController(env, fake, burst_replicas=3)
    rsc.start()
    fake.create(replica_set("web", 7))
    env.run(until=0.0001)
    assert len(fake.all("Pod")) >= 3
    env.run(until=1)
    assert len(fake.all("Pod")) == 7


def test_adopts_matching_orphans_and_releases_mismatches(env, api):
    for i in range(2):
        api.create(Pod(metadata=ObjectMeta(name=f"orphan-{i}", namespace="default", labels={"app": "web"}),
                       spec=PodSpec(containers=replica_set("x", 1).spec.template.spec.containers)))
    rsc = ReplicaSetController(env, api)
    rsc.start()
    api.create(replica_set("web", 3))
    env.run(until=1)
    pods = pods_of(api, "web")
    assert len(pods) == 3 and {"orphan-0", "orphan-1"} <= {p.metadata.name for p in pods}
    pod = api.get("Pod", "orphan-0", "default")
    pod.metadata.labels = {"app": "other"}
    api.update(pod)
    env.run(until=2)
    assert api.get("Pod", "orphan-0", "default").metadata.owner_references == []  # released
    assert len(pods_of(api, "web")) == 3  # and replaced


def _pod(name, node="", phase="Running", ready=True, created=0.0, restarts=0, ready_at=0.0):
    pod = Pod(metadata=ObjectMeta(name=name, uid=name, creation_timestamp=rfc3339(created)),
              spec=PodSpec(node_name=node))
    pod.status.phase = phase
    pod.status.conditions = [PodCondition(type="Ready", status="True" if ready else "False",
                                          last_transition_time=rfc3339(ready_at))]
    pod.status.container_statuses = [{"name": "app", "restartCount": restarts}]
    return pod


def test_victim_order_active_pods_with_ranks():
    now = 10_000.0
    pods = [
        _pod("old-running", node="n1", created=0),
        _pod("unassigned", node="", phase="Pending", ready=False),
        _pod("pending", node="n1", phase="Pending", ready=False),
        _pod("not-ready", node="n1", ready=False),
        _pod("crashy", node="n1", restarts=5),
        _pod("crowded", node="n2"),
        _pod("young", node="n1", created=9_000),
    ]
    ranks = [1, 1, 1, 1, 1, 3, 1]
    order = [p.metadata.name for p in rank_pods_for_deletion(pods, ranks, now)]
    assert order == ["unassigned", "pending", "not-ready", "crowded", "crashy", "young", "old-running"]


def test_owned_pods_of_another_controller_are_left_alone(env, fake):
    other = Pod(metadata=ObjectMeta(name="theirs", namespace="default", labels={"app": "web"},
                                    owner_references=[OwnerReference(kind="ReplicaSet", name="x", uid="x-uid",
                                                                     controller=True)]))
    fake.create(other)
    rsc = ReplicaSetController(env, fake)
    rsc.start()
    fake.create(replica_set("web", 1))
    env.run(until=1)
    assert len(fake.all("Pod")) == 2
    assert fake.get("Pod", "theirs", "default").metadata.owner_references[0].uid == "x-uid"
