"""A planner's whole year, recalculated and printed by LibreOffice with Excel's font metrics.

Every business type is filled with twelve months three ways: a plausible full year,
a year with blank and inconsistent months, and a year with text pasted into inputs.
LibreOffice (with Carlito, metric-compatible with Calibri, installed) recalculates each
workbook and prints it to PDF. The tests compare every KPI, year-to-date and tier cell
with the formula library, look for error values and for ``#`` runs in the printed
text, compute the charts' boxes from their anchors and the column widths, read the
legends and threshold lines LibreOffice computed after the Benchmarks were edited, and
count the Dashboard's printed pages.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import openpyxl
import pytest

from nichekpi import default_catalog
from nichekpi._libreoffice import INSTALL_HINT, convert, soffice
from nichekpi.catalog import TIER_KEYS
from nichekpi.workbook import (
    BENCH_CHECK_COLUMN,
    CHECK_BENCHMARKS,
    CHECK_INPUTS,
    COVERS_COLUMN,
    MONTH_CHOICE,
    MONTHS,
    build_workbook,
    layout,
    threshold_label,
)
from tests.workbooks import (
    ERROR_TEXTS,
    anchor_boxes,
    as_values,
    chart_series,
    counted_months,
    expected_month,
    expected_tier,
    expected_ytd,
    full_year,
    overlapping,
    year_with_gaps,
    year_with_text,
)

if soffice() is None or shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None:
    hint = f"{INSTALL_HINT}, with fonts-crosextra-carlito fonts-crosextra-caladea poppler-utils"
    if os.environ.get("CI"):
        pytest.fail(f"LibreOffice and poppler-utils are required in CI; {hint}", pytrace=False)
    pytest.skip(f"LibreOffice or pdftotext is not installed; {hint}", allow_module_level=True)

pytestmark = pytest.mark.filterwarnings("ignore:Workbook contains no default style")  # Gnumeric's files

BUSINESSES = list(default_catalog())
YEARS = {"full": full_year, "gaps": year_with_gaps, "text": year_with_text}
MONTHS_OF = {(kind, b.id): make(b, seed=n) for kind, make in YEARS.items() for n, b in enumerate(BUSINESSES)}
CASES = list(MONTHS_OF)
DOLLHOUSES = default_catalog().business("custom-dollhouses")
# A planner's edits of the Benchmarks sheet: CSAT's typical raised, retention's exceptional cleared, AOV's moved.
EDITS = {("csat", "typical"): 0.82, ("retention_rate", "exceptional"): None, ("aov", "above_average"): 250}
REVERSED = {("csat", "typical"): 0.95, ("csat", "exceptional"): 0.75}  # typed the wrong way round


def _build(business, months, edits=None, *, choice=None):
    wb = build_workbook(business, 2026, as_values(business, months))
    where = layout(business)
    for (kpi_id, key), value in (edits or {}).items():
        wb["Benchmarks"].cell(row=where.bench_rows[kpi_id], column=4 + TIER_KEYS.index(key)).value = value
    if choice:
        wb["Dashboard"][MONTH_CHOICE] = choice
    return wb


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    """{name: (recalculated xlsx, pdf of the whole workbook, the workbook as generated)}."""
    folder = tmp_path_factory.mktemp("year")
    sources = {}
    for (kind, business_id), months in MONTHS_OF.items():
        sources[f"{kind}-{business_id}"] = _build(default_catalog().business(business_id), months)
    full = MONTHS_OF[("full", DOLLHOUSES.id)]
    sources["edited"] = _build(DOLLHOUSES, full, EDITS)
    sources["reversed"] = _build(DOLLHOUSES, full, REVERSED)
    benchmarks = sources["reversed"]["Benchmarks"]  # each row's threshold validation, computed in a spare column
    for validation in benchmarks.data_validations.dataValidation:
        if validation.type == "custom":
            row = int(str(validation.sqref).split()[0][1:])
            benchmarks.cell(row=row, column=26, value=f"={validation.formula1}")
    sources["february"] = _build(DOLLHOUSES, MONTHS_OF[("gaps", DOLLHOUSES.id)], choice="February")
    sources["september"] = _build(DOLLHOUSES, full, choice="September")  # the longest month name
    sources["a4"] = _build(DOLLHOUSES, full)
    sources["a4"]["Dashboard"].page_setup.paperSize = 9  # A4; LibreOffice's default here is Letter
    paths = []
    for name, wb in sources.items():
        wb.save(folder / f"{name}.xlsx")
        paths.append(folder / f"{name}.xlsx")
    xlsx = convert(paths, "xlsx", folder / "xlsx")
    pdf = convert(paths, "pdf", folder / "pdf")
    return {name: (x, p, source) for name, x, p, source in zip(sources, xlsx, pdf, paths)}


def _run(program, *arguments):
    return subprocess.run([shutil.which(program), *arguments], capture_output=True, text=True, check=True).stdout


def _text(pdf, page=None):
    """The PDF's text as laid out on the page (poppler's pdftotext), of one page or all."""
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return _run("pdftotext", "-layout", *pages, str(pdf), "-")


def _blank(value):
    return None if value == "" else value


@pytest.mark.parametrize(("kind", "business_id"), CASES)
def test_every_kpi_year_to_date_and_tier_equals_the_formula_library(year, kind, business_id):
    business = default_catalog().business(business_id)
    months = MONTHS_OF[(kind, business_id)]
    sheet = openpyxl.load_workbook(year[f"{kind}-{business_id}"][0], data_only=True)["KPIs"]
    where = layout(business)
    for kpi in business.kpis:
        row = where.kpi_rows[kpi.id]
        counted = len(counted_months(kpi, months[kpi.id]))
        expected = [(expected_month(kpi, m), 1) for m in months[kpi.id]] + [
            (expected_ytd(kpi, months[kpi.id]), counted)
        ]
        for offset, (want, count) in enumerate(expected):
            got, tier = (_blank(sheet.cell(row=r, column=3 + offset).value) for r in (row, row + 1))
            place = f"{kind} {kpi.id} column {offset + 1}"
            if isinstance(want, float):
                assert got == pytest.approx(want, rel=1e-12, abs=1e-12), place
            else:
                assert got == want, place
            assert tier == expected_tier(kpi, want, count), place


def _covers(kpi, months):
    """What column P says, worked out here from the months year to date counts."""
    counted = counted_months(kpi, months)
    if not counted:
        return None
    short = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    first, last = counted[0], counted[-1]
    text = short[first] + (f"-{short[last]}" if last > first else "")
    text += f", {len(counted)} {'month' if len(counted) == 1 else 'months'}"
    if last - first + 1 > len(counted):
        if kpi.yearly_benchmark:
            return text + ": needs every month in between: fill or fix the empty or check inputs month"
        return text + " (blank or check inputs months left out)"
    if not isinstance(expected_ytd(kpi, months), float):
        return text + ": the months added up break a rule of this KPI"
    return text


@pytest.mark.parametrize(("kind", "business_id"), CASES)
def test_year_to_date_says_which_months_it_covers(year, kind, business_id):
    business = default_catalog().business(business_id)
    sheet = openpyxl.load_workbook(year[f"{kind}-{business_id}"][0], data_only=True)["KPIs"]
    for kpi in business.kpis:
        months = MONTHS_OF[(kind, business_id)][kpi.id]
        got = _blank(sheet.cell(row=layout(business).kpi_rows[kpi.id], column=COVERS_COLUMN).value)
        assert got == _covers(kpi, months), kpi.id
    if kind == "full":
        assert all(
            sheet.cell(row=layout(business).kpi_rows[k.id], column=COVERS_COLUMN).value == "Jan-Dec, 12 months"
            for k in business.kpis
        )


def test_a_blank_month_cannot_silently_move_retention_year_to_date(year):
    """February blank: retention's year to date asks for it instead of adding up around it."""
    sheet = openpyxl.load_workbook(year[f"gaps-{DOLLHOUSES.id}"][0], data_only=True)["KPIs"]
    row = layout(DOLLHOUSES).kpi_rows["retention_rate"]
    assert sheet.cell(row=row, column=3 + MONTHS).value == CHECK_INPUTS
    assert "needs every month in between" in sheet.cell(row=row, column=COVERS_COLUMN).value
    full = openpyxl.load_workbook(year[f"full-{DOLLHOUSES.id}"][0], data_only=True)["KPIs"]
    value, tier = (full.cell(row=r, column=3 + MONTHS).value for r in (row, row + 1))
    end, new, start = 0, 0, MONTHS_OF[("full", DOLLHOUSES.id)]["retention_rate"][0][2]
    for month in MONTHS_OF[("full", DOLLHOUSES.id)]["retention_rate"]:
        end, new = month[0], new + month[1]
    assert value == pytest.approx((end - new) / start)  # the year's retention, worked out by hand
    assert tier in ("Below typical", "Typical", "Exceptional")  # scored: it covers the whole year
    assert {full.cell(row=row + 1, column=3 + m).value for m in range(MONTHS)} == {"not scored"}


