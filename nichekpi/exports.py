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
  name one customer and dates at most :data:`ORDER_SPAN_DAYS` days apart. Amounts are
  added up exactly, to the millionth (:func:`_exact_sum`): a month's revenue is the
  number nearest to the sum of its amounts as written, whatever the order of the rows.
* survey: ``responses``, ``rating_sum``; on a 1-5 or 1-10 scale ``satisfied`` (4 or 5,
  8 to 10); on a 0-10 scale ``promoters`` (9-10), ``passives`` (7-8), ``detractors`` (0-6).

Dates are calendar dates from 1970 to 2100, written ``2026-01-31`` with an optional time
(``2026-01-31 15:30``) and offset (``2026-01-31T23:30:00-05:00``). A timestamp's month is
the month of its own local part, whatever the offset and whatever the machine's time
zone; a time-zone-aware Parquet timestamp (stored as UTC) is taken in UTC.
"""

from __future__ import annotations

import atexit
import codecs
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
from dataclasses import dataclass, field, replace
from pathlib import Path

from nichekpi._dialect import (
    DialectError,
    date_facts_sql,
    date_sql,
    decide_date_format,
    decide_decimal,
    decide_decimal_values,
    number_facts_sql,
    number_sql,
    parse_money,
    plain_facts_sql,
    plain_sql,
)
from nichekpi._formula import NUMBER_TEXT, show
from nichekpi.errors import KpiError
from nichekpi.formulas import DETRACTORS_UP_TO, PROMOTERS_FROM, SATISFIED_FROM
from nichekpi.platforms import Format, detect, formats

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


def parse_column_map(text: str | None, known: tuple[str, ...], *, identity: bool = True) -> dict[str, str]:
    """``"order_id=Order Number,amount=Total"`` as ``{"order_id": "Order Number", ...}``.

    With ``identity``, the names not given map to themselves; without, only those given are there.
    """
    mapping = {name: name for name in known} if identity else {}
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
    read_from: Path | None = (
        None  #: the file to read, when not ``path`` itself (a sheet made into CSV, a copy in UTF-8)
    )
    encoding: str = "UTF-8"  #: the file's own encoding: UTF-8, UTF-16 or Windows-1252


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


_CP1252_HOLES = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")  # the bytes Windows-1252 leaves undefined


def _encoding(file, head: bytes) -> str:
    """UTF-16 (by its byte order mark), UTF-8 (every byte of the file decodes), else Windows-1252.

    A file whose bytes are neither UTF-8 nor Windows-1252 is read as UTF-8, so the
    reading names the row and column of the first byte that does not fit.
    """
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    file.seek(0)
    try:
        while chunk := file.read(1024 * 1024):
            if not (chunk.isascii() and not decoder.getstate()[0]):  # ASCII is UTF-8: only the rest is decoded
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        file.seek(0)
        cp1252 = b"\x00" not in head
        while cp1252 and (chunk := file.read(1024 * 1024)):
            cp1252 = not any(byte in chunk for byte in _CP1252_HOLES)
        return "Windows-1252" if cp1252 else "UTF-8"
    return "UTF-8"


def _in_utf8(path: Path, encoding: str) -> Path:
    """A copy of ``path`` in UTF-8, in a private folder removed when the program ends."""
    folder = Path(tempfile.mkdtemp(prefix="nichekpi-"))
    atexit.register(shutil.rmtree, folder, True)
    target = folder / "utf8.csv"
    codec = "utf-16" if encoding == "UTF-16" else "cp1252"
    try:
        with (
            path.open("r", encoding=codec, newline="") as source,
            target.open("w", encoding="utf-8", newline="") as out,
        ):
            shutil.copyfileobj(source, out, 1024 * 1024)
    except UnicodeError as error:
        raise ExportError(f"{path}: it starts as {encoding} text but is not ({error.reason}); {_SAVE_AS}") from None
    return target


def open_csv(path: Path, *, read_from: Path | None = None) -> CsvFormat:
    """Check that ``path`` is a readable CSV file and read its header row.

    The encoding is UTF-8 (with or without a byte order mark), UTF-16 (Excel's "Unicode
    text", with its mark) or Windows-1252 (an older Excel's "CSV"); the last two are read
    from a copy in UTF-8 (``read_from``). The separator is a comma, or else ``;`` or a
    tab when the header row has no comma between its names but one of those.
    """
    if not (read_from or path).is_file():
        raise ExportError(f"{path}: no such file")
    encoding = "UTF-8"
    with (read_from or path).open("rb") as file:
        head = file.read(65536)
        if read_from is None:
            encoding = _encoding(file, head)
    if encoding != "UTF-8":
        read_from = _in_utf8(path, encoding)
        return replace(open_csv(path, read_from=read_from), encoding=encoding)
    with (read_from or path).open("rb") as file:
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
    columns: Mapping[str, str] = field(default_factory=dict)  #: role -> the file's own column name
    date_formats: dict[str, str] = field(default_factory=dict)  #: role -> the day-and-month order found

    def name(self, role: str) -> str:
        """The file's own name of the column that plays ``role``, for messages."""
        return self.columns.get(role, role)

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


@dataclass
class Reading:
    """How to read the numbers and dates of a user's files, and what the reading found out."""

    decimal: str | None = None  #: ``--decimal``: "." or ","; ``None``: found from each column
    date_format: str | None = None  #: ``--date-format``; ``None``: found from each column
    notes: list[str] = field(default_factory=list)  #: what was read how, for the output


@dataclass(frozen=True)
class _Opened:
    """A file opened for DuckDB: how to read it, and which of its columns play which role."""

    reader: str  #: SQL reading the file (``read_csv(...)`` with every column as text, or ``read_parquet(...)``)
    selectable: dict[str, str]  #: the file's column name -> SQL naming it in ``reader``
    present: dict[str, str]  #: role -> the file's column, for the columns there
    source: CsvFormat | None  #: ``None`` for Parquet
    sheet_rows: list[int] | None  #: for a sheet, the row of each record
    types: dict[str, str]  #: the file's column name -> its DuckDB type (every column VARCHAR but in Parquet)


@contextlib.contextmanager
def _opened(
    con, path: Path, pick: Callable[[list[str]], tuple[Mapping[str, str], tuple[str, ...]]], reading: Reading
) -> Iterator[_Opened]:
    """Check ``path`` and its columns (``pick(the file's columns)`` names ``{role: column}``, and
    the roles that may be missing); the file stays readable by DuckDB inside the block."""
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
                described = con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()
            except Exception:  # duckdb raises its own exception types
                raise ExportError(f"{path}: cannot be read as Parquet") from None
            columns = [row[0] for row in described]
            types = {row[0]: row[1] for row in described}
            selectable = {name: _identifier(name) for name in columns}
        else:
            if suffix in (".xlsx", ".xlsm"):
                converted = link.with_name("sheet.csv")
                sheet_rows = _xlsx_as_csv(path, converted)
                source = open_csv(path, read_from=converted)
            else:
                source = open_csv(path)
                if source.encoding != "UTF-8":
                    reading.notes.append(f"{path.name}: read as {source.encoding} text")
            columns = source.header
            reader = _read_csv(source, source.read_from or link)
            selectable = {name: f"c{i}" for i, name in enumerate(columns)}
            types = dict.fromkeys(columns, "VARCHAR")
        wanted, optional = pick(columns)
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
        yield _Opened(reader, selectable, present, source, sheet_rows, types)


def _load(
    con, path: Path, pick: Callable[[list[str]], tuple[Mapping[str, str], tuple[str, ...]]], reading: Reading
) -> tuple[dict[str, str], _Rows]:
    """Load ``path`` as ``lines``: its record number + 1 ``_row`` and, as text, the columns that
    ``pick(the file's columns)`` names (``{role: column}``, and the roles that may be missing).

    Returns ``{role: column}`` for the columns present.
    """
    with _opened(con, path, pick, reading) as opened:
        present, source = opened.present, opened.source
        selected = ", ".join(f"CAST({opened.selectable[c]} AS VARCHAR) AS {name}" for name, c in present.items())
        try:
            # The engine keeps the file's order, so a record's number is its rowid (cheaper than a window).
            con.execute(f"CREATE OR REPLACE TABLE raw_lines AS SELECT {selected} FROM {opened.reader}")
            con.execute("CREATE OR REPLACE VIEW lines AS SELECT rowid + 2 AS _row, * FROM raw_lines")
        except Exception as error:  # duckdb raises its own exception types
            if source is None:
                raise ExportError(f"{path}: cannot be read as Parquet") from None
            raise _duckdb_failure(source, error) from None
    return present, _Rows(path, source, opened.sheet_rows, present)


def _typed(con, expressions: str) -> None:
    """Add to table ``lines`` the columns ``expressions`` (SQL over its text columns)."""
    con.execute(f"CREATE OR REPLACE TABLE typed_lines AS SELECT *, {expressions} FROM lines")
    con.execute("DROP VIEW lines")
    con.execute("DROP TABLE raw_lines")
    con.execute("ALTER TABLE typed_lines RENAME TO lines")


def _amount(con, rows: _Rows, column: str, reading: Reading) -> tuple[str, str | None]:
    """SQL reading the amounts of text column ``column``, its separators found from the whole column
    (or ``--decimal``); and the column's one currency symbol or code, if it writes one."""
    if reading.decimal in (None, "."):
        (others,) = con.execute(f"SELECT {plain_facts_sql(column)} FROM lines").fetchone()
        if not others:  # every amount is like 1165.00: nothing to decide
            return plain_sql(column), None
    facts = con.execute(f"SELECT {number_facts_sql(column)} FROM lines").fetchone()
    try:
        found = decide_decimal(facts, reading.decimal, rows.name(column))
    except DialectError:  # again, with the spreadsheet's row and the value, for the message
        example = con.execute(f"SELECT TRIM({column}) FROM lines WHERE _row = ?", [facts[3]]).fetchone()
        shown = (*facts[:3], rows.row(facts[3]) if facts[3] is not None else None, facts[4])
        try:
            decide_decimal(shown, reading.decimal, rows.name(column), example[0] if example else None)
        except DialectError as error:
            raise ExportError(f"{rows}: {error}") from None
        raise
    if found.decimal == "," and reading.decimal is None:
        reading.notes.append(f"{rows.path.name}: column {rows.name(column)} read with a decimal comma")
    return number_sql(column, found.decimal), found.currency


def _date(con, rows: _Rows, column: str, reading: Reading, default: str | None = None, time: str | None = None) -> str:
    """SQL reading the dates of text column ``column`` (and its time column ``time``), their order
    found from the whole column (or ``--date-format``, or the platform's ``default``)."""
    facts = con.execute(f"SELECT {date_facts_sql(column)} FROM lines").fetchone()
    try:
        order = decide_date_format(facts, reading.date_format, default, rows.name(column))
    except DialectError:  # again, with the spreadsheet's rows, for the message
        shown = (
            *facts[:3],
            rows.row(facts[3]) if facts[3] else None,
            facts[4],
            *(rows.row(r) if r else None for r in facts[5:]),
        )
        try:
            decide_date_format(shown, reading.date_format, default, rows.name(column))
        except DialectError as error:
            raise ExportError(f"{rows}: {error}") from None
        raise
    rows.date_formats[column] = order
    if facts[0] and reading.date_format is None:
        reading.notes.append(f"{rows.path.name}: column {rows.name(column)} read as {order}")
    text = f"(TRIM({column}) || ' ' || COALESCE(TRIM({time}), ''))" if time else column
    return date_sql(text, order, _timestamp(text))


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
        raise ExportError(f"{path}, row {row}, column {path.name(column)}: {rule}; got {shown}")


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


def _not_a_date(rows: _Rows, column: str) -> str:
    order = rows.date_formats.get(column, "yyyy-mm-dd")
    if order == "yyyy-mm-dd":
        return "this is not a date like 2026-01-31"
    return f"this is not a calendar date (the column's dates read as {order}; --date-format to say otherwise)"


def _check_dates(con, path: _Rows, column: str, typed: str, *, required: bool) -> None:
    """Check the text dates of ``column`` against their values ``typed`` in table ``lines``."""
    if required:
        _first_bad(con, path, column, _blank(column), "a date is needed")
    _first_bad(con, path, column, f"NOT {_blank(column)} AND {typed} IS NULL", _not_a_date(path, column))
    _first_bad(
        con,
        path,
        column,
        f"year({typed}) < {FIRST_YEAR} OR year({typed}) > {LAST_YEAR}",
        f"a date must be from {FIRST_YEAR} to {LAST_YEAR}",
    )


_INTEGER_TYPES = frozenset(
    ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")
)
_TIMESTAMP_TYPES = frozenset(("TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP WITH TIME ZONE"))
_FIRST_DAY, _PAST_LAST_DAY = f"'{FIRST_YEAR}-01-01'", f"'{LAST_YEAR + 1}-01-01'"


_PLAIN_AMOUNT = r"[0-9]+(\.[0-9]{1,2})?"
"""An amount as most exports write it (:data:`nichekpi._dialect.PLAIN` without a sign or spaces)."""


def _fast_columns(opened: _Opened) -> dict[str, tuple[str, str, str]] | None:
    """Per role: SQL reading the file's column (step 1), its value (step 2, over step 1's ``r``) and
    whether the full reading would take that value otherwise or refuse it (step 3, over step 1's
    ``r`` and step 2's ``v``); ``None`` when a column's type is not one read here."""
    found = {}
    for role, column in opened.present.items():
        sql, kind = opened.selectable[column], opened.types[column]
        if role in ("order_id", "customer_id"):
            if kind == "VARCHAR":
                value = "@r" if role == "order_id" else "NULLIF(NULLIF(@r, ''), '0')"
                found[role] = f"TRIM({sql})", value, "(@r IS NULL OR @r = '')"
            elif kind in _INTEGER_TYPES:
                found[role] = sql, ("@r" if role == "order_id" else "NULLIF(@r, 0)"), "(@r IS NULL)"
            else:
                return None
        elif role == "amount":
            if kind == "VARCHAR":
                # Such text is read as it is by the full reading when every amount is written so.
                plain = f"regexp_full_match(@r, '{_PLAIN_AMOUNT}')"
                bad = f"(@v IS NULL OR NOT isfinite(@v) OR @v >= {EXACT_BELOW} OR NOT {plain})"
                found[role] = sql, "TRY_CAST(@r AS DOUBLE)", bad
            elif kind == "DOUBLE":  # its text is plain when it has at most two decimals (and no exponent)
                bad = f"(@v IS NULL OR NOT isfinite(@v) OR @v < 0 OR @v >= {EXACT_BELOW} OR round(@v, 2) <> @v)"
                found[role] = sql, "@r", bad
            elif kind in _INTEGER_TYPES or re.fullmatch(r"DECIMAL\([0-9]+,[012]\)", kind):  # its text is plain
                # equal to the number its text reads as (tests check)
                found[role] = sql, "CAST(@r AS DOUBLE)", f"(@r IS NULL OR @r < 0 OR @r >= {EXACT_BELOW})"
            else:
                return None
        else:  # a date
            low, high = f"DATE {_FIRST_DAY}", f"DATE {_PAST_LAST_DAY}"
            if kind == "VARCHAR":
                # 2026-01-31 exactly (its own text again) is what _timestamp reads with a plain cast.
                value, odd = "TRY_CAST(@r AS DATE)", "@v IS NULL OR CAST(@v AS VARCHAR) <> @r OR "
            elif kind == "DATE":
                value, odd = "@r", "@v IS NULL OR "
            elif kind in _TIMESTAMP_TYPES:  # in UTC when time-zone aware, as its text is (see _connect)
                value, odd = "CAST(@r AS TIMESTAMP)", "@v IS NULL OR "
                low, high = f"TIMESTAMP {_FIRST_DAY}", f"TIMESTAMP {_PAST_LAST_DAY}"
            else:
                return None
            given = "" if role == "order_date" else "@r IS NOT NULL AND "
            found[role] = sql, value, f"({given}({odd}@v < {low} OR @v >= {high}))"
    return found


def _fast_orders(con, path: Path, opened: _Opened, fmt: Format, reading: Reading) -> Monthly | None:
    """The figures of a plain export in nichekpi's own columns, in one pass over the file, typed
    columns read as they are; ``None`` when any value is one the full reading must look at (a
    bad value, to be found and worded, or a number or date written another way)."""
    present = opened.present
    if (
        fmt.id != "generic"
        or fmt.leave_out
        or fmt.amount_is != "line"
        or fmt.signed
        or fmt.customer_optional
        or opened.sheet_rows is not None
        or not set(present) <= set(ORDER_COLUMNS)
        or "customer_id" not in present
        or reading.decimal == ","
    ):
        return None
    columns = _fast_columns(opened)
    if columns is None:
        return None
    numbered = False
    if opened.types[present["order_id"]] == "VARCHAR":
        # Order numbers written as whole numbers are grouped as numbers (a smaller, faster table);
        # an id written otherwise in the rest of the file makes the pass start again with text ids.
        sql = opened.selectable[present["order_id"]]
        try:
            (numbered,) = con.execute(
                f"SELECT COALESCE(bool_and(CAST(TRY_CAST(x AS BIGINT) AS VARCHAR) = x), false) "
                f"FROM (SELECT {sql} AS x FROM {opened.reader} LIMIT 2048)"
            ).fetchone()
        except Exception:  # duckdb raises its own exception types; the full reading words the failure
            return None
    delivered = "delivered_date" in present
    for numbers in (True, False) if numbered else (False,):
        read = dict(columns)
        if numbers:
            read["order_id"] = sql, "TRY_CAST(@r AS BIGINT)", "(@v IS NULL OR CAST(@v AS VARCHAR) <> @r)"
        rows = _fast_pass(con, opened, read, numbers, delivered)
        if rows is None:
            return None
        # An order refused or with an odd id has an amount of -inf or +inf (NaN: both), and so its month.
        revenues = [row[1] for row in rows if row[1] is not None]
        if not (numbers and any(math.isnan(r) or r == math.inf for r in revenues)):
            break  # with text ids, no order has an odd id
    if any(not math.isfinite(r) for r in revenues):
        return None
    anonymous = sum(row[-1] or 0 for row in rows)
    if anonymous:
        reading.notes.append(
            f"{path.name}: {_plural(anonymous, 'order')} without a customer id or e-mail: "
            "counted in revenue and orders, not in customers"
        )
    return _as_monthly(rows)


def _fast_pass(
    con, opened: _Opened, columns: dict[str, tuple[str, str, str]], numbers: bool, delivered: bool
) -> list[tuple] | None:
    """The monthly rows of :func:`_monthly_rows` in one query over the file; ``None`` when DuckDB fails.

    The orders are not kept: a month's revenue tells what the query found. An order with a
    refused value, two customers or dates too far apart has an amount of -inf; one with an
    id not written as a whole number (with ``numbers``), +inf; one with both, NaN. Amounts
    the checks take are finite (below :data:`EXACT_BELOW`), and so are their sums.
    """
    names = {"order_id": "id", "customer_id": "customer", "order_date": "placed", "amount": "value"}
    names |= {"promised_date": "promised", "delivered_date": "delivered"}

    def at(role: str, sql: str) -> str:  # a step's SQL over this role's columns
        return sql.replace("@r", f"r_{names[role]}").replace("@v", names[role])

    read = ", ".join(f"{sql} AS r_{names[role]}" for role, (sql, _, _) in columns.items())
    typed = ", ".join(f"{at(role, value)} AS {names[role]}" for role, (_, value, _) in columns.items())
    flags = {role: at(role, flag) for role, (_, _, flag) in columns.items()}
    odd = flags.pop("order_id") if numbers else "false"
    bad = " OR ".join(flags.values())
    given = {names[role] for role in columns}

    def missing(name: str) -> str:
        return name if name in given else "NULL::DATE"

    orders = f"""
        SELECT id AS order_id, min(customer) AS customer_id, strftime(min(placed), '%Y-%m') AS placed_month,
               {_exact_sum("marked", below=True)}
               - CASE WHEN COALESCE(min(customer) <> max(customer), false)
                   OR COALESCE(CAST(max(placed) AS DATE) - CAST(min(placed) AS DATE) > {ORDER_SPAN_DAYS}, false)
                 THEN 'inf'::DOUBLE ELSE 0 END AS amount,
               CAST(max({missing("promised")}) AS DATE) AS promised,
               CAST(max({missing("delivered")}) AS DATE) AS delivered
        FROM (
            SELECT *, CASE WHEN {odd} THEN 'inf'::DOUBLE WHEN {bad} THEN '-inf'::DOUBLE ELSE value END AS marked
            FROM (SELECT *, {typed} FROM (SELECT {read} FROM {opened.reader}))
        )
        GROUP BY id"""
    try:
        return _monthly_rows(con, delivered, orders)
    except Exception:  # duckdb raises its own exception types; the full reading words the failure
        return None


# -- orders ---------------------------------------------------------------------------------


def monthly_orders(
    path: Path,
    columns: Mapping[str, str] | None = None,
    *,
    orders_format: str | None = None,
    reading: Reading | None = None,
) -> Monthly:
    """The order figures per month of an order export (CSV, XLSX or Parquet).

    ``orders_format``: one of :func:`nichekpi.platforms.formats` ("shopify"...), or
    ``None`` to detect it from the header row. ``columns``: ``{role: your column}``, on
    top of the format. ``reading`` collects what was found out (the format, the decimal
    separator, the date order, the orders left out) in its ``notes``.
    """
    reading = reading if reading is not None else Reading()
    chosen: list[Format] = []

    def pick(header: list[str]) -> tuple[Mapping[str, str], tuple[str, ...]]:
        fmt = _format("orders", orders_format, header, path, reading)
        fmt = fmt.with_columns(dict(columns or {}))
        chosen.append(fmt)
        required = ("order_id", "order_date", "amount") + (("order_time",) if "order_time" in fmt.columns else ())
        if fmt.id == "generic" or not ({"customer_id", "email"} & set(fmt.columns)):
            required += ("customer_id",)
        optional = tuple(role for role in fmt.columns if role not in required) + tuple(
            f"_status{n}" for n in range(len(fmt.leave_out))
        )
        wanted = dict(fmt.columns)
        for n, rule in enumerate(fmt.leave_out):
            wanted[f"_status{n}"] = rule.column
        return wanted, optional

    con = _connect()
    if path.suffix.lower() in (".csv", ".txt", ".parquet"):
        notes = list(reading.notes)
        with _opened(con, path, pick, reading) as opened:
            figures = _fast_orders(con, path, opened, chosen[0], reading)
        if figures is not None:
            return figures
        reading.notes[:], chosen[:] = notes, []  # read again, in full, to find and word what is wrong
    present, rows = _load(con, path, pick, reading)
    fmt = chosen[0]
    order_level = fmt.amount_is == "order"
    for n, rule in enumerate(fmt.leave_out):
        if f"_status{n}" not in present:
            reading.notes.append(f"{path.name}: no column {rule.column!r}, so no order could be left out as {rule.why}")
    per_row = "customer_id" in present and not (_has_fallback(fmt, present) or fmt.customer_optional)
    for column in ("order_id", "customer_id") if per_row else ("order_id",):
        _first_bad(con, rows, column, _blank(column), f"every row needs its {rows.name(column)}")
    amount, _currency = _amount(con, rows, "amount", reading)
    placed = _date(con, rows, "order_date", reading, fmt.date_format, "order_time" if "order_time" in present else None)
    dates = {
        typed: _date(con, rows, role, reading, fmt.date_format) if role in present else "NULL::TIMESTAMP"
        for role, typed in (("promised_date", "promised"), ("delivered_date", "delivered"))
    }
    extra = {
        role: _amount(con, rows, role, reading)[0] if role in present else "NULL::DOUBLE"
        for role in ("adjusted", "refunded")
    }
    _typed(
        con,
        f"TRIM(order_id) AS id, {_customer(present)} AS customer, {placed} AS placed, {amount} AS value, "
        f"{dates['promised']} AS promised, {dates['delivered']} AS delivered, "
        f"{extra['adjusted']} AS adjusted_value, {extra['refunded']} AS refunded_value, "
        f"{_left_out(fmt, present)} AS left_out, "
        f"{'NULLIF(TRIM(currency), ' + repr('') + ')' if 'currency' in present else 'NULL::VARCHAR'} AS currency",
    )
    if not order_level:
        _check_dates(con, rows, "order_date", "placed", required=True)
    else:
        _first_bad(
            con, rows, "order_date", f"NOT {_blank('order_date')} AND placed IS NULL", _not_a_date(rows, "order_date")
        )
    if not order_level:
        _first_bad(con, rows, "amount", "value IS NULL", "this is not a number")
    else:
        _first_bad(con, rows, "amount", f"NOT {_blank('amount')} AND value IS NULL", "this is not a number")
    lowest = "" if fmt.signed else " OR value < 0"
    _first_bad(con, rows, "amount", f"NOT isfinite(value){lowest}", "an amount must be 0 or more")
    for role in ("adjusted", "refunded"):
        if role in present:
            _first_bad(con, rows, role, f"NOT {_blank(role)} AND {role}_value IS NULL", "this is not a number")
    for column, typed in zip(OPTIONAL_ORDER_COLUMNS, ("promised", "delivered")):
        if column in present:
            _check_dates(con, rows, column, typed, required=False)
    _check_currencies(con, rows, "currency" in present)
    order_amount = "max(value)" if order_level else _exact_sum("value")
    con.execute(
        f"""
        CREATE TABLE orders AS
        SELECT id AS order_id, min(customer) AS customer_id, max(customer) AS other_customer,
               min(placed) AS placed, max(placed) AS last_placed, min(_row) AS first_row,
               strftime(min(placed), '%Y-%m') AS placed_month,
               COALESCE(max(adjusted_value), {order_amount}) - COALESCE(max(refunded_value), 0) AS amount,
               count(value) AS amounts,
               CAST(max(promised) AS DATE) AS promised, CAST(max(delivered) AS DATE) AS delivered,
               min(left_out) AS left_out
        FROM lines GROUP BY id
        """
    )
    if order_level:
        _first_order_without(con, rows, "placed IS NULL", "order_date", "a date")
        _first_order_without(con, rows, "amounts = 0", "amount", "an amount")
    if not per_row and not fmt.customer_optional:
        role = "customer_id" if "customer_id" in present else "email"
        _first_order_without(con, rows, "customer_id IS NULL", role, "a customer id or an e-mail")
    _check_orders(con, rows)
    _leave_out(con, rows, fmt, reading)
    return _figures(con, "delivered_date" in present)


EXACT_BELOW = 1_000_000_000
"""Amounts below this are added up exactly (see :func:`_exact_sum`)."""
_MILLIONTHS = 1_000_000


def _exact_sum(sql: str, *, below: bool = False) -> str:
    """SQL adding up the amounts ``sql`` exactly, to the millionth; an aggregate, like ``sum``.

    Added up as they come, amounts such as 69.55 + 76.85 + 78.60 give 224.99999999999997
    (binary numbers cannot hold most decimals), and that depends on the order of the rows:
    an average order value of exactly 75 would then fall below a threshold of 75. Each
    amount is taken instead as a whole number of millionths (exact for amounts below
    :data:`EXACT_BELOW`, and so is their sum up to 9e15 millionths); the total, divided
    back, is the number nearest to the exact sum. Larger amounts, and the infinities the
    one-pass reading uses as marks, are added up as they are. With ``below``, every finite
    amount is known to be below :data:`EXACT_BELOW`: one sum does it (and keeps the marks).
    """
    millionths = f"sum(round(({sql}) * {_MILLIONTHS}))"
    if below:
        return f"({millionths} / {_MILLIONTHS})"
    exact = f"abs({sql}) < {EXACT_BELOW}"
    return (
        f"(CASE WHEN count({sql}) > 0 THEN COALESCE({millionths} FILTER (WHERE {exact}), 0) / {_MILLIONTHS}"
        f" + COALESCE(sum({sql}) FILTER (WHERE NOT ({exact})), 0) END)"
    )


def _figures(con, delivered: bool) -> Monthly:
    """The monthly figures of table ``orders`` (one row per order, checked)."""
    return _as_monthly(_monthly_rows(con, delivered))


def _monthly_rows(con, delivered: bool, orders: str | None = None) -> list[tuple]:
    """Per month: the month, revenue, orders, customers, repeat customers, completed, deliveries,
    on time, and the orders without a customer; of table ``orders``, or of the query ``orders``
    (one row per order, in the table's columns)."""
    if delivered:
        # An order is completed in the month it was delivered; one pass counts those and, of
        # them, the deliveries with a promised date (a month without any has none, not 0).
        completions = """
        done AS (
            SELECT strftime(delivered, '%Y-%m') AS month, count(*) AS completed,
                   NULLIF(count(*) FILTER (WHERE promised IS NOT NULL), 0) AS deliveries,
                   count(*) FILTER (WHERE delivered <= promised) AS on_time
            FROM orders WHERE delivered IS NOT NULL GROUP BY 1
        )"""
        done = "d.completed, d.deliveries, CASE WHEN d.deliveries IS NOT NULL THEN d.on_time END"
    else:  # completed when placed; no deliveries
        completions = """
        done AS (
            SELECT placed_month AS month, count(*) AS completed FROM orders WHERE placed_month IS NOT NULL GROUP BY 1
        )"""
        done = "d.completed, NULL, NULL"
    source = f"orders AS MATERIALIZED ({orders})," if orders else ""
    return con.execute(
        f"""
        WITH {source}
        first_orders AS (
            SELECT customer_id, min(placed_month) AS first_month FROM orders
            WHERE customer_id IS NOT NULL GROUP BY customer_id
        ),
        customer_months AS (
            SELECT o.placed_month AS month, o.customer_id, count(*) AS orders, any_value(f.first_month) AS first_month
            FROM orders o JOIN first_orders f USING (customer_id) GROUP BY o.placed_month, o.customer_id
        ),
        placed AS (
            SELECT placed_month AS month, {_exact_sum("amount")} AS revenue, count(*) AS count,
                   count(*) FILTER (WHERE customer_id IS NULL) AS anonymous
            FROM orders GROUP BY 1
        ),
        customers AS (
            SELECT month, count(*) AS customers,
                   count(*) FILTER (WHERE first_month < month OR orders >= 2) AS repeat_customers
            FROM customer_months GROUP BY 1
        ),{completions}
        SELECT month, p.revenue, p.count, c.customers, c.repeat_customers, {done}, p.anonymous
        FROM placed p
        FULL JOIN customers c USING (month)
        FULL JOIN done d USING (month)
        ORDER BY month
        """
    ).fetchall()


def _as_monthly(rows: list[tuple]) -> Monthly:
    """The figures of :func:`_monthly_rows`."""
    names = ("revenue", "count", "customers", "repeat_customers", "completed", "deliveries", "on_time")
    # A month only gets the figures it has: no orders placed in a month leaves its revenue
    # unknown rather than 0 (which would read as a month without sales).
    return {
        month: {n: float(v) for n, v in zip(names, values, strict=True) if v is not None}
        for month, *values, _anonymous in rows
    }


def _format(kind: str, given: str | None, header: list[str], path: Path, reading: Reading) -> Format:
    """The format ``given`` (``--orders-format``/``--survey-format``), or the one the header row shows."""
    known = formats(kind)
    option = f"--{'orders' if kind == 'orders' else 'survey'}-format"
    if given is not None:
        if given not in known:
            raise ExportError(f"{option} must be one of {', '.join(known)}; got {given!r}")
        return known[given]
    found = detect(kind, header)
    if found is None:
        return known["generic"]  # the missing columns are named when they are looked for
    if found.id != "generic":
        reading.notes.append(
            f"{path.name}: read in the {found.name} format (found from its columns; {option} to choose)"
        )
    return found


def _has_fallback(fmt: Format, present: Mapping[str, str]) -> bool:
    """Whether the customer is a customer id with the e-mail to fall back on, or the e-mail alone."""
    return "email" in present or ("customer_id" in present and fmt.id != "generic")


def _customer(present: Mapping[str, str]) -> str:
    """SQL: who placed the order: the customer id (0 is a guest), else the e-mail without case; else NULL."""
    choices = []
    if "customer_id" in present:
        choices.append("NULLIF(NULLIF(TRIM(customer_id), ''), '0')")
    if "email" in present:
        choices.append("'e-mail ' || NULLIF(lower(TRIM(email)), '')")
    return f"COALESCE({', '.join(choices)})" if choices else "NULL::VARCHAR"


def _left_out(fmt: Format, present: Mapping[str, str]) -> str:
    """SQL: why a row's order is left out (cancelled, refunded, a test...), or NULL."""
    cases = []
    for n, rule in enumerate(fmt.leave_out):
        column = f"_status{n}"
        if column not in present:
            continue
        why = "'" + rule.why.replace("'", "''") + "'"
        if rule.any:
            cases.append(f"WHEN NOT {_blank(column)} THEN {why}")
        else:
            values = ", ".join("'" + v.replace("'", "''") + "'" for v in rule.values)
            cases.append(f"WHEN lower(TRIM({column})) IN ({values}) THEN {why}")
    return f"CASE {' '.join(cases)} END" if cases else "NULL::VARCHAR"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _check_currencies(con, rows: _Rows, present: bool) -> None:
    if not present:
        return
    query = "SELECT DISTINCT currency FROM lines WHERE currency IS NOT NULL ORDER BY 1"
    found = [c for (c,) in con.execute(query).fetchall()]
    if len(found) > 1:
        raise ExportError(
            f"{rows}, column {rows.name('currency')}: the orders are in {len(found)} currencies "
            f"({', '.join(found)}); a workbook counts one currency: export each currency to its own file"
        )


def _first_order_without(con, rows: _Rows, condition: str, column: str, what: str) -> None:
    bad = con.execute(f"SELECT order_id, first_row FROM orders WHERE {condition} ORDER BY first_row LIMIT 1").fetchone()
    if bad:
        raise ExportError(
            f"{rows}, row {rows.row(bad[1])}, column {rows.name(column)}: "
            f"order {bad[0]!r} has {what} on none of its rows"
        )


def _leave_out(con, rows: _Rows, fmt: Format, reading: Reading) -> None:
    """Take the orders a platform marks as cancelled, refunded or tests out of table ``orders``, and say so."""
    if fmt.signed:
        con.execute("UPDATE orders SET left_out = 'refunded in full' WHERE left_out IS NULL AND amount <= 0")
    if fmt.amount_is == "order" and "adjusted" in fmt.columns:
        con.execute("UPDATE orders SET left_out = 'refunded in full' WHERE left_out IS NULL AND amount <= 0")
    counts = con.execute(
        "SELECT left_out, count(*) FROM orders WHERE left_out IS NOT NULL GROUP BY 1 ORDER BY 1"
    ).fetchall()
    if counts:
        total = sum(n for _, n in counts)
        reasons = ", ".join(f"{n} {why}" for why, n in counts)
        reading.notes.append(f"{rows.path.name}: {_plural(total, 'order')} left out of every figure ({reasons})")
        con.execute("DELETE FROM orders WHERE left_out IS NOT NULL")
    (anonymous,) = con.execute("SELECT count(*) FROM orders WHERE customer_id IS NULL").fetchone()
    if anonymous:
        reading.notes.append(
            f"{rows.path.name}: {_plural(anonymous, 'order')} without a customer id or e-mail: "
            "counted in revenue and orders, not in customers"
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


_NOT_QUESTIONS = {
    "#", "Start Date (UTC)", "Submit Date (UTC)", "Stage Date (UTC)", "Network ID", "Response Type", "Tags", "Ending",
    "Email Address", "Score",
}  # fmt: skip
"""Columns a survey tool adds beside the questions (Typeform's, Google Forms' e-mail and quiz score)."""
_ANSWER = "^(10|[0-9])$"


def monthly_survey(
    path: Path,
    scale: str | None = None,
    columns: Mapping[str, str] | None = None,
    *,
    survey_format: str | None = None,
    question: str | None = None,
    reading: Reading | None = None,
) -> Monthly:
    """The survey figures per month of raw answers (a date and a score per row).

    ``scale``: "1-5", "1-10" or "0-10"; ``None`` is 1-5 for nichekpi's own columns, and
    for a survey tool's file is read from the answers (asked when 1-10 and 0-10 both fit).
    ``question``: the question's column in a survey tool's file (its text, the start of
    its text, a column letter or a number).
    """
    if scale is not None and scale not in SCALES:
        raise ExportError(f"the survey scale must be one of {', '.join(SCALES)}; got {scale!r}")
    reading = reading if reading is not None else Reading()
    chosen: list[tuple[Format, list[str]]] = []

    def pick(header: list[str]) -> tuple[Mapping[str, str], tuple[str, ...]]:
        fmt = _format("survey", survey_format, header, path, reading).with_columns(dict(columns or {}))
        chosen.append((fmt, header))
        if "score" in fmt.columns and question is None:
            return dict(fmt.columns), ()
        date = fmt.columns["date"]
        if question is not None:
            return {"date": date, "score": _question(header, question, path, date)}, ()
        others = {f"q{n}": column for n, column in enumerate(header) if column != date and column not in _NOT_QUESTIONS}
        return {"date": date, **others}, ()

    con = _connect()
    present, lines = _load(con, path, pick, reading)
    if "score" not in present:
        _choose_question(con, lines, present, path, reading)
    answered = _date(con, lines, "date", reading)
    _typed(con, f"{answered} AS answered, {_number('score')} AS value")
    _check_dates(con, lines, "date", "answered", required=True)
    given = "NOT " + _blank("score")
    _first_bad(con, lines, "score", f"{given} AND value IS NULL", "this is not a number")
    scale = scale or ("1-5" if chosen[0][0].id == "generic" else _scale(con, lines, given, path, reading))
    low, high, satisfied_from = SCALES[scale]
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


def _question(header: list[str], question: str, path: Path, date: str) -> str:
    """The column ``--survey-question`` names: its text, the start of it, its letter or its number."""
    text = question.strip()
    questions = [c for c in header if c != date and c not in _NOT_QUESTIONS]
    if text.isdigit() and 1 <= int(text) <= len(header):
        return header[int(text) - 1]
    if re.fullmatch(r"[A-Za-z]{1,3}", text):
        number = 0
        for letter in text.upper():
            number = number * 26 + ord(letter) - 64
        if number <= len(header):
            return header[number - 1]
    for match in (lambda c: c == text, lambda c: c.casefold() == text.casefold()):
        found = [c for c in header if match(c)]
        if len(found) == 1:
            return found[0]
    found = [c for c in questions if c.casefold().startswith(text.casefold())]
    if len(found) == 1:
        return found[0]
    listed = "; ".join(repr(c) for c in (found or questions))
    what = f"{len(found)} questions start with" if found else "no question is"
    raise ExportError(f"{path}: {what} {question!r} (--survey-question); the questions: {listed}")


def _choose_question(con, lines: _Rows, present: dict[str, str], path: Path, reading: Reading) -> None:
    """Without ``--survey-question``: the one question whose answers are all whole numbers from 0 to 10."""
    questions = [role for role in present if role.startswith("q")]
    counts = (
        con.execute(
            "SELECT "
            + ", ".join(
                f"count(*) FILTER (WHERE NOT {_blank(q)}), "
                f"count(*) FILTER (WHERE NOT {_blank(q)} AND NOT regexp_full_match(TRIM({q}), '{_ANSWER}'))"
                for q in questions
            )
            + " FROM lines"
        ).fetchone()
        if questions
        else ()
    )
    scores = [q for n, q in enumerate(questions) if counts[2 * n] and not counts[2 * n + 1]]
    if len(scores) != 1:
        listed = "; ".join(repr(present[q]) for q in (scores or questions))
        what = f"{len(scores)} questions have" if scores else "no question has"
        raise ExportError(
            f"{path}: {what} answers that are all whole numbers from 0 to 10; "
            f'say which one to count with --survey-question "the question" (or its column letter); '
            f"the questions: {listed}"
        )
    con.execute(f"ALTER TABLE raw_lines RENAME COLUMN {scores[0]} TO score")
    present["score"] = present.pop(scores[0])
    reading.notes.append(f"{path.name}: counted the answers to {present['score']!r} (--survey-question to choose)")


def _scale(con, lines: _Rows, given: str, path: Path, reading: Reading) -> str:
    """The scale the answers show: 0 to 10 when a 0 is there, 1 to 5 when none passes 5; else ask."""
    low, high = con.execute(f"SELECT min(value), max(value) FROM lines WHERE {given}").fetchone()
    if low is None:
        return "1-5"
    if low == 0:
        scale = "0-10"
    elif high <= 5:
        scale = "1-5"
    else:
        raise ExportError(
            f"{path}, column {lines.name('score')}: the answers go from {low:g} to {high:g}, "
            "which fits a 1-10 scale and a 0-10 (recommend) scale; say which with --survey-scale 1-10 or 0-10"
        )
    reading.notes.append(
        f"{path.name}: answers from {low:g} to {high:g}, read on a {scale} scale (--survey-scale to say otherwise)"
    )
    return scale


# -- a table of monthly inputs ------------------------------------------------------------------


def read_table(path: Path, reading: Reading | None = None) -> tuple[list[str], list[tuple[int, list[object]]]]:
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
        if source.encoding != "UTF-8" and reading is not None:
            reading.notes.append(f"{path.name}: read as {source.encoding} text")
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


def table_decimals(
    path: Path, header: list[str], rows: list[tuple[int, list[object]]], columns: set[str], reading: Reading
) -> dict[str, str | None]:
    """The decimal separator of each of ``columns`` of a table, found from all its values (or ``--decimal``)."""
    found: dict[str, str | None] = {}
    for position, column in enumerate(header):
        if column not in columns:
            continue
        texts = [(n, r[position]) for n, r in rows if position < len(r) and isinstance(r[position], str)]
        try:
            decision = decide_decimal_values(texts, reading.decimal, column)
        except DialectError as error:
            raise ExportError(f"{path}: {error}") from None
        found[column] = decision.decimal
        if decision.decimal == "," and reading.decimal is None and texts:
            reading.notes.append(f"{path.name}: column {column} read with a decimal comma")
    return found


def parse_number(value: object, where: str, decimal: str | None = None) -> float | None:
    """A number from a table cell: ``None`` when blank, an error for text (formulas are text too).

    Text is read with ``decimal`` as its decimal separator (see :mod:`nichekpi._dialect`):
    ``1.165,00`` with ",", ``1,165.00`` or ``514.5`` with "." or ``None``.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ExportError(f"{where}: this is not a number; got {show(value)}")
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = str(value).strip()
        if _NUMBER_TEXT.fullmatch(text) and decimal != ",":
            number = float(text)
        else:
            parsed = parse_money(text, decimal or ".")
            if parsed is None:
                raise ExportError(f"{where}: this is not a number; got {show(value)}")
            number = parsed
    if not math.isfinite(number):
        raise ExportError(f"{where}: this is not a finite number; got {show(value)}")
    return number
