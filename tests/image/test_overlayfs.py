"""The Linux kernel's overlayfs as referee: each layer becomes an overlay lowerdir, the
kernel merges them, and the merged view must be the tree kbook computes.

The layers are converted and mounted by :mod:`kbook.image.overlay` (as an overlay
snapshotter stores them, containerd ``OverlayConvertWhiteout``; reference unionfs.md §6),
``mount -t overlay -o lowerdir=L_n:...:L_0`` (topmost first).

Compared: type, mode, uid, gid, size, sha256, link, rdev, xattrs, and mtime of
non-directories. Not compared, because the kernel necessarily differs: directory mtimes
(a merged directory shows its topmost layer's, implied parents are "now"), ``nlink`` and
``hardlink_group`` (a merged name reports its own layer's inode: after ``h1`` is rewritten
in an upper layer, the lower ``h2`` still counts 2 links).

Stacks that have no lowerdir form (``overlay_unsupported``: a hardlink to a lower layer's
inode, a write or whiteout through a lower layer's symlink, a char device 0/0 in a layer)
are not compared, with the reason (§6).

Needs root and overlay support; skipped otherwise, except under ``CI=true``, where that
is a failure.
"""

import json
import os
import random
from pathlib import Path

import pytest

from kbook.errors import ImageError
from kbook.image.layer import CHAR, Entry, Layer, read_layer
from kbook.image.overlay import (
    OverlayUnavailable, OverlayUnsupported, mount_overlay, overlay_unavailable, overlay_unsupported,
)
from kbook.image.tree import Tree
from kbook.image.unpack import dir_records

from test_tree import D, F, H, S, W, layer

CASES = Path(__file__).parents[1] / "conformance" / "data" / "unionfs"
COMPARED = ("type", "mode", "uid", "gid", "size", "sha256", "link", "rdev", "xattrs")


def skip_or_fail(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required under CI=true)", pytrace=False)
    pytest.skip(reason)


def kernel_merge(layers: list[Layer], work: Path, check: bool = True) -> list[dict]:
    """Mount the layers as an overlay and read the merged view."""
    try:
        with mount_overlay(layers, work, check=check) as overlay:
            return dir_records(overlay.merged)
    except OverlayUnsupported:
        raise
    except OverlayUnavailable as e:
        skip_or_fail(str(e))


def compared(records: list[dict]) -> dict[str, dict]:
    return {r["path"]: {**{f: r.get(f) for f in COMPARED},
                        "mtime": r["mtime"] if r["type"] != "dir" else None} for r in records}


@pytest.fixture(scope="module", autouse=True)
def overlay_available():
    reason = overlay_unavailable()
    if reason is not None:
        skip_or_fail(reason)


def check_stack(layers: list[Layer], work: Path) -> None:
    kernel = compared(kernel_merge(layers, work))
    ours = compared(Tree.from_layers(layers).records())
    assert kernel == ours


def benign_cases():
    for d in sorted(CASES.iterdir()):
        data = json.loads((d / "expected.json").read_text())
        if data["kind"] == "benign" and data["expected"]["outcome"] == "ok":
            yield pytest.param(d, id=d.name)


# Stacks that differ from the flat semantics only by the overlay encoding, each with the reason.
NOT_REPRESENTABLE = {"hardlink-cross-layer": "hardlink to a lower inode"}


@pytest.mark.parametrize("case", list(benign_cases()))
def test_kernel_merges_the_public_benign_cases_as_kbook_does(case, tmp_path):
    layers = [read_layer(case / spec["file"]) for spec in json.loads((case / "expected.json").read_text())["layers"]]
    if case.name in NOT_REPRESENTABLE:
        with pytest.raises(OverlayUnsupported, match=NOT_REPRESENTABLE[case.name]):
            check_stack(layers, tmp_path)
    else:
        check_stack(layers, tmp_path)


