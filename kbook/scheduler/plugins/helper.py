"""Helpers the in-tree plugins share (``pkg/scheduler/framework/plugins/helper``): score
normalization, the broken-linear shape of RequestedToCapacityRatio, Go's integer
arithmetic, and turning argument errors into a :class:`~kbook.scheduler.config.ConfigError`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from kbook.api import Taint
from kbook.errors import FieldError, aggregate
from kbook.scheduler.types import NodeScore

__all__ = [
    "go_div",
    "go_round",
    "default_normalize_score",
    "FunctionShapePoint",
    "build_broken_linear_function",
    "do_not_schedule_taints_filter",
    "config_error",
    "int_arg",
]


def go_div(a: int, b: int) -> int:
    """Go's int64 division: truncates toward zero (Python's ``//`` floors)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def go_round(x: float) -> int:
    """Go's ``math.Round``: halves away from zero (Python's ``round`` is half-even)."""
    t = math.trunc(x)
    if abs(x - t) >= 0.5:  # the fraction is exact in floating point
        t += 1 if x > 0 else -1
    return int(t)


def default_normalize_score(max_priority: int, reverse: bool, scores: list[NodeScore]) -> None:
    """``DefaultNormalizeScore`` (helper/normalize_score.go), in place: scale to
    ``[0, max_priority]`` by the highest score, reversed if asked; all zero stays zero
    (or becomes ``max_priority`` when reversed)."""
    max_count = max([0] + [s.score for s in scores])
    if max_count == 0:
        if reverse:
            for s in scores:
                s.score = max_priority
        return
    for s in scores:
        score = go_div(max_priority * s.score, max_count)
        s.score = max_priority - score if reverse else score


@dataclass(frozen=True)
class FunctionShapePoint:
    """``helper.FunctionShapePoint``: one point of a broken-linear function."""

    utilization: int
    score: int


def build_broken_linear_function(shape: Sequence[FunctionShapePoint]) -> Callable[[int], int]:
    """``BuildBrokenLinearFunction`` (helper/shape_score.go): the first score up to the first
    point, linear (Go int64 arithmetic) between points, the last score beyond the last."""
    points = list(shape)

    def f(p: int) -> int:
        for i, point in enumerate(points):
            if p <= point.utilization:
                if i == 0:
                    return points[0].score
                prev = points[i - 1]
                return prev.score + go_div((point.score - prev.score) * (p - prev.utilization),
                                           point.utilization - prev.utilization)
        return points[-1].score

    return f


def do_not_schedule_taints_filter(taint: Taint) -> bool:
    """``DoNotScheduleTaintsFilterFunc`` (helper/taint.go): ``NoSchedule`` and ``NoExecute``."""
    return taint.effect in ("NoSchedule", "NoExecute")


def config_error(errors: Sequence[FieldError | str]) -> Exception:
    """The plugin-args error ``field.ErrorList.ToAggregate()`` gives, as a ``ConfigError``."""
    from kbook.scheduler.config import ConfigError  # the profile configuration owns the type

    messages = [str(e) for e in errors]
    return ConfigError(aggregate(messages), messages)


def int_arg(value: Any, path: str) -> int:
    """An integer plugin argument, or a ``ConfigError`` naming its field."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise config_error([FieldError.invalid(path, value, "must be an integer")])
    return value
