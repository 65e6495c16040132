"""Layer changesets and content addresses: reading, writing back, DiffIDs and ChainIDs."""

import gzip
import io
import tarfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kbook.errors import ImageError
from kbook.image import (
    CHAR, DIR, FILE, HARDLINK, SYMLINK, Entry, Layer, chain_id, chain_ids, check_digest, clean_path, read_layer,
    sha256_digest,
)


def test_chain_id_spec_vector():
    # image-spec config.md: ChainID(sha256:a|sha256:b) hashes the two strings joined by one space.
    a, b = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    assert chain_ids([a]) == [a]
    assert chain_id([a, b]) == sha256_digest(f"{a} {b}".encode())
    assert sha256_digest(b"sha256:a sha256:b") == "sha256:970a948bffa8de94d6e22d747ba8c95030e6e546909f98f54e99a13005e173a8"


def test_bad_digests_and_empty_stacks_are_refused():
    with pytest.raises(ImageError, match="invalid digest"):
        check_digest("sha256:ABC")
    with pytest.raises(ImageError, match="at least one layer"):
        chain_id([])


ENTRIES = [
    Entry("etc", DIR, 0o755, 0, 0, 10),
    Entry("etc/hosts", FILE, 0o644, 0, 0, 10, b"127.0.0.1 localhost\n", xattrs={"user.note": b"\x00\xffbin"}),
    Entry("etc/link", SYMLINK, 0o777, 0, 0, 10, linkname="../no/such/target"),
    Entry("etc/hard", HARDLINK, 0o644, 0, 0, 10, linkname="etc/hosts"),
    Entry("dev/null", CHAR, 0o666, 0, 0, 10, devmajor=1, devminor=3),
    Entry("bin/.wh.cat", FILE, 0o600),
    Entry("opt/.wh..wh..opq", FILE, 0o600),
    Entry("srv/setuid", FILE, 0o4755, 1000, 1000, 10, b"#!/bin/sh\n"),
]


def test_entries_survive_a_round_trip_through_tar_and_gzip():
    layer = Layer.from_entries(ENTRIES)
    for blob in (layer.blob(None), layer.blob("gzip")):
        back = Layer.from_bytes(blob)
        assert back.entries == layer.entries
        assert back.diff_id == layer.diff_id  # the DiffID is over the uncompressed tar
    assert Layer.from_bytes(layer.blob("gzip")).compression == "gzip"


def test_writing_is_reproducible():
    one, two = Layer.from_entries(ENTRIES), Layer.from_entries(list(ENTRIES))
    assert one.tar == two.tar and one.blob() == two.blob()
    assert Layer.from_entries(Layer.from_bytes(one.tar).entries).tar == one.tar


def test_a_layer_read_keeps_its_own_bytes_for_the_diff_id(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:  # not how kbook writes
        info = tarfile.TarInfo("./a")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    (tmp_path / "l.tar.gz").write_bytes(gzip.compress(buf.getvalue()))
    layer = read_layer(tmp_path / "l.tar.gz")
    assert layer.diff_id == sha256_digest(buf.getvalue())
    assert layer.entries[0].path == "a"


def test_whiteout_and_opaque_names():
    wh, opq, plain = ENTRIES[5], ENTRIES[6], ENTRIES[1]
    assert wh.is_whiteout and wh.whiteout_name == "cat" and not wh.is_opaque
    assert opq.is_opaque and not opq.is_whiteout
    assert not plain.is_whiteout and not plain.is_opaque


@pytest.mark.parametrize("name, path", [
    ("./etc/hosts", "etc/hosts"), ("/etc/../etc/hosts", "etc/hosts"), ("../../x", "x"), ("./", "."), ("/", "."),
    ("a//b/./c/", "a/b/c"),
])
def test_clean_path_clamps_at_the_root(name, path):
    assert clean_path(name) == path


@pytest.mark.parametrize("blob, message", [
    (b"\x1f\x8bnot gzip at all", "corrupt gzip"),
    (b"\x28\xb5\x2f\xfd" + b"\x00" * 20, "zstd"),
    (b"x" * 700, "not a readable layer tar"),
])
def test_unreadable_blobs_are_image_errors(blob, message):
    with pytest.raises(ImageError, match=message):
        Layer.from_bytes(blob)


def test_missing_file_is_an_image_error(tmp_path):
    with pytest.raises(ImageError, match="cannot read layer"):
        read_layer(tmp_path / "missing.tar")


@given(st.binary(max_size=2048))
def test_any_bytes_give_a_layer_or_an_image_error(blob):
    try:
        Layer.from_bytes(blob)
    except ImageError:
        pass
