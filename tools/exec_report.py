"""Per-chapter execution times of the last book build, and the time budget of a chapter.

Usage: python tools/exec_report.py [--build-dir _build] [--budget 60]   (from the repository root,
after `jupyter-book build`).

myst-nb records, for every notebook it executes, an entry in the Sphinx environment
(``env.nb_metadata[docname]["exec_data"]``: ``runtime`` in seconds, ``succeeded``, ``method``,
``mtime``; see ``myst_nb.sphinx_.NbMetadataCollector.set_exec_data``), and Sphinx pickles the
environment to ``<build-dir>/.doctrees/environment.pickle``. This script reads it, writes
``<build-dir>/execution-times.md`` and ``<build-dir>/execution-times.json``, prints the table, and
exits 1 when a chapter of ``_toc.yml`` was not executed, failed, or took longer than the budget.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from pathlib import Path

from kbook.chapters import chapters


def load_exec_data(build_dir: Path) -> dict[str, dict]:
    """docname -> myst-nb's execution record, from the pickled Sphinx environment of a build."""
    pickled = build_dir / ".doctrees" / "environment.pickle"
    if not pickled.is_file():
        raise SystemExit(f"{pickled}: no such file: build the book first (jupyter-book build .)")
    with pickled.open("rb") as f:
        env = pickle.load(f)
    metadata = getattr(env, "nb_metadata", {}) or {}
    return {doc: data["exec_data"] for doc, data in metadata.items() if data.get("exec_data")}


def check(records: dict[str, dict], docnames: list[str], budget: float) -> tuple[list[dict], list[str]]:
    """One row per chapter (in reading order) and one line per chapter over budget, failed or not run."""
    rows, problems = [], []
    for doc in docnames:
        rec = records.get(doc)
        runtime = rec.get("runtime") if rec else None
        row = {"chapter": doc, "seconds": None if runtime is None else round(runtime, 2),
               "method": rec.get("method") if rec else None, "succeeded": bool(rec and rec.get("succeeded"))}
        rows.append(row)
        if rec is None or runtime is None:
            problems.append(f"{doc}: not executed by the build (no execution record)")
        elif not rec.get("succeeded"):
            problems.append(f"{doc}: execution failed: {rec.get('error')}")
        elif runtime > budget:
            problems.append(f"{doc}: {runtime:.1f} s at default parameters, over the budget of {budget:g} s")
    return rows, problems


def markdown(rows: list[dict], budget: float) -> str:
    lines = ["| chapter | seconds | status |", "|---|--:|---|"]
    for r in rows:
        s = "-" if r["seconds"] is None else f"{r['seconds']:.1f}"
        if not r["succeeded"] or r["seconds"] is None:
            status = "failed or not run"
        else:
            status = "over budget" if r["seconds"] > budget else "ok"
        lines.append(f"| {r['chapter']} | {s} | {status} |")
    total = sum(r["seconds"] or 0 for r in rows)
    lines.append(f"| **all chapters** | **{total:.1f}** | budget {budget:g} s per chapter |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-dir", default="_build", type=Path, help="jupyter-book's build directory (default _build)")
    ap.add_argument("--book", default=".", help="the directory holding _toc.yml (default .)")
    ap.add_argument("--budget", default=60.0, type=float, help="seconds a chapter may take (default 60)")
    args = ap.parse_args(argv)

    root = Path(args.book).resolve()
    docnames = [ch.path.relative_to(root).with_suffix("").as_posix() for ch in chapters(root)]
    rows, problems = check(load_exec_data(args.build_dir), docnames, args.budget)
    table = markdown(rows, args.budget)
    (args.build_dir / "execution-times.md").write_text(table)
    (args.build_dir / "execution-times.json").write_text(
        json.dumps({"budget_seconds": args.budget, "chapters": rows}, indent=2) + "\n")
    print(table, end="")
    print(f"wrote {args.build_dir / 'execution-times.md'} and {args.build_dir / 'execution-times.json'}")
    for p in problems:
        print(f"BUDGET: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
