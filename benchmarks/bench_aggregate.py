"""Benchmark: refresh's order aggregation against one DuckDB query written directly, CSV and Parquet.

    python benchmarks/bench_aggregate.py [--orders 1000000] [--repeat 5] [--formats csv,parquet]

Writes ``--orders`` synthetic orders in nichekpi's generic order columns (``order_id``,
``customer_id``, ``order_date``, ``amount``, ``promised_date``, ``delivered_date``) as a
CSV file and as a Parquet file (DATE and DOUBLE columns). For each, the floor is ONE
DuckDB query written directly (``read_csv`` with DuckDB's own detection, or
``read_parquet``, grouped by order and then by month) that computes the same monthly
figures as :func:`nichekpi.exports.monthly_orders` (revenue, orders, customers, repeat
customers, completed, deliveries, on time), with no checks at all: amounts added up
exactly as nichekpi adds them (in whole millionths; the generated amounts are all below
the billion from which nichekpi adds them as they are). Both results are compared,
figure for figure, before anything is timed.

Each run is a fresh Python process (so that nothing is cached between runs and each
has its own peak memory), the two sides alternating, medians of ``--repeat``. Time is
measured inside the process around the call alone (imports excluded). Memory is the
process's peak resident set size (``VmHWM`` of ``/proc/self/status``, read at its
end; not ``ru_maxrss``, which Linux carries over from the parent process), shown as
the whole peak and as the peak above the process's resident size just before the call
(interpreter, DuckDB and nichekpi imported, one empty DuckDB connection opened); the
ratio printed is of the whole peak, and of the increment in brackets.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)

AIM = 1.3
NAMES = ("revenue", "count", "customers", "repeat_customers", "completed", "deliveries", "on_time")


def write_orders(folder: Path, n: int) -> dict[str, Path]:
    """``n`` orders as ``orders.csv`` and ``orders.parquet`` (typed DATE / DOUBLE columns)."""
    import duckdb

    con = duckdb.connect()
    from bench_refresh import orders_query

    con.execute(f"CREATE TABLE generated AS {orders_query(n)}")
    paths = {"csv": folder / "orders.csv", "parquet": folder / "orders.parquet"}
    con.execute(f"COPY generated TO '{paths['csv']}' (HEADER, DELIMITER ',')")
    con.execute(f"COPY generated TO '{paths['parquet']}' (FORMAT PARQUET)")
    con.close()
    return paths


FLOOR = """
WITH orders AS (
    SELECT order_id, min(customer_id) AS customer_id, strftime(min(order_date), '%Y-%m') AS placed_month,
           sum(round(amount * 1000000)) / 1000000 AS amount,
           max(promised_date) AS promised, max(delivered_date) AS delivered
    FROM {reader} GROUP BY order_id
),
first_orders AS (
    SELECT customer_id, min(placed_month) AS first_month FROM orders GROUP BY customer_id
),
customer_months AS (
    SELECT o.placed_month AS month, o.customer_id, count(*) AS orders, any_value(f.first_month) AS first_month
    FROM orders o JOIN first_orders f USING (customer_id) GROUP BY o.placed_month, o.customer_id
),
placed AS (
    SELECT placed_month AS month, sum(round(amount * 1000000)) / 1000000 AS revenue, count(*) AS count
    FROM orders GROUP BY 1
),
customers AS (
    SELECT month, count(*) AS customers,
           count(*) FILTER (WHERE first_month < month OR orders >= 2) AS repeat_customers
    FROM customer_months GROUP BY 1
),
completed AS (
    SELECT strftime(delivered, '%Y-%m') AS month, count(*) AS completed FROM orders
    WHERE delivered IS NOT NULL GROUP BY 1
),
deliveries AS (
    SELECT strftime(delivered, '%Y-%m') AS month, count(*) AS deliveries,
           count(*) FILTER (WHERE delivered <= promised) AS on_time
    FROM orders WHERE delivered IS NOT NULL AND promised IS NOT NULL GROUP BY 1
)
SELECT month, p.revenue, p.count, c.customers, c.repeat_customers, d.completed, v.deliveries, v.on_time
FROM placed p FULL JOIN customers c USING (month) FULL JOIN completed d USING (month)
FULL JOIN deliveries v USING (month) ORDER BY month
"""


def floor_orders(path: Path) -> dict[str, dict[str, float]]:
    """The monthly figures of ``path`` by one DuckDB query written directly, without any check."""
    import duckdb

    reader = f"read_parquet('{path}')" if path.suffix == ".parquet" else f"read_csv('{path}')"
    rows = duckdb.connect().execute(FLOOR.format(reader=reader)).fetchall()
    return {month: {n: float(v) for n, v in zip(NAMES, values) if v is not None} for month, *values in rows}


def nichekpi_orders(path: Path) -> dict[str, dict[str, float]]:
    from nichekpi.exports import monthly_orders

    return monthly_orders(path)


def _child(side: str, path: str) -> None:
    """One measured run, in its own process: prints its time, peak RSS and RSS before the call (JSON)."""
    import time

    import duckdb

    import nichekpi.exports  # noqa: F401  (imported on both sides, so both start alike)

    duckdb.connect().close()
    before = _rss_now()
    run = floor_orders if side == "floor" else nichekpi_orders
    start = time.perf_counter()
    run(Path(path))
    elapsed = time.perf_counter() - start
    peak = _status("VmHWM")
    print(json.dumps({"seconds": elapsed, "peak": peak, "before": before}))


def _rss_now() -> int:
    """The process's resident set size now, in bytes (Linux)."""
    return _status("VmRSS")


