"""The monthly figures of checked orders (``exports._figures``) against the same figures counted in plain Python.

Refresh reduces an export to one row per order (table ``orders``) and then counts each
month's figures in one DuckDB query. Here random tables of orders, with customers,
promised and delivered dates missing here and there, are counted both ways:

- revenue and orders: the orders placed in the month;
- customers: those who placed an order in the month; repeat customers: those of them
  who ordered in an earlier month, or twice or more in that month;
- completed: the orders delivered in the month (placed in it, when the export has no
  delivered dates); deliveries: those of them with a promised date, and on time: those
  delivered by it.

A month only has the figures it has: none is 0 where nothing was counted.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from nichekpi.exports import _figures

DAYS = st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2026, 4, 28))
CUSTOMERS = st.sampled_from([None, "a", "b", "c", "d"])
ORDER = st.tuples(CUSTOMERS, DAYS, st.integers(1, 500), st.none() | DAYS, st.none() | DAYS)  # promised, delivered


def by_hand(orders: list[tuple], delivered: bool) -> dict[str, dict[str, float]]:
    figures: dict[str, dict[str, float]] = defaultdict(dict)

    def add(month: str, name: str, amount: float = 1.0) -> None:
        figures[month][name] = figures[month].get(name, 0.0) + amount

    first: dict[str, str] = {}
    per_month: dict[tuple[str, str], int] = defaultdict(int)
    for customer, placed, amount, _promised, _delivered in orders:
        month = placed.strftime("%Y-%m")
        add(month, "revenue", float(amount))
        add(month, "count")
        if customer is not None:
            first[customer] = min(first.get(customer, month), month)
            per_month[(customer, month)] += 1
    for (customer, month), count in per_month.items():
        add(month, "customers")
        add(month, "repeat_customers", 1.0 if first[customer] < month or count >= 2 else 0.0)
    for _customer, placed, _amount, promised, done in orders:
        if not delivered:
            add(placed.strftime("%Y-%m"), "completed")
        elif done is not None:
            month = done.strftime("%Y-%m")
            add(month, "completed")
            if promised is not None:
                add(month, "deliveries")
                add(month, "on_time", 1.0 if done <= promised else 0.0)
    return dict(figures)


@settings(max_examples=200, deadline=None)
@given(orders=st.lists(ORDER, max_size=25), delivered=st.booleans())
def test_the_monthly_figures_are_those_counted_by_hand(orders, delivered):
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE orders (order_id BIGINT, customer_id VARCHAR, placed_month VARCHAR, amount DOUBLE, "
        "promised DATE, delivered DATE)"
    )
    if not delivered:  # an export without delivered dates: refresh's table has none
        orders = [(customer, placed, amount, promised, None) for customer, placed, amount, promised, _ in orders]
    rows = [
        (n, customer, placed.strftime("%Y-%m"), float(amount), promised, done)
        for n, (customer, placed, amount, promised, done) in enumerate(orders)
    ]
    if rows:
        con.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)", rows)
    assert _figures(con, delivered) == by_hand(orders, delivered)
