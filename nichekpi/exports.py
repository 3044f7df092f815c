"""Monthly figures from a shop's own files: an inputs table, an order export, survey answers.

Order exports and survey answers can be large, so they are checked and added up on
DuckDB, the embedded SQL engine (a million orders take seconds; DuckDB shows a
progress bar on long reads). Bad data is refused, never guessed: the error names the
file, the row (counted as a spreadsheet does, the header being row 1) and the column.

Every user file is read the same way (:func:`open_csv`, :func:`csv_rows`): its path is
taken literally (DuckDB would read ``[ ]``, ``?`` and ``*`` as a pattern, so it only ever
sees a link with a plain name in a private folder), its encoding is checked (UTF-8, with
or without a byte order mark), every row must have as many fields as the header, and
every engine error becomes one line naming the file and the row.

The figures (see :data:`nichekpi.catalog.EXPORT_METRICS`), per month ``YYYY-MM``:

* orders: ``revenue`` (amounts added up), ``count`` (distinct orders placed),
  ``completed`` (orders delivered that month; orders placed when the export has no
  delivery dates), ``customers`` (distinct customers who ordered), ``repeat_customers``
  (of those, the ones whose first order in the export is from an earlier month, or who
  placed two or more orders in the month), ``deliveries`` (orders delivered that month
  that have a promised date) and ``on_time`` (of those, delivered on or before the
  promised calendar day, whatever the hour).
  Rows may be order lines: an order's amount is the sum of its rows; its lines must
  name one customer and dates at most :data:`ORDER_SPAN_DAYS` days apart.
* survey: ``responses``, ``rating_sum``; on a 1-5 or 1-10 scale ``satisfied`` (4 or 5,
  8 to 10); on a 0-10 scale ``promoters`` (9-10), ``passives`` (7-8), ``detractors`` (0-6).

Dates are calendar dates from 1970 to 2100, written ``2026-01-31`` with an optional time
(``2026-01-31 15:30``) and offset (``2026-01-31T23:30:00-05:00``). A timestamp's month is
the month of its own local part, whatever the offset and whatever the machine's time
zone; a time-zone-aware Parquet timestamp (stored as UTC) is taken in UTC.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import math
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from nichekpi._formula import NUMBER_TEXT, show
from nichekpi.errors import KpiError
from nichekpi.formulas import DETRACTORS_UP_TO, PROMOTERS_FROM, SATISFIED_FROM

ORDER_COLUMNS = ("order_id", "customer_id", "order_date", "amount", "promised_date", "delivered_date")
OPTIONAL_ORDER_COLUMNS = ("promised_date", "delivered_date")
SURVEY_COLUMNS = ("date", "score")
SCALES = {"1-5": (1, 5, SATISFIED_FROM[5]), "1-10": (1, 10, SATISFIED_FROM[10]), "0-10": (0, 10, None)}
"""Survey scales: lowest and highest answer, lowest satisfied answer (none on the 0-10 NPS scale)."""
MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")
ORDER_SPAN_DAYS = 7
"""The most calendar days between the dates of one order's rows; further apart, the id is taken as reused."""
FIRST_YEAR, LAST_YEAR = 1970, 2100
"""Dates outside these years are refused (a typo, or a placeholder such as 0001-01-01)."""
_NUMBER_TEXT = NUMBER_TEXT
_DATE_TEXT = r"^(\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?)\s*(?:Z|[+-]\d{2}(?::?\d{2})?)?$"
"""A date, an optional time and an optional offset; group 1 is the local date and time."""

Monthly = dict[str, dict[str, float]]  # {"2026-01": {"revenue": 1234.5, ...}}


