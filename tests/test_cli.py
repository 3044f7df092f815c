"""The command line: listing the catalog and scoring one KPI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from nichekpi.cli import main
from tests.spec import SPEC


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_kpis_lists_the_business_types(capsys):
    status, out, _ = run(capsys, "kpis")
    assert status == 0
    for business in {row.business for row in SPEC}:
        assert business in out


def test_kpis_json_for_dollhouses_has_the_spec_thresholds(capsys):
    status, out, _ = run(capsys, "kpis", "custom-dollhouses", "--json")
    assert status == 0
    records = json.loads(out)
    expected = [row for row in SPEC if row.business == "custom-dollhouses"]
    assert [r["id"] for r in records] == [row.kpi for row in expected]
    for record, row in zip(records, expected):
        assert set(record) == {"id", "name", "function", "unit", "better", "thresholds"}
        assert record["function"] == row.function
        assert record["better"] == row.better
        assert record["unit"] == row.unit
        assert record["thresholds"] == dict(zip(("typical", "above_average", "exceptional"), row.thresholds))
    assert records[3]["thresholds"]["above_average"] is None  # retention: no above-average tier


def test_kpis_table_is_readable(capsys):
    status, out, _ = run(capsys, "kpis", "custom-dollhouses")
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "Custom dollhouses (custom-dollhouses)"
    assert "EXCEL FUNCTION" in lines[2] and "EXCEPTIONAL" in lines[2]
    retention = next(line for line in lines if line.startswith("retention_rate"))
    assert "CRR(customers_end, new_customers, customers_start)" in retention
    assert retention.split()[-3:] == ["60%", "-", "80%"]


def test_score_prints_value_and_tier(capsys):
    status, out, _ = run(capsys, "score", "custom-dollhouses", "retention_rate", "320", "50", "300")
    assert status == 0
    assert out.strip() == "Customer retention rate: 90% (Exceptional)"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("soundwave-art", "nps", "60", "20", "20"), "Net promoter score (NPS): 40 points (Typical)"),
        (("soundwave-art", "cac", "10000", "100"), "Average customer acquisition cost: $100.00 (Below typical)"),
        (
            ("custom-3d-printed-toys", "upload_order_ratio", "500", "150"),
            "Design uploads to order ratio: 3.33 (Typical)",
        ),
        (
            ("custom-miniature-modeling", "orders_completed", "150"),
            "Custom orders completed: 150 orders per month (Above average)",
        ),
    ],
)
def test_score_formats_by_unit(capsys, argv, expected):
    status, out, _ = run(capsys, "score", *argv)
    assert (status, out.strip()) == (0, expected)


def test_score_json(capsys):
    status, out, _ = run(capsys, "score", "custom-dollhouses", "csat", "120", "150", "--json")
    assert status == 0
    assert json.loads(out) == {"id": "csat", "value": 0.8, "unit": "fraction", "tier": "Typical"}


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        (("kpis", "bakery"), 2, "nichekpi: unknown business type 'bakery'; choose one of: custom-3d-printed-toys, "),
        (("score", "bakery", "csat", "1", "2"), 2, "unknown business type 'bakery'; choose one of: "),
        (
            ("score", "custom-dollhouses", "nps", "1"),
            2,
            "unknown KPI 'nps' for custom-dollhouses; choose one of: csat,",
        ),
        (("score", "custom-dollhouses", "csat", "1"), 2, "csat takes 2 inputs (satisfied, responses); got 1"),
        (
            ("score", "custom-dollhouses", "csat", "160", "150"),
            1,
            "satisfied (160) must not be more than responses (150)",
        ),
        (("score", "custom-dollhouses", "csat", "many", "150"), 1, "satisfied must be a number; got text 'many'"),
        (("score", "custom-dollhouses", "aov", "100", "0"), 1, "orders must be greater than 0; got 0"),
    ],
)
def test_errors_are_one_line_with_a_status(capsys, argv, status, message):
    code, out, err = run(capsys, *argv)
    assert code == status
    assert out == ""
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_installed_command_exits_2_without_traceback():
    result = subprocess.run(
        [sys.executable, "-m", "nichekpi", "kpis", "bakery"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("nichekpi: unknown business type 'bakery'")


def test_business_file_adds_a_business_type(capsys, tmp_path):
    path = tmp_path / "candles.toml"
    path.write_text(CANDLES, encoding="utf-8")
    status, out, _ = run(capsys, "kpis", "custom-candles", "--json", "--business-file", str(path))
    assert status == 0
    assert json.loads(out)[0]["thresholds"] == {"typical": 0.5, "above_average": None, "exceptional": 0.7}
    status, out, _ = run(capsys, "score", "custom-candles", "repeat", "7", "10", "--business-file", str(path))
    assert (status, out.strip()) == (0, "Repeat customers: 70% (Exceptional)")


def test_broken_business_file_is_a_one_line_error(capsys, tmp_path):
    path = tmp_path / "candles.toml"
    path.write_text(CANDLES.replace('formula = "repeat_rate"', 'formula = "repeat"'), encoding="utf-8")
    status, _, err = run(capsys, "kpis", "--business-file", str(path))
    assert status == 2
    assert "unknown formula 'repeat'; choose one of: csat, nps," in err


CANDLES = """
id = "custom-candles"
name = "Custom candles"

[[kpis]]
id = "repeat"
name = "Repeat customers"
formula = "repeat_rate"
unit = "fraction"
better = "higher"
thresholds = { typical = 0.5, exceptional = 0.7 }
inputs = [
  { id = "repeat_customers", label = "Repeat customers", unit = "customers" },
  { id = "customers", label = "Customers", unit = "customers" },
]
"""


def test_ci_runs_the_readmes_test_command():
    from pathlib import Path

    root = Path(__file__).parent.parent
    readme = (root / "README.md").read_text(encoding="utf-8")
    commands = [line.strip() for line in readme.splitlines() if line.startswith("    python3 -m venv")]
    assert len(commands) == 2, "the quick start is two one-line commands"
    assert commands[1] in (root / ".ci" / "run").read_text(encoding="utf-8")


@pytest.mark.parametrize("text", ["1_000", "١٠", "１０"])
def test_score_takes_numbers_as_the_inputs_table_does_not_as_python_reads_them(capsys, text):
    """Python's int() reads 1_000 and other scripts' digits; a shop owner's number has neither."""
    status, out, err = run(capsys, "score", "custom-dollhouses", "aov", text, "3")
    assert status == 1 and out == ""
    assert err.strip() == f"nichekpi: revenue must be a number; got text {text!r}"


@pytest.mark.parametrize(
    "command",
    [["kpis"], ["kpis", "custom-dollhouses"], ["score", "custom-dollhouses", "csat", "120", "150"], ["--help"]],
)
def test_the_quick_commands_start_without_the_heavy_libraries(command):
    """numpy, DuckDB, openpyxl and xlwings are for ranges, exports and workbooks, not for a look-up."""
    script = (
        "import sys\nfrom nichekpi.cli import main\n"
        f"try:\n    main({command!r})\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('numpy', 'duckdb', 'openpyxl', 'xlwings') if m in sys.modules), file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert result.stderr.strip().splitlines()[-1] == "[]", result.stderr
