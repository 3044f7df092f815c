"""Year to date in the formula library: flows add up the complete months, stocks need every month in between."""

from __future__ import annotations

import pytest

from nichekpi import KpiInputError, default_catalog
from nichekpi.catalog import year_to_date

CRR = default_catalog().kpi("custom-dollhouses", "retention_rate")
CSAT = default_catalog().kpi("custom-dollhouses", "csat")
GROWTH = default_catalog().kpi("custom-miniature-modeling", "social_engagement_growth")
# examples/inputs.csv, January to March: customers at the end, new customers, customers at the start
QUARTER = [(320, 50, 300), (331, 28, 320), (342, 25, 331)]


def test_retention_over_a_quarter_keeps_the_first_start_and_the_last_end():
    assert year_to_date(CRR, QUARTER) == pytest.approx((342 - (50 + 28 + 25)) / 300)  # 79.7%


def test_retention_refuses_a_gap_instead_of_dropping_its_new_customers():
    for gap in (None, (331, None, 320), (331, 400, 320), ("331", 28, 320)):
        with pytest.raises(KpiInputError, match="months 1 to 3 all complete; month 2 is empty or breaks a rule"):
            year_to_date(CRR, [QUARTER[0], gap, QUARTER[2]])


def test_retention_may_start_late_and_stop_early():
    assert year_to_date(CRR, [None, *QUARTER[1:], None]) == pytest.approx((342 - 53) / 320)
    assert year_to_date(CRR, [*QUARTER[:2], None, None]) == pytest.approx((331 - 78) / 300)


def test_growth_takes_the_first_previous_and_the_last_current():
    assert year_to_date(GROWTH, [(550, 500), (600, 550), (660, 600)]) == pytest.approx((660 - 500) / 500)


def test_flows_add_up_the_complete_months_around_blank_or_broken_ones():
    months = [(120, 150), None, (136, 160), ("12 orders", 150), (170, 150), (153, 170)]
    assert year_to_date(CSAT, months) == pytest.approx((120 + 136 + 153) / (150 + 160 + 170))


def test_no_month_counts():
    assert year_to_date(CSAT, [None, (1, None)]) is None


def test_which_benchmarks_are_yearly():
    assert CRR.yearly_benchmark and GROWTH.yearly_benchmark
    assert not CSAT.yearly_benchmark
    assert not default_catalog().kpi("custom-dollhouses", "aov").yearly_benchmark
