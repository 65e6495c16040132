"""Images on disk: OCI image layouts (image-spec image-layout.md) and ``docker save`` archives
(moby ``image/tarexport``), written reproducibly and read back with every blob verified.

A layout is ``oci-layout``, ``index.json`` (an image index whose descriptors name their
image with ``org.opencontainers.image.ref.name``) and content-addressed ``blobs/sha256/``.
A docker archive is a tar with ``manifest.json`` (``Config``, ``RepoTags``, ``Layers``):
the classic one keeps layers as ``<id>/layer.tar``; Docker 25+ writes an OCI layout inside
the archive and points ``manifest.json`` into its blobs. Archives are read in memory with
:mod:`tarfile`; nothing is extracted, and a name that would leave the archive is refused.
"""

from __future__ import annotations

import io
import json
import posixpath
import re
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Union

from kbook.errors import ImageError
from kbook.image.digest import check_digest, sha256_digest
from kbook.image.image import MEDIA_TYPE_CONFIG, MEDIA_TYPE_INDEX, MEDIA_TYPE_MANIFEST, Image
from kbook.image.layer import MEDIA_TYPE_GZIP, MEDIA_TYPE_TAR, Layer

__all__ = [
    "Descriptor",
    "StoredImage",
    "layer_descriptor",
    "write_oci_layout",
    "read_oci_layout",
    "write_docker_archive",
    "read_docker_archive",
    "load_images",
    "load_image",
    "read_image",
    "LAYOUT_VERSION",
    "ANNOTATION_REF_NAME",
    "ANNOTATION_IMAGE_NAME",
]

LAYOUT_VERSION = "1.0.0"  # image-layout.md "oci-layout file"
ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"  # annotations.md
ANNOTATION_IMAGE_NAME = "io.containerd.image.name"  # what Docker 25+ save adds next to it
OCI_LAYOUT, INDEX_JSON, DOCKER_MANIFEST = "oci-layout", "index.json", "manifest.json"

_DOCKER_MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
_DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
_MANIFEST_TYPES = {MEDIA_TYPE_MANIFEST, _DOCKER_MANIFEST_V2}
_INDEX_TYPES = {MEDIA_TYPE_INDEX, _DOCKER_MANIFEST_LIST}
_CONFIG_TYPES = {MEDIA_TYPE_CONFIG, _DOCKER_CONFIG}
# Layer media types (manifest.md "layers", media-types.md compatibility matrix) -> compression.
_LAYER_TYPES: dict[str, str | None] = {
    MEDIA_TYPE_TAR: None,
    MEDIA_TYPE_GZIP: "gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar": None,
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip": "gzip",
    "application/vnd.docker.image.rootfs.diff.tar": None,
    "application/vnd.docker.image.rootfs.diff.tar.gzip": "gzip",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip": "gzip",
}
_MEDIA_TYPE_FOR = {None: MEDIA_TYPE_TAR, "gzip": MEDIA_TYPE_GZIP}
_MAX_INDEX_DEPTH = 8
_MAX_SYMLINKS = 16

Images = Union[Mapping[str, Image], Iterable[tuple[str, Image]]]


