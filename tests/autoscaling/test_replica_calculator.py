"""The replica calculator against upstream's replica_calculator_test.go, for the cases the
public conformance vectors do not carry (those run in tests/conformance).

Fixtures follow the Go test's ``calcScenario``: pods ``test-pod-<i>`` with two containers
that share the pod's CPU request, Running and Ready unless told, started at Go's zero time
unless told ("hot" = now, "cool" = 3 minutes ago); per-container usage levels; the
metrics' timestamp is Go's zero time and their window one minute; the calculator runs
with the tests' 2 min CPU initialization period and 10 s readiness delay.
"""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from kbook.api import Pod
from kbook.api.core import Container, PodCondition, PodSpec, PodStatus, ResourceRequirements
from kbook.api.meta import ObjectMeta
from kbook.autoscaling import (
    ContainerMetrics,
    MetricsError,
    PodMetric,
    PodMetrics,
    ReplicaCalculator,
    Tolerances,
    calculate_requests,
    get_resource_metric,
    group_pods,
)
from kbook.autoscaling.metrics import (
    API_EPOCH,
    GO_ZERO_TIME,
    MAX_INT32,
    MAX_INT64,
    ZERO_TIME,
    get_metric_usage_ratio,
    get_resource_utilization_ratio,
    go_quo,
)
from kbook.errors import KbookError
from kbook.quantity import Quantity

NOW = 10_000.0
HOT, COOL = 0.0, -180.0  # hotCPUCreationTime, coolCPUCreationTime (relative to NOW)
DEFAULT = Tolerances(0.1, 0.1)
CALC = ReplicaCalculator(120.0, 10.0)


def at(relative: float | None) -> str:
    """A ``metav1.Time`` relative to NOW; None is Go's zero time."""
    if relative is None:
        return GO_ZERO_TIME
    return (API_EPOCH + timedelta(seconds=NOW + relative)).strftime("%Y-%m-%dT%H:%M:%SZ")


def container(name: str, cpu_milli: int | None = None, restart_policy: str | None = None) -> Container:
    requests = {} if cpu_milli is None else {"cpu": Quantity.from_milli(cpu_milli)}
    return Container(name=name, resources=ResourceRequirements(requests=requests), restart_policy=restart_policy)


def pod(name: str, *, phase: str = "Running", ready: str | None = "True", start: float | None | str = None,
        transition: float | None = None, deleted: bool = False, containers: list[Container] | None = None,
        init_containers: list[Container] | None = None) -> Pod:
    conditions = [] if ready is None else [
        PodCondition(type="Ready", status=ready, last_transition_time=at(transition))]
    return Pod(
        metadata=ObjectMeta(name=name, deletion_timestamp=at(0) if deleted else None),
        spec=PodSpec(containers=containers or [], init_containers=init_containers or []),
        status=PodStatus(phase=phase, conditions=conditions,
                         start_time=None if start == "unset" else at(start)),  # type: ignore[arg-type]
    )


def scenario(current: int, requests: list[int], levels: list[list[int]], *, readiness: list[str] | None = None,
             start: list[float | None] | None = None, phases: list[str] | None = None,
             deleted: list[bool] | None = None,
             pod_names: list[str] | None = None) -> tuple[list[Pod], list[PodMetrics]]:
    """``calcScenario`` with a CPU resource: the pods the lister returns and the metrics API items."""
    count = max(current, len(phases or []))
    pods = []
    for i in range(count):
        request = requests[i] if i < len(requests) else None
        pods.append(pod(
            f"test-pod-{i}",
            phase=phases[i] if phases else "Running",
            ready=readiness[i] if readiness and i < len(readiness) else "True",
            start=start[i] if start else None,
            deleted=bool(deleted and deleted[i]),
            containers=[container("container1", request), container("container2", request)],
        ))
    items = []
    for i, level in enumerate(levels):
        name = pod_names[i] if pod_names and i < len(pod_names) else f"test-pod-{i}"
        cs = [ContainerMetrics(f"container{j + 1}", {"cpu": m}) for j, m in enumerate(level)]
        cs += [ContainerMetrics("", {})] * (2 - len(level))  # the fake's zero-valued entries
        items.append(PodMetrics(name, ZERO_TIME, 60.0, tuple(cs)))
    return pods, items


