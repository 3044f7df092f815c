"""The .xlsx package as Excel writes it, and the same bytes on every machine.

openpyxl writes a valid workbook, but its bytes depend on whether lxml is installed
(namespace declarations move, ``<a />`` against ``<a/>``), its drawing parts use a
default namespace where Excel writes ``xdr:`` (exceljs cannot read them), its font
elements are out of the schema's order, its text cells are inline strings (Excel
rewrites them into a shared-strings part on its next save), and its zip entries carry
the time of the save. :func:`tidy` takes the bytes openpyxl wrote and returns the
package with every XML part written one way, with the prefixes Excel uses, fonts in
the schema's order, text in a shared-strings part and fixed zip timestamps.

Only the standard library: the result must not depend on what else is installed.
``SOURCE_DATE_EPOCH`` (seconds since 1970, the reproducible-builds convention), when
set, replaces the creation and modification times in ``docProps/core.xml``.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import os
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET  # noqa: S405  (parses only what openpyxl just wrote)

from nichekpi._evaluate import Error, Unsupported, evaluate, parse_cell

SML = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CONTENT_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
_EXTENDED = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
_XML = "http://www.w3.org/XML/1998/namespace"
_DCTERMS = "http://purl.org/dc/terms/"
_OFFICE_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

# The prefixes Excel writes. The namespace of a part's root is the default namespace
# only for these four roots; in every other part (drawings, charts, core properties)
# every element carries its prefix, as in Excel's own files.
_DEFAULT_ROOTS = frozenset({SML, _PACKAGE_RELS, _CONTENT_TYPES, _EXTENDED})
_PREFIXES = {
    "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing": "xdr",
    "http://schemas.openxmlformats.org/drawingml/2006/main": "a",
    "http://schemas.openxmlformats.org/drawingml/2006/chart": "c",
    _OFFICE_RELS: "r",
    "http://schemas.openxmlformats.org/package/2006/metadata/core-properties": "cp",
    "http://purl.org/dc/elements/1.1/": "dc",
    _DCTERMS: "dcterms",
    "http://purl.org/dc/dcmitype/": "dcmitype",
    "http://www.w3.org/2001/XMLSchema-instance": "xsi",
    "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes": "vt",
    "http://schemas.openxmlformats.org/markup-compatibility/2006": "mc",
    SML: "x",
}

# CT_Font in the schema (sml.xsd) is a sequence in this order; openpyxl writes name first.
_FONT_ORDER = (
    "b", "i", "strike", "condense", "extend", "outline", "shadow", "u", "vertAlign",
    "sz", "color", "name", "family", "charset", "scheme",
)  # fmt: skip

_SHARED_STRINGS = "xl/sharedStrings.xml"
_SHARED_STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_SHARED_STRINGS_REL = f"{_OFFICE_RELS}/sharedStrings"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'


def tidy(package: bytes) -> bytes:
    """The package ``package`` (an .xlsx openpyxl wrote), Excel-shaped and byte-stable."""
    with zipfile.ZipFile(io.BytesIO(package)) as source:
        names = source.namelist()
        parts = {name: source.read(name) for name in names}
    try:
        rows, trees = _read_rows(parts)
    except _NotPlain:  # a worksheet openpyxl's writer did not shape: every part as a tree
        rows, trees = {}, {}
    for name, data in parts.items():
        if name.endswith((".xml", ".rels")) and name not in trees:
            trees[name] = ET.fromstring(data)  # noqa: S314
    _share_strings(trees, names, rows)
    _cache_values(trees, rows)
    for name, tree in trees.items():
        if name == "xl/styles.xml":
            _order_fonts(tree)
        elif name == "docProps/core.xml":
            _source_date(tree)
        parts[name] = _DECLARATION + _serialize(tree)
        if name in rows and rows[name]:
            parts[name] = parts[name].replace(b"\0", _write_rows(rows[name]), 1)  # the mark in sheetData
    first = [n for n in ("[Content_Types].xml", "_rels/.rels") if n in names]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in first + [n for n in names if n not in first]:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            target.writestr(info, parts[name])
    return out.getvalue()


# -- parts ------------------------------------------------------------------------------


def _q(namespace: str, tag: str) -> str:
    return f"{{{namespace}}}{tag}"


def _share_strings(trees: dict[str, ET.Element], names: list[str], rows: dict[str, list] | None = None) -> None:
    """Move the worksheets' inline strings into the shared-strings part (added if missing)."""
    rows = rows or {}
    strings = trees.get(_SHARED_STRINGS)
    if strings is None:
        strings = ET.Element(_q(SML, "sst"))
    index = {_key(si): n for n, si in enumerate(strings)}
    moved = count = 0
    sheets = sorted((n for n in trees if n.startswith("xl/worksheets/") and n.endswith(".xml")), key=_natural)
    for name in sheets:
        if name in rows:
            for row in rows[name]:
                for cell in row[1]:
                    kind = cell[2]
                    if kind == "inlineStr":
                        text, preserve = cell[5]
                        key = (text, _PRESERVE if preserve else ())
                        if key not in index:
                            index[key] = len(index)
                            si = ET.SubElement(strings, _q(SML, "si"))
                            ET.SubElement(si, _q(SML, "t"), dict(_PRESERVE) if preserve else {}).text = text or None
                        cell[1] = cell[1].replace(' t="inlineStr"', ' t="s"', 1)  # t keeps its place, as in a tree
                        cell[2], cell[4], cell[5] = "s", str(index[key]), None
                        moved += 1
                    elif kind != "s":
                        continue
                    count += 1
            continue
        for cell in trees[name].iter(_q(SML, "c")):
            if cell.get("t") != "inlineStr":
                continue
            inline = cell.find(_q(SML, "is"))
            si = ET.Element(_q(SML, "si"))
            si.extend(list(inline) if inline is not None else [ET.Element(_q(SML, "t"))])
            key = _key(si)
            if key not in index:
                index[key] = len(index)
                strings.append(si)
            if inline is not None:
                cell.remove(inline)
            cell.set("t", "s")
            ET.SubElement(cell, _q(SML, "v")).text = str(index[key])
            moved += 1
    if not moved and _SHARED_STRINGS not in trees:
        return
    count += sum(
        1 for sheet in sheets if sheet not in rows for cell in trees[sheet].iter(_q(SML, "c")) if cell.get("t") == "s"
    )
    strings.set("count", str(count))
    strings.set("uniqueCount", str(len(strings)))
    if _SHARED_STRINGS not in trees:
        trees[_SHARED_STRINGS] = strings
        names.append(_SHARED_STRINGS)
        types = trees["[Content_Types].xml"]
        ET.SubElement(
            types, _q(_CONTENT_TYPES, "Override"), PartName=f"/{_SHARED_STRINGS}", ContentType=_SHARED_STRINGS_TYPE
        )
        relations = trees["xl/_rels/workbook.xml.rels"]
        taken = {r.get("Id") for r in relations}
        number = len(taken) + 1
        while f"rId{number}" in taken:
            number += 1
        ET.SubElement(
            relations,
            _q(_PACKAGE_RELS, "Relationship"),
            Id=f"rId{number}",
            Type=_SHARED_STRINGS_REL,
            Target="sharedStrings.xml",
        )


