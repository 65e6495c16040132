"""The ``RequestedToCapacityRatio`` scoring strategy
(noderesources/requested_to_capacity_ratio.go): a user-drawn broken-linear function of each
resource's utilization, averaged over the resources that score above zero."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from kbook.errors import FieldError
from kbook.scheduler.plugins.helper import (
    FunctionShapePoint, build_broken_linear_function, config_error, go_div, go_round, int_arg,
)
from kbook.scheduler.plugins.noderesources.resource_allocation import ResourceSpec, Scorer
from kbook.scheduler.status import MAX_NODE_SCORE

__all__ = [
    "MAX_CUSTOM_PRIORITY_SCORE",
    "MAX_UTILIZATION",
    "UtilizationShapePoint",
    "parse_shape",
    "validate_function_shape",
    "requested_to_capacity_ratio_scorer",
]

MAX_CUSTOM_PRIORITY_SCORE = 10  # config.MaxCustomPriorityScore: shape scores are 0..10
MAX_UTILIZATION = 100  # maxUtilization


@dataclass(frozen=True)
class UtilizationShapePoint:
    """``config.UtilizationShapePoint``: utilization 0..100 -> score 0..10."""

    utilization: int
    score: int


def parse_shape(value: Any, path: str) -> list[UtilizationShapePoint]:
    """The ``shape`` list of ``{utilization, score}`` from plugin args."""
    if not isinstance(value, list):
        raise config_error([FieldError.invalid(path, value, "must be a list of {utilization, score}")])
    points = []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise config_error([FieldError.invalid(f"{path}[{i}]", item, "must be {utilization, score}")])
        points.append(UtilizationShapePoint(int_arg(item.get("utilization", 0), f"{path}[{i}].utilization"),
                                            int_arg(item.get("score", 0), f"{path}[{i}].score")))
    return points


def validate_function_shape(shape: Sequence[UtilizationShapePoint], path: str) -> list[FieldError]:
    """``validateFunctionShape`` (validation_pluginargs.go): at least one point, strictly
    increasing utilization, utilization in [0, 100] and score in [0, 10]."""
    if not shape:
        return [FieldError.required(path, "at least one point must be specified")]
    errs = []
    for i in range(1, len(shape)):
        if shape[i - 1].utilization >= shape[i].utilization:
            errs.append(FieldError.invalid(f"{path}[{i}].utilization", shape[i].utilization,
                                           "utilization values must be sorted in increasing order"))
            break
    for i, point in enumerate(shape):
        if not 0 <= point.utilization <= MAX_UTILIZATION:
            errs.append(FieldError.invalid(f"{path}[{i}].utilization", point.utilization,
                                           f"not in valid range [0, {MAX_UTILIZATION}]"))
        if not 0 <= point.score <= MAX_CUSTOM_PRIORITY_SCORE:
            errs.append(FieldError.invalid(f"{path}[{i}].score", point.score,
                                           f"not in valid range [0, {MAX_CUSTOM_PRIORITY_SCORE}]"))
    return errs


def requested_to_capacity_ratio_scorer(resources: Sequence[ResourceSpec],
                                       shape: Sequence[UtilizationShapePoint]) -> Scorer:
    """``requestedToCapacityRatioScorer``: shape scores scaled by ``MaxNodeScore /
    MaxCustomPriorityScore``; resources scoring 0 leave the mean, which rounds half away
    from zero (``math.Round``)."""
    raw = build_broken_linear_function(
        [FunctionShapePoint(p.utilization, p.score * (MAX_NODE_SCORE // MAX_CUSTOM_PRIORITY_SCORE)) for p in shape])

    def resource_score(requested: int, capacity: int) -> int:
        if capacity == 0 or requested > capacity:
            return raw(MAX_UTILIZATION)
        return raw(go_div(requested * MAX_UTILIZATION, capacity))

    def scorer(requested: list[int], allocatable: list[int]) -> int:
        node_score = weight_sum = 0
        for i, req in enumerate(requested):
            if allocatable[i] == 0:
                continue
            score = resource_score(req, allocatable[i])
            if score > 0:
                node_score += score * resources[i].weight
                weight_sum += resources[i].weight
        return 0 if weight_sum == 0 else go_round(float(node_score) / float(weight_sum))

    return scorer
