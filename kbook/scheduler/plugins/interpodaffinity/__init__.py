"""InterPodAffinity (``pkg/scheduler/framework/plugins/interpodaffinity``): place a pod
with or away from other pods by their labels within a topology domain, as required
(Filter) and preferred (Score)."""

from kbook.scheduler.plugins.interpodaffinity.common import NAME
from kbook.scheduler.plugins.interpodaffinity.filtering import (
    ERR_REASON_AFFINITY_RULES_NOT_MATCH,
    ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH,
    ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH,
    PreFilterState,
)
from kbook.scheduler.plugins.interpodaffinity.plugin import (
    DEFAULT_HARD_POD_AFFINITY_WEIGHT,
    InterPodAffinity,
    new,
)
from kbook.scheduler.plugins.interpodaffinity.scoring import PreScoreState

__all__ = [
    "NAME",
    "InterPodAffinity",
    "new",
    "PreFilterState",
    "PreScoreState",
    "DEFAULT_HARD_POD_AFFINITY_WEIGHT",
    "ERR_REASON_AFFINITY_RULES_NOT_MATCH",
    "ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH",
    "ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH",
]
