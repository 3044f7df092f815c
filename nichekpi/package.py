"""Edit an .xlsx package in place of a spreadsheet program, touching nothing else.

openpyxl drops the parts it does not understand (pivot tables, slicers, some charts and
drawings) when it saves, so a planner's workbook is never re-saved with it. Instead
this module copies every part of the package byte for byte, except:

* the worksheet holding the inputs, where the given cells get their new numbers;
* every worksheet with formulas, where the formulas' cached results are removed, so
  that no program shows a stale value (LibreOffice otherwise trusts the cache);
* the workbook part, where Excel's full-calculation-on-load flag is set.

Inside those parts the XML is edited as text, cell by cell, so every other byte of
them stays as it was.
"""

from __future__ import annotations

import copy
import datetime as dt
import html
import io
import posixpath
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path

from nichekpi.errors import KpiError

_CELL = re.compile(r"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.DOTALL)
_ATTRIBUTE = re.compile(r'([\w:]+)="([^"]*)"')
_ROW = re.compile(r"<row\b([^>]*?)(?:/>|>(.*?)</row>)", re.DOTALL)
_REFERENCE = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")


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
    return sheet, [f"{column_letters(c)}{r}" for r in range(row1, row2 + 1) for c in range(col1, col2 + 1)]


def _attributes(text: str) -> dict[str, str]:
    return dict(_ATTRIBUTE.findall(text))


def _without(attributes: str, name: str) -> str:
    return re.sub(rf'\s{name}="[^"]*"', "", attributes)


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))


class Package:
    """The parts of an .xlsx file, with the workbook's sheets and names."""

    def __init__(self, path: Path):
        try:
            with zipfile.ZipFile(path) as archive:
                self.entries = [(info, archive.read(info)) for info in archive.infolist()]
        except (zipfile.BadZipFile, OSError) as error:
            raise PackageError(f"{path}: not an .xlsx workbook ({error})") from None
        self.parts = {info.filename: data for info, data in self.entries}
        self.path = path
        self.workbook_part = self._main_part()
        text = self.text(self.workbook_part)
        rels = self._relationships(self.workbook_part)
        self.sheets: dict[str, str] = {}
        for match in re.finditer(r"<sheet\b([^>]*?)/?>", text):
            attributes = _attributes(match.group(1))
            rel = next((v for k, v in attributes.items() if k.endswith(":id")), None)
            if rel in rels:
                self.sheets[html.unescape(attributes["name"])] = rels[rel]
        self.names: dict[str, str] = {}
        for match in re.finditer(r"<definedName\b([^>]*)>(.*?)</definedName>", text, re.DOTALL):
            attributes = _attributes(match.group(1))
            if "localSheetId" not in attributes:
                self.names[html.unescape(attributes["name"])] = html.unescape(match.group(2))

    def text(self, part: str) -> str:
        try:
            return self.parts[part].decode("utf-8")
        except KeyError:
            raise PackageError(f"{self.path}: the workbook has no part {part}") from None

    def _main_part(self) -> str:
        rels = self._relationships("")
        for target in rels.values():
            if target.endswith(".xml") and "workbook" in target.rsplit("/", 1)[-1].lower():
                return target
        raise PackageError(f"{self.path}: not an .xlsx workbook (no workbook part)")

    def _relationships(self, part: str) -> dict[str, str]:
        folder, name = posixpath.split(part)
        rels_part = posixpath.join(folder, "_rels", f"{name}.rels")
        if rels_part not in self.parts:
            raise PackageError(f"{self.path}: not an .xlsx workbook (no {rels_part})")
        targets = {}
        for match in re.finditer(r"<Relationship\b([^>]*?)/?>", self.parts[rels_part].decode("utf-8")):
            attributes = _attributes(match.group(1))
            target = attributes.get("Target", "")
            if attributes.get("TargetMode") == "External":
                continue
            target = (
                target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            )
            targets[attributes["Id"]] = target
        return targets

    def sheet_part(self, sheet: str) -> str:
        try:
            return self.sheets[sheet]
        except KeyError:
            raise PackageError(f"{self.path}: the workbook has no sheet {sheet!r}") from None

    def values(self, sheet: str, references: list[str]) -> dict[str, object]:
        """The cached values of cells: numbers as floats, other values as text, ``None`` when empty."""
        wanted = set(references)
        found: dict[str, object] = dict.fromkeys(references)
        shared = None
        for match in _CELL.finditer(self.text(self.sheet_part(sheet))):
            attributes = _attributes(match.group(1))
            if attributes.get("r") not in wanted:
                continue
            value = re.search(r"<v>(.*?)</v>", match.group(2) or "", re.DOTALL)
            if value is None:
                continue
            kind = attributes.get("t", "n")
            if kind == "n":
                found[attributes["r"]] = float(value.group(1))
            elif kind == "s":
                shared = shared if shared is not None else self._shared_strings()
                found[attributes["r"]] = shared[int(value.group(1))]
            else:
                found[attributes["r"]] = html.unescape(value.group(1))
        return found

    def _shared_strings(self) -> list[str]:
        part = next((p for p in self.parts if p.lower().endswith("sharedstrings.xml")), None)
        if part is None:
            return []
        items = re.findall(r"<si>(.*?)</si>", self.text(part), re.DOTALL)
        return [html.unescape("".join(re.findall(r"<t[^>]*>(.*?)</t>", item, re.DOTALL))) for item in items]

    def dates(self, sheet: str, references: list[str]) -> list[dt.date | None]:
        """Cells holding dates (Excel serial numbers) as dates."""
        values = self.values(sheet, references)
        epoch = dt.date(1899, 12, 30)
        return [epoch + dt.timedelta(days=int(v)) if isinstance(v, float) else None for v in values.values()]

    # -- writing ------------------------------------------------------------------------

    def edited(self, numbers: Mapping[tuple[str, str], float]) -> bytes:
        """The package as bytes, with ``{(sheet, cell): number}`` written and formula caches cleared."""
        by_part: dict[str, dict[str, float]] = {}
        for (sheet, reference), value in numbers.items():
            by_part.setdefault(self.sheet_part(sheet), {})[reference] = value
        replaced: dict[str, bytes] = {}
        for part in set(self.sheets.values()):
            text = self.text(part)
            new = _clear_formula_caches(_set_numbers(text, by_part.get(part, {})))
            if new != text:
                replaced[part] = new.encode("utf-8")
        replaced[self.workbook_part] = _calculate_on_load(self.text(self.workbook_part)).encode("utf-8")
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            for info, data in self.entries:
                archive.writestr(copy.copy(info), replaced.get(info.filename, data))
        return out.getvalue()


