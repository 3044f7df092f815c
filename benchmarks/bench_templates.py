"""Benchmark: the five template workbooks built and saved in one process, against the 1-second aim.

    python benchmarks/bench_templates.py [--repeat 5]

Each run builds the five templates (openpyxl), saves them and tidies the packages (Excel's
prefixes, shared strings, and the cached value of every formula cell from nichekpi's
evaluator), as ``nichekpi templates`` does, and the median of the runs is printed with
its parts. The first run of the process is shown too: it parses every formula once.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from nichekpi import _ooxml, default_catalog  # noqa: E402
from nichekpi.workbook import build_workbook  # noqa: E402

AIM = 1.0  #: seconds for all five (issue 13)


def once() -> dict[str, float]:
    parts = {"build": 0.0, "save": 0.0, "tidy": 0.0}
    for business in default_catalog():
        start = time.perf_counter()
        workbook = build_workbook(business, 2026)
        parts["build"] += time.perf_counter() - start
        start = time.perf_counter()
        package = io.BytesIO()
        workbook.save(package)
        parts["save"] += time.perf_counter() - start
        start = time.perf_counter()
        _ooxml.tidy(package.getvalue())
        parts["tidy"] += time.perf_counter() - start
    return parts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    runs = [once() for _ in range(args.repeat)]
    first, totals = sum(runs[0].values()), [sum(run.values()) for run in runs]
    median = statistics.median(totals)
    parts = ", ".join(f"{name} {statistics.median(r[name] for r in runs) * 1e3:.0f} ms" for name in runs[0])
    print(f"five templates in one process, median of {args.repeat} runs: {median * 1e3:.0f} ms ({parts})")
    print(f"  first run {first * 1e3:.0f} ms; {median / AIM:.2f}x the aim of {AIM:.0f} s")


if __name__ == "__main__":
    main()
