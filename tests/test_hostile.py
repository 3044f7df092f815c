"""Every failure is a message (issue 8): hostile catalog files, hostile command lines, and
the last-resort guard of ``nichekpi``'s main, down to one line on stderr and no traceback.

The hostile files are built here, a few lines each. The harness at the end runs each
command as a subprocess, the way a user meets it.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from nichekpi import cli
from nichekpi.catalog import CatalogError, load_business_file, with_business_files

ROOT = Path(__file__).parent.parent

CANDLES = """\
id = "{business}"
name = "Custom candles"

[[kpis]]
id = "{kpi}"
name = "Happy customers"
formula = "csat"
unit = "fraction"
better = "higher"
thresholds = {{ typical = 0.7 }}
inputs = [
  {{ id = "{first}", label = "Satisfied", unit = "responses" }},
  {{ id = "responses", label = "Responses", unit = "responses" }},
]
"""


def candles(business="custom-candles", kpi="happy", first="satisfied"):
    return CANDLES.format(business=business, kpi=kpi, first=first)


def _write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# -- business files -------------------------------------------------------------------------

HOSTILE_BUSINESS_FILES = {
    "latin-1": (candles().replace("Custom candles", "Bougies caf\u00e9").encode("latin-1"), "not UTF-8 text"),
    "nested": ("id = 'x'\nname = " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
    "syntax": (candles().replace('name = "Custom candles"', "name = 'unclosed"), "not valid TOML"),
    "id-300": (candles(business="c" * 300), "id 'cccccccccccccccccccc...' is 300 characters long; the most is 64"),
    "kpi-id-65": (candles(kpi="k" * 65), "is 65 characters long; the most is 64"),
    "threshold-401-digits": (
        candles().replace("typical = 0.7", "typical = 1" + "0" * 400),
        "thresholds typical: must be a finite number; got a number of 401 digits",
    ),
    "threshold-5001-digits": (
        candles().replace("typical = 0.7", "typical = 1" + "0" * 5000),
        "not valid TOML: a number has too many digits",
    ),
    "input-id-65": (candles(first="s" * 65), "is 65 characters long; the most is 64"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_BUSINESS_FILES))
def test_hostile_business_files_are_catalog_errors(tmp_path, case):
    content, message = HOSTILE_BUSINESS_FILES[case]
    path = _write(tmp_path / "mine.toml", content)
    with pytest.raises(CatalogError, match=message) as caught:
        load_business_file(path)
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_latin_1_business_file_names_the_byte(tmp_path):
    path = _write(tmp_path / "mine.toml", b'id = "caf\xe9"\n')
    with pytest.raises(CatalogError, match=r"not UTF-8 text \(byte 0xe9 at position 9\); TOML files are UTF-8"):
        load_business_file(path)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_an_endless_business_file_is_refused_without_reading_it_all():
    with pytest.raises(CatalogError, match="^/dev/zero: larger than 1 MB; a business type file is a few kilobytes$"):
        load_business_file("/dev/zero")


def test_a_business_file_saved_with_a_byte_order_mark_is_read(tmp_path):
    path = _write(tmp_path / "mine.toml", "\ufeff" + candles())
    assert load_business_file(path).id == "custom-candles"


def test_two_kpi_input_pairs_with_one_workbook_name_are_refused(tmp_path):
    text = candles(kpi="a_b", first="c") + candles(kpi="a", first="b_c").split("\n\n", 1)[1]
    path = _write(tmp_path / "mine.toml", text)
    with pytest.raises(
        CatalogError,
        match="KPI a_b input c and KPI a input b_c would share the name a_b_c in the workbook and the inputs table",
    ):
        with_business_files([path])


def test_the_longest_ids_still_make_a_template_with_every_name(tmp_path, capsys):
    """64 characters each: the file name, its backup and Excel's 255-character names all fit."""
    business = "-".join(["abcdefg"] * 8) + "x"  # 64 characters
    kpi, first = "k" * 64, "s" * 64
    assert len(business) == 64
    path = _write(tmp_path / "long.toml", candles(business=business, kpi=kpi, first=first))
    status = cli.main(["templates", "--business-file", str(path), "--out", str(tmp_path / "out")])
    assert status == 0, capsys.readouterr().err
    workbook = openpyxl.load_workbook(tmp_path / "out" / f"{business}.xlsx")
    names = set(workbook.defined_names)
    assert f"in_{kpi}_{first}" in names
    assert f"bench_{kpi}_above_average" in names
    assert max(len(name) for name in names) <= 255