def _key(si: ET.Element) -> object:
    """What makes a shared string the same as another: for a plain one, its text and attributes."""
    if len(si) == 1 and si[0].tag == _q(SML, "t") and len(si[0]) == 0:
        return (si[0].text or "", tuple(sorted(si[0].attrib.items())))
    return _serialize(si)


_CELL, _FORMULA, _VALUE = (f"{{{SML}}}{tag}" for tag in ("c", "f", "v"))


def _sheet_parts(trees: dict[str, ET.Element]) -> dict[str, str]:
    """Sheet name -> its part, from the workbook and its relationships."""
    relations = {r.get("Id"): r.get("Target", "") for r in trees.get("xl/_rels/workbook.xml.rels", ET.Element("x"))}
    parts = {}
    for sheet in trees["xl/workbook.xml"].iter(_q(SML, "sheet")):
        target = relations.get(sheet.get(_q(_OFFICE_RELS, "id")), "")
        parts[sheet.get("name")] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return parts


def _cache_values(trees: dict[str, ET.Element], rows: dict[str, list] | None = None) -> None:
    """Give every formula cell the value it computes (see :mod:`nichekpi._evaluate`).

    A reader that never recalculates then shows the numbers; Excel still recalculates
    on load. A formula the evaluator does not know leaves every formula cell without a
    value, as before, rather than a wrong one.
    """
    if "xl/workbook.xml" not in trees:
        return
    rows = rows or {}
    strings = [
        "".join(t.text or "" for t in si.iter(_q(SML, "t"))) for si in trees.get(_SHARED_STRINGS, ET.Element("x"))
    ]
    parts = {name: part for name, part in _sheet_parts(trees).items() if part in trees}
    cells: dict[str, dict[tuple[int, int], object]] = {}
    formula_cells: dict[tuple[str, int, int], object] = {}
    for sheet, part in parts.items():
        cells[sheet] = sheet_cells = {}
        if part in rows:
            items = ((c[0], c[2] or "n", c[3], c[4] or None, c) for row in rows[part] for c in row[1])
        else:
            items = (
                (cell.get("r", ""), cell.get("t", "n"), _text(cell.find(_FORMULA)), _text(cell.find(_VALUE)), cell)
                for cell in trees[part].iter(_CELL)
            )
        for r, kind, formula, text, element in items:
            at = parse_cell(r)
            if formula is not None:
                if formula is _NOT_NORMAL or not formula:
                    return  # shared or array formulas: not this evaluator's
                sheet_cells[at] = "=" + formula
                formula_cells[(sheet, *at)] = element
                continue
            if text is None:
                continue
            if kind == "s":
                sheet_cells[at] = strings[int(text)]
            elif kind in ("str", "inlineStr"):
                sheet_cells[at] = text
            elif kind == "b":
                sheet_cells[at] = text == "1"
            elif kind == "e":
                sheet_cells[at] = Error(text)
            else:
                sheet_cells[at] = float(text)
    names = {
        d.get("name"): d.text or ""
        for d in trees["xl/workbook.xml"].iter(_q(SML, "definedName"))
        if d.get("localSheetId") is None and not d.get("name", "").startswith("_xlnm.")
    }
    try:
        values = evaluate(cells, names)
    except Unsupported:
        return
    for key, cell in formula_cells.items():
        if isinstance(cell, list):  # read by _read_rows
            _set_value(cell, values[key])
        else:
            _write_value(cell, values[key])


