"""The scheduling queue and cluster events, ported from upstream's tables (v1.28 era,
pkg/scheduler/internal/queue/scheduling_queue_test.go, pkg/scheduler/eventhandlers_test.go):
each test names its Go test. The queue runs v1.28's path with SchedulerQueueingHints off,
so the "WithOutQueueingHint" variants are the ones ported."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from kbook.api import (
    Affinity, LabelSelector, LabelSelectorRequirement, Node, NodeCondition, ObjectMeta, Pod, PodAffinity,
    PodAffinityTerm, Taint,
)
from kbook.quantity import Quantity
from kbook.scheduler import events
from kbook.scheduler.events import (
    ASSIGNED_POD_ADD, NODE_ADD, UNSCHEDULABLE_TIMEOUT, WILDCARD_EVENT, ActionType, ClusterEvent,
    cluster_event_map, node_scheduling_properties_change,
)
from kbook.scheduler.queue import (
    ACTIVE_Q, BACKOFF_Q, DEFAULT_POD_INITIAL_BACKOFF_SECONDS, DEFAULT_POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION,
    UNSCHEDULABLE_PODS, QueueError, SchedulingQueue, calculate_backoff_duration, is_pod_updated,
)
from kbook.scheduler.status import Code, Status
from kbook.scheduler.types import PodInfo, QueuedPodInfo, pod_priority

VECTORS = Path("/work/shared/conformance/scheduler/vectors.json")

# scheduling_queue_test.go: TestEvent = ClusterEvent{Resource: "test"}
TEST_EVENT = ClusterEvent("test", ActionType(0), "test")
LOW, MID, HIGH = 0, 100, 1000
MEDIUM = (LOW + HIGH) // 2


class FakeClock:
    """``testingclock.FakeClock``: simulated seconds the test moves by hand."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def step(self, seconds: float) -> None:
        self.now += seconds


def less(a: QueuedPodInfo, b: QueuedPodInfo) -> bool:
    """``newDefaultQueueSort()``: PrioritySort's Less."""
    p1, p2 = pod_priority(a.pod), pod_priority(b.pod)
    return p1 > p2 or (p1 == p2 and a.timestamp < b.timestamp)


def pod(name: str, ns: str = "", uid: str = "", priority: int | None = None, nominated: str = "",
        node: str = "", labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None) -> Pod:
    """``st.MakePod()``."""
    p = Pod(metadata=ObjectMeta(name=name, namespace=ns, uid=uid or name, labels=dict(labels or {}),
                                annotations=dict(annotations or {})))
    p.spec.priority = priority
    p.spec.node_name = node
    p.status.nominated_node_name = nominated
    return p


def high_priority_pod() -> Pod:
    return pod("hpp", "ns1", "hppns1", HIGH)


def high_pri_nominated_pod() -> Pod:
    return pod("hpp", "ns1", "hppns1", HIGH, nominated="node1")


def med_priority_pod() -> Pod:
    return pod("mpp", "ns2", "mppns2", MEDIUM, nominated="node1", annotations={"annot2": "val2"})


def unschedulable_pod() -> Pod:
    return pod("up", "ns1", "upns1", LOW, nominated="node1", annotations={"annot2": "val2"})


def lookup(p: Pod, *plugins: str) -> QueuedPodInfo:
    """``newQueuedPodInfoForLookup``."""
    return QueuedPodInfo(PodInfo(p), unschedulable_plugins=set(plugins))


def clone_pod(p: Pod, name: str) -> Pod:
    """``clonePod``."""
    c = copy.deepcopy(p)
    c.metadata.name = name
    c.metadata.uid = name + c.metadata.namespace
    return c


def new_queue(clock: FakeClock | None = None, **kw) -> SchedulingQueue:
    """``NewTestQueue``: no event map registered for any profile unless given."""
    kw.setdefault("cluster_event_map", {})
    plugins = kw.pop("pre_enqueue_plugins", ())
    return SchedulingQueue(less, plugins, clock or FakeClock(), **kw)


def popped(q: SchedulingQueue) -> Pod:
    qpi = q.pop()
    assert qpi is not None
    return qpi.pod


def nominated(q: SchedulingQueue) -> dict[str, list[str]]:
    return {node: [p.pod.metadata.uid for p in infos] for node, infos in q.nominator.nominated_pods.items()}


def fail(q: SchedulingQueue, p: Pod, *plugins: str) -> QueuedPodInfo:
    """Pop ``p`` through activeQ as a failed attempt would, then requeue it as rejected by
    ``plugins`` (the upstream tests' ``activeQ.Add`` + ``Pop`` + ``AddUnschedulableIfNotPresent``)."""
    q.active_q.add(QueuedPodInfo(PodInfo(p), timestamp=q.clock()))
    qpi = q.pop()
    assert qpi is not None and qpi.pod is p
    qpi.unschedulable_plugins = set(plugins)
    q.add_unschedulable_if_not_present(qpi, q.scheduling_cycle)
    return qpi


# -- basic operations ------------------------------------------------------------------


def test_priority_queue_add():
    """TestPriorityQueue_Add."""
    med, unsched, high = med_priority_pod(), unschedulable_pod(), high_priority_pod()
    q = new_queue()
    for p in (med, unsched, high):
        q.add(p)
    assert q.nominator.nominated_pod_to_node == {"mppns2": "node1", "upns1": "node1"}
    assert nominated(q) == {"node1": ["mppns2", "upns1"]}
    assert [popped(q) for _ in range(3)] == [high, med, unsched]
    assert len(q.nominator.nominated_pods["node1"]) == 2
    assert q.pop() is None


def test_priority_queue_add_with_reverse_priority_less_func():
    """TestPriorityQueue_AddWithReversePriorityLessFunc."""
    med, high = med_priority_pod(), high_priority_pod()
    q = new_queue()
    q.add(med)
    q.add(high)
    assert [popped(q), popped(q)] == [high, med]


