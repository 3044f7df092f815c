"""One workaround for a cost in xlwings' own calling path, kept small and in one place.

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
"""

from __future__ import annotations

import sys


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