def _status(name: str) -> int:
    """A size from ``/proc/self/status`` (Linux), in bytes."""
    with open("/proc/self/status") as file:
        for line in file:
            if line.startswith(name + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {name} in /proc/self/status")


def measure(side: str, path: Path) -> dict[str, float]:
    out = subprocess.run(  # noqa: S603 - this interpreter, this script
        [sys.executable, __file__, "--child", side, str(path)], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def same(ours, floor) -> None:
    assert ours.keys() == floor.keys(), (sorted(ours), sorted(floor))
    for month in ours:
        assert ours[month].keys() == floor[month].keys(), (month, ours[month], floor[month])
        for name, value in ours[month].items():
            assert value == floor[month][name], (month, name, value, floor[month][name])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000, help="how many orders (1000000, 5000000...)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--formats", default="csv,parquet")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(*args.child)
        return
    print(
        f"monthly order figures of {args.orders:,} orders: nichekpi (checked) against one DuckDB query "
        f"(no checks), fresh process per run, median of {args.repeat} alternating runs"
    )
    with tempfile.TemporaryDirectory() as folder:
        paths = write_orders(Path(folder), args.orders)
        for kind in args.formats.split(","):
            path = paths[kind]
            same(nichekpi_orders(path), floor_orders(path))
            runs: dict[str, list[dict[str, float]]] = {"floor": [], "nichekpi": []}
            for n in range(args.repeat):
                for side in ("floor", "nichekpi") if n % 2 == 0 else ("nichekpi", "floor"):
                    runs[side].append(measure(side, path))
            got = {
                side: {
                    "seconds": statistics.median(r["seconds"] for r in rs),
                    "peak": statistics.median(r["peak"] for r in rs),
                    "extra": statistics.median(r["peak"] - r["before"] for r in rs),
                }
                for side, rs in runs.items()
            }
            floor, ours = got["floor"], got["nichekpi"]
            size = path.stat().st_size / 1e6
            print(f"  {kind} ({size:.0f} MB)")
            for side in ("floor", "nichekpi"):
                g = got[side]
                print(
                    f"    {side:<9} {g['seconds'] * 1e3:9.0f} ms   peak {g['peak'] / 1e6:7.0f} MB "
                    f"({g['extra'] / 1e6:6.0f} MB above the process before the call)"
                )
            time_ratio = ours["seconds"] / floor["seconds"]
            peak_ratio, extra_ratio = ours["peak"] / floor["peak"], ours["extra"] / max(1.0, floor["extra"])
            verdict = "meets" if max(time_ratio, peak_ratio) <= AIM else "misses"
            print(
                f"    time {time_ratio:5.2f}x, peak memory {peak_ratio:5.2f}x ({extra_ratio:.2f}x above the start) "
                f"(aim {AIM}x): {verdict}"
            )


if __name__ == "__main__":
    main()
