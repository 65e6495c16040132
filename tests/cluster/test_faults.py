"""FaultyAPI: dropped requests, lost responses, late watch delivery, watches that time out."""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from kbook.api import Container, Namespace, ObjectMeta, Pod, PodSpec
from kbook.controlplane.apiserver import APIServer
from kbook.controlplane.apiserver.types import AlreadyExists, NotFound
from kbook.controlplane.controllers.informer import SharedInformer
from kbook.controlplane.etcd import EmbeddedEtcd
from kbook.errors import KbookError
from kbook.eventlog import EventLog
from kbook.faults import Faults, FaultsError, FaultyAPI, Timeout


def setup(faults: Faults, seed: int = 0) -> tuple[simpy.Environment, APIServer, FaultyAPI, EventLog]:
    env, log = simpy.Environment(), EventLog()
    api = APIServer(EmbeddedEtcd(clock=lambda: env.now), lambda: env.now, np.random.default_rng(0))
    return env, api, FaultyAPI(api, env, np.random.default_rng(seed), faults, log, "test"), log


def ns(name: str) -> Namespace:
    return Namespace(metadata=ObjectMeta(name=name))


def test_a_dropped_request_times_out_and_changes_nothing():
    env, api, faulty, log = setup(Faults(drop=1.0))
    with pytest.raises(Timeout) as err:
        faulty.create(ns("a"))
    assert (err.value.code, err.value.reason) == (504, "Timeout")
    assert str(err.value) == "Timeout: request did not complete within requested timeout - context deadline exceeded"
    assert api.list("Namespace").items == ()
    assert [(r.component, r.verb, r.object, r.detail) for r in log.records] == [
        ("faults", "Drop", "namespace/a", "test: create")]


def test_drops_are_seeded():
    def outcomes(seed: int) -> list[bool]:
        _, _, faulty, _ = setup(Faults(drop=0.5), seed)
        result = []
        for i in range(40):
            try:
                faulty.create(ns(f"n{i}"))
                result.append(True)
            except Timeout:
                result.append(False)
        return result

    assert outcomes(1) == outcomes(1)
    assert 5 < sum(outcomes(1)) < 35


def test_watch_events_arrive_late_and_in_order():
    env, api, faulty, _ = setup(Faults(latency=2.0))
    seen: list[tuple[float, str, str]] = []
    faulty.watch("Namespace", lambda ev: seen.append((env.now, ev.type, ev.object.metadata.name)),
                 resource_version=api.list("Namespace").resource_version)

    def writer():
        api.create(ns("a"))
        yield env.timeout(1)
        api.create(ns("b"))

    env.process(writer())
    env.run(until=10)
    assert seen == [(2.0, "ADDED", "a"), (3.0, "ADDED", "b")]


def test_a_timed_out_watch_makes_the_informer_list_again():
    env, api, faulty, log = setup(Faults(watch_timeout=5.0))
    informer = SharedInformer(env, faulty, "Namespace", log=log, rng=np.random.default_rng(0))
    informer.start()
    api.create(ns("a"))
    env.run(until=7)
    assert informer.lists == 2
    assert [(r.time, r.component, r.verb) for r in log.records][:2] == [(5.0, "faults", "WatchTimeout"),
                                                                        (5.0, "reflector", "WatchClosed")]
    api.create(ns("b"))  # the new watch delivers
    env.run(until=8)
    assert informer.indexer.keys() == ["a", "b"]


@pytest.mark.parametrize("bad", [dict(drop=1.5), dict(latency=-1), dict(watch_timeout=0), dict(lose_response=-0.1),
                                 dict(drop="0.5"), dict(latency=float("nan")), dict(lose_response=True),
                                 dict(latency=float("inf")), dict(watch_timeout="5")])
def test_faults_are_checked(bad):
    (field, value), = bad.items()
    with pytest.raises(FaultsError, match=f"^{field}: ") as err:
        Faults(**bad)
    assert isinstance(err.value, KbookError) and isinstance(err.value, ValueError)


def test_a_lost_response_commits_the_write_and_times_out_anyway():
    env, api, faulty, log = setup(Faults(lose_response=1.0))
    with pytest.raises(Timeout):
        faulty.create(ns("a"))
    assert [n.metadata.name for n in api.list("Namespace").items] == ["a"]  # it happened
    assert [(r.component, r.verb, r.object, r.detail) for r in log.records] == [
        ("faults", "LoseResponse", "namespace/a", "test: create (committed)")]
    assert faulty.get("Namespace", "a").metadata.name == "a"  # reads are not affected
    with pytest.raises(AlreadyExists):  # the imperative retry of a named create
        faulty.create(ns("a"))
    with pytest.raises(Timeout):
        faulty.delete("Namespace", "a")
    with pytest.raises(NotFound):
        api.get("Namespace", "a")


def test_lose_response_makes_a_retried_create_duplicate():
    """The classic non-idempotent retry: create with generateName, time out, create again."""
    env, api, faulty, log = setup(Faults(lose_response=0.5), seed=3)

    def create_with_retries(attempts: int = 10) -> Pod:
        pod = Pod(metadata=ObjectMeta(generate_name="job-", namespace="default", labels={"run": "once"}),
                  spec=PodSpec(containers=[Container(name="main", image="busybox:1.36")]))
        for _ in range(attempts):
            try:
                return faulty.create(pod)
            except Timeout:
                continue
        raise AssertionError("no attempt got a response")

    create_with_retries()
    pods = api.list("Pod", "default").items
    lost = [r for r in log.records if r.verb == "LoseResponse"]
    assert len(lost) >= 1 and len(pods) == len(lost) + 1  # one pod per attempt: duplicates
    assert {r.object for r in lost} < {f"pod/{p.key}" for p in pods}  # each lost response names its pod

    # The declarative way: look first, create only what is missing; a lost response is
    # then harmless (the next pass sees the object).
    env, api, faulty, log = setup(Faults(lose_response=1.0))
    for _ in range(3):
        if not faulty.list("Pod", "default", label_selector="run=once").items:
            try:
                faulty.create(Pod(metadata=ObjectMeta(generate_name="job-", namespace="default",
                                                      labels={"run": "once"}),
                                  spec=PodSpec(containers=[Container(name="main", image="busybox:1.36")])))
            except Timeout:
                pass
    assert len(api.list("Pod", "default").items) == 1


def test_lose_response_keeps_refused_writes_and_other_faults_draws():
    env, api, faulty, log = setup(Faults(lose_response=1.0))
    api.create(ns("a"))
    with pytest.raises(AlreadyExists):  # refused by the server: its own error, no LoseResponse
        faulty.create(ns("a"))
    assert log.records == []

    def drops(faults: Faults) -> list[str]:
        _, _, f, lg = setup(faults, seed=5)
        for i in range(30):
            try:
                f.get("Namespace", f"n{i}")
            except (Timeout, NotFound):
                pass
        return [r.object for r in lg.records if r.verb == "Drop"]

    assert drops(Faults(drop=0.3)) == drops(Faults(drop=0.3, lose_response=0.9))  # reads draw no loss
