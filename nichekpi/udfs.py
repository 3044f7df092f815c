"""The Excel functions: every KPI formula of the catalog as an xlwings custom function.

This module only converts what Excel sends and what Excel shows; the arithmetic
and the rules are the formula library's (:mod:`nichekpi.formulas`), and the
benchmarks are the catalog's. The functions are declared with
``from xlwings import func, arg, ret``, the form that the classic Windows add-in,
xlwings Server and xlwings Lite all read.

What Excel sends: each argument is one cell (a number, text, ``None`` when empty)
or a range, as a list of rows (``ndim=2``). Ranges of the same shape combine
element by element and a single cell combines with every element; the result has
that shape and spills.

What Excel shows for an element that cannot be computed depends on the runtime:

* xlwings Lite and xlwings Server (Office.js) carry an error value per element:
  ``#DIV/0!`` for a zero denominator, ``#NUM!`` for a negative or fractional count,
  a part larger than its whole, a number too large to compute with, or a
  ``KPI_TIER`` value the KPI cannot take (a CSAT of 80), ``#VALUE!`` for text or
  TRUE/FALSE. xlwings turns these strings into real Excel errors.
* The classic Windows add-in (COM) has no per-element error values: xlwings passes
  strings through as text and turns NaN into an empty cell. There the whole call
  answers with one cell holding the error and the formula library's message, such
  as ``#NUM! satisfied (160) must not be more than responses (150)``, instead of
  the full Python traceback an exception would put in the cell.

A problem with the call as a whole (ranges of different shapes, an unknown
business type) is an error in every runtime: a message in the cell for the classic
add-in, ``#VALUE!`` with the message on its error flag for Office.js.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import math
import numbers
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
from xlwings import XlwingsError, arg, func, ret

from nichekpi import _xlwings_speed, formulas
from nichekpi._formula import Formula, show
from nichekpi._problem import Problem
from nichekpi._xlwings_speed import Cells
from nichekpi.catalog import LANGUAGES, TIER_KEYS, TIERS, default_catalog, tier_indices, tier_names, words
from nichekpi.errors import KpiError, KpiInputError
from nichekpi.formulas import FORMULAS

_xlwings_speed.install()

ERROR_VALUES = {
    Problem.NOT_A_NUMBER: "#VALUE!",
    Problem.OUT_OF_RANGE: "#NUM!",
    Problem.ZERO_DENOMINATOR: "#DIV/0!",
}


def per_element_errors() -> bool:
    """Whether the runtime shows an Excel error value per element (Office.js) or not (classic COM)."""
    office_js = os.environ.get("XLWINGS_ON_SERVER") == "true" or sys.platform == "emscripten"
    return office_js or not sys.platform.startswith("win")


class CallError(KpiError):
    """A problem with a call as a whole (shapes, names), reported as Excel can show it."""


def error_cell(code: str, message: object) -> str:
    """One cell's error as the runtime can show it: the error value, or (classic add-in) it and the message."""
    return code if per_element_errors() else f"{code} {message}"


def _answer_error(error: KpiError, code: str = "#VALUE!") -> str:
    """Report a failed call the way the runtime can show it (see the module docstring)."""
    if per_element_errors():
        raise XlwingsError(str(error)) from error
    return error_cell(code, error)


