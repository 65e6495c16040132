"""The cgroup adapter: layout detection from mountinfo, the v1 and v2 file names and value
conversions on fake hierarchies in tmp_path (the v2 path cannot run for real on the
project's hybrid machines), then the v1 path on the real kernel (root only; skipped
elsewhere, except under ``CI=true``)."""

import subprocess
import sys
from pathlib import Path

import pytest

from kbook.container.linux import HYBRID, UNIFIED, V1, Cgroup, detect_layout, runtime_unavailable, shares_to_weight
from kbook.container.spec import Resources
from kbook.errors import ContainerError

# This machine kind's /proc/self/mountinfo (cgroup lines), with the mount points under {root}.
HYBRID_MOUNTINFO = """\
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
30 27 0:25 / {root} rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:26 / {root}/cpu rw,relatime - cgroup cgroup rw,cpu
32 30 0:27 / {root}/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 30 0:29 / {root}/memory rw,relatime - cgroup cgroup rw,memory
37 30 0:32 / {root}/pids rw,relatime - cgroup cgroup rw,pids
38 30 0:33 / {root}/systemd rw,relatime - cgroup cgroup rw,name=systemd
39 30 0:34 / {root}/unified rw,relatime - cgroup2 cgroup2 rw
"""
# A classic v1 machine: cpu and cpuacct co-mounted (systemd links cpu and cpuacct to it).
V1_MOUNTINFO = """\
25 24 0:22 / {root}/cpu,cpuacct rw,nosuid shared:9 - cgroup cgroup rw,cpu,cpuacct
26 24 0:23 / {root}/memory rw,nosuid shared:10 - cgroup cgroup rw,memory
27 24 0:24 / {root}/pids rw,nosuid shared:11 - cgroup cgroup rw,pids
"""
UNIFIED_MOUNTINFO = "35 24 0:30 / {root} rw,nosuid,nodev shared:9 - cgroup2 cgroup2 rw,nsdelegate\n"

LIMITS = Resources(cpu_quota_us=50_000, cpu_period_us=100_000, cpu_shares=512,
                   memory_limit_bytes=64 << 20, pids_limit=32)


def unified_tree(root: Path, enabled: str = "cpu memory pids") -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "cgroup.controllers").write_text("cpuset cpu io memory hugetlb pids\n")
    (root / "cgroup.subtree_control").write_text(enabled + "\n")


def v1_tree(root: Path, mountinfo: str) -> None:
    for line in mountinfo.format(root=root).splitlines():
        target = Path(line.split()[4])
        if " - cgroup " in line:
            target.mkdir(parents=True, exist_ok=True)


def test_detects_hybrid_like_this_machine(tmp_path):
    unified_tree(tmp_path / "unified", enabled="")
    layout = detect_layout(HYBRID_MOUNTINFO.format(root=tmp_path))
    assert layout.mode == HYBRID
    assert layout.v1 == {c: tmp_path / c for c in ("cpu", "cpuacct", "memory", "pids")}
    assert layout.unified == tmp_path / "unified"
    assert layout.controllers() == {"cpu", "cpuacct", "memory", "pids"}
    assert layout.missing() == []


def test_detects_v1_with_comounted_cpu_cpuacct(tmp_path):
    layout = detect_layout(V1_MOUNTINFO.format(root=tmp_path))
    assert layout.mode == V1
    assert layout.v1["cpu"] == layout.v1["cpuacct"] == tmp_path / "cpu,cpuacct"
    v1_tree(tmp_path, V1_MOUNTINFO)
    group = Cgroup.create(layout, "kbook-comount")
    assert sorted(p.name for p in group.paths()) == ["kbook-comount"] * 3  # cpu,cpuacct counts once
    assert sorted(p.parent.name for p in group.paths()) == ["cpu,cpuacct", "memory", "pids"]
    group.destroy()


def test_detects_unified_and_its_enabled_controllers(tmp_path):
    unified_tree(tmp_path, enabled="memory pids")
    layout = detect_layout(UNIFIED_MOUNTINFO.format(root=tmp_path))
    assert layout.mode == UNIFIED
    assert layout.controllers() == {"memory", "pids"}
    assert layout.missing() == ["cpu"]


def test_no_cgroup_mounts():
    with pytest.raises(ContainerError, match="no cgroup hierarchy is mounted"):
        detect_layout("27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n")


