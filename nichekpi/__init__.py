"""nichekpi: the key performance indicators of small custom-made businesses, for Excel.

The pure core is here: the formulas (:mod:`nichekpi.formulas`), the catalog of
business types and their benchmarks (:mod:`nichekpi.catalog`) and the tiers. The
Excel functions, the template workbooks and the command line are thin layers on it.

The catalog's and the errors' names are imported on first use (``nichekpi.tier``),
so that ``import nichekpi`` alone, which ``python -m nichekpi --help`` does, loads no
catalog; the formulas module is imported (its formulas are compiled on first use).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nichekpi.formulas import __all__ as _formulas_all  # cheap: each formula is compiled on first use

if TYPE_CHECKING:
    from nichekpi.catalog import TIERS, Catalog, Kpi, default_catalog, load_business_file, tier
    from nichekpi.errors import CatalogError, KpiError, KpiInputError, UnknownNameError
    from nichekpi.formulas import *  # noqa: F403

_FROM_CATALOG = ("TIERS", "Catalog", "Kpi", "default_catalog", "load_business_file", "tier")
_FROM_ERRORS = ("CatalogError", "KpiError", "KpiInputError", "UnknownNameError")
_FROM_FORMULAS = tuple(_formulas_all)

__all__ = [
    "TIERS",
    "Catalog",
    "CatalogError",
    "Kpi",
    "KpiError",
    "KpiInputError",
    "UnknownNameError",
    "default_catalog",
    "load_business_file",
    "tier",
    *_FROM_FORMULAS,
]

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    import importlib

    for module, names in (("catalog", _FROM_CATALOG), ("errors", _FROM_ERRORS), ("formulas", _FROM_FORMULAS)):
        if name in names:
            value = getattr(importlib.import_module(f"nichekpi.{module}"), name)
            globals()[name] = value
            return value
    raise AttributeError(f"module 'nichekpi' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
