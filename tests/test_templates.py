"""The template generator: what it lays out, the names it defines, the command, the committed files."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import openpyxl
import pytest

from nichekpi import default_catalog
from nichekpi.cli import main
from nichekpi.workbook import FUNCTIONS, MONTH_CHOICE, MONTHS, WORDS, build_workbook, layout
from tests.spec import SPEC
from tests.workbooks import anchor_boxes, overlapping

ROOT = Path(__file__).parent.parent
BUSINESSES = list(default_catalog())
SHEETS = ["Start here", "Inputs", "KPIs", "Benchmarks", "Dashboard", "Chart data"]


@pytest.fixture(scope="module", params=[b.id for b in BUSINESSES])
def built(request, tmp_path_factory):
    business = default_catalog().business(request.param)
    path = tmp_path_factory.mktemp("built") / f"{business.id}.xlsx"
    build_workbook(business, 2026).save(path)
    return business, openpyxl.load_workbook(path)


def test_sheets(built):
    _, wb = built
    assert wb.sheetnames == SHEETS
    assert wb["Chart data"].sheet_state == "hidden"
    for name in SHEETS[:-1]:
        assert wb[name].protection.sheet, name
        assert wb[name].protection.password is None
        # the twelve months, and the article's sentences beside their translation, print over two pages' width
        wide = 2 if name in ("Inputs", "KPIs", "Benchmarks") else 1
        assert wb[name].page_setup.fitToWidth == wide and wb[name].sheet_properties.pageSetUpPr.fitToPage


def test_defined_names_are_workbook_scoped_and_point_at_the_right_rows(built):
    business, wb = built
    names = wb.defined_names
    for ws in wb.worksheets:
        assert not ws.defined_names, f"{ws.title} has sheet-scoped names"
    for kpi in business.kpis:
        for item in kpi.inputs:
            ((sheet, cells),) = names[f"in_{kpi.id}_{item.id}"].destinations
            assert sheet == "Inputs"
            first = wb["Inputs"][cells.replace("$", "").split(":")[0]]
            assert wb["Inputs"].cell(row=first.row, column=1).value == item.label
            assert len(wb["Inputs"][cells.replace("$", "")][0]) == MONTHS
        ((sheet, cells),) = names[f"kpi_{kpi.id}"].destinations
        assert sheet == "KPIs"
        row = int(re.search(r"\$(\d+):", cells).group(1))
        assert wb["KPIs"].cell(row=row, column=1).value == kpi.name
        ((_, tier_cells),) = names[f"tier_{kpi.id}"].destinations
        assert f"${row + 1}:" in tier_cells
        for key in ("typical", "above_average", "exceptional"):
            ((sheet, cell),) = names[f"bench_{kpi.id}_{key}"].destinations
            assert sheet == "Benchmarks"
            assert wb["Benchmarks"][cell.replace("$", "")].value == kpi.thresholds[key]


def test_spec_names_exist_for_the_count_kpi():
    wb = build_workbook(default_catalog().business("custom-miniature-modeling"), 2026)
    assert "in_orders_completed_count" in wb.defined_names
    assert "in_csat_satisfied" in wb.defined_names


def test_only_input_and_threshold_cells_are_unlocked(built):
    business, wb = built
    where = layout(business)
    unlocked = {
        (ws.title, c.coordinate)
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if not c.protection.locked
    }
    inputs = {
        ("Inputs", f"{openpyxl.utils.get_column_letter(4 + m)}{r}")
        for r in where.input_rows.values()
        for m in range(MONTHS)
    }
    bench = {("Benchmarks", f"{c}{r}") for r in where.bench_rows.values() for c in "CDEF"}
    assert unlocked == inputs | bench | {("Dashboard", MONTH_CHOICE)}


def test_inputs_carry_data_validation_whole_numbers_for_counts(built):
    business, wb = built
    ws = wb["Inputs"]
    by_cell = {}
    for validation in ws.data_validations.dataValidation:
        for cells in validation.sqref.ranges:
            for row in ws[cells.coord]:
                for cell in row if isinstance(row, tuple) else (row,):
                    by_cell[cell.coordinate] = validation
    where = layout(business)
    for kpi in business.kpis:
        for item in kpi.inputs:
            validation = by_cell[f"D{where.input_rows[(kpi.id, item.id)]}"]
            assert validation.type == ("whole" if item.whole else "decimal")
            assert validation.operator == "greaterThanOrEqual" and validation.formula1 == "0"
            assert validation.showErrorMessage and validation.error


def test_no_number_format_can_show_a_trailing_point(built):
    """An optional digit after the point ("#,##0.##") shows 420 as "420." in Gnumeric and Excel-like formatters."""
    _, wb = built
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                for section in cell.number_format.split(";"):
                    assert not re.search(r"\.[0-9]*#", section), f"{ws.title}!{cell.coordinate}: {cell.number_format}"


def test_input_cells_show_two_decimals_for_amounts_none_for_counts(built):
    business, wb = built
    where = layout(business)
    for kpi in business.kpis:
        for item in kpi.inputs:
            row = where.input_rows[(kpi.id, item.id)]
            for column in range(4, 4 + MONTHS + 1):  # the months and year to date
                want = "#,##0" if item.whole else "#,##0.00"
                assert wb["Inputs"].cell(row=row, column=column).number_format == want, (kpi.id, item.id, column)


def test_thresholds_are_validated_as_numbers_in_order(built):
    business, wb = built
    ws = wb["Benchmarks"]
    covered = {}
    for validation in ws.data_validations.dataValidation:
        if validation.type == "custom":
            assert len(validation.formula1) <= 255  # Excel's limit for a validation formula
            assert validation.showErrorMessage and "In order" in validation.error
            for cells in validation.sqref.ranges:
                covered[cells.coord] = validation.formula1
    for row in layout(business).bench_rows.values():
        assert {covered[f"{c}{row}"] for c in "DEF"} == {covered[f"D{row}"]}
        assert f"ISNUMBER(D{row})" in covered[f"D{row}"] and f'$C${row}="lower"' in covered[f"D{row}"]


def test_words_in_formulas_hold_no_double_quote():
    texts = [*WORDS["cell"].values(), *WORDS["months"]["short"], *WORDS["months"]["long"]]
    assert all('"' not in text for text in texts)


def test_formulas_use_only_functions_every_spreadsheet_knows(built):
    _, wb = built
    used = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    used |= set(re.findall(r"([A-Z][A-Z0-9.]*)\(", re.sub(r'"[^"]*"', "", cell.value)))
    assert used <= FUNCTIONS
    assert {"IF", "COUNT", "COUNTA", "SUM", "INDEX", "MATCH", "NA"} <= used
    assert not used & {"SUMPRODUCT", "COLUMN"}  # they invited implicit array evaluation


def test_kpi_formulas_come_from_the_formula_library():
    business = default_catalog().business("custom-dollhouses")
    wb = build_workbook(business, 2026)
    where = layout(business)
    row = where.kpi_rows["retention_rate"]
    end, new, start = (
        where.input_rows[("retention_rate", i)] for i in ("customers_end", "new_customers", "customers_start")
    )
    formula = wb["KPIs"].cell(row=row, column=3).value
    assert f"(Inputs!D{end}-Inputs!D{new})/Inputs!D{start}" in formula
    assert f"Inputs!D{new}<=Inputs!D{end}" in formula  # the CRR rules guard the value
    assert f"Inputs!D{start}>0" in formula


def test_dashboard_charts_are_anchored_to_cells_and_never_overlap(built, tmp_path):
    business, wb = built
    wb.save(tmp_path / "saved.xlsx")
    boxes = anchor_boxes(tmp_path / "saved.xlsx")
    assert len(boxes) == len(business.kpis)
    assert overlapping(boxes) == []
    right = sum(7 * wb["Dashboard"].column_dimensions[c].width for c in "ABCDEFGHI")
    assert max(box[2] for box in boxes) <= right  # within the printed columns
    assert all(a.anchor.tagname == "twoCellAnchor" for a in wb["Dashboard"]._charts)


def test_print_setup(built):
    _, wb = built
    dashboard = wb["Dashboard"]
    assert dashboard.page_setup.orientation == "landscape"
    assert (dashboard.page_setup.fitToWidth, dashboard.page_setup.fitToHeight) == (1, 1)
    assert dashboard.print_area and dashboard.oddFooter.center.text.startswith("Page &P of &N")
    assert wb["Inputs"].page_setup.fitToWidth == wb["KPIs"].page_setup.fitToWidth == 2  # readable, not tiny
    assert wb["Inputs"].print_title_rows == "$3:$3" and wb["Inputs"].print_title_cols == "$A:$B"
    assert wb["KPIs"].print_title_rows == "$1:$2" and wb["KPIs"].print_title_cols == "$A:$B"


def test_benchmarks_say_which_period_each_is_meant_for(built):
    business, wb = built
    ws = wb["Benchmarks"]
    for kpi in business.kpis:
        period = ws.cell(row=layout(business).bench_rows[kpi.id], column=11).value
        stock = any(how != "sum" for how in kpi.formula.period.values())
        assert period.startswith("a whole year" if stock else "any period"), kpi.id


def test_thresholds_and_sources_on_the_benchmarks_sheet():
    for row in SPEC:
        business = default_catalog().business(row.business)
        wb = build_workbook(business, 2026)
        r = layout(business).bench_rows[row.kpi]
        ws = wb["Benchmarks"]
        assert (ws.cell(row=r, column=3).value) == row.better
        assert tuple(ws.cell(row=r, column=c).value for c in (4, 5, 6)) == row.thresholds
        assert ws.cell(row=r, column=8).value.startswith("\u201c")


def test_start_here_names_the_source_article():
    business = default_catalog().business("soundwave-art")
    text = " ".join(
        str(c.value) for row in build_workbook(business, 2026)["Start here"].iter_rows() for c in row if c.value
    )
    assert business.source.title in text and "01 October 2024" in text
    assert "xlwings" in text and "Below typical" in text


# -- the command ---------------------------------------------------------------------


def test_templates_command_writes_all_five_and_refuses_to_overwrite(tmp_path, capsys):
    assert main(["templates", "--out", str(tmp_path), "--year", "2027"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{b.id}.xlsx" for b in BUSINESSES)
    stamp = (tmp_path / "custom-dollhouses.xlsx").stat().st_mtime_ns
    assert main(["templates", "--out", str(tmp_path), "--business", "custom-dollhouses"]) == 2
    assert "already exist; add --force" in capsys.readouterr().err
    assert (tmp_path / "custom-dollhouses.xlsx").stat().st_mtime_ns == stamp
    assert main(["templates", "--out", str(tmp_path), "--business", "custom-dollhouses", "--force"]) == 0


def test_templates_example_and_year(tmp_path):
    assert (
        main(["templates", "--out", str(tmp_path), "--business", "soundwave-art", "--example", "--year", "2025"]) == 0
    )
    wb = openpyxl.load_workbook(tmp_path / "soundwave-art.xlsx")
    assert wb["Inputs"]["D3"].value.year == 2025
    ((_, cells),) = wb.defined_names["in_nps_promoters"].destinations
    first = cells.replace("$", "").split(":")[0]
    assert wb["Inputs"][first].value == 60
    assert wb["Inputs"][first.replace("D", "E")].value is None


def test_templates_from_a_users_business_file(tmp_path):
    candles = ROOT / "examples" / "custom-candles.toml"
    assert main(["templates", "--out", str(tmp_path), "--business-file", str(candles)]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["custom-candles.xlsx"]
    wb = openpyxl.load_workbook(tmp_path / "custom-candles.xlsx")
    assert "in_wax_efficiency_wax_used" in wb.defined_names


def test_an_interrupted_save_leaves_no_half_written_file(tmp_path, monkeypatch):
    def broken_save(self, filename):  # openpyxl writes the package (in memory, or to a file)
        if hasattr(filename, "write"):
            filename.write(b"PK half a workbook")
        else:
            Path(filename).write_bytes(b"PK half a workbook")
        raise KeyboardInterrupt

    monkeypatch.setattr(openpyxl.Workbook, "save", broken_save)
    assert main(["templates", "--out", str(tmp_path), "--business", "custom-dollhouses"]) == 130  # Ctrl+C's status
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_write_of_the_file_leaves_no_half_written_file(tmp_path, monkeypatch):
    write_bytes = Path.write_bytes

    def broken_write(self, data):
        write_bytes(self, data[: len(data) // 2])
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "write_bytes", broken_write)
    assert main(["templates", "--out", str(tmp_path), "--business", "custom-dollhouses"]) == 130  # Ctrl+C's status
    assert list(tmp_path.iterdir()) == []


def test_unknown_business_and_bad_year(capsys):
    assert main(["templates", "--business", "bakery"]) == 2
    assert "unknown business type 'bakery'" in capsys.readouterr().err
    assert main(["templates", "--year", "26"]) == 2
    assert "--year must be a year" in capsys.readouterr().err


# -- the committed templates match the generator ------------------------------------------


def _content(wb):
    """What a planner sees and uses: cells, formats, names, validations, formatting rules."""
    content = {"sheets": wb.sheetnames, "names": {n: v.attr_text for n, v in wb.defined_names.items()}}
    for ws in wb.worksheets:
        content[ws.title] = {
            "cells": {
                c.coordinate: (c.value, c.number_format, c.protection.locked, c.fill.fgColor.rgb)
                for row in ws.iter_rows()
                for c in row
                if c.value is not None or not c.protection.locked
            },
            "validations": sorted((v.type, str(v.sqref), v.formula1) for v in ws.data_validations.dataValidation),
            "formatting": sorted(
                (str(rng.sqref), rule.formula[0]) for rng in ws.conditional_formatting for rule in rng.rules
            ),
            "state": ws.sheet_state,
            "protected": ws.protection.sheet,
            "freeze": ws.freeze_panes,
        }
    return content


@pytest.mark.parametrize("business_id", [b.id for b in BUSINESSES])
def test_committed_templates_match_the_generator(business_id, tmp_path):
    committed = openpyxl.load_workbook(ROOT / "templates" / f"{business_id}.xlsx")
    year = committed["Inputs"]["D3"].value.year
    fresh_path = tmp_path / "fresh.xlsx"
    build_workbook(default_catalog().business(business_id), year).save(fresh_path)
    assert _content(committed) == _content(openpyxl.load_workbook(fresh_path)), (
        f"templates/{business_id}.xlsx is stale: run `nichekpi templates --force --year {year}`"
    )


def test_an_interrupted_overwrite_keeps_the_previous_workbook(tmp_path, monkeypatch, capsys):
    assert main(["templates", "--out", str(tmp_path), "--business", "custom-dollhouses"]) == 0
    before = (tmp_path / "custom-dollhouses.xlsx").read_bytes()

    write_bytes = Path.write_bytes

    def broken_write(self, data):  # the package is made in memory; the disk fills while it is written
        write_bytes(self, data[: len(data) // 2])
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_bytes", broken_write)
    capsys.readouterr()
    assert main(["templates", "--out", str(tmp_path), "--business", "custom-dollhouses", "--force"]) == 1
    assert capsys.readouterr().err == f"nichekpi: cannot write {tmp_path / 'custom-dollhouses.xlsx'}: disk full\n"
    assert (tmp_path / "custom-dollhouses.xlsx").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["custom-dollhouses.xlsx"]


# -- the README's commands, in order, from a fresh clone ------------------------------------


def _readme_commands(text: str) -> list[list[str]]:
    """The indented ``nichekpi ...`` commands of a README passage, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", text)
    commands = []
    for line in joined.splitlines():
        line = line.strip()
        if line.startswith("nichekpi "):
            commands.append(shlex.split(line.split("  #")[0])[1:])
    return commands


