"""An API server over the embedded etcd, a hand-moved clock and a seeded generator."""

from __future__ import annotations

import numpy as np
import pytest

from kbook.controlplane.apiserver import APIServer
from kbook.controlplane.etcd import EmbeddedEtcd, ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def store(clock: ManualClock) -> EmbeddedEtcd:
    return EmbeddedEtcd(clock=clock)


@pytest.fixture
def api(store: EmbeddedEtcd, clock: ManualClock) -> APIServer:
    return APIServer(store, clock=clock, rng=np.random.default_rng(42))

