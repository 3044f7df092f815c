"""Benchmark: a Shopify order export against nichekpi's own columns, the same orders, as a ratio in one run.

    python benchmarks/bench_formats.py [--lines 1000000] [--repeat 5]

Writes the same synthetic orders twice: as a Shopify orders export (one row per line item,
1 to 4 per order, about 2.5 on average, order-level fields on the first row only: 1,000,000
lines are about 400,000 orders) and in nichekpi's generic columns (one row per order).
Checks that both give the same monthly figures, then times ``monthly_orders`` on each,
alternating, and prints the medians and the Shopify file's ratio to the generic one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import duckdb  # noqa: E402

from nichekpi.exports import monthly_orders  # noqa: E402

AIM = 2.0  #: issue 11: a Shopify export within twice the time of the generic format on the same orders


def write_files(folder: Path, lines: int) -> tuple[Path, Path, int]:
    """The Shopify export and the generic file of the same orders; and the number of orders."""
    orders = max(1, round(lines / 2.5))
    shopify, generic = folder / "orders_export.csv", folder / "orders.csv"
    con = duckdb.connect()
    con.execute(
        f"""
        CREATE TABLE o AS
        SELECT range AS i, (1 + hash(range * 5) % 4)::BIGINT AS n,
               'c' || (hash(range) % {max(1, orders // 4)}) || '@example.com' AS email,
               TIMESTAMP '2026-01-01' + to_seconds((hash(range * 7) % 31536000)::BIGINT) AS ts,
               round(10 + (hash(range * 13) % 50000) / 100.0, 2) AS total
        FROM range({orders})
        """
    )
    created = "strftime(ts, '%Y-%m-%d %H:%M:%S') || ' -0500'"
    con.execute(
        f"""
        COPY (
            SELECT '#' || (1000 + i) AS "Name", email AS "Email",
                   CASE WHEN k = 0 THEN 'paid' END AS "Financial Status",
                   CASE WHEN k = 0 THEN {created} END AS "Paid at",
                   CASE WHEN k = 0 THEN 'fulfilled' END AS "Fulfillment Status",
                   CASE WHEN k = 0 THEN 'USD' END AS "Currency",
                   CASE WHEN k = 0 THEN printf('%.2f', total) END AS "Subtotal",
                   CASE WHEN k = 0 THEN '0.00' END AS "Shipping", CASE WHEN k = 0 THEN '0.00' END AS "Taxes",
                   CASE WHEN k = 0 THEN printf('%.2f', total) END AS "Total",
                   CASE WHEN k = 0 THEN {created} END AS "Created at",
                   1 AS "Lineitem quantity", 'Item ' || k AS "Lineitem name",
                   printf('%.2f', total / n) AS "Lineitem price", 'A Buyer' AS "Billing Name",
                   NULL AS "Cancelled at", CASE WHEN k = 0 THEN 'Shopify Payments' END AS "Payment Method",
                   CASE WHEN k = 0 THEN '0.00' END AS "Refunded Amount", 5550000000 + i AS "Id"
            FROM o, range(n) AS t(k) ORDER BY i, k
        ) TO '{shopify}' (HEADER, DELIMITER ',')
        """
    )
    con.execute(
        f"""
        COPY (
            SELECT '#' || (1000 + i) AS order_id, email AS customer_id, {created} AS order_date,
                   printf('%.2f', total) AS amount
            FROM o ORDER BY i
        ) TO '{generic}' (HEADER, DELIMITER ',')
        """
    )
    return shopify, generic, orders


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        shopify, generic, orders = write_files(Path(folder), args.lines)
        ours, theirs = monthly_orders(shopify, orders_format="shopify"), monthly_orders(generic)
        assert ours.keys() == theirs.keys()
        for month, figures in ours.items():  # sums of many amounts may differ in their last bits
            assert figures.keys() == theirs[month].keys(), month
            for name, value in figures.items():
                assert abs(value - theirs[month][name]) <= 1e-9 * max(1.0, abs(value)), (month, name)
        times: dict[str, list[float]] = {"generic": [], "shopify": []}
        for _ in range(args.repeat):  # alternating, so a busy moment of the machine falls on both
            for name, path, fmt in (("generic", generic, "generic"), ("shopify", shopify, "shopify")):
                start = time.perf_counter()
                monthly_orders(path, orders_format=fmt)
                times[name].append(time.perf_counter() - start)
    base, shop = statistics.median(times["generic"]), statistics.median(times["shopify"])
    print(f"monthly figures of {orders:,} orders, median of {args.repeat} alternating runs")
    print(f"  {'generic columns, one row per order (baseline)':<46} {base * 1e3:10.1f} ms   1.00x")
    label = f"Shopify export, {args.lines:,} line-item rows"
    print(f"  {label:<46} {shop * 1e3:10.1f} ms   {shop / base:5.2f}x (aim {AIM}x)")


if __name__ == "__main__":
    main()
