"""The union view of an image: read-only layers under one writable container layer.

Modelled on overlayfs (Documentation/filesystems/overlayfs.rst) as Docker's overlay2 driver
mounts it: the lower layers are merged once into a flat index (:class:`Tree`), the upper
layer starts empty, the first change to a lower file copies the whole file up (metacopy
off), a removal leaves a whiteout, and a directory created where a lower one was removed is
made opaque (``trusted.overlay.opaque=y``). :meth:`UnionFS.diff` is ``docker diff`` and
:meth:`UnionFS.commit` is ``docker commit``. :class:`NaiveUnion` is the AUFS-style baseline
that searches every layer at every lookup.
"""

from __future__ import annotations

import errno
import posixpath
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable, Union

from kbook.errors import ImageError
from kbook.image.image import Image
from kbook.image.layer import DIR, FILE, HARDLINK, OPAQUE, SYMLINK, WHITEOUT_PREFIX, Entry, Layer, clean_path
from kbook.image.tree import MAX_SYMLINK_HOPS, Node, Tree, keep_xattr, record

__all__ = ["UnionFS", "NaiveUnion", "Stat", "UnionFSError"]

UPPER = "upper"

_STRERROR = {  # glibc's strerror texts, fixed so messages do not depend on the host
    errno.ENOENT: "No such file or directory",
    errno.EEXIST: "File exists",
    errno.ENOTDIR: "Not a directory",
    errno.EISDIR: "Is a directory",
    errno.ENOTEMPTY: "Directory not empty",
    errno.EXDEV: "Invalid cross-device link",
    errno.EINVAL: "Invalid argument",
    errno.EPERM: "Operation not permitted",
    errno.EBUSY: "Device or resource busy",
    errno.ELOOP: "Too many levels of symbolic links",
}
_MISSING = object()

Layers = Union[Image, Iterable[Layer]]


class UnionFSError(ImageError):
    """A file operation refused as the kernel refuses it: ``errno`` and ``path`` as in
    Python's OSError, and the message in the same words (``Directory not empty: 'd'``)."""

    def __init__(self, code: int, path: str):
        self.errno = code
        self.path = path
        super().__init__(f"{_STRERROR[code]}: {path!r}")


@dataclass(frozen=True)
class Stat:
    """What ``stat(2)`` shows, plus where the inode lives: ``"upper"`` or a lower layer index."""

    type: str
    mode: int
    uid: int
    gid: int
    size: int
    mtime: int | None
    nlink: int
    layer: str | int | None


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else "."


def _join(parent: str, name: str) -> str:
    return name if parent == "." else f"{parent}/{name}"


def _sort_key(path: str) -> tuple[str, ...]:
    """Parents before children, siblings by name: the tar order of a reproducible layer."""
    return () if path == "." else tuple(path.split("/"))


def _layers(source: Layers) -> tuple[Layer, ...]:
    return tuple(source.layers) if isinstance(source, Image) else tuple(source)


def _walk(get: Callable[[str], Node | None], path: str, follow_final: bool) -> tuple[str, Node | None]:
    """Resolve ``path`` one component at a time as a process inside the root would:
    absolute symlink targets restart at the root and ``..`` stops at it. Returns the
    resolved path and its node (``None`` when only the last component is missing)."""
    todo = [c for c in reversed(path.split("/")) if c not in ("", ".")]
    cur, node, hops = ".", _MISSING, 0
    while todo:
        name = todo.pop()
        if name == "..":
            cur, node = _parent(cur), _MISSING
            continue
        child_path = _join(cur, name)
        child = get(child_path)
        if child is None:
            if todo:
                raise UnionFSError(errno.ENOENT, clean_path(path))
            return child_path, None
        if child.type == SYMLINK and (todo or follow_final):
            hops += 1
            if hops > MAX_SYMLINK_HOPS:
                raise UnionFSError(errno.ELOOP, clean_path(path))
            if child.linkname.startswith("/"):
                cur, node = ".", _MISSING
            todo.extend(c for c in reversed(child.linkname.split("/")) if c not in ("", "."))
            continue
        if todo and child.type != DIR:
            raise UnionFSError(errno.ENOTDIR, clean_path(path))
        cur, node = child_path, child
    return cur, get(cur) if node is _MISSING else node


