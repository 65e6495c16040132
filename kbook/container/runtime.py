"""The container runtime model: the OCI lifecycle (runtime-spec runtime.md) on a modelled
host, each container made of an image's union view, its own namespaces and its cgroups.

A container is a group of ordinary host processes that the kernel shows a different world:

- its root filesystem is a :class:`~kbook.image.UnionFS` of the image (mount namespace);
- its own hostname (UTS); its own PIDs, its first process being PID 1 inside and an
  ordinary PID in the host's table (pid_namespaces(7));
- its own network stack, only ``lo``, down, until it is brought up or a veth is attached;
- its own System V IPC objects; a cgroup namespace that shows its cgroup as ``/``;
- optionally a user namespace mapping its root to an unprivileged range of host IDs
  (user_namespaces(7): ``/proc/PID/uid_map`` lines "inside outside count").

A namespace not listed in ``ContainerConfig.namespaces`` is shared with the host. Time comes
from an optional SimPy environment; nothing reads the wall clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import simpy

from kbook.container.cgroups import Cgroup
from kbook.container.spec import CREATED, NAMESPACES, RUNNING, STOPPED, ContainerConfig, ContainerState
from kbook.errors import ContainerError, FieldError
from kbook.image.image import Image
from kbook.image.union import UnionFS

__all__ = [
    "SIGKILL",
    "SIGTERM",
    "IdMap",
    "UserNamespace",
    "UtsNamespace",
    "PidNamespace",
    "Interface",
    "NetworkNamespace",
    "IpcNamespace",
    "Process",
    "Host",
    "Container",
    "ModelRuntime",
]

SIGKILL, SIGTERM = 9, 15
_SIGRTMAX = 64
_IGNORED = {17, 18, 23, 28}  # SIGCHLD, SIGCONT, SIGURG, SIGWINCH: default action Ign (signal(7))
_STOPS = {19, 20, 21, 22}  # SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU
_ID = re.compile(r"^[\w+,\-.]+$", re.ASCII)  # runc's idRegex ^[\w+-\.]+$ ("+-." is the range + , - .)
OVERFLOW_UID = 65534  # /proc/sys/kernel/overflowuid: how an unmapped ID shows


@dataclass(frozen=True)
class IdMap:
    """One line of ``/proc/PID/uid_map``: IDs ``inside .. inside+count-1`` of the namespace
    are IDs ``outside ..`` of its parent (config-linux.md ``uidMappings``: containerID, hostID, size)."""

    inside: int
    outside: int
    count: int

    def __str__(self) -> str:
        return f"{self.inside} {self.outside} {self.count}"


_IDENTITY = (IdMap(0, 0, 4_294_967_295),)  # the initial user namespace's map


@dataclass(frozen=True)
class UserNamespace:
    """A user namespace's ID maps. The host's is the identity ``0 0 4294967295``."""

    uid_map: tuple[IdMap, ...] = _IDENTITY
    gid_map: tuple[IdMap, ...] = _IDENTITY

    def to_host(self, uid: int) -> int | None:
        """The host UID of ``uid`` inside, or ``None`` if it is not mapped."""
        for m in self.uid_map:
            if m.inside <= uid < m.inside + m.count:
                return m.outside + uid - m.inside
        return None

    def from_host(self, host_uid: int) -> int:
        """How a host UID shows inside: mapped, or the overflow UID 65534 (nobody)."""
        for m in self.uid_map:
            if m.outside <= host_uid < m.outside + m.count:
                return m.inside + host_uid - m.outside
        return OVERFLOW_UID

    @property
    def uid_map_text(self) -> str:
        """``/proc/PID/uid_map`` as the kernel prints it (``%10u %10u %10u``)."""
        return "".join(f"{m.inside:>10} {m.outside:>10} {m.count:>10}\n" for m in self.uid_map)


@dataclass
class UtsNamespace:
    """A UTS namespace: the hostname ``uname -n`` and ``hostname`` show."""

    hostname: str


@dataclass
class Process:
    """A task: its PID on the host, its PID in its own PID namespace (the same for a host
    process), its command, its UID inside its user namespace and on the host."""

    pid: int
    ns_pid: int
    args: tuple[str, ...]
    uid: int
    host_uid: int
    container: str | None = None

    @property
    def command(self) -> str:
        return " ".join(self.args)


class PidNamespace:
    """A PID namespace: its own PID numbers from 1; the first process is its init."""

    def __init__(self) -> None:
        self.members: dict[int, Process] = {}
        self._last = 0

    def next_pid(self) -> int:
        self._last += 1
        return self._last


@dataclass
class Interface:
    """A network interface: ``loopback`` or one end of a ``veth`` pair (``peer`` names the
    other end as ``(namespace, interface)``), its state and its addresses (CIDR)."""

    name: str
    kind: str
    up: bool = False
    addresses: list[str] = field(default_factory=list)
    peer: tuple[str, str] | None = None


class NetworkNamespace:
    """A network namespace: a new one has only ``lo``, down and without an address; bringing
    ``lo`` up gives it 127.0.0.1/8 (``ip link set lo up``)."""

    def __init__(self, name: str):
        self.name = name
        self.interfaces: dict[str, Interface] = {"lo": Interface("lo", "loopback")}

    def _get(self, ifname: str) -> Interface:
        if ifname not in self.interfaces:
            raise ContainerError(f'netns "{self.name}": Cannot find device "{ifname}"')
        return self.interfaces[ifname]

    def set_up(self, ifname: str) -> None:
        """``ip link set IFNAME up``."""
        iface = self._get(ifname)
        iface.up = True
        if iface.kind == "loopback" and "127.0.0.1/8" not in iface.addresses:
            iface.addresses.append("127.0.0.1/8")

    def add_address(self, ifname: str, cidr: str) -> None:
        """``ip addr add CIDR dev IFNAME``."""
        self._get(ifname).addresses.append(cidr)


class IpcNamespace:
    """An IPC namespace: its own System V message queues and semaphore sets (``ipcs``)."""

    def __init__(self) -> None:
        self.queues: list[int] = []
        self.semaphores: list[int] = []
        self._next_id = 0

    def _new(self, into: list[int]) -> int:
        into.append(self._next_id)
        self._next_id += 1
        return into[-1]

    def create_queue(self) -> int:
        """``ipcmk -Q``: a new message queue; returns its id."""
        return self._new(self.queues)

    def create_semaphore(self) -> int:
        """``ipcmk -S 1``: a new semaphore set; returns its id."""
        return self._new(self.semaphores)


class Host:
    """The machine every container shares: one kernel, one PID table, the host's own
    (initial) namespaces. PIDs are handed out in order after ``last_pid``."""

    def __init__(self, hostname: str = "node", last_pid: int = 1):
        self.uts = UtsNamespace(hostname)
        self.netns = NetworkNamespace("host")
        self.netns.set_up("lo")
        self.ipc = IpcNamespace()
        self.userns = UserNamespace()
        self.processes: dict[int, Process] = {}
        self._last_pid = 0
        self.spawn(("/sbin/init",))
        self._last_pid = max(self._last_pid, last_pid)

    def next_pid(self) -> int:
        self._last_pid += 1
        return self._last_pid

    def spawn(self, args: Iterable[str], uid: int = 0) -> Process:
        """A process on the host, outside any container."""
        pid = self.next_pid()
        proc = Process(pid, pid, tuple(args), uid, uid)
        self.processes[pid] = proc
        return proc

    def ps(self) -> list[tuple[int, int, str]]:
        """``ps -e`` on the host: every process, with its host PID and host UID."""
        return [(p.pid, p.host_uid, p.command) for p in sorted(self.processes.values(), key=lambda p: p.pid)]

    def veth(self, container: "Container", host_ifname: str, container_ifname: str = "eth0") -> None:
        """``ip link add HOST type veth peer name CTR netns PID``: a veth pair with one end
        on the host and the other in the container's network namespace, both down."""
        ctr = container.netns
        if container.status == STOPPED:
            raise ContainerError(f'container "{container.id}" is stopped: its network namespace is gone')
        if ctr is self.netns:
            raise ContainerError(f'container "{container.id}" shares the host network namespace')
        if host_ifname in self.netns.interfaces or container_ifname in ctr.interfaces:
            raise ContainerError("RTNETLINK answers: File exists")
        self.netns.interfaces[host_ifname] = Interface(host_ifname, "veth", peer=(ctr.name, container_ifname))
        ctr.interfaces[container_ifname] = Interface(container_ifname, "veth", peer=(self.netns.name, host_ifname))


