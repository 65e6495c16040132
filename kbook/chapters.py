"""The book's chapters as programs: find them, list their parameters, run them with other values.

A chapter is a notebook listed in the book's ``_toc.yml``; its parameters are the assignments of
its first cell tagged ``parameters`` (papermill's convention). :func:`run` executes a chapter with
papermill, which injects the new values in a cell after that one, and writes the executed notebook
and an HTML export of it (nbconvert) side by side.
"""

from __future__ import annotations

import ast
import logging
import os
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import yaml

from kbook.errors import KbookError

__all__ = ["Chapter", "Parameter", "find_book", "chapters", "chapter", "parse_value", "run", "export_html"]


@dataclass(frozen=True)
class Parameter:
    """One assignment of a chapter's ``parameters`` cell."""

    name: str
    default: str
    """The default value as written in the chapter (Python source, whitespace collapsed)."""
    help: str
    """The comment at the end of the assignment's line, if any."""


@dataclass(frozen=True)
class Chapter:
    """A notebook of the book's table of contents."""

    name: str
    """The notebook's file name without ``.ipynb``: what ``kbook run`` takes."""
    path: Path
    title: str
    parameters: tuple[Parameter, ...]


def find_book(start: str | os.PathLike | None = None) -> Path:
    """The directory holding the book's ``_toc.yml``.

    ``start`` if given (it must hold ``_toc.yml``); else the nearest directory from the working
    directory upwards that holds one; else the checkout kbook is installed from (editable install).
    """
    if start is not None:
        root = Path(start).resolve()
        if not (root / "_toc.yml").is_file():
            raise KbookError(f"{start}: no _toc.yml: not a Jupyter Book directory")
        return root
    here = Path.cwd().resolve()
    for d in (here, *here.parents, Path(__file__).resolve().parents[1]):
        if (d / "_toc.yml").is_file():
            return d
    raise KbookError("no _toc.yml in the working directory or above it; pass --book DIR")


def _toc_files(toc: Any) -> Iterator[str]:
    """Every ``file:`` entry of a Jupyter Book table of contents, in reading order."""
    if isinstance(toc, dict):
        for key in ("root", "file"):
            if isinstance(toc.get(key), str):
                yield toc[key]
        for key in ("parts", "chapters", "sections"):
            for entry in toc.get(key) or []:
                yield from _toc_files(entry)


@contextmanager
def _quiet_papermill() -> Iterator[None]:
    # papermill logs a warning per line it cannot read as `name = value  # help` (the lines
    # inside a value written over several lines); the values themselves are read below with ast.
    logger = logging.getLogger("papermill")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _parameters(path: Path) -> tuple[Parameter, ...]:
    import nbformat
    import papermill

    with _quiet_papermill():
        found = papermill.inspect_notebook(str(path))
    nb = nbformat.read(path, as_version=4)
    cell = next((c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    sources: dict[str, str] = {}
    if cell is not None:
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            tree = ast.Module(body=[], type_ignores=[])
        for stmt in tree.body:
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                segment = ast.get_source_segment(cell.source, stmt.value) if stmt.value else None
                for t in targets:
                    if isinstance(t, ast.Name) and segment is not None:
                        sources[t.id] = " ".join(segment.split())
    return tuple(Parameter(name, sources.get(name, p["default"]), p["help"] or "") for name, p in found.items())


def _title(path: Path) -> str:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return path.stem


def chapters(book: str | os.PathLike | None = None) -> list[Chapter]:
    """The notebooks of the book's table of contents, in reading order, with their parameters."""
    root = find_book(book)
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    found = []
    for entry in _toc_files(toc):
        path = root / (entry if entry.endswith(".ipynb") else f"{entry}.ipynb")
        if path.is_file():
            found.append(Chapter(path.stem, path, _title(path), _parameters(path)))
    return found


def chapter(name: str, book: str | os.PathLike | None = None) -> Chapter:
    """The chapter called ``name`` (``hpa``, ``hpa.ipynb`` or ``book/hpa.ipynb`` all name it)."""
    all_ = chapters(book)
    stem = Path(name).name.removesuffix(".ipynb")
    for c in all_:
        if c.name == stem:
            return c
    raise KbookError(f"{name}: no such chapter; the chapters are: {', '.join(c.name for c in all_)}")


def parse_value(text: str) -> Any:
    """A value given on the command line: ``True``, ``False`` and ``None`` as in papermill, then any
    Python literal (``12``, ``0.5``, ``[0.0, 0.1]``, ``{"a": 1}``, ``'"quoted"'``), else the text
    itself as a string (``4000m``, ``../data/x.yaml``)."""
    special = {"True": True, "False": False, "None": None}
    if text in special:
        return special[text]
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def export_html(notebook: str | os.PathLike, html: str | os.PathLike) -> Path:
    """Write an HTML page of an executed notebook (nbconvert's HTMLExporter, the ``lab`` template)."""
    import nbformat
    from nbconvert import HTMLExporter

    with warnings.catch_warnings():
        # glue's outputs (mimetype application/papermill.record/...) are data for the book, not for
        # display: the exporter leaves them out, as the book does, and need not say so.
        warnings.filterwarnings("ignore", message="Your element with mimetype", category=UserWarning)
        body, _ = HTMLExporter().from_notebook_node(nbformat.read(notebook, as_version=4))
    Path(html).write_text(body, encoding="utf-8")
    return Path(html)


def run(ch: Chapter, parameters: dict[str, Any], out_dir: str | os.PathLike = "out", *,
        progress_bar: bool = True) -> tuple[Path, Path]:
    """Execute ``ch`` with ``parameters`` (papermill), in the chapter's directory so that its
    relative paths hold; write ``OUT_DIR/NAME.ipynb`` and ``OUT_DIR/NAME.html``.

    An unknown parameter name raises ``kbook.errors.KbookError`` before anything runs. A cell that raises
    still leaves both files (the notebook shows the error) and raises
    ``papermill.PapermillExecutionError``.
    """
    import papermill

    unknown = sorted(set(parameters) - {p.name for p in ch.parameters})
    if unknown:
        known = ", ".join(p.name for p in ch.parameters) or "none"
        raise KbookError(f"{ch.name}: no parameter {', '.join(unknown)}; its parameters are: {known}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    notebook, html = out / f"{ch.name}.ipynb", out / f"{ch.name}.html"
    try:
        papermill.execute_notebook(str(ch.path), str(notebook), parameters=parameters, kernel_name="python3",
                                   progress_bar=progress_bar, cwd=str(ch.path.parent))
    finally:
        if notebook.is_file():
            export_html(notebook, html)
    return notebook, html
