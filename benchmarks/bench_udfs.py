"""Benchmark of the Excel functions' Python side, as ratios against baselines in one run.

    python benchmarks/bench_udfs.py [--cells 1000000] [--repeat 5]

Each case is timed best-of-N, and printed as a ratio to its floor:

* one scalar call, ``=CSAT(B2,B3)``: against the formula library's own ``csat`` and
  against the bare expression ``80 / 100``; the aim is under 20 microseconds;
* ``CSAT`` over two ranges of N cells, as Excel sends them (lists of rows): against
  bare numpy doing the same arithmetic on the same lists (convert, divide, convert
  back), the floor; and against a per-cell Python loop over the library function;
* ``NPS_FROM_SCORES`` over N answers: against bare numpy counting promoters and
  detractors in the same list, and against a per-cell Python loop.

The aim is vectorized calls within 2x of bare numpy. Times are not asserted
anywhere: the machines are shared and noisy; ratios measured in one run are what
to compare.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import timeit

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import numpy as np  # noqa: E402

from nichekpi import csat  # noqa: E402
from nichekpi.udfs import CSAT, NPS_FROM_SCORES  # noqa: E402


def best(function, repeat: int, number: int = 1) -> float:
    return min(timeit.repeat(function, repeat=repeat, number=number)) / number


def row(label: str, seconds: float, floor: float, unit: str = "ms") -> str:
    scale = 1e3 if unit == "ms" else 1e6
    return f"  {label:<44} {seconds * scale:10.2f} {unit}   {seconds / floor:7.2f}x"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    n, repeat = args.cells, args.repeat
    rng = random.Random(20241025)

    print("one scalar call, =CSAT(80,100)")
    bare = best(lambda: 80 / 100, repeat, 100_000)
    library = best(lambda: csat(80, 100), repeat, 20_000)
    excel = best(lambda: CSAT(80, 100), repeat, 20_000)
    print(row("bare expression 80 / 100 (floor)", bare, bare, "us"))
    print(row("formula library csat(80, 100)", library, bare, "us"))
    print(row("Excel function CSAT(80, 100)", excel, bare, "us"))
    print(f"  Excel function vs library: {excel / library:.2f}x; aim: under 20 us ({excel * 1e6:.1f} us)")

    responses = [[float(rng.randint(1, 500))] for _ in range(n)]
    satisfied = [[float(rng.randint(0, int(r[0])))] for r in responses]

    def csat_floor():
        return (np.array(satisfied, dtype=float) / np.array(responses, dtype=float)).tolist()

    def csat_loop():
        return [[csat(s[0], r[0])] for s, r in zip(satisfied, responses)]

    assert CSAT(satisfied[:1000], responses[:1000]) == csat_floor()[:1000]
    floor = best(csat_floor, repeat)
    print(f"\nCSAT over two ranges of {n:,} cells")
    print(row("bare numpy on the same lists (floor)", floor, floor))
    print(row("Excel function CSAT", best(lambda: CSAT(satisfied, responses), repeat), floor))
    print(row("per-cell Python loop over csat()", best(csat_loop, max(1, repeat // 2)), floor))

    scores = [[float(rng.randint(0, 10))] for _ in range(n)]

    def nps_floor():
        answers = np.array(scores, dtype=float).ravel()
        answers = answers[~np.isnan(answers)]
        return (np.count_nonzero(answers >= 9) - np.count_nonzero(answers <= 6)) / answers.size * 100

    def nps_loop():
        answers = [s[0] for s in scores if s[0] is not None]
        promoters = sum(1 for a in answers if a >= 9)
        detractors = sum(1 for a in answers if a <= 6)
        return (promoters - detractors) / len(answers) * 100

    assert NPS_FROM_SCORES(scores) == nps_floor()
    floor = best(nps_floor, repeat)
    print(f"\nNPS_FROM_SCORES over {n:,} answers")
    print(row("bare numpy on the same list (floor)", floor, floor))
    print(row("Excel function NPS_FROM_SCORES", best(lambda: NPS_FROM_SCORES(scores), repeat), floor))
    print(row("per-cell Python loop", best(nps_loop, repeat), floor))


if __name__ == "__main__":
    main()
