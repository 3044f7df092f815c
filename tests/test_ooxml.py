"""The package as Excel writes it: the same bytes with or without lxml, Excel's prefixes, schema-valid.

openpyxl writes its XML through lxml when lxml is installed and through the standard
library otherwise, and the two differ. lxml comes into the test environment with
openxml-audit; the run without it blocks its import in a fresh interpreter.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from nichekpi import default_catalog
from nichekpi._ooxml import tidy
from nichekpi.cli import main
from nichekpi.workbook import build_workbook, example_values, save_atomically
from tests.workbooks import as_values, random_months

BUSINESSES = list(default_catalog())
EXAMPLES = Path(__file__).parent.parent / "examples"
LXML_HINT = "install lxml to run it: pip install lxml (it comes with the test extras, through openxml-audit)"
# CT_Font, ECMA-376 Part 1, sml.xsd: the order of a font's child elements.
SCHEMA_FONT_ORDER = [
    "b", "i", "strike", "condense", "extend", "outline", "shadow", "u", "vertAlign",
    "sz", "color", "name", "family", "charset", "scheme",
]  # fmt: skip
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"

# Makes the five example templates in a fresh interpreter. With "absent", importing lxml
# fails there as it does where lxml is not installed, so openpyxl takes its standard-library
# writer (openpyxl looks for lxml only in openpyxl/xml/__init__.py).
GENERATE = """
import importlib.abc, sys

