"""The Excel functions, through xlwings' own calling path and directly.

``custom_functions_meta`` builds what Excel registers; ``custom_functions_call`` runs a
call the way Excel sends it: every argument a list of rows, ``None`` for empty cells.
The root conftest.py selects xlwings' Office.js runtime (XLWINGS_ON_SERVER=true).
"""

from __future__ import annotations

import asyncio
import math

import numpy as np
import pytest
import xlwings
from hypothesis import given
from hypothesis import strategies as st
from xlwings.server import custom_functions_call, custom_functions_meta

from nichekpi import KpiInputError, default_catalog, formulas, udfs
from nichekpi.formulas import FORMULAS
from tests.spec import ROUNDED_TO, SPEC, spec_id

SPEC_FUNCTIONS = {
    "CSAT": ["satisfied", "responses"],
    "NPS": ["promoters", "passives", "detractors"],
    "CRR": ["customers_end", "new_customers", "customers_start"],
    "REPEAT_RATE": ["repeat_customers", "customers"],
    "AOV": ["revenue", "orders"],
    "ARPU": ["revenue", "users"],
    "CAC": ["sales_marketing_cost", "new_customers"],
    "CONVERSION_RATE": ["converted", "total"],
    "COMPLETION_RATE": ["completed", "scheduled"],
    "ON_TIME_RATE": ["on_time", "deliveries"],
    "REVISION_RATE": ["revised_projects", "projects"],
    "PLACEMENT_RATE": ["placed", "coached"],
    "AVG_TIME": ["total_time", "units"],
    "PER_UNIT": ["total", "units"],
    "GROWTH_RATE": ["current", "previous"],
    "MATERIAL_EFFICIENCY": ["material_used", "material_waste"],
    "MEAN_RATING": ["rating_sum", "responses"],
    "UPLOAD_ORDER_RATIO": ["design_uploads", "orders"],
    "NPS_FROM_SCORES": ["scores"],
    "CSAT_FROM_RATINGS": ["ratings", "scale_max", "satisfied_from"],
    "KPI_TIER": ["value", "kpi", "business", "lang"],
    "KPI_BENCHMARK": ["kpi", "business", "tier"],
    "KPI_LIST": ["business", "lang"],
}

DIV0 = {"type": "Error", "errorType": "Div0"}
NUM = {"type": "Error", "errorType": "Num"}
VALUE = {"type": "Error", "errorType": "Value"}


def call(name, *args, runtime="1.4"):
    """Run a call the way Excel sends it through xlwings."""
    data = {
        "func_name": name,
        "args": list(args),
        "version": xlwings.__version__,
        "client": "Office.js",
        "runtime": runtime,
        "caller_address": "Sheet1!B2",
    }
    return asyncio.run(custom_functions_call(data, udfs))


def cell(value):
    return [[value]]


def column(*values):
    return [[v] for v in values]


# -- registration ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def meta():
    return {f["name"]: f for f in custom_functions_meta(udfs)["functions"]}


def test_every_spec_function_is_registered_under_its_excel_name(meta):
    assert set(meta) == set(SPEC_FUNCTIONS)
    for name, arguments in SPEC_FUNCTIONS.items():
        assert [p["name"] for p in meta[name]["parameters"]] == arguments, name


@pytest.mark.parametrize("name", sorted(SPEC_FUNCTIONS))
def test_every_function_and_argument_has_real_help(meta, name):
    function = meta[name]
    assert 20 < len(function["description"]) <= 255
    assert "\n" not in function["description"]
    assert not function["description"].startswith("Python function")
    for parameter in function["parameters"]:
        assert 10 < len(parameter["description"]) <= 255, (name, parameter)
        assert "Positional argument" not in parameter["description"]


@pytest.mark.parametrize(
    "name", [n for n in SPEC_FUNCTIONS if n.isupper() and not n.startswith(("KPI", "NPS_F", "CSAT_F"))]
)
def test_formula_help_states_the_unit_of_the_result(meta, name):
    description = meta[name]["description"].lower()
    assert any(
        word in description for word in ("fraction", "points", "currency", "time unit", "ratio", "per unit", "scale")
    ), description


