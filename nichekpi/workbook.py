"""Template workbooks: one per business type, its KPIs pre-wired month by month.

Everything about a KPI comes from the catalog: its inputs, formula (as a native
spreadsheet formula, from the formula's expression), unit, direction, thresholds
and sources; every word the workbook shows comes from ``data/words.<lang>.toml``
(English, Spanish or French; the catalog holds the KPI names, labels and translated
article sentences). This module only lays them out. The workbook needs no add-in: it uses only functions that
Excel, LibreOffice and Google Sheets all know (:data:`FUNCTIONS`), and no formula
relies on a range being evaluated as an array (hidden helper rows on the KPIs sheet
do the month-by-month work), so Gnumeric computes the same numbers.

Sheets: *Start here* (how to use it), *Inputs* (the only cells to type in),
*KPIs* (values, tiers and year to date), *Benchmarks* (editable thresholds that
drive the tiers, the colours and the chart lines), *Dashboard* (a month's scorecard
and charts, one landscape page), and a hidden *Chart data* sheet for the charts; in
Spanish and French the sheets carry their names in that language, and the defined
names (``in_<kpi>_<input>``, ``kpi_<kpi>`` ...) stay the same.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.data_source import StrRef
from openpyxl.chart.legend import LegendEntry
from openpyxl.chart.series import SeriesLabel
from openpyxl.chart.text import RichText, Text
from openpyxl.chart.title import Title
from openpyxl.drawing.spreadsheet_drawing import AnchorMarker, TwoCellAnchor
from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties, RegularTextRun
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from nichekpi._files import replacing
from nichekpi._gcpause import collector_paused
from nichekpi._ooxml import tidy
from nichekpi.catalog import TIER_KEYS, TIERS, Business, Kpi, words
from nichekpi.errors import KpiInputError

FUNCTIONS = frozenset(
    {"IF", "AND", "OR", "COUNT", "COUNTA", "INT", "ISNUMBER", "SUM", "MAX", "MIN", "INDEX", "MATCH", "NA", "ROUND"}
)
"""The only spreadsheet functions the templates use: known to Excel, LibreOffice and Google Sheets."""

WORDS = words("en")
"""Every word the English workbooks show, by key (``data/words.en.toml``; ``words.es.toml`` and
``words.fr.toml`` hold the same keys)."""

MONTHS = 12
FIRST_MONTH_COLUMN = 4  # D on the Inputs sheet
KPI_FIRST_MONTH_COLUMN = 3  # C on the KPIs sheet
YTD_COLUMN = KPI_FIRST_MONTH_COLUMN + MONTHS  # O on the KPIs sheet
COVERS_COLUMN = YTD_COLUMN + 1  # P on the KPIs sheet: which months year to date covers
CHECK_INPUTS = WORDS["cell"]["check_inputs"]  #: what a month or year to date shows when its inputs break a rule
NOT_SCORED = WORDS["cell"]["not_scored"]  #: the tier of a value whose benchmark is meant for a whole year
CHECK_BENCHMARKS = WORDS["cell"]["check_benchmarks"]  #: the tier while the thresholds are out of order
LATEST = WORDS["cell"]["latest"]  #: the Dashboard's month choice that follows the data
MONTH_CHOICE = "H2"  #: the Dashboard cell where the planner chooses the month shown
BENCH_CHECK_COLUMN = 12  # L on Benchmarks: empty, or the warning that the thresholds are out of order
BUSINESS_TYPE_CELL = "'Chart data'!$A$1"  #: the cell the name business_type points at

# Tier colours: the same meaning on every sheet. (fill, font)
TIER_COLOURS = {
    "Below typical": ("F8CBAD", "843C0C"),
    "Typical": ("FFE699", "7F6000"),
    "Above average": ("C6E0B4", "375623"),
    "Exceptional": ("9BC2E6", "1F3864"),
}
_CURRENCIES = tomllib.loads(resources.files("nichekpi").joinpath("data", "currencies.toml").read_text(encoding="utf-8"))
_CURRENCY = ("USD", "$", False)  # the money of the workbook being built: code, symbol, after the number
_W = WORDS  # the words of the workbook being built (build_workbook sets its language's)


def _tier(name: str) -> str:
    """A tier's name (``TIERS``) in the workbook's language."""
    return _W["tiers_names"][name]


def _cell(key: str) -> str:
    """A short word a cell shows (``check inputs`` ...), in the workbook's language."""
    return _W["cell"][key]


def _dates(number_format: str) -> str:
    """A date format showing month names in the workbook's language, whatever the spreadsheet's locale."""
    return _W["dates"]["locale"] + number_format


def _better(direction: str) -> str:
    """``higher`` or ``lower`` in the workbook's language."""
    return _W["better"][direction]


_NEUTRAL_COLOUR = "A6A6A6"  # bars of a value that is not scored
_LINE_COLOURS = {"typical": "BF8F00", "above_average": "548235", "exceptional": "203864"}

_TITLE = Font(size=16, bold=True, color="1F3864")
_SUBTITLE = Font(size=11, italic=True, color="595959")
_HEADER = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", start_color="1F3864", end_color="1F3864")
_SECTION_FILL = PatternFill("solid", start_color="D9E1F2", end_color="D9E1F2")
_INPUT_FILL = PatternFill("solid", start_color="FFF2CC", end_color="FFF2CC")
_COMPUTED_FILL = PatternFill("solid", start_color="F2F2F2", end_color="F2F2F2")
_WARNING_FILL = PatternFill("solid", start_color="FF0000", end_color="FF0000")
_HELPER_FONT = Font(size=8, color="808080")
_THIN = Side(style="thin", color="BFBFBF")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_UNLOCKED = Protection(locked=False)
_WRAP = Alignment(wrap_text=True, vertical="top")
# Every other style a cell takes, made once: a cell's style is then found by the object's
# identity (see _StyleList) instead of by hashing a new object, field by field, per cell.
_BOLD = Font(bold=True)
_BOLD_12 = Font(bold=True, size=12)
_SMALL = Font(size=9)
_GREY = Font(color="595959")
_GREY_SMALL = Font(size=9, color="595959")
_GREY_ITALIC = Font(italic=True, color="595959")
_HELP_FONT = Font(size=8, italic=True, color="595959")
_WARNING_FONT = Font(bold=True, color="FFFFFF")
_HEADER_ALIGNMENT = Alignment(horizontal="center", vertical="center", wrap_text=True)
_TOP = Alignment(vertical="top")
_TOP_WRAPPED = Alignment(vertical="top", wrap_text=True)
_RIGHT = Alignment(horizontal="right")
_CENTRED_SHRUNK = Alignment(horizontal="center", shrink_to_fit=True)
_SHRUNK = Alignment(shrink_to_fit=True)
_WRAPPED = Alignment(wrap_text=True)
_INDENTED_WRAPPED = Alignment(indent=1, wrap_text=True)
_INDENTED_2 = Alignment(indent=2)
_MONTH_FORMAT = "mmm yyyy"

