"""The union view on the real Linux overlayfs: the kernel backend behind :mod:`kbook.image.union`.

Each layer becomes an overlay lowerdir the way an overlay snapshotter stores it (containerd
``archive.OverlayConvertWhiteout``; reference unionfs.md §6): the layer alone is unpacked
into its own directory; ``.wh.NAME`` becomes a char device 0/0 ``NAME`` and
``DIR/.wh..wh..opq`` the xattr ``trusted.overlay.opaque=y`` on DIR, where the lower layers
have something to hide (parents missing from the layer are copied up from below, with the
lower attributes, as overlayfs copy-up does). What the kernel cannot see in the layer's
entries is made explicit (§7): a whiteout of a directory the layer itself writes (in
either order, §3.2), or a directory that replaced an earlier non-directory entry of the
same layer over a lower directory, becomes an opaque directory; a whiteout of a
non-directory the layer writes becomes nothing; whiteouts hidden by another are dropped.

:func:`mount_overlay` mounts the lowerdirs (``Documentation/filesystems/overlayfs.rst``),
read-only or under an upperdir, and :func:`upper_changes` reads back what the kernel wrote
there. Mounting needs root on Linux with the ``overlay`` filesystem; whatever keeps the real
thing from running is an :class:`OverlayUnavailable`.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from kbook.errors import ImageError
from kbook.image.image import Image
from kbook.image.layer import CHAR, DIR, OPAQUE, SYMLINK, WHITEOUT_PREFIX, Layer, clean_path
from kbook.image.tree import Node, Tree
from kbook.image.unpack import materialize

__all__ = [
    "OverlayUnavailable", "OverlayUnsupported", "OverlayMount",
    "overlay_unavailable", "overlay_unsupported", "write_lowerdirs", "mount_overlay", "upper_changes",
]

# overlayfs.rst features that UnionFS models as off: a renamed lower directory is EXDEV
# (no redirect), copy-up breaks hardlinks (no index) and copies the data (no metacopy).
_OPTIONS = "redirect_dir=off,index=off,metacopy=off"
_OPAQUE_XATTR = "trusted.overlay.opaque"
_WHITEOUT_XATTR = "trusted.overlay.whiteout"


class OverlayUnavailable(ImageError):
    """The real overlay cannot run here: not Linux or not root, no ``overlay`` in
    /proc/filesystems, or ``mount``/``umount`` failed (the message carries their stderr)."""


class OverlayUnsupported(OverlayUnavailable):
    """The layer stack has no faithful lowerdir form (:func:`overlay_unsupported` says why)."""


@dataclass(frozen=True, eq=False)
class OverlayMount:
    """A mounted overlay: ``merged`` is the union view, ``lowerdirs`` the layers'
    directories (bottom first), ``upper`` the upperdir (None when read-only) and ``lower``
    the layers merged in memory."""

    merged: Path
    lowerdirs: tuple[Path, ...]
    upper: Path | None
    lower: Tree

    def changes(self) -> list[tuple[str, str]]:
        """:func:`upper_changes` against this mount's lower layers ([] when read-only)."""
        return [] if self.upper is None else upper_changes(self.upper, self.lower)


def _stack(layers: Image | Iterable[Layer]) -> list[Layer]:
    return list(layers.layers if isinstance(layers, Image) else layers)


def overlay_unavailable() -> str | None:
    """Why this machine cannot mount overlayfs, or None."""
    if sys.platform != "linux":
        return "overlayfs is a Linux filesystem"
    if os.geteuid() != 0:
        return "mounting overlayfs needs root"
    try:
        filesystems = Path("/proc/filesystems").read_text().split()
    except OSError as e:
        return f"cannot read /proc/filesystems: {e.strerror}"
    return None if "overlay" in filesystems else "the kernel has no overlay filesystem"