def test_optional_arguments_are_registered_as_optional(meta):
    optional = {p["name"] for p in meta["CSAT_FROM_RATINGS"]["parameters"] if p.get("optional")}
    assert optional == {"scale_max", "satisfied_from"}


def test_excel_functions_use_the_formula_library():
    for formula in FORMULAS.values():
        if formula.excel_name:
            assert udfs.parameter_help(getattr(formulas, formula.name)).keys() == set(formula.params)


# -- the articles' worked examples, as Excel calls them ---------------------------------


@pytest.mark.parametrize("row", [r for r in SPEC if r.function], ids=spec_id)
def test_worked_example_through_xlwings(row):
    (result,) = call(row.function, *(cell(v) for v in row.example))
    tolerance = ROUNDED_TO.get((row.business, row.kpi), 1e-12)
    assert result == [pytest.approx(row.result, abs=tolerance)]


@pytest.mark.parametrize("row", SPEC, ids=spec_id)
def test_kpi_tier_of_each_example_matches_the_catalog(row):
    kpi = default_catalog().kpi(row.business, row.kpi)
    assert call("KPI_TIER", cell(row.result), cell(row.kpi), cell(row.business)) == [[kpi.tier(row.result)]]


# -- ranges, spilling and empty cells --------------------------------------------------


def test_ranges_combine_element_by_element_and_spill():
    satisfied = column(120, 80, 0, 45)
    responses = column(150, 100, 10, 50)
    assert call("CSAT", satisfied, responses) == [[0.8], [0.8], [0.0], [0.9]]


def test_a_single_cell_combines_with_every_element():
    assert call("CSAT", [[30, 60, 90]], cell(120)) == [[0.25, 0.5, 0.75]]
    assert call("CRR", column(320, 250), cell(50), column(300, 250)) == [[0.9], [0.8]]


def test_two_dimensional_ranges_keep_their_shape():
    result = call("AOV", [[1000, 2000], [3000, 4000]], [[10, 20], [30, 80]])
    assert result == [[100.0, 100.0], [100.0, 50.0]]


def test_empty_cells_give_empty_results():
    assert call("CSAT", column(120, None, 30), column(150, 100, None)) == [[0.8], [""], [""]]
    assert call("CSAT", cell(None), cell(150)) == [[""]]


def test_mismatched_shapes_say_which_shapes_met():
    with pytest.raises(xlwings.XlwingsError, match="satisfied is 3 rows x 1 column, responses is 2 rows x 1 column"):
        call("CSAT", column(1, 2, 3), column(4, 5))


# -- bad input: an error value per element, never a wrong number -----------------------


def test_each_bad_element_gets_its_own_error_value():
    satisfied = column(120, 5, -1, 2.5, "many", 160, 80)
    responses = column(150, 0, 10, 10, 10, 150, 100)
    assert call("CSAT", satisfied, responses) == [[0.8], [DIV0], [NUM], [NUM], [VALUE], [NUM], [0.8]]


def test_crr_inconsistencies_are_errors():
    assert call("CRR", column(40, 400), column(50, 50), column(300, 300)) == [[NUM], [NUM]]


def test_single_cell_errors():
    assert call("AOV", cell(100), cell(0)) == [[DIV0]]
    assert call("NPS", cell(0), cell(0), cell(0)) == [[DIV0]]
    assert call("GROWTH_RATE", cell("last month"), cell(5)) == [[VALUE]]


def test_error_cells_in_the_inputs_are_errors_not_blanks():
    assert call("CSAT", column("#N/A", 30), column(50, 60)) == [[VALUE], [0.5]]


def test_older_runtimes_get_the_error_text():
    assert call("CSAT", column(1, 5), column(2, 0), runtime="1.3") == [[0.5], ["#DIV/0!"]]


