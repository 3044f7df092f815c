"""nichekpi's xlwings converter (nichekpi._xlwings_speed.Cells) gives what xlwings' own gives.

``Cells`` hands plain numbers over without xlwings' per-cell cleaning and leaves
everything else to xlwings' standard pipeline. These tests hold it to that: for any
value Excel can send, and any result a function can return, its reading and writing
equal those of xlwings' standard converter (``ValueAccessor``), on the Office.js
engine that xlwings Server and xlwings Lite use; and on another engine (the classic
add-in's COM) it is xlwings' pipeline that runs.
"""

from __future__ import annotations

import asyncio
import math
import types

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from xlwings import conversion

from nichekpi import udfs
from nichekpi._xlwings_speed import Cells

ARGUMENT = {"ndim": 2, "err_to_str": True}
DIV0 = {"type": "Error", "basicValue": "#DIV/0!", "errorType": "Div0"}


class JsNullLike:
    """Stands for a value of a type the converter does not know (Pyodide's JsNull, a data type)."""

    def __eq__(self, other):
        return isinstance(other, JsNullLike)

    __hash__ = object.__hash__


cells = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.none(),
    st.sampled_from(["", "text", "#N/A", "10"]),
    st.just(DIV0),
    st.just({"type": "FormattedNumber", "basicValue": 45000.0}),
    st.builds(JsNullLike),
)
plain_cells = st.one_of(st.floats(allow_nan=False), st.integers(-1000, 1000), st.booleans(), st.none())


def grids(elements):
    return st.integers(1, 4).flatmap(
        lambda columns: st.lists(st.lists(elements, min_size=columns, max_size=columns), min_size=1, max_size=4)
    )


values = st.one_of(cells, grids(cells), st.lists(cells, min_size=1, max_size=4))
results = st.one_of(
    cells,
    grids(
        st.one_of(
            st.floats(), st.none(), st.sampled_from(["#DIV/0!", "#NUM!", "#VALUE!", "Typical"]), st.integers(-5, 5)
        )
    ),
    grids(st.floats(allow_nan=False)),
    grids(st.floats()),  # NaN and infinities among plain floats
    st.builds(np.float64, st.floats()),
)


def same(a, b) -> bool:
    """Equal, NaN equal to NaN, and the same types (1 and 1.0 and True differ for Excel)."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def read(value, convert):
    return conversion.read(
        None, value, {**ARGUMENT, "convert": convert} if convert else ARGUMENT, engine_name="officejs"
    )


def write(value, convert):
    options = {"date_format": None, "runtime": "1.4"} | ({"convert": convert} if convert else {})
    return asyncio.run(conversion.async_write(value, None, options, engine_name="officejs"))


@settings(max_examples=300, deadline=None)
@given(values)
def test_reading_equals_xlwings_standard_reading(value):
    assert same(read(value, Cells), read(value, None))


@settings(max_examples=300, deadline=None)
@given(results)
def test_writing_equals_xlwings_standard_writing(value):
    assert same(write(value, Cells), write(value, None))


@settings(max_examples=100, deadline=None)
@given(grids(plain_cells))
def test_plain_numbers_are_handed_over_as_they_are(rows):
    assert read(rows, Cells) is rows


def test_a_result_with_nan_or_an_error_goes_through_xlwings_cleaning():
    assert write([[1.0], [math.nan]], Cells) == [[1.0], [{"type": "Error", "errorType": "Num"}]]
    assert write([[1.0], ["#DIV/0!"], [None]], Cells) == [[1.0], [{"type": "Error", "errorType": "Div0"}], [""]]
    assert write([[0.5, 0.25]], Cells) == [[0.5, 0.25]]


def test_another_engine_gets_xlwings_standard_pipeline():
    """The classic add-in (COM) reads through its own engine: Cells leaves it all to xlwings."""
    cleaned = []

    def clean_value_data(data, *args):
        cleaned.append(data)
        return [["cleaned"]]

    engine = types.SimpleNamespace(impl=types.SimpleNamespace(name="excel", clean_value_data=clean_value_data))
    context = conversion.ConversionContext(value=[[1.0]], engine_name="officejs")
    context.engine = engine
    Cells.reader({**ARGUMENT, "convert": Cells})(context)
    assert cleaned == [[[1.0]]] and context.value == [["cleaned"]]


@pytest.mark.parametrize("name", udfs.__all__)
def test_every_excel_function_returns_through_the_converter(name):
    info = getattr(udfs, name).__xlfunc__
    assert info["ret"]["options"]["convert"] is Cells
    ranges = [a for a in info["args"] if a["options"].get("ndim") == 2]
    assert all(a["options"]["convert"] is Cells for a in ranges)
