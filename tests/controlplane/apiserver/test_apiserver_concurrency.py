"""Optimistic concurrency: writers doing read-modify-write with retry on Conflict lose no
update, in threads and in a deterministic interleaving."""

from __future__ import annotations

import threading

import numpy as np

from apiserver_helpers import make_lease
from kbook.api import Lease
from kbook.controlplane.apiserver import APIServer, Conflict


def increment(api: APIServer) -> int:
    """One client-go style ``RetryOnConflict`` increment; returns the conflicts it met."""
    conflicts = 0
    while True:
        lease = api.get("Lease", "n1", "kube-node-lease")
        assert isinstance(lease, Lease)
        lease.spec.lease_transitions = (lease.spec.lease_transitions or 0) + 1
        try:
            api.update(lease)
            return conflicts
        except Conflict:
            conflicts += 1


def test_threaded_writers_lose_no_update(api: APIServer) -> None:
    api.create(make_lease())
    writers, each = 8, 25
    barrier = threading.Barrier(writers)

    def work() -> None:
        barrier.wait()
        for _ in range(each):
            increment(api)

    threads = [threading.Thread(target=work) for _ in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert api.get("Lease", "n1", "kube-node-lease").spec.lease_transitions == writers * each


def test_interleaved_writers_conflict_and_retry(api: APIServer) -> None:
    """Writers read, then write in a shuffled order: all but the first of each round conflict."""
    api.create(make_lease())
    rng = np.random.default_rng(3)
    writers, rounds, conflicts = 5, 20, 0
    pending = list(range(writers)) * rounds
    while pending:
        batch = sorted(set(pending))
        snapshots = {w: api.get("Lease", "n1", "kube-node-lease") for w in batch}
        for w in rng.permutation(batch):
            lease = snapshots[w]
            lease.spec.lease_transitions += 1
            try:
                api.update(lease)
                pending.remove(w)
            except Conflict:
                conflicts += 1
    assert api.get("Lease", "n1", "kube-node-lease").spec.lease_transitions == writers * rounds
    assert conflicts > 0
