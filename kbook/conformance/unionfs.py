"""The unionfs checker: a case's layers applied by kbook, compared with what umoci built
(or, for unsafe layers, what the spec demands).

Per case: each layer's DiffID and the ChainIDs; the in-memory tree (or the refusal) against
``expected``; and, as root, the same layers unpacked to a temporary directory, whose
records must match too while the case's ``escape_sentinel`` host path stays untouched.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

from kbook.conformance.runner import CHECKERS, Case
from kbook.errors import ImageError
from kbook.image.digest import chain_ids, sha256_digest
from kbook.image.layer import Layer, clean_path, read_layer
from kbook.image.tree import Tree
from kbook.image.unpack import dir_records, unpack

__all__ = ["check_unionfs", "compare_records", "COMPARED_FIELDS"]

# The README's rule: mtime only where expected is not null; nlink is informational.
COMPARED_FIELDS = ("type", "mode", "uid", "gid", "size", "sha256", "link", "rdev", "xattrs", "hardlink_group")
_MAX_DIFFS = 8


def _compared_fields(rule: Any) -> tuple[str, ...]:
    """The fields a case's ``compare`` text names ("compared on a/b/c; ..."), else the default."""
    m = re.search(r"compared on ([a-z_]+(?:/[a-z_]+)*)", rule) if isinstance(rule, str) else None
    return tuple(f for f in m.group(1).split("/") if f != "mtime") if m else COMPARED_FIELDS


def compare_records(got: list[dict[str, Any]], expected: list[dict[str, Any]],
                    fields: tuple[str, ...] = COMPARED_FIELDS, where: str = "") -> list[str]:
    """Short differences between two record lists: missing or extra paths, then fields;
    ``mtime`` where the expected one is not null."""
    g = {r["path"]: r for r in got}
    e = {r["path"]: r for r in expected}
    diffs = [f"{where}missing {p!r}" for p in sorted(e.keys() - g.keys())]
    diffs += [f"{where}unexpected {p!r}" for p in sorted(g.keys() - e.keys())]
    for p in sorted(e.keys() & g.keys()):
        for f in fields:
            gv, ev = _norm(f, g[p].get(f)), _norm(f, e[p].get(f))
            if gv != ev:
                diffs.append(f"{where}{p}: {f} {gv!r} != {ev!r}")
        if e[p].get("mtime") is not None and g[p].get("mtime") != e[p]["mtime"]:
            diffs.append(f"{where}{p}: mtime {g[p].get('mtime')!r} != {e[p]['mtime']!r}")
    return diffs


def _norm(field: str, value: Any) -> Any:
    if field == "xattrs":
        return value or {}
    if field == "rdev" and value is not None:
        return list(value)
    return value


def _outside_root(tree: Tree) -> list[str]:
    return [f"path outside the root: {p!r}" for p in tree.paths() if clean_path(p) != p]


def _snapshot(path: str) -> Any:
    """What is at a host path: nothing, or every name below it with its type, size, mtime."""
    if not os.path.lexists(path):
        return None
    out = []
    for dirpath, dirnames, filenames in os.walk(path):
        for name in sorted(dirnames + filenames):
            st = os.lstat(os.path.join(dirpath, name))
            out.append((os.path.join(dirpath, name), st.st_mode, st.st_size, st.st_mtime_ns))
    st = os.lstat(path)
    return st.st_mode, st.st_mtime_ns, sorted(out)


def _check_on_disk(case: Case, layers: list[Layer], expected_tree: list[dict[str, Any]] | None,
                   fields: tuple[str, ...]) -> list[str]:
    """Unpack for real below a temporary directory; compare; check nothing escaped."""
    sentinel = case.data.get("escape_sentinel")
    before = _snapshot(sentinel) if sentinel else None
    diffs: list[str] = []
    with tempfile.TemporaryDirectory(prefix="kbook-unionfs-") as tmp:
        victim = Path(tmp, "KEEP-victim")
        victim.write_bytes(b"keep\n")
        rootfs = Path(tmp, "rootfs")
        try:
            unpack(layers, rootfs)
        except ImageError as e:
            diffs.append(f"on disk: unpack refused what the in-memory apply accepted: {e}")
        else:
            if expected_tree is not None:
                diffs += compare_records(dir_records(rootfs), expected_tree, fields, "on disk: ")
        if sorted(os.listdir(tmp)) != ["KEEP-victim", "rootfs"] or victim.read_bytes() != b"keep\n":
            diffs.append("on disk: something outside the rootfs changed")
    if sentinel and _snapshot(sentinel) != before:
        diffs.append(f"on disk: escape sentinel {sentinel} changed")
    return diffs


def check_unionfs(case: Case) -> list[str]:
    """Differences between kbook and one unionfs case (kinds ``benign`` and ``malicious``)."""
    data = case.data
    diffs: list[str] = []
    blobs = [(case.path / spec["file"]).read_bytes() for spec in data["layers"]]
    layers: list[Layer] = []
    read_error = ""
    for blob in blobs:
        try:
            layers.append(read_layer(blob))
        except ImageError as e:  # an unreadable layer is refused like an unsafe one
            read_error = read_error or f" ({e})"
    diff_ids = [layer.diff_id for layer in layers] if not read_error else [sha256_digest(b) for b in blobs]
    for i, (diff_id, spec) in enumerate(zip(diff_ids, data["layers"])):
        if diff_id != spec.get("diff_id"):
            diffs.append(f"layer{i} diff_id {diff_id} != {spec.get('diff_id')}")
    got_chain = chain_ids(diff_ids)
    if "chain_ids" in data and got_chain != data["chain_ids"]:
        diffs.append(f"chain_ids {got_chain} != {data['chain_ids']}")

    expected = data["expected"]
    fields = _compared_fields(data.get("compare"))
    tree: Tree | None = None
    outcome, error = "error", read_error
    if not read_error:
        try:
            tree, outcome = Tree.from_layers(layers), "ok"
        except ImageError as e:
            error = f" ({e})"
    if outcome != expected["outcome"] and outcome not in data.get("alternatives_ok", []):
        diffs.append(f"outcome {outcome}{error} != expected {expected['outcome']}")
    if tree is not None:
        diffs += _outside_root(tree)
        expected_tree = expected.get("tree") if expected["outcome"] == "ok" else None
        if expected_tree is not None:
            diffs += compare_records(tree.records(), expected_tree, fields)
        if os.geteuid() == 0:
            diffs += _check_on_disk(case, layers, expected_tree, fields)
    if len(diffs) > _MAX_DIFFS:
        diffs = diffs[:_MAX_DIFFS] + [f"... and {len(diffs) - _MAX_DIFFS} more"]
    return diffs


CHECKERS["unionfs"]["benign"] = check_unionfs
CHECKERS["unionfs"]["malicious"] = check_unionfs
