"""Edit an .xlsx package in place of a spreadsheet program, touching nothing else.

openpyxl drops the parts it does not understand (pivot tables, slicers, some charts and
drawings) when it saves, so a planner's workbook is never re-saved with it. Instead
this module copies every part of the package byte for byte, except:

* the worksheet holding the inputs, where the given cells get their new numbers;
* every worksheet with formulas, where each formula's cached result becomes what it
  computes from the new numbers (worked out by :mod:`nichekpi._evaluate`, so a reader
  that never recalculates shows them), or is removed when the evaluator does not know
  the formula, so that no program shows a stale value (LibreOffice trusts the cache);
* the workbook part, where Excel's full-calculation-on-load flag is set.

Inside those parts the XML is edited as text, cell by cell, so every other byte of
them stays as it was.

A package is distrusted until checked: the zip directory is checked before any part is
read (no duplicate names, only the compression Excel uses, no encryption, a ceiling on
each part's size and on its compression ratio), every part read is checked as XML by
expat with document type declarations refused (no entities, so no entity expansion and
no external entities), and then scanned once, tag by tag, in time linear in its size.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import operator
import posixpath
import re
import struct
import xml.parsers.expat
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from nichekpi._evaluate import UNKNOWN, Error, evaluate_some
from nichekpi.errors import KpiError

#: What a real cell looks like; the tests use it to compare the worksheets nichekpi made.
_CELL = re.compile(r"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.DOTALL)
_ATTRIBUTE = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_REFERENCE = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")
#: One tag (or a comment, CDATA section or processing instruction, which are skipped). On
#: XML that expat accepted, every alternative finds its end, so the scan is linear.
_TOKEN = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<(/?)([^\s/>!?]++)((?:[^>\"'/]++|\"[^\"]*+\"|'[^']*+'|/(?!>))*+)(/?)>",
    re.DOTALL,
)
_BEFORE_F = frozenset(b"<:")
_AFTER_F = frozenset(b">/ \t\n\r\f\v")  # what rb"f[>/\s]" allows after the f


def _has_formula(data: bytes) -> bool:
    """Whether a worksheet's bytes hold an ``<f>`` element (``<f>``, ``<x:f t="shared"...``).

    A sheet without one has no formula, and a planner's large data sheet is then copied
    without being read as XML; text that merely looks so only costs a closer look. Each
    "f" is found by ``bytes.find`` (memchr): a sheet of numbers has almost none.
    """
    find, end = data.find, len(data) - 1
    at = find(b"f", 1)
    while 0 < at < end:
        if data[at - 1] in _BEFORE_F and data[at + 1] in _AFTER_F:
            return True
        at = find(b"f", at + 1)
    return False


_CHUNK = 256 * 1024  #: compressed bytes read at a time when a part is checked without being kept
_R = re.compile(r"""\sr\s*=\s*["']([^"']*)""")
_T = re.compile(r"""\st\s*=\s*["']([^"']*)""")

MAX_PART_SIZE = 256 * 1024 * 1024  #: bytes a part may hold uncompressed
MAX_TOTAL_SIZE = 1024 * 1024 * 1024  #: bytes all parts together may hold uncompressed
MAX_RATIO = 200  #: how many times a part over 1 MB may be smaller compressed (XML rarely passes 50)
_RATIO_FROM = 1024 * 1024
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
_METHOD_NAMES = {9: "deflate64", 12: "bzip2", 14: "lzma", 93: "zstandard", 99: "AES encryption"}


class PackageError(KpiError):
    """A file that is not a workbook this module can edit."""


def column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def split_reference(reference: str) -> tuple[int, int]:
    """``"D5"`` as ``(row 5, column 4)``."""
    match = _REFERENCE.match(reference)
    if not match:
        raise PackageError(f"not a cell reference: {reference!r}")
    return int(match.group(2)), column_number(match.group(1))


def cells_of_range(text: str) -> tuple[str, list[str]]:
    """``"Inputs!$D$5:$O$5"`` as ``("Inputs", ["D5", ..., "O5"])``."""
    sheet, _, area = text.rpartition("!")
    sheet = sheet.strip("'").replace("''", "'")
    first, _, last = area.partition(":")
    (row1, col1), (row2, col2) = split_reference(first), split_reference(last or first)
    if (row2 - row1 + 1) * (col2 - col1 + 1) > 16384:
        raise PackageError(f"the range {text!r} is larger than a workbook's inputs can be")
    return sheet, [f"{column_letters(c)}{r}" for r in range(row1, row2 + 1) for c in range(col1, col2 + 1)]


def _attributes(text: str) -> dict[str, str]:
    return {name: double if double or not single else single for name, double, single in _ATTRIBUTE.findall(text)}


def _without(attributes: str, name: str) -> str:
    if name not in attributes:  # most cells have no t="...": no pattern to run
        return attributes
    return re.sub(rf"""\s{re.escape(name)}\s*=\s*(?:"[^"]*"|'[^']*')""", "", attributes)


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))


