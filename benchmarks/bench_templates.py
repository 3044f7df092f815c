"""Benchmark: the five template workbooks built and saved in one process, against the 1-second aim.

    python benchmarks/bench_templates.py [--repeat 5] [--profile]

Each run builds the five templates (``build_workbook``, openpyxl) and makes their
packages (``package_bytes``: openpyxl's save, then the tidy into Excel's prefixes, shared
strings, and the cached value of every formula cell from nichekpi's evaluator), as
``nichekpi templates`` does before it writes each file, and the median of the runs is
printed with its parts (build / package). Every run is a fresh process, as the CLI is: whatever
nichekpi remembers within a process (each formula parsed once, each style object
looked up once) starts empty in every run. Imports and the catalog's loading are CLI
start (``bench_cli.py``) and are not timed here. ``--profile`` prints a cProfile split
of one more cold run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

AIM = 1.0  #: seconds for all five (issue 13)


def once() -> dict[str, float]:
    """One cold run, in this process: the five templates, timed by part."""
    from nichekpi import default_catalog
    from nichekpi.workbook import build_workbook, package_bytes

    businesses = list(default_catalog())
    parts = {"build": 0.0, "package": 0.0}
    for business in businesses:
        start = time.perf_counter()
        workbook = build_workbook(business, 2026)
        parts["build"] += time.perf_counter() - start
        start = time.perf_counter()
        package_bytes(workbook)
        parts["package"] += time.perf_counter() - start
    return parts


def profile() -> None:
    """A cProfile split of one cold run: its parts, and the functions that cost most."""
    import cProfile
    import pstats

    from nichekpi import default_catalog  # noqa: F401  (imported before profiling, as the CLI has)
    from nichekpi.workbook import build_workbook  # noqa: F401

    profiler = cProfile.Profile()
    profiler.enable()
    once()
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt
    wanted = {
        "build": ("nichekpi/workbook.py", "build_workbook"),
        "save (openpyxl)": ("openpyxl/workbook/workbook.py", "save"),
        "tidy": ("nichekpi/_ooxml.py", "tidy"),
        "  formula values (evaluate)": ("nichekpi/_ooxml.py", "_cache_values"),
        "  rows read (no tree)": ("nichekpi/_ooxml.py", "_read_rows"),
        "  rows written": ("nichekpi/_ooxml.py", "_write_rows"),
        "  other XML written (serialize)": ("nichekpi/_ooxml.py", "_serialize"),
    }
    for label, (file, function) in wanted.items():
        found = [value[3] for (path, _, name), value in stats.stats.items() if name == function and path.endswith(file)]
        print(f"  cProfile {label}: {sum(found) * 1e3:.0f} ms")
    print(f"  cProfile total {total * 1e3:.0f} ms; the most costly functions (own time):")
    stats.sort_stats("tottime").print_stats(12)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="also print a cProfile split of one cold run")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # a child: one run, as JSON
    args = parser.parse_args(argv)
    if args.one:
        from nichekpi import default_catalog

        default_catalog()  # CLI start, not timed
        print(json.dumps(once()))
        return
    runs = []
    for _ in range(args.repeat):
        child = subprocess.run(  # noqa: S603 - this interpreter, this file
            [sys.executable, __file__, "--one"], check=True, capture_output=True, text=True
        )
        runs.append(json.loads(child.stdout))
    totals = [sum(run.values()) for run in runs]
    median = statistics.median(totals)
    parts = ", ".join(f"{name} {statistics.median(r[name] for r in runs) * 1e3:.0f} ms" for name in runs[0])
    print(f"five templates in one process, median of {args.repeat} cold runs: {median * 1e3:.0f} ms ({parts})")
    verdict = "under" if median < AIM else "over"
    print(f"  {median / AIM:.2f}x ({verdict}) the aim of {AIM:.0f} s")
    print(f"  runs: {', '.join(f'{t * 1e3:.0f}' for t in totals)} ms")
    if args.profile:
        profile()


if __name__ == "__main__":
    main()
