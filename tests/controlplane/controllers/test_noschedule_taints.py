"""NoSchedule taints that mirror node conditions: the TaintNodesByCondition admission adds
``not-ready:NoSchedule`` to every new Node; the node lifecycle controller's
``doNoScheduleTaintingPass`` keeps the condition and ``unschedulable`` taints in step."""

from __future__ import annotations

import numpy as np
import pytest

from kbook.api import Node, NodeCondition, NodeSpec, ObjectMeta, Pod, PodSpec, Container, Taint
from kbook.controlplane.apiserver.admission import TAINT_NODE_NOT_READY, taint_nodes_by_condition
from kbook.controlplane.controllers.informer import InformerFactory
from kbook.controlplane.controllers.nodelifecycle import (
    TAINT_DISK_PRESSURE,
    TAINT_MEMORY_PRESSURE,
    TAINT_NETWORK_UNAVAILABLE,
    TAINT_NOT_READY,
    TAINT_PID_PRESSURE,
    TAINT_UNREACHABLE,
    TAINT_UNSCHEDULABLE,
    NodeLifecycleController,
)
from kbook.controlplane.controllers.timeutil import rfc3339
from kbook.eventlog import EventLog
from kbook.faults import Faults, FaultyAPI


def taints(api, name="n1") -> list[tuple[str, str]]:
    return [(t.key, t.effect) for t in api.get("Node", name).spec.taints]


def create_node(api, conditions: dict[str, str], name: str = "n1", unschedulable: bool = False,
                node_taints: list[Taint] | None = None) -> Node:
    node = api.create(Node(metadata=ObjectMeta(name=name),
                           spec=NodeSpec(unschedulable=unschedulable, taints=list(node_taints or []))))
    return set_conditions(api, node, conditions)


def set_conditions(api, node: Node, conditions: dict[str, str]) -> Node:
    node = api.get("Node", node.metadata.name)
    node.status.conditions = [NodeCondition(type=t, status=s, last_heartbeat_time=rfc3339(0),
                                            last_transition_time=rfc3339(0)) for t, s in conditions.items()]
    return api.update_status(node)


def start(env, api) -> tuple[NodeLifecycleController, EventLog]:
    log = EventLog()
    informers = InformerFactory(env, api, log=log)
    nlc = NodeLifecycleController(env, api, informers=informers, log=log)
    informers.start()
    nlc.start()
    return nlc, log


# -- admission ------------------------------------------------------------------------------


def test_a_new_node_is_created_not_ready_no_schedule(api):
    node = api.create(Node(metadata=ObjectMeta(name="n1"),
                           spec=NodeSpec(taints=[Taint(key="dedicated", value="gpu", effect="NoSchedule")])))
    assert [(t.key, t.value, t.effect) for t in node.spec.taints] == [
        ("dedicated", "gpu", "NoSchedule"), (TAINT_NODE_NOT_READY, "", "NoSchedule")]
    assert taints(api) == [("dedicated", "NoSchedule"), (TAINT_NODE_NOT_READY, "NoSchedule")]


@pytest.mark.parametrize("existing, expected", [
    # addNotReadyTaint: MatchTaint compares key and effect only
    ([Taint(key=TAINT_NODE_NOT_READY, value="x", effect="NoSchedule")],
     [(TAINT_NODE_NOT_READY, "x", "NoSchedule")]),
    ([Taint(key=TAINT_NODE_NOT_READY, effect="NoExecute")],
     [(TAINT_NODE_NOT_READY, "", "NoExecute"), (TAINT_NODE_NOT_READY, "", "NoSchedule")]),
])
def test_admission_adds_the_taint_once(existing, expected):
    node = Node(metadata=ObjectMeta(name="n1"), spec=NodeSpec(taints=existing))
    taint_nodes_by_condition(node)
    assert [(t.key, t.value, t.effect) for t in node.spec.taints] == expected


def test_other_kinds_are_not_tainted_and_updates_are_not_admitted(api):
    api.create(Pod(metadata=ObjectMeta(name="p"), spec=PodSpec(containers=[Container(name="c", image="a:1")])))
    node = api.create(Node(metadata=ObjectMeta(name="n1")))
    node.spec.taints = []
    assert api.update(node).spec.taints == []  # admission runs on create only


# -- doNoScheduleTaintingPass ---------------------------------------------------------------

