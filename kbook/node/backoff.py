"""Per-key exponential backoff as client-go's ``flowcontrol.Backoff``
(``staging/src/k8s.io/client-go/util/flowcontrol/backoff.go``), without jitter.

The kubelet keeps two: one for container restarts (CrashLoopBackOff) and one for image
pulls (ImagePullBackOff), both 10 s initial, doubled, capped at 300 s; an entry not updated
for ``2 * cap`` (10 min) is forgotten, so a container that ran 10 minutes starts over.
"""

from __future__ import annotations

__all__ = ["Backoff", "BACKOFF_PERIOD", "MAX_CONTAINER_BACKOFF"]

BACKOFF_PERIOD = 10.0  # pkg/kubelet/kubelet.go backOffPeriod
MAX_CONTAINER_BACKOFF = 300.0  # pkg/kubelet/kubelet.go MaxContainerBackOff


class Backoff:
    """``flowcontrol.Backoff``: ``next`` after a failure, ``remaining`` before retrying."""

    def __init__(self, initial: float = BACKOFF_PERIOD, cap: float = MAX_CONTAINER_BACKOFF):
        self.initial = initial
        self.cap = cap
        self._entries: dict[str, tuple[float, float]] = {}  # key -> (backoff, last update)

    def _expired(self, key: str, event_time: float) -> bool:
        """``hasExpired``: no update for more than twice the cap."""
        return event_time - self._entries[key][1] > 2 * self.cap

    def next(self, key: str, now: float) -> float:
        """``Next``: start at ``initial`` (or again after expiry), else double up to ``cap``."""
        if key not in self._entries or self._expired(key, now):
            backoff = self.initial
        else:
            backoff = min(2 * self._entries[key][0], self.cap)
        self._entries[key] = (backoff, now)
        return backoff

    def get(self, key: str) -> float:
        """``Get``: the current backoff of ``key`` (0 if none)."""
        return self._entries[key][0] if key in self._entries else 0.0

    def remaining(self, key: str, now: float, since: float | None = None) -> float:
        """Seconds until ``key`` is out of backoff, counted from ``since`` (``IsInBackOffSince``,
        the kubelet passes the container's finish time) or from the last update
        (``IsInBackOffSinceUpdate``); 0 when not in backoff."""
        if key not in self._entries:
            return 0.0
        backoff, last = self._entries[key]
        since = last if since is None else since
        if self._expired(key, since):
            return 0.0
        return max(0.0, backoff - (now - since))
