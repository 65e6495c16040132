"""runc (Debian 1.1.5) behind the same Runtime interface, on a busybox root filesystem that
kbook lays out from an image layer: the config.json kbook writes, then the lifecycle, PID 1,
the hostname, a memory limit runc applies and an OOM kill inside it, and the start latency
next to LinuxRuntime's. Needs root and runc; skipped otherwise, except under ``CI=true``."""

import signal

import pytest

from kbook.container.linux.runc import BUSYBOX_APPLETS, RuncRuntime, busybox_image, oci_config, runc_unavailable
from kbook.container.spec import CREATED, RUNNING, STOPPED, ContainerConfig, Resources
from kbook.errors import ContainerError
from kbook.image import DIR, FILE, SYMLINK, unpack

TEMPLATE = {  # the parts of `runc spec` that oci_config touches
    "process": {"terminal": True, "user": {"uid": 0, "gid": 0}, "args": ["sh"],
                "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"], "cwd": "/"},
    "root": {"path": "rootfs", "readonly": True},
    "hostname": "runc",
    "linux": {"resources": {"devices": [{"allow": False, "access": "rwm"}]},
              "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}]},
}


def test_oci_config_applies_the_container_config(tmp_path):
    config = ContainerConfig(args=("sh", "-c", "true"), env=("PATH=/bin",), cwd="/tmp", hostname="box", uid=1, gid=2,
                             resources=Resources(cpu_quota_us=50_000, cpu_shares=512, memory_limit_bytes=64 << 20,
                                                 pids_limit=32))
    doc = oci_config(TEMPLATE, config, tmp_path, "/kbook-x")
    assert doc["process"] == {"terminal": False, "user": {"uid": 1, "gid": 2}, "args": ["sh", "-c", "true"],
                              "env": ["PATH=/bin"], "cwd": "/tmp"}
    assert doc["root"] == {"path": str(tmp_path), "readonly": True}
    assert doc["hostname"] == "box"
    assert doc["linux"] == {
        "resources": {"devices": [{"allow": False, "access": "rwm"}],
                      "cpu": {"shares": 512, "period": 100_000, "quota": 50_000},
                      "memory": {"limit": 64 << 20}, "pids": {"limit": 32}},
        "namespaces": [{"type": n} for n in ("pid", "network", "mount", "ipc", "uts", "cgroup")],
        "cgroupsPath": "/kbook-x"}
    assert TEMPLATE["process"]["terminal"] is True  # the template is not modified


def test_oci_config_defaults_and_refusals(tmp_path):
    doc = oci_config(TEMPLATE, ContainerConfig(args=("sh",), namespaces=("pid", "mount")), tmp_path, "/kbook-y")
    assert "hostname" not in doc  # runc refuses a hostname without a UTS namespace
    assert doc["process"]["env"] == TEMPLATE["process"]["env"]
    assert doc["linux"]["resources"]["cpu"] == {"shares": 1024, "period": 100_000}
    assert "memory" not in doc["linux"]["resources"] and "pids" not in doc["linux"]["resources"]
    with pytest.raises(ContainerError, match="^linux.namespaces: 'user' needs uid/gid mappings"):
        oci_config(TEMPLATE, ContainerConfig(args=("sh",), namespaces=("user", "mount")), tmp_path, "/kbook-z")
    with pytest.raises(ContainerError, match="^linux.namespaces: runc needs a mount namespace"):
        oci_config(TEMPLATE, ContainerConfig(args=("sh",), namespaces=("pid",)), tmp_path, "/kbook-z")


def test_busybox_image_layer(tmp_path, skip_or_fail):
    try:
        image = busybox_image()
    except ContainerError as e:
        skip_or_fail(str(e))
    (layer,) = image.layers
    kinds = {e.path: e.type for e in layer.entries}
    assert kinds["bin/busybox"] == FILE and kinds["proc"] == DIR
    assert all(kinds[f"bin/{a}"] == SYMLINK for a in BUSYBOX_APPLETS)
    assert busybox_image().layers[0].diff_id == layer.diff_id  # reproducible
    fake = tmp_path / "busybox"
    fake.write_bytes(b"#!/bin/sh\n")
    with pytest.raises(ContainerError, match="is not a static ELF64 binary"):
        busybox_image(fake)


@pytest.fixture
def runc(tmp_path, skip_or_fail):
    reason = runc_unavailable()
    if reason is not None:
        skip_or_fail(reason)
    try:
        image = busybox_image()
    except ContainerError as e:
        skip_or_fail(str(e))
    unpack(image.layers, tmp_path / "rootfs")
    with RuncRuntime(tmp_path / "rootfs") as rt:
        yield rt


def test_runc_lifecycle_pid1_hostname_and_limit(runc, record_property):
    config = ContainerConfig(args=("sh", "-c", "echo $$; hostname; cat /sys/fs/cgroup/memory/memory.limit_in_bytes "
                                   "/sys/fs/cgroup/pids/pids.max; exit 3"),
                             hostname="oci-box", resources=Resources(memory_limit_bytes=64 << 20, pids_limit=32))
    assert runc.create("r1", config).status == CREATED
    with pytest.raises(ContainerError, match="^container with id exists: r1$"):
        runc.create("r1", config)
    runc.start("r1")
    st = runc.wait("r1", 10)
    assert (st.status, st.exit_code, st.oom_killed) == (STOPPED, 3, False)
    assert runc.stdout("r1").split() == ["1", "oci-box", str(64 << 20), "32"]
    record_property("runc_start_latency_ms", round(runc.latency("r1").total_s * 1000, 2))
    runc.delete("r1")


def test_runc_oom_kill(runc):
    runc.create("oom", ContainerConfig(args=("dd", "if=/dev/zero", "of=/dev/null", "bs=200M", "count=1"),
                                       resources=Resources(memory_limit_bytes=32 << 20)))
    runc.start("oom")
    st = runc.wait("oom", 10)
    assert (st.exit_code, st.oom_killed) == (137, True)
    assert runc.stats("oom").oom_kills == 1


def test_runc_kill_and_delete(runc):
    runc.create("k", ContainerConfig(args=("sleep", "30")))
    assert runc.start("k").status == RUNNING
    with pytest.raises(ContainerError, match="^cannot delete container k that is not stopped: running$"):
        runc.delete("k")
    runc.kill("k", signal.SIGKILL)
    assert runc.wait("k", 10).exit_code == 137
    runc.delete("k")
    with pytest.raises(ContainerError, match="^container 'k' does not exist$"):
        runc.state("k")


def test_runc_create_error(runc):
    with pytest.raises(ContainerError, match='exec: "no-such-program": executable file not found'):
        runc.create("bad", ContainerConfig(args=("no-such-program",)))
    with pytest.raises(ContainerError, match="does not exist"):
        runc.state("bad")
