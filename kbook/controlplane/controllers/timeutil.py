"""Simulated seconds <-> the RFC 3339 timestamps API objects carry (``metav1.Time``,
``metav1.MicroTime``), on the API server's epoch."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from kbook.controlplane.apiserver.metadata import EPOCH, parse_timestamp, timestamp

__all__ = ["rfc3339", "micro_time", "parse_time"]

rfc3339 = lru_cache(maxsize=64)(timestamp)  # metav1.Time: whole seconds (one sync asks several times)


def micro_time(now: float) -> str:
    """``metav1.MicroTime`` (Lease ``renewTime``): microsecond precision."""
    return (EPOCH + timedelta(seconds=now)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@lru_cache(maxsize=4096)  # the same creation and transition times come back sync after sync
def parse_time(value: str | None) -> float | None:
    """Simulated seconds of a timestamp (``None`` for an unset one)."""
    return parse_timestamp(value) if value else None
