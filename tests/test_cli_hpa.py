"""``kbook hpa simulate``: the example pair under the example trace, and bad inputs."""

import csv
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "autoscaling"
HPA, DEPLOY, TRACE = DATA / "hpa.yaml", DATA / "deployment.yaml", DATA / "trace.csv"


def kbook(*args):
    return subprocess.run([sys.executable, "-m", "kbook.cli", "hpa", "simulate", *map(str, args)],
                          capture_output=True, text=True)


def test_example_writes_a_csv_and_a_png_of_the_scaling(tmp_path):
    out = kbook("--hpa", HPA, "--deployment", DEPLOY, "--trace", TRACE, "--out", tmp_path / "run")
    assert out.returncode == 0, out.stderr
    csv_path, png_path = tmp_path / "run" / "hpa-simulation.csv", tmp_path / "run" / "hpa-simulation.png"
    assert f"wrote {csv_path}" in out.stdout and f"wrote {png_path}" in out.stdout
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["time", "rate", "ready_replicas", "replicas", "desired_replicas", "utilization",
                             "target_utilization", "latency", "slo_violation", "pod_hours"]
    assert len(rows) == 480  # two hours of 15 s sync periods
    replicas = [int(r["replicas"]) for r in rows]
    assert min(replicas) == 2  # minReplicas while the rate is at its trough
    assert max(replicas) >= 12  # the surge (400 requests/s x 0.01 CPU s = 4 cores, 0.3 a pod at 60 % of 500m)
    assert all(2 <= r <= 20 for r in replicas)
    assert {r["target_utilization"] for r in rows} == {"60"}
    assert float(rows[-1]["pod_hours"]) > 2 * 2  # at least minReplicas pods for two hours


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace("name: web}", "name: api}"),
     "spec.scaleTargetRef: HorizontalPodAutoscaler 'web' targets Deployment 'api', not Deployment 'web'"),
    (lambda t: DEPLOY.read_text(), "hpa.yaml: expected one HorizontalPodAutoscaler, found 0"),
    (lambda t: t.replace("maxReplicas: 20", "maxReplicas: -1"), "spec.maxReplicas"),
])
def test_bad_hpa_is_one_clear_line_without_traceback(tmp_path, edit, message):
    hpa = write(tmp_path, "hpa.yaml", edit(HPA.read_text()))
    out = kbook("--hpa", hpa, "--deployment", DEPLOY, "--trace", TRACE, "--out", tmp_path / "run")
    assert out.returncode == 1 and out.stdout == "" and "Traceback" not in out.stderr
    assert message in out.stderr
    assert not (tmp_path / "run").exists()


def test_bad_trace_names_its_line_and_field(tmp_path):
    trace = write(tmp_path, "t.csv", "timestamp,rps\n0,10\n60,lots\n")
    out = kbook("--hpa", HPA, "--deployment", DEPLOY, "--trace", trace, "--out", tmp_path)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.strip() == f"{trace}: line 3: rps: 'lots' is not a number"


def test_missing_files_and_bad_peak_are_errors(tmp_path):
    out = kbook("--hpa", tmp_path / "none.yaml", "--deployment", DEPLOY, "--trace", TRACE)
    assert out.returncode == 1 and "none.yaml" in out.stderr and "Traceback" not in out.stderr
    out = kbook("--hpa", HPA, "--deployment", DEPLOY, "--trace", TRACE, "--peak", "-5", "--out", tmp_path)
    assert out.returncode == 1 and out.stderr.startswith("--peak: -5.0: ")


def step_run(**kwargs):
    from kbook.hpa import load_pair, simulate
    from kbook.autoscaling.traces import step

    hpa, deployment = load_pair(str(HPA), str(DEPLOY))
    trace = step(3600.0, low=300.0, high=30.0, at=1800.0)  # 3 cores of load (9 pods at 66 %), then a tenth
    return simulate(hpa, deployment, trace, **kwargs).frame.set_index("time")


def test_scale_up_is_immediate_and_scale_down_waits_for_the_stabilization_window():
    f = step_run()
    assert f.loc[:60, "replicas"].max() == 9  # upstream's default scale-up: no stabilization window
    assert f.loc[600:1800, "replicas"].nunique() == 1 and f.loc[1800, "ready_replicas"] == f.loc[1800, "replicas"]
    high = f.loc[1800, "replicas"]
    assert (f.loc[1800:2100, "replicas"] == high).all()  # 300 s of downscale stabilization
    assert f.loc[2100 + 60:, "replicas"].max() < high  # then it scales down (after the metric lag)
    assert f.loc[3600, "replicas"] == 2  # minReplicas
    assert f.loc[1815:, "utilization"].min() < 60  # utilization fell below the target while it waited


def test_new_pods_serve_only_after_pull_start_and_readiness():
    slow, fast = step_run(image_pull_s=60.0, warmup=0), step_run(image_pull_s=1.0, warmup=0)
    first = lambda f: f.index[f["ready_replicas"] >= 1][0]  # noqa: E731
    assert first(fast) <= 15 < 60 < first(slow) <= 90
    assert slow.loc[:60, "slo_violation"].eq(1.0).all()  # nobody serves: every request fails


def test_simulate_refuses_bad_parameters():
    from kbook.hpa import SimulationError, load_pair, simulate
    from kbook.autoscaling.traces import step

    hpa, deployment = load_pair(str(HPA), str(DEPLOY))
    trace = step(600.0, 1.0, 2.0, 300.0)
    with pytest.raises(SimulationError, match="^warmup: "):
        simulate(hpa, deployment, trace, warmup=-1)
    deployment.metadata.namespace = "shop"
    with pytest.raises(SimulationError, match="^metadata.namespace: "):
        simulate(hpa, deployment, trace)
