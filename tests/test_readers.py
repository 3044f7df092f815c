"""Five readers open every generated and every refreshed workbook and see every part.

The readers: exceljs, SheetJS (``xlsx``) and xlsx-populate from npm, driven by
``tests/node/read.js``, and openpyxl and python-calamine. What each must see is taken
from the workbook the generator builds in memory, before anything is written: the
sheets, the defined names (``business_type`` among them), every formula's text, the
conditional-format rules and data-validation cells of each sheet, and the seven
charts. A reader that does not model a part is checked for what it keeps of it
(xlsx-populate: the unparsed rules and the chart parts it writes back; SheetJS: the
chart parts); exceljs models no charts and SheetJS no conditional formats or
validations. SheetJS, which never recalculates, must see in every formula cell of a
generated workbook the value openpyxl reads as cached (tests/test_cached_values.py holds
those equal to LibreOffice's recalculation).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter, range_boundaries
from python_calamine import CalamineWorkbook, SheetVisibleEnum

from nichekpi import default_catalog
from nichekpi.cli import main
from nichekpi.workbook import build_workbook, example_values

ROOT = Path(__file__).parent.parent
NODE_FOLDER = ROOT / "tests" / "node"
NODE_HINT = "install Node.js and the npm readers to run it: apt-get install -y nodejs npm && npm ci --prefix tests/node"
NPM_READERS = ("exceljs", "sheetjs", "xlsx-populate")
BUSINESSES = [b.id for b in default_catalog()]
EXAMPLES = ROOT / "examples"
YEAR = 2026  # the year of examples/*.csv


def _node_missing() -> str | None:
    if shutil.which("node") is None:
        return "Node.js is not installed"
    if not (NODE_FOLDER / "node_modules" / "exceljs").is_dir():
        return "the npm readers are not installed"
    return None


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory):
    """{label: (path, business id)}: the five templates with the articles' examples, and one refreshed."""
    folder = tmp_path_factory.mktemp("readers")
    assert main(["templates", "--example", "--year", str(YEAR), "--out", str(folder), "--force"]) == 0
    found = {f"{b} generated": (folder / f"{b}.xlsx", b) for b in BUSINESSES}
    refreshed = folder / "refreshed" / "custom-dollhouses.xlsx"
    assert (
        main(["templates", "--business", "custom-dollhouses", "--year", str(YEAR), "--out", str(refreshed.parent)]) == 0
    )
    arguments = ["--inputs", "inputs.csv", "--orders", "orders.csv", "--survey", "survey.csv"]
    assert main(["refresh", str(refreshed), *[str(EXAMPLES / a) if a.endswith(".csv") else a for a in arguments]]) == 0
    found["custom-dollhouses refreshed"] = (refreshed, "custom-dollhouses")
    return found


def _cells(sqref) -> list[str]:
    """The cells of a data validation's ``sqref`` ("D5:O5 D7:O7"), one by one."""
    cells = []
    for area in sqref.ranges:
        first_column, first_row, last_column, last_row = range_boundaries(area.coord)
        for row in range(first_row, last_row + 1):
            cells += [f"{get_column_letter(c)}{row}" for c in range(first_column, last_column + 1)]
    return cells


@pytest.fixture(scope="module")
def expected():
    """{business id: what every reader must see}, from the workbook built in memory."""
    wanted = {}
    for business in default_catalog():
        wb = build_workbook(business, YEAR, example_values(business))
        wanted[business.id] = {
            "sheets": wb.sheetnames,
            "names": {name: d.attr_text for name, d in wb.defined_names.items()},
            "local": sorted(
                f"{index}:{name}"
                for index, ws in enumerate(wb.worksheets)
                for name, present in (
                    ("_xlnm.Print_Area", ws.print_area),
                    ("_xlnm.Print_Titles", ws.print_title_rows or ws.print_title_cols),
                )
                if present
            ),
            "formulas": {
                f"{ws.title}!{c.coordinate}": c.value[1:]
                for ws in wb.worksheets
                for row in ws.iter_rows()
                for c in row
                if isinstance(c.value, str) and c.value.startswith("=")
            },
            "conditional": {ws.title: sum(len(r.rules) for r in ws.conditional_formatting) for ws in wb.worksheets},
            "validations": {
                ws.title: sorted(c for v in ws.data_validations.dataValidation for c in _cells(v.sqref))
                for ws in wb.worksheets
            },
            "charts": len(wb["Dashboard"]._charts),
            "texts": {
                (ws.title, c.row, c.column): c.value
                for ws in wb.worksheets
                for row in ws.iter_rows()
                for c in row
                if isinstance(c.value, str) and not c.value.startswith("=")
            },
        }
        assert wanted[business.id]["charts"] == len(business.kpis) == 7
        assert "business_type" in wanted[business.id]["names"]
    return wanted