def overlay_unsupported(layers: Image | Iterable[Layer]) -> str | None:
    """Why the stack (bottom first) has no faithful lowerdir form, or None (unionfs.md §6):
    a hardlink to a lower layer's inode (a layer unpacked alone cannot link to it), a write
    or whiteout through a lower layer's symlink (invisible while the layer is unpacked
    alone), or a char device 0/0, which the kernel reads as a whiteout
    (malicious-overlay-whiteout-smuggle). An invalid stack raises ImageError."""
    below = Tree()
    for n, lay in enumerate(_stack(layers)):
        own = Tree()
        try:
            own.apply(lay)
        except ImageError as e:
            return f"layer {n} cannot be unpacked on its own ({e}): a hardlink to a lower inode"
        declared: set[str] = set()  # directories this layer has made real so far
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


def _copy_attrs(path: Path, node: Node) -> None:
    os.chown(path, node.uid, node.gid, follow_symlinks=False)
    os.chmod(path, node.mode)
    if node.mtime is not None:
        os.utime(path, (node.mtime, node.mtime))


def _conversions(lay: Layer, own: Tree, below: Tree) -> tuple[set[str], set[str]]:
    """The opaque directories and whiteouts that give layer ``lay`` its meaning over
    ``below`` (the lower layers merged); ``own`` is the layer unpacked on its own."""
    def both_dirs(p: str) -> bool:
        mine, lower = own.get(p), below.get(p)
        return mine is not None and lower is not None and mine.type == lower.type == DIR

    opaque: set[str] = set()
    whiteouts: set[str] = set()
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


def _write_lowerdir(lay: Layer, below: Tree, merged: Tree, dest: Path) -> None:
    """Layer ``lay`` as a lowerdir at ``dest``; ``merged`` is ``below`` with ``lay`` applied."""
    own = Tree()
    own.apply(lay)
    warnings = materialize(own, dest)
    if warnings:
        raise OverlayUnavailable(f"cannot write the lowerdir {dest} faithfully: {warnings[0]}")
    for p in own.paths():  # implied parents (and the root): the attributes the merge keeps
        node, kept = own.get(p), merged.get(p)
        if node.type == DIR and node.mtime is None and kept is not None and kept.type == DIR:
            _copy_attrs(dest / p, kept)
    opaque, whiteouts = _conversions(lay, own, below)
    for p in sorted(opaque | whiteouts):
        for up in [*reversed([str(q) for q in Path(p).parents if str(q) != "."]), *([p] if p in opaque else [])]:
            if not os.path.lexists(dest / up):  # copy-up of the parents
                os.mkdir(dest / up)
                _copy_attrs(dest / up, below.get(up))
        if p in opaque:
            os.setxattr(dest / p, _OPAQUE_XATTR, b"y")
        else:
            os.mknod(dest / p, 0o600 | stat.S_IFCHR, os.makedev(0, 0))


def write_lowerdirs(layers: Image | Iterable[Layer], workdir: str | Path) -> list[Path]:
    """Write each layer (bottom first) as an overlay snapshotter stores it (see the module
    docstring) into ``workdir/L0``, ``workdir/L1``, ... and return those directories.

    Any valid stack is written; :func:`overlay_unsupported` says when the kernel's merge of
    the result differs from the layers' meaning. Raises OverlayUnavailable where overlayfs
    cannot be mounted (devices, owners and ``trusted.*`` xattrs need root anyway)."""
    reason = overlay_unavailable()
    if reason is not None:
        raise OverlayUnavailable(reason)
    workdir = Path(workdir)
    dirs: list[Path] = []
    below = Tree()
    try:
        workdir.mkdir(parents=True, exist_ok=True)
        for n, lay in enumerate(_stack(layers)):
            merged = below.copy()
            merged.apply(lay)
            dirs.append(workdir / f"L{n}")
            _write_lowerdir(lay, below, merged, dirs[-1])
            below = merged
    except OSError as e:
        raise OverlayUnavailable(f"cannot write the lowerdirs in {workdir}: {e}") from e
    return dirs


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(args, capture_output=True, text=True)
    except OSError as e:
        raise OverlayUnavailable(f"cannot run {args[0]}: {e.strerror}") from e


