"""The plugins' shared helpers (plugins/helper): DefaultNormalizeScore and
BuildBrokenLinearFunction with upstream's tables, and Go's integer arithmetic."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kbook.scheduler.plugins.helper import (
    FunctionShapePoint, build_broken_linear_function, default_normalize_score, go_div, go_round,
)
from kbook.scheduler.types import NodeScore


# TestDefaultNormalizeScore (helper/normalize_score_test.go)
@pytest.mark.parametrize("reverse,scores,want", [
    (False, [1, 2, 3, 4], [25, 50, 75, 100]),
    (True, [1, 2, 3, 4], [75, 50, 25, 0]),
    (False, [1000, 10, 20, 30], [100, 1, 2, 3]),
    (True, [1000, 10, 20, 30], [0, 99, 98, 97]),
    (False, [1, 1, 1, 1], [100, 100, 100, 100]),
    (False, [1000, 1, 1, 1], [100, 0, 0, 0]),
    (True, [0, 1, 1, 1], [100, 0, 0, 0]),
    (False, [0, 0, 0, 0], [0, 0, 0, 0]),
    (True, [0, 0, 0, 0], [100, 100, 100, 100]),
])
def test_default_normalize_score(reverse, scores, want):
    node_scores = [NodeScore(f"n{i}", s) for i, s in enumerate(scores)]
    default_normalize_score(100, reverse, node_scores)
    assert [s.score for s in node_scores] == want


# TestBrokenLinearFunction (noderesources/requested_to_capacity_ratio_test.go)
@pytest.mark.parametrize("points,probes", [
    ([(10, 1), (90, 9)], {-10: 1, 0: 1, 9: 1, 10: 1, 15: 1, 19: 1, 20: 2, 89: 8, 90: 9, 99: 9, 100: 9, 110: 9}),
    ([(0, 2), (40, 10), (100, 0)], {-10: 2, 0: 2, 20: 6, 30: 8, 40: 10, 70: 5, 100: 0, 110: 0}),
    ([(0, 2), (40, 2), (100, 2)], {-10: 2, 0: 2, 20: 2, 30: 2, 40: 2, 70: 2, 100: 2, 110: 2}),
    # a decreasing segment truncates toward zero: 100 + (0-100)*(33-0)/100 = 100 - 33 = 67
    ([(0, 100), (100, 0)], {33: 67, 1: 99}),
    # (-7) * 1 / 2 truncates to -3, not -4
    ([(0, 10), (2, 3)], {1: 7}),
])
def test_broken_linear_function(points, probes):
    f = build_broken_linear_function([FunctionShapePoint(u, s) for u, s in points])
    assert {p: f(p) for p in probes} == probes


@given(st.integers(-10**18, 10**18), st.integers(-10**6, 10**6).filter(bool))
def test_go_div_truncates_toward_zero(a, b):
    # Go's a / b: a == q*b + r with |r| < |b| and r carrying a's sign (Python's // floors instead)
    q = go_div(a, b)
    r = a - q * b
    assert abs(r) < abs(b) and (r == 0 or (r > 0) == (a > 0))


def test_go_div_examples():
    assert (go_div(-7, 2), -7 // 2) == (-3, -4)
    assert (go_div(7, -2), go_div(-7, -2)) == (-3, 3)


@pytest.mark.parametrize("x,want", [(0.5, 1), (1.5, 2), (2.5, 3), (-0.5, -1), (-2.5, -3), (2.4999, 2),
                                    (0.49999999999999994, 0), (37.5, 38)])
def test_go_round_is_half_away_from_zero(x, want):
    assert go_round(x) == want
