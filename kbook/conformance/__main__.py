"""``python -m kbook.conformance AREA PATH [PATH ...]``: one line per case, then the totals."""

from __future__ import annotations

import argparse
import sys

from kbook.conformance.runner import AREAS, run, summary
from kbook.errors import KbookError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kbook.conformance", description=__doc__)
    parser.add_argument("area", choices=AREAS)
    parser.add_argument("paths", nargs="+", metavar="PATH")
    args = parser.parse_args(argv)
    try:
        results = run(args.area, args.paths)
    except KbookError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for r in results:
        print(r.line())
    print(summary(results))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
