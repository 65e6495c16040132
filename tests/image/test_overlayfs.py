"""The Linux kernel's overlayfs as referee: each layer becomes an overlay lowerdir, the
kernel merges them, and the merged view must be the tree kbook computes.

A layer is converted the way an overlay snapshotter stores it (containerd
``OverlayConvertWhiteout``; reference unionfs.md §6): the layer alone is unpacked into its
own directory; ``.wh.NAME`` becomes a char device 0/0 ``NAME`` and ``DIR/.wh..wh..opq`` the
xattr ``trusted.overlay.opaque=y`` on DIR, where the lower layers have something to hide
(parents missing from the layer are copied up from below, with the lower attributes, as
overlayfs copy-up does). What the kernel cannot see in the layer's entries is made
explicit, as §7 recommends: a whiteout of a directory the layer itself writes (in either
order, §3.2), or a directory that replaced an earlier non-directory entry of the same
layer over a lower directory, becomes an opaque directory; a whiteout of a non-directory
the layer writes becomes nothing; whiteouts already hidden by another are dropped. Then
``mount -t overlay -o lowerdir=L_n:...:L_0`` (topmost first).

Compared: type, mode, uid, gid, size, sha256, link, rdev, xattrs, and mtime of
non-directories. Not compared, because the kernel necessarily differs: directory mtimes
(a merged directory shows its topmost layer's, implied parents are "now"), ``nlink`` and
``hardlink_group`` (a merged name reports its own layer's inode: after ``h1`` is rewritten
in an upper layer, the lower ``h2`` still counts 2 links).

Stacks that have no lowerdir form are not compared, with the reason (§6): a hardlink to a
lower layer's inode (the layer alone cannot link), a write or whiteout through a symlink of
a lower layer (invisible while the layer is unpacked on its own), and a char device 0/0
in a layer (the kernel reads it as a whiteout: malicious-overlay-whiteout-smuggle).

Needs root and overlay support; skipped otherwise, except under ``CI=true``, where that
is a failure.
"""

import json
import os
import random
import stat
import subprocess
from pathlib import Path

import pytest

from kbook.errors import ImageError
from kbook.image.layer import CHAR, DIR, OPAQUE, SYMLINK, WHITEOUT_PREFIX, Entry, Layer, clean_path, read_layer
from kbook.image.tree import Tree
from kbook.image.unpack import dir_records, materialize

from test_tree import D, F, H, S, W, layer

CASES = Path(__file__).parents[1] / "conformance" / "data" / "unionfs"
COMPARED = ("type", "mode", "uid", "gid", "size", "sha256", "link", "rdev", "xattrs")


def skip_or_fail(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required under CI=true)", pytrace=False)
    pytest.skip(reason)


class NotRepresentable(Exception):
    """The layer stack has no overlay-lowerdir form."""


def unrepresentable(layers: list[Layer]) -> str | None:
    """Why the stack cannot be overlay lowerdirs, or None."""
    below = Tree()
    for n, lay in enumerate(layers):
        own = Tree()
        try:
            own.apply(lay)
        except ImageError as e:
            return f"layer {n} cannot be unpacked on its own ({e}): a hardlink to a lower inode"
        declared = set()  # directories this layer has made real so far
        for e in lay.entries:
            path = clean_path(e.name)
            if e.type == CHAR and (e.devmajor, e.devminor) == (0, 0) and path != ".":
                return f"layer {n} ships a char device 0/0 ({path}), an overlay whiteout"
            for up in map(str, Path(path).parents):
                node = below.get(up)
                if up not in declared and node is not None and node.type == SYMLINK:
                    return f"layer {n} writes through a lower-layer symlink ({e.name})"
            if e.type == DIR:
                declared.add(path)
        below.apply(lay)
    return None


def copy_attrs(path: Path, node) -> None:
    os.chown(path, node.uid, node.gid, follow_symlinks=False)
    os.chmod(path, node.mode)
    if node.mtime is not None:
        os.utime(path, (node.mtime, node.mtime))


