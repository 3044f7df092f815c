"""The 35 KPIs as ../shared/kpi-spec.md states them, typed in again as the reference.

This table is the spec, not the catalog: tests compare the catalog and the formulas
against it. Columns: business, kpi, Excel function, unit, better, (typical,
above_average, exceptional) with None for "-", the article's example inputs and the
result the article states.
"""

from __future__ import annotations

from typing import NamedTuple


class SpecKpi(NamedTuple):
    business: str
    kpi: str
    function: str | None
    unit: str
    better: str
    thresholds: tuple[float | None, float | None, float | None]
    example: tuple[float, ...]
    result: float
    article: str


_MM, _DH, _SW, _TY, _CC = (
    "000_8a544916464c9a0d.txt",
    "001_860038e990d6acb3.txt",
    "002_f8efcf45ebf097d1.txt",
    "003_38163568cae514a7.txt",
    "004_81d3b34841909429.txt",
)

# fmt: off
SPEC = [
    SpecKpi("custom-miniature-modeling", "csat", "CSAT", "fraction", "higher", (0.85, 0.9, 0.95), (80, 100), 0.8, _MM),
    SpecKpi("custom-miniature-modeling", "avg_production_time", "AVG_TIME", "hours", "lower", (15, 10, 5), (100, 20), 5, _MM),
    SpecKpi("custom-miniature-modeling", "orders_completed", None, "orders", "higher", (None, 100, 200), (150,), 150, _MM),
    SpecKpi("custom-miniature-modeling", "return_customer_rate", "REPEAT_RATE", "fraction", "higher", (0.2, 0.4, 0.6), (200, 500), 0.4, _MM),
    SpecKpi("custom-miniature-modeling", "aov", "AOV", "currency", "higher", (100, 150, 200), (10000, 100), 100, _MM),
    SpecKpi("custom-miniature-modeling", "feedback_rating", "CSAT", "fraction", "higher", (0.7, 0.8, 0.85), (40, 50), 0.8, _MM),
    SpecKpi("custom-miniature-modeling", "social_engagement_growth", "GROWTH_RATE", "fraction", "higher", (0.15, 0.25, 0.3), (800, 500), 0.6, _MM),
    SpecKpi("custom-dollhouses", "csat", "CSAT", "fraction", "higher", (0.75, 0.85, 0.9), (120, 150), 0.8, _DH),
    SpecKpi("custom-dollhouses", "avg_completion_time", "AVG_TIME", "days", "lower", (42, 28, 21), (100, 10), 10, _DH),
    SpecKpi("custom-dollhouses", "custom_features", "PER_UNIT", "features", "higher", (5, 8, 11), (60, 10), 6, _DH),
    SpecKpi("custom-dollhouses", "retention_rate", "CRR", "fraction", "higher", (0.6, None, 0.8), (320, 50, 300), 0.9, _DH),
    SpecKpi("custom-dollhouses", "aov", "AOV", "currency", "higher", (75, 200, 500), (10000, 100), 100, _DH),
    SpecKpi("custom-dollhouses", "design_revision_rate", "REVISION_RATE", "fraction", "lower", (0.2, 0.1, 0.05), (3, 10), 0.3, _DH),
    SpecKpi("custom-dollhouses", "visitor_lead_conversion", "CONVERSION_RATE", "fraction", "higher", (0.02, 0.05, 0.1), (250, 5000), 0.05, _DH),
    SpecKpi("soundwave-art", "cac", "CAC", "currency", "lower", (50, None, 10), (10000, 100), 100, _SW),
    SpecKpi("soundwave-art", "artwork_conversion", "CONVERSION_RATE", "fraction", "higher", (0.6, 0.75, 0.9), (160, 200), 0.8, _SW),
    SpecKpi("soundwave-art", "repeat_customer_rate", "REPEAT_RATE", "fraction", "higher", (0.2, None, 0.4), (150, 500), 0.3, _SW),
    SpecKpi("soundwave-art", "nps", "NPS", "points", "higher", (30, 50, 70), (60, 20, 20), 40, _SW),
    SpecKpi("soundwave-art", "aov", "AOV", "currency", "higher", (50, 200, 300), (10000, 100), 100, _SW),
    SpecKpi("soundwave-art", "artwork_production_time", "AVG_TIME", "hours", "lower", (7, None, 3), (100, 20), 5, _SW),
    SpecKpi("soundwave-art", "csi", "CSAT", "fraction", "higher", (0.75, 0.9, 0.95), (120, 150), 0.8, _SW),
    SpecKpi("custom-3d-printed-toys", "customization_conversion", "CONVERSION_RATE", "fraction", "higher", (0.2, None, 0.3), (500, 2000), 0.25, _TY),
    SpecKpi("custom-3d-printed-toys", "avg_print_time", "AVG_TIME", "hours", "lower", (4, None, 2), (500, 100), 5, _TY),
    SpecKpi("custom-3d-printed-toys", "post_production_satisfaction", "MEAN_RATING", "score", "higher", (7.5, 8.5, 9), (850, 100), 8.5, _TY),
    SpecKpi("custom-3d-printed-toys", "upload_order_ratio", "UPLOAD_ORDER_RATIO", "ratio", "higher", (2.5, 4, 6), (500, 150), 3.33, _TY),
    SpecKpi("custom-3d-printed-toys", "repeat_customer_rate", "REPEAT_RATE", "fraction", "higher", (0.2, 0.4, 0.6), (150, 500), 0.3, _TY),
    SpecKpi("custom-3d-printed-toys", "material_efficiency", "MATERIAL_EFFICIENCY", "fraction", "higher", (0.6, 0.7, 0.9), (100, 20), 0.8, _TY),
    SpecKpi("custom-3d-printed-toys", "on_time_delivery", "ON_TIME_RATE", "fraction", "higher", (0.85, 0.9, 0.95), (90, 100), 0.9, _TY),
    SpecKpi("remote-career-coaching", "css", "CSAT", "fraction", "higher", (0.8, 0.9, 0.95), (85, 100), 0.85, _CC),
    SpecKpi("remote-career-coaching", "session_completion", "COMPLETION_RATE", "fraction", "higher", (0.7, 0.8, 0.9), (40, 50), 0.8, _CC),
    SpecKpi("remote-career-coaching", "retention_rate", "CRR", "fraction", "higher", (0.8, None, 0.9), (220, 50, 200), 0.85, _CC),
    SpecKpi("remote-career-coaching", "arpu", "ARPU", "currency", "higher", (150, 200, 300), (100000, 1000), 100, _CC),
    SpecKpi("remote-career-coaching", "free_to_paid_conversion", "CONVERSION_RATE", "fraction", "higher", (0.2, 0.4, 0.6), (20, 50), 0.4, _CC),
    SpecKpi("remote-career-coaching", "placement_rate", "PLACEMENT_RATE", "fraction", "higher", (0.5, 0.7, 0.8), (30, 50), 0.6, _CC),
    SpecKpi("remote-career-coaching", "time_to_milestone", "AVG_TIME", "months", "lower", (8, 5, 3), (100, 20), 5, _CC),
]
# fmt: on

# The article rounds this one example to two decimals (500 / 150 = 3.333...).
ROUNDED_TO = {("custom-3d-printed-toys", "upload_order_ratio"): 0.005}


def spec_id(row: SpecKpi) -> str:
    return f"{row.business}/{row.kpi}"
