"""Helpers shared by the etcd store tests."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from kbook.controlplane.etcd import EmbeddedEtcd, Event, Store, WatchResponse


@dataclass
class Backend:
    """A store under test and how to let time pass or wait for it."""

    store: Store
    real: bool

    def elapse(self, seconds: float) -> None:
        """Let ``seconds`` of lease time pass (the embedded clock moves and its lessor ticks)."""
        if self.real:
            time.sleep(seconds)
        else:
            assert isinstance(self.store, EmbeddedEtcd)
            self.store.clock.advance(seconds)  # type: ignore[attr-defined]
            self.store.tick()

    def eventually(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, "condition not reached in time"
            time.sleep(0.01)


@dataclass
class Recorder:
    """A watch handler that keeps every response."""

    responses: list[WatchResponse] = field(default_factory=list)

    def __call__(self, resp: WatchResponse) -> None:
        self.responses.append(resp)

    @property
    def events(self) -> list[Event]:
        return [e for r in self.responses for e in r.events]
