"""Spanish and French workbooks, recalculated by LibreOffice, give the English ones' numbers.

All five businesses in the three languages are filled with the same random months
(some missing, one breaking a rule), and a dollhouse workbook in each language is
refreshed from the sample files in ``examples/``; one LibreOffice call recalculates
them all. Values equal the formula library, tiers are its tiers in the workbook's
language, no cell holds an error value, and refresh fills every language alike.
"""

from __future__ import annotations

import os
import zipfile
from html import unescape as html_unescape
from pathlib import Path

import openpyxl
import pytest

from nichekpi import default_catalog
from nichekpi._libreoffice import INSTALL_HINT, convert, soffice
from nichekpi.catalog import LANGUAGES, TIERS, tier_names, words
from nichekpi.refresh import apply, plan
from nichekpi.workbook import CHECK_INPUTS, MONTHS, NOT_SCORED, TIER_COLOURS, build_workbook, layout, save_atomically
from tests.workbooks import (
    ERROR_TEXTS,
    Tables,
    as_values,
    counted_months,
    expected_month,
    expected_tier,
    expected_ytd,
    random_months,
)

if soffice() is None:
    if os.environ.get("CI"):
        pytest.fail(f"LibreOffice is required in CI; {INSTALL_HINT}", pytrace=False)
    pytest.skip(f"LibreOffice is not installed; {INSTALL_HINT}", allow_module_level=True)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
BUSINESSES = list(default_catalog())
MONTHS_OF = {b.id: random_months(b, seed=100 + n) for n, b in enumerate(BUSINESSES)}


def _in(lang: str, shown: str | None) -> str | None:
    """What the library's English cell text reads in ``lang``."""
    if shown in TIERS:
        return tier_names(lang)[TIERS.index(shown)]
    if shown == CHECK_INPUTS:
        return words(lang)["cell"]["check_inputs"]
    if shown == NOT_SCORED:
        return words(lang)["cell"]["not_scored"]
    return shown


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory):
    """{(business or "refreshed", lang): the xlsx LibreOffice recalculated}, and the refresh plans by language."""
    folder = tmp_path_factory.mktemp("languages")
    sources = {}
    for business in BUSINESSES:
        for lang in LANGUAGES:
            wb = build_workbook(business, 2026, as_values(business, MONTHS_OF[business.id]), lang=lang, currency="EUR")
            sources[(business.id, lang)] = folder / f"{business.id}-{lang}.xlsx"
            wb.save(sources[(business.id, lang)])
    plans = {}
    dollhouses = default_catalog().business("custom-dollhouses")
    for lang in LANGUAGES:
        path = folder / f"refreshed-{lang}.xlsx"
        save_atomically(build_workbook(dollhouses, 2026, lang=lang), path)
        plans[lang] = plan(
            path, inputs=EXAMPLES / "inputs.csv", orders=EXAMPLES / "orders.csv", survey=EXAMPLES / "survey.csv"
        )
        apply(plans[lang])
        sources[("refreshed", lang)] = path
    outputs = dict(zip(sources, convert(list(sources.values()), "xlsx", folder / "xlsx")))
    translated = [key for key in sources if key[0] != "refreshed" and key[1] != "en"]
    html = convert([sources[key] for key in translated], "html", folder / "html")
    outputs |= {(*key, "html"): path for key, path in zip(translated, html)}
    return outputs, plans


CASES = [(b.id, lang) for b in BUSINESSES for lang in LANGUAGES]


@pytest.mark.parametrize(("business_id", "lang"), CASES)
def test_values_and_tiers_equal_the_library_in_each_language(recalculated, business_id, lang):
    business = default_catalog().business(business_id)
    months = MONTHS_OF[business_id]
    wb = openpyxl.load_workbook(recalculated[0][(business_id, lang)], data_only=True)
    sheet = wb[words(lang)["sheets"]["kpis"]]
    where = layout(business)
    checked = 0
    for kpi in business.kpis:
        row = where.kpi_rows[kpi.id]
        expected = [expected_month(kpi, m) for m in months[kpi.id]] + [expected_ytd(kpi, months[kpi.id])]
        covered = [1] * MONTHS + [len(counted_months(kpi, months[kpi.id]))]
        for offset, (want, count) in enumerate(zip(expected, covered)):
            got = sheet.cell(row=row, column=3 + offset).value
            tier = sheet.cell(row=row + 1, column=3 + offset).value
            place = f"{kpi.id} column {offset + 1}"
            if want is None or isinstance(want, str):
                assert (got or None) == _in(lang, want), place
                assert tier in (None, ""), place
            else:
                assert got == pytest.approx(want, rel=1e-12, abs=1e-12), place
                assert tier == _in(lang, expected_tier(kpi, want, count)), place
                checked += 1
    assert checked >= len(business.kpis)


