"""runc as the reference OCI runtime behind the same :class:`~kbook.container.spec.Runtime`
interface, on a root filesystem kbook lays out itself.

kbook writes the bundle: ``config.json`` is ``runc spec``'s own starter file with the
ContainerConfig applied (config.md: ``process``, ``hostname``, ``root``,
``linux.namespaces``, ``linux.resources``, ``linux.cgroupsPath``), next to a busybox root
filesystem that is an image layer unpacked by :func:`kbook.image.unpack`. runc detaches
the container from ``runc create``, so a shim that is the child subreaper
(``PR_SET_CHILD_SUBREAPER``) runs it, inherits the init and reports its exit status, as
containerd-shim-runc-v2 does.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import struct
import subprocess
import tempfile
import time
from copy import deepcopy
from pathlib import Path
from typing import Any

from kbook.container.linux.cgroups import Cgroup, detect_layout
from kbook.container.linux.runtime import ShimChannel, Tracked, TrackedRuntime, check_id, runtime_unavailable
from kbook.container.spec import CREATED, RUNNING, STOPPED, ContainerConfig, ContainerState
from kbook.errors import ContainerError
from kbook.image import DIR, FILE, SYMLINK, Entry, Image, Layer

__all__ = ["RuncRuntime", "BUSYBOX_APPLETS", "busybox_image", "oci_config", "runc_unavailable"]

BUSYBOX_APPLETS = ("sh", "cat", "dd", "echo", "grep", "head", "hostname", "id", "ls", "mount", "ps", "sleep", "wc")
_ROOT_DIRS = ("bin", "dev", "etc", "proc", "root", "sys", "tmp")
_PR_SET_CHILD_SUBREAPER = 36
_TIMEOUT = 10.0


def runc_unavailable() -> str | None:
    """Why :class:`RuncRuntime` cannot run here, or None when it can."""
    if shutil.which("runc") is None:
        return "runc is not installed (apt-get install runc)"
    return runtime_unavailable()


def _static_elf(data: bytes) -> bool:
    """An ELF64 without a PT_INTERP program header: it runs without a dynamic loader."""
    if data[:5] != b"\x7fELF\x02":
        return False
    (phoff,) = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    return all(struct.unpack_from("<I", data, phoff + i * phentsize)[0] != 3 for i in range(phnum))


def busybox_image(busybox: str | Path | None = None, applets: tuple[str, ...] = BUSYBOX_APPLETS) -> Image:
    """A one-layer image: a statically linked busybox (Debian ``busybox-static``) at
    ``/bin/busybox``, a symlink per applet, and the directories a runtime mounts on."""
    path = busybox or shutil.which("busybox")
    if path is None:
        raise ContainerError("busybox is not installed (apt-get install busybox-static)")
    data = Path(path).read_bytes()
    if not _static_elf(data):
        raise ContainerError(f"{path} is not a static ELF64 binary (apt-get install busybox-static)")
    layer = Layer.from_entries([
        *(Entry(f"{d}/", DIR, mode=0o755) for d in _ROOT_DIRS),
        Entry("bin/busybox", FILE, mode=0o755, data=data),
        *(Entry(f"bin/{a}", SYMLINK, mode=0o777, linkname="busybox") for a in applets),
    ])
    return Image((layer,), config={"Cmd": ["/bin/sh"], "Env": ["PATH=/bin"]})


def oci_config(template: dict[str, Any], config: ContainerConfig, rootfs: str | Path, cgroups_path: str) -> dict[str, Any]:
    """``runc spec``'s ``template`` with ``config`` applied: no terminal, the process, the
    hostname (only with a UTS namespace), the namespaces, the cgroup path and limits."""
    if "user" in config.namespaces:
        raise ContainerError("linux.namespaces: 'user' needs uid/gid mappings, which kbook does not write")
    if "mount" not in config.namespaces:
        raise ContainerError("linux.namespaces: runc needs a mount namespace for its root filesystem")
    doc = deepcopy(template)
    proc = doc["process"]
    proc.update(terminal=False, args=list(config.args), cwd=config.cwd, user={"uid": config.uid, "gid": config.gid})
    if config.env:
        proc["env"] = list(config.env)
    doc["root"]["path"] = str(Path(rootfs).resolve())
    if "uts" in config.namespaces and config.hostname:
        doc["hostname"] = config.hostname
    else:
        doc.pop("hostname", None)  # runc refuses a hostname without a UTS namespace
    linux = doc["linux"]
    linux["namespaces"] = [{"type": n} for n in config.namespaces]
    linux["cgroupsPath"] = cgroups_path
    r = config.resources
    res = linux.setdefault("resources", {})
    res["cpu"] = {"shares": r.cpu_shares, "period": r.cpu_period_us}
    if r.cpu_quota_us is not None:
        res["cpu"]["quota"] = r.cpu_quota_us
    if r.memory_limit_bytes is not None:
        res["memory"] = {"limit": r.memory_limit_bytes}
    if r.pids_limit is not None:
        res["pids"] = {"limit": r.pids_limit}
    return doc


class RuncRuntime(TrackedRuntime):
    """Containers run by Debian's runc, its state under a private ``--root``; bundles under
    ``root`` (a temporary directory by default, removed by :meth:`close`). ``rootfs`` is the
    default root filesystem for :meth:`create`. Use as a context manager."""

    def __init__(self, rootfs: str | Path | None = None, root: str | Path | None = None):
        reason = runc_unavailable()
        if reason is not None:
            raise ContainerError(reason)
        self.runc = shutil.which("runc")
        self.rootfs = rootfs
        self._own_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="kbook-runc-") if root is None else root)
        self.layout = detect_layout()
        self._template = self._spec()
        self._containers: dict[str, Tracked] = {}

    def _runc(self, *args: str) -> str:
        cmd = [self.runc, "--root", str(self.root / "state"), *args]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=_TIMEOUT)
        if out.returncode != 0:
            raise ContainerError(f"runc {args[0]}: {out.stderr.strip() or f'exit status {out.returncode}'}")
        return out.stdout

    def _spec(self) -> dict[str, Any]:
        """runc's starter config.json (``runc spec``)."""
        with tempfile.TemporaryDirectory(prefix="kbook-spec-") as d:
            self._runc("spec", "--bundle", d)
            return json.loads((Path(d) / "config.json").read_text())

    def create(self, container_id: str, config: ContainerConfig, rootfs: str | Path | None = None) -> ContainerState:
        """Write the bundle and run ``runc create`` from a subreaper shim."""
        t0 = time.perf_counter()
        check_id(container_id)
        if container_id in self._containers:
            raise ContainerError(f"container with id exists: {container_id}")
        rootfs = rootfs or self.rootfs
        if rootfs is None or not Path(rootfs).is_dir():
            raise ContainerError(f"root.path: {rootfs!r} is not a directory")
        doc = oci_config(self._template, config, rootfs, f"/kbook-{container_id}")
        bundle = self.root / "bundles" / container_id
        try:
            bundle.mkdir(parents=True)
        except OSError as e:
            raise ContainerError(f"container {container_id}: cannot create {str(bundle)!r}: {e.strerror}") from e
        (bundle / "config.json").write_text(json.dumps(doc, indent=2))
        sync_r, sync_w = os.pipe()
        try:
            pid = os.fork()
            if pid == 0:
                self._shim(container_id, bundle, sync_w)
        except BaseException:
            os.close(sync_r)
            shutil.rmtree(bundle, ignore_errors=True)
            raise
        finally:
            os.close(sync_w)
        c = Tracked(container_id, Cgroup(self.layout, f"kbook-{container_id}"), ShimChannel(container_id, sync_r, pid),
                    bundle)
        self._containers[container_id] = c
        msgs = c.chan.messages
        c.chan.read(lambda: "ready" in msgs or "error" in msgs or c.chan.ended, "runc create")
        if "ready" not in msgs:
            c.chan.read(lambda: c.chan.ended, "the shim")
            c.chan.reap()
            c.chan.close()
            shutil.rmtree(bundle, ignore_errors=True)
            del self._containers[container_id]
            raise ContainerError(f"container {container_id}: {msgs.get('error', 'runc create failed')}")
        c.create_s = time.perf_counter() - t0
        return self.state(container_id)

    def _shim(self, container_id: str, bundle: Path, sync_w: int) -> None:
        """The child subreaper: ``runc create``, then wait for the init it leaves behind."""
        code = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
            with open(bundle / "stdout", "wb") as out, open(bundle / "stderr", "wb") as err:
                cmd = [self.runc, "--root", str(self.root / "state"), "--log", str(bundle / "runc.log"),
                       "--log-format", "json", "create", "--bundle", str(bundle), "--pid-file",
                       str(bundle / "init.pid"), container_id]
                rc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err).returncode
            if rc != 0:
                os.write(sync_w, f"error runc create: {_last_error(bundle / 'runc.log')}\n".encode())
                os._exit(1)
            init = int((bundle / "init.pid").read_text())
            os.write(sync_w, f"init {init}\nready\n".encode())
            while True:  # reap everything reparented to us, until the init itself
                pid, status = os.waitpid(-1, 0)
                if pid == init:
                    break
            os.write(sync_w, f"exit {status}\n".encode())
            code = 0
        except BaseException as e:  # noqa: BLE001 - report anything, never return into the caller
            os.write(sync_w, f"error shim: {' '.join(str(e).split())}\n".encode())
        finally:
            os._exit(code)

    def start(self, container_id: str) -> ContainerState:
        """``runc start``: it returns once the init has passed the exec fifo."""
        c = self._get(container_id)
        c.update()
        if c.status != CREATED:
            raise ContainerError(f"cannot start container {container_id}: it is {c.status}, not {CREATED}")
        t0 = time.perf_counter()
        self._runc("start", container_id)
        c.start_s = time.perf_counter() - t0
        c.status = RUNNING
        return self.state(container_id)

    def state(self, container_id: str) -> ContainerState:
        """runc's view while the container lives, the shim's exit report afterwards."""
        c = self._get(container_id)
        c.update()
        if c.status == STOPPED:
            return ContainerState(c.id, STOPPED, 0, c.exit_code, c.oom_killed)
        doc = json.loads(self._runc("state", container_id))
        if doc["status"] == STOPPED:  # the shim's exit report is on its way
            return self.wait(container_id, _TIMEOUT)
        return ContainerState(c.id, doc["status"], doc["pid"])

    def kill(self, container_id: str, signal: int = signal.SIGTERM) -> ContainerState:
        """``runc kill``."""
        c = self._get(container_id)
        c.update()
        if c.status == STOPPED:
            raise ContainerError(f"cannot kill container {container_id}: it is {STOPPED}")
        self._runc("kill", container_id, str(int(signal)))
        return self.state(container_id)

    def delete(self, container_id: str, force: bool = False) -> None:
        """Stop (with ``force``) and reap it, then ``runc delete``, which removes its cgroups."""
        c = self._get(container_id)
        status = self.state(container_id).status
        if status == RUNNING and not force:
            raise ContainerError(f"cannot delete container {container_id} that is not stopped: {status}")
        try:
            if status != STOPPED:
                self._runc("kill", container_id, "KILL")
                self.wait(container_id, _TIMEOUT)
            self._runc("delete", "--force", container_id)
        finally:
            c.chan.close()
            shutil.rmtree(c.state_dir, ignore_errors=True)
            del self._containers[container_id]


def _last_error(log: Path) -> str:
    """The last error runc logged (``--log-format json``: one object per line)."""
    msg = "no error logged"
    if log.exists():
        for line in log.read_text().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("level") in ("error", "fatal"):
                msg = entry.get("msg", msg)
    return " ".join(msg.split())