def _tags(text: str) -> Iterator[tuple[bool, str, str, bool, int, int]]:
    """Each tag of well-formed XML: (closing, name, attributes, empty, start, end)."""
    for match in _TOKEN.finditer(text):
        closing, name, attributes, empty = match.groups()
        if name is not None:
            yield closing == "/", name, attributes, empty == "/", match.start(), match.end()


def _local(name: str) -> str:
    return name.rpartition(":")[2]


def _prefix(name: str) -> str:
    return name[: len(name) - len(_local(name))]


class _Refused(Exception):
    pass


def _refuse(*_args: object) -> None:
    raise _Refused


def _xml_text(data: bytes, where: str) -> str:
    """A part as text, after expat has found it well-formed and free of document type declarations."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or data[:4] in (b"<\x00?\x00", b"\x00<\x00?"):
        raise PackageError(f"{where} is XML in UTF-16, which nichekpi does not edit: save the workbook again in Excel")
    parser = xml.parsers.expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.XmlDeclHandler = lambda _version, encoding, _standalone: (
        _refuse() if encoding and encoding.lower().replace("_", "-") not in ("utf-8", "utf8") else None
    )
    try:
        parser.Parse(data, True)
    except _Refused:
        raise PackageError(
            f"{where} declares a document type or an encoding other than UTF-8, which a workbook never needs; refused"
        ) from None
    except xml.parsers.expat.ExpatError as error:
        raise PackageError(f"{where} is not well-formed XML ({error})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise PackageError(f"{where} is not UTF-8 text ({error.reason} at byte {error.start})") from None


@dataclass(slots=True)
class _Cell:
    name: str  #: the tag's name, with its prefix
    start: int
    end: int
    attributes: str
    row: int
    column: int
    formula: str | None = None  #: the formula's text, "" for a shared formula; None without one
    value: str | None = None
    kind: str = "n"
    values: list[tuple[int, int]] = field(default_factory=list)  #: where its <v> elements are
    head: int = 0  #: where its start tag ends
    formula_end: int = -1  #: where its <f> element ends
    formula_kind: str = "normal"  #: the <f>'s t attribute: normal, shared, array or dataTable


@dataclass(slots=True)
class _Row:
    number: int
    start: int
    end: int
    inner: int  #: where its cells end (the position of </row>), or -1 for <row/>
    attributes: str
    cells: list[_Cell] = field(default_factory=list)


@dataclass
class _Sheet:
    text: str
    prefix: str
    cells: dict[str, _Cell]
    rows: list[_Row]
    data: tuple[int, int, int]  #: <sheetData>: start, end, position of </sheetData> (-1 when empty)


_P = r"(?:[\w.-]+:)?"  # a prefix
_A = r"""(?:[^>"'/]++|"[^"]*+"|'[^']*+'|/(?!>))*+"""  # a tag's attributes, as _TOKEN reads them
#: What a sheetData of plain rows holds, one element at a time: a whole cell (a start tag,
#: an optional <f>, an optional <v>, text without markup), a row's start tag, a row's end
#: tag, or the end of the sheetData. Anything else (an inline string, a comment, an
#: extension) does not match, and the sheet is read tag by tag instead.
_ROWS = re.compile(
    rf"""\s*+(?:
      (?P<c><(?P<cn>{_P}c)(?=[\s/>])(?P<ca>(?:\s++r="(?P<r>(?P<rc>[A-Z]{{1,3}})[1-9][0-9]*+)"(?=[\s/>]))?{_A})(?:/>|>(?P<body>
          (?P<f><{_P}f(?=[\s/>])(?P<fa>{_A})(?:/>|>(?P<ft>[^<]*+)</{_P}f\s*+>))?
          (?P<v><{_P}v(?=[\s/>]){_A}(?:/>|>(?P<vt>[^<]*+)</{_P}v\s*+>))?
      )</{_P}c\s*+>))
    | (?P<row><{_P}row(?=[\s/>])(?P<ra>{_A})(?P<re>/?)>)
    | (?P<end></{_P}row\s*+>)
    | (?P<close></{_P}sheetData\s*+>)
    )""",
    re.VERBOSE,
)


_COLUMNS = {column_letters(n): n for n in range(1, 703)}  # A to ZZ


def _scan_rows(
    text: str, position: int, where: str, previous: int
) -> tuple[list[_Row], dict[str, _Cell], int, int] | None:
    """The rows and cells of a sheetData whose start tag ends at ``position``, as
    :func:`_scan_sheet` reads them tag by tag, with its end tag's start and end; ``None``
    when it holds anything but rows of plain cells. ``previous``: the row number before."""
    rows: list[_Row] = []
    cells: dict[str, _Cell] = {}
    row: _Row | None = None
    match_at = _ROWS.match
    unescape = html.unescape
    while True:
        match = match_at(text, position)
        if match is None:
            return None
        position = match.end()
        start = match.start("c")
        if start >= 0:
            if row is None:
                return None
            attributes, key = match["ca"], match["r"]
            given = None if key else _R.search(attributes)
            if key:  # r="D5" first, as Excel, LibreOffice and openpyxl write it
                letters = match["rc"]
                number, column = int(key[len(letters) :]), _COLUMNS.get(letters) or column_number(letters)
            elif given:
                reference = _REFERENCE.match(given[1])
                if reference is None:
                    raise PackageError(f"{where}: a cell has the reference {given[1]!r}")
                number, column = int(reference[2]), column_number(reference[1])
                key = given[1] if "$" not in given[1] and reference[2][0] != "0" else None
            else:
                number, column = row.number, (row.cells[-1].column + 1 if row.cells else 1)
            kind = _T.search(attributes) if "t" in attributes else None
            head = match.start("body")
            cell = _Cell(
                match["cn"], start, position, attributes, number, column,
                kind=kind[1] if kind else "n", head=head if head >= 0 else position,
            )  # fmt: skip
            if match.start("f") >= 0:
                formula = match["ft"]
                cell.formula = "" if formula is None else unescape(formula)
                kind = _T.search(match["fa"])
                cell.formula_kind = kind[1] if kind else "normal"
                cell.formula_end = match.end("f")
            if match.start("v") >= 0:
                cell.values.append(match.span("v"))
                value = match["vt"]
                cell.value = "" if value is None else unescape(value)
            row.cells.append(cell)
            cells[key or f"{column_letters(column)}{number}"] = cell
        elif match.start("row") >= 0:
            if row is not None:
                return None
            attributes = match["ra"]
            given = _R.search(attributes)
            number = int(given[1]) if given and given[1].isdigit() else (rows[-1].number if rows else previous) + 1
            found = _Row(number, match.start("row"), position, -1, attributes)
            rows.append(found)
            if not match["re"]:
                row = found
        elif match.start("end") >= 0:
            if row is None:
                return None
            row.end, row.inner, row = position, match.start("end"), None
        else:
            if row is not None:
                return None
            return rows, cells, match.start("close"), position


def _scan_sheet(text: str, where: str) -> _Sheet:
    """The cells and rows of a worksheet, in one pass over its tags.

    Levels: the worksheet is 0, sheetData 1, a row 2, a cell 3, a cell's <f> and <v> 4.
    """
    cells: dict[str, _Cell] = {}
    rows: list[_Row] = []
    data = None
    prefix = None
    in_data = False
    stack: list[tuple[str, int, int]] = []  # (local name, start, end of start tag) of the open elements
    row: _Row | None = None
    cell: _Cell | None = None
    position: int | None = 0
    while position is not None:  # once, and again after a sheetData read by _scan_rows
        restart = None
        for match in _TOKEN.finditer(text, position):
            closing, name, attributes, empty = match.groups()
            if name is None:
                continue
            start, end = match.span()
            local = name.rpartition(":")[2]
            level = len(stack)
            if not closing:
                if prefix is None:
                    prefix = name[: len(name) - len(local)]
                if level == 1 and local == "sheetData":
                    in_data = not empty
                    data = (start, end, -1) if empty else None
                    found = None if empty else _scan_rows(text, end, where, rows[-1].number if rows else 0)
                    if found is not None:  # the usual rows and cells, read a cell at a time
                        found_rows, found_cells, close_start, close_end = found
                        rows.extend(found_rows)
                        cells.update(found_cells)
                        data, in_data, restart = (start, close_end, close_start), False, close_end
                        break
                elif level == 2 and in_data and local == "row":
                    given = _R.search(attributes)
                    number = int(given[1]) if given and given[1].isdigit() else (rows[-1].number + 1 if rows else 1)
                    row = _Row(number, start, end, -1, attributes)
                    rows.append(row)
                    if empty:
                        row = None
                elif level == 3 and row is not None and local == "c":
                    given = _R.search(attributes)
                    if given:
                        reference = _REFERENCE.match(given[1])
                        if reference is None:
                            raise PackageError(f"{where}: a cell has the reference {given[1]!r}")
                        number, column = int(reference[2]), column_number(reference[1])
                    else:
                        number, column = row.number, (row.cells[-1].column + 1 if row.cells else 1)
                    kind = _T.search(attributes)
                    cell = _Cell(name, start, end, attributes, number, column, kind=kind[1] if kind else "n", head=end)
                    row.cells.append(cell)
                    cells[f"{column_letters(column)}{number}"] = cell
                    if empty:
                        cell = None
                elif level == 4 and cell is not None:
                    if local == "f":
                        cell.formula = ""
                        kind = _T.search(attributes)
                        cell.formula_kind = kind[1] if kind else "normal"
                        cell.formula_end = end
                    elif local == "v":
                        cell.values.append((start, end))
                        cell.value = cell.value if cell.value is not None else ""
                if not empty:
                    stack.append((local, start, end))
                continue
            local_open, open_start, open_end = stack.pop()
            level -= 1
            if level == 4 and cell is not None:
                if local_open == "f":
                    cell.formula = html.unescape(text[open_end:start])
                    cell.formula_end = end
                elif local_open == "v":
                    cell.values[-1] = (open_start, end)
                    cell.value = html.unescape(text[open_end:start])
            elif level == 3 and cell is not None:
                cell.end = end
                cell = None
            elif level == 2 and row is not None:
                row.end, row.inner = end, start
                row = None
            elif level == 1 and in_data:
                data = (open_start, end, start)
                in_data = False
            if cell is not None and local_open == "t" and cell.kind == "inlineStr" and stack[-1][0] != "rPh":
                cell.value = (cell.value or "") + html.unescape(text[open_end:start])
        position = restart
    if data is None:
        raise PackageError(f"{where} is not a worksheet (it has no sheetData)")
    return _Sheet(text, prefix or "", cells, rows, data)


class Package:
    """The parts of an .xlsx file, with the workbook's sheets and names.

    Only the parts it needs are read (relationships, the workbook, worksheets, shared
    strings); :meth:`write` copies the others as they are.
    """

    def __init__(self, path: Path):
        self.path = path
        try:
            self._archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError) as error:
            raise PackageError(f"{path}: not an .xlsx workbook ({error})") from None
        try:
            self._read_directory()
        except BaseException:
            self._archive.close()
            raise

    def _read_directory(self) -> None:
        self.entries = self._archive.infolist()
        self._check_directory()
        self.names_of_parts = {info.filename for info in self.entries}
        self._data: dict[str, bytes] = {}
        self._texts: dict[str, str] = {}
        self._sheets: dict[str, _Sheet] = {}
        self._formulas: dict[str, bool] = {}  # part -> whether it holds an <f> element
        self._sound: set[str] = set()  # parts whose CRC was checked without keeping their bytes
        self.workbook_part = self._main_part()
        text = self.text(self.workbook_part)
        rels = self._relationships(self.workbook_part)
        self.sheets: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.date1904 = False
        self._calc: tuple[str, int, int, bool] | None = None  # (name, start, end, empty) of <calcPr>
        self._before_calc: int | None = None  # where a missing <calcPr> goes
        self._workbook_prefix = ""
        stack: list[tuple[str, int, str]] = []
        for closing, name, attributes, empty, start, end in _tags(text):
            local = _local(name)
            if closing:
                local_open, open_end, open_attributes = stack.pop()
                if local_open == "definedName" and "localSheetId" not in _attributes(open_attributes):
                    self.names[html.unescape(_attributes(open_attributes).get("name", ""))] = html.unescape(
                        text[open_end:start]
                    )
                if local_open == "workbook" and self._before_calc is None:
                    self._before_calc = start
                continue
            if not stack:
                self._workbook_prefix = _prefix(name)
            attrs = _attributes(attributes)
            if len(stack) == 1:
                if local == "calcPr":
                    self._calc = (name, start, end, empty)
                elif local in _AFTER_CALC and self._before_calc is None:
                    self._before_calc = start
                elif local == "workbookPr":
                    self.date1904 = attrs.get("date1904", "").lower() in ("1", "true")
            if local == "sheet":
                rel = next((v for k, v in attrs.items() if _local(k) == "id" and ":" in k), None)
                if rel in rels and "name" in attrs:
                    self.sheets[html.unescape(attrs["name"])] = rels[rel]
            if not empty:
                stack.append((local, end, attributes))

    def _check_directory(self) -> None:
        seen: set[str] = set()
        total = 0
        for info in self.entries:
            where = f"{self.path}: the part {info.filename}"
            if info.filename in seen:
                raise PackageError(f"{where} is in the file twice; a workbook has each part once, refused")
            seen.add(info.filename)
            if info.flag_bits & 0x1:
                raise PackageError(f"{where} is encrypted; remove the password in Excel first")
            if info.compress_type not in _METHODS:
                method = _METHOD_NAMES.get(info.compress_type, f"method {info.compress_type}")
                raise PackageError(f"{where} is compressed with {method}, which Excel does not use; save it in Excel")
            total += info.file_size
            if info.file_size > MAX_PART_SIZE:
                raise PackageError(
                    f"{where} would be {info.file_size:,} bytes uncompressed, over the {MAX_PART_SIZE:,} nichekpi reads"
                )
            if info.file_size > _RATIO_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise PackageError(
                    f"{where} is compressed {info.file_size // max(info.compress_size, 1):,} times over, "
                    f"more than the {MAX_RATIO} times a real workbook part is; refused"
                )
        if total > MAX_TOTAL_SIZE:
            raise PackageError(
                f"{self.path}: its parts would be {total:,} bytes uncompressed, "
                f"over the {MAX_TOTAL_SIZE:,} nichekpi reads"
            )

    def _read(self, part: str) -> bytes:
        if part not in self._data:
            if part not in self.names_of_parts:
                raise PackageError(f"{self.path}: the workbook has no part {part}")
            try:
                self._data[part] = self._archive.read(part)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError) as error:
                raise PackageError(f"{self.path}: the part {part} is damaged ({error})") from None
            except OSError as error:
                raise PackageError(f"{self.path}: cannot read it ({error.strerror or error})") from None
        return self._data[part]

    def text(self, part: str) -> str:
        if part not in self._texts:
            self._texts[part] = _xml_text(self._read(part), f"{self.path}: the part {part}")
        return self._texts[part]

    def _sheet(self, part: str) -> _Sheet:
        if part not in self._sheets:
            self._sheets[part] = _scan_sheet(self.text(part), f"{self.path}: the part {part}")
        return self._sheets[part]

    def _main_part(self) -> str:
        rels = self._relationships("")
        for target in rels.values():
            if target.endswith(".xml") and "workbook" in target.rsplit("/", 1)[-1].lower():
                return target
        raise PackageError(f"{self.path}: not an .xlsx workbook (no workbook part)")

    def _relationships(self, part: str) -> dict[str, str]:
        folder, name = posixpath.split(part)
        rels_part = posixpath.join(folder, "_rels", f"{name}.rels")
        if rels_part not in self.names_of_parts:
            raise PackageError(f"{self.path}: not an .xlsx workbook (no {rels_part})")
        targets = {}
        for closing, tag, attributes, _empty, _start, _end in _tags(self.text(rels_part)):
            if closing or _local(tag) != "Relationship":
                continue
            attrs = _attributes(attributes)
            target = html.unescape(attrs.get("Target", ""))
            if attrs.get("TargetMode") == "External" or "Id" not in attrs:
                continue
            target = (
                target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            )
            targets[attrs["Id"]] = target
        return targets

    def sheet_part(self, sheet: str) -> str:
        try:
            return self.sheets[sheet]
        except KeyError:
            raise PackageError(f"{self.path}: the workbook has no sheet {sheet!r}") from None

    def values(self, sheet: str, references: list[str]) -> dict[str, object]:
        """The cached values of cells: numbers as floats, other values as text, ``None`` when empty."""
        part = self.sheet_part(sheet)
        cells = self._sheet(part).cells
        found: dict[str, object] = dict.fromkeys(references)
        for reference in references:
            cell = cells.get(reference)
            if cell is None or not cell.value:
                continue
            where = f"{self.path}: {sheet}!{reference}"
            if cell.kind == "n":
                try:
                    found[reference] = float(cell.value)
                except ValueError:
                    raise PackageError(f"{where} should hold a number; got {cell.value[:40]!r}") from None
            elif cell.kind == "s":
                strings = self._shared_strings()
                try:
                    found[reference] = strings[int(cell.value)]
                except (ValueError, IndexError):
                    raise PackageError(f"{where} points to a shared text that does not exist") from None
            else:
                found[reference] = cell.value
        return found

    def formulas(self, sheet: str, references: list[str]) -> dict[str, str]:
        """The cells among ``references`` that hold a formula, with its text (``""`` for a shared one)."""
        cells = self._sheet(self.sheet_part(sheet)).cells
        return {r: cells[r].formula for r in references if r in cells and cells[r].formula is not None}

    def _shared_strings(self) -> list[str]:
        if not hasattr(self, "_strings"):
            part = next((p for p in sorted(self.names_of_parts) if p.lower().endswith("sharedstrings.xml")), None)
            self._strings: list[str] = []
            if part is not None:
                text = self.text(part)
                stack: list[tuple[str, int]] = []
                pieces: list[str] = []
                for closing, name, _attrs, empty, start, end in _tags(text):
                    local = _local(name)
                    if not closing:
                        if local == "si" and not empty:
                            pieces = []
                        elif local == "si":
                            self._strings.append("")
                        if not empty:
                            stack.append((local, end))
                        continue
                    local_open, open_end = stack.pop()
                    if local_open == "t" and "rPh" not in (s[0] for s in stack):
                        pieces.append(html.unescape(text[open_end:start]))
                    elif local_open == "si":
                        self._strings.append("".join(pieces))
        return self._strings

    def dates(self, sheet: str, references: list[str]) -> list[dt.date | None]:
        """Cells holding dates (Excel serial numbers, in the workbook's date system) as dates."""
        return [self.date_of(v) if isinstance(v, float) else None for v in self.values(sheet, references).values()]

    def date_of(self, serial: float) -> dt.date | None:
        """An Excel serial number as a date; ``None`` outside the years Excel shows."""
        if serial != serial or not 0 <= serial < 2958466:  # 2958465 is 9999-12-31
            return None
        days = int(serial)
        if self.date1904:
            return dt.date(1904, 1, 1) + dt.timedelta(days=days)
        if days < 1:
            return None
        # Excel counts a 29 February 1900 that never was: serial 60; before it the epoch is a day later.
        if days == 60:
            return None
        return dt.date(1899, 12, 31 if days < 60 else 30) + dt.timedelta(days=days)

    # -- writing ------------------------------------------------------------------------

    def write(
        self,
        numbers: Mapping[tuple[str, str], float],
        file: BinaryIO,
        *,
        keep: frozenset[tuple[str, str]] = frozenset(),
    ) -> None:
        """Write the package to ``file``, with ``{(sheet, cell): number}`` set and formula caches recomputed.

        A formula the evaluator cannot work out loses its cached result, except the cells
        in ``keep`` (``(sheet, cell)``), whose results stay, for values that are needed
        again, such as the month headers.
        """
        by_part: dict[str, dict[str, float]] = {}
        for (sheet, reference), value in numbers.items():
            by_part.setdefault(self.sheet_part(sheet), {})[reference] = value
        kept: dict[str, set[str]] = {}
        for sheet, reference in keep:
            kept.setdefault(self.sheet_part(sheet), set()).add(reference)
        computed = self._computed(by_part)
        replaced: dict[str, bytes] = {}
        for part in self._edited_sheets(by_part):
            sheet = self._sheet(part)
            new = _edit_sheet(sheet, by_part.get(part, {}), kept.get(part, set()), computed.get(part, {}))
            if new != sheet.text:
                replaced[part] = new.encode("utf-8")
        replaced[self.workbook_part] = self._calculate_on_load().encode("utf-8")
        try:
            with zipfile.ZipFile(file, "w") as out:
                for info in self.entries:
                    target = _copy_of(info)
                    if info.filename in replaced:
                        out.writestr(target, replaced[info.filename])
                    else:
                        self._copy_compressed(info, out)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as error:
            raise PackageError(f"{self.path}: a part is damaged ({error})") from None

    def _edited_sheets(self, by_part: Mapping[str, Mapping[str, float]]) -> list[str]:
        """The worksheets to edit: those that get numbers, and those with formulas (their cached results).

        A sheet without any ``<f>`` element is left as it is without being read as XML: a
        planner's large data sheet costs only its check (:meth:`_stream`) and its copy.
        """
        return [part for part in dict.fromkeys(self.sheets.values()) if part in by_part or self._has_formulas(part)]

    def _has_formulas(self, part: str) -> bool:
        if part not in self._formulas:
            if part not in self.names_of_parts:
                raise PackageError(f"{self.path}: the workbook has no part {part}")
            if part in self._data or self._archive.getinfo(part).file_size <= _CHUNK * 4:
                self._formulas[part] = _has_formula(self._read(part))  # a template's sheet: read it, once
            else:  # a large sheet, most often a planner's data without formulas: checked, not kept
                try:
                    self._formulas[part] = self._stream(self._archive.getinfo(part), look_for_formulas=True)
                except (zipfile.BadZipFile, zlib.error, EOFError) as error:
                    raise PackageError(f"{self.path}: the part {part} is damaged ({error})") from None
                except OSError as error:
                    raise PackageError(f"{self.path}: cannot read it ({error.strerror or error})") from None
        return self._formulas[part]

    def _data_offset(self, info: zipfile.ZipInfo) -> int:
        """Where a part's compressed bytes start, after its local header."""
        archive = self._archive.fp
        archive.seek(info.header_offset)
        header = archive.read(30)
        if header[:4] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"no local header for {info.filename}")
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        return info.header_offset + 30 + name_length + extra_length

    def _stream(self, info: zipfile.ZipInfo, *, look_for_formulas: bool = False) -> bool:
        """Check a part's CRC as :mod:`zipfile` does when it reads it, without keeping its bytes.

        It is decompressed in chunks, each checksummed and dropped: the cost is the
        decompression alone, and the memory a chunk. With ``look_for_formulas``, returns
        whether the part holds an ``<f>`` element (as :func:`_has_formula`); a part found
        sound is not decompressed again when it is copied.
        """
        archive = self._archive.fp
        archive.seek(self._data_offset(info))
        decompressor = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
        crc, left_in, left_out, before, found = 0, info.compress_size, info.file_size, b"", False

        def take(out: bytes) -> None:
            nonlocal crc, left_out, before, found
            if len(out) > left_out:
                out = out[:left_out]
            left_out -= len(out)
            crc = zlib.crc32(out, crc)
            if look_for_formulas and not found and out:
                window = before + out  # the two bytes before: an <f> across two chunks is found
                found, before = _has_formula(window), window[-2:]

        while left_in and left_out:
            chunk = archive.read(min(left_in, _CHUNK))
            if not chunk:
                raise EOFError(f"{info.filename} ends early")
            left_in -= len(chunk)
            if decompressor is None:
                take(chunk)
                continue
            while chunk and left_out:
                take(decompressor.decompress(chunk, _CHUNK * 4))
                chunk = decompressor.unconsumed_tail
        if decompressor is not None and left_out:
            take(decompressor.flush())
        if crc != info.CRC:
            raise zipfile.BadZipFile(f"Bad CRC-32 for file {info.filename!r}")
        self._sound.add(info.filename)
        return found

    def _copy_compressed(self, info: zipfile.ZipInfo, out: zipfile.ZipFile) -> None:
        """Copy a part unchanged: its compressed bytes as they are, once their checksum is verified.

        Decompressing to check the CRC (:meth:`_stream`) is far cheaper than compressing
        again, and a damaged part is refused rather than copied.
        """
        if info.filename not in self._data and info.filename not in self._sound:
            self._stream(info)
        archive = self._archive.fp
        archive.seek(self._data_offset(info))
        target = _copy_of(info)
        target.CRC, target.compress_size, target.file_size = info.CRC, info.compress_size, info.file_size
        target.flag_bits = info.flag_bits & ~0x08  # the sizes go in the header: no data descriptor
        target.header_offset = out.fp.tell()
        out.fp.write(target.FileHeader(False))  # parts are at most MAX_PART_SIZE: never zip64
        left = info.compress_size
        while left:
            chunk = archive.read(min(left, 1024 * 1024))
            if not chunk:
                raise EOFError(f"{info.filename} ends early")
            out.fp.write(chunk)
            left -= len(chunk)
        out.start_dir = out.fp.tell()  # what ZipFile.writestr keeps up to date, for the directory
        out.filelist.append(target)
        out.NameToInfo[target.filename] = target
        out._didModify = True

    def _computed(self, by_part: Mapping[str, Mapping[str, float]]) -> dict[str, dict[str, object]]:
        """{part: {cell: value}}: what each formula computes once the numbers are written.

        Only the formulas :mod:`nichekpi._evaluate` reads (those of nichekpi's templates),
        and the formulas that need only them, get a value; the others (a planner's own
        functions, shared or array formulas) are left out, and lose their cached value.
        """
        targets, names = self._to_evaluate(by_part)
        # A plain dict of the sheets, so that the evaluator's look-ups cost no Python call: the
        # sheets holding formulas to work out are read now (each of them is needed), the
        # others only when a formula looks into them.
        evaluated = {name for name, _row, _column in targets}
        book: dict[str, object] = {}
        for name, part in self.sheets.items():
            build = functools.partial(self._evaluator_cells, part, by_part.get(part, {}))
            book[name] = build() if name in evaluated else _LazySheet(build)
        values = evaluate_some(book, names, targets)
        computed: dict[str, dict[str, object]] = {}
        for (name, row, column), value in values.items():
            computed.setdefault(self.sheets[name], {})[f"{column_letters(column)}{row}"] = value
        return computed

    def _to_evaluate(self, by_part: Mapping[str, Mapping[str, float]]) -> tuple[list[tuple[str, int, int]], dict]:
        """The formula cells whose value is to be worked out, as (sheet, row, column), and the defined names."""
        with_formulas = set(self._edited_sheets(by_part))
        targets = [
            (name, cell.row, cell.column)
            for name, part in self.sheets.items()
            if part in with_formulas
            for reference, cell in self._sheet(part).cells.items()
            if cell.formula is not None and reference not in by_part.get(part, {})
        ]
        names = {n: target for n, target in self.names.items() if not n.lower().startswith("_xlnm.")}
        return targets, names

    def _evaluator_cells(self, part: str, numbers: Mapping[str, float]) -> dict[tuple[int, int], object]:
        """A sheet's cells as :func:`nichekpi._evaluate.evaluate_some` reads them, with ``numbers`` written."""
        found: dict[tuple[int, int], object] = {}
        for reference, cell in self._sheet(part).cells.items():
            if reference in numbers:
                continue
            if cell.formula is not None:
                normal = cell.formula_kind == "normal" and cell.formula
                found[cell.row, cell.column] = "=" + cell.formula if normal else UNKNOWN
            elif cell.value is None or (cell.value == "" and cell.kind not in ("str", "inlineStr")):
                continue
            elif cell.kind in ("str", "inlineStr"):
                found[cell.row, cell.column] = _text(cell.value)
            elif cell.kind == "s":
                strings = self._shared_strings()
                index = int(cell.value) if cell.value.isdigit() else -1
                found[cell.row, cell.column] = _text(strings[index]) if 0 <= index < len(strings) else UNKNOWN
            elif cell.kind == "b":
                found[cell.row, cell.column] = cell.value.strip() == "1"
            elif cell.kind == "e":
                found[cell.row, cell.column] = Error(cell.value)
            else:
                try:
                    found[cell.row, cell.column] = float(cell.value)
                except ValueError:
                    found[cell.row, cell.column] = UNKNOWN
        for reference, number in numbers.items():
            found[split_reference(reference)] = float(number)
        return found

    def _calculate_on_load(self) -> str:
        text = self.text(self.workbook_part)
        if self._calc:
            name, start, end, empty = self._calc
            tag = text[start:end]
            attributes = _without(tag[len(name) + 1 : -2 if empty else -1], "fullCalcOnLoad").rstrip()
            closing = "/>" if empty else ">"
            return text[:start] + f'<{name}{attributes} fullCalcOnLoad="1"{closing}' + text[end:]
        position = self._before_calc if self._before_calc is not None else len(text)
        return text[:position] + f'<{self._workbook_prefix}calcPr fullCalcOnLoad="1"/>' + text[position:]

    def close(self) -> None:
        self._archive.close()

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


