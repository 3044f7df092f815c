"""Refresh under attack as a whole: killed at random points, run twice at once, fed arbitrary sheet bytes."""

from __future__ import annotations

import csv
import os
import random
import re
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nichekpi import default_catalog
from nichekpi.cli import main
from nichekpi.workbook import build_workbook

INPUTS_PART = "xl/worksheets/sheet2.xml"  # Inputs, the second sheet openpyxl writes
ROOT = Path(__file__).parent.parent


def template(path: Path) -> Path:
    build_workbook(default_catalog().business("custom-dollhouses"), 2026).save(path)
    return path


def write_csv(path: Path, rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows(rows)
    return path


def refresh(workbook: Path, inputs: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "nichekpi", "refresh", str(workbook), "--inputs", str(inputs)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def satisfied(path: Path) -> list[object]:
    """The twelve cells of in_csat_satisfied (Inputs!D5:O5), read by openpyxl."""
    book = openpyxl.load_workbook(path)
    return [c.value for c in book["Inputs"]["D5:O5"][0]]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_a_refresh_killed_at_any_point_leaves_the_old_or_the_new_workbook(tmp_path):
    folder = tmp_path / "books"
    folder.mkdir()
    workbook = template(folder / "custom-dollhouses.xlsx")
    inputs = write_csv(tmp_path / "inputs.csv", [["month", "csat_satisfied"], ["2026-01", "3"], ["2026-05", "5"]])
    old = workbook.read_bytes()
    started = time.monotonic()
    process = refresh(workbook, inputs)
    assert process.wait() == 0, process.stderr.read()
    duration = time.monotonic() - started
    new = workbook.read_bytes()
    assert new != old and satisfied(workbook)[:5] == [3, None, None, None, 5]
    backup = workbook.with_name("custom-dollhouses.bak.xlsx")
    rng = random.Random(8)
    outcomes = {"old": 0, "new": 0, "temporary left": 0}
    for attempt in range(30):
        workbook.write_bytes(old)
        backup.unlink(missing_ok=True)
        # Half the kills anywhere, half in the last fifth of a run, where the files are written.
        delay = duration * (rng.uniform(0, 1.1) if attempt % 2 else rng.uniform(0.75, 1.1))
        process = refresh(workbook, inputs)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        now = workbook.read_bytes()
        assert now in (old, new), f"kill after {delay:.3f} s left a workbook that is neither old nor new"
        outcomes["old" if now == old else "new"] += 1
        assert not backup.exists() or backup.read_bytes() == old, "a half-written backup"
        outcomes["temporary left"] += bool(leftovers(folder))
    process = refresh(workbook, inputs)
    assert process.wait() == 0, process.stderr.read()
    assert workbook.read_bytes() == new
    assert leftovers(folder) == [], "temporary files remain after the next refresh"
    assert sorted(p.name for p in folder.iterdir()) == [
        "custom-dollhouses.bak.xlsx",
        "custom-dollhouses.xlsx",
    ]
    assert outcomes["old"] and outcomes["new"], outcomes


def test_three_refreshes_at_once_all_land(tmp_path):
    workbook = template(tmp_path / "custom-dollhouses.xlsx")
    fresh = workbook.read_bytes()
    tables = [write_csv(tmp_path / f"{m}.csv", [["month", "csat_satisfied"], [f"2026-0{m}", m + 2]]) for m in (1, 2, 3)]
    for _ in range(3):
        processes = [refresh(workbook, table) for table in tables]
        results = [(p.wait(), p.stdout.read(), p.stderr.read()) for p in processes]
        for status, out, err in results:
            # Each waits for the one before (up to 30 s), then writes on top of what it wrote.
            assert status == 0 and "wrote" in out, (status, out, err)
        assert satisfied(workbook)[:4] == [3, 4, 5, None]
        workbook.write_bytes(fresh)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pristine")
    workbook = template(folder / "custom-dollhouses.xlsx")
    with zipfile.ZipFile(workbook) as archive:
        content = {info.filename: archive.read(info) for info in archive.infolist()}
    inputs = write_csv(folder / "inputs.csv", [["month", "csat_satisfied"], ["2026-03", "7"]])
    return content, inputs


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_arbitrary_bytes_in_the_inputs_sheet_never_crash_hang_or_half_write(pristine, tmp_path_factory, data):
    content, inputs = pristine
    sheet = content[INPUTS_PART]
    start = data.draw(st.integers(0, len(sheet)), label="start")
    length = data.draw(st.integers(0, 40), label="length")
    junk = data.draw(
        st.one_of(st.binary(max_size=40), st.sampled_from([b"<", b">", b"&", b'"', b"<c ", b"</c>", b"<!--", b"\xff"])),
        label="junk",
    )
    folder = tmp_path_factory.mktemp("prop")
    workbook = folder / "custom-dollhouses.xlsx"
    with zipfile.ZipFile(workbook, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, part in content.items():
            archive.writestr(name, sheet[:start] + junk + sheet[start + length :] if name == INPUTS_PART else part)
    before = workbook.read_bytes()
    started = time.monotonic()
    status = main(["refresh", str(workbook), "--inputs", str(inputs)])
    assert time.monotonic() - started < 20
    assert leftovers(folder) == []
    if status != 0:
        assert status == 1 and workbook.read_bytes() == before
        return
    if workbook.read_bytes() != before:  # written: a whole package again, with the new value in place
        with zipfile.ZipFile(workbook) as archive:
            assert archive.testzip() is None
            assert sorted(archive.namelist()) == sorted(content)
            text = archive.read(INPUTS_PART).decode("utf-8")
        assert re.search(r'<c r="[D-O]5"[^>]*><v>7</v></c>', text)