def _compare(seen: dict, want: dict, reader: str, label: str) -> None:
    where = f"{reader} on {label}"
    assert seen["sheets"] == want["sheets"], where
    assert seen["names"] == want["names"], where
    if seen.get("local") is not None:  # the sheets' own names: print areas and print titles
        assert sorted(seen["local"]) == want["local"], where
    assert seen["formulas"] == want["formulas"], where
    if seen.get("conditional") is not None:
        assert seen["conditional"] == want["conditional"], where
    if seen.get("validations") is not None:
        assert {k: sorted(v) for k, v in seen["validations"].items()} == want["validations"], where
    if seen.get("charts") is not None:
        assert seen["charts"] == want["charts"], where


@pytest.mark.parametrize("reader", NPM_READERS)
def test_npm_readers_see_every_part(reader, workbooks, expected):
    missing = _node_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{missing}; the npm readers are required in CI; {NODE_HINT}", pytrace=False)
        pytest.skip(f"{missing}; {NODE_HINT}")
    modelled = {"exceljs": {"conditional", "validations"}, "sheetjs": {"charts"}, "xlsx-populate": {"conditional",
                "validations", "charts"}}[reader]  # fmt: skip
    for label, (path, business) in workbooks.items():
        result = subprocess.run(
            [shutil.which("node"), str(NODE_FOLDER / "read.js"), reader, str(path)],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        seen = json.loads(result.stdout)
        assert {k for k in ("conditional", "validations", "charts") if seen.get(k) is not None} == modelled
        _compare(seen, expected[business], reader, label)
        if seen.get("values") is not None:
            _same_values(seen["values"], path, label)


def _same_values(seen: dict, path: Path, label: str) -> None:
    """The cached values a reader saw equal those openpyxl reads (dates as Excel's serial numbers)."""
    cached = openpyxl.load_workbook(path, data_only=True)
    assert seen, label
    for where, value in seen.items():
        sheet, cell = where.rsplit("!", 1)
        want = cached[sheet][cell].value
        if isinstance(want, dt.datetime):
            want = (want - dt.datetime(1899, 12, 30)).days
        want, value = (None if v == "" else v for v in (want, value))
        if isinstance(want, (int, float)) and not isinstance(want, bool):
            assert value == pytest.approx(want, rel=1e-12, abs=1e-12), f"{label}: {where}"
        else:
            assert value == want, f"{label}: {where}"


def test_openpyxl_sees_every_part(workbooks, expected):
    for label, (path, business) in workbooks.items():
        wb = openpyxl.load_workbook(path)
        seen = {
            "sheets": wb.sheetnames,
            "names": {name: d.attr_text for name, d in wb.defined_names.items()},
            "formulas": {
                f"{ws.title}!{c.coordinate}": c.value[1:]
                for ws in wb.worksheets
                for row in ws.iter_rows()
                for c in row
                if isinstance(c.value, str) and c.value.startswith("=")
            },
            "conditional": {ws.title: sum(len(r.rules) for r in ws.conditional_formatting) for ws in wb.worksheets},
            "validations": {
                ws.title: [c for v in ws.data_validations.dataValidation for c in _cells(v.sqref)]
                for ws in wb.worksheets
            },
            "charts": len(wb["Dashboard"]._charts),
        }
        _compare(seen, expected[business], "openpyxl", label)


def test_calamine_sees_every_sheet_and_every_text(workbooks, expected):
    # python-calamine reads sheets and values, not names, formulas or formats: it must see every sheet,
    # which one is hidden, and every text cell (the text lives in the shared-strings part).
    for label, (path, business) in workbooks.items():
        wb = CalamineWorkbook.from_path(str(path))
        want = expected[business]
        assert wb.sheet_names == want["sheets"], label
        hidden = [m.name for m in wb.sheets_metadata if m.visible != SheetVisibleEnum.Visible]
        assert hidden == ["Chart data"], label
        for name in want["sheets"]:
            rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
            for (sheet, row, column), text in want["texts"].items():
                if sheet == name:
                    assert rows[row - 1][column - 1] == text, f"{label}: {sheet} row {row} column {column}"
