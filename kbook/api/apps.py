"""``apps/v1`` kinds: Deployment and ReplicaSet (k8s.io/api/apps/v1/types.go)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from kbook.api.core import PodTemplateSpec
from kbook.api.meta import KubeObject
from kbook.api.model import Int32, Int64, IntOrString, KubeModel
from kbook.api.selectors import LabelSelector

__all__ = [
    "RollingUpdateDeployment",
    "DeploymentStrategy",
    "DeploymentSpec",
    "DeploymentCondition",
    "DeploymentStatus",
    "Deployment",
    "ReplicaSetSpec",
    "ReplicaSetCondition",
    "ReplicaSetStatus",
    "ReplicaSet",
]


@dataclass
class RollingUpdateDeployment(KubeModel):
    """How far a rolling update may go below (``maxUnavailable``) and above (``maxSurge``)
    the desired replicas: an absolute number or a percentage."""

    max_unavailable: IntOrString | None = None
    max_surge: IntOrString | None = None


@dataclass
class DeploymentStrategy(KubeModel):
    type: str = ""
    rolling_update: RollingUpdateDeployment | None = None


@dataclass
class DeploymentSpec(KubeModel):
    replicas: Int32 | None = None
    selector: LabelSelector | None = None
    template: PodTemplateSpec = field(default_factory=PodTemplateSpec)
    strategy: DeploymentStrategy = field(default_factory=DeploymentStrategy)
    min_ready_seconds: Int32 = 0
    revision_history_limit: Int32 | None = None
    paused: bool = False
    progress_deadline_seconds: Int32 | None = None


@dataclass
class DeploymentCondition(KubeModel):
    type: str = ""
    status: str = ""
    last_update_time: str | None = None
    last_transition_time: str | None = None
    reason: str = ""
    message: str = ""


@dataclass
class DeploymentStatus(KubeModel):
    observed_generation: Int64 = 0
    replicas: Int32 = 0
    updated_replicas: Int32 = 0
    ready_replicas: Int32 = 0
    available_replicas: Int32 = 0
    unavailable_replicas: Int32 = 0
    terminating_replicas: Int32 | None = None
    conditions: list[DeploymentCondition] = field(default_factory=list)
    collision_count: Int32 | None = None


@dataclass
class Deployment(KubeObject):
    API_VERSION: ClassVar[str] = "apps/v1"
    KIND: ClassVar[str] = "Deployment"

    spec: DeploymentSpec = field(default_factory=DeploymentSpec)
    status: DeploymentStatus = field(default_factory=DeploymentStatus)


@dataclass
class ReplicaSetSpec(KubeModel):
    replicas: Int32 | None = None
    min_ready_seconds: Int32 = 0
    selector: LabelSelector | None = None
    template: PodTemplateSpec = field(default_factory=PodTemplateSpec)


@dataclass
class ReplicaSetCondition(KubeModel):
    type: str = ""
    status: str = ""
    last_transition_time: str | None = None
    reason: str = ""
    message: str = ""


@dataclass
class ReplicaSetStatus(KubeModel):
    replicas: Int32 = 0
    fully_labeled_replicas: Int32 = 0
    ready_replicas: Int32 = 0
    available_replicas: Int32 = 0
    terminating_replicas: Int32 | None = None
    observed_generation: Int64 = 0
    conditions: list[ReplicaSetCondition] = field(default_factory=list)


@dataclass
class ReplicaSet(KubeObject):
    API_VERSION: ClassVar[str] = "apps/v1"
    KIND: ClassVar[str] = "ReplicaSet"

    spec: ReplicaSetSpec = field(default_factory=ReplicaSetSpec)
    status: ReplicaSetStatus = field(default_factory=ReplicaSetStatus)
