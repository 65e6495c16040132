"""NodeAffinity (plugins/nodeaffinity, with component-helpers' ``scheduling/corev1/nodeaffinity``):
Filter by ``spec.nodeSelector`` and required node affinity (plus the profile's
``addedAffinity``), Score by the weights of the preferred terms a node matches.

Node selector terms are ORed; the requirements inside a term are ANDed; a term with
neither expressions nor fields matches nothing; a term with an invalid requirement never
matches (its parse error is ignored for the pod, but refused in ``addedAffinity``).
``matchFields`` knows only ``metadata.name`` with ``In``/``NotIn`` and one value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from kbook.api import Node, NodeAffinity as NodeAffinitySpec, NodeSelector as NodeSelectorSpec
from kbook.api import NodeSelectorRequirement, NodeSelectorTerm, Pod, PreferredSchedulingTerm
from kbook.api.formats import is_qualified_name, is_valid_label_value
from kbook.api.model import Path
from kbook.errors import FieldError, aggregate
from kbook.scheduler.cyclestate import CycleState, NotFoundError
from kbook.scheduler.interface import Handle
from kbook.scheduler.plugins.helper import config_error, default_normalize_score, int_arg
from kbook.scheduler.status import MAX_NODE_SCORE, Code, Status
from kbook.scheduler.types import NodeInfo, NodeScore, PreFilterResult

__all__ = [
    "NAME",
    "ERR_REASON_POD",
    "NodeSelector",
    "PreferredSchedulingTerms",
    "RequiredNodeAffinity",
    "node_selector_term_matches",
    "NodeAffinity",
    "new",
]

NAME = "NodeAffinity"
PRE_FILTER_STATE_KEY = "PreFilter" + NAME
PRE_SCORE_STATE_KEY = "PreScore" + NAME
ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector"
ERR_REASON_ENFORCED = "node(s) didn't match scheduler-enforced node affinity"
ERR_REASON_CONFLICT = "pod affinity terms conflict"
OBJECT_NAME_FIELD = "metadata.name"  # metav1.ObjectNameField

VALID_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")
VALID_FIELD_SELECTOR_OPERATORS = ("In", "NotIn")

_INT64 = re.compile(r"[+-]?[0-9]+")


def _parse_int64(s: str) -> int | None:
    """``strconv.ParseInt(s, 10, 64)``, None on error."""
    if not _INT64.fullmatch(s):
        return None
    n = int(s)
    return n if -(2**63) <= n < 2**63 else None


@dataclass(frozen=True)
class _LabelRequirement:
    """``labels.Requirement`` of a node selector (with ``Gt``/``Lt``)."""

    key: str
    operator: str
    values: tuple[str, ...]

    def matches(self, labels: Mapping[str, str]) -> bool:
        """``Requirement.Matches``."""
        has = self.key in labels
        if self.operator == "In":
            return has and labels[self.key] in self.values
        if self.operator == "NotIn":
            return not has or labels[self.key] not in self.values
        if self.operator == "Exists":
            return has
        if self.operator == "DoesNotExist":
            return not has
        value = _parse_int64(labels[self.key]) if has else None
        if value is None:
            return False
        bound = _parse_int64(self.values[0])
        return value > bound if self.operator == "Gt" else value < bound  # type: ignore[operator]


def _label_requirement(expr: NodeSelectorRequirement, path: Path) -> tuple[_LabelRequirement | None, list[FieldError]]:
    """``nodeSelectorRequirementsAsSelector`` for one expression, with ``labels.NewRequirement``'s checks."""
    if expr.operator not in VALID_SELECTOR_OPERATORS:
        return None, [FieldError.not_supported(str(path.child("operator")), expr.operator,
                                               list(VALID_SELECTOR_OPERATORS))]
    errs = []
    key_errs = is_qualified_name(expr.key)
    if key_errs:
        errs.append(FieldError.invalid(str(path.child("key")), expr.key, "; ".join(key_errs)))
    values = path.child("values")
    detail = ""
    if expr.operator in ("In", "NotIn") and not expr.values:
        detail = "for 'in', 'notin' operators, values set can't be empty"
    elif expr.operator in ("Exists", "DoesNotExist") and expr.values:
        detail = "values set must be empty for exists and does not exist"
    elif expr.operator in ("Gt", "Lt") and len(expr.values) != 1:
        detail = "for 'Gt', 'Lt' operators, exactly one value is required"
    if detail:
        errs.append(FieldError.invalid(str(values), expr.values, detail))
    if expr.operator in ("Gt", "Lt"):
        errs += [FieldError.invalid(str(values.index(i)), v, "for 'Gt', 'Lt' operators, the value must be an integer")
                 for i, v in enumerate(expr.values) if _parse_int64(v) is None]
    for i, v in enumerate(expr.values):
        value_errs = is_valid_label_value(v)
        if value_errs:
            errs.append(FieldError.invalid(str(values.index(i).key(expr.key)), v, "; ".join(value_errs)))
    return (None if errs else _LabelRequirement(expr.key, expr.operator, tuple(expr.values))), errs