def test_mountinfo_escapes_are_decoded(tmp_path):
    unified_tree(tmp_path / "a b")
    layout = detect_layout(UNIFIED_MOUNTINFO.format(root=str(tmp_path / "a b").replace(" ", "\\040")))
    assert layout.unified == tmp_path / "a b"


@pytest.mark.parametrize("shares, weight", [(2, 1), (1024, 39), (512, 20), (262144, 10000), (1, 1), (10**6, 10000)])
def test_shares_to_weight_is_runcs_conversion(shares, weight):
    assert shares_to_weight(shares) == weight


def test_v2_files_and_values(tmp_path):
    unified_tree(tmp_path)
    group = Cgroup.create(detect_layout(UNIFIED_MOUNTINFO.format(root=tmp_path)), "kbook-v2")
    d = tmp_path / "kbook-v2"
    assert group.paths() == [d]
    group.set(LIMITS)
    assert {f.name: f.read_text() for f in d.iterdir()} == {
        "cpu.max": "50000 100000", "cpu.weight": "20", "memory.max": str(64 << 20), "pids.max": "32"}
    group.set(Resources())
    assert (d / "cpu.max").read_text() == "max 100000"
    assert (d / "cpu.weight").read_text() == "39"
    assert (d / "memory.max").read_text() == (d / "pids.max").read_text() == "max"
    group.add(4242)
    assert (d / "cgroup.procs").read_text() == "4242"


def test_v2_stats(tmp_path):
    unified_tree(tmp_path)
    group = Cgroup.create(detect_layout(UNIFIED_MOUNTINFO.format(root=tmp_path)), "kbook-v2")
    d = tmp_path / "kbook-v2"
    (d / "cpu.stat").write_text("usage_usec 1025545\nuser_usec 1000000\nsystem_usec 25545\nnr_periods 21\n"
                                "nr_throttled 20\nthrottled_usec 983420\nnr_bursts 0\nburst_usec 0\n")
    (d / "memory.current").write_text("323584\n")
    (d / "memory.events").write_text("low 0\nhigh 0\nmax 85\noom 1\noom_kill 1\noom_group_kill 0\n")
    (d / "pids.current").write_text("3\n")
    (d / "pids.events").write_text("max 2\n")
    s = group.stats()
    assert (s.nr_periods, s.nr_throttled, s.throttled_ns, s.cpu_usage_ns) == (21, 20, 983_420_000, 1_025_545_000)
    assert (s.memory_usage_bytes, s.memory_failcnt, s.oom_kills) == (323584, 85, 1)
    assert (s.pids_current, s.pids_max_events) == (3, 2)
    assert s.throttled_share == pytest.approx(20 / 21)


def test_v2_without_the_cpu_controller(tmp_path):
    """cpu.stat exists in every v2 group (usage only); a quota needs the controller."""
    unified_tree(tmp_path, enabled="memory pids")
    group = Cgroup.create(detect_layout(UNIFIED_MOUNTINFO.format(root=tmp_path)), "kbook-v2")
    d = tmp_path / "kbook-v2"
    group.set(Resources(memory_limit_bytes=1 << 20))  # no cpu limit: nothing to refuse
    assert not (d / "cpu.max").exists()
    with pytest.raises(ContainerError, match=r"^cannot set cpu quota: the cpu controller is not available "
                                             r"\(unified cgroups\)$"):
        group.set(Resources(cpu_quota_us=10_000))
    (d / "cpu.stat").write_text("usage_usec 7\nuser_usec 5\nsystem_usec 2\n")
    (d / "memory.current").write_text("0\n")
    (d / "memory.events").write_text("low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n")
    (d / "pids.current").write_text("0\n")
    (d / "pids.events").write_text("max 0\n")
    s = group.stats()
    assert s.cpu_usage_ns == 7000 and s.nr_periods is None and s.throttled_share is None


