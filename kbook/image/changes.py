"""What each layer of an image does to the tree below it: adds, changes, removes.

This is the view ``docker history`` cannot give and ``kbook image inspect`` prints: each
layer is applied as an unpacker would (:class:`~kbook.image.tree.Tree`), and the paths it
creates, rewrites or takes away are compared with the tree the lower layers leave.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from kbook.image.layer import FILE, Layer
from kbook.image.tree import Tree

__all__ = ["LayerChanges", "layer_changes"]


@dataclass(frozen=True)
class LayerChanges:
    """The paths one layer adds, changes and removes, and the file bytes it writes."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    added_bytes: int
    changed_bytes: int
    removed_bytes: int


def layer_changes(layers: Sequence[Layer]) -> list[LayerChanges]:
    """One :class:`LayerChanges` per layer, bottom first."""
    tree, out = Tree(), []
    for i, layer in enumerate(layers):
        before = tree.copy()
        tree.apply(layer, i)
        old, new = set(before.paths()), set(tree.paths())
        added = sorted(new - old)
        changed = sorted(p for p in old & new if tree.get(p).layer == i)
        removed = sorted(old - new)

        def file_bytes(t: Tree, paths: list[str]) -> int:  # each inode once: hardlinks share data
            return sum(n.size for n in {id(n): n for n in map(t.get, paths) if n.type == FILE}.values())

        out.append(LayerChanges(tuple(added), tuple(changed), tuple(removed), file_bytes(tree, added),
                                file_bytes(tree, changed), file_bytes(before, removed)))
    return out