class NoLxml(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "lxml" or name.startswith("lxml."):
            raise ImportError(f"No module named {name!r}")
        return None

if sys.argv[2] == "absent":
    sys.meta_path.insert(0, NoLxml())
import openpyxl
from nichekpi.cli import main
print(openpyxl.LXML)
sys.exit(main(["templates", "--example", "--year", "2026", "--out", sys.argv[1], "--force"]))
"""


def _generate(folder: Path, lxml: str) -> bool:
    """The five example templates, with lxml ``"present"`` or ``"absent"``; whether openpyxl wrote through lxml."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1767225600"}
    env.pop("OPENPYXL_LXML", None)
    result = subprocess.run(
        [sys.executable, "-c", GENERATE, str(folder), lxml], capture_output=True, text=True, check=False, env=env
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()[0] == "True"


def test_the_same_bytes_with_or_without_lxml(tmp_path):
    with_lxml = _generate(tmp_path / "lxml", "present")
    if not with_lxml:
        if os.environ.get("CI"):
            pytest.fail(f"lxml is required in CI for this test; {LXML_HINT}", pytrace=False)
        pytest.skip(f"lxml is not installed; {LXML_HINT}")
    assert not _generate(tmp_path / "stdlib", "absent")
    for business in BUSINESSES:
        name = f"{business.id}.xlsx"
        written = (tmp_path / "lxml" / name).read_bytes()
        assert written == (tmp_path / "stdlib" / name).read_bytes(), name
        assert written[:2] == b"PK"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """{label: (openpyxl's own bytes, the package as saved)}: example and random-valued workbooks of every type."""
    folder = tmp_path_factory.mktemp("ooxml")
    found = {}
    for n, business in enumerate(BUSINESSES):
        for kind, values in (
            ("example", example_values(business)),
            ("random", as_values(business, random_months(business, seed=100 + n))),
        ):
            raw, saved = folder / f"{business.id}-{kind}-raw.xlsx", folder / f"{business.id}-{kind}.xlsx"
            build_workbook(business, 2026, values).save(raw)
            save_atomically(build_workbook(business, 2026, values), saved)
            found[f"{business.id} {kind}"] = (raw, saved)
    return found


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        return {name: package.read(name) for name in package.namelist()}


def test_drawings_and_charts_use_the_prefixes_excel_writes(generated):
    for label, (_, saved) in generated.items():
        parts = _parts(saved)
        drawings = [n for n in parts if n.startswith("xl/drawings/") and n.endswith(".xml")]
        charts = [n for n in parts if n.startswith("xl/charts/")]
        assert len(drawings) == 1 and len(charts) == 7, label
        drawing = parts[drawings[0]].decode("utf-8")
        root = drawing[drawing.index("<xdr:wsDr") : drawing.index(">", drawing.index("<xdr:wsDr"))]
        for prefix, namespace in (
            ("xdr", "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"),
            ("a", "http://schemas.openxmlformats.org/drawingml/2006/main"),
            ("c", "http://schemas.openxmlformats.org/drawingml/2006/chart"),
        ):
            assert f'xmlns:{prefix}="{namespace}"' in root, label
        # the Dashboard anchors its charts to cells at both corners (issue 9), as Excel writes them
        assert drawing.count("<xdr:twoCellAnchor") == 7 and drawing.count("<a:graphic>") == 7, label
        assert drawing.count("<c:chart r:id=") == 7, label
        for name in [drawings[0], *charts]:
            text = parts[name].decode("utf-8")
            assert 'xmlns="' not in text, f"{label}: {name} uses a default namespace"
            assert text.count("xmlns:") == text[: text.index(">", text.index("?>") + 2)].count("xmlns:"), name
        for name in charts:
            assert b"<c:chartSpace " in parts[name], f"{label}: {name}"


def test_fonts_follow_the_schemas_order(generated):
    for label, (raw, saved) in generated.items():
        styles = openpyxl.xml.functions.fromstring(_parts(saved)["xl/styles.xml"])
        fonts = list(styles.iter(f"{MAIN}font"))
        assert fonts, label
        for font in fonts:
            order = [SCHEMA_FONT_ORDER.index(child.tag.removeprefix(MAIN)) for child in font]
            assert order == sorted(order), f"{label}: {[c.tag for c in font]}"
        raw_fonts = list(openpyxl.xml.functions.fromstring(_parts(raw)["xl/styles.xml"]).iter(f"{MAIN}font"))
        assert [sorted(c.tag for c in f) for f in fonts] == [sorted(c.tag for c in f) for f in raw_fonts], label


def test_text_is_in_a_shared_strings_part(generated):
    for label, (_, saved) in generated.items():
        parts = _parts(saved)
        sheets = [n for n in parts if n.startswith("xl/worksheets/sheet")]
        cells = [c for n in sheets for c in openpyxl.xml.functions.fromstring(parts[n]).iter(f"{MAIN}c")]
        assert not [c for c in cells if c.get("t") == "inlineStr"], label
        shared = [c for c in cells if c.get("t") == "s"]
        sst = openpyxl.xml.functions.fromstring(parts["xl/sharedStrings.xml"])
        items = list(sst.iter(f"{MAIN}si"))
        assert int(sst.get("count")) == len(shared) > 0, label
        assert int(sst.get("uniqueCount")) == len(items) == len({c.find(f"{MAIN}v").text for c in shared}), label
        assert b'PartName="/xl/sharedStrings.xml"' in parts["[Content_Types].xml"], label
        assert b'Target="sharedStrings.xml"' in parts["xl/_rels/workbook.xml.rels"], label


def _style(cell) -> tuple[str, ...]:
    # repr: openpyxl's style proxies compare unequal to one another even when their styles are equal
    return tuple(repr(part) for part in (cell.font, cell.fill, cell.border, cell.protection, cell.alignment))


def test_every_cell_format_name_rule_and_chart_survives(generated):
    for label, (raw, saved) in generated.items():
        before, after = openpyxl.load_workbook(raw), openpyxl.load_workbook(saved)
        assert after.sheetnames == before.sheetnames, label
        assert {n: d.attr_text for n, d in after.defined_names.items()} == {
            n: d.attr_text for n, d in before.defined_names.items()
        }, label
        for old, new in zip(before.worksheets, after.worksheets):
            assert (new.max_row, new.max_column) == (old.max_row, old.max_column), f"{label} {old.title}"
            for old_row, new_row in zip(old.iter_rows(), new.iter_rows()):
                for a, b in zip(old_row, new_row):
                    where = f"{label} {old.title}!{a.coordinate}"
                    assert b.value == a.value, where
                    assert b.number_format == a.number_format, where
                    assert _style(b) == _style(a), where
            assert [(str(r.sqref), [x.formula for x in r.rules]) for r in new.conditional_formatting] == [
                (str(r.sqref), [x.formula for x in r.rules]) for r in old.conditional_formatting
            ], label
            assert [str(v.sqref) for v in new.data_validations.dataValidation] == [
                str(v.sqref) for v in old.data_validations.dataValidation
            ], label
            assert len(new._charts) == len(old._charts), label
            assert new.sheet_state == old.sheet_state and new.protection.sheet == old.protection.sheet, label


def test_zip_entries_carry_a_fixed_time_and_content_types_come_first(generated):
    for label, (_, saved) in generated.items():
        with zipfile.ZipFile(saved) as package:
            infos = package.infolist()
        assert infos[0].filename == "[Content_Types].xml", label
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}, label


