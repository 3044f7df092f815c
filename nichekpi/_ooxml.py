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
    trees = {name: ET.fromstring(data) for name, data in parts.items() if name.endswith((".xml", ".rels"))}  # noqa: S314
    _share_strings(trees, names)
    _cache_values(trees)
    for name, tree in trees.items():
        if name == "xl/styles.xml":
            _order_fonts(tree)
        elif name == "docProps/core.xml":
            _source_date(tree)
        parts[name] = _DECLARATION + _serialize(tree)
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


def tidy_file(path: Path) -> None:
    """Rewrite the .xlsx at ``path`` with :func:`tidy`."""
    path.write_bytes(tidy(path.read_bytes()))


# -- parts ------------------------------------------------------------------------------


def _q(namespace: str, tag: str) -> str:
    return f"{{{namespace}}}{tag}"


def _share_strings(trees: dict[str, ET.Element], names: list[str]) -> None:
    """Move the worksheets' inline strings into the shared-strings part (added if missing)."""
    strings = trees.get(_SHARED_STRINGS)
    if strings is None:
        strings = ET.Element(_q(SML, "sst"))
    index = {_key(si): n for n, si in enumerate(strings)}
    moved = 0
    sheets = sorted((n for n in trees if n.startswith("xl/worksheets/") and n.endswith(".xml")), key=_natural)
    for name in sheets:
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
    count = sum(1 for sheet in sheets for cell in trees[sheet].iter(_q(SML, "c")) if cell.get("t") == "s")
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


def _cache_values(trees: dict[str, ET.Element]) -> None:
    """Give every formula cell the value it computes (see :mod:`nichekpi._evaluate`).

    A reader that never recalculates then shows the numbers; Excel still recalculates
    on load. A formula the evaluator does not know leaves every formula cell without a
    value, as before, rather than a wrong one.
    """
    if "xl/workbook.xml" not in trees:
        return
    strings = [
        "".join(t.text or "" for t in si.iter(_q(SML, "t"))) for si in trees.get(_SHARED_STRINGS, ET.Element("x"))
    ]
    parts = {name: part for name, part in _sheet_parts(trees).items() if part in trees}
    cells: dict[str, dict[tuple[int, int], object]] = {}
    formula_cells: dict[tuple[str, int, int], ET.Element] = {}
    for sheet, part in parts.items():
        cells[sheet] = sheet_cells = {}
        for cell in trees[part].iter(_CELL):
            at = parse_cell(cell.get("r", ""))
            formula, value = cell.find(_FORMULA), cell.find(_VALUE)
            text = value.text if value is not None else None
            if formula is not None:
                if formula.get("t") not in (None, "normal") or not formula.text:
                    return  # shared or array formulas: not this evaluator's
                sheet_cells[at] = "=" + formula.text
                formula_cells[(sheet, *at)] = cell
                continue
            if text is None:
                continue
            kind = cell.get("t", "n")
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
        _write_value(cell, values[key])


def _write_value(cell: ET.Element, value: object) -> None:
    for old in cell.findall(_VALUE):
        cell.remove(old)
    cell.attrib.pop("t", None)
    if isinstance(value, Error):
        cell.set("t", "e")
        text = value.code
    elif isinstance(value, bool):
        cell.set("t", "b")
        text = "1" if value else "0"
    elif isinstance(value, str):
        cell.set("t", "str")
        text = value
    else:
        text = str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    element = ET.Element(_VALUE)
    element.text = text
    formula = cell.find(_FORMULA)
    cell.insert(list(cell).index(formula) + 1, element)


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
