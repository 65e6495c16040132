"""The union view: copy-up, whiteouts, opaque directories, POSIX errors, ``docker diff``,
``docker commit`` (round trip through :class:`Tree`) and the AUFS-style baseline."""

import errno
import os
import random
import shutil
from contextlib import ExitStack
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kbook.errors import ImageError
from kbook.image import (
    DIR, FILE, HARDLINK, OPAQUE, SYMLINK, Entry, Image, Layer, NaiveUnion, UnionFS, UnionFSError, read_layer,
)
from kbook.image.overlay import OverlayMount, OverlayUnavailable, mount_overlay
from kbook.image.tree import Tree
from kbook.image.unpack import dir_records

KERNEL_CASE = Path(__file__).parents[1] / "conformance" / "data" / "unionfs" / "kernel-overlay-commit"

BASE = Layer.from_entries([
    Entry("etc", DIR, 0o755, mtime=10),
    Entry("etc/passwd", FILE, 0o644, mtime=10, data=b"root:x:0:0\n" * 100),
    Entry("etc/hosts", FILE, 0o644, mtime=10, data=b"127.0.0.1 localhost\n"),
    Entry("etc/conf.d", DIR, 0o755, mtime=10),
    Entry("etc/conf.d/a", FILE, 0o644, mtime=10, data=b"a\n"),
    Entry("var", DIR, 0o755, mtime=10),
    Entry("var/log", DIR, 0o755, mtime=10),
    Entry("var/log/old", FILE, 0o644, mtime=10, data=b"old\n"),
    Entry("usr/lib", DIR, 0o755, mtime=10),
    Entry("lib", SYMLINK, linkname="usr/lib", mtime=10),
    Entry("loop", SYMLINK, linkname="/loop", mtime=10),
    Entry("escape", SYMLINK, linkname="../../../../etc", mtime=10),
])
TOP = Layer.from_entries([
    Entry("etc/hosts", FILE, 0o600, mtime=20, data=b"10.0.0.1 db\n"),
    Entry("var/log/.wh.old", FILE),
    Entry("usr/lib/libc.so", FILE, 0o755, mtime=20, data=b"\x7fELF"),
])
IMAGE = Image((BASE, TOP))


def fresh(now: int = 100) -> UnionFS:
    return UnionFS(IMAGE, now=now)


def roundtrip(fs: UnionFS) -> None:
    """docker commit, then the image plus the new layer: exactly the container's view,
    whether merged by Tree or searched layer by layer."""
    layers = list(fs.layers) + [fs.commit()]
    assert Tree.from_layers(layers).records() == fs.records()
    naive = NaiveUnion(layers)
    for p in fs.paths():
        assert signature(naive.lookup(p, False))[:-1] == signature(fs.lookup(p, False))[:-1], p


def errno_of(fn, *args, **kw) -> int:
    with pytest.raises(UnionFSError) as info:
        fn(*args, **kw)
    assert isinstance(info.value, ImageError)
    return info.value.errno


# --- the view of an image -------------------------------------------------------------------------


def test_starting_a_container_copies_nothing():
    fs = fresh()
    assert fs.readdir("/") == ["escape", "etc", "lib", "loop", "usr", "var"]
    assert fs.read("/etc/hosts") == b"10.0.0.1 db\n"
    assert fs.stat("etc/hosts").layer == 1 and fs.stat("etc/passwd").layer == 0
    assert fs.readdir("var/log") == []  # whited out in layer 1
    assert (fs.copy_ups, fs.copied_up_bytes, fs.upper_size, fs.diff()) == (0, 0, 0, [])
    assert fs.commit().entries == ()
    assert fs.records() == Tree.from_layers(IMAGE.layers).records()


def test_symlinks_resolve_inside_the_root():
    fs = fresh()
    assert fs.read("lib/libc.so") == b"\x7fELF"
    assert fs.readdir("escape") == fs.readdir("etc")  # ../../../../etc stops at the root
    assert fs.lookup("lib", follow_symlinks=False).type == SYMLINK
    assert fs.stat("lib", follow_symlinks=False).size == len("usr/lib")
    assert fs.lookup("loop/x") is None
    assert errno_of(fs.read, "loop") == errno.ELOOP
    assert errno_of(fs.read, "etc/hosts/x") == errno.ENOTDIR
    fs.write("lib/new.so", b"x")  # written where the link points
    assert fs.readdir("usr/lib") == ["libc.so", "new.so"]


