"""The ``pods/binding`` subresource: one write sets ``spec.nodeName`` and ``PodScheduled``;
deleting, assigned and gated pods are refused as ``BindingREST`` refuses them."""

from __future__ import annotations

import pytest
from apiserver_helpers import make_pod

from kbook.api import PodCondition, PodStatus
from kbook.controlplane.apiserver import APIError, Conflict, NotFound, timestamp
from kbook.controlplane.apiserver.binding import update_pod_condition


def test_bind_sets_node_name_and_pod_scheduled_in_one_write(api, clock):
    pod = api.create(make_pod("web"))
    clock.advance(5)
    seen = []
    api.watch("Pod", seen.append, resource_version=pod.metadata.resource_version)
    bound = api.bind("web", "n1", uid=pod.metadata.uid)
    assert bound.spec.node_name == "n1"
    assert [(c.type, c.status, c.last_transition_time) for c in bound.status.conditions] == [
        ("PodScheduled", "True", timestamp(5))]
    assert [e.type for e in seen] == ["MODIFIED"]
    assert api.get("Pod", "web").spec.node_name == "n1"


def test_pod_scheduled_false_becomes_true(api, clock):
    pod = api.create(make_pod("web"))
    pod.status.conditions = [PodCondition(type="PodScheduled", status="False", reason="Unschedulable",
                                          message="0/1 nodes are available: 1 Insufficient cpu.",
                                          last_transition_time=timestamp(0))]
    api.update_status(pod)
    clock.advance(3)
    (cond,) = api.bind("web", "n1").status.conditions
    assert (cond.status, cond.reason, cond.message, cond.last_transition_time) == ("True", "", "", timestamp(3))


def test_an_assigned_pod_is_not_bound_again(api):
    api.create(make_pod("web"))
    api.bind("web", "n0")
    with pytest.raises(Conflict) as err:
        api.bind("web", "n1")
    assert str(err.value) == ('Operation cannot be fulfilled on pods/binding "web": '
                              'pod web is already assigned to node "n0"')


def test_a_deleting_pod_is_not_bound(api):
    api.create(make_pod("web"))
    api.patch("Pod", "web", {"metadata": {"finalizers": ["example.com/hold"]}})
    api.delete("Pod", "web")
    with pytest.raises(Conflict) as err:
        api.bind("web", "n1")
    assert str(err.value) == ('Operation cannot be fulfilled on pods/binding "web": '
                              "pod web is being deleted, cannot be assigned to a host")


def test_a_gated_pod_is_not_bound(api):
    api.create(make_pod("web", scheduling_gates=[{"name": "example.com/wait"}]))
    with pytest.raises(Conflict) as err:
        api.bind("web", "n1")
    assert str(err.value) == ('Operation cannot be fulfilled on pods/binding "web": '
                              "pod web has non-empty .spec.schedulingGates")


def test_uid_precondition_missing_pod_and_empty_target(api):
    api.create(make_pod("web"))
    with pytest.raises(Conflict) as err:
        api.bind("web", "n1", uid="other")
    uid = api.get("Pod", "web").metadata.uid
    assert str(err.value) == ('Operation cannot be fulfilled on pods "web": Precondition failed: '
                              f"UID in precondition: other, UID in object meta: {uid}")
    with pytest.raises(NotFound, match='pods "gone" not found'):
        api.bind("gone", "n1")
    with pytest.raises(APIError, match="target.name: Required value"):
        api.bind("web", "")
    assert api.get("Pod", "web").spec.node_name == ""


def test_update_pod_condition_keeps_the_transition_time_when_the_status_stays():
    # podutil.UpdatePodCondition
    status = PodStatus(conditions=[PodCondition(type="PodScheduled", status="False", reason="Unschedulable",
                                                message="a", last_transition_time="t0")])
    changed = update_pod_condition(status, PodCondition(type="PodScheduled", status="False",
                                                        reason="Unschedulable", message="b"), "t1")
    assert changed and status.conditions[0].last_transition_time == "t0" and status.conditions[0].message == "b"
    assert not update_pod_condition(status, PodCondition(type="PodScheduled", status="False",
                                                         reason="Unschedulable", message="b"), "t2")
    assert update_pod_condition(status, PodCondition(type="Ready", status="True"), "t3")
    assert [(c.type, c.last_transition_time) for c in status.conditions] == [("PodScheduled", "t0"), ("Ready", "t3")]
