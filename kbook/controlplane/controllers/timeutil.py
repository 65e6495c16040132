"""Simulated seconds <-> the RFC 3339 timestamps API objects carry (``metav1.Time``,
``metav1.MicroTime``), on the API server's epoch."""

from __future__ import annotations

from datetime import timedelta

from kbook.controlplane.apiserver.metadata import EPOCH, parse_timestamp, timestamp

__all__ = ["rfc3339", "micro_time", "parse_time"]

rfc3339 = timestamp  # metav1.Time: whole seconds


def micro_time(now: float) -> str:
    """``metav1.MicroTime`` (Lease ``renewTime``): microsecond precision."""
    return (EPOCH + timedelta(seconds=now)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: str | None) -> float | None:
    """Simulated seconds of a timestamp (``None`` for an unset one)."""
    return parse_timestamp(value) if value else None
