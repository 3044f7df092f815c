"""Benchmark: how long the quick commands take to start, as a ratio to a bare interpreter, in one run.

    python benchmarks/bench_cli.py [--repeat 9]

The floor is a fresh ``python`` that imports the standard-library modules nichekpi's
command line needs (argparse, ast, dataclasses, inspect, json, pathlib, re, tomllib,
importlib.resources) and nothing else. Each command and the floor run as fresh
processes, alternating, and the medians are compared.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

FLOOR = "import argparse, ast, dataclasses, inspect, json, pathlib, re, tomllib, importlib.resources"
COMMANDS = {
    "nichekpi --help": ["--help"],
    "nichekpi kpis": ["kpis"],
    "nichekpi kpis custom-dollhouses": ["kpis", "custom-dollhouses"],
    "nichekpi score custom-dollhouses csat 120 150": ["score", "custom-dollhouses", "csat", "120", "150"],
}
AIM = 1.5


def _time(arguments: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(  # noqa: S603 - this interpreter, with the arguments above
        [sys.executable, *arguments], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True
    )
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args(argv)
    floor: list[float] = []
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.repeat):
        for name, command in COMMANDS.items():  # the floor before each command, so both see the same machine
            floor.append(_time(["-c", FLOOR]))
            times[name].append(_time(["-m", "nichekpi", *command]))
    base = statistics.median(floor)
    print(f"start-up, median of {args.repeat} alternating runs each")
    print(f"  {'python + the standard library it needs (floor)':<46} {base * 1e3:8.1f} ms   1.00x")
    for name, runs in times.items():
        median = statistics.median(runs)
        print(f"  {name:<46} {median * 1e3:8.1f} ms   {median / base:5.2f}x (aim {AIM}x)")


if __name__ == "__main__":
    main()
