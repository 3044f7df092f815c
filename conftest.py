"""Test-wide setup, loaded before any test module or doctest imports nichekpi.

xlwings picks its ``func``/``arg``/``ret`` at import time: with XLWINGS_ON_SERVER=true
they are the Office.js ones (xlwings Server and xlwings Lite), whose
``custom_functions_meta`` and ``custom_functions_call`` are the calling path the tests
use. Those sit in xlwings' PRO part, which needs a license key; the noncommercial key
is set here, for the tests only, never in the product.
"""

import os

os.environ.setdefault("XLWINGS_ON_SERVER", "true")
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
