"""The ``kbook`` command. The library returns values; only this module prints."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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


def _short(digest: str, full: bool) -> str:
    return digest if full else digest.removeprefix("sha256:")[:12]


def _image_inspect(args: argparse.Namespace) -> int:
    """``kbook image inspect PATH``: an image's identity and, per layer, its addresses, sizes and changes."""
    from kbook.image.changes import layer_changes
    from kbook.image.layout import load_image

    try:
        stored = load_image(args.path, args.ref)
        changes = [(len(c.added), len(c.changed), len(c.removed)) for c in layer_changes(stored.image.layers)]
    except KbookError as e:
        print(e, file=sys.stderr)
        return 1
    image, full = stored.image, args.no_trunc
    print(f"ref:       {stored.ref}")
    print(f"format:    {stored.format}")
    if stored.manifest is not None:
        print(f"manifest:  {stored.manifest.digest}")
    print(f"config:    {stored.config.digest}")
    print(f"platform:  {image.os}/{image.architecture}")
    print(f"layers:    {len(image.layers)} ({sum(d.size for d in stored.layers)} bytes of blobs, "
          f"{sum(layer.size for layer in image.layers)} bytes uncompressed)")
    rows = [["#", "DIGEST", "DIFF ID", "CHAIN ID", "COMPRESSED", "UNCOMPRESSED", "ADDS", "CHANGES", "REMOVES"]]
    for i, (layer, desc, chain) in enumerate(zip(image.layers, stored.layers, image.chain_ids)):
        rows.append([str(i), _short(desc.digest, full), _short(layer.diff_id, full), _short(chain, full),
                     str(desc.size), str(layer.size), *map(str, changes[i])])
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    print()
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
    return 0


def _schedule(args: argparse.Namespace) -> int:
    """``kbook schedule --nodes FILE --pods FILE``: each pod's node, and for each pending
    pod the FitError of its last attempt; ``--explain POD`` adds the plugin table."""
    import pandas as pd

    from kbook import api
    from kbook.scheduler.config import KubeSchedulerConfiguration
    from kbook.scheduler.explain import explain
    from kbook.scheduler.simulate import simulate

    try:
        nodes = [o for o in api.load_file(args.nodes) if isinstance(o, api.Node)]
        if not nodes:
            raise KbookError(f"{args.nodes}: no Node objects")
        objects = api.load_file(args.pods)
        config = KubeSchedulerConfiguration.load_file(args.config) if args.config else None
        explain_pods = [args.explain if "/" in args.explain else f"default/{args.explain}"] if args.explain else []
        result = simulate(nodes, objects, config, seed=args.seed, engine=args.engine, explain=explain_pods)
    except KbookError as e:
        for line in getattr(e, "errors", None) or [str(e)]:
            print(line, file=sys.stderr)
        return 1
    rows = [["POD", "NODE"]] + [[key, node or "<pending>"] for key, node in result.placements.items()]
    widths = [max(len(r[c]) for r in rows) for c in range(2)]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
    if result.preempted:
        print(f"\npreempted: {', '.join(result.preempted)}")
    for key, message in result.pending.items():
        print(f"\n{key}: FailedScheduling: {message}")
    if args.explain:
        key = args.explain if "/" in args.explain else f"default/{args.explain}"
        e = result.explanations.get(key)
        if e is None:
            print(f"--explain: no pod {key}", file=sys.stderr)
            return 1
        with pd.option_context("display.width", 200, "display.max_columns", None, "display.max_rows", None):
            print(f"\n{e.pod}, at its first scheduling attempt:\n{e.table.T.to_string()}\n\n{e.fit_error or e.why}")
    return 0