def test_priority_queue_add_unschedulable_if_not_present():
    """TestPriorityQueue_AddUnschedulableIfNotPresent."""
    high, unsched = high_pri_nominated_pod(), unschedulable_pod()
    q = new_queue()
    q.add(unsched)
    assert popped(q) is unsched
    q.add(high)
    q.add_unschedulable_if_not_present(lookup(unsched, "plugin"), q.scheduling_cycle)
    assert q.nominator.nominated_pod_to_node == {"upns1": "node1", "hppns1": "node1"}
    assert nominated(q) == {"node1": ["hppns1", "upns1"]}
    assert popped(q) is high
    assert len(q.nominator.nominated_pods) == 1
    assert q.unschedulable_pods[unsched.key].pod is unsched


def test_add_unschedulable_if_not_present_refuses_queued_pods():
    """AddUnschedulableIfNotPresent's errors for a pod already in a queue."""
    q = new_queue()
    p = high_priority_pod()
    q.add(p)
    with pytest.raises(QueueError, match=r"^Pod ns1/hpp is already present in the active queue$"):
        q.add_unschedulable_if_not_present(lookup(p, "plugin"), 0)
    q.pop()
    q.add_unschedulable_if_not_present(lookup(p, "plugin"), 1)
    with pytest.raises(QueueError, match=r"^Pod ns1/hpp is already present in unschedulable queue$"):
        q.add_unschedulable_if_not_present(lookup(p, "plugin"), 1)
    q.move_all_to_active_or_backoff_queue(UNSCHEDULABLE_TIMEOUT)
    with pytest.raises(QueueError, match=r"^Pod ns1/hpp is already present in the backoff queue$"):
        q.add_unschedulable_if_not_present(lookup(p), 1)


def test_priority_queue_add_unschedulable_if_not_present_backoff():
    """TestPriorityQueue_AddUnschedulableIfNotPresent_Backoff: pods that failed in a cycle
    during which a move request arrived go to backoffQ."""
    q = new_queue()
    pods = [pod(f"pod{i}", f"ns{i}", f"upns{i}", i) for i in range(10)]
    for p in pods:
        q.add(p)
    for i in range(9, 0, -1):
        assert popped(q) is pods[i]
    q.move_all_to_active_or_backoff_queue(WILDCARD_EVENT)
    old_cycle = q.scheduling_cycle
    assert popped(q) is pods[0]
    for p in pods[1:]:
        q.add_unschedulable_if_not_present(lookup(p, "plugin"), old_cycle)
    for p in pods[1:]:
        assert q.backoff_q.get(p) is not None


def test_priority_queue_pop():
    """TestPriorityQueue_Pop (non-blocking here: an empty queue answers None)."""
    q = new_queue()
    assert q.pop() is None
    med = med_priority_pod()
    q.add(med)
    assert popped(q) is med
    assert len(q.nominator.nominated_pods["node1"]) == 1


UPDATE_CASES = [
    # (name, want queue, want added to nominated)
    ("add highPriorityPodInfo to activeQ", ACTIVE_Q, False),
    ("Update pod that didn't exist in the queue", ACTIVE_Q, False),
    ("Update highPriorityPodInfo and add a nominatedNodeName to it", ACTIVE_Q, True),
    ("When updating a pod that is already in activeQ, the pod should remain in activeQ after Update()", ACTIVE_Q,
     False),
    ("When updating a pod that is in backoff queue and is still backing off, it will be updated in backoff queue",
     BACKOFF_Q, False),
    ("when updating a pod which is in unschedulable queue and is backing off, it will be moved to backoff queue",
     BACKOFF_Q, False),
    ("when updating a pod which is in unschedulable queue and is not backing off, it will be moved to active queue",
     ACTIVE_Q, False),
]


@pytest.mark.parametrize("name,want_q,want_nominated", UPDATE_CASES, ids=[c[0] for c in UPDATE_CASES])
def test_priority_queue_update(name, want_q, want_nominated):
    """TestPriorityQueue_Update."""
    clock = FakeClock(100.0)
    q = new_queue(clock)
    high, med = high_priority_pod(), med_priority_pod()
    updated_med = copy.deepcopy(med)
    updated_med.metadata.annotations["foo"] = "test"
    if name.startswith("add highPriorityPodInfo"):
        old, new = None, high
    elif name.startswith("Update pod that didn't exist"):
        old, new = med, updated_med
    elif name.startswith("Update highPriorityPodInfo"):
        old, new = high, high_pri_nominated_pod()
    elif name.startswith("When updating a pod that is already in activeQ"):
        q.update(None, high)
        old, new = high, high
    elif name.startswith("When updating a pod that is in backoff queue"):
        q.backoff_q.add(QueuedPodInfo(PodInfo(med), timestamp=clock()))
        old, new = med, med
    else:
        q.unschedulable_pods[med.key] = QueuedPodInfo(PodInfo(med), timestamp=clock(), unschedulable_plugins={"plugin"})
        if "not backing off" in name:
            clock.step(q.pod_initial_backoff_seconds)
        old, new = med, updated_med
    q.update(old, new)
    assert q.where(new) == want_q
    holder = q.active_q.get(new) or q.backoff_q.get(new) or q.unschedulable_pods.get(new.key)
    assert holder.pod is new
    if want_nominated:
        assert len(q.nominator.nominated_pods) == 1


def test_priority_queue_delete():
    """TestPriorityQueue_Delete."""
    high, high_nominated, unsched = high_priority_pod(), high_pri_nominated_pod(), unschedulable_pod()
    q = new_queue()
    q.update(high, high_nominated)
    q.add(unsched)
    q.delete(high_nominated)
    assert q.active_q.get(unsched) is not None
    assert q.active_q.get(high_nominated) is None
    assert len(q.nominator.nominated_pods) == 1
    q.delete(unsched)
    assert len(q.nominator.nominated_pods) == 0


