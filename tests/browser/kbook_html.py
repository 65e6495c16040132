"""The book's sources and the built site as the browser tests read them: the pages of _toc.yml,
the values the notebooks glued, the console errors allowed, and a local link checker."""

from __future__ import annotations

import ast
import functools
import html.parser
import os
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = os.environ.get("KBOOK_CHROMIUM", "/usr/bin/chromium")
# The flags of the project's toolchain notes (section 11): headless, no sandbox (root in CI),
# nothing that phones home, /tmp instead of a small /dev/shm.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
VIEWPORT = {"width": 1280, "height": 900}  # a laptop: both sidebars shown, text column ~700 px
MATH_TIMEOUT_MS = 10_000

# Console errors that the toolchain itself prints on every page, each with the reason.
# Nothing else may appear; "Failed to load resource" lines are reported instead by the network
# checks, which name the URL (test_no_request_leaves_the_machine, test_every_local_request_succeeds).
ALLOWED_CONSOLE_ERRORS = {
    # Sphinx 7.x writes sphinx-thebe's inline `const THEBE_JS_URL = ...` script twice into every
    # page (toolchain notes, pitfall 12); the second copy throws. Thebe is only used by the
    # launch button's "live code", which reads the first copy.
    r"^Identifier 'THEBE_JS_URL' has already been declared$":
        "sphinx-thebe's inline script is emitted twice by Sphinx 7.x",
}


def missing_browser() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -r requirements.txt)"
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).is_file()):
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


# ---------------------------------------------------------------- the book's sources


def toc_pages() -> list[str]:
    """Every page of _toc.yml in reading order, as paths without suffix ("book/intro", ...)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                pages.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return [re.sub(r"\.(md|ipynb)$", "", p) for p in pages]


def slug(page: str) -> str:
    """A page's short name, unique in the book: "book/hpa" -> "hpa", "book/api/scheduler" -> "api-scheduler"."""
    return re.sub(r"^book/", "", page).replace("/", "-")


def source_of(page: str) -> Path:
    for suffix in (".ipynb", ".md"):
        if (ROOT / f"{page}{suffix}").exists():
            return ROOT / f"{page}{suffix}"
    raise FileNotFoundError(page)


def chapters() -> list[str]:
    """The executable chapters: the pages of the table of contents that are notebooks."""
    return [p for p in toc_pages() if source_of(p).suffix == ".ipynb"]


@dataclass(frozen=True)
class Glued:
    text: str        # the stored text/plain of the value
    volatile: bool   # its cell is excluded from nbval (wall-clock times): compare presence only


@functools.cache
def glued_values(notebook: Path) -> dict[str, Glued]:
    """The values a notebook glued, from its stored outputs (what nbval holds equal to the code)."""
    nb = nbformat.read(notebook, as_version=4)
    values = {}
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        volatile = any(m in cell.source for m in ("NBVAL_IGNORE_OUTPUT", "NBVAL_SKIP")) or bool(
            {"nbval-ignore-output", "nbval-skip"} & set(tags))
        for out in cell.get("outputs", []):
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            text = out.get("data", {}).get("application/papermill.record/text/plain")
            if name and text is not None:
                values[name] = Glued(text, volatile)
    return values


GLUE_ROLE = re.compile(r"\{glue(?::(text|any))?:?\}`([^`]+)`")


def glue_references(page: str) -> list[tuple[str, str, str]]:
    """The inline glue roles of a page's prose in order: (role, notebook-relative key, format spec)."""
    src = source_of(page)
    if src.suffix == ".ipynb":
        nb = nbformat.read(src, as_version=4)
        prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    else:
        prose = src.read_text()
    refs = []
    for role, target in GLUE_ROLE.findall(prose):
        spec = ""
        if role == "text" and ":" in target.split("::")[-1]:
            target, spec = target.rsplit(":", 1)
        refs.append((role or "any", target, spec))
    return refs


def expected_glue_text(page: str, role: str, target: str, spec: str) -> tuple[str | None, list[str]]:
    """(None if volatile, else the accepted renderings) of one glue role as myst-nb writes it."""
    if "::" in target:
        nb_path, name = target.split("::", 1)
        notebook = (ROOT / page).parent / nb_path
    else:
        notebook, name = source_of(page), target
    glued = glued_values(notebook)[name]
    if glued.volatile:
        return None, []
    raw = glued.text
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        value = None
    if spec:
        return raw, [format(value, spec)]
    if role == "text" and isinstance(value, str):
        return raw, [value]          # {glue:text} prints a string without its quotes
    return raw, [raw] + ([value] if isinstance(value, str) else [])


# ---------------------------------------------------------------- links


class _Anchors(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key == "id" or (tag == "a" and key == "name"):
                self.ids.add(value)


@functools.cache
def fetch(url: str) -> tuple[int, str, frozenset[str]]:
    """(status, content type, the ids of an HTML page) of a local URL."""
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            body, status, ctype = r.read(), r.status, r.headers.get_content_type()
    except urllib.error.HTTPError as e:
        return e.code, "", frozenset()
    ids = frozenset()
    if ctype == "text/html":
        parser = _Anchors()
        parser.feed(body.decode("utf-8", "replace"))
        ids = frozenset(parser.ids)
    return status, ctype, ids


def broken_link(url: str) -> str | None:
    """Why a local link does not resolve, or None if it does (target served, #fragment present)."""
    target, _, fragment = url.partition("#")
    status, ctype, ids = fetch(urllib.parse.urlsplit(target)._replace(query="").geturl())
    if status != 200:
        return f"{url}: HTTP {status}"
    fragment = urllib.parse.unquote(fragment)
    if fragment and ctype == "text/html" and fragment not in ids:
        return f"{url}: no element with id {fragment!r}"
    return None
