"""Formulas parsed by shape (``_evaluate._parsed``): the same tree as parsing each text whole.

The evaluator tokenizes and parses each formula's shape (its text with the references
taken out) once, and gives the tree the references of the formula at hand. Each test
compares that with :class:`nichekpi._evaluate._Parser` on the whole text: the same tree,
or the same refusal.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nichekpi import _evaluate, default_catalog
from nichekpi._ooxml import tidy
from nichekpi.workbook import build_workbook


def whole(formula: str, sheet: str):
    try:
        return _evaluate._Parser(formula, sheet).parse()
    except _evaluate.Unsupported:
        return "unsupported"


def by_shape(formula: str, sheet: str):
    _evaluate._parsed.cache_clear()
    try:
        return _evaluate._parsed(formula, sheet)
    except _evaluate.Unsupported:
        return "unsupported"


def template_formulas() -> list[tuple[str, str]]:
    found = []
    for business in default_catalog():
        for sheet in build_workbook(business, 2026).worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if isinstance(cell.value, str) and cell.value.startswith("="):
                        found.append((cell.value[1:], sheet.title))
    return found


def test_every_template_formula_parses_the_same_by_shape():
    formulas = template_formulas()
    assert len(formulas) > 5000
    shapes = set()
    for formula, sheet in formulas:
        assert by_shape(formula, sheet) == whole(formula, sheet), formula
        shapes.add(_evaluate._REFERENCE.sub(lambda m: "R" if m.lastgroup == "ref" else m[0], formula))
    assert len(shapes) < len(formulas) / 10  # most formulas share their shape with others


PIECES = st.sampled_from(
    [
        "A1", "$B$2", "C3:D4", "Sheet1!A1", "'My sheet'!$A$1:$B$2", "'It''s'!C9", "Inputs!D5", "XFD1",
        "LOG10(", "X1Y", "A1B", "1E5", "1.5", ".5", "A1.B", "_A1", "ABCD1",
        '"A1"', '"x""A1"""', '"', "'", "!", ":", "$", "(", ")", ",", "+", "-", "*", "/", "^", "&", "=", "<>", "<=",
        " ", "IF(", "SUM(", "TRUE", "name", "'\0'!A1", "A", "1",
    ]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(pieces=st.lists(PIECES, min_size=1, max_size=10), sheet=st.sampled_from(["KPIs", "Inputs", "x y"]))
def test_any_text_parses_the_same_by_shape(pieces, sheet):
    formula = "".join(pieces)
    assert by_shape(formula, sheet) == whole(formula, sheet)


@pytest.mark.parametrize(
    "formula",
    ['IF(A1="B2",C3,D4)', "Sheet1!A1+A1", "'Q1 2026'!B2*2", "LOG10(A1)", "A1:B2", "-A1^2"],
)
def test_references_keep_their_own_sheet(formula):
    assert by_shape(formula, "KPIs") == whole(formula, "KPIs")
    assert by_shape(formula, "KPIs") != "unsupported" or formula.startswith("LOG10")


def test_the_templates_package_keeps_its_values(monkeypatch):
    """The cached values of a template are the same whichever way its formulas were parsed."""
    business = next(iter(default_catalog()))
    out = io.BytesIO()
    build_workbook(business, 2026).save(out)
    package = out.getvalue()
    shaped = tidy(package)
    monkeypatch.setattr(_evaluate, "_parsed", lambda formula, sheet: _evaluate._Parser(formula, sheet).parse())
    whole_text = tidy(package)
    with zipfile.ZipFile(io.BytesIO(shaped)) as a, zipfile.ZipFile(io.BytesIO(whole_text)) as b:
        assert {n: a.read(n) for n in a.namelist()} == {n: b.read(n) for n in b.namelist()}
