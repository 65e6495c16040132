"""Every public conformance vector, one test each, through the same runner as the CLI.

Areas whose issue has not landed are expected to fail (strict xfail): the day an area
starts passing, its xfail turns into an error until the area is listed in LANDED.
"""

from pathlib import Path

import pytest

from kbook.conformance import AREAS, check, discover

DATA = Path(__file__).parent / "data"
LANDED: set[str] = {"unionfs", "scheduler", "hpa"}


def _params():
    for area in AREAS:
        for case in discover(area, [DATA / area]):
            marks = [] if area in LANDED else [pytest.mark.xfail(strict=True, reason=f"the {area} area has not landed")]
            yield pytest.param(case, id=f"{area}:{case.id}", marks=marks)


@pytest.mark.parametrize("case", list(_params()))
def test_vector(case):
    result = check(case)
    assert result.passed, result.line()


def test_every_area_has_public_vectors():
    counts = {area: len(discover(area, [DATA / area])) for area in AREAS}
    assert counts["hpa"] == 97 and counts["scheduler"] == 95 and counts["unionfs"] == 26, counts


def test_the_unionfs_checker_sees_differences(tmp_path):
    """A checker that cannot fail proves nothing: doctored expectations must fail, briefly."""
    import json
    import shutil

    case_dir = tmp_path / "doctored"
    shutil.copytree(DATA / "unionfs" / "basic-add-modify", case_dir)
    doc = json.loads((case_dir / "expected.json").read_text())
    tree = doc["expected"]["tree"]
    tree[1]["mode"] = "0700"
    del tree[2]
    tree[3]["mtime"] = 1
    doc["layers"][1]["diff_id"] = "sha256:" + "0" * 64
    (case_dir / "expected.json").write_text(json.dumps(doc))
    (case,) = discover("unionfs", [case_dir])
    differences = check(case).differences
    assert "bin: mode '0755' != '0700'" in differences
    assert "unexpected 'bin/my-app-binary'" in differences
    assert any(d.startswith("layer1 diff_id sha256:8d7b") for d in differences)
    assert any(d.startswith("etc: mtime 1000000000 != 1") for d in differences)

    doc["expected"] = {"outcome": "error"}
    (case_dir / "expected.json").write_text(json.dumps(doc))
    (case,) = discover("unionfs", [case_dir])
    assert "outcome ok != expected error" in check(case).differences
