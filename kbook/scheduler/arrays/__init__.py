"""The array engine (``kbook.scheduler.arrays``): the scheduler's hot path over numpy
arrays of all nodes. The per-node plugins stay the reference; a differential test holds
the two engines to identical placements (``tests/scheduler/test_differential.py``)."""

from kbook.scheduler.arrays.engine import ArrayEngine
from kbook.scheduler.arrays.registry import ARRAY_FORMS, array_form
from kbook.scheduler.arrays.scores import NodeScoreTable
from kbook.scheduler.arrays.table import NodeTable

__all__ = ["ArrayEngine", "ARRAY_FORMS", "array_form", "NodeScoreTable", "NodeTable"]
