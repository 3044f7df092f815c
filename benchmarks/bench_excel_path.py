"""Benchmark of the Excel functions through xlwings' own calling path, as ratios in one run.

    python benchmarks/bench_excel_path.py [--cells 10000] [--repeat 7]

xlwings Server and xlwings Lite call a function through
``xlwings.server.custom_functions_call``: it converts every cell Excel sends, calls
the function, and converts every cell of the result. Two ratios, each the median of
``--repeat`` alternating runs of the path and its floor:

* ``=CSAT`` over two ranges of N cells through the path, against ``udfs.CSAT``
  called directly on the same lists (the aim: 2x or less);
* one scalar ``=CSAT(80,100)`` through the path, against the formula library's
  ``csat(80, 100)`` (the aim: 20x or less).

Each is printed three ways, so the upstream costs show too: nichekpi as it is (its
converter :class:`nichekpi._xlwings_speed.Cells`, which hands plain numbers over
without xlwings' per-cell cleaning, and its workaround for xlwings' ``is_jsnull``);
xlwings' standard converter with only that workaround; and xlwings as shipped.
The last two lines split a scalar call: the same path around a function that does
nothing at all, with nichekpi's converter (what one call costs in xlwings whatever the
function does), and ``udfs.CSAT`` called directly (nichekpi's part).
Times are not asserted anywhere: ratios measured in one run are what to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import os
import statistics
import sys
import time
import types

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
os.environ.setdefault("XLWINGS_ON_SERVER", "true")  # the Office.js calling path
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # xlwings' PRO part, for this benchmark only

import xlwings  # noqa: E402
from xlwings import arg, func, ret  # noqa: E402
from xlwings import utils as xlwings_utils  # noqa: E402
from xlwings.pro import udfs_officejs  # noqa: E402
from xlwings.server import custom_functions_call  # noqa: E402

SHIPPED = (xlwings_utils.is_jsnull, udfs_officejs.js_to_none)

from nichekpi import csat, udfs  # noqa: E402  (installs the workaround)
from nichekpi._xlwings_speed import Cells  # noqa: E402

PATCHED = (xlwings_utils.is_jsnull, udfs_officejs.js_to_none)
LOOP = asyncio.new_event_loop()


def standard_converter(on: bool) -> None:
    """Give the Excel functions xlwings' standard converter (on) or nichekpi's (off) for every range and result."""
    for name in udfs.__all__:
        info = getattr(udfs, name).__xlfunc__
        for options in [a["options"] for a in info["args"]] + [info["ret"]["options"]]:
            if on:
                options.pop("convert", None)
            elif options.get("ndim") == 2 or options is info["ret"]["options"]:
                options["convert"] = Cells


@func
@ret(convert=Cells)
@arg("satisfied", convert=Cells, ndim=2, err_to_str=True)
@arg("responses", convert=Cells, ndim=2, err_to_str=True)
def NOTHING(satisfied, responses):  # noqa: N802 - an Excel name
    """Does nothing: what remains is xlwings' own cost of a call."""
    return 0.8


NOTHING.__signature__ = inspect.signature(NOTHING)  # as nichekpi's functions carry theirs
NOTHING_MODULE = types.SimpleNamespace(CSAT=NOTHING)


def request(name: str, *args: object) -> dict:
    """What xlwings' JavaScript sends for one call of the function ``name`` from cell B2."""
    return {
        "func_name": name,
        "args": list(args),
        "version": xlwings.__version__,
        "client": "Office.js",
        "runtime": "1.4",
        "caller_address": "Sheet1!B2",
    }


def through_xlwings(name: str, *args: object, module: object = udfs) -> object:
    return LOOP.run_until_complete(custom_functions_call(request(name, *args), module))


def awaited_in_a_running_loop(name: str, *args: object, number: int, module: object = udfs) -> None:
    """``number`` calls awaited one after the other inside one running event loop, as a web server awaits them."""

    async def calls() -> None:
        for _ in range(number):
            await custom_functions_call(request(name, *args), module)

    LOOP.run_until_complete(calls())


