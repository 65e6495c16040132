"""The built book in Chromium: every page of the table of contents loads with its images, says no
error in the console, asks nothing of the network, shows the numbers its notebook glued, links to
pages and anchors that exist, typesets its formulas; search finds a term; a full-page screenshot of
every page goes to _build/screenshots/."""

from __future__ import annotations

import re
import struct
import urllib.parse
import urllib.request

import nbformat
import pytest
from kbook_html import (
    ALLOWED_CONSOLE_ERRORS, SCREENSHOTS, VIEWPORT, broken_link, chapters, expected_glue_text, glue_references,
    slug, source_of, toc_pages,
)

PAGES = toc_pages()
CHAPTERS = chapters()
# A reader's search, and a page it must find: the HPA chapter's subject.
SEARCHES = [("autoscaler", "book/hpa"), ("kube-scheduler", "book/scheduler")]
MATH_PAGE = "book/hpa"  # the page with the HPA formula


def ids(pages):
    return [slug(p) for p in pages]


def test_the_suite_sees_the_whole_book():
    assert len(PAGES) >= 3 and len(CHAPTERS) >= 1, PAGES
    assert len({slug(p) for p in PAGES}) == len(PAGES), "two pages would share a screenshot"
    assert MATH_PAGE in PAGES and all(page in PAGES for _, page in SEARCHES)


def test_index_opens_the_first_page(reader, site):
    page, watch = reader
    page.goto(f"{site}/index.html")
    page.wait_for_url(f"{site}/{PAGES[0]}.html")
    assert page.locator("main article h1").count() == 1


@pytest.mark.parametrize("name", PAGES, ids=ids(PAGES))
def test_page_loads(visit, name):
    v = visit(name)
    assert v.status == 200, v.url
    assert v.state["path"] == f"/{name}.html"
    assert len(v.state["headings"]) == 1 and v.state["headings"][0], v.state["headings"]
    assert v.state["headings"][0].rstrip("#").strip() in v.state["title"]
    assert len(v.state["text"]) > 500, "the article is (nearly) empty"
    assert v.state["tracebacks"] == 0, "a cell's error output is shown"
    assert v.state["problems"] == [], "Sphinx rendered a problem marker"


@pytest.mark.parametrize("name", PAGES, ids=ids(PAGES))
def test_every_image_loads(visit, name):
    v = visit(name)
    broken = [i["src"] for i in v.state["images"] if not (i["complete"] and i["width"] > 0)]
    assert broken == []
    src = source_of(name)
    if src.suffix == ".ipynb":  # a chapter that stores figures shows them (not so with MPLBACKEND set)
        nb = nbformat.read(src, as_version=4)
        stored = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
        shown = [i for i in v.state["images"] if "/_images/" in i["src"]]
        if stored:
            assert shown, f"the notebook stores {stored} figures and the page shows none"


@pytest.mark.parametrize("name", PAGES, ids=ids(PAGES))
def test_no_console_error(visit, name):
    """No console error or uncaught exception except the documented ALLOWED_CONSOLE_ERRORS."""
    assert visit(name).watch.unexpected_errors() == []


@pytest.mark.parametrize("name", PAGES, ids=ids(PAGES))
def test_no_request_leaves_the_machine(visit, name):
    """The page needs nothing but the local server: every other request was aborted and is listed."""
    assert visit(name).watch.blocked == []


@pytest.mark.parametrize("name", PAGES, ids=ids(PAGES))
def test_every_local_request_succeeds(visit, name):
    assert visit(name).watch.failed == []


@pytest.mark.parametrize("name", PAGES, ids=ids(PAGES))
def test_glued_values_are_shown(visit, name):
    """Each inline glue role of the prose shows, in order, the value stored in the notebook's outputs.

    Values from cells excluded from nbval (wall-clock times) are only required to be non-empty.
    """
    refs = glue_references(name)
    shown = visit(name).state["pasted"]
    assert len(shown) == len(refs), f"{len(refs)} glue roles in the source, {len(shown)} shown"
    for (role, target, spec), text in zip(refs, shown):
        raw, accepted = expected_glue_text(name, role, target, spec)
        if raw is None:
            assert text.strip(), f"{target} is shown empty"
        else:
            assert text in accepted, f"{target}: page shows {text!r}, the notebook stores {raw}"


def test_glued_values_are_checked():
    """The glue check above is not vacuous: the chapters glue numbers and the prose uses them."""
    assert sum(len(glue_references(c)) for c in CHAPTERS) >= len(CHAPTERS)


