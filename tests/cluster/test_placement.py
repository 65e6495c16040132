"""KubeScheduler against the real API server and embedded etcd, with hand-made Nodes and the
node lifecycle controller that keeps their NoSchedule taints (so a Ready node is free of the
``not-ready`` taint every Node is created with)."""

from __future__ import annotations

from sched_bench import Harness

from kbook.api import Taint, Toleration
from kbook.controlplane.controllers.timeutil import rfc3339
from kbook.faults import Faults


def test_binds_to_the_least_allocated_node_that_fits():
    h = Harness()
    h.node("tiny", cpu="1")
    h.node("small", cpu="4")
    h.node("big", cpu="8")
    h.start()
    h.pod("a", cpu="2")  # does not fit on tiny; LeastAllocated and BalancedAllocation prefer big
    h.env.run(until=1)
    assert h.placements() == {"a": "big"}
    assert h.records("Scheduled") == [(0.0, "pod/default/a", "Successfully assigned default/a to big")]
    pod = h.api.get("Pod", "a")
    assert [(c.type, c.status) for c in pod.status.conditions] == [("PodScheduled", "True")]


def test_spreads_equal_pods_over_equal_nodes():
    h = Harness()
    for i in range(3):
        h.node(f"n{i}")
    h.start()
    for i in range(6):
        h.pod(f"p{i}", cpu="500m")
    h.env.run(until=1)
    assert sorted(list(h.placements().values()).count(n) for n in ("n0", "n1", "n2")) == [2, 2, 2]


def test_unschedulable_pod_backs_off_1_2_4_8_10_seconds():
    """Rejected by plugins, the pod waits in unschedulablePods until an event its plugins
    registered for (here: assigned pods deleted every 0.5 s) moves it to backoffQ, which
    releases it when its backoff (1 s doubling to 10 s) is over, on the 1 s flush."""
    h = Harness()
    h.node("n0", cpu="1")
    h.node("n1", cpu="2", ready=False)  # keeps node.kubernetes.io/not-ready:NoSchedule
    h.start()
    h.pod("huge", cpu="3")

    def churn():
        for i in range(200):
            yield h.env.timeout(0.5)
            h.pod(f"churn-{i}", cpu="0", memory="0", node_name="n0")
            h.api.delete("Pod", f"churn-{i}", grace_period_seconds=0)

    h.env.process(churn())
    h.env.run(until=26)
    failed = h.records("FailedScheduling")
    assert [t for t, _, _ in failed] == [0, 1, 3, 7, 15, 25]
    assert {detail for _, _, detail in failed} == {
        "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. "
        "preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, "
        "1 Preemption is not helpful for scheduling.."}  # FitError adds "." to the PostFilter message
    cond = h.api.get("Pod", "huge").status.conditions[0]
    assert (cond.type, cond.status, cond.reason, cond.message) == ("PodScheduled", "False", "Unschedulable",
                                                                  failed[-1][2])
    assert cond.last_transition_time == rfc3339(0)  # the status stayed False
    h.node("n2", cpu="4")  # a new node: the pod waits out its backoff, then fits
    h.env.run(until=40)
    assert h.placements()["huge"] == "n2"
    assert h.records("Scheduled")[0][0] == 35
    assert h.scheduler.stats.attempts == 7 and h.scheduler.stats.unschedulable == 6


def test_fit_error_names_every_short_resource_of_a_node():
    h = Harness()
    h.node("tiny", cpu="1", memory="1Gi")
    h.node("cordoned", cpu="8", memory="8Gi")
    h.api.patch("Node", "cordoned", {"spec": {"unschedulable": True}})
    h.start()
    h.pod("big", cpu="2", memory="2Gi")
    h.env.run(until=0.5)
    assert h.records("FailedScheduling")[0][2] == (
        "0/2 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 node(s) were unschedulable. "
        "preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, "
        "1 Preemption is not helpful for scheduling..")


def test_taints_tolerations_and_node_selector():
    h = Harness()
    h.node("tainted", cpu="8", taints=[Taint(key="dedicated", value="gpu", effect="NoSchedule")])
    h.node("plain", cpu="2", labels={"disk": "hdd"})
    h.node("ssd", cpu="1", labels={"disk": "ssd"})
    h.start()
    h.pod("any", cpu="500m")
    h.pod("tolerant", cpu="500m",
          tolerations=[Toleration(key="dedicated", operator="Equal", value="gpu", effect="NoSchedule")])
    h.pod("picky", cpu="500m", node_selector={"disk": "ssd"})
    h.pod("lost", cpu="500m", node_selector={"disk": "nvme"})
    h.env.run(until=1)
    assert h.placements() == {"any": "plain", "tolerant": "tainted", "picky": "ssd", "lost": ""}
    assert h.records("FailedScheduling") == [(0.0, "pod/default/lost", (
        "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, "
        "2 node(s) didn't match Pod's node affinity/selector. "
        "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.."))]


def test_fit_counts_bound_pods_and_frees_deleted_ones():
    h = Harness()
    h.node("n0", cpu="2", pods=2)
    h.start()
    for name in ("a", "b", "c"):
        h.pod(name, cpu="500m")
    h.env.run(until=0.5)
    assert h.placements() == {"a": "n0", "b": "n0", "c": ""}
    assert h.records("FailedScheduling")[0][2] == (
        "0/1 nodes are available: 1 Too many pods. "
        "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod..")
    h.api.delete("Pod", "a", grace_period_seconds=0)  # AssignedPodDelete: c moves, after its 1 s backoff
    h.env.run(until=2)
    assert h.placements() == {"b": "n0", "c": "n0"}
    assert h.records("Scheduled")[-1][:2] == (1.0, "pod/default/c")


def test_lists_again_after_a_watch_times_out_and_retries_dropped_requests():
    h = Harness(faults=Faults(drop=0.3, watch_timeout=5))
    h.node("n0", cpu="64", memory="64Gi")
    h.start()

    def arrivals():
        for i in range(20):
            h.pod(f"p{i}", cpu="100m")
            yield h.env.timeout(1)

    h.env.process(arrivals())
    h.env.run(until=60)
    assert all(h.placements().values())
    verbs = {r.verb for r in h.log.records}
    assert {"WatchTimeout", "WatchClosed", "Drop", "ListAndWatchFailed", "FailedScheduling"} <= verbs
    bind_failures = [d for _, _, d in h.records("FailedScheduling")]
    assert bind_failures and all(d == 'running Bind plugin "DefaultBinder": Timeout: request did not complete '
                                      "within requested timeout - context deadline exceeded" for d in bind_failures)
    assert h.scheduler.stats.scheduled == 20 and h.scheduler.stats.errors == len(bind_failures)


def test_same_seed_same_choices():
    def run(seed: int) -> dict[str, str]:
        h = Harness(seed)
        for i in range(5):
            h.node(f"n{i}")
        h.start()
        for i in range(20):
            h.pod(f"p{i}", cpu="100m")
        h.env.run(until=1)
        return h.placements()

    assert run(3) == run(3)
    assert run(3) != run(4)