def printable(text: str) -> str:
    """``text`` safe to show on a terminal: control characters escaped as Python writes them (``\\x1b``)."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


class ExportError(KpiError):
    """A file that cannot be used as it is; the message names the file, row and column."""

    def __init__(self, message: str):
        super().__init__(printable(message))


def parse_column_map(text: str | None, known: tuple[str, ...]) -> dict[str, str]:
    """``"order_id=Order Number,amount=Total"`` as ``{"order_id": "Order Number", ...}``."""
    mapping = {name: name for name in known}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        name, _, column = part.partition("=")
        if name.strip() not in known or not column.strip():
            raise ExportError(f"column map {part!r} must look like NAME=YOUR COLUMN, NAME one of {', '.join(known)}")
        mapping[name.strip()] = column.strip()
    return mapping


# -- reading a user's CSV file ----------------------------------------------------------------

_DELIMITERS = (",", ";", "\t")
_LONE_CR = re.compile(r"(?<=\r)(?!\n)")
_SAVE_AS = 'save it as "CSV UTF-8" (in Excel: File > Save As) and try again'


@dataclass(frozen=True)
class CsvFormat:
    """How a CSV file is written: what :func:`open_csv` found out from its first row."""

    path: Path  #: the file as the user named it, for messages
    delimiter: str
    header: list[str]  #: the first row's names, stripped
    read_from: Path | None = None  #: the file to read, when not ``path`` itself (a sheet made into CSV)


class _Decoded:
    """The lines of a binary file as UTF-8 text (a leading byte order mark dropped), counted."""

    def __init__(self, file):
        self.file, self.given, self.pending = file, 0, []

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        while not self.pending:
            line = self.file.readline()
            if not line:
                raise StopIteration
            text = line.decode("utf-8-sig" if self.file.tell() == len(line) else "utf-8")
            if "\x00" in text:
                raise UnicodeDecodeError("utf-8", line, line.index(b"\x00"), line.index(b"\x00") + 1, "NUL")
            self.pending = [p for p in _LONE_CR.split(text) if p]  # a line may end with \r alone (old Mac files)
            self.pending.reverse()
        self.given += 1
        return self.pending.pop()


def _encoding_problem(path: Path, head: bytes) -> None:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ExportError(f'{path}: this file is UTF-16 text (Excel\'s "Unicode text"); {_SAVE_AS}')


def open_csv(path: Path, *, read_from: Path | None = None) -> CsvFormat:
    """Check that ``path`` is a readable CSV file and read its header row.

    The separator is a comma, or else ``;`` or a tab when the header row has no comma
    between its names but one of those.
    """
    if not (read_from or path).is_file():
        raise ExportError(f"{path}: no such file")
    with (read_from or path).open("rb") as file:
        head = file.read(65536)
        _encoding_problem(path, head)
        file.seek(0)
        try:
            first = next(_Decoded(file), "")
        except UnicodeDecodeError as error:
            raise _undecodable(path, 1, error) from None
    delimiter = next((d for d in _DELIMITERS if _fields(first, d) > 1), ",")
    for _, row in csv_rows(CsvFormat(path, delimiter, [], read_from), header_only=True):
        header = [h.strip() for h in row]
        if not any(header):
            raise ExportError(f"{path}: the first row must name the columns; it is empty")
        found = CsvFormat(path, delimiter, header, read_from)
        if b"\x00" in head:  # UTF-16 without its mark, or not text: refused at the row holding it
            for _ in csv_rows(found):
                pass
        return found
    raise ExportError(f"{path}: the file is empty")


def _fields(line: str, delimiter: str) -> int:
    try:
        return len(next(csv.reader([line], delimiter=delimiter), []))
    except csv.Error:  # an unclosed quote: the full read names the row
        return 0


def _undecodable(path: Path, row: int, error: UnicodeDecodeError, column: str | None = None) -> ExportError:
    byte = error.object[error.start]
    what = "a NUL byte (UTF-16 text, or not a text file?)" if byte == 0 else f"the byte 0x{byte:02X}"
    where = f", column {column}" if column else ""
    return ExportError(f"{path}, row {row}{where}: not UTF-8 text ({what}); {_SAVE_AS}")


def _column_at(source: CsvFormat, error: UnicodeDecodeError) -> str | None:
    """The header name of the field holding an undecodable byte (on the first line of its row)."""
    before = error.object[: error.start].decode("utf-8", "replace")
    fields = _fields(before, source.delimiter)
    return source.header[fields - 1] if 0 < fields <= len(source.header) else None


def csv_rows(source: CsvFormat, *, header_only: bool = False) -> Iterator[tuple[int, list[str]]]:
    """Every row of a CSV file with its spreadsheet row number (the header is row 1).

    Every row but an empty line must have as many fields as the header (a line of
    spaces is a row of one field).
    Anything that cannot be read is an :class:`ExportError` naming the file and row.
    """
    path, width = source.path, len(source.header)
    number = 1
    with (source.read_from or path).open("rb") as file:
        lines = _Decoded(file)
        reader = csv.reader(lines, delimiter=source.delimiter, strict=True)
        ended = 0  # the lines read by the end of the last row
        while True:
            try:
                row = next(reader)
                ended = reader.line_num
            except StopIteration:
                return
            except UnicodeDecodeError as error:
                # Only when the line starts the row can its fields be counted.
                column = _column_at(source, error) if lines.given == ended else None
                raise _undecodable(path, number, error, column) from None
            except csv.Error as error:
                raise _unreadable(path, number, error) from None
            if header_only:
                yield number, row
                return
            if number > 1 and row and len(row) != width:
                raise ExportError(_field_count(path, number, len(row), width))
            yield number, row
            number += 1


def _field_count(path: Path, row: int, fields: int, width: int) -> str:
    hint = (
        "; a value holding a comma (a decimal comma such as 514,50, or text) must be in double quotes"
        if fields > width
        else ""
    )
    plural = "" if fields == 1 else "s"
    return f"{path}, row {row}: this row has {fields} field{plural} but the header has {width}{hint}"


def _unreadable(path: Path, row: int, error: csv.Error) -> ExportError:
    if "field larger than field limit" in str(error):
        return ExportError(f"{path}, row {row}: a value is longer than {csv.field_size_limit():,} characters")
    return ExportError(
        f"{path}, row {row}: the double quotes do not pair up "
        '(a value starting with " must end with one; a quote inside it is written twice "")'
    )


@contextlib.contextmanager
def _plain_name(path: Path, suffix: str) -> Iterator[Path]:
    """A link to ``path`` named ``input<suffix>`` in a private folder: a name no engine reads as a pattern."""
    folder = tempfile.mkdtemp(prefix="nichekpi-")
    try:
        if any(c in folder for c in "[]*?{}"):
            raise ExportError(f"the temporary folder {folder} has [ ] * ? or {{ }} in its name; set TMPDIR to another")
        link = Path(folder, f"input{suffix}")
        try:
            os.symlink(path.resolve(), link)
        except OSError:  # no symbolic links here (Windows without developer mode)
            shutil.copyfile(path, link)
        yield link
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- loading into DuckDB ---------------------------------------------------------------


def _connect():
    import duckdb

    con = duckdb.connect()
    # DuckDB draws its progress bar on stdout for queries longer than two seconds; only
    # on a terminal, so that output sent to a file or another program stays clean.
    con.execute(f"SET enable_progress_bar = {'true' if sys.stdout.isatty() else 'false'}")
    # A time-zone-aware timestamp becomes text in UTC, whatever the machine's TZ.
    con.execute("SET TimeZone = 'UTC'")
    return con


def _xlsx_as_csv(path: Path, target: Path) -> list[int]:
    """The first sheet of a workbook as CSV text (dates as ISO), for DuckDB to read.

    Empty rows are left out; returns the sheet row of each data row written.
    """
    import openpyxl
    from openpyxl.utils import get_column_letter

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of errors for a damaged file
        raise ExportError(f"{path}: cannot be opened as an XLSX workbook") from None
    try:
        with target.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            width = None
            written = []
            for number, row in enumerate(wb.worksheets[0].iter_rows(values_only=True), start=1):
                cells = ["" if v is None else v.isoformat(sep=" ") if isinstance(v, dt.datetime) else v for v in row]
                while cells and cells[-1] == "":
                    cells.pop()
                width = len(cells) if width is None else width
                if len(cells) > width:
                    letter = get_column_letter(len(cells))
                    raise ExportError(f"{path}, row {number}, column {letter}: a value in a column without a name")
                if number == 1 or cells:
                    writer.writerow(cells + [""] * (width - len(cells)))
                    written.append(number)
    finally:
        wb.close()
    return written[1:]


def _read_csv(source: CsvFormat, link: Path) -> str:
    """DuckDB's reader of a checked CSV file: every option set, columns ``c0, c1...`` as text."""
    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(source.header)))
    delimiter = source.delimiter.replace("\t", "\\t")
    return (
        f"read_csv('{_quote(link)}', header=true, auto_detect=false, delim='{delimiter}', quote='\"', "
        f"escape='\"', columns={{{columns}}}, strict_mode=true, null_padding=false, encoding='utf-8')"
    )


