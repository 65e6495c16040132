"""``kbook.image``: OCI layers and their content addresses, the union view of an image
with a writable container layer, safe layer application, image layouts and a shared
content-addressed layer store."""

from kbook.image.digest import chain_id, chain_ids, check_digest, sha256_digest
from kbook.image.image import MEDIA_TYPE_CONFIG, MEDIA_TYPE_INDEX, MEDIA_TYPE_MANIFEST, Image
from kbook.image.layer import (
    BLOCK, CHAR, DIR, FIFO, FILE, HARDLINK, MEDIA_TYPE_GZIP, MEDIA_TYPE_TAR, OPAQUE, SYMLINK, WHITEOUT_PREFIX,
    Entry, Layer, clean_path, read_layer,
)

__all__ = [
    "chain_id", "chain_ids", "check_digest", "sha256_digest",
    "Entry", "Layer", "read_layer", "clean_path", "Image",
    "MEDIA_TYPE_CONFIG", "MEDIA_TYPE_MANIFEST", "MEDIA_TYPE_INDEX",
    "FILE", "DIR", "SYMLINK", "HARDLINK", "CHAR", "BLOCK", "FIFO", "WHITEOUT_PREFIX", "OPAQUE",
    "MEDIA_TYPE_TAR", "MEDIA_TYPE_GZIP",
]