def test_tidy_twice_changes_nothing(generated):
    for label, (_, saved) in generated.items():
        once = saved.read_bytes()
        assert tidy(once) == once, label


def _audit(folder: Path) -> list[dict]:
    """openxml-audit's reports on every workbook in ``folder``."""
    result = subprocess.run(
        [sys.executable, "-m", "openxml_audit", "-o", "json", "-m", "0", "-r", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.startswith("["), result.stderr
    return json.loads(result.stdout)


def test_the_schema_validator_finds_nothing_in_generated_and_refreshed_workbooks(generated, tmp_path):
    refreshed = tmp_path / "custom-dollhouses.xlsx"
    assert main(["templates", "--business", "custom-dollhouses", "--year", "2026", "--out", str(tmp_path)]) == 0
    files = [
        "--inputs",
        EXAMPLES / "inputs.csv",
        "--orders",
        EXAMPLES / "orders.csv",
        "--survey",
        EXAMPLES / "survey.csv",
    ]
    assert main(["refresh", str(refreshed), *map(str, files)]) == 0
    audited = tmp_path / "audited"
    audited.mkdir()
    for _, saved in generated.values():
        shutil.copy(saved, audited)
    shutil.copy(refreshed, audited / "refreshed.xlsx")
    reports = _audit(audited)
    assert len(reports) == len(generated) + 1
    for report in reports:
        findings = [(e["part_uri"], e["description"]) for e in report["errors"]]
        assert report["error_count"] == 0 and report["warning_count"] == 0, (report["file"], findings)


def test_the_schema_validator_sees_what_openpyxl_alone_writes(generated, tmp_path):
    # The check above can fail: openpyxl's own package has fonts out of the schema's order.
    raw, _ = generated["custom-dollhouses example"]
    shutil.copy(raw, tmp_path)
    (report,) = _audit(tmp_path)
    assert report["error_count"] > 0
    assert any(e["part_uri"] == "/xl/styles.xml" for e in report["errors"])


GNUMERIC_HINT = "install Gnumeric to run it: apt-get install -y gnumeric (Debian/Ubuntu)"


def test_gnumeric_keeps_the_seven_charts(generated, tmp_path):
    # With lxml, openpyxl's drawing declares its namespaces on a:graphic, and Gnumeric dropped every chart.
    program = shutil.which("ssconvert")
    if program is None:
        if os.environ.get("CI"):
            pytest.fail(f"Gnumeric is required in CI; {GNUMERIC_HINT}", pytrace=False)
        pytest.skip(f"Gnumeric is not installed; {GNUMERIC_HINT}")
    for label, (_, saved) in generated.items():
        converted = tmp_path / f"{saved.stem}.gnumeric"
        result = subprocess.run([program, str(saved), str(converted)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        assert gzip.decompress(converted.read_bytes()).count(b"<gnm:SheetObjectGraph") == 7, label


def test_source_date_epoch_fixes_the_documents_dates(generated, monkeypatch):
    _, saved = generated["soundwave-art example"]
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01 00:00:00 UTC
    core = _parts_of(tidy(saved.read_bytes()))["docProps/core.xml"]
    assert core.count(b">2026-01-01T00:00:00Z</dcterms:") == 2
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert tidy(saved.read_bytes()) == saved.read_bytes()  # without it, the dates stay as they were


def _parts_of(package: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(package)) as opened:
        return {name: opened.read(name) for name in opened.namelist()}