_NOT_NORMAL = object()  # a formula element whose t is neither absent nor "normal"


def _text(element: ET.Element | None) -> object:
    """A <f> or <v> element's text: None without one, :data:`_NOT_NORMAL` for a shared or array formula."""
    if element is None:
        return None
    if element.tag == _FORMULA and element.get("t") not in (None, "normal"):
        return _NOT_NORMAL
    return element.text if element.text is not None else ("" if element.tag == _FORMULA else None)


def _value_text(value: object) -> tuple[str | None, str]:
    """The t attribute (None for a number) and the <v> text of a computed value."""
    if isinstance(value, Error):
        return "e", value.code
    if isinstance(value, bool):
        return "b", "1" if value else "0"
    if isinstance(value, str):
        return "str", value
    return None, str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _write_value(cell: ET.Element, value: object) -> None:
    for old in cell.findall(_VALUE):
        cell.remove(old)
    cell.attrib.pop("t", None)
    kind, text = _value_text(value)
    if kind:
        cell.set("t", kind)
    element = ET.Element(_VALUE)
    element.text = text
    formula = cell.find(_FORMULA)
    cell.insert(list(cell).index(formula) + 1, element)


def _set_value(cell: list, value: object) -> None:
    """:func:`_write_value` for a cell read by :func:`_read_rows`: t moves to the end, as in a tree."""
    kind, cell[4] = _value_text(value)
    cell[1], cell[2] = _retyped(cell[1], kind), kind


