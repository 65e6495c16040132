"""PodTopologySpread (``pkg/scheduler/framework/plugins/podtopologyspread``): spread
matching pods over topology domains within ``maxSkew`` (Filter) and prefer the least
crowded domains (Score)."""

from kbook.scheduler.plugins.podtopologyspread.common import NAME, SpreadConstraint
from kbook.scheduler.plugins.podtopologyspread.default_selector import default_selector
from kbook.scheduler.plugins.podtopologyspread.filtering import (
    ERR_REASON_CONSTRAINTS_NOT_MATCH,
    ERR_REASON_NODE_LABEL_NOT_MATCH,
    PreFilterState,
)
from kbook.scheduler.plugins.podtopologyspread.plugin import (
    LIST_DEFAULTING,
    SYSTEM_DEFAULT_CONSTRAINTS,
    SYSTEM_DEFAULTING,
    PodTopologySpread,
    new,
)
from kbook.scheduler.plugins.podtopologyspread.scoring import PreScoreState

__all__ = [
    "NAME",
    "PodTopologySpread",
    "new",
    "SpreadConstraint",
    "PreFilterState",
    "PreScoreState",
    "default_selector",
    "ERR_REASON_CONSTRAINTS_NOT_MATCH",
    "ERR_REASON_NODE_LABEL_NOT_MATCH",
    "SYSTEM_DEFAULTING",
    "LIST_DEFAULTING",
    "SYSTEM_DEFAULT_CONSTRAINTS",
]
