"""The book's promises that no other suite checks: chapters take papermill parameters,
and every chapter has a parameters cell and glued, not typed, numbers."""

import json
from pathlib import Path

import nbformat
import papermill
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"


def _toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part["chapters"]]
    return files


CHAPTERS = [ROOT / f"{f}.ipynb" for f in _toc_files() if (ROOT / f"{f}.ipynb").exists()]


def _glued(nb) -> dict[str, str]:
    values = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            key = out.get("metadata", {}).get("scrapbook", {}).get("name")
            if key and "application/papermill.record/text/plain" in data:
                values[key] = data["application/papermill.record/text/plain"]
    return values


def test_every_toc_entry_exists():
    for f in _toc_files():
        assert (ROOT / f"{f}.md").exists() or (ROOT / f"{f}.ipynb").exists(), f


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_has_parameters_cell_and_glue(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", []), "the first code cell must be tagged parameters"
    glued = _glued(nb)
    prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert glued, "a chapter states its numbers through glue"
    for name in glued:
        assert f"`{name}`" in prose, f"glued value {name} is not used in the prose"


def test_manifests_chapter_runs_with_other_parameters(tmp_path):
    out = tmp_path / "manifests.ipynb"
    papermill.execute_notebook(
        str(BOOK / "manifests.ipynb"), str(out), parameters={"replicas_override": 12},
        cwd=str(BOOK), kernel_name="python3", progress_bar=False,
    )
    default, scaled = _glued(nbformat.read(BOOK / "manifests.ipynb", as_version=4)), _glued(nbformat.read(out, as_version=4))
    # Twelve replicas of each pod: 12 x (300m + 500m + 2) = 33.6 cores.
    assert json.loads(default["total_cpu"].replace("'", '"')) == "7.3"
    assert json.loads(scaled["total_cpu"].replace("'", '"')) == "33.6"
    assert int(scaled["nodes_needed"]) == 9  # ceil(33.6 / 3.8)
