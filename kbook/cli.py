"""The ``kbook`` command. The library returns values; only this module prints."""

from __future__ import annotations

import argparse
import sys

from kbook.errors import KbookError


def _validate(args: argparse.Namespace) -> int:
    """``kbook validate FILE...``: each object read, or one line per error."""
    from kbook import api

    failed = False
    for path in args.files:
        try:
            objs = api.loads(sys.stdin.read(), source="<stdin>") if path == "-" else api.load_file(path)
        except KbookError as e:
            failed = True
            for line in getattr(e, "errors", None) or [str(e)]:
                print(line, file=sys.stderr)
            continue
        for obj in objs:
            ns = f"{obj.metadata.namespace}/" if obj.metadata.namespace else ""
            print(f"{path}: {obj.kind} {obj.api_version} {ns}{obj.metadata.name}: valid")
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kbook", description="Models of containers and Kubernetes, from the book.")
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="load and validate Kubernetes manifests as the API server would")
    v.add_argument("files", nargs="+", metavar="FILE", help="a YAML manifest; - reads standard input")
    v.set_defaults(func=_validate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