def _canonical(doc: Any) -> bytes:
    """Canonical JSON (sorted keys, no spaces): the same document gives the same digest."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# --- descriptors ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Descriptor:
    """A content descriptor (descriptor.md): what a blob is, its digest and its size."""

    media_type: str
    digest: str
    size: int
    annotations: dict[str, str] = field(default_factory=dict)
    platform: dict[str, str] | None = None

    @classmethod
    def of(cls, media_type: str, data: bytes, **kw: Any) -> "Descriptor":
        return cls(media_type, sha256_digest(data), len(data), **kw)

    @classmethod
    def from_json(cls, doc: Any, where: str) -> "Descriptor":
        """Read and check a descriptor's required fields; ``where`` names it in errors."""
        if not isinstance(doc, dict):
            raise ImageError(f"{where}: a descriptor must be a JSON object")
        media_type, digest, size = doc.get("mediaType"), doc.get("digest"), doc.get("size")
        if not isinstance(media_type, str) or not media_type:
            raise ImageError(f"{where}: mediaType is required")
        try:
            check_digest(digest)
        except ImageError as e:
            raise ImageError(f"{where}: {e}") from None
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ImageError(f"{where}: size must be a non-negative integer, got {size!r}")
        annotations = doc.get("annotations") or {}
        if not isinstance(annotations, dict) or not all(isinstance(v, str) for v in annotations.values()):
            raise ImageError(f"{where}: annotations must be a string-string map")
        platform = doc.get("platform")
        return cls(media_type, digest, size, dict(annotations), platform if isinstance(platform, dict) else None)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.annotations:
            doc["annotations"] = dict(self.annotations)
        if self.platform:
            doc["platform"] = dict(self.platform)
        return doc

    @property
    def path(self) -> str:
        """Where the blob lives in a layout: ``blobs/<alg>/<encoded>`` (image-layout.md "Blobs")."""
        return "blobs/" + self.digest.replace(":", "/", 1)


def layer_descriptor(layer: Layer, compression: str | None = "gzip") -> Descriptor:
    """The descriptor of ``layer.blob(compression)``: what a layout written by kbook holds."""
    return Descriptor.of(_MEDIA_TYPE_FOR.get(compression, MEDIA_TYPE_GZIP), layer.blob(compression))


@dataclass(frozen=True)
class StoredImage:
    """An image as found on disk, with the descriptors it was stored under: the blob digests
    of a foreign layout cannot be recomputed from the layers (another gzip gives other bytes)."""

    ref: str
    image: Image
    format: str  # "oci" or "docker"
    config: Descriptor
    layers: tuple[Descriptor, ...]
    manifest: Descriptor | None = None  # None for a docker archive (manifest.json has none)


# --- files of a layout or archive ------------------------------------------------------------


def _member_name(name: str, where: str) -> str:
    """A slash-separated name inside a layout or archive, or an ImageError if it escapes."""
    if not isinstance(name, str) or not name:
        raise ImageError(f"{where}: path {name!r} is not a file name")
    if name.startswith("/") or ".." in name.split("/"):
        raise ImageError(f"{where}: path {name!r} escapes the archive (absolute or '..')")
    return posixpath.normpath(name)


class _Files:
    """The files of a layout directory or an archive, by name, read in memory."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.source = str(path)
        self._files: dict[str, bytes] = {}
        self._links: dict[str, str] = {}
        if self.path.is_file():
            self._read_tar()
        elif not self.path.is_dir():
            raise ImageError(f"{self.source}: no such file or directory")

    def _read_tar(self) -> None:
        try:
            with tarfile.open(self.path, mode="r:*") as tar:
                for info in tar:
                    name = _member_name(info.name, f"{self.source}: archive member")
                    if info.isfile():
                        f = tar.extractfile(info)
                        self._files[name] = f.read() if f is not None else b""
                    elif info.issym():
                        self._links[name] = posixpath.join(posixpath.dirname(name), info.linkname)
                    elif info.islnk():
                        self._links[name] = info.linkname
        except (tarfile.TarError, EOFError, OSError) as e:
            raise ImageError(f"{self.source}: not a readable tar archive: {e}") from e

    def _resolve(self, name: str) -> str:
        """Follow symlinks and hardlinks inside the archive (classic ``docker save`` links
        shared layers as ``../<id>/layer.tar``), never out of it."""
        for _ in range(_MAX_SYMLINKS):
            if name not in self._links:
                return name
            target = self._links[name]
            clean = posixpath.normpath(target)
            if clean.startswith("/") or clean == ".." or clean.startswith("../"):
                raise ImageError(f"{self.source}: {name}: link to {target!r} escapes the archive")
            name = clean
        raise ImageError(f"{self.source}: {name}: too many levels of links")

    def read(self, name: str, where: str) -> bytes | None:
        """The file's bytes, or None if there is no such file."""
        name = _member_name(name, where)
        if not self.path.is_dir():
            return self._files.get(self._resolve(name))
        root = self.path.resolve()
        target = (root / name).resolve()
        if not target.is_relative_to(root):
            raise ImageError(f"{where}: {name} resolves outside {self.source}")
        if not target.exists():
            return None
        if not target.is_file():
            raise ImageError(f"{where}: {name} is not a regular file")
        try:
            return target.read_bytes()
        except OSError as e:
            raise ImageError(f"{where}: {name}: cannot read: {e.strerror}") from e

    def exists(self, name: str) -> bool:
        if self.path.is_dir():
            return (self.path / name).exists()
        return name in self._files or name in self._links

    def json(self, name: str) -> Any:
        data = self.read(name, self.source)
        if data is None:
            raise ImageError(f"{self.source}: no {name}")
        return _parse_json(data, f"{self.source}: {name}")

    def blob(self, desc: Descriptor, where: str) -> bytes:
        """A blob checked against its descriptor: size first, then digest (descriptor.md "Verification")."""
        data = self.read(desc.path, where)
        if data is None:
            raise ImageError(f"{self.source}: blob {desc.digest} ({where}): not found in blobs/")
        if len(data) != desc.size:
            raise ImageError(f"{self.source}: blob {desc.digest} ({where}): size mismatch: "
                             f"descriptor says {desc.size} bytes, blob has {len(data)}")
        actual = sha256_digest(data)
        if actual != desc.digest:
            raise ImageError(f"{self.source}: blob {desc.digest} ({where}): digest mismatch: content is {actual}")
        return data


