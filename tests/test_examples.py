"""The articles' 35 worked examples, reproduced by the catalog and by the formulas."""

from __future__ import annotations

import pytest

from nichekpi import default_catalog
from nichekpi.formulas import FORMULAS
from tests.spec import ROUNDED_TO, SPEC, spec_id


@pytest.mark.parametrize("row", SPEC, ids=spec_id)
def test_worked_example(row):
    kpi = default_catalog().kpi(row.business, row.kpi)
    tolerance = ROUNDED_TO.get((row.business, row.kpi), 1e-12)
    assert kpi.compute(*row.example) == pytest.approx(row.result, abs=tolerance)


@pytest.mark.parametrize("row", SPEC, ids=spec_id)
def test_excel_function_of_each_kpi(row):
    assert default_catalog().kpi(row.business, row.kpi).function == row.function


@pytest.mark.parametrize("row", [r for r in SPEC if r.function], ids=spec_id)
def test_formula_function_named_in_spec_gives_the_example(row):
    (formula,) = [f for f in FORMULAS.values() if f.excel_name == row.function]
    tolerance = ROUNDED_TO.get((row.business, row.kpi), 1e-12)
    assert formula(*row.example) == pytest.approx(row.result, abs=tolerance)


@pytest.mark.parametrize("row", SPEC, ids=spec_id)
def test_catalog_keeps_the_article_example(row):
    example = default_catalog().kpi(row.business, row.kpi).example
    assert example.inputs == row.example
    assert example.result == row.result


def test_catalog_has_exactly_the_spec_kpis():
    catalog = default_catalog()
    assert {(b.id, k.id) for b in catalog for k in b.kpis} == {(r.business, r.kpi) for r in SPEC}
    assert all(len(b.kpis) == 7 for b in catalog)


def test_every_spec_function_is_a_formula():
    spec_functions = {
        "CSAT", "NPS", "CRR", "REPEAT_RATE", "AOV", "ARPU", "CAC", "CONVERSION_RATE", "COMPLETION_RATE",
        "ON_TIME_RATE", "REVISION_RATE", "PLACEMENT_RATE", "AVG_TIME", "PER_UNIT", "GROWTH_RATE",
        "MATERIAL_EFFICIENCY", "MEAN_RATING", "UPLOAD_ORDER_RATIO",
    }  # fmt: skip
    assert {f.excel_name for f in FORMULAS.values()} - {None} == spec_functions


@pytest.mark.parametrize(
    ("function", "arguments"),
    [
        ("CSAT", ("satisfied", "responses")),
        ("NPS", ("promoters", "passives", "detractors")),
        ("CRR", ("customers_end", "new_customers", "customers_start")),
        ("REPEAT_RATE", ("repeat_customers", "customers")),
        ("AOV", ("revenue", "orders")),
        ("ARPU", ("revenue", "users")),
        ("CAC", ("sales_marketing_cost", "new_customers")),
        ("CONVERSION_RATE", ("converted", "total")),
        ("COMPLETION_RATE", ("completed", "scheduled")),
        ("ON_TIME_RATE", ("on_time", "deliveries")),
        ("REVISION_RATE", ("revised_projects", "projects")),
        ("PLACEMENT_RATE", ("placed", "coached")),
        ("AVG_TIME", ("total_time", "units")),
        ("PER_UNIT", ("total", "units")),
        ("GROWTH_RATE", ("current", "previous")),
        ("MATERIAL_EFFICIENCY", ("material_used", "material_waste")),
        ("MEAN_RATING", ("rating_sum", "responses")),
        ("UPLOAD_ORDER_RATIO", ("design_uploads", "orders")),
    ],
)
def test_arguments_in_the_spec_order(function, arguments):
    (formula,) = [f for f in FORMULAS.values() if f.excel_name == function]
    assert formula.params == arguments
