"""The benchmarks still run and print their ratios (they are measured, not asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def run_benchmark(script: str, *args: str) -> list[str]:
    """Run a benchmark on small data; its output lines (the scripts check their own results)."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_udf_benchmark_prints_its_ratios():
    lines = run_benchmark("bench_udfs.py", "--cells", "3000", "--repeat", "1")
    for label in ("Excel function CSAT(80, 100)", "Excel function CSAT ", "Excel function NPS_FROM_SCORES"):
        (line,) = [line for line in lines if label in line]
        assert line.rstrip().endswith("x")


def test_excel_path_benchmark_prints_both_ratios_three_ways_a_scalar_call_split_and_calls_in_a_running_loop():
    lines = run_benchmark("bench_excel_path.py", "--cells", "500", "--repeat", "5")  # asserts equal results
    ratios = [line for line in lines if line.rstrip().endswith("x)")]
    assert len(ratios) == 10
    assert lines[0].startswith("nichekpi as it is") and "xlwings as shipped:" in lines
    assert "where a scalar call's time goes:" in lines
    assert any(line.startswith("the same calls awaited in one running event loop") for line in lines)


def test_refresh_benchmark_agrees_with_pandas_and_prints_its_ratio():
    lines = run_benchmark("bench_refresh.py", "--orders", "5000", "--repeat", "1")  # asserts equal figures
    (line,) = [line for line in lines if "DuckDB" in line]
    assert line.rstrip().endswith("x")


def test_formats_benchmark_gets_the_same_figures_from_shopify_and_prints_its_ratio():
    lines = run_benchmark("bench_formats.py", "--lines", "5000", "--repeat", "1")  # asserts equal figures
    (line,) = [line for line in lines if "Shopify export" in line]
    assert line.rstrip().endswith("(aim 2.0x)")


def test_cli_benchmark_prints_a_ratio_per_command():
    lines = run_benchmark("bench_cli.py", "--repeat", "1")
    assert len([line for line in lines if line.rstrip().endswith("(aim 1.5x)")]) == 4


def test_library_benchmark_prints_its_ratio_to_inline_checks():
    lines = run_benchmark("bench_library.py", "--calls", "2000", "--repeat", "1")
    (line,) = [line for line in lines if "formula library" in line]
    assert line.rstrip().endswith("(aim 3.0x)")


def test_templates_benchmark_prints_its_time_against_the_aim():
    lines = run_benchmark("bench_templates.py", "--repeat", "1")
    assert lines[1].rstrip().endswith("the aim of 1 s")


def test_package_benchmark_prints_three_sizes_against_the_floor():
    lines = run_benchmark("bench_package.py", "--rows", "200", "--repeat", "1")  # checks the package it writes
    assert len([line for line in lines if line.rstrip().endswith("(aim 1.5x)")]) == 3


def test_aggregate_benchmark_agrees_with_the_direct_query_and_prints_time_and_memory_ratios():
    lines = run_benchmark("bench_aggregate.py", "--orders", "3000", "--repeat", "1")  # asserts equal figures
    verdicts = [line for line in lines if "(aim 1.3x): " in line]
    assert len(verdicts) == 2 and all("peak memory" in line for line in verdicts)