@pytest.mark.parametrize(("business_id", "lang"), CASES)
def test_no_error_value_in_any_language(recalculated, business_id, lang):
    wb = openpyxl.load_workbook(recalculated[0][(business_id, lang)], data_only=True)
    assert wb.sheetnames == list(words(lang)["sheets"].values())
    for ws in wb.worksheets:
        allowed = ("#N/A",) if ws.title == words(lang)["sheets"]["chart_data"] else ()
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value not in allowed:
                    assert not cell.value.startswith(ERROR_TEXTS), f"{ws.title}!{cell.coordinate}: {cell.value}"


def test_refresh_fills_spanish_and_french_workbooks_as_the_english_one(recalculated):
    outputs, plans = recalculated
    english = [(c.month, c.name, c.new) for c in plans["en"].changes]
    assert len(english) > 20
    for lang in LANGUAGES[1:]:
        assert [(c.month, c.name, c.new) for c in plans[lang].changes] == english
    dollhouses = default_catalog().business("custom-dollhouses")
    where = layout(dollhouses)
    sheets = {lang: openpyxl.load_workbook(outputs[("refreshed", lang)], data_only=True) for lang in LANGUAGES}
    numbers = 0
    for kpi in dollhouses.kpis:
        row = where.kpi_rows[kpi.id]
        for column in range(3, 3 + MONTHS + 1):
            values = {
                lang: sheets[lang][words(lang)["sheets"]["kpis"]].cell(row=row, column=column).value for lang in sheets
            }
            tiers = {
                lang: sheets[lang][words(lang)["sheets"]["kpis"]].cell(row=row + 1, column=column).value
                for lang in sheets
            }
            for lang in LANGUAGES[1:]:
                assert values[lang] == (_in(lang, values["en"]) if isinstance(values["en"], str) else values["en"])
                assert (tiers[lang] or None) == _in(lang, tiers["en"] or None)
            numbers += isinstance(values["en"], float)
    assert numbers >= 10


TRANSLATED = [(b.id, lang) for b in BUSINESSES for lang in LANGUAGES[1:]]


@pytest.mark.parametrize(("business_id", "lang"), TRANSLATED)
def test_tier_colours_follow_the_tier_names_in_each_language(recalculated, business_id, lang):
    html = (recalculated[0][(business_id, lang, "html")]).read_text(encoding="utf-8", errors="replace")
    tables = dict(zip(["start", "inputs", "kpis", "benchmarks", "dashboard"], Tables(html).tables))
    names = dict(zip(tier_names(lang), TIERS))
    coloured = 0
    for sheet, first_row in (("kpis", 2), ("dashboard", 4)):
        rows = tables[sheet]
        for r, row in enumerate(rows):
            for text, colour in row:
                if r >= first_row and text in names:
                    fill = f"#{TIER_COLOURS[names[text]][0]}"
                    assert (colour or "").upper() == fill, f"{sheet} row {r + 1}: {text} is {colour}"
                    coloured += 1
    assert coloured > 0


@pytest.mark.parametrize(("business_id", "lang"), TRANSLATED)
def test_every_chart_is_titled_with_the_kpi_name_in_the_language(recalculated, business_id, lang):
    business = default_catalog().business(business_id).in_language(lang)
    with zipfile.ZipFile(recalculated[0][(business_id, lang)]) as package:
        charts = [n for n in package.namelist() if n.startswith("xl/charts/chart") and n.endswith(".xml")]
        titles = " ".join(html_unescape(package.read(n).decode("utf-8")) for n in charts)
    assert len(charts) == len(business.kpis)
    for kpi in business.kpis:
        assert kpi.name in titles
