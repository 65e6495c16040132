"""LinuxRuntime: the :class:`~kbook.container.spec.Runtime` operations on real namespaces and
cgroups, shaped like runc.

``create`` forks a shim (containerd-shim's role: it stays outside the container and reaps
its init) which, for a PID namespace, unshares it and forks the init so that the init is
PID 1 (runc's nsexec stages). The init joins the container's cgroup, unshares the other
namespaces, makes its mounts private, pivots into the root filesystem, mounts ``/proc``,
sets the hostname, brings ``lo`` up, reports ready and then blocks until ``start``: runc's
``exec.fifo`` split between create and start, here a pipe. ``start`` releases it and
returns once ``execve`` has happened (a close-on-exec pipe reaches EOF), so the measured
start latency ends when the container's own program is running.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from kbook.container.linux import namespaces as ns
from kbook.container.linux.cgroups import Cgroup, CgroupLayout, CgroupStats, detect_layout
from kbook.container.spec import CREATED, RUNNING, STOPPED, ContainerConfig, ContainerState
from kbook.errors import ContainerError

__all__ = ["LinuxRuntime", "StartLatency", "ShimChannel", "Tracked", "check_id", "runtime_unavailable"]

_ID = re.compile(r"^[A-Za-z0-9_+.-]+$")  # runc's idRegex, ASCII
_SUPPORTED = ("pid", "network", "mount", "ipc", "uts", "cgroup")
_TIMEOUT = 10.0
_UNSHARED_BY_INIT = ("network", "mount", "ipc", "uts", "cgroup")


def runtime_unavailable() -> str | None:
    """Why :class:`LinuxRuntime` cannot run here, or None when it can."""
    if sys.platform != "linux":
        return f"real containers need Linux (this is {sys.platform})"
    if os.geteuid() != 0:
        return "real containers need root (namespaces and cgroup writes)"
    try:
        detect_layout()
    except ContainerError as e:
        return str(e)
    return None


@dataclass(frozen=True)
class StartLatency:
    """Wall-clock cost of starting one container: ``create`` (fork, namespaces, mounts,
    cgroup, until the init waits at the exec gate) and ``start`` (until ``execve``)."""

    create_s: float
    start_s: float

    @property
    def total_s(self) -> float:
        return self.create_s + self.start_s


class ShimChannel:
    """The sync pipe from a container's shim (and its init, until ``execve``): one line
    ``KIND [ARG]`` per message (``init PID``, ``ready``, ``error TEXT``, ``exit STATUS``),
    each shorter than PIPE_BUF so writers never interleave. EOF means every writer is gone."""

    def __init__(self, container_id: str, fd: int, shim_pid: int):
        self.container_id = container_id
        self.fd = fd
        self.shim_pid = shim_pid
        self.messages: dict[str, str] = {}
        self._buf = b""

    @property
    def ended(self) -> bool:
        """The shim has reported the init's end, or hung up."""
        return "exit" in self.messages or self.fd < 0

    def read(self, done: Callable[[], bool], what: str, timeout: float | None = _TIMEOUT) -> None:
        """Read messages until ``done()`` or EOF; a timeout is a ContainerError."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.fd >= 0 and not done():
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not select.select([self.fd], [], [], left)[0]:
                raise ContainerError(f"container {self.container_id}: timed out after {timeout} s waiting for {what}")
            chunk = os.read(self.fd, 4096)
            if not chunk:
                self.close()
                break
            *lines, self._buf = (self._buf + chunk).split(b"\n")
            for line in lines:
                kind, _, arg = line.decode().partition(" ")
                self.messages[kind] = arg

    def poll(self) -> None:
        """Read whatever has arrived, without blocking."""
        self.read(lambda: not select.select([self.fd], [], [], 0)[0], "messages")

    def reap(self) -> int | None:
        """Wait for the shim to exit; the init's wait status, if the shim reported one."""
        try:
            os.waitpid(self.shim_pid, 0)
        except ChildProcessError:
            pass  # reaped elsewhere (a waitpid(-1) in the caller's process)
        status = self.messages.get("exit")
        return None if status is None else int(status)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def check_id(container_id: str) -> None:
    """A container id as runc accepts it (it also names the cgroup and a directory)."""
    if not _ID.match(container_id):
        raise ContainerError(f"invalid container id {container_id!r}: must match {_ID.pattern}")


