"""Benchmark: one call of the formula library against the same checks written inline, as a ratio in one run.

    python benchmarks/bench_library.py [--calls 200000] [--repeat 7]

``csat(120, 150)`` checks that both inputs are numbers, finite, not negative, whole and
at most 2^53 - 1, that responses is not 0 and that satisfied is not more than
responses, then divides. The floor is a function doing exactly those checks inline,
with the messages left out (a valid call never builds one). Each sample times
``--calls`` calls; the two are alternated and the medians compared.
"""

from __future__ import annotations

import argparse
import math
import numbers
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from nichekpi import csat  # noqa: E402
from nichekpi._formula import MAX_COUNT  # noqa: E402
from nichekpi.errors import KpiInputError  # noqa: E402

AIM = 3.0


def inline_csat(satisfied: object, responses: object) -> float:
    """The checks of ``csat``, written out for this one formula."""
    for value in (satisfied, responses):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise KpiInputError("not a number")
    s, r = float(satisfied), float(responses)
    for number in (s, r):
        if not math.isfinite(number) or number < 0 or not number.is_integer() or number > MAX_COUNT:
            raise KpiInputError("not a count")
    if r == 0:
        raise KpiInputError("responses must be greater than 0")
    if s > r:
        raise KpiInputError("satisfied must not be more than responses")
    result = s / r
    if not math.isfinite(result):
        raise KpiInputError("too large")
    return result


def _sample(function, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        function(120, 150)
    return (time.perf_counter() - start) / calls


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    assert csat(120, 150) == inline_csat(120, 150) == 0.8
    library, inline = [], []
    for _ in range(args.repeat):
        inline.append(_sample(inline_csat, args.calls))
        library.append(_sample(csat, args.calls))
    floor, ours = statistics.median(inline), statistics.median(library)
    print(f"one call, csat(120, 150), median of {args.repeat} alternating samples of {args.calls:,} calls")
    print(f"  {'the same checks written inline (floor)':<40} {floor * 1e6:8.2f} us   1.00x")
    print(f"  {'formula library csat(120, 150)':<40} {ours * 1e6:8.2f} us   {ours / floor:5.2f}x (aim {AIM}x)")


if __name__ == "__main__":
    main()
