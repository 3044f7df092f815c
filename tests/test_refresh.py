"""nichekpi refresh: the figures it computes, the bad data it refuses, the workbook it leaves alone."""

from __future__ import annotations

import csv
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from nichekpi import default_catalog
from nichekpi.cli import main
from nichekpi.exports import ExportError, monthly_orders, monthly_survey, parse_column_map
from nichekpi.refresh import RefreshError, plan
from nichekpi.workbook import build_workbook, save_atomically

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture
def workbook(tmp_path):
    path = tmp_path / "custom-dollhouses.xlsx"
    save_atomically(build_workbook(default_catalog().business("custom-dollhouses"), 2026), path)  # as templates saves
    return path


def write_csv(path: Path, rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows(rows)
    return path


# -- the figures ------------------------------------------------------------------------------


def test_order_figures_per_month_from_the_sample_export():
    figures = monthly_orders(EXAMPLES / "orders.csv")
    # January: orders 1001-1004, customers C01 (twice), C02, C03.
    assert figures["2026-01"]["revenue"] == pytest.approx(120 + 89.5 + 240 + 65)
    assert figures["2026-01"]["count"] == 4
    assert figures["2026-01"]["customers"] == 3
    assert figures["2026-01"]["repeat_customers"] == 1  # C01 ordered twice in January
    # February: C04 new, C02 back (first ordered in January), C05 new.
    assert figures["2026-02"]["customers"] == 3 and figures["2026-02"]["repeat_customers"] == 1
    # Deliveries: 1001 in January (on time); 1002 (late), 1003, 1004, 1005 in February.
    assert (figures["2026-01"]["deliveries"], figures["2026-01"]["on_time"]) == (1, 1)
    assert (figures["2026-02"]["deliveries"], figures["2026-02"]["on_time"]) == (4, 3)
    assert (figures["2026-03"]["deliveries"], figures["2026-03"]["on_time"]) == (3, 2)
    assert figures["2026-03"]["completed"] == 3  # delivered in March: 1006, 1007, 1008
    assert "completed" not in figures["2026-04"] if "2026-04" in figures else True


def test_order_lines_of_one_order_count_as_one_order(tmp_path):
    path = write_csv(
        tmp_path / "lines.csv",
        [
            ["order_id", "customer_id", "order_date", "amount"],
            ["A", "x", "2026-05-02", "10"],
            ["A", "x", "2026-05-02", "15.5"],
            ["B", "y", "2026-05-20 14:30:00", "4"],
        ],
    )
    figures = monthly_orders(path)
    assert figures == {"2026-05": {"revenue": 29.5, "count": 2, "customers": 2, "repeat_customers": 0, "completed": 2}}


def test_survey_figures_on_each_scale(tmp_path):
    figures = monthly_survey(EXAMPLES / "survey.csv")
    assert figures["2026-01"] == {"responses": 4, "rating_sum": 17, "satisfied": 3}
    assert figures["2026-03"]["responses"] == 3  # the blank answer is skipped
    nps = write_csv(tmp_path / "nps.csv", [["date", "score"], ["2026-02-01", 10], ["2026-02-03", 7], ["2026-02-04", 0]])
    assert monthly_survey(nps, "0-10")["2026-02"] == {
        "responses": 3, "rating_sum": 17, "promoters": 1, "passives": 1, "detractors": 1
    }  # fmt: skip


def test_column_names_can_be_mapped(tmp_path):
    path = write_csv(
        tmp_path / "shop.csv",
        [["Order Number", "Buyer", "Placed", "Total"], ["1", "a", "2026-07-01", "50"], ["2", "a", "2026-07-09", "70"]],
    )
    columns = parse_column_map(
        "order_id=Order Number,customer_id=Buyer,order_date=Placed,amount=Total",
        ("order_id", "customer_id", "order_date", "amount", "promised_date", "delivered_date"),
    )
    assert monthly_orders(path, columns)["2026-07"]["revenue"] == 120
    with pytest.raises(ExportError, match="no column 'order_id' .*; name the right one with order_id=YOUR COLUMN"):
        monthly_orders(path)


def test_parquet_and_xlsx_exports_give_the_same_figures(tmp_path):
    import duckdb

    parquet = tmp_path / "orders.parquet"
    duckdb.sql(
        f"COPY (SELECT * FROM read_csv('{EXAMPLES / 'orders.csv'}', all_varchar=true)) TO '{parquet}' (FORMAT parquet)"
    )
    workbook = openpyxl.Workbook()
    with (EXAMPLES / "orders.csv").open(encoding="utf-8") as file:
        for row in csv.reader(file):
            workbook.active.append(row)
    workbook.save(tmp_path / "orders.xlsx")
    expected = monthly_orders(EXAMPLES / "orders.csv")
    assert monthly_orders(parquet) == expected
    assert monthly_orders(tmp_path / "orders.xlsx") == expected


# -- bad data is refused, the workbook untouched ------------------------------------------------------

BAD_INPUTS = [
    (
        [["month", "csat_satisfied"], ["2026-01", "many"]],
        r"inputs.csv, row 2, column csat_satisfied: this is not a number; got text 'many'",
    ),
    (
        [["month", "csat_satisfied"], ["2026-01", "=1+1"]],
        r"row 2, column csat_satisfied: this is not a number; got text '=1\+1'",
    ),
    (
        [["month", "csat_satisfied"], ["2026-01", "-3"]],
        r"row 2, column csat_satisfied: satisfied customers cannot be negative",
    ),
    (
        [["month", "csat_responses"], ["2026-01", "12.5"]],
        r"row 2, column csat_responses: survey responses is a count, a whole number",
    ),
    (
        [["month", "csat_satisfied"], ["Jan 2026", "3"]],
        r"row 2, column month: a month must look like 2026-01; got text 'Jan 2026'",
    ),
    (
        [["month", "csat_satisfied", "csat_responses"], ["2026-01", "160", "150"]],
        r"inputs.csv, row 2: satisfied \(160\) must not be more than responses \(150\)",
    ),
    (
        [["month", "csat_satisfied"], ["2026-01", "3"], ["2026-02", "4"], ["2026-01", "5"]],
        r"row 4: month 2026-01 is already on row 2",
    ),
    (
        [["month", "csat_happy"], ["2026-01", "3"]],
        r"unknown column 'csat_happy'; the inputs of custom-dollhouses are: csat_satisfied",
    ),
    ([["csat_satisfied"], ["3"]], r"needs a 'month' column"),
]


@pytest.mark.parametrize(("rows", "message"), BAD_INPUTS, ids=[m[:40] for _, m in BAD_INPUTS])
def test_bad_inputs_tables_are_refused(workbook, tmp_path, capsys, rows, message):
    before = workbook.read_bytes()
    table = write_csv(tmp_path / "inputs.csv", rows)
    assert main(["refresh", str(workbook), "--inputs", str(table)]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert __import__("re").search(message, err), err
    assert "the workbook was not changed" in err
    assert workbook.read_bytes() == before
    assert not (tmp_path / "custom-dollhouses.bak.xlsx").exists()


BAD_ORDERS = [
    ([["2", "b", "2026-01-05", "abc"]], "orders.csv, row 3, column amount: this is not a number; got text 'abc'"),
    ([["2", "b", "2026-01-05", "-5"]], "row 3, column amount: an amount must be 0 or more; got -5"),
    (
        [["2", "b", "05/01/2026", "5"]],  # a day-and-month date that reads both ways (issue 11)
        "column order_date: every date reads both ways, such as 05/01/2026 (row 3), day first or month first; "
        "say which with --date-format dd/mm/yyyy or --date-format mm/dd/yyyy",
    ),
    (
        [["2", "b", "2026-13-45", "5"]],
        "row 3, column order_date: this is not a date like 2026-01-31; got text '2026-13-45'",
    ),
    ([["2", "", "2026-01-05", "5"]], "row 3, column customer_id: every row needs its customer_id"),
]


@pytest.mark.parametrize(("rows", "message"), BAD_ORDERS, ids=[m[:40] for _, m in BAD_ORDERS])
def test_bad_order_exports_are_refused(workbook, tmp_path, capsys, rows, message):
    before = workbook.read_bytes()
    orders = write_csv(
        tmp_path / "orders.csv",
        [["order_id", "customer_id", "order_date", "amount"], ["1", "a", "2026-01-02", "10"], *rows],
    )
    assert main(["refresh", str(workbook), "--orders", str(orders)]) == 1
    assert message in capsys.readouterr().err
    assert workbook.read_bytes() == before


def test_bad_survey_answers_are_refused(workbook, tmp_path, capsys):
    survey = write_csv(tmp_path / "survey.csv", [["date", "score"], ["2026-01-02", "4"], ["2026-01-03", "7"]])
    assert main(["refresh", str(workbook), "--survey", str(survey)]) == 1
    assert (
        "row 3, column score: a score on this 1-5 survey must be a whole number from 1 to 5; got 7"
        in capsys.readouterr().err
    )


def test_the_row_of_a_bad_value_is_right_in_a_large_export(tmp_path):
    rows = [["order_id", "customer_id", "order_date", "amount"]]
    rows += [[str(n), f"c{n % 997}", f"2026-{1 + n % 12:02d}-15", "12.5"] for n in range(200_000)]
    rows[150_000][3] = "twelve"  # spreadsheet row 150,001
    path = write_csv(tmp_path / "big.csv", rows)
    with pytest.raises(
        ExportError, match="big.csv, row 150001, column amount: this is not a number; got text 'twelve'"
    ):
        monthly_orders(path)


def test_a_workbook_open_in_excel_or_libreoffice_is_refused(workbook, capsys):
    before = workbook.read_bytes()
    for lock in (f"~${workbook.name}", f".~lock.{workbook.name}#"):
        lock_file = workbook.with_name(lock)
        lock_file.write_text("someone", encoding="utf-8")
        assert main(["refresh", str(workbook), "--inputs", str(EXAMPLES / "inputs.csv")]) == 1
        assert "is open in Excel or LibreOffice" in capsys.readouterr().err
        lock_file.unlink()
    assert workbook.read_bytes() == before


def test_a_workbook_that_is_not_a_template_is_refused(tmp_path):
    other = tmp_path / "other.xlsx"
    openpyxl.Workbook().save(other)
    with pytest.raises(RefreshError, match="not a nichekpi template"):
        plan(other, inputs=EXAMPLES / "inputs.csv")
    (tmp_path / "text.xlsx").write_text("hello", encoding="utf-8")
    with pytest.raises(Exception, match="not an .xlsx workbook"):
        plan(tmp_path / "text.xlsx", inputs=EXAMPLES / "inputs.csv")


def _with_business_type(workbook: Path, target: str) -> None:
    """Point the workbook's business_type name at ``target`` (XML-escaped), as a planner or an old template might."""
    with zipfile.ZipFile(workbook) as package:
        parts = {name: package.read(name) for name in package.namelist()}
    text = parts["xl/workbook.xml"].decode("utf-8")
    text, count = re.subn(r'(<definedName name="business_type">)[^<]*(</definedName>)', rf"\g<1>{target}\g<2>", text)
    assert count == 1
    parts["xl/workbook.xml"] = text.encode("utf-8")
    with zipfile.ZipFile(workbook, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in parts.items():
            package.writestr(name, data)


def test_a_template_made_before_business_type_named_a_cell_still_refreshes(workbook):
    _with_business_type(workbook, "&quot;custom-dollhouses&quot;")  # the name's text was the quoted id
    result = plan(workbook, inputs=EXAMPLES / "inputs.csv")
    assert ("2026-03", "in_retention_rate_customers_end") in {(c.month, c.name) for c in result.changes}


def test_a_business_type_name_on_an_empty_cell_is_refused(workbook):
    _with_business_type(workbook, "Benchmarks!$Z$99")
    with pytest.raises(RefreshError, match=r"the business_type name \(Benchmarks!\$Z\$99\) gives no business type"):
        plan(workbook, inputs=EXAMPLES / "inputs.csv")


# -- what is filled ------------------------------------------------------------------------------


def test_dry_run_shows_the_changes_and_writes_nothing(workbook, capsys):
    before = workbook.read_bytes()
    assert main(["refresh", str(workbook), "--orders", str(EXAMPLES / "orders.csv"), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "2026-01  in_aov_revenue" in out and "514.5" in out
    assert "not filled, no file gave their inputs: csat, avg_completion_time" in out
    assert "dry run: the workbook was not changed" in out
    assert workbook.read_bytes() == before


def test_months_window_and_months_outside_the_workbook(workbook, tmp_path):
    result = plan(workbook, orders=EXAMPLES / "orders.csv", months="2026-02..2026-02")
    assert {c.month for c in result.changes} == {"2026-02"}
    table = write_csv(tmp_path / "inputs.csv", [["month", "csat_satisfied"], ["2025-12", "3"], ["2026-01", "4"]])
    result = plan(workbook, inputs=table)
    assert [(c.month, c.name, c.new) for c in result.changes] == [("2026-01", "in_csat_satisfied", 4.0)]
    assert result.outside == ["2025-12"]


def test_a_typed_input_wins_over_the_export(workbook, tmp_path):
    table = write_csv(tmp_path / "inputs.csv", [["month", "aov_revenue"], ["2026-01", "999"]])
    result = plan(workbook, inputs=table, orders=EXAMPLES / "orders.csv")
    revenue = [c for c in result.changes if c.name == "in_aov_revenue" and c.month == "2026-01"]
    assert [(c.new, c.source) for c in revenue] == [(999.0, "inputs.csv")]


def test_a_second_refresh_has_nothing_to_write_and_keeps_a_backup(workbook, capsys):
    args = [
        "refresh",
        str(workbook),
        "--inputs",
        str(EXAMPLES / "inputs.csv"),
        "--orders",
        str(EXAMPLES / "orders.csv"),
    ]
    original = workbook.read_bytes()
    assert main(args) == 0
    backup = workbook.with_name("custom-dollhouses.bak.xlsx")
    assert backup.read_bytes() == original
    capsys.readouterr()
    assert main(args) == 0
    assert "0 values to write" in capsys.readouterr().out