@pytest.mark.parametrize("where,want_active", [
    ("activeQ", 1),          # pod already in activeQ
    (None, 0),               # pod not in unschedulablePods/podBackoffQ
    ("unschedulable", 1),    # pod in unschedulablePods
    ("backoffQ", 1),         # pod in backoffQ
])
def test_priority_queue_activate(where, want_active):
    """TestPriorityQueue_Activate."""
    q = new_queue()
    p = high_pri_nominated_pod()
    qpi = QueuedPodInfo(PodInfo(p))
    if where == "activeQ":
        q.active_q.add(qpi)
    elif where == "unschedulable":
        q.unschedulable_pods[p.key] = qpi
    elif where == "backoffQ":
        q.backoff_q.add(qpi)
    q.activate([p])
    assert len(q.active_q) == want_active
    if want_active:
        assert q.active_q.get(p) is not None
        assert not q.unschedulable_pods and not len(q.backoff_q)


class AllowlistPreEnqueue:
    """``preEnqueuePlugin``: admits a pod carrying a label key on its allowlist."""

    name = "preEnqueuePlugin"

    def __init__(self, *allowlist: str) -> None:
        self.allowlist = allowlist

    def pre_enqueue(self, p: Pod) -> Status | None:
        if any(label in self.allowlist for label in p.metadata.labels):
            return None
        return Status.of(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, "pod name not in allowlists")


@pytest.mark.parametrize("plugins,pod_label,want_unschedulable,want_success", [
    ((), "p", 0, True),                                                            # no plugins registered
    ((AllowlistPreEnqueue(), AllowlistPreEnqueue()), "p", 1, False),               # pod name not in allowlists
    ((AllowlistPreEnqueue("foo", "bar"), AllowlistPreEnqueue("foo")), "bar", 1, False),  # failed one plugin
    ((AllowlistPreEnqueue("foo", "bar"), AllowlistPreEnqueue("bar")), "bar", 0, True),   # passed all plugins
])
def test_priority_queue_add_to_active_q(plugins, pod_label, want_unschedulable, want_success):
    """TestPriorityQueue_addToActiveQ: a gated pod parks in unschedulablePods and stays
    there after an update that does not lift the gate."""
    q = new_queue(pre_enqueue_plugins=plugins, pod_initial_backoff_seconds=30, pod_max_backoff_seconds=60)
    p = pod(pod_label, labels={pod_label: ""})
    q.add(p)
    assert (q.where(p) == ACTIVE_Q) == want_success
    assert len(q.unschedulable_pods) == want_unschedulable
    if not want_success:
        qpi = q.unschedulable_pods[p.key]
        assert qpi.gated and qpi.unschedulable_plugins == {"preEnqueuePlugin"}
    clone = copy.deepcopy(p)
    clone.metadata.annotations["foo"] = ""
    q.update(p, clone)
    assert len(q.unschedulable_pods) == want_unschedulable


class SchedulingGatesLike:
    """A PreEnqueue plugin gating pods that have scheduling gates, as SchedulingGates does."""

    name = "SchedulingGates"

    def pre_enqueue(self, p: Pod) -> Status | None:
        if p.spec.scheduling_gates:
            return Status.of(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, "waiting for scheduling gates")
        return None


def test_queued_pod_info_gated_set_upon_creation_and_unset_upon_update():
    """Test_queuedPodInfo_gatedSetUponCreationAndUnsetUponUpdate."""
    q = new_queue(pre_enqueue_plugins={"default-scheduler": [SchedulingGatesLike()]})
    gated = pod("gated")
    gated.spec.scheduling_gates = [{"name": "hello world"}]
    q.add(gated)
    assert q.unschedulable_pods[gated.key].gated
    ungated = copy.deepcopy(gated)
    ungated.spec.scheduling_gates = []
    q.update(gated, ungated)
    qpi = q.pop()
    assert qpi is not None and qpi.pod is ungated and not qpi.gated


def test_gated_pod_is_not_moved_by_cluster_events():
    """A gated pod waits for its own update: SchedulingGates registers Pod/Update only, and
    a move that does reach it re-runs PreEnqueue and parks it again."""
    q = SchedulingQueue(less, [SchedulingGatesLike()], FakeClock())
    gated = pod("gated")
    gated.spec.scheduling_gates = [{"name": "g"}]
    q.add(gated)
    q.move_all_to_active_or_backoff_queue(NODE_ADD)
    q.move_all_to_active_or_backoff_queue(UNSCHEDULABLE_TIMEOUT)
    assert q.where(gated) == UNSCHEDULABLE_PODS and q.unschedulable_pods[gated.key].gated
    assert q.pending_pods()[1] == "activeQ:0; backoffQ:0; unschedulablePods:1"


# -- moves on cluster events -----------------------------------------------------------


def test_priority_queue_move_all_to_active_or_backoff_queue_without_queueing_hint():
    """TestPriorityQueue_MoveAllToActiveOrBackoffQueueWithOutQueueingHint."""
    clock = FakeClock(1000.0)
    q = new_queue(clock, cluster_event_map={NODE_ADD: frozenset({"fooPlugin"})})
    med, unsched, high = med_priority_pod(), unschedulable_pod(), high_priority_pod()
    q.add(med)
    q.add_unschedulable_if_not_present(QueuedPodInfo(PodInfo(unsched), unschedulable_plugins={"fooPlugin"}),
                                       q.scheduling_cycle)
    q.add_unschedulable_if_not_present(QueuedPodInfo(PodInfo(high), unschedulable_plugins={"fooPlugin"}),
                                       q.scheduling_cycle)
    hpp1 = clone_pod(high, "hpp1")
    q.add_unschedulable_if_not_present(QueuedPodInfo(PodInfo(hpp1)), q.scheduling_cycle)  # no plugin: backoffQ
    hpp2 = clone_pod(high, "hpp2")
    q.add_unschedulable_if_not_present(QueuedPodInfo(PodInfo(hpp2), unschedulable_plugins={"barPlugin"}),
                                       q.scheduling_cycle)
    # NodeAdd moves the pods fooPlugin rejected to backoffQ; barPlugin did not register it.
    q.move_all_to_active_or_backoff_queue(NODE_ADD)
    assert len(q.active_q) == 1
    assert popped(q) is med
    assert len(q.backoff_q) == 3
    while len(q.backoff_q):
        q.backoff_q.pop()

    q.scheduling_cycle += 1
    hpp1_info = QueuedPodInfo(PodInfo(hpp1))
    for p, plugins in ((unsched, {"fooPlugin"}), (high, {"fooPlugin"})):
        q.add_unschedulable_if_not_present(QueuedPodInfo(PodInfo(p), unschedulable_plugins=plugins),
                                           q.scheduling_cycle)
    q.add_unschedulable_if_not_present(hpp1_info, q.scheduling_cycle)
    q.add(med)
    for p in (unsched, high, hpp2):
        assert p.key in q.unschedulable_pods
    assert q.backoff_q.get(hpp1) is hpp1_info

    clock.step(q.pod_initial_backoff_seconds)
    q.flush_backoff_q_completed()
    q.move_all_to_active_or_backoff_queue(NODE_ADD)
    assert len(q.active_q) == 4
    assert len(q.backoff_q) == 0
    assert list(q.unschedulable_pods) == [hpp2.key]


