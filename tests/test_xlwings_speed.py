"""The workaround for xlwings' per-cell ``from pyodide.ffi import JsNull`` (nichekpi._xlwings_speed).

Not a timing test: it counts the imports xlwings attempts during a call, which is
what made the calling path slow (see the README's speed section and
benchmarks/bench_excel_path.py for the ratios).
"""

from __future__ import annotations

import asyncio
import builtins

import pytest
import xlwings
from xlwings import utils as xlwings_utils
from xlwings.pro import udfs_officejs
from xlwings.server import custom_functions_call

from nichekpi import _xlwings_speed, udfs


def call(name, *args):
    data = {
        "func_name": name,
        "args": list(args),
        "version": xlwings.__version__,
        "client": "Office.js",
        "runtime": "1.4",
        "caller_address": "Sheet1!B2",
    }
    return asyncio.run(custom_functions_call(data, udfs))


@pytest.fixture
def pyodide_imports(monkeypatch):
    """Count the attempts to import pyodide during the test."""
    attempts = []
    real_import = builtins.__import__

    def counting(name, *args, **kwargs):
        if name.startswith("pyodide"):
            attempts.append(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", counting)
    return attempts


def test_importing_the_excel_functions_installs_the_workaround_outside_pyodide():
    assert xlwings_utils.is_jsnull is _xlwings_speed._never_jsnull
    assert udfs_officejs.js_to_none is _xlwings_speed._unchanged
    assert xlwings_utils.is_jsnull(None) is False
    assert udfs_officejs.js_to_none(None) is None
    assert udfs_officejs.js_to_none("x") == "x"


def test_a_call_over_ranges_tries_no_pyodide_import_per_cell(pyodide_imports):
    satisfied = [[float(i % 50)] for i in range(500)]
    responses = [[50.0] for _ in range(500)]
    result = call("CSAT", satisfied, responses)
    assert result[:3] == [[0.0], [0.02], [0.04]] and len(result) == 500
    assert pyodide_imports == []


def test_without_the_workaround_xlwings_tries_the_import_for_every_cell(monkeypatch, pyodide_imports):
    """The upstream cost the workaround removes (if xlwings fixes it, this test says so)."""
    monkeypatch.setattr(xlwings_utils, "is_jsnull", SHIPPED_IS_JSNULL)
    # A text cell in each range: nichekpi's converter leaves both to xlwings' per-cell cleaning.
    call("CSAT", [[1.0], [2.0], ["x"]], [[4.0], [4.0], [""]])
    assert len(pyodide_imports) >= 6  # one per cell of the two ranges


def test_plain_numbers_skip_the_per_cell_cleaning_even_with_xlwings_as_shipped(monkeypatch, pyodide_imports):
    monkeypatch.setattr(xlwings_utils, "is_jsnull", SHIPPED_IS_JSNULL)
    assert call("CSAT", [[1.0], [2.0], [3.0]], [[4.0], [4.0], [4.0]]) == [[0.25], [0.5], [0.75]]
    assert pyodide_imports == []


def test_install_leaves_pyodide_alone(monkeypatch):
    monkeypatch.setattr(_xlwings_speed.sys, "platform", "emscripten")
    assert _xlwings_speed.install() == []


def _shipped_is_jsnull():
    """xlwings' own ``is_jsnull``, as it is before nichekpi replaces it."""
    import importlib
    import sys

    saved = sys.modules.pop("xlwings.utils")
    try:
        return importlib.import_module("xlwings.utils").is_jsnull
    finally:
        sys.modules["xlwings.utils"] = saved


SHIPPED_IS_JSNULL = _shipped_is_jsnull()
