"""The ``formulas`` package (PyPI), a third engine, computes the workbooks as LibreOffice and Gnumeric do.

It recalculates every formula cell of the example workbooks and of whole random years
(missing months, a broken rule, text pasted in, edge values); every KPI, year-to-date
and tier cell must equal the formula library, and every formula cell the value the
package carries (which tests/test_cached_values.py holds equal to LibreOffice).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random

import openpyxl
import pytest

from nichekpi import KpiInputError, default_catalog
from nichekpi.workbook import MONTHS, build_workbook, example_values, layout, save_atomically
from tests.workbooks import (
    as_values,
    counted_months,
    expected_month,
    expected_tier,
    expected_ytd,
    full_year,
    year_with_gaps,
    year_with_text,
)

formulas = pytest.importorskip("formulas", reason="pip install formulas (in the test extras)")

BUSINESSES = list(default_catalog())


def edge_year(business, seed):
    """Zeros where allowed, 1e9 amounts, and a month exactly on each threshold where inputs can make it."""
    months = full_year(business, seed)
    rng = random.Random(seed)
    for kpi in business.kpis:
        rows = months[kpi.id]
        zero = [0 if n == 0 else v for n, v in enumerate(rows[0])]
        with contextlib.suppress(KpiInputError):  # a zero this KPI refuses: keep the month
            kpi.compute(*zero)
            rows[0] = zero
        big = [
            v * 1e9 / max(1, max(rows[1])) if not item.whole else round(v * 1e6) for v, item in zip(rows[1], kpi.inputs)
        ]
        with contextlib.suppress(KpiInputError):
            kpi.compute(*big)
            rows[1] = big
        if kpi.formula.params == ("revenue", "orders") or len(kpi.inputs) == 2 and not kpi.inputs[0].whole:
            threshold = kpi.thresholds.get("typical")
            if threshold is not None:
                rows[2] = [threshold * 4, 4]  # exactly on the typical threshold
        rows[3] = rows[3] if rng.random() < 0.5 else None
    return months


YEARS = {"full": full_year, "gaps": year_with_gaps, "text": year_with_text, "edge": edge_year}
# Every business with its examples and its edge year; the other years for one business each
# (the engine takes about ten seconds a workbook; Gnumeric and LibreOffice check them all).
CASES = [(kind, b.id) for kind in ("example", "edge") for b in BUSINESSES]
CASES += [(kind, BUSINESSES[n].id) for n, kind in enumerate(("full", "gaps", "text"))]
CASES += [("refreshed", BUSINESSES[3].id)]  # a blank template that nichekpi refresh filled with a full year


def _months(kind, business, seed):
    if kind == "example":
        values = example_values(business)
        return {
            kpi.id: [
                [values[(kpi.id, item.id)][m] for item in kpi.inputs] if (kpi.id, kpi.inputs[0].id) in values else None
                for m in range(MONTHS)
            ]
            for kpi in business.kpis
        }
    return YEARS["full" if kind == "refreshed" else kind](business, seed)


def _plain(value):
    if hasattr(value, "value"):
        value = value.value[0, 0]
    if isinstance(value, formulas.functions.XlError) or type(value).__name__ == "XlError":
        return str(value)
    if str(value) == "empty":
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    return value


def _blank(value):
    return None if value == "" else value


@pytest.mark.parametrize(("kind", "business_id"), CASES)
def test_formulas_computes_the_same_year(tmp_path, kind, business_id):
    business = default_catalog().business(business_id)
    months = _months(kind, business, seed=BUSINESSES.index(business))
    path = tmp_path / "year.xlsx"
    if kind == "refreshed":
        from tests.test_cached_values import _refreshed

        path = _refreshed(tmp_path / "refreshed", business, months)
    else:
        save_atomically(build_workbook(business, 2026, as_values(business, months)), path)
    solution = formulas.ExcelModel().loads(str(path)).finish().calculate()
    computed = {}
    for key, value in solution.items():
        book_sheet, _, cell = key.rpartition("!")
        if ":" not in cell:
            computed[(book_sheet.split("]", 1)[1].rstrip("'").upper(), cell.replace("$", ""))] = _plain(value)
    cached = openpyxl.load_workbook(path, data_only=True)
    with_formulas = openpyxl.load_workbook(path)
    for ws in with_formulas.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type != "f":
                    continue
                got = _blank(computed[(ws.title.upper(), cell.coordinate)])
                want = _blank(cached[ws.title][cell.coordinate].value)
                where = f"{ws.title}!{cell.coordinate}"
                if isinstance(want, dt.datetime):
                    want = (want - dt.datetime(1899, 12, 30)).days
                if isinstance(want, (int, float)) and not isinstance(want, bool):
                    assert got == pytest.approx(want, rel=1e-12, abs=1e-12), where
                else:
                    assert got == want, f"{where}: formulas {got!r}, cached {want!r}"
    where = layout(business)
    for kpi in business.kpis:
        row = where.kpi_rows[kpi.id]
        counted = len(counted_months(kpi, months[kpi.id]))
        expected = [(expected_month(kpi, m), 1) for m in months[kpi.id]]
        expected.append((expected_ytd(kpi, months[kpi.id]), counted))
        for offset, (want, count) in enumerate(expected):
            column = openpyxl.utils.get_column_letter(3 + offset)
            got = _blank(computed[("KPIS", f"{column}{row}")])
            tier = _blank(computed[("KPIS", f"{column}{row + 1}")])
            place = f"{kpi.id} column {offset + 1}"
            if isinstance(want, float):
                assert got == pytest.approx(want, rel=1e-12, abs=1e-12), place
            else:
                assert got == want, place
            assert tier == expected_tier(kpi, want, count), place