def test_priority_queue_assigned_pod_added():
    """TestPriorityQueue_AssignedPodAdded: an assigned pod matching a waiting pod's required
    affinity term moves that pod; others stay."""
    clock = FakeClock(1000.0)
    affinity_pod = pod("afp", "ns1", "afp", MEDIUM, nominated="node1", annotations={"annot2": "val2"})
    affinity_pod.spec.affinity = Affinity(pod_affinity=PodAffinity(required_during_scheduling_ignored_during_execution=[
        PodAffinityTerm(label_selector=LabelSelector(match_expressions=[LabelSelectorRequirement("service", "Exists")]),
                        topology_key="region")]))
    label_pod = pod("lbp", "ns1", labels={"service": "securityscan"}, node="node1")
    q = new_queue(clock, cluster_event_map={ASSIGNED_POD_ADD: frozenset({"fakePlugin"})})
    unsched = unschedulable_pod()
    for p in (unsched, affinity_pod):
        q.active_q.add(QueuedPodInfo(PodInfo(p), timestamp=clock()))
        assert popped(q) is p
    q.add(med_priority_pod())
    for p in (unsched, affinity_pod):
        q.add_unschedulable_if_not_present(QueuedPodInfo(PodInfo(p), timestamp=clock(),
                                                         unschedulable_plugins={"fakePlugin"}), q.scheduling_cycle)
    clock.step(DEFAULT_POD_INITIAL_BACKOFF_SECONDS + 1)
    q.assigned_pod_added(label_pod)
    assert affinity_pod.key not in q.unschedulable_pods
    assert q.active_q.get(affinity_pod) is not None
    assert unsched.key in q.unschedulable_pods


def test_assigned_pod_added_respects_registrations():
    """The affinity pre-filter only offers the event: a pod rejected by a plugin that did not
    register AssignedPodAdd stays put."""
    clock = FakeClock(1000.0)
    waiting = pod("w", "ns1")
    waiting.spec.affinity = Affinity(pod_affinity=PodAffinity(required_during_scheduling_ignored_during_execution=[
        PodAffinityTerm(label_selector=LabelSelector(match_labels={"app": "db"}), topology_key="zone")]))
    q = new_queue(clock, cluster_event_map=events.DEFAULT_CLUSTER_EVENT_MAP)
    fail(q, waiting, "NodeAffinity")
    clock.step(60)
    q.assigned_pod_added(pod("db", "ns1", labels={"app": "db"}, node="n1"))
    assert q.where(waiting) == UNSCHEDULABLE_PODS
    q.unschedulable_pods[waiting.key].unschedulable_plugins = {"InterPodAffinity"}
    q.assigned_pod_added(pod("db", "ns1", labels={"app": "db"}, node="n1"))
    assert q.where(waiting) == ACTIVE_Q


def test_priority_queue_pending_pods():
    """TestPriorityQueue_PendingPods."""
    q = new_queue()
    unsched, high, med = unschedulable_pod(), high_priority_pod(), med_priority_pod()
    for p in (unsched, high):
        q.active_q.add(QueuedPodInfo(PodInfo(p)))
        assert popped(q) is p
    q.add(med)
    q.add_unschedulable_if_not_present(QueuedPodInfo(PodInfo(unsched), unschedulable_plugins={"plugin"}),
                                       q.scheduling_cycle)
    q.add_unschedulable_if_not_present(QueuedPodInfo(PodInfo(high), unschedulable_plugins={"plugin"}),
                                       q.scheduling_cycle)
    pods, summary = q.pending_pods()
    assert {p.key for p in pods} == {med.key, unsched.key, high.key}
    assert summary == "activeQ:1; backoffQ:0; unschedulablePods:2"
    q.move_all_to_active_or_backoff_queue(TEST_EVENT)
    pods, summary = q.pending_pods()
    assert {p.key for p in pods} == {med.key, unsched.key, high.key}
    assert summary == "activeQ:1; backoffQ:2; unschedulablePods:0"


# -- the nominator ---------------------------------------------------------------------


def test_priority_queue_nominated_pods_for_node():
    """TestPriorityQueue_NominatedPodsForNode (the list is the caller's to change)."""
    med, unsched, high = med_priority_pod(), unschedulable_pod(), high_priority_pod()
    q = new_queue()
    for p in (med, unsched, high):
        q.add(p)
    assert popped(q) is high
    infos = q.nominated_pods_for_node("node1")
    assert [i.pod for i in infos] == [med, unsched]
    infos.clear()
    assert len(q.nominated_pods_for_node("node1")) == 2
    assert q.nominated_pods_for_node("node2") == []


@pytest.mark.parametrize("make,deleted,want", [
    (med_priority_pod, False, True),           # alive pod gets added into PodNominator
    (high_pri_nominated_pod, True, False),     # deleted pod shouldn't be added into PodNominator
    (high_priority_pod, False, False),         # pod without .status.nominatedNodeName specified
])
def test_priority_queue_nominated_pod_deleted(make, deleted, want):
    """TestPriorityQueue_NominatedPodDeleted."""
    p = make()
    live = {} if deleted else {p.key: p}
    q = SchedulingQueue(less, (), FakeClock(), pod_lister=lambda x: live.get(x.key))
    q.add_nominated_pod(PodInfo(p))
    assert (len(q.nominated_pods_for_node(p.status.nominated_node_name)) == 1) == want