# --- copy-up ------------------------------------------------------------------------------------


def test_first_write_copies_the_whole_file_and_its_parents():
    fs = fresh()
    fs.write("etc/passwd", b"user:x:1000:1000\n", append=True)
    passwd = len(b"root:x:0:0\n" * 100)
    # the root and etc/ (directories) and the file itself, whose bytes are all copied
    assert (fs.copy_ups, fs.copied_up_bytes) == (3, passwd)
    assert fs.read("etc/passwd").endswith(b"user:x:1000:1000\n")
    assert fs.stat("etc/passwd").layer == "upper" and fs.stat("etc/passwd").mtime == 100
    assert fs.stat("etc").mtime == 10  # writing into a file leaves the directory's mtime
    fs.write("etc/passwd", b"more\n", append=True)
    assert (fs.copy_ups, fs.copied_up_bytes) == (3, passwd)  # copied once
    assert fs.upper_size == passwd + len(b"user:x:1000:1000\nmore\n")
    assert fs.lower.get("etc/passwd").data == b"root:x:0:0\n" * 100  # the image is untouched


def test_chmod_copies_up_without_changing_data_or_mtime():
    fs = fresh()
    fs.chmod("etc/hosts", 0o4755)
    fs.chown("lib", 1, 2, follow_symlinks=False)
    assert fs.stat("etc/hosts").mode == 0o4755 and fs.stat("etc/hosts").mtime == 20
    assert fs.copied_up_bytes == len(b"10.0.0.1 db\n")
    assert (fs.stat("lib", follow_symlinks=False).uid, fs.stat("lib").uid) == (1, 0)
    assert fs.diff() == [("C", "/etc"), ("C", "/etc/hosts"), ("C", "/lib")]
    roundtrip(fs)


def test_hardlinks_break_on_copy_up_and_share_in_the_upper_layer():
    fs = UnionFS(read_layers(KERNEL_CASE)[:1])
    fs.write("h1", b"new\n")
    assert fs.read("h2") == b"linked\n"  # overlayfs index=off: h2 keeps the lower inode
    fs.link("h1", "h3")
    fs.write("h3", b"both\n", append=True)
    assert fs.read("h1") == b"new\nboth\n" and fs.stat("h1").nlink == 2
    kinds = {e.name: (e.type, e.linkname) for e in fs.commit().entries}
    assert kinds["h1"] == (FILE, "") and kinds["h3"] == (HARDLINK, "h1")
    roundtrip(fs)
    assert errno_of(fs.link, "d", "dlink") == errno.EPERM


# --- whiteouts and opaque directories --------------------------------------------------------------


def test_delete_leaves_a_whiteout_and_rmdir_needs_an_empty_directory():
    fs = fresh()
    fs.delete("etc/hosts")
    assert fs.lookup("etc/hosts") is None and "hosts" not in fs.readdir("etc")
    assert [e.name for e in fs.commit().entries] == ["./", "etc", "etc/.wh.hosts"]
    assert errno_of(fs.rmdir, "etc") == errno.ENOTEMPTY
    assert str(pytest.raises(UnionFSError, fs.rmdir, "/etc").value) == "Directory not empty: 'etc'"
    assert errno_of(fs.delete, "etc") == errno.EISDIR
    assert errno_of(fs.rmdir, "etc/passwd") == errno.ENOTDIR
    assert str(pytest.raises(UnionFSError, fs.delete, "/etc/x").value) == "No such file or directory: 'etc/x'"
    fs.rmdir("var/log")  # empty in the view: its only lower child is whited out
    fs.delete("etc", recursive=True)
    assert fs.readdir("/") == ["escape", "lib", "loop", "usr", "var"]
    assert errno_of(fs.delete, "/", recursive=True) == errno.EBUSY
    roundtrip(fs)


def test_a_file_created_then_deleted_leaves_nothing():
    fs = fresh()
    fs.write("tmp.txt", b"x")
    fs.delete("tmp.txt")
    assert [e.name for e in fs.commit().entries] == ["./"]  # only the root's new mtime


