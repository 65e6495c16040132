"""pod_requests / pod_limits against component-helpers' helpers_test.go cases."""

from pathlib import Path

import pytest

from kbook.api import (
    Container,
    Deployment,
    PodSpec,
    ResourceRequirements,
    load_file,
    pod_limits,
    pod_requests,
    template_requests,
)
from kbook.quantity import Quantity


def rl(**values: str) -> dict[str, Quantity]:
    return {name.replace("_", "-"): Quantity(v) for name, v in values.items()}


def c(name: str = "", *, requests: dict | None = None, limits: dict | None = None, sidecar: bool = False) -> Container:
    return Container(
        name=name,
        resources=ResourceRequirements(requests=requests or {}, limits=limits or {}),
        restart_policy="Always" if sidecar else None,
    )


# TestPodRequestsAndLimits (getPod with podResources) and TestPodRequestsAndLimitsWithoutOverhead.
@pytest.mark.parametrize(
    "spec, requests, limits",
    [
        (PodSpec(containers=[c(limits=rl(cpu="9"))]), {}, rl(cpu="9")),  # just-limit-no-overhead
        (PodSpec(containers=[c()], overhead=rl(cpu="5", memory="5")), rl(cpu="5", memory="5"), {}),  # just-overhead
        (  # req-and-overhead
            PodSpec(containers=[c(requests=rl(cpu="1", memory="10"))], overhead=rl(cpu="5", memory="5")),
            rl(cpu="6", memory="15"),
            {},
        ),
        (  # all-req-lim-and-overhead
            PodSpec(
                containers=[c(requests=rl(cpu="1", memory="10"), limits=rl(cpu="2", memory="12"))],
                overhead=rl(cpu="5", memory="5"),
            ),
            rl(cpu="6", memory="15"),
            rl(cpu="7", memory="17"),
        ),
        (  # req-some-lim-and-overhead
            PodSpec(
                containers=[c(requests=rl(cpu="1", memory="10"), limits=rl(cpu="2"))], overhead=rl(cpu="5", memory="5")
            ),
            rl(cpu="6", memory="15"),
            rl(cpu="7"),
        ),
    ],
)
def test_requests_and_limits(spec: PodSpec, requests: dict, limits: dict) -> None:
    assert pod_requests(spec) == requests
    assert pod_limits(spec) == limits


TWO = [
    c("foobar", requests=rl(cpu="1", memory="5"), limits=rl(cpu="2", memory="10")),
    c("foobar2", requests=rl(cpu="4", memory="12"), limits=rl(cpu="8", memory="24")),
]


def test_without_overhead_sums_containers() -> None:
    spec = PodSpec(containers=TWO, overhead=rl(cpu="3", memory="8"))
    assert pod_requests(spec, exclude_overhead=True) == rl(cpu="5", memory="17")
    assert pod_limits(spec, exclude_overhead=True) == rl(cpu="10", memory="34")


def test_massive_init_container_dominates() -> None:
    init = [
        c("small-init", requests=rl(cpu="1", memory="5"), limits=rl(cpu="1", memory="5")),
        c("big-init", requests=rl(cpu="40", memory="120"), limits=rl(cpu="80", memory="240")),
    ]
    spec = PodSpec(containers=TWO, init_containers=init, overhead=rl(cpu="3", memory="8"))
    assert pod_requests(spec, exclude_overhead=True) == rl(cpu="40", memory="120")
    assert pod_limits(spec, exclude_overhead=True) == rl(cpu="80", memory="240")
    assert pod_requests(spec) == rl(cpu="43", memory="128")


# TestPodResourceLimits: restartable init containers (sidecars).
@pytest.mark.parametrize(
    "init, containers, expected",
    [
        ([c("r1", limits=rl(cpu="1"), sidecar=True)], [c("c1", limits=rl(cpu="1"))], rl(cpu="2")),
        (  # max(5, restartable init containers(3+2+1) + regular(1)) = 7
            [
                c("init-1", limits=rl(cpu="5")),
                c("r1", limits=rl(cpu="1"), sidecar=True),
                c("r2", limits=rl(cpu="2"), sidecar=True),
                c("r3", limits=rl(cpu="3"), sidecar=True),
            ],
            [c("c1", limits=rl(cpu="1"))],
            rl(cpu="7"),
        ),
        (  # init-2 needs 5 + the sidecars started before it (1+2) = 8
            [
                c("init-1", limits=rl(cpu="5")),
                c("r1", limits=rl(cpu="1"), sidecar=True),
                c("r2", limits=rl(cpu="2"), sidecar=True),
                c("init-2", limits=rl(cpu="5")),
                c("r3", limits=rl(cpu="3"), sidecar=True),
            ],
            [c("c1", limits=rl(cpu="1"))],
            rl(cpu="8"),
        ),
        (  # restartable-init, init and regular: 10 + 200
            [c("r1", limits=rl(cpu="10"), sidecar=True), c("init-1", limits=rl(cpu="200"))],
            [c("c1", limits=rl(cpu="100"))],
            rl(cpu="210"),
        ),
    ],
)
def test_sidecars(init: list[Container], containers: list[Container], expected: dict) -> None:
    spec = PodSpec(init_containers=init, containers=containers)
    assert pod_limits(spec) == expected
    as_requests = PodSpec(
        init_containers=[c(x.name, requests=x.resources.limits, sidecar=x.is_sidecar) for x in init],
        containers=[c(x.name, requests=x.resources.limits) for x in containers],
    )
    assert pod_requests(as_requests) == expected


def test_larger_init_container_and_larger_containers() -> None:
    # TestPodResourceRequests: "nil options, larger init container" / "larger containers".
    spec = PodSpec(init_containers=[c(requests=rl(cpu="4"))], containers=[c(requests=rl(cpu="1"))])
    assert pod_requests(spec) == rl(cpu="4")
    two = [c(requests=rl(cpu="2")), c(requests=rl(cpu="3"))]
    spec = PodSpec(init_containers=[c(requests=rl(cpu="2"))], containers=two)
    assert pod_requests(spec) == rl(cpu="5")


def test_pods_and_templates(data: Path) -> None:
    deploy = load_file(data / "app.yaml")[0]
    assert isinstance(deploy, Deployment)
    # web 250m + log-shipper sidecar 100m < migrate init 1; memory 256Mi + 64Mi > 256Mi.
    assert template_requests(deploy) == rl(cpu="1", memory="320Mi")
    assert pod_limits(deploy.spec.template.spec) == rl(cpu="700m", memory="640Mi")
    batch, _, gpu = load_file(data / "pods.yaml")
    assert pod_requests(batch) == rl(cpu="500m", memory="128Mi")  # limits defaulted into requests
    # trainer 4 cpu + 16Gi, plus the RuntimeClass overhead 250m + 120Mi.
    assert pod_requests(gpu) == rl(cpu="4250m", memory="16504Mi") | {"nvidia.com/gpu": Quantity("1")}
