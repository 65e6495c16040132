"""Discover conformance cases, check each one, report ``PASS``/``FAIL`` lines.

The contract (the project's conformance README): one line per case, ``PASS <id>`` or
``FAIL <id>: <what differed>``, then ``N passed, M failed``; a case of a kind no checker
knows is a FAIL, and a crash in one case is that case's FAIL, never the run's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from kbook.errors import ConformanceError

AREAS = ("hpa", "scheduler", "unionfs")


@dataclass(frozen=True)
class Case:
    """One vector: its area, a unique id, the kind that selects its checker, its data."""

    area: str
    id: str
    kind: str
    data: dict[str, Any] = field(repr=False)
    path: Path


@dataclass(frozen=True)
class Result:
    case: Case
    differences: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.differences

    def line(self) -> str:
        if self.passed:
            return f"PASS {self.case.id}"
        return f"FAIL {self.case.id}: " + "; ".join(self.differences)


# A checker returns the list of differences between kbook and the case's expectation.
Checker = Callable[[Case], list[str]]


class CaseError(ConformanceError):
    """A case a checker cannot turn into kbook values (an unknown field, a bad value)."""


def guarded(checker: Checker) -> Checker:
    """A case that cannot be built is that case's difference, not a crash."""

    def run(case: Case) -> list[str]:
        try:
            return checker(case)
        except CaseError as e:
            return [str(e)]

    run.__doc__ = checker.__doc__
    return run

# area -> kind -> checker. Each area's issue registers its checkers here.
CHECKERS: dict[str, dict[str, Checker]] = {area: {} for area in AREAS}


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConformanceError(f"{path}: cannot read vector file: {e}") from e


def _json_cases(area: str, path: Path) -> list[Case]:
    doc = _read_json(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("cases"), list):
        raise ConformanceError(f'{path}: expected an object with a "cases" list')
    cases = []
    for i, c in enumerate(doc["cases"]):
        if not isinstance(c, dict):
            raise ConformanceError(f"{path}: cases[{i}] is not an object")
        ident = c.get("id") or f"{path.stem}/{c.get('name', i)}"
        # The file's conventions (hpa) and schema (scheduler) travel with every case.
        data = {**{k: v for k, v in doc.items() if k != "cases"}, **c}
        cases.append(Case(area, str(ident), str(c.get("kind", "")), data, path))
    return cases


def _unionfs_case(path: Path) -> Case:
    expected = _read_json(path / "expected.json")
    if not isinstance(expected, dict):
        raise ConformanceError(f"{path}/expected.json: expected an object")
    return Case("unionfs", str(expected.get("name", path.name)), str(expected.get("kind", "")), expected, path)


def discover(area: str, paths: Iterable[str | Path]) -> list[Case]:
    """The cases under ``paths``: vector files for hpa and scheduler, case folders
    (or folders of them) for unionfs."""
    if area not in AREAS:
        raise ConformanceError(f"unknown area {area!r}: expected one of {', '.join(AREAS)}")
    cases: list[Case] = []
    for p in map(Path, paths):
        if not p.exists():
            raise ConformanceError(f"{p}: no such file or directory")
        if area == "unionfs":
            if (p / "expected.json").is_file():
                cases.append(_unionfs_case(p))
            elif p.is_dir():
                cases += [_unionfs_case(d) for d in sorted(p.iterdir()) if (d / "expected.json").is_file()]
            else:
                raise ConformanceError(f"{p}: not a unionfs case folder")
        elif p.is_dir():
            for f in sorted(p.rglob("*.json")):
                cases += _json_cases(area, f)
        else:
            cases += _json_cases(area, p)
    return cases


def check(case: Case, checkers: dict[str, dict[str, Checker]] | None = None) -> Result:
    """Run one case; an unknown kind or an exception is a failure of this case only."""
    table = (CHECKERS if checkers is None else checkers).get(case.area, {})
    checker = table.get(case.kind)
    if checker is None:
        return Result(case, (f"unknown kind {case.kind!r} for area {case.area}",))
    try:
        return Result(case, tuple(checker(case)))
    except Exception as e:  # a crash is this case's FAIL, the run goes on
        return Result(case, (f"raised {type(e).__name__}: {e}",))


def run(area: str, paths: Iterable[str | Path]) -> list[Result]:
    """Check every case under ``paths``."""
    return [check(c) for c in discover(area, paths)]


def summary(results: list[Result]) -> str:
    passed = sum(r.passed for r in results)
    return f"{passed} passed, {len(results) - passed} failed"