def test_mkdir_where_a_lower_directory_was_deleted_is_opaque():
    fs = fresh()
    fs.delete("etc", recursive=True)
    fs.mkdir("etc")
    fs.mkdir("etc/conf.d")
    fs.write("etc/hosts", b"new\n")
    assert fs.readdir("etc") == ["conf.d", "hosts"] and fs.readdir("etc/conf.d") == []
    names = [e.name for e in fs.commit().entries]
    assert names == ["./", "etc", f"etc/{OPAQUE}", "etc/conf.d", "etc/hosts"]
    fs.mkdir("newdir")  # nothing below it: not opaque
    assert f"newdir/{OPAQUE}" not in [e.name for e in fs.commit().entries]
    assert errno_of(fs.mkdir, "etc") == errno.EEXIST
    assert errno_of(fs.mkdir, "nodir/sub") == errno.ENOENT
    assert errno_of(fs.mkdir, ".wh.x") == errno.EPERM  # aufs: the whiteout prefix is reserved
    roundtrip(fs)


# --- rename -------------------------------------------------------------------------------------


def test_rename_a_file_copies_up_and_whites_out_the_old_name():
    fs = fresh()
    fs.rename("etc/hosts", "var/hosts")
    assert fs.read("var/hosts") == b"10.0.0.1 db\n" and fs.lookup("etc/hosts") is None
    assert fs.copied_up_bytes == len(b"10.0.0.1 db\n")
    assert {e.name for e in fs.commit().entries} >= {"etc/.wh.hosts", "var/hosts"}
    roundtrip(fs)


def test_rename_of_a_lower_directory_is_a_cross_device_link():
    fs = fresh()
    err = pytest.raises(UnionFSError, fs.rename, "etc/conf.d", "etc/conf")
    assert (err.value.errno, str(err.value)) == (errno.EXDEV, "Invalid cross-device link: 'etc/conf.d'")
    assert fs.diff() == []  # a refused operation changes nothing
    fs.mkdir("new")
    fs.write("new/f", b"f")
    fs.rename("new", "etc/moved")  # a directory only in the upper layer moves
    assert fs.read("etc/moved/f") == b"f" and not fs.exists("new")
    fs.delete("var", recursive=True)
    fs.rename("etc/moved", "var")  # over a whiteout: opaque, as mkdir would be
    assert fs.readdir("var") == ["f"]
    assert errno_of(fs.rename, "var", "var/sub") == errno.EINVAL
    assert errno_of(fs.rename, "etc/passwd", "etc") == errno.EISDIR
    assert errno_of(fs.rename, "var", "etc/passwd") == errno.ENOTDIR
    assert errno_of(fs.rename, "var", "etc") == errno.ENOTEMPTY
    roundtrip(fs)


# --- docker diff and docker commit ----------------------------------------------------------------


def test_diff_lists_changes_and_their_parent_directories():
    fs = fresh()
    fs.write("etc/conf.d/b", b"b\n")
    fs.write("etc/passwd", b"x", append=True)
    fs.delete("var/log", recursive=True)
    fs.delete("usr/lib/libc.so")
    fs.mkdir("opt")
    fs.write("opt/app", b"#!/bin/sh\n")
    assert fs.diff() == [
        ("C", "/etc"), ("C", "/etc/conf.d"), ("A", "/etc/conf.d/b"), ("C", "/etc/passwd"),
        ("A", "/opt"), ("A", "/opt/app"),
        ("C", "/usr"), ("C", "/usr/lib"), ("D", "/usr/lib/libc.so"),
        ("C", "/var"), ("D", "/var/log"),
    ]
    roundtrip(fs)


def test_diff_of_a_recreated_directory_names_the_lost_lower_children():
    fs = fresh()
    fs.delete("etc", recursive=True)
    fs.mkdir("etc")
    fs.write("etc/passwd", b"root:x:0:0\n" * 100)
    assert fs.diff() == [("C", "/etc"), ("D", "/etc/conf.d"), ("D", "/etc/hosts"), ("C", "/etc/passwd")]


def test_commit_is_reproducible():
    def run() -> Layer:
        fs = fresh()
        for name in ("z", "a", "m"):
            fs.write(f"etc/{name}", name.encode())
        fs.delete("etc/hosts")
        return fs.commit()

    assert run().diff_id == run().diff_id
    assert [e.name for e in run().entries] == ["./", "etc", "etc/a", "etc/.wh.hosts", "etc/m", "etc/z"]


def read_layers(case: Path) -> list[Layer]:
    return [read_layer(p) for p in sorted(case.glob("layer*.tar"))]


