"""The kernel calls a container's init makes before it execs, through ctypes (Python 3.11
has no ``os.unshare``): what runc's libcontainer does in ``nsexec.c`` (unshare) and
``rootfs_linux.go`` (private mounts, ``/proc``, ``pivot_root``), and what ``ip link set lo
up`` does in a fresh network namespace.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import platform
import socket
import struct

from kbook.errors import ContainerError

__all__ = [
    "CLONE_FLAGS",
    "CLONE_NEWNS",
    "CLONE_NEWCGROUP",
    "CLONE_NEWUTS",
    "CLONE_NEWIPC",
    "CLONE_NEWUSER",
    "CLONE_NEWPID",
    "CLONE_NEWNET",
    "unshare",
    "make_mounts_private",
    "mount_proc",
    "pivot_root",
    "loopback_up",
]

# <linux/sched.h>
CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS = 0x00020000, 0x02000000, 0x04000000
CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x08000000, 0x10000000, 0x20000000, 0x40000000
# OCI linux.namespaces type -> clone flag (runc libcontainer/configs/namespaces_syscall.go).
CLONE_FLAGS = {
    "mount": CLONE_NEWNS, "cgroup": CLONE_NEWCGROUP, "uts": CLONE_NEWUTS, "ipc": CLONE_NEWIPC,
    "user": CLONE_NEWUSER, "pid": CLONE_NEWPID, "network": CLONE_NEWNET,
}
# <sys/mount.h>
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_BIND, MS_PRIVATE = 0x2, 0x4, 0x8, 0x4000, 0x1000, 0x40000
MNT_DETACH = 0x2
# <linux/sockios.h>, <net/if.h>
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41}

_libc = ctypes.CDLL(None, use_errno=True)


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise ContainerError(f"{what}: {os.strerror(err)}")


def unshare(flags: int) -> None:
    """unshare(2): move the calling process into new namespaces. A new PID namespace
    applies to the children forked afterwards, not to the caller."""
    _check(_libc.unshare(ctypes.c_int(flags)), f"unshare(0x{flags:x})")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, what: str) -> None:
    """mount(2) without filesystem data."""
    args = [None if a is None else a.encode() for a in (source, target, fstype)]
    _check(_libc.mount(*args, ctypes.c_ulong(flags), None), what)


def make_mounts_private() -> None:
    """``mount --make-rprivate /``: nothing mounted in this mount namespace propagates back
    to the host (runc's ``prepareRoot`` does the same with its rootfsPropagation)."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE, "making / private")


def mount_proc(target: str) -> None:
    """Mount a fresh procfs at ``target``: it shows the PID namespace of the caller."""
    os.makedirs(target, exist_ok=True)
    _mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, f"mounting proc at {target}")


def pivot_root(rootfs: str) -> None:
    """Make ``rootfs`` the root and detach the old one, as runc's ``pivotRoot``: bind the
    rootfs onto itself (pivot_root needs a mount point), ``pivot_root(".", ".")`` stacks the
    old root on top of the new one, and a lazy unmount of "." takes the old root away."""
    nr = _SYS_PIVOT_ROOT.get(platform.machine())
    if nr is None:
        raise ContainerError(f"pivot_root: no syscall number known for {platform.machine()}")
    _mount(rootfs, rootfs, None, MS_BIND | MS_REC, f"bind-mounting {rootfs}")
    os.chdir(rootfs)
    _check(_libc.syscall(ctypes.c_long(nr), b".", b"."), f"pivot_root({rootfs})")
    _check(_libc.umount2(b".", ctypes.c_int(MNT_DETACH)), "unmounting the old root")
    os.chdir("/")


def loopback_up() -> None:
    """``ip link set lo up`` with the ``SIOCSIFFLAGS`` ioctl: a new network namespace has
    only ``lo``, and it starts down."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sh22x", b"lo", 0)
        (flags,) = struct.unpack_from("h", fcntl.ioctl(s, SIOCGIFFLAGS, req), 16)
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sh22x", b"lo", flags | IFF_UP))