# The Dashboard's grid, in Excel's metrics: Calibri 11 has a maximum digit width of
# 7 pixels, so a column of width w (characters) is 7 * w pixels; rows are 20 pixels.
_DASHBOARD_WIDTHS = (36, 10, 12, 22, 12, 12, 14, 12, 9)  # tier names run to 23 characters in Spanish
_PIXEL_EMU = 9525
_ROW_PIXELS = 20
_CHARTS_PER_ROW = 4
_CHART_ROWS = 12  # rows of one chart (240 pixels)
_CHART_GAP = 8  # pixels between charts


@dataclass(frozen=True)
class Layout:
    """Where things are, so that formulas, names and charts agree."""

    input_rows: Mapping[tuple[str, str], int]  # (kpi, input) -> row on Inputs
    kpi_rows: Mapping[str, int]  # kpi -> value row on KPIs (its tier row is the next one)
    bench_rows: Mapping[str, int]  # kpi -> row on Benchmarks
    latest_row: int  # helper row on KPIs: the month's number when any KPI has something that month
    helper_rows: Mapping[str, Mapping[str, int]]  # kpi -> helper name -> row on KPIs (hidden)
    sum_rows: Mapping[tuple[str, str], int]  # (kpi, summed input) -> helper row on KPIs: the input if the month counts

    @property
    def short_row(self) -> int:
        return self.latest_row + 1  # Jan ... Dec, as text

    @property
    def long_row(self) -> int:
        return self.latest_row + 2  # January ... December, for the month choice

    @property
    def shown_cell(self) -> str:
        return f"KPIs!$C${self.latest_row + 3}"  # the month number the Dashboard shows


_HELPERS = ("counted", "last", "first", "seen", "upto")


def _col(index: int) -> str:
    return get_column_letter(index)


def _months_range(sheet: str, row: int, first_column: int) -> str:
    return f"{sheet}!${_col(first_column)}${row}:${_col(first_column + MONTHS - 1)}${row}"


def layout(business: Business) -> Layout:
    input_rows: dict[tuple[str, str], int] = {}
    row = 4  # below the header; each KPI has a section row, then its inputs
    for kpi in business.kpis:
        row += 1
        for item in kpi.inputs:
            input_rows[(kpi.id, item.id)] = row
            row += 1
    kpi_rows = {kpi.id: 3 + 2 * n for n, kpi in enumerate(business.kpis)}
    bench_rows = {kpi.id: 3 + n for n, kpi in enumerate(business.kpis)}
    latest = 3 + 2 * len(business.kpis) + 1
    row = latest + 4
    helper_rows: dict[str, dict[str, int]] = {}
    sum_rows: dict[tuple[str, str], int] = {}
    for kpi in business.kpis:
        helper_rows[kpi.id] = {}
        for name in _HELPERS:
            helper_rows[kpi.id][name] = row
            row += 1
        for item, param in zip(kpi.inputs, kpi.formula.params):
            if kpi.formula.period[param] == "sum":
                sum_rows[(kpi.id, item.id)] = row
                row += 1
    return Layout(input_rows, kpi_rows, bench_rows, latest, helper_rows, sum_rows)


def _header(ws, row: int, values: Sequence[object]) -> None:
    for column, value in enumerate(values, start=1):
        cell = ws.cell(row=row, column=column, value=value)
        cell.font, cell.fill, cell.border = _HEADER, _HEADER_FILL, _BOX
        cell.alignment = _HEADER_ALIGNMENT


def _tier_rules(ws, cells: str, tier_cell: str) -> None:
    """Colour ``cells`` by the tier named in ``tier_cell`` (relative to the range's top-left)."""
    for name, (fill, font) in TIER_COLOURS.items():
        ws.conditional_formatting.add(
            cells,
            FormulaRule(
                formula=[f'{tier_cell}="{_tier(name)}"'],
                fill=PatternFill("solid", start_color=fill, end_color=fill),
                font=Font(color=font, bold=name == "Exceptional"),
            ),
        )


def _kpi_formula(kpi: Kpi, refs: Sequence[str]) -> str:
    """A month's KPI from the cells ``refs``.

    Empty while no input is typed or some are missing; ``check inputs`` when an input
    holds text (a paste skips data validation) or the inputs break a rule.
    """
    formula = kpi.formula
    cells = ",".join(refs)
    checks = ",".join(formula.spreadsheet_checks(refs))
    value = _in_range(kpi, formula.spreadsheet_formula(refs))
    return (
        f'=IF(COUNTA({cells})=0,"",IF(COUNT({cells})<COUNTA({cells}),"{_cell("check_inputs")}",'
        f'IF(COUNT({cells})<{len(refs)},"",IF(AND({checks}),{value},"{_cell("check_inputs")}"))))'
    )


def _in_range(kpi: Kpi, value: str) -> str:
    """``value``, or ``check inputs`` where it is outside what the KPI can take (a mean above a score's top).

    Only for a KPI whose unit narrows its formula's range (:attr:`Kpi.bounded`); the
    rules already keep every other formula's result in range.
    """
    if not kpi.bounded:
        return value
    limits = [f"{value}>={kpi.lowest!r}"] if math.isfinite(kpi.lowest) else []
    limits += [f"{value}<={kpi.highest!r}"] if math.isfinite(kpi.highest) else []
    return f'IF(AND({",".join(limits)}),{value},"{_cell("check_inputs")}")'


def _ytd_formula(kpi: Kpi, refs: Sequence[str], helpers: Mapping[str, int]) -> str:
    """Year to date from the added-up inputs ``refs`` (the Inputs sheet's year-to-date cells)."""
    count, last, first = (f"${_col(YTD_COLUMN)}${helpers[h]}" for h in ("counted", "last", "first"))
    checks = ",".join(kpi.formula.spreadsheet_checks(refs))
    value = f'IF(AND({checks}),{_in_range(kpi, kpi.formula.spreadsheet_formula(refs))},"{_cell("check_inputs")}")'
    if kpi.yearly_benchmark:  # stocks: a month missing in between would drop its flows from the sums
        value = f'IF({last}-{first}+1>{count},"{_cell("check_inputs")}",{value})'
    return f'=IF({count}=0,"",{value})'


def _tier_expression(value: str, kpi: Kpi, bench_row: int) -> str:
    """The tier of the value cell, read from the editable direction and thresholds."""
    direction = f"Benchmarks!$C${bench_row}"
    reached = {}
    for key, column in zip(TIER_KEYS, "DEF"):
        bench = f"Benchmarks!${column}${bench_row}"
        skipped = "TRUE" if key == "typical" else "FALSE"  # a missing typical threshold: Typical
        reached[key] = (
            f'IF(ISNUMBER({bench}),IF({direction}="{_better("lower")}",{value}<={bench},{value}>={bench}),{skipped})'
        )
    below, typical, above, exceptional = (_tier(name) for name in TIERS)
    check = f"Benchmarks!${_col(BENCH_CHECK_COLUMN)}${bench_row}"
    return (
        f'IF({check}<>"","{_cell("check_benchmarks")}",IF({reached["exceptional"]},"{exceptional}",'
        f'IF({reached["above_average"]},"{above}",IF({reached["typical"]},"{typical}","{below}"))))'
    )


