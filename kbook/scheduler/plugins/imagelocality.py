"""ImageLocality (plugins/imagelocality): favour nodes that already hold the pod's images,
weighting each image by its size and by how widely it is spread (to avoid piling pods
onto the few nodes that have a rare image)."""

from __future__ import annotations

from typing import Any

from kbook.api import Container, Pod
from kbook.scheduler.cyclestate import CycleState
from kbook.scheduler.interface import Handle
from kbook.scheduler.plugins.feature import V1_28, Features
from kbook.scheduler.plugins.helper import go_div
from kbook.scheduler.snapshot import normalized_image_name
from kbook.scheduler.status import MAX_NODE_SCORE, Status
from kbook.scheduler.types import ImageStateSummary, NodeInfo

__all__ = ["NAME", "MB", "MIN_THRESHOLD", "MAX_CONTAINER_THRESHOLD", "ImageLocality",
           "calculate_priority", "new"]

NAME = "ImageLocality"
MB = 1024 * 1024  # mb
MIN_THRESHOLD = 23 * MB  # minThreshold: below this the score is 0
MAX_CONTAINER_THRESHOLD = 1000 * MB  # maxContainerThreshold: per container, above this 100


def calculate_priority(sum_scores: int, num_containers: int) -> int:
    """``calculatePriority``: the sum clamped to [min, max] and scaled to 0..100."""
    max_threshold = MAX_CONTAINER_THRESHOLD * num_containers
    if sum_scores < MIN_THRESHOLD:
        sum_scores = MIN_THRESHOLD
    elif sum_scores > max_threshold:
        sum_scores = max_threshold
    return go_div(MAX_NODE_SCORE * (sum_scores - MIN_THRESHOLD), max_threshold - MIN_THRESHOLD)


def _scaled_image_score(state: ImageStateSummary, total_num_nodes: int) -> int:
    """``scaledImageScore``: the size times the share of nodes that have the image."""
    spread = float(state.num_nodes) / float(total_num_nodes)
    return int(float(state.size) * spread)


def _sum_image_scores(node_info: NodeInfo, containers: list[Container], total_num_nodes: int) -> int:
    """``sumImageScores``."""
    total = 0
    for c in containers:
        state = node_info.image_states.get(normalized_image_name(c.image))
        if state is not None:
            total += _scaled_image_score(state, total_num_nodes)
    return total


class ImageLocality:
    """``ImageLocality``: Score (no normalization). Needs the handle's snapshot for the
    number of nodes."""

    name = NAME

    def __init__(self, handle: Handle, features: Features = V1_28) -> None:
        self.handle = handle
        self.features = features

    def score(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> tuple[int, Status | None]:
        """v1.28 counts the regular containers; newer upstream also the init containers."""
        total_num_nodes = len(self.handle.snapshot.node_info_list)
        containers = list(pod.spec.containers)
        if self.features.newer_upstream:
            containers = list(pod.spec.init_containers) + containers
        return calculate_priority(_sum_image_scores(node_info, containers, total_num_nodes), len(containers)), None


def new(args: dict[str, Any], handle: Handle, features: Features = V1_28) -> ImageLocality:
    """``imagelocality.New``: no arguments."""
    return ImageLocality(handle, features)
