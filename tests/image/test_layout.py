"""OCI image layouts and docker save archives: round trips, reproducible bytes, shared
blobs stored once, every validation rule, and names that try to leave the archive."""

import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest

from kbook.errors import ImageError
from kbook.image import (
    DIR, FILE, HARDLINK, SYMLINK, Entry, Image, Layer, load_image, load_images, read_docker_archive, read_image,
    read_oci_layout, sha256_digest, write_docker_archive, write_oci_layout,
)

BASE = Layer.from_entries([
    Entry("etc/", DIR, 0o755),
    Entry("etc/hosts", FILE, 0o644, data=b"127.0.0.1 localhost\n"),
    Entry("bin/", DIR, 0o755),
    Entry("bin/sh", FILE, 0o755, data=b"\x7fELF sh"),
    Entry("bin/ash", HARDLINK, linkname="bin/sh"),
])
APP = Layer.from_entries([
    Entry("app/", DIR, 0o750, uid=1000, gid=1000),
    Entry("app/run", FILE, 0o755, uid=1000, data=b"#!/bin/sh\nexec app\n", xattrs={"user.k": b"v"}),
    Entry("app/current", SYMLINK, 0o777, linkname="run"),
    Entry("etc/.wh.hosts", FILE),
])
WEB = Layer.from_entries([Entry("srv/", DIR), Entry("srv/index.html", FILE, data=b"<h1>hi</h1>\n")])


def images():
    return {
        "base": Image((BASE,), created="2024-01-01T00:00:00Z"),
        "app": Image((BASE, APP), config={"Cmd": ["/app/run"], "User": "1000"},
                     history=({"created_by": "base"}, {"created_by": "COPY app /app"})),
        "web": Image((BASE, WEB), architecture="arm64"),
    }


def same(a: Image, b: Image) -> bool:
    return a.config_bytes() == b.config_bytes() and [l.tar for l in a.layers] == [l.tar for l in b.layers]


