"""The one-pass reading of plain order exports gives what the full reading gives, figures, notes and errors.

A plain export in nichekpi's own columns (CSV, or Parquet with typed columns) is added up in
one pass over the file; any value that pass does not take as it is (a bad value, a number or
a date written another way) sends the file to the full reading, which finds and words it.
Each case here is read both ways: as refresh reads it, and with the one-pass reading turned
off; the two must agree on everything.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nichekpi import exports
from nichekpi.exports import ExportError, Reading, monthly_orders

HEADER = "order_id,customer_id,order_date,amount,promised_date,delivered_date\n"
GOOD = [
    "1,c1,2026-01-05,10.50,2026-01-20,2026-01-18",
    "2,c2,2026-01-20,99,2026-02-01,2026-02-03",
    "3,c1,2026-02-03,0.25,,",
    "3,c1,2026-02-04,4,,",
    "4,0,2026-02-10,7.5,2026-02-20,",
]


def outcome(path: Path, *, full: bool, **options):
    """What reading ``path`` gives: its figures or its error message, and the notes."""
    reading = Reading(**options)
    original = exports._fast_orders
    if full:
        exports._fast_orders = lambda *args: None
    try:
        return monthly_orders(path, reading=reading), reading.notes
    except ExportError as error:
        return str(error), reading.notes
    finally:
        exports._fast_orders = original


def same_both_ways(path: Path, **options):
    fast, full = outcome(path, full=False, **options), outcome(path, full=True, **options)
    assert fast == full
    return fast[0]


def csv_file(tmp_path: Path, rows: list[str], header: str = HEADER) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text(header + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def test_a_plain_csv_export_is_added_up_in_one_pass(tmp_path, monkeypatch):
    path = csv_file(tmp_path, GOOD)
    expected = same_both_ways(path)
    monkeypatch.setattr(exports, "_load", lambda *args: pytest.fail("the full reading was used"))
    reading = Reading()
    assert monthly_orders(path, reading=reading) == expected
    assert expected["2026-02"] == {
        "revenue": 11.75,
        "count": 2.0,
        "customers": 1.0,
        "repeat_customers": 1.0,
        "completed": 1.0,
        "deliveries": 1.0,
        "on_time": 0.0,
    }  # fmt: skip (order 2, delivered on 3 February, late)
    assert reading.notes == [
        "orders.csv: 1 order without a customer id or e-mail: counted in revenue and orders, not in customers"
    ]


def test_a_typed_parquet_export_gives_the_figures_of_the_same_csv_in_one_pass(tmp_path, monkeypatch):
    path = csv_file(tmp_path, GOOD)
    expected = same_both_ways(path)
    for types in (
        "order_id::BIGINT AS order_id, customer_id, order_date::DATE AS order_date, amount::DOUBLE AS amount, "
        "promised_date::DATE AS promised_date, delivered_date::DATE AS delivered_date",
        "order_id, customer_id, order_date::TIMESTAMP AS order_date, amount::DOUBLE AS amount, "
        "promised_date::TIMESTAMPTZ AS promised_date, delivered_date",
        "order_id::INTEGER AS order_id, customer_id, order_date::DATE AS order_date, amount::DECIMAL(9, 2) AS amount, "
        "promised_date::DATE AS promised_date, delivered_date::DATE AS delivered_date",
    ):
        parquet = tmp_path / "orders.parquet"
        duckdb.sql(f"COPY (SELECT {types} FROM read_csv('{path}', all_varchar=true)) TO '{parquet}' (FORMAT parquet)")
        assert same_both_ways(parquet) == expected
        with monkeypatch.context() as patched:
            patched.setattr(exports, "_load", lambda *args: pytest.fail("the full reading was used"))
            assert monthly_orders(parquet) == expected


AMOUNT, DATE, NEEDED = "column amount: ", "column order_date: ", "an empty value"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("5,c3,2026-03-01,abc,,", f"row 7, {AMOUNT}this is not a number; got text 'abc'"),
        ("5,c3,2026-03-01,-4,,", f"row 7, {AMOUNT}an amount must be 0 or more; got -4"),
        ("5,c3,1969-12-31,4,,", f"row 7, {DATE}a date must be from 1970 to 2100; got text '1969-12-31'"),
        ("5,c3,2026-02-30,4,,", f"row 7, {DATE}this is not a date like 2026-01-31; got text '2026-02-30'"),
        ("5,c3,,4,,", f"row 7, {DATE}a date is needed; got {NEEDED}"),
        ("5,,2026-03-01,4,,", f"row 7, column customer_id: every row needs its customer_id; got {NEEDED}"),
        (
            "5,c3,2026-03-01,4,2026-1-5,",
            "row 7, column promised_date: this is not a date like 2026-01-31; got text '2026-1-5'",
        ),
        (
            "1,c9,2026-01-05,4,,",
            "rows 2 and 7: order '1' has two customers, 'c1' and 'c9'; give each order its own order id",
        ),
    ],
)
def test_a_bad_value_in_a_column_read_typed_is_refused_with_the_message_of_the_full_reading(tmp_path, row, message):
    path = csv_file(tmp_path, [*GOOD, row])
    assert same_both_ways(path) == f"{path}, {message}"


def test_a_bad_value_in_a_typed_parquet_column_is_refused_naming_its_row(tmp_path):
    parquet = tmp_path / "orders.parquet"
    duckdb.sql(
        "COPY (SELECT range::BIGINT AS order_id, 'c' || range AS customer_id, "
        "CASE WHEN range = 3 THEN DATE '1900-01-01' ELSE DATE '2026-01-01' + range::INT END AS order_date, "
        "CASE WHEN range = 5 THEN 'nan'::DOUBLE ELSE 10.0 END AS amount FROM range(8)) "
        f"TO '{parquet}' (FORMAT parquet)"
    )
    assert (
        same_both_ways(parquet)
        == f"{parquet}, row 5, column order_date: a date must be from 1970 to 2100; got text '1900-01-01'"
    )


@pytest.mark.parametrize(
    "rows",
    [
        ["1,c1,2026-01-05,1.234", "2,c2,2026-01-06,5"],  # every amount reads two ways: refused, as before
        ["1,c1,2026-01-05,1.234", "2,c2,2026-01-06,5.5"],  # a point, then
        ["1,c1, 2026-01-05 , 12 ", "2,c2,2026-01-06,\u00a05"],  # spaces around values
        ["1,c1,05/01/2026,1", "2,c2,20/01/2026,5"],  # day first, said in a note
        ["1,c1,2026-01-05 10:30,1e3", "2,c2,2026-01-06T23:30:00-05:00,+5"],
        ["1,c1,2026-01-05,inf", "2,c2,2026-01-06,5"],
        ["1,c1,2026-01-05,5", "1,c1,2026-01-14,5"],  # lines of one order 9 days apart
        ["1,c1,2026-01-05,5", "2,c2,2026-01-06,5", "3,0,2026-01-07,1"],
        ['"1","c1","2026-01-05","5"', '2,c2,2026-01-06,"5,5"'],
        ["1,c1,2026-01-05,5", "2,c2,2026-01-06"],
    ],
)
def test_files_the_one_pass_reading_leaves_to_the_full_reading_read_as_before(tmp_path, rows):
    same_both_ways(csv_file(tmp_path, rows, "order_id,customer_id,order_date,amount\n"))


def test_options_are_read_the_same_both_ways(tmp_path):
    path = csv_file(tmp_path, GOOD)
    for options in ({"decimal": "."}, {"decimal": ","}, {"date_format": "dd/mm/yyyy"}):
        same_both_ways(path, **options)


_TEXT = st.sampled_from(["1", "2", "a", "", " 3", "0", "c1", "c2"])
_DATE = st.sampled_from(["2026-01-05", "2026-01-31", "2026-02-01", "2026-1-5", "", "1969-12-31", "2026-02-30"])
_AMOUNT = st.sampled_from(["1", "10.5", "0.25", "1.234", "-1", "", "x", "1e2", "0", "3.10"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(_TEXT, _TEXT, _DATE, _AMOUNT, _DATE, _DATE), min_size=1, max_size=6))
def test_any_small_export_reads_the_same_both_ways(tmp_path, rows):
    same_both_ways(csv_file(tmp_path, [",".join(r) for r in rows]))


@pytest.mark.parametrize("kind", ["DECIMAL(9,2)", "DECIMAL(18,2)", "DECIMAL(38,2)", "DECIMAL(18,0)", "DOUBLE"])
def test_a_typed_amount_read_as_it_is_equals_the_number_its_text_reads_as(kind):
    """The full reading casts a Parquet amount to text and reads the text; the one pass takes the number."""
    con = duckdb.connect()
    (differ,) = con.execute(
        f"SELECT count(*) FILTER (WHERE CAST(x AS DOUBLE) <> TRY_CAST(CAST(x AS VARCHAR) AS DOUBLE)) "
        f"FROM (SELECT CAST((hash(range) % 999999999)::DECIMAL(38, 2) / 100 AS {kind}) AS x FROM range(300000))"
    ).fetchone()
    assert differ == 0


def test_a_parquet_amount_with_more_decimals_or_a_nan_takes_the_full_reading(tmp_path):
    parquet = tmp_path / "orders.parquet"
    for amount in ("1.005::DOUBLE", "0.1::DOUBLE + 0.2::DOUBLE", "'nan'::DOUBLE", "1e300::DOUBLE", "-0.0::DOUBLE"):
        duckdb.sql(
            "COPY (SELECT range AS order_id, 'c' || range AS customer_id, "
            f"DATE '2026-01-01' + range::INT AS order_date, CASE WHEN range = 2 THEN {amount} ELSE 10.0 END AS amount "
            f"FROM range(5)) TO '{parquet}' (FORMAT parquet)"
        )
        same_both_ways(parquet)


@pytest.mark.parametrize("later", ["0012", " 12", "A-7", "12.0", "-12", "99999999999999999999"])
def test_order_ids_read_as_numbers_start_again_as_text_at_one_written_otherwise(tmp_path, monkeypatch, later):
    """ "0012" and "12" are two orders, as the full reading takes them; the first 2,048 ids are whole numbers."""
    rows = [f"{n},c{n % 7},2026-0{1 + n % 9}-1{n % 10},{n % 50}.5" for n in range(1, 3001)]
    rows.append(f"{later},c5,2026-01-12,1")
    path = csv_file(tmp_path, rows, "order_id,customer_id,order_date,amount\n")
    expected = same_both_ways(path)
    if later == " 12":  # order 12 again, dated 2026-04-12 and 2026-01-12
        assert "rows 13 and 3002: order '12' is dated 2026-04-12 and 2026-01-12" in expected
        return
    assert sum(m["count"] for m in expected.values()) == 3001
    monkeypatch.setattr(exports, "_load", lambda *args: pytest.fail("the full reading was used"))
    assert monthly_orders(path) == expected


@pytest.mark.parametrize(
    "extra",
    [
        ["A-7,c5,2026-01-12,1", "3,c3,2026-01-13,x"],  # an id written otherwise, and a bad amount elsewhere
        ["A-7,c5,2026-01-12,x"],  # both in one row
        ["A-7,c5,2026-01-12,1", "5,c9,2026-01-12,1"],  # an id written otherwise, and an order with two customers
    ],
)
def test_an_id_written_otherwise_and_a_refused_order_in_one_file_take_the_full_reading(tmp_path, extra):
    rows = [f"{n},c{n % 7},2026-0{1 + n % 9}-1{n % 10},{n % 50}.5" for n in range(1, 3001)]
    path = csv_file(tmp_path, rows + extra, "order_id,customer_id,order_date,amount\n")
    got = same_both_ways(path)
    assert isinstance(got, str) and got.startswith(f"{path}, row"), got
