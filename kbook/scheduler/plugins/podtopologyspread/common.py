"""What PodTopologySpread's filtering and scoring share (``podtopologyspread/common.go``):
the parsed constraint, which constraints of a pod apply, which nodes count, and how many
matching pods a node holds.

Feature gates are taken at their v1.28 defaults: ``MinDomainsInPodTopologySpread``,
``NodeInclusionPolicyInPodTopologySpread`` and ``MatchLabelKeysInPodTopologySpread`` on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from kbook.api import LabelSelectorRequirement, Node, Pod, TopologySpreadConstraint
from kbook.scheduler.plugins.helper import do_not_schedule_taints_filter
from kbook.scheduler.plugins.nodeaffinity import RequiredNodeAffinity
from kbook.scheduler.plugins.tainttoleration import find_matching_untolerated_taint
from kbook.scheduler.types import DEFAULT_NAMESPACE, PodInfo, Selector

__all__ = [
    "NAME",
    "LABEL_HOSTNAME",
    "LABEL_TOPOLOGY_ZONE",
    "DO_NOT_SCHEDULE",
    "SCHEDULE_ANYWAY",
    "NODE_INCLUSION_POLICY_HONOR",
    "NODE_INCLUSION_POLICY_IGNORE",
    "SpreadConstraint",
    "filter_topology_spread_constraints",
    "merge_label_set_with_selector",
    "node_labels_match_spread_constraints",
    "count_pods_match_selector",
    "namespace_of",
]

NAME = "PodTopologySpread"  # names.PodTopologySpread
LABEL_HOSTNAME = "kubernetes.io/hostname"  # v1.LabelHostname
LABEL_TOPOLOGY_ZONE = "topology.kubernetes.io/zone"  # v1.LabelTopologyZone
DO_NOT_SCHEDULE = "DoNotSchedule"  # v1.DoNotSchedule
SCHEDULE_ANYWAY = "ScheduleAnyway"  # v1.ScheduleAnyway
NODE_INCLUSION_POLICY_HONOR = "Honor"  # v1.NodeInclusionPolicyHonor
NODE_INCLUSION_POLICY_IGNORE = "Ignore"  # v1.NodeInclusionPolicyIgnore


def namespace_of(pod: Pod) -> str:
    """The pod's namespace, ``default`` when unset (as :class:`AffinityTerm` reads it)."""
    return pod.metadata.namespace or DEFAULT_NAMESPACE


@dataclass
class SpreadConstraint:
    """``topologySpreadConstraint``: a pod's constraint with its selector parsed and the
    nil fields resolved (minDomains 1, nodeAffinityPolicy Honor, nodeTaintsPolicy Ignore)."""

    max_skew: int
    topology_key: str
    selector: Selector
    min_domains: int = 1
    node_affinity_policy: str = NODE_INCLUSION_POLICY_HONOR
    node_taints_policy: str = NODE_INCLUSION_POLICY_IGNORE

    def match_node_inclusion_policies(self, pod: Pod, node: Node,
                                      required_node_affinity: RequiredNodeAffinity) -> bool:
        """``matchNodeInclusionPolicies``: with Honor, a node that the pod's required node
        affinity (nodeSelector and required terms) rejects, or whose NoSchedule/NoExecute
        taints the pod does not tolerate, is not counted."""
        if self.node_affinity_policy == NODE_INCLUSION_POLICY_HONOR and not required_node_affinity.match(node):
            return False
        if self.node_taints_policy == NODE_INCLUSION_POLICY_HONOR and _has_untolerated_do_not_schedule_taint(pod, node):
            return False
        return True


def _has_untolerated_do_not_schedule_taint(pod: Pod, node: Node) -> bool:
    """``FindMatchingUntoleratedTaint(taints, tolerations, DoNotScheduleTaintsFilterFunc())``."""
    return find_matching_untolerated_taint(node.spec.taints, pod.spec.tolerations,
                                           do_not_schedule_taints_filter) is not None


def filter_topology_spread_constraints(constraints: Iterable[TopologySpreadConstraint],
                                       pod_labels: Mapping[str, str], action: str) -> list[SpreadConstraint]:
    """``filterTopologySpreadConstraints``: the constraints whose ``whenUnsatisfiable`` is
    ``action``, parsed; ``matchLabelKeys`` present on the pod are ANDed into the selector.
    Raises :class:`kbook.api.SelectorError` for a selector ``LabelSelectorAsSelector`` refuses."""
    result = []
    for c in constraints:
        if c.when_unsatisfiable != action:
            continue
        selector = Selector.of(c.label_selector)
        if c.match_label_keys:
            match_labels = {k: pod_labels[k] for k in c.match_label_keys if k in pod_labels}
            if match_labels:
                selector = merge_label_set_with_selector(match_labels, selector)
        tsc = SpreadConstraint(c.max_skew, c.topology_key, selector)
        if c.min_domains is not None:
            tsc.min_domains = c.min_domains
        if c.node_affinity_policy is not None:
            tsc.node_affinity_policy = c.node_affinity_policy
        if c.node_taints_policy is not None:
            tsc.node_taints_policy = c.node_taints_policy
        result.append(tsc)
    return result


def merge_label_set_with_selector(match_labels: Mapping[str, str], selector: Selector) -> Selector:
    """``mergeLabelSetWithSelector``: ``labels.SelectorFromSet(matchLabels)`` plus the
    selector's requirements; a Nothing selector stays Nothing."""
    if selector.is_nothing():
        return selector
    merged = [LabelSelectorRequirement(k, "=", [v]) for k, v in sorted(match_labels.items())]
    return Selector(merged + list(selector.requirements))


def node_labels_match_spread_constraints(node_labels: Mapping[str, str],
                                         constraints: Sequence[SpreadConstraint]) -> bool:
    """``nodeLabelsMatchSpreadConstraints``: the node carries every constraint's topology key."""
    return all(c.topology_key in node_labels for c in constraints)


def count_pods_match_selector(pod_infos: Iterable[PodInfo], selector: Selector, namespace: str) -> int:
    """``countPodsMatchSelector``: pods in ``namespace``, not terminating, matching the
    selector. An empty selector (``labels.Everything()``) counts nothing, as upstream's
    ``selector.Empty()`` shortcut does."""
    if selector.is_everything():
        return 0
    count = 0
    for info in pod_infos:
        pod = info.pod
        if pod.metadata.deletion_timestamp is not None or namespace_of(pod) != namespace:
            continue
        if selector.matches(pod.metadata.labels):
            count += 1
    return count