def seconds(function, number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        function()
    return (time.perf_counter() - start) / number


def median_ratio(path, floor, repeat: int, number: int) -> tuple[float, float, float]:
    """Median path time, median floor time and median of the ratios, the two alternating."""
    paths, floors = [], []
    for _ in range(repeat):
        paths.append(seconds(path, number))
        floors.append(seconds(floor, number))
    ratios = [p / f for p, f in zip(paths, floors)]
    return statistics.median(paths), statistics.median(floors), statistics.median(ratios)


def report(label: str, measured: tuple[float, float, float], aim: float) -> None:
    path, floor, ratio = measured
    verdict = "meets" if ratio <= aim else "misses"
    print(f"  {label:<46} {path * 1e3:9.3f} ms vs {floor * 1e3:9.4f} ms   {ratio:8.2f}x ({verdict} {aim:g}x)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    n, repeat = args.cells, max(5, args.repeat)
    satisfied = [[float(i % 97)] for i in range(n)]
    responses = [[100.0] for _ in range(n)]
    expected = udfs.CSAT(satisfied, responses)
    assert through_xlwings("CSAT", satisfied, responses) == expected
    assert through_xlwings("CSAT", [[80]], [[100]]) == [[csat(80, 100)]], through_xlwings("CSAT", [[80]], [[100]])

    def range_path():
        through_xlwings("CSAT", satisfied, responses)

    def range_floor():
        udfs.CSAT(satisfied, responses)

    def scalar_path():
        through_xlwings("CSAT", [[80]], [[100]])

    def scalar_floor():
        csat(80, 100)

    ways = (
        ("nichekpi as it is", PATCHED, False),
        ("xlwings' standard converter, with nichekpi's is_jsnull workaround", PATCHED, True),
        ("xlwings as shipped", SHIPPED, True),
    )
    for label, functions, standard in ways:
        xlwings_utils.is_jsnull, udfs_officejs.js_to_none = functions
        standard_converter(standard)
        assert through_xlwings("CSAT", satisfied, responses) == expected
        print(f"{label}:")
        report(f"=CSAT over 2 ranges of {n:,} cells vs udfs.CSAT", median_ratio(range_path, range_floor, repeat, 1), 2)
        report("one scalar =CSAT(80,100) vs csat(80, 100)", median_ratio(scalar_path, scalar_floor, repeat, 200), 20)
    xlwings_utils.is_jsnull, udfs_officejs.js_to_none = PATCHED
    standard_converter(False)

    def nothing_path():
        through_xlwings("CSAT", [[80]], [[100]], module=NOTHING_MODULE)

    def scalar_direct():
        udfs.CSAT([[80]], [[100]])

    def scalar_in_a_running_loop():
        awaited_in_a_running_loop("CSAT", [[80]], [[100]], number=200)

    def nothing_in_a_running_loop():
        awaited_in_a_running_loop("CSAT", [[80]], [[100]], number=200, module=NOTHING_MODULE)

    def scalar_floor_200():
        for _ in range(200):
            csat(80, 100)

    print("where a scalar call's time goes:")
    report("xlwings' path around a function doing nothing", median_ratio(nothing_path, scalar_floor, repeat, 200), 20)
    report("nichekpi's part: udfs.CSAT([[80]], [[100]])", median_ratio(scalar_direct, scalar_floor, repeat, 2000), 20)
    print("the same calls awaited in one running event loop (no loop started per call), 200 at a time:")
    for label, path in (
        ("one scalar =CSAT(80,100) vs csat(80, 100)", scalar_in_a_running_loop),
        ("xlwings' path around a function doing nothing", nothing_in_a_running_loop),
    ):
        batch, floor, ratio = median_ratio(path, scalar_floor_200, repeat, 1)
        report(label, (batch / 200, floor / 200, ratio), 20)


if __name__ == "__main__":
    main()
