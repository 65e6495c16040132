"""DefaultPreemption (``pkg/scheduler/framework/plugins/defaultpreemption``) and the
preemption Evaluator it drives (``pkg/scheduler/framework/preemption``)."""

from kbook.scheduler.plugins.defaultpreemption.default_preemption import (
    DEFAULT_MIN_CANDIDATE_NODES_ABSOLUTE,
    DEFAULT_MIN_CANDIDATE_NODES_PERCENTAGE,
    NAME,
    DefaultPreemption,
    new,
    pod_terminating_by_preemption,
)
from kbook.scheduler.plugins.defaultpreemption.preemption import (
    ERR_NO_VICTIMS,
    ERR_NOT_HELPFUL,
    Candidate,
    Evaluator,
    Victims,
    get_earliest_pod_start_time,
    more_important_pod,
    pick_one_node_for_preemption,
    pod_start_time,
)

__all__ = [
    "NAME",
    "DEFAULT_MIN_CANDIDATE_NODES_PERCENTAGE",
    "DEFAULT_MIN_CANDIDATE_NODES_ABSOLUTE",
    "DefaultPreemption",
    "new",
    "pod_terminating_by_preemption",
    "ERR_NO_VICTIMS",
    "ERR_NOT_HELPFUL",
    "Candidate",
    "Evaluator",
    "Victims",
    "get_earliest_pod_start_time",
    "more_important_pod",
    "pick_one_node_for_preemption",
    "pod_start_time",
]