def test_v1_files_and_stats(tmp_path):
    v1_tree(tmp_path, HYBRID_MOUNTINFO)
    unified_tree(tmp_path / "unified", enabled="")
    group = Cgroup.create(detect_layout(HYBRID_MOUNTINFO.format(root=tmp_path)), "kbook-v1")
    group.set(LIMITS)
    files = {f"{f.parent.parent.name}/{f.name}": f.read_text() for f in tmp_path.glob("*/kbook-v1/*")}
    assert files == {"cpu/cpu.cfs_period_us": "100000", "cpu/cpu.cfs_quota_us": "50000", "cpu/cpu.shares": "512",
                     "memory/memory.limit_in_bytes": str(64 << 20), "pids/pids.max": "32"}
    group.set(Resources())
    assert (tmp_path / "cpu/kbook-v1/cpu.cfs_quota_us").read_text() == "-1"
    assert (tmp_path / "memory/kbook-v1/memory.limit_in_bytes").read_text() == "-1"
    assert (tmp_path / "pids/kbook-v1/pids.max").read_text() == "max"
    (tmp_path / "cpu/kbook-v1/cpu.stat").write_text(
        "nr_periods 30\nnr_throttled 30\nthrottled_time 1444637571\nnr_bursts 0\nburst_time 0\n")
    (tmp_path / "cpuacct/kbook-v1/cpuacct.usage").write_text("1470000000\n")
    (tmp_path / "memory/kbook-v1/memory.usage_in_bytes").write_text("4096\n")
    (tmp_path / "memory/kbook-v1/memory.failcnt").write_text("121\n")
    (tmp_path / "memory/kbook-v1/memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 1\n")
    (tmp_path / "pids/kbook-v1/pids.current").write_text("0\n")
    (tmp_path / "pids/kbook-v1/pids.events").write_text("max 1\n")
    s = group.stats()
    assert (s.nr_periods, s.nr_throttled, s.throttled_ns, s.cpu_usage_ns) == (30, 30, 1444637571, 1470000000)
    assert (s.memory_usage_bytes, s.memory_failcnt, s.oom_kills, s.pids_current, s.pids_max_events) == (
        4096, 121, 1, 0, 1)


def test_only_kbook_names_and_never_an_existing_group(tmp_path):
    unified_tree(tmp_path)
    layout = detect_layout(UNIFIED_MOUNTINFO.format(root=tmp_path))
    for name in ("system.slice", "kbook-../x", "kbook-a/b", "kbook-"):
        with pytest.raises(ContainerError, match="must match"):
            Cgroup(layout, name)
    (tmp_path / "kbook-taken").mkdir()
    with pytest.raises(ContainerError, match=r"cannot create cgroup '.*kbook-taken': File exists"):
        Cgroup.create(layout, "kbook-taken")
    assert (tmp_path / "kbook-taken").is_dir()


@pytest.fixture
def real_layout(skip_or_fail, require_controllers):
    reason = runtime_unavailable()
    if reason is not None:
        skip_or_fail(reason)
    require_controllers("cpu", "memory", "pids")
    return detect_layout()


def test_real_group_limits_membership_and_removal(real_layout):
    """On the kernel: the limits read back as written, a process we started joins, and the
    group is gone after destroy."""
    group = Cgroup.create(real_layout, "kbook-adapter-test")
    sleeper = None
    try:
        group.set(LIMITS)
        if real_layout.mode == UNIFIED:
            d = real_layout.unified / "kbook-adapter-test"
            assert (d / "cpu.max").read_text().split() == ["50000", "100000"]
            assert (d / "memory.max").read_text().strip() == str(64 << 20)
        else:
            assert (real_layout.v1["cpu"] / "kbook-adapter-test/cpu.cfs_quota_us").read_text().strip() == "50000"
            assert (real_layout.v1["cpu"] / "kbook-adapter-test/cpu.shares").read_text().strip() == "512"
            assert (real_layout.v1["memory"] / "kbook-adapter-test/memory.limit_in_bytes").read_text().strip() == str(
                64 << 20)
        sleeper = subprocess.Popen([sys.executable, "-I", "-S", "-c", "import time; time.sleep(30)"])
        group.add(sleeper.pid)
        assert group.procs() == [sleeper.pid]
        s = group.stats()
        assert s.pids_current == 1 and s.oom_kills == 0 and s.memory_usage_bytes >= 0
        with pytest.raises(ContainerError, match="cannot remove cgroup .*: Device or resource busy"):
            group.destroy(timeout=0.05)
    finally:
        if sleeper is not None:
            sleeper.kill()
            sleeper.wait()
        group.destroy()
    assert not any(p.exists() for p in group.paths())
