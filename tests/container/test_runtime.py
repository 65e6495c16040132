"""The runtime model: OCI lifecycle transitions and their errors, the PID, UTS, network, IPC,
user and cgroup namespace views, the root filesystem, and limits hit from inside."""

import pytest
import simpy

from kbook.container import (
    CREATED, RUNNING, SIGKILL, SIGTERM, STOPPED, ContainerConfig, Host, ModelRuntime, Resources, Runtime,
)
from kbook.errors import ContainerError
from kbook.image import DIR, FILE, Entry, Image, Layer

ALL = ("pid", "network", "mount", "ipc", "uts", "user", "cgroup")
IMAGE = Image(layers=(Layer.from_entries([
    Entry("etc", DIR, 0o755), Entry("etc/os-release", FILE, 0o644, data=b"ID=kbook\n"),
    Entry("bin", DIR, 0o755), Entry("bin/sh", FILE, 0o755, data=b"\x7fELF"),
]),))


def config(**kw) -> ContainerConfig:
    kw.setdefault("args", ("sleep", "infinity"))
    return ContainerConfig(**kw)


@pytest.fixture
def rt() -> ModelRuntime:
    return ModelRuntime(Host(hostname="node", last_pid=4000))


def running(rt: ModelRuntime, cid: str = "web", handles=(), **kw):
    rt.create(cid, config(**kw), IMAGE, handles=handles)
    rt.start(cid)
    return rt.container(cid)


# --- lifecycle -------------------------------------------------------------------------


def test_model_runtime_is_a_runtime():
    runtime: Runtime = ModelRuntime()
    assert runtime.create("a", config()).status == CREATED


def test_lifecycle_create_start_exit_delete(rt):
    s = rt.create("web", config(), IMAGE)
    assert (s.id, s.status, s.pid, s.exit_code) == ("web", CREATED, 4001, None)
    assert rt.container("web").ps() == [(1, "runc init")]  # no user code yet
    s = rt.start("web")
    assert (s.status, s.pid) == (RUNNING, 4001)
    assert rt.container("web").ps() == [(1, "sleep infinity")]
    s = rt.exit("web", 3)
    assert (s.status, s.pid, s.exit_code) == (STOPPED, 0, 3)
    rt.delete("web")
    with pytest.raises(ContainerError, match='container "web" does not exist'):
        rt.state("web")
    assert rt.host.ps() == [(1, 0, "/sbin/init")]


@pytest.mark.parametrize("status", [RUNNING, STOPPED])
def test_start_is_refused_unless_created(rt, status):
    running(rt)
    if status == STOPPED:
        rt.kill("web", SIGKILL)
    before = rt.state("web")
    with pytest.raises(ContainerError, match=f'"web" is {status}: Attempting to start a container that is not '
                                             "created MUST have no effect on the container and MUST generate an error"):
        rt.start("web")
    assert rt.state("web") == before


def test_kill_is_refused_once_stopped(rt):
    running(rt)
    rt.kill("web", SIGKILL)
    with pytest.raises(ContainerError, match='"web" is stopped: Attempting to send a signal to a container that is '
                                             "neither created nor running"):
        rt.kill("web")
    assert rt.state("web").exit_code == 128 + SIGKILL


def test_delete_is_refused_while_running_and_allowed_when_created(rt):
    running(rt)
    with pytest.raises(ContainerError, match="Attempting to delete a container that is not stopped"):
        rt.delete("web")
    assert rt.state("web").status == RUNNING
    rt.create("idle", config(), IMAGE)
    rt.delete("idle")  # runc deletes a created container, killing its runc init
    assert "idle" not in rt.containers
    assert [cmd for _, _, cmd in rt.host.ps()] == ["/sbin/init", "sleep infinity"]


def test_unknown_container_operations(rt):
    for op in (rt.state, rt.start, rt.kill, rt.delete):
        with pytest.raises(ContainerError, match='container "ghost" does not exist'):
            op("ghost")


@pytest.mark.parametrize("cid", ["", "a/b", "..", "web server", "ü"])
def test_invalid_ids(rt, cid):
    with pytest.raises(ContainerError, match="invalid container ID format"):
        rt.create(cid, config())


def test_duplicate_id_leaves_the_first_container_alone(rt):
    c = running(rt)
    with pytest.raises(ContainerError, match="container with given ID already exists"):
        rt.create("web", config(args=("other",)))
    assert rt.container("web") is c and c.state().status == RUNNING


