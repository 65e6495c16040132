"""controller_utils: partial copies and compiled label selectors."""

from __future__ import annotations

import pytest
from ctrl_helpers import deployment

from kbook.api import DeploymentCondition, LabelSelector, LabelSelectorRequirement, SelectorError
from kbook.controlplane.controllers.controller_utils import copy_fields, label_selector_as_selector, shallow_copy


def test_copy_fields_copies_the_named_fields_and_shares_the_rest():
    d = deployment("web", 2)
    d.status.conditions.append(DeploymentCondition("Available", "True", reason="R"))
    c = copy_fields(d, "metadata", "status")
    assert c == d and c is not d
    assert c.spec is d.spec  # shared, read-only
    assert c.metadata is not d.metadata and c.status is not d.status
    c.metadata.annotations["a"] = "b"
    c.status.conditions[0].reason = "changed"
    assert "a" not in d.metadata.annotations and d.status.conditions[0].reason == "R"


def test_shallow_copy_shares_the_fields():
    cond = DeploymentCondition("Available", "True", reason="R")
    c = shallow_copy(cond)
    assert c == cond and c is not cond
    c.reason = "changed"
    assert cond.reason == "R"


@pytest.mark.parametrize("selector,labels", [
    (LabelSelector({"app": "web"}), {"app": "web", "x": "y"}),
    (LabelSelector({"app": "web"}), {"app": "db"}),
    (LabelSelector({"app": "web"}), {}),
    (LabelSelector({"app": "web", "tier": "a"}), {"app": "web"}),
    (LabelSelector(), {"app": "web"}),
    (LabelSelector({"app": "web"}, [LabelSelectorRequirement("tier", "In", ["a", "b"])]), {"app": "web", "tier": "b"}),
    (LabelSelector({}, [LabelSelectorRequirement("tier", "NotIn", ["a"])]), {"tier": "a"}),
    (LabelSelector({}, [LabelSelectorRequirement("tier", "DoesNotExist")]), {"app": "web"}),
])
def test_compiled_selector_matches_as_the_selector_does(selector, labels):
    assert label_selector_as_selector(selector)(labels) == selector.matches(labels)


def test_compiled_selector_follows_the_selector_content():
    selector = LabelSelector({"app": "web"})
    assert label_selector_as_selector(selector)({"app": "web"})
    selector.match_labels["app"] = "db"  # a changed selector is a different matcher
    assert not label_selector_as_selector(selector)({"app": "web"})
    selector.match_expressions.append(LabelSelectorRequirement("tier", "Bad", []))
    for _ in range(2):  # an invalid selector raises every time (it is not kept)
        with pytest.raises(SelectorError, match='"Bad" is not a valid label selector operator'):
            label_selector_as_selector(selector)
