import math

import numpy as np
import pandas as pd
import pytest

from kbook.autoscaling.workload import Workload, WorkloadError, WorkloadStats


def test_load_is_spread_evenly_over_ready_pods():
    w = Workload(40.0, 0.05)  # 2 cores of demand
    load = w.serve(0.0, [None, None, None, None])
    assert [p.usage for p in load.pods] == [0.5] * 4
    assert [p.rate for p in load.pods] == [10.0] * 4


def test_usage_is_capped_at_the_cpu_limit_and_a_saturated_pod_misses_the_slo():
    w = Workload(40.0, 0.05)
    load = w.serve(0.0, [0.5, 0.5])  # 1 core of demand per pod, limit 500m
    assert [p.usage for p in load.pods] == [0.5, 0.5]
    assert load.latency == math.inf and load.slo_violation == 1.0


def test_processor_sharing_latency_and_exponential_slo_tail():
    w = Workload(10.0, 0.1, slo_s=0.5)  # one pod, 1 core, rho = 1.0 * 0.1 ... per pod
    load = w.serve(0.0, [None, None])  # 5 req/s each, rho = 0.5
    pod = load.pods[0]
    assert pod.utilization == pytest.approx(0.5)
    assert pod.latency == pytest.approx(0.1 / (1 - 0.5))
    assert pod.slo_violation == pytest.approx(math.exp(-0.5 / 0.2))
    assert load.latency == pytest.approx(0.2)


def test_no_ready_pod_fails_every_request():
    load = Workload(5.0, 0.1).serve(0.0, [])
    assert load.slo_violation == 1.0 and load.latency == math.inf
    assert Workload(0.0, 0.1).serve(0.0, []).slo_violation == 0.0


def test_series_rate_is_held_between_points():
    w = Workload(pd.Series([1.0, 5.0], index=[0.0, 60.0]), 0.1)
    assert w.rate_at(-1) == 0.0 and w.rate_at(59.9) == 1.0 and w.rate_at(60) == 5.0 and w.rate_at(1e6) == 5.0


def test_series_rate_looked_up_in_any_order_is_the_step_it_falls_in():
    times, values = np.array([0.0, 15.0, 30.0, 45.0]), np.array([1.0, 2.0, 3.0, 4.0])
    w = Workload(pd.Series(values, index=times), 0.1)
    for t in [50.0, 0.0, 14.999, 15.0, -1.0, 29.0, 30.0, 16.0, 45.0, 1e9, -np.inf, 44.9]:
        i = int(np.searchsorted(times, t, side="right")) - 1
        assert w.rate_at(t) == (values[i] if i >= 0 else 0.0), t


def test_serve_reuses_its_last_result_only_for_the_same_rate_and_pods():
    w = Workload(pd.Series([10.0, 20.0], index=[0.0, 15.0]), 0.05)
    first = w.serve(0.0, [None, 0.5])
    assert w.serve(5.0, (None, 0.5)) is first  # same rate, same pods: the same immutable result
    for t, cores in [(5.0, [None]), (15.0, [None]), (16.0, [None, 0.5]), (16.0, [0.5, None])]:
        load = w.serve(t, cores)
        assert load == Workload(w.rate_at(t), 0.05).serve(t, cores)  # as a fresh workload computes it


def test_pods_with_the_same_cores_get_one_share_each_computed_as_alone():
    w = Workload(30.0, 0.05, default_cores=1.0)
    load = w.serve(0.0, (0.5, None, 0.5, 2.0, 1.0))
    assert load.pods == tuple(w._pod(6.0, c) for c in (0.5, 1.0, 0.5, 2.0, 1.0))
    assert load.pods[0] is load.pods[2]  # immutable: shared
    assert load.latency == sum(p.rate * p.latency for p in load.pods) / 30.0
    assert load.slo_violation == sum(p.rate * p.slo_violation for p in load.pods) / 30.0


def test_stats_accumulate_pod_hours_and_violations():
    w = Workload(10.0, 0.1, slo_s=0.5)
    stats = WorkloadStats()
    stats.add(1800.0, w.serve(0, [None, None]), pods=3)
    stats.add(1800.0, w.serve(0, []), pods=1)
    assert stats.pod_hours == pytest.approx(2.0)
    assert stats.requests == pytest.approx(36000.0)
    assert stats.slo_violation == pytest.approx((math.exp(-2.5) + 1.0) / 2)
    assert stats.mean_latency == pytest.approx(0.2)


@pytest.mark.parametrize("kwargs, field", [({"cpu_per_request": 0}, "cpu_per_request"),
                                           ({"cpu_per_request": 0.1, "slo_s": -1}, "slo_s"),
                                           ({"cpu_per_request": 0.1, "default_cores": 0}, "default_cores")])
def test_bad_parameters_name_the_field(kwargs, field):
    with pytest.raises(WorkloadError, match=field):
        Workload(1.0, **kwargs)
    with pytest.raises(WorkloadError, match="rate"):
        Workload(-1.0, 0.1).serve(0.0, [None])
