"""Shared fixtures for the real-kernel container tests: skip (or, under ``CI=true``, fail)
where the machine cannot run them, a runtime that always cleans up, and a check after every
test that no ``kbook-*`` cgroup it made is left behind."""

import os
import sys
from pathlib import Path

import pytest

from kbook.container.linux import CGROUP_PREFIX, detect_layout, runtime_unavailable


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required under CI=true)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def skip_or_fail():
    """Skip with ``reason``, or fail under ``CI=true`` where every real piece must be present."""
    return _skip_or_fail


def kbook_cgroups() -> set[Path]:
    """Every ``kbook-*`` group directly below any mounted cgroup hierarchy (runc makes its
    group in every hierarchy, not only the ones kbook uses)."""
    if sys.platform != "linux":
        return set()
    roots = set()
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        if fields[fields.index("-") + 1] in ("cgroup", "cgroup2"):
            roots.add(Path(fields[4]))
    return {p for r in roots for p in r.glob(CGROUP_PREFIX + "*")}


@pytest.fixture(autouse=True)
def no_leaked_cgroups():
    before = kbook_cgroups()
    yield
    assert kbook_cgroups() - before == set(), "a test left kbook-* cgroups behind"


@pytest.fixture
def real_runtime():
    """A LinuxRuntime (root on Linux with cgroups), force-deleting its containers after the test."""
    from kbook.container.linux import LinuxRuntime

    reason = runtime_unavailable()
    if reason is not None:
        _skip_or_fail(reason)
    with LinuxRuntime() as rt:
        yield rt


@pytest.fixture
def require_controllers():
    """``require_controllers("memory", ...)``: skip (or fail under CI) when one is missing."""
    def check(*needed: str) -> None:
        missing = detect_layout().missing(needed)
        if missing:
            _skip_or_fail(f"cgroup controllers not available here: {', '.join(missing)}")
    return check