def test_replaying_the_kernel_overlay_demo_gives_the_kernels_upper_layer():
    """The operations that made ``kernel-overlay-commit/layer1.tar`` (an upperdir the Linux
    kernel wrote) give the same upper layer, entry for entry, and the same merged tree."""
    layer0, layer1 = read_layers(KERNEL_CASE)
    fs = UnionFS([layer0], now=layer1.entries[1].mtime)
    fs.write("a-dir/a", b"appended\n", append=True)
    fs.chmod("m", 0o600)
    fs.delete("d/x")
    fs.delete("d2", recursive=True)
    fs.mkdir("d2")
    fs.write("d2/new", b"new\n")
    fs.write("h1", b"more\n", append=True)
    fs.write("n", b"n\n")
    assert errno_of(fs.rename, "d3", "d4") == errno.EXDEV

    def summary(layer):  # the kernel's layer leaves out the root and stamps markers differently
        return sorted((e.path, e.type, e.data, e.linkname) + ((e.mode, e.mtime) if not e.basename.startswith(".wh.")
                      else ()) for e in layer.entries if e.path != ".")

    assert summary(fs.commit()) == summary(layer1)
    want = Tree.from_layers([layer0, layer1]).records()
    assert [dict(r, mtime=None) for r in fs.records()][1:] == [dict(r, mtime=None) for r in want][1:]
    roundtrip(fs)


# --- properties -----------------------------------------------------------------------------------

NAMES = ["a", "b", "c", "d"]


def _join(parent: str, name: str) -> str:
    return name if parent == "." else f"{parent}/{name}"


def random_stack(rng: random.Random, n_layers: int, max_ops: int = 6) -> list[Layer]:
    """Random layers that add, modify, retype, white out and make opaque, with symlinks
    and hardlinks; within a layer no two changes touch the same subtree."""
    tree, layers = Tree(), []
    for index in range(n_layers):
        entries: list[Entry] = []
        touched: list[str] = []

        def free(p: str) -> bool:
            return all(not (t == p or t.startswith(p + "/") or p.startswith(t + "/")) for t in touched)

        paths = tree.paths()
        dirs = [p for p in paths if tree.get(p).type == DIR]
        others = paths[1:]
        files = [p for p in others if tree.get(p).type == FILE]
        for _ in range(rng.randint(1, max_ops)):
            op = rng.choice(["add", "add", "nested", "mkdir", "modify", "whiteout", "opaque", "retype",
                             "symlink", "hardlink"])
            meta = dict(mode=rng.choice([0o644, 0o755, 0o600]), uid=rng.choice([0, 1]), mtime=rng.randint(0, 3),
                        xattrs=rng.choice([{}, {"user.k": b"v"}, {"trusted.overlay.opaque": b"y"}]))
            new = _join(rng.choice(dirs), rng.choice(NAMES))
            if tree.get(new) is not None or not free(new):
                new = None
            if op == "add" and new:
                entries.append(Entry(new, FILE, data=rng.choice([b"", b"x", b"yy"]), **meta))
            elif op == "nested" and new:
                new = _join(new, rng.choice(NAMES))
                entries.append(Entry(new, FILE, data=b"nested", **meta))
            elif op == "mkdir" and new:
                entries.append(Entry(new, DIR, **meta))
            elif op == "symlink" and new:
                target = rng.choice(paths + ["nowhere", "/" + rng.choice(paths), "../../" + rng.choice(paths)])
                entries.append(Entry(new, SYMLINK, linkname=target, mtime=meta["mtime"]))
            elif op == "hardlink" and new and [f for f in files if free(f)]:
                target = rng.choice([f for f in files if free(f)])
                entries.append(Entry(new, HARDLINK, linkname=target))
                touched.append(target)
            elif op in ("modify", "whiteout", "opaque", "retype") and [p for p in others if free(p)]:
                new = rng.choice([p for p in others if free(p)])
                node = tree.get(new)
                if op == "modify" and node.type == FILE:
                    entries.append(Entry(new, FILE, data=b"changed", **meta))
                elif op == "modify" and node.type == DIR:
                    entries.append(Entry(new, DIR, **meta))
                elif op == "whiteout":
                    parent_path, _, name = new.rpartition("/")
                    entries.append(Entry(_join(parent_path or ".", ".wh." + name), FILE))
                elif op == "opaque" and node.type == DIR:
                    entries.append(Entry(_join(new, OPAQUE), FILE))
                    if rng.random() < 0.5:
                        entries.append(Entry(_join(new, rng.choice(NAMES)), FILE, data=b"in opaque", **meta))
                elif op == "retype":
                    entries.append(Entry(new, FILE if node.type == DIR else DIR, **meta))
                else:
                    continue
            else:
                continue
            touched.append(new)
        layer = Layer.from_entries(entries)
        tree.apply(layer, index)
        layers.append(layer)
    return layers