# -- command lines that used to crash, in-process -----------------------------------------


def run(capsys, *argv):
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_templates_out_naming_a_file(capsys, tmp_path):
    target = _write(tmp_path / "templates.xlsx", "not a folder")
    status, _, err = run(capsys, "templates", "--out", target)
    assert status == 2
    assert err == f"nichekpi: --out {target} is a file, not a folder; give a folder to write into\n"
    assert target.read_text(encoding="utf-8") == "not a folder"


def test_addin_lite_out_naming_a_file(capsys, tmp_path):
    target = _write(tmp_path / "main.py", "mine")
    status, _, err = run(capsys, "addin", "lite", "--out", target)
    assert (status, err) == (2, f"nichekpi: --out {target} is a file, not a folder; give a folder to write into\n")


def test_addin_classic_config_naming_a_folder(capsys, tmp_path):
    status, _, err = run(capsys, "addin", "classic", "--config", tmp_path)
    assert (status, err) == (2, f"nichekpi: --config {tmp_path} is a folder; give the path of an xlwings.conf file\n")


def test_addin_classic_keeps_the_bytes_of_a_latin_1_config(capsys, tmp_path):
    """Windows writes xlwings.conf in its own code page: the lines nichekpi does not edit keep their bytes."""
    config = tmp_path / "xlwings.conf"
    original = b'"INTERPRETER_WIN","C:\\Users\\Jos\xe9\\python.exe"\r\n"SHOW CONSOLE","False"\r\n'
    config.write_bytes(original)
    status, out, err = run(capsys, "addin", "classic", "--config", config)
    assert (status, err) == (0, "")
    assert config.read_bytes() == original + b'"UDF MODULES","nichekpi.udfs"\n'
    assert (tmp_path / "xlwings.conf.bak").read_bytes() == original
    assert "the add-in runs C:\\Users\\Jos\\xe9\\python.exe" in out


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_addin_classic_config_that_never_ends(capsys):
    status, _, err = run(capsys, "addin", "classic", "--config", "/dev/zero")
    assert status == 1
    assert err == (
        "nichekpi: /dev/zero: cannot update it: larger than 1 MB, which no xlwings.conf is; the file was not changed\n"
    )


def test_addin_classic_reads_a_config_with_a_byte_order_mark(capsys, tmp_path):
    config = tmp_path / "xlwings.conf"
    config.write_bytes('\ufeff"UDF MODULES","mine"\n'.encode())
    status, _, _ = run(capsys, "addin", "classic", "--config", config, "--interpreter", "python")
    assert status == 0
    assert config.read_text(encoding="utf-8") == '"UDF MODULES","mine;nichekpi.udfs"\n"INTERPRETER_WIN","python"\n'


def _no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_templates_on_a_full_disk(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(openpyxl.Workbook, "save", _no_space)
    status, out, err = run(capsys, "templates", "--business", "custom-dollhouses", "--out", tmp_path)
    assert status == 1
    assert err == f"nichekpi: cannot write {tmp_path / 'custom-dollhouses.xlsx'}: No space left on device\n"
    assert list(tmp_path.iterdir()) == []  # no half-written workbook, no temporary file


def test_lite_bundle_on_a_full_disk(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(Path, "write_text", _no_space)
    status, _, err = run(capsys, "addin", "lite", "--out", tmp_path)
    assert status == 1
    assert err == f"nichekpi: cannot write {tmp_path / 'main.py'}: No space left on device\n"
    assert list(tmp_path.iterdir()) == []


def _read_only(*args, **kwargs):
    raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))


