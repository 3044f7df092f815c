"""Worksheet rows read and written without a tree (``_ooxml._read_rows``): the same bytes as the tree.

:func:`nichekpi._ooxml.tidy` reads the rows of a sheet in openpyxl's shape with one match
per row and per cell, and any other sheet as a tree. Each test tidies a package both
ways (the tree way by turning the row reader off) and compares the bytes, for the
templates, for workbooks of random cells, and for rows in shapes the reader must leave
to the tree.
"""

from __future__ import annotations

import io
import re
import zipfile
from xml.etree import ElementTree as ET

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nichekpi import _ooxml, default_catalog
from nichekpi.workbook import build_workbook, example_values

BUSINESSES = list(default_catalog())


def by_tree(package: bytes, monkeypatch) -> bytes:
    with monkeypatch.context() as patch:
        patch.setattr(_ooxml, "_read_rows", lambda parts: ({}, {}))
        return _ooxml.tidy(package)


def saved(workbook: openpyxl.Workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def read_as_rows(package: bytes) -> list[str]:
    """The worksheets the row reader takes (the others are read as trees)."""
    with zipfile.ZipFile(io.BytesIO(package)) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    return sorted(_ooxml._read_rows(parts)[0])


def with_sheet(package: bytes, name: str, change) -> bytes:
    """The package with the part ``name`` replaced by ``change(its text)``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            target.writestr(info, change(data.decode("utf-8")).encode("utf-8") if info.filename == name else data)
    return out.getvalue()


@pytest.mark.parametrize("business", BUSINESSES, ids=lambda b: b.id)
@pytest.mark.parametrize("example", [False, True], ids=["empty", "example"])
def test_the_templates_rows_are_read_without_a_tree_and_written_the_same(business, example, monkeypatch):
    package = saved(build_workbook(business, 2026, example_values(business) if example else None))
    sheets = read_as_rows(package)
    assert len(sheets) == 6, sheets  # every sheet of a template is in openpyxl's shape
    assert _ooxml.tidy(package) == by_tree(package, monkeypatch)


TEXT = st.lists(
    st.sampled_from(list("aZ 09&<>\"'\t\n;=!$:_-") + ["é", "“", "€", "\U0001f600", "]]>", "&amp;", "#1", "  "]),
    max_size=8,
).map("".join)
FORMULAS = st.sampled_from(
    [
        "=1+2",
        '=A1&"x"',
        '=IF(B2="","empty",B2)',
        "=SUM(A1:C3)",
        "=1/0",
        "=NA()",
        "=ISNUMBER(A1)",
        '=A1<>"a&b"',
        "=TRUE",
        '=A1&"<b>&"',
    ]
)
VALUES = st.one_of(
    st.none(),
    TEXT,
    st.integers(-(10**16), 10**16),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    FORMULAS,
    st.sampled_from(["#N/A", "#DIV/0!"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    grid=st.lists(st.lists(VALUES, min_size=1, max_size=4), min_size=1, max_size=5),
    styled=st.booleans(),
    tall=st.booleans(),
    second=st.booleans(),
    unknown=st.booleans(),
)
def test_random_cells_give_the_same_bytes_both_ways(grid, styled, tall, second, unknown, monkeypatch):
    workbook = openpyxl.Workbook()
    sheets = [workbook.active] + ([workbook.create_sheet("Two & more")] if second else [])
    for sheet in sheets:
        for row, values in enumerate(grid, start=1):
            for column, value in enumerate(values, start=1):
                cell = sheet.cell(row=row, column=column, value=value)
                if styled:
                    cell.font = openpyxl.styles.Font(bold=True)
            if tall:
                sheet.row_dimensions[row].height = 30
        sheet.cell(row=len(grid) + 2, column=1).number_format = "0.0%"  # a styled cell with no value
        if unknown:  # not the evaluator's: no formula gets a value
            sheet.cell(row=len(grid) + 3, column=1, value="=VLOOKUP(A1,B1:C3,2,FALSE)")
    package = saved(workbook)
    assert read_as_rows(package) == [f"xl/worksheets/sheet{n}.xml" for n in range(1, len(sheets) + 1)]
    assert _ooxml.tidy(package) == by_tree(package, monkeypatch)


def small_package() -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["A1"] = "one & two"
    sheet["B1"] = 2
    sheet["C1"] = "=B1*2"
    sheet["C2"] = '=A1&"<x>"'  # a value that needs escaping
    sheet["D2"] = " spaces kept "
    return saved(workbook)


SHEET = "xl/worksheets/sheet1.xml"
LEFT_TO_THE_TREE = {
    "whitespace between rows": lambda xml: xml.replace("<row ", "\n  <row "),
    "the reference not first": lambda xml: re.sub(r'<c r="B1" t="n">', '<c t="n" r="B1">', xml),
    "a prefixed attribute": lambda xml: xml.replace('<row r="1"', '<row r="1" x14ac:dyDescent="0.25"').replace(
        "<worksheet ", '<worksheet xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac" '
    ),
    "a shared formula": lambda xml: xml.replace("<f>B1*2</f>", '<f t="shared" ref="C1" si="0">B1*2</f>'),
    "rich text": lambda xml: re.sub(r"<is><t>([^<]*)</t></is>", r"<is><r><t>\1</t></r></is>", xml),
    "a character reference": lambda xml: xml.replace("one &amp; two", "one&#10;&#x41;two"),
    "an attribute with a tab": lambda xml: xml.replace('<row r="1"', '<row r="1" spans="1:3&#9;"'),
    "a > in a cell's attribute": lambda xml: xml.replace('<c r="B1" t="n">', '<c r="B1" t="n" vm="1>0">'),
    "an escaped > in a cell's attribute": lambda xml: xml.replace('<c r="B1" t="n">', '<c r="B1" t="n" vm="1&#62;0">'),
}
READ_AS_ROWS = {
    "t before s on a formula cell": lambda xml: xml.replace('<c r="C2">', '<c r="C2" t="n" s="0">'),
    "an empty formula and value": lambda xml: xml.replace("<f>B1*2</f><v></v>", "<f></f><v/>"),
    "elements closed with a space": lambda xml: xml.replace("<v></v>", "<v />"),
}


@pytest.mark.parametrize("change", list(READ_AS_ROWS.values()), ids=list(READ_AS_ROWS))
def test_rows_in_shapes_openpyxl_does_not_write_but_the_reader_takes(change, monkeypatch):
    package = with_sheet(small_package(), SHEET, change)
    assert read_as_rows(package) == [SHEET]
    assert _ooxml.tidy(package) == by_tree(package, monkeypatch)


@pytest.mark.parametrize("change", list(LEFT_TO_THE_TREE.values()), ids=list(LEFT_TO_THE_TREE))
def test_rows_in_other_shapes_give_the_same_bytes(change, monkeypatch):
    package = with_sheet(small_package(), SHEET, change)
    assert _ooxml.tidy(package) == by_tree(package, monkeypatch)


def test_the_reader_takes_openpyxls_shape_and_leaves_the_others():
    package = small_package()
    assert read_as_rows(package) == [SHEET]
    for label in ("whitespace between rows", "the reference not first", "a prefixed attribute", "a shared formula"):
        assert read_as_rows(with_sheet(package, SHEET, LEFT_TO_THE_TREE[label])) == [], label
    # a character reference is read by the row reader, and decoded as a parser decodes it
    assert read_as_rows(with_sheet(package, SHEET, LEFT_TO_THE_TREE["a character reference"])) == [SHEET]


@pytest.mark.parametrize(
    "broken",
    ["one &bogus; two", "one & two", "one &#0; two", "one ]]> two"],
    ids=["unknown entity", "bare ampersand", "a character XML forbids", "cdata end"],
)
def test_rows_a_parser_refuses_are_refused_the_same_way(broken, monkeypatch):
    package = with_sheet(small_package(), SHEET, lambda xml: xml.replace("one &amp; two", broken))
    with pytest.raises(ET.ParseError) as by_rows:
        _ooxml.tidy(package)
    with pytest.raises(ET.ParseError) as tree:
        by_tree(package, monkeypatch)
    assert str(by_rows.value) == str(tree.value)
