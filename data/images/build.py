"""Build the small images the book's image chapter reads, as OCI layouts under data/images/.

    .venv/bin/python data/images/build.py

`shop-web` is the storefront of data/manifests/shop.yaml as an image of five layers: a slim
operating-system base, a language runtime, the application's dependencies, the application,
and a configuration layer that changes, adds and deletes files from the layers below.
`shop-worker` shares the first three layers with it, as images built from one base do.
File contents are the project's own; the executables and shared libraries are
deterministic stand-in bytes of realistic size (seeded), so every build is byte-identical.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from kbook.image import DIR, FILE, HARDLINK, SYMLINK, Entry, Image, Layer
from kbook.image.layout import write_oci_layout

MTIME = 1_700_000_000  # fixed timestamps keep the layers reproducible
HERE = Path(__file__).resolve().parent


def d(name: str, mode: int = 0o755, uid: int = 0, gid: int = 0) -> Entry:
    return Entry(name, DIR, mode, uid, gid, MTIME)


def f(name: str, data: bytes | str, mode: int = 0o644, uid: int = 0, gid: int = 0) -> Entry:
    return Entry(name, FILE, mode, uid, gid, MTIME, data.encode() if isinstance(data, str) else data)


def link(name: str, target: str) -> Entry:
    return Entry(name, SYMLINK, 0o777, 0, 0, MTIME, linkname=target)


def whiteout(path: str) -> Entry:
    parent, _, base = path.rpartition("/")
    return f(f"{parent}/.wh.{base}" if parent else f".wh.{base}", b"")


def blob(rng: np.random.Generator, size: int) -> bytes:
    """Stand-in bytes for an executable or library: incompressible, like real machine code mostly is."""
    return rng.integers(0, 256, size, dtype=np.uint8).tobytes()


PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
GROUP = "root:x:0:\nnogroup:x:65534:\n"


def base_layer(rng: np.random.Generator) -> Layer:
    return Layer.from_entries([
        d("bin"), d("etc"), d("lib"), d("root", 0o700), d("tmp", 0o1777), d("usr"), d("usr/bin"), d("usr/lib"),
        d("var"), d("var/cache"), d("var/cache/apt"), d("var/log"),
        f("bin/busybox", blob(rng, 180_000), 0o755),
        link("bin/sh", "busybox"), link("bin/ls", "busybox"), link("bin/cat", "busybox"),
        f("lib/libc.so.6", blob(rng, 120_000), 0o755),
        f("etc/os-release", 'NAME="kbook slim"\nID=kbook\nVERSION_ID="1"\n'),
        f("etc/passwd", PASSWD), f("etc/group", GROUP),
        f("etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"),
        f("etc/nsswitch.conf", "passwd: files\ngroup: files\nhosts: files dns\n"),
        f("var/cache/apt/pkgcache.bin", blob(rng, 60_000)),
        f("var/cache/apt/srcpkgcache.bin", blob(rng, 40_000)),
    ])


def runtime_layer(rng: np.random.Generator) -> Layer:
    stdlib = {name: f"# {name}: part of the runtime's standard library\n" * 40 for name in
              ("json.py", "http_server.py", "socket.py", "logging.py", "threading.py")}
    return Layer.from_entries([
        d("usr/local"), d("usr/local/bin"), d("usr/local/lib"), d("usr/local/lib/runtime"),
        f("usr/local/bin/runtime", blob(rng, 150_000), 0o755),
        Entry("usr/local/bin/rt", HARDLINK, 0o755, 0, 0, MTIME, linkname="usr/local/bin/runtime"),
        *[f(f"usr/local/lib/runtime/{n}", text) for n, text in stdlib.items()],
        # The runtime's install step cleans the package cache of the base: deletions are whiteouts.
        whiteout("var/cache/apt/pkgcache.bin"), whiteout("var/cache/apt/srcpkgcache.bin"),
    ])


def deps_layer(rng: np.random.Generator) -> Layer:
    return Layer.from_entries([
        d("srv"), d("srv/deps"), d("srv/deps/templating"), d("srv/deps/metrics"),
        f("srv/deps/templating/__init__.py", "def render(template, **values):\n    return template.format(**values)\n"),
        f("srv/deps/templating/_speedups.so", blob(rng, 50_000), 0o755),
        f("srv/deps/metrics/__init__.py", "COUNTERS = {}\n\ndef inc(name):\n    COUNTERS[name] = COUNTERS.get(name, 0) + 1\n"),
    ])


def app_layer(name: str) -> Layer:
    return Layer.from_entries([
        d("srv/app"), d("srv/app/static"),
        f("srv/app/main.py", f"# {name}: serves the shop's {name} pages\nfrom metrics import inc\n\nPORT = 8080\n", 0o644, 1000, 1000),
        f("srv/app/static/index.html", f"<h1>{name}</h1>\n", 0o644, 1000, 1000),
        f("srv/app/static/style.css", "body { font-family: sans-serif; }\n", 0o644, 1000, 1000),
        f("srv/app/config.toml", "[server]\nport = 8080\nworkers = 2\n", 0o640, 1000, 1000),
    ])


def config_layer() -> Layer:
    return Layer.from_entries([
        # A user for the application: /etc/passwd is changed, so the whole file is in this layer again.
        f("etc/passwd", PASSWD + "shop:x:1000:1000:shop:/srv/app:/bin/sh\n"),
        f("etc/group", GROUP + "shop:x:1000:\n"),
        # The static assets are replaced wholesale: an opaque directory hides the lower ones.
        d("srv/app/static", 0o755, 1000, 1000),
        f("srv/app/static/.wh..wh..opq", b""),
        f("srv/app/static/index.html", "<h1>storefront</h1>\n<p>new look</p>\n", 0o644, 1000, 1000),
        whiteout("srv/app/config.toml"),
        f("srv/app/config.yaml", "server:\n  port: 8080\n  workers: 4\n", 0o640, 1000, 1000),
    ])


def build() -> dict[str, Image]:
    rng = np.random.default_rng(2026)
    shared = [base_layer(rng), runtime_layer(rng), deps_layer(rng)]
    web = Image(tuple(shared + [app_layer("storefront"), config_layer()]),
                config={"Cmd": ["/usr/local/bin/runtime", "/srv/app/main.py"], "User": "1000:1000",
                        "WorkingDir": "/srv/app", "ExposedPorts": {"8080/tcp": {}}},
                created="2026-01-01T00:00:00Z")
    worker = Image(tuple(shared + [app_layer("worker")]),
                   config={"Cmd": ["/usr/local/bin/runtime", "/srv/app/main.py"], "User": "1000:1000"},
                   created="2026-01-01T00:00:00Z")
    return {"shop-web:1.0": web, "shop-worker:1.0": worker}


def main(out: Path = HERE / "shop.oci") -> None:
    write_oci_layout(build(), out)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "shop.oci")