@functools.lru_cache(maxsize=1024)
def _retyped(rest: str, kind: str | None) -> str:
    rest = _TYPE.sub("", rest)
    return f'{rest} t="{kind}"' if kind else rest


# -- worksheets' rows, read and written without a tree ---------------------------------------
#
# Rows are most of a workbook's XML, and openpyxl writes them one way: no spaces between
# elements, a cell's reference first, attributes without prefixes, a cell's children
# <f>, <v> or <is><t>. Such a sheetData is read with one match per row and per cell,
# into lists [reference, the other attributes as written, t, formula, value, inline]
# (formula and value: None without the element, "" for an empty one; inline: None, or
# (text, whether xml:space="preserve")), and written back as :func:`_serialize` writes
# the tree of the same elements (after the same changes). A sheet in any other shape
# (Excel's, or a planner's) is read as a tree: the bytes are the same either way.


class _NotPlain(Exception):
    """A worksheet's rows are not in the shape :func:`_read_rows` reads."""


_PRESERVE = ((f"{{{_XML}}}space", "preserve"),)
_ROW = re.compile(r'<row((?: [A-Za-z]+="[^"<]*")*) ?(/?)>|</row>')
_CELL_XML = re.compile(
    r'<c r="([A-Z]{1,3}[0-9]+)"((?: [A-Za-z]+="[^"<]*")*)(?: ?/>|>'
    r"(?:<f>([^<]*)</f>|(<f ?/>))?"
    r"(?:<v>([^<]*)</v>|(<v ?/>))?"
    r'(<is><t( xml:space="preserve")?(?:>([^<]*)</t>| ?/>)</is>)?'
    r"</c>)"
)
_ATTRIBUTE = re.compile(r' ([A-Za-z]+)="([^"<]*)"')
_TYPE = re.compile(r' t="[^"]*"')
_ENTITY = re.compile(r"&(?:(amp|lt|gt|quot|apos)|#([0-9]+)|#x([0-9a-fA-F]+));|&")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
# What an XML parser refuses or rewrites: characters outside XML's Char, "]]>" in text, and
# carriage returns (line ends are normalised); attributes also get tabs and newlines rewritten.
_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\r\ufffe\uffff]|]]>")
_ENCODING = re.compile(rb"""\A\s*<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["']""")


def _read_rows(parts: dict[str, bytes]) -> tuple[dict[str, list], dict[str, ET.Element]]:
    """The rows of every worksheet in openpyxl's shape, and the rest of that sheet as a tree.

    The tree's sheetData is empty; when the sheet has rows, its text is a NUL character
    (which no XML text can hold) that :func:`tidy` replaces with :func:`_write_rows`.
    """
    rows: dict[str, list] = {}
    trees: dict[str, ET.Element] = {}
    for name, data in parts.items():
        if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
            continue
        start = data.find(b"<sheetData>")
        end = data.find(b"</sheetData>")
        if start < 0 or end < start or data.count(b"<sheetData") != 1 or data.count(b"</sheetData>") != 1:
            continue
        declared = _ENCODING.match(data)
        if declared and declared.group(1).lower() not in (b"utf-8", b"utf8"):
            continue
        try:
            sheet_rows = _parse_rows(data[start + len(b"<sheetData>") : end].decode("utf-8"))
            tree = ET.fromstring(data[:start] + b"<sheetData/>" + data[end + len(b"</sheetData>") :])  # noqa: S314
        except (_NotPlain, UnicodeDecodeError, ET.ParseError):
            continue
        sheet_data = [child for child in tree if child.tag == _SHEET_DATA]
        if tree.tag != _q(SML, "worksheet") or len(sheet_data) != 1 or list(tree.iter(_SHEET_DATA)) != sheet_data:
            continue
        if sheet_rows:
            sheet_data[0].text = "\0"
        rows[name], trees[name] = sheet_rows, tree
    return rows, trees


