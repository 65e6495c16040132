"""Label and field selectors as a LIST or WATCH sends them: ``labels.Parse``
(apimachinery ``pkg/labels/selector.go``: ``app=web,tier!=db,env in (a,b),!x``) and
``fields.ParseSelector`` (``pkg/fields/selector.go``: ``spec.nodeName=n1``), with the
field labels each kind supports (``AddFieldLabelConversionsFor*`` in ``pkg/apis/core/v1``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from kbook.api import KubeObject, LabelSelector, LabelSelectorRequirement, Namespace, Node, Pod, SelectorError
from kbook.controlplane.apiserver.types import BadRequest

__all__ = ["Matcher", "parse_label_selector", "parse_field_selector", "object_fields", "matcher"]

Matcher = Callable[[KubeObject], bool]

_TOKEN = re.compile(r"\s*(?:(!=|==|=|!|\(|\)|,)|([^\s,()!=<>]+))")


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            if text[pos:].strip():
                raise BadRequest(f"unable to parse requirement: found '{text[pos:].strip()[0]}', expected: identifier")
            break
        out.append(m.group(1) or m.group(2))
        pos = m.end()
    return out


class _Parser:
    """The recursive-descent parser of ``labels.Parse``, over the tokens above."""

    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> str:
        return self.toks[self.i] if self.i < len(self.toks) else ""

    def take(self) -> str:
        tok = self.peek()
        self.i += 1
        return tok

    def expect_identifier(self, after: str) -> str:
        tok = self.take()
        if tok in ("", "!=", "==", "=", "!", "(", ")", ","):
            raise BadRequest(f"unable to parse requirement: found '{tok}', expected: identifier{after}")
        return tok

    def requirement(self) -> LabelSelectorRequirement:
        if self.peek() == "!":
            self.take()
            return LabelSelectorRequirement(self.expect_identifier(" after '!'"), "DoesNotExist")
        key = self.expect_identifier("")
        op = self.peek()
        if op in ("", ","):
            return LabelSelectorRequirement(key, "Exists")
        self.take()
        if op in ("=", "=="):
            return LabelSelectorRequirement(key, "In", [self.exact_value()])
        if op == "!=":
            return LabelSelectorRequirement(key, "NotIn", [self.exact_value()])
        if op in ("in", "notin"):
            return LabelSelectorRequirement(key, "In" if op == "in" else "NotIn", self.values())
        raise BadRequest(f"unable to parse requirement: found '{op}', expected: in, notin, =, ==, !=, gt, lt")

    def exact_value(self) -> str:
        return "" if self.peek() in ("", ",") else self.expect_identifier(" for value")

    def values(self) -> list[str]:
        tok = self.take()
        if tok != "(":
            raise BadRequest(f"unable to parse requirement: found '{tok}', expected: '('")
        out: list[str] = []
        while True:
            tok = self.take()
            if tok == ")":
                return out or [""]
            if tok == ",":
                continue
            if tok in ("", "!=", "==", "=", "!", "("):
                raise BadRequest(f"unable to parse requirement: found '{tok}', expected: ',', ')' or identifier")
            out.append(tok)


def parse_label_selector(text: str | None) -> LabelSelector:
    """``labels.Parse``: the requirements of a selector string, validated (keys are
    qualified names, values label values); an invalid one is a BadRequest."""
    reqs: list[LabelSelectorRequirement] = []
    parser = _Parser(text or "")
    while parser.peek():
        reqs.append(parser.requirement())
        sep = parser.take()
        if sep not in ("", ","):
            raise BadRequest(f"unable to parse requirement: found '{sep}', expected: ','")
    selector = LabelSelector(match_expressions=reqs)
    try:
        selector.requirements()
    except SelectorError as e:
        raise BadRequest(f"unable to parse requirement: {e}") from None
    return selector


def _term(term: str) -> tuple[str, str, str]:
    """``splitTerm``: the first ``!=``, ``==`` or ``=`` splits a term."""
    for i in range(len(term)):
        for op in ("!=", "==", "="):
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op):]
    raise BadRequest(f"invalid selector: '{term}'; can't understand '{term}'")


def parse_field_selector(text: str | None) -> list[tuple[str, bool, str]]:
    """``fields.ParseSelector``: ``(field, equal, value)`` terms, all of which must hold."""
    if not text:
        return []
    terms = []
    for term in text.split(","):
        if term:
            field, op, value = _term(term)
            terms.append((field, op != "!=", value))
    return terms


_POD_FIELDS: dict[str, Callable[[Pod], str]] = {
    "spec.nodeName": lambda p: p.spec.node_name,
    "spec.restartPolicy": lambda p: p.spec.restart_policy,
    "spec.schedulerName": lambda p: p.spec.scheduler_name,
    "spec.serviceAccountName": lambda p: p.spec.service_account_name,
    "status.phase": lambda p: p.status.phase,
    "status.podIP": lambda p: p.status.pod_ip,
    "status.nominatedNodeName": lambda p: p.status.nominated_node_name,
}
_NODE_FIELDS: dict[str, Callable[[Node], str]] = {"spec.unschedulable": lambda n: str(n.spec.unschedulable).lower()}
_NAMESPACE_FIELDS: dict[str, Callable[[Namespace], str]] = {"status.phase": lambda n: n.status.phase}
_KIND_FIELDS: dict[type, dict] = {Pod: _POD_FIELDS, Node: _NODE_FIELDS, Namespace: _NAMESPACE_FIELDS}


def object_fields(obj: KubeObject) -> dict[str, str]:
    """The field set a field selector sees (``<kind>ToSelectableFields``)."""
    fields = {"metadata.name": obj.metadata.name}
    if obj.NAMESPACED:
        fields["metadata.namespace"] = obj.metadata.namespace
    for name, get in _KIND_FIELDS.get(type(obj), {}).items():
        fields[name] = get(obj)
    return fields


def _check_fields(cls: type[KubeObject], terms: list[tuple[str, bool, str]]) -> None:
    """The field label conversion: unknown fields are a BadRequest in upstream's words."""
    known = {"metadata.name", "metadata.namespace", *_KIND_FIELDS.get(cls, {})}
    for field, _, _ in terms:
        if field in known:
            continue
        if cls in _KIND_FIELDS:
            raise BadRequest(f"field label not supported: {field}")
        raise BadRequest(f'"{field}" is not a known field selector: only "metadata.name", "metadata.namespace"')


def matcher(cls: type[KubeObject], label_selector: str | None, field_selector: str | None) -> Matcher:
    """A predicate for LIST and WATCH (``storage.SelectionPredicate``); raises BadRequest
    for a selector that does not parse or names an unsupported field."""
    labels = parse_label_selector(label_selector)
    terms = parse_field_selector(field_selector)
    _check_fields(cls, terms)

    def matches(obj: KubeObject) -> bool:
        if not labels.matches(obj.metadata.labels):
            return False
        fields = object_fields(obj)
        return all((fields.get(f, "") == v) == equal for f, equal, v in terms)

    return matches
