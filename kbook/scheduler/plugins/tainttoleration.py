"""TaintToleration (plugins/tainttoleration): Filter keeps pods off nodes with a
``NoSchedule``/``NoExecute`` taint they do not tolerate; Score counts the untolerated
``PreferNoSchedule`` taints, and NormalizeScore turns fewer into better."""

from __future__ import annotations

from typing import Any, Callable, Iterable, Sequence

from kbook.api import Pod, Taint, Toleration
from kbook.scheduler.cyclestate import CycleState, NotFoundError
from kbook.scheduler.interface import Handle
from kbook.scheduler.plugins.helper import default_normalize_score, do_not_schedule_taints_filter
from kbook.scheduler.status import MAX_NODE_SCORE, Code, Status
from kbook.scheduler.types import NodeInfo, NodeScore

__all__ = [
    "NAME",
    "tolerations_tolerate_taint",
    "find_matching_untolerated_taint",
    "TaintToleration",
    "new",
]

NAME = "TaintToleration"
PRE_SCORE_STATE_KEY = "PreScore" + NAME
PREFER_NO_SCHEDULE = "PreferNoSchedule"


def tolerations_tolerate_taint(tolerations: Iterable[Toleration], taint: Taint) -> bool:
    """``TolerationsTolerateTaint``: some toleration tolerates the taint."""
    return any(t.tolerates(taint) for t in tolerations)


def find_matching_untolerated_taint(taints: Sequence[Taint], tolerations: Sequence[Toleration],
                                    effect_filter: Callable[[Taint], bool] | None = None) -> Taint | None:
    """``FindMatchingUntoleratedTaint``: the first taint passing ``effect_filter`` that no
    toleration tolerates, else None."""
    for taint in taints:
        if (effect_filter is None or effect_filter(taint)) and not tolerations_tolerate_taint(tolerations, taint):
            return taint
    return None


def _tolerations_prefer_no_schedule(tolerations: Iterable[Toleration]) -> list[Toleration]:
    """``getAllTolerationPreferNoSchedule``: tolerations with an empty or PreferNoSchedule effect."""
    return [t for t in tolerations if not t.effect or t.effect == PREFER_NO_SCHEDULE]


class TaintToleration:
    """``TaintToleration``: Filter, PreScore, Score and NormalizeScore."""

    name = NAME

    def filter(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Status | None:
        """``UnschedulableAndUnresolvable`` naming the first untolerated hard taint."""
        if node_info.node is None:
            return Status.error("invalid nodeInfo")
        taint = find_matching_untolerated_taint(node_info.node.spec.taints, pod.spec.tolerations,
                                                do_not_schedule_taints_filter)
        if taint is None:
            return None
        return Status.of(Code.UNSCHEDULABLE_AND_UNRESOLVABLE,
                         f"node(s) had untolerated taint {{{taint.key}: {taint.value}}}")

    def pre_score(self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]) -> Status | None:
        state.write(PRE_SCORE_STATE_KEY, _tolerations_prefer_no_schedule(pod.spec.tolerations))
        return None

    def score(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> tuple[int, Status | None]:
        """``countIntolerableTaintsPreferNoSchedule``; needs PreScore's state."""
        try:
            tolerations = state.read(PRE_SCORE_STATE_KEY)
        except NotFoundError as e:
            return 0, Status.error(f'failed to read "{PRE_SCORE_STATE_KEY}" from cycleState: {e}')
        return sum(1 for taint in node_info.node.spec.taints
                   if taint.effect == PREFER_NO_SCHEDULE and not tolerations_tolerate_taint(tolerations, taint)), None

    def normalize_score(self, state: CycleState, pod: Pod, scores: list[NodeScore]) -> Status | None:
        """Reversed: the node with the most untolerated taints gets 0."""
        default_normalize_score(MAX_NODE_SCORE, True, scores)
        return None


def new(args: dict[str, Any], handle: Handle | None) -> TaintToleration:
    """``tainttoleration.New``: no arguments."""
    return TaintToleration()