_SHEET_DATA = f"{{{SML}}}sheetData"


def _parse_rows(xml: str) -> list:
    if _REFUSED.search(xml):
        raise _NotPlain
    rows: list = []
    cells: list | None = None
    at, length = 0, len(xml)
    row_match, cell_match = _ROW.match, _CELL_XML.match
    while at < length:
        if cells is not None:
            found = cell_match(xml, at)
            if found:
                r, rest, formula, no_formula, value, no_value, inline, preserve, text = found.groups()
                kind = _kind(rest)
                if formula is not None:
                    formula = _unescape(formula) if "&" in formula else formula
                elif no_formula:
                    formula = ""
                if value is not None:
                    value = _unescape(value) if "&" in value else value
                elif no_value:
                    value = ""
                if inline or kind == "inlineStr":
                    if kind != "inlineStr" or formula is not None or value is not None:
                        raise _NotPlain  # an inline string in its own shape only; anything else as a tree
                    inline = (_unescape(text) if text else "", bool(preserve))
                cells.append([r, rest, kind, formula, value, inline])
                at = found.end()
                continue
        found = row_match(xml, at)
        if not found:
            raise _NotPlain
        if found[0] == "</row>":
            if cells is None:
                raise _NotPlain
            cells = None
        elif cells is not None:
            raise _NotPlain
        else:
            row = [_attributes(found[1]), []]
            rows.append(row)
            if not found[2]:
                cells = row[1]
        at = found.end()
    if cells is not None:
        raise _NotPlain
    return rows


@functools.lru_cache(maxsize=1024)
def _kind(rest: str) -> str | None:
    """The t of a cell whose attributes after its reference are ``rest``, which are written as they are.

    That holds only for values that need no escaping and that a parser reads as written.
    """
    attributes = _attributes(rest)
    if "r" in attributes or any(character in rest for character in "&>"):
        raise _NotPlain
    return attributes.get("t")


def _attributes(text: str) -> dict[str, str]:
    pairs = _ATTRIBUTE.findall(text)
    attributes = {key: _unescape(value) for key, value in pairs}
    if len(attributes) != len(pairs) or "xmlns" in attributes:
        raise _NotPlain
    for value in attributes.values():
        if "\t" in value or "\n" in value:
            raise _NotPlain
    return attributes


def _unescape(text: str) -> str:
    if "&" not in text:
        return text
    return _ENTITY.sub(_character, text)


def _character(match: re.Match) -> str:
    named, decimal, hexadecimal = match.groups()
    if named:
        return _NAMED[named]
    if decimal is None and hexadecimal is None:
        raise _NotPlain  # a bare "&": not well-formed
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if not (code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or code >= 0x10000):
        raise _NotPlain  # not a character XML allows
    return chr(code)


def _write_rows(rows: list) -> bytes:
    """The rows as :func:`_serialize` writes the elements they were read from (after any change)."""
    out: list[str] = []
    append = out.append
    special = _SPECIAL.search
    for attributes, cells in rows:
        pieces = ["<row"]
        for key, value in attributes.items():
            pieces.append(f' {key}="{_escape(value, attribute=True) if special(value) else value}"')
        start = "".join(pieces)
        if not cells:
            append(start + "/>")
            continue
        append(start + ">")
        for r, rest, _, formula, value, inline in cells:
            if formula is None and value is None and inline is None:
                append(f'<c r="{r}"{rest}/>')
                continue
            append(f'<c r="{r}"{rest}>')
            if formula is not None:
                append(f"<f>{_escape(formula) if special(formula) else formula}</f>" if formula else "<f/>")
            if value is not None:
                append(f"<v>{_escape(value) if special(value) else value}</v>" if value else "<v/>")
            if inline is not None:
                text, preserve = inline
                tag = '<t xml:space="preserve"' if preserve else "<t"
                append(f"<is>{tag}>{_escape(text)}</t></is>" if text else f"<is>{tag}/></is>")
            append("</c>")
        append("</row>")
    return "".join(out).encode("utf-8")


