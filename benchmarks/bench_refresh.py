"""Benchmark of the order-export aggregation of ``nichekpi refresh``, as a ratio to pandas in one run.

    python benchmarks/bench_refresh.py [--orders 1000000] [--repeat 3]

Writes N synthetic orders (CSV) and times, best of N runs, the monthly figures that
``nichekpi refresh --orders`` computes (DuckDB, with all of its checks of bad data)
against a plain pandas baseline computing the same figures without any checks. Both
results are compared before the times are printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import timeit
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import duckdb  # noqa: E402
import pandas as pd  # noqa: E402

from nichekpi.exports import monthly_orders  # noqa: E402


def orders_query(n: int) -> str:
    """``n`` synthetic orders in nichekpi's generic columns, as a DuckDB query (bench_aggregate.py uses it too)."""
    return f"""
        SELECT range AS order_id, 'c' || (hash(range) % {max(1, n // 4)}) AS customer_id,
               (DATE '2026-01-01' + (hash(range * 7) % 365)::INT) AS order_date,
               round(10 + (hash(range * 13) % 50000) / 100.0, 2) AS amount,
               (DATE '2026-01-01' + (hash(range * 7) % 365)::INT + 21) AS promised_date,
               (DATE '2026-01-01' + (hash(range * 7) % 365)::INT + (hash(range * 3) % 30)::INT) AS delivered_date
        FROM range({n})
    """


def write_orders(path: Path, n: int) -> None:
    duckdb.sql(f"COPY ({orders_query(n)}) TO '{path}' (HEADER, DELIMITER ',')")


def pandas_orders(path: Path) -> dict[str, dict[str, float]]:
    frame = pd.read_csv(path, parse_dates=["order_date", "promised_date", "delivered_date"])
    frame["month"] = frame["order_date"].dt.strftime("%Y-%m")
    orders = frame.groupby("order_id").agg(
        customer_id=("customer_id", "first"), placed=("order_date", "min"), amount=("amount", "sum"),
        promised=("promised_date", "max"), delivered=("delivered_date", "max"),
    )  # fmt: skip
    orders["month"] = orders["placed"].dt.strftime("%Y-%m")
    first = orders.groupby("customer_id")["month"].min().rename("first_month")
    per_customer = orders.groupby(["month", "customer_id"]).size().rename("n").reset_index()
    per_customer = per_customer.join(first, on="customer_id")
    per_customer["repeat"] = (per_customer["first_month"] < per_customer["month"]) | (per_customer["n"] >= 2)
    placed = orders.groupby("month").agg(revenue=("amount", "sum"), count=("amount", "size"))
    customers = per_customer.groupby("month").agg(customers=("n", "size"), repeat_customers=("repeat", "sum"))
    done = orders.dropna(subset=["delivered"]).copy()
    done["dmonth"] = done["delivered"].dt.strftime("%Y-%m")
    completed = done.groupby("dmonth").size().rename("completed")
    timed = done.dropna(subset=["promised"]).copy()
    timed["on_time"] = timed["delivered"] <= timed["promised"]
    deliveries = timed.groupby("dmonth").agg(deliveries=("on_time", "size"), on_time=("on_time", "sum"))
    table = placed.join(customers, how="outer").join(completed, how="outer").join(deliveries, how="outer")
    return {
        month: {k: float(v) for k, v in row.items() if pd.notna(v)} for month, row in table.to_dict("index").items()
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "orders.csv"
        write_orders(path, args.orders)
        ours, baseline = monthly_orders(path), pandas_orders(path)
        assert ours.keys() == baseline.keys()
        for month in ours:
            for name, value in ours[month].items():
                assert abs(value - baseline[month][name]) <= 1e-6 * max(1.0, abs(value)), (month, name)
        duck = min(timeit.repeat(lambda: monthly_orders(path), repeat=args.repeat, number=1))
        panda = min(timeit.repeat(lambda: pandas_orders(path), repeat=args.repeat, number=1))
    print(f"monthly figures of {args.orders:,} orders (CSV, {path.name})")
    print(f"  pandas, no checks (baseline)        {panda * 1e3:10.1f} ms   1.00x")
    print(f"  nichekpi refresh on DuckDB, checked {duck * 1e3:10.1f} ms   {duck / panda:5.2f}x")


if __name__ == "__main__":
    main()