OWN = {
    "types-modes-owners-xattrs": [
        [D("etc", 0o755, mtime=1), F("etc/shadow", b"s", 0o640, gid=42, mtime=2), F("bin/su", b"su", 0o4755, mtime=3),
         S("sh", "bin/su", mtime=4), Entry("dev/null", CHAR, 0o666, devmajor=1, devminor=3, mtime=5),
         D("x", 0o700, uid=1000, gid=1000, xattrs={"user.note": b"v"}, mtime=6), F("x/a", b"a", mtime=7),
         H("x/b", "x/a")],
        [F("etc/shadow", b"t", 0o600, mtime=8), D("x", 0o711, mtime=9), F("bin/new", b"n", mtime=10)],
    ],
    "type-changes-and-readd": [
        [D("a"), D("a/sub"), F("a/sub/f"), F("b", b"b"), D("c"), F("c/g"), S("d", "c")],
        [F("a", b"file now"), D("b"), F("b/inner"), W(".wh.c"), D("d"), F("d/h")],
        [W(".wh.a"), D("a", 0o750), F("a/again"), W("b/.wh.inner"), D("c"), F("c/back")],
    ],
    "opaque-nested-and-whiteout-in-copied-up-parent": [
        [D("o"), D("o/p"), F("o/p/q"), F("o/r"), D("deep"), D("deep/er"), F("deep/er/f"), F("deep/er/g")],
        [D("o"), W("o/.wh..wh..opq"), D("o/p"), F("o/p/new"), W("deep/er/.wh.f")],
        [W("deep/.wh..wh..opq"), F("o/p/q2")],
    ],
}


@pytest.mark.parametrize("name", list(OWN))
def test_kernel_merges_own_stacks_as_kbook_does(name, tmp_path):
    check_stack([layer(*es) for es in OWN[name]], tmp_path)


def random_stack(rng: random.Random) -> list[Layer]:
    names = ["a", "b", "c", "a/x", "a/y", "b/x", "a/x/z", "c/d/e"]
    layers = []
    for _ in range(rng.randint(2, 4)):
        entries = []
        for _ in range(rng.randint(1, 6)):
            path = rng.choice(names)
            parent, _, base = path.rpartition("/")
            kind = rng.choice(["file", "file", "dir", "symlink", "whiteout", "opaque"])
            if kind == "file":
                entries.append(F(path, rng.choice([b"1", b"22"]), rng.choice([0o644, 0o600]), mtime=rng.randint(1, 9)))
            elif kind == "dir":
                entries.append(D(path, rng.choice([0o755, 0o700]), uid=rng.choice([0, 7])))
            elif kind == "symlink":
                entries.append(S(path, rng.choice(["a", "../b", "/c"])))
            elif kind == "whiteout":
                entries.append(W(f"{parent}/.wh.{base}" if parent else f".wh.{base}"))
            else:
                entries.append(W(f"{path}/.wh..wh..opq"))
        layers.append(layer(*entries))
    return layers


def test_kernel_merges_random_stacks_as_kbook_does(tmp_path):
    rng = random.Random(1)
    compared_stacks = 0
    for i in range(60):
        layers = random_stack(rng)
        try:
            Tree.from_layers(layers)
        except ImageError:
            continue
        try:
            check_stack(layers, tmp_path / str(i))
        except OverlayUnsupported:
            continue
        compared_stacks += 1
    assert compared_stacks >= 20


def test_a_char_device_0_0_is_a_device_to_kbook_but_a_whiteout_to_the_kernel(tmp_path):
    """§6, malicious-overlay-whiteout-smuggle: the flat semantics keep the device; a store
    that puts the layer into an overlay lowerdir verbatim loses the lower file."""
    case = CASES / "malicious-overlay-whiteout-smuggle"
    layers = [read_layer(case / "layer0.tar"), read_layer(case / "layer1.tar")]
    assert "char device 0/0" in overlay_unsupported(layers)
    ours = {r["path"]: r["type"] for r in Tree.from_layers(layers).records()}
    kernel = {r["path"]: r["type"] for r in kernel_merge(layers, tmp_path, check=False)}
    assert ours.pop("f") == "char" and kernel == ours
