"""Plausible inputs only (issue 8): impossible KPI values, raw answers that are not answers,
and numbers too large for a float are refused, in Python and through both xlwings paths.

Expected values and ranges are written here by hand from the spec's conventions (a
share is 0 to 1, NPS -100 to 100 points, money and times not negative, a score out of
10 at most 10, growth at least -100%), not read back from the catalog.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import xlwings
from hypothesis import given, settings
from hypothesis import strategies as st

from nichekpi import KpiInputError, default_catalog, formulas, tier, udfs
from nichekpi._problem import Problem
from nichekpi.catalog import CatalogError, builtin_units, parse_business
from nichekpi.formulas import FORMULAS
from tests.test_udfs import NUM, VALUE, call, cell, column

# -- KPI_TIER / tier(): values a KPI cannot take -----------------------------------------

# (business, kpi, value, message): one per kind of range.
IMPOSSIBLE = [
    (
        "custom-dollhouses",
        "csat",
        80,
        r"^value must be from 0 to 1 \(0% to 100%\) for csat; got 80; "
        r"80 looks like a percentage: type 80% or 0\.8$",
    ),
    ("custom-dollhouses", "csat", 1.5, r"^value must be from 0 to 1 \(0% to 100%\) for csat; got 1\.5$"),
    ("custom-dollhouses", "csat", -0.2, r"^value must be from 0 to 1 \(0% to 100%\) for csat; got -0\.2$"),
    (
        "remote-career-coaching",
        "placement_rate",
        45.5,
        r"got 45\.5; 45\.5 looks like a percentage: type 45\.5% or 0\.455$",
    ),
    ("soundwave-art", "nps", 150, r"^value must be from -100 to 100 for nps; got 150$"),
    ("soundwave-art", "nps", -101, r"^value must be from -100 to 100 for nps; got -101$"),
    ("soundwave-art", "aov", -5, r"^value must not be negative for aov; got -5$"),
    ("soundwave-art", "cac", -0.01, r"^value must not be negative for cac; got -0\.01$"),
    ("custom-miniature-modeling", "orders_completed", -1, r"^value must not be negative for orders_completed; got -1$"),
    ("soundwave-art", "artwork_production_time", -3, r"^value must not be negative for artwork_production_time"),
    (
        "custom-miniature-modeling",
        "social_engagement_growth",
        -1.5,
        r"^value must be at least -1 \(-100%\) for social_engagement_growth; got -1\.5$",
    ),
    (
        "custom-3d-printed-toys",
        "post_production_satisfaction",
        11,
        r"^value must be from 0 to 10 for post_production_satisfaction; got 11$",
    ),
    ("custom-dollhouses", "aov", 10**400, r"^value is too large to compute with; got a number of 401 digits$"),
    ("custom-dollhouses", "csat", 10**400, r"for csat; got a number of 401 digits$"),
]


@pytest.mark.parametrize(("business", "kpi", "value", "message"), IMPOSSIBLE, ids=lambda v: str(v)[:20])
def test_tier_refuses_values_the_kpi_cannot_take(business, kpi, value, message):
    with pytest.raises(KpiInputError, match=message) as caught:
        tier(value, kpi, business)
    assert caught.value.problem == Problem.OUT_OF_RANGE


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_tier_refuses_infinity_and_nan(value):
    with pytest.raises(KpiInputError, match="^value must be a finite number; got "):
        tier(value, "aov", "soundwave-art")


@pytest.mark.parametrize(
    ("business", "kpi", "value", "expected"),
    [
        ("custom-dollhouses", "csat", 0, "Below typical"),
        ("custom-dollhouses", "csat", 1, "Exceptional"),
        ("soundwave-art", "nps", -100, "Below typical"),
        ("soundwave-art", "nps", 100, "Exceptional"),
        ("soundwave-art", "cac", 0, "Exceptional"),  # lower is better; nothing spent is allowed
        # growth has no upper bound: 3x the previous period is 200% growth, and 80 is 8,000%
        ("custom-miniature-modeling", "social_engagement_growth", 80, "Exceptional"),
        ("custom-miniature-modeling", "social_engagement_growth", -1, "Below typical"),
        ("custom-3d-printed-toys", "post_production_satisfaction", 10, "Exceptional"),
    ],
)
def test_tier_accepts_the_ends_of_each_range(business, kpi, value, expected):
    assert tier(value, kpi, business) == expected


def test_kpi_tier_through_office_js_marks_each_impossible_value():
    values = column(0.8, 80, 1.5, None, "n/a", math.inf, -0.1, 0.95)
    result = call("KPI_TIER", values, cell("csat"), cell("custom-dollhouses"))
    assert result == [["Typical"], [NUM], [NUM], [""], [VALUE], [NUM], [NUM], ["Exceptional"]]
    assert call("KPI_TIER", cell(150), cell("nps"), cell("soundwave-art")) == [[NUM]]
    assert call("KPI_TIER", cell(-5), cell("aov"), cell("soundwave-art")) == [[NUM]]


def test_kpi_tier_through_the_classic_add_in_says_why(monkeypatch):
    monkeypatch.setattr(udfs, "per_element_errors", lambda: False)
    assert udfs.KPI_TIER(80, "csat", "custom-dollhouses") == (
        "#NUM! value must be from 0 to 1 (0% to 100%) for csat; got 80; 80 looks like a percentage: type 80% or 0.8"
    )
    assert udfs.KPI_TIER([[0.8], [150]], "nps", "soundwave-art") == (
        "#NUM! value must be from -100 to 100 for nps; got 150 (row 2, column 1)"
    )
    assert (
        udfs.KPI_TIER([[0.8], ["n/a"]], "csat", "custom-dollhouses") == "#VALUE! value must be a number; got text 'n/a'"
    )


def test_every_builtin_threshold_is_inside_its_kpis_range():
    """The ranges, restated by unit from the spec, hold every benchmark the articles give."""
    expected = {"fraction": (0, 1), "points": (-100, 100), "score": (0, 10)}
    for business in default_catalog():
        for kpi in business.kpis:
            low, high = expected.get(kpi.unit.id, (0, math.inf))
            if kpi.id == "social_engagement_growth":
                low, high = -1, math.inf
            assert (kpi.lowest, kpi.highest) == (low, high), (business.id, kpi.id)
            for threshold in kpi.thresholds.values():
                assert threshold is None or low <= threshold <= high


def _business(**kpi_fields):
    kpi = {
        "id": "happy",
        "name": "Happy customers",
        "formula": "csat",
        "unit": "fraction",
        "better": "higher",
        "thresholds": {"typical": 0.7},
        "inputs": [
            {"id": "satisfied", "label": "Satisfied", "unit": "responses"},
            {"id": "responses", "label": "Responses", "unit": "responses"},
        ],
    } | kpi_fields
    return {"id": "custom-candles", "name": "Custom candles", "kpis": [kpi]}


def test_a_threshold_the_kpi_can_never_reach_is_refused_at_load():
    with pytest.raises(
        CatalogError, match=r"thresholds: typical is 70, which happy can never reach \(its values are from 0 to 1\)"
    ):
        parse_business(_business(thresholds={"typical": 70}), builtin_units(), "candles.toml")


# -- raw answers: TRUE/FALSE, text and NaN are not answers --------------------------------


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        ([10, True], "^scores must be numbers from 0 to 10; answer 2 is TRUE$"),
        ([[10], [False]], "^scores must be numbers from 0 to 10; answer 2 is FALSE$"),
        ([9, None, "10"], "^scores must be numbers from 0 to 10; answer 3 is text '10'$"),
        ([[10, 9], [8, "7"]], "^scores must be numbers from 0 to 10; answer 4 is text '7'$"),
        ([10, math.nan], r"^scores must be whole numbers from 0 to 10; answer 2 is NaN \(not a number\)$"),
        ([[None], [math.nan]], r"^scores must be whole numbers from 0 to 10; answer 2 is NaN \(not a number\)$"),
        (np.array([10.0, np.nan]), r"^scores must be whole numbers from 0 to 10; answer 2 is NaN"),
        (np.array([True, False]), "^scores must be numbers from 0 to 10; answer 1 is TRUE$"),
        ([np.float64(10), np.float64("nan"), None], r"^scores must be whole numbers from 0 to 10; answer 2 is NaN"),
        ([np.float64("nan"), None], r"^scores must be whole numbers from 0 to 10; answer 1 is NaN"),
        ([10**400], "^scores must be whole numbers from 0 to 10; answer 1 is a number of 401 digits$"),
    ],
)
def test_nps_from_scores_refuses_what_is_not_an_answer(scores, message):
    with pytest.raises(KpiInputError, match=message):
        formulas.nps_from_scores(scores)


@pytest.mark.parametrize(
    ("ratings", "message"),
    [
        ([5, False], "^ratings must be numbers from 1 to 5; answer 2 is FALSE$"),
        ([[5], ["4"]], "^ratings must be numbers from 1 to 5; answer 2 is text '4'$"),
        ([4, math.nan, 5], r"^ratings must be whole numbers from 1 to 5; answer 2 is NaN \(not a number\)$"),
    ],
)
def test_csat_from_ratings_refuses_what_is_not_an_answer(ratings, message):
    with pytest.raises(KpiInputError, match=message):
        formulas.csat_from_ratings(ratings)


def test_none_is_still_a_blank_in_python():
    assert formulas.nps_from_scores([10, None, 6, None]) == 0.0  # one promoter, one detractor
    assert formulas.csat_from_ratings([[5], [None], [2]]) == 0.5


def test_raw_answer_functions_through_office_js_name_the_answer():
    with pytest.raises(xlwings.XlwingsError, match="scores must be numbers from 0 to 10; answer 2 is TRUE"):
        call("NPS_FROM_SCORES", column(10, True))
    with pytest.raises(xlwings.XlwingsError, match="scores must be numbers from 0 to 10; answer 3 is text '10'"):
        call("NPS_FROM_SCORES", column(10, None, "10"))
    with pytest.raises(xlwings.XlwingsError, match="ratings must be numbers from 1 to 5; answer 1 is FALSE"):
        call("CSAT_FROM_RATINGS", column(False, 5), None, None)


def test_raw_answer_functions_through_the_classic_add_in_name_the_answer(monkeypatch):
    monkeypatch.setattr(udfs, "per_element_errors", lambda: False)
    assert udfs.NPS_FROM_SCORES([[10], [True]]) == "#VALUE! scores must be numbers from 0 to 10; answer 2 is TRUE"
    assert udfs.CSAT_FROM_RATINGS([[5], ["4"]]) == "#VALUE! ratings must be numbers from 1 to 5; answer 2 is text '4'"


# -- overflow and exactness ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "values", "message"),
    [
        ("nps", (1e308, 1e308, 0), r"^promoters \+ passives \+ detractors is too large to compute with$"),
        ("nps", (0, 1e308, 1e308), r"^promoters \+ passives \+ detractors is too large to compute with$"),
        (
            "csat",
            (2**53 + 1, 2**53),
            r"^satisfied must be at most 9,007,199,254,740,991 \(a larger count cannot be stored exactly\); "
            r"got 9007199254740993$",
        ),
        ("csat", (1, 2**53 + 1), r"^responses must be at most 9,007,199,254,740,991 "),
        ("csat", (10**400, 10**401), "^satisfied is too large to compute with; got a number of 401 digits$"),
        ("average_order_value", (10**400, 5), "^revenue is too large to compute with; got a number of 401 digits$"),
        ("growth_rate", (1e308, 1e-308), "^GROWTH_RATE is too large to compute from these inputs$"),
    ],
)
def test_numbers_too_large_are_errors_not_results(name, values, message):
    with pytest.raises(KpiInputError, match=message) as caught:
        getattr(formulas, name)(*values)
    assert caught.value.problem == Problem.OUT_OF_RANGE


def test_the_largest_exact_count_is_still_accepted():
    assert formulas.csat(2**53 - 1, 2**53 - 1) == 1.0
    assert formulas.nps(2**53, 0, 0) == 100.0  # NPS takes shares as well as counts: no exactness rule


@pytest.mark.parametrize(
    ("name", "row"),
    [
        ("nps", (1e308, 1e308, 0.0)),
        ("nps", (1e308, 0.0, 1e308)),
        ("csat", (float(2**53 + 2), float(2**53 + 2))),
        ("retention_rate", (float(2**60), 0.0, float(2**60))),
        ("growth_rate", (1e308, 1e-308)),
    ],
)
def test_the_vectorized_path_refuses_the_same_overflows(name, row):
    formula = FORMULAS[name]
    with pytest.raises(KpiInputError) as caught:
        formula(*row)
    values, problems = formula.evaluate(*(np.array([v]) for v in row))
    assert problems.tolist() == [caught.value.problem]
    assert math.isnan(values[0])


def test_excel_functions_refuse_overflow_in_both_runtimes(monkeypatch):
    assert call("NPS", cell(1e308), cell(1e308), cell(0)) == [[NUM]]
    assert call("NPS", column(1e308, 6), column(1e308, 2), column(0, 2)) == [[NUM], [40.0]]
    assert udfs.CSAT([[10**400], [1]], [[1], [2]]) == [["#NUM!"], [0.5]]
    monkeypatch.setattr(udfs, "per_element_errors", lambda: False)
    assert udfs.NPS(1e308, 1e308, 0) == "#NUM! promoters + passives + detractors is too large to compute with"
    assert udfs.CSAT([[10**400], [1]], [[1], [2]]) == (
        "#NUM! satisfied is too large to compute with; got a number of 401 digits (row 1, column 1)"
    )


@pytest.mark.parametrize("name", sorted(FORMULAS))
@given(data=st.data())
def test_no_valid_result_rises_above_the_declared_highest_value(name, data):
    formula = FORMULAS[name]
    values = data.draw(st.tuples(*[st.integers(0, 10_000)] * len(formula.params)))
    try:
        result = formula(*values)
    except KpiInputError:
        return
    assert formula.lowest <= result <= formula.highest


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"scale_max": 10**400}, "^scale_max must be a whole number up to 1000; got a number of 401 digits$"),
        ({"scale_max": math.inf}, "^scale_max must be a whole number up to 1000; got infinity$"),
        ({"satisfied_from": math.nan}, r"^satisfied_from must be a whole number up to 1000; got NaN \(not a number\)$"),
    ],
)
def test_csat_from_ratings_options_beyond_any_scale(options, message):
    with pytest.raises(KpiInputError, match=message):
        formulas.csat_from_ratings([4, 5], **options)


huge = st.one_of(
    st.floats(min_value=0, max_value=1.7976931348623157e308),
    st.sampled_from([1e308, 1.7e308, 2.0**53 - 1, 2.0**53, 2.0**53 + 2, 2.0**60, 5e-324, 0.0, 1.0]),
)


@pytest.mark.parametrize("name", sorted(FORMULAS))
@settings(max_examples=40)
@given(data=st.data())
def test_scalar_and_vectorized_paths_agree_on_huge_values(name, data):
    formula = FORMULAS[name]
    rows = data.draw(st.lists(st.tuples(*[huge] * len(formula.params)), min_size=1, max_size=10))
    values, problems = formula.evaluate(*(np.array(column, dtype=float) for column in zip(*rows)))
    for row, value, problem in zip(rows, values, problems):
        try:
            expected = formula(*row)
        except KpiInputError as error:
            assert problem == error.problem, (row, str(error))
            assert math.isnan(value)
        else:
            assert problem == Problem.OK, row
            assert math.isfinite(expected)
            assert value == pytest.approx(expected, rel=1e-12, abs=1e-300)


def test_kpi_tier_called_with_one_plain_value():
    """A single value that is not a range (a direct call): the tier's name, not a float conversion error."""
    assert udfs.KPI_TIER(0.5, "csat", "custom-dollhouses") == "Below typical"
    assert udfs.KPI_TIER(80, "csat", "custom-dollhouses") == "#NUM!"
