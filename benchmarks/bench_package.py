"""Benchmark: refresh's rewrite of a workbook package against its floor, at three sizes, in one run.

    python benchmarks/bench_package.py [--rows 50000] [--repeat 5]

The workbook is a template to which a planner added a data sheet of ``--rows`` rows (and
twice and four times as many, to see that the time grows with the size and no faster).
nichekpi's rewrite (:class:`nichekpi.package.Package`: read the package, write 45 input
values, recompute every formula's cached value, verify and copy the other parts) is
timed against its floor: the same parts re-compressed from the same new bytes, and every
other part's compressed bytes copied as they are, with no reading, checking or
evaluating at all. Alternating, medians of ``--repeat``.

Two more references show where the rest of the time goes, each measured in the same
loop: the floor plus checking the CRC of every copied part (what refresh must do so that
a damaged part is refused: decompressed in chunks and dropped), and that plus working
out the template's formulas with :func:`nichekpi._evaluate.evaluate_some` from cells
already read (what refresh must do since its cached values are written, issue 10). The
ratio against the issue's floor is the figure; the other is printed next to it.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import struct
import sys
import tempfile
import time
import zipfile
import zlib
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from nichekpi import default_catalog  # noqa: E402
from nichekpi._evaluate import evaluate_some  # noqa: E402
from nichekpi.package import Package  # noqa: E402
from nichekpi.workbook import MONTHS, build_workbook, layout, save_atomically  # noqa: E402

AIM = 1.5


def make_workbook(path: Path, rows: int) -> dict[tuple[str, str], float]:
    """A dollhouse template with a data sheet of ``rows`` rows; and 45 input values to write."""
    business = default_catalog().business("custom-dollhouses")
    workbook = build_workbook(business, 2026)
    data = workbook.create_sheet("Fairs")
    data.append(["Date", "Fair", "Visitors", "Leads", "Sales", "Notes"])
    for n in range(rows):
        data.append([f"2026-{n % 12 + 1:02d}-01", f"Fair {n % 97}", n % 500, n % 70, (n * 37) % 1000 / 10, "ok"])
    save_atomically(workbook, path)
    where = layout(business)
    numbers = {}
    for row in where.input_rows.values():
        for month in range(min(3, MONTHS)):
            numbers[("Inputs", f"{chr(ord('D') + month)}{row}")] = float(10 + month)
    return dict(list(numbers.items())[:45])


def nichekpi_rewrite(path: Path, numbers) -> bytes:
    out = io.BytesIO()
    with Package(path) as package:
        package.write(numbers, out)
    return out.getvalue()


def floor_rewrite(path: Path, changed: dict[str, bytes]) -> bytes:
    """Re-compress the parts in ``changed`` from their new bytes; copy the others' compressed bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename in changed:
                target.writestr(info, changed[info.filename], compress_type=zipfile.ZIP_DEFLATED)
                continue
            source.fp.seek(info.header_offset)
            header = source.fp.read(30)
            skip = sum(struct.unpack("<HH", header[26:30]))
            source.fp.seek(info.header_offset + 30 + skip)
            raw = source.fp.read(info.compress_size)
            copy = zipfile.ZipInfo(info.filename, info.date_time)
            copy.compress_type, copy.CRC = info.compress_type, info.CRC
            copy.compress_size, copy.file_size = info.compress_size, info.file_size
            copy.header_offset = target.fp.tell()
            target.fp.write(copy.FileHeader(False))
            target.fp.write(raw)
            target.start_dir = target.fp.tell()
            target.filelist.append(copy)
            target.NameToInfo[copy.filename] = copy
            target._didModify = True
    return out.getvalue()


def check_copied(path: Path, changed: dict[str, bytes]) -> None:
    """Decompress every part not in ``changed`` in chunks, dropping them, and compare its CRC."""
    with zipfile.ZipFile(path) as source:
        for info in source.infolist():
            if info.filename in changed:
                continue
            source.fp.seek(info.header_offset)
            header = source.fp.read(30)
            source.fp.seek(info.header_offset + 30 + sum(struct.unpack("<HH", header[26:30])))
            left, crc = info.compress_size, 0
            inflate = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
            while left:
                chunk = source.fp.read(min(left, 256 * 1024))
                left -= len(chunk)
                while chunk:
                    out = inflate.decompress(chunk, 1024 * 1024) if inflate else chunk
                    crc = zlib.crc32(out, crc)
                    chunk = inflate.unconsumed_tail if inflate else b""
            if inflate:
                crc = zlib.crc32(inflate.flush(), crc)
            assert crc == info.CRC, info.filename


def evaluation(path: Path, numbers) -> tuple[dict, dict, list]:
    """The evaluator's input for the rewrite: every sheet's cells with the numbers written, the
    names, and the formula cells to work out (read with nichekpi's package reader, untimed)."""
    with Package(path) as package:
        by_part: dict[str, dict[str, float]] = {}
        for (sheet, reference), value in numbers.items():
            by_part.setdefault(package.sheet_part(sheet), {})[reference] = value
        targets, names = package._to_evaluate(by_part)
        edited = set(package._edited_sheets(by_part))
        cells = {
            name: package._evaluator_cells(part, by_part.get(part, {}))
            for name, part in package.sheets.items()
            if part in edited
        }
    return cells, names, targets


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"refresh's package rewrite against its floor, median of {args.repeat} alternating runs")
    with tempfile.TemporaryDirectory() as folder:
        for rows in (args.rows, 2 * args.rows, 4 * args.rows):
            path = Path(folder) / f"workbook-{rows}.xlsx"
            numbers = make_workbook(path, rows)
            written = nichekpi_rewrite(path, numbers)
            with zipfile.ZipFile(path) as before, zipfile.ZipFile(io.BytesIO(written)) as after:
                assert after.testzip() is None
                # the parts nichekpi writes anew: the sheets it changed, and the workbook part (always)
                changed = {n: after.read(n) for n in after.namelist() if after.read(n) != before.read(n)}
                changed["xl/workbook.xml"] = after.read("xl/workbook.xml")
            assert "xl/worksheets/sheet7.xml" not in changed, sorted(changed)  # the data sheet is copied as it is
            cells, names, targets = evaluation(path, numbers)
            ours, floor, checks, evaluations = [], [], [], []
            for _ in range(args.repeat):
                start = time.perf_counter()
                floor_rewrite(path, changed)
                floor.append(time.perf_counter() - start)
                start = time.perf_counter()
                nichekpi_rewrite(path, numbers)
                ours.append(time.perf_counter() - start)
                start = time.perf_counter()
                check_copied(path, changed)
                checks.append(time.perf_counter() - start)
                start = time.perf_counter()
                evaluate_some(cells, names, targets)
                evaluations.append(time.perf_counter() - start)
            size = path.stat().st_size / 1e6
            mine, base = statistics.median(ours), statistics.median(floor)
            check, evaluated = statistics.median(checks), statistics.median(evaluations)
            print(
                f"  {rows:>9,} extra rows ({size:5.1f} MB): floor {base * 1e3:8.1f} ms, nichekpi {mine * 1e3:8.1f} ms "
                f"({mine / size * 1e3:6.1f} ms per MB)   {mine / base:5.2f}x (aim {AIM}x)"
            )
            required = base + check + evaluated
            print(
                f"  {'':>9}  the floor + checking the copied parts' CRC ({check * 1e3:.1f} ms) "
                f"+ evaluating {len(targets):,} formulas ({evaluated * 1e3:.1f} ms): {required * 1e3:.1f} ms; "
                f"nichekpi {mine / required:.2f}x that"
            )


if __name__ == "__main__":
    main()