def _duckdb_failure(source: CsvFormat, error: Exception) -> ExportError:
    """DuckDB refused the file: find the row in Python, for a message in nichekpi's words."""
    for _ in csv_rows(source):
        pass
    line = re.search(r"CSV Error on Line: (\d+)", str(error))
    if line:
        return ExportError(f"{source.path}, line {line.group(1)}: this line cannot be read as CSV")
    return ExportError(f"{source.path}: cannot be read as CSV")


@dataclass(frozen=True)
class _Rows:
    """A loaded file, shown as its path, that knows the spreadsheet row of each record DuckDB read."""

    path: Path
    source: CsvFormat | None  #: ``None`` for Parquet, where a record's row is its number plus one
    sheet_rows: list[int] | None = None  #: for a sheet, the row of each record

    def __str__(self) -> str:
        return str(self.path)

    def row(self, record: int) -> int:
        """The spreadsheet row of DuckDB's ``_row`` (record number + 1).

        DuckDB skips empty lines and a quoted value may run over several lines, so the
        file is read again to count its rows as a spreadsheet does (on errors only).
        """
        if self.sheet_rows is not None:
            return self.sheet_rows[record - 2]
        if self.source is None:
            return record
        seen = 1
        for number, fields in csv_rows(self.source):
            if number > 1 and fields:
                seen += 1
                if seen == record:
                    return number
        return record