def _parse_json(data: bytes, where: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise ImageError(f"{where}: invalid JSON: {e}") from None


# --- reading ----------------------------------------------------------------------------------


def _image_from_config(doc: Any, layers: list[Layer], where: str, mismatch: Callable[[int, str, str], str]) -> Image:
    """An Image from its config (config.md) and layers whose DiffIDs must be ``rootfs.diff_ids``;
    ``mismatch(i, got, expected)`` words the error for layer ``i`` as the modelled tool does."""
    if not isinstance(doc, dict):
        raise ImageError(f"{where}: the image config must be a JSON object")
    for key in ("architecture", "os"):
        if not isinstance(doc.get(key), str):
            raise ImageError(f"{where}: {key} is required")
    rootfs = doc.get("rootfs") if isinstance(doc.get("rootfs"), dict) else {}
    if rootfs.get("type") != "layers":
        raise ImageError(f"{where}: unsupported rootfs.type: {rootfs.get('type')}")
    diff_ids = rootfs.get("diff_ids") or []
    if not isinstance(diff_ids, list):
        raise ImageError(f"{where}: rootfs.diff_ids must be a list")
    if len(diff_ids) != len(layers):
        raise ImageError(f"{where}: invalid manifest, layers length mismatch: "
                         f"expected {len(layers)}, got {len(diff_ids)}")
    for i, (layer, expected) in enumerate(zip(layers, diff_ids)):
        if layer.diff_id != expected:
            raise ImageError(mismatch(i, layer.diff_id, expected))
    history = doc.get("history") or ()
    return Image(
        layers=tuple(layers),
        config=doc.get("config") or {},
        architecture=doc["architecture"],
        os=doc["os"],
        created=doc.get("created"),
        history=tuple(history) if isinstance(history, list) else (),
    )


def _layer(data: bytes, where: str, media_type: str | None = None) -> Layer:
    """A layer blob, plain or gzip; with a media type, one that says which it is."""
    try:
        layer = Layer.from_bytes(data)
    except ImageError as e:
        raise ImageError(f"{where}: {e}") from None
    if media_type is not None and layer.compression != _LAYER_TYPES[media_type]:
        raise ImageError(f"{where}: media type {media_type} does not match a "
                         f"{layer.compression or 'plain tar'} blob")
    return layer


def _oci_manifests(files: _Files, desc: Descriptor, where: str, depth: int = 0) -> list[Descriptor]:
    """The image manifests a descriptor leads to, through nested indexes (image-index.md)."""
    if desc.media_type in _MANIFEST_TYPES:
        return [desc]
    if depth >= _MAX_INDEX_DEPTH:
        raise ImageError(f"{where}: image indexes nested too deeply")
    doc = _parse_json(files.blob(desc, where), f"{files.source}: index {desc.digest}")
    out: list[Descriptor] = []
    for i, d in enumerate(_index_descriptors(doc, f"{files.source}: index {desc.digest}")):
        if d.media_type in _MANIFEST_TYPES | _INDEX_TYPES:
            out += _oci_manifests(files, d, f"{where} manifests[{i}]", depth + 1)
    return out


def _index_descriptors(doc: Any, where: str) -> list[Descriptor]:
    if not isinstance(doc, dict) or doc.get("schemaVersion") != 2:
        raise ImageError(f"{where}: not an image index: schemaVersion must be 2")
    manifests = doc.get("manifests")
    if not isinstance(manifests, list):
        raise ImageError(f"{where}: manifests must be a list")
    return [Descriptor.from_json(m, f"{where}: manifests[{i}]") for i, m in enumerate(manifests)]


def _oci_image(files: _Files, ref: str, mdesc: Descriptor) -> StoredImage:
    """One image of a layout: manifest, config and layers, each blob verified."""
    where = f"manifest {mdesc.digest}"
    doc = _parse_json(files.blob(mdesc, f"ref {ref!r}"), f"{files.source}: {where}")
    if not isinstance(doc, dict) or doc.get("schemaVersion") != 2:
        raise ImageError(f"{files.source}: {where}: not an image manifest: schemaVersion must be 2")
    if doc.get("mediaType", mdesc.media_type) != mdesc.media_type:
        raise ImageError(f"{files.source}: {where}: mediaType {doc['mediaType']} differs from "
                         f"its descriptor's {mdesc.media_type}")
    cdesc = Descriptor.from_json(doc.get("config"), f"{files.source}: {where}: config")
    if cdesc.media_type not in _CONFIG_TYPES:
        raise ImageError(f"{files.source}: {where}: config: unknown media type {cdesc.media_type}")
    raw_layers = doc.get("layers")
    if not isinstance(raw_layers, list):
        raise ImageError(f"{files.source}: {where}: layers must be a list")
    ldescs = [Descriptor.from_json(d, f"{files.source}: {where}: layers[{i}]") for i, d in enumerate(raw_layers)]
    config = _parse_json(files.blob(cdesc, f"{where} config"), f"{files.source}: config {cdesc.digest}")
    layers = []
    for i, ld in enumerate(ldescs):
        if ld.media_type not in _LAYER_TYPES:
            raise ImageError(f"{files.source}: {where}: layers[{i}]: unsupported media type {ld.media_type}")
        layers.append(_layer(files.blob(ld, f"{where} layers[{i}]"), f"{files.source}: layer {ld.digest}",
                             ld.media_type))
    image = _image_from_config(  # umoci UnpackRootfs's words
        config, layers, f"{files.source}: config {cdesc.digest}",
        lambda i, got, expected: f"{files.source}: layer {ldescs[i].digest}: diffid mismatch: "
                                 f"got {got} expected {expected}")
    return StoredImage(ref, image, "oci", cdesc, tuple(ldescs), mdesc)


def _read_oci(files: _Files) -> dict[str, StoredImage]:
    header = files.json(OCI_LAYOUT)
    if not isinstance(header, dict) or header.get("imageLayoutVersion") != LAYOUT_VERSION:
        version = header.get("imageLayoutVersion") if isinstance(header, dict) else None
        raise ImageError(f"{files.source}: {OCI_LAYOUT}: unsupported imageLayoutVersion {version!r}: "
                         f"expected {LAYOUT_VERSION!r}")
    where = f"{files.source}: {INDEX_JSON}"
    found: dict[str, Descriptor] = {}
    for i, desc in enumerate(_index_descriptors(files.json(INDEX_JSON), where)):
        if desc.media_type not in _MANIFEST_TYPES | _INDEX_TYPES:
            continue  # image-layout.md: an unknown mediaType SHOULD be safely ignored
        ref = desc.annotations.get(ANNOTATION_REF_NAME) or desc.digest
        manifests = _oci_manifests(files, desc, f"{INDEX_JSON} manifests[{i}]")
        if len(manifests) != 1:
            raise ImageError(f"{where}: ref {ref!r} leads to {len(manifests)} image manifests: "
                             "choosing a platform is not supported")
        if ref in found and found[ref].digest != manifests[0].digest:
            raise ImageError(f"{where}: ref {ref!r} names more than one manifest")
        found[ref] = manifests[0]
    return {ref: _oci_image(files, ref, m) for ref, m in found.items()}


def _digest_named(name: str) -> str | None:
    """The digest a docker archive file name states: ``blobs/sha256/<hex>`` or ``<hex>.json``."""
    m = re.fullmatch(r"blobs/sha256/([a-f0-9]{64})|([a-f0-9]{64})\.json", name)
    return f"sha256:{m.group(1) or m.group(2)}" if m else None


def _docker_file(files: _Files, name: str, where: str) -> bytes:
    data = files.read(name, where)
    if data is None:
        raise ImageError(f"{where}: {name}: no such file in the archive")
    stated = _digest_named(posixpath.normpath(name))
    if stated is not None and sha256_digest(data) != stated:
        raise ImageError(f"{where}: {name}: digest mismatch: content is {sha256_digest(data)}")
    return data


def _read_docker(files: _Files) -> dict[str, StoredImage]:
    """``docker load`` (tarexport ``Load``) without a daemon: manifest.json, then each config and layer."""
    manifest = files.json(DOCKER_MANIFEST)
    where = f"{files.source}: {DOCKER_MANIFEST}"
    if manifest is None:
        raise ImageError(f"{where}: invalid manifest, manifest cannot be null (but can be [])")
    if not isinstance(manifest, list):
        raise ImageError(f"{where}: must be a list of images")
    out: dict[str, StoredImage] = {}
    for n, item in enumerate(manifest):
        at = f"{where}[{n}]"
        if not isinstance(item, dict) or not isinstance(item.get("Config"), str) \
                or not isinstance(item.get("Layers"), list) or not isinstance(item.get("RepoTags") or [], list):
            raise ImageError(f"{at}: needs Config (a path), Layers (a list of paths) and RepoTags (a list or null)")
        config = _docker_file(files, item["Config"], at)
        ldescs, layers = [], []
        for i, name in enumerate(item["Layers"]):
            data = _docker_file(files, name, f"{at}.Layers[{i}]")
            layer = _layer(data, f"{at}.Layers[{i}]: {name}")
            ldescs.append(Descriptor.of(_MEDIA_TYPE_FOR[layer.compression], data))
            layers.append(layer)
        image = _image_from_config(  # tarexport Load's words
            _parse_json(config, f"{at}: {item['Config']}"), layers, f"{at}: {item['Config']}",
            lambda i, got, expected: f'{at}: invalid diffID for layer {i}: expected "{expected}", got "{got}"')
        config_desc = Descriptor.of(MEDIA_TYPE_CONFIG, config)
        for ref in item.get("RepoTags") or [config_desc.digest]:
            out[ref] = StoredImage(ref, image, "docker", config_desc, tuple(ldescs))  # a later tag wins (setLoadedTag)
    return out


def _format(files: _Files) -> str:
    if files.exists(DOCKER_MANIFEST):
        return "docker"
    if files.exists(OCI_LAYOUT):
        return "oci"
    raise ImageError(f"{files.source}: neither an OCI image layout (no {OCI_LAYOUT}) "
                     f"nor a docker archive (no {DOCKER_MANIFEST})")


def load_images(path: str | Path) -> dict[str, StoredImage]:
    """Every image in a layout directory, a tar of a layout or a docker archive, by ref."""
    files = _Files(path)
    return _read_docker(files) if _format(files) == "docker" else _read_oci(files)


def load_image(path: str | Path, ref: str | None = None) -> StoredImage:
    """One image: the one named ``ref``, or the only one there is."""
    images = load_images(path)
    if ref is not None:
        if ref not in images:
            raise ImageError(f"{path}: no image {ref!r} (refs: {', '.join(sorted(images)) or 'none'})")
        return images[ref]
    if len(images) != 1:
        raise ImageError(f"{path}: holds {len(images)} images ({', '.join(sorted(images))}): choose one with a ref")
    return next(iter(images.values()))


def read_image(path: str | Path, ref: str | None = None) -> Image:
    """The image at ``path`` (format detected), chosen by ``ref`` when there are several."""
    return load_image(path, ref).image


def read_oci_layout(path: str | Path) -> dict[str, Image]:
    """The images of an OCI layout (a directory or a tar of one), by ref name."""
    files = _Files(path)
    if not files.exists(OCI_LAYOUT):
        raise ImageError(f"{files.source}: not an OCI image layout: no {OCI_LAYOUT}")
    return {ref: s.image for ref, s in _read_oci(files).items()}


def read_docker_archive(path: str | Path) -> dict[str, Image]:
    """The images of a ``docker save`` archive (classic or Docker 25+), by RepoTag."""
    files = _Files(path)
    if not files.exists(DOCKER_MANIFEST):
        raise ImageError(f"{files.source}: not a docker archive: no {DOCKER_MANIFEST}")
    return {ref: s.image for ref, s in _read_docker(files).items()}


# --- writing ----------------------------------------------------------------------------------


def _pairs(images: Images) -> list[tuple[str, Image]]:
    pairs = list(images.items()) if isinstance(images, Mapping) else list(images)
    seen: set[str] = set()
    for ref, _ in pairs:
        if not isinstance(ref, str) or not ref:
            raise ImageError(f"image ref {ref!r}: must be a non-empty string")
        if ref in seen:
            raise ImageError(f"image ref {ref!r}: given more than once")
        seen.add(ref)
    return sorted(pairs, key=lambda p: p[0])


def _add_image(blobs: dict[str, bytes], image: Image, compression: str | None) -> Descriptor:
    """Put an image's layer, config and manifest blobs in ``blobs`` (once each); its manifest's descriptor."""
    layer_descs = []
    for layer in image.layers:
        data = layer.blob(compression)
        desc = Descriptor.of(_MEDIA_TYPE_FOR[compression], data)
        blobs.setdefault(desc.path, data)
        layer_descs.append(desc.to_json())
    config = image.config_bytes()
    config_desc = Descriptor.of(MEDIA_TYPE_CONFIG, config)
    blobs.setdefault(config_desc.path, config)
    manifest = _canonical({"schemaVersion": 2, "mediaType": MEDIA_TYPE_MANIFEST,
                           "config": config_desc.to_json(), "layers": layer_descs})
    desc = Descriptor.of(MEDIA_TYPE_MANIFEST, manifest, platform={"architecture": image.architecture, "os": image.os})
    blobs.setdefault(desc.path, manifest)
    return desc


def _layout_files(entries: list[tuple[dict[str, str], Image]], compression: str | None) -> dict[str, bytes]:
    """The files of an OCI layout: one index descriptor per (annotations, image)."""
    files: dict[str, bytes] = {}
    index = []
    for annotations, image in entries:
        desc = _add_image(files, image, compression)
        index.append(Descriptor(desc.media_type, desc.digest, desc.size, annotations, desc.platform).to_json())
    files[OCI_LAYOUT] = _canonical({"imageLayoutVersion": LAYOUT_VERSION})
    files[INDEX_JSON] = _canonical({"schemaVersion": 2, "mediaType": MEDIA_TYPE_INDEX, "manifests": index})
    return files


def _emit(files: dict[str, bytes], path: str | Path, archive: bool) -> None:
    """Write files as a directory (which must be new or empty) or as a reproducible tar."""
    path = Path(path)
    if archive:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
            dirs = {"/".join(n.split("/")[:k]) for n in files for k in range(1, n.count("/") + 1)}
            for name in sorted(dirs | set(files)):
                info = tarfile.TarInfo(name)
                info.mtime, info.uname, info.gname = 0, "", ""
                if name in files:
                    info.size, info.mode = len(files[name]), 0o644
                    tar.addfile(info, io.BytesIO(files[name]))
                else:
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                    tar.addfile(info)
        _write(path, buf.getvalue())
        return
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise ImageError(f"{path}: exists and is not an empty directory: refusing to write a layout over it")
    (path / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        _write(path / name, data)


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as e:
        raise ImageError(f"{path}: cannot write: {e.strerror}") from e


def write_oci_layout(
    images: Images, path: str | Path, compression: str | None = "gzip", *, archive: bool = False
) -> None:
    """Write images as an OCI layout, each named by ``org.opencontainers.image.ref.name``.

    The same images give the same bytes: canonical JSON, refs sorted, gzip with mtime 0, and
    a blob shared by several images stored once. ``archive`` writes a tar of the layout instead.
    """
    if compression not in _MEDIA_TYPE_FOR:
        raise ImageError(f"unsupported compression {compression!r}: expected None or 'gzip'")
    entries = [({ANNOTATION_REF_NAME: ref}, image) for ref, image in _pairs(images)]
    _emit(_layout_files(entries, compression), path, archive)


# Docker references (distribution/reference): [domain/]path[:tag], normalized as ParseNormalizedNamed.
_DOCKER_PATH = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*")
_DOCKER_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_DOCKER_DOMAIN = re.compile(rf"{_DOCKER_LABEL}(?:\.{_DOCKER_LABEL})*(?::[0-9]+)?")
_DOCKER_TAG = re.compile(r"[\w][\w.-]{0,127}")


def _docker_tag(ref: str) -> tuple[str, str, str]:
    """``(familiar, full, tag)`` of a docker reference: ``app`` is ``app:latest`` and
    ``docker.io/library/app:latest`` (``reference.ParseNormalizedNamed`` + ``TagNameOnly``)."""
    name, _, tag = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "latest")
    domain, _, rest = name.partition("/")
    if not rest or ("." not in domain and ":" not in domain and domain != "localhost"):
        domain, rest = "docker.io", name
    if domain == "docker.io" and "/" not in rest:
        rest = "library/" + rest
    if not (_DOCKER_DOMAIN.fullmatch(domain) and _DOCKER_PATH.fullmatch(rest) and _DOCKER_TAG.fullmatch(tag)):
        raise ImageError(f"{ref!r}: invalid reference format")
    familiar = rest.removeprefix("library/") if domain == "docker.io" else f"{domain}/{rest}"
    return f"{familiar}:{tag}", f"{domain}/{rest}:{tag}", tag


def write_docker_archive(images: Images, path: str | Path) -> None:
    """Write images as ``docker save`` (Docker 25+) does: an OCI layout with uncompressed layers,
    plus ``manifest.json`` (one item per image, with its RepoTags) pointing into its blobs.
    Refs are normalized as docker tags them (``app`` becomes ``app:latest``)."""
    tagged: dict[str, tuple[str, str, Image]] = {}
    for ref, image in _pairs(images):
        familiar, full, tag = _docker_tag(ref)
        if familiar in tagged:
            raise ImageError(f"image ref {ref!r}: names the same tag as another, {familiar}")
        tagged[familiar] = (full, tag, image)
    entries = [({ANNOTATION_IMAGE_NAME: full, ANNOTATION_REF_NAME: tag}, image)
               for full, tag, image in tagged.values()]
    files = _layout_files(entries, None)
    items: dict[str, dict[str, Any]] = {}
    for familiar, (_, _, image) in tagged.items():
        config = Descriptor.of(MEDIA_TYPE_CONFIG, image.config_bytes())
        item = items.setdefault(config.digest, {
            "Config": config.path,
            "RepoTags": [],
            "Layers": ["blobs/" + layer.diff_id.replace(":", "/", 1) for layer in image.layers],
        })
        item["RepoTags"].append(familiar)
    files[DOCKER_MANIFEST] = json.dumps(list(items.values()), separators=(",", ":")).encode() + b"\n"
    _emit(files, path, archive=True)
