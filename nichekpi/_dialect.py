"""How a shop's file writes its numbers and dates, decided for a whole column at once.

A French or Spanish Excel writes ``1.165,00`` and ``31/01/2026``; an American one
``1,165.00`` and ``01/31/2026``; a shop platform may add ``$`` or ``EUR``. One value
alone can be read two ways (``1,234``; ``03/04/2026``), so the reading is chosen for
the column: the one that fits every value. When both fit and they disagree on some
value, nothing is guessed: the message names the column, a row and the option that
settles it (``--decimal``, ``--date-format``).

Each rule is written once, as a regular expression that both Python's ``re`` and
DuckDB's RE2 read, and used both on DuckDB's columns (order and survey exports) and on
Python's values (the small inputs table).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nichekpi._formula import NUMBER_TEXT

DECIMALS = {".": "a point", ",": "a comma"}
"""The decimal separators ``--decimal`` takes."""

DATE_FORMATS = ("yyyy-mm-dd", "dd/mm/yyyy", "mm/dd/yyyy")
"""The date orders ``--date-format`` takes; ``/`` stands for any of ``/ . -``."""

_SPACES = " \u00a0\u202f"  # a space, a no-break space and a narrow no-break space (French thousands)
SYMBOL = r"[A-Z]{3}|[A-Z]{0,2}\$|€|£|¥"
"""A currency: an ISO code (``EUR``) or a symbol (``$``, ``US$``, ``€``, ``£``, ``¥``)."""
_DIGITS = rf"[0-9]+(?:[.,][0-9]{{3}})*(?:[.,][0-9]+)?|[0-9]{{1,3}}(?:[{_SPACES}][0-9]{{3}})+(?:[.,][0-9]+)?"
MONEY = rf"^-?[{_SPACES}]*(?:({SYMBOL})[{_SPACES}]*)?-?(?:{_DIGITS})(?:[{_SPACES}]*({SYMBOL}))?$"
"""A number as a person or a shop writes it: a sign, a currency before or after, separators."""
POINT = r"^-?(?:[1-9][0-9]{0,2}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?$"
"""Once currency and spaces are gone: a decimal point and thousands commas (``1,165.00``)."""
COMMA = r"^-?(?:[1-9][0-9]{0,2}(?:\.[0-9]{3})+|[0-9]+)(?:,[0-9]+)?$"
"""Once currency and spaces are gone: a decimal comma and thousands points (``1.165,00``)."""
_KEEP = r"[^0-9.,-]"  # what is taken out of a money text before its separators are read

_TIME = r"(?:[ T,]+([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]+)?)?[ ]*([AaPp][Mm])?)?"
_ZONE = r"(?:[ ]*(?:Z|[+-][0-9]{2}:?[0-9]{2}|(?:GMT|UTC)(?:[+-][0-9]{1,2}(?::?[0-9]{2})?)?|[A-Z]{3,4}))?"
DAY_FIRST_OR_MONTH_FIRST = rf"^([0-9]{{1,2}})[/.-]([0-9]{{1,2}})[/.-]([0-9]{{4}}|[0-9]{{2}}){_TIME}{_ZONE}$"
"""``31/01/2026`` or ``01/31/2026`` (also with ``.`` or ``-``, a two-digit year, a time, a zone)."""
YEAR_FIRST = rf"^([0-9]{{4}})[/.]([0-9]{{1,2}})[/.]([0-9]{{1,2}}){_TIME}{_ZONE}$"
"""``2026/01/31 10:23:45 AM GMT+1``, as Google Forms writes its timestamps."""


class DialectError(ValueError):
    """A column that cannot be read one way only; the caller adds the file and row."""


@dataclass(frozen=True)
class NumberColumn:
    """What a column of amounts holds: its decimal separator and its one currency (or none)."""

    decimal: str
    currency: str | None


def _sql(text: str) -> str:
    return text.replace("'", "''")


# -- numbers ---------------------------------------------------------------------------------


PLAIN = r"^ *-?[0-9]+(\.[0-9]{1,2})? *$"
"""A number with at most two decimals after a point (``514.5``, ``1165.00``): one reading only,
since a thousands point is followed by three digits. Most exports write every amount so."""


def plain_facts_sql(column: str) -> str:
    """SQL: how many values of ``column`` are neither blank nor :data:`PLAIN` (0: read them at once)."""
    return (
        f"count(*) FILTER (WHERE {column} IS NOT NULL AND NOT regexp_full_match({column}, '{PLAIN}') "
        f"AND TRIM({column}) <> '')"
    )


def plain_sql(column: str) -> str:
    """SQL: the number in ``column`` when every value is :data:`PLAIN` or blank."""
    return f"TRY_CAST(NULLIF(TRIM({column}), '') AS DOUBLE)"


def number_facts_sql(column: str) -> str:
    """SQL aggregates over ``column`` (text) for :func:`decide_decimal`."""
    text = f"TRIM({column})"
    shaped = f"regexp_full_match({text}, '{_sql(MONEY)}')"
    bare = f"regexp_replace({text}, '{_KEEP}', '', 'g')"
    point, comma = f"regexp_full_match({bare}, '{POINT}')", f"regexp_full_match({bare}, '{COMMA}')"
    separated = f"({bare} LIKE '%,%' OR {bare} LIKE '%.%')"
    symbol = f"COALESCE(NULLIF(regexp_extract({text}, '({SYMBOL})', 1), ''), '')"
    given = f"{column} IS NOT NULL AND {text} <> '' AND {shaped}"
    return (
        f"count(*) FILTER (WHERE {given}), "
        f"count(*) FILTER (WHERE {given} AND ({point} OR regexp_full_match({text}, '{NUMBER_TEXT.pattern}'))), "
        f"count(*) FILTER (WHERE {given} AND {comma}), "
        f"min(_row) FILTER (WHERE {given} AND {point} AND {comma} AND {separated}), "
        f"list(DISTINCT {symbol}) FILTER (WHERE {given})"
    )


def decide_decimal(facts: tuple, given: str | None, column: str, example: str | None = None) -> NumberColumn:
    """The column's decimal separator from :func:`number_facts_sql`'s answer (or the ``--decimal`` given).

    Raises :class:`DialectError` when both readings fit every value and differ on some,
    or when the column mixes currencies.
    """
    shaped, point, comma, ambiguous_row, symbols = facts
    symbols = sorted(s for s in (symbols or []) if s)
    if len(symbols) > 1:
        raise DialectError(
            f"column {column} has amounts in {len(symbols)} currencies ({', '.join(symbols)}); "
            "a workbook counts one currency: export each currency to its own file"
        )
    currency = symbols[0] if symbols else None
    if given is not None:
        return NumberColumn(given, currency)
    if point == shaped and comma < shaped:
        return NumberColumn(".", currency)
    if comma == shaped and point < shaped:
        return NumberColumn(",", currency)
    if point == shaped and comma == shaped and ambiguous_row is not None:
        raise DialectError(
            f"column {column}: numbers such as {example or 'this one'} (row {ambiguous_row}) read two ways, "
            "with a decimal point or a thousands separator, and every number in the column fits both; "
            "say which with --decimal . (1,234 is one thousand two hundred thirty-four) "
            "or --decimal , (1,234 is one point two three four)"
        )
    return NumberColumn("." if point >= comma else ",", currency)


def number_sql(column: str, decimal: str) -> str:
    """SQL: the number in ``column`` read with ``decimal`` as its decimal separator, or NULL."""
    text = f"TRIM({column})"
    bare = f"regexp_replace({text}, '{_KEEP}', '', 'g')"
    if decimal == ".":
        plain = f"regexp_full_match({text}, '{NUMBER_TEXT.pattern}')"
        fitting = f"regexp_full_match({bare}, '{POINT}')"
        digits = f"replace({bare}, ',', '')"
    else:
        plain = "false"
        fitting = f"regexp_full_match({bare}, '{COMMA}')"
        digits = f"replace(replace({bare}, '.', ''), ',', '.')"
    shaped = f"regexp_full_match({text}, '{_sql(MONEY)}')"
    return (
        f"CASE WHEN {plain} THEN TRY_CAST({text} AS DOUBLE) "
        f"WHEN {shaped} AND {fitting} THEN TRY_CAST({digits} AS DOUBLE) END"
    )


def parse_money(text: str, decimal: str | None) -> float | None:
    """Python's reading of one value, as :func:`number_sql` reads it; ``None`` when it is not a number."""
    text = text.strip()
    if (decimal in (None, ".")) and NUMBER_TEXT.fullmatch(text):
        return float(text)
    if not re.fullmatch(MONEY, text):
        return None
    bare = re.sub(_KEEP, "", text)
    if decimal in (None, ".") and re.fullmatch(POINT, bare):
        return float(bare.replace(",", ""))
    if decimal in (None, ",") and re.fullmatch(COMMA, bare):
        return float(bare.replace(".", "").replace(",", "."))
    return None


