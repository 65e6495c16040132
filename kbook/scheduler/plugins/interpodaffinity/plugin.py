"""The InterPodAffinity plugin (``interpodaffinity/plugin.go``): the pod's required
affinity and anti-affinity to other pods and the existing pods' required anti-affinity
to it (Filter), and the preferred terms of both sides plus the existing pods' required
affinity (Score)."""

from __future__ import annotations

from typing import Any, Sequence

from kbook.api import Pod
from kbook.errors import FieldError
from kbook.scheduler.cyclestate import CycleState
from kbook.scheduler.plugins.helper import config_error, int_arg
from kbook.scheduler.plugins.interpodaffinity.common import (
    NAME,
    get_namespace_labels_snapshot,
    merge_affinity_term_namespaces_if_not_empty,
    pod_parse_error,
)
from kbook.scheduler.plugins.interpodaffinity.filtering import (
    PRE_FILTER_STATE_KEY,
    PreFilterState,
    filter_node,
    get_existing_anti_affinity_counts,
    get_incoming_affinity_anti_affinity_counts,
    get_pre_filter_state,
)
from kbook.scheduler.plugins.interpodaffinity.scoring import (
    PRE_SCORE_STATE_KEY,
    PreScoreState,
    append_scores,
    get_pre_score_state,
    node_topology_score,
    normalize_scores,
    score_node,
)
from kbook.scheduler.status import Code, Status
from kbook.scheduler.types import NodeInfo, NodeScore, PodInfo, PreFilterResult

__all__ = [
    "DEFAULT_HARD_POD_AFFINITY_WEIGHT",
    "MIN_HARD_POD_AFFINITY_WEIGHT",
    "MAX_HARD_POD_AFFINITY_WEIGHT",
    "InterPodAffinity",
    "new",
    "validate_args",
]

DEFAULT_HARD_POD_AFFINITY_WEIGHT = 1  # SetDefaults_InterPodAffinityArgs
MIN_HARD_POD_AFFINITY_WEIGHT = 0  # validateHardPodAffinityWeight
MAX_HARD_POD_AFFINITY_WEIGHT = 100


