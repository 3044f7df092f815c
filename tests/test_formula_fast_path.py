"""The compiled fast path of every formula accepts only what the full checks accept, with the same result."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nichekpi._formula import MAX_COUNT
from nichekpi.errors import KpiInputError
from nichekpi.formulas import FORMULAS

EDGES = [0, 1, 2, 3, 0.0, 0.5, 1.5, 2.0, -0.0, -1, -0.5, MAX_COUNT, MAX_COUNT + 1, float(MAX_COUNT + 1), 1e308,
         10**400, math.inf, -math.inf, math.nan, True, False, None, "3", 3 + 0j]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(EDGES),
    st.integers(min_value=-5, max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0, max_value=1e6),
)


def _full(spec, values):
    """The full checks and the kernel, as before the fast path: a result or the error's message."""
    try:
        result = float(spec.kernel(*spec.validate(values)))
    except KpiInputError as error:
        return ("error", str(error))
    return ("error", "too large") if not math.isfinite(result) else ("value", result)


@pytest.mark.parametrize("name", sorted(FORMULAS))
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_the_fast_path_agrees_with_the_full_checks(name, data):
    spec = FORMULAS[name]
    values = tuple(data.draw(VALUES) for _ in spec.params)
    accepted = spec.accept(*values)
    full = _full(spec, values)
    if accepted is not None:
        assert full == ("value", accepted), (values, full, accepted)
    try:
        got = ("value", spec(*values))
    except KpiInputError as error:
        got = ("error", "too large" if "too large to compute from these inputs" in str(error) else str(error))
    assert got == full, values


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_the_fast_path_takes_the_articles_kind_of_inputs(name):
    spec = FORMULAS[name]
    values = tuple(3 for _ in spec.params)  # equal counts keep every part-of-whole rule
    assert spec.accept(*values) is not None or _full(spec, values)[0] == "error"
