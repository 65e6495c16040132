"""FaultyAPI: dropped requests, late watch delivery, watches that time out."""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from kbook.api import Namespace, ObjectMeta
from kbook.controlplane.apiserver import APIServer
from kbook.controlplane.controllers.informer import SharedInformer
from kbook.controlplane.etcd import EmbeddedEtcd
from kbook.eventlog import EventLog
from kbook.faults import Faults, FaultyAPI, Timeout


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


@pytest.mark.parametrize("bad", [dict(drop=1.5), dict(latency=-1), dict(watch_timeout=0)])
def test_faults_are_checked(bad):
    with pytest.raises(ValueError):
        Faults(**bad)