def _natural(name: str) -> tuple[int, str]:
    """``sheet10.xml`` after ``sheet9.xml``."""
    digits = "".join(c for c in Path(name).stem if c.isdigit())
    return (int(digits) if digits else 0, name)


def _order_fonts(styles: ET.Element) -> None:
    rank = {_q(SML, tag): n for n, tag in enumerate(_FONT_ORDER)}
    for font in styles.iter(_q(SML, "font")):
        children = sorted(font, key=lambda child: rank.get(child.tag, len(rank)))
        font[:] = children


def _source_date(core: ET.Element) -> None:
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch.isdigit():
        return
    when = dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for tag in ("created", "modified"):
        for element in core.iter(_q(_DCTERMS, tag)):
            element.text = when


# -- one way of writing XML ---------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _split(name: str) -> tuple[str, str]:
    if name.startswith("{"):
        namespace, local = name[1:].split("}", 1)
        return namespace, local
    return "", name


def _serialize(root: ET.Element) -> bytes:
    """``root`` as UTF-8 XML: every namespace declared on the root, Excel's prefixes, ``<a/>`` for empty elements.

    One pass: a namespace gets its prefix where it first appears (document order, an
    element's tag before its attributes), and the root's start tag, written last,
    declares them all in that order.
    """
    root_namespace = _split(root.tag)[0]
    default = root_namespace if root_namespace in _DEFAULT_ROOTS else ""
    namespaces: list[str] = []  # as they appear, the default one included
    prefixes = {_XML: "xml"}
    tags: dict[str, str] = {}
    attributes: dict[str, str] = {}

    def seen(namespace: str) -> None:
        namespaces.append(namespace)
        if namespace != default:
            prefixes[namespace] = _PREFIXES.get(namespace, f"ns{len(prefixes) - 1}")

    def tag_name(name: str) -> str:
        namespace, local = _split(name)
        if namespace and namespace != _XML and namespace not in namespaces:
            seen(namespace)
        known = tags[name] = local if not namespace or namespace == default else f"{prefixes[namespace]}:{local}"
        return known

    def attribute_name(name: str) -> str:
        namespace, local = _split(name)
        if namespace and namespace != _XML and namespace not in namespaces:
            seen(namespace)
        known = attributes[name] = f"{prefixes[namespace]}:{local}" if namespace else local
        return known

    out: list[str] = []
    append = out.append
    special = _SPECIAL.search

    def write(element: ET.Element) -> None:
        name = element.tag
        tag = tags.get(name) or tag_name(name)
        if element.attrib:
            pieces = [f"<{tag}"]
            for key, value in element.attrib.items():
                key = attributes.get(key) or attribute_name(key)
                pieces.append(f' {key}="{_escape(value, attribute=True) if special(value) else value}"')
            start = "".join(pieces)
        else:
            start = f"<{tag}"
        text = element.text
        if not text and len(element) == 0:
            append(f"{start}/>")
            return
        append(f"{start}>")
        if text:
            append(_escape(text) if special(text) else text)
        for child in element:
            write(child)
            tail = child.tail
            if tail:
                append(_escape(tail) if special(tail) else tail)
        append(f"</{tag}>")

    write(root)
    declarations = ([f' xmlns="{default}"'] if default else []) + [
        f' xmlns:{prefixes[ns]}="{_escape(ns, attribute=True)}"' for ns in namespaces if ns != default
    ]
    tag = tags[root.tag]
    first = out[0]
    out[0] = f"<{tag}{''.join(declarations)}{first[len(tag) + 1 :]}"
    return "".join(out).encode("utf-8")


_SPECIAL = re.compile('[&<>\r"\n\t]')


def _escape(text: str, *, attribute: bool = False) -> str:
    if not _SPECIAL.search(text):  # most texts: nothing to escape
        return text
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    if attribute:
        text = text.replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    return text
