"""Real cgroups behind one interface, whatever the machine mounts: cgroup v1 (one hierarchy
per controller), hybrid (v1 controllers plus a v2 mount at ``unified/`` that holds none of
them) or the unified v2 hierarchy.

File names and semantics follow the kernel's documentation: Documentation/admin-guide/cgroup-v1
(``cpu.cfs_quota_us``, ``memory.limit_in_bytes``, ``memory.oom_control``, ``pids.max``) and
cgroup-v2.rst (``cpu.max``, ``cpu.weight``, ``memory.max``, ``memory.events``); the v1 to v2
mapping is runc's (libcontainer/cgroups/fs and fs2). Only groups named ``kbook-*`` are ever
created, written or removed, directly below a hierarchy's root.
"""

from __future__ import annotations

import errno
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from kbook.container.spec import Resources
from kbook.errors import ContainerError

__all__ = [
    "V1",
    "HYBRID",
    "UNIFIED",
    "CONTROLLERS",
    "CGROUP_PREFIX",
    "CgroupLayout",
    "CgroupStats",
    "Cgroup",
    "detect_layout",
    "shares_to_weight",
]

V1, HYBRID, UNIFIED = "v1", "hybrid", "unified"
MOUNTINFO = Path("/proc/self/mountinfo")
CGROUP_PREFIX = "kbook-"
CONTROLLERS = ("cpu", "cpuacct", "memory", "pids")  # the ones kbook uses
_NAME = re.compile(rf"^{re.escape(CGROUP_PREFIX)}[A-Za-z0-9_.+-]+$")


def shares_to_weight(shares: int) -> int:
    """v1 ``cpu.shares`` [2, 262144] to v2 ``cpu.weight`` [1, 10000], linearly, as runc's
    ``ConvertCPUSharesToCgroupV2Value`` (and Kubernetes) do: 2 -> 1, 1024 -> 39, 262144 -> 10000."""
    shares = min(max(shares, 2), 262144)
    return 1 + ((shares - 2) * 9999) // 262142


@dataclass(frozen=True)
class CgroupLayout:
    """Where each controller lives: ``v1`` maps a controller to its hierarchy's root
    (hybrid and v1); ``unified`` is the v2 mount and ``v2_controllers`` those a child of
    its root gets (the root's ``cgroup.subtree_control``)."""

    mode: str
    v1: dict[str, Path] = field(default_factory=dict)
    unified: Path | None = None
    v2_controllers: frozenset[str] = frozenset()

    def controllers(self) -> frozenset[str]:
        """The controllers a kbook cgroup can use here (``cpuacct`` is v1's usage counter;
        v2 counts usage in ``cpu.stat`` without any controller)."""
        if self.mode == UNIFIED:
            return frozenset(self.v2_controllers & {"cpu", "memory", "pids"})
        return frozenset(self.v1)

    def missing(self, needed: tuple[str, ...] = ("cpu", "memory", "pids")) -> list[str]:
        """The ``needed`` controllers this layout cannot offer."""
        have = self.controllers()
        return [c for c in needed if c not in have]


def _read(path: Path) -> str:
    return path.read_text().strip()


