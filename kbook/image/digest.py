"""Content addresses of the OCI image spec: digests, DiffIDs and ChainIDs.

``digest`` is over a blob as stored (compressed for a ``+gzip`` layer), ``DiffID`` over the
uncompressed layer tar (image-spec config.md), and ``ChainID`` names a stack of layers:
``ChainID(L0) = DiffID(L0)``, ``ChainID(L0|...|Ln) = sha256(ChainID(L0|...|Ln-1) + " " + DiffID(Ln))``
(image-spec ``identity/chainid.go``).
"""

from __future__ import annotations

import hashlib
import re
from typing import Iterable

from kbook.errors import ImageError

__all__ = ["sha256_digest", "chain_id", "chain_ids", "check_digest"]

_DIGEST = re.compile(r"sha256:[a-f0-9]{64}")


def sha256_digest(data: bytes) -> str:
    """``digest.FromBytes``: ``sha256:<hex>`` of the bytes."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def check_digest(value: str) -> str:
    """A well-formed sha256 digest, or an ImageError naming it (descriptor.md ``digest``)."""
    if not isinstance(value, str) or not _DIGEST.fullmatch(value):
        raise ImageError(f"invalid digest {value!r}: must be sha256: followed by 64 lowercase hex digits")
    return value


def chain_ids(diff_ids: Iterable[str]) -> list[str]:
    """The ChainID of every prefix of the layer stack (``identity.ChainIDs``)."""
    out: list[str] = []
    for diff_id in diff_ids:
        check_digest(diff_id)
        out.append(diff_id if not out else sha256_digest(f"{out[-1]} {diff_id}".encode()))
    return out


def chain_id(diff_ids: Iterable[str]) -> str:
    """The ChainID of the whole stack (``identity.ChainID``); empty stack: ImageError."""
    ids = chain_ids(diff_ids)
    if not ids:
        raise ImageError("a ChainID needs at least one layer")
    return ids[-1]
