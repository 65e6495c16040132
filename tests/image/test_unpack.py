"""Unpacking to a real directory: the disk holds exactly the in-memory tree, and nothing is
ever written outside the destination."""

import os
import stat
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings

from kbook.errors import ImageError
from kbook.image.layer import BLOCK, CHAR, DIR, FIFO, Entry
from kbook.image.tree import Tree
from kbook.image.unpack import dir_records, materialize, unpack

from test_tree import D, F, H, S, W, layer, random_layers

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="owners and device nodes need root")


def same_as_tree(dest, tree, skip=()):
    """The disk's records equal the tree's (mtime only where the tree has one)."""
    disk = {r["path"]: r for r in dir_records(dest)}
    for r in tree.records():
        if r["path"] in skip:
            continue
        got = disk.pop(r["path"])
        if r["mtime"] is None:
            got = {**got, "mtime": None}
        assert got == r
    assert not set(disk) - set(skip)


def snapshot(path):
    """Everything below ``path``: name, type, mode, size, mtime."""
    out = []
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            st = os.lstat(os.path.join(dirpath, name))
            out.append((os.path.join(dirpath, name), st.st_mode, st.st_size, st.st_mtime_ns))
    return sorted(out)


MIXED = [
    [D("./", 0o755, mtime=10), D("etc", mtime=11), F("etc/passwd", b"root:x:0:0\n", mtime=12),
     F("bin/su", b"\x7fELF", 0o4755, uid=0, gid=0, mtime=13), D("home/u", 0o700, uid=1000, gid=1000, mtime=14),
     F("home/u/.profile", b"PS1=$\n", 0o600, uid=1000, gid=1000, mtime=15), S("lib", "usr/lib", mtime=16),
     D("usr/lib", mtime=17), F("usr/lib/libc.so", b"libc", mtime=18), H("usr/lib/libc.so.6", "usr/lib/libc.so"),
     S("dangling", "/nowhere", mtime=19), H("dangling2", "dangling"),
     D("x", mtime=20, xattrs={"user.note": b"v1", "trusted.overlay.opaque": b"y"}),
     F("x/f", b"f", xattrs={"user.k": b"\x00\xff"}, mtime=21), Entry("p", FIFO, 0o640, mtime=22)],
    [W("etc/.wh.passwd"), F("etc/shadow", b"s", 0o640, gid=42, mtime=30), D("x", 0o711, mtime=31),
     F("lib/new", b"through the symlink", mtime=32)],
]


@needs_root
def test_unpack_writes_exactly_the_tree(tmp_path):
    tree = Tree.from_layers([layer(*es) for es in MIXED])
    assert unpack([layer(*es) for es in MIXED], tmp_path / "rootfs") == []
    same_as_tree(tmp_path / "rootfs", tree)
    st = os.lstat(tmp_path / "rootfs/bin/su")
    assert stat.S_IMODE(st.st_mode) == 0o4755  # chmod after chown keeps setuid
    assert os.lstat(tmp_path / "rootfs/x").st_mtime == 31  # children written before the dir's own mtime
    assert os.listxattr(tmp_path / "rootfs/x") == []  # replaced, not merged
    assert os.path.samestat(os.lstat(tmp_path / "rootfs/dangling"), os.lstat(tmp_path / "rootfs/dangling2"))
    assert (tmp_path / "rootfs/usr/lib/new").read_bytes() == b"through the symlink"


@needs_root
def test_device_nodes_are_created_as_root(tmp_path):
    entries = [Entry("dev/null", CHAR, 0o666, devmajor=1, devminor=3), Entry("dev/sda", BLOCK, 0o660, devmajor=8),
               Entry("f", CHAR, 0)]
    unpack([layer(*entries)], tmp_path / "r")
    st = os.lstat(tmp_path / "r/dev/null")
    assert stat.S_ISCHR(st.st_mode) and (os.major(st.st_rdev), os.minor(st.st_rdev)) == (1, 3)
    assert stat.S_ISBLK(os.lstat(tmp_path / "r/dev/sda").st_mode)
    same_as_tree(tmp_path / "r", Tree.from_layers([layer(*entries)]))


def test_without_privilege_devices_are_skipped_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    entries = [Entry("dev/null", CHAR, 0o666, devmajor=1, devminor=3), Entry("pipe", FIFO, 0o600),
               F("f", uid=1234)]
    warnings = unpack([layer(*entries)], tmp_path / "r")
    assert warnings == ["dev/null: skipping char device 1:3 (no privilege to mknod)"]
    assert sorted(os.listdir(tmp_path / "r")) == ["dev", "f", "pipe"] and os.listdir(tmp_path / "r/dev") == []
    assert os.lstat(tmp_path / "r/f").st_uid == os.getuid()  # ownership left to the caller


