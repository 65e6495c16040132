"""kbook.image.overlay beyond the kernel-as-referee tests: a writable mount's upperdir read
back by ``upper_changes``, read-only mounts, unmounting a busy mount, typed errors.

The mounting tests need root and overlay support; skipped otherwise, except under
``CI=true``, where that is a failure."""

import errno
import os
import shutil
from contextlib import ExitStack

import pytest

from kbook.errors import ImageError
from kbook.image import (
    CHAR, DIR, FILE, Entry, Layer, OverlayUnavailable, OverlayUnsupported, Tree, UnionFS, dir_records,
    mount_overlay, overlay_unavailable, upper_changes, write_lowerdirs,
)

BASE = Layer.from_entries([
    Entry("etc", DIR, 0o755, mtime=10),
    Entry("etc/hosts", FILE, 0o644, mtime=10, data=b"127.0.0.1 localhost\n"),
    Entry("etc/passwd", FILE, 0o644, mtime=10, data=b"root:x:0:0\n"),
    Entry("var/log", DIR, 0o755, mtime=10),
    Entry("var/log/old", FILE, 0o644, mtime=10, data=b"old\n"),
])
TOP = Layer.from_entries([Entry("etc/hosts", FILE, 0o600, mtime=20, data=b"10.0.0.1 db\n")])
LAYERS = [BASE, TOP]


@pytest.fixture
def root_with_overlay():
    reason = overlay_unavailable()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (required under CI=true)", pytrace=False)
        pytest.skip(reason)


def test_a_writable_mount_writes_copy_ups_whiteouts_and_opaque_dirs_in_the_upperdir(root_with_overlay, tmp_path):
    with mount_overlay(LAYERS, tmp_path, writable=True) as overlay:
        assert overlay.lowerdirs == (tmp_path / "L0", tmp_path / "L1") and overlay.upper == tmp_path / "upper"
        assert (overlay.merged / "etc/hosts").read_bytes() == b"10.0.0.1 db\n"
        assert overlay.changes() == []  # reading copies nothing up
        with open(overlay.merged / "etc/passwd", "ab") as f:
            f.write(b"user:x:1000:1000\n")
        (overlay.merged / "etc/motd").write_bytes(b"hi\n")
        os.unlink(overlay.merged / "etc/hosts")
        shutil.rmtree(overlay.merged / "var/log")
        os.mkdir(overlay.merged / "var/log")
        os.mkdir(overlay.merged / "var/log/new")
        os.mkdir(overlay.merged / "etc/ssl")
        assert sorted(os.listdir(overlay.merged / "etc")) == ["motd", "passwd", "ssl"]
        assert os.listdir(overlay.merged / "var/log") == ["new"]
        assert overlay.changes() == [
            ("copy-up", "/etc"), ("whiteout", "/etc/hosts"), ("new", "/etc/motd"), ("copy-up", "/etc/passwd"),
            ("new", "/etc/ssl"), ("copy-up", "/var"), ("opaque", "/var/log"), ("new", "/var/log/new"),
        ]
        merged = dir_records(overlay.merged)
    assert not os.path.ismount(tmp_path / "merged")
    assert upper_changes(tmp_path / "upper", Tree.from_layers(LAYERS)) == overlay.changes()  # kept after unmount

    fs = UnionFS(LAYERS)
    fs.write("etc/passwd", b"user:x:1000:1000\n", append=True)
    fs.write("etc/motd", b"hi\n")
    fs.delete("etc/hosts")
    fs.delete("var/log", recursive=True)
    fs.mkdir("var/log")
    fs.mkdir("var/log/new")
    fs.mkdir("etc/ssl")
    assert fs.diff() == [("C", "/etc"), ("D", "/etc/hosts"), ("A", "/etc/motd"), ("C", "/etc/passwd"),
                         ("A", "/etc/ssl"), ("C", "/var"), ("C", "/var/log"), ("A", "/var/log/new"), ("D", "/var/log/old")]
    fields = ("path", "type", "mode", "size", "sha256")
    assert [{k: r.get(k) for k in fields} for r in merged] == [{k: r.get(k) for k in fields} for r in fs.records()]


def test_a_read_only_mount_has_no_upperdir(root_with_overlay, tmp_path):
    with mount_overlay([BASE], tmp_path) as overlay:
        assert overlay.upper is None and overlay.changes() == []
        assert overlay.lowerdirs == (tmp_path / "L0",)
        with pytest.raises(OSError) as info:
            (overlay.merged / "etc/motd").write_bytes(b"hi\n")
        assert info.value.errno == errno.EROFS
    assert write_lowerdirs(LAYERS, tmp_path / "again") == [tmp_path / "again/L0", tmp_path / "again/L1"]
    assert os.listxattr(tmp_path / "again/L1/etc") == []  # nothing to hide: no conversion
    assert sorted(os.listdir(tmp_path / "again/L1/etc")) == ["hosts"]


def test_a_busy_mount_is_unmounted_lazily(root_with_overlay, tmp_path):
    with ExitStack() as busy:
        with mount_overlay(LAYERS, tmp_path) as overlay:
            f = busy.enter_context(open(overlay.merged / "etc/hosts", "rb"))  # umount: target is busy
        assert not os.path.ismount(tmp_path / "merged")
        assert f.read() == b"10.0.0.1 db\n"  # still readable through the detached mount


def test_errors_are_typed_image_errors(tmp_path, monkeypatch):
    smuggle = [BASE, Layer.from_entries([Entry("etc/hosts", CHAR, 0o600, devmajor=0, devminor=0)])]
    with pytest.raises(OverlayUnsupported, match=r"no overlay lowerdir form: layer 1 ships a char device 0/0"):
        with mount_overlay(smuggle, tmp_path):
            pass
    assert issubclass(OverlayUnsupported, OverlayUnavailable) and issubclass(OverlayUnavailable, ImageError)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(OverlayUnavailable, match="mounting overlayfs needs root"):
        with mount_overlay(LAYERS, tmp_path):
            pass
    assert not (tmp_path / "L0").exists()  # refused before anything is written


def test_a_failed_mount_says_what_mount_said(root_with_overlay, tmp_path):
    with mount_overlay(LAYERS, tmp_path / "outer", writable=True) as outer:
        with pytest.raises(OverlayUnavailable, match=r"cannot mount overlayfs: mount: .*merged") as info:
            with mount_overlay(LAYERS, outer.merged / "inner", writable=True):  # an upperdir on overlayfs
                pass
        assert type(info.value) is OverlayUnavailable
        assert not os.path.ismount(outer.merged / "inner/merged")
