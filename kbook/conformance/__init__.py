"""The conformance runner: kbook checked against upstream's own test vectors.

``python -m kbook.conformance AREA PATH [PATH ...]``
"""

from kbook.conformance.runner import AREAS, CHECKERS, Case, Checker, Result, check, discover, run, summary
from kbook.conformance import unionfs as _unionfs  # noqa: F401  registers the unionfs checkers
from kbook.conformance import scheduler as _scheduler  # noqa: F401  registers the scheduler plugin checkers
from kbook.conformance import scheduler_framework as _scheduler_framework  # noqa: F401  registers the framework checkers
from kbook.conformance import hpa as _hpa  # noqa: F401  registers the hpa checkers

__all__ = ["AREAS", "CHECKERS", "Case", "Checker", "Result", "check", "discover", "run", "summary"]
