"""nichekpi refresh and the workbook file: a transaction, and a package read with distrust.

Every hostile workbook here is built by the test from a fresh template. Each is refused
with one line naming the file and the rule, the workbook's bytes unchanged and no
temporary file left; or, where the file is legal, read and written right.
"""

from __future__ import annotations

import csv
import datetime as dt
import errno
import fcntl
import os
import re
import stat
import time
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pytest

from nichekpi import default_catalog
from nichekpi.cli import main
from nichekpi.package import Package, PackageError
from nichekpi.refresh import RefreshError, apply, plan
from nichekpi.workbook import build_workbook

INPUTS_PART = "xl/worksheets/sheet2.xml"  # openpyxl writes the sheets in order; Inputs is the second
WORKBOOK_PART = "xl/workbook.xml"
JANUARY_2026 = 46023  # days from 1899-12-30 to 2026-01-01, as Excel counts them (checked below)


@pytest.fixture
def workbook(tmp_path):
    folder = tmp_path / "books"
    folder.mkdir()
    path = folder / "custom-dollhouses.xlsx"
    build_workbook(default_catalog().business("custom-dollhouses"), 2026).save(path)
    return path


def write_csv(path: Path, rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows(rows)
    return path


@pytest.fixture
def inputs(tmp_path):
    """Satisfied customers: 3 in January, 5 in May (Inputs!D5 and H5)."""
    return write_csv(tmp_path / "inputs.csv", [["month", "csat_satisfied"], ["2026-01", "3"], ["2026-05", "5"]])


def satisfied(path: Path) -> list[object]:
    """The twelve cells of in_csat_satisfied, read by openpyxl."""
    book = openpyxl.load_workbook(path)
    sheet, area = book.defined_names["in_csat_satisfied"].attr_text.split("!")
    return [c.value for row in book[sheet][area.replace("$", "")] for c in row]


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def rebuild(path: Path, changed: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED, extra=()) -> None:
    """Write ``path`` again with some parts' content replaced and ``extra`` (name, bytes, method) added."""
    content = parts(path)
    content.update(changed)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in content.items():
            archive.writestr(name, data, compress_type=method)
        for name, data, extra_method in extra:
            archive.writestr(name, data, compress_type=extra_method)


def hidden_files(folder: Path) -> list[str]:
    """Files a refresh may have left: its temporary files and its lock file."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def refused(workbook: Path, inputs: Path, capsys, message: str, *extra: str) -> str:
    """Run refresh, expect a refusal: exit 1, one line naming the workbook, bytes unchanged, nothing left."""
    before = workbook.read_bytes()
    assert main(["refresh", str(workbook), "--inputs", str(inputs), *extra]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    assert re.search(message, err), err
    assert "the workbook was not changed" in err
    assert workbook.read_bytes() == before
    assert not workbook.with_name("custom-dollhouses.bak.xlsx").exists()
    assert hidden_files(workbook.parent) == []
    return err


def test_the_january_serial_is_excels():
    assert (dt.date(2026, 1, 1) - dt.date(1899, 12, 30)).days == JANUARY_2026


# -- a transaction ----------------------------------------------------------------------------------


def test_a_refresh_waits_for_another_and_is_refused_after_the_bounded_wait(workbook, inputs):
    result = plan(workbook, inputs=inputs)
    lock = os.open(workbook.with_name(f".{workbook.name}.nichekpi-lock"), os.O_RDWR | os.O_CREAT)
    fcntl.flock(lock, fcntl.LOCK_EX)  # as another refresh would hold it
    before = workbook.read_bytes()
    started = time.monotonic()
    with pytest.raises(RefreshError, match=r"custom-dollhouses.xlsx: another nichekpi refresh of this workbook"):
        apply(result, wait=0.3)
    assert 0.3 <= time.monotonic() - started < 5
    assert workbook.read_bytes() == before
    os.close(lock)
    assert apply(result, wait=0.3) is not None
    assert satisfied(workbook)[:5] == [3, None, None, None, 5]


def test_lock_files_are_checked_again_just_before_the_replace(workbook, inputs, monkeypatch):
    result = plan(workbook, inputs=inputs)
    before = workbook.read_bytes()
    write = Package.write

    def opened_in_excel_meanwhile(self, *args, **kwargs):
        write(self, *args, **kwargs)
        workbook.with_name(f"~${workbook.name}").write_text("someone", encoding="utf-8")

    monkeypatch.setattr(Package, "write", opened_in_excel_meanwhile)
    with pytest.raises(RefreshError, match="was opened in Excel or LibreOffice meanwhile"):
        apply(result)
    assert workbook.read_bytes() == before
    assert hidden_files(workbook.parent) == []


def test_a_symbolic_link_is_followed_and_stays_a_link(workbook, inputs, tmp_path, capsys):
    link = tmp_path / "link.xlsx"
    link.symlink_to(workbook)
    assert main(["refresh", str(link), "--inputs", str(inputs)]) == 0
    assert link.is_symlink() and link.resolve() == workbook.resolve()
    assert satisfied(workbook)[0] == 3
    assert workbook.with_name("custom-dollhouses.bak.xlsx").exists()  # beside the real file
    assert "the previous version is" in capsys.readouterr().out


def test_the_permissions_are_kept(workbook, inputs):
    workbook.chmod(0o640)
    apply(plan(workbook, inputs=inputs))
    assert stat.S_IMODE(workbook.stat().st_mode) == 0o640


def test_a_read_only_workbook_is_refused(workbook, inputs, capsys):
    workbook.chmod(0o444)
    refused(workbook, inputs, capsys, r"custom-dollhouses.xlsx is read-only: make it writable first")
    assert stat.S_IMODE(workbook.stat().st_mode) == 0o444


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder anyway")
def test_a_read_only_folder_is_refused(workbook, inputs, capsys):
    workbook.with_name(f".{workbook.name}.nichekpi-lock").touch()
    workbook.parent.chmod(0o555)
    try:
        refused(workbook, inputs, capsys, r"books: the folder is read-only")
    finally:
        workbook.parent.chmod(0o755)


def test_a_folder_that_refuses_the_lock_file_is_a_message(workbook, inputs, capsys, monkeypatch):
    opening = os.open

    def read_only(path, flags, *args):
        if str(path).endswith("nichekpi-lock"):
            raise OSError(errno.EROFS, "Read-only file system")
        return opening(path, flags, *args)

    monkeypatch.setattr(os, "open", read_only)
    refused(workbook, inputs, capsys, r"books: the folder is read-only; nichekpi cannot write the workbook there")


def test_a_folder_that_refuses_the_temporary_file_is_a_message(workbook, inputs, capsys, monkeypatch):
    import tempfile

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    refused(workbook, inputs, capsys, r"custom-dollhouses.xlsx: could not write it: Permission denied")


@pytest.mark.parametrize("where", ["workbook", "backup"])
def test_a_full_disk_is_a_message_and_changes_nothing(workbook, inputs, capsys, monkeypatch, where):
    import shutil

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    if where == "workbook":
        monkeypatch.setattr(Package, "write", full)
    else:
        monkeypatch.setattr(shutil, "copyfile", full)
    refused(workbook, inputs, capsys, r"custom-dollhouses.xlsx: could not write it: the disk is full")


def test_temporary_files_of_a_killed_refresh_are_removed_by_the_next(workbook, inputs):
    folder = workbook.parent
    stale = [f".{workbook.name}.a1b2c3d4.tmp", ".custom-dollhouses.bak.xlsx.zz_9y8x7.tmp"]
    others = [f".{workbook.name}.mine.tmp", "custom-dollhouses.xlsx.a1b2c3d4.tmp", ".other.xlsx.a1b2c3d4.tmp"]
    for name in stale + others:
        (folder / name).write_bytes(b"half")
    apply(plan(workbook, inputs=inputs))
    assert hidden_files(folder) == sorted(n for n in others if n.startswith("."))
    assert (folder / others[1]).exists()


# -- input cells and month headers -----------------------------------------------------------------


def test_a_formula_in_an_input_cell_is_left_alone_with_a_warning(workbook, inputs, capsys):
    book = openpyxl.load_workbook(workbook)
    book["Inputs"]["D5"] = "=B5*2"
    book.save(workbook)
    assert main(["refresh", str(workbook), "--inputs", str(inputs)]) == 0
    captured = capsys.readouterr()
    assert captured.err.strip() == (
        "nichekpi: warning: Inputs!D5 (in_csat_satisfied, 2026-01) holds a formula (=B5*2): left as it is, "
        "not 3 from inputs.csv; give --overwrite-formulas to replace it"
    )
    assert "1 values to write" in captured.out
    assert satisfied(workbook)[:5] == ["=B5*2", None, None, None, 5]
    assert main(["refresh", str(workbook), "--inputs", str(inputs), "--overwrite-formulas"]) == 0
    assert capsys.readouterr().err == ""
    assert satisfied(workbook)[:5] == [3, None, None, None, 5]


def _with_header_formulas(path: Path, *, cached: bool) -> None:
    """Make the month headers formulas (=DATE(2026,m,1)), with or without their cached values."""
    text = parts(path)[INPUTS_PART].decode("utf-8")

    def formula(match: re.Match) -> str:
        month = ord(match.group(2)) - ord("D") + 1
        value = f"<v>{match.group(4)}</v>" if cached else ""
        return f'<c r="{match.group(2)}3"{match.group(3)}><f>DATE(2026,{month},1)</f>{value}</c>'

    text, count = re.subn(r'(<c r="([D-O])3"([^>]*)><v>(\d+)</v></c>)', formula, text)
    assert count == 12
    rebuild(path, {INPUTS_PART: text.encode("utf-8")})


def test_month_headers_that_are_formulas_are_read_on_every_refresh(workbook, tmp_path):
    _with_header_formulas(workbook, cached=True)
    january = write_csv(tmp_path / "jan.csv", [["month", "csat_satisfied"], ["2026-01", "3"]])
    february = write_csv(tmp_path / "feb.csv", [["month", "csat_satisfied"], ["2026-02", "4"]])
    assert main(["refresh", str(workbook), "--inputs", str(january)]) == 0
    assert main(["refresh", str(workbook), "--inputs", str(february)]) == 0
    assert satisfied(workbook)[:3] == [3, 4, None]
    text = parts(workbook)[INPUTS_PART].decode("utf-8")
    assert re.search(rf'<c r="D3"[^>]*><f>DATE\(2026,1,1\)</f><v>{JANUARY_2026}</v></c>', text)


def test_month_headers_without_a_value_are_refused_not_nothing_to_write(workbook, inputs, capsys):
    _with_header_formulas(workbook, cached=False)
    refused(
        workbook,
        inputs,
        capsys,
        r"custom-dollhouses.xlsx: the month header Inputs!D3 is a formula without a computed value: "
        r"open the workbook in Excel or LibreOffice, save it, then refresh again",
    )


def test_a_month_header_that_is_not_a_date_is_refused(workbook, inputs, capsys):
    book = openpyxl.load_workbook(workbook)
    book["Inputs"]["F3"] = "March"
    book.save(workbook)
    refused(workbook, inputs, capsys, r"the month header Inputs!F3 must be a date in its month; got 'March'")


def test_the_1904_date_system_is_read(workbook, inputs):
    text = parts(workbook)[INPUTS_PART].decode("utf-8")
    # In the 1904 system the same day has a serial 1,462 smaller: 1904-01-01 is day 0.
    assert (dt.date(2026, 1, 1) - dt.date(1904, 1, 1)).days == JANUARY_2026 - 1462
    text = re.sub(r'(<c r="[D-O]3"[^>]*><v>)(\d+)(</v>)', lambda m: f"{m[1]}{int(m[2]) - 1462}{m[3]}", text)
    settings, count = re.subn(rb"<workbookPr\s*/>", b'<workbookPr date1904="1"/>', parts(workbook)[WORKBOOK_PART])
    assert count == 1
    rebuild(workbook, {INPUTS_PART: text.encode("utf-8"), WORKBOOK_PART: settings})
    result = plan(workbook, inputs=inputs)
    assert [(c.month, c.cell) for c in result.changes] == [("2026-01", "Inputs!D5"), ("2026-05", "Inputs!H5")]
    assert result.outside == []


@pytest.mark.parametrize(
    ("serial", "day"),
    [
        (1, dt.date(1900, 1, 1)),
        (59, dt.date(1900, 2, 28)),
        (61, dt.date(1900, 3, 1)),
        (JANUARY_2026, dt.date(2026, 1, 1)),
    ],
)
def test_serials_in_the_1900_date_system(workbook, serial, day):
    # Excel's day 60 is 29 February 1900, a day that never was: days after it are one fewer.
    with Package(workbook) as package:
        assert package.date_of(float(serial)) == day
        assert package.date_of(60.0) is None


def test_templates_refuse_years_before_1901(tmp_path, capsys):
    assert main(["templates", "--out", str(tmp_path), "--year", "1900"]) == 2
    assert "--year must be a year from 1901" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_an_input_name_shortened_to_three_months_is_a_message(workbook, inputs, capsys):
    book = openpyxl.load_workbook(workbook)
    book.defined_names["in_csat_satisfied"].attr_text = "Inputs!$D$5:$F$5"
    book.save(workbook)
    refused(
        workbook,
        inputs,
        capsys,
        r"the name in_csat_satisfied covers 3 cells \(Inputs!D5:F5\) but the workbook has 12 months; "
        r"make it cover the whole row of months again",
    )


# -- hostile packages ------------------------------------------------------------------------------


def _patch_directory(
    path: Path, name: str, *, method: int | None = None, flags: int | None = None, size: int | None = None
) -> None:
    """Change a part's compression method, flags or uncompressed size in its local header and the central directory."""
    data = bytearray(path.read_bytes())
    encoded = name.encode()
    for signature, name_at, flags_at, method_at, size_at in (
        (b"PK\x03\x04", 30, 6, 8, 22),
        (b"PK\x01\x02", 46, 8, 10, 24),
    ):
        at = 0
        while (at := data.find(signature, at)) >= 0:
            if data[at + name_at : at + name_at + len(encoded)] == encoded:
                if method is not None:
                    data[at + method_at : at + method_at + 2] = method.to_bytes(2, "little")
                if flags is not None:
                    data[at + flags_at : at + flags_at + 2] = flags.to_bytes(2, "little")
                if size is not None:
                    data[at + size_at : at + size_at + 4] = size.to_bytes(4, "little")
            at += 4
    path.write_bytes(bytes(data))


def _damage(path: Path, name: str) -> None:
    """Flip a byte of a stored part's data, so that its CRC no longer matches."""
    content = parts(path)
    with zipfile.ZipFile(path, "w") as archive:
        for part, data in content.items():
            archive.writestr(part, data, compress_type=zipfile.ZIP_STORED if part == name else zipfile.ZIP_DEFLATED)
    data = path.read_bytes()
    at = data.index(content[name][:200]) + 100
    path.write_bytes(data[:at] + bytes([data[at] ^ 0x20]) + data[at + 1 :])


def _zeros(path: Path) -> None:
    rebuild(path, {}, extra=[("xl/media/zeros.bin", bytes(64 * 1024 * 1024), zipfile.ZIP_DEFLATED)])


def _four_gib(path: Path) -> None:
    """A part that the zip directory says is 4 GiB of zeros, in a file of a few hundred kB."""
    rebuild(path, {}, extra=[("xl/media/zeros.bin", bytes(1 << 20), zipfile.ZIP_DEFLATED)])
    _patch_directory(path, "xl/media/zeros.bin", size=0xFFFFFFFE)
    assert path.stat().st_size < 1 << 20


def _duplicate(path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate name it is asked to write
        rebuild(path, {}, extra=[("xl/styles.xml", parts(path)["xl/styles.xml"], zipfile.ZIP_DEFLATED)])


def _utf16(path: Path) -> None:
    text = parts(path)[INPUTS_PART].decode("utf-8")
    rebuild(path, {INPUTS_PART: ('<?xml version="1.0" encoding="UTF-16"?>' + text).encode("utf-16")})


def _entities(path: Path) -> None:
    text = parts(path)[INPUTS_PART].decode("utf-8")
    doctype = '<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    rebuild(path, {INPUTS_PART: (doctype + text.replace("<sheetData>", "<sheetData>&b;", 1)).encode("utf-8")})


def _external_entity(path: Path) -> None:
    text = parts(path)[INPUTS_PART].decode("utf-8")
    doctype = '<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    rebuild(path, {INPUTS_PART: (doctype + text.replace("<sheetData>", "<sheetData>&x;", 1)).encode("utf-8")})


def _not_xml(path: Path) -> None:
    rebuild(path, {INPUTS_PART: parts(path)[INPUTS_PART][:-20]})


HOSTILE = {
    "a part of 64 MiB of zeros": (_zeros, r"xl/media/zeros.bin is compressed \d[\d,]* times over, more than the 200"),
    "a part of 4 GiB": (_four_gib, r"xl/media/zeros.bin would be 4,294,967,294 bytes uncompressed, over the"),
    "a damaged part that is copied": (
        lambda p: _damage(p, "xl/theme/theme1.xml"),
        r"custom-dollhouses.xlsx: a part is damaged \(Bad CRC-32 for file 'xl/theme/theme1.xml'\)",
    ),
    "a damaged sheet that is read": (
        lambda p: _damage(p, INPUTS_PART),
        r"the part xl/worksheets/sheet2.xml is damaged \(Bad CRC-32",
    ),
    "a deflate64 part": (
        lambda p: _patch_directory(p, "xl/styles.xml", method=9),
        r"the part xl/styles.xml is compressed with deflate64, which Excel does not use",
    ),
    "an encrypted part": (
        lambda p: _patch_directory(p, "xl/styles.xml", flags=1),
        r"the part xl/styles.xml is encrypted; remove the password in Excel first",
    ),
    "a part twice": (_duplicate, r"the part xl/styles.xml is in the file twice"),
    "UTF-16 XML": (_utf16, r"the part xl/worksheets/sheet2.xml is XML in UTF-16, which nichekpi does not edit"),
    "entity expansion": (_entities, r"sheet2.xml declares a document type .* refused"),
    "an external entity": (_external_entity, r"sheet2.xml declares a document type .* refused"),
    "broken XML": (_not_xml, r"the part xl/worksheets/sheet2.xml is not well-formed XML \(unclosed token"),
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_hostile_packages_are_refused_untouched(workbook, inputs, capsys, case):
    make, message = HOSTILE[case]
    make(workbook)
    refused(workbook, inputs, capsys, message)


def test_the_part_size_ceiling_is_checked_from_the_zip_directory(workbook, inputs, monkeypatch):
    import nichekpi.package

    monkeypatch.setattr(nichekpi.package, "MAX_PART_SIZE", 1000)
    read = zipfile.ZipFile.read
    monkeypatch.setattr(zipfile.ZipFile, "read", lambda *a: pytest.fail(f"read {a[1]} before checking"))
    with pytest.raises(PackageError, match=r"the part \S+ would be [\d,]+ bytes uncompressed, over the 1,000"):
        plan(workbook, inputs=inputs)
    monkeypatch.setattr(zipfile.ZipFile, "read", read)


def test_namespace_prefixed_worksheet_xml_is_read_and_written(workbook, inputs):
    main_ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    text = parts(workbook)[INPUTS_PART].decode("utf-8")
    text = re.sub(r"<(/?)([A-Za-z]+)([\s/>])", r"<\1x:\2\3", text).replace(f'xmlns="{main_ns}"', f'xmlns:x="{main_ns}"')
    assert text.startswith("<x:worksheet xmlns:x=") and "<x:c " in text and "<c " not in text
    rebuild(workbook, {INPUTS_PART: text.encode("utf-8")})
    result = plan(workbook, inputs=inputs)
    assert [c.cell for c in result.changes] == ["Inputs!D5", "Inputs!H5"]
    apply(result)
    assert satisfied(workbook)[:5] == [3, None, None, None, 5]
    assert '<x:c r="D5"' in parts(workbook)[INPUTS_PART].decode("utf-8")


def test_a_comment_full_of_cell_tags_takes_linear_time(workbook, inputs):
    text = parts(workbook)[INPUTS_PART].decode("utf-8")
    comment = "<!--" + "<c " * 60_000 + "-->"
    rebuild(workbook, {INPUTS_PART: text.replace("<sheetData>", "<sheetData>" + comment, 1).encode("utf-8")})
    started = time.monotonic()
    apply(plan(workbook, inputs=inputs))
    assert time.monotonic() - started < 10  # the regular expressions before took over 120 s
    assert satisfied(workbook)[:5] == [3, None, None, None, 5]
    assert comment in parts(workbook)[INPUTS_PART].decode("utf-8")


@pytest.mark.parametrize("target", ["#REF!", "Inputs!$A$1:$XFD$1048576"])
def test_an_input_name_that_is_no_row_of_cells_is_a_message(workbook, inputs, capsys, target):
    book = openpyxl.load_workbook(workbook)
    book.defined_names["in_csat_satisfied"].attr_text = target
    book.save(workbook)
    refused(workbook, inputs, capsys, rf"the name in_csat_satisfied refers to '{re.escape(target)}', not to a row")


def test_a_package_of_stored_parts_is_copied_as_it_is(workbook, inputs):
    rebuild(workbook, {}, method=zipfile.ZIP_STORED)
    before = parts(workbook)
    apply(plan(workbook, inputs=inputs))
    after = parts(workbook)
    assert satisfied(workbook)[:5] == [3, None, None, None, 5]
    changed = {name for name in before if before[name] != after[name]}
    assert changed <= {INPUTS_PART, WORKBOOK_PART} | {n for n in before if n.startswith("xl/worksheets/sheet")}
    assert before["xl/styles.xml"] == after["xl/styles.xml"] and list(before) == list(after)
    with zipfile.ZipFile(workbook) as archive:
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}


def _compressed(path: Path) -> dict[str, bytes]:
    """Each part's compressed bytes, as they are in the file."""
    found = {}
    with zipfile.ZipFile(path) as archive, path.open("rb") as raw:
        for info in archive.infolist():
            raw.seek(info.header_offset + 26)
            names = int.from_bytes(raw.read(2), "little") + int.from_bytes(raw.read(2), "little")
            raw.seek(info.header_offset + 30 + names)
            found[info.filename] = raw.read(info.compress_size)
    return found


def test_unchanged_parts_keep_their_compressed_bytes_and_a_data_sheet_is_not_read_as_xml(tmp_path):
    business = default_catalog().business("custom-dollhouses")
    wb = build_workbook(business, 2026)
    data = wb.create_sheet("Fairs")
    for n in range(300):
        data.append([f"Fair of {n}", n, "f>", "a:f text"])  # text that looks a little like a formula tag
    path = tmp_path / "custom-dollhouses.xlsx"
    wb.save(path)
    before = _compressed(path)
    table = tmp_path / "inputs.csv"
    table.write_text("month,csat_satisfied,csat_responses\n2026-01,3,4\n", encoding="utf-8")
    assert main(["refresh", str(path), "--inputs", str(table)]) == 0
    after = _compressed(path)
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        fairs = next(n for n in archive.namelist() if archive.read(n).count(b"Fair of") == 300)
    assert after[fairs] == before[fairs]
    unchanged = [n for n in before if not n.startswith("xl/worksheets/") and n != "xl/workbook.xml"]
    assert unchanged and all(after[n] == before[n] for n in unchanged)
    assert openpyxl.load_workbook(path)["Fairs"]["A300"].value == "Fair of 299"


def test_a_formula_is_found_with_or_without_a_prefix():
    from nichekpi.package import _has_formula

    assert _has_formula(b'<c r="A1"><f>B1*2</f></c>')
    assert _has_formula(b'<x:c r="A1"><x:f t="shared" ref="A1:A3" si="0">B1</x:f></x:c>')
    assert _has_formula(b'<c r="A2"><f t="shared" si="0"/></c>')
    assert not _has_formula(b'<c r="A1" t="inlineStr"><is><t>proof of f&gt; text</t></is></c>')
    assert _has_formula(b"<t>a:f text</t>")  # text that looks like a tag only costs a closer look