def same(*levels: int) -> list[list[int]]:
    """``makePodMetricLevels``: both containers of pod i report levels[i]."""
    return [[m, m] for m in levels]


def resource_replicas(pods, items, current, target, container="", tolerances=DEFAULT):
    metrics, timestamp = get_resource_metric(items, "cpu", container)
    return CALC.get_resource_replicas(current, target, "cpu", tolerances, pods, metrics, timestamp, NOW, container)


@pytest.mark.parametrize("name, current, requests, levels, kwargs, container, target, expected", [
    ("scale up: unready pod scales less", 3, [1000] * 3, same(300, 500, 700),
     {"readiness": ["False", "True", "True"]}, "", 30, (4, 60, 1200)),
    ("scale up: container metrics with failed pods ignored", 2, [1000] * 4, [[1000, 500], [9000, 700]],
     {"readiness": ["True", "True", "False", "False"], "phases": ["Running", "Running", "Failed", "Failed"]},
     "container2", 30, (4, 60, 600)),
    ("scale up: container metrics with pods being deleted ignored", 2, [1000] * 4, same(500, 700),
     {"readiness": ["True", "True", "False", "False"], "phases": ["Running"] * 4,
      "deleted": [False, False, True, True]}, "container1", 30, (4, 60, 600)),
    ("scale down: container metric", 5, [1000] * 5, [[1000, 100], [1000, 300], [1000, 500], [1000, 250], [1000, 250]],
     {}, "container2", 50, (3, 28, 280)),
    ("scale down: container metric excludes unready pods", 5, [1000] * 5,
     [[1000, 100], [1000, 300], [1000, 500], [1000, 250], [1000, 250]],
     {"readiness": ["True", "True", "True", "False", "False"]}, "container2", 50, (2, 30, 300)),
    ("scale down: ignore hot-CPU pods", 5, [1000] * 5, same(100, 300, 500, 250, 250),
     {"start": [COOL, COOL, COOL, HOT, HOT]}, "", 50, (2, 30, 600)),
    ("scale down: container metric with failed pods ignored", 5, [1000] * 7,
     [[1000, 100], [1000, 300], [1000, 500], [1000, 250], [1000, 250]],
     {"readiness": ["True"] * 5 + ["False"] * 2, "phases": ["Running"] * 5 + ["Failed"] * 2},
     "container2", 50, (3, 28, 280)),
    ("scale down: still-running pods being deleted are ignored", 5, [1000] * 7,
     [[1000, 100], [1000, 300], [1000, 500], [1000, 250], [1000, 250]],
     {"readiness": ["True"] * 5 + ["False"] * 2, "phases": ["Running"] * 7, "deleted": [False] * 5 + [True] * 2},
     "container2", 50, (3, 28, 280)),
    ("some pods missing metrics scales down", 4, [1000] * 4, same(400, 95), {}, "", 100, (3, 24, 495)),
    ("no change: metric below target", 2, [1000] * 2, same(600), {}, "", 100, (2, 60, 1200)),
    ("no change: unready pod metric missing", 3, [1000] * 3, same(100, 450),
     {"readiness": ["False", "True", "True"]}, "", 50, (3, 45, 900)),
    ("scale down: target over 100", 4, [1000, 1000, 2000, 2000], same(200, 100, 100),
     {"readiness": ["False", "True", "True", "True"]}, "", 300, (2, 6, 200)),
])
def test_resource_replicas(name, current, requests, levels, kwargs, container, target, expected):
    pods, items = scenario(current, requests, levels, **kwargs)
    r = resource_replicas(pods, items, current, target, container)
    assert (r.replicas, r.utilization, r.raw_utilization) == expected, name
    assert r.timestamp == ZERO_TIME


