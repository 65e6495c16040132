"""``kbook image inspect``: what a user sees for a layout, a docker archive and bad input."""

import subprocess
import sys

import pytest

from kbook.cli import main
from kbook.image import (
    DIR, FILE, SYMLINK, Entry, Image, Layer, layer_descriptor, write_docker_archive, write_oci_layout,
)

BASE = Layer.from_entries([
    Entry("etc/", DIR), Entry("etc/hosts", FILE, data=b"127.0.0.1\n"), Entry("etc/conf.d/", DIR),
    Entry("etc/conf.d/a", FILE), Entry("etc/conf.d/b", FILE), Entry("bin/", DIR), Entry("bin/sh", FILE, 0o755),
])
# adds: app, app/run, app/link, etc/conf.d/c; changes: etc/hosts, etc/conf.d (opaque dir rewritten);
# removes: bin/sh and bin (whiteout of a directory), etc/conf.d/a, etc/conf.d/b (opaque)
TOP = Layer.from_entries([
    Entry("app/", DIR), Entry("app/run", FILE, 0o755, data=b"run"), Entry("app/link", SYMLINK, linkname="run"),
    Entry("etc/hosts", FILE, data=b"10.0.0.1\n"), Entry(".wh.bin", FILE),
    Entry("etc/conf.d/", DIR), Entry("etc/conf.d/.wh..wh..opq", FILE), Entry("etc/conf.d/c", FILE),
])
IMAGE = Image((BASE, TOP), architecture="arm64")


def inspect(capsys, *args):
    code = main(["image", "inspect", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def table(out: str) -> list[list[str]]:
    return [line.split() for line in out.split("\n\n", 1)[1].splitlines()]


def test_inspect_an_oci_layout(tmp_path, capsys):
    write_oci_layout({"app": IMAGE, "base": Image((BASE,))}, tmp_path)
    code, out, err = inspect(capsys, tmp_path, "--ref", "app")
    assert code == 0 and err == ""
    head = dict(line.split(":", 1) for line in out.split("\n\n")[0].splitlines())
    assert head["ref"].strip() == "app" and head["format"].strip() == "oci"
    assert head["config"].strip() == IMAGE.config_digest
    assert head["platform"].strip() == "linux/arm64"
    rows = table(out)
    assert out.split("\n\n")[1].startswith("#  DIGEST        DIFF ID       CHAIN ID      COMPRESSED")
    assert rows[0][-5:] == ["COMPRESSED", "UNCOMPRESSED", "ADDS", "CHANGES", "REMOVES"]
    blobs = [layer_descriptor(l) for l in IMAGE.layers]
    assert rows[1] == ["0", blobs[0].digest[7:19], BASE.diff_id[7:19], IMAGE.chain_ids[0][7:19],
                       str(blobs[0].size), str(BASE.size), "7", "0", "0"]
    assert rows[2] == ["1", blobs[1].digest[7:19], TOP.diff_id[7:19], IMAGE.chain_ids[1][7:19],
                       str(blobs[1].size), str(TOP.size), "4", "2", "4"]


def test_no_trunc_prints_whole_digests(tmp_path, capsys):
    write_oci_layout({"app": IMAGE}, tmp_path)
    code, out, _ = inspect(capsys, tmp_path, "--no-trunc")
    assert code == 0
    assert table(out)[2][1:4] == [layer_descriptor(TOP).digest, TOP.diff_id, IMAGE.chain_ids[1]]


def test_inspect_a_docker_archive_shows_uncompressed_blobs(tmp_path, capsys):
    write_docker_archive({"app:v1": IMAGE}, tmp_path / "app.tar")
    code, out, _ = inspect(capsys, tmp_path / "app.tar")
    assert code == 0 and "ref:       app:v1" in out and "format:    docker" in out and "manifest:" not in out
    row = table(out)[2]
    assert row[1] == row[2] == TOP.diff_id[7:19] and row[4] == row[5] == str(TOP.size)


@pytest.mark.parametrize("setup, args, message", [
    (None, [], "missing: no such file or directory"),
    ("two", [], "holds 2 images (app, base): choose one with a ref"),
    ("two", ["--ref", "nope"], "no image 'nope' (refs: app, base)"),
    ("corrupt", [], "digest mismatch"),
])
def test_errors_are_one_line_and_exit_non_zero(tmp_path, capsys, setup, args, message):
    path = tmp_path / "missing"
    if setup:
        path = tmp_path / "l"
        write_oci_layout({"app": IMAGE, "base": Image((BASE,))} if setup == "two" else {"app": IMAGE}, path)
        if setup == "corrupt":
            blob = path / "blobs/sha256" / layer_descriptor(TOP).digest[7:]
            data = bytearray(blob.read_bytes())
            data[20] ^= 1
            blob.write_bytes(bytes(data))
    code, out, err = inspect(capsys, path, *args)
    assert code == 1 and out == ""
    assert len(err.splitlines()) == 1 and message in err


def test_the_command_has_no_traceback_on_bad_input(tmp_path):
    (tmp_path / "x.tar").write_bytes(b"not a tar at all")
    out = subprocess.run([sys.executable, "-m", "kbook.cli", "image", "inspect", str(tmp_path / "x.tar")],
                         capture_output=True, text=True)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.strip().startswith(f"{tmp_path / 'x.tar'}: not a readable tar archive")
