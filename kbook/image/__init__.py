"""``kbook.image``: OCI layers and their content addresses, the union view of an image
with a writable container layer (modelled, and on the kernel's overlayfs), safe layer
application, image layouts and a shared content-addressed layer store."""

from kbook.image.digest import chain_id, chain_ids, check_digest, sha256_digest
from kbook.image.image import MEDIA_TYPE_CONFIG, MEDIA_TYPE_INDEX, MEDIA_TYPE_MANIFEST, Image
from kbook.image.layer import (
    BLOCK, CHAR, DIR, FIFO, FILE, HARDLINK, MEDIA_TYPE_GZIP, MEDIA_TYPE_TAR, OPAQUE, SYMLINK, WHITEOUT_PREFIX,
    Entry, Layer, clean_path, read_layer,
)
from kbook.image.layout import (
    ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME, LAYOUT_VERSION, Descriptor, StoredImage, layer_descriptor,
    load_image, load_images, read_docker_archive, read_image, read_oci_layout, write_docker_archive, write_oci_layout,
)
from kbook.image.overlay import (
    OverlayMount, OverlayUnavailable, OverlayUnsupported, mount_overlay, overlay_unavailable, overlay_unsupported,
    upper_changes, write_lowerdirs,
)
from kbook.image.store import DOWNLOAD, EXISTS, UNPACK, LayerPull, LayerStore, PullPlan
from kbook.image.tree import Node, Tree
from kbook.image.union import NaiveUnion, Stat, UnionFS, UnionFSError
from kbook.image.unpack import dir_records, materialize, unpack

__all__ = [
    "chain_id", "chain_ids", "check_digest", "sha256_digest",
    "Entry", "Layer", "read_layer", "clean_path", "Image",
    "MEDIA_TYPE_CONFIG", "MEDIA_TYPE_MANIFEST", "MEDIA_TYPE_INDEX",
    "FILE", "DIR", "SYMLINK", "HARDLINK", "CHAR", "BLOCK", "FIFO", "WHITEOUT_PREFIX", "OPAQUE",
    "MEDIA_TYPE_TAR", "MEDIA_TYPE_GZIP",
    "Descriptor", "StoredImage", "layer_descriptor", "write_oci_layout", "read_oci_layout",
    "write_docker_archive", "read_docker_archive", "load_images", "load_image", "read_image",
    "LAYOUT_VERSION", "ANNOTATION_REF_NAME", "ANNOTATION_IMAGE_NAME",
    "LayerStore", "PullPlan", "LayerPull", "EXISTS", "UNPACK", "DOWNLOAD",
    "UnionFS", "NaiveUnion", "Stat", "UnionFSError",
    "Tree", "Node", "unpack", "materialize", "dir_records",
    "mount_overlay", "OverlayMount", "write_lowerdirs", "upper_changes", "overlay_unavailable", "overlay_unsupported",
    "OverlayUnavailable", "OverlayUnsupported",
]