def conversions(lay: Layer, own: Tree, below: Tree) -> tuple[set[str], set[str]]:
    """The opaque directories and whiteouts that give layer ``lay`` its meaning over
    ``below`` (the lower layers merged); ``own`` is the layer unpacked on its own."""
    def both_dirs(p: str) -> bool:
        mine, lower = own.get(p), below.get(p)
        return mine is not None and lower is not None and mine.type == lower.type == DIR

    opaque, whiteouts = set(), set()
    for e in lay.entries:
        path = clean_path(e.name)
        parent, _, name = path.rpartition("/")
        if not name.startswith(WHITEOUT_PREFIX):
            if e.type != DIR and both_dirs(path):  # replaced within the layer, then a dir again
                opaque.add(path)
            continue
        is_opaque = name == OPAQUE
        target = (parent or ".") if is_opaque else f"{parent}/{name[len(WHITEOUT_PREFIX):]}".lstrip("/")
        lower = below.get(target)
        if own.get(target) is not None:  # written by this layer too: only a directory hides more
            if both_dirs(target):
                opaque.add(target)
        elif lower is not None and (lower.type == DIR or not is_opaque):
            (opaque if is_opaque else whiteouts).add(target)

    def hidden(p: str) -> bool:  # below a whiteout, an opaque dir or a non-directory of the layer
        for up in map(str, Path(p).parents):
            mine = own.get(up)
            if up in whiteouts or (up in opaque and own.get(p) is None) or (mine is not None and mine.type != DIR):
                return True
        return False

    return ({p for p in opaque if p not in whiteouts and not hidden(p)},
            {p for p in whiteouts if not hidden(p)})


def lowerdir(lay: Layer, below: Tree, merged: Tree, dest: Path) -> None:
    """Layer ``lay`` as an overlay lowerdir at ``dest`` (see the module docstring)."""
    own = Tree()
    own.apply(lay)
    materialize(own, dest)
    for p in own.paths():  # implied parents (and the root): the attributes the merge keeps
        node, kept = own.get(p), merged.get(p)
        if node.type == DIR and node.mtime is None and kept is not None and kept.type == DIR:
            copy_attrs(dest / p, kept)
    opaque, whiteouts = conversions(lay, own, below)
    for p in sorted(opaque | whiteouts):
        for up in [*reversed([str(q) for q in Path(p).parents if str(q) != "."]), *([p] if p in opaque else [])]:
            if not os.path.lexists(dest / up):  # copy-up of the parents
                os.mkdir(dest / up)
                copy_attrs(dest / up, below.get(up))
        if p in opaque:
            os.setxattr(dest / p, "trusted.overlay.opaque", b"y")
        else:
            os.mknod(dest / p, 0o600 | stat.S_IFCHR, os.makedev(0, 0))


def kernel_merge(layers: list[Layer], work: Path) -> list[dict]:
    """Mount the layers as an overlay and read the merged view."""
    dirs = []
    below = Tree()
    for n, lay in enumerate(layers):
        merged = below.copy()
        merged.apply(lay)
        dirs.append(work / f"L{n}")
        lowerdir(lay, below, merged, dirs[-1])
        below = merged
    if len(dirs) == 1:  # overlayfs wants two lowerdirs when there is no upperdir
        dirs.insert(0, work / "empty")
        dirs[0].mkdir()
    mnt = work / "merged"
    mnt.mkdir()
    out = subprocess.run(["mount", "-t", "overlay", "overlay", "-o", "lowerdir=" + ":".join(map(str, reversed(dirs))),
                          str(mnt)], capture_output=True, text=True)
    if out.returncode != 0:
        skip_or_fail(f"cannot mount overlayfs: {out.stderr.strip()}")
    try:
        return dir_records(mnt)
    finally:
        if subprocess.run(["umount", str(mnt)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mnt)], check=True)


def compared(records: list[dict]) -> dict[str, dict]:
    return {r["path"]: {**{f: r.get(f) for f in COMPARED},
                        "mtime": r["mtime"] if r["type"] != "dir" else None} for r in records}


@pytest.fixture(scope="module", autouse=True)
def overlay_available():
    if os.geteuid() != 0:
        skip_or_fail("mounting overlayfs needs root")
    if "overlay" not in Path("/proc/filesystems").read_text():
        skip_or_fail("the kernel has no overlay filesystem")


def check_stack(layers: list[Layer], work: Path) -> None:
    reason = unrepresentable(layers)
    if reason is not None:
        raise NotRepresentable(reason)
    work.mkdir(exist_ok=True)
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
        with pytest.raises(NotRepresentable, match=NOT_REPRESENTABLE[case.name]):
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
        except NotRepresentable:
            continue
        compared_stacks += 1
    assert compared_stacks >= 20


def test_a_char_device_0_0_is_a_device_to_kbook_but_a_whiteout_to_the_kernel(tmp_path):
    """§6, malicious-overlay-whiteout-smuggle: the flat semantics keep the device; a store
    that puts the layer into an overlay lowerdir verbatim loses the lower file."""
    case = CASES / "malicious-overlay-whiteout-smuggle"
    layers = [read_layer(case / "layer0.tar"), read_layer(case / "layer1.tar")]
    assert "char device 0/0" in unrepresentable(layers)
    ours = {r["path"]: r["type"] for r in Tree.from_layers(layers).records()}
    kernel = {r["path"]: r["type"] for r in kernel_merge(layers, tmp_path)}
    assert ours.pop("f") == "char" and kernel == ours
