"""nichekpi: the key performance indicators of small custom-made businesses, for Excel.

The pure core is here: the formulas (:mod:`nichekpi.formulas`), the catalog of
business types and their benchmarks (:mod:`nichekpi.catalog`) and the tiers. The
Excel functions, the template workbooks and the command line are thin layers on it.
"""

from nichekpi.catalog import TIERS, Catalog, Kpi, default_catalog, load_business_file, tier
from nichekpi.errors import CatalogError, KpiError, KpiInputError, UnknownNameError
from nichekpi.formulas import *  # noqa: F403
from nichekpi.formulas import __all__ as _formulas

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
    *_formulas,
]

__version__ = "0.1.0"