def _set_numbers(text: str, numbers: Mapping[str, float]) -> str:
    if not numbers:
        return text
    remaining = dict(numbers)

    def replace(match: re.Match) -> str:
        attributes = _attributes(match.group(1))
        reference = attributes.get("r")
        if reference not in remaining:
            return match.group(0)
        value = remaining.pop(reference)
        return f"<c{_without(match.group(1), 't').rstrip()}><v>{_number_text(value)}</v></c>"

    text = _CELL.sub(replace, text)
    for reference, value in sorted(remaining.items(), key=lambda item: split_reference(item[0])):
        text = _insert_cell(text, reference, value)
    return text


def _insert_cell(text: str, reference: str, value: float) -> str:
    """Add a cell the sheet does not have yet, in its row, in column order."""
    row_number, column = split_reference(reference)
    cell = f'<c r="{reference}"><v>{_number_text(value)}</v></c>'
    for match in _ROW.finditer(text):
        number = int(_attributes(match.group(1)).get("r", "0"))
        if number == row_number:
            inner = match.group(2) or ""
            position = len(inner)
            for existing in _CELL.finditer(inner):
                if split_reference(_attributes(existing.group(1))["r"])[1] > column:
                    position = existing.start()
                    break
            row = f"<row{match.group(1).rstrip('/').rstrip()}>{inner[:position]}{cell}{inner[position:]}</row>"
            return text[: match.start()] + row + text[match.end() :]
        if number > row_number:
            return text[: match.start()] + f'<row r="{row_number}">{cell}</row>' + text[match.start() :]
    if "<sheetData/>" in text:
        return text.replace("<sheetData/>", f'<sheetData><row r="{row_number}">{cell}</row></sheetData>', 1)
    return text.replace("</sheetData>", f'<row r="{row_number}">{cell}</row></sheetData>', 1)


def _clear_formula_caches(text: str) -> str:
    def clear(match: re.Match) -> str:
        inner = match.group(2)
        if not inner or "<f" not in inner:
            return match.group(0)
        inner = re.sub(r"<v>.*?</v>|<v/>", "", inner, flags=re.DOTALL)
        return f"<c{_without(match.group(1), 't')}>{inner}</c>"

    return _CELL.sub(clear, text)


def _calculate_on_load(text: str) -> str:
    match = re.search(r"<calcPr\b([^>]*?)/>", text)
    if match:
        attributes = _without(match.group(1), "fullCalcOnLoad").rstrip()
        return text[: match.start()] + f'<calcPr{attributes} fullCalcOnLoad="1"/>' + text[match.end() :]
    following = re.search(
        r"<(oleSize|customWorkbookViews|pivotCaches|smartTagPr|smartTagTypes|webPublishing|fileRecoveryPr|"
        r"webPublishObjects|extLst)\b|</workbook>",
        text,
    )
    return text[: following.start()] + '<calcPr fullCalcOnLoad="1"/>' + text[following.start() :]