_AFTER_CALC = {
    "oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes", "webPublishing",
    "fileRecoveryPr", "webPublishObjects", "extLst",
}  # fmt: skip


def _text(value: str) -> object:
    """A text cell for the evaluator, which reads a text starting with "=" as a formula."""
    return UNKNOWN if value.startswith("=") else value


class _LazySheet:
    """A sheet's cells for the evaluator, read at the first look-up into it: a sheet that
    no formula reads (a planner's data) is never read as XML."""

    __slots__ = ("_build", "_cells")

    def __init__(self, build: Callable[[], dict[tuple[int, int], object]]):
        self._build, self._cells = build, None

    def get(self, key: tuple[int, int], default: object = None) -> object:
        if self._cells is None:
            self._cells = self._build()
        return self._cells.get(key, default)


def _copy_of(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    target = zipfile.ZipInfo(info.filename, info.date_time)
    target.compress_type = info.compress_type
    target.comment = info.comment
    target.extra = info.extra
    target.create_system = info.create_system
    target.external_attr = info.external_attr
    target.internal_attr = info.internal_attr
    return target


def _edit_sheet(
    sheet: _Sheet, numbers: Mapping[str, float], keep: set[str], computed: Mapping[str, object] | None = None
) -> str:
    """The sheet's text with the numbers written, the formula cells' cached results set to
    ``computed`` ({cell: value}) and the other formula cells' cached results removed."""
    text, p = sheet.text, sheet.prefix
    computed = computed or {}
    edits: list[tuple[int, int, str]] = []  # (start, end, new text)
    for reference, cell in sheet.cells.items():
        if cell.formula is None and reference not in numbers:
            continue
        if reference in numbers:
            attributes = _without(cell.attributes, "t").rstrip()
            number = _number_text(numbers[reference])
            edits.append((cell.start, cell.end, f"<{cell.name}{attributes}><{p}v>{number}</{p}v></{cell.name}>"))
        elif reference in computed and cell.formula_end >= 0:
            kind, value = _cached(computed[reference])
            attributes = _without(cell.attributes, "t").rstrip() + (f' t="{kind}"' if kind else "")
            edits.append((cell.start, cell.head, f"<{cell.name}{attributes}>"))
            if len(cell.values) == 1 and cell.values[0][0] == cell.formula_end:  # <f>..</f><v>..</v>: replaced
                edits.append((cell.formula_end, cell.values[0][1], f"<{p}v>{value}</{p}v>"))
                continue
            edits.extend((start, end, "") for start, end in cell.values)
            edits.append((cell.formula_end, cell.formula_end, f"<{p}v>{value}</{p}v>"))
        elif cell.formula is not None and reference not in keep:
            if cell.values or "t" in _attributes(cell.attributes):
                edits.append((cell.start, cell.head, f"<{cell.name}{_without(cell.attributes, 't')}>"))
                edits.extend((start, end, "") for start, end in cell.values)
    rows = {row.number: row for row in sheet.rows}
    new_cells: dict[int, list[str]] = {}  # cells of rows that are new, or were an empty <row/>
    for (row_number, column), reference in sorted((split_reference(r), r) for r in numbers if r not in sheet.cells):
        cell = f'<{p}c r="{reference}"><{p}v>{_number_text(numbers[reference])}</{p}v></{p}c>'
        row = rows.get(row_number)
        if row is None or row.inner < 0:
            new_cells.setdefault(row_number, []).append(cell)
        else:
            following = next((c.start for c in row.cells if c.column > column), row.inner)
            edits.append((following, following, cell))
    new_rows: list[tuple[int, str]] = []
    for row_number, cells in sorted(new_cells.items()):
        row = rows.get(row_number)
        if row is not None:  # an empty <row .../>: its attributes stay
            body = text[row.start + 1 : row.end - 2].rstrip()
            edits.append((row.start, row.end, f"<{body}>{''.join(cells)}</{_tag_name(body)}>"))
            continue
        row_text = f'<{p}row r="{row_number}">{"".join(cells)}</{p}row>'
        following = next((r.start for r in sheet.rows if r.number > row_number), None)
        if following is not None:
            edits.append((following, following, row_text))
        else:
            new_rows.append((row_number, row_text))
    if new_rows:
        data_start, data_end, data_close = sheet.data
        rows_text = "".join(t for _, t in new_rows)
        if data_close >= 0:
            edits.append((data_close, data_close, rows_text))
        else:
            body = text[data_start + 1 : data_end - 2].rstrip()
            edits.append((data_start, data_end, f"<{body}>{rows_text}</{_tag_name(body)}>"))
    return _applied(text, edits)


def _cached(value: object) -> tuple[str, str]:
    """A computed value as a cell's type attribute ("" for a number) and its <v> text."""
    if isinstance(value, Error):
        return "e", html.escape(value.code, quote=False)
    if isinstance(value, bool):
        return "b", "1" if value else "0"
    if isinstance(value, str):
        return "str", html.escape(value, quote=False)
    return "", _number_text(value)


def _tag_name(start_tag_body: str) -> str:
    return start_tag_body.split(None, 1)[0]


_SPAN = operator.itemgetter(0, 1)


def _applied(text: str, edits: list[tuple[int, int, str]]) -> str:
    pieces, last = [], 0
    for start, end, new in sorted(edits, key=_SPAN):
        pieces.append(text[last:start])
        pieces.append(new)
        last = max(last, end)
    pieces.append(text[last:])
    return "".join(pieces)
