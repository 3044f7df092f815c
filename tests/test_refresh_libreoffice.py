"""A refresh loses nothing a planner added, and LibreOffice recalculates from the new inputs.

The workbook under test is a template that a planner extended (a comment, an extra
sheet with a chart, a note typed in the KPIs sheet) and that LibreOffice re-saved.
"""

from __future__ import annotations

import os
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment

from nichekpi import KpiInputError, default_catalog
from nichekpi._libreoffice import INSTALL_HINT, convert, soffice
from nichekpi.cli import main
from nichekpi.package import _CELL, _attributes, cells_of_range
from nichekpi.workbook import MONTHS, build_workbook, layout

if soffice() is None:
    if os.environ.get("CI"):
        pytest.fail(f"LibreOffice is required in CI; {INSTALL_HINT}", pytrace=False)
    pytest.skip(f"LibreOffice is not installed; {INSTALL_HINT}", allow_module_level=True)

EXAMPLES = Path(__file__).parent.parent / "examples"
BUSINESS = default_catalog().business("custom-dollhouses")
NOTE = "Ask the supplier about the March delays"


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("refresh")
    wb = build_workbook(BUSINESS, 2026)
    wb["KPIs"]["A3"].comment = Comment("Our target: 85% by summer", "Planner")
    wb["KPIs"]["Q5"] = NOTE
    notes = wb.create_sheet("Notes")
    notes.append(["Quarter", "Fairs attended"])
    for row in (["Q1", 2], ["Q2", 3], ["Q3", 1]):
        notes.append(row)
    chart = BarChart()
    chart.add_data(Reference(notes, min_col=2, min_row=1, max_row=4), titles_from_data=True)
    notes.add_chart(chart, "D2")
    wb.save(folder / "planner.xlsx")
    (resaved,) = convert([folder / "planner.xlsx"], "xlsx", folder / "resaved")
    work = folder / "work" / "custom-dollhouses.xlsx"
    work.parent.mkdir()
    shutil.copy(resaved, work)
    assert main(
        [
            "refresh", str(work),
            "--inputs", str(EXAMPLES / "inputs.csv"),
            "--orders", str(EXAMPLES / "orders.csv"),
            "--survey", str(EXAMPLES / "survey.csv"),
        ]
    ) == 0  # fmt: skip
    (recalculated,) = convert([work], "xlsx", folder / "recalculated")
    return resaved, work, recalculated


