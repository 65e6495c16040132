"""Scheduling without a cluster: the data files of the chapter, preemption, determinism."""

from pathlib import Path

import pytest

from kbook.api import load_file, loads
from kbook.scheduler.config import KubeSchedulerConfiguration
from kbook.scheduler.simulate import simulate, workload_pods

DATA = Path(__file__).resolve().parents[2] / "data" / "scheduling"
NODES = load_file(DATA / "nodes.yaml")
PODS = load_file(DATA / "pods.yaml")

NODE = """
apiVersion: v1
kind: Node
metadata: {{name: {name}, labels: {{kubernetes.io/hostname: {name}}}}}
status: {{allocatable: {{cpu: "{cpu}", memory: 8Gi, pods: "110"}}}}
"""


def pod(name, cpu, priority=None, extra=""):
    prio = f"\n  priority: {priority}" if priority is not None else ""
    return f"""
apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:{prio}
  containers: [{{name: c, image: app, resources: {{requests: {{cpu: "{cpu}"}}}}}}]{extra}
"""


@pytest.mark.parametrize("engine", ["reference", "arrays"])
def test_the_chapter_cluster(engine):
    result = simulate(NODES, PODS, engine=engine)
    placed = result.placements
    assert placed["default/train"] == "node-b1"  # the only node with a GPU, and it tolerates the taint
    assert all(node not in ("node-b1", "node-b3") for key, node in placed.items() if key != "default/train")
    assert placed["default/report"] == ""
    assert result.pending == {"default/report": (
        "0/5 nodes are available: 1 node(s) had untolerated taint {nvidia.com/gpu: true}, "
        "1 node(s) were unschedulable, 3 Insufficient cpu. preemption: 0/5 nodes are available: "
        "2 Preemption is not helpful for scheduling, 3 No preemption victims found for incoming pod..")}
    web = [n for k, n in placed.items() if k.startswith("default/web-")]
    assert len(set(web)) == 3  # the default topology spreading spreads the ReplicaSet's pods


def test_same_seed_same_placements_and_engines_agree():
    runs = [simulate(NODES, PODS, seed=7, engine=e).placements for e in ("reference", "arrays", "arrays")]
    assert runs[0] == runs[1] == runs[2]


def test_workload_pods_are_owned_by_their_replicaset():
    pods = workload_pods(PODS[0])
    assert [p.metadata.name for p in pods] == ["web-0", "web-1", "web-2", "web-3"]
    assert {p.metadata.owner_references[0].kind for p in pods} == {"ReplicaSet"}
    assert len({p.metadata.uid for p in pods}) == 4


def test_preemption_evicts_the_lower_priority_pod():
    nodes = loads(NODE.format(name="n1", cpu="2"))
    pods = loads(pod("low", "1500m", priority=0, extra="\n  nodeName: n1") + "---" + pod("high", "1", priority=1000))
    result = simulate(nodes, pods)
    assert result.preempted == ["default/low"]
    assert result.placements == {"default/low": "", "default/high": "n1"}
    high = [a for a in result.attempts if a["pod"] == "default/high"]
    assert high[0]["message"] == "0/1 nodes are available: 1 Insufficient cpu."
    assert high[-1]["node"] == "n1" and high[-1]["time"] == 1.0  # after its 1 s backoff


def test_a_pod_that_never_fits_stays_pending_and_others_are_not_blocked():
    nodes = loads(NODE.format(name="n1", cpu="2"))
    pods = loads(pod("huge", "3") + "---" + pod("small", "1"))
    result = simulate(nodes, pods)
    assert result.placements == {"default/huge": "", "default/small": "n1"}
    assert result.pending["default/huge"].startswith("0/1 nodes are available: 1 Insufficient cpu.")


def test_most_allocated_packs_bare_pods():
    nodes = loads("---".join(NODE.format(name=f"n{i}", cpu="4") for i in range(4)))
    pods = loads("---".join(pod(f"p{i}", "1") for i in range(8)))
    packing = KubeSchedulerConfiguration.load_file(DATA / "binpacking.yaml")
    spread = simulate(nodes, pods).placements
    packed = simulate(nodes, pods, packing).placements
    assert len(set(spread.values())) == 4
    assert len(set(packed.values())) == 2
