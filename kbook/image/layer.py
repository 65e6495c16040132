"""OCI layers: tar changesets read into entries and written back, byte for byte reproducible.

A layer (image-spec layer.md) is a tar whose entries add or replace paths; a removal is
an empty file ``.wh.NAME``, and ``DIR/.wh..wh..opq`` makes DIR opaque (hides every lower
child). Entries keep their tar name as written: cleaning and refusing unsafe names is
the applier's job (:mod:`kbook.image.tree`), so nothing is silently rewritten here.
"""

from __future__ import annotations

import gzip
import io
import posixpath
import tarfile
import zlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Iterable

from kbook.errors import ImageError
from kbook.image.digest import sha256_digest

__all__ = [
    "Entry",
    "Layer",
    "read_layer",
    "clean_path",
    "FILE",
    "DIR",
    "SYMLINK",
    "HARDLINK",
    "CHAR",
    "BLOCK",
    "FIFO",
    "WHITEOUT_PREFIX",
    "OPAQUE",
    "MEDIA_TYPE_TAR",
    "MEDIA_TYPE_GZIP",
]

FILE, DIR, SYMLINK, HARDLINK, CHAR, BLOCK, FIFO = "file", "dir", "symlink", "hardlink", "char", "block", "fifo"
WHITEOUT_PREFIX = ".wh."  # image-spec layer.md "Whiteouts"
OPAQUE = ".wh..wh..opq"  # image-spec layer.md "Opaque Whiteout"
MEDIA_TYPE_TAR = "application/vnd.oci.image.layer.v1.tar"
MEDIA_TYPE_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"

_XATTR = "SCHILY.xattr."
_FROM_TAR = {
    tarfile.REGTYPE: FILE,
    tarfile.AREGTYPE: FILE,
    tarfile.CONTTYPE: FILE,
    tarfile.DIRTYPE: DIR,
    tarfile.SYMTYPE: SYMLINK,
    tarfile.LNKTYPE: HARDLINK,
    tarfile.CHRTYPE: CHAR,
    tarfile.BLKTYPE: BLOCK,
    tarfile.FIFOTYPE: FIFO,
}
_TO_TAR = {FILE: tarfile.REGTYPE, DIR: tarfile.DIRTYPE, SYMLINK: tarfile.SYMTYPE, HARDLINK: tarfile.LNKTYPE,
           CHAR: tarfile.CHRTYPE, BLOCK: tarfile.BLKTYPE, FIFO: tarfile.FIFOTYPE}


def clean_path(name: str) -> str:
    """A tar name as a path relative to the root, cleaned lexically with ``..`` clamped at
    the root and a leading ``/`` dropped (umoci's ``CleanPath``); the root itself is ``.``."""
    p = posixpath.normpath("/" + name).lstrip("/")
    return p or "."


@dataclass(frozen=True)
class Entry:
    """One tar entry of a changeset: what it creates, with its metadata.

    ``name`` is the tar name as written; ``path`` is its cleaned form. ``linkname`` is a
    symlink's target (verbatim) or a hardlink's target path in the image.
    """

    name: str
    type: str
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    mtime: int = 0
    data: bytes = field(default=b"", repr=False)
    linkname: str = ""
    devmajor: int = 0
    devminor: int = 0
    xattrs: dict[str, bytes] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return clean_path(self.name)

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def basename(self) -> str:
        return posixpath.basename(self.name.rstrip("/"))

    @property
    def is_opaque(self) -> bool:
        """``DIR/.wh..wh..opq``: DIR hides all of its lower children."""
        return self.basename == OPAQUE

    @property
    def is_whiteout(self) -> bool:
        """``.wh.NAME``: NAME is removed (the opaque marker excluded)."""
        return self.basename.startswith(WHITEOUT_PREFIX) and not self.is_opaque

    @property
    def whiteout_name(self) -> str:
        """The basename a plain whiteout removes (may be '', '.' or '..': refused when applied)."""
        return self.basename[len(WHITEOUT_PREFIX):]