@dataclass
class Tracked:
    """What a runtime keeps per container: its cgroup, its shim's channel, where its stdio
    went, and how the lifecycle went so far."""

    id: str
    cgroup: Cgroup
    chan: ShimChannel
    state_dir: Path
    status: str = CREATED
    exit_code: int | None = None
    oom_killed: bool = False
    create_s: float = 0.0
    start_s: float | None = None

    @property
    def init_pid(self) -> int:
        return int(self.chan.messages.get("init", 0)) if self.status != STOPPED else 0

    def update(self) -> None:
        """Take in the shim's news; once it reports the end, reap it and record how the init
        ended: the exit code as a shell reports it (128 + signal), and an OOM kill when
        SIGKILL ended it while the (fresh) group's OOM-kill count rose (what Kubernetes
        reports as reason OOMKilled). Reads the cgroup, so it must still exist."""
        if self.status == STOPPED:
            return
        if self.chan.fd >= 0:
            self.chan.poll()
        if not self.chan.ended:
            return
        status = self.chan.reap()
        self.status = STOPPED
        if status is not None:
            signaled = os.WIFSIGNALED(status)
            self.exit_code = 128 + os.WTERMSIG(status) if signaled else os.WEXITSTATUS(status)
            self.oom_killed = (signaled and os.WTERMSIG(status) == signal.SIGKILL
                               and (self.cgroup.stats().oom_kills or 0) > 0)

    def output(self, stream: str) -> str:
        """What the container wrote to ``stdout`` or ``stderr`` so far."""
        return (self.state_dir / stream).read_text()

    def latency(self) -> StartLatency:
        """How long create and start took; only once started."""
        if self.start_s is None:
            raise ContainerError(f"container {self.id} has not been started")
        return StartLatency(self.create_s, self.start_s)


@dataclass
class _Container(Tracked):
    start_w: int = -1  # the exec gate's write end, until start
    exec_r: int = -1  # EOF at execve


class TrackedRuntime:
    """What both real runtimes share: containers tracked by id with a shim channel, a state
    ``root`` removed on :meth:`close` when the runtime made it, and the read-only operations."""

    root: Path
    _own_root: bool
    _containers: dict[str, Tracked]

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Force-delete every container, then remove the state root if this runtime made it."""
        for cid in list(self._containers):
            self.delete(cid, force=True)  # type: ignore[attr-defined]
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def _get(self, container_id: str):
        c = self._containers.get(container_id)
        if c is None:
            raise ContainerError(f"container {container_id!r} does not exist")
        return c

    def wait(self, container_id: str, timeout: float | None = None) -> ContainerState:
        """Block until the container has stopped (or ``timeout`` seconds: ContainerError)."""
        c = self._get(container_id)
        c.chan.read(lambda: c.chan.ended, "the container to exit", timeout)
        return self.state(container_id)  # type: ignore[attr-defined]

    def stats(self, container_id: str) -> CgroupStats:
        """The container's cgroup counters (available until delete)."""
        return self._get(container_id).cgroup.stats()

    def stdout(self, container_id: str) -> str:
        """What the container wrote to its standard output so far."""
        return self._get(container_id).output("stdout")

    def stderr(self, container_id: str) -> str:
        """What the container wrote to its standard error so far."""
        return self._get(container_id).output("stderr")

    def latency(self, container_id: str) -> StartLatency:
        """How long create and start took (after start)."""
        return self._get(container_id).latency()