class InterPodAffinity:
    """PreFilter/Filter with PreFilterExtensions, PreScore/Score/NormalizeScore."""

    name = NAME

    def __init__(self, handle: Any, hard_pod_affinity_weight: int = DEFAULT_HARD_POD_AFFINITY_WEIGHT,
                 ignore_preferred_terms_of_existing_pods: bool = False) -> None:
        self.handle = handle
        self.hard_pod_affinity_weight = hard_pod_affinity_weight
        self.ignore_preferred_terms_of_existing_pods = ignore_preferred_terms_of_existing_pods

    def _namespaces(self) -> list[Any]:
        return list(self.handle.objects("Namespace")) if self.handle is not None else []

    # -- PreFilter, PreFilterExtensions, Filter -----------------------------------------

    def pre_filter(self, state: CycleState, pod: Pod) -> tuple[PreFilterResult | None, Status | None]:
        """``PreFilter``: count what Filter needs; Skip when the pod has no required terms
        and no existing pod's anti-affinity matches it."""
        snapshot = self.handle.snapshot
        parse_error = pod_parse_error(pod)
        if parse_error is not None:
            return None, Status.of(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, f"parsing pod: {parse_error}")
        pod_info = PodInfo(pod)
        namespaces = self._namespaces()
        pod_info.required_affinity_terms = [merge_affinity_term_namespaces_if_not_empty(t, namespaces)
                                            for t in pod_info.required_affinity_terms]
        pod_info.required_anti_affinity_terms = [merge_affinity_term_namespaces_if_not_empty(t, namespaces)
                                                 for t in pod_info.required_anti_affinity_terms]
        s = PreFilterState(pod_info=pod_info,
                           namespace_labels=get_namespace_labels_snapshot(pod.metadata.namespace, namespaces))
        s.existing_anti_affinity_counts = get_existing_anti_affinity_counts(
            pod, s.namespace_labels, snapshot.have_pods_with_required_anti_affinity_list)
        s.affinity_counts, s.anti_affinity_counts = get_incoming_affinity_anti_affinity_counts(
            pod_info, snapshot.node_info_list)
        if (not s.existing_anti_affinity_counts and not pod_info.required_affinity_terms
                and not pod_info.required_anti_affinity_terms):
            return None, Status(Code.SKIP)
        state.write(PRE_FILTER_STATE_KEY, s)
        return None, None

    def pre_filter_extensions(self) -> InterPodAffinity:
        return self

    def add_pod(self, state: CycleState, pod: Pod, pod_info_to_add: PodInfo, node_info: NodeInfo) -> Status | None:
        """``AddPod``: count a pod added to ``node_info`` (a nominated pod)."""
        s, status = get_pre_filter_state(state)
        if status is not None:
            return status
        s.update_with_pod(pod_info_to_add, node_info.node, 1)
        return None

    def remove_pod(self, state: CycleState, pod: Pod, pod_info_to_remove: PodInfo,
                   node_info: NodeInfo) -> Status | None:
        """``RemovePod``: uncount a pod removed from ``node_info`` (a preemption victim)."""
        s, status = get_pre_filter_state(state)
        if status is not None:
            return status
        s.update_with_pod(pod_info_to_remove, node_info.node, -1)
        return None

    def filter(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Status | None:
        """``Filter``."""
        s, status = get_pre_filter_state(state)
        if status is not None:
            return status
        return filter_node(s, node_info)

    # -- PreScore, Score, NormalizeScore ------------------------------------------------

    def pre_score(self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]) -> Status | None:
        """``PreScore``: Skip without nodes, or when the pod has no preferred terms and the
        existing pods' preferences are ignored, or when nothing scored anywhere."""
        if not nodes:
            return Status(Code.SKIP)
        snapshot = self.handle.snapshot if self.handle is not None else None
        if snapshot is None:
            return Status.of(Code.ERROR, "empty shared lister in InterPodAffinity PreScore")
        affinity = pod.spec.affinity
        has_preferred_affinity = (affinity is not None and affinity.pod_affinity is not None and bool(
            affinity.pod_affinity.preferred_during_scheduling_ignored_during_execution))
        has_preferred_anti_affinity = (affinity is not None and affinity.pod_anti_affinity is not None and bool(
            affinity.pod_anti_affinity.preferred_during_scheduling_ignored_during_execution))
        has_constraints = has_preferred_affinity or has_preferred_anti_affinity
        if self.ignore_preferred_terms_of_existing_pods and not has_constraints:
            return Status(Code.SKIP)
        all_nodes = snapshot.node_info_list if has_constraints else snapshot.have_pods_with_affinity_list

        parse_error = pod_parse_error(pod)
        if parse_error is not None:
            return Status.error(f"failed to parse pod: {parse_error}")
        pod_info = PodInfo(pod)
        namespaces = self._namespaces()
        for terms in (pod_info.preferred_affinity_terms, pod_info.preferred_anti_affinity_terms):
            for wt in terms:
                wt.term = merge_affinity_term_namespaces_if_not_empty(wt.term, namespaces)
        s = PreScoreState(pod_info=pod_info,
                          namespace_labels=get_namespace_labels_snapshot(pod.metadata.namespace, namespaces))
        scored_any = False
        for node_info in all_nodes:
            topo_score = node_topology_score(s, node_info, pod, has_constraints, self.hard_pod_affinity_weight)
            if topo_score:
                scored_any = True
                append_scores(s.topology_score, topo_score)
        if not scored_any:
            return Status(Code.SKIP)
        state.write(PRE_SCORE_STATE_KEY, s)
        return None

    def score(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> tuple[int, Status | None]:
        """``Score``: the raw sum of weights, normalized later."""
        s, status = get_pre_score_state(state)
        if status is not None:
            return 0, status
        return score_node(s, node_info), None

    def normalize_score(self, state: CycleState, pod: Pod, scores: list[NodeScore]) -> Status | None:
        """``NormalizeScore``."""
        s, status = get_pre_score_state(state)
        if status is not None:
            return status
        normalize_scores(s, scores)
        return None


# -- args ---------------------------------------------------------------------------------

def validate_args(hard_pod_affinity_weight: int) -> list[FieldError]:
    """``ValidateInterPodAffinityArgs`` (validation_pluginargs.go)."""
    w = hard_pod_affinity_weight
    if w < MIN_HARD_POD_AFFINITY_WEIGHT or w > MAX_HARD_POD_AFFINITY_WEIGHT:
        msg = f"not in valid range [{MIN_HARD_POD_AFFINITY_WEIGHT}, {MAX_HARD_POD_AFFINITY_WEIGHT}]"
        return [FieldError.invalid("hardPodAffinityWeight", w, msg)]
    return []


def new(args: dict[str, Any], handle: Any) -> InterPodAffinity:
    """The factory (``New``): ``hardPodAffinityWeight`` defaults to 1
    (``SetDefaults_InterPodAffinityArgs``) and must be in [0, 100];
    ``ignorePreferredTermsOfExistingPods`` defaults to false. Raises ``ConfigError`` with
    upstream's validation message."""
    for key in args:
        if key not in ("hardPodAffinityWeight", "ignorePreferredTermsOfExistingPods", "apiVersion", "kind"):
            raise config_error([f'unknown field "{key}"'])
    weight = args.get("hardPodAffinityWeight")
    weight = DEFAULT_HARD_POD_AFFINITY_WEIGHT if weight is None else int_arg(weight, "hardPodAffinityWeight")
    ignore = args.get("ignorePreferredTermsOfExistingPods")
    if ignore is None:
        ignore = False
    if not isinstance(ignore, bool):
        raise config_error([FieldError.invalid("ignorePreferredTermsOfExistingPods", ignore, "must be a boolean")])
    errs = validate_args(weight)
    if errs:
        raise config_error(errs)
    return InterPodAffinity(handle, weight, ignore)
