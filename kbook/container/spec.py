"""What a container is asked to be: an OCI-style configuration, and the runtime interface
that both the model and the real Linux backend implement.

Field names follow the OCI runtime spec (config.md: ``process``, ``hostname``,
``linux.resources``, ``linux.namespaces``); lifecycle states and operations follow its
runtime.md (``creating``, ``created``, ``running``, ``stopped``; create, start, kill, delete).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

__all__ = [
    "NAMESPACES",
    "CREATING",
    "CREATED",
    "RUNNING",
    "STOPPED",
    "Resources",
    "ContainerConfig",
    "ContainerState",
    "Runtime",
]

# linux.namespaces types (OCI runtime spec config-linux.md).
NAMESPACES = ("pid", "network", "mount", "ipc", "uts", "user", "cgroup")

# Lifecycle states (OCI runtime spec runtime.md "State").
CREATING, CREATED, RUNNING, STOPPED = "creating", "created", "running", "stopped"


@dataclass(frozen=True)
class Resources:
    """``linux.resources``: the cgroup limits of one container. ``None`` means unlimited.

    CPU: CFS bandwidth (``cpu.cfs_quota_us`` per ``cpu.cfs_period_us``) and ``cpu.shares``
    (weight under contention); memory: ``memory.limit_in_bytes``; pids: ``pids.max``.
    """

    cpu_quota_us: int | None = None
    cpu_period_us: int = 100_000
    cpu_shares: int = 1024
    memory_limit_bytes: int | None = None
    pids_limit: int | None = None


@dataclass(frozen=True)
class ContainerConfig:
    """An OCI-style container configuration: the process, its environment and isolation."""

    args: tuple[str, ...]
    env: tuple[str, ...] = ()
    cwd: str = "/"
    hostname: str = ""
    uid: int = 0
    gid: int = 0
    namespaces: tuple[str, ...] = ("pid", "network", "mount", "ipc", "uts", "cgroup")
    resources: Resources = field(default_factory=Resources)


@dataclass(frozen=True)
class ContainerState:
    """The runtime spec's ``state``: id, status, the host PID of the container's init
    process (0 when not running) and, once stopped, how it ended."""

    id: str
    status: str
    pid: int = 0
    exit_code: int | None = None
    oom_killed: bool = False


class Runtime(Protocol):
    """The operations of an OCI runtime (runtime.md "Operations"), as the model
    (:mod:`kbook.container.runtime`) and the real backend (:mod:`kbook.container.linux`) offer them."""

    def create(self, container_id: str, config: ContainerConfig) -> ContainerState: ...

    def start(self, container_id: str) -> ContainerState: ...

    def state(self, container_id: str) -> ContainerState: ...

    def kill(self, container_id: str, signal: int = 15) -> ContainerState: ...

    def delete(self, container_id: str) -> None: ...
