"""KubeScheduler as a component of the simulated control plane: the NoSchedule taint path for
nodes that are not ready or cordoned, preemption in a full cluster, the time a cycle and a
binding take (parallel against serial binding), Permit waits, configuration, options."""

from __future__ import annotations

import pytest
from sched_bench import Harness

from kbook.api import Pod, Toleration
from kbook.cluster import Cluster, NodePool
from kbook.controlplane.apiserver.admission import TAINT_NODE_NOT_READY
from kbook.controlplane.controllers.nodelifecycle import TAINT_UNSCHEDULABLE
from kbook.controlplane.scheduler import (
    NOTE_LENGTH_LIMIT, KubeScheduler, ScheduledPod, SchedulerOptionsError, truncate_message,
)
from kbook.errors import KbookError
from kbook.scheduler.config import ConfigError
from kbook.scheduler.status import Code, Status

NOT_READY_TAINTED = ("0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. "
                     "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling..")


def test_a_node_that_is_not_ready_gets_no_pods_until_it_is():
    h = Harness()
    h.node("n1", ready=False)
    h.start()
    h.pod("a")
    # DaemonSet pods tolerate the taint, and so land on nodes that are not ready yet
    h.pod("daemon", tolerations=[Toleration(key=TAINT_NODE_NOT_READY, operator="Exists", effect="NoSchedule")])
    h.env.run(until=5)
    assert h.placements() == {"a": "", "daemon": "n1"}
    assert h.taints("n1") == [(TAINT_NODE_NOT_READY, "NoSchedule")]
    assert h.records("FailedScheduling") == [(0.0, "pod/default/a", NOT_READY_TAINTED)]  # no retry meanwhile
    assert h.scheduler.pending() == {"default/a": "Unschedulable"}  # until an event it waits for
    pod = h.api.get("Pod", "a")
    cond = pod.status.conditions[0]
    assert (cond.type, cond.status, cond.reason, cond.message) == ("PodScheduled", "False", "Unschedulable",
                                                                  NOT_READY_TAINTED)
    h.set_ready("n1", True)  # the taint goes (NodeTaintChange), which moves the pod on at once
    h.env.run(until=6)
    assert h.taints("n1") == []
    assert h.placements()["a"] == "n1"
    assert h.records("Scheduled")[-1] == (5.0, "pod/default/a", "Successfully assigned default/a to n1")
    assert ScheduledPod("default/a", "n1", 0.0, 5.0, 2) in h.scheduler.scheduled


def test_a_cordoned_node_is_tainted_and_skipped_until_uncordoned():
    h = Harness()
    h.node("n1")
    h.node("n2")
    h.start()
    h.api.patch("Node", "n1", {"spec": {"unschedulable": True}})  # kubectl cordon
    h.env.run(until=1)
    assert h.taints("n1") == [(TAINT_UNSCHEDULABLE, "NoSchedule")]
    for i in range(4):
        h.pod(f"a{i}", cpu="500m")
    h.env.run(until=2)
    assert set(h.placements().values()) == {"n2"}
    h.api.patch("Node", "n1", {"spec": {"unschedulable": False}})  # kubectl uncordon
    h.env.run(until=3)
    assert h.taints("n1") == []
    for i in range(4):
        h.pod(f"b{i}", cpu="500m")
    h.env.run(until=4)
    assert [h.placements()[f"b{i}"] for i in range(4)] == ["n1"] * 4  # the emptier node scores higher


PRIORITY_POD = """\
apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  priority: {priority}
  containers:
  - name: c
    image: nginx:1.25
    resources: {{requests: {{cpu: "1", memory: 128Mi}}}}
"""