def files_of(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def tar_bytes(members: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return buf.getvalue()


# --- round trips --------------------------------------------------------------------------


@pytest.mark.parametrize("compression", ["gzip", None])
def test_oci_layout_round_trip(tmp_path, compression):
    write_oci_layout(images(), tmp_path / "l", compression=compression)
    back = read_oci_layout(tmp_path / "l")
    assert sorted(back) == ["app", "base", "web"]
    for ref, image in images().items():
        assert same(back[ref], image), ref
        assert back[ref].config_digest == image.config_digest
        assert all(l.compression == compression for l in back[ref].layers)
    assert back["web"].architecture == "arm64" and back["base"].created == "2024-01-01T00:00:00Z"
    assert back["app"].history[1] == {"created_by": "COPY app /app"}


def test_layout_files_follow_the_spec(tmp_path):
    write_oci_layout({"app": images()["app"]}, tmp_path)
    assert json.loads((tmp_path / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads((tmp_path / "index.json").read_text())
    assert index["schemaVersion"] == 2 and index["mediaType"] == "application/vnd.oci.image.index.v1+json"
    [desc] = index["manifests"]
    assert desc["annotations"] == {"org.opencontainers.image.ref.name": "app"}
    assert desc["platform"] == {"architecture": "amd64", "os": "linux"}
    manifest = json.loads((tmp_path / "blobs/sha256" / desc["digest"][7:]).read_bytes())
    assert manifest["config"]["mediaType"] == "application/vnd.oci.image.config.v1+json"
    assert [d["mediaType"] for d in manifest["layers"]] == ["application/vnd.oci.image.layer.v1.tar+gzip"] * 2
    for d in [desc, manifest["config"], *manifest["layers"]]:
        blob = (tmp_path / "blobs/sha256" / d["digest"][7:]).read_bytes()
        assert sha256_digest(blob) == d["digest"] and len(blob) == d["size"]
    config = json.loads((tmp_path / "blobs/sha256" / manifest["config"]["digest"][7:]).read_bytes())
    assert config["rootfs"] == {"type": "layers", "diff_ids": [BASE.diff_id, APP.diff_id]}
    assert gzip.decompress((tmp_path / "blobs/sha256" / manifest["layers"][0]["digest"][7:]).read_bytes()) == BASE.tar


def test_same_images_give_the_same_bytes_in_any_order(tmp_path):
    write_oci_layout(images(), tmp_path / "a")
    write_oci_layout(list(reversed(images().items())), tmp_path / "b")
    assert files_of(tmp_path / "a") == files_of(tmp_path / "b")
    write_oci_layout(images(), tmp_path / "a.tar", archive=True)
    write_oci_layout(images(), tmp_path / "b.tar", archive=True)
    assert (tmp_path / "a.tar").read_bytes() == (tmp_path / "b.tar").read_bytes()
    write_docker_archive(images(), tmp_path / "a.docker")
    write_docker_archive(images(), tmp_path / "b.docker")
    assert (tmp_path / "a.docker").read_bytes() == (tmp_path / "b.docker").read_bytes()


def test_a_shared_layer_is_stored_once(tmp_path):
    write_oci_layout(images(), tmp_path)
    blobs = list((tmp_path / "blobs/sha256").iterdir())
    # 3 distinct layers (BASE shared by all), 3 configs, 3 manifests
    assert len(blobs) == 9
    base_blob = sha256_digest(BASE.blob("gzip"))[7:]
    assert sum(b.name == base_blob for b in blobs) == 1


def test_tar_of_a_layout_reads_like_the_directory(tmp_path):
    write_oci_layout(images(), tmp_path / "l.tar", archive=True)
    back = read_oci_layout(tmp_path / "l.tar")
    assert all(same(back[r], i) for r, i in images().items())
    with tarfile.open(tmp_path / "l.tar") as tar:
        assert {m.mtime for m in tar} == {0} and {m.uid for m in tar} == {0}
    assert same(read_image(tmp_path / "l.tar", "app"), images()["app"])


def test_docker_archive_round_trip_and_its_manifest_json(tmp_path):
    write_docker_archive({"app:1.0": images()["app"], "base": images()["base"],
                          "localhost:5000/team/web:v2": images()["web"]}, tmp_path / "d.tar")
    back = read_docker_archive(tmp_path / "d.tar")
    assert sorted(back) == ["app:1.0", "base:latest", "localhost:5000/team/web:v2"]
    assert same(back["app:1.0"], images()["app"]) and same(back["base:latest"], images()["base"])
    with tarfile.open(tmp_path / "d.tar") as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        index = json.load(tar.extractfile("index.json"))
        app = next(m for m in manifest if m["RepoTags"] == ["app:1.0"])
        assert list(app) == ["Config", "RepoTags", "Layers"]
        assert app["Config"] == "blobs/sha256/" + images()["app"].config_digest[7:]
        assert app["Layers"] == ["blobs/sha256/" + BASE.diff_id[7:], "blobs/sha256/" + APP.diff_id[7:]]
        assert tar.extractfile(app["Layers"][1]).read() == APP.tar  # docker saves layers uncompressed
    names = {d["annotations"]["io.containerd.image.name"]: d["annotations"]["org.opencontainers.image.ref.name"]
             for d in index["manifests"]}
    assert names == {"docker.io/library/app:1.0": "1.0", "docker.io/library/base:latest": "latest",
                     "localhost:5000/team/web:v2": "v2"}
    # a Docker 25+ archive is also an OCI layout, whose refs are the tags
    assert sorted(read_oci_layout(tmp_path / "d.tar")) == ["1.0", "latest", "v2"]


def test_one_image_under_several_tags_is_one_manifest_item(tmp_path):
    app = images()["app"]
    write_docker_archive({"app:1": app, "app:latest": app}, tmp_path / "d.tar")
    with tarfile.open(tmp_path / "d.tar") as tar:
        assert [m["RepoTags"] for m in json.load(tar.extractfile("manifest.json"))] == [["app:1", "app:latest"]]
    assert sorted(read_docker_archive(tmp_path / "d.tar")) == ["app:1", "app:latest"]


def classic_archive(tmp_path, *, layer_name="l1/layer.tar", config_name=None, diff_ids=None, extra=None):
    """A pre-25 ``docker save``: <v1 id>/layer.tar, <config digest>.json, manifest.json; the
    second image's shared base layer is a symlink to the first one's, as docker wrote it."""
    app = images()["app"]
    config = json.loads(app.config_bytes())
    if diff_ids is not None:
        config["rootfs"]["diff_ids"] = diff_ids
    config_bytes = json.dumps(config).encode()
    config_name = config_name or sha256_digest(config_bytes)[7:] + ".json"
    members = {"l0/layer.tar": BASE.tar, "l0/VERSION": b"1.0", "l0/json": b"{}", "l1/layer.tar": gzip.compress(APP.tar),
               config_name: config_bytes, "repositories": b"{}",
               "manifest.json": json.dumps([
                   {"Config": config_name, "RepoTags": ["app:old"], "Layers": ["l0/layer.tar", layer_name]},
                   {"Config": config_name, "RepoTags": None, "Layers": ["l2/layer.tar", layer_name]},
               ]).encode(), **(extra or {})}
    path = tmp_path / "classic.tar"
    path.write_bytes(tar_bytes(members, {"l2/layer.tar": "../l0/layer.tar"}))
    return path, config_bytes


def test_classic_docker_archive_with_a_linked_layer_and_a_gzip_layer(tmp_path):
    path, config = classic_archive(tmp_path)
    back = read_docker_archive(path)
    assert sorted(back) == ["app:old", sha256_digest(config)]
    assert back["app:old"].diff_ids == [BASE.diff_id, APP.diff_id]
    stored = load_image(path, "app:old")
    assert stored.format == "docker" and stored.manifest is None
    assert [d.digest for d in stored.layers] == [BASE.diff_id, sha256_digest(gzip.compress(APP.tar))]


def test_read_image_detects_each_format(tmp_path):
    write_oci_layout({"app": images()["app"]}, tmp_path / "dir")
    write_oci_layout({"app": images()["app"]}, tmp_path / "l.tar", archive=True)
    write_docker_archive({"app": images()["app"]}, tmp_path / "d.tar")
    for path, fmt, ref in [("dir", "oci", "app"), ("l.tar", "oci", "app"), ("d.tar", "docker", "app:latest")]:
        stored = load_image(tmp_path / path)
        assert (stored.format, stored.ref) == (fmt, ref)
        assert same(read_image(tmp_path / path), images()["app"])
    (tmp_path / "junk.tar").write_bytes(tar_bytes({"hello": b"x"}))
    with pytest.raises(ImageError, match="neither an OCI image layout .* nor a docker archive"):
        read_image(tmp_path / "junk.tar")
    (tmp_path / "text").write_text("not a tar")
    with pytest.raises(ImageError, match="not a readable tar archive"):
        read_image(tmp_path / "text")
    with pytest.raises(ImageError, match="no such file or directory"):
        read_image(tmp_path / "missing")


def test_choosing_a_ref(tmp_path):
    write_oci_layout(images(), tmp_path)
    with pytest.raises(ImageError, match=r"holds 3 images \(app, base, web\): choose one with a ref"):
        read_image(tmp_path)
    with pytest.raises(ImageError, match=r"no image 'nope' \(refs: app, base, web\)"):
        read_image(tmp_path, "nope")
    assert set(load_images(tmp_path)) == {"app", "base", "web"}


def test_nested_index_and_unknown_index_entries(tmp_path):
    write_oci_layout({"app": images()["app"]}, tmp_path)
    index = json.loads((tmp_path / "index.json").read_bytes())
    desc = index["manifests"][0]
    bare = {k: v for k, v in desc.items() if k != "annotations"}
    nested = json.dumps({"schemaVersion": 2, "manifests": [bare]}).encode()
    put_blob(tmp_path, nested)
    index["manifests"] = [
        {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": sha256_digest(nested), "size": len(nested),
         "annotations": desc["annotations"]},
        {"mediaType": "application/xml", "digest": sha256_digest(b"<x/>"), "size": 4},  # SHOULD be ignored
    ]
    (tmp_path / "index.json").write_text(json.dumps(index))
    assert same(read_oci_layout(tmp_path)["app"], images()["app"])
    twice = json.dumps({"schemaVersion": 2, "manifests": [desc, desc]}).encode()
    put_blob(tmp_path, twice)
    index["manifests"][0].update(digest=sha256_digest(twice), size=len(twice))
    (tmp_path / "index.json").write_text(json.dumps(index))
    with pytest.raises(ImageError, match="ref 'app' leads to 2 image manifests"):
        read_oci_layout(tmp_path)


# --- validation ---------------------------------------------------------------------------


def put_blob(root: Path, data: bytes) -> str:
    digest = sha256_digest(data)
    (root / "blobs/sha256" / digest[7:]).write_bytes(data)
    return digest


def edit_manifest(root: Path, edit, ref="app"):
    """Rewrite one ref's manifest with ``edit(manifest, root)``, re-pointing index.json at it."""
    index = json.loads((root / "index.json").read_bytes())
    desc = next(d for d in index["manifests"] if d["annotations"]["org.opencontainers.image.ref.name"] == ref)
    manifest = json.loads((root / "blobs/sha256" / desc["digest"][7:]).read_bytes())
    edit(manifest, root)
    data = json.dumps(manifest).encode()
    desc.update(digest=put_blob(root, data), size=len(data))
    (root / "index.json").write_text(json.dumps(index))
    return manifest


def edit_config(root: Path, edit, ref="app"):
    def on_manifest(manifest, root):
        config = json.loads((root / "blobs/sha256" / manifest["config"]["digest"][7:]).read_bytes())
        edit(config)
        data = json.dumps(config).encode()
        manifest["config"].update(digest=put_blob(root, data), size=len(data))
    return edit_manifest(root, on_manifest, ref)


@pytest.fixture
def layout(tmp_path):
    write_oci_layout({"app": images()["app"]}, tmp_path / "l")
    return tmp_path / "l"


def layer_blob(layout: Path, i: int) -> tuple[str, Path]:
    index = json.loads((layout / "index.json").read_bytes())
    manifest = json.loads((layout / "blobs/sha256" / index["manifests"][0]["digest"][7:]).read_bytes())
    digest = manifest["layers"][i]["digest"]
    return digest, layout / "blobs/sha256" / digest[7:]


def test_a_blob_whose_bytes_changed_is_a_digest_mismatch(layout):
    digest, path = layer_blob(layout, 1)
    data = bytearray(path.read_bytes())
    data[-9] ^= 0xFF  # same size, other bytes
    path.write_bytes(bytes(data))
    with pytest.raises(ImageError, match=f"blob {digest} .*: digest mismatch: content is sha256:"):
        read_oci_layout(layout)


def test_a_blob_of_another_length_is_a_size_mismatch(layout):
    digest, path = layer_blob(layout, 0)
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(ImageError, match=f"blob {digest} .*: size mismatch: descriptor says \\d+ bytes, blob has \\d+"):
        read_oci_layout(layout)


def test_a_missing_blob(layout):
    digest, path = layer_blob(layout, 0)
    path.unlink()
    with pytest.raises(ImageError, match=f"blob {digest} .*: not found in blobs/"):
        read_oci_layout(layout)


def test_config_diff_ids_must_match_the_layers_in_umocis_words(layout):
    digest, _ = layer_blob(layout, 1)
    wrong = sha256_digest(b"not the layer")
    edit_config(layout, lambda c: c["rootfs"]["diff_ids"].__setitem__(1, wrong))
    with pytest.raises(ImageError, match=f"layer {digest}: diffid mismatch: got {APP.diff_id} expected {wrong}$"):
        read_oci_layout(layout)


def test_layer_count_must_match_the_diff_ids(layout):
    edit_config(layout, lambda c: c["rootfs"]["diff_ids"].pop())
    with pytest.raises(ImageError, match="layers length mismatch: expected 2, got 1"):
        read_oci_layout(layout)


def test_unknown_media_types_are_refused(layout):
    def layer_type(m, _):
        m["layers"][0]["mediaType"] = "application/vnd.oci.image.layer.v1.tar+zstd"
    edit_manifest(layout, layer_type)
    with pytest.raises(ImageError, match=r"layers\[0\]: unsupported media type .*\.tar\+zstd"):
        read_oci_layout(layout)


def test_unknown_config_media_type_is_refused(layout):
    def config_type(m, _):
        m["config"]["mediaType"] = "application/octet-stream"
    edit_manifest(layout, config_type)
    with pytest.raises(ImageError, match="config: unknown media type application/octet-stream"):
        read_oci_layout(layout)


def test_a_layer_media_type_must_match_its_bytes(layout):
    def plain(m, _):
        m["layers"][0]["mediaType"] = "application/vnd.oci.image.layer.v1.tar"
    edit_manifest(layout, plain)
    with pytest.raises(ImageError, match=r"media type .*layer\.v1\.tar does not match a gzip blob"):
        read_oci_layout(layout)


def test_docker_media_types_are_known(layout):
    def docker(m, _):
        m["mediaType"] = "application/vnd.docker.distribution.manifest.v2+json"
        m["layers"][0]["mediaType"] = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    edit_manifest(layout, docker)
    index = json.loads((layout / "index.json").read_bytes())
    index["manifests"][0]["mediaType"] = "application/vnd.docker.distribution.manifest.v2+json"
    (layout / "index.json").write_text(json.dumps(index))
    assert same(read_oci_layout(layout)["app"], images()["app"])


@pytest.mark.parametrize("edit, message", [
    (lambda r: (r / "oci-layout").write_text('{"imageLayoutVersion": "2.0.0"}'),
     "oci-layout: unsupported imageLayoutVersion '2.0.0': expected '1.0.0'"),
    (lambda r: (r / "index.json").unlink(), "no index.json"),
    (lambda r: (r / "index.json").write_text("{"), "index.json: invalid JSON"),
    (lambda r: (r / "index.json").write_text('{"schemaVersion": 1, "manifests": []}'), "schemaVersion must be 2"),
    (lambda r: (r / "index.json").write_text(
        '{"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", '
        '"digest": "sha256:../../../etc/passwd", "size": 1}]}'), r"manifests\[0\]: invalid digest"),
    (lambda r: (r / "index.json").write_text(
        '{"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", '
        f'"digest": "{sha256_digest(b"")}", "size": -1}}]}}'), "size must be a non-negative integer"),
])
def test_broken_layout_files(layout, edit, message):
    edit(layout)
    with pytest.raises(ImageError, match=message):
        read_oci_layout(layout)


def test_a_ref_naming_two_manifests_is_ambiguous(tmp_path):
    write_oci_layout(images(), tmp_path)
    index = json.loads((tmp_path / "index.json").read_bytes())
    for d in index["manifests"]:
        d["annotations"]["org.opencontainers.image.ref.name"] = "same"
    (tmp_path / "index.json").write_text(json.dumps(index))
    with pytest.raises(ImageError, match="ref 'same' names more than one manifest"):
        read_oci_layout(tmp_path)


def test_docker_archive_validation_in_dockers_words(tmp_path):
    wrong = sha256_digest(b"x")
    path, _ = classic_archive(tmp_path, diff_ids=[BASE.diff_id, wrong])
    with pytest.raises(ImageError, match=f'invalid diffID for layer 1: expected "{wrong}", got "{APP.diff_id}"'):
        read_docker_archive(path)
    path, _ = classic_archive(tmp_path, diff_ids=[BASE.diff_id])
    with pytest.raises(ImageError, match="invalid manifest, layers length mismatch: expected 2, got 1"):
        read_docker_archive(path)
    path, _ = classic_archive(tmp_path, config_name=sha256_digest(b"other")[7:] + ".json")
    with pytest.raises(ImageError, match="digest mismatch"):
        read_docker_archive(path)
    path, _ = classic_archive(tmp_path, layer_name="l9/layer.tar")
    with pytest.raises(ImageError, match="l9/layer.tar: no such file in the archive"):
        read_docker_archive(path)
    path, _ = classic_archive(tmp_path, extra={"manifest.json": b"null"})
    with pytest.raises(ImageError, match=r"manifest cannot be null \(but can be \[\]\)"):
        read_docker_archive(path)
    path, _ = classic_archive(tmp_path, extra={"manifest.json": b"[]"})
    assert read_docker_archive(path) == {}


def test_writing_refuses_bad_input(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(ImageError, match="is not an empty directory"):
        write_oci_layout(images(), tmp_path / "full")
    with pytest.raises(ImageError, match="given more than once"):
        write_oci_layout([("a", images()["app"]), ("a", images()["base"])], tmp_path / "l")
    with pytest.raises(ImageError, match="unsupported compression 'zstd'"):
        write_oci_layout(images(), tmp_path / "l", compression="zstd")
    with pytest.raises(ImageError, match="'App:1': invalid reference format"):
        write_docker_archive({"App:1": images()["app"]}, tmp_path / "d.tar")
    with pytest.raises(ImageError, match="names the same tag as another, app:latest"):
        write_docker_archive({"app": images()["app"], "app:latest": images()["base"]}, tmp_path / "d.tar")


# --- names that escape ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../evil", "/etc/evil", "blobs/../../evil"])
def test_an_archive_member_that_escapes_is_refused_and_nothing_is_written(tmp_path, name):
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    (work / "x.tar").write_bytes(tar_bytes({"oci-layout": b'{"imageLayoutVersion":"1.0.0"}', name: b"pwned"}))
    with pytest.raises(ImageError, match="escapes the archive"):
        read_image(work / "x.tar")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "b", "x.tar"]


@pytest.mark.parametrize("config", ["../config.json", "/etc/passwd", "a/../../b"])
def test_manifest_json_paths_that_escape_are_refused(tmp_path, config):
    path = tmp_path / "d.tar"
    path.write_bytes(tar_bytes({"manifest.json": json.dumps([{"Config": config, "Layers": []}]).encode()}))
    with pytest.raises(ImageError, match=r"escapes the archive \(absolute or '..'\)"):
        read_docker_archive(path)


def test_a_link_member_that_leaves_the_archive_is_refused(tmp_path):
    path = tmp_path / "d.tar"
    path.write_bytes(tar_bytes(
        {"manifest.json": json.dumps([{"Config": "c.json", "Layers": []}]).encode()},
        {"c.json": "../../../../etc/hostname"}))
    with pytest.raises(ImageError, match="c.json: link to '../../../../etc/hostname' escapes the archive"):
        read_docker_archive(path)


def test_a_blob_symlinked_out_of_a_layout_directory_is_refused(layout, tmp_path):
    digest, path = layer_blob(layout, 0)
    outside = tmp_path / "outside"
    outside.write_bytes(path.read_bytes())
    path.unlink()
    path.symlink_to(outside)
    with pytest.raises(ImageError, match=f"blobs/sha256/{digest[7:]} resolves outside"):
        read_oci_layout(layout)
