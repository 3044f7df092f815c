"""Spanish and French: every word has a translation, and the workbooks meet no English word."""

from __future__ import annotations

import json
import tomllib
from importlib import resources
from pathlib import Path

import openpyxl
import pytest

from nichekpi.catalog import LANGUAGES, TIERS, default_catalog, tier_names, words
from nichekpi.cli import main
from nichekpi.workbook import build_workbook, example_values

CATALOG = default_catalog()
ROOT = Path(__file__).resolve().parent.parent


def _keys(table: dict, prefix: str = "") -> dict[str, object]:
    found = {}
    for key, value in table.items():
        if isinstance(value, dict):
            found |= _keys(value, f"{prefix}{key}.")
        else:
            found[f"{prefix}{key}"] = value
    return found


@pytest.mark.parametrize("lang", LANGUAGES[1:])
def test_every_word_has_a_translation(lang):
    english, other = _keys(words("en")), _keys(words(lang))
    assert sorted(english) == sorted(other)
    for key, value in english.items():
        assert type(other[key]) is type(value), key
        assert other[key], key
        if isinstance(value, list):
            assert len(other[key]) == len(value), key


def test_every_unit_has_a_label_in_each_language():
    units = tomllib.loads(resources.files("nichekpi").joinpath("data", "units.toml").read_text(encoding="utf-8"))
    for unit_id, spec in units.items():
        for lang in LANGUAGES[1:]:
            assert spec.get(lang), f"unit {unit_id} has no {lang} label"


@pytest.mark.parametrize("business", list(CATALOG), ids=lambda b: b.id)
def test_every_catalog_text_has_a_translation(business):
    assert business.missing_translations() == []


def test_a_missing_translation_is_listed_and_falls_back_to_english():
    business = CATALOG.business("soundwave-art")
    cac = business.kpis[0]
    bare = type(business)(
        **{**business.__dict__, "names": {}, "kpis": (type(cac)(**{**cac.__dict__, "translations": {}}),)}
    )
    missing = bare.missing_translations()
    assert "es: name" in missing and "fr: KPI cac: input new_customers: label" in missing
    assert "en: KPI cac: sources: typical" in missing
    spanish = bare.in_language("es")
    assert spanish.name == "Personalized soundwave art" and spanish.kpis[0].inputs[1].label == "New customers"


def test_tier_names_are_the_issue_table():
    assert tier_names("en") == TIERS
    assert tier_names("es") == ("Por debajo de lo típico", "Típico", "Por encima del promedio", "Excepcional")
    assert tier_names("fr") == ("En dessous du typique", "Typique", "Supérieur à la moyenne", "Exceptionnel")


def _english_words() -> set[str]:
    """The English UI strings: words.en.toml and the catalog's English names and labels,
    less the ones that read the same in Spanish or French."""
    same = {"KPI", "KPIs", "%", "CSAT", "NPS", "$", "ratio", "points", "kg", "Note", "clients", "consultations"}
    found = set()
    for value in _keys(words("en")).values():
        for text in value if isinstance(value, list) else [value]:
            found.add(text)
    for business in CATALOG:
        found.add(business.name)
        for kpi in business.kpis:
            found |= {kpi.name, kpi.note, *kpi.translated_sources.values()} | set(
                kpi.translations.get("en", {}).get("sources", {}).values()
            )
            for item in kpi.inputs:
                found |= {item.label, item.unit, item.help}
    return {text for text in found if text and text not in same and len(text) > 2}


ENGLISH = _english_words()