class Container:
    """One container: its configuration, root filesystem, namespaces, cgroups and processes.
    Made by :meth:`ModelRuntime.create`; the runtime's operations change its ``status``."""

    def __init__(self, runtime: "ModelRuntime", container_id: str, config: ContainerConfig, image: Image,
                 userns: UserNamespace, cgroup: Cgroup, handles: frozenset[int], now: float):
        host = runtime.host
        own = set(config.namespaces)
        self.runtime = runtime
        self.id = container_id
        self.config = config
        self.image = image
        self.rootfs = UnionFS(image, now=int(now))
        self.uts = UtsNamespace(config.hostname or host.uts.hostname) if "uts" in own else host.uts
        self.pidns = PidNamespace() if "pid" in own else None
        self.netns = NetworkNamespace(container_id) if "network" in own else host.netns
        self.ipc = IpcNamespace() if "ipc" in own else host.ipc
        self.userns = userns
        self.cgroup_ns = "cgroup" in own
        self.cgroup = cgroup
        self.handles = handles
        self.status = CREATED
        self.exit_code: int | None = None
        self.oom_killed = False
        self.created_at, self.started_at, self.finished_at = now, None, None
        self.processes: dict[int, Process] = {}  # by host PID
        self.init = self._add(("runc", "init"), config.uid)
        self.cgroup.pids.attach()

    # --- views ---------------------------------------------------------------------------

    @property
    def hostname(self) -> str:
        return self.uts.hostname

    @property
    def cgroup_path(self) -> str:
        """The container's cgroup as ``/proc/self/cgroup`` shows it inside: ``/`` with a
        cgroup namespace, the host path otherwise."""
        return "/" if self.cgroup_ns else f"/kbook/{self.id}"

    def ps(self) -> list[tuple[int, str]]:
        """``ps`` inside: (PID, command) of every process this container can see. With its own
        PID namespace, only its own, numbered from 1; without, the whole host table."""
        if self.pidns is None:
            return [(pid, cmd) for pid, _, cmd in self.runtime.host.ps()]
        return [(p.ns_pid, p.command) for p in sorted(self.pidns.members.values(), key=lambda p: p.ns_pid)]

    def host_pid(self, pid: int) -> int:
        """The host PID of the process that has PID ``pid`` in this container."""
        if self.pidns is None:
            return pid
        if pid not in self.pidns.members:
            raise ContainerError(f'container "{self.id}": no such process: {pid}')
        return self.pidns.members[pid].pid

    # --- processes -----------------------------------------------------------------------

    def _add(self, args: tuple[str, ...], uid: int) -> Process:
        host = self.runtime.host
        pid = host.next_pid()
        ns_pid = self.pidns.next_pid() if self.pidns is not None else pid
        proc = Process(pid, ns_pid, args, uid, self.userns.to_host(uid), self.id)
        host.processes[pid] = proc
        self.processes[pid] = proc
        if self.pidns is not None:
            self.pidns.members[ns_pid] = proc
        self.cgroup.memory.rss.setdefault(pid, 0)
        return proc

    def _remove(self, proc: Process) -> None:
        self.runtime.host.processes.pop(proc.pid, None)
        self.processes.pop(proc.pid, None)
        if self.pidns is not None:
            self.pidns.members.pop(proc.ns_pid, None)
        self.cgroup.memory.exit(proc.pid)
        self.cgroup.pids.exit()

    def spawn(self, args: Iterable[str], uid: int | None = None) -> Process:
        """fork and exec a process in the running container (``runc exec``); refused with
        EAGAIN when the pids cgroup is at ``pids.max``."""
        if self.status != RUNNING:
            raise ContainerError(f'container "{self.id}" is {self.status}: cannot exec in a container '
                                 'that is not running')
        uid = self.config.uid if uid is None else uid
        if self.userns.to_host(uid) is None:
            raise ContainerError(f'container "{self.id}": uid {uid} is not mapped in its user namespace')
        if not self.cgroup.pids.fork():
            raise ContainerError(f'container "{self.id}": fork: Resource temporarily unavailable')
        return self._add(tuple(args), uid)

    def exit_process(self, pid: int, code: int = 0) -> None:
        """The process with PID ``pid`` (as seen inside) exits with ``code``; when it is the
        container's init, the container stops."""
        proc = next((p for p in self.processes.values() if p.ns_pid == pid), None)
        if proc is None:
            raise ContainerError(f'container "{self.id}": no such process: {pid}')
        if proc is self.init:
            self._stop(code)
        else:
            self._remove(proc)

    def alloc(self, nbytes: int, pid: int | None = None) -> bool:
        """The process ``pid`` (as seen inside; the init by default) touches ``nbytes`` of
        new memory, charged to the memory cgroup. Over the limit the OOM killer may kill it or
        another process; when it kills the init, the container stops with 137 (SIGKILL) and
        ``oom_killed``. Returns whether the charge went through."""
        proc = self.init if pid is None else self.processes.get(self.host_pid(pid))
        if proc is None or self.status != RUNNING:
            raise ContainerError(f'container "{self.id}": no running process {pid}')
        memory = self.cgroup.memory
        before = len(memory.kills)
        charged = memory.charge(proc.pid, nbytes, now=self.runtime.now)
        for kill in memory.kills[before:]:
            if kill.pid == self.init.pid:
                self.oom_killed = True
                self._stop(128 + SIGKILL)
            elif kill.pid in self.processes:
                self._remove(self.processes[kill.pid])
        return charged

    def _stop(self, code: int) -> None:
        """The init process is gone: with a PID namespace the kernel SIGKILLs every other
        process in it (pid_namespaces(7)); the namespaces die with their last process,
        veth pairs included."""
        if self.pidns is not None:
            for proc in list(self.processes.values()):
                self._remove(proc)
        else:
            self._remove(self.init)
        if self.netns is not self.runtime.host.netns:
            for iface in self.netns.interfaces.values():
                if iface.peer is not None:
                    self.runtime.host.netns.interfaces.pop(iface.peer[1], None)
            self.netns.interfaces.clear()
        self.status, self.exit_code, self.finished_at = STOPPED, code, self.runtime.now

    def state(self) -> ContainerState:
        """The runtime spec's state: ``pid`` is the host PID of the container process while
        created or running."""
        pid = self.init.pid if self.status in (CREATED, RUNNING) else 0
        return ContainerState(self.id, self.status, pid, self.exit_code, self.oom_killed)