def test_priority_queue_update_nominated_pod_for_node():
    """TestPriorityQueue_UpdateNominatedPodForNode."""
    med, unsched, high = med_priority_pod(), unschedulable_pod(), high_priority_pod()
    scheduled = pod("sp", "ns1", "spns1", node="foo")
    non_existent = pod("ne", "ns1", "nens1")
    live = {p.key: p for p in (med, unsched, high, scheduled)}
    q = SchedulingQueue(less, (), FakeClock(), cluster_event_map={}, pod_lister=lambda x: live.get(x.key))
    q.add(med)
    q.add_nominated_pod(PodInfo(unsched), "node5")
    q.add_nominated_pod(PodInfo(high), "node2")
    want_to_node = {"mppns2": "node1", "hppns1": "node2", "upns1": "node5"}
    assert q.nominator.nominated_pod_to_node == want_to_node
    assert nominated(q) == {"node1": ["mppns2"], "node2": ["hppns1"], "node5": ["upns1"]}
    assert popped(q) is med
    assert q.nominator.nominated_pod_to_node == want_to_node
    q.add_nominated_pod(PodInfo(high), "node4")
    assert nominated(q) == {"node1": ["mppns2"], "node4": ["hppns1"], "node5": ["upns1"]}
    q.add_nominated_pod(PodInfo(non_existent), "node1")
    assert nominated(q) == {"node1": ["mppns2"], "node4": ["hppns1"], "node5": ["upns1"]}
    unbound_copy = copy.deepcopy(scheduled)
    unbound_copy.spec.node_name = ""
    q.add_nominated_pod(PodInfo(unbound_copy), "node1")  # the live pod is bound
    assert nominated(q) == {"node1": ["mppns2"], "node4": ["hppns1"], "node5": ["upns1"]}
    q.delete_nominated_pod_if_exists(high)
    assert q.nominator.nominated_pod_to_node == {"mppns2": "node1", "upns1": "node5"}
    assert nominated(q) == {"node1": ["mppns2"], "node5": ["upns1"]}


def test_update_nominated_pod_keeps_in_memory_nomination():
    """updateNominatedPodUnlocked: an update that names no node keeps the node preemption
    nominated in memory; one that names a node replaces it."""
    q = new_queue()
    p = pod("p", "ns", "p")
    q.add_nominated_pod(PodInfo(p), "node3")
    q.update_nominated_pod(p, PodInfo(copy.deepcopy(p)))
    assert nominated(q) == {"node3": ["p"]}
    moved = copy.deepcopy(p)
    moved.status.nominated_node_name = "node7"
    q.update_nominated_pod(p, PodInfo(moved))
    assert nominated(q) == {"node7": ["p"]}


def test_priority_queue_new_with_options():
    """TestPriorityQueue_NewWithOptions."""
    q = SchedulingQueue(less, (), FakeClock(), pod_initial_backoff_seconds=2, pod_max_backoff_seconds=20)
    assert (q.pod_initial_backoff_seconds, q.pod_max_backoff_seconds) == (2, 20)
    assert q.pod_max_in_unschedulable_pods_duration == DEFAULT_POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION == 300


# -- ordering, backoff and flushing ----------------------------------------------------


def test_recently_tried_pods_go_back():
    """TestRecentlyTriedPodsGoBack."""
    clock = FakeClock(1000.0)
    q = new_queue(clock)
    for i in range(5):
        q.add(pod(f"test-pod-{i}", "ns1", f"tp00{i}", HIGH, nominated="node1", node="node1"))
    clock.step(1e-6)
    p1 = q.pop()
    p1.unschedulable_plugins = {"plugin"}
    q.add_unschedulable_if_not_present(p1, q.scheduling_cycle)
    clock.step(DEFAULT_POD_INITIAL_BACKOFF_SECONDS)
    q.move_all_to_active_or_backoff_queue(UNSCHEDULABLE_TIMEOUT)
    for i in range(5):
        assert (i == 4) == (q.pop() is p1)


def test_pod_failed_scheduling_multiple_times_does_not_block_newer_pod():
    """TestPodFailedSchedulingMultipleTimesDoesNotBlockNewerPod."""
    clock = FakeClock(1000.0)
    q = new_queue(clock)
    unsched = pod("test-pod-unscheduled", "ns1", "tp001", HIGH, nominated="node1")
    q.active_q.add(QueuedPodInfo(PodInfo(unsched), timestamp=clock()))
    assert popped(q) is unsched
    q.add_unschedulable_if_not_present(lookup(unsched, "plugin"), q.scheduling_cycle)
    clock.step(DEFAULT_POD_INITIAL_BACKOFF_SECONDS + 1)
    q.move_all_to_active_or_backoff_queue(UNSCHEDULABLE_TIMEOUT)
    assert popped(q) is unsched
    newer = pod("test-newer-pod", "ns1", "tp002", HIGH, nominated="node1")
    q.add(newer)
    q.add_unschedulable_if_not_present(lookup(unsched, "plugin"), q.scheduling_cycle)
    clock.step(DEFAULT_POD_INITIAL_BACKOFF_SECONDS + 1)
    q.move_all_to_active_or_backoff_queue(UNSCHEDULABLE_TIMEOUT)
    assert popped(q) is newer


def test_high_priority_backoff():
    """TestHighPriorityBackoff: an unschedulable high-priority pod does not block others."""
    q = new_queue()
    mid = pod("test-midpod", "ns1", "tp-mid", MID, nominated="node1")
    high = pod("test-highpod", "ns1", "tp-high", HIGH, nominated="node1")
    q.add(mid)
    q.add(high)
    p = q.pop()
    assert p.pod is high
    q.add_unschedulable_if_not_present(p, q.scheduling_cycle)
    q.move_all_to_active_or_backoff_queue(TEST_EVENT)
    assert popped(q) is mid