def _entry_from_tarinfo(info: tarfile.TarInfo, tar: tarfile.TarFile) -> Entry:
    kind = _FROM_TAR.get(info.type)
    if kind is None:
        raise ImageError(f"{info.name!r}: unsupported tar entry type {info.type!r}")
    data = b""
    if kind == FILE:
        f = tar.extractfile(info)
        data = f.read() if f is not None else b""
    xattrs = {
        k[len(_XATTR):]: v.encode("utf-8", "surrogateescape")
        for k, v in sorted(info.pax_headers.items())
        if k.startswith(_XATTR)
    }
    return Entry(
        name=info.name,
        type=kind,
        mode=info.mode & 0o7777,
        uid=info.uid,
        gid=info.gid,
        mtime=int(info.mtime),
        data=data,
        linkname=info.linkname,
        devmajor=info.devmajor if kind in (CHAR, BLOCK) else 0,
        devminor=info.devminor if kind in (CHAR, BLOCK) else 0,
        xattrs=xattrs,
    )


def _tarinfo(e: Entry) -> tarfile.TarInfo:
    info = tarfile.TarInfo(e.name)
    info.type = _TO_TAR[e.type]
    info.mode, info.uid, info.gid, info.mtime = e.mode, e.uid, e.gid, e.mtime
    info.uname = info.gname = ""
    info.size = len(e.data) if e.type == FILE else 0
    info.linkname = e.linkname
    info.devmajor, info.devminor = e.devmajor, e.devminor
    info.pax_headers = {_XATTR + k: v.decode("utf-8", "surrogateescape") for k, v in sorted(e.xattrs.items())}
    return info


def _write_tar(entries: Iterable[Entry]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT, encoding="utf-8", errors="surrogateescape") as tar:
        for e in entries:
            if e.type not in _TO_TAR:
                raise ImageError(f"{e.name!r}: unsupported entry type {e.type!r}")
            tar.addfile(_tarinfo(e), io.BytesIO(e.data) if e.type == FILE else None)
    return buf.getvalue()


def _decompress(blob: bytes) -> tuple[bytes, str | None]:
    if blob[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(blob), "gzip"
        except (OSError, EOFError, zlib.error) as e:
            raise ImageError(f"corrupt gzip layer: {e}") from e
    if blob[:4] == b"\x28\xb5\x2f\xfd":
        raise ImageError("zstd-compressed layers (tar+zstd) are not supported")
    return blob, None


@dataclass(frozen=True, eq=False)
class Layer:
    """A layer: its entries in tar order and the uncompressed tar they came from.

    ``diff_id`` is the digest of the uncompressed tar (config ``rootfs.diff_ids``);
    ``compression`` is how the blob was stored (``None`` or ``"gzip"``).
    """

    entries: tuple[Entry, ...]
    tar: bytes = field(repr=False)
    compression: str | None = None

    @classmethod
    def from_entries(cls, entries: Iterable[Entry]) -> "Layer":
        """A new layer written from entries: same entries, same bytes, same DiffID."""
        entries = tuple(entries)
        return cls(entries, _write_tar(entries))

    @classmethod
    def from_bytes(cls, blob: bytes) -> "Layer":
        """Read a layer blob, plain or gzip-compressed."""
        tar_bytes, compression = _decompress(blob)
        try:
            with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:", errors="surrogateescape") as tar:
                entries = tuple(_entry_from_tarinfo(info, tar) for info in tar)
        except (tarfile.TarError, EOFError, OSError, ValueError) as e:
            raise ImageError(f"not a readable layer tar: {e}") from e
        return cls(entries, tar_bytes, compression)

    @cached_property
    def diff_id(self) -> str:
        return sha256_digest(self.tar)

    @property
    def size(self) -> int:
        """Bytes of the uncompressed tar."""
        return len(self.tar)

    def blob(self, compression: str | None = "gzip") -> bytes:
        """The layer as a blob to store: gzip with mtime 0 (reproducible) or the plain tar."""
        if compression is None:
            return self.tar
        if compression != "gzip":
            raise ImageError(f"unsupported compression {compression!r}: expected None or 'gzip'")
        return gzip.compress(self.tar, compresslevel=9, mtime=0)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Layer) and self.diff_id == other.diff_id

    def __hash__(self) -> int:
        return hash(self.diff_id)


def read_layer(source: bytes | str | Path) -> Layer:
    """A layer from a blob's bytes or a file path (``.tar`` or ``.tar.gz``)."""
    if isinstance(source, (str, Path)):
        try:
            source = Path(source).read_bytes()
        except OSError as e:
            raise ImageError(f"cannot read layer {str(source)!r}: {e.strerror}") from e
    return Layer.from_bytes(source)
