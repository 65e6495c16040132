"""Leases for the embedded store, timed by an injected clock (etcd ``server/lease/lessor.go``:
``Grant``, ``Renew``, ``Revoke``, ``Attach``, the expired-lease heap and ``runLoop``)."""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import Callable

from kbook.controlplane.etcd.types import EtcdError, ErrLeaseExist, ErrLeaseNotFound

MIN_LEASE_TTL = 2  # seconds: ceil(3/2 * election ticks * tick), server.go minTTL at the defaults
MAX_LEASE_TTL = 9_000_000_000  # lessor.go MaxLeaseTTL
LEASE_CHECK_INTERVAL = 0.5  # seconds between expiry checks, lessor.go runLoop
LEASE_REVOKE_RATE = 1000  # leases per second, lessor.go defaultLeaseRevokeRate


def first_check(origin: float, last: int, bound: float) -> int:
    """The first check of a ticker started at ``origin`` (the k-th at ``origin + k *
    LEASE_CHECK_INTERVAL``) that comes after check ``last`` and not before ``bound``."""
    k = max(last + 1, math.ceil((bound - origin) / LEASE_CHECK_INTERVAL))
    while k > last + 1 and origin + (k - 1) * LEASE_CHECK_INTERVAL >= bound:
        k -= 1
    while origin + k * LEASE_CHECK_INTERVAL < bound:
        k += 1
    return k


def delay_to(now: float, at: float) -> float:
    """The delay that, added to ``now``, gives exactly ``at`` (``at - now`` may round off)."""
    delay = at - now
    while now + delay < at:
        delay = math.nextafter(delay, math.inf)
    while now + delay > at:
        delay = math.nextafter(delay, -math.inf)
    return delay


class ManualClock:
    """A clock that moves only when told to: the embedded store's default time source."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        """Move time forward by ``seconds``; returns the new time."""
        self.now += seconds
        return self.now


@dataclass(eq=False)
class Lease:
    id: int
    ttl: int
    expiry: float
    keys: set[str] = field(default_factory=set)


class Lessor:
    """Granted leases, their expiry times and the keys attached to each."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.leases: dict[int, Lease] = {}
        self._heap: list[tuple[float, int]] = []  # (expiry, id); stale entries skipped
        self._next_id = 1

    def grant(self, ttl: int, lease_id: int = 0) -> Lease:
        """A new lease; a TTL below the minimum is raised to it."""
        if ttl > MAX_LEASE_TTL:
            raise EtcdError("etcdserver: too large lease TTL")
        if lease_id == 0:
            while self._next_id in self.leases:
                self._next_id += 1
            lease_id = self._next_id
            self._next_id += 1
        elif lease_id in self.leases:
            raise ErrLeaseExist()
        ttl = max(ttl, MIN_LEASE_TTL)
        lease = Lease(lease_id, ttl, self.clock() + ttl)
        self.leases[lease_id] = lease
        heapq.heappush(self._heap, (lease.expiry, lease_id))
        return lease

    def get(self, lease_id: int) -> Lease:
        lease = self.leases.get(lease_id)
        if lease is None:
            raise ErrLeaseNotFound()
        return lease

    def renew(self, lease_id: int) -> int:
        """Reset the lease's remaining time to its TTL; an expired lease is as good as gone."""
        lease = self.get(lease_id)
        if self.remaining(lease) <= 0:
            raise ErrLeaseNotFound()
        lease.expiry = self.clock() + lease.ttl
        heapq.heappush(self._heap, (lease.expiry, lease_id))
        return lease.ttl

    def remaining(self, lease: Lease) -> float:
        return lease.expiry - self.clock()

    def remove(self, lease_id: int) -> Lease:
        lease = self.get(lease_id)
        del self.leases[lease_id]
        return lease

    def earliest_expiry(self) -> float | None:
        """When the first lease expires (None without leases); drops stale heap entries."""
        heap = self._heap
        while heap:
            expiry, lease_id = heap[0]
            lease = self.leases.get(lease_id)
            if lease is not None and lease.expiry == expiry:
                return expiry
            heapq.heappop(heap)
        return None

    def expired(self, limit: int) -> list[int]:
        """Up to ``limit`` expired leases, earliest expiry first (``findExpiredLeases``)."""
        now, heap, found = self.clock(), self._heap, []
        while heap and len(found) < limit and heap[0][0] <= now:
            expiry, lease_id = heapq.heappop(heap)
            lease = self.leases.get(lease_id)
            if lease is not None and lease.expiry == expiry:
                found.append(lease_id)
        return found
