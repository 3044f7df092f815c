"""A month's revenue is the sum of its amounts as written, whatever the order of the rows.

Added up as binary numbers, 69.55 + 76.85 + 78.60 gives 224.99999999999997: an average
order value of exactly 75 would then sit below a threshold of 75, and the figure would
depend on the order of the rows (and so differ between the one-pass and the full
reading). The oracle here is the exact sum in whole cents, divided by 100 in Python
(``int / int`` is correctly rounded): the number nearest to the true total.
"""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nichekpi import default_catalog
from nichekpi.exports import Reading, monthly_orders
from tests.test_exports_fast import outcome

HEADER = "order_id,customer_id,order_date,amount\n"


def csv_of(path: Path, amounts: list[str], *, lines_per_order: int = 1, separator: str = ",") -> Path:
    rows = [
        separator.join([str(n // lines_per_order + 1), f"c{n // lines_per_order}", "2026-01-05", amount])
        for n, amount in enumerate(amounts)
    ]
    path.write_text(HEADER.replace(",", separator) + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def revenue(path: Path, *, full: bool, **options) -> float:
    figures, _notes = outcome(path, full=full, **options)
    assert isinstance(figures, dict), figures
    return figures["2026-01"]["revenue"]


def test_an_average_order_value_of_exactly_75_is_75_in_every_order_of_the_rows(tmp_path):
    aov = default_catalog().kpi("custom-dollhouses", "aov")
    for amounts in (["69.55", "76.85", "78.60"], ["78.60", "76.85", "69.55"]):
        assert 69.55 + 76.85 + 78.60 != 225  # what adding them up as they come gives
        path = csv_of(tmp_path / "orders.csv", amounts)
        for full in (False, True):
            total = revenue(path, full=full)
            assert total == 225.0, (amounts, full, total)
            assert aov.tier(total / 3) == aov.tier(75.0)


CENTS = st.lists(st.integers(0, 10**9), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cents=CENTS, lines=st.sampled_from([1, 2, 3]), seed=st.integers(0, 2**32))
def test_the_revenue_is_the_exact_sum_of_the_amounts_both_ways_and_in_any_order(tmp_path, cents, lines, seed):
    exact = sum(cents) / 100
    random.Random(seed).shuffle(cents)
    path = csv_of(tmp_path / "orders.csv", [f"{c // 100}.{c % 100:02d}" for c in cents], lines_per_order=lines)
    assert revenue(path, full=False) == exact
    assert revenue(path, full=True) == exact


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cents=CENTS)
def test_a_typed_parquet_amount_and_a_decimal_comma_csv_give_the_exact_sum_too(tmp_path, cents):
    exact = sum(cents) / 100
    text = csv_of(tmp_path / "orders.csv", [f"{c // 100}.{c % 100:02d}" for c in cents])
    parquet = tmp_path / "orders.parquet"
    for kind in ("DOUBLE", "DECIMAL(18,2)"):
        duckdb.sql(
            f"COPY (SELECT order_id, customer_id, order_date, CAST(amount AS {kind}) AS amount "
            f"FROM read_csv('{text}', all_varchar = true)) TO '{parquet}' (FORMAT parquet)"
        )
        assert revenue(parquet, full=False) == exact
        assert revenue(parquet, full=True) == exact
    european = csv_of(tmp_path / "commas.csv", [f"{c // 100},{c % 100:02d}" for c in cents], separator=";")
    assert monthly_orders(european, reading=Reading(decimal=","))["2026-01"]["revenue"] == exact


def test_amounts_from_a_billion_up_are_still_added_up(tmp_path):
    """Those are added as they are, rounded as binary numbers are (no small business has them)."""
    path = csv_of(tmp_path / "orders.csv", ["1500000000.25", "3000000000", "0.10", "7"])
    for full in (False, True):
        assert revenue(path, full=full) == pytest.approx(4500000007.35, rel=1e-15)