PRINTED = [f"{kind}-{b.id}" for kind in YEARS for b in BUSINESSES] + ["edited", "reversed", "september"]


@pytest.mark.parametrize("name", PRINTED)
def test_no_error_value_and_no_hash_run_anywhere(year, name):
    xlsx, pdf, _ = year[name]
    wb = openpyxl.load_workbook(xlsx, data_only=True)
    for ws in wb.worksheets:
        allowed = ("#N/A",) if ws.title == "Chart data" else ()
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value not in allowed:
                    assert not cell.value.startswith(ERROR_TEXTS), f"{ws.title}!{cell.coordinate}: {cell.value}"
    text = _text(pdf)
    assert "#" not in text, [line for line in text.splitlines() if "#" in line]


@pytest.mark.parametrize(("name", "paper"), [(f"full-{b.id}", "letter") for b in BUSINESSES] + [("a4", "A4")])
def test_the_dashboard_prints_on_one_page_and_its_charts_do_not_overlap(year, name, paper):
    """The Dashboard prints last; its title is on the last page only, so it took one page."""
    xlsx, pdf, _ = year[name]
    info = _run("pdfinfo", "-f", "1", "-l", "99", str(pdf))
    count = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert re.search(rf"Page\s+{count} size:.*\({paper}\)", info)
    business = DOLLHOUSES if name == "a4" else default_catalog().business(name.removeprefix("full-"))
    title = f"{business.name}: dashboard 2026"
    pages = [n for n in range(1, count + 1) if title in _text(pdf, n)]
    assert pages == [count]
    page = _text(pdf, count)
    assert "December 2026" in page  # the month shown
    assert page.splitlines()[0].split() == [*f"{business.name} 2026".split(), "Dashboard"]  # the header
    assert f"Page {count} of {count}" in page  # the footer
    boxes = anchor_boxes(xlsx)
    assert len(boxes) == len(business.kpis)
    assert overlapping(boxes) == []
    scorecard_bottom = (4 + len(business.kpis)) * 20  # rows of 20 pixels down to the last KPI
    assert min(top for _, top, _, _ in boxes) >= scorecard_bottom