def test_classic_add_in_answers_with_the_librarys_message(monkeypatch):
    """The classic COM add-in cannot carry an error per element: one cell says what is wrong."""
    monkeypatch.setattr(udfs, "per_element_errors", lambda: False)
    assert udfs.CSAT([[120], [160]], [[150], [150]]) == (
        "#NUM! satisfied (160) must not be more than responses (150) (row 2, column 1)"
    )
    assert udfs.CSAT(5, 0) == "#DIV/0! responses must be greater than 0; got 0"
    assert udfs.CSAT([[1], [2]], [[3], [4], [5]]).startswith("#VALUE! the ranges must have the same shape")
    assert udfs.KPI_TIER(0.5, "csat", "bakery").startswith("#VALUE! unknown business type 'bakery'; choose one of:")
    assert udfs.CSAT([[120], [None]], [[150], [150]]) == [[0.8], [None]]


# -- survey answers ------------------------------------------------------------------


def test_nps_from_scores_ignores_blanks():
    assert call("NPS_FROM_SCORES", column(10, 9, None, 8, 6, 10, None)) == [[40.0]]


def test_nps_from_scores_rejects_answers_off_the_scale():
    with pytest.raises(xlwings.XlwingsError, match="scores must be whole numbers from 0 to 10; answer 2 is 11"):
        call("NPS_FROM_SCORES", column(10, 11))


def test_csat_from_ratings_defaults_and_options():
    ratings = column(5, 4, 3, None, 2, 5)
    assert call("CSAT_FROM_RATINGS", ratings, None, None) == [[0.6]]
    assert call("CSAT_FROM_RATINGS", column(10, 8, 7, 3), cell(10), cell(8)) == [[0.5]]
    with pytest.raises(xlwings.XlwingsError, match="ratings must be whole numbers from 1 to 5; answer 1 is 7"):
        call("CSAT_FROM_RATINGS", column(7), None, None)


# -- benchmarks ------------------------------------------------------------------------


def test_kpi_tier_over_a_range_with_blanks_and_text():
    result = call("KPI_TIER", column(0.5, 0.8, None, "n/a", 0.95), cell("csat"), cell("custom-dollhouses"))
    assert result == [["Below typical"], ["Typical"], [""], [VALUE], ["Exceptional"]]


def test_kpi_tier_lower_is_better():
    assert call("KPI_TIER", [[30, 5]], cell("cac"), cell("soundwave-art")) == [["Typical", "Exceptional"]]


def test_kpi_tier_speaks_spanish_and_french():
    values = column(0.5, 0.8, 0.95)
    spanish = call("KPI_TIER", values, cell("csat"), cell("custom-dollhouses"), cell("es"))
    assert spanish == [["Por debajo de lo típico"], ["Típico"], ["Excepcional"]]
    french = call("KPI_TIER", cell(0.86), cell("csat"), cell("custom-dollhouses"), cell("fr"))
    assert french == [["Supérieur à la moyenne"]]
    with pytest.raises(xlwings.XlwingsError, match='lang must be "en", "es" or "fr"; got text \'de\''):
        call("KPI_TIER", cell(0.5), cell("csat"), cell("custom-dollhouses"), cell("de"))


def test_kpi_list_in_french():
    table = call("KPI_LIST", cell("custom-dollhouses"), cell("fr"))
    assert table[0] == [
        "KPI",
        "Nom",
        "Fonction Excel",
        "Unité",
        "Mieux",
        "Typique",
        "Supérieur à la moyenne",
        "Exceptionnel",
    ]
    assert table[1][:5] == ["csat", "Score de satisfaction client (CSAT)", "CSAT", "%", "plus haut"]


def test_kpi_benchmark():
    assert call("KPI_BENCHMARK", cell("csat"), cell("custom-dollhouses"), cell("above_average")) == [[0.85]]
    assert call("KPI_BENCHMARK", cell("csat"), cell("custom-dollhouses"), cell("Exceptional")) == [[0.9]]
    missing = call("KPI_BENCHMARK", cell("retention_rate"), cell("custom-dollhouses"), cell("above_average"))
    assert missing == [[{"type": "Error", "errorType": "NotAvailable"}]]
    with pytest.raises(
        xlwings.XlwingsError, match="tier must be typical, above_average or exceptional; got text 'best'"
    ):
        call("KPI_BENCHMARK", cell("csat"), cell("custom-dollhouses"), cell("best"))


