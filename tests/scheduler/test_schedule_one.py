"""Scheduling one pod: node sampling, selectHost, schedulePod with fake and real plugins,
the scheduling and binding cycles, and the informer event handlers; ported from upstream
(v1.28 pkg/scheduler/schedule_one_test.go, eventhandlers_test.go; each test names its Go test)."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from fake_plugins import (
    FilterOnly, Injected, ScoreOnly, TestPlugin, node, plugin_set, pod, profile, registry_of,
)
from kbook.api import Taint
from kbook.scheduler.config import ConfigError, KubeSchedulerConfiguration, Plugin, Plugins, PluginSet, Profile
from kbook.scheduler.cyclestate import CycleState
from kbook.scheduler.framework import Framework, PluginError, StaticHost
from kbook.scheduler.schedule_one import (
    EmptyPriorityListError, NoNodesAvailableError, ReferenceEngine, Scheduler, SchedulingError,
    num_feasible_nodes_to_find, select_host,
)
from kbook.scheduler.status import Code, Status
from kbook.scheduler.types import FitError, NodePluginScores, PostFilterResult


# -- numFeasibleNodesToFind, selectHost -----------------------------------------------------------

@pytest.mark.parametrize("profile_pct, global_pct, nodes, want", [
    # TestNumFeasibleNodesToFind
    (None, 0, 10, 10),
    (40, 0, 10, 10),
    (None, 0, 1000, 420),
    (40, 0, 1000, 400),
    (None, 40, 1000, 400),
    (40, 100, 1000, 400),
    (None, 0, 6000, 300),
    (40, 0, 6000, 2400),
    (None, 0, 5000, 500),
    (None, 0, 100, 100),
    (None, 1, 1000, 100),
])
def test_num_feasible_nodes_to_find(profile_pct, global_pct, nodes, want):
    assert num_feasible_nodes_to_find(profile_pct, nodes, global_pct) == want


def entries(*pairs: tuple[str, int]) -> list[NodePluginScores]:
    return [NodePluginScores(name, [], score) for name, score in pairs]


@pytest.mark.parametrize("scores, hosts, top_lists", [
    # Test_SelectHost
    (entries(("node1.1", 1), ("node2.1", 2)), {"node2.1"}, [["node2.1", "node1.1"]]),
    (entries(("node1.1", 1), ("node1.2", 2), ("node2.1", 2)), {"node1.2", "node2.1"},
     [["node1.2", "node2.1", "node1.1"], ["node2.1", "node1.2", "node1.1"]]),
    (entries(("node1.1", 1), ("node1.2", 2), ("node2.1", 3), ("node3.1", 3), ("node3.2", 3)),
     {"node2.1", "node3.1", "node3.2"},
     [["node2.1", "node3.1", "node3.2"], ["node3.1", "node2.1", "node3.2"], ["node3.2", "node3.1", "node2.1"]]),
    (entries(("node3.1", 3), ("node2.1", 2), ("node1.1", 1), ("node3.2", 3)), {"node3.1", "node3.2"},
     [["node3.1", "node3.2", "node2.1"], ["node3.2", "node3.1", "node2.1"]]),
])
def test_select_host(scores, hosts, top_lists):
    seen = set()
    for seed in range(40):
        host, top = select_host(scores, 3, np.random.default_rng(seed))
        assert host in hosts and [s.name for s in top] in top_lists and top[0].name == host
        seen.add(host)
    assert seen == hosts  # ties are broken at random


def test_select_host_draws_once_per_tie_and_never_without_one():
    rng, twin = np.random.default_rng(7), np.random.default_rng(7)
    select_host(entries(("a", 1), ("b", 2)), 3, rng)
    assert rng.integers(1000) == twin.integers(1000)
    host, _ = select_host(entries(("a", 5), ("b", 5), ("c", 5)), 3, rng)
    assert host == "abc"[int(twin.integers(3))]


def test_select_host_empty():
    with pytest.raises(EmptyPriorityListError, match="^empty priorityList$"):
        select_host([], 0, np.random.default_rng(0))


# -- schedulePod -------------------------------------------------------------------------------

def scheduler(plugins: list, prof: Profile | None = None, nodes: tuple = (), engine: str = "reference",
              pct: int = 0, host: StaticHost | None = None) -> Scheduler:
    """A scheduler whose one profile is ``prof`` (default: the plugins at every point but
    QueueSort and Bind) over a registry of the given plugins."""
    if prof is None:
        prof = profile("default-scheduler", multi_point=plugin_set(*(p.name for p in plugins)),
                       queue_sort=plugin_set("no-op-queue-sort-plugin", disabled=["*"]),
                       bind=plugin_set("bind-plugin", disabled=["*"]))
    cfg = KubeSchedulerConfiguration(profiles=[prof], percentage_of_nodes_to_score=pct)
    sched = Scheduler(cfg, host=host or StaticHost(), rng=np.random.default_rng(0), clock=lambda: 0.0, engine=engine,
                      out_of_tree_registry=registry_of(*plugins))
    for n in nodes:
        sched.add_node(n)
    return sched


def run(sched: Scheduler, p) -> object:
    return sched.schedule_pod(sched.profiles["default-scheduler"], CycleState(), p)


def fit_error(sched: Scheduler, p) -> FitError:
    with pytest.raises(FitError) as e:
        run(sched, p)
    return e.value


def named(*names: str) -> tuple:
    return tuple(node(n) for n in names)


def true_filter():
    return FilterOnly("TrueFilter", lambda p, n: True)


def false_filter():
    return FilterOnly("FalseFilter", lambda p, n: False)


def match_filter():
    return FilterOnly("MatchFilter", lambda p, n: n.name == p.metadata.name)


def numeric_map():
    return ScoreOnly("NumericMap", lambda n: int(n.name))


def test_schedule_pod_false_filter():
    # TestSchedulerSchedulePod "test 1"
    sched = scheduler([false_filter()], nodes=named("node1", "node2"))
    err = fit_error(sched, pod("2"))
    assert err.message() == "0/2 nodes are available: 2 node(s) failed Filter plugin FalseFilter."
    assert err.diagnosis.unschedulable_plugins == {"FalseFilter"}


def test_schedule_pod_picks_among_ties_and_scores():
    # "test 2", "test 3", "test 4"
    sched = scheduler([true_filter()], nodes=named("node1", "node2"))
    assert run(sched, pod("ignore")).suggested_host in ("node1", "node2")
    sched = scheduler([match_filter()], nodes=named("node1", "node2"))
    r = run(sched, pod("node2"))
    assert (r.suggested_host, r.evaluated_nodes, r.feasible_nodes) == ("node2", 2, 1)
    sched = scheduler([true_filter(), numeric_map()], nodes=named("3", "2", "1"))
    r = run(sched, pod("ignore"))
    assert (r.suggested_host, r.evaluated_nodes, r.feasible_nodes) == ("3", 3, 3)


def test_schedule_pod_two_filters_fail_different_nodes():
    # "test 7": one node fails one filter, the other the other
    sched = scheduler([true_filter(), match_filter(), numeric_map()], nodes=named("3", "2", "1"))
    r = run(sched, pod("2"))
    assert (r.suggested_host, r.evaluated_nodes, r.feasible_nodes) == ("2", 3, 1)
    sched = scheduler([true_filter(), false_filter()], nodes=named("3", "2", "1"))
    assert fit_error(sched, pod("2")).message() == "0/3 nodes are available: 3 node(s) failed Filter plugin FalseFilter."


def test_schedule_pod_no_nodes():
    # "test 10" (no nodes): ErrNoNodesAvailable
    with pytest.raises(NoNodesAvailableError, match="^no nodes available to schedule pods$"):
        run(scheduler([true_filter()]), pod("p"))


def test_schedule_pod_one_feasible_node_is_not_scored():
    # "test with only one feasible node": Score plugins are not run
    boom = TestPlugin("boom", Injected(score_status=Code.ERROR))
    sched = scheduler([match_filter(), boom], nodes=named("a", "b"))
    r = run(sched, pod("b"))
    assert (r.suggested_host, r.feasible_nodes) == ("b", 1) and "score" not in boom.calls
    with pytest.raises(PluginError, match='^running Score plugins: plugin "boom" failed with: injected status$'):
        run(scheduler([true_filter(), boom], nodes=named("a", "b")), pod("x"))


def test_schedule_pod_pre_filter_unschedulable_marks_every_node():
    # "test prefilter plugin returning Unschedulable status"
    pf = TestPlugin("FakePreFilter", Injected(pre_filter=Code.UNSCHEDULABLE_AND_UNRESOLVABLE))
    sched = scheduler([pf], nodes=named("1", "2"))
    err = fit_error(sched, pod("p"))
    assert err.message() == "0/2 nodes are available: injected status."
    assert err.diagnosis.node_to_status == {n: Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ["injected status"],
                                                      "FakePreFilter") for n in ("1", "2")}
    assert err.diagnosis.unschedulable_plugins == {"FakePreFilter"}


def test_schedule_pod_pre_filter_error():
    # "test prefilter plugin returning error status"
    sched = scheduler([TestPlugin("FakePreFilter", Injected(pre_filter=Code.ERROR))], nodes=named("1", "2"))
    with pytest.raises(PluginError, match='^running PreFilter plugin "FakePreFilter": injected status$'):
        run(sched, pod("p"))


def test_schedule_pod_pre_filter_result_restricts_the_nodes():
    # "test prefilter plugin returning non-intersecting nodes", "... returned an invalid node",
    # "test some nodes are filtered out by prefilter plugin and other are filtered out by filter plugin"
    a = TestPlugin("FakePreFilter1", Injected(pre_filter_result={"node1"}))
    b = TestPlugin("FakePreFilter2", Injected(pre_filter_result={"node2"}))
    err = fit_error(scheduler([a, b], nodes=named("node1", "node2", "node3")), pod("p"))
    assert err.message() == ("0/3 nodes are available: "
                             "node(s) didn't satisfy plugin(s) [FakePreFilter1 FakePreFilter2] simultaneously.")
    bad = TestPlugin("FakePreFilter", Injected(pre_filter_result={"invalid-node"}))
    with pytest.raises(SchedulingError, match='^nodeinfo not found for node name "invalid-node"$'):
        run(scheduler([bad], nodes=named("node1")), pod("p"))
    only2 = TestPlugin("FakePreFilter", Injected(pre_filter_result={"node2"}))
    err = fit_error(scheduler([only2, false_filter()], nodes=named("node1", "node2", "node3")), pod("p"))
    # v1.28: nodes left out by the PreFilterResult get no status
    assert err.message() == "0/3 nodes are available: 1 node(s) failed Filter plugin FalseFilter."
    sched = scheduler([TestPlugin("FakePreFilter", Injected(pre_filter_result={"node2", "node3"})), true_filter()],
                      nodes=named("node1", "node2", "node3"))
    assert run(sched, pod("p")).suggested_host in ("node2", "node3")
    assert sched.next_start_node_index == 0  # 2 processed, modulo the 2 nodes searched


def test_schedule_pod_pre_filter_skip_skips_the_filter():
    # "test prefilter plugin returning skip"
    pl = TestPlugin("FakeFilter", Injected(pre_filter=Code.SKIP, filter=Code.UNSCHEDULABLE))
    sched = scheduler([pl], nodes=named("node1", "node2"))
    assert run(sched, pod("p")).feasible_nodes == 2 and "filter" not in pl.calls


def test_schedule_pod_filter_error_stops_the_cycle():
    # "test with filter plugin returning error status"
    pl = TestPlugin("FakeFilter", Injected(filter=Code.ERROR))
    with pytest.raises(PluginError, match='^running "FakeFilter" filter plugin: injected filter status$'):
        run(scheduler([pl], nodes=named("3", "2", "1")), pod("p"))


def test_schedule_pod_nominated_node_is_evaluated_first():
    # TestSchedulerSchedulePod "test with nominated node": only that node is filtered
    filt = FilterOnly("Counting", lambda p, n: True)
    sched = scheduler([filt, numeric_map()], nodes=named("1", "2", "3"))
    r = run(sched, pod("p", nominated="2"))
    assert (r.suggested_host, r.evaluated_nodes, filt.calls, sched.next_start_node_index) == ("2", 1, 1, 0)
    # a nominated node that does not fit: back to all nodes, its status recorded
    sched = scheduler([FilterOnly("Not2", lambda p, n: n.name != "2"), numeric_map()], nodes=named("1", "2", "3"))
    r = run(sched, pod("p", nominated="2"))
    assert (r.suggested_host, r.evaluated_nodes, r.feasible_nodes) == ("3", 3, 2)
    # a nominated node that is gone
    assert run(scheduler([true_filter(), numeric_map()], nodes=named("1", "2")), pod("p", nominated="9")).feasible_nodes == 2


def test_no_score_plugins_score_every_node_one():
    # prioritizeNodes "no score plugins": every node scores 1
    sched = scheduler([true_filter()], nodes=named("a", "b"))
    sched.cache.update_snapshot(sched.snapshot)
    fwk = sched.profiles["default-scheduler"]
    got = ReferenceEngine().prioritize_nodes(sched, fwk, CycleState(), pod("p"), sched.snapshot.node_info_list)
    assert [(s.name, s.total_score) for s in got] == [("a", 1), ("b", 1)]


def test_fair_evaluation_for_nodes():
    # TestFairEvaluationForNodes
    n = 500
    sched = scheduler([true_filter(), numeric_map()], nodes=tuple(node(str(i)) for i in range(n)), pct=30)
    sched.cache.update_snapshot(sched.snapshot)
    fwk = sched.profiles["default-scheduler"]
    to_find = num_feasible_nodes_to_find(fwk.percentage_of_nodes_to_score, n, sched.percentage_of_nodes_to_score)
    assert to_find == 150
    for i in range(2 * (n // to_find + 1)):
        feasible, _ = sched.engine.find_nodes_that_fit_pod(sched, fwk, CycleState(), pod("p"))
        assert len(feasible) == to_find
        assert sched.next_start_node_index == (i + 1) * to_find % n


def test_fair_evaluation_counts_rejected_nodes_too():
    # findNodesThatFitPod: the index advances by feasible + rejected nodes
    sched = scheduler([FilterOnly("Even", lambda p, n: int(n.name) % 2 == 0)],
                      nodes=tuple(node(str(i)) for i in range(300)), pct=50)
    sched.cache.update_snapshot(sched.snapshot)
    feasible, diagnosis = sched.engine.find_nodes_that_fit_pod(sched, sched.profiles["default-scheduler"],
                                                               CycleState(), pod("p"))
    assert len(feasible) == 150 and len(diagnosis.node_to_status) == 149
    assert sched.next_start_node_index == 299


def test_without_filter_plugins_the_first_nodes_are_feasible():
    half = ScoreOnly("Half", lambda n: int(n.name) // 2)
    sched = scheduler([half], nodes=tuple(node(str(i)) for i in range(200)), pct=50)
    sched.next_start_node_index = 150
    r = run(sched, pod("p"))
    assert r.feasible_nodes == 100 and sched.next_start_node_index == 50
    assert r.suggested_host == "199"


# -- real plugins ----------------------------------------------------------------------------------

def default_scheduler(*nodes, host: StaticHost | None = None, engine: str = "reference") -> Scheduler:
    sched = Scheduler(host=host or StaticHost(), rng=np.random.default_rng(0), clock=lambda: 0.0, engine=engine)
    for n in nodes:
        sched.add_node(n)
    return sched


def test_fit_error_texts_with_the_default_plugins():
    # TestSchedulerSchedulePod with the real plugins: reasons are counted per node and sorted
    tainted = node("tainted", cpu="8")
    tainted.spec.taints = [Taint(key="dedicated", value="user1", effect="NoSchedule")]
    sched = default_scheduler(node("small1", cpu="1"), node("small2", cpu="1"), tainted)
    err = fit_error(sched, pod("big", cpu="2"))
    assert err.message() == ("0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: user1}, "
                             "2 Insufficient cpu.")
    assert err.diagnosis.unschedulable_plugins == {"NodeResourcesFit", "TaintToleration"}

    p = pod("picky")
    p.spec.node_selector = {"disk": "ssd"}
    assert fit_error(sched, p).message() == ("0/3 nodes are available: 1 node(s) had untolerated taint "
                                             "{dedicated: user1}, 2 node(s) didn't match Pod's node affinity/selector.")

    unsched = node("cordoned")
    unsched.spec.unschedulable = True
    sched = default_scheduler(unsched, node("full", pods="0"))
    assert fit_error(sched, pod("p")).message() == ("0/2 nodes are available: 1 Too many pods, "
                                                   "1 node(s) were unschedulable.")


def test_default_plugins_prefer_the_least_allocated_node():
    sched = default_scheduler(node("busy"), node("idle"))
    sched.add_pod(pod("existing", cpu="3", node_name="busy"))
    assert run(sched, pod("p", cpu="500m")).suggested_host == "idle"


# -- the cycles --------------------------------------------------------------------------------

def cycle(sched: Scheduler, p):
    sched.add_pod(p)
    return sched.schedule_one()


def test_schedule_one_binds_through_the_host():
    host = StaticHost()
    sched = default_scheduler(node("n1"), host=host)
    assert sched.schedule_one() is None
    r = cycle(sched, pod("p", cpu="1"))
    assert r.succeeded and r.suggested_host == "n1" and r.pod.spec.node_name == "n1"
    assert sched.cache.is_assumed_pod(r.pod) and sched.cache.node_info("n1").requested.milli_cpu == 1000
    assert sched.binding_cycle(r) is None
    assert [(b.metadata.name, n) for b, n in host.bindings] == [("p", "n1")]
    # the informer then reports the pod bound: the assumed pod is confirmed, not counted twice
    bound = pod("p", cpu="1", node_name="n1", rv="2")
    sched.update_pod(pod("p", cpu="1"), bound)
    assert not sched.cache.is_assumed_pod(bound) and sched.cache.node_info("n1").requested.milli_cpu == 1000
    assert sched.queue.pending_pods()[1] == "activeQ:0; backoffQ:0; unschedulablePods:0"


def test_unschedulable_pod_goes_back_to_the_queue_and_a_node_event_moves_it():
    host = StaticHost()
    sched = default_scheduler(node("small", cpu="1"), host=host)
    r = cycle(sched, pod("p", cpu="2"))
    assert not r.succeeded and r.reason == "Unschedulable"
    assert r.status == Status(Code.UNSCHEDULABLE, [r.fit_error.message()])
    assert r.fit_error.message().startswith("0/1 nodes are available: 1 Insufficient cpu. preemption: ")
    assert sched.queue.where(pod("p")) == "Unschedulable"
    assert r.pod_info.unschedulable_plugins == {"NodeResourcesFit"}
    sched.add_node(node("also-small", cpu="1"))  # cannot admit the pod: not offered the event
    assert sched.queue.where(pod("p")) == "Unschedulable"
    sched.add_node(node("big", cpu="4"))
    assert sched.queue.where(pod("p")) in ("Active", "Backoff")
    sched.queue.flush_backoff_q_completed()


def test_post_filter_nomination_is_recorded_and_written():
    # schedulingCycle: PostFilter's nominated node becomes the pod's nominatedNodeName
    host = StaticHost()
    preempt = TestPlugin("FakePreemption", Injected(filter=Code.UNSCHEDULABLE, post_filter=Code.SUCCESS,
                                                    post_filter_result=PostFilterResult("n1")))
    sched = scheduler([preempt], nodes=named("n1", "n2"), host=host)
    r = cycle(sched, pod("p"))
    assert not r.succeeded and r.fit_error.diagnosis.post_filter_msg == "injected status"
    assert r.fit_error.message() == ("0/2 nodes are available: 2 injected filter status. injected status.")
    assert [(p.metadata.name, n) for p, n in host.nominations] == [("p", "n1")]
    assert [pi.pod.metadata.name for pi in sched.queue.nominated_pods_for_node("n1")] == ["p"]


def test_no_post_filter_plugins_clears_the_nomination():
    host = StaticHost()
    sched = scheduler([false_filter()], nodes=named("n1"), host=host)
    cycle(sched, pod("p", nominated="n1"))
    assert [(p.metadata.name, n) for p, n in host.nominations] == [("p", "")]
    assert sched.queue.nominated_pods_for_node("n1") == []


def test_reserve_rejection_is_a_fit_error_on_that_node():
    # schedulingCycle: Reserve Unschedulable -> Unreserve, ForgetPod, FitError on one node
    log: list[str] = []
    ok = TestPlugin("ok", log=log)
    bad = TestPlugin("Reserve-1", Injected(reserve=Code.UNSCHEDULABLE), log=log)
    prof = profile("default-scheduler", reserve=plugin_set("ok", "Reserve-1"))
    sched = scheduler([ok, bad], prof=prof, nodes=named("n1"))
    r = cycle(sched, pod("p"))
    assert r.status == Status(Code.UNSCHEDULABLE, ["0/1 nodes are available: 1 injected status."])
    assert r.fit_error.diagnosis.unschedulable_plugins == {"Reserve-1"}
    assert log == ["ok.reserve", "Reserve-1.reserve", "Reserve-1.unreserve", "ok.unreserve"]
    assert sched.cache.node_info("n1").pods == [] and sched.queue.where(pod("p")) == "Unschedulable"


def test_reserve_error_is_a_scheduler_error():
    bad = TestPlugin("bad", Injected(reserve=Code.ERROR))
    sched = scheduler([bad], prof=profile("default-scheduler", reserve=plugin_set("bad")), nodes=named("n1"))
    r = cycle(sched, pod("p"))
    assert r.status == Status(Code.ERROR, ['running Reserve plugin "bad": injected status'])
    assert r.reason == "SchedulerError" and sched.queue.where(pod("p")) == "Backoff"


def test_permit_wait_then_allow_or_time_out():
    host = StaticHost()
    waiter = TestPlugin("waiter", Injected(permit=Code.WAIT, permit_timeout=30))
    sched = scheduler([waiter], prof=profile("default-scheduler", permit=plugin_set("waiter")),
                      nodes=named("n1"), host=host)
    r = cycle(sched, pod("p"))
    assert r.succeeded and r.permit_timeout == 30
    sched.profiles["default-scheduler"].get_waiting_pod("p").allow("waiter")
    assert sched.binding_cycle(r) is None and len(host.bindings) == 1
    r = cycle(sched, pod("q"))
    s = sched.binding_cycle(r)  # the host waited 30 s and nobody allowed it
    assert s == Status(Code.UNSCHEDULABLE,
                       ["0/1 nodes are available: 1 rejected due to timeout after waiting 30s at plugin waiter."])
    assert len(host.bindings) == 1 and not sched.cache.is_assumed_pod(pod("q"))
    assert sched.queue.where(pod("q")) == "Unschedulable"


def test_permit_rejection():
    pl = TestPlugin("nope", Injected(permit=Code.UNSCHEDULABLE))
    sched = scheduler([pl], prof=profile("default-scheduler", permit=plugin_set("nope")), nodes=named("n1"))
    r = cycle(sched, pod("p"))
    assert r.status == Status(Code.UNSCHEDULABLE, ["0/1 nodes are available: 1 injected status."])
    assert "unreserve" not in pl.calls and sched.cache.node_info("n1").pods == []


def test_bind_failure_forgets_and_requeues():
    # handleBindingCycleError
    pl = TestPlugin("binder", Injected(bind=Code.ERROR))
    sched = scheduler([pl], prof=profile("default-scheduler", bind=plugin_set("binder"), reserve=plugin_set("binder")),
                      nodes=(node("n1", cpu="4"),))
    r = cycle(sched, pod("p", cpu="2"))
    assert r.succeeded
    assert sched.binding_cycle(r) == Status(Code.ERROR, ['running Bind plugin "binder": injected status'])
    assert pl.calls[-2:] == ["bind", "unreserve"]
    assert not sched.cache.is_assumed_pod(r.pod) and sched.queue.where(pod("p")) == "Backoff"
    assert sched.cache.node_info("n1").requested.milli_cpu == 0


def test_skipped_pods():
    sched = default_scheduler(node("n1"))
    p = pod("p")
    p.metadata.deletion_timestamp = "2023-01-01T00:00:00Z"
    r = cycle(sched, p)
    assert r.skipped and not r.succeeded and sched.queue.where(p) is None


def test_pod_deleted_while_being_scheduled_is_not_requeued():
    sched = default_scheduler(node("small", cpu="1"))
    sched.add_pod(pod("p", cpu="2"))
    qpi = sched.queue.pop()
    sched.remove_pod(pod("p", cpu="2"))
    sched.queue.active_q.add(qpi)  # popped before the deletion arrived
    r = sched.schedule_one()
    assert not r.succeeded and sched.queue.where(pod("p")) is None


# -- event handlers (eventhandlers_test.go) -----------------------------------------------------

def test_pods_go_to_the_cache_or_the_queue():
    sched = default_scheduler(node("n1"))
    sched.add_pod(pod("bound", node_name="n1"))
    sched.add_pod(pod("pending"))
    sched.add_pod(pod("other", scheduler_name="someone-else"))
    assert [pi.pod.metadata.name for pi in sched.cache.node_info("n1").pods] == ["bound"]
    assert sched.queue.pending_pods()[1] == "activeQ:1; backoffQ:0; unschedulablePods:0"
    # bound by someone else: leaves the queue, joins the cache
    sched.update_pod(pod("pending"), pod("pending", node_name="n1", rv="2"))
    assert sched.queue.where(pod("pending")) is None and len(sched.cache.node_info("n1").pods) == 2
    sched.remove_pod(pod("pending", node_name="n1"))
    sched.remove_pod(pod("bound", node_name="n1"))
    assert sched.cache.node_info("n1").pods == [] and sched.errors == []
    sched.remove_pod(pod("bound", node_name="n1"))
    assert sched.errors == ["pod bound(default/bound) is not found in scheduler cache, so cannot be removed from it"]


def test_updates_with_the_same_resource_version_are_ignored():
    sched = default_scheduler()
    sched.add_pod(pod("p", rv="1"))
    qpi = sched.queue.pop()
    qpi.unschedulable_plugins = {"NodeResourcesFit"}
    sched.queue.add_unschedulable_if_not_present(qpi, sched.queue.scheduling_cycle)
    changed = pod("p", rv="1")
    changed.metadata.labels = {"x": "y"}
    sched.update_pod(pod("p", rv="1"), changed)
    assert sched.queue.where(pod("p")) == "Unschedulable"
    changed.metadata.resource_version = "2"
    sched.update_pod(pod("p", rv="1"), changed)
    assert sched.queue.where(pod("p")) in ("Active", "Backoff")


def test_assigned_pod_delete_moves_waiting_pods():
    sched = default_scheduler(node("n1", cpu="2"))
    sched.add_pod(pod("hog", cpu="2", node_name="n1"))
    r = cycle(sched, pod("p", cpu="1"))
    assert not r.succeeded and sched.queue.where(pod("p")) == "Unschedulable"
    sched.remove_pod(pod("hog", cpu="2", node_name="n1"))
    assert sched.queue.where(pod("p")) in ("Active", "Backoff")


def test_node_update_events():
    sched = default_scheduler(node("n1"))
    tainted = node("n1")
    tainted.spec.taints = [Taint(key="k", effect="NoSchedule")]
    sched.update_node(node("n1"), tainted)
    r = cycle(sched, pod("p"))
    assert r.fit_error.message().startswith("0/1 nodes are available: 1 node(s) had untolerated taint {k: }.")
    relabelled = node("n1", labels={"a": "b"})
    relabelled.spec.taints = list(tainted.spec.taints)
    sched.update_node(tainted, relabelled)  # still tainted: the pre-check keeps the pod waiting
    assert sched.queue.where(pod("p")) == "Unschedulable"
    sched.update_node(relabelled, node("n1", labels={"a": "b"}))
    assert sched.queue.where(pod("p")) in ("Active", "Backoff")
    sched.remove_node(node("n1"))
    sched.remove_node(node("n1"))
    assert sched.errors == ["node n1 is not found"]


# -- profiles and engines ------------------------------------------------------------------------

def test_pods_are_scheduled_by_their_profile():
    text = """
    apiVersion: kubescheduler.config.k8s.io/v1
    kind: KubeSchedulerConfiguration
    profiles:
    - schedulerName: default-scheduler
    - schedulerName: no-scoring
      plugins:
        score: {disabled: [{name: '*'}]}
    """
    cfg = KubeSchedulerConfiguration.loads(textwrap.dedent(text))
    sched = Scheduler(cfg, host=StaticHost(), rng=np.random.default_rng(0), clock=lambda: 0.0, engine="reference")
    sched.add_node(node("n1"))
    assert set(sched.profiles) == {"default-scheduler", "no-scoring"}
    assert not sched.profiles["no-scoring"].has_score_plugins()
    r = cycle(sched, pod("p", scheduler_name="no-scoring"))
    assert r.succeeded and r.framework is sched.profiles["no-scoring"]


def test_profile_errors_are_wrapped():
    prof = Profile("default-scheduler", None, Plugins(queue_sort=PluginSet([Plugin("PrioritySort")]),
                                                      bind=PluginSet([Plugin("DefaultBinder")]),
                                                      filter=PluginSet([Plugin("Nope")])))
    with pytest.raises(ConfigError) as e:
        Scheduler(KubeSchedulerConfiguration(profiles=[prof]), host=StaticHost(), rng=np.random.default_rng(0),
                  clock=lambda: 0.0)
    assert str(e.value) == ('initializing profiles: creating profile for scheduler name default-scheduler: '
                            'FilterPlugin "Nope" does not exist')
    other = Profile("b", None, Plugins(queue_sort=PluginSet([Plugin("other-sort")]),
                                       bind=PluginSet([Plugin("DefaultBinder")])))
    first = Profile("a", None, Plugins(queue_sort=PluginSet([Plugin("PrioritySort")]),
                                       bind=PluginSet([Plugin("DefaultBinder")])))

    class OtherSort:
        name = "other-sort"

        def less(self, a, b):
            return False

    with pytest.raises(ConfigError, match='different queue sort plugins for profile "b": "other-sort", '
                                          'first: "PrioritySort"'):
        Scheduler(KubeSchedulerConfiguration(profiles=[first, other]), host=StaticHost(),
                  rng=np.random.default_rng(0), clock=lambda: 0.0, out_of_tree_registry={"other-sort":
                                                                                        lambda a, h: OtherSort()})
    with pytest.raises(ConfigError, match="^a plugin named PrioritySort already exists$"):
        Scheduler(host=StaticHost(), rng=np.random.default_rng(0), clock=lambda: 0.0,
                  out_of_tree_registry={"PrioritySort": lambda a, h: OtherSort()})
    with pytest.raises(ConfigError, match='^unknown engine "gpu"'):
        Scheduler(host=StaticHost(), rng=np.random.default_rng(0), clock=lambda: 0.0, engine="gpu")


def test_both_engines_place_pods_alike():
    placements = {}
    for engine in ("reference", "arrays"):
        sched = default_scheduler(*(node(f"n{i}", cpu=str(2 + i % 3)) for i in range(6)), engine=engine)
        got = []
        for i in range(8):
            r = cycle(sched, pod(f"p{i}", cpu="500m"))
            got.append(r.suggested_host)
            sched.binding_cycle(r)
        placements[engine] = got
    assert placements["reference"] == placements["arrays"]


def test_framework_handle_sees_the_schedulers_snapshot():
    sched = default_scheduler(node("n1"))
    sched.cache.update_snapshot(sched.snapshot)
    fwk: Framework = sched.profiles["default-scheduler"]
    assert fwk.snapshot is sched.snapshot and fwk.nominator is sched.queue and fwk.rng is sched.rng
