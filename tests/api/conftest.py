"""Shared fixtures for the kbook.api tests."""

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture
def data() -> Path:
    """The folder of the test manifests."""
    return DATA