def _refuse(c: Container, sentence: str) -> ContainerError:
    return ContainerError(f'container "{c.id}" is {c.status}: {sentence}')


class ModelRuntime:
    """An OCI runtime (runtime.md "Operations") over a modelled :class:`Host`.

    ``create`` builds the container and its init process (``runc init``, PID 1 inside) but
    runs no user code; ``start`` execs ``process.args``; the process ends by itself
    (:meth:`exit`) or by a signal (:meth:`kill`), and the container is ``stopped``;
    ``delete`` removes a stopped container, or, as runc does, a created one whose user code
    never ran. An invalid operation raises :class:`ContainerError` in the spec's words and
    changes nothing. A user namespace maps container IDs 0..65535 to a range of host IDs
    of its own, from ``subuid_start`` (as ``/etc/subuid`` ranges are handed out)."""

    def __init__(self, host: Host | None = None, env: simpy.Environment | None = None,
                 subuid_start: int = 100_000, subuid_count: int = 65_536):
        self.host = host or Host()
        self.env = env
        self.subuid_start = subuid_start
        self.subuid_count = subuid_count
        self.containers: dict[str, Container] = {}
        self._userns_ranges = 0

    @property
    def now(self) -> float:
        return float(self.env.now) if self.env is not None else 0.0

    def container(self, container_id: str) -> Container:
        """The container with this id (state: "Attempting to query a container that does not
        exist MUST generate an error")."""
        if container_id not in self.containers:
            raise ContainerError(f'container "{container_id}" does not exist')
        return self.containers[container_id]

    def _check(self, container_id: str, config: ContainerConfig) -> None:
        """Everything ``create`` refuses, checked before anything changes."""
        if not _ID.match(container_id) or container_id in (".", ".."):
            raise ContainerError(f'container "{container_id}": invalid container ID format')
        if container_id in self.containers:
            raise ContainerError(f'container "{container_id}": container with given ID already exists')
        seen: set[str] = set()
        for i, ns in enumerate(config.namespaces):
            path = f"linux.namespaces[{i}].type"
            if ns not in NAMESPACES:
                error = FieldError.not_supported(path, ns, list(NAMESPACES))
                raise ContainerError(f'container "{container_id}": {error}')
            if ns in seen:
                raise ContainerError(f'container "{container_id}": {FieldError.duplicate(path, ns)}')
            seen.add(ns)
        if "mount" not in seen:
            raise ContainerError(f'container "{container_id}": linux.namespaces: the model gives a container its '
                                 'root filesystem in a mount namespace of its own: add "mount"')
        if config.hostname and "uts" not in seen:
            raise ContainerError(f'container "{container_id}": unable to set hostname without a private UTS namespace')
        if "user" in seen and not 0 <= config.uid < self.subuid_count:
            error = FieldError.invalid("process.user.uid", config.uid, "not mapped in the user namespace")
            raise ContainerError(f'container "{container_id}": {error}')

    def create(self, container_id: str, config: ContainerConfig, image: Image | None = None,
               handles: Iterable[int] = ()) -> ContainerState:
        """``create <container-id> <path-to-bundle>``: the environment of ``config`` over the
        union view of ``image`` (an empty root without one); status ``created``. ``handles``
        are the signals the container's program installs handlers for (see :meth:`kill`)."""
        self._check(container_id, config)
        cgroup = Cgroup.from_resources(config.resources)
        userns = self.host.userns
        if "user" in config.namespaces:
            start = self.subuid_start + self._userns_ranges * self.subuid_count
            maps = (IdMap(0, start, self.subuid_count),)
            userns = UserNamespace(maps, maps)
            self._userns_ranges += 1
        container = Container(self, container_id, config, image or Image(layers=()), userns, cgroup,
                              frozenset(handles), self.now)
        self.containers[container_id] = container
        return container.state()

    def state(self, container_id: str) -> ContainerState:
        """``state <container-id>``."""
        return self.container(container_id).state()

    def start(self, container_id: str) -> ContainerState:
        """``start <container-id>``: exec ``process.args`` in the created container."""
        c = self.container(container_id)
        if c.status != CREATED:
            raise _refuse(c, "Attempting to start a container that is not created MUST have no effect "
                             "on the container and MUST generate an error")
        if not c.config.args:
            error = FieldError.required("process.args", "start MUST generate an error if process was not set")
            raise ContainerError(f'container "{container_id}": {error}')
        c.init.args = c.config.args
        c.status, c.started_at = RUNNING, self.now
        return c.state()

    def kill(self, container_id: str, signal: int = SIGTERM) -> ContainerState:
        """``kill <container-id> <signal>``: send ``signal`` to the container process.

        A signal the program handles (``handles`` at create) makes it shut down cleanly, exit
        status 0. Any other takes its default action (signal(7)): ignored (SIGCHLD, SIGCONT,
        SIGURG, SIGWINCH) or terminating, the exit status then 128 + signal. But a PID
        namespace's init only receives the signals it has a handler for, SIGKILL excepted
        (pid_namespaces(7)): SIGTERM leaves a running container's PID 1 that never installed
        a handler (a shell, ``sleep``, a Python program) running, which is why ``docker
        stop`` and the kubelet follow it with SIGKILL after a grace period. A created
        container's process is still ``runc init``, which handles the usual signals, so it
        stops. Stop signals (SIGSTOP ...) are not modelled."""
        c = self.container(container_id)
        if c.status not in (CREATED, RUNNING):
            raise _refuse(c, "Attempting to send a signal to a container that is neither created nor running "
                             "MUST have no effect on the container and MUST generate an error")
        if not 0 <= signal <= _SIGRTMAX:
            raise ContainerError(f'container "{container_id}": invalid signal {signal}')
        if signal in _STOPS:
            raise ContainerError(f'container "{container_id}": signal {signal} stops a process; '
                                 "the model does not pause containers")
        if signal == 0 or signal in _IGNORED:
            return c.state()
        if c.status == RUNNING and signal in c.handles and signal != SIGKILL:
            c._stop(0)
        elif c.status == CREATED or c.pidns is None or signal == SIGKILL:
            c._stop(128 + signal)
        return c.state()

    def exit(self, container_id: str, code: int = 0) -> ContainerState:
        """The container's process exits by itself with ``code``: the container is stopped."""
        c = self.container(container_id)
        if c.status != RUNNING:
            raise _refuse(c, "only a running container's process can exit")
        c.exit_process(c.init.ns_pid, code)
        return c.state()

    def delete(self, container_id: str) -> None:
        """``delete <container-id>``: undo ``create``. Refused while the user code runs
        (runtime.md: "Attempting to delete a container that is not stopped MUST have no
        effect on the container and MUST generate an error"); a created container is
        deleted as runc deletes it, its ``runc init`` killed. Processes left in the cgroup
        (no PID namespace) are killed too."""
        c = self.container(container_id)
        if c.status == RUNNING:
            raise _refuse(c, "Attempting to delete a container that is not stopped MUST have no effect "
                             "on the container and MUST generate an error")
        if c.status == CREATED:
            c._stop(128 + SIGKILL)
        for proc in list(c.processes.values()):
            c._remove(proc)
        del self.containers[container_id]
