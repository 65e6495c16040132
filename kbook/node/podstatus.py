"""The pod status the kubelet reports: container statuses, the pod phase and the kubelet's
conditions (``pkg/kubelet/kubelet_pods.go`` ``generateAPIPodStatus``, ``getPhase``;
``pkg/kubelet/status/generate.go``; ``pkg/kubelet/types/pod_status.go``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kbook.api import PodCondition

__all__ = [
    "PENDING", "RUNNING", "SUCCEEDED", "FAILED", "KUBELET_CONDITIONS",
    "ContainerRecord", "pod_phase", "pod_conditions",
]

PENDING, RUNNING, SUCCEEDED, FAILED = "Pending", "Running", "Succeeded", "Failed"

# The conditions the kubelet owns, in the order it writes them (after any others).
KUBELET_CONDITIONS = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")


@dataclass
class ContainerRecord:
    """What the kubelet knows of one container: ``state`` / ``last_state`` are the wire
    ``ContainerState`` maps (``{"waiting": {...}}``, ``{"running": {...}}``, ``{"terminated": {...}}``)."""

    name: str
    image: str
    state: dict[str, Any] = field(default_factory=lambda: {"waiting": {"reason": "ContainerCreating"}})
    last_state: dict[str, Any] = field(default_factory=dict)
    ready: bool = False
    restart_count: int = 0
    image_id: str = ""
    container_id: str = ""

    @property
    def started(self) -> bool:
        return "running" in self.state

    def wire(self) -> dict[str, Any]:
        """The ``v1.ContainerStatus`` as JSON."""
        status = {"name": self.name, "state": self.state, "lastState": self.last_state, "ready": self.ready,
                  "restartCount": self.restart_count, "image": self.image, "imageID": self.image_id}
        if self.container_id:
            status["containerID"] = f"containerd://{self.container_id}"
        status["started"] = self.started
        return status


def pod_phase(containers: list[ContainerRecord], restart_policy: str, terminal: bool) -> str:
    """``getPhase``: Pending while a container waits for its first start; then Running, or
    Succeeded / Failed once every container stopped and none will restart. A pod the
    kubelet has finished (``terminal``: deleted) is Succeeded if every container exited 0,
    else Failed."""
    waiting = running = stopped = succeeded = 0
    for c in containers:
        if "running" in c.state:
            running += 1
        elif "terminated" in c.state:
            stopped += 1
            succeeded += c.state["terminated"]["exitCode"] == 0
        elif "terminated" in c.last_state:
            stopped += 1
        else:
            waiting += 1
    if terminal:
        return SUCCEEDED if not waiting and not running and stopped == succeeded else FAILED
    if waiting:
        return PENDING
    if running:
        return RUNNING
    if restart_policy in ("Always", ""):
        return RUNNING
    if stopped == succeeded:
        return SUCCEEDED
    return FAILED if restart_policy == "Never" else RUNNING


def _condition(type_: str, ok: bool, reason: str = "", message: str = "") -> PodCondition:
    return PodCondition(type=type_, status="True" if ok else "False",
                        reason="" if ok else reason, message="" if ok else message)


def pod_conditions(containers: list[ContainerRecord], phase: str, sandbox_ready: bool,
                   existing: list[PodCondition], now: str) -> list[PodCondition]:
    """The pod's conditions: the ones the kubelet does not own first, kept as they are, then
    the kubelet's in its order; ``lastTransitionTime`` moves only when a status changes."""
    unready = [c.name for c in containers if not c.ready]
    reason = "PodCompleted" if phase == SUCCEEDED else "ContainersNotReady"
    message = "" if phase == SUCCEEDED else f"containers with unready status: [{' '.join(unready)}]"
    ours = [
        _condition("PodReadyToStartContainers", sandbox_ready),
        _condition("Initialized", True),
        _condition("Ready", not unready, reason, message),
        _condition("ContainersReady", not unready, reason, message),
        _condition("PodScheduled", True),
    ]
    before = {c.type: c for c in existing}
    for cond in ours:
        old = before.get(cond.type)
        same = old is not None and old.status == cond.status
        cond.last_transition_time = old.last_transition_time if same else now
        cond.last_probe_time = None
    return [c for c in existing if c.type not in KUBELET_CONDITIONS] + ours
