"""JSON merge patch (RFC 7386), what ``kubectl patch --type merge`` sends
(``evanphx/json-patch`` ``MergePatch``, used by ``endpoints/handlers/patch.go``)."""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["merge_patch"]


def merge_patch(target: Any, patch: Any) -> Any:
    """``MergePatch(target, patch)``: objects merge key by key, ``null`` removes a key,
    anything else (lists included) replaces the target. Neither input is changed."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result
