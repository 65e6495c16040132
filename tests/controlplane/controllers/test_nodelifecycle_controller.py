"""Node lifecycle and taint eviction: heartbeat via Lease, grace period, Unknown, unreachable
taint, pods marked not Ready then evicted after their toleration, recovery, disruption mode."""

from __future__ import annotations

import pytest
from ctrl_helpers import guard_caches, mark_ready, template

from kbook.api import Lease, Node, NodeCondition, ObjectMeta, Pod, Taint, Toleration
from kbook.api.coordination import LeaseSpec
from kbook.controlplane.controllers.controller_utils import is_pod_ready
from kbook.controlplane.controllers.informer import InformerFactory
from kbook.controlplane.controllers.nodelifecycle import (
    FULL_DISRUPTION,
    NORMAL,
    PARTIAL_DISRUPTION,
    TAINT_NOT_READY,
    TAINT_UNREACHABLE,
    NodeLifecycleController,
    compute_zone_state,
)
from kbook.controlplane.controllers.tainteviction import (
    TaintEvictionController,
    effective_tolerations,
    matching_tolerations,
    min_toleration_time,
)
from kbook.controlplane.controllers.timeutil import micro_time, rfc3339
from kbook.eventlog import EventLog


def test_zone_state():
    assert compute_zone_state(["True", "True", "Unknown"]) == (1, NORMAL)
    assert compute_zone_state(["Unknown", None]) == (2, FULL_DISRUPTION)
    assert compute_zone_state(["True", "False", "False", "Unknown"]) == (3, PARTIAL_DISRUPTION)
    assert compute_zone_state(["True", "True", "False", "False"]) == (2, NORMAL)


def test_tolerations():
    pod = Pod(spec=template({"a": "b"}).spec)
    unreachable = Taint(key=TAINT_UNREACHABLE, effect="NoExecute")
    ok, used = matching_tolerations([unreachable], effective_tolerations(pod))
    assert ok and min_toleration_time(used) == 300  # DefaultTolerationSeconds
    pod.spec.tolerations = [Toleration(key=TAINT_UNREACHABLE, operator="Exists", effect="NoExecute")]
    ok, used = matching_tolerations([unreachable], effective_tolerations(pod))
    assert ok and min_toleration_time(used) == -1  # forever
    assert not matching_tolerations([Taint(key="dedicated", value="gpu", effect="NoExecute")],
                                    effective_tolerations(pod))[0]


class Kubelets:
    """Heartbeats only: renew each alive node's Lease every 10 s."""

    def __init__(self, env, api, names):
        self.env, self.api, self.alive = env, api, set(names)
        for name in names:
            node = Node(metadata=ObjectMeta(name=name))
            node.status.conditions = [NodeCondition(type="Ready", status="True", reason="KubeletReady",
                                                    last_heartbeat_time=rfc3339(0), last_transition_time=rfc3339(0))]
            node = api.create(node)
            node.status.conditions = [NodeCondition(type="Ready", status="True", reason="KubeletReady",
                                                    last_heartbeat_time=rfc3339(0), last_transition_time=rfc3339(0))]
            api.update_status(node)
            api.create(Lease(metadata=ObjectMeta(name=name, namespace="kube-node-lease"),
                             spec=LeaseSpec(holder_identity=name, lease_duration_seconds=40,
                                            renew_time=micro_time(0))))
        env.process(self.run())

    def run(self):
        while True:
            yield self.env.timeout(10)
            for name in sorted(self.alive):
                lease = self.api.get("Lease", name, "kube-node-lease")
                lease.spec.renew_time = micro_time(self.env.now)
                self.api.update(lease)

    def post_ready(self, name):
        node = self.api.get("Node", name)
        node.status.conditions = [NodeCondition(type="Ready", status="True", reason="KubeletReady",
                                                last_heartbeat_time=rfc3339(self.env.now),
                                                last_transition_time=rfc3339(self.env.now))]
        self.api.update_status(node)


def run_pod(api, env, name, node, tolerations=()):
    pod = Pod(metadata=ObjectMeta(name=name, namespace="default"), spec=template({"app": name}).spec)
    pod.spec.node_name = node
    pod.spec.tolerations = list(tolerations)
    mark_ready(api, env, [api.create(pod)])


def start(env, api, log, grace=50.0):
    informers = InformerFactory(env, api, log=log)
    nlc = NodeLifecycleController(env, api, informers=informers, log=log, node_monitor_grace_period=grace)
    tec = TaintEvictionController(env, api, informers=informers, log=log)
    informers.start()
    nlc.start()
    tec.start()
    return nlc, tec


def taints(api, node):
    return [(t.key, t.effect) for t in api.get("Node", node).spec.taints]


def first(log, verb, obj=None):
    return next(r for r in log.records if r.verb == verb and (obj is None or r.object == obj))