def test_templates_into_a_read_only_folder(capsys, tmp_path, monkeypatch):
    """The tests may run as root, whom chmod does not stop: the refusal is simulated where it happens."""
    monkeypatch.setattr("tempfile.mkstemp", _read_only)
    status, _, err = run(capsys, "templates", "--business", "soundwave-art", "--out", tmp_path)
    assert (status, err) == (1, f"nichekpi: cannot write {tmp_path / 'soundwave-art.xlsx'}: Permission denied\n")


def test_lite_bundle_into_a_read_only_folder(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.mkstemp", _read_only)
    status, _, err = run(capsys, "addin", "lite", "--out", tmp_path)
    assert (status, err) == (1, f"nichekpi: cannot write {tmp_path / 'main.py'}: Permission denied\n")
    assert list(tmp_path.iterdir()) == []


def test_addin_classic_into_a_read_only_folder(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.mkstemp", _read_only)
    config = tmp_path / "xlwings.conf"
    status, _, err = run(capsys, "addin", "classic", "--config", config)
    assert status == 1
    assert err == f"nichekpi: {config}: cannot update it: Permission denied; the file was not changed\n"
    assert not config.exists()


def test_score_with_valid_inputs_but_an_impossible_result(capsys):
    """Ratings out of 10 cannot add up to 1000 over 10 answers: a mean of 100 is refused, not graded."""
    status, out, err = run(capsys, "score", "custom-3d-printed-toys", "post_production_satisfaction", 1000, 10)
    assert (status, out) == (1, "")
    assert err == (
        "nichekpi: these inputs give post_production_satisfaction 100, which it cannot be: "
        "value must be from 0 to 10 for post_production_satisfaction; got 100\n"
    )


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_output_to_a_full_disk_is_one_line():
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "nichekpi", "kpis", "custom-dollhouses", "--json"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    assert (result.returncode, result.stderr) == (1, "nichekpi: cannot write the output: No space left on device\n")


# -- the last-resort guard ------------------------------------------------------------------


def test_an_unexpected_error_is_one_line_asking_for_a_report(capsys, monkeypatch):
    def broken(args):
        raise RuntimeError("something nobody foresaw\nwith a second line")

    monkeypatch.setattr(cli, "cmd_kpis", broken)
    status, _, err = run(capsys, "kpis")
    assert status == cli.INTERNAL_ERROR != 0
    assert err == (
        "nichekpi: internal error: RuntimeError: something nobody foresaw with a second line; please report it\n"
    )


def test_ctrl_c_exits_130_quietly(capsys, monkeypatch):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "cmd_kpis", interrupted)
    assert run(capsys, "kpis") == (130, "", "")


# -- the harness: every command, hostile input, as a subprocess ----------------------------


@pytest.fixture(scope="module")
def place(tmp_path_factory):
    """A folder holding a good workbook and hostile files, shared by the harness's cases."""
    folder = tmp_path_factory.mktemp("hostile")
    shutil.copy(ROOT / "templates" / "custom-dollhouses.xlsx", folder / "book.xlsx")
    _write(folder / "notes.xlsx", "these are notes, not a workbook\n")
    _write(folder / "empty.xlsx", "")
    _write(folder / "empty.csv", "")
    _write(folder / "a-file", "just a file\n")
    (folder / "a-folder").mkdir()
    _write(folder / "latin1.toml", candles().replace("Custom candles", "Bougies caf\u00e9").encode("latin-1"))
    _write(folder / "long-id.toml", candles(business="c" * 300))
    _write(folder / "clash.toml", candles(kpi="a_b", first="c") + candles(kpi="a", first="b_c").split("\n\n", 1)[1])
    _write(folder / "nested.toml", "id = 'x'\nname = " + "[" * 5000 + "]" * 5000 + "\n")
    return folder


HOSTILE = {
    "kpis-unknown-business": ["kpis", "bakery"],
    "kpis-missing-business-file": ["kpis", "--business-file", "missing.toml"],
    "kpis-folder-as-business-file": ["kpis", "--business-file", "a-folder"],
    "kpis-latin1-business-file": ["kpis", "--business-file", "latin1.toml"],
    "kpis-nested-business-file": ["kpis", "--business-file", "nested.toml"],
    "kpis-300-character-id": ["kpis", "--business-file", "long-id.toml"],
    "kpis-clashing-names": ["kpis", "--business-file", "clash.toml"],
    "score-text": ["score", "custom-dollhouses", "csat", "many", "150"],
    "score-huge-integer": ["score", "custom-dollhouses", "csat", "1" + "0" * 400, "150"],
    "score-beyond-2-53": ["score", "custom-dollhouses", "csat", str(2**53 + 1), str(2**53)],
    "score-overflowing-sum": ["score", "soundwave-art", "nps", "1e308", "1e308", "0"],
    "score-impossible-result": ["score", "custom-3d-printed-toys", "post_production_satisfaction", "1000", "10"],
    "templates-out-is-a-file": ["templates", "--out", "a-file"],
    "templates-out-under-a-file": ["templates", "--out", "a-file/sub"],
    "templates-latin1-business-file": ["templates", "--business-file", "latin1.toml", "--out", "out"],
    "addin-lite-out-is-a-file": ["addin", "lite", "--out", "a-file"],
    "addin-lite-out-under-a-file": ["addin", "lite", "--out", "a-file/sub"],
    "addin-classic-config-is-a-folder": ["addin", "classic", "--config", "a-folder"],
    "addin-classic-config-under-a-file": ["addin", "classic", "--config", "a-file/xlwings.conf"],
    "addin-classic-interpreter-with-a-quote": ["addin", "classic", "--config", "x.conf", "--interpreter", 'C:\\a"b'],
    "refresh-missing-workbook": ["refresh", "missing.xlsx", "--inputs", "empty.csv"],
    "refresh-folder-as-workbook": ["refresh", "a-folder", "--inputs", "empty.csv"],
    "refresh-text-as-workbook": ["refresh", "notes.xlsx", "--inputs", "empty.csv"],
    "refresh-empty-workbook": ["refresh", "empty.xlsx", "--inputs", "empty.csv"],
    "refresh-missing-inputs": ["refresh", "book.xlsx", "--inputs", "missing.csv"],
    "refresh-folder-as-inputs": ["refresh", "book.xlsx", "--inputs", "a-folder"],
    "refresh-empty-inputs": ["refresh", "book.xlsx", "--inputs", "empty.csv"],
    "refresh-empty-orders": ["refresh", "book.xlsx", "--orders", "empty.csv"],
    "refresh-workbook-as-survey": ["refresh", "book.xlsx", "--survey", "notes.xlsx"],
    "refresh-nothing-to-read": ["refresh", "book.xlsx"],
}


# Cases the last-resort guard may still answer, for want of their own message: a survey
# export that is not the .xlsx it claims to be (BadZipFile in nichekpi/exports.py, the
# input files' part of issue 8, outside this harness's scope). The guard's one line is
# accepted for them; remove a case from here once it has its own message.
LEFT_TO_THE_GUARD = {"refresh-workbook-as-survey"}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_every_command_answers_hostile_input_with_a_short_message(place, case):
    before = {path.name: path.read_bytes() for path in place.iterdir() if path.is_file()}
    result = subprocess.run(
        [sys.executable, "-m", "nichekpi", *HOSTILE[case]],
        cwd=place,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    lines = result.stderr.splitlines()
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    assert 1 <= len(lines) <= 2, result.stderr
    assert lines[0].startswith("nichekpi: ")
    if case not in LEFT_TO_THE_GUARD:
        assert "internal error" not in result.stderr, "a known case must have its own message"
    after = {path.name: path.read_bytes() for path in place.iterdir() if path.is_file()}
    assert after == before  # the workbook and every other file untouched, nothing written
