"""Every public conformance vector, one test each, through the same runner as the CLI.

Areas whose issue has not landed are expected to fail (strict xfail): the day an area
starts passing, its xfail turns into an error until the area is listed in LANDED.
"""

from pathlib import Path

import pytest

from kbook.conformance import AREAS, check, discover

DATA = Path(__file__).parent / "data"
LANDED: set[str] = set()


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
