"""``kbook.autoscaling``: the Horizontal Pod Autoscaler's decisions on plain values.

The replica calculator (:mod:`~kbook.autoscaling.replica_calculator`) turns pods and
their metrics into a proposed replica count exactly as upstream's ``ReplicaCalculator``;
:mod:`~kbook.autoscaling.metrics` holds the metric records and ``utilization.go``'s
arithmetic. Nothing here imports the control plane: the controller that wires these
functions into the Cluster lives in ``kbook.controlplane.controllers``.
"""

from kbook.autoscaling.horizontal import Decision, HPAState, MetricFailure, MetricProposal, reconcile_replicas
from kbook.autoscaling.metrics import ContainerMetrics, MetricsError, PodMetric, PodMetrics, get_resource_metric
from kbook.autoscaling.replica_calculator import (
    MetricReplicas,
    ReplicaCalculator,
    ResourceReplicas,
    Tolerances,
    calculate_requests,
    group_pods,
)

__all__ = [
    "Decision",
    "HPAState",
    "MetricFailure",
    "MetricProposal",
    "reconcile_replicas",
    "ContainerMetrics",
    "MetricsError",
    "PodMetric",
    "PodMetrics",
    "get_resource_metric",
    "MetricReplicas",
    "ReplicaCalculator",
    "ResourceReplicas",
    "Tolerances",
    "calculate_requests",
    "group_pods",
]
