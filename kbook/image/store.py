"""A content-addressed layer store shared by many images (what ``docker images`` and
``docker system df`` look at): each layer kept once by DiffID, counted by the images that
use it, and freed when the last of them is removed (``docker rmi``).

Pulls skip what is already there as the real ones do: docker's layer store is keyed by
ChainID (``distribution/xfer/download.go``: a layer whose ChainID exists prints "Already
exists"), containerd's content store by blob digest (a blob it has is not fetched, only
unpacked into a snapshot named by its ChainID).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from kbook.errors import ImageError
from kbook.image.image import Image
from kbook.image.layer import Layer
from kbook.image.layout import Descriptor, layer_descriptor

__all__ = ["LayerStore", "PullPlan", "LayerPull", "EXISTS", "UNPACK", "DOWNLOAD"]

EXISTS = "exists"  # the ChainID is in the store: nothing to do ("Already exists")
UNPACK = "unpack"  # the blob is in the store (by digest) but not on this parent chain: apply, no download
DOWNLOAD = "download"  # neither: fetch the blob, then apply it


@dataclass(frozen=True)
class LayerPull:
    """What a pull does with one layer of an image."""

    index: int
    digest: str  # the blob, as a registry serves it
    diff_id: str
    chain_id: str
    size: int  # blob (compressed) bytes
    action: str


@dataclass(frozen=True)
class PullPlan:
    """The layers of an image to pull, bottom first, each with what the store makes of it."""

    layers: tuple[LayerPull, ...]

    @property
    def missing(self) -> tuple[LayerPull, ...]:
        """The layers to download."""
        return tuple(p for p in self.layers if p.action == DOWNLOAD)

    @property
    def download_bytes(self) -> int:
        return sum(p.size for p in self.missing)

    @property
    def present_bytes(self) -> int:
        """Blob bytes not downloaded because the store already has them."""
        return sum(p.size for p in self.layers if p.action != DOWNLOAD)

    def seconds(self, bandwidth_bytes_per_s: float) -> float:
        """Download time of the missing blobs at a steady bandwidth (manifest and config ignored)."""
        if not bandwidth_bytes_per_s > 0:
            raise ImageError(f"bandwidth {bandwidth_bytes_per_s!r}: must be greater than 0 bytes per second")
        return self.download_bytes / bandwidth_bytes_per_s


class LayerStore:
    """Images by ref over layers stored once by DiffID, with reference counts.

    ``blobs`` (the layer descriptors of an image's manifest) say what a registry serves; when
    omitted they are the gzip blobs that :func:`~kbook.image.layout.write_oci_layout` writes.
    """

    def __init__(self) -> None:
        self._layers: dict[str, Layer] = {}  # DiffID -> layer
        self._uses: dict[str, int] = {}  # DiffID -> layer slots of stored images using it
        self._chains: dict[str, int] = {}  # ChainID -> stored images whose stack has it
        self._blobs: dict[str, Descriptor] = {}  # blob digest -> descriptor (the size remembered)
        self._blob_layer: dict[str, str] = {}  # blob digest -> DiffID
        self._images: dict[str, tuple[Image, tuple[Descriptor, ...]]] = {}  # config digest -> image, blobs
        self._refs: dict[str, str] = {}  # ref -> config digest
        self._gzip: dict[str, Descriptor] = {}  # DiffID -> its default blob (gzip is costly to redo)

    # --- queries ------------------------------------------------------------------------------

    def has(self, diff_id: str) -> bool:
        return diff_id in self._layers

    def has_blob(self, digest: str) -> bool:
        return digest in self._blobs

    def has_chain(self, chain_id: str) -> bool:
        return chain_id in self._chains

    def refcount(self, diff_id: str) -> int:
        """How many layer slots of stored images use the layer (0 if it is not stored)."""
        return self._uses.get(diff_id, 0)

    def layer(self, diff_id: str) -> Layer:
        if diff_id not in self._layers:
            raise ImageError(f"layer {diff_id}: not in the store")
        return self._layers[diff_id]

    def get(self, ref: str) -> Image:
        return self._images[self._digest(ref)][0]

    @property
    def refs(self) -> list[str]:
        return sorted(self._refs)

    def __len__(self) -> int:
        """The number of distinct layers stored."""
        return len(self._layers)

    @property
    def stored_bytes(self) -> int:
        """Uncompressed bytes of the layers stored, each once."""
        return sum(layer.size for layer in self._layers.values())

    @property
    def logical_bytes(self) -> int:
        """Uncompressed bytes the stored images would take with nothing shared (each image once)."""
        return sum(layer.size for image, _ in self._images.values() for layer in image.layers)

    @property
    def blob_bytes(self) -> int:
        """Bytes of the distinct blobs seen (what was downloaded, deduplicated)."""
        return sum(d.size for d in self._blobs.values())

    # --- pulls ---------------------------------------------------------------------------------

    def plan_pull(self, image: Image, blobs: Sequence[Descriptor] | None = None) -> PullPlan:
        """What pulling ``image`` would download and what the store already has."""
        plans, fetched = [], set()
        for i, (layer, chain, blob) in enumerate(zip(image.layers, image.chain_ids, self._blobs_of(image, blobs))):
            if self.has_chain(chain):
                action = EXISTS
            elif self.has_blob(blob.digest) or blob.digest in fetched:
                action = UNPACK
            else:
                action = DOWNLOAD
                fetched.add(blob.digest)
            plans.append(LayerPull(i, blob.digest, layer.diff_id, chain, blob.size, action))
        return PullPlan(tuple(plans))

    def add(self, image: Image, ref: str, blobs: Sequence[Descriptor] | None = None) -> tuple[str, ...]:
        """Store ``image`` under ``ref`` (moving the tag if it named another image), keeping
        each layer once; the DiffIDs newly stored."""
        blobs = self._blobs_of(image, blobs)
        key = image.config_digest
        new: list[str] = []
        if key not in self._images:
            self._images[key] = (image, blobs)
            for layer, blob in zip(image.layers, blobs):
                if layer.diff_id not in self._layers:
                    self._layers[layer.diff_id] = layer
                    new.append(layer.diff_id)
                self._uses[layer.diff_id] = self._uses.get(layer.diff_id, 0) + 1
                self._blobs.setdefault(blob.digest, blob)
                self._blob_layer.setdefault(blob.digest, layer.diff_id)
            for chain in image.chain_ids:
                self._chains[chain] = self._chains.get(chain, 0) + 1
        if ref in self._refs and self._refs[ref] != key:
            self.remove(ref)
        self._refs[ref] = key
        return tuple(new)

    def remove(self, ref: str) -> tuple[str, ...]:
        """Untag ``ref``; if no other ref names its image, delete the image and free the
        layers no other image uses (``docker rmi``). The DiffIDs freed."""
        key = self._digest(ref)
        del self._refs[ref]
        if key in self._refs.values():
            return ()
        image, _ = self._images.pop(key)
        for chain in image.chain_ids:
            self._chains[chain] -= 1
            if not self._chains[chain]:
                del self._chains[chain]
        freed: list[str] = []
        for layer in image.layers:
            self._uses[layer.diff_id] -= 1
            if not self._uses[layer.diff_id]:
                del self._uses[layer.diff_id], self._layers[layer.diff_id]
                self._gzip.pop(layer.diff_id, None)
                freed.append(layer.diff_id)
        for digest in [d for d, diff_id in self._blob_layer.items() if diff_id in freed]:
            del self._blobs[digest], self._blob_layer[digest]
        return tuple(freed)

    # --- helpers -------------------------------------------------------------------------------

    def _digest(self, ref: str) -> str:
        if ref not in self._refs:
            raise ImageError(f"No such image: {ref}")  # the daemon's words
        return self._refs[ref]

    def _blobs_of(self, image: Image, blobs: Sequence[Descriptor] | None) -> tuple[Descriptor, ...]:
        if blobs is None:
            return tuple(self._gzip_blob(layer) for layer in image.layers)
        if len(blobs) != len(image.layers):
            raise ImageError(f"image {image.config_digest}: {len(blobs)} blob descriptors "
                             f"for {len(image.layers)} layers")
        return tuple(blobs)

    def _gzip_blob(self, layer: Layer) -> Descriptor:
        if layer.diff_id not in self._gzip:
            self._gzip[layer.diff_id] = layer_descriptor(layer, "gzip")
        return self._gzip[layer.diff_id]
