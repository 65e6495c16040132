"""client-go work queue semantics and the default controller rate limiter, in simulated time."""

from __future__ import annotations

import pytest
import simpy

from kbook.controlplane.controllers.workqueue import (
    BucketRateLimiter,
    ItemExponentialFailureRateLimiter,
    RateLimitingQueue,
    default_controller_rate_limiter,
)


def drain(env: simpy.Environment, q: RateLimitingQueue) -> list:
    got = []

    def worker():
        while True:
            item = yield q.get()
            if item is None:
                return
            got.append((env.now, item))
            q.done(item)

    env.process(worker())
    return got


def test_dedup_while_queued():
    env = simpy.Environment()
    q = RateLimitingQueue(env)
    for item in ["a", "b", "a", "a"]:
        q.add(item)
    assert len(q) == 2
    got = drain(env, q)
    env.run(until=1)
    assert [i for _, i in got] == ["a", "b"]


def test_item_in_processing_is_not_handed_out_twice():
    env = simpy.Environment()
    q = RateLimitingQueue(env)
    q.add("a")
    first = q.get()
    second = q.get()
    env.run(until=0.001)
    assert first.value == "a" and not second.triggered
    q.add("a")  # dirty while processing: not queued yet
    assert len(q) == 0
    env.run(until=0.002)
    assert not second.triggered
    q.done("a")  # now it is queued again and handed to the waiting worker
    env.run(until=0.003)
    assert second.value == "a"


def test_exponential_backoff_values():
    limiter = ItemExponentialFailureRateLimiter(0.005, 1000.0)
    delays = [limiter.when("x") for _ in range(21)]
    assert delays[:4] == pytest.approx([0.005, 0.010, 0.020, 0.040])
    assert delays[17] == pytest.approx(0.005 * 2**17)  # 655.36 s
    assert delays[18] == 1000.0 and delays[20] == 1000.0  # capped from the 19th requeue
    assert limiter.num_requeues("x") == 21
    limiter.forget("x")
    assert limiter.when("x") == pytest.approx(0.005)


def test_bucket_limiter_burst_then_10_qps():
    env = simpy.Environment()
    bucket = BucketRateLimiter(10.0, 100, lambda: env.now)
    delays = [bucket.when(i) for i in range(103)]
    assert delays[:100] == [0.0] * 100
    assert delays[100:] == pytest.approx([0.1, 0.2, 0.3])


def test_default_rate_limiter_is_max_of_both():
    env = simpy.Environment()
    limiter = default_controller_rate_limiter(lambda: env.now)
    for i in range(100):  # use up the shared burst with other items
        limiter.when(f"other-{i}")
    assert limiter.when("x") == pytest.approx(0.1)  # the bucket wins over 5 ms
    env.run(until=50)  # the bucket refills
    for _ in range(15):
        d = limiter.when("x")
    assert d == pytest.approx(0.005 * 2**15)  # per-item backoff wins


def test_add_rate_limited_and_forget_in_simulated_time():
    env = simpy.Environment()
    q = RateLimitingQueue(env)
    got = drain(env, q)
    for _ in range(3):
        q.add_rate_limited("k")  # 5 ms, 10 ms, 20 ms: the earliest pending time wins
    env.run(until=1)
    assert got == [(pytest.approx(0.005), "k")]
    assert q.num_requeues("k") == 3
    q.forget("k")
    assert q.num_requeues("k") == 0


def test_add_after_keeps_earliest_and_shutdown_releases_workers():
    env = simpy.Environment()
    q = RateLimitingQueue(env)
    got = drain(env, q)
    q.add_after("k", 5)
    q.add_after("k", 2)
    q.add_after("k", 9)
    env.run(until=20)
    assert got == [(2, "k")]
    q.shut_down()
    q.add("late")
    env.run(until=30)
    assert got == [(2, "k")]