def test_readme_quick_start_then_refresh_run_in_order_and_print_what_it_shows(tmp_path, monkeypatch, capsys):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = re.search(r"\.venv/bin/nichekpi (templates [^\n]+)", readme).group(1)
    section = readme[readme.index("## Refresh every month") :]
    commands = _readme_commands(section[: section.index("```")])
    shown = section.split("```")[1].strip().splitlines()
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    assert main(shlex.split(quick_start)) == 0
    assert [c[0] for c in commands] == ["templates", "refresh"]
    capsys.readouterr()
    for command in commands:
        assert main(command) == 0, command
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == f"wrote {Path('my-workbooks', 'custom-dollhouses.xlsx')}"
    table = printed[1:]
    head, tail = shown[: shown.index("...")], shown[shown.index("...") + 1 :]
    assert table[: len(head)] == head
    assert table[-len(tail) :] == tail
    # Then the platform exports, on the workbook just refreshed.
    platforms = section[section.index("### Straight from") :]
    (command,) = _readme_commands(platforms[: platforms.index("```")])
    shown = platforms.split("```")[1].strip().splitlines()
    assert main(command) == 0, command
    printed = capsys.readouterr().out.splitlines()
    head, tail = shown[: shown.index("...")], shown[shown.index("...") + 1 :]
    assert printed[: len(head)] == head
    assert printed[-len(tail) - 2 : -2] == tail  # then what was not filled, and where it was written
