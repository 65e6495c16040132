"""WATCH: resourceVersion start semantics, event types, selector filtering as the watch
cache does it, compaction (Expired), stop()."""

from __future__ import annotations

import pytest

from apiserver_helpers import make_pod
from kbook.controlplane.apiserver import (
    ADDED,
    DELETED,
    ERROR,
    MODIFIED,
    APIServer,
    BadRequest,
    Expired,
    WatchEvent,
)
from kbook.controlplane.etcd import EmbeddedEtcd


def summary(events: list[WatchEvent]) -> list[tuple[str, str, str]]:
    return [(e.type, e.object.metadata.name, e.object.metadata.resource_version) for e in events]


def test_watch_from_empty_rv_sends_current_state_then_changes(api: APIServer) -> None:
    api.create(make_pod("a"))
    api.create(make_pod("b"))
    events: list[WatchEvent] = []
    api.watch("Pod", events.append)
    assert summary(events) == [(ADDED, "a", "2"), (ADDED, "b", "3")]
    api.create(make_pod("c"))
    api.patch("Pod", "a", {"metadata": {"labels": {"x": "y"}}})
    api.delete("Pod", "b")
    assert summary(events)[2:] == [(ADDED, "c", "4"), (MODIFIED, "a", "5"), (DELETED, "b", "6")]
    assert events[-1].object.metadata.name == "b"  # the last state of a deleted object


def test_watch_from_zero_is_the_same(api: APIServer) -> None:
    api.create(make_pod("a"))
    events: list[WatchEvent] = []
    api.watch("Pod", events.append, resource_version="0")
    assert summary(events) == [(ADDED, "a", "2")]


def test_watch_from_rv_sends_only_later_changes(api: APIServer) -> None:
    first = api.create(make_pod("a"))
    api.create(make_pod("b"))
    api.delete("Pod", "a")
    events: list[WatchEvent] = []
    api.watch("Pod", events.append, resource_version=first.metadata.resource_version)
    assert summary(events) == [(ADDED, "b", "3"), (DELETED, "a", "4")]


def test_watch_is_scoped_to_a_namespace(api: APIServer) -> None:
    events: list[WatchEvent] = []
    api.watch("Pod", events.append, namespace="prod")
    api.create(make_pod("a"))
    api.create(make_pod("b", namespace="prod"))
    assert summary(events) == [(ADDED, "b", "3")]


def test_noop_update_sends_no_event(api: APIServer) -> None:
    pod = api.create(make_pod("a"))
    events: list[WatchEvent] = []
    api.watch("Pod", events.append, resource_version=pod.metadata.resource_version)
    api.update(pod)
    assert events == []


def test_objects_entering_and_leaving_a_selector(api: APIServer) -> None:
    events: list[WatchEvent] = []
    api.watch("Pod", events.append, label_selector="app=web", field_selector="spec.nodeName=n1")
    api.create(make_pod("a", labels={"app": "web"}))  # not on n1 yet: nothing
    api.patch("Pod", "a", {"spec": {"nodeName": "n1"}})  # enters
    api.patch("Pod", "a", {"metadata": {"annotations": {"k": "v"}}})  # stays
    api.patch("Pod", "a", {"metadata": {"labels": {"app": "api"}}})  # leaves
    api.create(make_pod("b", labels={"app": "db"}, node_name="n1"))  # never matches
    assert summary(events) == [(ADDED, "a", "3"), (MODIFIED, "a", "4"), (DELETED, "a", "5")]
    assert events[-1].object.metadata.labels == {"app": "web"}  # the previous content, the event's RV


def test_watch_below_compaction_is_expired(api: APIServer, store: EmbeddedEtcd) -> None:
    for name in "abc":
        api.create(make_pod(name))
    store.compact(4)
    readable: list[WatchEvent] = []
    api.watch("Pod", readable.append, resource_version="3")  # starts at 4: still readable
    assert summary(readable) == [(ADDED, "c", "4")]
    events: list[WatchEvent] = []
    api.watch("Pod", events.append, resource_version="2")  # starts at 3: compacted
    assert [e.type for e in events] == [ERROR]
    error = events[0].object
    assert isinstance(error, Expired) and (error.code, error.reason) == (410, "Expired")
    assert str(error) == "too old resource version: 2 (3)"
    api.create(make_pod("d"))
    assert len(events) == 1 and len(readable) == 2  # the expired watch ended


def test_stop_ends_the_watch(api: APIServer) -> None:
    events: list[WatchEvent] = []
    handle = api.watch("Pod", events.append)
    api.create(make_pod("a"))
    handle.stop()
    handle.stop()
    api.create(make_pod("b"))
    assert summary(events) == [(ADDED, "a", "2")]


def test_handler_may_write_through_the_api(api: APIServer) -> None:
    events: list[WatchEvent] = []

    def label_new_pods(event: WatchEvent) -> None:
        events.append(event)
        if event.type == ADDED:
            api.patch("Pod", event.object.metadata.name, {"metadata": {"labels": {"seen": "yes"}}})

    api.create(make_pod("a"))
    api.watch("Pod", label_new_pods)
    api.create(make_pod("b"))
    assert sorted(summary(events)) == [(ADDED, "a", "2"), (ADDED, "b", "4"), (MODIFIED, "a", "3"),
                                       (MODIFIED, "b", "5")]


def test_bad_watch_requests(api: APIServer) -> None:
    with pytest.raises(BadRequest):
        api.watch("Pod", print, resource_version="abc")
    with pytest.raises(BadRequest, match="field label not supported: spec.host"):
        api.watch("Pod", print, field_selector="spec.host=x")