def decide_decimal_values(values: list[tuple[int, str]], given: str | None, column: str) -> NumberColumn:
    """:func:`decide_decimal` for a column held in Python: ``(row, text)`` pairs."""
    shaped = point = comma = 0
    ambiguous, example, symbols = None, None, set()
    for row, text in values:
        text = text.strip()
        if not text or not re.fullmatch(MONEY, text):
            continue
        shaped += 1
        bare = re.sub(_KEEP, "", text)
        fits_point = bool(re.fullmatch(POINT, bare) or NUMBER_TEXT.fullmatch(text))
        fits_comma = bool(re.fullmatch(COMMA, bare))
        point, comma = point + fits_point, comma + fits_comma
        if fits_point and fits_comma and ("," in bare or "." in bare) and ambiguous is None:
            ambiguous, example = row, text
        symbol = re.search(f"({SYMBOL})", text)
        if symbol:
            symbols.add(symbol.group(1))
    return decide_decimal((shaped, point, comma, ambiguous, sorted(symbols)), given, column, example)


# -- dates -----------------------------------------------------------------------------------


def date_facts_sql(column: str) -> str:
    """SQL aggregates over ``column`` (text) for :func:`decide_date_format`."""
    text = f"TRIM({column})"
    first = f"TRY_CAST(regexp_extract({text}, '{DAY_FIRST_OR_MONTH_FIRST}', 1) AS INTEGER)"
    second = f"TRY_CAST(regexp_extract({text}, '{DAY_FIRST_OR_MONTH_FIRST}', 2) AS INTEGER)"
    slashed = f"regexp_full_match({text}, '{DAY_FIRST_OR_MONTH_FIRST}')"
    return (
        f"count(*) FILTER (WHERE {slashed}), max({first}) FILTER (WHERE {slashed}), "
        f"max({second}) FILTER (WHERE {slashed}), "
        f"min(_row) FILTER (WHERE {slashed} AND {first} <> {second} AND {first} <= 12 AND {second} <= 12), "
        f"arg_min({text}, _row) FILTER (WHERE {slashed} AND {first} <> {second} AND {first} <= 12 AND {second} <= 12), "
        f"min(_row) FILTER (WHERE {slashed} AND {first} > 12), "
        f"min(_row) FILTER (WHERE {slashed} AND {second} > 12)"
    )


