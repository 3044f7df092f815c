"""Test-wide setup, loaded before any test module or doctest imports nichekpi.

xlwings picks its ``func``/``arg``/``ret`` at import time: with XLWINGS_ON_SERVER=true
they are the Office.js ones (xlwings Server and xlwings Lite), whose
``custom_functions_meta`` and ``custom_functions_call`` are the calling path the tests
use. Those sit in xlwings' PRO part, which needs a license key; the noncommercial key
is set here, for the tests only, never in the product.
"""

import os

import pytest

os.environ.setdefault("XLWINGS_ON_SERVER", "true")
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")


SLOW_MODULES = frozenset(
    {
        "test_templates_libreoffice.py",
        "test_languages_libreoffice.py",
        "test_refresh_libreoffice.py",
        "test_year_libreoffice.py",
        "test_year_gnumeric.py",
        "test_year_formulas.py",
        "test_readers.py",
    }
)
"""The tests that open workbooks in another engine or reader (LibreOffice, Gnumeric, the
formulas package, the npm readers): `-m "not slow"` leaves them out on a laptop; CI runs them."""


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
