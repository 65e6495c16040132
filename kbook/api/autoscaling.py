"""``autoscaling/v2``: the HorizontalPodAutoscaler (k8s.io/api/autoscaling/v2/types.go)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from kbook.api.meta import KubeObject
from kbook.api.model import Int32, Int64, KubeModel, opaque
from kbook.api.selectors import LabelSelector
from kbook.quantity import Quantity

__all__ = [
    "CrossVersionObjectReference",
    "MetricTarget",
    "MetricIdentifier",
    "ObjectMetricSource",
    "PodsMetricSource",
    "ResourceMetricSource",
    "ContainerResourceMetricSource",
    "ExternalMetricSource",
    "MetricSpec",
    "HPAScalingPolicy",
    "HPAScalingRules",
    "HorizontalPodAutoscalerBehavior",
    "HorizontalPodAutoscalerSpec",
    "HorizontalPodAutoscalerCondition",
    "HorizontalPodAutoscalerStatus",
    "HorizontalPodAutoscaler",
]


class _V2(KubeModel):
    GO_PACKAGE: ClassVar[str] = "v2"


@dataclass
class CrossVersionObjectReference(_V2):
    kind: str = ""
    name: str = ""
    api_version: str = ""


@dataclass
class MetricTarget(_V2):
    """``Utilization`` (``averageUtilization``, percent of requests), ``AverageValue`` or ``Value``."""

    type: str = ""
    value: Quantity | None = None
    average_value: Quantity | None = None
    average_utilization: Int32 | None = None


@dataclass
class MetricIdentifier(_V2):
    name: str = ""
    selector: LabelSelector | None = None


@dataclass
class ObjectMetricSource(_V2):
    described_object: CrossVersionObjectReference = field(default_factory=CrossVersionObjectReference)
    target: MetricTarget = field(default_factory=MetricTarget)
    metric: MetricIdentifier = field(default_factory=MetricIdentifier)


@dataclass
class PodsMetricSource(_V2):
    metric: MetricIdentifier = field(default_factory=MetricIdentifier)
    target: MetricTarget = field(default_factory=MetricTarget)


@dataclass
class ResourceMetricSource(_V2):
    name: str = ""
    target: MetricTarget = field(default_factory=MetricTarget)


@dataclass
class ContainerResourceMetricSource(_V2):
    name: str = ""
    target: MetricTarget = field(default_factory=MetricTarget)
    container: str = ""


@dataclass
class ExternalMetricSource(_V2):
    metric: MetricIdentifier = field(default_factory=MetricIdentifier)
    target: MetricTarget = field(default_factory=MetricTarget)


@dataclass
class MetricSpec(_V2):
    """One metric: ``type`` names which of the five sources is set."""

    type: str = ""
    object: ObjectMetricSource | None = None
    pods: PodsMetricSource | None = None
    resource: ResourceMetricSource | None = None
    container_resource: ContainerResourceMetricSource | None = None
    external: ExternalMetricSource | None = None


@dataclass
class HPAScalingPolicy(_V2):
    """At most ``value`` pods (``Pods``) or percent (``Percent``) per ``periodSeconds``."""

    type: str = ""
    value: Int32 = 0
    period_seconds: Int32 = 0


@dataclass
class HPAScalingRules(_V2):
    stabilization_window_seconds: Int32 | None = None
    select_policy: str | None = None
    policies: list[HPAScalingPolicy] | None = None
    tolerance: Quantity | None = None


@dataclass
class HorizontalPodAutoscalerBehavior(_V2):
    scale_up: HPAScalingRules | None = None
    scale_down: HPAScalingRules | None = None


@dataclass
class HorizontalPodAutoscalerSpec(_V2):
    scale_target_ref: CrossVersionObjectReference = field(default_factory=CrossVersionObjectReference)
    min_replicas: Int32 | None = None
    max_replicas: Int32 = 0
    metrics: list[MetricSpec] = field(default_factory=list)
    behavior: HorizontalPodAutoscalerBehavior | None = None


@dataclass
class HorizontalPodAutoscalerCondition(_V2):
    type: str = ""
    status: str = ""
    last_transition_time: str | None = None
    reason: str = ""
    message: str = ""


@dataclass
class HorizontalPodAutoscalerStatus(_V2):
    observed_generation: Int64 | None = None
    last_scale_time: str | None = None
    current_replicas: Int32 = 0
    desired_replicas: Int32 = 0
    current_metrics: list[Any] = opaque("[]v2.MetricStatus")
    conditions: list[HorizontalPodAutoscalerCondition] = field(default_factory=list)


@dataclass
class HorizontalPodAutoscaler(KubeObject):
    GO_PACKAGE: ClassVar[str] = "v2"
    API_VERSION: ClassVar[str] = "autoscaling/v2"
    KIND: ClassVar[str] = "HorizontalPodAutoscaler"

    spec: HorizontalPodAutoscalerSpec = field(default_factory=HorizontalPodAutoscalerSpec)
    status: HorizontalPodAutoscalerStatus = field(default_factory=HorizontalPodAutoscalerStatus)
