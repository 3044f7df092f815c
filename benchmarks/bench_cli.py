"""Benchmark: how long the quick commands take to start, as a ratio to a bare interpreter, in one run.

    python benchmarks/bench_cli.py [--repeat 9]

The floor is a fresh ``python`` that imports the standard-library modules nichekpi's
command line needs (argparse, ast, dataclasses, inspect, json, pathlib, re, tomllib,
importlib.resources) and nothing else. Each command and the floor run as fresh
processes, alternating, and the medians are compared.

Both are timed twice, in the same alternation:

* **with bytecode**, as pip installs a package (it compiles every module to a ``.pyc``
  file): the processes keep their bytecode in a temporary folder
  (``PYTHONPYCACHEPREFIX``), filled by one run of each before the timing; the
  standard library's bytecode goes there too, so floor and command are alike. These
  are the figures held to the aim.
* **as this shell runs them**: with the environment as it is. Where
  ``PYTHONDONTWRITEBYTECODE`` is set (our build machine sets it) and the source tree
  has no ``__pycache__``, nichekpi's modules are compiled from source on every start,
  while the standard library's come compiled with Python: a cost of that setting,
  shown apart.

nichekpi's own catalog cache (``nichekpi/data/parsed.cache``) is shipped with the
package and only read, never written, so a first run finds it as every other run does.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

FLOOR = "import argparse, ast, dataclasses, inspect, json, pathlib, re, tomllib, importlib.resources"
COMMANDS = {
    "nichekpi --help": ["--help"],
    "nichekpi kpis": ["kpis"],
    "nichekpi kpis custom-dollhouses": ["kpis", "custom-dollhouses"],
    "nichekpi score custom-dollhouses csat 120 150": ["score", "custom-dollhouses", "csat", "120", "150"],
}
AIM = 1.5


def _time(arguments: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(  # noqa: S603 - this interpreter, with the arguments above
        [sys.executable, *arguments], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env
    )
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nichekpi-bench-pyc-") as folder:
        compiled = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        compiled["PYTHONPYCACHEPREFIX"] = folder
        shell = dict(os.environ)
        for command in COMMANDS.values():  # write the bytecode, the standard library's included
            _time(["-m", "nichekpi", *command], compiled)
        _time(["-c", FLOOR], compiled)
        floor: dict[str, list[float]] = {"compiled": [], "shell": []}
        times: dict[str, dict[str, list[float]]] = {
            "compiled": {n: [] for n in COMMANDS},
            "shell": {n: [] for n in COMMANDS},
        }
        for _ in range(args.repeat):
            for name, command in COMMANDS.items():  # the floor before each command, so both see the same machine
                for way, env in (("compiled", compiled), ("shell", shell)):
                    floor[way].append(_time(["-c", FLOOR], env))
                    times[way][name].append(_time(["-m", "nichekpi", *command], env))
    base = statistics.median(floor["compiled"])
    print(f"start-up with bytecode (as pip installs it), median of {args.repeat} alternating runs each")
    print(f"  {'python + the standard library it needs (floor)':<46} {base * 1e3:8.1f} ms   1.00x")
    for name, runs in times["compiled"].items():
        median = statistics.median(runs)
        print(f"  {name:<46} {median * 1e3:8.1f} ms   {median / base:5.2f}x (aim {AIM}x)")
    shell_base = statistics.median(floor["shell"])
    setting = "set" if os.environ.get("PYTHONDONTWRITEBYTECODE") else "not set"
    print(f"as this shell runs them (PYTHONDONTWRITEBYTECODE {setting}), same alternation")
    print(f"  {'python + the standard library it needs (floor)':<46} {shell_base * 1e3:8.1f} ms   1.00x")
    for name, runs in times["shell"].items():
        median = statistics.median(runs)
        print(f"  {name:<46} {median * 1e3:8.1f} ms   {median / shell_base:5.2f}x")


if __name__ == "__main__":
    main()