def test_high_priority_flush_unschedulable_pods_leftover():
    """TestHighPriorityFlushUnschedulablePodsLeftover."""
    clock = FakeClock(1000.0)
    q = new_queue(clock, cluster_event_map={NODE_ADD: frozenset({"fakePlugin"})})
    mid = pod("test-midpod", "ns1", "tp-mid", MID, nominated="node1")
    high = pod("test-highpod", "ns1", "tp-high", HIGH, nominated="node1")
    for p in (high, mid):
        q.active_q.add(QueuedPodInfo(PodInfo(p), timestamp=clock()))
        assert popped(q) is p
    for p in (high, mid):
        q.add_unschedulable_if_not_present(QueuedPodInfo(PodInfo(p), unschedulable_plugins={"fakePlugin"}),
                                           q.scheduling_cycle)
    clock.step(DEFAULT_POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION + 1)
    q.flush_unschedulable_pods_leftover()
    assert [popped(q), popped(q)] == [high, mid]


def test_flush_unschedulable_pods_leftover_needs_more_than_the_duration():
    """flushUnschedulablePodsLeftover compares with ``>``: exactly 5 minutes is not enough."""
    clock = FakeClock(1000.0)
    q = new_queue(clock, cluster_event_map={NODE_ADD: frozenset({"fakePlugin"})})
    p = pod("p", "ns1")
    fail(q, p, "fakePlugin")
    clock.step(DEFAULT_POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION)
    q.flush_unschedulable_pods_leftover()
    assert q.where(p) == UNSCHEDULABLE_PODS
    clock.step(0.5)
    q.flush_unschedulable_pods_leftover()
    assert q.where(p) == ACTIVE_Q


@pytest.mark.parametrize("duration", [None, 30.0])
def test_priority_queue_init_pod_max_in_unschedulable_pods_duration(duration):
    """TestPriorityQueue_initPodMaxInUnschedulablePodsDuration."""
    clock = FakeClock(1000.0)
    kw = {} if duration is None else {"pod_max_in_unschedulable_pods_duration": duration}
    q = new_queue(clock, **kw)
    p1 = QueuedPodInfo(PodInfo(pod("test-pod-1", "ns1", "tp-1", nominated="node1")), timestamp=clock() - 1)
    p2 = QueuedPodInfo(PodInfo(pod("test-pod-2", "ns2", "tp-2", nominated="node2")), timestamp=clock() - 2)
    for qpi in (p1, p2):
        q.unschedulable_pods[qpi.pod.key] = qpi
    clock.step(q.pod_max_in_unschedulable_pods_duration)
    q.flush_unschedulable_pods_leftover()
    assert len(q.active_q) == 2
    assert [q.active_q.pop(), q.active_q.pop()] == [p2, p1]


def _timestamp_infos(clock: FakeClock) -> tuple[QueuedPodInfo, QueuedPodInfo]:
    p1 = QueuedPodInfo(PodInfo(pod("test-pod-1", "ns1", "tp-1", nominated="node1")), timestamp=clock())
    p2 = QueuedPodInfo(PodInfo(pod("test-pod-2", "ns2", "tp-2", nominated="node2")), timestamp=clock() + 1)
    return p1, p2


@pytest.mark.parametrize("case", [
    "add two pod to activeQ and sort them by the timestamp",
    "update two pod to activeQ and sort them by the timestamp",
    "add two pod to unschedulablePods then move them to activeQ and sort them by the timestamp",
    "add one pod to BackoffQ and move it to activeQ",
])
def test_pod_timestamp(case):
    """TestPodTimestamp."""
    clock = FakeClock(1000.0)
    q = new_queue(clock)
    p1, p2 = _timestamp_infos(clock)
    if case.startswith(("add two pod to activeQ", "update two pod")):
        q.active_q.add(p2)
        q.active_q.add(p1)
    elif case.startswith("add two pod to unschedulablePods"):
        q.unschedulable_pods[p2.pod.key] = p2
        q.unschedulable_pods[p1.pod.key] = p1
        clock.step(2)
        q.move_all_to_active_or_backoff_queue(UNSCHEDULABLE_TIMEOUT)
    else:
        q.active_q.add(p2)
        q.backoff_q.add(p1)
        clock.step(2)
        q.flush_backoff_q_completed()
        q.move_all_to_active_or_backoff_queue(UNSCHEDULABLE_TIMEOUT)
    assert len(q.active_q) == 2
    assert [q.active_q.pop(), q.active_q.pop()] == [p1, p2]


@pytest.mark.parametrize("scenario,want_attempts,want_initial", [
    ("pod is created and scheduled after 1 attempt", 1, 1000.0),
    ("pod is created and scheduled after 2 attempts", 2, 1000.0),
    ("pod is created and scheduled after 2 attempts but before the second pop, call update", 2, 1000.0),
    ("A gated pod is created and scheduled after lifting gate", 1, 1060.0),
])
def test_per_pod_scheduling_metrics(scenario, want_attempts, want_initial):
    """TestPerPodSchedulingMetrics: attempts count pops; the initial attempt timestamp is
    when the pod first entered activeQ."""
    clock = FakeClock(1000.0)
    gated = scenario.startswith("A gated pod")
    q = new_queue(clock, pre_enqueue_plugins=[AllowlistPreEnqueue("foo")] if gated else ())
    p = pod("test-pod", "test-ns", "test-uid")
    q.add(p)
    if gated:
        assert q.unschedulable_pods[p.key].pod is p
        clock.step(60)
        lifted = copy.deepcopy(p)
        lifted.metadata.labels = {"foo": ""}
        q.update(p, lifted)
    elif "2 attempts" in scenario:
        qpi = q.pop()
        qpi.unschedulable_plugins = {"plugin"}
        q.add_unschedulable_if_not_present(qpi, 1)
        clock.now = 1000.0 + DEFAULT_POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION + 1e-9
        q.flush_unschedulable_pods_leftover()
        if "call update" in scenario:
            new = copy.deepcopy(p)
            new.metadata.generation = 1
            q.update(p, new)
    qpi = q.pop()
    assert qpi.attempts == want_attempts
    assert qpi.initial_attempt_timestamp == want_initial


