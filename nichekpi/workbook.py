"""Template workbooks: one per business type, its KPIs pre-wired month by month.

Everything about a KPI comes from the catalog: its inputs, formula (as a native
spreadsheet formula, from the formula's expression), unit, direction, thresholds
and sources. This module only lays them out. The workbook needs no add-in: it uses
only functions that Excel, LibreOffice and Google Sheets all know (:data:`FUNCTIONS`).

Sheets: *Start here* (how to use it), *Inputs* (the only cells to type in),
*KPIs* (values, tiers and year to date), *Benchmarks* (editable thresholds that
drive the tiers and the colours), *Dashboard* (latest month and charts), and a
hidden *Chart data* sheet for the threshold lines.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.series import SeriesLabel
from openpyxl.chart.text import RichText, Text
from openpyxl.chart.title import Title
from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties, RegularTextRun
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.pagebreak import Break

from nichekpi._files import replacing
from nichekpi._ooxml import tidy_file
from nichekpi.catalog import TIER_KEYS, TIERS, Business, Kpi

FUNCTIONS = frozenset({"IF", "AND", "OR", "COUNT", "INT", "ISNUMBER", "SUMPRODUCT", "MAX", "MIN", "INDEX", "COLUMN"})
"""The only spreadsheet functions the templates use: known to Excel, LibreOffice and Google Sheets."""

MONTHS = 12
_CHART_ROWS = 17  # rows of the Dashboard from one chart's top to the next one's (charts are 7 cm tall)
FIRST_MONTH_COLUMN = 4  # D on the Inputs sheet
KPI_FIRST_MONTH_COLUMN = 3  # C on the KPIs sheet
CHECK_INPUTS = "check inputs"  #: what a month shows when its inputs break a rule
NOT_AVAILABLE = "n/a"  #: what year to date shows when the added-up inputs break a rule
BUSINESS_TYPE_CELL = "'Chart data'!$A$1"  #: the cell the name business_type points at

# Tier colours: the same meaning on every sheet. (fill, font)
TIER_COLOURS = {
    "Below typical": ("F8CBAD", "843C0C"),
    "Typical": ("FFE699", "7F6000"),
    "Above average": ("C6E0B4", "375623"),
    "Exceptional": ("9BC2E6", "1F3864"),
}

_TITLE = Font(size=16, bold=True, color="1F3864")
_SUBTITLE = Font(size=11, italic=True, color="595959")
_HEADER = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", start_color="1F3864", end_color="1F3864")
_SECTION_FILL = PatternFill("solid", start_color="D9E1F2", end_color="D9E1F2")
_INPUT_FILL = PatternFill("solid", start_color="FFF2CC", end_color="FFF2CC")
_COMPUTED_FILL = PatternFill("solid", start_color="F2F2F2", end_color="F2F2F2")
_THIN = Side(style="thin", color="BFBFBF")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_UNLOCKED = Protection(locked=False)
_WRAP = Alignment(wrap_text=True, vertical="top")
_MONTH_FORMAT = "mmm yyyy"


@dataclass(frozen=True)
class Layout:
    """Where things are, so that formulas, names and charts agree."""

    input_rows: Mapping[tuple[str, str], int]  # (kpi, input) -> row on Inputs
    kpi_rows: Mapping[str, int]  # kpi -> value row on KPIs (its tier row is the next one)
    bench_rows: Mapping[str, int]  # kpi -> row on Benchmarks
    latest_row: int  # helper row on KPIs: month number when the month has any KPI value


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
    return Layout(input_rows, kpi_rows, bench_rows, 3 + 2 * len(business.kpis) + 1)


def _header(ws, row: int, values: Sequence[object]) -> None:
    for column, value in enumerate(values, start=1):
        cell = ws.cell(row=row, column=column, value=value)
        cell.font, cell.fill, cell.border = _HEADER, _HEADER_FILL, _BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _tier_rules(ws, cells: str, tier_cell: str) -> None:
    """Colour ``cells`` by the tier named in ``tier_cell`` (relative to the range's top-left)."""
    for name, (fill, font) in TIER_COLOURS.items():
        ws.conditional_formatting.add(
            cells,
            FormulaRule(
                formula=[f'{tier_cell}="{name}"'],
                fill=PatternFill("solid", start_color=fill, end_color=fill),
                font=Font(color=font, bold=name == "Exceptional"),
            ),
        )


def _kpi_formula(kpi: Kpi, refs: Sequence[str], invalid: str) -> str:
    """The KPI from the cells ``refs``: empty until every input is there, ``invalid`` text on a broken rule."""
    formula = kpi.formula
    checks = formula.spreadsheet_checks(refs)
    value = formula.spreadsheet_formula(refs)
    return f'=IF(COUNT({",".join(refs)})<{len(refs)},"",IF(AND({",".join(checks)}),{value},"{invalid}"))'


def _tier_formula(value: str, kpi: Kpi, bench_row: int) -> str:
    """The tier of the value cell, read from the editable direction and thresholds."""
    direction = f"Benchmarks!$C${bench_row}"
    reached = {}
    for key, column in zip(TIER_KEYS, "DEF"):
        bench = f"Benchmarks!${column}${bench_row}"
        skipped = "TRUE" if key == "typical" else "FALSE"  # a missing typical threshold: Typical
        reached[key] = f'IF(ISNUMBER({bench}),IF({direction}="lower",{value}<={bench},{value}>={bench}),{skipped})'
    below, typical, above, exceptional = TIERS
    return (
        f'=IF(ISNUMBER({value}),IF({reached["exceptional"]},"{exceptional}",'
        f'IF({reached["above_average"]},"{above}",IF({reached["typical"]},"{typical}","{below}"))),"")'
    )


# -- sheets ---------------------------------------------------------------------------


def _start_here(ws, business: Business, year: int) -> None:
    source = business.source
    ws["A1"] = f"{business.name}: KPI workbook {year}"
    ws["A1"].font = _TITLE
    ws["A2"] = "Made by nichekpi. Works in Excel, LibreOffice and Google Sheets, without any add-in."
    ws["A2"].font = _SUBTITLE
    published = source.published.strftime("%d %B %Y") if source.published else "no date"
    origin = (
        f"The benchmarks come from the article \u201c{source.title}\u201d ({source.language}, {published}), "
        f"figures for the {source.market or 'US'} market; see the Benchmarks sheet for each sentence."
        if source.title
        else "The benchmarks are your own, from your business-type file; see the Benchmarks sheet."
    )
    lines = [
        (
            "What it is",
            f"The {len(business.kpis)} key performance indicators of a {business.name.lower()} "
            "business, month by month, each compared with industry benchmarks.",
        ),
        (
            "How to fill it",
            "Each month, type that month's numbers into the yellow cells of the Inputs sheet "
            "(only those cells can be changed). Counts take whole numbers; nothing may be negative.",
        ),
        (
            "",
            "The KPIs sheet computes every KPI and its tier. A month with missing inputs stays empty; "
            f"\u201c{CHECK_INPUTS}\u201d means an input breaks a rule (more satisfied customers than answers, say).",
        ),
        (
            "",
            "Year to date adds up the inputs of the months that are complete, then computes the KPI: "
            "customers at the start of the first month, at the end of the last month, everything else summed.",
        ),
        ("The tiers", "Each KPI value is coloured by the tier it reaches:"),
    ]
    row = 4
    for label, text in lines:
        _paragraph(ws, row, label, text)
        row += 1
    meanings = {
        "Exceptional": "at or beyond the exceptional threshold",
        "Above average": "at or beyond the above-average threshold",
        "Typical": "at or beyond the typical threshold (or no typical threshold is given)",
        "Below typical": "short of the typical threshold",
    }
    for name in reversed(TIERS):
        fill, font = TIER_COLOURS[name]
        cell = ws.cell(row=row, column=2, value=f"{name}: {meanings[name]}")
        cell.fill = PatternFill("solid", start_color=fill, end_color=fill)
        cell.font = Font(color=font, bold=name == "Exceptional")
        row += 1
    _paragraph(
        ws,
        row,
        "",
        "For a KPI where lower is better (times, costs, revisions), the comparisons turn "
        "round: at or below the threshold.",
    )
    row += 2
    more = [
        ("Benchmarks", origin),
        ("", "Thresholds and directions are editable on the Benchmarks sheet: the tiers and colours follow."),
        (
            "Your own formulas",
            "Named ranges: in_<kpi>_<input> for each input row, kpi_<kpi> and tier_<kpi> for "
            "each KPI's months, bench_<kpi>_typical / _above_average / _exceptional for the thresholds.",
        ),
        (
            "Excel functions",
            "With the free xlwings add-in (classic, Windows) or xlwings Lite (Windows, Mac, web), "
            f'nichekpi adds functions such as =CSAT(B2,B3) and =KPI_TIER(C3,"{business.kpis[0].id}","{business.id}"): '
            "run `nichekpi addin lite` or `nichekpi addin classic` and follow the steps it prints.",
        ),
    ]
    for label, text in more:
        _paragraph(ws, row, label, text)
        row += 1
    ws.column_dimensions["A"].width = 20
    ws.column_dimensions["B"].width = _START_WIDTH


_START_WIDTH = 110  # characters in column B of Start here
_HELP_WIDTH = 52  # the help column of Inputs
_SOURCE_WIDTH = 90  # the article sentences on Benchmarks


def _fit_height(ws, row: int, *texts: tuple[str | None, float], line: float = 15) -> None:
    """Make ``row`` tall enough for wrapped texts, each given with its column width."""
    lines = max((1 + len(text) // max(1, int(width * 1.05)) for text, width in texts if text), default=1)
    if lines > 1:
        ws.row_dimensions[row].height = line * lines


def _paragraph(ws, row: int, label: str, text: str) -> None:
    """A labelled paragraph, its row tall enough for the wrapped text."""
    ws.cell(row=row, column=1, value=label or None).font = Font(bold=True)
    ws.cell(row=row, column=1).alignment = Alignment(vertical="top")
    ws.cell(row=row, column=2, value=text).alignment = _WRAP
    _fit_height(ws, row, (text, _START_WIDTH - 8))


def _inputs(ws, business: Business, year: int, where: Layout, values) -> None:
    ws["A1"] = f"{business.name}: inputs {year}"
    ws["A1"].font = _TITLE
    ws["A2"] = "Type each month's numbers in the yellow cells. Year to date adds up the months that are complete."
    ws["A2"].font = _SUBTITLE
    _header(ws, 3, ["Input", "Unit", "What to count", *([None] * MONTHS), "Year to date"])
    for month in range(MONTHS):
        cell = ws.cell(row=3, column=FIRST_MONTH_COLUMN + month, value=dt.date(year, month + 1, 1))
        cell.number_format = _MONTH_FORMAT
    whole = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
    whole.error = "Type a whole number, 0 or more: this input counts something."
    whole.errorTitle = "A count"
    number = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
    number.error = "Type a number, 0 or more."
    number.errorTitle = "A number"
    for validation in (whole, number):
        validation.showErrorMessage = True
        ws.add_data_validation(validation)
    ytd_column = FIRST_MONTH_COLUMN + MONTHS
    for kpi in business.kpis:
        first = where.input_rows[(kpi.id, kpi.inputs[0].id)]
        section = ws.cell(row=first - 1, column=1, value=kpi.name)
        for column in range(1, ytd_column + 1):
            ws.cell(row=first - 1, column=column).fill = _SECTION_FILL
        section.font = Font(bold=True)
        kpi_months = _months_range("KPIs", where.kpi_rows[kpi.id], KPI_FIRST_MONTH_COLUMN)
        for position, item in enumerate(kpi.inputs):
            row = where.input_rows[(kpi.id, item.id)]
            ws.cell(row=row, column=1, value=item.label).alignment = Alignment(indent=1)
            ws.cell(row=row, column=2, value=item.unit)
            ws.cell(row=row, column=3, value=item.help).alignment = _WRAP
            _fit_height(ws, row, (item.help, _HELP_WIDTH - 4))
            months = values.get((kpi.id, item.id), [None] * MONTHS)
            for month in range(MONTHS):
                cell = ws.cell(row=row, column=FIRST_MONTH_COLUMN + month, value=months[month])
                cell.fill, cell.border, cell.protection = _INPUT_FILL, _BOX, _UNLOCKED
                cell.number_format = "#,##0" if item.whole else "#,##0.##"
            cells = f"{_col(FIRST_MONTH_COLUMN)}{row}:{_col(ytd_column - 1)}{row}"
            (whole if item.whole else number).add(cells)
            row_range = _months_range("Inputs", row, FIRST_MONTH_COLUMN)
            ytd = ws.cell(row=row, column=ytd_column, value=_period_formula(kpi, position, row_range, kpi_months))
            ytd.fill, ytd.border = _COMPUTED_FILL, _BOX
            ytd.number_format = "#,##0.##"
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 13
    ws.column_dimensions["C"].width = _HELP_WIDTH
    for month in range(MONTHS):
        ws.column_dimensions[_col(FIRST_MONTH_COLUMN + month)].width = 10
    ws.column_dimensions[_col(ytd_column)].width = 13
    ws.row_dimensions[3].height = 30
    ws.freeze_panes = ws.cell(row=4, column=FIRST_MONTH_COLUMN)


def _period_formula(kpi: Kpi, position: int, row_range: str, kpi_months: str) -> str:
    """An input added up over the months whose KPI value could be computed."""
    counted = f"ISNUMBER({kpi_months})"
    how = kpi.formula.period[kpi.formula.params[position]]
    if how == "sum":
        value = f"SUMPRODUCT({counted}*{row_range})"
    else:
        month = f"(COLUMN({kpi_months})-COLUMN(KPIs!${_col(KPI_FIRST_MONTH_COLUMN)}$1)+1)"
        pick = f"SUMPRODUCT(MAX({counted}*{month}))"
        if how == "first":
            pick = f"SUMPRODUCT(MIN({counted}*{month}+(1-{counted})*{MONTHS + 1}))"
        value = f"INDEX({row_range},1,{pick})"
    return f'=IF(COUNT({kpi_months})=0,"",{value})'


def _kpis(ws, business: Business, year: int, where: Layout) -> None:
    ws["A1"] = f"{business.name}: KPIs {year}"
    ws["A1"].font = _TITLE
    _header(ws, 2, ["KPI", "Unit", *([None] * MONTHS), "Year to date"])
    for month in range(MONTHS):
        cell = ws.cell(row=2, column=KPI_FIRST_MONTH_COLUMN + month)
        cell.value = f"=Inputs!{_col(FIRST_MONTH_COLUMN + month)}3"
        cell.number_format = _MONTH_FORMAT
    ytd_column = KPI_FIRST_MONTH_COLUMN + MONTHS
    for kpi in business.kpis:
        row = where.kpi_rows[kpi.id]
        ws.cell(row=row, column=1, value=kpi.name).font = Font(bold=True)
        ws.cell(row=row, column=2, value=kpi.unit.label)
        ws.cell(row=row + 1, column=1, value="tier").alignment = Alignment(indent=2)
        ws.cell(row=row + 1, column=1).font = Font(italic=True, color="595959")
        for month in range(MONTHS + 1):
            column = KPI_FIRST_MONTH_COLUMN + month
            input_column = _col(FIRST_MONTH_COLUMN + month)
            refs = [f"Inputs!{input_column}{where.input_rows[(kpi.id, i.id)]}" for i in kpi.inputs]
            invalid = NOT_AVAILABLE if month == MONTHS else CHECK_INPUTS
            value = ws.cell(row=row, column=column, value=_kpi_formula(kpi, refs, invalid))
            value.number_format = kpi.unit.excel_format
            value.alignment = Alignment(horizontal="right")
            tier = ws.cell(
                row=row + 1, column=column, value=_tier_formula(f"{_col(column)}{row}", kpi, where.bench_rows[kpi.id])
            )
            tier.alignment = Alignment(horizontal="center")
            tier.font = Font(size=9)
            for cell in (value, tier):
                cell.border = _BOX
            if month == MONTHS:
                value.font = Font(bold=True)
        first, last = _col(KPI_FIRST_MONTH_COLUMN), _col(ytd_column)
        _tier_rules(ws, f"{first}{row}:{last}{row + 1}", f"{first}${row + 1}")
    # Helper row: the month's number when any KPI has a value that month (for the Dashboard).
    helper = where.latest_row
    label = ws.cell(row=helper, column=1, value="month has data")
    label.font = Font(size=8, color="808080")
    last_kpi_row = max(where.kpi_rows.values()) + 1
    for month in range(MONTHS):
        column = _col(KPI_FIRST_MONTH_COLUMN + month)
        cell = ws.cell(row=helper, column=KPI_FIRST_MONTH_COLUMN + month)
        cell.value = f"=IF(COUNT({column}3:{column}{last_kpi_row})>0,{month + 1},0)"
        cell.font = Font(size=8, color="808080")
    latest = ws.cell(row=helper, column=KPI_FIRST_MONTH_COLUMN + MONTHS)
    first, last = _col(KPI_FIRST_MONTH_COLUMN), _col(KPI_FIRST_MONTH_COLUMN + MONTHS - 1)
    latest.value = f"=MAX({first}{helper}:{last}{helper})"
    latest.font = Font(size=8, color="808080")
    ws.row_dimensions[helper].hidden = True
    ws.column_dimensions["A"].width = 40
    ws.column_dimensions["B"].width = 16
    for month in range(MONTHS + 1):
        ws.column_dimensions[_col(KPI_FIRST_MONTH_COLUMN + month)].width = 12
    ws.column_dimensions[_col(ytd_column)].width = 13
    ws.freeze_panes = ws.cell(row=3, column=KPI_FIRST_MONTH_COLUMN)


def _benchmarks(ws, business: Business, where: Layout) -> None:
    ws["A1"] = f"{business.name}: benchmarks"
    ws["A1"].font = _TITLE
    _header(
        ws, 2, ["KPI", "Name", "Better", "Typical", "Above average", "Exceptional", "Unit", "From the article", "Note"]
    )
    direction = DataValidation(type="list", formula1='"higher,lower"', allow_blank=False)
    direction.error = "Choose higher or lower."
    direction.errorTitle = "Which way is better"
    direction.showErrorMessage = True
    threshold = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="-1000000000", allow_blank=True)
    threshold.error = "Type a number, or leave the cell empty to skip this tier."
    threshold.errorTitle = "A threshold"
    threshold.showErrorMessage = True
    ws.add_data_validation(direction)
    ws.add_data_validation(threshold)
    for kpi in business.kpis:
        row = where.bench_rows[kpi.id]
        ws.cell(row=row, column=1, value=kpi.id)
        ws.cell(row=row, column=2, value=kpi.name)
        better = ws.cell(row=row, column=3, value=kpi.better)
        better.protection, better.fill, better.border = _UNLOCKED, _INPUT_FILL, _BOX
        direction.add(better.coordinate)
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
        ws.cell(row=row, column=9, value=kpi.note or None).alignment = _WRAP
        for column in (1, 2, 3, 4, 5, 6, 7):
            ws.cell(row=row, column=column).alignment = Alignment(vertical="top", wrap_text=column in (1, 2))
        _fit_height(ws, row, (quoted, _SOURCE_WIDTH - 4), (kpi.note, 32), (kpi.name, 26))
    ws.row_dimensions[2].height = 30
    for column, width in zip("ABCDEFGHI", (24, 30, 9, 11, 11, 11, 14, _SOURCE_WIDTH, 36)):
        ws.column_dimensions[column].width = width
    ws.freeze_panes = "C3"


def _chart_data(ws, business: Business, where: Layout) -> dict[str, dict[str, int]]:
    """Threshold lines for the charts: one row of 12 equal values per threshold (and the business type in A1)."""
    ws["A1"] = business.id
    for month in range(MONTHS):
        cell = ws.cell(row=1, column=2 + month, value=f"=Inputs!{_col(FIRST_MONTH_COLUMN + month)}3")
        cell.number_format = "mmm"
    rows: dict[str, dict[str, int]] = {}
    row = 2
    for kpi in business.kpis:
        rows[kpi.id] = {}
        for key in ("typical", "exceptional"):
            if kpi.thresholds[key] is None:
                continue
            label = f"{key.capitalize()} ({kpi.unit.format(kpi.thresholds[key])})"
            ws.cell(row=row, column=1, value=label)  # the line's name in the chart legend
            for month in range(MONTHS):
                ws.cell(row=row, column=2 + month, value=f"=bench_{kpi.id}_{key}")
            rows[kpi.id][key] = row
            row += 1
    return rows


def _dashboard(ws, business: Business, year: int, where: Layout, chart_rows, wb) -> None:
    ws["A1"] = f"{business.name}: dashboard {year}"
    ws["A1"].font = _TITLE
    ws["A2"] = "Latest month with data"
    ws["A2"].font = Font(bold=True)
    latest = ws["B2"]
    latest.value = '=IF(latest_month=0,"no data yet",INDEX(months,1,latest_month))'
    latest.number_format = "mmmm yyyy"
    latest.font = Font(bold=True, size=12)
    _header(ws, 4, ["KPI", "Value", "Tier", "Typical", "Exceptional", "Better"])
    for n, kpi in enumerate(business.kpis):
        row = 5 + n
        ws.cell(row=row, column=1, value=kpi.name)
        value = ws.cell(row=row, column=2, value=f'=IF(latest_month=0,"",INDEX(kpi_{kpi.id},1,latest_month))')
        value.number_format = kpi.unit.excel_format
        tier = ws.cell(row=row, column=3, value=f'=IF(latest_month=0,"",INDEX(tier_{kpi.id},1,latest_month))')
        tier.alignment = Alignment(horizontal="center")
        for column, key in ((4, "typical"), (5, "exceptional")):
            cell = ws.cell(row=row, column=column, value=f'=IF(ISNUMBER(bench_{kpi.id}_{key}),bench_{kpi.id}_{key},"")')
            cell.number_format = kpi.unit.excel_format
            cell.font = Font(color="595959")
        ws.cell(row=row, column=6, value=f"=Benchmarks!C{where.bench_rows[kpi.id]}").font = Font(color="595959")
        for column in range(1, 7):
            ws.cell(row=row, column=column).border = _BOX
    last = 4 + len(business.kpis)
    _tier_rules(ws, f"B5:C{last}", "$C5")
    for column, width in zip("ABCDEF", (40, 14, 16, 12, 12, 9)):
        ws.column_dimensions[column].width = width

    months = Reference(wb["Chart data"], min_col=2, max_col=1 + MONTHS, min_row=1)
    for n, kpi in enumerate(business.kpis):
        chart = _kpi_chart(kpi, wb, where.kpi_rows[kpi.id], chart_rows[kpi.id], months)
        anchor_row = last + 3 + (n // 2) * _CHART_ROWS
        ws.add_chart(chart, f"{'A' if n % 2 == 0 else 'D'}{anchor_row}")
        if n % 4 == 1 and n + 1 < len(business.kpis):  # two rows of charts a page
            ws.row_breaks.append(Break(id=anchor_row + _CHART_ROWS - 2))


def _title(text: str) -> Title:
    """A chart title in a modest size (the default is large and wraps)."""
    font = CharacterProperties(sz=1200, b=True)
    paragraph = Paragraph(pPr=ParagraphProperties(defRPr=font), r=[RegularTextRun(rPr=font, t=text)])
    return Title(tx=Text(rich=RichText(p=[paragraph])), overlay=False)


def _kpi_chart(kpi: Kpi, wb: Workbook, kpi_row: int, threshold_rows: Mapping[str, int], months: Reference):
    """The KPI's months as columns, with its typical and exceptional thresholds as dashed lines.

    Columns rather than a line for the values: a month without data holds "" (no
    formula can leave a cell truly empty), which Excel and LibreOffice both draw as
    0; a line would dive to 0 after the latest month, a column simply is not there.
    """
    chart = BarChart()
    chart.type = "col"
    chart.title = _title(kpi.name)
    chart.height, chart.width = 7.0, 15.5
    chart.gapWidth = 60
    chart.y_axis.number_format = kpi.unit.excel_format
    chart.y_axis.majorGridlines = None
    if kpi.formula.lowest >= 0:
        chart.y_axis.scaling.min = 0  # columns start at zero, so their heights compare honestly
    chart.x_axis.number_format = "mmm"
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.legend.position = "b"
    values = Reference(
        wb["KPIs"], min_col=KPI_FIRST_MONTH_COLUMN, max_col=KPI_FIRST_MONTH_COLUMN + MONTHS - 1, min_row=kpi_row
    )
    chart.add_data(values, from_rows=True, titles_from_data=False)
    bars = chart.series[0]
    bars.tx = SeriesLabel(v=kpi.unit.label if kpi.unit.style == "number" else "Value")
    bars.graphicalProperties.solidFill = "8EA9DB"
    bars.graphicalProperties.line.solidFill = "2F5597"
    chart.set_categories(months)

    lines = LineChart()
    for key, colour in (("typical", "BF8F00"), ("exceptional", "375623")):
        if key in threshold_rows:
            row = Reference(wb["Chart data"], min_col=1, max_col=1 + MONTHS, min_row=threshold_rows[key])
            lines.add_data(row, from_rows=True, titles_from_data=True)
            series = lines.series[-1]
            series.graphicalProperties.line.solidFill = colour
            series.graphicalProperties.line.dashStyle = "dash"
            series.graphicalProperties.line.width = 19050
            series.marker.symbol = "none"
            series.smooth = False
    lines.set_categories(months)
    chart += lines
    return chart


def build_workbook(
    business: Business, year: int, values: Mapping[tuple[str, str], Sequence[object]] | None = None
) -> Workbook:
    """The template workbook of ``business`` for ``year``.

    ``values`` fills inputs: ``{(kpi_id, input_id): [12 monthly values or None]}``.
    """
    values = values or {}
    where = layout(business)
    wb = Workbook()
    start = wb.active
    start.title = "Start here"
    inputs = wb.create_sheet("Inputs")
    kpis = wb.create_sheet("KPIs")
    benchmarks = wb.create_sheet("Benchmarks")
    dashboard = wb.create_sheet("Dashboard")
    chart_data = wb.create_sheet("Chart data")
    chart_data.sheet_state = "hidden"

    _start_here(start, business, year)
    _inputs(inputs, business, year, where, values)
    _kpis(kpis, business, year, where)
    _benchmarks(benchmarks, business, where)
    _define_names(wb, business, where)
    rows = _chart_data(chart_data, business, where)
    _dashboard(dashboard, business, year, where, rows, wb)

    for ws in (start, inputs, kpis, benchmarks, dashboard):
        ws.protection.sheet = True
        ws.protection.formatCells = False
        ws.protection.formatColumns = False
        ws.protection.formatRows = False
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_options.gridLines = False
    wb.active = 0
    return wb


def _define_names(wb: Workbook, business: Business, where: Layout) -> None:
    # business_type names a cell, not a constant: exceljs drops a name that is not a reference.
    names = {"months": _months_range("Inputs", 3, FIRST_MONTH_COLUMN), "business_type": BUSINESS_TYPE_CELL}
    names["latest_month"] = f"KPIs!${_col(KPI_FIRST_MONTH_COLUMN + MONTHS)}${where.latest_row}"
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


def save_atomically(wb: Workbook, path: Path) -> None:
    """Save through a temporary file in the same folder, so an interrupted run leaves no half-written workbook."""
    with replacing(path) as temporary:
        wb.save(temporary)
        tidy_file(temporary)  # Excel's shape, the same bytes with or without lxml