def _hpa_simulate(args: argparse.Namespace) -> int:
    """``kbook hpa simulate --hpa FILE --deployment FILE --trace FILE``: the HPA and its
    Deployment in a simulated cluster under the trace; writes a CSV and a PNG into ``--out``."""
    from pathlib import Path

    from kbook.hpa import load_pair, plot_scaling, simulate
    from kbook.autoscaling.traces import read_csv

    out = Path(args.out)
    try:
        hpa, deployment = load_pair(args.hpa, args.deployment)
        trace = read_csv(args.trace)
        if args.peak is not None:
            if not args.peak > 0 or not trace.max() > 0:
                raise KbookError(f"--peak: {args.peak}: needs a peak > 0 and a trace with a value > 0")
            trace = trace * (args.peak / trace.max())
        result = simulate(hpa, deployment, trace, cpu_per_request=args.cpu_per_request, slo_s=args.slo,
                          seed=args.seed)
        out.mkdir(parents=True, exist_ok=True)
    except (KbookError, OSError) as e:
        for line in getattr(e, "errors", None) or [str(e)]:
            print(line, file=sys.stderr)
        return 1
    csv_path, png_path = out / "hpa-simulation.csv", out / "hpa-simulation.png"
    result.frame.to_csv(csv_path, index=False, float_format="%.6g")
    plot_scaling(result.frame, f"HorizontalPodAutoscaler {hpa.metadata.name}").savefig(png_path)
    frame, stats = result.frame, result.stats
    print(f"simulated {frame['time'].iloc[-1] / 3600:.2f} h in {len(frame)} sync periods")
    print(f"replicas: {frame['ready_replicas'].min()} to {frame['ready_replicas'].max()} ready, "
          f"{stats.pod_hours:.2f} pod-hours")
    print(f"requests: {stats.requests:,.0f}, {stats.slo_violation:.2%} slower than {args.slo:g} s, "
          f"mean latency {stats.mean_latency * 1000:.1f} ms")
    print(f"wrote {csv_path}")
    print(f"wrote {png_path}")
    return 0


def _list(args: argparse.Namespace) -> int:
    """``kbook list [CHAPTER...]``: the chapters in reading order, each with its parameters and defaults."""
    from kbook.chapters import chapter, chapters

    try:
        found = [chapter(n, args.book) for n in args.chapters] if args.chapters else chapters(args.book)
    except KbookError as e:
        print(e, file=sys.stderr)
        return 1
    for i, ch in enumerate(found):
        if i:
            print()
        where = ch.path.relative_to(Path.cwd()) if ch.path.is_relative_to(Path.cwd()) else ch.path
        print(f"{ch.name}: {ch.title} ({where})")
        width = max((len(p.name) for p in ch.parameters), default=0)
        for p in ch.parameters:
            default = p.default if len(p.default) <= 60 else p.default[:57] + "..."
            line = f"  {p.name.ljust(width)} = {default}"
            print(f"{line.ljust(width + 40)}  # {p.help}" if p.help else line)
    return 0


