"""tools/check_offline.py: the audit that the built book loads nothing from outside."""
import importlib.util
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "check_offline", Path(__file__).resolve().parents[1] / "tools" / "check_offline.py")
check_offline = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(check_offline)

THEBE = ('<script>const THEBE_JS_URL = "https://unpkg.com/thebe@0.8.2/lib/index.js"; '
         'const thebe_selector = ".thebe,.cell"</script>')


def _build(tmp_path: Path, body: str, css: str = "p { color: red }") -> Path:
    """A two-page build: book/page.html with `body`, and its local assets."""
    root = tmp_path / "html"
    (root / "_static" / "mathjax").mkdir(parents=True)
    (root / "_static" / "mathjax" / "tex.js").write_text("window.x = 1;")
    (root / "_static" / "site.css").write_text(css)
    (root / "_static" / "font.woff2").write_bytes(b"\0")
    (root / "book").mkdir()
    (root / "index.html").write_text('<meta http-equiv="Refresh" content="0; url=book/page.html" />')
    (root / "book" / "page.html").write_text(
        "<html><head>"
        '<link rel="stylesheet" href="../_static/site.css?v=1" />'
        '<link rel="next" href="other.html" />'
        '<script defer src="../_static/mathjax/tex.js?v=abc"></script>'
        f"{THEBE}</head><body>{body}</body></html>")
    return root


def test_self_contained_build_passes(tmp_path):
    root = _build(tmp_path, '<a href="https://github.com/kubernetes/kubernetes">upstream</a>'
                            '<link rel="canonical" href="https://example.org/book/page.html" />'
                            '<img src="data:image/png;base64,AAAA" />'
                            '<script type="text/x-thebe-config">{"binderUrl": "https://mybinder.org"}</script>',
                  css="/* see https://example.org */ @font-face { src: url(font.woff2) }"
                      " .x { background: url(\"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'%3E\") }")
    assert check_offline.check_build(root) == []
    assert check_offline.main(["check_offline", str(root)]) == 0


@pytest.mark.parametrize("body, expected", [
    ('<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>',
     "<script src> loads https://cdn.jsdelivr.net"),
    ('<link rel="stylesheet" href="//fonts.googleapis.com/css?family=Roboto" />', "<link rel=stylesheet> loads"),
    ('<link rel="preconnect" href="https://fonts.gstatic.com" />', "<link rel=preconnect> loads"),
    ('<img srcset="a.png 1x, https://example.org/b.png 2x" />', "<img srcset> loads https://example.org/b.png"),
    ('<iframe src="https://www.youtube.com/embed/x"></iframe>', "<iframe src> loads"),
    ('<div style="background: url(https://example.org/bg.png)"></div>', "inline style loads"),
    ("<style>@import 'https://example.org/a.css';</style>", "inline style loads https://example.org/a.css"),
    ('<script>var s = document.createElement("script"); s.src = "https://www.googletagmanager.com/gtag/js";</script>',
     "inline script names https://www.googletagmanager.com/gtag/js"),
    ('<button class="btn thebe-launch-button" onclick="initThebeSBT()">Live Code</button>', "live-code (thebe)"),
    ('<script src="../_static/require.min.js"></script>', "not in the build"),
])
def test_each_kind_of_external_resource_fails(tmp_path, body, expected, capsys):
    root = _build(tmp_path, body)
    problems = check_offline.check_build(root)
    assert len(problems) >= 1 and all(p.startswith("book/page.html: ") for p in problems), problems
    assert any(expected in p for p in problems), problems
    assert check_offline.main(["check_offline", str(root)]) == 1
    assert "not self-contained" in capsys.readouterr().out


def test_stylesheet_files_are_read(tmp_path):
    root = _build(tmp_path, "", css="@import url('https://fonts.googleapis.com/css2?family=Lato');"
                                    " @font-face { src: url(missing.woff2) }")
    problems = check_offline.check_build(root)
    assert problems == [
        "_static/site.css: stylesheet loads https://fonts.googleapis.com/css2?family=Lato",
        "_static/site.css: stylesheet names missing.woff2, which is not in the build"]


def test_missing_local_mathjax_is_reported(tmp_path):
    root = _build(tmp_path, "")
    (root / "_static" / "mathjax" / "tex.js").unlink()
    assert check_offline.check_build(root) == [
        "book/page.html: <script src> names ../_static/mathjax/tex.js?v=abc, which is not in the build"]


def test_only_the_known_thebe_constant_is_allowed(tmp_path):
    root = _build(tmp_path, '<script>const THEBE_JS_URL = "https://unpkg.com/other@1/x.js"</script>')
    assert check_offline.check_build(root) == ["book/page.html: inline script names https://unpkg.com/other@1/x.js"]


def test_empty_build_fails(tmp_path):
    assert check_offline.check_build(tmp_path) != []
