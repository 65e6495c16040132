"""What merging the layers once buys: lookups in the merged index vs an AUFS-style scan.

Builds a deterministic image (seeded ``numpy.random.Generator``) of 100 layers and 50,000
files in nested directories: most files in the bottom layers, some rewritten or whited out
higher up, a few directories made opaque. Prints the time to build the merged index
(``UnionFS``), lookups per second for it and for ``NaiveUnion`` (which searches the layers
top-down at every lookup) on one random sample of paths (hits and misses), their ratio,
and the same comparison over stacks of 1 to 100 layers. ``unpack_vs_umoci`` times
``kbook.image.unpack.unpack`` against ``umoci raw unpack`` of the same OCI layout.
Run: ``.venv/bin/python benchmarks/image.py``.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable

from kbook.image import Image, Layer, NaiveUnion, UnionFS
from kbook.image.layout import write_oci_layout
from kbook.image.synthetic import build_layers, sample_paths
from kbook.image.unpack import unpack

DEPTHS = (1, 10, 25, 50, 100)


def rate(lookup: Callable[[str], object], paths: list[str], min_time: float = 0.2) -> float:
    """Lookups per second, repeating the sample until ``min_time`` has passed."""
    done, t0 = 0, time.perf_counter()
    while True:
        for p in paths:
            lookup(p)
        done += len(paths)
        elapsed = time.perf_counter() - t0
        if elapsed >= min_time:
            return done / elapsed


def compare(layers: list[Layer], n_paths: int) -> tuple[float, float, float]:
    """(seconds to build the merged index, merged lookups/s, naive lookups/s), after
    checking that both give the same answers on the sample."""
    t0 = time.perf_counter()
    fs = UnionFS(layers)
    build = time.perf_counter() - t0
    naive = NaiveUnion(layers)
    paths = sample_paths(fs, n_paths)
    if [fs.lookup(p) is None for p in paths] != [naive.lookup(p) is None for p in paths]:
        raise SystemExit("merged index and NaiveUnion disagree")
    return build, rate(fs.lookup, paths), rate(naive.lookup, paths)


def best_of(runs: int, fn: Callable[[int], object]) -> float:
    """The shortest of ``runs`` timed calls ``fn(run)``."""
    times = []
    for run in range(runs):
        t0 = time.perf_counter()
        fn(run)
        times.append(time.perf_counter() - t0)
    return min(times)


def unpack_vs_umoci(layers: list[Layer], workdir: Path, runs: int = 2) -> None:
    """Unpack the same image with ``kbook.image.unpack.unpack`` and ``umoci raw unpack``
    (uncompressed layers on both sides, best of ``runs``) and print both times and their ratio."""
    umoci = shutil.which("umoci")
    if umoci is None:
        print("unpack vs umoci: skipped (umoci is not installed)")
        return
    layout = workdir / "layout"
    write_oci_layout({"bench": Image(tuple(layers))}, layout, compression=None)
    ours = best_of(runs, lambda run: unpack(layers, workdir / f"kbook-{run}"))
    theirs = best_of(runs, lambda run: subprocess.run(
        [umoci, "raw", "unpack", "--image", f"{layout}:bench", str(workdir / f"umoci-{run}")],
        check=True, capture_output=True))
    files = sum(len(layer.entries) for layer in layers)
    print(f"unpack of {len(layers)} layers, {files} entries: kbook {ours:.2f} s, umoci raw unpack {theirs:.2f} s, "
          f"kbook/umoci time ratio {ours / theirs:.2f}")


def main() -> None:
    t0 = time.perf_counter()
    layers = build_layers(100, 50_000)
    print(f"image: 100 layers, 50,000 files, built in {time.perf_counter() - t0:.1f} s")
    full = compare(layers, 2_000)
    build, merged, naive = full
    print(f"merged index built in {build:.2f} s")
    print(f"lookups/s at 100 layers: merged {merged:,.0f}, naive {naive:,.0f}, "
          f"ratio {merged / naive:.0f}x (target >= 20x)")
    print()
    print(f"{'layers':>6} {'merged us/lookup':>17} {'naive us/lookup':>16} {'ratio':>7}")
    for depth in DEPTHS:
        _, merged, naive = full if depth == 100 else compare(build_layers(depth, 50_000), 1_000)
        print(f"{depth:>6} {1e6 / merged:>17.2f} {1e6 / naive:>16.1f} {merged / naive:>6.0f}x")
    print()
    with tempfile.TemporaryDirectory(prefix="kbook-bench-") as tmp:
        unpack_vs_umoci(layers, Path(tmp))


if __name__ == "__main__":
    main()
