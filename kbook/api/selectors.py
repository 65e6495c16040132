"""Label selectors: ``metav1.LabelSelector`` and how it matches a set of labels.

``matches`` follows ``metav1.LabelSelectorAsSelector`` and ``labels.Requirement.Matches``
(k8s.io/apimachinery/pkg/apis/meta/v1/helpers.go, pkg/labels/selector.go): an empty
selector matches everything, each ``matchLabels`` entry is an equality requirement, and
all requirements must hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from kbook.api.formats import is_qualified_name, is_valid_label_value
from kbook.api.model import KubeModel, Path
from kbook.errors import FieldError, KbookError, aggregate

__all__ = ["LabelSelector", "LabelSelectorRequirement", "SelectorError", "OPERATORS"]

# metav1.LabelSelectorOperator values, in the order upstream lists them.
OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


class SelectorError(KbookError, ValueError):
    """A selector that ``LabelSelectorAsSelector`` cannot turn into a ``labels.Selector``."""


@dataclass
class LabelSelectorRequirement(KubeModel):
    """``metav1.LabelSelectorRequirement``: ``key`` ``operator`` ``values``."""

    key: str = ""
    operator: str = ""
    values: list[str] = field(default_factory=list)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """``Requirement.Matches``."""
        present = self.key in labels
        if self.operator in ("In", "="):
            return present and labels[self.key] in self.values
        if self.operator == "NotIn":
            return not present or labels[self.key] not in self.values
        if self.operator == "Exists":
            return present
        return not present  # DoesNotExist


@dataclass
class LabelSelector(KubeModel):
    """``metav1.LabelSelector``: ``matchLabels`` and ``matchExpressions``, ANDed."""

    match_labels: dict[str, str] = field(default_factory=dict)
    match_expressions: list[LabelSelectorRequirement] = field(default_factory=list)

    def is_empty(self) -> bool:
        """An empty selector matches every object (``labels.Everything()``)."""
        return not self.match_labels and not self.match_expressions

    def requirements(self) -> list[LabelSelectorRequirement]:
        """``LabelSelectorAsSelector``: the requirements, checked as ``labels.NewRequirement``
        checks them; raises :class:`SelectorError` with upstream's message when invalid."""
        reqs = [LabelSelectorRequirement(k, "=", [v]) for k, v in sorted(self.match_labels.items())]
        for expr in self.match_expressions:
            if expr.operator not in OPERATORS:
                raise SelectorError(f'"{expr.operator}" is not a valid label selector operator')
            reqs.append(expr)
        for req in reqs:
            if not _is_valid(req.key, req.operator, tuple(req.values)):
                raise SelectorError(aggregate([str(e) for e in _requirement_errors(req)]))
        return reqs

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` satisfy every requirement (``Selector.Matches``); raises as
        :meth:`requirements` does for an invalid selector."""
        valid = all(_is_valid(k, "=", (v,)) for k, v in self.match_labels.items()) and all(
            e.operator in OPERATORS and _is_valid(e.key, e.operator, tuple(e.values)) for e in self.match_expressions)
        if not valid:
            self.requirements()  # raises the error upstream reports first
        return all(k in labels and labels[k] == v for k, v in self.match_labels.items()) and all(
            e.matches(labels) for e in self.match_expressions)


@lru_cache(maxsize=4096)
def _is_valid(key: str, operator: str, values: tuple[str, ...]) -> bool:
    """Whether ``labels.NewRequirement`` accepts a requirement, remembered (selectors are
    checked on every match and a cluster's are few)."""
    return not _requirement_errors(LabelSelectorRequirement(key, operator, list(values)))


def _requirement_errors(req: LabelSelectorRequirement) -> list[FieldError]:
    """``labels.NewRequirement``'s checks."""
    errs = []
    key_errs = is_qualified_name(req.key)
    if key_errs:
        errs.append(FieldError.invalid("key", req.key, "; ".join(key_errs)))
    values = Path("values")
    detail = ""
    if req.operator in ("In", "NotIn") and not req.values:
        detail = "for 'in', 'notin' operators, values set can't be empty"
    elif req.operator == "=" and len(req.values) != 1:
        detail = "exact-match compatibility requires one single value"
    elif req.operator in ("Exists", "DoesNotExist") and req.values:
        detail = "values set must be empty for exists and does not exist"
    if detail:
        errs.append(FieldError.invalid(str(values), req.values, detail))
    for i, value in enumerate(req.values):
        value_errs = is_valid_label_value(value)
        if value_errs:
            errs.append(FieldError.invalid(str(values.index(i).key(req.key)), value, "; ".join(value_errs)))
    return errs