@pytest.mark.parametrize("name, tolerances, levels, expected", [
    ("outside 8% scale-up tolerance (superfluous scale-down tolerance)", Tolerances(2.0, 0.08),
     same(1100, 1080, 1090), (4, 109, 2180)),
    ("within 36% scale-down tolerance", Tolerances(0.36, 0.1), same(660, 640, 650), (3, 65, 1300)),
    ("outside 34% scale-down tolerance", Tolerances(0.34, 0.1), same(660, 640, 650), (2, 65, 1300)),
])
def test_resource_tolerances_per_direction(name, tolerances, levels, expected):
    pods, items = scenario(3, [900, 1000, 1100], levels)
    r = resource_replicas(pods, items, 3, 100, tolerances=tolerances)
    assert (r.replicas, r.utilization, r.raw_utilization) == expected, name


@pytest.mark.parametrize("name, current, requests, levels, pod_names, error", [
    ("disjoint pod and metric names", 1, [1000], same(100), ["an-older-pod-name"],
     "no metrics returned matched known pods"),
    ("no metrics returned from metrics API", 4, [1000] * 3, [], None,
     "unable to get metrics for resource cpu: no metrics returned from resource metrics API"),
    ("missing CPU request on container", 1, [], same(200), None,
     "missing request for cpu in container container1 of Pod test-pod-0"),
])
def test_resource_errors(name, current, requests, levels, pod_names, error):
    pods, items = scenario(current, requests, levels, pod_names=pod_names)
    with pytest.raises(MetricsError, match=error):
        resource_replicas(pods, items, current, 100)


def test_all_pods_unready_is_an_error():
    pods, items = scenario(2, [1000] * 2, same(500, 500), readiness=["False", "False"])
    with pytest.raises(MetricsError, match=r"did not receive metrics for targeted pods \(pods might be unready\)"):
        resource_replicas(pods, items, 2, 50)


def test_no_pods_is_an_error():
    _, items = scenario(1, [1000], same(500))
    with pytest.raises(MetricsError, match="no pods returned by selector while calculating replica count"):
        resource_replicas([], items, 1, 50)