def _run(args: argparse.Namespace) -> int:
    """``kbook run CHAPTER -p NAME VALUE ...``: the chapter executed with those values (papermill),
    written with an HTML export beside it."""
    from papermill.exceptions import PapermillExecutionError

    from kbook.chapters import chapter, parse_value, run

    try:
        ch = chapter(args.chapter, args.book)
        params = {name: parse_value(value) for name, value in args.parameters}
        notebook, html = run(ch, params, args.out, progress_bar=not args.no_progress)
    except KbookError as e:
        print(e, file=sys.stderr)
        return 1
    except PapermillExecutionError as e:
        out = Path(args.out)
        print(f"{ch.name}: cell {e.exec_count} raised {e.ename}: {e.evalue}", file=sys.stderr)
        print(f"wrote {out / (ch.name + '.ipynb')} and {out / (ch.name + '.html')} (they show the error)",
              file=sys.stderr)
        return 1
    print(f"wrote {notebook}")
    print(f"wrote {html}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kbook", description="Models of containers and Kubernetes, from the book.")
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="load and validate Kubernetes manifests as the API server would")
    v.add_argument("files", nargs="+", metavar="FILE", help="a YAML manifest; - reads standard input")
    v.set_defaults(func=_validate)
    image = sub.add_parser("image", help="container images: OCI layouts and docker archives")
    image_sub = image.add_subparsers(dest="image_command", required=True)
    i = image_sub.add_parser("inspect", help="an image's config, platform and layers with their digests and changes")
    i.add_argument("path", metavar="PATH", help="an OCI layout (directory or tar) or a docker save archive")
    i.add_argument("--ref", help="which image, when PATH holds several")
    i.add_argument("--no-trunc", action="store_true", help="print whole digests")
    i.set_defaults(func=_image_inspect)
    s = sub.add_parser("schedule", help="schedule pods onto nodes with kube-scheduler's framework and plugins")
    s.add_argument("--nodes", required=True, metavar="FILE", help="a YAML file of Node objects")
    s.add_argument("--pods", required=True, metavar="FILE",
                   help="a YAML file of Pods, ReplicaSets and Deployments (and Services, Namespaces)")
    s.add_argument("--config", metavar="FILE", help="a KubeSchedulerConfiguration (default: the default profile)")
    s.add_argument("--seed", type=int, default=0, help="seed of the random tie-breaking (default 0)")
    s.add_argument("--engine", choices=["arrays", "reference"], default="arrays",
                   help="array engine (default) or the per-node reference; placements are identical")
    s.add_argument("--explain", metavar="POD", help="also print every plugin's verdict and score for POD")
    s.set_defaults(func=_schedule)
    hpa = sub.add_parser("hpa", help="the HorizontalPodAutoscaler")
    hpa_sub = hpa.add_subparsers(dest="hpa_command", required=True)
    h = hpa_sub.add_parser("simulate",
                           help="an HPA and its Deployment under a request-rate trace, in a simulated cluster")
    h.add_argument("--hpa", required=True, metavar="FILE", help="a YAML file with one HorizontalPodAutoscaler")
    h.add_argument("--deployment", required=True, metavar="FILE", help="a YAML file with the Deployment it scales")
    h.add_argument("--trace", required=True, metavar="FILE", help="a timestamp,value CSV of requests per second")
    h.add_argument("--out", default=".", metavar="DIR",
                   help="where to write hpa-simulation.csv and hpa-simulation.png (default: .)")
    h.add_argument("--peak", type=float, metavar="RPS", help="multiply the trace so that its maximum is RPS requests/s")
    h.add_argument("--cpu-per-request", type=float, default=0.01, metavar="SECONDS",
                   help="CPU seconds each request costs (default 0.01)")
    h.add_argument("--slo", type=float, default=0.25, metavar="SECONDS", help="the latency objective (default 0.25)")
    h.add_argument("--seed", type=int, default=0, help="seed of the simulated cluster (default 0)")
    h.set_defaults(func=_hpa_simulate)
    ls = sub.add_parser("list", help="the book's chapters and the parameters each one takes")
    ls.add_argument("chapters", nargs="*", metavar="CHAPTER", help="only these chapters (default: all)")
    ls.add_argument("--book", metavar="DIR", help="the book's directory, holding _toc.yml (default: found from here)")
    ls.set_defaults(func=_list)
    r = sub.add_parser("run", help="execute a chapter with other parameters: a notebook and its HTML export")
    r.add_argument("chapter", metavar="CHAPTER", help="a chapter's name, as `kbook list` prints it (e.g. hpa)")
    r.add_argument("-p", "--parameter", dest="parameters", nargs=2, action="append", default=[],
                   metavar=("NAME", "VALUE"),
                   help="set a parameter: a Python literal (12, 0.5, [0.1, 0.2], True, None) or else a string; "
                        "relative paths are relative to the chapter's directory")
    r.add_argument("-o", "--out", default="out", metavar="DIR",
                   help="where to write CHAPTER.ipynb and CHAPTER.html (default: out)")
    r.add_argument("--book", metavar="DIR", help="the book's directory, holding _toc.yml (default: found from here)")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.set_defaults(func=_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