def test_legends_and_threshold_lines_follow_the_benchmarks_after_an_edit(year):
    xlsx = year["edited"][0]
    bench = openpyxl.load_workbook(xlsx, data_only=True)["Benchmarks"]
    charts = chart_series(xlsx)
    where = layout(DOLLHOUSES)
    for kpi in DOLLHOUSES.kpis:
        lines = charts[kpi.name][-3:]
        for key, (label, values) in zip(TIER_KEYS, lines):
            threshold = bench.cell(row=where.bench_rows[kpi.id], column=4 + TIER_KEYS.index(key)).value
            want = EDITS[(kpi.id, key)] if (kpi.id, key) in EDITS else kpi.thresholds[key]
            assert threshold == want
            assert label == threshold_label(kpi, key, threshold), (kpi.id, key)
            assert values == ([] if threshold is None else [pytest.approx(threshold)] * MONTHS), (kpi.id, key)
    assert charts[DOLLHOUSES.kpi("csat").name][-3][0] == "Typical 82%"
    assert charts[DOLLHOUSES.kpi("retention_rate").name][-1] == ("Exceptional: not set", [])
    assert charts[DOLLHOUSES.kpi("aov").name][-2][0] == "Above average $250"


def test_bars_are_split_by_tier_so_each_month_shows_one_bar(year):
    xlsx = year[f"full-{DOLLHOUSES.id}"][0]
    kpis = openpyxl.load_workbook(xlsx, data_only=True)["KPIs"]
    row = layout(DOLLHOUSES).kpi_rows["csat"]
    bars = chart_series(xlsx)[DOLLHOUSES.kpi("csat").name][:5]
    tiers = [kpis.cell(row=row + 1, column=3 + m).value for m in range(MONTHS)]
    for name, values in bars:
        assert values == [
            pytest.approx(kpis.cell(row=row, column=3 + m).value) for m in range(MONTHS) if tiers[m] == name
        ]


