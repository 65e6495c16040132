"""Containers versus virtual machines: start-up latency, memory per instance, and how many
instances of an application fit on a host.

A container is a process tree on the host's kernel, fenced by namespaces and cgroups; a
virtual machine runs its own kernel on virtual hardware, driven by a VMM process on the host.
So a VM pays, per instance, for a VMM and a guest OS, and boots a kernel before the
application starts. Three kinds are modelled, every default cited in :data:`KINDS` and
tabulated by :func:`parameters`:

- full VM: QEMU/KVM and a general-purpose guest OS;
- microVM: Firecracker and a minimal guest kernel;
- container: runc (under a containerd shim) on the host's kernel.

Memory is counted on the host: the per-instance process (VMM or shim) plus, for VMs, the guest
OS inside the VM's RAM, plus the application itself. The container start latency is a default;
``CONTAINER.with_start(seconds, source)`` puts in a value measured on the machine at hand.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from fractions import Fraction

from kbook.errors import KbookError

__all__ = [
    "Cited",
    "Kind",
    "FULL_VM",
    "MICRO_VM",
    "CONTAINER",
    "KINDS",
    "App",
    "Machine",
    "Fleet",
    "density",
    "fleet",
    "compare",
    "parameters",
]


@dataclass(frozen=True)
class Cited:
    """A parameter value with its unit and where it comes from."""

    value: float
    unit: str
    source: str


@dataclass(frozen=True)
class Kind:
    """One way to isolate an instance, and what each instance costs beyond the application."""

    name: str
    stack: str
    kernel: str
    start_s: Cited  # from "start" to the guest's init (VMs) or the container's process
    process_mib: Cited  # the host process per instance: the VMM, or the container's shim
    guest_os_mib: Cited  # memory the guest kernel and OS hold inside the VM; none for a container
    cpu_overhead: Cited  # cores reserved per instance beyond the application (Pod Overhead)

    @property
    def overhead_mib(self) -> float:
        return self.process_mib.value + self.guest_os_mib.value

    def with_start(self, seconds: float, source: str) -> Kind:
        """The same kind with a start latency measured elsewhere (e.g. kbook.container.linux)."""
        return replace(self, start_s=Cited(seconds, "s", source))


_KATA_CLASSES = (
    "kata-containers/kata-containers tools/packaging/kata-deploy/runtimeclasses/"
    "kata-runtimeClasses.yaml"
)

FULL_VM = Kind(
    name="full VM",
    stack="QEMU/KVM + a general-purpose guest OS",
    kernel="its own guest kernel",
    start_s=Cited(
        8.0,
        "s",
        "depot.dev/blog/optimizing-microvm-boot-times: an unoptimized Ubuntu cloud image on KVM "
        "takes 7-9 s until it can run /usr/bin/date (their VMM is Cloud Hypervisor; the guest "
        "OS's boot, cloud-init first, dominates)",
    ),
    process_mib=Cited(
        30,
        "MiB",
        "cloud-hypervisor/cloud-hypervisor#1729 'Measure memory footprint': the QEMU process's "
        "whole footprint is 62 MiB, about 30 MiB once the 29 MiB guest vmlinux is left out",
    ),
    guest_os_mib=Cited(
        256,
        "MiB",
        "Debian 11 Installation Guide section 3.4 'Meeting Minimum Hardware Requirements', "
        "Table 3.2: a system without a desktop needs at least 256 MiB of RAM (512 MiB recommended)",
    ),
    cpu_overhead=Cited(0.25, "cores", f"{_KATA_CLASSES}: RuntimeClass kata-qemu, overhead.podFixed.cpu 250m"),
)

MICRO_VM = Kind(
    name="microVM",
    stack="Firecracker + a minimal guest kernel",
    kernel="its own guest kernel",
    start_s=Cited(
        0.125,
        "s",
        "firecracker-microvm/firecracker SPECIFICATION.md: <= 125 ms from the InstanceStart API "
        "call to the guest's /sbin/init (minimal kernel and root filesystem, serial console off)",
    ),
    process_mib=Cited(
        5,
        "MiB",
        "firecracker-microvm/firecracker SPECIFICATION.md: the VMM threads' memory overhead is "
        "<= 5 MiB for a microVM with 1 vCPU and 128 MiB of RAM",
    ),
    guest_os_mib=Cited(
        16,
        "MiB",
        "firecracker-microvm/firecracker#769: with mem_size_mib 128 the guest's free -m shows "
        "112 MiB; the other 16 MiB are the guest kernel's",
    ),
    cpu_overhead=Cited(0.25, "cores", f"{_KATA_CLASSES}: RuntimeClass kata-fc, overhead.podFixed.cpu 250m"),
)

CONTAINER = Kind(
    name="container",
    stack="runc under containerd-shim-runc-v2",
    kernel="the host's kernel, shared",
    start_s=Cited(
        0.0334,
        "s",
        "containers/crun README 'Performance': runc runs 100 containers of /bin/true one after "
        "another in 3.34 s (crun in 1.69 s)",
    ),
    process_mib=Cited(
        10,
        "MiB",
        "containerd/containerd#7878: containerd-shim-runc-v2 processes resident at 10-11 MiB "
        "each (RSS 10020-11268 KiB)",
    ),
    guest_os_mib=Cited(0, "MiB", "none: a container runs on the host's kernel"),
    cpu_overhead=Cited(
        0,
        "cores",
        "none: Kubernetes adds Pod Overhead only where a RuntimeClass declares overhead.podFixed; "
        "the idle shim's CPU is left out",
    ),
)

KINDS = (FULL_VM, MICRO_VM, CONTAINER)


def _exact(x: float) -> Fraction:
    return Fraction(str(x))


@dataclass(frozen=True)
class App:
    """What one instance of the application itself needs: memory and CPU (its requests)."""

    memory_mib: float
    cpu_cores: float

    def __post_init__(self) -> None:
        if not self.memory_mib > 0:
            raise KbookError(f"memory_mib: Invalid value: {self.memory_mib}: must be greater than 0")
        if self.cpu_cores < 0:
            raise KbookError(f"cpu_cores: Invalid value: {self.cpu_cores}: must be non-negative")


@dataclass(frozen=True)
class Machine:
    """A machine's allocatable memory and cores."""

    memory_mib: float
    cores: float

    def __post_init__(self) -> None:
        for what in ("memory_mib", "cores"):
            if getattr(self, what) < 0:
                raise KbookError(f"{what}: Invalid value: {getattr(self, what)}: must be non-negative")