def decide_date_format(facts: tuple, given: str | None, default: str | None, column: str) -> str:
    """``"dd/mm/yyyy"`` or ``"mm/dd/yyyy"`` for the column's day-and-month dates (``yyyy-mm-dd`` without any).

    ``given`` is ``--date-format``; ``default`` the order a platform documents. Raises
    :class:`DialectError` when both orders fit every date and differ on one, or when none fits.
    """
    slashed, high_first, high_second, both_row, both_text, day_first_row, month_first_row = facts
    if given is not None:
        return given
    if not slashed:
        return "yyyy-mm-dd"
    day_first = (high_second or 0) <= 12  # the month is second
    month_first = (high_first or 0) <= 12
    if day_first and month_first:
        if both_row is None:
            return default or "dd/mm/yyyy"  # day and month are the same number in every date
        if default:
            return default
        raise DialectError(
            f"column {column}: every date reads both ways, such as {both_text} (row {both_row}), "
            "day first or month first; say which with --date-format dd/mm/yyyy or --date-format mm/dd/yyyy"
        )
    if day_first:
        return "dd/mm/yyyy"
    if month_first:
        return "mm/dd/yyyy"
    raise DialectError(
        f"column {column}: row {day_first_row} has a date with the day first and row {month_first_row} one "
        "with the month first; a column keeps one order: correct one of them"
    )


def _hour(hour: str, half: str) -> str:
    return f"(CAST({hour} AS INTEGER) % 12 + CASE WHEN upper({half}) = 'PM' THEN 12 ELSE 0 END)"


def date_sql(column: str, date_format: str, iso: str) -> str:
    """SQL: the local date and time in ``column`` (its zone left aside) read in ``date_format``, or NULL.

    ``iso``: the SQL that reads ISO dates (``2026-01-31``, with a time and offset), which
    every format also accepts.
    """
    text = f"TRIM({column})"

    def part(pattern: str, group: int) -> str:
        return f"regexp_extract({text}, '{pattern}', {group})"

    def stamp(pattern: str, year: str, month: str, day: str) -> str:
        hour, minute, second, half = (part(pattern, n) for n in (4, 5, 6, 7))
        hours = f"CASE WHEN {half} <> '' THEN {_hour(hour, half)} ELSE TRY_CAST(NULLIF({hour}, '') AS INTEGER) END"
        return (
            f"try(make_timestamp({year}, CAST({month} AS INTEGER), CAST({day} AS INTEGER), "
            f"COALESCE({hours}, 0), COALESCE(TRY_CAST(NULLIF({minute}, '') AS INTEGER), 0), "
            f"COALESCE(TRY_CAST(NULLIF({second}, '') AS DOUBLE), 0)))"
        )

    slashed = DAY_FIRST_OR_MONTH_FIRST
    year = part(slashed, 3)
    # A two-digit year as Excel reads it: 00 to 29 are 2000 to 2029, 30 to 99 are 1930 to 1999.
    two = f"CAST({year} AS INTEGER)"
    full_year = (
        f"(CASE WHEN length({year}) = 2 THEN {two} + CASE WHEN {two} < 30 THEN 2000 ELSE 1900 END "
        f"ELSE CAST({year} AS INTEGER) END)"
    )
    day, month = (1, 2) if date_format == "dd/mm/yyyy" else (2, 1)
    other = f"regexp_full_match({text}, '{slashed}')"
    cases = f"WHEN {other} THEN {stamp(slashed, full_year, part(slashed, month), part(slashed, day))} "
    if date_format == "yyyy-mm-dd":
        cases = ""
    google = stamp(YEAR_FIRST, f"CAST({part(YEAR_FIRST, 1)} AS INTEGER)", part(YEAR_FIRST, 2), part(YEAR_FIRST, 3))
    return (
        f"CASE WHEN regexp_matches({text}, '^[0-9]{{4}}-') THEN {iso} "  # the common ISO date, tested first
        f"{cases}WHEN regexp_full_match({text}, '{YEAR_FIRST}') THEN {google} ELSE {iso} END"
    )
