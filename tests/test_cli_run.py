"""`kbook list` and `kbook run`: the chapters as programs; tools/exec_report.py: the time budget."""

import json
import pickle
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import nbformat
import papermill
import pytest

from kbook.chapters import chapters, parse_value
from test_book import _glued

ROOT = Path(__file__).resolve().parents[1]


def kbook(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "kbook.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_list_shows_every_notebook_of_the_toc_in_order_with_every_parameter():
    out = kbook("list")
    assert out.returncode == 0, out.stderr
    blocks = out.stdout.strip().split("\n\n")
    names = [b.split(":", 1)[0] for b in blocks]
    assert names == ["manifests", "microservices", "containers", "images", "declarative", "architecture",
                     "scheduler", "hpa"]
    for block, name in zip(blocks, names):
        head, *lines = block.splitlines()
        assert head.endswith(f"(book/{name}.ipynb)")
        found = papermill.inspect_notebook(str(ROOT / "book" / f"{name}.ipynb"))
        assert [ln.split("=")[0].strip() for ln in lines] == list(found), name
    assert "  trace_day       = 1" in out.stdout and "# which day of the trace (0 is the first)" in out.stdout
    # a value written over several lines is shown whole on one, not as papermill's first line "{"
    assert '  services            = { "storefront": {"openssl": ">=3.0", "libxml2": "^2.11"},' in out.stdout


def test_list_and_run_of_an_unknown_chapter_name_the_chapters(tmp_path):
    for args in (["list", "nosuch"], ["run", "nosuch", "--out", str(tmp_path)]):
        out = kbook(*args)
        assert out.returncode == 1 and "Traceback" not in out.stderr
        assert out.stderr.startswith("nosuch: no such chapter; the chapters are: manifests, microservices,")
    assert not any(tmp_path.iterdir())


def test_run_injects_the_values_and_writes_the_notebook_and_its_html(tmp_path):
    out = kbook("run", "manifests", "-p", "replicas_override", "12", "-p", "node_cpu", "8000m", "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    nb_path, html_path = tmp_path / "manifests.ipynb", tmp_path / "manifests.html"
    assert out.stdout.splitlines() == [f"wrote {nb_path}", f"wrote {html_path}"]
    assert "Executing: 100%" in out.stderr  # papermill's progress bar
    nb = nbformat.read(nb_path, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and 'replicas_override = 12\nnode_cpu = "8000m"' in injected[0].source
    ran, stored = _glued(nb), _glued(nbformat.read(ROOT / "book" / "manifests.ipynb", as_version=4))
    assert ran["node_cpu"] == "'8000m'" != stored["node_cpu"]
    assert ran["total_cpu"] != stored["total_cpu"]  # 12 replicas of every Deployment request other totals
    html = html_path.read_text()
    assert html.lstrip().lower().startswith("<!doctype html") and "Objects, manifests and resource quantities" in html
    assert "celltag_injected-parameters" in html
    assert '<span class="n">replicas_override</span> <span class="o">=</span> <span class="mi">12</span>' in html
    assert html.count("data:image/png;base64,") >= 1  # the figures are in the page


def test_run_rejects_an_unknown_parameter_before_running(tmp_path):
    out = kbook("run", "manifests", "-p", "replica_override", "3", "--out", str(tmp_path))
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr == ("manifests: no parameter replica_override; its parameters are: "
                          "manifest, replicas_override, node_cpu, node_memory\n")
    assert not any(tmp_path.iterdir())


def test_run_of_a_failing_chapter_exits_nonzero_and_keeps_both_files(tmp_path):
    out = kbook("run", "manifests", "-p", "manifest", "no/such.yaml", "--out", str(tmp_path), "--no-progress")
    assert out.returncode == 1
    assert "manifests: cell " in out.stderr and "no/such.yaml" in out.stderr
    assert (tmp_path / "manifests.ipynb").is_file() and (tmp_path / "manifests.html").is_file()


@pytest.mark.parametrize("text, value", [
    ("12", 12), ("0.5", 0.5), ("True", True), ("None", None), ("[0.0, 0.1]", [0.0, 0.1]),
    ('{"a": 1}', {"a": 1}), ('"12"', "12"), ("8000m", "8000m"), ("../data/x.yaml", "../data/x.yaml"),
    ("shop-web:1.0", "shop-web:1.0"), ("(4, 6)", (4, 6)),
])
def test_parse_value(text, value):
    assert parse_value(text) == value and type(parse_value(text)) is type(value)


# tools/exec_report.py reads myst-nb's execution records from the pickled Sphinx environment.

def _fake_build(tmp_path, runtimes, failed=()):
    docs = [f"book/{c.name}" for c in chapters(ROOT)]
    meta = {d: {"exec_data": {"runtime": runtimes.get(d, 1.0), "succeeded": d not in failed, "method": "force",
                              "error": "CellExecutionError" if d in failed else None, "mtime": 0.0,
                              "traceback": None}} for d in docs if runtimes.get(d, 1.0) != "missing"}
    (tmp_path / ".doctrees").mkdir()
    with open(tmp_path / ".doctrees" / "environment.pickle", "wb") as f:
        pickle.dump(SimpleNamespace(nb_metadata=meta), f)
    return subprocess.run([sys.executable, "tools/exec_report.py", "--build-dir", str(tmp_path), "--budget", "60"],
                          capture_output=True, text=True, cwd=ROOT)


def test_exec_report_passes_within_budget_and_writes_the_table(tmp_path):
    out = _fake_build(tmp_path, {"book/hpa": 59.9})
    assert out.returncode == 0, out.stderr
    assert "| book/hpa | 59.9 | ok |" in out.stdout
    assert (tmp_path / "execution-times.md").read_text() in out.stdout
    data = json.loads((tmp_path / "execution-times.json").read_text())
    assert data["budget_seconds"] == 60 and len(data["chapters"]) == 8
    assert data["chapters"][-1] == {"chapter": "book/hpa", "seconds": 59.9, "method": "force", "succeeded": True}


@pytest.mark.parametrize("runtimes, failed, message", [
    ({"book/hpa": 60.5}, (), "BUDGET: book/hpa: 60.5 s at default parameters, over the budget of 60 s"),
    ({}, ("book/images",), "BUDGET: book/images: execution failed: CellExecutionError"),
    ({"book/scheduler": "missing"}, (), "BUDGET: book/scheduler: not executed by the build"),
])
def test_exec_report_fails_a_chapter_over_budget_failed_or_not_run(tmp_path, runtimes, failed, message):
    out = _fake_build(tmp_path, runtimes, failed)
    assert out.returncode == 1
    assert out.stderr.startswith(message)