@pytest.mark.parametrize("lang", LANGUAGES[1:])
@pytest.mark.parametrize("business", list(CATALOG), ids=lambda b: b.id)
def test_no_english_ui_string_in_a_spanish_or_french_workbook(business, lang):
    wb = build_workbook(business, 2026, example_values(business), lang=lang, currency="EUR")
    shown = [ws.title for ws in wb.worksheets]
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            shown += [c.value for c in row if isinstance(c.value, str)]
        shown += [ws.oddHeader.left.text or "", ws.oddHeader.right.text or "", ws.oddFooter.center.text or ""]
        shown += [v.error or "" for v in ws.data_validations.dataValidation]
        shown += [v.errorTitle or "" for v in ws.data_validations.dataValidation]
        shown += [v.formula1 or "" for v in ws.data_validations.dataValidation]
    english = [(text, word) for text in shown for word in ENGLISH if f'"{word}"' in text or text == word]
    assert english == []


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_kpis_in_spanish(capsys):
    status, out, _ = run(capsys, "kpis", "custom-miniature-modeling", "--lang", "es")
    assert status == 0
    assert out.startswith("Modelismo en miniatura personalizado (custom-miniature-modeling)")
    assert "NOMBRE" in out and "POR ENCIMA DEL PROMEDIO" in out
    assert "Valor de pedido promedio (AOV)" in out and "más bajo" in out
    status, out, _ = run(capsys, "kpis", "custom-dollhouses", "--lang", "fr", "--json")
    assert json.loads(out)[0]["name"] == "Score de satisfaction client (CSAT)"


def test_cli_score_in_french(capsys):
    # Dreamscape Miniatures: (330 - 40) / 320 = 0.90625, past the 0.80 exceptional threshold
    status, out, _ = run(capsys, "score", "custom-dollhouses", "retention_rate", "330", "40", "320", "--lang", "fr")
    assert (status, out) == (0, "Taux de fidélisation de la clientèle: 90.6% (Exceptionnel)\n")
    status, out, _ = run(capsys, "score", "custom-dollhouses", "csat", "80", "100", "--lang", "es", "--json")
    assert json.loads(out)["tier"] == "Típico"


def test_cli_templates_refuses_a_currency_that_is_no_iso_code(capsys, tmp_path):
    status, _, err = run(capsys, "templates", "--lang", "fr", "--currency", "euro", "--out", str(tmp_path))
    assert status != 0
    assert err.strip().endswith("--currency: currency must be a three-letter ISO code such as USD or EUR; got 'euro'")
    assert list(tmp_path.iterdir()) == []


def test_check_business_lists_missing_translations(capsys, tmp_path):
    source = (
        resources.files("nichekpi").joinpath("data", "businesses", "soundwave-art.toml").read_text(encoding="utf-8")
    )
    path = tmp_path / "own.toml"
    path.write_text(
        source.replace('id = "soundwave-art"', 'id = "own-art"').replace('fr = { name = "Art', 'x = { name = "Art')
    )
    status, out, _ = run(capsys, "check-business", str(path))
    assert status == 0
    assert out.splitlines() == [
        f"{path}: no translation: fr: name (shown in English)",
        f"{path}: no translation: fr: market (shown in English)",
    ]
    path.write_text(source, encoding="utf-8")
    status, out, _ = run(capsys, "check-business", str(path))
    assert out == f"{path}: soundwave-art is valid and has every text in en, es, fr\n"


def test_a_business_files_lang_makes_its_workbooks_in_that_language(capsys, tmp_path):
    source = (ROOT / "examples" / "custom-candles.toml").read_text(encoding="utf-8")
    path = tmp_path / "candles.toml"
    path.write_text(f'lang = "fr"\n{source}', encoding="utf-8")
    status, _, err = run(capsys, "templates", "--business-file", str(path), "--out", str(tmp_path), "--year", "2026")
    assert (status, err) == (0, "")
    wb = openpyxl.load_workbook(tmp_path / "custom-candles.xlsx")
    assert wb.sheetnames == ["Commencez ici", "Saisies", "KPI", "Repères", "Tableau de bord", "Données graphiques"]
    status, _, _ = run(
        capsys, "templates", "--business-file", str(path), "--out", str(tmp_path), "--force", "--lang", "es"
    )
    assert openpyxl.load_workbook(tmp_path / "custom-candles.xlsx").sheetnames[0] == "Empiece aquí"
    path.write_text(f'lang = "de"\n{source}', encoding="utf-8")
    status, _, err = run(capsys, "kpis", "--business-file", str(path))
    assert status != 0
    assert err.strip().endswith(f"{path}: lang must be one of en, es, fr; got 'de'")


def test_the_business_list_in_spanish(capsys):
    status, out, _ = run(capsys, "kpis", "--lang", "es")
    assert status == 0 and "Casas de muñecas personalizadas" in out and "Custom dollhouses" not in out
