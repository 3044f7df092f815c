"""Monthly figures from a shop's own files: an inputs table, an order export, survey answers.

Order exports and survey answers can be large, so they are checked and added up on
DuckDB, the embedded SQL engine (a million orders take seconds; DuckDB shows a
progress bar on long reads). Bad data is refused, never guessed: the error names the
file, the row (counted as a spreadsheet does, the header being row 1) and the column.

The figures (see :data:`nichekpi.catalog.EXPORT_METRICS`), per month ``YYYY-MM``:

* orders: ``revenue`` (amounts added up), ``count`` (distinct orders placed),
  ``completed`` (orders delivered that month; orders placed when the export has no
  delivery dates), ``customers`` (distinct customers who ordered), ``repeat_customers``
  (of those, the ones whose first order in the export is from an earlier month, or who
  placed two or more orders in the month), ``deliveries`` (orders delivered that month
  that have a promised date) and ``on_time`` (of those, delivered on or before it).
  Rows may be order lines: an order's amount is the sum of its rows.
* survey: ``responses``, ``rating_sum``; on a 1-5 or 1-10 scale ``satisfied`` (4 or 5,
  8 to 10); on a 0-10 scale ``promoters`` (9-10), ``passives`` (7-8), ``detractors`` (0-6).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from nichekpi._formula import show
from nichekpi.errors import KpiError
from nichekpi.formulas import DETRACTORS_UP_TO, PROMOTERS_FROM, SATISFIED_FROM

ORDER_COLUMNS = ("order_id", "customer_id", "order_date", "amount", "promised_date", "delivered_date")
OPTIONAL_ORDER_COLUMNS = ("promised_date", "delivered_date")
SURVEY_COLUMNS = ("date", "score")
SCALES = {"1-5": (1, 5, SATISFIED_FROM[5]), "1-10": (1, 10, SATISFIED_FROM[10]), "0-10": (0, 10, None)}
"""Survey scales: lowest and highest answer, lowest satisfied answer (none on the 0-10 NPS scale)."""
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_NUMBER_TEXT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")

Monthly = dict[str, dict[str, float]]  # {"2026-01": {"revenue": 1234.5, ...}}


class ExportError(KpiError):
    """A file that cannot be used as it is; the message names the file, row and column."""


def parse_column_map(text: str | None, known: tuple[str, ...]) -> dict[str, str]:
    """``"order_id=Order Number,amount=Total"`` as ``{"order_id": "Order Number", ...}``."""
    mapping = {name: name for name in known}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        name, _, column = part.partition("=")
        if name.strip() not in known or not column.strip():
            raise ExportError(f"column map {part!r} must look like NAME=YOUR COLUMN, NAME one of {', '.join(known)}")
        mapping[name.strip()] = column.strip()
    return mapping


# -- loading into DuckDB ---------------------------------------------------------------


def _connect():
    import duckdb

    con = duckdb.connect()
    # DuckDB draws its progress bar on stdout for queries longer than two seconds; only
    # on a terminal, so that output sent to a file or another program stays clean.
    con.execute(f"SET enable_progress_bar = {'true' if sys.stdout.isatty() else 'false'}")
    return con


def _xlsx_as_csv(path: Path, folder: Path) -> Path:
    """The first sheet of a workbook as CSV text (dates as ISO), for DuckDB to read."""
    import openpyxl

    target = folder / f"{path.stem}.csv"
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        with target.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            for row in wb.worksheets[0].iter_rows(values_only=True):
                writer.writerow(
                    ["" if v is None else v.isoformat(sep=" ") if isinstance(v, dt.datetime) else v for v in row]
                )
    finally:
        wb.close()
    return target


def _load(con, path: Path, wanted: Mapping[str, str], optional: tuple[str, ...] = ()) -> set[str]:
    """Load ``path`` as table ``raw`` of text columns named as in ``wanted``, plus its spreadsheet row ``_row``."""
    if not path.is_file():
        raise ExportError(f"{path}: no such file")
    suffix = path.suffix.lower()
    with tempfile.TemporaryDirectory(prefix="nichekpi-") as folder:
        source = path
        if suffix in (".xlsx", ".xlsm"):
            source = _xlsx_as_csv(path, Path(folder))
        elif suffix not in (".csv", ".txt", ".parquet"):
            raise ExportError(f"{path}: use a CSV, XLSX or Parquet file (not {suffix or 'a file without extension'})")
        reader = (
            f"read_parquet('{_quote(source)}')"
            if suffix == ".parquet"
            else f"read_csv('{_quote(source)}', header=true, all_varchar=true, auto_detect=true)"
        )
        try:
            columns = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()]
        except Exception as error:  # duckdb raises its own exception types
            raise ExportError(f"{path}: cannot be read as {suffix.lstrip('.').upper()}: {error}") from None
        present = {}
        for name, column in wanted.items():
            if column in columns:
                present[name] = column
            elif name not in optional:
                raise ExportError(
                    f"{path}: no column {column!r} (it has {', '.join(columns)}); "
                    f"name the right one with {name}=YOUR COLUMN"
                )
        selected = ", ".join(f"CAST({_identifier(c)} AS VARCHAR) AS {name}" for name, c in present.items())
        con.execute(f"CREATE OR REPLACE TABLE raw AS SELECT row_number() OVER () + 1 AS _row, {selected} FROM {reader}")
    return set(present)


def _quote(path: Path) -> str:
    """A path inside a SQL string literal."""
    return str(path).replace("'", "''")


def _identifier(name: str) -> str:
    """A column name of the user's file as a SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _first_bad(con, path: Path, column: str, condition: str, rule: str) -> None:
    """Raise an :class:`ExportError` for the first row where ``condition`` holds."""
    bad = con.execute(f"SELECT _row, {column} FROM raw WHERE {condition} ORDER BY _row LIMIT 1").fetchone()
    if bad:
        row, value = bad
        shown = value.strip() if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value.strip()) else show(value)
        raise ExportError(f"{path}, row {row}, column {column}: {rule}; got {shown}")


