"""NodePorts (plugins/nodeports): a pod asking for host ports fits only where none of
them is in use (``0.0.0.0`` conflicts with every address)."""

from __future__ import annotations

from typing import Any

from kbook.api import ContainerPort, Pod
from kbook.scheduler.cyclestate import CycleState, NotFoundError
from kbook.scheduler.interface import Handle
from kbook.scheduler.status import Code, Status
from kbook.scheduler.types import NodeInfo, PreFilterResult

__all__ = ["NAME", "ERR_REASON", "NodePorts", "get_container_ports", "fits", "new"]

NAME = "NodePorts"
PRE_FILTER_STATE_KEY = "PreFilter" + NAME
ERR_REASON = "node(s) didn't have free ports for the requested pod ports"


def get_container_ports(pod: Pod) -> list[ContainerPort]:
    """``getContainerPorts``: the regular containers' ports that ask for a host port."""
    return [p for c in pod.spec.containers for p in c.ports if p.host_port > 0]


def _fits_ports(want: list[ContainerPort], node_info: NodeInfo) -> bool:
    """``fitsPorts``: no wanted (ip, protocol, port) conflicts with one in use."""
    return not any(node_info.used_ports.check_conflict(p.host_ip, p.protocol, p.host_port) for p in want)


def fits(pod: Pod, node_info: NodeInfo) -> bool:
    """``Fits`` (used by preemption)."""
    return _fits_ports(get_container_ports(pod), node_info)


class NodePorts:
    """``NodePorts``: PreFilter and Filter."""

    name = NAME

    def pre_filter(self, state: CycleState, pod: Pod) -> tuple[PreFilterResult | None, Status | None]:
        """Store the wanted host ports; ``Skip`` (no Filter) for a pod that wants none."""
        ports = get_container_ports(pod)
        if not ports:
            return None, Status.of(Code.SKIP)
        state.write(PRE_FILTER_STATE_KEY, ports)
        return None, None

    def pre_filter_extensions(self) -> None:
        return None

    def filter(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Status | None:
        """``Unschedulable``: another pod may leave and free the port."""
        try:
            want = state.read(PRE_FILTER_STATE_KEY)
        except NotFoundError as e:
            return Status.error(f'error reading "{PRE_FILTER_STATE_KEY}" from cycleState: {e}')
        return None if _fits_ports(want, node_info) else Status.of(Code.UNSCHEDULABLE, ERR_REASON)


def new(args: dict[str, Any], handle: Handle | None) -> NodePorts:
    """``nodeports.New``: no arguments."""
    return NodePorts()
