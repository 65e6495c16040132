"""``kbook.container.linux``: the runtime interface on the real kernel: namespaces through
ctypes, cgroup limits on v1, hybrid or v2 hierarchies, and runc as a reference runtime."""

from kbook.container.linux.cgroups import (
    CGROUP_PREFIX, CONTROLLERS, HYBRID, UNIFIED, V1, Cgroup, CgroupLayout, CgroupStats, detect_layout, shares_to_weight,
)
from kbook.container.linux.runc import BUSYBOX_APPLETS, RuncRuntime, busybox_image, oci_config, runc_unavailable
from kbook.container.linux.runtime import LinuxRuntime, StartLatency, runtime_unavailable

__all__ = [
    "V1", "HYBRID", "UNIFIED", "CONTROLLERS", "CGROUP_PREFIX", "CgroupLayout", "CgroupStats", "Cgroup",
    "detect_layout", "shares_to_weight", "LinuxRuntime", "StartLatency", "runtime_unavailable",
    "RuncRuntime", "BUSYBOX_APPLETS", "busybox_image", "oci_config", "runc_unavailable",
]