def test_thresholds_in_the_wrong_order_warn_and_never_give_exceptional(year):
    wb = openpyxl.load_workbook(year["reversed"][0], data_only=True)
    where = layout(DOLLHOUSES)
    warning = wb["Benchmarks"].cell(row=where.bench_rows["csat"], column=BENCH_CHECK_COLUMN).value
    assert warning.startswith("Thresholds out of order")
    others = [
        wb["Benchmarks"].cell(row=where.bench_rows[k.id], column=BENCH_CHECK_COLUMN).value for k in DOLLHOUSES.kpis
    ]
    assert [w for w in others if w] == [warning]  # only CSAT's row warns
    row = where.kpi_rows["csat"]
    tiers = {wb["KPIs"].cell(row=row + 1, column=3 + m).value for m in range(MONTHS + 1)}
    assert tiers == {CHECK_BENCHMARKS}


def test_the_threshold_validation_refuses_the_wrong_order(year):
    """The data validation's formula, computed by LibreOffice: false on CSAT's reversed row only."""
    bench = openpyxl.load_workbook(year["reversed"][0], data_only=True)["Benchmarks"]
    where = layout(DOLLHOUSES)
    accepted = {k.id: bench.cell(row=where.bench_rows[k.id], column=26).value for k in DOLLHOUSES.kpis}
    assert accepted == {k.id: k.id != "csat" for k in DOLLHOUSES.kpis}


def test_a_chosen_month_shows_each_kpis_latest_month_up_to_it(year):
    """February is blank in this year: choosing it shows February, and each KPI's January."""
    wb = openpyxl.load_workbook(year["february"][0], data_only=True)
    dashboard = wb["Dashboard"]
    assert dashboard["B2"].value.month == 2
    months = MONTHS_OF[("gaps", DOLLHOUSES.id)]
    for n, kpi in enumerate(DOLLHOUSES.kpis):
        month, value, tier, change = (dashboard.cell(row=5 + n, column=c).value for c in (2, 3, 4, 5))
        want = expected_month(kpi, months[kpi.id][0])
        assert month.month == 1 and value == pytest.approx(want) and tier == expected_tier(kpi, want)
        assert change is None  # no month before January
    latest = openpyxl.load_workbook(year[f"gaps-{DOLLHOUSES.id}"][0], data_only=True)["Dashboard"]
    assert latest["B2"].value.month == 12
    september = openpyxl.load_workbook(year["september"][0], data_only=True)["Dashboard"]
    assert september["B2"].value.month == 9
    assert {september.cell(row=5 + n, column=2).value.month for n in range(len(DOLLHOUSES.kpis))} == {9}
    assert "September 2026" in _text(year["september"][1])  # printed in full, not as ###


@pytest.mark.parametrize(("kind", "business_id"), CASES)
def test_gnumeric_computes_every_cell_as_libreoffice_does(year, tmp_path, kind, business_id):
    """No formula leans on one engine's habits: every cell of every sheet, Dashboard and chart data included."""
    if shutil.which("ssconvert") is None:
        if os.environ.get("CI"):
            pytest.fail("Gnumeric is required in CI; apt-get install -y gnumeric", pytrace=False)
        pytest.skip("Gnumeric is not installed; apt-get install -y gnumeric (Debian/Ubuntu)")
    libreoffice, _, source = year[f"{kind}-{business_id}"]
    _run("ssconvert", "--recalc", str(source), str(tmp_path / "gnumeric.xlsx"))
    gnumeric = openpyxl.load_workbook(tmp_path / "gnumeric.xlsx", data_only=True)
    compared = 0
    for ws in openpyxl.load_workbook(libreoffice, data_only=True).worksheets:
        for row in ws.iter_rows():
            for cell in row:
                want, got = _blank(cell.value), _blank(gnumeric[ws.title][cell.coordinate].value)
                if isinstance(want, float) and isinstance(got, (int, float)):
                    assert got == pytest.approx(want, rel=1e-9, abs=1e-12), f"{ws.title}!{cell.coordinate}"
                else:
                    assert got == want, f"{ws.title}!{cell.coordinate}"
                compared += want is not None
    assert compared > 1000
