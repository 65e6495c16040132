"""The runner's contract: output lines, closing totals, exit codes, failures never skipped."""

import json
import subprocess
import sys

import pytest

from kbook.conformance import Case, check, discover, summary
from kbook.conformance.runner import Result
from kbook.errors import ConformanceError


def _vectors(tmp_path, cases, name="v.json"):
    p = tmp_path / name
    p.write_text(json.dumps({"conventions": {"unit": "s"}, "cases": cases}))
    return p


def test_unknown_kind_is_a_failure_not_a_skip(tmp_path):
    (case,) = discover("hpa", [_vectors(tmp_path, [{"name": "a", "kind": "no_such_kind"}])])
    result = check(case)
    assert not result.passed
    assert result.line() == "FAIL v/a: unknown kind 'no_such_kind' for area hpa"


def test_a_crash_fails_only_its_case(tmp_path):
    cases = discover("hpa", [_vectors(tmp_path, [{"name": "boom", "kind": "k"}, {"name": "ok", "kind": "k"}])])

    def checker(case: Case) -> list[str]:
        if case.data["name"] == "boom":
            raise ZeroDivisionError("division by zero")
        return []

    results = [check(c, {"hpa": {"k": checker}}) for c in cases]
    assert [r.line() for r in results] == ["FAIL v/boom: raised ZeroDivisionError: division by zero", "PASS v/ok"]
    assert summary(results) == "1 passed, 1 failed"


def test_file_level_blocks_travel_with_each_case(tmp_path):
    (case,) = discover("scheduler", [_vectors(tmp_path, [{"id": "s-1", "kind": "score"}])])
    assert case.id == "s-1" and case.data["conventions"] == {"unit": "s"}


def test_unreadable_input_is_a_typed_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConformanceError, match="bad.json"):
        discover("hpa", [bad])
    with pytest.raises(ConformanceError, match="no such file"):
        discover("scheduler", [tmp_path / "missing.json"])
    with pytest.raises(ConformanceError, match="unknown area"):
        discover("dns", [bad])


def test_cli_prints_lines_then_totals_and_exits_nonzero_on_failure(tmp_path):
    p = _vectors(tmp_path, [{"name": "a", "kind": "x"}, {"name": "b", "kind": "y"}])
    out = subprocess.run([sys.executable, "-m", "kbook.conformance", "hpa", str(p)], capture_output=True, text=True)
    lines = out.stdout.splitlines()
    assert out.returncode == 1
    assert lines[0].startswith("FAIL v/a: ") and lines[1].startswith("FAIL v/b: ")
    assert lines[-1] == "0 passed, 2 failed"


def test_cli_reports_bad_paths_without_traceback(tmp_path):
    out = subprocess.run([sys.executable, "-m", "kbook.conformance", "unionfs", str(tmp_path / "nope")],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "Traceback" not in out.stderr and "no such file" in out.stderr


def test_result_line_joins_differences():
    case = Case("hpa", "c", "k", {}, None)
    assert Result(case, ("replicas 3 != 4", "utilization 50 != 60")).line() == "FAIL c: replicas 3 != 4; utilization 50 != 60"
