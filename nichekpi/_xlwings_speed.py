"""Two workarounds for costs in xlwings' own calling path, kept small and in one place.

The first, :func:`install`:

xlwings 0.37 checks every value Excel sends for Pyodide's ``JsNull`` sentinel with a
function-level ``from pyodide.ffi import JsNull``: ``xlwings.utils.is_jsnull`` for each
cell of each range (called by ``xlwings.pro._xlofficejs._clean_value_data_element``),
and ``xlwings.pro.udfs_officejs.js_to_none`` for each scalar argument. Outside
Pyodide that import fails, and a failed import is not cached: Python searches
``sys.path`` again for every cell, which is most of a call's time on a range (see
the README's speed section).

Outside Pyodide the answer never changes during a process: no value is a ``JsNull``.
:func:`install` replaces those two functions with ones that know it. It does nothing
inside Pyodide (``sys.platform == "emscripten"``), where the import is cheap and
``JsNull`` may exist, and nothing if ``pyodide.ffi`` can be imported; each function is
replaced only if xlwings still has it, so a changed xlwings is left as it is.

The second, :class:`Cells`: a converter that hands plain numbers over without
xlwings' per-cell cleaning (see below).
"""

from __future__ import annotations

import itertools
import sys

from xlwings import conversion


def _never_jsnull(value: object) -> bool:
    """Outside Pyodide no value is Pyodide's ``JsNull``."""
    return False


def _unchanged(value: object) -> object:
    """Outside Pyodide ``js_to_none`` returns its argument as it is."""
    return value


_REPLACEMENTS = (
    ("xlwings.utils", "is_jsnull", _never_jsnull),
    ("xlwings.pro.udfs_officejs", "js_to_none", _unchanged),
)


def install() -> list[str]:
    """Make xlwings' ``JsNull`` checks cheap outside Pyodide; the functions replaced."""
    if sys.platform == "emscripten":
        return []
    try:
        from pyodide.ffi import JsNull  # noqa: F401 - only whether it imports
    except ImportError:
        pass
    else:
        return []
    replaced = []
    for module_name, name, replacement in _REPLACEMENTS:
        module = sys.modules.get(module_name)  # only what xlwings itself has loaded
        if module is not None and callable(getattr(module, name, None)):
            setattr(module, name, replacement)
            replaced.append(f"{module_name}.{name}")
    return replaced


# -- the cells of a call, converted without a per-cell Python loop --------------------
#
# xlwings' standard converter cleans every cell Excel sends (``clean_value_data``: an
# empty string or Pyodide's ``JsNull`` becomes ``None``, an error value's dict becomes
# its text) and every cell of the result (``prepare_xl_data_element``: ``None`` becomes
# an empty string, NaN becomes ``#NUM!``, error text becomes Excel's error type), one
# Python call per cell: over 10,000 cells that is most of a call's time. For cells that
# are plain numbers those steps change nothing. :class:`Cells` is a converter that
# looks at the types of all the cells at once and, when every one is a plain number (or
# empty, on the way in), hands the list of rows over unchanged; anything else (text, an
# error value, a date, ``JsNull``, NaN in a result, another engine such as the classic
# add-in's COM) goes through xlwings' own pipeline, so the result is always the one
# xlwings would give.

_PLAIN_IN = frozenset({float, int, bool, type(None)})
_PLAIN_OUT = frozenset({float})
_SAME_IN = frozenset({"ndim", "err_to_str", "convert"})  # options whose standard reading changes no plain cell
_SAME_OUT = frozenset({"convert", "date_format", "runtime"})  # the same for the result


def _rows(value: object) -> object:
    """The value as a list of rows, as xlwings' ``Ensure2DStage`` makes it."""
    if isinstance(value, (list, tuple)):
        return [value] if value and not isinstance(value[0], (list, tuple)) else value
    return [[value]]


def _plain(rows: object, types: frozenset) -> bool:
    """Whether ``rows`` is a non-empty list of lists whose cells all have one of ``types``."""
    if type(rows) is not list or not rows or set(map(type, rows)) != {list}:
        return False
    return set(map(type, itertools.chain.from_iterable(rows))) <= types


def _on_officejs(context) -> bool:
    return getattr(getattr(context.engine, "impl", None), "name", None) == "officejs"


class _Read:
    def __init__(self, options):
        self.options = options
        self.same = options.get("ndim") == 2 and set(options) <= _SAME_IN

    def __call__(self, context):
        if self.same and _on_officejs(context):
            rows = _rows(context.value)
            if _plain(rows, _PLAIN_IN):
                context.value = rows
                return
        conversion.ValueAccessor.reader(self.options)(context)


class _Write:
    def __init__(self, options):
        self.options = options
        self.same = set(options) <= _SAME_OUT

    def __call__(self, context):
        if self.same and _on_officejs(context):
            rows = _rows(context.value)
            if _plain(rows, _PLAIN_OUT):
                total = sum(itertools.chain.from_iterable(rows))
                if total == total:  # no NaN (which xlwings shows as #NUM!)
                    context.value = rows
                    return
        standard = conversion.ValueAccessor.router(context.value, context.range, self.options)
        standard.writer(self.options)(context)


class Cells(conversion.Accessor):
    """An xlwings converter (``@arg(..., convert=Cells)``, ``@ret(convert=Cells)``): plain numbers pass as they are."""

    @classmethod
    def reader(cls, options):
        return conversion.Pipeline([_Read(options)])

    @classmethod
    def writer(cls, options):
        return conversion.Pipeline([_Write(options)])
