"""``plugins/feature.Features``: the feature gates the default plugins read, with
Kubernetes v1.28's default values, plus one switch for later upstream behaviour."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Features", "V1_28", "NEWER_UPSTREAM"]


@dataclass(frozen=True)
class Features:
    """What a plugin factory is told about the cluster's feature gates.

    ``enable_sidecar_containers``: ``SidecarContainers`` (alpha in v1.28, so off; GA later).
    ``enable_pod_scheduling_readiness``: ``PodSchedulingReadiness`` (beta in v1.28, on).
    ``newer_upstream``: the changes the reference marks [newer] that are not gates:
    NodeResourcesFit's ``UnschedulableAndUnresolvable`` when a request alone exceeds the
    node (≈v1.33), BalancedAllocation skipping best-effort pods (kubernetes#129138),
    ImageLocality counting init containers (≈v1.30).
    """

    enable_sidecar_containers: bool = False
    enable_pod_scheduling_readiness: bool = True
    newer_upstream: bool = False


V1_28 = Features()
NEWER_UPSTREAM = Features(enable_sidecar_containers=True, newer_upstream=True)
