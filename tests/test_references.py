"""The book's sources: every citation resolves, every reference is cited, and every chapter
links the upstream code it models at the tag it follows."""

import re
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
CHAPTERS = sorted(BOOK.glob("*.ipynb"))


def _prose(path: Path) -> str:
    if path.suffix == ".md":
        return path.read_text()
    nb = nbformat.read(path, as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def _bib_keys() -> set[str]:
    return set(re.findall(r"^@\w+\{([^,]+),", (BOOK / "references.bib").read_text(), re.M))


def _cited() -> set[str]:
    keys = set()
    for path in [*CHAPTERS, *BOOK.glob("*.md")]:
        for group in re.findall(r"\{cite(?::[pt])?\}`([^`]+)`", _prose(path)):
            keys |= {k.strip() for k in group.split(",")}
    return keys


def test_every_citation_is_in_the_bibliography_and_every_entry_is_cited():
    bib, cited = _bib_keys(), _cited()
    assert cited - bib == set(), "cited but not in references.bib"
    assert bib - cited == set(), "in references.bib but cited nowhere"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_links_the_upstream_code_it_models(path):
    prose = _prose(path)
    assert "**Upstream code**" in prose
    links = re.findall(r"\]\((https://github\.com/[^)]+)\)", prose)
    assert links, "no upstream link"
    for url in links:
        if url.startswith("https://github.com/kubernetes/kubernetes/"):
            assert "/v1.28.0/" in url, url
    assert re.search(r"\{doc\}`", prose), "no cross-reference to another chapter"


def test_config_configures_launch_and_download_buttons():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["launch_buttons"]["binderhub_url"].startswith("https://")
    assert config["launch_buttons"]["colab_url"].startswith("https://")
    assert config["repository"]["url"].startswith("https://github.com/")
    assert config["html"]["use_download_button"] is True
    assert "book/references.bib" in config["bibtex_bibfiles"]