def test_backoff_flow():
    """TestBackOffFlow: 1, 2, 4, 8, 10, 10, 10 seconds."""
    clock = FakeClock(1000.0)
    q = new_queue(clock)
    p = pod("test-pod", "test-ns", "test-uid")
    q.add(p)
    for i, want in enumerate([1, 2, 4, 8, 10, 10, 10]):
        timestamp = clock()
        qpi = q.pop()
        assert qpi.attempts == i + 1
        q.add_unschedulable_if_not_present(qpi, i)
        q.move_all_to_active_or_backoff_queue(UNSCHEDULABLE_TIMEOUT)
        assert q.backoff_q.get(p) is qpi
        backoff = q.backoff_time(qpi) - timestamp
        assert backoff == pytest.approx(want, abs=1e-9)
        assert q.next_backoff_time() == q.backoff_time(qpi)
        clock.step(0.001)
        q.flush_backoff_q_completed()
        assert q.backoff_q.get(p) is qpi
        clock.step(backoff)
        q.flush_backoff_q_completed()
        assert q.backoff_q.get(p) is None and q.where(p) == ACTIVE_Q


def test_backoff_sequence_vector():
    """The public conformance vector of kind ``backoff_sequence``."""
    cases = [c for c in json.loads(VECTORS.read_text())["cases"] if c["kind"] == "backoff_sequence"]
    assert cases
    for case in cases:
        got = [calculate_backoff_duration(k, case["initial_seconds"], case["max_seconds"])
               for k in range(1, len(case["expected"]["backoff_seconds_by_attempt"]) + 1)]
        assert got == case["expected"]["backoff_seconds_by_attempt"]


@pytest.mark.parametrize("name,pre_check,want", [
    ("nil PreEnqueueCheck", None, ["p0", "p1", "p2", "p3", "p4"]),
    ("move Pods with priority greater than 2", lambda p: p.spec.priority >= 2, ["p2", "p3", "p4"]),
    ("move Pods with even priority and greater than 2", lambda p: p.spec.priority % 2 == 0 and p.spec.priority >= 2,
     ["p2", "p4"]),
    ("move Pods with even and negative priority", lambda p: p.spec.priority % 2 == 0 and p.spec.priority < 0, []),
])
def test_move_all_to_active_or_backoff_queue_pre_enqueue_checks(name, pre_check, want):
    """TestMoveAllToActiveOrBackoffQueue_PreEnqueueChecks."""
    clock = FakeClock(1000.0)
    q = new_queue(clock)
    infos = [lookup(pod(f"p{i}", priority=i)) for i in range(5)]
    for i, info in enumerate(infos):
        q.active_q.add(QueuedPodInfo(PodInfo(info.pod), timestamp=clock()))
        assert popped(q) is info.pod
        info.unschedulable_plugins = {"plugin"}
        q.add_unschedulable_if_not_present(info, q.scheduling_cycle)
        info.timestamp += (i - len(infos)) * 0.001
    q.move_all_to_active_or_backoff_queue(TEST_EVENT, pre_check)
    got = []
    while len(q.backoff_q):
        got.append(q.backoff_q.pop().pod.metadata.name)
    assert got == want


@pytest.mark.parametrize("initial,maximum,attempts,want", [
    (1, 32, 16, 32),                    # normal
    (1, 2**31 - 1, 32, 2**31 - 1),      # overflow_32bit
    (1, 2**63 - 1, 64, 2**63 - 1),      # overflow_64bit
])
def test_calculate_backoff_duration(initial, maximum, attempts, want):
    """TestPriorityQueue_calculateBackoffDuration (durations in nanoseconds there)."""
    assert calculate_backoff_duration(attempts, initial, maximum) == want


def test_requeue_decisions():
    """isPodWorthRequeuing without hints: no rejecting plugin or a wildcard moves any pod;
    otherwise an event a rejecting plugin registered for; an unknown profile moves all."""
    clock = FakeClock(1000.0)
    registered = {NODE_ADD: frozenset({"fooPlugin1"}), ASSIGNED_POD_ADD: frozenset({"fooPlugin2"})}
    for plugins, event, want in [
        ((), NODE_ADD, ACTIVE_Q),
        (("fooPlugin1",), NODE_ADD, ACTIVE_Q),
        (("fooPlugin1",), ASSIGNED_POD_ADD, UNSCHEDULABLE_PODS),
        (("fooPlugin1",), events.NODE_LABEL_CHANGE, UNSCHEDULABLE_PODS),  # Add and UpdateNodeLabel share no bit
        (("fooPlugin2",), WILDCARD_EVENT, ACTIVE_Q),
    ]:
        q = new_queue(clock, cluster_event_map=registered)
        p = pod("p", "ns")
        q.unschedulable_pods[p.key] = QueuedPodInfo(PodInfo(p), timestamp=clock() - 60,
                                                    unschedulable_plugins=set(plugins))
        q.move_all_to_active_or_backoff_queue(event)
        assert q.where(p) == want, (plugins, event)
    q = new_queue(clock, cluster_event_map={"other-profile": registered})
    p = pod("p", "ns")
    q.unschedulable_pods[p.key] = QueuedPodInfo(PodInfo(p), timestamp=clock() - 60, unschedulable_plugins={"x"})
    q.move_all_to_active_or_backoff_queue(TEST_EVENT)
    assert q.where(p) == ACTIVE_Q


def test_move_request_cycle_is_recorded_by_every_move():
    """A move request records the current cycle even when it moves nothing, so a pod whose
    attempt was in flight goes to backoffQ instead of waiting for another event."""
    q = new_queue(cluster_event_map={NODE_ADD: frozenset({"NodeResourcesFit"})})
    p = pod("p", "ns")
    q.add(p)
    qpi = q.pop()
    cycle = q.scheduling_cycle
    q.move_all_to_active_or_backoff_queue(NODE_ADD)
    assert q.move_request_cycle == cycle
    qpi.unschedulable_plugins = {"NodeResourcesFit"}
    q.add_unschedulable_if_not_present(qpi, cycle)
    assert q.where(p) == BACKOFF_Q