def _load(
    con, path: Path, wanted: Mapping[str, str], optional: tuple[str, ...], typed: Callable[[set[str]], str]
) -> tuple[set[str], _Rows]:
    """Load ``path`` as table ``lines``: its record number + 1 ``_row``, text columns named as in ``wanted``,
    and the SQL expressions ``typed(names present)`` over them (read in the same pass)."""
    if not path.is_file():
        raise ExportError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".txt", ".parquet", ".xlsx", ".xlsm"):
        raise ExportError(f"{path}: use a CSV, XLSX or Parquet file (not {suffix or 'a file without extension'})")
    with _plain_name(path, ".parquet" if suffix == ".parquet" else ".csv") as link:
        source, sheet_rows = None, None
        if suffix == ".parquet":
            reader = f"read_parquet('{_quote(link)}')"
            try:
                columns = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()]
            except Exception:  # duckdb raises its own exception types
                raise ExportError(f"{path}: cannot be read as Parquet") from None
            selectable = {name: _identifier(name) for name in columns}
        else:
            if suffix in (".xlsx", ".xlsm"):
                converted = link.with_name("sheet.csv")
                sheet_rows = _xlsx_as_csv(path, converted)
                source = open_csv(path, read_from=converted)
                link = converted
            else:
                source = open_csv(path)
            columns = source.header
            reader = _read_csv(source, link)
            selectable = {name: f"c{i}" for i, name in enumerate(columns)}
        present = {}
        for name, column in wanted.items():
            if columns.count(column) > 1:
                raise ExportError(f"{path}: the column {column!r} is there twice; rename or remove one")
            if column in columns:
                present[name] = column
            elif name not in optional:
                raise ExportError(
                    f"{path}: no column {column!r} (it has {', '.join(map(repr, columns))}); "
                    f"name the right one with {name}=YOUR COLUMN"
                )
        selected = ", ".join(f"CAST({selectable[c]} AS VARCHAR) AS {name}" for name, c in present.items())
        try:
            con.execute(
                f"CREATE OR REPLACE TABLE lines AS SELECT *, {typed(set(present))} "
                f"FROM (SELECT row_number() OVER () + 1 AS _row, {selected} FROM {reader})"
            )
        except Exception as error:  # duckdb raises its own exception types
            if source is None:
                raise ExportError(f"{path}: cannot be read as Parquet") from None
            raise _duckdb_failure(source, error) from None
    return set(present), _Rows(path, source, sheet_rows)


def _quote(path: Path) -> str:
    """A path inside a SQL string literal."""
    return str(path).replace("'", "''")