def _check_name(path: str) -> None:
    """aufs(5): names starting with the whiteout prefix are reserved (EPERM). overlayfs
    allows them, but a committed layer could not tell them from whiteouts."""
    if posixpath.basename(path).startswith(WHITEOUT_PREFIX):
        raise UnionFSError(errno.EPERM, path)


def _stat(node: Node, layer: str | int | None) -> Stat:
    size = len(node.data) if node.type == FILE else len(node.linkname) if node.type == SYMLINK else 0
    return Stat(node.type, node.mode, node.uid, node.gid, size, node.mtime, node.nlink, layer)


class UnionFS:
    """A container's root filesystem: the image's layers, read-only, under an empty upper layer.

    The lower layers are merged once (:meth:`Tree.from_layers`), so a lookup costs a few
    dict accesses however many layers there are. The upper layer maps paths to the nodes the
    container wrote and to whiteouts (``None``, overlayfs' char 0/0); ancestors of every
    upper path are upper directories, as copy-up guarantees. ``now`` is the container's
    clock: the mtime that writes and directory changes record.
    """

    def __init__(self, image_or_layers: Layers, now: int = 0):
        self.layers = _layers(image_or_layers)
        self.lower = Tree.from_layers(self.layers)
        self.now = now
        self.copy_ups = 0
        self.copied_up_bytes = 0
        self._upper: dict[str, Node | None] = {}
        self._kids: dict[str, set[str]] = {}  # upper dir -> names of its upper entries
        self._opaque: set[str] = set()
        self._hiders: set[str] = set()  # upper paths that hide the lower tree below them

    # --- the merged view ----------------------------------------------------------------

    def _lower_at(self, path: str) -> Node | None:
        """The lower node at ``path`` unless an upper ancestor (whiteout, non-directory or
        opaque directory) hides it; an upper entry at ``path`` itself is not considered."""
        if self._hiders:
            q = path
            while "/" in q:
                q = q.rsplit("/", 1)[0]
                if q in self._hiders:
                    return None
        return self.lower.get(path)

    def _get(self, path: str) -> Node | None:
        node = self._upper.get(path, _MISSING)
        return self._lower_at(path) if node is _MISSING else node

    def _walk(self, path: str, follow: bool) -> tuple[str, Node | None]:
        return _walk(self._get, path, follow)

    def _existing(self, path: str, follow: bool) -> tuple[str, Node]:
        p, node = self._walk(path, follow)
        if node is None:
            raise UnionFSError(errno.ENOENT, clean_path(path))
        return p, node

    def lookup(self, path: str, follow_symlinks: bool = True) -> Node | None:
        """The node a process sees at ``path``, or ``None`` if there is none."""
        try:
            return self._walk(path, follow_symlinks)[1]
        except UnionFSError:
            return None

    def exists(self, path: str) -> bool:
        return self.lookup(path) is not None

    def stat(self, path: str, follow_symlinks: bool = True) -> Stat:
        p, node = self._existing(path, follow_symlinks)
        return _stat(node, UPPER if p in self._upper else node.layer)

    def readdir(self, path: str = ".") -> list[str]:
        """Names in a directory: upper and lower merged, whiteouts hidden, and nothing from
        below an opaque directory (overlayfs "readdir" on a merged directory)."""
        p, node = self._existing(path, True)
        if node.type != DIR:
            raise UnionFSError(errno.ENOTDIR, clean_path(path))
        names: set[str] = set()
        if self._merged(p):
            names.update(self.lower.children(p))
        for name in self._kids.get(p, ()):
            if self._upper[_join(p, name)] is None:
                names.discard(name)
            else:
                names.add(name)
        return sorted(names)

    def read(self, path: str) -> bytes:
        _, node = self._existing(path, True)
        if node.type == DIR:
            raise UnionFSError(errno.EISDIR, clean_path(path))
        return node.data

    def paths(self) -> list[str]:
        """Every path of the merged view, sorted, the root ``.`` first (as :meth:`Tree.paths`)."""
        out, stack = [], ["."]
        while stack:
            p = stack.pop()
            if p != ".":
                out.append(p)
            if self._get(p).type == DIR:
                stack.extend(_join(p, n) for n in self.readdir(p))
        return ["."] + sorted(out)

    def records(self) -> list[dict[str, Any]]:
        """The merged view as conformance records (:meth:`Tree.records`): ``nlink`` and
        ``hardlink_group`` count the names each inode has in the view."""
        paths = self.paths()
        nodes = [self._get(p) for p in paths]
        names: dict[int, list[str]] = {}
        for p, n in zip(paths, nodes):
            names.setdefault(id(n), []).append(p)
        return [record(p, n, len(names[id(n)]), min(names[id(n)]) if len(names[id(n)]) > 1 else None)
                for p, n in zip(paths, nodes)]

    # --- the upper layer ----------------------------------------------------------------

    def _set(self, path: str, node: Node | None) -> None:
        """Put a node or a whiteout at ``path`` in the upper layer; ``nlink`` counts names."""
        old = self._upper.get(path)
        if old is not None:
            old.nlink -= 1
        if node is not None:
            node.nlink += 1
        self._upper[path] = node
        if path != ".":
            self._kids.setdefault(_parent(path), set()).add(posixpath.basename(path))
        if node is None or node.type != DIR or path in self._opaque:
            self._hiders.add(path)
        else:
            self._hiders.discard(path)

    def _subtree(self, path: str) -> list[str]:
        """``path`` and its upper descendants, parents first."""
        out, stack = [], [path]
        while stack:
            p = stack.pop()
            out.append(p)
            stack.extend(_join(p, n) for n in sorted(self._kids.get(p, ()), reverse=True))
        return out

    def _drop(self, path: str) -> None:
        """Forget ``path`` and everything under it in the upper layer."""
        for p in self._subtree(path):
            node = self._upper.pop(p)
            if node is not None:
                node.nlink -= 1
            self._kids.pop(p, None)
            self._opaque.discard(p)
            self._hiders.discard(p)
        self._kids[_parent(path)].discard(posixpath.basename(path))

    def _copy_up(self, path: str) -> Node:
        """The upper node at ``path``, copying it (the whole file: metacopy is off) and its
        parents up first if they are lower nodes. Lower nodes are never changed, so other
        names of a hardlinked lower file keep the old inode (overlayfs with index=off). An
        mtime the image left unset ("now" at unpack) takes the container's clock."""
        node = self._upper.get(path)
        if node is not None:
            return node
        if path != ".":
            self._copy_up(_parent(path))
        lower = self._lower_at(path)
        copy = replace(lower, xattrs=dict(lower.xattrs), layer=None, nlink=0,
                       mtime=self.now if lower.mtime is None else lower.mtime)
        self.copy_ups += 1
        self.copied_up_bytes += len(lower.data)
        self._set(path, copy)
        return copy

    def _touch_parent(self, path: str) -> None:
        """A name was added or removed: the parent directory is copied up and its mtime set."""
        self._copy_up(_parent(path)).mtime = self.now

    def _create(self, path: str, node: Node, opaque: bool = False) -> None:
        """Place a node at a free ``path``. A directory placed over a whiteout or a lower
        name is made opaque (overlayfs ``ovl_create_over_whiteout``: trusted.overlay.opaque)."""
        self._touch_parent(path)
        over = self._upper.get(path, _MISSING) is None or self._lower_at(path) is not None
        if node.type == DIR and (opaque or over):
            self._opaque.add(path)
        self._set(path, node)

    def _merged(self, path: str) -> bool:
        """Is ``path`` a directory whose lower entries show through (overlayfs "merge" type)?"""
        lower = self._lower_at(path)
        return lower is not None and lower.type == DIR and path not in self._hiders

    def _remove(self, path: str) -> None:
        """Remove ``path`` and what is under it; a whiteout remains if a lower node would show."""
        self._touch_parent(path)
        if path in self._upper:
            self._drop(path)
        if self._lower_at(path) is not None:
            self._set(path, None)

    def _new(self, type: str, mode: int, data: bytes = b"", linkname: str = "") -> Node:
        return Node(type, mode & 0o7777, 0, 0, self.now, data=data, linkname=linkname)

    def _free(self, path: str) -> str:
        """The resolved path for a new name: its parent must exist, the name must not."""
        p, node = self._walk(path, False)
        if node is not None or p == ".":
            raise UnionFSError(errno.EEXIST, clean_path(path))
        _check_name(p)
        return p

    # --- file operations ----------------------------------------------------------------

    def write(self, path: str, data: bytes, append: bool = False) -> None:
        """Write or append to a file, creating it (through a final symlink, as
        ``open(O_CREAT)`` does). A lower file is copied up whole before the first write."""
        p, node = self._walk(path, True)
        if node is None:
            _check_name(p)
            node = self._new(FILE, 0o644)
            self._create(p, node)
        elif node.type != FILE:
            raise UnionFSError(errno.EISDIR if node.type == DIR else errno.EINVAL, clean_path(path))
        else:
            node = self._copy_up(p)
        node.data = node.data + data if append else bytes(data)
        node.mtime = self.now

    def chmod(self, path: str, mode: int) -> None:
        """Change permission bits (a full copy-up, as with metacopy off)."""
        p, _ = self._existing(path, True)
        self._copy_up(p).mode = mode & 0o7777

    def chown(self, path: str, uid: int, gid: int, follow_symlinks: bool = True) -> None:
        p, _ = self._existing(path, follow_symlinks)
        node = self._copy_up(p)
        node.uid, node.gid = uid, gid

    def mkdir(self, path: str, mode: int = 0o755) -> None:
        self._create(self._free(path), self._new(DIR, mode))

    def symlink(self, target: str, path: str) -> None:
        """Create ``path`` pointing at ``target`` (stored verbatim)."""
        self._create(self._free(path), self._new(SYMLINK, 0o777, linkname=target))

    def link(self, src: str, dst: str) -> None:
        """A hardlink: the source is copied up first, then linked in the upper layer."""
        s, node = self._existing(src, False)
        if node.type == DIR:
            raise UnionFSError(errno.EPERM, clean_path(src))
        d = self._free(dst)
        self._create(d, self._copy_up(s))

    def delete(self, path: str, recursive: bool = False) -> None:
        """``unlink`` (``rm``), or ``rm -rf`` with ``recursive``: a whiteout in the upper layer."""
        p, node = self._existing(path, False)
        if node.type == DIR and not recursive:
            raise UnionFSError(errno.EISDIR, clean_path(path))
        if p == ".":
            raise UnionFSError(errno.EBUSY, clean_path(path))
        self._remove(p)

    def rmdir(self, path: str) -> None:
        p, node = self._existing(path, False)
        if node.type != DIR:
            raise UnionFSError(errno.ENOTDIR, clean_path(path))
        if p == ".":
            raise UnionFSError(errno.EBUSY, clean_path(path))
        if self.readdir(p):
            raise UnionFSError(errno.ENOTEMPTY, clean_path(path))
        self._remove(p)

    def rename(self, src: str, dst: str) -> None:
        """``rename(2)``: a file is copied up, moved, and whited out at its old name. A
        directory that is merged with or only in a lower layer fails with EXDEV
        (overlayfs with ``redirect_dir=off``), so ``mv`` falls back to copying; one only in
        the upper layer moves, and becomes opaque if its new parent is merged
        (``ovl_rename``)."""
        s, snode = self._existing(src, False)
        d, dnode = self._walk(dst, False)
        if dnode is snode:  # the same name, or two links to one inode: POSIX does nothing
            return
        if "." in (s, d) or (snode.type == DIR and d.startswith(s + "/")):
            raise UnionFSError(errno.EBUSY if "." in (s, d) else errno.EINVAL, clean_path(src))
        if dnode is not None:
            if snode.type == DIR and dnode.type != DIR:
                raise UnionFSError(errno.ENOTDIR, clean_path(dst))
            if snode.type != DIR and dnode.type == DIR:
                raise UnionFSError(errno.EISDIR, clean_path(dst))
            if dnode.type == DIR and self.readdir(d):
                raise UnionFSError(errno.ENOTEMPTY, clean_path(dst))
        if snode.type == DIR and (s not in self._upper or (s not in self._opaque and self._lower_at(s) is not None)):
            raise UnionFSError(errno.EXDEV, clean_path(src))
        _check_name(d)
        node = self._copy_up(s)
        moved = [(p[len(s):], self._upper[p], p in self._opaque) for p in self._subtree(s)[1:]]
        opaque = s in self._opaque or self._merged(_parent(d))
        self._remove(s)
        if dnode is not None:
            self._remove(d)
        self._create(d, node, opaque)
        for rel, child, opaque in moved:
            if opaque:
                self._opaque.add(d + rel)
            self._set(d + rel, child)

    # --- accounting, diff and commit ----------------------------------------------------

    @property
    def upper_size(self) -> int:
        """Bytes of file data in the upper layer (``docker ps --size``), each inode once."""
        nodes = {id(n): n for n in self._upper.values() if n is not None and n.type == FILE}
        return sum(len(n.data) for n in nodes.values())

    def diff(self) -> list[tuple[str, str]]:
        """``docker diff``: ``("A"|"C"|"D", "/path")`` sorted by path, as moby's
        ``ChangesDirs`` compares the image's tree with the container's: a changed
        directory's removed lower children are ``D`` (their subtrees not listed), a new
        directory's contents ``A``, and every directory above a change ``C``. (overlay2's
        ``OverlayChanges`` would instead report an opaque directory itself as ``D``.)"""
        changes: dict[str, str] = {}
        live = {".": True}  # does the lower tree show through below this upper directory?
        for p in sorted(self._upper, key=_sort_key):
            node, old = self._upper[p], self.lower.get(p)
            if p != ".":
                if node is None:
                    changes[p] = "D"
                elif old is None:
                    changes[p] = "A"
                elif _differs(old, node):
                    changes[p] = "C"
            if node is not None and node.type == DIR:
                live[p] = p == "." or (live[_parent(p)] and p not in self._opaque and old is not None)
                if not live[p] and old is not None and old.type == DIR:
                    for name in self.lower.children(p):
                        if _join(p, name) not in self._upper:
                            changes[_join(p, name)] = "D"
        for p in list(changes):
            q = _parent(p)
            while q != "." and q not in changes:
                changes[q] = "C"
                q = _parent(q)
        return [(kind, "/" + p) for p, kind in sorted(changes.items())]

    def commit(self) -> Layer:
        """``docker commit``: the upper layer as a layer tar. Changed and new nodes are
        written in full, removals as ``.wh.NAME``, an opaque directory as ``DIR`` then
        ``DIR/.wh..wh..opq`` then its contents; parents first, siblings by name, so the same
        changes give the same bytes. A node with several upper names is written once, the
        other names as hardlinks to it."""
        entries: list[Entry] = []
        first: dict[int, str] = {}
        for p in sorted(self._upper, key=_sort_key):
            node = self._upper[p]
            if node is None:
                whiteout = _join(_parent(p), WHITEOUT_PREFIX + posixpath.basename(p))
                entries.append(Entry(whiteout, FILE, 0o600, mtime=self.now))
                continue
            name = "./" if p == "." else p
            meta = dict(mode=node.mode, uid=node.uid, gid=node.gid, mtime=node.mtime, xattrs=dict(node.xattrs))
            if id(node) in first:
                entries.append(Entry(name, HARDLINK, linkname=first[id(node)], **meta))
                continue
            if node.type != DIR:
                first[id(node)] = p
            entries.append(Entry(name, node.type, data=node.data if node.type == FILE else b"",
                                 linkname=node.linkname, devmajor=node.devmajor, devminor=node.devminor, **meta))
            if p in self._opaque:
                entries.append(Entry(_join(p, OPAQUE), FILE, 0o600, mtime=self.now))
        return Layer.from_entries(entries)