def test_is_pod_updated_ignores_status_and_bookkeeping():
    """isPodUpdated: status, resourceVersion, generation, finalizers do not count."""
    p = pod("p", "ns")
    q = copy.deepcopy(p)
    q.status.phase = "Pending"
    q.metadata.resource_version = "7"
    q.metadata.generation = 3
    q.metadata.finalizers = ["x"]
    assert not is_pod_updated(p, q)
    q.metadata.labels["a"] = "b"
    assert is_pod_updated(p, q)


# -- cluster events (events.go, eventhandlers.go) --------------------------------------


def node(labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None,
         unschedulable: bool = False, taints: list[Taint] | None = None,
         allocatable: dict[str, str] | None = None, conditions: list[NodeCondition] | None = None) -> Node:
    n = Node(metadata=ObjectMeta(name="n", labels=dict(labels or {}), annotations=dict(annotations or {})))
    n.spec.unschedulable = unschedulable
    n.spec.taints = list(taints or [])
    n.status.allocatable = {k: Quantity(v) for k, v in (allocatable or {}).items()}
    n.status.conditions = list(conditions or [])
    return n


UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"

NODE_CHANGE_CASES = [
    ("no specific changed applied", node(), node(), []),
    ("only node spec unavailable changed", node(unschedulable=False), node(unschedulable=True),
     ["NodeSpecUnschedulableChange"]),
    ("node becoming unschedulable is no event", node(unschedulable=True), node(unschedulable=False), []),
    ("only node allocatable changed",
     node(allocatable={"cpu": "1000m", "memory": "100m", "example.com/foo": "1"}),
     node(allocatable={"cpu": "1000m", "memory": "100m", "example.com/foo": "2"}), ["NodeAllocatableChange"]),
    ("only node label changed", node(labels={"foo": "bar"}), node(labels={"foo": "fuz"}), ["NodeLabelChange"]),
    ("only node taint changed", node(taints=[Taint(UNSCHEDULABLE_TAINT, "", "NoSchedule")]),
     node(taints=[Taint(UNSCHEDULABLE_TAINT, "foo", "NoSchedule")]), ["NodeTaintChange"]),
    ("only node annotation changed", node(annotations={"foo": "bar"}), node(annotations={"foo": "fuz"}),
     ["NodeAnnotationChange"]),
    ("only node condition changed", node(), node(conditions=[NodeCondition("Ready", "True", reason="Ready")]),
     ["NodeConditionChange"]),
    ("condition heartbeat only is no change",
     node(conditions=[NodeCondition("Ready", "True", last_heartbeat_time="2023-01-01T00:00:01Z")]),
     node(conditions=[NodeCondition("Ready", "True", last_heartbeat_time="2023-01-01T00:00:00Z")]), []),
    ("both node label and node taint changed",
     node(labels={"foo": "bar"}, taints=[Taint(UNSCHEDULABLE_TAINT, "", "NoSchedule")]),
     node(taints=[Taint(UNSCHEDULABLE_TAINT, "foo", "NoSchedule")]), ["NodeLabelChange", "NodeTaintChange"]),
]


@pytest.mark.parametrize("name,new,old,want", NODE_CHANGE_CASES, ids=[c[0] for c in NODE_CHANGE_CASES])
def test_node_scheduling_properties_change(name, new, old, want):
    """TestNodeSchedulingPropertiesChange (eventhandlers_test.go)."""
    assert [e.label for e in node_scheduling_properties_change(new, old)] == want


def test_cluster_event_matching():
    """ActionType bits and podMatchesEvent's rule: same resource and a shared bit, or a
    wildcard registration; a wildcard event is not matched by a specific registration."""
    assert ActionType.UPDATE & ActionType.UPDATE_NODE_TAINT
    assert not ActionType.ADD & ActionType.DELETE
    assert ActionType.ALL & ActionType.DELETE
    assert ClusterEvent("Node", ActionType.ADD | ActionType.UPDATE).matches(events.NODE_TAINT_CHANGE)
    assert not ClusterEvent("Node", ActionType.ADD).matches(events.NODE_DELETE)
    assert not ClusterEvent("Pod", ActionType.ALL).matches(NODE_ADD)
    assert ClusterEvent("*", ActionType.ALL).matches(NODE_ADD)
    assert UNSCHEDULABLE_TIMEOUT.is_wildcard() and not NODE_ADD.is_wildcard()
    assert ASSIGNED_POD_ADD == ClusterEvent("Pod", ActionType.ADD)  # labels do not take part


def test_default_event_map():
    """v1.28's EventsToRegister: who wakes up on what."""
    m = events.DEFAULT_CLUSTER_EVENT_MAP

    def interested(event: ClusterEvent) -> set[str]:
        return {name for reg, names in m.items() if reg.matches(event) for name in names}

    assert interested(events.ASSIGNED_POD_DELETE) == {
        "NodePorts", "NodeResourcesFit", "VolumeRestrictions", "EBSLimits", "GCEPDLimits", "AzureDiskLimits",
        "NodeVolumeLimits", "PodTopologySpread", "InterPodAffinity"}
    assert interested(events.NODE_TAINT_CHANGE) == {"NodeUnschedulable", "NodeName", "TaintToleration",
                                                    "NodeAffinity", "NodePorts", "NodeResourcesFit"}
    assert "SchedulingGates" in interested(events.ASSIGNED_POD_UPDATE)
    assert "SchedulingGates" not in interested(NODE_ADD)
    assert "ImageLocality" not in interested(NODE_ADD)


def test_plugins_without_registrations_get_every_event():
    """fillEnqueueExtensions: a plugin without EventsToRegister hears everything; one with
    its own method is asked."""

    class Custom:
        name = "Custom"

        def events_to_register(self):
            return [ClusterEvent("Node", ActionType.DELETE)]

    m = cluster_event_map(["Unknown", Custom()])
    assert {e.resource for e, names in m.items() if "Unknown" in names} == set(events.ALL_GVKS)
    assert [e for e, names in m.items() if "Custom" in names] == [ClusterEvent("Node", ActionType.DELETE)]
