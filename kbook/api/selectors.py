"""Label selectors: ``metav1.LabelSelector`` and how it matches a set of labels.

``matches`` follows ``metav1.LabelSelectorAsSelector`` and ``labels.Requirement.Matches``
(k8s.io/apimachinery/pkg/apis/meta/v1/helpers.go, pkg/labels/selector.go): an empty
selector matches everything, each ``matchLabels`` entry is an equality requirement, and
all requirements must hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

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
            errs = _requirement_errors(req)
            if errs:
                raise SelectorError(aggregate([str(e) for e in errs]))
        return reqs

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` satisfy every requirement (``Selector.Matches``)."""
        return all(req.matches(labels) for req in self.requirements())


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