def _excel_safe(function: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the library's errors for a whole call into what the runtime can show."""

    @functools.wraps(function)
    def call(*args: Any) -> Any:
        try:
            return function(*args)
        except KpiInputError as error:
            return _answer_error(error, ERROR_VALUES.get(error.problem, "#VALUE!"))
        except KpiError as error:
            return _answer_error(error)

    return call


# -- what Excel sends -------------------------------------------------------------


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _float(value: object) -> float:
    """A number as a float; an integer too large for one is infinite (and so out of range)."""
    try:
        return float(value)  # type: ignore[arg-type]
    except OverflowError:
        return math.inf if value > 0 else -math.inf  # type: ignore[operator]


def _is_blank(value: object) -> bool:
    return value is None or value == ""


class Grid(NamedTuple):
    """One argument as a 2-D float array: NaN where empty, ``text`` marks non-numbers."""

    values: np.ndarray
    text: np.ndarray | None
    cells: list[list[object]]
    single: bool


_PLAIN = {float, int, type(None)}


def to_grid(value: object) -> Grid:
    """Convert one argument as Excel sends it (a cell, or a list of rows) to a :class:`Grid`."""
    single = not isinstance(value, (list, tuple))
    if single:
        rows: Sequence[Sequence[object]] = [[value]]
    elif value and all(isinstance(row, (list, tuple)) for row in value[:1]):
        rows = value  # type: ignore[assignment]
    else:
        rows = [value]  # type: ignore[list-item]
    if set(map(type, itertools.chain.from_iterable(rows))) <= _PLAIN:
        try:
            return Grid(np.array(rows, dtype=float).reshape(len(rows), -1), None, rows, single)
        except ValueError:
            raise CallError("a range must be a rectangle of cells") from None
        except OverflowError:  # an integer beyond any float: the slow path marks it infinite
            pass
    flat = list(itertools.chain.from_iterable(rows))
    if not flat or len(flat) % len(rows) or any(len(row) != len(flat) // len(rows) for row in rows):
        raise CallError("a range must be a rectangle of cells")
    text = np.array([not _is_number(v) and not _is_blank(v) for v in flat]).reshape(len(rows), -1)
    numbers_only = [_float(v) if _is_number(v) else math.nan for v in flat]
    return Grid(np.array(numbers_only, dtype=float).reshape(len(rows), -1), text, rows, single)


def _shape_text(shape: tuple[int, int]) -> str:
    rows, columns = shape
    return f"{rows} row{'s' * (rows != 1)} x {columns} column{'s' * (columns != 1)}"


def common_shape(grids: Sequence[Grid], names: Sequence[str]) -> tuple[int, int]:
    """The shape every range shares; single cells fit any shape."""
    shapes = [(n, g.values.shape) for n, g in zip(names, grids) if g.values.shape != (1, 1)]
    distinct = {shape for _, shape in shapes}
    if len(distinct) > 1:
        met = ", ".join(f"{name} is {_shape_text(shape)}" for name, shape in shapes)
        raise CallError(f"the ranges must have the same shape (or be single cells); {met}")
    return distinct.pop() if distinct else (1, 1)


# -- what Excel shows ---------------------------------------------------------------


def to_excel(values: np.ndarray, problems: np.ndarray, single: bool, explain: Callable[[int, int], str]) -> Any:
    """Results as Excel shows them: numbers, empty cells, error values (or the classic message)."""
    if per_element_errors() or not (problems > Problem.EMPTY).any():
        if single:
            problem = Problem(int(problems[0, 0]))
            if problem != Problem.OK:
                return ERROR_VALUES.get(problem)
            value = values[0, 0]  # a number, or a tier's name
            return float(value) if isinstance(value, np.floating) else value
        if not problems.any():
            return values.tolist()
        out = values.astype(object)
        out[problems == Problem.EMPTY] = None
        for problem, error in ERROR_VALUES.items():
            out[problems == problem] = error
        return out.tolist()
    row, column = (int(i[0]) for i in np.nonzero(problems > Problem.EMPTY))
    return error_cell(ERROR_VALUES[Problem(int(problems[row, column]))], explain(row, column))


def _single_cell(value: object) -> object:
    while isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    return value


def evaluate(formula: Formula, args: Sequence[object]) -> Any:
    """Apply a formula to Excel arguments, element by element."""
    cells = [_single_cell(a) for a in args]
    if not any(isinstance(c, (list, tuple)) for c in cells):  # the common case: one cell each
        if any(_is_blank(c) for c in cells) and all(_is_blank(c) or _is_number(c) for c in cells):
            return None  # text next to an empty cell is still an error, as on the range path
        try:
            return formula(*cells)
        except KpiInputError as error:
            return error_cell(ERROR_VALUES.get(error.problem, "#VALUE!"), error)
    grids = [to_grid(a) for a in args]
    shape = common_shape(grids, formula.params)
    columns = [np.broadcast_to(g.values, shape) for g in grids]
    values, problems = formula.evaluate(*columns)
    for grid in grids:
        if grid.text is not None:
            problems[np.broadcast_to(grid.text, shape)] = Problem.NOT_A_NUMBER

    def explain(row: int, column: int) -> str:
        cells = [g.cells[0][0] if g.values.shape == (1, 1) else g.cells[row][column] for g in grids]
        where = "" if shape == (1, 1) else f" (row {row + 1}, column {column + 1})"
        try:
            formula.validate(cells)
        except KpiInputError as error:
            return f"{error}{where}"
        return f"cannot be computed{where}"  # pragma: no cover - evaluate and validate agree

    return to_excel(values, problems, all(g.single for g in grids), explain)


# -- help text for Excel's function wizard ---------------------------------------------

_PARAMETER = re.compile(r"^(\w+) : .*\n((?:    .*\n?)+)", re.MULTILINE)


def summary(function: Callable[..., Any]) -> str:
    """The first line of a docstring: the description Excel's function wizard shows."""
    return (inspect.getdoc(function) or "").split("\n", 1)[0].strip()


def parameter_help(function: Callable[..., Any]) -> dict[str, str]:
    """Each parameter's description from a numpydoc docstring, joined on one line."""
    doc = inspect.getdoc(function) or ""
    section = doc.partition("Parameters\n----------\n")[2].partition("\n\n")[0] + "\n"
    return {name: " ".join(text.split()) for name, text in _PARAMETER.findall(section)}


def _formula_function(function: Callable[..., float]) -> Callable[..., Any]:
    """The Excel function of one formula: same name as in the spec, same arguments, same help."""
    formula: Formula = function.formula  # type: ignore[attr-defined]

    def excel_function(*args: Any) -> Any:
        return evaluate(formula, args)

    excel_function.__name__ = excel_function.__qualname__ = formula.excel_name
    excel_function.__doc__ = summary(function)
    excel_function.__module__ = __name__
    excel_function.__signature__ = inspect.signature(function).replace(  # type: ignore[attr-defined]
        return_annotation=inspect.Signature.empty
    )
    excel_function.__annotations__ = {}
    declared = ret(convert=Cells)(func(_excel_safe(excel_function)))
    for param, text in parameter_help(function).items():
        declared = arg(param, convert=Cells, ndim=2, err_to_str=True, doc=text)(declared)
    return declared


def _register(functions: Sequence[Callable[..., float]]) -> list[str]:
    names = []
    for function in functions:
        declared = _formula_function(function)
        globals()[declared.__name__] = declared
        names.append(declared.__name__)
    return names


__all__ = _register([getattr(formulas, f.name) for f in FORMULAS.values() if f.excel_name])


# -- raw survey answers ---------------------------------------------------------------


@func
@ret(convert=Cells)
@arg(
    "scores",
    convert=Cells,
    ndim=2,
    err_to_str=True,
    doc='The 0-10 answers to "how likely are you to recommend us?"; blanks are skipped.',
)
@_excel_safe
def NPS_FROM_SCORES(scores):  # noqa: N802 - Excel's name
    """Net promoter score in points (-100 to 100) from a column of 0-10 survey answers; blanks are ignored."""
    return formulas.nps_from_scores(scores)


@func
@ret(convert=Cells)
@arg(
    "ratings",
    convert=Cells,
    ndim=2,
    err_to_str=True,
    doc="The satisfaction ratings, from 1 to scale_max; blanks are skipped.",
)
@arg("scale_max", doc="Top of the rating scale: 5 for 1-5 ratings (default), 10 for 1-10.")
@arg("satisfied_from", doc="Lowest rating that counts as satisfied (default 4).")
@_excel_safe
def CSAT_FROM_RATINGS(ratings, scale_max=5, satisfied_from=4):  # noqa: N802 - Excel's name
    """Customer satisfaction score (a fraction, format as %) from raw 1-5 or 1-10 ratings; blanks are ignored."""
    return formulas.csat_from_ratings(ratings, scale_max=scale_max, satisfied_from=satisfied_from)


# -- benchmarks -----------------------------------------------------------------------

_TIER_ARGUMENT = {key: key for key in TIER_KEYS} | {name.lower(): key for key, name in zip(TIER_KEYS, TIERS[1:])}


_TEXT_EXAMPLES = {"business": "custom-dollhouses", "kpi": "csat", "tier": "typical", "lang": "en"}
"""An example of each text argument, for the message when one is missing."""


def _text(value: object, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        example = _TEXT_EXAMPLES.get(name, "csat")
        raise CallError(f'{name} must be text such as "{example}"; got {show(value)}')
    return value.strip()


def _language(value: object) -> str:
    lang = value.strip().lower() if isinstance(value, str) else value
    if lang not in LANGUAGES:
        raise CallError(f'lang must be "en", "es" or "fr"; got {show(value)}')
    return lang


@func
@ret(convert=Cells)
@arg(
    "value",
    convert=Cells,
    ndim=2,
    err_to_str=True,
    doc="The KPI's value (a cell or a range), in its unit: a fraction for rates, points for NPS.",
)
@arg("kpi", doc='The KPI id, such as "csat" or "retention_rate" (KPI_LIST shows them).')
@arg("business", doc='The business type, such as "custom-dollhouses".')
@arg("lang", doc='Language of the tier names: "en" (default), "es" or "fr".')
@_excel_safe
def KPI_TIER(value, kpi, business, lang="en"):  # noqa: N802 - Excel's name
    """Benchmark tier of a KPI value: Below typical, Typical, Above average or Exceptional."""
    found = default_catalog().kpi(_text(business, "business"), _text(kpi, "kpi"))
    names = tier_names(_language(lang))
    grid = to_grid(value)
    problems = np.where(np.isnan(grid.values), Problem.EMPTY, Problem.OK).astype(np.int8)
    problems[found.out_of_range(grid.values)] = Problem.OUT_OF_RANGE
    if grid.text is not None:
        problems[grid.text] = Problem.NOT_A_NUMBER
    names = np.array(names, dtype=object)[tier_indices(grid.values, found.better, found.thresholds)]

    def explain(row: int, column: int) -> str:
        cell = grid.cells[row][column]
        if not _is_number(cell):
            return f"value must be a number; got {show(cell)}"
        where = "" if grid.values.shape == (1, 1) else f" (row {row + 1}, column {column + 1})"
        return f"{found.out_of_range_message(cell)}{where}"

    return to_excel(names, problems, grid.single, explain)


@func
@ret(convert=Cells)
@arg("kpi", doc='The KPI id, such as "csat" or "retention_rate" (KPI_LIST shows them).')
@arg("business", doc='The business type, such as "custom-dollhouses".')
@arg("tier", doc='"typical", "above_average" or "exceptional": the tier whose threshold you want.')
@_excel_safe
def KPI_BENCHMARK(kpi, business, tier):  # noqa: N802 - Excel's name
    """The industry threshold where a tier of a KPI starts (#N/A when the article gives none)."""
    found = default_catalog().kpi(_text(business, "business"), _text(kpi, "kpi"))
    key = _TIER_ARGUMENT.get(_text(tier, "tier").lower().replace(" ", "_"))
    if key is None:
        raise CallError(f"tier must be typical, above_average or exceptional; got {show(tier)}")
    threshold = found.thresholds[key]
    if threshold is None:
        return error_cell("#N/A", f"{found.id} of {business} has no {key} threshold")
    return threshold


@func
@ret(convert=Cells)
@arg("business", doc='The business type, such as "custom-dollhouses".')
@arg("lang", doc='Language of the names: "en" (default), "es" or "fr".')
@_excel_safe
def KPI_LIST(business, lang="en"):  # noqa: N802 - Excel's name
    """The business type's KPIs as a table that spills: id, name, Excel function, unit, direction, thresholds."""
    lang = _language(lang)
    found = default_catalog().business(_text(business, "business")).in_language(lang)
    table = words(lang)["kpi_list"]
    rows = [
        [
            k.id,
            k.name,
            k.function or table["entered_directly"],
            k.unit.label,
            words(lang)["better"][k.better],
            *(k.thresholds[t] for t in TIER_KEYS),
        ]
        for k in found.kpis
    ]
    return [list(table["header"]), *rows]


__all__ += ["NPS_FROM_SCORES", "CSAT_FROM_RATINGS", "KPI_TIER", "KPI_BENCHMARK", "KPI_LIST"]