def test_unknown_names_list_the_choices():
    with pytest.raises(xlwings.XlwingsError, match="unknown KPI 'nps' for custom-dollhouses; choose one of: csat,"):
        call("KPI_TIER", cell(0.5), cell("nps"), cell("custom-dollhouses"))


def test_kpi_list_spills_the_table_with_a_header():
    table = call("KPI_LIST", cell("custom-dollhouses"))
    assert table[0] == ["KPI", "Name", "Excel function", "Unit", "Better", "Typical", "Above average", "Exceptional"]
    rows = {row[0]: row for row in table[1:]}
    expected = [r for r in SPEC if r.business == "custom-dollhouses"]
    assert [row[0] for row in table[1:]] == [r.kpi for r in expected]
    for r in expected:
        assert rows[r.kpi][2] == r.function
        assert rows[r.kpi][4] == r.better
        assert [v if v != "" else None for v in rows[r.kpi][5:]] == list(r.thresholds)


# -- the Excel functions agree with the library, element by element ---------------------

element = st.one_of(st.none(), st.integers(-1, 12), st.sampled_from([0.5, 2.5, "x"]))


@pytest.mark.parametrize("name", sorted(f.name for f in FORMULAS.values() if f.excel_name))
@given(data=st.data())
def test_each_excel_function_equals_its_library_function(name, data):
    formula = FORMULAS[name]
    rows = data.draw(st.integers(1, 6))
    args = [data.draw(st.lists(element, min_size=rows, max_size=rows)) for _ in formula.params]
    result = getattr(udfs, formula.excel_name)(*[[[v] for v in a] for a in args])
    if rows == 1:  # a single cell answers with a plain value
        result = [[result]]
    for i, (got,) in enumerate(result):
        values = [a[i] for a in args]
        if any(v is None for v in values) and not any(isinstance(v, str) for v in values):
            assert got is None  # an empty input cell: an empty result
            continue
        try:
            expected = getattr(formulas, name)(*values)
        except KpiInputError as error:
            assert got == udfs.ERROR_VALUES[error.problem]
        else:
            assert got == pytest.approx(expected)


def test_scalar_calls_return_a_plain_number():
    assert udfs.CSAT(120, 150) == 0.8
    assert udfs.CSAT(None, 150) is None
    assert math.isclose(udfs.NPS(60, 20, 20), 40.0)


def test_large_ranges_are_computed_without_a_python_loop_per_cell():
    """A structural check, not a timing: the numpy path handles a 100,000-cell range exactly."""
    rng = np.random.default_rng(7)
    responses = rng.integers(1, 500, 100_000)
    satisfied = (responses * rng.random(100_000)).astype(int)
    result = udfs.CSAT(satisfied[:, None].astype(float).tolist(), responses[:, None].astype(float).tolist())
    assert np.array(result)[:, 0].tolist() == (satisfied / responses).tolist()


def test_the_readmes_worked_example():
    csat = call("CSAT", column(120, 136, 153), column(150, 160, 170))
    assert csat == [[0.8], [0.85], [0.9]]
    tiers = call("KPI_TIER", csat, cell("csat"), cell("custom-dollhouses"))
    assert tiers == [["Typical"], ["Above average"], ["Exceptional"]]


def test_the_readmes_function_tables_match_the_code(meta):
    import re
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    excel = readme.split("### The functions", 1)[1].split("\n\n", 2)[1]
    rows = re.findall(r"^\| `([A-Z_]+)` \| ([^|]+) \|", excel, re.MULTILINE)
    assert {name for name, _ in rows} == set(SPEC_FUNCTIONS)
    for name, arguments in rows:
        if name in {f.excel_name for f in FORMULAS.values()}:
            assert [a.strip() for a in arguments.split(",")] == SPEC_FUNCTIONS[name], name
    python = re.findall(r"^\| `([a-z_]+)` \| `([A-Z_]+)` \| ([^|]+) \|", readme, re.MULTILINE)
    for function, excel_name, arguments in python:
        if function in FORMULAS:
            assert FORMULAS[function].excel_name == excel_name
            assert [a.strip() for a in arguments.split(",")] == list(FORMULAS[function].params)
    assert len(python) == 20
