"""nichekpi: the key performance indicators of small custom-made businesses, for Excel.

The pure core is here: the formulas (:mod:`nichekpi.formulas`), the catalog of
business types and their benchmarks (:mod:`nichekpi.catalog`) and the tiers. The
Excel functions, the template workbooks and the command line are thin layers on it.

The names below are imported on first use (``nichekpi.csat``, ``from nichekpi import
*``), so that ``import nichekpi`` alone, which ``python -m nichekpi --help`` does,
loads none of the modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nichekpi.catalog import TIERS, Catalog, Kpi, default_catalog, load_business_file, tier
    from nichekpi.errors import CatalogError, KpiError, KpiInputError, UnknownNameError
    from nichekpi.formulas import *  # noqa: F403

_FROM_CATALOG = ("TIERS", "Catalog", "Kpi", "default_catalog", "load_business_file", "tier")
_FROM_ERRORS = ("CatalogError", "KpiError", "KpiInputError", "UnknownNameError")
_FROM_FORMULAS = (
    "FORMULAS",
    "average_order_value",
    "average_revenue_per_user",
    "average_time",
    "completion_rate",
    "conversion_rate",
    "count",
    "csat",
    "csat_from_ratings",
    "customer_acquisition_cost",
    "growth_rate",
    "material_efficiency",
    "mean_rating",
    "nps",
    "nps_from_scores",
    "on_time_rate",
    "per_unit",
    "placement_rate",
    "repeat_rate",
    "retention_rate",
    "revision_rate",
    "upload_order_ratio",
)
"""``nichekpi.formulas.__all__``, written out so that it is known without importing them (a test compares the two)."""

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
