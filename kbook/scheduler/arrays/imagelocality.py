"""ImageLocality over the scored nodes (:mod:`kbook.scheduler.plugins.imagelocality`): per
container image, the size scaled by the share of nodes holding it, summed, clamped and
scaled to 0..100 -- the same float64 and int64 steps as the per-node plugin."""

from __future__ import annotations

import numpy as np

from kbook.scheduler.arrays.cycle import ArrayForm, PodCycle, go_div
from kbook.scheduler.plugins.imagelocality import MAX_CONTAINER_THRESHOLD, MIN_THRESHOLD, ImageLocality
from kbook.scheduler.snapshot import normalized_image_name
from kbook.scheduler.status import MAX_NODE_SCORE

__all__ = ["ArrayImageLocality"]


class ArrayImageLocality(ArrayForm):
    """Score."""

    PLUGIN = ImageLocality

    def score(self, cycle: PodCycle, rows: np.ndarray) -> np.ndarray:
        table = cycle.table
        spec = cycle.pod.spec
        containers = list(spec.containers)
        if self.plugin.features.newer_upstream:
            containers = list(spec.init_containers) + containers
        total = np.zeros(len(rows), dtype=np.int64)
        columns = [table.image(normalized_image_name(c.image)) for c in containers]
        if not any(col.present.any() for col in columns):  # sum 0: below the threshold everywhere
            return total
        for col in columns:
            spread = col.num_nodes[rows].astype(np.float64) / float(table.n)  # scaledImageScore
            total += np.where(col.present[rows], (col.size[rows].astype(np.float64) * spread).astype(np.int64), 0)
        max_threshold = MAX_CONTAINER_THRESHOLD * len(containers)
        clamped = np.where(total < MIN_THRESHOLD, MIN_THRESHOLD, np.where(total > max_threshold, max_threshold, total))
        return go_div(MAX_NODE_SCORE * (clamped - MIN_THRESHOLD), max_threshold - MIN_THRESHOLD)