def test_preemption_in_a_full_cluster():
    cluster = Cluster(nodes=NodePool(1, cpu="2", memory="4Gi"), seed=0)
    seen: list[Pod] = []
    cluster.api.watch("Pod", lambda ev: seen.append(ev.object))
    for name in ("low-1", "low-2"):
        cluster.apply(PRIORITY_POD.format(name=name, priority=0))
    cluster.run(until=10)
    cluster.apply(PRIORITY_POD.format(name="high", priority=1000))
    cluster.run(until=10.5)
    high = cluster.get("Pod", "high")
    assert (high.spec.node_name, high.status.nominated_node_name) == ("", "node-1")
    cluster.run(until=30)
    ev = cluster.events
    ev = ev[ev.component == "scheduler"]
    preempted = ev[ev.verb == "Preempted"]
    (victim,) = [o.removeprefix("pod/default/") for o in preempted.object]
    assert list(preempted.detail) == [f"Preempted by pod {high.metadata.uid} on node node-1"]
    assert list(preempted.time) == [10.0]
    failed = ev[(ev.verb == "FailedScheduling") & (ev.object == "pod/default/high")]
    assert list(zip(failed.time, failed.detail)) == [(10.0, "0/1 nodes are available: 1 Insufficient cpu.")]
    scheduled = ev[(ev.verb == "Scheduled") & (ev.object == "pod/default/high")]
    assert list(scheduled.time) == [11.0]  # the victim is gone at once; the preemptor waits out its backoff
    assert sorted(p.metadata.name for p in cluster.pods()) == sorted({"low-1", "low-2", "high"} - {victim})
    assert cluster.get("Pod", "high").spec.node_name == "node-1"
    marked = [p for p in seen if p.metadata.name == victim and any(c.type == "DisruptionTarget"
                                                                   for c in p.status.conditions)]
    cond = next(c for c in marked[0].status.conditions if c.type == "DisruptionTarget")
    assert (cond.status, cond.reason, cond.message) == (
        "True", "PreemptionByScheduler", "default-scheduler: preempting to accommodate a higher priority pod")
    assert cluster.scheduler.stats.preempted == 1


@pytest.mark.parametrize("parallel, last", [(True, 100 * 0.002 + 0.05), (False, 100 * (0.002 + 0.05))])
def test_parallel_binding_hides_the_bind_latency(parallel, last):
    h = Harness(cycle_seconds=0.002, bind_latency=0.05, parallel_binding=parallel)
    for i in range(4):
        h.node(f"n{i}", cpu="64", memory="64Gi")
    for i in range(100):
        h.pod(f"p{i:03}", cpu="100m", memory="64Mi")
    h.start()
    h.env.run(until=10)
    times = sorted(t for t, _, _ in h.records("Scheduled"))
    assert len(times) == 100
    assert times[0] == pytest.approx(0.052)
    assert times[-1] == pytest.approx(last)
    assert h.scheduler.stats.attempts == h.scheduler.stats.scheduled == 100


class Gang:
    """A Permit plugin that holds pods until ``size`` of them wait, then lets all go."""

    name = "Gang"

    def __init__(self, handle, size: int, timeout: float) -> None:
        self.handle, self.size, self.timeout = handle, size, timeout

    def permit(self, state, pod, node_name):
        waiting = list(self.handle.iterate_over_waiting_pods())
        if len(waiting) + 1 < self.size:
            return Status.of(Code.WAIT, "waiting for the gang"), self.timeout
        for wp in waiting:
            wp.allow(self.name)
        return None, 0.0


GANG_CONFIG = """\
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
  plugins:
    permit:
      enabled: [{name: Gang}]
"""


def gang_bench() -> Harness:
    h = Harness(config=GANG_CONFIG, registry={"Gang": lambda args, handle: Gang(handle, size=3, timeout=10)})
    h.node("n1", cpu="8")
    h.start()
    return h


def test_permit_holds_pods_until_the_plugin_allows_them():
    h = gang_bench()
    h.pod("g1")
    h.pod("g2")
    h.env.run(until=4)
    assert h.placements() == {"g1": "", "g2": ""}  # assumed, waiting on Permit
    h.pod("g3")
    h.env.run(until=5)
    assert {p: n for p, n in h.placements().items()} == {"g1": "n1", "g2": "n1", "g3": "n1"}
    assert sorted(t for t, _, _ in h.records("Scheduled")) == [4.0, 4.0, 4.0]


def test_permit_rejects_a_pod_when_its_wait_times_out():
    h = gang_bench()
    h.pod("g1")
    h.env.run(until=12)
    assert h.placements() == {"g1": ""}
    assert h.records("FailedScheduling") == [
        (10.0, "pod/default/g1", "0/1 nodes are available: 1 rejected due to timeout after waiting 10s at plugin Gang.")]
    assert h.api.get("Pod", "g1").status.conditions[0].reason == "Unschedulable"


