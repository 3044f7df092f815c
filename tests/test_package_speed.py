"""The package rewrite's fast paths give what the careful ones gave (issue 13, item 3).

A large sheet is checked in chunks rather than read whole, and a sheetData of plain rows
is read a cell at a time rather than tag by tag: a damaged large part is still refused,
an ``<f>`` across two chunks is still found, and both readings of a sheet agree.
"""

from __future__ import annotations

import dataclasses
import io
import random
import re
import zipfile
from pathlib import Path

import pytest

from nichekpi import default_catalog, package
from nichekpi.package import Package, PackageError
from nichekpi.workbook import build_workbook

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


@pytest.fixture
def workbook(tmp_path):
    """A template with a sheet "Fairs" (one cell) that the tests fill with large XML."""
    book = build_workbook(default_catalog().business("custom-dollhouses"), 2026)
    book.create_sheet("Fairs").append(["Date"])
    path = tmp_path / "custom-dollhouses.xlsx"
    book.save(path)
    return path


def fairs_part(path: Path) -> str:
    with Package(path) as opened:
        return opened.sheet_part("Fairs")


def with_part(path: Path, name: str, data: bytes, method: int) -> None:
    with zipfile.ZipFile(path) as archive:
        content = {info.filename: archive.read(info) for info in archive.infolist()}
    content[name] = data
    with zipfile.ZipFile(path, "w") as archive:
        for part, part_data in content.items():
            archive.writestr(part, part_data, compress_type=method if part == name else zipfile.ZIP_DEFLATED)


def rewrite(path: Path) -> bytes:
    out = io.BytesIO()
    with Package(path) as opened:
        opened.write({("Inputs", "D5"): 3.0}, out)
    return out.getvalue()


def big_sheet(inner: str, before: int) -> bytes:
    """A worksheet of one inline-string cell whose text puts ``inner`` at byte ``before``."""
    head = f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
    pad = before - len(head) - len("</t></is></c>")
    text = "".join(random.Random(13).choices("abcdeghijk ", k=pad))  # no "f": no formula; not too compressible
    return (head + text + "</t></is></c>" + inner + "</row></sheetData></worksheet>").encode()


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_damaged_large_sheet_is_refused(workbook, method):
    part = fairs_part(workbook)
    data = big_sheet('<c r="B1"><v>1</v></c>', 5 * package._CHUNK)
    assert len(data) > 4 * package._CHUNK  # checked in chunks, not read whole
    with_part(workbook, part, data, method)
    raw = bytearray(workbook.read_bytes())
    at = raw.index(data[:200]) + 100 if method == zipfile.ZIP_STORED else len(raw) // 2
    raw[at] ^= 0x20
    workbook.write_bytes(bytes(raw))
    with zipfile.ZipFile(workbook) as archive:
        assert archive.getinfo(part).compress_size < len(raw)  # the flipped byte is in that part's data
    with pytest.raises(PackageError, match=rf"the part {re.escape(part)} is damaged \((Bad CRC-32|Error -3)"):
        rewrite(workbook)


@pytest.mark.parametrize(
    "at", [4 * package._CHUNK - 2, 4 * package._CHUNK - 1, 4 * package._CHUNK, 5 * package._CHUNK + 1]
)
def test_a_formula_across_two_chunks_of_a_large_sheet_is_found_and_computed(workbook, at):
    part = fairs_part(workbook)
    data = big_sheet('<c r="B1"><f>1+1</f><v>7</v></c>', at)
    assert data[at : at + 3] == b"<c "
    with_part(workbook, part, data, zipfile.ZIP_STORED)
    with zipfile.ZipFile(io.BytesIO(rewrite(workbook))) as written:
        assert b'<c r="B1"><f>1+1</f><v>2</v></c>' in written.read(part)


def test_a_large_sheet_without_formulas_is_copied_as_it_was(workbook):
    part = fairs_part(workbook)
    data = big_sheet(
        '<c r="B1"><v>7</v></c><c r="C1" t="inlineStr"><is><t>a:f b&lt;f c</t></is></c>', 5 * package._CHUNK
    )
    with_part(workbook, part, data, zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(io.BytesIO(rewrite(workbook))) as written, zipfile.ZipFile(workbook) as before:
        assert written.read(part) == data
        assert written.getinfo(part).compress_size == before.getinfo(part).compress_size


ODD_SHEETS = [
    f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1"><f>1+1</f><v>2</v></c>'
    '<c r="B1" t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>',
    '<x:worksheet xmlns:x="u"><x:sheetData><x:row r="2" spans="1:2"><x:c r="A2" s="1">'
    '<x:f t="shared" ref="A2:A3" si="0">B2</x:f><x:v>1</x:v></x:c></x:row><x:row r="3">'
    '<x:c r="A3"><x:f t="shared" si="0"/></x:c><x:c/></x:row><x:row/></x:sheetData></x:worksheet>',
    '<worksheet><sheetData>\n <row r="1">\n  <c r="A1"><v>1</v></c>\n  <c r="B1"/>\n </row>\n <row/>'
    '<row><c><v>&amp;</v></c><c t="s"><v/></c></row>\n</sheetData>'
    '<extLst><sheetData><row><c r="Z9"/></row></sheetData></extLst></worksheet>',
    '<worksheet><sheetData><row r="1"><c r="A1"><v>1</v><!-- <c r="B1"/> --></c></row></sheetData></worksheet>',
    '<worksheet><sheetData><row r="1"><c r="$A$01" a=">"><f>A&lt;2</f></c><c s="2" r="B1"><v>3</v></c></row>'
    "</sheetData><sheetData><row><c><v>5</v></c></row></sheetData></worksheet>",
    "<worksheet><sheetData/></worksheet>",
    "<worksheet><sheetData></sheetData></worksheet>",
    '<worksheet><sheetData><row r="1"><c r="A1"><v>1</v></c><cx r="B1"/></row></sheetData></worksheet>',
    '<worksheet><sheetData><row r="1"><c r="A1" ><f >A2</f ><v >1</v ></c ></row ></sheetData ></worksheet>',
]


def as_tuples(sheet) -> tuple:
    return (
        sheet.prefix,
        sheet.data,
        [(reference, dataclasses.astuple(cell)) for reference, cell in sheet.cells.items()],
        [dataclasses.astuple(row) for row in sheet.rows],
    )


def template_sheets() -> list[str]:
    path = Path(__file__).parent.parent / "templates"
    texts = []
    for book in sorted(path.glob("*.xlsx")):
        with zipfile.ZipFile(book) as archive:
            texts += [archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
    return texts


@pytest.mark.parametrize("text", ODD_SHEETS + template_sheets())
def test_a_sheet_read_a_cell_at_a_time_is_read_as_tag_by_tag(text, monkeypatch):
    fast = as_tuples(package._scan_sheet(text, "x"))
    monkeypatch.setattr(package, "_scan_rows", lambda *_args: None)
    assert fast == as_tuples(package._scan_sheet(text, "x"))