class LinuxRuntime(TrackedRuntime):
    """Real containers, one shim and one init process each, state under ``root`` (a
    temporary directory by default, removed by :meth:`close`). Use as a context manager:
    leaving it force-deletes every container it still holds."""

    def __init__(self, root: str | Path | None = None, layout: CgroupLayout | None = None):
        reason = runtime_unavailable()
        if reason is not None:
            raise ContainerError(reason)
        self._own_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="kbook-runtime-") if root is None else root)
        self.layout = layout or detect_layout()
        self._containers: dict[str, _Container] = {}

    # --- create -------------------------------------------------------------------------

    def create(self, container_id: str, config: ContainerConfig, rootfs: str | Path | None = None) -> ContainerState:
        """Set up the container and leave its init waiting before ``execve`` (runc create).
        ``rootfs`` is a directory to pivot into (e.g. what :func:`kbook.image.unpack` wrote);
        without it the container sees the host's files."""
        t0 = time.perf_counter()
        check_id(container_id)
        if container_id in self._containers:
            raise ContainerError(f"container with id exists: {container_id}")
        _validate(config, rootfs)
        state_dir = self.root / container_id
        try:
            state_dir.mkdir(parents=True)
        except OSError as e:
            raise ContainerError(f"container {container_id}: cannot create {str(state_dir)!r}: {e.strerror}") from e
        try:
            cgroup = Cgroup.create(self.layout, f"kbook-{container_id}")
            try:
                cgroup.set(config.resources)
                root_path = None if rootfs is None else str(Path(rootfs).resolve())
                c = self._fork(container_id, config, cgroup, state_dir, root_path)
            except BaseException:
                cgroup.destroy()
                raise
        except BaseException:
            shutil.rmtree(state_dir, ignore_errors=True)
            raise
        self._containers[container_id] = c
        try:
            msgs = c.chan.messages
            c.chan.read(lambda: "ready" in msgs or "error" in msgs or c.chan.ended, "create")
            if "ready" not in msgs:
                raise ContainerError(f"container {container_id}: {msgs.get('error', 'init exited during create')}")
        except BaseException:
            self.delete(container_id, force=True)
            raise
        c.create_s = time.perf_counter() - t0
        return self.state(container_id)

    def _fork(self, cid: str, config: ContainerConfig, cgroup: Cgroup, state_dir: Path, rootfs: str | None) -> _Container:
        sync_r, sync_w = os.pipe()  # shim and init -> runtime: "init PID", "ready", "error ...", "exit STATUS"
        start_r, start_w = os.pipe()  # runtime -> init: the exec gate (runc's exec.fifo)
        exec_r, exec_w = os.pipe()  # close-on-exec: EOF once the init has exec'd, else the exec error
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
        stdio = (os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC),
                 os.open(state_dir / "stdout", flags, 0o644), os.open(state_dir / "stderr", flags, 0o644))
        try:
            pid = os.fork()
            if pid == 0:
                _shim(config, cgroup, rootfs, sync_w, start_r, exec_w, stdio)
        except BaseException:
            for fd in (sync_r, start_w, exec_r):
                os.close(fd)
            raise
        finally:
            for fd in (sync_w, start_r, exec_w, *stdio):
                os.close(fd)
        return _Container(cid, cgroup, ShimChannel(cid, sync_r, pid), state_dir, start_w=start_w, exec_r=exec_r)

    # --- the other operations --------------------------------------------------------------

    def start(self, container_id: str) -> ContainerState:
        """Open the exec gate and return once the container's program runs (runc start)."""
        c = self._get(container_id)
        c.update()
        if c.status != CREATED or c.start_w < 0:
            raise ContainerError(f"cannot start container {container_id}: it is {c.status}, not {CREATED}")
        t0 = time.perf_counter()
        os.write(c.start_w, b"\0")
        os.close(c.start_w)
        c.start_w = -1
        err = b""
        while select.select([c.exec_r], [], [], _TIMEOUT)[0]:
            chunk = os.read(c.exec_r, 4096)
            if not chunk:
                break
            err += chunk
        else:
            raise ContainerError(f"container {container_id}: timed out after {_TIMEOUT} s waiting for execve")
        c.start_s = time.perf_counter() - t0
        if err:
            self.wait(container_id)
            raise ContainerError(f"container {container_id}: {err.decode()}")
        c.status = RUNNING
        return self.state(container_id)

    def state(self, container_id: str) -> ContainerState:
        """The OCI state: status, the init's host PID while it lives, and how it ended."""
        c = self._get(container_id)
        c.update()
        return ContainerState(c.id, c.status, c.init_pid, c.exit_code, c.oom_killed)

    def kill(self, container_id: str, signal: int = signal.SIGTERM) -> ContainerState:
        """Send ``signal`` to the init (runc kill). A PID 1 ignores signals it has no handler
        for, except SIGKILL and SIGSTOP from outside its namespace."""
        c = self._get(container_id)
        c.update()
        if c.status == STOPPED:
            raise ContainerError(f"cannot kill container {container_id}: it is {STOPPED}")
        if c.init_pid > 0:  # never 0 or -1: those mean a whole process group
            try:
                os.kill(c.init_pid, signal)
            except ProcessLookupError:
                pass
        return self.state(container_id)

    def delete(self, container_id: str, force: bool = False) -> None:
        """Remove a stopped (or created) container: reap it, kill what is left in its
        cgroup, remove the cgroup and the state directory (runc delete; ``force`` = ``-f``)."""
        c = self._get(container_id)
        status = self.state(container_id).status
        if status == RUNNING and not force:
            raise ContainerError(f"cannot delete container {container_id} that is not stopped: {status}")
        try:
            if status != STOPPED:
                self.kill(container_id, signal.SIGKILL)
                self.wait(container_id, _TIMEOUT)
            deadline = time.monotonic() + _TIMEOUT
            while pids := c.cgroup.procs():
                if time.monotonic() > deadline:
                    raise ContainerError(f"container {container_id}: processes {pids} survive SIGKILL")
                for pid in pids:
                    os.kill(pid, signal.SIGKILL)
                time.sleep(0.01)
            c.cgroup.destroy()
        finally:
            c.chan.close()
            for fd in (c.start_w, c.exec_r):
                if fd >= 0:
                    os.close(fd)
            c.start_w = c.exec_r = -1
            shutil.rmtree(c.state_dir, ignore_errors=True)
            del self._containers[container_id]

