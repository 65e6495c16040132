"""Pod IP addresses from the node's pod CIDR, as CNI's ``host-local`` IPAM plugin hands
them out (containernetworking/plugins ``plugins/ipam/host-local``): round robin after the
last address reserved, each released when its pod is gone; ``.1`` is the bridge's gateway."""

from __future__ import annotations

import ipaddress

from kbook.errors import KbookError

__all__ = ["HostLocalIPAM", "IPAMError"]


class IPAMError(KbookError):
    """The range has no free address (``no IP addresses available in range set``)."""


class HostLocalIPAM:
    """Allocate and release the pod addresses of one node."""

    def __init__(self, pod_cidr: str) -> None:
        self._hosts = [str(h) for h in ipaddress.ip_network(pod_cidr).hosts()][1:]
        self._in_use: set[str] = set()
        self._last = -1

    def allocate(self) -> str:
        """The next free address after the last one reserved (``RangeIter``)."""
        n = len(self._hosts)
        for k in range(1, n + 1):
            i = (self._last + k) % n
            if self._hosts[i] not in self._in_use:
                self._last = i
                self._in_use.add(self._hosts[i])
                return self._hosts[i]
        raise IPAMError(f"no IP addresses available in range set: {self._hosts[0]}-{self._hosts[-1]}")

    def release(self, ip: str) -> None:
        self._in_use.discard(ip)
