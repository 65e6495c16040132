"""``kbook.container``: containers as the kernel makes them: namespaces, cgroups, the OCI lifecycle."""

from kbook.container.cgroups import (
    MAX_CFS_PERIOD, MAX_SHARES, MILLI_CPU_TO_CPU, MIN_QUOTA_PERIOD, MIN_SHARES, QUOTA_PERIOD, SHARES_PER_CPU,
    CfsTrace, Cgroup, CpuCgroup, CpuStat, MemoryCgroup, MemoryStat, OomKill, PeriodTimer, PidsCgroup,
    container_resources, cpu_shares_split, memory_timeline, milli_cpu_to_quota, milli_cpu_to_shares,
    predicted_throttling, simulate_busy, simulate_cfs,
)
from kbook.container.runtime import (
    SIGKILL, SIGTERM, Container, Host, IdMap, Interface, IpcNamespace, ModelRuntime, NetworkNamespace, PidNamespace,
    Process, UserNamespace, UtsNamespace,
)
from kbook.container.serving import ServingResult, serve
from kbook.container.vm import (
    CONTAINER, FULL_VM, KINDS, MICRO_VM, App, Cited, Fleet, Kind, Machine, compare, density, fleet, parameters,
)
from kbook.container.spec import (
    CREATED, CREATING, NAMESPACES, RUNNING, STOPPED, ContainerConfig, ContainerState, Resources, Runtime,
)

__all__ = [
    # spec
    "NAMESPACES", "CREATING", "CREATED", "RUNNING", "STOPPED",
    "Resources", "ContainerConfig", "ContainerState", "Runtime",
    # runtime model
    "ModelRuntime", "Container", "Host", "Process", "SIGKILL", "SIGTERM",
    "IdMap", "UserNamespace", "UtsNamespace", "PidNamespace", "NetworkNamespace", "Interface", "IpcNamespace",
    # cgroups
    "MIN_SHARES", "MAX_SHARES", "SHARES_PER_CPU", "MILLI_CPU_TO_CPU", "QUOTA_PERIOD", "MIN_QUOTA_PERIOD",
    "MAX_CFS_PERIOD", "milli_cpu_to_shares", "milli_cpu_to_quota", "container_resources",
    "Cgroup", "CpuCgroup", "CpuStat", "PeriodTimer", "CfsTrace", "simulate_busy", "simulate_cfs",
    "predicted_throttling", "cpu_shares_split",
    "MemoryCgroup", "MemoryStat", "OomKill", "memory_timeline", "PidsCgroup",
    # serving
    "serve", "ServingResult",
    # containers vs virtual machines
    "Cited", "Kind", "FULL_VM", "MICRO_VM", "CONTAINER", "KINDS", "App", "Machine", "Fleet",
    "density", "fleet", "compare", "parameters",
]