_TIMESTAMP = "TRY_CAST(TRIM({c}) AS TIMESTAMP)"
_NUMBER = "TRY_CAST(TRIM({c}) AS DOUBLE)"


def _check_dates(con, path: Path, column: str, *, required: bool) -> None:
    blank = f"({column} IS NULL OR TRIM({column}) = '')"
    if required:
        _first_bad(con, path, column, blank, "a date is needed")
    _first_bad(
        con,
        path,
        column,
        f"NOT {blank} AND {_TIMESTAMP.format(c=column)} IS NULL",
        "this is not a date like 2026-01-31",
    )


# -- orders ---------------------------------------------------------------------------------


def monthly_orders(path: Path, columns: Mapping[str, str] | None = None) -> Monthly:
    """The order figures per month of an order export (CSV, XLSX or Parquet)."""
    con = _connect()
    present = _load(con, path, columns or {c: c for c in ORDER_COLUMNS}, OPTIONAL_ORDER_COLUMNS)
    for column in ("order_id", "customer_id"):
        _first_bad(con, path, column, f"{column} IS NULL OR TRIM({column}) = ''", f"every row needs its {column}")
    _check_dates(con, path, "order_date", required=True)
    amount = _NUMBER.format(c="amount")
    _first_bad(con, path, "amount", f"{amount} IS NULL", "this is not a number")
    _first_bad(con, path, "amount", f"NOT isfinite({amount}) OR {amount} < 0", "an amount must be 0 or more")
    for column in OPTIONAL_ORDER_COLUMNS:
        if column in present:
            _check_dates(con, path, column, required=False)
    promised = _TIMESTAMP.format(c="promised_date") if "promised_date" in present else "NULL::TIMESTAMP"
    delivered = _TIMESTAMP.format(c="delivered_date") if "delivered_date" in present else "NULL::TIMESTAMP"
    completed_month = "strftime(delivered, '%Y-%m')" if "delivered_date" in present else "placed_month"
    rows = con.execute(
        f"""
        WITH lines AS (
            SELECT TRIM(order_id) AS order_id, TRIM(customer_id) AS customer_id,
                   {_TIMESTAMP.format(c="order_date")} AS placed, {amount} AS amount,
                   {promised} AS promised, {delivered} AS delivered
            FROM raw
        ),
        orders AS (
            SELECT order_id, any_value(customer_id) AS customer_id, min(placed) AS placed,
                   strftime(min(placed), '%Y-%m') AS placed_month, sum(amount) AS amount,
                   max(promised) AS promised, max(delivered) AS delivered
            FROM lines GROUP BY order_id
        ),
        first_orders AS (SELECT customer_id, min(placed_month) AS first_month FROM orders GROUP BY customer_id),
        customer_months AS (
            SELECT o.placed_month AS month, o.customer_id, count(*) AS orders, any_value(f.first_month) AS first_month
            FROM orders o JOIN first_orders f USING (customer_id) GROUP BY o.placed_month, o.customer_id
        ),
        placed AS (
            SELECT placed_month AS month, sum(amount) AS revenue, count(*) AS count FROM orders GROUP BY 1
        ),
        customers AS (
            SELECT month, count(*) AS customers,
                   count(*) FILTER (WHERE first_month < month OR orders >= 2) AS repeat_customers
            FROM customer_months GROUP BY 1
        ),
        completed AS (
            SELECT {completed_month} AS month, count(*) AS completed FROM orders
            WHERE {completed_month} IS NOT NULL GROUP BY 1
        ),
        deliveries AS (
            SELECT strftime(delivered, '%Y-%m') AS month, count(*) AS deliveries,
                   count(*) FILTER (WHERE delivered <= promised) AS on_time
            FROM orders WHERE delivered IS NOT NULL AND promised IS NOT NULL GROUP BY 1
        )
        SELECT month, p.revenue, p.count, c.customers, c.repeat_customers, d.completed, v.deliveries, v.on_time
        FROM placed p
        FULL JOIN customers c USING (month)
        FULL JOIN completed d USING (month)
        FULL JOIN deliveries v USING (month)
        ORDER BY month
        """
    ).fetchall()
    names = ("revenue", "count", "customers", "repeat_customers", "completed", "deliveries", "on_time")
    # A month only gets the figures it has: no orders placed in a month leaves its revenue
    # unknown rather than 0 (which would read as a month without sales).
    return {month: {n: float(v) for n, v in zip(names, values) if v is not None} for month, *values in rows}