@pytest.mark.parametrize("name", PAGES, ids=ids(PAGES))
def test_links_resolve(visit, site, name):
    """Every link to the book itself (pages, anchors, downloads) leads to something that is there."""
    v = visit(name)
    local = sorted({u for u in v.state["links"] if u.startswith(site + "/")})
    assert local, "a page with no links"
    assert [why for u in local if (why := broken_link(u))] == []


@pytest.mark.parametrize("name", CHAPTERS, ids=ids(CHAPTERS))
def test_chapter_offers_its_notebook(visit, site, name):
    """The download button serves the chapter's own .ipynb; Binder and Colab launch buttons open it."""
    links = visit(name).state["links"]
    download = [u for u in links if u.startswith(site + "/") and u.split("?")[0].endswith(f"/{name}.ipynb")]
    assert download, "no download link to the .ipynb"
    served = nbformat.reads(urllib.request.urlopen(download[0], timeout=10).read().decode(), as_version=4)
    source = nbformat.read(source_of(name), as_version=4)
    assert [c.source for c in served.cells] == [c.source for c in source.cells]
    for host in ("mybinder.org", "colab.research.google.com"):
        launch = [u for u in links if urllib.parse.urlsplit(u).hostname == host and f"{name}.ipynb" in u]
        assert launch, f"no {host} launch button for {name}.ipynb"


def test_pages_link_each_other(visit, site):
    """Every page links to every other page of the table of contents (the navigation)."""
    for name in PAGES:
        linked = {u.split("#")[0] for u in visit(name).state["links"]}
        assert {f"{site}/{p}.html" for p in PAGES if p != name} <= linked, name


def test_next_buttons_follow_the_table_of_contents(reader, site):
    """A reader who clicks "Next" from the first page reads the table of contents in order."""
    page, watch = reader
    page.goto(f"{site}/{PAGES[0]}.html")
    seen = [PAGES[0]]
    while page.locator("a.right-next").count():
        page.locator("a.right-next").first.click()
        page.wait_for_load_state("load")
        seen.append(re.sub(r"^/|\.html$", "", page.evaluate("location.pathname")))
        assert len(seen) <= len(PAGES) + 2, seen
    # The last chapter's "Next" may lead to the index pages Sphinx adds; the book itself is in order.
    assert seen[: len(PAGES)] == PAGES


@pytest.mark.parametrize("term, expected", SEARCHES)
def test_search_finds_a_term(reader, site, term, expected):
    """Type the term into the search dialog of the first page and press Enter, as a reader does."""
    page, watch = reader
    page.goto(f"{site}/{PAGES[0]}.html")
    page.locator("button.search-button__button").first.click()
    box = page.locator("input[name='q']:visible").first
    box.fill(term)
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search\.html\?q="))
    # Sphinx's searchtools retitles the results "Search Results" when the search has finished.
    page.wait_for_function("() => document.querySelector('#search-results h2')?.innerText === 'Search Results'",
                           timeout=15_000)
    hits = page.eval_on_selector_all("#search-results ul.search li > a", "as => as.map(a => a.href)")
    assert any(h.split("#")[0].endswith(f"/{expected}.html") for h in hits), (term, hits)
    assert watch.blocked == [], "the search asked the network"
    assert watch.unexpected_errors() == []


def test_math_is_typeset(visit):
    """MathJax, served from the book itself, turns every formula of the HPA page into mjx-container."""
    v = visit(MATH_PAGE)
    assert v.state["math"] >= 1, "the page has no formula to check"
    assert v.state["typeset"] == v.state["math"], f"{v.state['typeset']} of {v.state['math']} formulas typeset"
    raw = re.findall(r"\\[(\[]", v.state["text"])
    assert raw == [], "raw TeX delimiters are shown"


def _png_size(path):
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", head[16:24])


@pytest.mark.parametrize("name", PAGES, ids=ids(PAGES))
def test_full_page_screenshot(visit, name):
    """_build/screenshots/<page>.png holds the whole page (taller than the window), not a blank one."""
    from PIL import Image, ImageStat

    shot = visit(name).screenshot
    assert shot.parent == SCREENSHOTS and shot.name == f"{slug(name)}.png"
    width, height = _png_size(shot)
    assert width == VIEWPORT["width"] and height > VIEWPORT["height"], (width, height)
    with Image.open(shot) as im:
        assert max(ImageStat.Stat(im.convert("L")).stddev) > 10, "a uniform (blank) screenshot"


def test_allow_list_is_documented():
    assert all(reason for reason in ALLOWED_CONSOLE_ERRORS.values())
