"""Gnumeric recalculates the whole-year workbooks to the same numbers as the formula library.

Gnumeric evaluates no range as an array unless asked, so it catches a formula that
leans on a spreadsheet's implicit array evaluation (the year-to-date formulas once did).
"""

from __future__ import annotations

import os
import shutil
import subprocess

import openpyxl
import pytest

from nichekpi import default_catalog
from nichekpi.workbook import MONTHS, build_workbook, layout
from tests.workbooks import (
    ERROR_TEXTS,
    as_values,
    counted_months,
    expected_month,
    expected_tier,
    expected_ytd,
    full_year,
    year_with_gaps,
    year_with_text,
)

if shutil.which("ssconvert") is None:
    if os.environ.get("CI"):
        pytest.fail("Gnumeric is required in CI; apt-get install -y gnumeric", pytrace=False)
    pytest.skip("Gnumeric is not installed; apt-get install -y gnumeric (Debian/Ubuntu)", allow_module_level=True)

pytestmark = pytest.mark.filterwarnings("ignore:Workbook contains no default style")  # Gnumeric's files

BUSINESSES = list(default_catalog())
YEARS = {"full": full_year, "gaps": year_with_gaps, "text": year_with_text}
MONTHS_OF = {(kind, b.id): make(b, seed=n) for kind, make in YEARS.items() for n, b in enumerate(BUSINESSES)}


def _blank(value):
    return None if value == "" else value


@pytest.mark.parametrize(("kind", "business_id"), list(MONTHS_OF))
def test_gnumeric_computes_the_same_year(tmp_path, kind, business_id):
    """ssconvert --recalc: every KPI, year-to-date and tier cell equals the formula library, no error value."""
    months = MONTHS_OF[(kind, business_id)]
    business = default_catalog().business(business_id)
    source, target = tmp_path / "year.xlsx", tmp_path / "recalculated.xlsx"
    build_workbook(business, 2026, as_values(business, months)).save(source)
    subprocess.run([shutil.which("ssconvert"), "--recalc", str(source), str(target)], capture_output=True, check=True)
    wb = openpyxl.load_workbook(target, data_only=True)
    where = layout(business)
    checked = 0
    for kpi in business.kpis:
        row = where.kpi_rows[kpi.id]
        counted = len(counted_months(kpi, months[kpi.id]))
        expected = [(expected_month(kpi, m), 1) for m in months[kpi.id]]
        expected.append((expected_ytd(kpi, months[kpi.id]), counted))
        for offset, (want, count) in enumerate(expected):
            got, tier = (_blank(wb["KPIs"].cell(row=r, column=3 + offset).value) for r in (row, row + 1))
            place = f"{kpi.id} column {offset + 1}"
            if isinstance(want, float):
                assert got == pytest.approx(want, rel=1e-12, abs=1e-12), place
                checked += 1
            else:
                assert got == want, place
            assert tier == expected_tier(kpi, want, count), place
    assert checked >= len(business.kpis) * (MONTHS // 2)
    for ws in wb.worksheets:
        for cells in ws.iter_rows(values_only=True):
            for value in cells:
                if ws.title != "Chart data" and isinstance(value, str):
                    assert not value.startswith(ERROR_TEXTS), f"{ws.title}: {value}"


@pytest.mark.parametrize("business_id", [b.id for b in BUSINESSES])
def test_gnumeric_computes_the_same_year_in_a_refreshed_workbook(tmp_path, business_id):
    """A template that ``nichekpi refresh`` filled recalculates in Gnumeric to the formula library's values."""
    from tests.test_cached_values import _equal_the_library, _refreshed

    business = default_catalog().business(business_id)
    year = MONTHS_OF[("full", business_id)]
    source, target = _refreshed(tmp_path, business, year), tmp_path / "recalculated.xlsx"
    subprocess.run([shutil.which("ssconvert"), "--recalc", str(source), str(target)], capture_output=True, check=True)
    _equal_the_library(target, business, year)