def _fit(kind: Kind, app: App, host: Machine) -> tuple[int, str]:
    """Instances that fit and the resource that runs out first (memory on a tie)."""
    memory = _exact(app.memory_mib) + _exact(kind.process_mib.value) + _exact(kind.guest_os_mib.value)
    cpu = _exact(app.cpu_cores) + _exact(kind.cpu_overhead.value)
    by_memory = math.floor(_exact(host.memory_mib) / memory)
    if cpu == 0 or by_memory <= math.floor(_exact(host.cores) / cpu):
        return by_memory, "memory"
    return math.floor(_exact(host.cores) / cpu), "cpu"


def density(kind: Kind, app: App, host: Machine) -> int:
    """How many instances of ``app`` fit on ``host`` with ``kind``'s per-instance overheads."""
    return _fit(kind, app, host)[0]


@dataclass(frozen=True)
class Fleet:
    """``instances`` of an application of one kind: hosts needed, memory, and start time."""

    kind: str
    kernel: str
    instances: int
    per_host: int
    limited_by: str
    hosts: float  # math.inf when not even one instance fits on a host
    memory_per_instance_mib: float
    overhead_mib: float
    overhead_share: float  # of each instance's memory, what isolation costs
    cpu_per_instance: float
    memory_mib: float  # all instances together
    start_one_s: float
    start_all_s: float  # starting them ``parallel`` at a time


def fleet(kind: Kind, app: App, host: Machine, instances: int, parallel: int = 1) -> Fleet:
    """``instances`` of ``app`` isolated as ``kind``, started ``parallel`` at a time (by default
    one after another, as the crun benchmark behind the container default ran them)."""
    if instances < 0:
        raise KbookError(f"instances: Invalid value: {instances}: must be non-negative")
    if parallel < 1:
        raise KbookError(f"parallel: Invalid value: {parallel}: must be greater than or equal to 1")
    per_host, limited_by = _fit(kind, app, host)
    per_instance = app.memory_mib + kind.overhead_mib
    if instances == 0:
        hosts: float = 0
    else:
        hosts = math.ceil(instances / per_host) if per_host else math.inf
    return Fleet(
        kind=kind.name,
        kernel=kind.kernel,
        instances=instances,
        per_host=per_host,
        limited_by=limited_by,
        hosts=hosts,
        memory_per_instance_mib=per_instance,
        overhead_mib=kind.overhead_mib,
        overhead_share=kind.overhead_mib / per_instance,
        cpu_per_instance=app.cpu_cores + kind.cpu_overhead.value,
        memory_mib=instances * per_instance,
        start_one_s=kind.start_s.value,
        start_all_s=math.ceil(instances / parallel) * kind.start_s.value,
    )


def compare(
    app: App, host: Machine, instances: int, kinds: tuple[Kind, ...] = KINDS, parallel: int = 1
) -> list[dict]:
    """One DataFrame-ready row per kind: :func:`fleet` for the same application and host."""
    return [asdict(fleet(kind, app, host, instances, parallel)) for kind in kinds]


def parameters(kinds: tuple[Kind, ...] = KINDS) -> list[dict]:
    """Every parameter of every kind with its value, unit and source, for the chapter's table."""
    rows = []
    for kind in kinds:
        for name in ("start_s", "process_mib", "guest_os_mib", "cpu_overhead"):
            c: Cited = getattr(kind, name)
            rows.append(
                {"kind": kind.name, "stack": kind.stack, "parameter": name}
                | {"value": c.value, "unit": c.unit, "source": c.source}
            )
    return rows