def signature(node):
    if node is None:
        return None
    return (node.type, node.mode, node.uid, node.gid, node.mtime, node.data, node.linkname, node.devmajor,
            node.devminor, node.xattrs, node.layer)


@settings(max_examples=300)
@given(st.integers(0, 2**32 - 1), st.integers(1, 6))
def test_naive_union_gives_the_same_answers_as_the_merged_index(seed, n_layers):
    rng = random.Random(seed)
    layers = random_stack(rng, n_layers)
    fs, naive = UnionFS(layers), NaiveUnion(layers)
    paths = fs.lower.paths()
    probes = paths + [f"{p}/{n}" for p in paths for n in NAMES[:2]] + ["/" + p for p in paths] + [
        f"{p}/../{n}" for p in paths[:5] for n in NAMES]
    for p in probes:
        for follow in (True, False):
            assert signature(fs.lookup(p, follow)) == signature(naive.lookup(p, follow)), (p, follow)
        node = fs.lookup(p)
        if node is not None and node.type == DIR:
            assert fs.readdir(p) == naive.readdir(p), p


OPS = ["write", "append", "chmod", "chown", "delete", "rm-r", "rmdir", "mkdir", "symlink", "link", "rename",
       "rename-new"]


def random_ops(rng: random.Random, fs: UnionFS, n: int) -> None:
    """Random operations on random paths, each either done or refused without a trace."""
    for _ in range(n):
        fs.now += 1
        paths = fs.paths()
        some = rng.choice(paths)
        new = _join(rng.choice(paths), rng.choice(NAMES + ["e"]))
        if rng.random() < 0.2:
            some = "/" + some
        op = rng.choice(OPS)
        before = fs.records()
        try:
            if op == "write":
                fs.write(rng.choice([some, new]), rng.choice([b"", b"w", b"ww"]))
            elif op == "append":
                fs.write(some, b"+", append=True)
            elif op == "chmod":
                fs.chmod(some, rng.choice([0o600, 0o4755]))
            elif op == "chown":
                fs.chown(some, 7, 8, follow_symlinks=rng.random() < 0.5)
            elif op == "delete":
                fs.delete(some)
            elif op == "rm-r":
                fs.delete(some, recursive=True)
            elif op == "rmdir":
                fs.rmdir(some)
            elif op == "mkdir":
                fs.mkdir(new)
            elif op == "symlink":
                fs.symlink(rng.choice(paths + ["/" + some, "nowhere"]), new)
            elif op == "link":
                fs.link(some, new)
            elif op == "rename":
                fs.rename(some, rng.choice(paths))
            else:
                fs.rename(some, new)
        except UnionFSError:
            assert fs.records() == before, op


@settings(max_examples=300)
@given(st.integers(0, 2**32 - 1), st.integers(1, 3), st.integers(1, 25))
def test_commit_applied_on_the_image_gives_the_union_view(seed, n_layers, n_ops):
    rng = random.Random(seed)
    fs = UnionFS(random_stack(rng, n_layers), now=10)
    random_ops(rng, fs, n_ops)
    roundtrip(fs)
    assert fs.upper_size == sum(len(e.data) for e in fs.commit().entries)


# --- the kernel as referee ---------------------------------------------------------------------------

KERNEL_OPS = [
    ("write", "etc/passwd", b"user:x:1000:1000\n", True),
    ("chmod", "etc/hosts", 0o600),
    ("delete", "etc/conf.d/a"),
    ("rmdir", "etc"),
    ("rm-r", "var/log"),
    ("mkdir", "var/log"),
    ("write", "var/log/new", b"new\n", False),
    ("rename", "etc/hosts", "etc/hosts.bak"),
    ("rename", "etc/conf.d", "etc/conf"),
    ("rename", "usr/lib/libc.so", "usr/libc.so"),
    ("symlink", "libc.so", "usr/lib/libc.so"),
    ("link", "etc/passwd", "etc/passwd-"),
    ("write", "etc/passwd-", b"shared\n", True),
    ("mkdir", "opt"),
    ("write", "opt/app", b"app\n", False),
    ("rename", "opt", "srv"),
    ("write", "tmp.txt", b"t", False),
    ("delete", "tmp.txt"),
    ("rename", "etc/passwd-", "etc/passwd"),
    ("write", "lib/new.so", b"so", False),
    ("chown", "usr/lib/new.so", 1, 2),
    ("chown", "usr/lib", 3, 4),
    ("mkdir", "etc"),
    ("delete", "nothere"),
    ("rmdir", "etc/passwd"),
    ("write", "etc", b"", False),
]