def test_computed_tolerance_alg_implementation():
    """TestReplicaCalcComputedToleranceAlgImplementation: a target just outside the
    tolerance scales down, one just inside does not."""
    start_pods, used = 10, 10 * 150
    requested = 2 * used
    requested_to_used = float(requested // used)
    per_pod = requested // start_pods
    requests = [per_pod + d for d in (100, -100, 10, -10, 2, -2, 1, -1, 0, 0)]
    pods, items = scenario(start_pods, requests, same(*[used // 10] * 10))

    target = abs(1 / (requested_to_used * (1 - 0.1))) + 0.01
    final_pods = math.ceil(used / (requested * target) * start_pods)
    r = resource_replicas(pods, items, start_pods, int(target * 100))
    assert (r.replicas, r.utilization, r.raw_utilization) == (final_pods, used * 100 // requested, 2 * used // 10)
    assert final_pods == 9

    target = abs(1 / (requested_to_used * (1 - 0.1))) + 0.004
    assert resource_replicas(pods, items, start_pods, int(target * 100)).replicas == start_pods


def metric_pods(current: int, readiness: list[str] | None = None,
                start: list[float | None] | None = None) -> list[Pod]:
    return scenario(current, [], [], readiness=readiness, start=start)[0]


def pod_values(*levels: int) -> dict[str, PodMetric]:
    return {f"test-pod-{i}": PodMetric(ZERO_TIME, 60.0, v) for i, v in enumerate(levels)}


@pytest.mark.parametrize("name, current, kwargs, levels, target, tolerances, expected", [
    ("scale up: unready hot-CPU pod scales less", 3, {"readiness": ["True", "True", "False"],
                                                      "start": [COOL, COOL, HOT]},
     (50000, 10000, 30000), 15000, DEFAULT, (6, 30000)),
    ("scale up: unready hot-CPU pods avoid scale-down", 3, {"readiness": ["False", "True", "False"],
                                                            "start": [HOT, COOL, HOT]},
     (50000, 15000, 30000), 15000, DEFAULT, (7, 31666)),
    ("scale down", 5, {}, (12000,) * 5, 20000, DEFAULT, (3, 12000)),
    ("within default tolerance", 3, {}, (20000, 21000, 21000), 20000, DEFAULT, (3, 20666)),
    ("outside configurable 1% tolerance", 3, {}, (20000, 21000, 21000), 20000, Tolerances(0.1, 0.01), (4, 20666)),
    ("no change: missing metrics", 5, {}, (20000, 19000, 21000), 20000, DEFAULT, (5, 20000)),
])
def test_pod_metric_replicas(name, current, kwargs, levels, target, tolerances, expected):
    r = CALC.get_metric_replicas(current, target, tolerances, metric_pods(current, **kwargs), pod_values(*levels),
                                 ZERO_TIME, NOW)
    assert (r.replicas, r.usage) == expected, name
    assert r.timestamp == ZERO_TIME


def test_raw_resource_replicas_apply_cpu_readiness():
    """GetRawResourceReplicas passes the resource to groupPods: a hot, unready CPU pod is
    re-added at 0 on a scale-up, which a Pods metric would not do."""
    pods = metric_pods(3, readiness=["True", "True", "False"], start=[COOL, COOL, HOT])
    values = pod_values(50000, 10000, 30000)
    raw = CALC.get_raw_resource_replicas(3, 15000, "cpu", DEFAULT, pods, values, ZERO_TIME, NOW)
    # Ready pods average 30000 (ratio 2); re-adding the unready pod at 0 gives 20000 over 3 pods.
    assert (raw.replicas, raw.usage) == (4, 30000)
    plain = CALC.get_metric_replicas(3, 15000, DEFAULT, pods, values, ZERO_TIME, NOW)
    assert (plain.replicas, plain.usage) == (6, 30000)


@pytest.mark.parametrize("name, current, readiness, usage, target, tolerances, expected", [
    ("scale up: ignores unready pods", 3, ["False", "True", "False"], 50000, 10000, DEFAULT, 5),
    ("scale down", 5, None, 12000, 20000, DEFAULT, 3),
    ("within default tolerance", 3, None, 20666, 20000, DEFAULT, 3),
    ("outside configurable 1% tolerance", 3, None, 20666, 20000, Tolerances(0.1, 0.01), 4),
])
def test_object_metric_replicas(name, current, readiness, usage, target, tolerances, expected):
    r = CALC.get_object_metric_replicas(current, target, tolerances, metric_pods(current, readiness), usage)
    assert (r.replicas, r.usage) == (expected, usage), name


def test_object_value_from_zero_replicas_ignores_tolerance():
    """getUsageRatioReplicaCount: from 0 replicas the proposal is ceil(ratio), no tolerance."""
    assert CALC.get_object_metric_replicas(0, 20000, DEFAULT, [], 21000).replicas == 2
    assert CALC.get_object_metric_replicas(0, 20000, DEFAULT, [], 0).replicas == 0


@pytest.mark.parametrize("name, status, usage, target, expected", [
    ("scale down", 5, 6000, 2000, (3, 1200)),
    ("within default tolerance", 4, 20166, 5000, (4, 5042)),
])
def test_object_per_pod_metric_replicas(name, status, usage, target, expected):
    r = CALC.get_object_per_pod_metric_replicas(status, target, DEFAULT, usage, ZERO_TIME)
    assert (r.replicas, r.usage) == expected, name


def test_external_metric_within_default_tolerance():
    r = CALC.get_external_metric_replicas(3, 8888, DEFAULT, metric_pods(3), [8600])
    assert (r.replicas, r.usage) == (3, 8600)


@pytest.mark.parametrize("name, current, values, target, tolerances, expected", [
    ("replica count overflow saturates to MaxInt32", 1, [MAX_INT64], 1, DEFAULT, (MAX_INT32, MAX_INT64)),
    ("usage overflow with huge target leaves replicas unchanged", 1, [MAX_INT64], MAX_INT64, DEFAULT, (1, MAX_INT64)),
    ("within default tolerance", 3, [8600], 2900, DEFAULT, (3, 2867)),
    ("outside configurable 1% tolerance", 3, [8600], 2800, Tolerances(0.1, 0.01), (4, 2867)),
    ("a sum that overflows int64 is MaxInt64", 3, [MAX_INT64 // 2 + 1] * 2, MAX_INT64, DEFAULT, (1, MAX_INT64)),
])
def test_external_per_pod_metric_replicas(name, current, values, target, tolerances, expected):
    r = CALC.get_external_per_pod_metric_replicas(current, target, tolerances, values, ZERO_TIME)
    assert (r.replicas, r.usage) == expected, name


# -- groupPods ---------------------------------------------------------------------------


def _metric(timestamp: float | None = None, window: float = 0.0) -> PodMetric:
    """A PodMetric; no timestamp is Go's zero time."""
    return PodMetric(ZERO_TIME if timestamp is None else NOW + timestamp, window, 1)


@pytest.mark.parametrize("name, p, metric, expected", [
    ("unready a ready pod without fresh metrics during initialization period - CPU",
     pod("bentham", phase="Succeeded", start=-60, transition=-30), _metric(0, 60), (0, {"bentham"}, set(), set())),
    ("unready an unready pod during initialization period - CPU",
     pod("lucretius", phase="Succeeded", ready="False", start=-600, transition=-594), _metric(),
     (0, {"lucretius"}, set(), set())),
    ("count in an unready pod that was ready after initialization period - CPU",
     pod("lucretius", phase="Succeeded", ready="False", start=-600, transition=-540), _metric(),
     (1, set(), set(), set())),
    ("pending pods are unreadied", pod("unscheduled", phase="Pending", ready=None, start="unset"), None,
     (0, {"unscheduled"}, set(), set())),
    ("ignore pods with deletion timestamps", pod("deleted", phase="Pending", ready=None, deleted=True), _metric(),
     (0, set(), set(), {"deleted"})),
    ("ignore pods in a failed state", pod("failed", phase="Failed", ready=None, start="unset"), _metric(),
     (0, set(), set(), {"failed"})),
])
def test_group_pods(name, p, metric, expected):
    metrics = {} if metric is None else {p.metadata.name: metric}
    g = group_pods([p], metrics, "cpu", 120.0, 10.0, NOW)
    assert (g.ready_pod_count, g.unready, g.missing, g.ignored) == expected, name


def test_group_pods_void_and_non_cpu_resources():
    g = group_pods([], {}, "cpu", 120.0, 10.0, NOW)
    assert (g.ready_pod_count, g.unready, g.missing, g.ignored) == (0, set(), set(), set())
    # Readiness is only examined for CPU: an unready, just-started pod counts for memory.
    p = pod("a", ready="False", start=HOT)
    assert group_pods([p], {"a": _metric(0, 60)}, "memory", 120.0, 10.0, NOW).ready_pod_count == 1
    assert group_pods([p], {"a": _metric(0, 60)}, "cpu", 120.0, 10.0, NOW).unready == {"a"}


# -- calculateRequests ---------------------------------------------------------------------


def _requests_pod(*containers: Container, init: list[Container] | None = None, pod_level: int | None = None) -> Pod:
    p = pod("test-pod", containers=list(containers), init_containers=init)
    if pod_level is not None:
        p.spec.resources = ResourceRequirements(
            requests={"cpu": Quantity.from_milli(pod_level)})
    return p


@pytest.mark.parametrize("name, p, container, gate, expected", [
    ("Pod-level resources are enabled, but not set: fallback to sum container requests",
     _requests_pod(container("container1", 100), container("container2", 50)), "", True, {"test-pod": 150}),
    ("Pod-level resources override container requests when feature enabled and pod resources specified",
     _requests_pod(container("container1", 100), container("container2", 50), pod_level=800), "", True,
     {"test-pod": 800}),
    ("Pod-level requests are not read with the feature gate off",
     _requests_pod(container("container1", 100), container("container2", 50), pod_level=800), "", False,
     {"test-pod": 150}),
    ("Container: if a container name is specified, calculate requests only for that container and ignore "
     "pod-level requests",
     _requests_pod(container("container1", 100), container("container2", 50), pod_level=800), "container1", True,
     {"test-pod": 100}),
    ("pod with restartable init containers",
     _requests_pod(container("container1", 100),
                   init=[container("init-container1", 20), container("restartable-container1", 50, "Always")]),
     "", False, {"test-pod": 150}),
    ("a sidecar can be the named container",
     _requests_pod(container("container1", 100), init=[container("sidecar", 50, "Always")]), "sidecar", False,
     {"test-pod": 50}),
])
def test_calculate_requests(name, p, container, gate, expected):
    assert calculate_requests([p], container, "cpu", gate) == expected, name


def test_calculate_requests_errors():
    assert calculate_requests([], "", "cpu") == {}
    missing = _requests_pod(container("container1"), container("container2", 50))
    with pytest.raises(MetricsError, match="^missing request for cpu in container container1 of Pod test-pod$"):
        calculate_requests([missing], "", "cpu")
    init_without_request = _requests_pod(container("container1", 100), init=[container("init", None)])
    # A plain init container never counts, request or not.
    assert calculate_requests([init_without_request], "", "cpu") == {"test-pod": 100}


# -- metrics arithmetic -------------------------------------------------------------------


def test_pod_metrics_sum_containers_and_drop_incomplete_pods():
    items = [
        PodMetrics("a", 5.0, 60.0, (ContainerMetrics("c1", {"cpu": 100}), ContainerMetrics("c2", {"cpu": 50}))),
        PodMetrics("b", 5.0, 60.0, (ContainerMetrics("c1", {"cpu": 100}), ContainerMetrics("c2", {}))),
        PodMetrics("c", 5.0, 60.0, ()),
    ]
    info, timestamp = get_resource_metric(items, "cpu")
    assert info == {"a": PodMetric(5.0, 60.0, 150)} and timestamp == 5.0
    info, _ = get_resource_metric(items, "cpu", "c2")
    assert info == {"a": PodMetric(5.0, 60.0, 50)}  # b lacks the usage, c the container: missing, no error


def test_utilization_is_an_integer_percentage_of_sums():
    metrics = {"a": PodMetric(0, 60, 990), "b": PodMetric(0, 60, 0), "x": PodMetric(0, 60, 10**6)}
    ratio, utilization, raw = get_resource_utilization_ratio(metrics, {"a": 2000, "b": 2000}, 30)
    assert (utilization, raw) == (24, 495) and ratio == 24 / 30  # 990*100/4000 = 24.75 truncated; x has no request
    with pytest.raises(MetricsError, match="resource utilization 214748364800 is outside the int32 range"):
        get_resource_utilization_ratio({"a": PodMetric(0, 60, 2**31 * 1000)}, {"a": 1000}, 50)


def test_go_integer_division_truncates_toward_zero():
    assert (go_quo(7, 2), go_quo(-7, 2), go_quo(7, -2)) == (3, -3, -3)
    assert get_metric_usage_ratio({"a": PodMetric(0, 60, 10), "b": PodMetric(0, 60, 11)}, 7) == (10 / 7, 10)


def test_tolerances_and_errors():
    assert Tolerances(0.1, 0.1).is_within(0.9) and Tolerances(0.1, 0.1).is_within(1.1)
    assert not Tolerances(0.1, 0.1).is_within(1.1000001)
    assert str(Tolerances(0.1, 0.25)) == "[down:10.0%, up:25.0%]"
    assert issubclass(MetricsError, KbookError)


def test_the_simulated_epoch_is_the_api_servers():
    from kbook.controlplane.apiserver.metadata import EPOCH

    assert API_EPOCH == EPOCH


def test_pod_level_requests_are_pod_requests():
    """calculatePodLevelRequests reads resourcehelpers.PodRequests: the pod-level value of
    a supported resource plus the overhead; another resource comes from the containers
    (an init container counts when it is the largest), and none at all is an error."""
    with_overhead = _requests_pod(container("c", 100), pod_level=800)
    with_overhead.spec.overhead = {"cpu": Quantity.from_milli(50)}
    assert calculate_requests([with_overhead], "", "cpu", True) == {"test-pod": 850}

    memory_only = _requests_pod(container("c", 100), init=[container("init", 300), container("side", 50, "Always")])
    memory_only.spec.resources = ResourceRequirements(
        requests={"memory": Quantity.parse("1Gi")})
    assert calculate_requests([memory_only], "", "cpu", True) == {"test-pod": 300}  # max(100 + 50, 300)

    nothing = _requests_pod(container("c"))
    nothing.spec.resources = ResourceRequirements(
        requests={"memory": Quantity.parse("1Gi")})
    with pytest.raises(MetricsError, match="^missing pod-level request for cpu in Pod test-pod$"):
        calculate_requests([nothing], "", "cpu", True)
