"""The PodTopologySpread plugin (``podtopologyspread/plugin.go``): spreads matching pods
evenly over topology domains, as a hard rule (Filter, ``DoNotSchedule``) and as a
preference (Score, ``ScheduleAnyway``). Pods without constraints get the profile's
default constraints, their selector deduced from the Services and controllers that
select the pod (``DefaultSelector``)."""

from __future__ import annotations

from typing import Any, Sequence

from kbook.api import LabelSelector, Pod, SelectorError, TopologySpreadConstraint
from kbook.api.formats import is_qualified_name
from kbook.errors import FieldError
from kbook.scheduler.cyclestate import CycleState
from kbook.scheduler.plugins.helper import config_error, int_arg
from kbook.scheduler.plugins.nodeaffinity import RequiredNodeAffinity
from kbook.scheduler.plugins.podtopologyspread.common import (
    DO_NOT_SCHEDULE,
    LABEL_HOSTNAME,
    LABEL_TOPOLOGY_ZONE,
    NAME,
    SCHEDULE_ANYWAY,
    SpreadConstraint,
    filter_topology_spread_constraints,
)
from kbook.scheduler.plugins.podtopologyspread.default_selector import default_selector
from kbook.scheduler.plugins.podtopologyspread.filtering import (
    PRE_FILTER_STATE_KEY,
    cal_pre_filter_state,
    filter_node,
    get_pre_filter_state,
    update_with_pod,
)
from kbook.scheduler.plugins.podtopologyspread.scoring import (
    PRE_SCORE_STATE_KEY,
    PreScoreState,
    get_pre_score_state,
    init_pre_score_state,
    node_pod_counts,
    normalize_scores,
    score_node,
)
from kbook.scheduler.status import Code, Status
from kbook.scheduler.types import NodeInfo, NodeScore, PodInfo, PreFilterResult

__all__ = [
    "SYSTEM_DEFAULTING",
    "LIST_DEFAULTING",
    "SYSTEM_DEFAULT_CONSTRAINTS",
    "PodTopologySpread",
    "new",
    "validate_args",
]

SYSTEM_DEFAULTING = "System"  # config.SystemDefaulting
LIST_DEFAULTING = "List"  # config.ListDefaulting

# systemDefaultConstraints (plugin.go): used with defaultingType System.
SYSTEM_DEFAULT_CONSTRAINTS = (
    TopologySpreadConstraint(max_skew=3, topology_key=LABEL_HOSTNAME, when_unsatisfiable=SCHEDULE_ANYWAY),
    TopologySpreadConstraint(max_skew=5, topology_key=LABEL_TOPOLOGY_ZONE, when_unsatisfiable=SCHEDULE_ANYWAY),
)


