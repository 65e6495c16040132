"""LabelSelector.matches as metav1.LabelSelectorAsSelector + labels.Selector.Matches."""

import pytest

from kbook.api import LabelSelector, LabelSelectorRequirement, SelectorError

LABELS = {"app": "web", "tier": "frontend", "track": ""}


def req(key: str, op: str, *values: str) -> LabelSelectorRequirement:
    return LabelSelectorRequirement(key, op, list(values))


@pytest.mark.parametrize(
    "selector, matches",
    [
        (LabelSelector(), True),  # empty: everything
        (LabelSelector(match_labels={"app": "web"}), True),
        (LabelSelector(match_labels={"app": "web", "tier": "backend"}), False),
        (LabelSelector(match_labels={"track": ""}), True),
        (LabelSelector(match_expressions=[req("tier", "In", "frontend", "edge")]), True),
        (LabelSelector(match_expressions=[req("tier", "In", "backend")]), False),
        (LabelSelector(match_expressions=[req("missing", "In", "x")]), False),
        (LabelSelector(match_expressions=[req("tier", "NotIn", "backend")]), True),
        (LabelSelector(match_expressions=[req("missing", "NotIn", "x")]), True),
        (LabelSelector(match_expressions=[req("track", "Exists")]), True),
        (LabelSelector(match_expressions=[req("missing", "Exists")]), False),
        (LabelSelector(match_expressions=[req("missing", "DoesNotExist")]), True),
        (LabelSelector(match_labels={"app": "web"}, match_expressions=[req("app", "DoesNotExist")]), False),
    ],
)
def test_matches(selector: LabelSelector, matches: bool) -> None:
    assert selector.matches(LABELS) is matches


@pytest.mark.parametrize(
    "selector, message",
    [
        (LabelSelector(match_expressions=[req("a", "Near")]), '"Near" is not a valid label selector operator'),
        (
            LabelSelector(match_expressions=[req("a", "In")]),
            "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty",
        ),
        (
            LabelSelector(match_expressions=[req("a", "Exists", "x")]),
            'values: Invalid value: []string{"x"}: values set must be empty for exists and does not exist',
        ),
        (
            LabelSelector(match_labels={"a": "b c"}),
            'values[0][a]: Invalid value: "b c": a valid label must be an empty string or consist of alphanumeric '
            "characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
            "'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
        ),
    ],
)
def test_invalid_selectors(selector: LabelSelector, message: str) -> None:
    with pytest.raises(SelectorError) as info:
        selector.matches(LABELS)
    assert str(info.value) == message
