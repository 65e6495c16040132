"""Safe extraction: a layer stack written to a real directory, and real directories read back.

``unpack`` computes the merged :class:`~kbook.image.tree.Tree` first, so every safety rule
(containment, whiteouts, hardlink targets, root type) is decided once, in memory, before
anything touches the disk; then it writes that tree below ``dest`` through directory file
descriptors opened with ``O_NOFOLLOW`` (``openat``-style, like umoci's ``fsEval`` and
containerd ``pkg/archive`` with ``fs.RootPath``): every parent is a directory created by
this function, no final component is followed, and nothing is created outside ``dest``.

Without root privilege (or when ``mknod`` gets EPERM, as in a user namespace) device nodes
are skipped with a warning, as containerd does in a user namespace, and ownership is left
to the calling user. xattrs the filesystem refuses are skipped with a warning.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from pathlib import Path
from typing import Any, Iterable

from kbook.errors import ImageError
from kbook.image.layer import BLOCK, CHAR, DIR, FIFO, FILE, SYMLINK, Layer
from kbook.image.tree import Node, Tree, keep_xattr, record

__all__ = ["unpack", "materialize", "dir_records"]

log = logging.getLogger(__name__)

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_DEVICE_TYPES = {CHAR: stat.S_IFCHR, BLOCK: stat.S_IFBLK}


def unpack(layers: Iterable[Layer], dest: str | Path) -> list[str]:
    """Apply ``layers`` (bottom first) into ``dest``, which must be empty or absent.

    Returns the warnings (skipped device nodes or xattrs). An unsafe or invalid layer is
    an ImageError raised before anything is written."""
    return materialize(Tree.from_layers(layers), dest)


def materialize(tree: Tree, dest: str | Path) -> list[str]:
    """Write ``tree`` below ``dest`` (empty or absent); returns the warnings."""
    dest = Path(dest)
    try:
        os.mkdir(dest, 0o700)
    except FileExistsError:
        pass
    except OSError as e:
        raise ImageError(f"cannot create {str(dest)!r}: {e.strerror}") from e
    try:
        root_fd = os.open(dest, _DIR_FLAGS)
    except OSError as e:
        raise ImageError(f"{str(dest)!r} is not a directory: {e.strerror}") from e
    try:
        if os.listdir(root_fd):
            raise ImageError(f"{str(dest)!r} is not empty")
        writer = _Writer(tree, root_fd)
        writer.run()
        return writer.warnings
    except OSError as e:
        raise ImageError(f"unpacking into {str(dest)!r}: {e}") from e
    finally:
        os.close(root_fd)


class _Writer:
    """Depth-first: each directory's entries are created inside it (through its fd), then
    its own attributes are applied, so children never bump a finished directory's mtime.
    Directory modes come last, deepest first, so a read-only directory never stops a
    later write (a hardlink into another directory) when running without privilege."""

    def __init__(self, tree: Tree, root_fd: int):
        self.tree = tree
        self.root_fd = root_fd
        self.privileged = os.geteuid() == 0
        self.first_name: dict[int, str] = {}  # id(inode) -> the path that materialized it
        self.dir_modes: list[tuple[str, int]] = []  # post-order: children before parents
        self.warnings: list[str] = []

    def warn(self, message: str) -> None:
        log.warning("%s", message)
        self.warnings.append(message)

    def run(self) -> None:
        stack: list[tuple[str, int, list[str]]] = [(".", self.root_fd, self.tree.children(".")[::-1])]
        try:
            while stack:
                path, fd, todo = stack[-1]
                if not todo:
                    stack.pop()
                    self.finish(path, fd)
                    if fd != self.root_fd:
                        os.close(fd)
                    continue
                name = todo.pop()
                child = name if path == "." else f"{path}/{name}"
                node = self.tree.get(child)
                assert node is not None
                if node.type == DIR:
                    os.mkdir(name, 0o700, dir_fd=fd)
                    stack.append((child, os.open(name, _DIR_FLAGS, dir_fd=fd), self.tree.children(child)[::-1]))
                else:
                    self.leaf(child, name, fd, node)
        finally:
            for _, fd, _ in stack:
                if fd != self.root_fd:
                    os.close(fd)
        for path, mode in self.dir_modes:
            if path == ".":
                os.fchmod(self.root_fd, mode)
            else:
                os.chmod(path, mode, dir_fd=self.root_fd, follow_symlinks=False)

    def leaf(self, path: str, name: str, fd: int, node: Node) -> None:
        first = self.first_name.get(id(node))
        if first is not None:  # another name of an inode already written: link(2), no follow
            os.link(first, name, src_dir_fd=self.root_fd, dst_dir_fd=fd, follow_symlinks=False)
            return
        if node.type == FILE:
            ffd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                          dir_fd=fd)
            try:
                view = memoryview(node.data)
                while view:
                    view = view[os.write(ffd, view):]
                self.metadata(ffd, None, node, path)
            finally:
                os.close(ffd)
        elif node.type == SYMLINK:
            os.symlink(node.linkname, name, dir_fd=fd)
            self.metadata(fd, name, node, path)
        elif self.make_special(name, fd, node, path):
            self.metadata(fd, name, node, path)
        else:
            return
        if node.nlink > 1:
            self.first_name[id(node)] = path

    def make_special(self, name: str, fd: int, node: Node, path: str) -> bool:
        """mknod/mkfifo; device nodes are skipped (with a warning) without privilege."""
        if node.type == FIFO:
            os.mkfifo(name, 0o600, dir_fd=fd)
            return True
        kind = _DEVICE_TYPES[node.type]
        if self.privileged:
            try:
                os.mknod(name, kind | 0o600, os.makedev(node.devmajor, node.devminor), dir_fd=fd)
                return True
            except PermissionError:
                pass
        self.warn(f"{path}: skipping {node.type} device {node.devmajor}:{node.devminor} (no privilege to mknod)")
        return False

    def finish(self, path: str, fd: int) -> None:
        """A directory's own attributes, after everything inside it exists (mode later)."""
        node = self.tree.get(path)
        assert node is not None and stat.S_ISDIR(os.fstat(fd).st_mode)
        self.metadata(fd, None, node, path, chmod=False)
        self.dir_modes.append((path, node.mode))

    def metadata(self, fd: int, name: str | None, node: Node, path: str, chmod: bool = True) -> None:
        """Owner, xattrs (chown clears file capabilities), mode (chown clears setuid), mtime:
        on ``fd`` itself when ``name`` is None, else on ``name`` in directory ``fd``, not followed."""
        ns = None if node.mtime is None else (node.mtime * 10**9,) * 2
        if name is None:
            if self.privileged:
                os.fchown(fd, node.uid, node.gid)
            self.set_xattrs(fd, node, path)
            if chmod:
                os.fchmod(fd, node.mode)
            if ns is not None:
                os.utime(fd, ns=ns)
            return
        if self.privileged:
            os.chown(name, node.uid, node.gid, dir_fd=fd, follow_symlinks=False)
        self.set_xattrs(f"/proc/self/fd/{fd}/{name}", node, path)
        if node.type != SYMLINK:  # a symlink's mode is always 0777
            os.chmod(name, node.mode, dir_fd=fd, follow_symlinks=False)
        if ns is not None:
            os.utime(name, ns=ns, dir_fd=fd, follow_symlinks=False)

    def set_xattrs(self, target: int | str, node: Node, path: str) -> None:
        """Set xattrs through an fd, or a ``/proc/self/fd/DIRFD/NAME`` path not followed."""
        for key, value in sorted(node.xattrs.items()):
            try:
                os.setxattr(target, key, value, follow_symlinks=isinstance(target, int))
            except OSError as e:
                if e.errno not in (errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM, errno.EACCES):
                    raise
                self.warn(f"{path}: skipping xattr {key}: {e.strerror}")


