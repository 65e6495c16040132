"""What InterPodAffinity's filtering and scoring share (``interpodaffinity/plugin.go``):
the plugin name, namespace labels, and the incoming pod's terms with their
namespaceSelector resolved into namespace names."""

from __future__ import annotations

from typing import Any, Iterable

from kbook.api import Pod, SelectorError
from kbook.errors import aggregate
from kbook.scheduler.types import DEFAULT_NAMESPACE, AffinityTerm, Selector

__all__ = [
    "NAME",
    "pod_parse_error",
    "get_namespace_labels_snapshot",
    "merge_affinity_term_namespaces_if_not_empty",
]

NAME = "InterPodAffinity"  # names.InterPodAffinity


def _first_selector_error(terms: Iterable[Any]) -> str | None:
    """``getAffinityTerms``: the first term whose label or namespace selector fails to parse."""
    for term in terms:
        try:
            Selector.of(term.label_selector)
            Selector.of(term.namespace_selector)
        except SelectorError as e:
            return str(e)
    return None


def pod_parse_error(pod: Pod) -> str | None:
    """The error ``framework.NewPodInfo`` returns for the pod's affinity terms
    (``requiredAffinityTerms: ...``, aggregated over the four kinds), or None."""
    a = pod.spec.affinity
    aff = a.pod_affinity if a is not None else None
    anti = a.pod_anti_affinity if a is not None else None
    groups = (
        ("requiredAffinityTerms", aff.required_during_scheduling_ignored_during_execution if aff else []),
        ("requiredAntiAffinityTerms", anti.required_during_scheduling_ignored_during_execution if anti else []),
        ("preferredAffinityTerms", [w.pod_affinity_term for w in
                                    (aff.preferred_during_scheduling_ignored_during_execution if aff else [])]),
        ("preferredAntiAffinityTerms", [w.pod_affinity_term for w in
                                        (anti.preferred_during_scheduling_ignored_during_execution if anti else [])]),
    )
    errs = [f"{name}: {err}" for name, terms in groups if (err := _first_selector_error(terms)) is not None]
    return aggregate(errs) if errs else None


def get_namespace_labels_snapshot(namespace: str, namespaces: Iterable[Any]) -> dict[str, str]:
    """``GetNamespaceLabelsSnapshot``: a copy of the namespace's labels; an unknown
    namespace has none. (Where upstream passes a nil ``labels.Set`` kbook passes ``{}``:
    both match an empty namespaceSelector and nothing needing a label.)"""
    for ns in namespaces:
        if ns.metadata.name == (namespace or DEFAULT_NAMESPACE):
            return dict(ns.metadata.labels)
    return {}


def merge_affinity_term_namespaces_if_not_empty(term: AffinityTerm, namespaces: Iterable[Any]) -> AffinityTerm:
    """``mergeAffinityTermNamespacesIfNotEmpty``: for an incoming pod's term, add the names
    of the namespaces its namespaceSelector selects and make the selector Nothing, so
    matching never needs the other pod's namespace labels. An empty selector (all
    namespaces) is kept as it is."""
    if term.namespace_selector.is_everything():
        return term
    selected = {ns.metadata.name for ns in namespaces if term.namespace_selector.matches(ns.metadata.labels)}
    return AffinityTerm(term.namespaces | selected, term.selector, term.topology_key, Selector(None))