def _differs(old: Node, new: Node) -> bool:
    """moby ``statDifferent``: type, mode, owner, device and xattrs; for non-directories
    also mtime and contents (moby compares sizes; a model can compare the bytes)."""
    if (old.type, old.mode, old.uid, old.gid, old.devmajor, old.devminor, old.xattrs) != (
            new.type, new.mode, new.uid, new.gid, new.devmajor, new.devminor, new.xattrs):
        return True
    return old.type != DIR and (old.mtime, old.data, old.linkname) != (new.mtime, new.data, new.linkname)


@dataclass
class _Branch:
    """One layer as AUFS keeps a branch: what it names, removes and makes opaque."""

    entries: dict[str, Entry]
    implied: set[str]  # parents the layer creates without naming them
    whiteouts: set[str]
    opaque: set[str]
    nondirs: set[str]
    children: dict[str, set[str]]

    @classmethod
    def of(cls, layer: Layer) -> "_Branch":
        b = cls({}, set(), set(), set(), set(), {})
        for e in layer.entries:
            path = e.path
            if e.is_opaque:
                b.opaque.add(_parent(path))
                continue
            if e.is_whiteout:
                b.whiteouts.add(_join(_parent(path), e.whiteout_name))
                continue
            b.entries[path] = e
            (b.nondirs.discard if e.type == DIR else b.nondirs.add)(path)
            while path != ".":
                parent = _parent(path)
                b.children.setdefault(parent, set()).add(posixpath.basename(path))
                if parent != "." and parent not in b.entries:
                    b.implied.add(parent)
                path = parent
        b.implied -= b.entries.keys()
        return b


