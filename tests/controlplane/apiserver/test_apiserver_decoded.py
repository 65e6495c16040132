"""The decoded-object memo of the storage layer: each (key, mod_revision) decoded once,
shared where upstream shares (watch events, a mutation's input), a private copy where the
caller may change it (GET, LIST, an update's result), and etcd the source of truth."""

from __future__ import annotations

import pytest

from apiserver_helpers import make_pod
from kbook.api import Pod
from kbook.controlplane.apiserver import DELETED, MODIFIED, APIServer, WatchEvent
from kbook.controlplane.apiserver import storage
from kbook.controlplane.apiserver.storage import Decoded, encode
from kbook.controlplane.etcd import EmbeddedEtcd


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bytes, int]]:
    """Every (value, revision) the storage layer decodes."""
    seen: list[tuple[bytes, int]] = []
    real = storage.decode

    def counting(cls: type, value: bytes, revision: int):  # type: ignore[no-untyped-def]
        seen.append((value, revision))
        return real(cls, value, revision)

    monkeypatch.setattr(storage, "decode", counting)
    return seen


def test_each_revision_is_decoded_once(api: APIServer, decodes: list[tuple[bytes, int]]) -> None:
    events: list[WatchEvent] = []
    api.watch("Pod", events.append)
    api.create(make_pod("a"))
    for value in "xyz":
        pod = api.get("Pod", "a")
        pod.metadata.labels["v"] = value
        api.update(pod)
        api.get("Pod", "a")
    api.list("Pod")
    api.delete("Pod", "a")
    assert [e.type for e in events][1:] == [MODIFIED] * 3 + [DELETED]
    assert decodes == []  # every value came from a write here, which handed over its object


def test_a_written_object_stands_in_for_its_bytes(api: APIServer, store: EmbeddedEtcd,
                                                  decodes: list[tuple[bytes, int]]) -> None:
    """The watch event of a write carries an object equal to its decoded bytes, with the
    write's revision, not the caller's result; a value from elsewhere is decoded."""
    events: list[WatchEvent] = []
    api.watch("Pod", events.append)
    pod = api.create(make_pod("a"))
    pod.metadata.labels["v"] = "1"
    result = api.update(pod)
    shared = events[-1].object
    assert shared is not result and shared == result
    kv = store.range("/registry/pods/default/a").kvs[0]
    assert shared == storage.decode(Pod, kv.value, kv.mod_revision)
    result.metadata.labels["v"] = "changed by the caller"
    assert shared.metadata.labels == {"v": "1"} and api.get("Pod", "a").metadata.labels == {"v": "1"}
    store.put("/registry/pods/default/a", encode(make_pod("a", labels={"behind": "back"})))
    assert events[-1].object.metadata.labels == {"behind": "back"}
    assert [revision for _, revision in decodes] == [kv.mod_revision, store.revision]  # this test's, the put's


def test_a_lost_race_hands_over_nothing() -> None:
    decoded = Decoded()
    pod = make_pod("a")
    value = encode(pod)
    decoded.writing("k", value, pod)
    decoded.written("k", None)
    assert decoded.object(Pod, "k", value, 5) is not pod
    decoded.writing("k", value, pod)
    decoded.written("k", 9)  # committed with no watch decoding it: a later read shares it
    assert decoded.object(Pod, "k", value, 9) is pod and pod.metadata.resource_version == "9"


def test_get_and_list_return_private_copies(api: APIServer) -> None:
    api.create(make_pod("a"))
    first = api.get("Pod", "a")
    first.metadata.labels["changed"] = "yes"
    first.spec.containers[0].image = "busybox"
    again = api.get("Pod", "a")
    assert again is not first and again.metadata.labels == {} and again.spec.containers[0].image == "nginx:1.27"
    (listed,) = api.list("Pod").items
    listed.metadata.labels["changed"] = "yes"
    assert api.get("Pod", "a").metadata.labels == {}
    assert api.list("Pod").items[0] is not listed


def test_a_no_op_update_returns_a_private_copy(api: APIServer) -> None:
    api.create(make_pod("a"))
    same = api.update(api.get("Pod", "a"))
    same.metadata.labels["changed"] = "yes"
    assert api.get("Pod", "a").metadata.labels == {}
    assert api.update(api.get("Pod", "a")).metadata.resource_version == same.metadata.resource_version


def test_a_write_replaces_what_a_read_returns(api: APIServer) -> None:
    api.create(make_pod("a"))
    old = api.get("Pod", "a")
    api.patch("Pod", "a", {"metadata": {"labels": {"x": "y"}}})
    new = api.get("Pod", "a")
    assert new.metadata.labels == {"x": "y"}
    assert int(new.metadata.resource_version) > int(old.metadata.resource_version)


def test_etcd_is_the_source_of_truth(api: APIServer, store: EmbeddedEtcd) -> None:
    """A value written behind the API server's back is read, not a remembered object."""
    api.create(make_pod("a"))
    assert api.get("Pod", "a").metadata.labels == {}
    changed = api.get("Pod", "a")
    changed.metadata.labels["behind"] = "back"
    store.put("/registry/pods/default/a", encode(changed))
    assert api.get("Pod", "a").metadata.labels == {"behind": "back"}
    assert api.get("Pod", "a").metadata.resource_version == str(store.revision)


def test_an_entry_answers_only_for_its_revision_and_bytes() -> None:
    decoded = Decoded()
    pod = make_pod("a")
    value = encode(pod)
    first = decoded.object(Pod, "k", value, 5)
    assert decoded.object(Pod, "k", value, 5) is first
    assert decoded.object(Pod, "k", value, 6).metadata.resource_version == "6"
    pod.metadata.labels["x"] = "y"
    other = decoded.object(Pod, "k", encode(pod), 6)  # same revision, other bytes: a different etcd
    assert other.metadata.labels == {"x": "y"}
    decoded.forget("k", 7)
    assert decoded.object(Pod, "k", encode(pod), 6) is not other


def test_deleted_event_carries_the_delete_revision_without_changing_the_shared_object(api: APIServer) -> None:
    api.create(make_pod("a", labels={"app": "web"}))
    events: list[WatchEvent] = []
    api.watch("Pod", events.append, label_selector="app=web")
    before = events[0].object
    api.patch("Pod", "a", {"metadata": {"labels": {"app": "db"}}})  # leaves the selector: DELETED
    (gone,) = events[1:]
    assert gone.type == DELETED and gone.object.metadata.labels == {"app": "web"}
    assert gone.object.metadata.resource_version == api.get("Pod", "a").metadata.resource_version
    assert before.metadata.resource_version == "2"


def test_a_status_update_copies_the_request_and_the_stored_object(api: APIServer) -> None:
    api.create(make_pod("a", labels={"app": "web"}))
    request = api.get("Pod", "a")
    request.status.phase = "Running"
    new = api.update_status(request)
    assert new.status is not request.status and new.metadata is not request.metadata
    request.status.phase = "Failed"
    new.metadata.labels["changed"] = "yes"
    stored = api.get("Pod", "a")
    assert (stored.status.phase, stored.metadata.labels) == ("Running", {"app": "web"})
