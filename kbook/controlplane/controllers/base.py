"""The shape every queue-driven controller in kube-controller-manager shares: event handlers
put ``namespace/name`` keys on a rate-limited work queue, a worker takes one key at a time
and runs the level-triggered ``sync``; a failed sync is retried with ``AddRateLimited``
(``processNextWorkItem`` / ``handleErr`` in replica_set.go and deployment_controller.go).
Errors of the types in ``quiet_errors`` are retried the same way without a ``SyncError``
record (upstream logs them only at a raised verbosity)."""

from __future__ import annotations

import simpy

from kbook.api import KubeObject
from kbook.controlplane.apiserver.types import API, APIError
from kbook.controlplane.controllers.informer import InformerFactory
from kbook.controlplane.controllers.workqueue import RateLimitingQueue
from kbook.eventlog import EventLog

__all__ = ["QueueController"]


class QueueController:
    """A controller with one work queue and one worker (syncs take no simulated time, so
    more workers would change nothing). ``max_retries`` of ``None`` retries forever."""

    name = "controller"
    max_retries: int | None = None
    quiet_errors: tuple[type[APIError], ...] = ()

    def __init__(self, env: simpy.Environment, api: API, *, informers: InformerFactory | None = None,
                 log: EventLog | None = None):
        self.env, self.api, self.log = env, api, log
        self.informers = informers or InformerFactory(env, api, log=log)
        self._own_informers = informers is None
        self.queue = RateLimitingQueue(env, name=self.name)
        self.syncs = 0

    def start(self) -> None:
        """Start the shared informers (if this controller made them) and the worker."""
        if self._own_informers:
            self.informers.start()
        self.env.process(self._worker())

    def stop(self) -> None:
        self.queue.shut_down()
        if self._own_informers:
            self.informers.stop()

    def enqueue(self, obj: KubeObject) -> None:
        self.queue.add(obj.key)

    def sync(self, key: str) -> None:
        raise NotImplementedError

    def record(self, verb: str, obj: str, detail: str = "") -> None:
        if self.log is not None:
            self.log.record(self.env.now, self.name, verb, obj, detail)

    def _worker(self):
        while not self.informers.has_synced():  # cache.WaitForCacheSync polls every 100 ms
            if self.queue.shutting_down:
                return
            yield self.env.timeout(0.1)
        while True:
            key = yield self.queue.get()
            if key is None:
                return
            try:
                self.syncs += 1
                self.sync(key)
                self.queue.forget(key)
            except APIError as err:
                if self.max_retries is None or self.queue.num_requeues(key) < self.max_retries:
                    if not isinstance(err, self.quiet_errors):
                        self.record("SyncError", key, str(err))
                    self.queue.add_rate_limited(key)
                else:
                    self.record("DroppedFromQueue", key, str(err))
                    self.queue.forget(key)
            finally:
                self.queue.done(key)
