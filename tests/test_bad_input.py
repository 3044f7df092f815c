"""Every formula refuses input it cannot honestly use, with a message naming the input and the rule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nichekpi import KpiInputError, formulas
from nichekpi.formulas import FORMULAS

# One valid set of inputs per formula, in argument order.
VALID = {
    "csat": (80, 100),
    "nps": (60, 20, 20),
    "retention_rate": (320, 50, 300),
    "repeat_rate": (200, 500),
    "average_order_value": (10000, 100),
    "average_revenue_per_user": (100000, 1000),
    "customer_acquisition_cost": (10000, 100),
    "conversion_rate": (250, 5000),
    "completion_rate": (40, 50),
    "on_time_rate": (90, 100),
    "revision_rate": (3, 10),
    "placement_rate": (30, 50),
    "average_time": (100, 20),
    "per_unit": (60, 10),
    "growth_rate": (800, 500),
    "material_efficiency": (100, 20),
    "mean_rating": (850, 100),
    "upload_order_ratio": (500, 150),
    "count": (150,),
}

# Inputs that must be whole numbers (they count people, orders, sessions...).
WHOLE = {
    "csat": {"satisfied", "responses"},
    "retention_rate": {"customers_end", "new_customers", "customers_start"},
    "repeat_rate": {"repeat_customers", "customers"},
    "average_order_value": {"orders"},
    "average_revenue_per_user": {"users"},
    "customer_acquisition_cost": {"new_customers"},
    "conversion_rate": {"converted", "total"},
    "completion_rate": {"completed", "scheduled"},
    "on_time_rate": {"on_time", "deliveries"},
    "revision_rate": {"revised_projects", "projects"},
    "placement_rate": {"placed", "coached"},
    "average_time": {"units"},
    "per_unit": {"units"},
    "mean_rating": {"responses"},
    "upload_order_ratio": {"design_uploads", "orders"},
    "count": {"count"},
}

# A zero denominator for each formula that divides, and the message it gives.
ZERO = {
    "csat": ((0, 0), "responses must be greater than 0; got 0"),
    "nps": ((0, 0, 0), r"promoters \+ passives \+ detractors must be greater than 0; got 0"),
    "retention_rate": ((0, 0, 0), "customers_start must be greater than 0; got 0"),
    "repeat_rate": ((0, 0), "customers must be greater than 0; got 0"),
    "average_order_value": ((100, 0), "orders must be greater than 0; got 0"),
    "average_revenue_per_user": ((100, 0), "users must be greater than 0; got 0"),
    "customer_acquisition_cost": ((100, 0), "new_customers must be greater than 0; got 0"),
    "conversion_rate": ((0, 0), "total must be greater than 0; got 0"),
    "completion_rate": ((0, 0), "scheduled must be greater than 0; got 0"),
    "on_time_rate": ((0, 0), "deliveries must be greater than 0; got 0"),
    "revision_rate": ((0, 0), "projects must be greater than 0; got 0"),
    "placement_rate": ((0, 0), "coached must be greater than 0; got 0"),
    "average_time": ((10, 0), "units must be greater than 0; got 0"),
    "per_unit": ((10, 0), "units must be greater than 0; got 0"),
    "growth_rate": ((10, 0), "previous must be greater than 0; got 0"),
    "material_efficiency": ((0, 0), "material_used must be greater than 0; got 0"),
    "mean_rating": ((10, 0), "responses must be greater than 0; got 0"),
    "upload_order_ratio": ((10, 0), "orders must be greater than 0; got 0"),
}

# A part larger than its whole, and the message it gives.
PART_OVER_WHOLE = [
    ("csat", (120, 100), r"satisfied \(120\) must not be more than responses \(100\)"),
    ("repeat_rate", (501, 500), r"repeat_customers \(501\) must not be more than customers \(500\)"),
    ("conversion_rate", (6, 5), r"converted \(6\) must not be more than total \(5\)"),
    ("completion_rate", (51, 50), r"completed \(51\) must not be more than scheduled \(50\)"),
    ("on_time_rate", (101, 100), r"on_time \(101\) must not be more than deliveries \(100\)"),
    ("revision_rate", (11, 10), r"revised_projects \(11\) must not be more than projects \(10\)"),
    ("placement_rate", (51, 50), r"placed \(51\) must not be more than coached \(50\)"),
    ("material_efficiency", (10, 10.5), r"material_waste \(10.5\) must not be more than material_used \(10\)"),
    ("retention_rate", (40, 50, 300), r"new_customers \(50\) must not be more than customers_end \(40\)"),
    (
        "retention_rate",
        (400, 50, 300),
        r"customers_end - new_customers \(350\) must not be more than customers_start \(300\): "
        "you cannot keep more customers",
    ),
]


def _with(name, position, value):
    values = list(VALID[name])
    values[position] = value
    return values


def _each_input():
    for name, formula in FORMULAS.items():
        for position, param in enumerate(formula.params):
            yield name, position, param


EACH_INPUT = list(_each_input())
IDS = [f"{n}.{p}" for n, _, p in EACH_INPUT]


def test_every_formula_has_a_valid_case_and_its_whole_inputs_listed():
    assert set(VALID) == set(FORMULAS)
    for name, formula in FORMULAS.items():
        assert formula.whole == WHOLE.get(name, set()), name
        assert getattr(formulas, name).formula is formula


@pytest.mark.parametrize(("name", "position", "param"), EACH_INPUT, ids=IDS)
@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-1, "must not be negative; got -1"),
        (math.nan, r"must be a finite number; got NaN \(not a number\)"),
        (math.inf, "must be a finite number; got infinity"),
        ("twelve", "must be a number; got text 'twelve'"),
        ("", "must be a number; got text ''"),
        (None, "must be a number; got an empty value"),
        (True, "must be a number; got TRUE"),
        ([3], "must be a number; got list"),
    ],
    ids=["negative", "nan", "inf", "text", "empty-text", "none", "bool", "list"],
)
def test_each_input_rejects_what_is_not_a_usable_number(name, position, param, value, message):
    function = getattr(formulas, name)
    with pytest.raises(KpiInputError, match=f"^{param} {message}") as caught:
        function(*_with(name, position, value))
    assert caught.value.argument == param


@pytest.mark.parametrize(
    ("name", "position", "param"), [c for c in EACH_INPUT if c[2] in WHOLE.get(c[0], ())], ids=lambda c: str(c)
)
def test_counts_must_be_whole_numbers(name, position, param):
    with pytest.raises(KpiInputError, match=f"^{param} must be a whole number .*; got 2.5$"):
        getattr(formulas, name)(*_with(name, position, 2.5))


@pytest.mark.parametrize("name", sorted(ZERO))
def test_zero_denominator(name):
    values, message = ZERO[name]
    with pytest.raises(KpiInputError, match=f"^{message}$"):
        getattr(formulas, name)(*values)


def test_every_dividing_formula_has_a_zero_case():
    assert {name for name, f in FORMULAS.items() if f.denominators} == set(ZERO)


@pytest.mark.parametrize(("name", "values", "message"), PART_OVER_WHOLE, ids=[c[0] for c in PART_OVER_WHOLE])
def test_part_larger_than_its_whole(name, values, message):
    with pytest.raises(KpiInputError, match=f"^{message}"):
        getattr(formulas, name)(*values)


def test_wrong_number_of_inputs():
    with pytest.raises(TypeError):
        formulas.csat(1)
    with pytest.raises(KpiInputError, match=r"CSAT takes 2 inputs \(satisfied, responses\); got 3"):
        FORMULAS["csat"].validate((1, 2, 3))


def test_messages_can_use_a_kpis_own_input_names():
    with pytest.raises(KpiInputError, match=r"^clients_end - new_clients \(270\) must not be more than clients_start"):
        FORMULAS["retention_rate"](320, 50, 200, names=["clients_end", "new_clients", "clients_start"])
    with pytest.raises(KpiInputError, match="^models must be greater than 0; got 0$"):
        FORMULAS["average_time"](10, 0, names=["total_hours", "models"])


def test_input_errors_are_value_errors():
    with pytest.raises(ValueError):
        formulas.csat(-1, 10)


def test_numpy_numbers_are_numbers():
    assert formulas.csat(np.int64(80), np.float64(100)) == 0.8


# -- raw survey answers ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        ([10, 11], "scores must be whole numbers from 0 to 10; answer 2 is 11"),
        ([10, -1], "scores must be whole numbers from 0 to 10; answer 2 is -1"),
        ([9.5], "scores must be whole numbers from 0 to 10; answer 1 is 9.5"),
        ([10, None, "ten"], "scores must be numbers from 0 to 10; answer 3 is text 'ten'"),
        ([None, None], "scores holds no answers; at least one is needed"),
        ([], "scores holds no answers"),
    ],
)
def test_nps_from_scores_rejects(scores, message):
    with pytest.raises(KpiInputError, match=f"^{message}"):
        formulas.nps_from_scores(scores)


@pytest.mark.parametrize(
    ("ratings", "options", "message"),
    [
        ([5, 6], {}, "ratings must be whole numbers from 1 to 5; answer 2 is 6"),
        ([0], {}, "ratings must be whole numbers from 1 to 5; answer 1 is 0"),
        (
            [10, 7],
            {"scale_max": 10, "satisfied_from": 11},
            r"satisfied_from must be from 1 to scale_max \(10\); got 11",
        ),
        ([4], {"scale_max": 1}, "scale_max must be at least 2; got 1"),
        ([4], {"scale_max": 7.5}, "scale_max must be a whole number; got 7.5"),
        ([4], {"satisfied_from": "4"}, "satisfied_from must be a whole number; got text '4'"),
        (["great"], {}, "ratings must be numbers from 1 to 5; answer 1 is text 'great'"),
        ([None], {}, "ratings holds no answers"),
    ],
)
def test_csat_from_ratings_rejects(ratings, options, message):
    with pytest.raises(KpiInputError, match=f"^{message}"):
        formulas.csat_from_ratings(ratings, **options)


def test_survey_functions_skip_blanks_and_flatten_ranges():
    assert formulas.nps_from_scores([[10], [None], [""], [6]]) == 0.0
    assert formulas.csat_from_ratings([[10, 9], [None, 3]], scale_max=10, satisfied_from=8) == pytest.approx(2 / 3)