def _field_requirement(expr: NodeSelectorRequirement,
                       path: Path) -> tuple[tuple[str, str, str] | None, list[FieldError]]:
    """``nodeSelectorRequirementsAsFieldSelector`` for one expression: (key, op, value)."""
    if expr.operator not in VALID_FIELD_SELECTOR_OPERATORS:
        return None, [FieldError.not_supported(str(path.child("operator")), expr.operator,
                                               list(VALID_FIELD_SELECTOR_OPERATORS))]
    if len(expr.values) != 1:
        return None, [FieldError.invalid(str(path.child("values")), expr.values, "must have one element")]
    return (expr.key, expr.operator, expr.values[0]), []


class _Term:
    """``nodeSelectorTerm``: parsed label and field requirements, or the parse errors."""

    __slots__ = ("labels", "fields", "errors")

    def __init__(self, term: NodeSelectorTerm, path: Path) -> None:
        self.labels: list[_LabelRequirement] | None = None
        self.fields: list[tuple[str, str, str]] | None = None
        self.errors: list[FieldError] = []
        if term.match_expressions:
            p = path.child("matchExpressions")
            parsed = [_label_requirement(e, p.index(i)) for i, e in enumerate(term.match_expressions)]
            self.labels = [r for r, _ in parsed if r is not None]
            self.errors += [e for _, errs in parsed for e in errs]
        if term.match_fields:
            p = path.child("matchFields")
            parsed_fields = [_field_requirement(e, p.index(i)) for i, e in enumerate(term.match_fields)]
            self.fields = [r for r, _ in parsed_fields if r is not None]
            self.errors += [e for _, errs in parsed_fields for e in errs]

    def match(self, labels: Mapping[str, str], fields: Mapping[str, str]) -> bool:
        """``nodeSelectorTerm.match``; fields are not checked on a node without a name."""
        if self.errors:
            return False
        if self.labels is not None and not all(r.matches(labels) for r in self.labels):
            return False
        if self.fields is not None and fields and not all(
                (fields.get(key, "") == value) == (op == "In") for key, op, value in self.fields):
            return False
        return True


def _is_empty(term: NodeSelectorTerm) -> bool:
    """``isEmptyNodeSelectorTerm``."""
    return not term.match_expressions and not term.match_fields


def _node_fields(node: Node) -> dict[str, str]:
    """``extractNodeFields``."""
    return {OBJECT_NAME_FIELD: node.metadata.name} if node.metadata.name else {}


class NodeSelector:
    """``LazyErrorNodeSelector``: empty terms dropped; ``errors`` holds every term's parse
    errors (``NewNodeSelector`` refuses a selector that has any)."""

    def __init__(self, ns: NodeSelectorSpec, path: Path = Path()) -> None:
        p = path.child("nodeSelectorTerms")
        self.terms = [_Term(t, p.index(i)) for i, t in enumerate(ns.node_selector_terms) if not _is_empty(t)]
        self.errors = [e for t in self.terms for e in t.errors]

    def match(self, node: Node | None) -> bool:
        """``Match``: some term matches (terms with parse errors never do)."""
        if node is None:
            return False
        labels, fields = node.metadata.labels, _node_fields(node)
        return any(t.match(labels, fields) for t in self.terms)


class PreferredSchedulingTerms:
    """``PreferredSchedulingTerms``: weighted terms, zero-weight and empty ones dropped."""

    def __init__(self, terms: Sequence[PreferredSchedulingTerm], path: Path = Path()) -> None:
        self.terms: list[tuple[_Term, int]] = []
        self.errors: list[FieldError] = []
        for i, t in enumerate(terms):
            if t.weight == 0 or _is_empty(t.preference):
                continue
            parsed = _Term(t.preference, path.index(i))
            if parsed.errors:
                self.errors += parsed.errors
            else:
                self.terms.append((parsed, t.weight))

    def score(self, node: Node) -> int:
        """``Score``: the sum of the weights of the matching terms."""
        labels, fields = node.metadata.labels, _node_fields(node)
        return sum(weight for term, weight in self.terms if term.match(labels, fields))