# -- survey answers -----------------------------------------------------------------------


def monthly_survey(path: Path, scale: str = "1-5", columns: Mapping[str, str] | None = None) -> Monthly:
    """The survey figures per month of raw answers (a date and a score per row)."""
    if scale not in SCALES:
        raise ExportError(f"the survey scale must be one of {', '.join(SCALES)}; got {scale!r}")
    low, high, satisfied_from = SCALES[scale]
    con = _connect()
    _load(con, path, columns or {c: c for c in SURVEY_COLUMNS})
    _check_dates(con, path, "date", required=True)
    score = _NUMBER.format(c="score")
    given = "score IS NOT NULL AND TRIM(score) <> ''"
    _first_bad(con, path, "score", f"{given} AND {score} IS NULL", "this is not a number")
    _first_bad(
        con,
        path,
        "score",
        f"{given} AND ({score} < {low} OR {score} > {high} OR {score} <> floor({score}))",
        f"a score on this {scale} survey must be a whole number from {low} to {high}",
    )
    rows = con.execute(
        f"""
        SELECT strftime({_TIMESTAMP.format(c="date")}, '%Y-%m') AS month, count(*), sum({score}),
               count(*) FILTER (WHERE {score} >= {satisfied_from if satisfied_from is not None else "NULL"}),
               count(*) FILTER (WHERE {score} >= {PROMOTERS_FROM}),
               count(*) FILTER (WHERE {score} > {DETRACTORS_UP_TO} AND {score} < {PROMOTERS_FROM}),
               count(*) FILTER (WHERE {score} <= {DETRACTORS_UP_TO})
        FROM raw WHERE {given} GROUP BY 1 ORDER BY 1
        """
    ).fetchall()
    monthly: Monthly = {}
    for month, responses, total, satisfied, promoters, passives, detractors in rows:
        figures = {"responses": float(responses), "rating_sum": float(total)}
        if satisfied_from is not None:
            figures["satisfied"] = float(satisfied)
        else:
            figures.update(promoters=float(promoters), passives=float(passives), detractors=float(detractors))
        monthly[month] = figures
    return monthly


# -- a table of monthly inputs ------------------------------------------------------------------


def read_table(path: Path) -> tuple[list[str], list[tuple[int, list[object]]]]:
    """A small CSV or XLSX table: its header and its rows with their spreadsheet row numbers."""
    if not path.is_file():
        raise ExportError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        import openpyxl

        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
        finally:
            wb.close()
    elif suffix in (".csv", ".txt"):
        with path.open(newline="", encoding="utf-8-sig") as file:
            rows = [list(r) for r in csv.reader(file)]
    else:
        raise ExportError(f"{path}: use a CSV or XLSX file for the monthly inputs (not {suffix or 'no extension'})")
    if not rows:
        raise ExportError(f"{path}: the file is empty")
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    body = [(n, r) for n, r in enumerate(rows[1:], start=2) if any(v not in (None, "") for v in r)]
    return header, body


def parse_month(value: object, where: str) -> str:
    """``2026-01`` (text) or a date in the month, as ``YYYY-MM``."""
    if isinstance(value, (dt.date, dt.datetime)):
        return f"{value.year:04d}-{value.month:02d}"
    text = str(value).strip() if value is not None else ""
    if not MONTH.match(text):
        raise ExportError(f"{where}: a month must look like 2026-01; got {show(value)}")
    return text


def parse_number(value: object, where: str) -> float | None:
    """A number from a table cell: ``None`` when blank, an error for text (formulas are text too)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ExportError(f"{where}: this is not a number; got {show(value)}")
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = str(value).strip()
        if not _NUMBER_TEXT.fullmatch(text):
            raise ExportError(f"{where}: this is not a number; got {show(value)}")
        number = float(text)
    if not math.isfinite(number):
        raise ExportError(f"{where}: this is not a finite number; got {show(value)}")
    return number