def _tier_formula(value: str, kpi: Kpi, bench_row: int, *, months: str | None) -> str:
    """A tier cell: scored, or ``not scored`` when the benchmark is meant for a whole year.

    ``months`` is the cell holding how many months the value covers (``None``: one).
    """
    scored = _tier_expression(value, kpi, bench_row)
    if kpi.yearly_benchmark:
        scored = (
            f'"{_cell("not_scored")}"' if months is None else f'IF({months}<{MONTHS},"{_cell("not_scored")}",{scored})'
        )
    return f'=IF(ISNUMBER({value}),{scored},"")'


# -- sheets ---------------------------------------------------------------------------

_START_WIDTH = 110  # characters in column B of Start here
_HELP_WIDTH = 44  # the help column of Inputs
_SOURCE_WIDTH = 80  # the article sentences on Benchmarks


def _start_here(ws, business: Business, year: int) -> None:
    words = _W["start"]
    source = business.source
    ws["A1"] = _W["titles"]["start"].format(business=business.name, year=year)
    ws["A1"].font = _TITLE
    ws["A2"] = _W["titles"]["made_by"]
    ws["A2"].font = _SUBTITLE
    if source.published:
        day = source.published
        published = f"{day.day:02d} {_W['months']['long'][day.month - 1]} {day.year}"
    else:
        published = words["no_date"]
    origin = (
        words["origin_article"].format(
            title=source.title,
            language=_W["languages"].get(source.language, source.language),
            published=published,
            market=source.market or "US",
        )
        if source.title
        else words["origin_own"]
    )
    lines = [
        (words["what"], words["what_text"].format(count=len(business.kpis), business=business.name.lower())),
        (words["fill"], words["fill_text"]),
        ("", words["kpis_text"]),
        (words["ytd"], words["ytd_text"]),
        (words["period"], words["period_text"]),
        (words["tiers"], words["tiers_text"]),
    ]
    row = 4
    for label, text in lines:
        _paragraph(ws, row, label, text)
        row += 1
    for name in (*reversed(TIERS), NOT_SCORED):
        fill, font = TIER_COLOURS.get(name, (_NEUTRAL_COLOUR, "000000"))
        shown = _tier(name) if name in TIERS else _W["cell"]["not_scored"]
        line = words["tier_line"].format(tier=shown, meaning=_W["tiers"][name])
        cell = ws.cell(row=row, column=2, value=line)
        cell.fill = PatternFill("solid", start_color=fill, end_color=fill)
        cell.font = Font(color=font, bold=name == "Exceptional")
        row += 1
    _paragraph(ws, row, "", words["lower_text"])
    row += 2
    more = [
        (words["benchmarks"], origin),
        ("", words["edit_text"]),
        (words["dashboard"], words["dashboard_text"]),
        (words["names"], words["names_text"]),
        (words["functions"], words["functions_text"].format(kpi=business.kpis[0].id, business=business.id)),
    ]
    for label, text in more:
        _paragraph(ws, row, label, text)
        row += 1
    ws.column_dimensions["A"].width = 20
    ws.column_dimensions["B"].width = _START_WIDTH
    ws.print_area = f"A1:B{row}"


