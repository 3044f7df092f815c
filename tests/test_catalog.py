"""Loading business types from data files, and refusing files that do not describe usable KPIs."""

from __future__ import annotations

from pathlib import Path

import pytest

from nichekpi import CatalogError, KpiInputError, default_catalog, load_business_file
from nichekpi.catalog import with_business_files

EXAMPLE = Path(__file__).parent.parent / "examples" / "custom-candles.toml"


def test_the_shipped_example_file_loads_next_to_the_builtin_types():
    catalog = with_business_files([EXAMPLE])
    business = catalog.business("custom-candles")
    assert [k.id for k in business.kpis] == ["repeat_customer_rate", "aov", "wax_efficiency"]
    wax = business.kpi("wax_efficiency")
    assert wax.compute(100, 5) == pytest.approx(0.95)
    assert wax.tier(0.95) == "Above average"
    assert len(catalog) == len(default_catalog()) + 1


def test_a_kpis_messages_use_its_own_input_names():
    kpi = default_catalog().kpi("custom-miniature-modeling", "avg_production_time")
    with pytest.raises(KpiInputError, match="^models must be greater than 0; got 0$"):
        kpi.compute(100, 0)


def test_inputs_inherit_whole_number_rule_from_the_formula():
    kpi = default_catalog().kpi("custom-dollhouses", "custom_features")
    assert [(i.id, i.whole) for i in kpi.inputs] == [("custom_features", False), ("dollhouses", True)]


BASE = EXAMPLE.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('id = "custom-candles"', 'id = "Custom Candles"', "id 'Custom Candles' must be lowercase words joined by '-'"),
        ('id = "custom-candles"', 'id = "custom-dollhouses"', "business type 'custom-dollhouses' is already defined"),
        ('formula = "repeat_rate"', 'formula = "REPEAT_RATE"', "unknown formula 'REPEAT_RATE'; choose one of: csat,"),
        ('unit = "currency"', 'unit = "euros"', "unknown unit 'euros'; choose one of: fraction, points,"),
        ('better = "higher"', 'better = "more"', "better must be 'higher' or 'lower'; got 'more'"),
        (
            "thresholds = { typical = 35, above_average = 60, exceptional = 90 }",
            "thresholds = { typical = 35, above_average = 30, exceptional = 90 }",
            "thresholds must rise from typical to exceptional; typical is 35 and above_average is 30",
        ),
        (
            "thresholds = { typical = 35, above_average = 60, exceptional = 90 }",
            "thresholds = { typical = 35, great = 60 }",
            r"unknown tier \['great'\]",
        ),
        (
            "thresholds = { typical = 35, above_average = 60, exceptional = 90 }",
            "thresholds = {}",
            "give at least one threshold",
        ),
        (
            "thresholds = { typical = 0.25, exceptional = 0.45 }",
            'thresholds = { typical = "25%", exceptional = 0.45 }',
            "typical: must be a finite number; got '25%'",
        ),
        (
            '  { id = "wax_waste", label = "Wax wasted", unit = "kg", help = "Spilled, burnt or rejected wax" },\n',
            "",
            "formula material_efficiency takes 2 inputs .*; the file gives 1",
        ),
        ('{ id = "wax_used", label', '{ id = "wax used", label', "id 'wax used' must be lowercase letters"),
        ('{ id = "wax_used", label = "Wax used", ', '{ id = "wax_used", ', r"input 1: missing 'label'"),
        ('id = "aov"', 'id = "repeat_customer_rate"', "KPI ids must be unique; repeated: repeat_customer_rate"),
        ('name = "Custom scented candles"', "name = 'unclosed", "not valid TOML"),
    ],
)
def test_broken_files_are_refused_with_the_place_named(tmp_path, old, new, message):
    assert old in BASE
    path = tmp_path / "mine.toml"
    path.write_text(BASE.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(CatalogError, match=message) as caught:
        with_business_files([path])
    assert str(path) in str(caught.value)


def test_an_example_that_breaks_the_formula_rules_is_refused(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(BASE + "\n[kpis.example]\ninputs = [5, 6]\nresult = 1\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"example: wax_waste \(6\) must not be more than wax_used \(5\)"):
        load_business_file(path)


def test_a_missing_file_is_a_catalog_error(tmp_path):
    with pytest.raises(CatalogError, match="cannot read the file"):
        load_business_file(tmp_path / "nope.toml")
