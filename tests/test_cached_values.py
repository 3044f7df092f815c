"""Cached values: every formula cell of a saved workbook carries what it computes.

The values come from :mod:`nichekpi._evaluate` at build time. They must equal the
formula library for every KPI, year-to-date and tier cell, and LibreOffice's own
recalculation for every cell, so a reader that never recalculates shows the numbers.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import zipfile

import openpyxl
import pytest

from nichekpi import default_catalog
from nichekpi._evaluate import Error, Unsupported, evaluate, general
from nichekpi._libreoffice import INSTALL_HINT, convert, soffice
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

BUSINESSES = list(default_catalog())
YEARS = {"full": full_year, "gaps": year_with_gaps, "text": year_with_text}
MONTHS_OF = {(kind, b.id): make(b, seed=n) for kind, make in YEARS.items() for n, b in enumerate(BUSINESSES)}


# -- the evaluator on its own, values worked out by hand ---------------------------------


def _one(formula, **cells):
    sheet = {(1, n + 1): v for n, v in enumerate(cells.get("row", []))}
    sheet[(9, 9)] = formula
    return evaluate({"S": sheet}, {"r": "S!$A$1:$C$1"})[("S", 9, 9)]


@pytest.mark.parametrize(
    ("formula", "row", "want"),
    [
        ("=1+2*3", [], 7.0),
        ("=-2^2", [], 4.0),  # Excel: negation before power
        ('=IF(A1="","empty",A1)', [None], "empty"),
        ("=A1+1", [None], 1.0),  # an empty cell is 0 in arithmetic
        ("=COUNT(A1,B1,C1)", [1, "12 orders", None], 1.0),
        ("=COUNTA(A1,B1,C1)", [1, "12 orders", None], 2.0),
        ("=SUM(A1:C1)", [1, "x", 2.5], 3.5),
        ("=MAX(A1:C1)", ["x", None, None], 0.0),
        ("=MIN(A1:C1)", [4, 2, 9], 2.0),
        ('=A1="ABC"', ["abc"], True),  # text compares without case
        ("=A1<B1", [5, "a"], True),  # numbers sort before text
        ("=ISNUMBER(A1/B1)", [1, 0], False),
        ("=A1/B1", [1, 0], Error("#DIV/0!")),
        ("=IF(A1>0,NA(),1)", [1], Error("#N/A")),
        ('=IF(ISNUMBER(B1),1,"-")&"x"', [1, "t"], "-x"),
        ('=ROUND(A1,2)&"%"', [0.125], "0.13%"),  # half away from zero
        ("=ROUND(A1,0)", [-2.5], -3.0),
        ("=INT(A1)", [-1.5], -2.0),
        ("=INDEX(r,1,2)", [7, 8, 9], 8.0),
        ("=INDEX(r,1,4)", [7, 8, 9], Error("#REF!")),
        ('=MATCH("june",r,0)', ["May", "June", "July"], 2.0),
        ('=MATCH("x",r,0)', ["May", "June", "July"], Error("#N/A")),
        ("=AND(A1>0,OR(B1>5,C1>5))", [1, 2, 6], True),
        ("=IF(A1>0,TRUE(),FALSE())", [1], True),  # LibreOffice saves TRUE as TRUE()
        ('=A1&" "&B1', [3, 1e9], "3 1000000000"),
    ],
)
def test_evaluator_known_values(formula, row, want):
    assert _one(formula, row=row) == want


def test_evaluator_refuses_what_it_does_not_know():
    for formula in ("=SUMPRODUCT(A1:C1)", "=A1:C1", "={1,2}", "=S!A9"):
        with pytest.raises(Unsupported):
            evaluate({"S": {(1, 1): 1.0, (9, 1): formula}}, {})


def test_general_number_text():
    assert [general(x) for x in (0.0, 3.0, 0.1 + 0.2, 1e9, 12.5, 1e-5)] == [
        "0",
        "3",
        "0.3",
        "1000000000",
        "12.5",
        "0.00001",
    ]


# -- the saved workbooks ---------------------------------------------------------------


def _saved(tmp_path, business, months):
    path = tmp_path / f"{business.id}.xlsx"
    save_atomically(build_workbook(business, 2026, as_values(business, months)), path)
    return path


def _blank(value):
    return None if value == "" else value


@pytest.mark.parametrize(("kind", "business_id"), list(MONTHS_OF))
def test_cached_kpis_year_to_date_and_tiers_equal_the_formula_library(tmp_path, kind, business_id):
    months = MONTHS_OF[(kind, business_id)]
    business = default_catalog().business(business_id)
    _equal_the_library(_saved(tmp_path, business, months), business, months)


def _equal_the_library(path, business, months) -> None:
    """Every cached KPI, year-to-date and tier cell of ``path`` equals the formula library on ``months``."""
    wb = openpyxl.load_workbook(path, data_only=True)
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


# -- refreshed workbooks carry values too --------------------------------------------------


def _inputs_csv(path, business, months, chosen=range(MONTHS)) -> None:
    """The months ``chosen`` of ``months`` as an inputs table for ``nichekpi refresh --inputs``."""
    columns = [(kpi, n, f"{kpi.id}_{item.id}") for kpi in business.kpis for n, item in enumerate(kpi.inputs)]
    lines = [",".join(["month"] + [name for _, _, name in columns])]
    for month in chosen:
        row = [f"2026-{month + 1:02d}"]
        for kpi, n, _ in columns:
            inputs = months[kpi.id][month]
            row.append("" if inputs is None or inputs[n] is None else repr(float(inputs[n])))
        lines.append(",".join(row))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _refreshed(folder, business, months, *, start=None, chosen=range(MONTHS)):
    """A template of ``business`` (blank, or built with ``start``), refreshed with ``chosen`` months of ``months``."""
    from nichekpi.cli import main

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{business.id}.xlsx"
    save_atomically(build_workbook(business, 2026, as_values(business, start) if start else None), path)
    _inputs_csv(folder / "inputs.csv", business, months, chosen)
    assert main(["refresh", str(path), "--inputs", str(folder / "inputs.csv")]) == 0
    return path


def _merged(start, months, chosen):
    """``start`` with the months ``chosen`` replaced by those of ``months`` where they are entered."""
    merged = {}
    for kpi_id, rows in start.items():
        merged[kpi_id] = [
            months[kpi_id][m] if m in chosen and months[kpi_id][m] is not None else rows[m] for m in range(MONTHS)
        ]
    return merged


@pytest.mark.parametrize("business_id", [b.id for b in BUSINESSES])
def test_a_refreshed_workbook_carries_the_formula_library_values(tmp_path, business_id):
    """A blank template refreshed with a full year; then one with gaps and pasted text refreshed for two months."""
    business = default_catalog().business(business_id)
    year = MONTHS_OF[("full", business_id)]
    _equal_the_library(_refreshed(tmp_path / "blank", business, year), business, year)
    start = {k: rows[:10] + [None, None] for k, rows in MONTHS_OF[("text", business_id)].items()}
    path = _refreshed(tmp_path / "text", business, year, start=start, chosen=(10, 11))
    _equal_the_library(path, business, _merged(start, year, (10, 11)))


def test_a_formula_nichekpi_cannot_read_loses_its_value_and_so_do_those_that_need_it(tmp_path):
    """A planner's own formula (a function outside the templates') is never given a guessed value."""
    from nichekpi.cli import main

    business = default_catalog().business("custom-dollhouses")
    path = tmp_path / f"{business.id}.xlsx"
    wb = build_workbook(business, 2026)
    wb["KPIs"]["R3"] = "=SUMPRODUCT(C3:N3)"  # not one of the templates' functions
    wb["KPIs"]["S3"] = "=R3*2"  # needs it
    wb["KPIs"]["T3"] = "=C3*2"  # does not
    save_atomically(wb, path)
    year = MONTHS_OF[("full", business.id)]
    _inputs_csv(tmp_path / "inputs.csv", business, year)
    assert main(["refresh", str(path), "--inputs", str(tmp_path / "inputs.csv")]) == 0
    cached = openpyxl.load_workbook(path, data_only=True)["KPIs"]
    assert cached["R3"].value is None and cached["S3"].value is None
    csat = next(k for k in business.kpis if k.id == "csat")
    assert cached["T3"].value == pytest.approx(2 * csat.compute(*year["csat"][0]), rel=1e-12)
    assert openpyxl.load_workbook(path)["KPIs"]["R3"].value == "=SUMPRODUCT(C3:N3)"


@pytest.mark.parametrize("business_id", [b.id for b in BUSINESSES])
def test_committed_templates_carry_values_and_keep_recalculate_on_load(business_id):
    from tests.test_templates import ROOT

    path = ROOT / "templates" / f"{business_id}.xlsx"
    wb = openpyxl.load_workbook(path, data_only=True)
    assert wb.calculation.fullCalcOnLoad
    assert wb["Chart data"]["B1"].value == dt.datetime(2026, 1, 1)
    assert wb["Chart data"]["B2"].value == "#N/A"  # no month yet: the chart's gap
    with zipfile.ZipFile(path) as package:
        for name in package.namelist():
            if name.startswith("xl/worksheets/sheet"):
                xml = package.read(name).decode()
                formula_cells = re.findall(r"<c [^>]*>(?:(?!</c>).)*<f>(?:(?!</c>).)*</c>", xml)
                assert formula_cells or "<f>" not in xml, name
                for cell in formula_cells:
                    assert re.search(r"</f><v>[^<]*</v>|</f><v/>", cell), f"{name}: {cell[:200]}"
                    if "<v/>" in cell:
                        assert 't="str"' in cell, f"{name}: an empty value must be an empty text: {cell[:200]}"


# -- LibreOffice recalculates to the same cells -------------------------------------------

needs_libreoffice = pytest.mark.skipif(
    soffice() is None and not os.environ.get("CI"), reason=f"LibreOffice is not installed; {INSTALL_HINT}"
)


def _same(a, b) -> bool:
    a, b = _blank(a), _blank(b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return b == pytest.approx(a, rel=1e-12, abs=1e-12)
    return a == b


@needs_libreoffice
def test_every_cached_cell_equals_libreoffice_after_recalculation(tmp_path):
    """openpyxl and python-calamine read the cached values; LibreOffice recalculates; every cell agrees.

    The workbooks: generated with random years and the articles' examples, and refreshed.
    """
    import python_calamine

    if soffice() is None:
        pytest.fail(f"LibreOffice is required in CI; {INSTALL_HINT}", pytrace=False)
    paths = []
    for (kind, business_id), months in MONTHS_OF.items():
        business = default_catalog().business(business_id)
        path = tmp_path / f"{kind}-{business_id}.xlsx"
        save_atomically(build_workbook(business, 2026, as_values(business, months)), path)
        paths.append(path)
    for business in BUSINESSES:
        path = tmp_path / f"example-{business.id}.xlsx"
        save_atomically(build_workbook(business, 2026, example_values(business)), path)
        paths.append(path)
        year = MONTHS_OF[("full", business.id)]  # and refreshed, from blank and from a year with pasted text
        blank = _refreshed(tmp_path / "refreshed-blank" / business.id, business, year)
        start = {k: rows[:10] + [None, None] for k, rows in MONTHS_OF[("text", business.id)].items()}
        text = _refreshed(tmp_path / "refreshed-text" / business.id, business, year, start=start, chosen=(10, 11))
        for kind, path in (("blank", blank), ("text", text)):
            paths.append(path.rename(tmp_path / f"refreshed-{kind}-{business.id}.xlsx"))
    recalculated = convert(paths, "xlsx", tmp_path / "recalculated")
    compared = 0
    for path, recalc in zip(paths, recalculated):
        cached = openpyxl.load_workbook(path, data_only=True)
        formulas = openpyxl.load_workbook(path)
        office = openpyxl.load_workbook(recalc, data_only=True)
        calamine = python_calamine.CalamineWorkbook.from_path(str(path))
        for ws in formulas.worksheets:
            rows = calamine.get_sheet_by_name(ws.title).to_python(skip_empty_area=False)
            for cells in ws.iter_rows():
                for cell in cells:
                    if cell.data_type != "f":
                        continue
                    where = f"{path.name} {ws.title}!{cell.coordinate}"
                    mine, theirs = cached[ws.title][cell.coordinate].value, office[ws.title][cell.coordinate].value
                    assert _same(theirs, mine), f"{where}: cached {mine!r}, LibreOffice {theirs!r}"
                    seen = rows[cell.row - 1][cell.column - 1] if cell.row <= len(rows) else ""
                    if isinstance(mine, dt.datetime):
                        seen = seen if isinstance(seen, dt.datetime) else dt.datetime.combine(seen, dt.time())
                    if mine != "#N/A":
                        assert _same(mine, seen), f"{where}: openpyxl {mine!r}, calamine {seen!r}"
                    compared += 1
    assert compared > 20_000
