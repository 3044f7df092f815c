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
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from nichekpi._files import replacing
from nichekpi.catalog import Business, Catalog, default_catalog
from nichekpi.errors import KpiError, KpiInputError
from nichekpi.exports import (
    MONTH,
    ExportError,
    Monthly,
    monthly_orders,
    monthly_survey,
    parse_month,
    parse_number,
    read_table,
)
from nichekpi.package import Package, cells_of_range


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
    survey_scale: str = "1-5",
    catalog: Catalog | None = None,
) -> Plan:
    """Read everything and work out the changes; nothing is written."""
    if not (inputs or orders or survey):
        raise RefreshError("give at least one of --inputs, --orders or --survey")
    window = parse_months(months)
    locks = lock_files(workbook)
    if locks:
        raise RefreshError(f"{workbook} is open in Excel or LibreOffice ({locks[0].name} exists): close it first")
    if not workbook.is_file():
        raise RefreshError(f"{workbook}: no such file")
    package = Package(workbook)
    if "business_type" not in package.names:
        raise RefreshError(f"{workbook}: not a nichekpi template (it has no business_type name)")
    business_id = _business_id(package)
    if not business_id:
        where = package.names["business_type"]
        raise RefreshError(
            f"{workbook}: the business_type name ({where}) gives no business type; is it a nichekpi template?"
        )
    business = (catalog or default_catalog()).business(business_id)
    sheet, header = cells_of_range(_name(package, "months"))
    month_of_column = {}
    for position, day in enumerate(package.dates(sheet, header)):
        if day is not None:
            month_of_column[position] = f"{day.year:04d}-{day.month:02d}"
    column_of_month = {m: p for p, m in month_of_column.items()}

    cells: dict[str, tuple[str, list[str]]] = {}
    for kpi in business.kpis:
        for item in kpi.inputs:
            name = f"in_{kpi.id}_{item.id}"
            cells[name] = cells_of_range(_name(package, name))

    found: dict[tuple[str, str], tuple[float, str]] = {}  # (name, month) -> (value, source)
    if orders:
        _from_export(found, business, "orders", monthly_orders(orders, order_columns), orders)
    if survey:
        _from_export(found, business, "survey", monthly_survey(survey, survey_scale, survey_columns), survey)
    if inputs:
        found.update(_from_table(business, inputs))
    _check_rules(business, found)

    result = Plan(workbook, business)
    outside = set()
    old_values = {}
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
        old = old_values[(sheet, cell)]
        if isinstance(old, float) and old == value:
            result.unchanged += 1
            continue
        result.changes.append(Change(month, name, f"{sheet}!{cell}", old, value, source.name))
    _check_with_workbook(
        business,
        result.changes,
        found,
        lambda name, month: package.values(cells[name][0], [cells[name][1][column_of_month[month]]]).popitem()[1],
    )
    given = {name for name, _ in found}
    result.unfilled = [k.id for k in business.kpis if not any(f"in_{k.id}_{i.id}" in given for i in k.inputs)]
    result.outside = sorted(outside)
    return result


def apply(result: Plan) -> Path | None:
    """Write the planned changes; returns the backup of the previous version (``None`` if nothing changed)."""
    if not result.changes:
        return None
    if lock_files(result.workbook):
        raise RefreshError(f"{result.workbook} was opened in Excel or LibreOffice meanwhile: close it first")
    package = Package(result.workbook)
    numbers = {}
    for change in result.changes:
        sheet, _, cell = change.cell.rpartition("!")
        numbers[(sheet, cell)] = change.new
    content = package.edited(numbers)
    backup = result.workbook.with_name(f"{result.workbook.stem}.bak{result.workbook.suffix}")
    with replacing(backup) as temporary:
        temporary.write_bytes(result.workbook.read_bytes())
    with replacing(result.workbook) as temporary:
        temporary.write_bytes(content)
    return backup


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


def _from_export(found, business: Business, kind: str, monthly: Monthly, source: Path) -> None:
    for kpi in business.kpis:
        for item in kpi.inputs:
            if item.export and item.export.startswith(f"{kind}."):
                figure = item.export.split(".", 1)[1]
                for month, figures in monthly.items():
                    if figure in figures:
                        found[(f"in_{kpi.id}_{item.id}", month)] = (figures[figure], source)


def _from_table(business: Business, path: Path) -> dict[tuple[str, str], tuple[float, Path]]:
    """The monthly inputs table: a ``month`` column and one column per input (``csat_satisfied``...)."""
    header, rows = read_table(path)
    inputs = {f"{k.id}_{i.id}": (k, i) for k in business.kpis for i in k.inputs}
    if "month" not in header:
        raise ExportError(f"{path}: the first row needs a 'month' column (months like 2026-01)")
    unknown = [h for h in header if h and h != "month" and h not in inputs]
    if unknown:
        raise ExportError(
            f"{path}: unknown column {unknown[0]!r}; the inputs of {business.id} are: {', '.join(inputs)}"
        )
    month_at = header.index("month")
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
            value = parse_number(cell, where)
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