class NaiveUnion:
    """The baseline: AUFS-style lookup that searches the layers top-down at every step.

    Each layer keeps only its own path dicts. Looking a path up scans the layers from the
    top: a layer that names the path answers; one that whites out the path or an ancestor,
    makes an ancestor opaque or replaces it with a non-directory ends the search. The
    cost grows with the number of layers; :class:`UnionFS` gives the same answers from an
    index merged once."""

    def __init__(self, image_or_layers: Layers):
        self.layers = _layers(image_or_layers)
        self._branches = [_Branch.of(layer) for layer in self.layers]

    def _get(self, path: str, top: int | None = None) -> Node | None:
        """The node at exactly ``path`` seen through layers ``0 .. top-1`` (all by default)."""
        top = len(self._branches) if top is None else top
        ancestors = []
        q = path
        while "/" in q:
            q = q.rsplit("/", 1)[0]
            ancestors.append(q)
        implied = None
        for i in range(top - 1, -1, -1):
            b = self._branches[i]
            e = b.entries.get(path)
            if e is not None:
                return self._node(e, i)
            if path in b.implied:
                implied = i
            if path in b.whiteouts or any(a in b.whiteouts or a in b.opaque or a in b.nondirs for a in ancestors):
                break
        if implied is not None or path == ".":
            return Node(DIR, 0o755, 0, 0, None, layer=implied)
        return None

    def _node(self, e: Entry, index: int) -> Node | None:
        """The node an entry of layer ``index`` names; a hardlink's is its target's as of that layer."""
        if e.type == HARDLINK:
            return self._get(clean_path(e.linkname), index + 1)
        return Node(e.type, 0o777 if e.type == SYMLINK else e.mode & 0o7777, e.uid, e.gid, e.mtime,
                    data=e.data if e.type == FILE else b"", linkname=e.linkname if e.type == SYMLINK else "",
                    devmajor=e.devmajor, devminor=e.devminor,
                    xattrs={k: v for k, v in e.xattrs.items() if keep_xattr(k)}, layer=index)

    def lookup(self, path: str, follow_symlinks: bool = True) -> Node | None:
        try:
            return _walk(self._get, path, follow_symlinks)[1]
        except UnionFSError:
            return None

    def readdir(self, path: str = ".") -> list[str]:
        p, node = _walk(self._get, path, True)
        if node is None:
            raise UnionFSError(errno.ENOENT, clean_path(path))
        if node.type != DIR:
            raise UnionFSError(errno.ENOTDIR, clean_path(path))
        names = set().union(*(b.children.get(p, ()) for b in self._branches))
        return sorted(n for n in names if self._get(_join(p, n)) is not None)