def _fit_height(ws, row: int, *texts: tuple[str | None, float], line: float = 15) -> None:
    """Make ``row`` tall enough for wrapped texts, each given with its column width."""
    lines = max((1 + len(text) // max(1, int(width * 1.05)) for text, width in texts if text), default=1)
    if lines > 1:
        ws.row_dimensions[row].height = line * lines


def _paragraph(ws, row: int, label: str, text: str) -> None:
    """A labelled paragraph, its row tall enough for the wrapped text."""
    ws.cell(row=row, column=1, value=label or None).font = _BOLD
    ws.cell(row=row, column=1).alignment = _TOP
    ws.cell(row=row, column=2, value=text).alignment = _WRAP
    _fit_height(ws, row, (text, _START_WIDTH - 8))


def _validation(kind: str, **options) -> DataValidation:
    words = _W["validation"]
    validation = DataValidation(**options)
    validation.error, validation.errorTitle = words[kind], words[f"{kind}_title"]
    validation.showErrorMessage = True
    return validation


def _input_format(item) -> str:
    """Whole counts without decimals, amounts with two: never a trailing point ("420.")."""
    return "#,##0" if item.whole else "#,##0.00"


def _inputs(ws, business: Business, year: int, where: Layout, values) -> None:
    ws["A1"] = _W["titles"]["inputs"].format(business=business.name, year=year)
    ws["A1"].font = _TITLE
    ws["A2"] = _W["titles"]["inputs_subtitle"]
    ws["A2"].font = _SUBTITLE
    _header(ws, 3, [*_W["headers"]["inputs"], *([None] * MONTHS), _W["headers"]["year_to_date"]])
    for month in range(MONTHS):
        cell = ws.cell(row=3, column=FIRST_MONTH_COLUMN + month, value=dt.date(year, month + 1, 1))
        cell.number_format = _dates(_MONTH_FORMAT)
    whole = _validation("whole", type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
    number = _validation("number", type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
    ws.add_data_validation(whole)
    ws.add_data_validation(number)
    ytd_column = FIRST_MONTH_COLUMN + MONTHS
    for kpi in business.kpis:
        first = where.input_rows[(kpi.id, kpi.inputs[0].id)]
        section = ws.cell(row=first - 1, column=1, value=kpi.name)
        for column in range(1, ytd_column + 1):
            ws.cell(row=first - 1, column=column).fill = _SECTION_FILL
        section.font = _BOLD
        helpers = where.helper_rows[kpi.id]
        count = f"KPIs!${_col(YTD_COLUMN)}${helpers['counted']}"
        for item, param in zip(kpi.inputs, kpi.formula.params):
            row = where.input_rows[(kpi.id, item.id)]
            ws.cell(row=row, column=1, value=item.label).alignment = _INDENTED_WRAPPED
            ws.cell(row=row, column=2, value=item.unit)
            ws.cell(row=row, column=3, value=item.help).alignment = _WRAP
            _fit_height(ws, row, (item.help, _HELP_WIDTH - 4), (item.label, 30 - 4))
            months = values.get((kpi.id, item.id), [None] * MONTHS)
            for month in range(MONTHS):
                cell = ws.cell(row=row, column=FIRST_MONTH_COLUMN + month, value=months[month])
                cell.fill, cell.border, cell.protection = _INPUT_FILL, _BOX, _UNLOCKED
                cell.number_format = _input_format(item)
            cells = f"{_col(FIRST_MONTH_COLUMN)}{row}:{_col(ytd_column - 1)}{row}"
            (whole if item.whole else number).add(cells)
            how = kpi.formula.period[param]
            if how == "sum":
                summed = where.sum_rows[(kpi.id, item.id)]
                total = f"SUM(KPIs!${_col(KPI_FIRST_MONTH_COLUMN)}${summed}:${_col(YTD_COLUMN - 1)}${summed})"
            else:
                pick = f"KPIs!${_col(YTD_COLUMN)}${helpers[how]}"
                total = f"INDEX({_months_range('Inputs', row, FIRST_MONTH_COLUMN)},1,{pick})"
            ytd = ws.cell(row=row, column=ytd_column, value=f'=IF({count}=0,"",{total})')
            ytd.fill, ytd.border = _COMPUTED_FILL, _BOX
            ytd.number_format = _input_format(item)
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 13
    ws.column_dimensions["C"].width = _HELP_WIDTH
    for month in range(MONTHS):
        ws.column_dimensions[_col(FIRST_MONTH_COLUMN + month)].width = 10
    ws.column_dimensions[_col(ytd_column)].width = 13
    ws.row_dimensions[3].height = 30
    ws.freeze_panes = ws.cell(row=4, column=FIRST_MONTH_COLUMN)
    ws.print_area = f"A1:{_col(ytd_column)}{max(where.input_rows.values())}"
    ws.print_title_rows = "3:3"
    ws.print_title_cols = "A:B"
    _two_pages_wide(ws)


def _kpis(ws, business: Business, year: int, where: Layout) -> None:
    words = _W["cell"]
    ws["A1"] = _W["titles"]["kpis"].format(business=business.name, year=year)
    ws["A1"].font = _TITLE
    _header(
        ws,
        2,
        [*_W["headers"]["kpis"], *([None] * MONTHS), _W["headers"]["year_to_date"], _W["headers"]["covers"]],
    )
    for month in range(MONTHS):
        cell = ws.cell(row=2, column=KPI_FIRST_MONTH_COLUMN + month)
        cell.value = f"=Inputs!{_col(FIRST_MONTH_COLUMN + month)}3"
        cell.number_format = _dates(_MONTH_FORMAT)
    first_month, last_month = _col(KPI_FIRST_MONTH_COLUMN), _col(YTD_COLUMN - 1)
    short = f"${first_month}${where.short_row}:${last_month}${where.short_row}"
    for kpi in business.kpis:
        row = where.kpi_rows[kpi.id]
        bench_row = where.bench_rows[kpi.id]
        helpers = where.helper_rows[kpi.id]
        ws.cell(row=row, column=1, value=kpi.name).font = _BOLD
        ws.cell(row=row, column=1).alignment = _WRAP
        _fit_height(ws, row, (kpi.name, 40))
        ws.cell(row=row, column=2, value=kpi.unit.label)
        ws.cell(row=row + 1, column=1, value=_W["headers"]["tier"]).alignment = _INDENTED_2
        ws.cell(row=row + 1, column=1).font = _GREY_ITALIC
        count = f"${_col(YTD_COLUMN)}${helpers['counted']}"
        for month in range(MONTHS + 1):
            column = KPI_FIRST_MONTH_COLUMN + month
            input_column = _col(FIRST_MONTH_COLUMN + month)
            refs = [f"Inputs!{input_column}{where.input_rows[(kpi.id, i.id)]}" for i in kpi.inputs]
            if month == MONTHS:
                formula = _ytd_formula(kpi, refs, helpers)
            else:
                formula = _kpi_formula(kpi, refs)
            value = ws.cell(row=row, column=column, value=formula)
            value.number_format = kpi.unit.excel_format
            value.alignment = _RIGHT
            months = count if month == MONTHS else None
            tier_formula = _tier_formula(f"{_col(column)}{row}", kpi, bench_row, months=months)
            tier = ws.cell(row=row + 1, column=column, value=tier_formula)
            tier.alignment = _CENTRED_SHRUNK
            tier.font = _SMALL
            for cell in (value, tier):
                cell.border = _BOX
            if month == MONTHS:
                value.font = _BOLD
        _tier_rules(ws, f"{first_month}{row}:{_col(YTD_COLUMN)}{row + 1}", f"{first_month}${row + 1}")
        last, first = (f"${_col(YTD_COLUMN)}${helpers[h]}" for h in ("last", "first"))
        if kpi.yearly_benchmark:
            gap = f'": {words["needs_every_month"]}"'
        else:
            gap = f'" ({words["left_out"]})"'
        covers = (
            f'=IF({count}=0,"",INDEX({short},1,{first})&IF({last}>{first},"-"&INDEX({short},1,{last}),"")'
            f'&", "&{count}&" "&IF({count}=1,"{words["month"]}","{words["months"]}")'
            f'&IF({last}-{first}+1>{count},{gap},IF(ISNUMBER({_col(YTD_COLUMN)}{row}),"",": {words["broke_rule"]}")))'
        )
        cell = ws.cell(row=row, column=COVERS_COLUMN, value=covers)
        cell.alignment = _WRAP
        cell.font = _GREY_SMALL
        ws.merge_cells(start_row=row, start_column=COVERS_COLUMN, end_row=row + 1, end_column=COVERS_COLUMN)
    _helpers(ws, business, where)
    ws.column_dimensions["A"].width = 40
    ws.column_dimensions["B"].width = 16
    for month in range(MONTHS):
        ws.column_dimensions[_col(KPI_FIRST_MONTH_COLUMN + month)].width = 13  # "check benchmarks" in a tier cell
    ws.column_dimensions[_col(YTD_COLUMN)].width = 13
    ws.column_dimensions[_col(COVERS_COLUMN)].width = 30
    ws.freeze_panes = ws.cell(row=3, column=KPI_FIRST_MONTH_COLUMN)
    ws.print_area = f"A1:{_col(COVERS_COLUMN)}{max(where.kpi_rows.values()) + 1}"
    ws.print_title_rows = "1:2"
    ws.print_title_cols = "A:B"
    _two_pages_wide(ws)


def _two_pages_wide(ws) -> None:
    """Print the twelve months over two pages' width, the first columns repeated, large enough to read."""
    ws.page_setup.fitToWidth = 2


def _helpers(ws, business: Business, where: Layout) -> None:
    """Hidden rows below the KPIs: month by month, what year to date and the Dashboard need.

    One cell per month, so that no formula needs a range evaluated as an array.
    """
    first_month, last_month = _col(KPI_FIRST_MONTH_COLUMN), _col(YTD_COLUMN - 1)
    words = _W["helpers"]
    labels = {where.latest_row: words["latest"], where.short_row: words["short"], where.long_row: words["long"]}
    labels[where.latest_row + 3] = words["shown"]
    for month in range(MONTHS):
        column = KPI_FIRST_MONTH_COLUMN + month
        letter = _col(column)
        seen = ",".join(f"{letter}{where.helper_rows[k.id]['seen']}" for k in business.kpis)
        ws.cell(row=where.latest_row, column=column, value=f"=MAX({seen})")
        ws.cell(row=where.short_row, column=column, value=_W["months"]["short"][month])
        ws.cell(row=where.long_row, column=column, value=_W["months"]["long"][month])
    latest = f"=MAX({first_month}{where.latest_row}:{last_month}{where.latest_row})"
    ws.cell(row=where.latest_row, column=YTD_COLUMN, value=latest)
    names = f"${first_month}${where.long_row}:${last_month}${where.long_row}"
    choice = f"Dashboard!${MONTH_CHOICE[0]}${MONTH_CHOICE[1:]}"
    ws.cell(
        row=where.latest_row + 3,
        column=KPI_FIRST_MONTH_COLUMN,
        value=f"=IF(ISNUMBER(MATCH({choice},{names},0)),MATCH({choice},{names},0),latest_month)",
    )
    shown = where.shown_cell.replace("KPIs!", "")
    for kpi in business.kpis:
        row = where.kpi_rows[kpi.id]
        helpers = where.helper_rows[kpi.id]
        for name in _HELPERS:
            labels[helpers[name]] = f"{kpi.id}: {words[name]}"
        for month in range(MONTHS):
            column = KPI_FIRST_MONTH_COLUMN + month
            value = f"{_col(column)}${row}"
            number = month + 1
            formulas = {
                "counted": f"=IF(ISNUMBER({value}),1,0)",
                "last": f"=IF(ISNUMBER({value}),{number},0)",
                "first": f"=IF(ISNUMBER({value}),{number},{MONTHS + 1})",
                "seen": f'=IF({value}<>"",{number},0)',
                "upto": f"=IF(AND({_col(column)}{helpers['seen']}>0,{number}<={shown}),{number},0)",
            }
            for name, formula in formulas.items():
                ws.cell(row=helpers[name], column=column, value=formula)
            for item in kpi.inputs:
                if (kpi.id, item.id) in where.sum_rows:
                    source = f"Inputs!{_col(FIRST_MONTH_COLUMN + month)}{where.input_rows[(kpi.id, item.id)]}"
                    ws.cell(
                        row=where.sum_rows[(kpi.id, item.id)],
                        column=column,
                        value=f"=IF({_col(column)}{helpers['counted']}=1,{source},0)",
                    )
        for name, total in (("counted", "SUM"), ("last", "MAX"), ("first", "MIN"), ("upto", "MAX")):
            cells = f"{first_month}{helpers[name]}:{last_month}{helpers[name]}"
            ws.cell(row=helpers[name], column=YTD_COLUMN, value=f"={total}({cells})")
        for item in kpi.inputs:
            if (kpi.id, item.id) in where.sum_rows:
                labels[where.sum_rows[(kpi.id, item.id)]] = f"{kpi.id}: {item.id} {words['summed']}"
    width = ws.max_column  # what ws[row] would span; counted once, not once a row over every cell
    for row, label in labels.items():
        ws.cell(row=row, column=1, value=label)
        ws.row_dimensions[row].hidden = True
        for column in range(1, width + 1):
            ws.cell(row=row, column=column).font = _HELPER_FONT


def _benchmarks(ws, business: Business, where: Layout) -> None:
    ws["A1"] = _W["titles"]["benchmarks"].format(business=business.name)
    ws["A1"].font = _TITLE
    _header(ws, 2, _W["headers"]["benchmarks"])
    direction = _validation(
        "direction", type="list", formula1=f'"{_better("higher")},{_better("lower")}"', allow_blank=False
    )
    ws.add_data_validation(direction)
    warning = _W["cell"]["thresholds_wrong"]
    for kpi in business.kpis:
        row = where.bench_rows[kpi.id]
        ws.cell(row=row, column=1, value=kpi.id)
        ws.cell(row=row, column=2, value=kpi.name)
        better = ws.cell(row=row, column=3, value=_better(kpi.better))
        better.protection, better.fill, better.border = _UNLOCKED, _INPUT_FILL, _BOX
        direction.add(better.coordinate)
        # A number, in order with the row's other thresholds (checked with the typed value in place).
        sign = f'IF($C${row}="{_better("lower")}",-1,1)'
        pairs = [f"OR(COUNT(${a}${row},${b}${row})<2,(${b}${row}-${a}${row})*{sign}>=0)" for a, b in ("DE", "EF", "DF")]
        formula = f"AND(ISNUMBER(D{row}),{','.join(pairs)})"  # within Excel's 255 characters
        threshold = _validation("threshold", type="custom", formula1=formula)
        threshold.allow_blank = True
        ws.add_data_validation(threshold)
        for key, column in zip(TIER_KEYS, (4, 5, 6)):
            cell = ws.cell(row=row, column=column, value=kpi.thresholds[key])
            cell.protection, cell.fill, cell.border = _UNLOCKED, _INPUT_FILL, _BOX
            cell.number_format = kpi.unit.excel_format
            threshold.add(cell.coordinate)
        ws.cell(row=row, column=7, value=kpi.unit.label)
        sentences = []
        for key in TIER_KEYS:
            sentence = kpi.sources.get(key)
            if sentence and sentence not in sentences:
                sentences.append(sentence)
        quoted = " ".join(f"\u201c{s}\u201d" for s in sentences)
        ws.cell(row=row, column=8, value=quoted).alignment = _WRAP
        translated = []
        for key in TIER_KEYS:
            sentence = kpi.translated_sources.get(key)
            if sentence and sentence not in translated:
                translated.append(sentence)
        translation = " ".join(f"\u201c{s}\u201d" for s in translated)
        ws.cell(row=row, column=9, value=translation or None).alignment = _WRAP
        ws.cell(row=row, column=10, value=kpi.note or None).alignment = _WRAP
        period = _W["period"]["year" if kpi.yearly_benchmark else "any"]
        ws.cell(row=row, column=11, value=period).alignment = _WRAP
        check = ws.cell(row=row, column=BENCH_CHECK_COLUMN, value=f'=IF({_order_ok(row)},"","{warning}")')
        check.alignment = _WRAP
        check.font = _WARNING_FONT
        for column in (1, 2, 3, 4, 5, 6, 7):
            ws.cell(row=row, column=column).alignment = _TOP_WRAPPED if column in (1, 2) else _TOP
        _fit_height(
            ws,
            row,
            (quoted, _SOURCE_WIDTH - 4),
            (translation, _SOURCE_WIDTH - 4),
            (kpi.note, 32),
            (kpi.name, 26),
            (period, 30),
        )
    last = max(where.bench_rows.values())
    check_column = _col(BENCH_CHECK_COLUMN)
    ws.conditional_formatting.add(
        f"{check_column}3:{check_column}{last}",
        FormulaRule(formula=[f'{check_column}3<>""'], fill=_WARNING_FILL, font=Font(bold=True, color="FFFFFF")),
    )
    if any(k.unit.style == "currency" for k in business.kpis):
        note = ws.cell(row=last + 2, column=8, value=_W["benchmarks"]["currency"].format(currency=_CURRENCY[0]))
        note.font = _SUBTITLE
        note.alignment = _WRAP
        _fit_height(ws, last + 2, (note.value, _SOURCE_WIDTH - 4))
    ws.row_dimensions[2].height = 45  # three lines: "Por encima del promedio"
    for column, width in zip("ABCDEFGHIJKL", (24, 30, 9, 11, 11, 11, 14, _SOURCE_WIDTH, _SOURCE_WIDTH, 34, 34, 34)):
        ws.column_dimensions[column].width = width
    ws.freeze_panes = "C3"
    ws.print_area = f"A1:{check_column}{last + 2}"  # with the currency note
    ws.print_title_rows = "2:2"
    ws.print_title_cols = "A:B"
    _two_pages_wide(ws)  # the article's sentences and their translation side by side, large enough to read


def _order_ok(row: int) -> str:
    """True when direction and thresholds make sense: numbers or empty, in order for the direction."""
    direction = f"$C${row}"
    cells = [f"${column}${row}" for column in "DEF"]
    valid = [f'OR(ISNUMBER({c}),{c}="")' for c in cells]
    pairs = []
    for low, high in ((0, 1), (1, 2), (0, 2)):
        a, b = cells[low], cells[high]
        pairs.append(
            f'IF(AND(ISNUMBER({a}),ISNUMBER({b})),IF({direction}="{_better("lower")}",{b}<={a},{b}>={a}),TRUE)'
        )
    higher, lower = _better("higher"), _better("lower")
    return f'AND(OR({direction}="{higher}",{direction}="{lower}"),{",".join(valid)},{",".join(pairs)})'


def _number_text(kpi: Kpi, cell: str) -> str:
    """A spreadsheet expression showing the number in ``cell`` in the KPI's unit (for a legend)."""
    if kpi.unit.style == "percent":
        return f'ROUND({cell}*100,1)&"%"'
    if kpi.unit.style == "currency":
        if _CURRENCY[2]:
            return f'ROUND({cell},2)&" {kpi.unit.label}"'
        return f'"{kpi.unit.label}"&ROUND({cell},2)'
    return f"ROUND({cell},2)"


def threshold_label(kpi: Kpi, key: str, threshold: float | None) -> str:
    """The legend of a threshold line, as the chart data sheet computes it (for the tests and the README)."""
    name = _W["headers"]["legend_keys"][TIER_KEYS.index(key)]
    if threshold is None:
        return f"{name}: {_W['cell']['not_set']}"
    if kpi.unit.style == "percent":
        number = f"{round(threshold * 100, 1):g}%"
    elif kpi.unit.style == "currency":
        amount = f"{round(threshold, 2):g}"
        number = f"{amount} {kpi.unit.label}" if _CURRENCY[2] else f"{kpi.unit.label}{amount}"
    else:
        number = f"{round(threshold, 2):g}"
    return f"{name} {number}"


def _chart_data(ws, business: Business, where: Layout) -> dict[str, dict[str, int]]:
    """The charts' series: per KPI, its values split by tier, then one row per threshold.

    A month a series does not draw holds ``#N/A`` (Excel's and LibreOffice's gap in a
    chart): a bar is drawn only in its tier's colour, and a cleared threshold draws
    no line. This hidden sheet is the only place an error value may appear.
    A1 holds the business type, which the name ``business_type`` points at.
    """
    ws["A1"] = business.id
    for month in range(MONTHS):
        cell = ws.cell(row=1, column=2 + month, value=f"=Inputs!{_col(FIRST_MONTH_COLUMN + month)}3")
        cell.number_format = _dates("mmm")
    rows: dict[str, dict[str, int]] = {}
    row = 2
    for kpi in business.kpis:
        rows[kpi.id] = {}
        value_row = where.kpi_rows[kpi.id]
        bench_row = where.bench_rows[kpi.id]
        for name in (*TIERS, NOT_SCORED):
            ws.cell(row=row, column=1, value=_tier(name) if name in TIERS else _W["cell"]["not_scored"])
            for month in range(MONTHS):
                column = _col(KPI_FIRST_MONTH_COLUMN + month)
                value, tier = f"KPIs!{column}{value_row}", f"KPIs!{column}{value_row + 1}"
                if name in TIERS:
                    shown = f'{tier}="{_tier(name)}"'
                else:  # not scored, or check benchmarks: a neutral bar
                    shown = f"AND(ISNUMBER({value}),{','.join(f'{tier}<>{chr(34)}{_tier(t)}{chr(34)}' for t in TIERS)})"
                ws.cell(row=row, column=2 + month, value=f"=IF({shown},{value},NA())")
            rows[kpi.id][name] = row
            row += 1
        for key, column in zip(TIER_KEYS, "DEF"):
            bench = f"Benchmarks!${column}${bench_row}"
            name = _W["headers"]["legend_keys"][TIER_KEYS.index(key)]
            label = f'=IF(ISNUMBER({bench}),"{name} "&{_number_text(kpi, bench)},"{name}: {_W["cell"]["not_set"]}")'
            ws.cell(row=row, column=1, value=label)  # the line's name in the chart legend
            for month in range(MONTHS):
                ws.cell(row=row, column=2 + month, value=f"=IF(ISNUMBER({bench}),{bench},NA())")
            rows[kpi.id][key] = row
            row += 1
    return rows


def _dashboard_columns() -> list[int]:
    """The left edge of each Dashboard column and the right edge of the last, in pixels."""
    edges = [0]
    for width in _DASHBOARD_WIDTHS:
        edges.append(edges[-1] + 7 * width)
    return edges


def _marker(x: int, y: int) -> AnchorMarker:
    """The cell and offset (in EMU) of the point ``x``, ``y`` pixels from the Dashboard's top-left."""
    edges = _dashboard_columns()
    column = max(n for n, edge in enumerate(edges[:-1]) if edge <= x)
    row = y // _ROW_PIXELS
    return AnchorMarker(
        col=column, colOff=(x - edges[column]) * _PIXEL_EMU, row=row, rowOff=(y - row * _ROW_PIXELS) * _PIXEL_EMU
    )


def chart_boxes(count: int, top_row: int) -> list[tuple[int, int, int, int]]:
    """Where the Dashboard's charts go: (left, top, right, bottom) in pixels, charts below ``top_row``."""
    width = _dashboard_columns()[-1]
    slot = (width - (_CHARTS_PER_ROW - 1) * _CHART_GAP) // _CHARTS_PER_ROW
    boxes = []
    for n in range(count):
        left = (n % _CHARTS_PER_ROW) * (slot + _CHART_GAP)
        top = (top_row - 1 + (n // _CHARTS_PER_ROW) * (_CHART_ROWS + 1)) * _ROW_PIXELS
        boxes.append((left, top, left + slot, top + _CHART_ROWS * _ROW_PIXELS))
    return boxes


def _dashboard(ws, business: Business, year: int, where: Layout, chart_rows, wb) -> None:
    titles = _W["titles"]
    ws["A1"] = titles["dashboard"].format(business=business.name, year=year)
    ws["A1"].font = _TITLE
    ws["A2"] = titles["month_shown"]
    ws["A2"].font = _BOLD_12
    shown = where.shown_cell
    month = ws["B2"]
    month.value = f'=IF({shown}=0,"{_W["cell"]["no_data"]}",INDEX(months,1,{shown}))'
    month.number_format = _dates("mmmm yyyy")
    month.font = _BOLD_12
    ws.merge_cells("B2:D2")
    choose = ws["F2"]
    choose.value = titles["choose_month"]
    choose.alignment = _RIGHT
    ws.merge_cells("F2:G2")
    choice = ws[MONTH_CHOICE]
    choice.value = _W["cell"]["latest"]
    choice.fill, choice.border, choice.protection = _INPUT_FILL, _BOX, _UNLOCKED
    options = ",".join([_W["cell"]["latest"], *_W["months"]["long"]])
    validation = _validation("month", type="list", formula1=f'"{options}"', allow_blank=False)
    ws.add_data_validation(validation)
    validation.add(MONTH_CHOICE)
    ws["I2"] = titles["choose_help"]
    ws["I2"].font = _HELP_FONT
    ws["I2"].alignment = _WRAPPED
    ws.row_dimensions[2].height = 22
    _header(ws, 4, _W["headers"]["dashboard"])
    ws.row_dimensions[4].height = 30  # two lines for the longer Spanish and French headers
    for n, kpi in enumerate(business.kpis):
        row = 5 + n
        at = f"KPIs!${_col(YTD_COLUMN)}${where.helper_rows[kpi.id]['upto']}"  # this KPI's latest month shown
        ws.cell(row=row, column=1, value=kpi.name).alignment = _SHRUNK
        shown_month = ws.cell(row=row, column=2, value=f'=IF({at}=0,"",INDEX(months,1,{at}))')
        shown_month.number_format = _dates(_MONTH_FORMAT)
        value = ws.cell(row=row, column=3, value=f'=IF({at}=0,"",INDEX(kpi_{kpi.id},1,{at}))')
        value.number_format = kpi.unit.excel_format
        tier = ws.cell(row=row, column=4, value=f'=IF({at}=0,"",INDEX(tier_{kpi.id},1,{at}))')
        tier.alignment = _CENTRED_SHRUNK
        now, before = f"INDEX(kpi_{kpi.id},1,{at})", f"INDEX(kpi_{kpi.id},1,{at}-1)"
        change = ws.cell(
            row=row, column=5, value=f'=IF({at}<2,"",IF(AND(ISNUMBER({now}),ISNUMBER({before})),{now}-{before},""))'
        )
        fmt = kpi.unit.excel_format
        change.number_format = f'"\u25b2 "{fmt};"\u25bc "{fmt};"= "{fmt}'
        change.alignment = _RIGHT
        for column, key in zip((6, 7, 8), TIER_KEYS):
            cell = ws.cell(row=row, column=column, value=f'=IF(ISNUMBER(bench_{kpi.id}_{key}),bench_{kpi.id}_{key},"")')
            cell.number_format = kpi.unit.excel_format
            cell.font = _GREY
        ws.cell(row=row, column=9, value=f"=Benchmarks!C{where.bench_rows[kpi.id]}").font = _GREY
        for column in range(1, 10):
            ws.cell(row=row, column=column).border = _BOX
    last = 4 + len(business.kpis)
    _tier_rules(ws, f"C5:D{last}", "$D5")
    for n, width in enumerate(_DASHBOARD_WIDTHS, start=1):
        ws.column_dimensions[_col(n)].width = width

    months = Reference(wb["Chart data"], min_col=2, max_col=1 + MONTHS, min_row=1)
    top_row = last + 2
    boxes = chart_boxes(len(business.kpis), top_row)
    for kpi, (left, top, right, bottom) in zip(business.kpis, boxes):
        chart = _kpi_chart(kpi, wb, chart_rows[kpi.id], months)
        chart.anchor = TwoCellAnchor(editAs="twoCell", _from=_marker(left, top), to=_marker(right, bottom))
        ws.add_chart(chart)
    bottom_row = max(b[3] for b in boxes) // _ROW_PIXELS + 1
    for row in range(top_row, bottom_row + 1):
        ws.row_dimensions[row].height = _ROW_PIXELS * 0.75  # points
    ws.print_area = f"A1:{_col(len(_DASHBOARD_WIDTHS))}{bottom_row}"
    ws.page_setup.fitToHeight = 1


def _title(text: str) -> Title:
    """A chart title in a modest size (the default is large and wraps)."""
    font = CharacterProperties(sz=1000, b=True)
    paragraph = Paragraph(pPr=ParagraphProperties(defRPr=font), r=[RegularTextRun(rPr=font, t=text)])
    return Title(tx=Text(rich=RichText(p=[paragraph])), overlay=False)


def _kpi_chart(kpi: Kpi, wb: Workbook, rows: Mapping[str, int], months: Reference):
    """The KPI's months as bars coloured by tier, its three thresholds as dashed lines.

    Each tier is one bar series holding the months of that tier and ``#N/A``
    elsewhere; with full overlap, a month shows one bar in its tier's colour. The
    lines and their legends read the Benchmarks sheet through the chart data sheet.
    """
    data = wb["Chart data"]
    chart = BarChart()
    chart.type = "col"
    chart.grouping = "clustered"
    chart.overlap = 100
    chart.title = _title(kpi.name)
    chart.gapWidth = 50
    chart.y_axis.number_format = kpi.unit.excel_format
    chart.y_axis.majorGridlines = None
    if kpi.formula.lowest >= 0:
        chart.y_axis.scaling.min = 0  # columns start at zero, so their heights compare honestly
    chart.x_axis.number_format = _dates("mmm")
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.legend.position = "b"
    legend_font = CharacterProperties(sz=800)  # small enough for the longer Spanish and French labels
    chart.legend.txPr = RichText(p=[Paragraph(pPr=ParagraphProperties(defRPr=legend_font), endParaRPr=legend_font)])
    bars = (*TIERS, NOT_SCORED)
    for name in bars:
        chart.add_data(
            Reference(data, min_col=2, max_col=1 + MONTHS, min_row=rows[name]), from_rows=True, titles_from_data=False
        )
        series = chart.series[-1]
        series.tx = SeriesLabel(strRef=StrRef(f"'Chart data'!$A${rows[name]}"))
        colour = TIER_COLOURS.get(name, (_NEUTRAL_COLOUR, "404040"))
        series.graphicalProperties.solidFill = colour[0]
        series.graphicalProperties.line.solidFill = colour[1]
    chart.set_categories(months)

    lines = LineChart()
    for key in TIER_KEYS:
        lines.add_data(
            Reference(data, min_col=2, max_col=1 + MONTHS, min_row=rows[key]), from_rows=True, titles_from_data=False
        )
        series = lines.series[-1]
        series.tx = SeriesLabel(strRef=StrRef(f"'Chart data'!$A${rows[key]}"))
        series.graphicalProperties.line.solidFill = _LINE_COLOURS[key]
        series.graphicalProperties.line.dashStyle = "dash"
        series.graphicalProperties.line.width = 19050
        series.marker.symbol = "none"
        series.smooth = False
    lines.set_categories(months)
    chart += lines
    chart.legend.legendEntry = [LegendEntry(idx=n, delete=True) for n in range(len(bars))]  # the colours say the tier
    return chart


@collector_paused()
def build_workbook(
    business: Business,
    year: int,
    values: Mapping[tuple[str, str], Sequence[object]] | None = None,
    *,
    lang: str = "en",
    currency: str = "USD",
) -> Workbook:
    """The template workbook of ``business`` for ``year``, every word in ``lang`` (en, es or fr).

    ``values`` fills inputs: ``{(kpi_id, input_id): [12 monthly values or None]}``.
    ``currency`` (an ISO code such as ``EUR``) sets the money format; the thresholds stay
    the article's US-dollar figures. Defined names are the same in every language.
    """
    global _W, _CURRENCY
    saved = _W, _CURRENCY
    _W, _CURRENCY = words(lang), money(currency, lang)
    try:
        return _build(with_currency(business.in_language(lang), _CURRENCY), year, values or {})
    finally:
        _W, _CURRENCY = saved


def money(currency: str, lang: str = "en") -> tuple[str, str, bool]:
    """``(code, symbol, after)`` of an ISO currency code: how a workbook in ``lang`` shows money."""
    code = currency.strip().upper() if isinstance(currency, str) else ""
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise KpiInputError(f"currency must be a three-letter ISO code such as USD or EUR; got {currency!r}")
    symbols = _CURRENCIES["symbols"]
    return code, symbols.get(code, code), _CURRENCIES["position"][lang] == "after"


def with_currency(business: Business, currency: tuple[str, str, bool]) -> Business:
    """``business`` with its money shown in ``currency`` (see :func:`money`): units and input units."""
    code, symbol, after = currency
    number = "#,##0.00"
    excel_format = f'{number}" {symbol}"' if after else f'"{symbol}"{number}'
    kpis = []
    for kpi in business.kpis:
        unit = kpi.unit
        if unit.style == "currency":
            unit = replace(unit, label=symbol, excel_format=excel_format)
        inputs = tuple(replace(i, unit=symbol) if i.unit == "$" else i for i in kpi.inputs)
        kpis.append(replace(kpi, unit=unit, inputs=inputs))
    return replace(business, kpis=tuple(kpis))


class _StyleList(IndexedList):
    """A workbook's list of fonts (fills, borders ...) that knows the objects it was given.

    openpyxl finds a cell's font in the workbook's list by hashing it, field by field
    (and a border's sides too), on every assignment: most of the time of building a
    template. The style objects this module assigns are made once (``_BOX``, ``_BOLD``
    ...) and never changed, so an object seen before is found by its identity; a new
    one is looked up as openpyxl does, so the list, its order and the file are the same.
    """

    def __init__(self, styles: IndexedList):
        super().__init__(styles)
        self._seen: dict[int, tuple[object, int]] = {}

    def add(self, value) -> int:
        seen = self._seen.get(id(value))
        if seen is None or seen[0] is not value:
            seen = (value, super().add(value))  # the object is kept, so its id is not reused
            self._seen[id(value)] = seen
        return seen[1]


_STYLE_LISTS = ("_fonts", "_fills", "_borders", "_alignments", "_protections")


def _build(business: Business, year: int, values: Mapping[tuple[str, str], Sequence[object]]) -> Workbook:
    where = layout(business)
    wb = Workbook()
    for name in _STYLE_LISTS:
        setattr(wb, name, _StyleList(getattr(wb, name)))
    start = wb.active
    start.title = "Start here"
    inputs = wb.create_sheet("Inputs")
    kpis = wb.create_sheet("KPIs")
    benchmarks = wb.create_sheet("Benchmarks")
    dashboard = wb.create_sheet("Dashboard")
    chart_data = wb.create_sheet("Chart data")
    chart_data.sheet_state = "hidden"

    for ws in (start, inputs, kpis, benchmarks, dashboard):
        ws.page_setup.fitToHeight = 0
    _start_here(start, business, year)
    _inputs(inputs, business, year, where, values)
    _kpis(kpis, business, year, where)
    _benchmarks(benchmarks, business, where)
    _define_names(wb, business, where)
    rows = _chart_data(chart_data, business, where)
    _dashboard(dashboard, business, year, where, rows, wb)

    header = f"{business.name} {year}".replace("&", "&&")
    for ws in (start, inputs, kpis, benchmarks, dashboard):
        ws.protection.sheet = True
        ws.protection.formatCells = False
        ws.protection.formatColumns = False
        ws.protection.formatRows = False
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth = ws.page_setup.fitToWidth or 1
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_options.gridLines = False
        ws.page_margins.left = ws.page_margins.right = 0.4
        ws.page_margins.top = ws.page_margins.bottom = 0.75
        ws.page_margins.header = ws.page_margins.footer = 0.3
        ws.oddHeader.left.text = header
        ws.oddHeader.right.text = ws.title.replace("&", "&&")
        ws.oddFooter.center.text = _W["titles"]["print_footer"]
    wb.active = 0
    _rename_sheets(wb, {english: _W["sheets"][key] for key, english in WORDS["sheets"].items()})
    return wb


def _sheet_ref(name: str) -> str:
    """A sheet's name as a formula writes it: quoted unless plain letters."""
    if re.fullmatch(r"[A-Za-z_]+", name):
        return name
    return "'" + name.replace("'", "''") + "'"


def _rename_sheets(wb: Workbook, names: Mapping[str, str]) -> None:
    """Give the sheets their names in the workbook's language, and every reference to them."""
    if all(old == new for old, new in names.items()):
        return
    pattern = re.compile("|".join(rf"(?<![\w']){re.escape(_sheet_ref(old))}!" for old in names))
    back = {_sheet_ref(old): _sheet_ref(new) for old, new in names.items()}

    def renamed(text: str) -> str:
        return pattern.sub(lambda m: back[m.group(0)[:-1]] + "!", text)

    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.value = renamed(cell.value)
        for chart in ws._charts:
            for part in (chart, *getattr(chart, "_charts", [])):
                for series in part.series:
                    refs = (series.val and series.val.numRef, series.cat and series.cat.numRef)
                    for ref in (*refs, series.tx and series.tx.strRef):
                        if ref is not None and ref.f:
                            ref.f = renamed(ref.f)
        ws.oddHeader.right.text = names.get(ws.title, ws.title).replace("&", "&&")
    for name in wb.defined_names.values():
        name.attr_text = renamed(name.attr_text)
    for ws in wb.worksheets:
        ws.title = names.get(ws.title, ws.title)


def _define_names(wb: Workbook, business: Business, where: Layout) -> None:
    names = {"months": _months_range("Inputs", 3, FIRST_MONTH_COLUMN), "business_type": BUSINESS_TYPE_CELL}
    names["latest_month"] = f"KPIs!${_col(YTD_COLUMN)}${where.latest_row}"
    names["month_shown"] = where.shown_cell
    for kpi in business.kpis:
        for item in kpi.inputs:
            names[f"in_{kpi.id}_{item.id}"] = _months_range(
                "Inputs", where.input_rows[(kpi.id, item.id)], FIRST_MONTH_COLUMN
            )
        row = where.kpi_rows[kpi.id]
        names[f"kpi_{kpi.id}"] = _months_range("KPIs", row, KPI_FIRST_MONTH_COLUMN)
        names[f"tier_{kpi.id}"] = _months_range("KPIs", row + 1, KPI_FIRST_MONTH_COLUMN)
        for key, column in zip(TIER_KEYS, "DEF"):
            names[f"bench_{kpi.id}_{key}"] = f"Benchmarks!${column}${where.bench_rows[kpi.id]}"
    for name, target in names.items():
        wb.defined_names[name] = DefinedName(name, attr_text=target)


def example_values(business: Business) -> dict[tuple[str, str], list[object]]:
    """The articles' worked examples in the first month (KPIs without one stay empty)."""
    values: dict[tuple[str, str], list[object]] = {}
    for kpi in business.kpis:
        if kpi.example is None:
            continue
        for item, value in zip(kpi.inputs, kpi.example.inputs):
            values[(kpi.id, item.id)] = [int(value) if float(value).is_integer() else value] + [None] * (MONTHS - 1)
    return values


@collector_paused()
def package_bytes(wb: Workbook) -> bytes:
    """The .xlsx bytes of ``wb``: openpyxl's package, tidied into Excel's shape (the same with or without lxml)."""
    written = io.BytesIO()
    wb.save(written)
    return tidy(written.getvalue())


def save_atomically(wb: Workbook, path: Path) -> None:
    """Save through a temporary file in the same folder, so an interrupted run leaves no half-written workbook."""
    package = package_bytes(wb)
    with replacing(path) as temporary:
        temporary.write_bytes(package)
