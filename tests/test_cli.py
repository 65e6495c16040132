"""The ``kbook`` command: what a user sees for good and bad manifests."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHOP = ROOT / "data" / "manifests" / "shop.yaml"


def kbook(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "kbook.cli", *args], capture_output=True, text=True, input=stdin)


def test_validate_prints_each_object_and_exits_zero():
    out = kbook("validate", str(SHOP))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 7
    assert lines[0] == f"{SHOP}: Deployment apps/v1 shop/storefront: valid"
    assert lines[2] == f"{SHOP}: HorizontalPodAutoscaler autoscaling/v2 shop/storefront: valid"


def test_malformed_manifest_gives_one_field_path_line_and_nonzero_exit(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(SHOP.read_text().replace("replicas: 3", "replicas: -1", 1))
    out = kbook("validate", str(bad))
    assert out.returncode == 1
    assert out.stdout == ""
    assert out.stderr.splitlines() == [
        f'{bad}: Deployment.apps "cart" (document 4): spec.replicas: Invalid value: -1: '
        "must be greater than or equal to 0"
    ]


def test_yaml_syntax_error_and_unknown_field_have_no_traceback(tmp_path):
    out = kbook("validate", "-", stdin="apiVersion: v1\nkind: Pod\nmetadata: {name: [\n")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.startswith("<stdin>: document 1: yaml: line ")
    typo = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: x, imagePullPolicyy: Always}]\n"
    out = kbook("validate", "-", stdin=typo)
    assert out.returncode == 1
    assert out.stderr.strip() == '<stdin>: Pod "p" (document 1): unknown field "spec.containers[0].imagePullPolicyy"'


def test_a_good_file_still_prints_when_another_fails(tmp_path):
    missing = tmp_path / "missing.yaml"
    out = kbook("validate", str(missing), str(SHOP))
    assert out.returncode == 1
    assert str(missing) in out.stderr and "Traceback" not in out.stderr
    assert len(out.stdout.splitlines()) == 7


SCHED = ROOT / "data" / "scheduling"


def test_schedule_prints_placements_and_the_fit_error():
    out = kbook("schedule", "--nodes", str(SCHED / "nodes.yaml"), "--pods", str(SCHED / "pods.yaml"))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["POD", "NODE"]
    assert lines[7].split() == ["default/train", "node-b1"]
    assert lines[8].split() == ["default/report", "<pending>"]
    assert lines[-1] == (
        "default/report: FailedScheduling: 0/5 nodes are available: 1 node(s) had untolerated taint "
        "{nvidia.com/gpu: true}, 1 node(s) were unschedulable, 3 Insufficient cpu. preemption: 0/5 nodes are "
        "available: 2 Preemption is not helpful for scheduling, 3 No preemption victims found for incoming pod..")


def test_schedule_explain_and_bad_config(tmp_path):
    out = kbook("schedule", "--nodes", str(SCHED / "nodes.yaml"), "--pods", str(SCHED / "pods.yaml"),
                "--config", str(SCHED / "binpacking.yaml"), "--explain", "web-1")
    assert out.returncode == 0, out.stderr
    assert "default/web-1, at its first scheduling attempt:" in out.stdout
    assert "NodeResourcesBalancedAllocation" in out.stdout and "has the best total" in out.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"
                   "percentageOfNodesToScore: 120\n")
    out = kbook("schedule", "--nodes", str(SCHED / "nodes.yaml"), "--pods", str(SCHED / "pods.yaml"),
                "--config", str(bad))
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "percentageOfNodesToScore: Invalid value: 120" in out.stderr