MOST_ALLOCATED = """\
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
        resources: [{name: cpu, weight: 1}, {name: memory, weight: 1}]
"""


@pytest.mark.parametrize("source", ["text", "file"])
def test_a_configuration_from_yaml_packs_pods_with_most_allocated(tmp_path, source):
    config = MOST_ALLOCATED
    if source == "file":
        config = tmp_path / "scheduler.yaml"
        config.write_text(MOST_ALLOCATED)
    h = Harness(config=config)
    for i in range(3):
        h.node(f"n{i}")
    h.start()
    for i in range(6):
        h.pod(f"p{i}", cpu="500m", memory="1Gi")
    h.env.run(until=1)
    assert len(set(h.placements().values())) == 1


def test_pods_for_another_scheduler_are_left_alone():
    h = Harness()
    h.node("n1")
    h.start()
    h.pod("mine")
    h.pod("theirs", scheduler_name="other-scheduler")
    h.env.run(until=5)
    assert h.placements() == {"mine": "n1", "theirs": ""}
    assert h.records("FailedScheduling") == []


def test_a_pod_bound_by_someone_else_during_the_bind_latency():
    h = Harness(bind_latency=1.0)
    h.node("n1", cpu="8")
    h.node("n2", cpu="1")
    h.start()
    h.pod("a")
    h.env.run(until=0.5)
    h.api.bind("a", "n2")  # another scheduler was faster
    h.env.run(until=5)
    assert h.records("FailedScheduling") == [(1.0, "pod/default/a", (
        'running Bind plugin "DefaultBinder": Operation cannot be fulfilled on pods/binding "a": '
        'pod a is already assigned to node "n2"'))]
    assert h.placements() == {"a": "n2"} and h.records("Scheduled") == []
    assert h.scheduler.stats.errors == 1
    assert h.scheduler.scheduler.cache.node_info("n1").pods == []  # the assumed pod was forgotten


def test_both_engines_place_the_same():
    def run(engine: str) -> dict[str, str]:
        h = Harness(seed=5, engine=engine)
        for i in range(4):
            h.node(f"n{i}", cpu=str(2 + i))
        h.start()
        for i in range(12):
            h.pod(f"p{i:02}", cpu="300m", memory="256Mi")
        h.env.run(until=1)
        return h.placements()

    assert run("arrays") == run("reference")


def test_the_cluster_runs_kube_scheduler_with_its_options():
    cluster = Cluster(nodes=2, seed=0, scheduler=dict(cycle_seconds=0.01))
    assert isinstance(cluster.scheduler, KubeScheduler) and cluster.scheduler.cycle_seconds == 0.01
    made = []

    def factory(env, api, log, rng):
        made.append(KubeScheduler(env, api, log, rng, engine="reference"))
        return made[-1]

    cluster = Cluster(nodes=1, seed=0, scheduler=factory)
    assert cluster.scheduler is made[0] and made[0].running
    with pytest.raises(KbookError, match="scheduler: unknown options bogus; expected some of config, engine"):
        Cluster(nodes=1, scheduler={"bogus": 1})


@pytest.mark.parametrize("options, error, message", [
    (dict(cycle_seconds=-1), SchedulerOptionsError, "cycle_seconds: must be a number of seconds >= 0, got -1"),
    (dict(bind_latency="1"), SchedulerOptionsError, "bind_latency: must be a number of seconds >= 0, got '1'"),
    (dict(parallel_binding=1), SchedulerOptionsError, "parallel_binding: must be true or false, got 1"),
    (dict(engine="fast"), ConfigError, 'unknown engine "fast": expected "arrays" or "reference"'),
])
def test_bad_options_are_refused(options, error, message):
    with pytest.raises(error) as err:
        Harness(**options)
    assert str(err.value) == message


def test_event_messages_are_truncated_to_the_note_length_limit():
    assert truncate_message("short") == "short"
    long = "0/5000 nodes are available: " + "x" * 2000
    cut = truncate_message(long)
    assert len(cut.encode()) == NOTE_LENGTH_LIMIT and cut.endswith(" ...") and long.startswith(cut[:-4])
    wide = "é" * 600  # 1200 bytes: cut on a character boundary
    assert len(truncate_message(wide).encode()) <= NOTE_LENGTH_LIMIT
