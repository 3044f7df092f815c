"""What can be wrong with one input element, independent of how a front end shows it."""

from __future__ import annotations

from enum import IntEnum


class Problem(IntEnum):
    """Per-element outcome of a vectorized formula evaluation, worst first when several apply.

    The Excel layer maps these to ``#DIV/0!``, ``#NUM!`` and ``#VALUE!``; the core only
    says what went wrong.
    """

    OK = 0
    EMPTY = 1  #: an input is missing: the result is left empty, not an error
    NOT_A_NUMBER = 2  #: text (or another non-number) where a number belongs
    OUT_OF_RANGE = 3  #: negative, not whole, NaN/infinite, or a part larger than its whole
    ZERO_DENOMINATOR = 4  #: the value would need a division by zero
