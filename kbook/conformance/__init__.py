"""The conformance runner: kbook checked against upstream's own test vectors.

``python -m kbook.conformance AREA PATH [PATH ...]``
"""

from kbook.conformance.runner import AREAS, CHECKERS, Case, Checker, Result, check, discover, run, summary

__all__ = ["AREAS", "CHECKERS", "Case", "Checker", "Result", "check", "discover", "run", "summary"]
