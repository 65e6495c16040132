"""The ``pods/binding`` subresource (``pkg/registry/core/pod/storage/storage.go``,
``BindingREST``): how a scheduler assigns a pod to a node. One guaranteed update sets
``spec.nodeName`` and the ``PodScheduled=True`` condition; a pod that is being deleted,
already assigned or still gated is refused with a Conflict on ``pods/binding``.
"""

from __future__ import annotations

import copy

from kbook.api import Pod, PodCondition, PodStatus
from kbook.controlplane.apiserver.errors import conflict
from kbook.controlplane.apiserver.resources import Resource
from kbook.controlplane.apiserver.types import APIError, Conflict

__all__ = ["POD_SCHEDULED", "update_pod_condition", "assign_pod"]

POD_SCHEDULED = "PodScheduled"  # v1.PodScheduled


def update_pod_condition(status: PodStatus, condition: PodCondition, now: str) -> bool:
    """``podutil.UpdatePodCondition``: put ``condition`` in ``status`` (replacing the one
    of its type); ``lastTransitionTime`` is ``now`` unless the status stays the same.
    True if anything changed."""
    condition.last_transition_time = now
    for i, old in enumerate(status.conditions):
        if old.type != condition.type:
            continue
        if condition.status == old.status:
            condition.last_transition_time = old.last_transition_time
        same = (condition.status, condition.reason, condition.message, condition.last_probe_time,
                condition.last_transition_time) == (old.status, old.reason, old.message, old.last_probe_time,
                                                    old.last_transition_time)
        status.conditions[i] = condition
        return not same
    status.conditions.append(condition)
    return True


def assign_pod(res: Resource, cur: Pod, node_name: str, uid: str | None, now: str) -> Pod:
    """``setPodNodeAndMetadata``: ``cur`` assigned to ``node_name``, or the error the
    binding gets (``assignPod`` turns a plain error into a Conflict on ``pods/binding``)."""
    name = cur.metadata.name
    if not node_name:  # ValidatePodBinding
        raise APIError("target.name: Required value")
    if uid and uid != cur.metadata.uid:  # storage.Preconditions.Check
        raise conflict(res, name, f"Precondition failed: UID in precondition: {uid}, "
                                  f"UID in object meta: {cur.metadata.uid}")
    if cur.metadata.deletion_timestamp is not None:
        detail = f"pod {name} is being deleted, cannot be assigned to a host"
    elif cur.spec.node_name:
        detail = f'pod {name} is already assigned to node "{cur.spec.node_name}"'
    elif cur.spec.scheduling_gates:
        detail = f"pod {name} has non-empty .spec.schedulingGates"
    else:
        new = copy.deepcopy(cur)
        new.spec.node_name = node_name
        update_pod_condition(new.status, PodCondition(type=POD_SCHEDULED, status="True"), now)
        return new
    raise Conflict(f'Operation cannot be fulfilled on pods/binding "{name}": {detail}')
