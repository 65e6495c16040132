"""kbook.plots: the book's one figure style, and the chapters' figures that use it."""

import base64
import io
import struct
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import pytest  # noqa: E402

from kbook import plots  # noqa: E402

BOOK = Path(__file__).resolve().parent.parent / "book"


@pytest.fixture(autouse=True)
def _style():
    with matplotlib.rc_context():
        plots.use_style()
        yield
    plt.close("all")


def test_axis_label_puts_the_unit_in_parentheses():
    assert plots.axis_label("latency", "ms") == "latency (ms)"
    assert plots.axis_label(" replicas ", " pods ") == "replicas (pods)"
    assert plots.axis_label("container") == "container"
    with pytest.raises(ValueError):
        plots.axis_label("  ", "ms")


def test_style_uses_the_palette_and_the_book_width():
    fig, ax = plt.subplots()
    first, second = ax.plot([0, 1], [0, 1]), ax.plot([0, 1], [1, 0])
    assert [first[0].get_color(), second[0].get_color()] == plots.PALETTE[:2]
    assert fig.get_figwidth() == plots.WIDTH
    assert plt.rcParams["image.cmap"] == plots.CMAP


def test_palette_colours_are_distinct():
    rgb = [matplotlib.colors.to_rgb(c) for c in plots.PALETTE]
    assert len(set(rgb)) == len(rgb) == 8


def test_figure_is_as_wide_as_the_book():
    fig, axes = plots.figure(2, 1, sharex=True)
    assert fig.get_figwidth() == plots.WIDTH
    assert len(axes) == 2
    assert plots.figure(height=2.0)[0].get_figheight() == 2.0


def labelled():
    fig, ax = plots.figure()
    ax.plot([1, 2, 3], [4, 5, 6])
    plots.axes_labels(ax, x=("time", "s"), y=("latency", "ms"), title="t")
    return fig, ax


def test_a_labelled_figure_breaks_no_rule():
    fig, ax = labelled()
    assert ax.get_xlabel() == "time (s)" and ax.get_ylabel() == "latency (ms)"
    assert plots.problems(fig) == []
    assert plots.check(fig) is fig


def test_a_numeric_axis_without_a_label_is_reported():
    fig, ax = labelled()
    ax.set_ylabel("")
    found = plots.problems(fig)
    assert len(found) == 1 and "y axis" in found[0]
    with pytest.raises(ValueError, match="y axis"):
        plots.check(fig)


def test_log_and_symlog_axes_count_as_numeric():
    fig, ax = labelled()
    ax.set_yscale("log")
    ax.set_xscale("symlog", linthresh=1)
    ax.set_xlabel("")
    ax.set_ylabel("")
    found = plots.problems(fig)
    assert any("x axis" in p for p in found) and any("y axis" in p for p in found)


def test_category_and_hidden_axes_need_no_label():
    fig, (bars, heat) = plots.figure(1, 2)
    bars.bar(["api", "batch"], [1.0, 2.0])
    bars.set_ylabel("CPU (cores)")
    heat.imshow([[0, 1], [1, 0]])
    heat.set_xticks([])
    heat.set_yticks(range(2), ["a", "b"])
    assert plots.problems(fig) == []


def test_too_wide_and_too_small_text_are_reported():
    fig, ax = labelled()
    fig.set_figwidth(9)
    ax.text(1, 5, "tiny", fontsize=6)
    found = plots.problems(fig)
    assert any("9 in wide" in p for p in found)
    assert any("'tiny' is 6 pt" in p for p in found)


def _png_width(data: str) -> int:
    raw = base64.b64decode(data)
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">I", raw[16:20])[0]


def _figure_cells():
    for path in sorted(BOOK.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for index, cell in enumerate(nb.cells):
            pngs = [o["data"]["image/png"] for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
            if pngs:
                yield path.stem, index, cell, pngs


def test_every_figure_of_the_book_is_captioned_checked_and_fits_the_page():
    cells = list(_figure_cells())
    assert len(cells) >= 20
    names = []
    for chapter, index, cell, pngs in cells:
        where = f"{chapter} cell {index}"
        figure = cell.metadata.get("mystnb", {}).get("figure", {})
        caption, name = figure.get("caption", ""), figure.get("name", "")
        assert len(caption.split()) >= 15, f"{where}: a caption that says what to look at"
        assert name.startswith(f"fig-{chapter}-"), where
        names.append(name)
        assert "show(fig)" in cell.source or "check(" in cell.source, f"{where}: not checked by kbook.plots"
        assert "plt.show()" not in cell.source and "tight_layout" not in cell.source, where
        # a figure cell shows only its figure: glue and tables would land inside the figure with its caption
        assert len(pngs) == 1 and len(cell.outputs) == 1, f"{where}: one output, the figure"
        # drawn at the book's width: 7 in at 100 dpi inline, or at 150 dpi when saved (then scaled down)
        assert _png_width(pngs[0]) <= plots.WIDTH * 150 + 20, where
    assert len(set(names)) == len(names)
