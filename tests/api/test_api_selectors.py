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


def test_a_selector_mutated_after_matching_is_checked_again() -> None:
    """Validity is remembered per requirement's content, not per selector object."""
    selector = LabelSelector(match_labels={"app": "web"})
    assert selector.matches(LABELS)
    selector.match_labels["app"] = "b c"
    with pytest.raises(SelectorError, match="values\\[0\\]\\[app\\]"):
        selector.matches(LABELS)
    with pytest.raises(SelectorError, match="values\\[0\\]\\[app\\]"):
        selector.requirements()
    selector.match_labels["app"] = "web"
    selector.match_expressions.append(req("tier", "In"))
    for _ in range(2):  # the second time from the remembered check
        with pytest.raises(SelectorError, match="values set can't be empty"):
            selector.matches(LABELS)


def test_the_first_invalid_requirement_is_reported_in_upstream_order() -> None:
    """matchLabels in key order, then matchExpressions, as LabelSelectorAsSelector adds them."""
    selector = LabelSelector(match_labels={"z": "b c", "a": "d e"}, match_expressions=[req("a", "Near")])
    with pytest.raises(SelectorError, match='"Near" is not a valid label selector operator'):
        selector.matches(LABELS)
    selector.match_expressions.clear()
    with pytest.raises(SelectorError, match="values\\[0\\]\\[a\\]"):
        selector.matches(LABELS)