class RequiredNodeAffinity:
    """``GetRequiredNodeAffinity``: the pod's ``nodeSelector`` AND its required node affinity."""

    def __init__(self, pod: Pod) -> None:
        self.node_selector = dict(pod.spec.node_selector)
        affinity = pod.spec.affinity
        required = affinity.node_affinity.required_during_scheduling_ignored_during_execution \
            if affinity is not None and affinity.node_affinity is not None else None
        self.affinity = NodeSelector(required) if required is not None else None

    def match(self, node: Node) -> bool:
        """``RequiredNodeAffinity.Match`` (parse errors mean no match)."""
        labels = node.metadata.labels
        if any(labels.get(k) != v for k, v in self.node_selector.items()):
            return False
        return self.affinity is None or self.affinity.match(node)


def node_selector_term_matches(term: NodeSelectorTerm, node: Node) -> bool:
    """Whether one node selector term matches a node (an empty term matches nothing)."""
    return not _is_empty(term) and _Term(term, Path()).match(node.metadata.labels, _node_fields(node))


def _pod_preferred_terms(pod: Pod) -> PreferredSchedulingTerms | None:
    """``getPodPreferredNodeAffinity``."""
    affinity = pod.spec.affinity
    if affinity is None or affinity.node_affinity is None:
        return None
    terms = affinity.node_affinity.preferred_during_scheduling_ignored_during_execution
    return PreferredSchedulingTerms(terms) if terms else None