@contextmanager
def mount_overlay(layers: Image | Iterable[Layer], workdir: str | Path, writable: bool = False, *,
                  check: bool = True) -> Iterator[OverlayMount]:
    """Mount the layers (bottom first) on ``workdir/merged`` and yield the mount; unmount on
    exit, lazily (``umount -l``) when the mount is busy.

    ``mount -t overlay -o lowerdir=L_n:...:L_0`` (topmost first, overlayfs.rst "Multiple
    lower layers"); when ``writable``, with ``upperdir=workdir/upper`` and
    ``workdir=workdir/work``, the upperdir made as containerd's overlay snapshotter makes it
    (0755, owned as the image's root). ``redirect_dir``, ``index`` and ``metacopy`` are off,
    as UnionFS models them. A stack that :func:`overlay_unsupported` refuses raises
    OverlayUnsupported, unless ``check`` is false (to see what the kernel makes of it)."""
    stack = _stack(layers)
    reason = overlay_unsupported(stack) if check else None
    if reason is not None:
        raise OverlayUnsupported(f"no overlay lowerdir form: {reason}")
    workdir = Path(workdir)
    lowerdirs = write_lowerdirs(stack, workdir)
    lower = Tree.from_layers(stack)
    merged, upper, work = workdir / "merged", workdir / "upper", workdir / "work"
    try:
        merged.mkdir()
        if writable:
            upper.mkdir()
            os.chmod(upper, 0o755)
            os.chown(upper, lower.get(".").uid, lower.get(".").gid)
            work.mkdir()
            options = f"upperdir={upper},workdir={work},"
            stacked = lowerdirs
        else:  # without an upperdir overlayfs wants two lowerdirs
            options = ""
            stacked = lowerdirs if len(lowerdirs) > 1 else [workdir / "empty", *lowerdirs]
            stacked[0].mkdir(exist_ok=True)
    except OSError as e:
        raise OverlayUnavailable(f"cannot prepare the overlay in {workdir}: {e}") from e
    options = f"lowerdir={':'.join(map(str, reversed(stacked)))},{options}{_OPTIONS}"
    out = _run(["mount", "-t", "overlay", "overlay", "-o", options, str(merged)])
    if out.returncode != 0:
        raise OverlayUnavailable(f"cannot mount overlayfs: {out.stderr.strip()}")
    try:
        yield OverlayMount(merged, tuple(lowerdirs), upper if writable else None, lower)
    finally:
        if _run(["umount", str(merged)]).returncode != 0:
            lazy = _run(["umount", "-l", str(merged)])
            if lazy.returncode != 0:
                raise OverlayUnavailable(f"cannot unmount {merged}: {lazy.stderr.strip()}")


def upper_changes(upper: str | Path, lower: Tree) -> list[tuple[str, str]]:
    """What the kernel wrote in an upperdir, as ``(kind, "/path")`` sorted by path, beside
    :meth:`UnionFS.diff`: ``"whiteout"`` for a char device 0/0 (or, on newer kernels, a file
    with ``trusted.overlay.whiteout``), ``"opaque"`` for a directory with
    ``trusted.overlay.opaque=y`` (overlayfs.rst "whiteouts and opaque directories"),
    ``"copy-up"`` for any other entry whose path ``lower`` has (copied up, or replaced) and
    ``"new"`` for the rest. (The kernel also marks a new directory opaque when it is renamed
    into a merged one: ``ovl_rename``.)"""
    upper = Path(upper)
    changes: list[tuple[str, str]] = []
    for dirpath, dirnames, filenames in os.walk(upper):
        for name in dirnames + filenames:
            full = Path(dirpath) / name
            rel = full.relative_to(upper).as_posix()
            st = os.lstat(full)
            xattrs = os.listxattr(full, follow_symlinks=False)
            if (stat.S_ISCHR(st.st_mode) and st.st_rdev == 0) or _WHITEOUT_XATTR in xattrs:
                kind = "whiteout"
            elif stat.S_ISDIR(st.st_mode) and _OPAQUE_XATTR in xattrs and os.getxattr(full, _OPAQUE_XATTR) == b"y":
                kind = "opaque"
            else:
                kind = "copy-up" if rel in lower else "new"
            changes.append((kind, "/" + rel))
    return sorted(changes, key=lambda change: change[1])
