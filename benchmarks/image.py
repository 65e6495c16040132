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

import numpy as np

from kbook.image import DIR, FILE, OPAQUE, Entry, Image, Layer, NaiveUnion, UnionFS

DEPTHS = (1, 10, 25, 50, 100)


def build_layers(n_layers: int = 100, n_files: int = 50_000, seed: int = 0) -> list[Layer]:
    """A layer stack: 80 % of the files in the bottom 5 % of the layers, the rest spread over
    all of them; 5 % of the files rewritten and 2 % whited out in a later layer; a few
    directories made opaque near the top (with one new file each)."""
    rng = np.random.default_rng(seed)
    dirs = [f"usr/d{a:02d}/s{b}/t{c}" for a in range(20) for b in range(10) for c in range(5)]
    home = rng.integers(0, len(dirs), n_files)
    base = max(1, n_layers // 20)
    born = np.where(rng.random(n_files) < 0.8, rng.integers(0, base, n_files), rng.integers(0, n_layers, n_files))
    layers: list[list[Entry]] = [[] for _ in range(n_layers)]
    layers[0] += [Entry(d, DIR, 0o755) for d in dirs]
    path = [f"{dirs[home[i]]}/f{i}" for i in range(n_files)]
    for i in range(n_files):
        layers[born[i]].append(Entry(path[i], FILE, 0o644, data=b"%d\n" % i))
    later = np.flatnonzero(born < n_layers - 1)
    changed = rng.choice(later, size=min(len(later), n_files * 7 // 100), replace=False)
    for k, i in enumerate(changed):
        layer = int(rng.integers(born[i] + 1, n_layers))
        if k % 7 < 5:
            layers[layer].append(Entry(path[i], FILE, 0o600, data=b"rewritten %d\n" % i))
        else:
            d, _, name = path[i].rpartition("/")
            layers[layer].append(Entry(f"{d}/.wh.{name}", FILE))
    if n_layers > 1:
        for d in rng.choice(dirs, size=5, replace=False):
            layers[-1] += [Entry(f"{d}/{OPAQUE}", FILE), Entry(f"{d}/fresh", FILE, data=b"fresh\n")]
    return [Layer.from_entries(entries) for entries in layers]


def sample_paths(fs: UnionFS, n: int, seed: int = 1) -> list[str]:
    """``n`` file paths in random order: half in the view, a quarter written by some layer
    but whited out or hidden by an opaque directory, a quarter never created."""
    rng = np.random.default_rng(seed)
    present = [p for p in fs.lower.paths() if fs.lower.get(p).type == FILE]
    written = {e.path for layer in fs.layers for e in layer.entries if e.type == FILE and ".wh." not in e.path}
    gone = sorted(written.difference(present)) or present
    sample = [present[i] for i in rng.integers(0, len(present), n // 2)]
    sample += [gone[i] for i in rng.integers(0, len(gone), n // 4)]
    sample += [f"{present[i].rpartition('/')[0]}/missing{i}" for i in rng.integers(0, len(present), n - len(sample))]
    rng.shuffle(sample)
    return sample


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


def unpack_vs_umoci(layers: list[Layer], workdir: Path) -> None:
    """Unpack the same image with ``kbook.image.unpack.unpack`` and ``umoci raw unpack``
    (uncompressed layers on both sides, best of 3) and print both times and their ratio."""
    try:
        from kbook.image.layout import write_oci_layout
        from kbook.image.unpack import unpack
    except ImportError as e:
        print(f"unpack vs umoci: skipped ({e})")
        return
    umoci = shutil.which("umoci")
    if umoci is None:
        print("unpack vs umoci: skipped (umoci is not installed)")
        return
    layout = workdir / "layout"
    write_oci_layout({"bench": Image(tuple(layers))}, layout, compression=None)
    ours = best_of(3, lambda run: unpack(layers, workdir / f"kbook-{run}"))
    theirs = best_of(3, lambda run: subprocess.run(
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
        unpack_vs_umoci(build_layers(10, 10_000), Path(tmp))


if __name__ == "__main__":
    main()
