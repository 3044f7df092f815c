"""nichekpi refresh reads the user's files safely: literal paths, every row checked, one time system.

Every hostile file is built here; each expected figure is counted by hand from the rows written.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nichekpi import default_catalog
from nichekpi.cli import main
from nichekpi.exports import ExportError, monthly_orders, monthly_survey, read_table
from nichekpi.refresh import RefreshError, plan
from nichekpi.workbook import build_workbook, save_atomically

ROOT = Path(__file__).parent.parent
HEADER = "order_id,customer_id,order_date,amount\n"


@pytest.fixture
def workbook(tmp_path):
    path = tmp_path / "custom-dollhouses.xlsx"
    save_atomically(build_workbook(default_catalog().business("custom-dollhouses"), 2026), path)  # as templates saves
    return path


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def refused(args: list[str], capsys) -> str:
    """Run the command, which must fail with one line on stderr; return that line."""
    assert main(args) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err and "Possible fix" not in err and "strict_mode" not in err
    return err.strip()


# -- 1. paths are literal -------------------------------------------------------------------------

# (the file to read, a decoy that the path would match as a pattern)
LITERAL_PATHS = [
    ("orders [1].csv", "orders 1.csv"),
    ("orders[12].csv", "orders1.csv"),
    ("o?ders.csv", "oXders.csv"),
    ("*.csv", "a.csv"),
    ("{a,b}.csv", "a.csv"),
    ('it\'s "quoted" here.csv', "its quoted here.csv"),
    ("commandes été ✓.csv", "commandes ete.csv"),
    ("sub?dir/orders.csv", "subXdir/orders.csv"),
    ("[ab]/orders.csv", "a/orders.csv"),
    ("dossier *é/o [1].csv", "dossier xé/o 1.csv"),
]


@pytest.mark.parametrize(("name", "decoy"), LITERAL_PATHS, ids=[n for n, _ in LITERAL_PATHS])
def test_a_path_is_read_literally_never_as_a_pattern(tmp_path, name, decoy):
    write(tmp_path / decoy, HEADER + "9,z,2026-01-03,1000\n")
    path = write(tmp_path / name, HEADER + "1,a,2026-01-02,10\n2,b,2026-01-09,5\n")
    # Two orders of two customers in January, 10 + 5; the decoy's 1000 must not count.
    expected = {"2026-01": {"revenue": 15, "count": 2, "customers": 2, "repeat_customers": 0, "completed": 2}}
    assert monthly_orders(path) == expected
    survey = write(tmp_path / name.replace("orders", "survey").replace(".csv", ".s.csv"), "date,score\n2026-02-01,5\n")
    write(tmp_path / decoy.replace("orders", "survey").replace(".csv", ".s.csv"), "date,score\n2026-02-01,1\n")
    assert monthly_survey(survey) == {"2026-02": {"responses": 1, "rating_sum": 5, "satisfied": 1}}


def test_parquet_and_xlsx_with_pattern_characters_in_their_names(tmp_path):
    import duckdb
    import openpyxl

    con = duckdb.connect()
    for name, amount in (("o [1].parquet", 10), ("o 1.parquet", 1000)):
        target = str(tmp_path / name).replace("'", "''")
        con.execute(
            "COPY (SELECT '1' AS order_id, 'a' AS customer_id, '2026-03-04' AS order_date, "
            f"'{amount}' AS amount) TO '{target}' (FORMAT parquet)"
        )
    assert monthly_orders(tmp_path / "o [1].parquet")["2026-03"]["revenue"] == 10
    sheet = openpyxl.Workbook()
    for row in (["order_id", "customer_id", "order_date", "amount"], ["1", "a", "2026-04-04", 7]):
        sheet.active.append(row)
    sheet.save(tmp_path / "o?x [1].xlsx")
    assert monthly_orders(tmp_path / "o?x [1].xlsx")["2026-04"]["revenue"] == 7


# -- 2. every row's field count; encodings; engine errors --------------------------------------------


def test_an_unquoted_decimal_comma_in_the_inputs_table_is_refused(workbook, tmp_path, capsys):
    before = workbook.read_bytes()
    table = write(tmp_path / "inputs.csv", "month,aov_revenue,aov_orders\n2026-01,514,50,4\n")
    err = refused(["refresh", str(workbook), "--inputs", str(table)], capsys)
    assert "inputs.csv, row 2: this row has 4 fields but the header has 3" in err
    assert "decimal comma" in err and "the workbook was not changed" in err
    assert workbook.read_bytes() == before


BAD_CSV = [
    (
        "extra field",
        HEADER + "1,a,2026-01-02,10\n2,b,2026-01-03,5,5\n",
        "row 3: this row has 5 fields but the header has 4",
    ),
    (
        "missing field",
        HEADER + "1,a,2026-01-02,10\n2,b,2026-01-03\n",
        "row 3: this row has 3 fields but the header has 4",
    ),
    (
        "after DuckDB's sample",
        HEADER + "".join(f"{n},c{n},2026-01-02,10\n" for n in range(30_000)) + "x,y,2026-01-02,1,2\n",
        "row 30002: this row has 5 fields but the header has 4",  # header, then rows 2..30001
    ),
    ("a line of spaces", HEADER + "1,a,2026-01-02,10\n   \n", "row 3: this row has 1 field but the header has 4"),
    ("a 10 MB field", HEADER + "1," + "x" * 10_000_000 + ",2026-01-02,10\n", "row 2: a value is longer than"),
    (  # Windows-1252 and UTF-16 are read (issue 11); a byte neither UTF-8 nor Windows-1252 is not
        "a byte neither UTF-8 nor Windows-1252",
        HEADER.encode() + b"1,a,2026-01-02,10\n2,caf\xe9\x81,2026-01-02,10\n",
        "row 3, column customer_id: not UTF-8 text (the byte 0xE9)",
    ),
    (
        "such a byte on a row's second line",
        HEADER.encode() + b'1,"a\nb",2026-01-02,10\xe9\x81\n',
        "row 2: not UTF-8 text (the byte 0xE9)",  # its column is not counted across lines
    ),
    ("unclosed quote", HEADER + '1,a,2026-01-02,10\n2,"b,2026-01-02,10\n', "row 3: the double quotes do not pair up"),
    (
        "NUL bytes",
        HEADER.encode() + b"1,a\x00,2026-01-02,10\n",
        "row 2, column customer_id: not UTF-8 text (a NUL byte",
    ),
    (
        "a column twice",
        "order_id,customer_id,order_date,amount,amount\n1,a,2026-01-02,10,3\n",
        "the column 'amount' is there twice",
    ),
]


@pytest.mark.parametrize(("content", "message"), [c[1:] for c in BAD_CSV], ids=[c[0] for c in BAD_CSV])
def test_an_unreadable_order_export_is_one_line_naming_file_and_row(workbook, tmp_path, capsys, content, message):
    before = workbook.read_bytes()
    orders = write(tmp_path / "orders.csv", content)
    err = refused(["refresh", str(workbook), "--orders", str(orders)], capsys)
    assert f"orders.csv{', ' if message.startswith('row') else ': '}{message}" in err
    assert workbook.read_bytes() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"month,csat_satisfied\nJanvi\xe9r\x81,3\n",
            "inputs.csv, row 2, column month: not UTF-8 text (the byte 0xE9); save it as",
        ),
        (
            "month,csat_satisfied,csat_satisfied\n2026-01,3,4\n",
            "inputs.csv: the column 'csat_satisfied' is there twice",
        ),
        (
            "month,csat_satisfied\n2026-01,1_000\n",
            "row 2, column csat_satisfied: this is not a number; got text '1_000'",
        ),
    ],
    ids=["neither UTF-8 nor Windows-1252", "a column twice", "1_000"],
)
def test_an_unreadable_inputs_table_is_one_line(workbook, tmp_path, capsys, content, message):
    table = write(tmp_path / "inputs.csv", content)
    assert message in refused(["refresh", str(workbook), "--inputs", str(table)], capsys)


def test_the_row_named_is_the_spreadsheet_row_after_blank_lines_and_values_on_two_lines(tmp_path):
    import openpyxl

    # Row 2 holds a note over two lines, row 3 is blank, row 4 has the bad amount.
    orders = write(tmp_path / "orders.csv", HEADER + '1,"a\nsecond line",2026-01-02,10\n\n2,b,2026-01-02,ten\n')
    with pytest.raises(ExportError, match=r"orders.csv, row 4, column amount: this is not a number; got text 'ten'"):
        monthly_orders(orders)
    reused = write(tmp_path / "reused.csv", HEADER + '1,"a\nb",2026-01-02,10\n\n\n1,c,2026-01-02,3\n')
    with pytest.raises(ExportError, match=r"reused.csv, rows 2 and 5: order '1' has two customers"):
        monthly_orders(reused)
    sheet = openpyxl.Workbook()
    for row in (HEADER.strip().split(","), ["1", "a\nb", "2026-01-02", 10], [], ["2", "b", "2026-01-02", "ten"]):
        sheet.active.append(row)
    sheet.save(tmp_path / "orders.xlsx")
    with pytest.raises(ExportError, match=r"orders.xlsx, row 4, column amount: this is not a number; got text 'ten'"):
        monthly_orders(tmp_path / "orders.xlsx")


def test_utf8_with_a_byte_order_mark_is_read(tmp_path):
    orders = write(tmp_path / "orders.csv", "\ufeff" + HEADER + "1,Zoë,2026-06-02,12.5\n")
    assert monthly_orders(orders)["2026-06"]["revenue"] == 12.5
    table = write(tmp_path / "inputs.csv", "\ufeffmonth,csat_satisfied\r\n2026-06,3\r\n")
    assert read_table(table) == (["month", "csat_satisfied"], [(2, ["2026-06", "3"])])


def test_the_separator_is_a_comma_unless_the_header_has_none(tmp_path):
    semicolons = write(tmp_path / "semicolons.csv", "order_id;customer_id;order_date;amount\n1;a;2026-01-02;10\n")
    assert monthly_orders(semicolons)["2026-01"]["revenue"] == 10
    tabs = write(tmp_path / "inputs.csv", "month\tcsat_satisfied\n2026-01\t3\n")
    assert read_table(tabs) == (["month", "csat_satisfied"], [(2, ["2026-01", "3"])])
    both = write(tmp_path / "both.csv", "month,note;a;b;c\n2026-01,x\n")
    assert read_table(both) == (["month", "note;a;b;c"], [(2, ["2026-01", "x"])])


# -- 3. orders as orders --------------------------------------------------------------------------


def test_an_order_id_with_two_customers_is_refused_naming_both_rows(tmp_path):
    orders = write(
        tmp_path / "orders.csv", HEADER + "1001,C01,2026-01-05,10\n1002,C02,2026-01-06,3\n1001,C07,2026-01-05,4\n"
    )
    with pytest.raises(ExportError, match=r"orders.csv, rows 2 and 4: order '1001' has two customers, 'C01' and 'C07'"):
        monthly_orders(orders)


def test_an_order_id_reused_a_year_later_is_refused_naming_both_rows(tmp_path):
    orders = write(
        tmp_path / "orders.csv", HEADER + "1001,C01,2025-03-01,10\n1002,C02,2026-01-06,3\n1001,C01,2026-01-05,4\n"
    )
    with pytest.raises(
        ExportError, match=r"rows 2 and 4: order '1001' is dated 2025-03-01 and 2026-01-05, more than 7 days apart"
    ):
        monthly_orders(orders)


def test_the_two_rows_named_for_a_long_order_are_its_earliest_and_latest(tmp_path):
    orders = write(tmp_path / "orders.csv", HEADER + "7,C01,2026-01-05,1\n7,C01,2026-01-01,1\n7,C01,2026-01-10,1\n")
    with pytest.raises(ExportError, match=r"rows 3 and 4: order '7' is dated 2026-01-01 and 2026-01-10, more than 7"):
        monthly_orders(orders)


def test_the_lines_of_one_order_within_a_week_are_one_order(tmp_path):
    # 1001 placed on 30 January, a second line added 7 days later: one order of January, 10 + 4.
    orders = write(tmp_path / "orders.csv", HEADER + "1001,C01,2026-01-30,10\n1001,C01,2026-02-06 18:00,4\n")
    assert monthly_orders(orders) == {
        "2026-01": {"revenue": 14, "count": 1, "customers": 1, "repeat_customers": 0, "completed": 1}
    }


def test_a_delivery_on_the_promised_day_is_on_time_whatever_the_hour(tmp_path):
    orders = write(
        tmp_path / "orders.csv",
        HEADER.strip() + ",promised_date,delivered_date\n"
        "1,a,2026-01-02,10,2026-01-20,2026-01-20 15:30\n"  # on time: the promised day
        "2,b,2026-01-02,10,2026-01-20 09:00,2026-01-20 23:59:59\n"  # on time: same day, later hour
        "3,c,2026-01-02,10,2026-01-20,2026-01-21 00:10\n",  # late: the next day
    )
    figures = monthly_orders(orders)["2026-01"]
    assert (figures["deliveries"], figures["on_time"]) == (3, 2)


@pytest.mark.parametrize(
    "date", ["infinity", "-infinity", "epoch", "0001-01-01", "1969-12-31", "2101-01-01", "2026-02-30"]
)
@pytest.mark.parametrize("column", ["order_date", "promised_date", "delivered_date"])
def test_only_real_calendar_dates_from_1970_to_2100_are_dates(tmp_path, date, column):
    row = {"order_date": "2026-01-02", "promised_date": "2026-01-20", "delivered_date": "2026-01-19", column: date}
    orders = write(
        tmp_path / "orders.csv",
        HEADER.strip() + ",promised_date,delivered_date\n"
        "1,a,2026-01-02,10,2026-01-20,2026-01-19\n"
        f"2,b,{row['order_date']},10,{row['promised_date']},{row['delivered_date']}\n",
    )
    with pytest.raises(
        ExportError, match=rf"orders.csv, row 3, column {column}: (this is not a date|a date must be from 1970 to 2100)"
    ):
        monthly_orders(orders)


@pytest.mark.parametrize("amount", ["1_000", "inf", "nan", "0x10", "1,00,0"])
def test_an_amount_is_written_as_in_the_inputs_table(tmp_path, amount):
    orders = write(tmp_path / "orders.csv", HEADER + f'1,a,2026-01-02,10\n2,b,2026-01-02,"{amount}"\n')
    with pytest.raises(ExportError, match=rf"row 3, column amount: this is not a number; got text '{amount}'"):
        monthly_orders(orders)


# -- 4. one time system ---------------------------------------------------------------------------

MONTHS_IN_A_ZONE = """
import json, sys
from pathlib import Path
from nichekpi.exports import monthly_orders, monthly_survey
print(json.dumps([sorted(monthly_orders(Path(sys.argv[1]))), sorted(monthly_survey(Path(sys.argv[2])))]))
"""


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/Los_Angeles"])
def test_the_month_of_a_timestamp_does_not_depend_on_the_machine_time_zone(tmp_path, zone):
    import duckdb

    # Text with an offset: the local part's month. 23:30 at -05:00 is 04:30 UTC on 1 February,
    # still 31 January where it was written.
    text = write(tmp_path / "orders.csv", HEADER + "1,a,2026-01-31T23:30:00-05:00,10\n")
    survey = write(tmp_path / "survey.csv", "date,score\n2026-03-31 23:00:00+09:00,5\n")
    # A time-zone-aware Parquet timestamp is stored as UTC and taken in UTC: 20:00 UTC on 31 May
    # (1 June in Tokyo), 01:00 UTC on 1 July (30 June in Los Angeles).
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    parquet = tmp_path / "orders.parquet"
    con.execute(
        "COPY (SELECT * FROM (VALUES ('1', 'a', TIMESTAMPTZ '2026-05-31 20:00:00+00', 10), "
        "('2', 'b', TIMESTAMPTZ '2026-07-01 01:00:00+00', 5)) t(order_id, customer_id, order_date, amount)) "
        f"TO '{parquet}' (FORMAT parquet)"
    )
    env = {**os.environ, "TZ": zone, "PYTHONPATH": str(ROOT)}
    months = []
    for orders in (text, parquet):
        out = subprocess.run(
            [sys.executable, "-c", MONTHS_IN_A_ZONE, str(orders), str(survey)],
            env=env, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        months.append(json.loads(out))
    assert months == [[["2026-01"], ["2026-03"]], [["2026-05", "2026-07"], ["2026-03"]]]


# -- 5. rules across sources -----------------------------------------------------------------------


def test_inputs_of_one_kpi_from_two_files_must_obey_its_rules(workbook, tmp_path, capsys):
    before = workbook.read_bytes()
    table = write(tmp_path / "inputs.csv", "month,csat_satisfied\n2026-01,200\n")
    survey = write(tmp_path / "survey.csv", "date,score\n" + "2026-01-15,3\n" * 150)  # 150 responses
    err = refused(["refresh", str(workbook), "--inputs", str(table), "--survey", str(survey)], capsys)
    assert re.search(
        r"2026-01, Customer satisfaction score \(CSAT\): satisfied \(200\) must not be more than responses \(150\) "
        r"\(csat_satisfied from inputs.csv, csat_responses from survey.csv\)",
        err,
    ), err
    assert workbook.read_bytes() == before


def test_values_written_and_values_already_in_the_workbook_must_obey_the_rules(workbook, tmp_path, capsys):
    first = write(tmp_path / "responses.csv", "month,csat_responses\n2026-01,100\n2026-02,100\n")
    assert main(["refresh", str(workbook), "--inputs", str(first)]) == 0
    capsys.readouterr()
    before = workbook.read_bytes()
    too_many = write(tmp_path / "satisfied.csv", "month,csat_satisfied\n2026-01,80\n2026-02,120\n")
    with pytest.raises(
        RefreshError,
        match=r"2026-02, .*: satisfied \(120\) must not be more than responses \(100\) "
        r"\(csat_satisfied from satisfied.csv, csat_responses already in the workbook\)",
    ):
        plan(workbook, inputs=too_many)
    refused(["refresh", str(workbook), "--inputs", str(too_many)], capsys)
    assert workbook.read_bytes() == before
    # Outside the months written, the workbook's values are not checked; within them, 80 of 100 is fine.
    assert [c.new for c in plan(workbook, inputs=too_many, months="2026-01").changes] == [80]


# -- 6. terminal safety ----------------------------------------------------------------------------


def test_control_characters_in_headers_cells_and_names_are_shown_escaped(workbook, tmp_path, capsys):
    table = write(tmp_path / "inputs.csv", "month,csat\x1b[31mred\n2026-01,3\n")
    err = refused(["refresh", str(workbook), "--inputs", str(table)], capsys)
    assert "\x1b" not in err and "'csat\\x1b[31mred'" in err
    orders = write(tmp_path / "orders.csv", "order_id\x1b]0;owned\x07,who\n1,a\n")
    err = refused(["refresh", str(workbook), "--orders", str(orders)], capsys)
    assert "\x1b" not in err and "\x07" not in err and "'order_id\\x1b]0;owned\\x07'" in err
    evil = write(tmp_path / "evil\x1b[2J\u202e.csv", HEADER + "1,a\x1b[5m,2026-01-02,oops\x1b[0m\n")
    err = refused(["refresh", str(workbook), "--orders", str(evil)], capsys)
    assert "\x1b" not in err and "\u202e" not in err and "evil\\x1b[2J\\u202e.csv, row 2, column amount" in err
    good = write(tmp_path / "fine\x1b[2J.csv", HEADER + "1,a,2026-01-02,10\n")
    assert main(["refresh", str(workbook), "--orders", str(good), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "fine\\x1b[2J.csv" in out


# -- 7. any bytes: a message or a valid refresh, never a traceback, a hang or a half-change ------------

CSV_PIECES = st.sampled_from(
    ["month", "csat_satisfied", "csat_responses", "order_id", "customer_id", "order_date", "amount", "date", "score",
     "2026-01", "2026-01-02", "5", "1", "-3", "x", ",", ";", "\n", "\r\n", '"', " ", "\ufeff", "\x1b", "é"]
)  # fmt: skip
HEADERS = st.sampled_from(
    ["month,csat_satisfied,csat_responses", "order_id,customer_id,order_date,amount", "date,score"]
)
ANY_CSV = st.one_of(
    st.binary(max_size=300),
    st.builds(lambda head, parts: (head + "\n" + "".join(parts)).encode(), HEADERS, st.lists(CSV_PIECES, max_size=40)),
    st.builds(
        lambda head, rows: (head + "\n" + "\n".join(",".join(r) for r in rows)).encode(),
        HEADERS,
        st.lists(st.lists(CSV_PIECES.filter(lambda p: p not in "\n\r\n,"), min_size=2, max_size=4), max_size=4),
    ),
    st.lists(CSV_PIECES, max_size=40).map(lambda parts: "".join(parts).encode("utf-8")),
    st.lists(CSV_PIECES, max_size=40).map(lambda parts: "".join(parts).encode("latin-1", "replace")),
)


@pytest.mark.parametrize("option", ["--inputs", "--orders", "--survey"])
def test_any_bytes_give_a_message_or_a_valid_refresh(workbook, tmp_path, capsys, option):
    pristine = workbook.read_bytes()
    data = tmp_path / "data.csv"

    @settings(
        max_examples=60, deadline=timedelta(seconds=20), suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(content=ANY_CSV)
    def check(content):
        workbook.write_bytes(pristine)
        data.write_bytes(content)
        started = time.monotonic()
        status = main(["refresh", str(workbook), option, str(data)])
        assert time.monotonic() - started < 20
        out, err = capsys.readouterr()
        assert "Traceback" not in err and "\x1b" not in err + out
        if status == 0:
            assert err == ""
            return
        assert status == 1 and len(err.strip().splitlines()) == 1, err
        assert workbook.read_bytes() == pristine

    check()


def test_a_refresh_that_succeeds_from_random_looking_text_wrote_what_the_file_says(workbook, tmp_path):
    """The other side of the property: a file that is accepted is written exactly (counted by hand)."""
    table = tmp_path / "inputs.csv"
    with table.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows([["month", "csat_responses", "csat_satisfied"], ["2026-03", " 7", "5 "]])
    result = plan(workbook, inputs=table)
    assert sorted((c.name, c.new) for c in result.changes) == [("in_csat_responses", 7), ("in_csat_satisfied", 5)]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("month,aov_revenue,aov_orders\n2026-01,１０,3\n", "column aov_revenue: this is not a number; got text '１０'"),
        ("month,aov_revenue,aov_orders\n2026-01,10,٣\n", "column aov_orders: this is not a number; got text '٣'"),
        ("month,aov_revenue\n２０２６-01,5\n", "column month: a month must look like 2026-01; got text '２０２６-01'"),
    ],
)
def test_digits_of_other_scripts_are_refused_in_the_inputs_table_as_in_orders(
    workbook, tmp_path, capsys, table, message
):
    before = workbook.read_bytes()
    path = write(tmp_path / "inputs.csv", table)
    err = refused(["refresh", str(workbook), "--inputs", str(path)], capsys)
    assert f"inputs.csv, row 2, {message}" in err
    assert workbook.read_bytes() == before
