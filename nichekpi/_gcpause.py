"""A pause of Python's cyclic garbage collector around work that makes many objects at once.

Building a template makes some 100,000 objects (openpyxl's cells, styles and charts, the
package's XML trees, the formula trees), and each time that many have been made the
collector looks through them, and now and then through everything the process holds:
about a tenth of the time the five templates take. Nothing in that work relies on the
collector to free memory (reference counting frees what is no longer used), so it is
paused while the work runs and goes on afterwards as before. Reference cycles made in
the meantime (openpyxl's cells point at their sheet) are collected later.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic collector for the block (also a decorator); a pause already under way is left alone."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
