"""The book's figure style: one look for every chapter, readable at the book's width.

Every chapter calls :func:`use_style` once, draws with :func:`figure` (which makes figures exactly as wide as
the book's text column), labels axes with :func:`axis_label` (a quantity and its unit) and ends a figure with
:func:`show`, which checks the figure against the rules below before it displays it:

* at most :data:`WIDTH` inches wide: drawn at 100 px per inch, a figure is about 710 px wide, and the built
  book shows it at 672 px in a 1280 px wide window and at its own size from 1440 px up (measured in
  Chromium), so its text is shown at 95 to 100 % of its size;
* no text smaller than :data:`MIN_FONT_PT` points;
* every axis that shows numeric tick labels has a label, so that every number on a figure has a unit;
* colours from ``PALETTE``, Okabe and Ito's colour-blind-safe palette, and a colour-blind-safe map
  (:data:`CMAP`) for heat maps.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Text

# Okabe and Ito's colour-blind-safe palette ("Color Universal Design", 2008):
# blue, orange, bluish green, vermillion, sky blue, reddish purple, yellow, black.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000"]
#: Neutral grey for reference lines (targets, thresholds, "what the client wanted").
REFERENCE = "0.35"
#: Colour map for heat maps: viridis is perceptually uniform and readable with the common colour deficiencies.
CMAP = "viridis"
#: Width of every figure in inches: the book's text column at 100 dpi (700 px).
WIDTH = 7.0
#: Height of a one-row figure in inches.
HEIGHT = 3.4
#: Smallest text allowed on a figure, in points.
MIN_FONT_PT = 8.0
DPI = 100


def use_style() -> None:
    """Apply the book's matplotlib style (palette, sizes, light grid) to later figures."""
    mpl.rcParams.update(
        {
            "axes.prop_cycle": mpl.cycler(color=PALETTE),
            "image.cmap": CMAP,
            "figure.figsize": (WIDTH, HEIGHT),
            "figure.dpi": DPI,
            "savefig.dpi": 150,
            "font.size": 10,
            "axes.titlesize": 11,
            "axes.labelsize": 10,
            "xtick.labelsize": 9,
            "ytick.labelsize": 9,
            "legend.fontsize": 9,
            "figure.titlesize": 11,
            "lines.linewidth": 1.8,
            "lines.markersize": 5,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
        }
    )


def axis_label(quantity: str, unit: str | None = None) -> str:
    """An axis label: the quantity, then its unit in parentheses (``axis_label("latency", "ms")`` is
    ``"latency (ms)"``). Counts take the counted thing as their unit: ``axis_label("replicas", "pods")``."""
    quantity = quantity.strip()
    if not quantity:
        raise ValueError("an axis label needs a quantity")
    return f"{quantity} ({unit.strip()})" if unit and unit.strip() else quantity


def figure(nrows: int = 1, ncols: int = 1, *, height: float | None = None, **subplots) -> tuple[Figure, object]:
    """A new pyplot figure :data:`WIDTH` inches wide with constrained layout, and its axes (as
    :func:`matplotlib.pyplot.subplots` returns them). ``height`` defaults to :data:`HEIGHT` per row, capped."""
    import matplotlib.pyplot as plt

    if height is None:
        height = min(HEIGHT * nrows, 7.0) if nrows > 1 else HEIGHT
    return plt.subplots(nrows, ncols, figsize=(WIDTH, height), layout="constrained", **subplots)


def axes_labels(ax: Axes, x: str | Sequence[str] | None = None, y: str | Sequence[str] | None = None,
                title: str | None = None) -> Axes:
    """Label ``ax``: ``x`` and ``y`` are a label or a ``(quantity, unit)`` pair for :func:`axis_label`."""
    for value, setter in ((x, ax.set_xlabel), (y, ax.set_ylabel)):
        if value is not None:
            setter(value if isinstance(value, str) else axis_label(*value))
    if title is not None:
        ax.set_title(title)
    return ax


_NUMBER = re.compile(r"^[\s$0-9.,\u2212+\-eE\u00d7^{}%]*[0-9][\s$0-9.,\u2212+\-eE\u00d7^{}%]*$")


def _numeric(axis) -> bool:
    """Whether an axis shows numbers as tick labels (rather than category names, or nothing at all)."""
    if not axis.get_visible():
        return False
    shown = [t.get_text().replace("\\mathdefault", "") for t in axis.get_ticklabels() if t.get_visible()]
    shown = [s for s in shown if s.strip()]
    return bool(shown) and all(_NUMBER.match(s) for s in shown)


def problems(fig: Figure) -> list[str]:
    """What in ``fig`` breaks the book's figure rules (an empty list when nothing does)."""
    found = []
    width = fig.get_figwidth()
    if width > WIDTH + 1e-6:
        found.append(f"the figure is {width:g} in wide, more than the book's {WIDTH:g} in")
    fig.canvas.draw()                      # tick labels exist only once the figure is drawn
    for text in fig.findobj(Text):
        if text.get_visible() and text.get_text().strip() and text.get_fontsize() < MIN_FONT_PT - 1e-6:
            found.append(f"text {text.get_text()!r} is {text.get_fontsize():g} pt, under {MIN_FONT_PT:g} pt")
    for i, ax in enumerate(fig.axes):
        if not ax.get_visible() or not ax.axison:
            continue
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            if _numeric(axis) and not axis.get_label_text().strip():
                found.append(f"axes {i} ({ax.get_title() or 'untitled'}): the {name} axis shows numbers but has no label")
    return found


def check(fig: Figure) -> Figure:
    """Raise ``ValueError`` listing every rule ``fig`` breaks; return ``fig`` when it breaks none."""
    found = problems(fig)
    if found:
        raise ValueError("the figure breaks the book's style: " + "; ".join(found))
    return fig


def show(fig: Figure | None = None) -> None:
    """:func:`check` the figure (the current pyplot figure by default), then display it."""
    import matplotlib.pyplot as plt

    check(fig if fig is not None else plt.gcf())
    plt.show()
