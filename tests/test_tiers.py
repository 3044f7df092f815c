"""Thresholds as the spec fixes them, and tiers on both sides of every threshold."""

from __future__ import annotations

import math

import pytest

from nichekpi import KpiInputError, default_catalog, tier
from nichekpi.catalog import TIERS
from tests.spec import SPEC, spec_id

KEYS = ("typical", "above_average", "exceptional")


@pytest.mark.parametrize("row", SPEC, ids=spec_id)
def test_thresholds_direction_and_unit_match_the_spec(row):
    kpi = default_catalog().kpi(row.business, row.kpi)
    assert tuple(kpi.thresholds[k] for k in KEYS) == row.thresholds
    assert kpi.better == row.better
    assert kpi.unit.id == row.unit


@pytest.mark.parametrize("row", SPEC, ids=spec_id)
def test_every_threshold_has_its_article_sentence(row):
    kpi = default_catalog().kpi(row.business, row.kpi)
    given = {k for k, t in zip(KEYS, row.thresholds) if t is not None}
    assert set(kpi.sources) == given
    assert all(len(sentence) > 40 for sentence in kpi.sources.values())


def _expected_just_worse(thresholds, index):
    """The spec's rule, restated: the next worse tier that has a threshold, else the bottom."""
    for lower in range(index - 1, -1, -1):
        if thresholds[lower] is not None:
            return TIERS[lower + 1]
    return "Typical" if thresholds[0] is None else "Below typical"


CASES = [(row, index) for row in SPEC for index, threshold in enumerate(row.thresholds) if threshold is not None]


@pytest.mark.parametrize(("row", "index"), CASES, ids=[f"{spec_id(r)}/{KEYS[i]}" for r, i in CASES])
def test_tier_on_and_just_short_of_each_threshold(row, index):
    threshold = row.thresholds[index]
    worse = -1 if row.better == "higher" else 1
    step = 1e-9 * max(1.0, abs(threshold))
    assert tier(threshold, row.kpi, row.business) == TIERS[index + 1]
    assert tier(threshold + worse * step, row.kpi, row.business) == _expected_just_worse(row.thresholds, index)
    assert tier(threshold - worse * step * 1e6, row.kpi, row.business) in TIERS[index + 1 :]


@pytest.mark.parametrize(
    ("business", "kpi", "value", "expected"),
    [
        # higher is better, all three thresholds (dollhouse CSAT 75 / 85 / 90%)
        ("custom-dollhouses", "csat", 0.74, "Below typical"),
        ("custom-dollhouses", "csat", 0.80, "Typical"),
        ("custom-dollhouses", "csat", 0.85, "Above average"),
        ("custom-dollhouses", "csat", 1.0, "Exceptional"),
        # higher is better, no above-average tier (dollhouse retention 60 / - / 80%)
        ("custom-dollhouses", "retention_rate", 0.59, "Below typical"),
        ("custom-dollhouses", "retention_rate", 0.79, "Typical"),
        ("custom-dollhouses", "retention_rate", 0.90, "Exceptional"),
        # higher is better, no typical tier (orders completed - / 100 / 200)
        ("custom-miniature-modeling", "orders_completed", 0, "Typical"),
        ("custom-miniature-modeling", "orders_completed", 99, "Typical"),
        ("custom-miniature-modeling", "orders_completed", 150, "Above average"),
        ("custom-miniature-modeling", "orders_completed", 200, "Exceptional"),
        # lower is better (revision rate 20 / 10 / 5%)
        ("custom-dollhouses", "design_revision_rate", 0.30, "Below typical"),
        ("custom-dollhouses", "design_revision_rate", 0.20, "Typical"),
        ("custom-dollhouses", "design_revision_rate", 0.06, "Above average"),
        ("custom-dollhouses", "design_revision_rate", 0.05, "Exceptional"),
        ("custom-dollhouses", "design_revision_rate", 0.0, "Exceptional"),
        # lower is better, no above-average tier (CAC $50 / - / $10)
        ("soundwave-art", "cac", 100, "Below typical"),
        ("soundwave-art", "cac", 50, "Typical"),
        ("soundwave-art", "cac", 11, "Typical"),
        ("soundwave-art", "cac", 10, "Exceptional"),
        # NPS in points
        ("soundwave-art", "nps", 40, "Typical"),
        ("soundwave-art", "nps", -20, "Below typical"),
    ],
)
def test_tier_examples(business, kpi, value, expected):
    assert tier(value, kpi, business) == expected


@pytest.mark.parametrize("value", [math.nan, math.inf, "0.8", None, True])
def test_tier_rejects_values_that_are_not_numbers(value):
    with pytest.raises(KpiInputError, match="value must be a finite number"):
        tier(value, "csat", "custom-dollhouses")


def test_tier_of_unknown_names_lists_the_choices():
    with pytest.raises(LookupError, match="unknown business type 'bakery'; choose one of: .*custom-dollhouses"):
        tier(0.5, "csat", "bakery")
    with pytest.raises(LookupError, match="unknown KPI 'nps' for custom-dollhouses; choose one of: csat, "):
        tier(0.5, "nps", "custom-dollhouses")
