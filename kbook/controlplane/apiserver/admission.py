"""Mutating admission on create: what kube-apiserver's default admission chain changes in a
new object before it is validated and stored.

Only ``TaintNodesByCondition`` (``plugin/pkg/admission/nodetaint/admission.go``, on by
default) is modelled: every Node is created with ``node.kubernetes.io/not-ready:NoSchedule``,
so no pod lands on a node before the node lifecycle controller has seen it Ready and
removed the taint (its ``doNoScheduleTaintingPass``). Newer releases call the plugin
``TaintNodesAtCreation`` and let its configuration add more taints.
"""

from __future__ import annotations

from kbook.api import KubeObject, Node, Taint

__all__ = ["TAINT_NODE_NOT_READY", "admit_create", "taint_nodes_by_condition"]

TAINT_NODE_NOT_READY = "node.kubernetes.io/not-ready"  # v1.TaintNodeNotReady
NO_SCHEDULE = "NoSchedule"  # v1.TaintEffectNoSchedule


def taint_nodes_by_condition(node: Node) -> None:
    """``addNotReadyTaint``: append ``not-ready:NoSchedule`` unless a taint with that key
    and effect is there already (``Taint.MatchTaint``)."""
    if not any(t.key == TAINT_NODE_NOT_READY and t.effect == NO_SCHEDULE for t in node.spec.taints):
        node.spec.taints.append(Taint(key=TAINT_NODE_NOT_READY, effect=NO_SCHEDULE))


def admit_create(obj: KubeObject) -> None:
    """Run the mutating admission plugins on ``obj`` (a defaulted object being created)."""
    if isinstance(obj, Node):
        taint_nodes_by_condition(obj)