def _unescape(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as octal (``\\040``)."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def detect_layout(mountinfo: str | None = None) -> CgroupLayout:
    """Find the cgroup hierarchies in ``mountinfo`` (default: this process's
    ``/proc/self/mountinfo``, proc(5)), as runc's ``FindCgroupMountpoint`` does: a v1
    hierarchy is a ``cgroup`` mount whose super options name its controllers (``rw,cpu,cpuacct``
    when co-mounted), a v2 hierarchy a ``cgroup2`` mount. v1 controllers plus a v2 mount is
    hybrid; kbook then uses the v1 controllers, as runc does."""
    text = MOUNTINFO.read_text() if mountinfo is None else mountinfo
    v1: dict[str, Path] = {}
    unified: Path | None = None
    for line in text.splitlines():
        fields = line.split()
        if "-" not in fields:
            continue
        sep = fields.index("-")
        target, fstype, options = Path(_unescape(fields[4])), fields[sep + 1], fields[sep + 3].split(",")
        if fstype == "cgroup":
            for c in CONTROLLERS:
                if c in options:
                    v1.setdefault(c, target)
        elif fstype == "cgroup2" and unified is None:
            unified = target
    if unified is not None:
        enabled = frozenset((unified / "cgroup.subtree_control").read_text().split())
        return CgroupLayout(HYBRID if v1 else UNIFIED, v1=v1, unified=unified, v2_controllers=enabled)
    if not v1:
        raise ContainerError("no cgroup hierarchy is mounted (neither cgroup v1 nor cgroup2 in mountinfo)")
    return CgroupLayout(V1, v1=v1)


@dataclass(frozen=True)
class CgroupStats:
    """What the kernel counted for one group; ``None`` where the controller is absent.

    CPU (CFS bandwidth): periods with runnable tasks, periods that ran out of quota, the
    total time runqueues sat throttled, and CPU time used. Memory: usage, how often usage
    hit the limit (v1 ``memory.failcnt``, v2 ``memory.events`` ``max``) and OOM kills.
    pids: the current count and how often a fork was refused at ``pids.max``."""

    nr_periods: int | None = None
    nr_throttled: int | None = None
    throttled_ns: int | None = None
    cpu_usage_ns: int | None = None
    memory_usage_bytes: int | None = None
    memory_failcnt: int | None = None
    oom_kills: int | None = None
    pids_current: int | None = None
    pids_max_events: int | None = None

    @property
    def throttled_share(self) -> float | None:
        """``nr_throttled / nr_periods``: the share of active periods that hit the quota."""
        if not self.nr_periods:
            return None
        return self.nr_throttled / self.nr_periods


def _keyed(path: Path) -> dict[str, int]:
    """A flat-keyed file (``cpu.stat``, ``memory.events``, ``pids.events``, ...)."""
    out = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition(" ")
        out[key] = int(value)
    return out


class Cgroup:
    """One container's cgroup: a ``kbook-*`` directory in every hierarchy that carries a
    controller kbook uses (v1), or one directory in the unified hierarchy (v2)."""

    def __init__(self, layout: CgroupLayout, name: str):
        if not _NAME.match(name):
            raise ContainerError(f"cgroup name {name!r}: must match {_NAME.pattern}")
        self.layout = layout
        self.name = name
        self.unified = layout.mode == UNIFIED
        if self.unified:
            self.dirs = {c: layout.unified / name for c in layout.controllers()}
            self.dirs["cgroup"] = layout.unified / name
        else:
            self.dirs = {c: hierarchy / name for c, hierarchy in layout.v1.items()}

    @classmethod
    def create(cls, layout: CgroupLayout, name: str) -> "Cgroup":
        """mkdir the group in each hierarchy; a group that already exists is refused (it
        may belong to someone else)."""
        group = cls(layout, name)
        made: list[Path] = []
        try:
            for d in group.paths():
                os.mkdir(d)
                made.append(d)
        except OSError as e:
            for d in reversed(made):
                os.rmdir(d)
            raise ContainerError(f"cannot create cgroup {str(e.filename)!r}: {e.strerror}") from e
        return group

    def paths(self) -> list[Path]:
        """The group's directories, one per distinct hierarchy (a co-mounted
        ``cpu,cpuacct`` counts once)."""
        seen: dict[Path, Path] = {}
        for d in self.dirs.values():
            seen.setdefault(d.parent.resolve(), d)
        return list(seen.values())

    def _file(self, controller: str, name: str) -> Path | None:
        """The group's file ``name``, or None when ``controller`` is not available."""
        d = self.dirs.get(controller)
        return None if d is None else d / name

    def _settings(self, r: Resources) -> list[tuple[str, str, str, bool, str]]:
        """(controller, file, value, whether it limits anything, what) for ``r``."""
        cpu_limited = r.cpu_quota_us is not None or r.cpu_shares != 1024
        if self.unified:
            quota = "max" if r.cpu_quota_us is None else str(r.cpu_quota_us)
            return [
                ("cpu", "cpu.max", f"{quota} {r.cpu_period_us}", r.cpu_quota_us is not None, "cpu quota"),
                ("cpu", "cpu.weight", str(shares_to_weight(r.cpu_shares)), cpu_limited, "cpu shares"),
                ("memory", "memory.max", _or(r.memory_limit_bytes, "max"), r.memory_limit_bytes is not None,
                 "memory limit"),
                ("pids", "pids.max", _or(r.pids_limit, "max"), r.pids_limit is not None, "pids limit"),
            ]
        return [
            ("cpu", "cpu.cfs_period_us", str(r.cpu_period_us), r.cpu_quota_us is not None, "cpu period"),
            ("cpu", "cpu.cfs_quota_us", _or(r.cpu_quota_us, "-1"), r.cpu_quota_us is not None, "cpu quota"),
            ("cpu", "cpu.shares", str(r.cpu_shares), cpu_limited, "cpu shares"),
            ("memory", "memory.limit_in_bytes", _or(r.memory_limit_bytes, "-1"), r.memory_limit_bytes is not None,
             "memory limit"),
            ("pids", "pids.max", _or(r.pids_limit, "max"), r.pids_limit is not None, "pids limit"),
        ]

    def set(self, resources: Resources) -> None:
        """Apply ``linux.resources``: CFS quota and period (v2 ``cpu.max``), shares (v2
        ``cpu.weight``), the memory limit and the pids limit; unlimited is ``-1`` (v1) or
        ``max`` (v2). A limit on a missing controller is an error; no limit is not."""
        for controller, name, value, limited, what in self._settings(resources):
            path = self._file(controller, name)
            if path is None:
                if limited:
                    raise ContainerError(f"cannot set {what}: the {controller} controller is not available "
                                         f"({self.layout.mode} cgroups)")
                continue
            try:
                path.write_text(value)
            except OSError as e:
                raise ContainerError(f"cannot set {what}: writing {value!r} to {str(path)!r}: {e.strerror}") from e

    def add(self, pid: int) -> None:
        """Move ``pid`` into the group in every hierarchy. ``0`` moves the calling process
        (the kernel's "echo 0 > tasks", cgroup-v1/cgroups.rst)."""
        for d in self.paths():
            try:
                (d / "cgroup.procs").write_text(str(pid))
            except OSError as e:
                raise ContainerError(f"cannot add pid {pid} to cgroup {str(d)!r}: {e.strerror}") from e

    def procs(self) -> list[int]:
        """Every process in the group (any hierarchy), sorted."""
        pids: set[int] = set()
        for d in self.paths():
            pids.update(int(p) for p in (d / "cgroup.procs").read_text().split())
        return sorted(pids)

    def stats(self) -> CgroupStats:
        """Read the counters: v1 ``cpu.stat``, ``cpuacct.usage``, ``memory.usage_in_bytes``,
        ``memory.failcnt``, ``memory.oom_control``; v2 ``cpu.stat`` (always present),
        ``memory.current``, ``memory.events``; both ``pids.current``, ``pids.events``."""
        v: dict[str, int | None] = {}
        cpu = self._file("cgroup" if self.unified else "cpu", "cpu.stat")
        if cpu is not None:
            s = _keyed(cpu)
            if "nr_periods" in s:  # v2: only with the cpu controller
                v["nr_periods"], v["nr_throttled"] = s["nr_periods"], s["nr_throttled"]
                v["throttled_ns"] = s["throttled_usec"] * 1000 if self.unified else s["throttled_time"]
            if "usage_usec" in s:
                v["cpu_usage_ns"] = s["usage_usec"] * 1000
        if (usage := self._file("cpuacct", "cpuacct.usage")) is not None:
            v["cpu_usage_ns"] = int(_read(usage))
        if self.unified and (events := self._file("memory", "memory.events")) is not None:
            e = _keyed(events)
            v["memory_usage_bytes"] = int(_read(events.with_name("memory.current")))
            v["memory_failcnt"], v["oom_kills"] = e["max"], e["oom_kill"]
        elif not self.unified and (current := self._file("memory", "memory.usage_in_bytes")) is not None:
            v["memory_usage_bytes"] = int(_read(current))
            v["memory_failcnt"] = int(_read(current.with_name("memory.failcnt")))
            v["oom_kills"] = _keyed(current.with_name("memory.oom_control")).get("oom_kill")  # kernel >= 4.13
        if (pids := self._file("pids", "pids.current")) is not None:
            v["pids_current"] = int(_read(pids))
            v["pids_max_events"] = _keyed(pids.with_name("pids.events"))["max"]
        return CgroupStats(**v)

    def destroy(self, timeout: float = 2.0) -> None:
        """rmdir the group everywhere. The kernel refuses (EBUSY) while a process is inside;
        one that has just been reaped can hold it for a moment, so retry until ``timeout``."""
        deadline = time.monotonic() + timeout
        for d in self.paths():
            while True:
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError as e:
                    if e.errno != errno.EBUSY or time.monotonic() > deadline:
                        raise ContainerError(f"cannot remove cgroup {str(d)!r}: {e.strerror}") from e
                    time.sleep(0.01)


def _or(value: int | None, unlimited: str) -> str:
    return unlimited if value is None else str(value)
