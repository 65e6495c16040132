"""Deterministic layer stacks for experiments: many files over many layers, with the
rewrites, whiteouts and opaque directories real images accumulate. Seeded (numpy), so the
same arguments always give the same layers, byte for byte."""

from __future__ import annotations

import numpy as np

from kbook.image.layer import DIR, FILE, OPAQUE, Entry, Layer
from kbook.image.union import UnionFS

__all__ = ["build_layers", "sample_paths"]


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