def test_xattrs_the_filesystem_refuses_are_skipped_with_a_warning(tmp_path):
    tree = Tree()
    tree.apply(layer(S("l", "t")))
    tree.get("l").xattrs["user.x"] = b"1"  # user.* is not allowed on symlinks
    assert materialize(tree, tmp_path / "r") == ["l: skipping xattr user.x: Operation not permitted"]


def test_destination_must_be_empty_or_absent(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full/x").write_text("x")
    with pytest.raises(ImageError, match="not empty"):
        unpack([layer(F("f"))], tmp_path / "full")
    os.symlink(tmp_path / "elsewhere", tmp_path / "link")
    (tmp_path / "elsewhere").mkdir()
    with pytest.raises(ImageError, match="not a directory"):
        unpack([layer(F("f"))], tmp_path / "link")
    assert os.listdir(tmp_path / "elsewhere") == []
    with pytest.raises(ImageError, match="cannot create"):
        unpack([layer(F("f"))], tmp_path / "no/such/parent")
    (tmp_path / "empty").mkdir()
    unpack([layer(F("f"))], tmp_path / "empty")
    assert os.listdir(tmp_path / "empty") == ["f"]


def test_an_unsafe_layer_writes_nothing(tmp_path):
    with pytest.raises(ImageError, match="invalid whiteout"):
        unpack([layer(D("etc"), F("etc/passwd")), layer(F("new"), W(".wh..."))], tmp_path / "r")
    assert not (tmp_path / "r").exists()


def test_os_errors_become_image_errors(tmp_path):
    with pytest.raises(ImageError, match="File name too long"):
        unpack([layer(F("n" * 300))], tmp_path / "r")


def test_host_paths_named_by_attacks_stay_untouched(tmp_path):
    """Absolute and dot-dot names, parent symlinks to a host directory (absolute and
    relative), a symlink swap, a hardlink to an escaping symlink: all land in the rootfs."""
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "target-file").write_text("host\n")
    os.chmod(victim / "target-file", 0o600)
    before = snapshot(victim)
    up = "../" * 20
    layers = [
        layer(F(f"{victim}/abs-file"), F(f"{up}{victim}/dotdot-file"), S("evil", str(victim)),
              S("evil-rel", f"{up}{victim}"), S("esc", f"{victim}/target-file"), H("h", "esc"),
              D("foo"), S("foo", "/"), F(f"foo{victim}/swap"), D("foo")),
        layer(F("evil/pwned-abs"), F("evil-rel/pwned-rel"), S("h", "x"), W("evil/.wh.target-file")),
    ]
    unpack(layers, tmp_path / "rootfs")
    assert snapshot(victim) == before
    assert sorted(os.listdir(tmp_path)) == ["rootfs", "victim"]
    inside = tmp_path / "rootfs" / str(victim).lstrip("/")
    assert sorted(os.listdir(inside)) == ["abs-file", "dotdot-file", "pwned-abs", "pwned-rel", "swap"]
    assert os.readlink(tmp_path / "rootfs/esc") == f"{victim}/target-file"


# -- property: unpacking random layers never writes outside the destination -----------------

@settings(max_examples=120)
@given(random_layers)
def test_random_layers_unpack_inside_the_destination_only(layers):
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "sibling").write_text("keep")
        before = snapshot(tmp)
        try:
            tree = Tree.from_layers(layers)
        except ImageError:
            tree = None
        try:
            unpack(layers, Path(tmp, "rootfs"))
        except ImageError:
            assert tree is None
            assert snapshot(tmp) == before
            return
        assert tree is not None
        assert [p for p in snapshot(tmp) if not p[0].startswith(os.path.join(tmp, "rootfs"))] == before
        if ROOT:
            same_as_tree(Path(tmp, "rootfs"), tree)


def test_dir_records_reads_a_real_tree(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d/a").write_bytes(b"abc")
    os.link(tmp_path / "d/a", tmp_path / "b")
    os.symlink("d/a", tmp_path / "s")
    os.setxattr(tmp_path / "d", "user.n", b"v")
    recs = {r["path"]: r for r in dir_records(tmp_path)}
    assert list(recs) == [".", "b", "d", "d/a", "s"]
    assert recs["b"]["hardlink_group"] == recs["d/a"]["hardlink_group"] == "b" and recs["b"]["nlink"] == 2
    assert recs["d"]["xattrs"] == {"user.n": "v"} and recs["s"]["link"] == "d/a" and recs["d"]["type"] == DIR
    assert recs["d/a"]["sha256"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