@pytest.mark.parametrize("kw, message", [
    (dict(namespaces=("mount", "time")), r'linux.namespaces\[1\].type: Unsupported value: "time"'),
    (dict(namespaces=("mount", "pid", "pid")), r'linux.namespaces\[2\].type: Duplicate value: "pid"'),
    (dict(namespaces=("pid",)), 'add "mount"'),
    (dict(hostname="web", namespaces=("mount", "pid")), "unable to set hostname without a private UTS namespace"),
    (dict(resources=Resources(cpu_quota_us=500)), "cpu.cfs_quota_us: Invalid value: 500"),
    (dict(resources=Resources(cpu_period_us=2_000_000)), "cpu.cfs_period_us: Invalid value: 2000000"),
    (dict(namespaces=ALL, uid=70_000), "process.user.uid: Invalid value: 70000: not mapped"),
])
def test_create_errors_change_nothing(rt, kw, message):
    with pytest.raises(ContainerError, match=message):
        rt.create("web", config(**kw))
    assert rt.containers == {}
    assert rt.host.ps() == [(1, 0, "/sbin/init")]
    assert rt.create("next", config()).pid == 4001  # no PID was used up


def test_start_without_process_args(rt):
    rt.create("web", config(args=()))
    with pytest.raises(ContainerError, match="process.args: Required value"):
        rt.start("web")
    assert rt.state("web").status == CREATED


# --- signals -----------------------------------------------------------------------------


def test_pid1_ignores_sigterm_without_a_handler(rt):
    running(rt)
    assert rt.kill("web", SIGTERM).status == RUNNING  # pid_namespaces(7): not delivered
    s = rt.kill("web", SIGKILL)
    assert (s.status, s.exit_code) == (STOPPED, 137)


def test_pid1_with_a_handler_shuts_down_cleanly(rt):
    running(rt, handles=(SIGTERM,))
    s = rt.kill("web", SIGTERM)
    assert (s.status, s.exit_code) == (STOPPED, 0)


def test_without_a_pid_namespace_sigterm_terminates(rt):
    running(rt, namespaces=("mount", "uts"))
    s = rt.kill("web", SIGTERM)
    assert (s.status, s.exit_code) == (STOPPED, 143)


def test_kill_a_created_container(rt):
    rt.create("web", config())
    assert rt.kill("web", SIGTERM).exit_code == 143


@pytest.mark.parametrize("signal", [0, 17, 28])
def test_signals_with_no_effect(rt, signal):
    running(rt, namespaces=("mount",))
    assert rt.kill("web", signal).status == RUNNING


def test_stop_signals_and_bad_numbers_are_refused(rt):
    running(rt)
    for signal in (19, 65, -1):
        with pytest.raises(ContainerError):
            rt.kill("web", signal)
    assert rt.state("web").status == RUNNING


# --- namespaces --------------------------------------------------------------------------


def test_pid_namespace_views(rt):
    a, b = running(rt, "a"), running(rt, "b")
    a.spawn(("nginx", "worker"))
    assert a.ps() == [(1, "sleep infinity"), (2, "nginx worker")]
    assert b.ps() == [(1, "sleep infinity")]
    assert [(pid, cmd) for pid, _, cmd in rt.host.ps()] == [
        (1, "/sbin/init"), (4001, "sleep infinity"), (4002, "sleep infinity"), (4003, "nginx worker")]
    assert (a.host_pid(1), a.host_pid(2), b.host_pid(1)) == (4001, 4003, 4002)
    assert rt.state("b").pid == 4002


def test_init_exit_kills_the_rest_of_the_pid_namespace(rt):
    c = running(rt)
    c.spawn(("worker",))
    c.exit_process(2)
    c.spawn(("worker",))
    assert [pid for pid, _ in c.ps()] == [1, 3]
    rt.exit("web")
    assert rt.host.ps() == [(1, 0, "/sbin/init")]


def test_without_a_pid_namespace_the_container_sees_host_pids(rt):
    c = running(rt, namespaces=("mount",))
    assert c.ps() == [(1, "/sbin/init"), (4001, "sleep infinity")]
    c.spawn(("worker",))
    rt.exit("web")
    assert [cmd for _, _, cmd in rt.host.ps()] == ["/sbin/init", "worker"]  # left until delete
    rt.delete("web")
    assert [cmd for _, _, cmd in rt.host.ps()] == ["/sbin/init"]


def test_hostname(rt):
    assert running(rt, "a", hostname="web-1").hostname == "web-1"
    b = running(rt, "b")
    assert b.hostname == "node"  # a new UTS namespace starts as a copy of the host's
    b.uts.hostname = "changed"
    assert rt.host.uts.hostname == "node"
    assert running(rt, "c", namespaces=("mount",)).uts is rt.host.uts


def test_user_namespace_maps_root_to_an_unprivileged_range(rt):
    a, b = running(rt, "a", namespaces=ALL), running(rt, "b", namespaces=ALL)
    assert [str(m) for m in a.userns.uid_map] == ["0 100000 65536"]
    assert [str(m) for m in b.userns.uid_map] == ["0 165536 65536"]
    assert a.userns.uid_map_text == "         0     100000      65536\n"
    assert a.init.uid == 0 and a.init.host_uid == 100_000
    assert a.spawn(("app",), uid=1000).host_uid == 101_000
    assert [uid for pid, uid, _ in rt.host.ps() if pid > 1] == [100_000, 165_536, 101_000]
    assert a.userns.from_host(0) == 65534  # host root shows as nobody inside
    assert a.userns.to_host(65536) is None


