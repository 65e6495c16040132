"""kbook.container.vm: the container vs VM cost model, its cited defaults and its arithmetic."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kbook.container.vm import CONTAINER, FULL_VM, KINDS, MICRO_VM, App, Machine, compare, density, fleet, parameters
from kbook.errors import KbookError

HOST = Machine(memory_mib=16384, cores=8)


@pytest.mark.parametrize(
    "kind, per_instance_mib, per_instance_cpu, expected, limited_by",
    [
        (CONTAINER, 512 + 10, 0.1, 31, "memory"),  # 16384 // 522 = 31; 8 / 0.1 = 80
        (MICRO_VM, 512 + 5 + 16, 0.35, 22, "cpu"),  # 16384 // 533 = 30; 8 / 0.35 = 22.9
        (FULL_VM, 512 + 30 + 256, 0.35, 20, "memory"),  # 16384 // 798 = 20; 22
    ],
)
def test_density_arithmetic(kind, per_instance_mib, per_instance_cpu, expected, limited_by):
    app = App(memory_mib=512, cpu_cores=0.1)
    f = fleet(kind, app, HOST, 100)
    assert (f.memory_per_instance_mib, f.cpu_per_instance) == (per_instance_mib, pytest.approx(per_instance_cpu))
    assert density(kind, app, HOST) == f.per_host == expected
    assert f.limited_by == limited_by
    assert f.hosts == math.ceil(100 / expected)
    assert f.memory_mib == 100 * per_instance_mib
    assert f.overhead_share == pytest.approx((per_instance_mib - 512) / per_instance_mib)


def test_density_is_exact_at_a_boundary():
    # 0.3 / 0.1 is 2.9999999999999996 in floats; three 0.1-core instances fit on 0.3 cores.
    assert density(CONTAINER, App(100, 0.1), Machine(10**6, 0.3)) == 3
    assert density(CONTAINER, App(502, 0), Machine(512 * 7, 1)) == 7


def test_start_time_for_n_instances():
    app = App(256, 0.25)
    assert fleet(FULL_VM, app, HOST, 10).start_all_s == 80.0
    assert fleet(FULL_VM, app, HOST, 10, parallel=4).start_all_s == 3 * 8.0
    assert fleet(MICRO_VM, app, HOST, 8, parallel=8).start_all_s == 0.125
    assert fleet(CONTAINER, app, HOST, 0).start_all_s == 0
    assert fleet(CONTAINER, app, HOST, 0).hosts == 0


def test_an_instance_that_does_not_fit_needs_infinitely_many_hosts():
    f = fleet(FULL_VM, App(1024, 1), Machine(1000, 64), 3)
    assert (f.per_host, f.hosts) == (0, math.inf)


def test_the_cited_defaults():
    assert (MICRO_VM.start_s.value, MICRO_VM.process_mib.value) == (0.125, 5)
    assert "SPECIFICATION.md" in MICRO_VM.start_s.source and "SPECIFICATION.md" in MICRO_VM.process_mib.source
    assert CONTAINER.guest_os_mib.value == 0 and CONTAINER.kernel == "the host's kernel, shared"
    rows = parameters()
    assert len(rows) == 4 * len(KINDS)
    assert {r["kind"] for r in rows} == {"full VM", "microVM", "container"}
    assert all(r["source"] and r["unit"] in ("s", "MiB", "cores") for r in rows)


def test_containers_start_faster_and_cost_less_than_vms():
    # The chapter's claim (b), as the defaults state it.
    assert CONTAINER.start_s.value < MICRO_VM.start_s.value < FULL_VM.start_s.value
    assert CONTAINER.overhead_mib < FULL_VM.overhead_mib and MICRO_VM.overhead_mib < FULL_VM.overhead_mib


def test_a_measured_container_start_replaces_the_default():
    measured = CONTAINER.with_start(0.012, "kbook.container.linux on this machine")
    assert measured.start_s.value == 0.012 and measured.start_s.unit == "s"
    assert measured.process_mib == CONTAINER.process_mib
    row = {r["parameter"]: r for r in parameters((measured,))}["start_s"]
    assert row["source"] == "kbook.container.linux on this machine"
    assert CONTAINER.start_s.value == 0.0334


def test_compare_rows():
    rows = compare(App(256, 0.25), Machine(65536, 16), 100)
    assert [r["kind"] for r in rows] == ["full VM", "microVM", "container"]
    assert set(rows[0]) >= {"per_host", "hosts", "memory_per_instance_mib", "overhead_mib", "start_all_s", "limited_by"}
    assert [r["per_host"] for r in rows] == [32, 32, 64]  # 16 cores / 0.5, / 0.5, / 0.25


@given(
    st.integers(1, 8192).map(float),
    st.integers(0, 4000).map(lambda m: m / 1000),
    st.integers(0, 1 << 20).map(float),
    st.integers(0, 256).map(float),
)
def test_more_isolation_never_fits_more(app_mib, app_cpu, host_mib, host_cores):
    app, host = App(app_mib, app_cpu), Machine(host_mib, host_cores)
    assert density(CONTAINER, app, host) >= density(MICRO_VM, app, host) >= density(FULL_VM, app, host)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: App(0, 1), "memory_mib: Invalid value: 0: must be greater than 0"),
        (lambda: App(1, -1), "cpu_cores: Invalid value: -1: must be non-negative"),
        (lambda: Machine(-1, 1), "memory_mib: Invalid value: -1"),
        (lambda: fleet(CONTAINER, App(1, 1), HOST, -1), "instances: Invalid value: -1"),
        (lambda: fleet(CONTAINER, App(1, 1), HOST, 1, parallel=0), "parallel: Invalid value: 0"),
    ],
)
def test_bad_input(make, message):
    with pytest.raises(KbookError, match=message):
        make()