def _identifier(name: str) -> str:
    """A column name of the user's file as a SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _first_bad(con, path: _Rows, column: str, condition: str, rule: str) -> None:
    """Raise an :class:`ExportError` for the first row where ``condition`` holds."""
    bad = con.execute(f"SELECT _row, {column} FROM lines WHERE {condition} ORDER BY _row LIMIT 1").fetchone()
    if bad:
        row, value = path.row(bad[0]), bad[1]
        shown = value.strip() if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value.strip()) else show(value)
        raise ExportError(f"{path}, row {row}, column {column}: {rule}; got {shown}")


def _timestamp(column: str) -> str:
    """SQL: the local date and time of a text date (its offset, if any, left aside), or NULL."""
    text = f"TRIM({column})"
    # A plain 2026-01-31 is the common case: a direct cast, without the pattern's cost.
    return (
        f"CASE WHEN length({text}) = 10 AND {text}[5] = '-' AND {text}[8] = '-' "
        f"THEN CAST(TRY_CAST({text} AS DATE) AS TIMESTAMP) "
        f"ELSE TRY_CAST(NULLIF(regexp_extract({text}, '{_DATE_TEXT}', 1), '') AS TIMESTAMP) END"
    )


def _number(column: str) -> str:
    """SQL: a number written as in the inputs table (no ``1_000``, ``inf`` or ``nan``), or NULL."""
    pattern = _NUMBER_TEXT.pattern
    return f"CASE WHEN regexp_full_match(TRIM({column}), '{pattern}') THEN TRY_CAST(TRIM({column}) AS DOUBLE) END"


def _blank(column: str) -> str:
    return f"({column} IS NULL OR TRIM({column}) = '')"


def _check_dates(con, path: _Rows, column: str, typed: str, *, required: bool) -> None:
    """Check the text dates of ``column`` against their values ``typed`` in table ``lines``."""
    if required:
        _first_bad(con, path, column, _blank(column), "a date is needed")
    _first_bad(con, path, column, f"NOT {_blank(column)} AND {typed} IS NULL", "this is not a date like 2026-01-31")
    _first_bad(
        con,
        path,
        column,
        f"year({typed}) < {FIRST_YEAR} OR year({typed}) > {LAST_YEAR}",
        f"a date must be from {FIRST_YEAR} to {LAST_YEAR}",
    )


# -- orders ---------------------------------------------------------------------------------


def monthly_orders(path: Path, columns: Mapping[str, str] | None = None) -> Monthly:
    """The order figures per month of an order export (CSV, XLSX or Parquet)."""
    con = _connect()
    present, rows = _load(con, path, columns or {c: c for c in ORDER_COLUMNS}, OPTIONAL_ORDER_COLUMNS, _order_values)
    for column in ("order_id", "customer_id"):
        _first_bad(con, rows, column, _blank(column), f"every row needs its {column}")
    _check_dates(con, rows, "order_date", "placed", required=True)
    _first_bad(con, rows, "amount", "value IS NULL", "this is not a number")
    _first_bad(con, rows, "amount", "NOT isfinite(value) OR value < 0", "an amount must be 0 or more")
    for column, typed in zip(OPTIONAL_ORDER_COLUMNS, ("promised", "delivered")):
        if column in present:
            _check_dates(con, rows, column, typed, required=False)
    con.execute(
        """
        CREATE TABLE orders AS
        SELECT id AS order_id, min(customer) AS customer_id, max(customer) AS other_customer,
               min(placed) AS placed, max(placed) AS last_placed, min(_row) AS first_row,
               strftime(min(placed), '%Y-%m') AS placed_month, sum(value) AS amount,
               CAST(max(promised) AS DATE) AS promised, CAST(max(delivered) AS DATE) AS delivered
        FROM lines GROUP BY id
        """
    )
    _check_orders(con, rows)
    completed_month = "strftime(delivered, '%Y-%m')" if "delivered_date" in present else "placed_month"
    figures = con.execute(
        f"""
        WITH first_orders AS (SELECT customer_id, min(placed_month) AS first_month FROM orders GROUP BY customer_id),
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
    return {month: {n: float(v) for n, v in zip(names, values) if v is not None} for month, *values in figures}


def _order_values(present: set[str]) -> str:
    """SQL: an order row's values, from its text."""
    promised = _timestamp("promised_date") if "promised_date" in present else "NULL::TIMESTAMP"
    delivered = _timestamp("delivered_date") if "delivered_date" in present else "NULL::TIMESTAMP"
    return (
        f"TRIM(order_id) AS id, TRIM(customer_id) AS customer, {_timestamp('order_date')} AS placed, "
        f"{_number('amount')} AS value, {promised} AS promised, {delivered} AS delivered"
    )


