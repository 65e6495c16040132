"""Which per-node plugins have an array form: the plugin's class -> the form's class. A
plugin of any other class (an out-of-tree plugin, say) runs per node."""

from __future__ import annotations

from typing import Any

from kbook.scheduler.arrays.imagelocality import ArrayImageLocality
from kbook.scheduler.arrays.interpodaffinity import ArrayInterPodAffinity
from kbook.scheduler.arrays.nodeaffinity import ArrayNodeAffinity
from kbook.scheduler.arrays.nodename import ArrayNodeName
from kbook.scheduler.arrays.noderesources import ArrayBalancedAllocation, ArrayFit
from kbook.scheduler.arrays.nodeports import ArrayNodePorts
from kbook.scheduler.arrays.nodeunschedulable import ArrayNodeUnschedulable
from kbook.scheduler.arrays.podtopologyspread import ArrayPodTopologySpread
from kbook.scheduler.arrays.tainttoleration import ArrayTaintToleration

__all__ = ["ARRAY_FORMS", "array_form"]

ARRAY_FORMS: dict[type, type] = {
    form.PLUGIN: form
    for form in (ArrayNodeUnschedulable, ArrayNodeName, ArrayTaintToleration, ArrayNodeAffinity, ArrayNodePorts,
                 ArrayFit, ArrayBalancedAllocation, ArrayImageLocality, ArrayPodTopologySpread,
                 ArrayInterPodAffinity)
}


def array_form(plugin: Any) -> Any | None:
    """The array form of a plugin instance, or None when it has none."""
    form = ARRAY_FORMS.get(type(plugin))
    return form(plugin) if form is not None else None