def _validate(config: ContainerConfig, rootfs: str | Path | None) -> None:
    if not config.args:
        raise ContainerError("process.args: must name the program to run")
    for n in config.namespaces:
        if n not in _SUPPORTED:
            raise ContainerError(f"linux.namespaces: {n!r} is not supported by LinuxRuntime "
                                 f"(supported: {', '.join(_SUPPORTED)}; user namespaces need uid/gid mappings)")
    if rootfs is not None:
        if "mount" not in config.namespaces:
            raise ContainerError("root.path: a root filesystem needs a mount namespace")
        if not Path(rootfs).is_dir():
            raise ContainerError(f"root.path: {str(rootfs)!r} is not a directory")


# --- the processes on the other side of the fork (they never return) ----------------------


def _close_fds_except(keep: set[int]) -> None:
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass  # the fd listdir itself used


def _shim(config: ContainerConfig, cgroup: Cgroup, rootfs: str | None, sync_w: int, start_r: int, exec_w: int,
          stdio: tuple[int, int, int]) -> None:
    """Stay outside the container: fork the init (into a new PID namespace if asked),
    report its host PID, wait for it and report its wait status."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _close_fds_except({sync_w, start_r, exec_w, *stdio})
        if "pid" in config.namespaces:
            ns.unshare(ns.CLONE_NEWPID)
        pid = os.fork()
        if pid == 0:
            _init(config, cgroup, rootfs, sync_w, start_r, exec_w, stdio)
        for fd in (start_r, exec_w, *stdio):
            os.close(fd)
        os.write(sync_w, f"init {pid}\n".encode())
        _, status = os.waitpid(pid, 0)
        os.write(sync_w, f"exit {status}\n".encode())
        code = 0
    except BaseException as e:  # noqa: BLE001 - report anything, never return into the caller
        os.write(sync_w, f"error shim: {_one_line(e)}\n".encode())
    finally:
        os._exit(code)


def _init(config: ContainerConfig, cgroup: Cgroup, rootfs: str | None, sync_w: int, start_r: int, exec_w: int,
          stdio: tuple[int, int, int]) -> None:
    """The container's first process: set up the isolation, wait at the gate, exec."""
    try:
        for target, fd in enumerate(stdio):
            if fd != target:
                os.dup2(fd, target)
                os.close(fd)
        cgroup.add(0)  # before unsharing the cgroup namespace, whose root is then this group
        flags = 0
        for n in _UNSHARED_BY_INIT:
            if n in config.namespaces:
                flags |= ns.CLONE_FLAGS[n]
        ns.unshare(flags)
        if "mount" in config.namespaces:
            ns.make_mounts_private()
            if rootfs is not None:
                ns.pivot_root(rootfs)
            if rootfs is not None or "pid" in config.namespaces:
                ns.mount_proc("/proc")
        if "uts" in config.namespaces and config.hostname:
            socket.sethostname(config.hostname)
        if "network" in config.namespaces:
            ns.loopback_up()
        os.chdir(config.cwd)
        if config.gid or config.uid:
            os.setgroups([])
            os.setgid(config.gid)
            os.setuid(config.uid)
        for sig in (signal.SIGINT, signal.SIGPIPE, signal.SIGXFSZ):  # as Python found them
            signal.signal(sig, signal.SIG_DFL)
        os.write(sync_w, b"ready\n")
    except BaseException as e:  # noqa: BLE001
        os.write(sync_w, f"error {_one_line(e)}\n".encode())
        os._exit(1)
    try:
        if os.read(start_r, 1) != b"\0":  # the runtime went away without starting us
            os._exit(1)
        env = dict(kv.partition("=")[::2] for kv in config.env)
        os.execvpe(config.args[0], list(config.args), env)
    except BaseException as e:  # noqa: BLE001
        os.write(exec_w, f"exec {config.args[0]!r}: {_one_line(e)}".encode())
    os._exit(127)


def _one_line(e: BaseException) -> str:
    """An error as one sync message line, well below PIPE_BUF."""
    msg = e.strerror if isinstance(e, OSError) and e.strerror else str(e) or type(e).__name__
    return " ".join(msg.split())[:1000]
