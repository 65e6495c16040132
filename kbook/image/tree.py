"""The root filesystem an image's layers build, computed in memory and applied safely.

Models umoci ``oci/layer/tar_extract.go`` (``UnpackEntry``, ``ociWhiteout``) under the
policy of the reference notes (unionfs.md §7), with image-spec ``layer.md`` as the law:

- names are cleaned, a leading ``/`` dropped and ``..`` clamped at the root (``CleanPath``);
- parent symlinks resolve inside the root, chroot-style (``securejoin.SecureJoinVFS``),
  failing after 255 hops; the final component is never followed;
- whiteouts (plain and opaque) remove only what lower layers left: paths the current layer
  wrote, and their ancestors, survive (umoci's ``upperPaths``), so the order of entries in a
  layer does not matter; whiteout names '', '.' and '..' are refused; whiteouts never
  create parents;
- dir over dir replaces the attributes (xattrs cleared first) and keeps the children; any
  other type change unlinks the old path (a whole subtree) and recreates it;
- hardlinks name an existing non-directory inode (the final symlink is not followed) and
  their header's own metadata is ignored; rewriting a name later breaks the link;
- implied parents are 0755 root:root with mtime ``None`` ("now");
- the root may only receive directory entries;
- ``trusted.overlay.*``, ``security.selinux`` and ``system.nfs4_acl`` xattrs are dropped.

Applying a layer is all-or-nothing: every change is journaled and undone on error.
"""

from __future__ import annotations

import hashlib
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any, Iterable

from kbook.errors import ImageError
from kbook.image.layer import (
    BLOCK, CHAR, DIR, FIFO, FILE, HARDLINK, OPAQUE, SYMLINK, WHITEOUT_PREFIX, Entry, Layer, clean_path,
)

__all__ = ["Node", "Tree", "record", "MAX_SYMLINK_HOPS", "keep_xattr"]

MAX_SYMLINK_HOPS = 255  # filepath-securejoin / continuity fs.RootPath: ELOOP beyond this
_DROPPED_XATTRS = frozenset({"security.selinux", "system.nfs4_acl"})  # umoci ignoreXattrs
_DROPPED_XATTR_PREFIX = "trusted.overlay."
_NODE_TYPES = frozenset({FILE, DIR, SYMLINK, CHAR, BLOCK, FIFO})
_DEV_LIMIT = 1 << 32  # containerd: a larger major/minor is errInvalidArchive


def keep_xattr(name: str) -> bool:
    """Whether an xattr is carried into the root filesystem (umoci ``ignoreXattrs``)."""
    return name not in _DROPPED_XATTRS and not name.startswith(_DROPPED_XATTR_PREFIX)


@dataclass(slots=True, eq=False)
class Node:
    """One inode. ``layer`` is the index of the layer that last wrote its content or
    metadata; ``nlink`` counts the paths naming it (hardlinked paths share one Node)."""

    type: str
    mode: int = 0o755
    uid: int = 0
    gid: int = 0
    mtime: int | None = None
    data: bytes = field(default=b"", repr=False)
    linkname: str = ""
    devmajor: int = 0
    devminor: int = 0
    xattrs: dict[str, bytes] = field(default_factory=dict)
    layer: int | None = None
    nlink: int = 0

    @property
    def size(self) -> int:
        return len(self.data)


def record(path: str, node: Node, nlink: int, hardlink_group: str | None = None) -> dict[str, Any]:
    """One tree record as the conformance ``expected.json`` writes it."""
    r: dict[str, Any] = {"path": path, "type": node.type, "mode": "%04o" % node.mode,
                         "uid": node.uid, "gid": node.gid, "mtime": node.mtime}
    if node.type == FILE:
        r["size"] = len(node.data)
        r["sha256"] = hashlib.sha256(node.data).hexdigest()
    elif node.type == SYMLINK:
        r["link"] = node.linkname
    elif node.type in (CHAR, BLOCK):
        r["rdev"] = [node.devmajor, node.devminor]
    if node.xattrs:
        r["xattrs"] = {k: v.decode("utf-8", "surrogateescape") for k, v in sorted(node.xattrs.items())}
    if node.type != DIR:
        r["nlink"] = nlink
        if hardlink_group is not None:
            r["hardlink_group"] = hardlink_group
    return r