def kernel_op(root: Path, op: str, *args) -> None:
    """One operation on a real mount, with the os functions a process would call."""
    a = root / args[0]
    if op == "write":
        with open(a, "ab" if args[2] else "wb") as f:
            f.write(args[1])
    elif op == "chmod":
        os.chmod(a, args[1])
    elif op == "chown":
        os.chown(a, args[1], args[2])
    elif op == "delete":
        os.unlink(a)
    elif op == "rmdir":
        os.rmdir(a)
    elif op == "rm-r":
        shutil.rmtree(a)
    elif op == "mkdir":
        os.mkdir(a, 0o755)
    elif op == "rename":
        os.rename(a, root / args[1])
    elif op == "symlink":
        os.symlink(args[0], root / args[1])
    elif op == "link":
        os.link(a, root / args[1], follow_symlinks=False)


def union_op(fs: UnionFS, op: str, *args) -> None:
    calls = {"write": lambda p, d, app: fs.write(p, d, append=app), "chmod": fs.chmod, "chown": fs.chown,
             "delete": fs.delete,
             "rmdir": fs.rmdir, "rm-r": lambda p: fs.delete(p, recursive=True), "mkdir": fs.mkdir,
             "rename": fs.rename, "symlink": fs.symlink, "link": fs.link}
    calls[op](*args)


def upper_dir(changes: list[tuple[str, str]]) -> tuple[set[str], set[str], set[str]]:
    """(paths, whiteouts, opaque directories) of an overlayfs upperdir, from ``upper_changes``."""
    paths = {p[1:] for kind, p in changes if kind != "whiteout"}
    return paths, {p[1:] for kind, p in changes if kind == "whiteout"}, {p[1:] for kind, p in changes if kind == "opaque"}


def missing_piece(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required under CI=true)", pytrace=False)
    pytest.skip(reason)


def test_kernel_overlayfs_gives_the_same_view_errors_and_upper_layer(tmp_path):
    """The same operations on a real overlay mount (redirect_dir, index and metacopy off)
    and on UnionFS: the same errors, the same merged tree and the same upper layer."""
    with ExitStack() as stack:
        try:
            overlay = stack.enter_context(mount_overlay(IMAGE, tmp_path, writable=True))
        except OverlayUnavailable as e:
            missing_piece(str(e))
        stack.callback(os.umask, os.umask(0o022))
        fs = fresh()
        for op, *args in KERNEL_OPS:
            try:
                kernel_op(overlay.merged, op, *args)
                kernel = 0
            except OSError as e:
                kernel = e.errno
            try:
                union_op(fs, op, *args)
                ours = 0
            except UnionFSError as e:
                ours = e.errno
            assert ours == kernel, (op, args)
        check_kernel_view(overlay, fs)


def check_kernel_view(overlay: OverlayMount, fs: UnionFS) -> None:
    fields = ("path", "type", "mode", "uid", "gid", "size", "sha256", "link", "xattrs", "nlink",
              "hardlink_group")
    view = [{k: r[k] for k in fields if k in r} for r in fs.records()[1:]]
    assert [{k: r[k] for k in fields if k in r} for r in dir_records(overlay.merged)[1:]] == view
    entries = [e for e in fs.commit().entries if e.path != "."]
    changes = overlay.changes()
    assert upper_dir(changes) == (
        {e.path for e in entries if not e.basename.startswith(".wh.")},
        {f"{e.path.rpartition('/')[0]}/{e.whiteout_name}".lstrip("/") for e in entries if e.is_whiteout},
        {e.path.rpartition("/")[0] for e in entries if e.is_opaque},
    )
    letters = {("D" if kind == "whiteout" else "C" if p[1:] in overlay.lower else "A", p) for kind, p in changes}
    assert letters <= set(fs.diff())  # each entry of the upperdir is a docker diff line
