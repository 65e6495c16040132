"""client-go's work queue (``util/workqueue``) in simulated time.

:class:`RateLimitingQueue` is ``queue.go`` + ``delaying_queue.go`` + ``rate_limiting_queue.go``:
a key added while queued is not queued twice (``dirty``), a key being processed is not handed
to a second worker but re-queued when ``done`` is called (``processing``), ``add_after`` waits
on the SimPy clock, and ``add_rate_limited`` waits as long as the rate limiter says
(``default_rate_limiters.go``).
"""

from __future__ import annotations

from collections import deque
from typing import Callable, Hashable, Protocol

import simpy

__all__ = [
    "RateLimiter",
    "ItemExponentialFailureRateLimiter",
    "TokenBucket",
    "BucketRateLimiter",
    "MaxOfRateLimiter",
    "default_controller_rate_limiter",
    "RateLimitingQueue",
]

Clock = Callable[[], float]


class RateLimiter(Protocol):
    """``workqueue.RateLimiter``."""

    def when(self, item: Hashable) -> float: ...

    def forget(self, item: Hashable) -> None: ...

    def num_requeues(self, item: Hashable) -> int: ...


class ItemExponentialFailureRateLimiter:
    """Per item: ``base * 2**failures``, capped at ``max_delay``."""

    def __init__(self, base_delay: float, max_delay: float):
        self.base_delay, self.max_delay = base_delay, max_delay
        self._failures: dict[Hashable, int] = {}

    def when(self, item: Hashable) -> float:
        exp = self._failures.get(item, 0)
        self._failures[item] = exp + 1
        return min(self.base_delay * 2.0**exp, self.max_delay)

    def forget(self, item: Hashable) -> None:
        self._failures.pop(item, None)

    def num_requeues(self, item: Hashable) -> int:
        return self._failures.get(item, 0)


class TokenBucket:
    """``golang.org/x/time/rate.Limiter``: ``rate`` tokens per second, at most ``burst``;
    starts full. A reservation may drive the balance negative (it is then a delay)."""

    def __init__(self, rate: float, burst: int, clock: Clock):
        self.rate, self.burst, self._clock = rate, burst, clock
        self._tokens = float(burst)
        self._last = clock()

    def _advance(self) -> None:
        now = self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.rate)
        self._last = now

    def reserve(self) -> float:
        """``Reserve().Delay()``: take one token, return how long until it is there."""
        self._advance()
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def try_accept(self) -> bool:
        """``flowcontrol.RateLimiter.TryAccept``: take a token only if one is there now."""
        if self.rate <= 0:
            return False
        self._advance()
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


class BucketRateLimiter:
    """``BucketRateLimiter``: one token bucket shared by every item."""

    def __init__(self, qps: float, burst: int, clock: Clock):
        self.bucket = TokenBucket(qps, burst, clock)

    def when(self, item: Hashable) -> float:
        return self.bucket.reserve()

    def forget(self, item: Hashable) -> None:
        pass

    def num_requeues(self, item: Hashable) -> int:
        return 0


class MaxOfRateLimiter:
    """``MaxOfRateLimiter``: the longest delay of all limiters (each one is charged)."""

    def __init__(self, *limiters: RateLimiter):
        self.limiters = limiters

    def when(self, item: Hashable) -> float:
        return max(limiter.when(item) for limiter in self.limiters)

    def forget(self, item: Hashable) -> None:
        for limiter in self.limiters:
            limiter.forget(item)

    def num_requeues(self, item: Hashable) -> int:
        return max(limiter.num_requeues(item) for limiter in self.limiters)


def default_controller_rate_limiter(clock: Clock) -> MaxOfRateLimiter:
    """``DefaultControllerRateLimiter``: 5 ms * 2^n up to 1000 s per item, and 10 qps with a
    burst of 100 overall."""
    return MaxOfRateLimiter(ItemExponentialFailureRateLimiter(0.005, 1000.0), BucketRateLimiter(10.0, 100, clock))


class RateLimitingQueue:
    """``workqueue.NewTypedRateLimitingQueue``. ``get()`` is a SimPy event whose value is the
    next key, or ``None`` once the queue is shut down."""

    def __init__(self, env: simpy.Environment, rate_limiter: RateLimiter | None = None, name: str = ""):
        self.env, self.name = env, name
        self.rate_limiter = rate_limiter or default_controller_rate_limiter(lambda: env.now)
        self._queue: deque[Hashable] = deque()
        self._dirty: set[Hashable] = set()
        self._processing: set[Hashable] = set()
        self._getters: deque[simpy.Event] = deque()
        self._waiting: dict[Hashable, float] = {}  # delaying queue: item -> ready time
        self.shutting_down = False

    def __len__(self) -> int:
        return len(self._queue)

    def add(self, item: Hashable) -> None:
        if self.shutting_down or item in self._dirty:
            return
        self._dirty.add(item)
        if item in self._processing:
            return
        self._queue.append(item)
        self._hand_out()

    def get(self) -> simpy.Event:
        event = self.env.event()
        if self.shutting_down and not self._queue:
            event.succeed(None)
        else:
            self._getters.append(event)
            self._hand_out()
        return event

    def done(self, item: Hashable) -> None:
        self._processing.discard(item)
        if item in self._dirty:
            self._queue.append(item)
            self._hand_out()

    def shut_down(self) -> None:
        self.shutting_down = True
        while self._getters and not self._queue:
            self._getters.popleft().succeed(None)

    def _hand_out(self) -> None:
        while self._getters and self._queue:
            item = self._queue.popleft()
            self._processing.add(item)
            self._dirty.discard(item)
            self._getters.popleft().succeed(item)

    # delaying_queue.go
    def add_after(self, item: Hashable, delay: float) -> None:
        """Add ``item`` after ``delay`` seconds; an earlier pending time for it wins."""
        if self.shutting_down:
            return
        if delay <= 0:
            self.add(item)
            return
        ready = self.env.now + delay
        if item in self._waiting and self._waiting[item] <= ready:
            return
        self._waiting[item] = ready
        self.env.timeout(ready - self.env.now).callbacks.append(lambda _: self._fire(item, ready))

    def _fire(self, item: Hashable, ready: float) -> None:
        """The timer of ``item`` is up: add it unless an earlier time replaced this one."""
        if self._waiting.get(item) == ready:
            del self._waiting[item]
            self.add(item)

    # rate_limiting_queue.go
    def add_rate_limited(self, item: Hashable) -> None:
        self.add_after(item, self.rate_limiter.when(item))

    def forget(self, item: Hashable) -> None:
        self.rate_limiter.forget(item)

    def num_requeues(self, item: Hashable) -> int:
        return self.rate_limiter.num_requeues(item)
