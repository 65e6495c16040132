"""Check that the built book loads nothing from outside its own folder.

    python tools/check_offline.py [_build/html]

Reads every .html and .css file of the build and fails (exit 1, one line per finding) when
a page would fetch a resource (script, stylesheet, font, image, frame, CSS url()/@import)
from an absolute address, or when a local resource it names is missing from the build
(for example `node_modules/` was not installed, so the MathJax copy is absent).

Links a reader clicks (<a href>: the upstream code, Binder, Colab) are not resources and
are allowed. Inline scripts may not name an absolute address either, with one exception
listed in ALLOWED_INLINE: sphinx-thebe defines the address of thebe's bundle on every page
and fetches it only when a reader presses a "live code" launch button, so the check also
fails if such a button appears. The browser test (tests/browser) checks the same at run
time by aborting every request to a host other than 127.0.0.1.
"""
from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

# Attributes whose URL the browser fetches on its own, per tag.
RESOURCE_ATTRS = {
    "script": ("src",),
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "iframe": ("src",),
    "frame": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "input": ("src",),
    "image": ("href", "xlink:href"),  # SVG
    "use": ("href", "xlink:href"),  # SVG
}
# <link rel=...> values that are metadata, not something the browser downloads.
LINK_METADATA_RELS = {"canonical", "alternate", "author", "license", "help", "next", "prev",
                      "index", "search", "copyright", "top", "up", "first", "last", "bookmark"}
SCRIPT_TYPES_RUN = {"", "text/javascript", "application/javascript", "module"}
ABSOLUTE = re.compile(r"(?:[a-z][a-z0-9+.-]*:)?//[^\s\"'`)<>]+", re.I)
CSS_URL = re.compile(r"""url\(\s*(['"]?)(.*?)\1\s*\)|@import\s+(['"])(.*?)\3""", re.I | re.S)
CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
# Absolute addresses allowed inside inline scripts, with the reason.
ALLOWED_INLINE = {
    re.compile(r'const THEBE_JS_URL = "https://unpkg\.com/thebe@[0-9.]+/lib/index\.js"'):
        "sphinx-thebe: fetched only on a live-code button press (checked absent)",
}
LIVE_CODE_MARKERS = ("thebe-launch-button", "initThebe")


def is_external(url: str) -> bool:
    """True for an address that leaves the build: http(s), protocol-relative, ftp, ..."""
    url = url.strip()
    if url.startswith("//"):
        return True
    scheme = urlsplit(url).scheme.lower()
    return scheme not in ("", "data", "blob", "javascript", "about", "mailto")


def srcset_urls(value: str) -> list[str]:
    return [part.strip().split()[0] for part in value.split(",") if part.strip()]


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.resources: list[tuple[str, str]] = []  # (what, url)
        self.inline_scripts: list[str] = []
        self.styles: list[str] = []
        self.markup_markers: set[str] = set()
        self._in_script: str | None = None
        self._in_style = False
        self._buffer: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        for attr in RESOURCE_ATTRS.get(tag, ()):
            if a.get(attr):
                urls = srcset_urls(a[attr]) if attr == "srcset" else [a[attr]]
                self.resources.extend((f"<{tag} {attr}>", u) for u in urls)
        if tag == "link" and a.get("href"):
            rels = set(a.get("rel", "").lower().split())
            if not rels or not rels <= LINK_METADATA_RELS:
                self.resources.append((f"<link rel={a.get('rel', '')}>", a["href"]))
        if "style" in a:
            self.styles.append(a["style"])
        for marker in LIVE_CODE_MARKERS:
            if any(marker in v for v in a.values()):
                self.markup_markers.add(marker)
        if tag == "script" and not a.get("src"):
            self._in_script = a.get("type", "").strip().lower()
            self._buffer = []
        elif tag == "style":
            self._in_style = True
            self._buffer = []

    def handle_data(self, data):
        if self._in_script is not None or self._in_style:
            self._buffer.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._in_script is not None:
            if self._in_script in SCRIPT_TYPES_RUN:
                self.inline_scripts.append("".join(self._buffer))
            self._in_script = None
        elif tag == "style" and self._in_style:
            self.styles.append("".join(self._buffer))
            self._in_style = False


def css_urls(css: str) -> list[str]:
    css = CSS_COMMENT.sub("", css)
    return [m.group(2) if m.group(2) is not None else m.group(4) for m in CSS_URL.finditer(css)]


def _local_target(base: Path, url: str, root: Path) -> Path | None:
    """The file a relative URL names, or None for a bare fragment/query or a template."""
    parts = urlsplit(url)
    path = unquote(parts.path)
    if parts.scheme or not path or "{{" in url:  # data:, blob:, mailto:, ... are no files
        return None
    target = (root / path.lstrip("/")) if path.startswith("/") else (base.parent / path)
    return target.resolve()


def _url_problem(rel: Path, what: str, url: str, source: Path, root: Path) -> list[str]:
    """What is wrong with ``url``, loaded by ``what`` in ``source``: an external address, or a
    local file missing from the build."""
    if is_external(url):
        return [f"{rel}: {what} loads {url}"]
    target = _local_target(source, url, root)
    if target is not None and not target.is_file():
        return [f"{rel}: {what} names {url}, which is not in the build"]
    return []


def check_build(root: Path) -> list[str]:
    """Every finding, as 'file: message'. An empty list means the build is self-contained."""
    root = root.resolve()
    problems: list[str] = []
    pages = sorted(root.rglob("*.html"))
    if not pages:
        return [f"{root}: no HTML pages (build the book first)"]
    for page in pages:
        rel = page.relative_to(root)
        if rel.parts[0] == "_static" and rel.name.endswith("macros.html"):
            continue  # Jinja macro files the themes ship; never served as pages
        parser = _PageParser()
        parser.feed(page.read_text(encoding="utf-8", errors="replace"))
        for what, url in parser.resources:
            problems += _url_problem(rel, what, url, page, root)
        for css in parser.styles:
            problems += [f"{rel}: inline style loads {u}" for u in css_urls(css) if is_external(u)]
        for body in parser.inline_scripts:
            rest = body
            for pattern in ALLOWED_INLINE:
                rest = pattern.sub("", rest)
            problems += [f"{rel}: inline script names {u}" for u in ABSOLUTE.findall(rest)]
        for marker in sorted(parser.markup_markers):
            problems.append(f"{rel}: a live-code (thebe) launcher ({marker}) would load thebe from a CDN")
    for sheet in sorted(root.rglob("*.css")):
        rel = sheet.relative_to(root)
        for url in css_urls(sheet.read_text(encoding="utf-8", errors="replace")):
            problems += _url_problem(rel, "stylesheet", url, sheet, root)
    return problems


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else "_build/html")
    problems = check_build(root)
    for line in problems:
        print(line)
    if problems:
        print(f"check_offline: {len(problems)} problem(s): the book in {root} is not self-contained")
        return 1
    print(f"check_offline: {root} loads nothing from outside it "
          f"({sum(1 for _ in root.rglob('*.html'))} HTML files, {sum(1 for _ in root.rglob('*.css'))} stylesheets)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