def _check_orders(con, path: _Rows) -> None:
    """The rows of one order must agree: one customer, dates at most :data:`ORDER_SPAN_DAYS` apart."""
    bad = con.execute(
        f"""
        SELECT order_id, customer_id <> other_customer FROM orders
        WHERE customer_id <> other_customer OR CAST(last_placed AS DATE) - CAST(placed AS DATE) > {ORDER_SPAN_DAYS}
        ORDER BY first_row LIMIT 1
        """
    ).fetchone()
    if not bad:
        return
    order_id, customers_differ = bad
    rows = con.execute("SELECT _row, customer, placed FROM lines WHERE id = ? ORDER BY _row", [order_id]).fetchall()
    rows = [(path.row(record), customer, placed) for record, customer, placed in rows]
    first, customer, placed = rows[0]
    if customers_differ:
        other, other_customer, _ = next(r for r in rows if r[1] != customer)
        raise ExportError(
            f"{path}, rows {first} and {other}: order {order_id!r} has two customers, "
            f"{customer!r} and {other_customer!r}; give each order its own order id"
        )
    (first, _, placed), (other, _, other_placed) = sorted(
        (min(rows, key=lambda r: r[2]), max(rows, key=lambda r: r[2]))
    )
    raise ExportError(
        f"{path}, rows {first} and {other}: order {order_id!r} is dated {placed:%Y-%m-%d} and {other_placed:%Y-%m-%d}, "
        f"more than {ORDER_SPAN_DAYS} days apart; give each order its own order id"
    )


# -- survey answers -----------------------------------------------------------------------


def monthly_survey(path: Path, scale: str = "1-5", columns: Mapping[str, str] | None = None) -> Monthly:
    """The survey figures per month of raw answers (a date and a score per row)."""
    if scale not in SCALES:
        raise ExportError(f"the survey scale must be one of {', '.join(SCALES)}; got {scale!r}")
    low, high, satisfied_from = SCALES[scale]
    con = _connect()
    _, lines = _load(
        con,
        path,
        columns or {c: c for c in SURVEY_COLUMNS},
        (),
        lambda _: f"{_timestamp('date')} AS answered, {_number('score')} AS value",
    )
    _check_dates(con, lines, "date", "answered", required=True)
    given = "NOT " + _blank("score")
    _first_bad(con, lines, "score", f"{given} AND value IS NULL", "this is not a number")
    _first_bad(
        con,
        lines,
        "score",
        f"{given} AND (value < {low} OR value > {high} OR value <> floor(value))",
        f"a score on this {scale} survey must be a whole number from {low} to {high}",
    )
    rows = con.execute(
        f"""
        SELECT strftime(answered, '%Y-%m') AS month, count(*), sum(value),
               count(*) FILTER (WHERE value >= {satisfied_from if satisfied_from is not None else "NULL"}),
               count(*) FILTER (WHERE value >= {PROMOTERS_FROM}),
               count(*) FILTER (WHERE value > {DETRACTORS_UP_TO} AND value < {PROMOTERS_FROM}),
               count(*) FILTER (WHERE value <= {DETRACTORS_UP_TO})
        FROM lines WHERE {given} GROUP BY 1 ORDER BY 1
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
    """A small CSV or XLSX table: its header and its rows with their spreadsheet row numbers.

    A column named twice is refused, as is a value in a column without a name.
    """
    if not path.is_file():
        raise ExportError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        import openpyxl

        try:
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds of errors for a damaged file
            raise ExportError(f"{path}: cannot be opened as an XLSX workbook") from None
        try:
            rows = list(enumerate((list(r) for r in wb.worksheets[0].iter_rows(values_only=True)), start=1))
        finally:
            wb.close()
        if not rows:
            raise ExportError(f"{path}: the file is empty")
        header = [str(h).strip() if h is not None else "" for h in rows[0][1]]
    elif suffix in (".csv", ".txt"):
        source = open_csv(path)
        rows = list(csv_rows(source))
        header = source.header
    else:
        raise ExportError(f"{path}: use a CSV or XLSX file for the monthly inputs (not {suffix or 'no extension'})")
    for position, name in enumerate(header):
        if name and name in header[:position]:
            raise ExportError(f"{path}: the column {name!r} is there twice; keep one")
    body = [(n, r) for n, r in rows[1:] if any(v not in (None, "") and str(v).strip() for v in r)]
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
