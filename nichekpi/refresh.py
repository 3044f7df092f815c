"""The monthly refresh: fill a template's inputs from the business's own files, losing nothing.

The workbook says what it needs through its names: ``business_type`` (which catalog
entry it was built from), ``months`` (its twelve month headers) and
``in_<kpi>_<input>`` (each input's twelve cells). Values come from a table of monthly
inputs, an order export and survey answers (see :mod:`nichekpi.exports`); a value
typed in the inputs table wins over one computed from an export. Every KPI's rules are
checked on the merged values of each month (more satisfied customers from the inputs
table than responses from the survey is refused, naming both files), and again on the
values to be written together with those already in the workbook for the same KPI and
month. The workbook is then
edited as a package (:mod:`nichekpi.package`), through a temporary file, with the
previous version kept as a backup.

A refresh is a transaction: :func:`transaction` holds an exclusive lock of refresh's
own (on ``.NAME.nichekpi-lock`` beside the real file, with ``flock``; the file is removed
when the refresh ends) from reading the
workbook to replacing it, so a second refresh waits for the first, then reads what the
first wrote. A workbook that is a symbolic link is followed: the real file is replaced
and the link stays. Temporary files are flushed to disk before the atomic replace; a
run killed outright leaves at most a temporary file ``.NAME.XXXXXXXX.tmp``, which the
next refresh removes while it holds the lock.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from nichekpi._files import exclusive, remove_stale_temporaries, replacing
from nichekpi.catalog import Business, Catalog, default_catalog
from nichekpi.errors import KpiError, KpiInputError
from nichekpi.exports import (
    MONTH,
    ExportError,
    Monthly,
    Reading,
    monthly_orders,
    monthly_survey,
    parse_month,
    parse_number,
    read_table,
    table_decimals,
)
from nichekpi.package import Package, PackageError, cells_of_range

LOCK_WAIT = 30.0  #: seconds a refresh waits for another refresh of the same workbook


class RefreshError(KpiError):
    """A refresh that cannot go ahead; the workbook is left untouched."""


@dataclass(frozen=True)
class Change:
    month: str
    name: str  #: the input's name in the workbook, ``in_<kpi>_<input>``
    cell: str
    old: object
    new: float
    source: str  #: the file the value came from


@dataclass
class Plan:
    """What a refresh would write, and what it could not fill."""

    workbook: Path
    business: Business
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0  #: values that were already in the workbook
    unfilled: list[str] = field(default_factory=list)  #: KPIs that no file gave any input for
    outside: list[str] = field(default_factory=list)  #: months of the files that the workbook does not have
    skipped: list[str] = field(default_factory=list)  #: input cells left alone because they hold a formula
    incomplete: list[str] = field(default_factory=list)  #: KPI months with some inputs but not all
    notes: list[str] = field(default_factory=list)  #: how the files were read (format, separators, left out)


def lock_files(workbook: Path) -> list[Path]:
    """Lock files that Excel (``~$name``) or LibreOffice (``.~lock.name#``) keep beside an open workbook."""
    name = workbook.name
    candidates = [f"~${name}", f"~${name[2:]}", f".~lock.{name}#"]
    return [workbook.with_name(c) for c in candidates if workbook.with_name(c).exists()]


def parse_months(text: str | None) -> tuple[str, str] | None:
    """``"2026-01..2026-06"`` (or one month) as the first and last month."""
    if not text:
        return None
    first, _, last = text.partition("..")
    last = last or first
    for value in (first, last):
        if not MONTH.match(value.strip()):
            raise RefreshError(f"--months must look like 2026-01..2026-06; got {text!r}")
    if first.strip() > last.strip():
        raise RefreshError(f"--months must run forward in time; got {text!r}")
    return first.strip(), last.strip()


def plan(
    workbook: Path,
    *,
    inputs: Path | None = None,
    orders: Path | None = None,
    survey: Path | None = None,
    months: str | None = None,
    order_columns: Mapping[str, str] | None = None,
    survey_columns: Mapping[str, str] | None = None,
    survey_scale: str | None = None,
    catalog: Catalog | None = None,
    overwrite_formulas: bool = False,
    orders_format: str | None = None,
    survey_format: str | None = None,
    survey_question: str | None = None,
    decimal: str | None = None,
    date_format: str | None = None,
) -> Plan:
    """Read everything and work out the changes; nothing is written.

    An input cell that holds a formula is left alone (and listed in ``skipped``) unless
    ``overwrite_formulas`` is true. A file with no month of the workbook's year is an
    error; a KPI month that gets some of its inputs but not all is listed in ``incomplete``.
    """
    if not (inputs or orders or survey):
        raise RefreshError("give at least one of --inputs, --orders or --survey")
    window = parse_months(months)
    locks = lock_files(workbook)
    if locks:
        raise RefreshError(f"{workbook} is open in Excel or LibreOffice ({locks[0].name} exists): close it first")
    if not workbook.is_file():
        raise RefreshError(f"{workbook}: no such file")
    with Package(workbook) as package:
        if "business_type" not in package.names:
            raise RefreshError(f"{workbook}: not a nichekpi template (it has no business_type name)")
        business_id = _business_id(package)
        if not business_id:
            where = package.names["business_type"]
            raise RefreshError(
                f"{workbook}: the business_type name ({where}) gives no business type; is it a nichekpi template?"
            )
        business = (catalog or default_catalog()).business(business_id)
        column_of_month = _months(package)
        cells: dict[str, tuple[str, list[str]]] = {}
        for kpi in business.kpis:
            for item in kpi.inputs:
                name = f"in_{kpi.id}_{item.id}"
                cells[name] = _range(package, name)
                if len(cells[name][1]) < len(column_of_month):
                    sheet, references = cells[name]
                    raise RefreshError(
                        f"{workbook}: the name {name} covers {len(references)} cells ({sheet}!{references[0]}:"
                        f"{references[-1]}) but the workbook has {len(column_of_month)} months; "
                        f"make it cover the whole row of months again (Formulas > Name Manager)"
                    )

        found: dict[tuple[str, str], tuple[float, str]] = {}  # (name, month) -> (value, source)
        reading = Reading(decimal, date_format)
        year = sorted(column_of_month)
        if orders:
            monthly = monthly_orders(orders, order_columns, orders_format=orders_format, reading=reading)
            _in_the_year(orders, monthly, year)
            _from_export(found, business, "orders", monthly, orders)
        if survey:
            monthly = monthly_survey(
                survey, survey_scale, survey_columns, survey_format=survey_format, question=survey_question,
                reading=reading,
            )  # fmt: skip
            _in_the_year(survey, monthly, year)
            _from_export(found, business, "survey", monthly, survey)
        if inputs:
            table = _from_table(business, inputs, reading)
            _in_the_year(inputs, {month for _, month in table}, year)
            found.update(table)
        _check_rules(business, found)

        result = Plan(workbook, business, notes=reading.notes)
        outside = set()
        old_values: dict[tuple[str, str], object] = {}
        formulas: dict[tuple[str, str], str] = {}
        for (name, month), (value, source) in sorted(found.items(), key=lambda item: (item[0][1], item[0][0])):
            if window and not window[0] <= month <= window[1]:
                continue
            if month not in column_of_month:
                outside.add(month)
                continue
            sheet, references = cells[name]
            cell = references[column_of_month[month]]
            if (sheet, cell) not in old_values:
                old_values.update({(sheet, c): v for c, v in package.values(sheet, references).items()})
                formulas.update({(sheet, c): f for c, f in package.formulas(sheet, references).items()})
            old = old_values[(sheet, cell)]
            if (sheet, cell) in formulas and not overwrite_formulas:
                formula = f" (={formulas[(sheet, cell)]})" if formulas[(sheet, cell)] else ""
                result.skipped.append(
                    f"{sheet}!{cell} ({name}, {month}) holds a formula{formula}: left as it is, "
                    f"not {_number(value)} from {source.name}; give --overwrite-formulas to replace it"
                )
                continue
            if isinstance(old, float) and old == value and (sheet, cell) not in formulas:
                result.unchanged += 1
                continue
            result.changes.append(Change(month, name, f"{sheet}!{cell}", old, value, source.name))
        _check_with_workbook(
            business,
            result.changes,
            found,
            lambda name, month: package.values(cells[name][0], [cells[name][1][column_of_month[month]]]).popitem()[1],
        )
        result.incomplete = _incomplete(business, found, window, column_of_month, package, cells)
    given = {name for name, _ in found}
    result.unfilled = [k.id for k in business.kpis if not any(f"in_{k.id}_{i.id}" in given for i in k.inputs)]
    result.outside = sorted(outside)
    return result


_held: set[Path] = set()  # real paths whose lock this process holds


def real_path(workbook: Path) -> Path:
    """The file a refresh replaces: ``workbook`` itself, or the file its symbolic link points to."""
    try:
        return workbook.resolve(strict=True)
    except (OSError, RuntimeError):
        raise RefreshError(f"{workbook}: no such file") from None


@contextlib.contextmanager
def transaction(workbook: Path, *, wait: float = LOCK_WAIT) -> Iterator[None]:
    """Hold refresh's own lock on the workbook, for a :func:`plan` and :func:`apply` in one piece.

    A second refresh of the same file waits up to ``wait`` seconds, then is refused.
    While the lock is held, temporary files left by a killed refresh are removed.
    """
    try:
        real = workbook.resolve(strict=True)
    except (OSError, RuntimeError):  # no such file: plan() says so
        real = None
    if real is None or real in _held or not real.is_file():
        yield
        return
    stack = contextlib.ExitStack()
    try:
        stack.enter_context(exclusive(real, wait=wait))
        remove_stale_temporaries(real)
        remove_stale_temporaries(_backup_of(real))
    except TimeoutError:
        stack.close()
        raise RefreshError(
            f"{workbook}: another nichekpi refresh of this workbook has been running for {wait:g} seconds; "
            "try again when it has finished"
        ) from None
    except OSError as error:
        stack.close()
        if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise RefreshError(
                f"{real.parent}: the folder is read-only; nichekpi cannot write the workbook there"
            ) from None
        raise RefreshError(f"{real.parent}: cannot lock the workbook there ({error.strerror or error})") from None
    with stack:
        _held.add(real)
        try:
            yield
        finally:
            _held.discard(real)


def apply(result: Plan, *, wait: float = LOCK_WAIT) -> Path | None:
    """Write the planned changes; returns the backup of the previous version (``None`` if nothing changed).

    The workbook is re-read under the lock, so changes made meanwhile are kept. On any
    failure the workbook (and its backup) are left as they were and no temporary file stays.
    """
    if not result.changes:
        return None
    with transaction(result.workbook, wait=wait):
        real = real_path(result.workbook)
        if not real.stat().st_mode & 0o200:
            raise RefreshError(f"{result.workbook} is read-only: make it writable first (its Properties, or chmod u+w)")
        if not os.access(real.parent, os.W_OK):
            raise RefreshError(f"{real.parent}: the folder is read-only; nichekpi cannot write the workbook there")
        numbers = {}
        for change in result.changes:
            sheet, _, cell = change.cell.rpartition("!")
            numbers[(sheet, cell)] = change.new
        backup = _backup_of(real)

        def still_closed() -> None:
            if lock_files(result.workbook) or lock_files(real):
                raise RefreshError(f"{result.workbook} was opened in Excel or LibreOffice meanwhile: close it first")

        still_closed()
        try:
            with Package(real) as package:
                header = package.names.get("months")
                keep = (
                    frozenset((cells_of_range(header)[0], c) for c in cells_of_range(header)[1])
                    if header
                    else frozenset()
                )
                with replacing(real, before_replace=still_closed) as temporary:
                    with temporary.open("wb") as file:
                        package.write(numbers, file, keep=keep)
                    with replacing(backup) as copy:
                        shutil.copyfile(real, copy)
        except OSError as error:
            reason = (
                "the disk is full" if error.errno in (errno.ENOSPC, errno.EDQUOT) else (error.strerror or str(error))
            )
            raise RefreshError(f"{result.workbook}: could not write it: {reason}") from None
    return backup if result.workbook.is_symlink() else _backup_of(result.workbook)


def _backup_of(real: Path) -> Path:
    return real.with_name(f"{real.stem}.bak{real.suffix}")


def _months(package: Package) -> dict[str, int]:
    """The month of each column of the month headers, as ``{"2026-01": 0, ...}``; refuses unreadable headers."""
    sheet, header = _range(package, "months")
    values = package.values(sheet, header)
    formulas = package.formulas(sheet, header)
    column_of_month: dict[str, int] = {}
    for position, reference in enumerate(header):
        where = f"{package.path}: the month header {sheet}!{reference}"
        value = values[reference]
        day = package.date_of(value) if isinstance(value, float) else None
        if day is None:
            if value is None and reference in formulas:
                raise RefreshError(
                    f"{where} is a formula without a computed value: open the workbook in Excel or LibreOffice, "
                    "save it, then refresh again"
                )
            shown = (
                "it is empty" if value is None else f"got {_number(value) if isinstance(value, float) else repr(value)}"
            )
            raise RefreshError(f"{where} must be a date in its month; {shown}")
        month = f"{day.year:04d}-{day.month:02d}"
        if month in column_of_month:
            raise RefreshError(f"{where} is {month} again; each month has one column")
        column_of_month[month] = position
    return column_of_month


def _number(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e15 else repr(value)


def _business_id(package: Package) -> str:
    """The business type the workbook was made for: the cell ``business_type`` names, or its quoted text."""
    text = package.names["business_type"].strip()
    if "!" in text:
        sheet, cells = cells_of_range(text)
        text = str(package.values(sheet, cells[:1])[cells[0]] or "")
    return text.strip().strip('"')


def _name(package: Package, name: str) -> str:
    try:
        return package.names[name]
    except KeyError:
        raise RefreshError(f"{package.path}: the workbook has no name {name!r}; is it a nichekpi template?") from None


def _range(package: Package, name: str) -> tuple[str, list[str]]:
    text = _name(package, name)
    try:
        return cells_of_range(text)
    except PackageError:
        raise RefreshError(f"{package.path}: the name {name} refers to {text!r}, not to a row of cells") from None


def _check_rules(business: Business, found: Mapping[tuple[str, str], tuple[float, Path]]) -> None:
    """Every KPI's rules on the merged inputs of each month, whichever files they came from."""
    for month in sorted({month for _, month in found}):
        for kpi in business.kpis:
            given = [found.get((f"in_{kpi.id}_{i.id}", month)) for i in kpi.inputs]
            if all(g is not None for g in given):
                try:
                    kpi.compute(*(value for value, _ in given))
                except KpiInputError as error:
                    origins = ", ".join(
                        f"{kpi.id}_{i.id} from {source.name}" for i, (_, source) in zip(kpi.inputs, given)
                    )
                    raise ExportError(f"{month}, {kpi.name}: {error} ({origins})") from None


def _check_with_workbook(business: Business, changes: list[Change], found, current) -> None:
    """The values to write and those already in the workbook, per KPI and month, must obey the KPI's rules.

    ``current(name, month)`` is the workbook's value of an input; a KPI whose inputs are
    not all numbers after the refresh (an empty or text cell) is not checked.
    """
    new = {(c.name, c.month): c for c in changes}
    for kpi in business.kpis:
        names = [f"in_{kpi.id}_{i.id}" for i in kpi.inputs]
        for month in sorted({c.month for c in changes if c.name in names}):
            values, origins = [], []
            for name in names:
                if (name, month) in new:
                    values.append(new[(name, month)].new)
                    origins.append(f"{name[3:]} from {new[(name, month)].source}")
                elif (name, month) in found:
                    values.append(found[(name, month)][0])
                    origins.append(f"{name[3:]} from {found[(name, month)][1].name}")
                else:
                    values.append(current(name, month))
                    origins.append(f"{name[3:]} already in the workbook")
            if not all(isinstance(v, float) for v in values):
                continue
            try:
                kpi.compute(*values)
            except KpiInputError as error:
                raise RefreshError(f"{month}, {kpi.name}: {error} ({', '.join(origins)})") from None


def _in_the_year(path: Path, months, year: list[str]) -> None:
    """Refuse a file that has no month of the workbook (``year``: its months, in order)."""
    if any(month in year for month in months):
        return
    have = sorted(months)
    shown = "no month at all" if not have else f"{have[0]} to {have[-1]}" if len(have) > 2 else " and ".join(have)
    raise RefreshError(
        f"{path}: none of its months is in the workbook, which covers {year[0]} to {year[-1]}; "
        f"the file has {shown}: is it the right file, or the right workbook?"
    )


def _incomplete(business: Business, found, window, column_of_month, package: Package, cells) -> list[str]:
    """The KPI months the files give some inputs of, whose other inputs neither the files nor the workbook have."""
    missing = []
    months = sorted({month for _, month in found if month in column_of_month})
    for month in months:
        if window and not window[0] <= month <= window[1]:
            continue
        for kpi in business.kpis:
            names = [f"in_{kpi.id}_{i.id}" for i in kpi.inputs]
            if not any((name, month) in found for name in names):
                continue
            absent = []
            for item, name in zip(kpi.inputs, names):
                if (name, month) in found:
                    continue
                sheet, references = cells[name]
                value = package.values(sheet, [references[column_of_month[month]]]).popitem()[1]
                if not isinstance(value, float):
                    absent.append(f"{kpi.id}_{item.id}")
            if absent:
                missing.append(f"{month} {kpi.id}: no {', '.join(absent)} (its KPI stays empty until it is there)")
    return missing


def _from_export(found, business: Business, kind: str, monthly: Monthly, source: Path) -> None:
    for kpi in business.kpis:
        for item in kpi.inputs:
            if item.export and item.export.startswith(f"{kind}."):
                figure = item.export.split(".", 1)[1]
                for month, figures in monthly.items():
                    if figure in figures:
                        found[(f"in_{kpi.id}_{item.id}", month)] = (figures[figure], source)


def _from_table(
    business: Business, path: Path, reading: Reading | None = None
) -> dict[tuple[str, str], tuple[float, Path]]:
    """The monthly inputs table: a ``month`` column and one column per input (``csat_satisfied``...)."""
    reading = reading if reading is not None else Reading()
    header, rows = read_table(path, reading)
    inputs = {f"{k.id}_{i.id}": (k, i) for k in business.kpis for i in k.inputs}
    if "month" not in header:
        raise ExportError(f"{path}: the first row needs a 'month' column (months like 2026-01)")
    unknown = [h for h in header if h and h != "month" and h not in inputs]
    if unknown:
        raise ExportError(
            f"{path}: unknown column {unknown[0]!r}; the inputs of {business.id} are: {', '.join(inputs)}"
        )
    month_at = header.index("month")
    decimals = table_decimals(path, header, rows, set(inputs), reading)
    found: dict[tuple[str, str], tuple[float, Path]] = {}
    seen: dict[str, int] = {}
    for number, row in rows:
        row = row + [None] * (len(header) - len(row))
        month = parse_month(row[month_at], f"{path}, row {number}, column month")
        if month in seen:
            raise ExportError(f"{path}, row {number}: month {month} is already on row {seen[month]}")
        seen[month] = number
        values = {}
        for column, cell in zip(header, row):
            if column not in inputs:
                continue
            where = f"{path}, row {number}, column {column}"
            value = parse_number(cell, where, decimals[column])
            if value is None:
                continue
            kpi, item = inputs[column]
            if value < 0:
                raise ExportError(f"{where}: {item.label.lower()} cannot be negative; got {value:g}")
            if item.whole and not value.is_integer():
                raise ExportError(f"{where}: {item.label.lower()} is a count, a whole number; got {value:g}")
            values[column] = value
        for kpi in business.kpis:
            given = [values.get(f"{kpi.id}_{i.id}") for i in kpi.inputs]
            if all(v is not None for v in given):
                try:
                    kpi.compute(*given)
                except KpiInputError as error:
                    raise ExportError(f"{path}, row {number}: {error}") from None
        for column, value in values.items():
            found[(f"in_{column}", month)] = (value, path)
    return found
