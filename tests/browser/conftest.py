"""The built book as a reader gets it: _build/html served on 127.0.0.1 and read by headless Chromium.

Debian's chromium (/usr/bin/chromium) driven by PyPI's playwright; `playwright install` is never
used. Every request to a host other than the local server is aborted and recorded, so the suite
also proves that the book needs no network. Each page of the table of contents is visited once per
session (a fresh browser context, as a first-time reader) and the record is shared by the tests.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from kbook_html import (
    ALLOWED_CONSOLE_ERRORS, CHROMIUM, CHROMIUM_ARGS, HTML, MATH_TIMEOUT_MS, SCREENSHOTS, VIEWPORT, missing_browser,
    slug,
)


# ---------------------------------------------------------------- the local server


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def site():
    """_build/html on 127.0.0.1 at a free port; yields the base URL."""
    if not (HTML / "index.html").exists():
        pytest.fail(f"{HTML} has no built book: run `make build` first")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(HTML)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    """Chromium, or a skip when it or playwright is missing; under CI (env CI set) that is a failure."""
    reason = missing_browser()
    if reason and os.environ.get("CI"):
        pytest.fail(f"the browser tests must run under CI: {reason}")
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Watch:
    """What the browser asked for and said while showing pages."""

    base: str
    blocked: list[str] = field(default_factory=list)        # requests to any other host (aborted)
    failed: list[str] = field(default_factory=list)         # local requests that did not succeed
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def attach(self, context, page):
        def route(r):
            if r.request.url.startswith(self.base + "/"):
                r.continue_()
            else:
                self.blocked.append(r.request.url)
                r.abort()

        context.route("**/*", route)
        page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        page.on("pageerror", lambda e: self.page_errors.append(getattr(e, "message", str(e))))
        page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.status} {r.url}"))
        page.on("requestfailed", lambda r: r.url.startswith(self.base + "/")
                and self.failed.append(f"{r.failure} {r.url}"))

    def unexpected_errors(self) -> list[str]:
        errors = [e for e in self.console_errors if not e.startswith("Failed to load resource")]
        errors += self.page_errors
        return [e for e in errors if not any(re.search(rx, e) for rx in ALLOWED_CONSOLE_ERRORS)]


@pytest.fixture
def reader(browser, site):
    """A fresh page, as a first-time reader's, with its Watch; closed after the test."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    watch = Watch(site)
    watch.attach(context, page)
    yield page, watch
    context.close()


# ---------------------------------------------------------------- one visit per page

PAGE_STATE = """() => {
  const article = document.querySelector('main article') || document.body;
  const imgs = [...document.images].map(i => ({src: i.currentSrc || i.src, complete: i.complete,
                                               width: i.naturalWidth}));
  return {
    title: document.title,
    path: location.pathname,
    headings: [...article.querySelectorAll('h1')].map(h => h.innerText.trim()),
    text: article.innerText,
    images: imgs,
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    pasted: [...article.querySelectorAll('.pasted-text, .pasted-inline')].map(s => s.innerText),
    tracebacks: article.querySelectorAll('.output.traceback, .output.error').length,
    problems: [...article.querySelectorAll('.problematic, .system-message')].map(e => e.innerText),
    math: article.querySelectorAll('div.math, span.math').length,
    typeset: [...article.querySelectorAll('div.math, span.math')]
               .filter(m => m.querySelector('mjx-container')).length,
  };
}"""

WAIT_IMAGES = """() => Promise.all([...document.images].map(i => i.complete ? null :
    new Promise(r => { i.addEventListener('load', r); i.addEventListener('error', r); })))"""

WAIT_MATH = """() => [...document.querySelectorAll('div.math, span.math')]
                      .every(m => m.querySelector('mjx-container'))"""


@dataclass
class Visit:
    page: str
    url: str
    status: int
    state: dict
    watch: Watch
    screenshot: Path


@pytest.fixture(scope="session")
def visit(browser, site):
    """visit(page) -> the Visit of a toc page (loaded once per session, full-page screenshot taken)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    cache: dict[str, Visit] = {}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):  # only this run's pages remain
        old.unlink()

    def load(page_name: str) -> Visit:
        if page_name in cache:
            return cache[page_name]
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        watch = Watch(site)
        watch.attach(context, page)
        url = f"{site}/{page_name}.html"
        response = page.goto(url, wait_until="load")
        page.wait_for_load_state("networkidle")
        page.evaluate(WAIT_IMAGES)
        try:  # MathJax typesets after load; give it a moment where the page has math
            page.wait_for_function(WAIT_MATH, timeout=MATH_TIMEOUT_MS)
        except PlaywrightTimeout:
            pass  # recorded in state["typeset"] and asserted by the math test
        state = page.evaluate(PAGE_STATE)
        shot = SCREENSHOTS / f"{slug(page_name)}.png"
        page.screenshot(path=str(shot), full_page=True)
        context.close()
        cache[page_name] = Visit(page_name, url, response.status if response else 0, state, watch, shot)
        return cache[page_name]

    return load


