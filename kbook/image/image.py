"""An image: an ordered stack of layers and its configuration (image-spec config.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from kbook.image.digest import chain_ids, sha256_digest
from kbook.image.layer import Layer

__all__ = ["Image", "MEDIA_TYPE_CONFIG", "MEDIA_TYPE_MANIFEST", "MEDIA_TYPE_INDEX"]

MEDIA_TYPE_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_TYPE_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_TYPE_INDEX = "application/vnd.oci.image.index.v1+json"


@dataclass(frozen=True, eq=False)
class Image:
    """Layers bottom first, plus the config's runtime fields (``config``: Cmd, Env, ...),
    platform and history. ``rootfs.diff_ids`` is always derived from the layers."""

    layers: tuple[Layer, ...]
    config: dict[str, Any] = field(default_factory=dict)
    architecture: str = "amd64"
    os: str = "linux"
    created: str | None = None
    history: tuple[dict[str, Any], ...] = ()

    @property
    def diff_ids(self) -> list[str]:
        return [layer.diff_id for layer in self.layers]

    @property
    def chain_ids(self) -> list[str]:
        return chain_ids(self.diff_ids)

    def config_json(self) -> dict[str, Any]:
        """The image configuration document (config.md)."""
        doc: dict[str, Any] = {"architecture": self.architecture, "os": self.os}
        if self.created is not None:
            doc["created"] = self.created
        if self.config:
            doc["config"] = self.config
        doc["rootfs"] = {"type": "layers", "diff_ids": self.diff_ids}
        if self.history:
            doc["history"] = list(self.history)
        return doc

    def config_bytes(self) -> bytes:
        """The config as canonical JSON bytes (sorted keys, no spaces): reproducible digests."""
        return json.dumps(self.config_json(), sort_keys=True, separators=(",", ":")).encode()

    @property
    def config_digest(self) -> str:
        return sha256_digest(self.config_bytes())