@pytest.mark.parametrize("grace", [50.0, 40.0])
def test_dead_kubelet_timeline(env, api, grace):
    log = EventLog()
    kubelets = Kubelets(env, api, ["n1", "n2"])
    run_pod(api, env, "web", "n1")
    run_pod(api, env, "forever", "n1", [Toleration(key=TAINT_UNREACHABLE, operator="Exists", effect="NoExecute")])
    run_pod(api, env, "other", "n2")
    start(env, api, log, grace)
    env.run(until=100.5)
    kubelets.alive.discard("n1")  # last renewal at t0 = 100
    t0 = 100.0
    env.run(until=t0 + grace + 20)
    unknown = first(log, "NodeStatusUnknown", "n1").time
    # The probe time is when the controller saw the renewal (a pass up to 5 s later), and
    # Unknown comes on the first pass past probe + grace.
    assert t0 + grace < unknown <= t0 + grace + 10
    ready = next(c for c in api.get("Node", "n1").status.conditions if c.type == "Ready")
    assert (ready.status, ready.reason, ready.message) == ("Unknown", "NodeStatusUnknown",
                                                           "Kubelet stopped posting node status.")
    assert first(log, "NodeNotReady", "n1").time == unknown
    assert not is_pod_ready(api.get("Pod", "web", "default"))
    assert is_pod_ready(api.get("Pod", "other", "default"))
    tainted = first(log, "Taint", "n1").time
    assert unknown < tainted <= unknown + 5.1  # the next monitor pass queues it
    # The NoSchedule twin came with Ready=Unknown (doNoScheduleTaintingPass), at once.
    assert taints(api, "n1") == [(TAINT_UNREACHABLE, "NoSchedule"), (TAINT_UNREACHABLE, "NoExecute")]
    assert first(log, "TaintNoSchedule", "n1").time == unknown
    assert not api.get("Node", "n2").spec.taints
    env.run(until=tainted + 299)
    assert api.get("Pod", "web", "default").metadata.deletion_timestamp is None
    env.run(until=tainted + 301)
    evicted = first(log, "TaintManagerEviction", "default/web").time
    assert evicted == pytest.approx(tainted + 300)
    assert api.get("Pod", "web", "default").metadata.deletion_timestamp is not None  # graceful: kubelet finishes
    assert api.get("Pod", "forever", "default").metadata.deletion_timestamp is None
    assert api.get("Pod", "other", "default").metadata.deletion_timestamp is None
    # The kubelet comes back: Ready again, the taint goes.
    kubelets.alive.add("n1")
    kubelets.post_ready("n1")
    env.run(until=env.now + 10)
    assert not api.get("Node", "n1").spec.taints
    removed = [r.detail for r in log.records if r.verb == "RemoveTaintNoSchedule" and r.object == "n1"]
    assert removed == [TAINT_NOT_READY, TAINT_UNREACHABLE]  # the admission's at start, then this one


def test_zero_toleration_seconds_is_evicted_at_once(env, api):
    log = EventLog()
    kubelets = Kubelets(env, api, ["n1", "n2"])
    run_pod(api, env, "strict", "n1", [Toleration(key=TAINT_UNREACHABLE, operator="Exists", effect="NoExecute",
                                                  toleration_seconds=0)])
    start(env, api, log)
    env.run(until=10)
    kubelets.alive.discard("n1")
    env.run(until=200)
    tainted = first(log, "Taint", "n1").time
    assert first(log, "TaintManagerEviction", "default/strict").time == pytest.approx(tainted, abs=0.2)


def test_all_nodes_down_is_master_disruption_mode(env, api):
    log = EventLog()
    kubelets = Kubelets(env, api, ["n1", "n2"])
    run_pod(api, env, "web", "n1")
    start(env, api, log)
    env.run(until=10)
    kubelets.alive.clear()
    env.run(until=500)
    assert all(c.status == "Unknown" for n in ("n1", "n2") for c in api.get("Node", n).status.conditions)
    assert any(r.verb == "MasterDisruptionMode" for r in log.records)
    # No NoExecute taints (no evictions); the NoSchedule ones follow Ready=Unknown regardless.
    assert taints(api, "n1") == [(TAINT_UNREACHABLE, "NoSchedule")]
    assert api.get("Pod", "web", "default").metadata.deletion_timestamp is None


def test_monitor_passes_change_no_cached_node(env, api):
    """The monitor reads the cached nodes and copies one only to set its conditions Unknown."""
    log = EventLog()
    kubelets = Kubelets(env, api, ["n1", "n2"])
    nlc, _ = start(env, api, log)
    calls = guard_caches(nlc, "monitor_node_health", nlc.informers)
    env.run(until=10)
    kubelets.alive.discard("n1")
    env.run(until=100)
    assert first(log, "NodeStatusUnknown", "n1")
    assert calls[0] >= 18
