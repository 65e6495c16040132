"""Simulated seconds as the API's timestamps, on the API server's epoch: ``metav1.Time``
(:func:`~kbook.controlplane.apiserver.metadata.timestamp`), ``metav1.MicroTime`` (what a
Lease's ``renewTime`` holds), and Go's duration text for event messages."""

from __future__ import annotations

from datetime import timedelta

from kbook.controlplane.apiserver.metadata import EPOCH, timestamp

__all__ = ["EPOCH", "timestamp", "micro_timestamp", "go_duration"]

_NAIVE_EPOCH = EPOCH.replace(tzinfo=None)  # isoformat without an offset


def micro_timestamp(t: float) -> str:
    """``metav1.MicroTime`` as JSON: ``2026-01-01T00:00:10.000000Z``."""
    return (_NAIVE_EPOCH + timedelta(seconds=round(t, 6))).isoformat(timespec="microseconds") + "Z"


def go_duration(seconds: float) -> str:
    """Go's ``time.Duration.String()`` at millisecond precision: ``0s``, ``250ms``, ``2.5s``, ``1m30s``."""
    ms = round(seconds * 1000)
    if ms == 0:
        return "0s"
    if ms < 1000:
        return f"{ms}ms"
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    text = f"{rest / 1000:.3f}".rstrip("0").rstrip(".") + "s"
    if hours or minutes:
        text = f"{minutes}m{text}"
    if hours:
        text = f"{hours}h{text}"
    return text
