"""One store suite over both backends: a fresh EmbeddedEtcd, or a RemoteEtcd against a fresh
real etcd (started ahead of time, so a test waits for none). Without the etcd binary the real
parameter skips, except under CI=true, where that is a failure."""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Iterator

import pytest
from etcd_support import Backend

from kbook.controlplane.etcd import EmbeddedEtcd, EtcdServer


def require_etcd() -> None:
    if not EtcdServer.available():
        reason = "etcd binary not found (apt-get install etcd-server etcd-client)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


class _ServerPool:
    """Hands out fresh started etcd servers, starting the next one in the background."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1)
        self._next: Future[EtcdServer] | None = None

    def take(self) -> EtcdServer:
        current = self._next or self._executor.submit(EtcdServer().start)
        self._next = self._executor.submit(EtcdServer().start)
        return current.result()

    def close(self) -> None:
        if self._next is not None:
            self._next.result().close()
        self._executor.shutdown()


@pytest.fixture(scope="session")
def etcd_pool() -> Iterator[_ServerPool]:
    pool = _ServerPool()
    yield pool
    pool.close()


@pytest.fixture
def etcd_server(etcd_pool: _ServerPool) -> Iterator[EtcdServer]:
    require_etcd()
    server = etcd_pool.take()
    yield server
    server.close()


@pytest.fixture(params=["embedded", "etcd"])
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "embedded":
        return Backend(EmbeddedEtcd(), real=False)
    server = request.getfixturevalue("etcd_server")
    return Backend(server.client(), real=True)