# TestTaintsNodeByCondition (node_lifecycle_controller_test.go), extended to every entry of
# nodeConditionToTaintKeyStatusMap: conditions -> the NoSchedule taints the node ends with.
CONDITION_CASES = [
    ("NetworkUnavailable is true", {"Ready": "True", "NetworkUnavailable": "True"}, [TAINT_NETWORK_UNAVAILABLE]),
    ("Ready is false", {"Ready": "False"}, [TAINT_NOT_READY]),
    ("Ready is unknown", {"Ready": "Unknown"}, [TAINT_UNREACHABLE]),
    ("memory pressure", {"Ready": "True", "MemoryPressure": "True"}, [TAINT_MEMORY_PRESSURE]),
    ("disk pressure", {"Ready": "True", "DiskPressure": "True"}, [TAINT_DISK_PRESSURE]),
    ("pid pressure", {"Ready": "True", "PIDPressure": "True"}, [TAINT_PID_PRESSURE]),
    ("pressures false, ready", {"Ready": "True", "MemoryPressure": "False", "DiskPressure": "False",
                                "PIDPressure": "False", "NetworkUnavailable": "False"}, []),
    ("pressure unknown is no taint", {"Ready": "True", "MemoryPressure": "Unknown"}, []),
    ("several at once", {"Ready": "False", "MemoryPressure": "True", "DiskPressure": "True"},
     [TAINT_NOT_READY, TAINT_MEMORY_PRESSURE, TAINT_DISK_PRESSURE]),
]


@pytest.mark.parametrize("name, conditions, expected", CONDITION_CASES, ids=[c[0] for c in CONDITION_CASES])
def test_taints_follow_conditions(env, api, name, conditions, expected):
    create_node(api, conditions)
    start(env, api)
    env.run(until=1)
    assert taints(api) == [(key, "NoSchedule") for key in expected]


def test_ready_removes_the_admission_taint_and_not_ready_brings_it_back(env, api):
    node = create_node(api, {"Ready": "True"})
    assert taints(api) == [(TAINT_NOT_READY, "NoSchedule")]
    _, log = start(env, api)
    env.run(until=1)
    assert taints(api) == []
    set_conditions(api, node, {"Ready": "False"})
    env.run(until=2)
    assert taints(api) == [(TAINT_NOT_READY, "NoSchedule")]
    assert api.get("Node", "n1").spec.taints[0].time_added == rfc3339(1)
    set_conditions(api, node, {"Ready": "Unknown"})  # swapped at once
    env.run(until=3)
    assert taints(api) == [(TAINT_UNREACHABLE, "NoSchedule")]
    assert [(r.verb, r.detail) for r in log.records if r.object == "n1" and "NoSchedule" in r.verb] == [
        ("RemoveTaintNoSchedule", TAINT_NOT_READY),
        ("TaintNoSchedule", TAINT_NOT_READY),
        ("TaintNoSchedule", TAINT_UNREACHABLE), ("RemoveTaintNoSchedule", TAINT_NOT_READY)]


def test_cordon_and_uncordon(env, api):
    create_node(api, {"Ready": "True"})
    start(env, api)
    env.run(until=1)
    api.patch("Node", "n1", {"spec": {"unschedulable": True}})
    env.run(until=2)
    assert taints(api) == [(TAINT_UNSCHEDULABLE, "NoSchedule")]
    api.patch("Node", "n1", {"spec": {"unschedulable": False}})
    env.run(until=3)
    assert taints(api) == []


def test_other_taints_are_left_alone(env, api):
    mine = [Taint(key="dedicated", value="gpu", effect="NoSchedule"),
            Taint(key="example.com/maintenance", effect="NoExecute"),
            Taint(key=TAINT_NOT_READY, effect="PreferNoSchedule")]
    create_node(api, {"Ready": "True"}, node_taints=mine)
    start(env, api)
    env.run(until=1)
    assert taints(api) == [("dedicated", "NoSchedule"), ("example.com/maintenance", "NoExecute"),
                           (TAINT_NOT_READY, "PreferNoSchedule")]


def test_nothing_to_change_writes_nothing(env, api):
    create_node(api, {"Ready": "True"})
    start(env, api)
    env.run(until=1)
    rv = api.get("Node", "n1").metadata.resource_version
    api.patch("Node", "n1", {"metadata": {"labels": {"a": "b"}}})  # a node update: one more pass
    env.run(until=2)
    assert int(api.get("Node", "n1").metadata.resource_version) == int(rv) + 1


def test_a_failed_pass_waits_for_the_next_node_update(env, api):
    """As upstream (a TODO there): the worker does not put a failed node back on the queue."""
    node = create_node(api, {"Ready": "True"})
    log = EventLog()
    informers = InformerFactory(env, api, log=log)
    client = FaultyAPI(api, env, np.random.default_rng(0), Faults(drop=1.0), log, "controller-manager")
    NodeLifecycleController(env, client, informers=informers, log=log).start()
    informers.start()
    env.run(until=1)
    assert taints(api) == [(TAINT_NOT_READY, "NoSchedule")]
    assert any(r.verb == "TaintUpdateFailed" and r.object == "n1" for r in log.records)
    client.faults = Faults()
    env.run(until=30)
    assert taints(api) == [(TAINT_NOT_READY, "NoSchedule")]
    set_conditions(api, node, {"Ready": "True", "MemoryPressure": "False"})
    env.run(until=31)
    assert taints(api) == []