def dir_records(path: str | Path) -> list[dict[str, Any]]:
    """The records (same format as :meth:`Tree.records`) of a real directory tree, read
    without following symlinks: ``nlink`` is ``st_nlink``; names sharing an inode get the
    first of them as ``hardlink_group``; xattrs that layers never carry are left out.
    Entries that vanish between readdir and lstat (overlayfs whiteouts listed in a
    non-merged directory) are skipped."""
    base = os.fspath(path)
    found: list[tuple[str, Node, os.stat_result]] = []
    stack = ["."]
    while stack:
        rel = stack.pop()
        full = base if rel == "." else os.path.join(base, rel)
        try:
            st = os.lstat(full)
        except FileNotFoundError:
            continue
        node = _node_from_stat(full, st)
        found.append((rel, node, st))
        if node.type == DIR:
            stack.extend(name if rel == "." else f"{rel}/{name}" for name in os.listdir(full))
    groups: dict[tuple[int, int], str] = {}
    for rel, _, st in found:
        key = (st.st_dev, st.st_ino)
        if st.st_nlink > 1 and not stat.S_ISDIR(st.st_mode) and (key not in groups or rel < groups[key]):
            groups[key] = rel
    found.sort(key=lambda f: (f[0] != ".", f[0]))
    return [record(rel, node, st.st_nlink, groups.get((st.st_dev, st.st_ino)) if st.st_nlink > 1 else None)
            for rel, node, st in found]


_TYPES = {stat.S_IFREG: FILE, stat.S_IFDIR: DIR, stat.S_IFLNK: SYMLINK, stat.S_IFCHR: CHAR,
          stat.S_IFBLK: BLOCK, stat.S_IFIFO: FIFO}


def _node_from_stat(full: str, st: os.stat_result) -> Node:
    kind = _TYPES.get(stat.S_IFMT(st.st_mode))
    if kind is None:
        raise ImageError(f"{full!r}: unsupported file type {stat.S_IFMT(st.st_mode):o}")
    data = b""
    if kind == FILE:
        fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as f:
            data = f.read()
    xattrs = {}
    for key in os.listxattr(full, follow_symlinks=False):
        if keep_xattr(key):
            xattrs[key] = os.getxattr(full, key, follow_symlinks=False)
    return Node(
        type=kind,
        mode=stat.S_IMODE(st.st_mode),
        uid=st.st_uid,
        gid=st.st_gid,
        mtime=int(st.st_mtime),
        data=data,
        linkname=os.readlink(full) if kind == SYMLINK else "",
        devmajor=os.major(st.st_rdev) if kind in (CHAR, BLOCK) else 0,
        devminor=os.minor(st.st_rdev) if kind in (CHAR, BLOCK) else 0,
        xattrs=xattrs,
        nlink=st.st_nlink,
    )
