"""Properties that hold for every formula of a kind, over the whole input space (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from nichekpi import KpiInputError, formulas
from nichekpi._problem import Problem
from nichekpi.formulas import FORMULAS

# Formulas of the form part / whole, where the part may not exceed the whole.
SHARES = [
    "csat",
    "repeat_rate",
    "conversion_rate",
    "completion_rate",
    "on_time_rate",
    "revision_rate",
    "placement_rate",
]
counts = st.integers(min_value=0, max_value=10**9)
amounts = st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False)


@st.composite
def part_and_whole(draw):
    whole = draw(st.integers(min_value=1, max_value=10**9))
    return draw(st.integers(min_value=0, max_value=whole)), whole


@pytest.mark.parametrize("name", SHARES)
@given(values=part_and_whole())
def test_shares_stay_within_0_and_1(name, values):
    assert 0 <= getattr(formulas, name)(*values) <= 1


@pytest.mark.parametrize("name", SHARES)
@given(values=part_and_whole())
def test_shares_rise_with_the_part(name, values):
    part, whole = values
    assume(part < whole)
    function = getattr(formulas, name)
    assert function(part + 1, whole) > function(part, whole)


@pytest.mark.parametrize("name", [*SHARES, "average_order_value", "average_time", "mean_rating", "upload_order_ratio"])
@given(values=part_and_whole(), factor=st.integers(min_value=2, max_value=1000))
def test_scaling_both_leaves_the_value_unchanged(name, values, factor):
    part, whole = values
    function = getattr(formulas, name)
    assert function(part * factor, whole * factor) == pytest.approx(function(part, whole), rel=1e-12)


@given(start=st.integers(1, 10**6), kept=st.integers(0, 10**6), new=st.integers(0, 10**6))
def test_retention_stays_within_0_and_1(start, kept, new):
    assume(kept <= start)
    assert 0 <= formulas.retention_rate(kept + new, new, start) <= 1


@given(used=st.floats(min_value=1e-6, max_value=1e9), share=st.floats(min_value=0, max_value=1))
def test_material_efficiency_stays_within_0_and_1(used, share):
    assert 0 <= formulas.material_efficiency(used, used * share) <= 1


@given(promoters=amounts, passives=amounts, detractors=amounts)
def test_nps_stays_within_minus_100_and_100(promoters, passives, detractors):
    assume(promoters + passives + detractors > 0)
    assert -100 <= formulas.nps(promoters, passives, detractors) <= 100


@given(promoters=counts, passives=counts, detractors=counts)
def test_nps_rises_with_promoters(promoters, passives, detractors):
    assume(promoters + passives + detractors > 0)
    assert formulas.nps(promoters + 1, passives, detractors) >= formulas.nps(promoters, passives, detractors)


@given(scores=st.lists(st.one_of(st.integers(0, 10), st.none()), min_size=1))
def test_nps_from_scores_agrees_with_nps_of_the_counts(scores):
    answers = [s for s in scores if s is not None]
    assume(answers)
    promoters = sum(s >= 9 for s in answers)
    detractors = sum(s <= 6 for s in answers)
    expected = (promoters - detractors) / len(answers) * 100
    assert formulas.nps_from_scores(scores) == pytest.approx(expected, abs=1e-9)


@given(ratings=st.lists(st.integers(1, 10), min_size=1), satisfied_from=st.integers(1, 10))
def test_csat_from_ratings_counts_ratings_at_or_above_the_bar(ratings, satisfied_from):
    expected = sum(r >= satisfied_from for r in ratings) / len(ratings)
    assert formulas.csat_from_ratings(ratings, scale_max=10, satisfied_from=satisfied_from) == pytest.approx(expected)


# -- the vectorized path agrees with the scalar path, element by element --------------

element = st.one_of(
    st.integers(-2, 12),
    st.floats(min_value=-1, max_value=20, allow_nan=False),
    st.sampled_from([math.nan, math.inf, 0.5, 0]),
)


@pytest.mark.parametrize("name", sorted(FORMULAS))
@given(data=st.data())
def test_vectorized_evaluation_matches_the_scalar_function(name, data):
    formula = FORMULAS[name]
    rows = data.draw(st.lists(st.tuples(*[element] * len(formula.params)), min_size=1, max_size=20))
    columns = [np.array(column, dtype=float) for column in zip(*rows)]
    values, problems = formula.evaluate(*columns)
    for row, value, problem in zip(rows, values, problems):
        if any(math.isnan(x) for x in row):
            assert problem == Problem.EMPTY
            continue
        try:
            expected = formula(*row)
        except KpiInputError as error:
            assert problem == error.problem, (row, str(error))
            assert math.isnan(value)
        else:
            assert problem == Problem.OK
            assert value == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("name", sorted(FORMULAS))
@given(data=st.data())
def test_no_valid_result_falls_below_the_declared_lowest_value(name, data):
    formula = FORMULAS[name]
    values = data.draw(st.tuples(*[st.integers(0, 10_000)] * len(formula.params)))
    try:
        result = formula(*values)
    except KpiInputError:
        return
    assert result >= formula.lowest