class PodTopologySpread:
    """PreFilter/Filter with PreFilterExtensions, PreScore/Score/NormalizeScore."""

    name = NAME

    def __init__(self, handle: Any, default_constraints: Sequence[TopologySpreadConstraint],
                 system_defaulted: bool) -> None:
        self.handle = handle
        self.default_constraints = list(default_constraints)
        self.system_defaulted = system_defaulted

    # -- constraints --------------------------------------------------------------------

    def _objects(self, kind: str) -> list[Any]:
        return list(self.handle.objects(kind)) if self.handle is not None else []

    def build_default_constraints(self, pod: Pod, action: str) -> list[SpreadConstraint]:
        """``buildDefaultConstraints``: the default constraints for ``action``, all with the
        pod's ``DefaultSelector``; none if that selector is empty."""
        constraints = filter_topology_spread_constraints(self.default_constraints, pod.metadata.labels, action)
        if not constraints:
            return []
        selector = default_selector(pod, self._objects)
        if selector.is_everything():
            return []
        for c in constraints:
            c.selector = selector
        return constraints

    def get_constraints(self, pod: Pod, action: str) -> list[SpreadConstraint]:
        """The pod's own constraints for ``action``, or the default ones when it has none.
        Raises SelectorError wrapped as upstream words it."""
        hard = action == DO_NOT_SCHEDULE
        try:
            if pod.spec.topology_spread_constraints:
                return filter_topology_spread_constraints(pod.spec.topology_spread_constraints,
                                                          pod.metadata.labels, action)
        except SelectorError as e:
            raise SelectorError(f"obtaining pod's {'hard' if hard else 'soft'} topology spread constraints: {e}") from e
        try:
            return self.build_default_constraints(pod, action)
        except SelectorError as e:
            raise SelectorError(f"setting default {'hard' if hard else 'soft'} topology spread constraints: {e}") from e

    # -- PreFilter, PreFilterExtensions, Filter -----------------------------------------

    def pre_filter(self, state: CycleState, pod: Pod) -> tuple[PreFilterResult | None, Status | None]:
        """``PreFilter``: Skip when the pod has no hard constraints; else the counts."""
        try:
            constraints = self.get_constraints(pod, DO_NOT_SCHEDULE)
        except SelectorError as e:
            return None, Status.error(e)
        if not constraints:
            return None, Status(Code.SKIP)
        s = cal_pre_filter_state(pod, constraints, self.handle.snapshot.node_info_list, RequiredNodeAffinity(pod))
        state.write(PRE_FILTER_STATE_KEY, s)
        return None, None

    def pre_filter_extensions(self) -> PodTopologySpread:
        return self

    def add_pod(self, state: CycleState, pod: Pod, pod_info_to_add: PodInfo, node_info: NodeInfo) -> Status | None:
        """``AddPod``: count a pod added to ``node_info`` (a nominated pod)."""
        return self._update(state, pod, pod_info_to_add, node_info, 1)

    def remove_pod(self, state: CycleState, pod: Pod, pod_info_to_remove: PodInfo,
                   node_info: NodeInfo) -> Status | None:
        """``RemovePod``: uncount a pod removed from ``node_info`` (a preemption victim)."""
        return self._update(state, pod, pod_info_to_remove, node_info, -1)

    def _update(self, state: CycleState, pod: Pod, info: PodInfo, node_info: NodeInfo, delta: int) -> Status | None:
        s, status = get_pre_filter_state(state)
        if status is not None:
            return status
        update_with_pod(s, info.pod, pod, node_info.node, delta, RequiredNodeAffinity(pod))
        return None

    def filter(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Status | None:
        """``Filter``."""
        s, status = get_pre_filter_state(state)
        if status is not None:
            return status
        return filter_node(s, pod, node_info)

    # -- PreScore, Score, NormalizeScore ------------------------------------------------

    def pre_score(self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]) -> Status | None:
        """``PreScore``: Skip without nodes or soft constraints; else count the matching
        pods of every node (all nodes, not only the scored ones) per topology pair. Only
        the system defaults let nodes lacking a key (say, the zone) still be scored."""
        all_nodes = self.handle.snapshot.node_info_list
        if not nodes or not all_nodes:
            return Status(Code.SKIP)
        s = PreScoreState()
        require_all_topologies = bool(pod.spec.topology_spread_constraints) or not self.system_defaulted
        try:
            s.constraints = self.get_constraints(pod, SCHEDULE_ANYWAY)
        except SelectorError as e:
            return Status.error(f"calculating preScoreState: {e}")
        if not s.constraints:
            return Status(Code.SKIP)
        init_pre_score_state(s, nodes, require_all_topologies)
        affinity = RequiredNodeAffinity(pod)
        for node_info in all_nodes:
            for pair, count in node_pod_counts(s, pod, node_info, require_all_topologies, affinity):
                s.topology_pair_to_pod_counts[pair] += count
        state.write(PRE_SCORE_STATE_KEY, s)
        return None

    def score(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> tuple[int, Status | None]:
        """``Score``: the raw weighted count of matching pods, normalized later."""
        s, status = get_pre_score_state(state)
        if status is not None:
            return 0, status
        return score_node(s, pod, node_info), None

    def normalize_score(self, state: CycleState, pod: Pod, scores: list[NodeScore]) -> Status | None:
        """``NormalizeScore``."""
        s, status = get_pre_score_state(state)
        if status is not None:
            return status
        normalize_scores(s, scores)
        return None


# -- args ---------------------------------------------------------------------------------

_CONSTRAINT_FIELDS = {
    "maxSkew": "max_skew", "topologyKey": "topology_key", "whenUnsatisfiable": "when_unsatisfiable",
    "labelSelector": "label_selector", "minDomains": "min_domains", "nodeAffinityPolicy": "node_affinity_policy",
    "nodeTaintsPolicy": "node_taints_policy", "matchLabelKeys": "match_label_keys",
}


def _decode_constraint(path: str, value: Any) -> TopologySpreadConstraint:
    """One ``defaultConstraints`` item (a ``v1.TopologySpreadConstraint`` as a dict); a
    ``labelSelector`` is only kept to be refused by validation."""
    if isinstance(value, TopologySpreadConstraint):
        return value
    if not isinstance(value, dict):
        raise config_error([FieldError.invalid(path, value, "must be an object")])
    kwargs: dict[str, Any] = {}
    for key, v in value.items():
        attr = _CONSTRAINT_FIELDS.get(key)
        if attr is None:
            raise config_error([f'unknown field "{path}.{key}"'])
        if key == "labelSelector":
            v = None if v is None else LabelSelector()
        elif v is not None and key in ("maxSkew", "minDomains"):
            v = int_arg(v, f"{path}.{key}")
        elif v is not None and key == "matchLabelKeys":
            if not isinstance(v, list) or not all(isinstance(k, str) for k in v):
                raise config_error([FieldError.invalid(f"{path}.{key}", v, "must be a list of strings")])
        elif v is not None and not isinstance(v, str):
            raise config_error([FieldError.invalid(f"{path}.{key}", v, "must be a string")])
        kwargs[attr] = v
    return TopologySpreadConstraint(**kwargs)


def validate_args(defaulting_type: str, constraints: Sequence[TopologySpreadConstraint]) -> list[FieldError]:
    """``ValidatePodTopologySpreadArgs`` (validation_pluginargs.go), with its field paths."""
    errs: list[FieldError] = []
    if defaulting_type not in (SYSTEM_DEFAULTING, LIST_DEFAULTING):
        errs.append(FieldError.not_supported("defaultingType", defaulting_type, [SYSTEM_DEFAULTING, LIST_DEFAULTING]))
    elif defaulting_type == SYSTEM_DEFAULTING and constraints:
        errs.append(FieldError.invalid("defaultingType", defaulting_type, "when .defaultConstraints are not empty"))
    for i, c in enumerate(constraints):
        p = f"defaultConstraints[{i}]"
        if c.max_skew <= 0:
            errs.append(FieldError.invalid(f"{p}.maxSkew", c.max_skew, "not in valid range (0, inf)"))
        if not c.topology_key:
            errs.append(FieldError.required(f"{p}.topologyKey", "can not be empty"))
        else:
            errs.extend(FieldError.invalid(f"{p}.topologyKey", c.topology_key, msg)
                        for msg in is_qualified_name(c.topology_key))
        if not c.when_unsatisfiable:
            errs.append(FieldError.required(f"{p}.whenUnsatisfiable", "can not be empty"))
        elif c.when_unsatisfiable not in (DO_NOT_SCHEDULE, SCHEDULE_ANYWAY):
            errs.append(FieldError.not_supported(f"{p}.whenUnsatisfiable", c.when_unsatisfiable,
                                                 [DO_NOT_SCHEDULE, SCHEDULE_ANYWAY]))
        if c.label_selector is not None:
            errs.append(FieldError.forbidden(f"{p}.labelSelector",
                                             "constraint must not define a selector, as they deduced for each pod"))
        for other in constraints[:i]:
            if c.topology_key == other.topology_key and c.when_unsatisfiable == other.when_unsatisfiable:
                errs.append(FieldError.duplicate(p, f"{{{c.topology_key}, {c.when_unsatisfiable}}}"))
                break
    return errs


def new(args: dict[str, Any], handle: Any) -> PodTopologySpread:
    """The factory (``New``): ``defaultingType`` defaults to ``System``
    (``SetDefaults_PodTopologySpreadArgs``), which uses :data:`SYSTEM_DEFAULT_CONSTRAINTS`;
    ``List`` uses ``defaultConstraints``. Raises ``ConfigError`` with upstream's messages."""
    for key in args:
        if key not in ("defaultConstraints", "defaultingType", "apiVersion", "kind"):
            raise config_error([f'unknown field "{key}"'])
    defaulting_type = args.get("defaultingType") or SYSTEM_DEFAULTING
    raw = args.get("defaultConstraints") or []
    if not isinstance(raw, list):
        raise config_error([FieldError.invalid("defaultConstraints", raw, "must be a list")])
    constraints = [_decode_constraint(f"defaultConstraints[{i}]", c) for i, c in enumerate(raw)]
    errs = validate_args(defaulting_type, constraints)
    if errs:
        raise config_error(errs)
    if defaulting_type == SYSTEM_DEFAULTING:
        return PodTopologySpread(handle, SYSTEM_DEFAULT_CONSTRAINTS, system_defaulted=True)
    return PodTopologySpread(handle, constraints, system_defaulted=False)
