"""The in-tree plugin registry (``pkg/scheduler/framework/plugins/registry.go``
``NewInTreeRegistry`` and ``framework/runtime/registry.go``): plugin name -> factory.

A factory is ``new(args: dict, handle) -> plugin``; each plugin module exposes it with its
``NAME``. The volume plugins (and DynamicResources) of upstream's registry are not
modelled (:data:`~kbook.scheduler.config.NOT_MODELLED`): kbook's pods have no volumes or
resource claims, so those plugins would never reject or score anything.
"""

from __future__ import annotations

from typing import Mapping

from kbook.scheduler.config import ConfigError
from kbook.scheduler.interface import PluginFactory
from kbook.scheduler.plugins import (
    defaultbinder,
    defaultpreemption,
    imagelocality,
    interpodaffinity,
    nodeaffinity,
    nodename,
    nodeports,
    nodeunschedulable,
    podtopologyspread,
    queuesort,
    schedulinggates,
    tainttoleration,
)
from kbook.scheduler.plugins.noderesources import balanced_allocation, fit

__all__ = ["IN_TREE_REGISTRY", "merge_registries"]

IN_TREE_REGISTRY: Mapping[str, PluginFactory] = {
    module.NAME: module.new
    for module in (
        schedulinggates,
        queuesort,
        defaultbinder,
        defaultpreemption,
        imagelocality,
        interpodaffinity,
        nodeaffinity,
        nodename,
        nodeports,
        balanced_allocation,
        fit,
        nodeunschedulable,
        podtopologyspread,
        tainttoleration,
    )
}


def merge_registries(in_tree: Mapping[str, PluginFactory],
                     out_of_tree: Mapping[str, PluginFactory] | None) -> dict[str, PluginFactory]:
    """``Registry.Merge``: out-of-tree plugins join the in-tree ones; a name in both is
    refused (``a plugin named X already exists``)."""
    merged = dict(in_tree)
    for name, factory in (out_of_tree or {}).items():
        if name in merged:
            raise ConfigError(f"a plugin named {name} already exists")
        merged[name] = factory
    return merged
