"""Fixtures for the controller tests: a SimPy environment, the real API server over the
embedded etcd (``api``), and the in-memory fake that can inject faults (``fake``)."""

from __future__ import annotations

import pytest
import simpy
from ctrl_fake_api import FakeAPI
from ctrl_helpers import real_api


@pytest.fixture
def env() -> simpy.Environment:
    return simpy.Environment()


@pytest.fixture
def fake(env) -> FakeAPI:
    return FakeAPI(env)


@pytest.fixture
def api(env):
    return real_api(env)
