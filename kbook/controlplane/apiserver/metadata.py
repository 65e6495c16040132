"""Server-managed metadata: names from ``generateName`` (``storage/names/generate.go``),
uids and timestamps (``rest.FillObjectMetaSystemFields``), deterministic under a seeded
generator and a simulated clock."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from functools import lru_cache

import numpy as np

__all__ = [
    "EPOCH",
    "NAME_ALPHABET",
    "MAX_GENERATED_NAME_LENGTH",
    "RANDOM_LENGTH",
    "timestamp",
    "parse_timestamp",
    "generate_name",
    "new_uid",
]

EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)  # simulated time 0
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # utilrand alphanums: no vowels, no 0/1/3
RANDOM_LENGTH = 5  # randomLength
MAX_GENERATED_NAME_LENGTH = 63 - RANDOM_LENGTH  # maxGeneratedNameLength = 58


def timestamp(seconds: float) -> str:
    """``metav1.Time`` as JSON: RFC 3339 in UTC, whole seconds (truncated), of simulated time."""
    return (EPOCH + timedelta(seconds=int(seconds // 1))).strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=4096)
def parse_timestamp(text: str) -> float:
    """Simulated seconds of an RFC 3339 timestamp (the inverse of :func:`timestamp`),
    remembered for the few timestamps controllers parse over and over."""
    return (datetime.fromisoformat(text.replace("Z", "+00:00")) - EPOCH).total_seconds()


def generate_name(base: str, rng: np.random.Generator) -> str:
    """``SimpleNameGenerator.GenerateName``: ``base[:58]`` plus 5 random characters."""
    picks = rng.integers(0, len(NAME_ALPHABET), size=RANDOM_LENGTH)
    return base[:MAX_GENERATED_NAME_LENGTH] + "".join(NAME_ALPHABET[i] for i in picks)


def new_uid(rng: np.random.Generator) -> str:
    """A version-4 UUID drawn from ``rng`` (upstream: ``uuid.NewUUID``)."""
    return str(uuid.UUID(bytes=rng.bytes(16), version=4))