def test_without_a_user_namespace_root_is_host_root(rt):
    c = running(rt)
    assert c.userns.uid_map_text == "         0          0 4294967295\n"
    assert c.init.host_uid == 0


def test_network_namespace_lo_and_veth(rt):
    c = running(rt)
    assert list(c.netns.interfaces) == ["lo"]
    lo = c.netns.interfaces["lo"]
    assert (lo.up, lo.addresses) == (False, [])
    c.netns.set_up("lo")
    assert (lo.up, lo.addresses) == (True, ["127.0.0.1/8"])
    rt.host.veth(c, "veth-web")
    c.netns.add_address("eth0", "10.200.0.2/24")
    assert c.netns.interfaces["eth0"].peer == ("host", "veth-web")
    assert rt.host.netns.interfaces["veth-web"].peer == ("web", "eth0")
    with pytest.raises(ContainerError, match="File exists"):
        rt.host.veth(c, "veth-web")
    rt.kill("web", SIGKILL)  # the namespace dies with its last process, the veth pair with it
    assert "veth-web" not in rt.host.netns.interfaces


def test_shared_network_namespace(rt):
    c = running(rt, namespaces=("mount",))
    assert c.netns is rt.host.netns and c.netns.interfaces["lo"].up
    with pytest.raises(ContainerError, match="shares the host network namespace"):
        rt.host.veth(c, "veth0")
    with pytest.raises(ContainerError, match='Cannot find device "eth9"'):
        c.netns.set_up("eth9")


def test_ipc_namespace(rt):
    rt.host.ipc.create_queue()
    c = running(rt)
    assert c.ipc.queues == [] and c.ipc.semaphores == []
    assert c.ipc.create_queue() == 0
    assert c.ipc.create_semaphore() == 1
    assert rt.host.ipc.queues == [0] and rt.host.ipc.semaphores == []
    assert running(rt, "shared", namespaces=("mount",)).ipc is rt.host.ipc


def test_cgroup_namespace(rt):
    assert running(rt, "a").cgroup_path == "/"
    assert running(rt, "b", namespaces=("mount", "pid")).cgroup_path == "/kbook/b"


def test_root_filesystem_is_a_union_view_of_the_image(rt):
    a, b = running(rt, "a"), running(rt, "b")
    assert a.rootfs.readdir("/") == ["bin", "etc"]
    a.rootfs.write("/etc/os-release", b"ID=changed\n")
    assert a.rootfs.read("/etc/os-release") == b"ID=changed\n"
    assert b.rootfs.read("/etc/os-release") == b"ID=kbook\n"
    assert a.rootfs.diff() == [("C", "/etc"), ("C", "/etc/os-release")]
    rt.create("empty", config())
    assert rt.container("empty").rootfs.readdir("/") == []


# --- limits from inside ------------------------------------------------------------------


def test_oom_kill_stops_the_container():
    env = simpy.Environment()
    rt = ModelRuntime(Host(), env)
    c = running(rt, resources=Resources(memory_limit_bytes=50 << 20))
    env.run(until=7.5)
    assert c.alloc(30 << 20)
    assert not c.alloc(30 << 20)
    s = rt.state("web")
    assert (s.status, s.exit_code, s.oom_killed) == (STOPPED, 137, True)
    stat = c.cgroup.memory.stat()
    assert (stat.oom_kill, stat.failcnt, stat.kills[0].time, stat.usage_in_bytes) == (1, 1, 7.5, 0)
    assert c.finished_at == 7.5


def test_oom_kills_the_biggest_process_first(rt):
    c = running(rt, resources=Resources(memory_limit_bytes=100 << 20))
    hog = c.spawn(("hog",))
    assert c.alloc(70 << 20, pid=hog.ns_pid)
    assert c.alloc(40 << 20)  # the init's charge succeeds: the hog is killed instead
    assert rt.state("web").status == RUNNING
    assert c.ps() == [(1, "sleep infinity")]
    assert c.cgroup.memory.stat().oom_kill == 1


def test_pids_limit(rt):
    c = running(rt, resources=Resources(pids_limit=3))
    c.spawn(("a",))
    c.spawn(("b",))
    with pytest.raises(ContainerError, match="fork: Resource temporarily unavailable"):
        c.spawn(("c",))
    assert (c.cgroup.pids.current, c.cgroup.pids.events_max) == (3, 1)
    c.exit_process(2)
    c.spawn(("c",))
    assert c.cgroup.pids.current == 3


def test_exec_needs_a_running_container(rt):
    rt.create("web", config())
    with pytest.raises(ContainerError, match="not running"):
        rt.container("web").spawn(("sh",))