def _parts(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_every_part_but_the_worksheets_and_workbook_settings_is_byte_identical(refreshed):
    before, after = _parts(refreshed[0]), _parts(refreshed[1])
    assert before.keys() == after.keys()
    assert any(name.startswith("xl/comments") for name in before), "the comment is in its own part"
    assert sum(name.startswith("xl/charts/") for name in before) == len(BUSINESS.kpis) + 1
    for name in before:
        if name.startswith("xl/worksheets/sheet") or name == "xl/workbook.xml":
            continue
        assert before[name] == after[name], name


def test_workbook_settings_only_gain_full_calculation_on_load(refreshed):
    before = _parts(refreshed[0])["xl/workbook.xml"].decode()
    after = _parts(refreshed[1])["xl/workbook.xml"].decode()
    assert 'fullCalcOnLoad="1"' in after
    assert re.sub(r"<calcPr[^>]*/>", "", before) == re.sub(r"<calcPr[^>]*/>", "", after)


def _cells(xml):
    cells = {}
    for match in _CELL.finditer(xml):
        attributes = _attributes(match.group(1))
        inner = match.group(2) or ""
        formula = re.search(r"<f\b.*?(?:</f>|/>)", inner, re.DOTALL)
        value = re.search(r"<v>(.*?)</v>", inner, re.DOTALL)
        cells[attributes.pop("r")] = (
            {k: v for k, v in attributes.items() if k != "t"},
            formula.group(0) if formula else None,
            value.group(1) if value else None,
            attributes.get("t"),
        )
    return cells


def _same(a, b) -> bool:
    a, b = (None if v == "" else v for v in (a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return b == pytest.approx(a, rel=1e-12, abs=1e-12)
    return a == b


def test_in_the_worksheets_only_inputs_and_cached_results_changed(refreshed):
    """Inputs get their numbers; every formula keeps its text and carries what LibreOffice computes."""
    before, after = _parts(refreshed[0]), _parts(refreshed[1])
    inputs = {cell for kpi in BUSINESS.kpis for i in kpi.inputs for cell in _input_cells(kpi.id, i.id)}
    inputs_part = _sheet_part(before, "Inputs")
    cached = openpyxl.load_workbook(refreshed[1], data_only=True)
    office = openpyxl.load_workbook(refreshed[2], data_only=True)
    sheet_of = {_sheet_part(before, ws.title): ws.title for ws in cached.worksheets}
    written = formulas = 0
    for name in before:
        if not name.startswith("xl/worksheets/sheet"):
            continue
        old, new = before[name].decode(), after[name].decode()
        outside = r"<sheetData>.*</sheetData>"
        assert re.sub(outside, "", old, flags=re.DOTALL) == re.sub(outside, "", new, flags=re.DOTALL), name
        old_cells, new_cells = _cells(old), _cells(new)
        assert old_cells.keys() == new_cells.keys(), name
        for reference, (attributes, formula, value, _) in old_cells.items():
            new_attributes, new_formula, new_value, _ = new_cells[reference]
            assert new_attributes == attributes and new_formula == formula, (name, reference)
            if formula:
                mine, theirs = (book[sheet_of[name]][reference].value for book in (cached, office))
                assert new_value is not None, f"{name} {reference}: no cached result"
                assert _same(theirs, mine), f"{name} {reference}: cached {mine!r}, LibreOffice {theirs!r}"
                formulas += 1
            elif name == inputs_part and reference in inputs:
                written += new_value != value
            else:
                assert new_value == value, (name, reference)
    assert written >= 40
    assert formulas > 1000


def _sheet_part(parts, sheet):
    workbook = parts["xl/workbook.xml"].decode()
    rel = re.search(rf'<sheet name="{sheet}"[^>]*r:id="(\w+)"', workbook).group(1)
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    target = re.search(rf'Id="{rel}"[^>]*Target="([^"]+)"|Target="([^"]+)"[^>]*Id="{rel}"', rels)
    return "xl/" + (target.group(1) or target.group(2))


def _input_cells(kpi_id, input_id):
    row = layout(BUSINESS).input_rows[(kpi_id, input_id)]
    return [f"{chr(ord('D') + m)}{row}" for m in range(MONTHS)]


def test_libreoffice_recalculates_kpis_and_tiers_from_the_new_inputs(refreshed):
    wb = openpyxl.load_workbook(refreshed[2], data_only=True)
    inputs, kpis = wb["Inputs"], wb["KPIs"]
    where = layout(BUSINESS)
    assert inputs[_input_cells("aov", "revenue")[0]].value == 514.5  # January's orders in orders.csv
    checked = 0
    for kpi in BUSINESS.kpis:
        for month in range(3):
            values = [inputs[_input_cells(kpi.id, i.id)[month]].value for i in kpi.inputs]
            value = kpis.cell(row=where.kpi_rows[kpi.id], column=3 + month).value
            tier = kpis.cell(row=where.kpi_rows[kpi.id] + 1, column=3 + month).value
            try:
                expected = kpi.compute(*values)
            except KpiInputError:
                assert value in (None, "check inputs")
                continue
            assert value == pytest.approx(expected, rel=1e-12)
            assert tier == ("not scored" if kpi.yearly_benchmark else kpi.tier(expected))  # yearly benchmarks
            checked += 1
    assert checked == 3 * len(BUSINESS.kpis)
    assert wb["Dashboard"]["B2"].value.month == 3


def test_what_the_planner_added_is_still_there_after_recalculation(refreshed):
    wb = openpyxl.load_workbook(refreshed[2])
    assert wb["KPIs"]["Q5"].value == NOTE
    assert wb["KPIs"]["A3"].comment is not None and "85%" in wb["KPIs"]["A3"].comment.text
    assert [row for row in wb["Notes"].iter_rows(values_only=True)][:2] == [("Quarter", "Fairs attended"), ("Q1", 2)]
    ((sheet, _),) = [cells_of_range(wb.defined_names["in_aov_revenue"].attr_text)]
    assert sheet == "Inputs"
