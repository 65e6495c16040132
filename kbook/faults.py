"""Fault injection between a component and the API server, seeded like everything else.

A :class:`FaultyAPI` wraps the :class:`~kbook.controlplane.apiserver.types.API` one
component talks to. Calls are synchronous in kbook (they take no simulated time), so:

- a **dropped** request raises :class:`Timeout` (504) and changes nothing; the time it
  costs is the caller's own retry backoff (its work queue's rate limiter);
- a **lost response** (``lose_response``): a write (create, update, update_status, patch,
  bind, delete) commits, and then the caller gets :class:`Timeout` all the same, as when the
  connection breaks after the server committed. The caller cannot tell it from a drop, so
  an imperative retry repeats a write that happened: a create with ``generateName`` makes
  a second object, a named create fails with AlreadyExists, a delete with NotFound. A
  declarative caller (read the state, then act on the difference) is not fooled. A write
  the server refused (Conflict, Invalid, ...) returns its error as usual;
- **latency** is modelled on what the component observes: each watch event reaches its
  handler ``latency`` seconds after the commit (in order), so the component acts on a
  late view of the cluster, as it would behind a slow connection;
- a watch **times out** ``watch_timeout`` seconds after it starts: the stream ends with an
  ERROR event (410 Expired), the signal on which an informer re-lists and watches again.

Each decision draws from the component's seeded generator only when its probability is
set (drop before the request, lose_response after a committed write), so adding one fault
leaves the draws of the others alone. A bad value raises :class:`FaultsError` naming the
field.

Killing a node and restarting the controller manager are cluster operations:
:meth:`kbook.cluster.Cluster.kill_node`, :meth:`kbook.cluster.Cluster.restart_controllers`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Callable, TypeVar

import numpy as np
import simpy

from kbook.api import KubeObject
from kbook.controlplane.apiserver.types import (
    API, ERROR, APIError, Expired, ObjectList, WatchEvent, WatchHandle, WatchHandler,
)
from kbook.errors import KbookError
from kbook.eventlog import EventLog

__all__ = ["Faults", "FaultsError", "FaultyAPI", "Timeout"]

COMPONENT = "faults"
T = TypeVar("T")


class FaultsError(KbookError, ValueError):
    """A :class:`Faults` field with a value it cannot take; the message names the field."""


class Timeout(APIError):
    """``Timeout: request did not complete within requested timeout - context deadline exceeded``
    (504; apiserver ``filters/timeout.go`` through ``NewTimeoutError``)."""

    code, reason = 504, "Timeout"

    def __init__(self) -> None:
        super().__init__("Timeout: request did not complete within requested timeout - context deadline exceeded")


@dataclass(frozen=True)
class Faults:
    """What goes wrong between one component and the API server.

    ``drop``: probability that a request fails with :class:`Timeout`. ``latency``: seconds
    between a write's commit and the component's watch handler seeing it. ``watch_timeout``:
    seconds after which each of the component's watches is closed (None: never).
    ``lose_response``: probability that a write that committed still fails with
    :class:`Timeout` (the response is lost).
    """

    drop: float = 0.0
    latency: float = 0.0
    watch_timeout: float | None = None
    lose_response: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None and f.name == "watch_timeout":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
                raise FaultsError(f"{f.name}: must be a number, got {value!r}")
        for name in ("drop", "lose_response"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise FaultsError(f"{name}: must be a probability in [0, 1], got {getattr(self, name)}")
        if not 0 <= self.latency < math.inf:
            raise FaultsError(f"latency: must be >= 0 seconds, got {self.latency}")
        if self.watch_timeout is not None and not 0 < self.watch_timeout:
            raise FaultsError(f"watch_timeout: must be > 0 seconds, got {self.watch_timeout}")


class _FaultyWatch:
    """One watch behind the faults: late delivery, and an end after ``watch_timeout``."""

    def __init__(self, faulty: FaultyAPI, kind: str, handler: WatchHandler, kwargs: dict[str, Any]) -> None:
        self._faulty, self._kind, self._handler = faulty, kind, handler
        self._open = True
        self._inner: WatchHandle = faulty.api.watch(kind, self._deliver, **kwargs)
        timeout = faulty.faults.watch_timeout
        if timeout is not None:
            faulty.env.timeout(timeout).callbacks.append(self._expire)

    def _deliver(self, event: WatchEvent) -> None:
        latency = self._faulty.faults.latency
        if latency:
            self._faulty.env.timeout(latency).callbacks.append(lambda _: self._handle(event))
        else:
            self._handle(event)

    def _handle(self, event: WatchEvent) -> None:
        if self._open:
            self._handler(event)

    def _expire(self, _: simpy.Event) -> None:
        if not self._open:
            return
        self._inner.stop()
        f = self._faulty
        f.log.record(f.env.now, COMPONENT, "WatchTimeout", self._kind,
                     f"{f.name}: watch closed after {f.faults.watch_timeout:g}s")
        self._deliver(WatchEvent(ERROR, Expired("watch closed by the server: timeout")))

    def stop(self) -> None:
        if self._open:
            self._open = False
            self._inner.stop()


class FaultyAPI:
    """The API as ``name`` sees it through ``faults``; decisions come from ``rng``."""

    def __init__(self, api: API, env: simpy.Environment, rng: np.random.Generator, faults: Faults,
                 log: EventLog, name: str) -> None:
        self.api, self.env, self.rng, self.faults, self.log, self.name = api, env, rng, faults, log, name

    def _request(self, verb: str, what: str) -> None:
        if self.faults.drop and self.rng.random() < self.faults.drop:
            self.log.record(self.env.now, COMPONENT, "Drop", what, f"{self.name}: {verb}")
            raise Timeout()

    def _write(self, verb: str, what: str, call: Callable[[], T]) -> T:
        """A write through the faults: maybe dropped before it reaches the server, maybe
        committed with its response lost."""
        self._request(verb, what)
        result = call()
        if self.faults.lose_response and self.rng.random() < self.faults.lose_response:
            if isinstance(result, KubeObject):  # the object written (a generated name included)
                what = f"{result.kind.lower()}/{result.key}"
            self.log.record(self.env.now, COMPONENT, "LoseResponse", what, f"{self.name}: {verb} (committed)")
            raise Timeout()
        return result

    def create(self, obj: KubeObject) -> KubeObject:
        return self._write("create", f"{obj.kind.lower()}/{obj.key}", lambda: self.api.create(obj))

    def get(self, kind: str, name: str, namespace: str | None = None) -> KubeObject:
        self._request("get", f"{kind.lower()}/{name}")
        return self.api.get(kind, name, namespace)

    def list(self, kind: str, namespace: str | None = None, label_selector: str | None = None,
             field_selector: str | None = None) -> ObjectList:
        self._request("list", kind.lower())
        return self.api.list(kind, namespace, label_selector, field_selector)

    def update(self, obj: KubeObject) -> KubeObject:
        return self._write("update", f"{obj.kind.lower()}/{obj.key}", lambda: self.api.update(obj))

    def update_status(self, obj: KubeObject) -> KubeObject:
        return self._write("update_status", f"{obj.kind.lower()}/{obj.key}", lambda: self.api.update_status(obj))

    def patch(self, kind: str, name: str, patch: dict[str, Any], namespace: str | None = None) -> KubeObject:
        return self._write("patch", f"{kind.lower()}/{name}", lambda: self.api.patch(kind, name, patch, namespace))

    def bind(self, name: str, node_name: str, namespace: str | None = None, uid: str | None = None) -> KubeObject:
        return self._write("bind", f"pod/{name}", lambda: self.api.bind(name, node_name, namespace, uid))

    def delete(self, kind: str, name: str, namespace: str | None = None, resource_version: str | None = None,
               propagation_policy: str | None = None, grace_period_seconds: int | None = None) -> KubeObject | None:
        return self._write("delete", f"{kind.lower()}/{name}", lambda: self.api.delete(
            kind, name, namespace, resource_version, propagation_policy, grace_period_seconds=grace_period_seconds))

    def watch(self, kind: str, handler: WatchHandler, namespace: str | None = None, resource_version: str = "",
              label_selector: str | None = None, field_selector: str | None = None) -> WatchHandle:
        self._request("watch", kind.lower())
        return _FaultyWatch(self, kind, handler, dict(namespace=namespace, resource_version=resource_version,
                                                      label_selector=label_selector, field_selector=field_selector))