class NodeAffinity:
    """``NodeAffinity``: PreFilter, Filter, PreScore, Score, NormalizeScore."""

    name = NAME

    def __init__(self, added_node_selector: NodeSelector | None = None,
                 added_pref_sched_terms: PreferredSchedulingTerms | None = None) -> None:
        self.added_node_selector = added_node_selector
        self.added_pref_sched_terms = added_pref_sched_terms

    def pre_filter(self, state: CycleState, pod: Pod) -> tuple[PreFilterResult | None, Status | None]:
        """``Skip`` when there is nothing to check; else store the parsed requirements and,
        when every term names nodes with ``metadata.name In``, narrow the cycle to them."""
        affinity = pod.spec.affinity
        required = affinity.node_affinity.required_during_scheduling_ignored_during_execution \
            if affinity is not None and affinity.node_affinity is not None else None
        if required is None and self.added_node_selector is None and not pod.spec.node_selector:
            return None, Status.of(Code.SKIP)
        state.write(PRE_FILTER_STATE_KEY, RequiredNodeAffinity(pod))
        if required is None or not required.node_selector_terms:
            return None, None
        node_names: set[str] | None = None
        for term in required.node_selector_terms:
            term_names: set[str] | None = None
            for r in term.match_fields:
                if r.key == OBJECT_NAME_FIELD and r.operator == "In":  # ANDed: intersect
                    term_names = set(r.values) if term_names is None else term_names & set(r.values)
            if term_names is None:  # this term may match any node, and terms are ORed
                return None, None
            node_names = term_names if node_names is None else node_names | term_names
        if node_names is not None and not node_names:
            return None, Status.of(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_REASON_CONFLICT)
        return (PreFilterResult(node_names), None) if node_names else (None, None)

    def pre_filter_extensions(self) -> None:
        return None

    def filter(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Status | None:
        """The profile's added affinity first, then the pod's own; both unresolvable."""
        node = node_info.node
        if node is None:
            return Status.error("node not found")
        if self.added_node_selector is not None and not self.added_node_selector.match(node):
            return Status.of(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_REASON_ENFORCED)
        try:
            required = state.read(PRE_FILTER_STATE_KEY)
        except NotFoundError:  # PreFilter disabled
            required = RequiredNodeAffinity(pod)
        return None if required.match(node) else Status.of(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_REASON_POD)

    def pre_score(self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]) -> Status | None:
        """``Skip`` when neither the pod nor the profile prefers anything."""
        preferred = _pod_preferred_terms(pod)
        if preferred is not None and preferred.errors:
            return Status.error(aggregate([str(e) for e in preferred.errors]))
        if preferred is None and self.added_pref_sched_terms is None:
            return Status.of(Code.SKIP)
        state.write(PRE_SCORE_STATE_KEY, preferred)
        return None

    def score(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> tuple[int, Status | None]:
        """The weights of the matching preferred terms, the profile's and the pod's."""
        node = node_info.node
        count = self.added_pref_sched_terms.score(node) if self.added_pref_sched_terms is not None else 0
        try:
            preferred = state.read(PRE_SCORE_STATE_KEY)
        except NotFoundError:  # PreScore disabled
            preferred = _pod_preferred_terms(pod)
            if preferred is not None and preferred.errors:
                return 0, Status.error(aggregate([str(e) for e in preferred.errors]))
        if preferred is not None:
            count += preferred.score(node)
        return count, None

    def normalize_score(self, state: CycleState, pod: Pod, scores: list[NodeScore]) -> Status | None:
        default_normalize_score(MAX_NODE_SCORE, False, scores)
        return None


# -- arguments ---------------------------------------------------------------------------


def _object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise config_error([FieldError.invalid(path, value, "must be an object")])
    return value


def _items(value: Any, path: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise config_error([FieldError.invalid(path, value, "must be a list")])
    return value


def _requirements(value: Any, path: str) -> list[NodeSelectorRequirement]:
    out = []
    for i, item in enumerate(_items(value, path)):
        r = _object(item, f"{path}[{i}]")
        key, op, values = r.get("key", ""), r.get("operator", ""), _items(r.get("values"), f"{path}[{i}].values")
        if not isinstance(key, str) or not isinstance(op, str) or not all(isinstance(v, str) for v in values):
            raise config_error([FieldError.invalid(f"{path}[{i}]", item, "must be {key, operator, values} of strings")])
        out.append(NodeSelectorRequirement(key, op, list(values)))
    return out


def _term(value: Any, path: str) -> NodeSelectorTerm:
    t = _object(value, path)
    return NodeSelectorTerm(_requirements(t.get("matchExpressions"), f"{path}.matchExpressions"),
                            _requirements(t.get("matchFields"), f"{path}.matchFields"))


def _added_affinity(value: Any) -> NodeAffinitySpec:
    """``addedAffinity`` (a ``v1.NodeAffinity``) from plugin args."""
    if isinstance(value, NodeAffinitySpec):
        return value
    a = _object(value, "addedAffinity")
    req_path, pref_path = ("addedAffinity.requiredDuringSchedulingIgnoredDuringExecution",
                           "addedAffinity.preferredDuringSchedulingIgnoredDuringExecution")
    required = None
    if a.get("requiredDuringSchedulingIgnoredDuringExecution") is not None:
        ns = _object(a["requiredDuringSchedulingIgnoredDuringExecution"], req_path)
        terms = _items(ns.get("nodeSelectorTerms"), f"{req_path}.nodeSelectorTerms")
        required = NodeSelectorSpec([_term(t, f"{req_path}.nodeSelectorTerms[{i}]") for i, t in enumerate(terms)])
    preferred = []
    for i, item in enumerate(_items(a.get("preferredDuringSchedulingIgnoredDuringExecution"), pref_path)):
        p = _object(item, f"{pref_path}[{i}]")
        preferred.append(PreferredSchedulingTerm(int_arg(p.get("weight", 0), f"{pref_path}[{i}].weight"),
                                                 _term(p.get("preference", {}), f"{pref_path}[{i}].preference")))
    return NodeAffinitySpec(required, preferred)


def new(args: dict[str, Any], handle: Handle | None) -> NodeAffinity:
    """``nodeaffinity.New``: ``addedAffinity`` checked as ``ValidateNodeAffinityArgs``."""
    if args.get("addedAffinity") is None:
        return NodeAffinity()
    added = _added_affinity(args["addedAffinity"])
    selector = terms = None
    errs: list[FieldError] = []
    if added.required_during_scheduling_ignored_during_execution is not None:
        selector = NodeSelector(added.required_during_scheduling_ignored_during_execution,
                                Path("addedAffinity").child("requiredDuringSchedulingIgnoredDuringExecution"))
        errs += selector.errors
    if added.preferred_during_scheduling_ignored_during_execution:
        terms = PreferredSchedulingTerms(added.preferred_during_scheduling_ignored_during_execution,
                                         Path("addedAffinity").child("preferredDuringSchedulingIgnoredDuringExecution"))
        errs += terms.errors
    if errs:
        raise config_error(errs)
    return NodeAffinity(selector, terms)