def _join(parent: str, name: str) -> str:
    return name if parent == "." else f"{parent}/{name}"


def _parent(path: str) -> str:
    i = path.rfind("/")
    return "." if i < 0 else path[:i]


class Tree:
    """A root filesystem in memory: a flat index ``path -> Node`` (cleaned paths relative
    to the root, ``.`` is the root) plus the set of child names of every directory."""

    def __init__(self) -> None:
        self._nodes: dict[str, Node] = {}
        self._kids: dict[str, set[str]] = {}
        self._files = 0
        self._journal: list[tuple[str, str, Node | None]] | None = None
        self._put(".", Node(DIR, 0o755, 0, 0, None))

    @classmethod
    def from_layers(cls, layers: Iterable[Layer]) -> "Tree":
        """The tree of a layer stack, bottom first; each layer's index is its position."""
        tree = cls()
        for i, layer in enumerate(layers):
            tree.apply(layer, i)
        return tree

    # -- reading -------------------------------------------------------------------------

    def get(self, path: str) -> Node | None:
        """The node at exactly this path (cleaned; no symlink is followed)."""
        node = self._nodes.get(path)
        return node if node is not None else self._nodes.get(clean_path(path))

    def resolve(self, path: str, follow_final: bool = True) -> str | None:
        """The path a lookup of ``path`` lands on, symlinks resolved inside the root
        (absolute targets restart at the root, ``..`` stops there). The result may not
        exist; ``None`` when the lookup fails: a loop (more than 255 hops) or a
        non-directory in the middle of the path."""
        try:
            resolved, through_non_dir = self._walk(clean_path(path), follow_final)
        except ImageError:
            return None
        return None if through_non_dir else resolved

    def children(self, path: str) -> list[str]:
        """Sorted names in a directory ([] when ``path`` is not a directory)."""
        kids = self._kids.get(path)
        if kids is None:
            kids = self._kids.get(clean_path(path), ())
        return sorted(kids)

    def paths(self) -> list[str]:
        """Every path, sorted, the root ``.`` first."""
        return ["."] + sorted(p for p in self._nodes if p != ".")

    def records(self) -> list[dict[str, Any]]:
        """The tree as conformance records (``expected.json`` ``tree``), sorted by path."""
        groups: dict[int, str] = {}
        for p, n in self._nodes.items():
            if n.nlink > 1 and (id(n) not in groups or p < groups[id(n)]):
                groups[id(n)] = p
        nodes = self._nodes
        return [record(p, nodes[p], nodes[p].nlink, groups.get(id(nodes[p]))) for p in self.paths()]

    def copy(self) -> "Tree":
        """An independent copy; paths that share an inode still share one."""
        new = Tree.__new__(Tree)
        memo: dict[int, Node] = {}
        nodes: dict[str, Node] = {}
        for p, n in self._nodes.items():
            c = memo.get(id(n))
            if c is None:
                c = memo[id(n)] = replace(n, xattrs=dict(n.xattrs))
            nodes[p] = c
        new._nodes = nodes
        new._kids = {p: set(k) for p, k in self._kids.items()}
        new._files = self._files
        new._journal = None
        return new

    @property
    def file_count(self) -> int:
        """Regular-file paths (hardlinks counted once per name), like ``find -type f``."""
        return self._files

    def __len__(self) -> int:
        """Every path, the root included."""
        return len(self._nodes)

    def __contains__(self, path: str) -> bool:
        return self.get(path) is not None

    # -- applying ------------------------------------------------------------------------

    def apply(self, layer: Layer, index: int | None = None) -> None:
        """Apply one layer's changeset; on ImageError (or any error) nothing changed."""
        self._journal = []
        try:
            upper: set[str] = set()
            for entry in layer.entries:
                self._entry(entry, index, upper)
        except BaseException:
            self._rollback()
            raise
        finally:
            self._journal = None

    def _entry(self, e: Entry, index: int | None, upper: set[str]) -> None:
        if "\0" in e.name or "\0" in e.linkname:
            raise ImageError(f"{e.name!r}: NUL byte in the entry name or link target")
        path = clean_path(e.name)
        if path == ".":
            if e.type != DIR:
                raise ImageError(f"{e.name!r}: refusing to change the type of the root directory to {e.type}")
            self._swap(".", self._new_node(e, index))
            return
        parent, _, name = path.rpartition("/")
        parent = parent or "."
        if name.startswith(WHITEOUT_PREFIX):
            self._whiteout(e, parent, name, upper)
            return
        if e.type != HARDLINK and e.type not in _NODE_TYPES:
            raise ImageError(f"{e.name!r}: unsupported entry type {e.type!r}")
        new = None if e.type == HARDLINK else self._new_node(e, index)
        target = self._join_in_root(parent, name, e.name)
        self._make_parents(_parent(target), index, e.name)
        old = self._nodes.get(target)
        if new is not None and new.type == DIR and old is not None and old.type == DIR:
            self._swap(target, new)
        else:
            if old is not None:
                self._remove(target)
            self._put(target, new if new is not None else self._link_target(e))
        while target not in upper and target != ".":
            upper.add(target)
            target = _parent(target)

    def _new_node(self, e: Entry, index: int | None) -> Node:
        """The inode an entry creates, its metadata checked and filtered."""
        if e.uid < 0 or e.gid < 0:
            raise ImageError(f"{e.name!r}: negative uid or gid")
        if e.type in (CHAR, BLOCK) and not (0 <= e.devmajor < _DEV_LIMIT and 0 <= e.devminor < _DEV_LIMIT):
            raise ImageError(f"{e.name!r}: invalid device number {e.devmajor}:{e.devminor}")
        if e.type == SYMLINK and not e.linkname:
            raise ImageError(f"{e.name!r}: symlink with an empty target")
        return Node(
            type=e.type,
            mode=0o777 if e.type == SYMLINK else e.mode & 0o7777,  # symlink modes are 0777 on Linux
            uid=e.uid,
            gid=e.gid,
            mtime=int(e.mtime),
            data=e.data if e.type == FILE else b"",
            linkname=e.linkname if e.type == SYMLINK else "",
            devmajor=e.devmajor if e.type in (CHAR, BLOCK) else 0,
            devminor=e.devminor if e.type in (CHAR, BLOCK) else 0,
            xattrs={k: v for k, v in e.xattrs.items() if keep_xattr(k)},
            layer=index,
        )

    def _link_target(self, e: Entry) -> Node:
        """A hardlink's inode: the cleaned target, its parent resolved in the root, the
        final component not followed (``link(2)`` without AT_SYMLINK_FOLLOW)."""
        target_path = clean_path(e.linkname)
        parent, _, name = target_path.rpartition("/")
        target = "." if target_path == "." else self._join_in_root(parent or ".", name, e.name)
        node = self._nodes.get(target)
        if node is None:
            raise ImageError(f"{e.name!r}: hardlink target {e.linkname!r} does not exist in the root filesystem")
        if node.type == DIR:
            raise ImageError(f"{e.name!r}: hardlink target {e.linkname!r} is a directory")
        return node

    def _whiteout(self, e: Entry, parent: str, name: str, upper: set[str]) -> None:
        """``.wh.NAME`` / ``.wh..wh..opq``: remove what lower layers left (umoci ``ociWhiteout``)."""
        opaque = name == OPAQUE
        victim = name[len(WHITEOUT_PREFIX):]
        if not opaque and victim in ("", ".", ".."):
            raise ImageError(f"{e.name!r}: invalid whiteout name {victim!r}")
        directory, through_non_dir = self._walk(parent, True, e.name)
        if through_non_dir or (d := self._nodes.get(directory)) is None or d.type != DIR:
            return  # nothing below to hide; never create parents
        target = directory if opaque else _join(directory, victim)
        if target not in self._nodes:
            return
        stack = [(target, opaque)]
        while stack:
            p, keep = stack.pop()
            if p not in upper and not keep:
                self._remove(p)
            elif p in self._kids:
                stack.extend((_join(p, k), False) for k in self._kids[p])

    # -- paths ---------------------------------------------------------------------------

    def _walk(self, path: str, follow_final: bool, name: str = "") -> tuple[str, bool]:
        """Resolve ``path`` (cleaned) inside the root like ``SecureJoinVFS``: symlinks in
        the path are followed (absolute targets restart at the root, ``..`` is clamped),
        missing components are kept lexically. Returns the path and whether a
        non-directory was passed through. ELOOP after 255 hops is an ImageError."""
        node = self._nodes.get(path)
        if node is not None and (node.type != SYMLINK or not follow_final):
            return path, False  # an indexed path: every ancestor is a real directory
        parts = deque(path.split("/"))
        out: list[str] = []
        hops = 0
        through_non_dir = False
        while parts:
            comp = parts.popleft()
            if comp in ("", "."):
                continue
            if comp == "..":
                if out:
                    out.pop()
                continue
            cand = "/".join(out) + "/" + comp if out else comp
            node = self._nodes.get(cand)
            if node is not None and node.type == SYMLINK and (parts or follow_final):
                hops += 1
                if hops > MAX_SYMLINK_HOPS:
                    raise ImageError(f"{name or path!r}: too many levels of symbolic links")
                if node.linkname.startswith("/"):
                    out = []
                parts.extendleft(reversed(node.linkname.split("/")))
                continue
            if parts and node is not None and node.type != DIR:
                through_non_dir = True
            out.append(comp)
        return "/".join(out) or ".", through_non_dir

    def _join_in_root(self, parent: str, name: str, entry_name: str) -> str:
        """``parent/name`` with ``parent`` resolved inside the root, ``name`` not followed."""
        directory, _ = self._walk(parent, True, entry_name)
        return _join(directory, name)

    def _make_parents(self, directory: str, index: int | None, name: str) -> None:
        """``MkdirAll`` of a resolved directory: implied parents 0755 root:root, mtime now."""
        node = self._nodes.get(directory)
        if node is not None and node.type == DIR:
            return
        prefix = "."
        for comp in directory.split("/"):
            prefix = _join(prefix, comp)
            node = self._nodes.get(prefix)
            if node is None:
                self._put(prefix, Node(DIR, 0o755, 0, 0, None, layer=index))
            elif node.type != DIR:
                raise ImageError(f"{name!r}: cannot create {directory!r}: {prefix!r} is not a directory")

    # -- journaled primitives ------------------------------------------------------------

    def _put(self, path: str, node: Node) -> None:
        """Add a path (absent, its parent a directory) naming ``node``."""
        self._nodes[path] = node
        if path != ".":
            self._kids[_parent(path)].add(path[path.rfind("/") + 1:])
        if node.type == DIR:
            self._kids[path] = set()
        elif node.type == FILE:
            self._files += 1
        node.nlink += 1
        if self._journal is not None:
            self._journal.append(("put", path, None))

    def _drop(self, path: str) -> None:
        """Remove one path (an empty directory or a non-directory)."""
        node = self._nodes.pop(path)
        self._kids[_parent(path)].discard(path[path.rfind("/") + 1:])
        if node.type == DIR:
            del self._kids[path]
        elif node.type == FILE:
            self._files -= 1
        node.nlink -= 1
        if self._journal is not None:
            self._journal.append(("drop", path, node))

    def _swap(self, path: str, node: Node) -> None:
        """Replace a directory's inode (new attributes), keeping its children."""
        old = self._nodes[path]
        self._nodes[path] = node
        old.nlink -= 1
        node.nlink += 1
        if self._journal is not None:
            self._journal.append(("swap", path, old))

    def _remove(self, path: str) -> None:
        """Unlink a path and, for a directory, its whole subtree (``RemoveAll``)."""
        if path not in self._kids:
            self._drop(path)
            return
        order: list[str] = []
        stack = [path]
        while stack:
            p = stack.pop()
            order.append(p)
            kids = self._kids.get(p)
            if kids:
                stack.extend(_join(p, k) for k in kids)
        for p in reversed(order):  # children before their parent
            self._drop(p)

    def _rollback(self) -> None:
        journal, self._journal = self._journal or [], None
        for op, path, node in reversed(journal):
            if op == "put":
                self._drop(path)
            elif op == "drop":
                assert node is not None
                self._put(path, node)
            else:
                assert node is not None
                self._swap(path, node)
