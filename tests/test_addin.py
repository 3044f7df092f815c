"""The two ways into Excel: the xlwings Lite bundle and the classic add-in's settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from xlwings.server import custom_functions_meta

from nichekpi import udfs
from nichekpi.addin import XLWINGS_REQUIREMENT, apply_classic, configure_classic, lite_bundle
from nichekpi.cli import main
from tests.test_udfs import NUM, call

ROOT = Path(__file__).parent.parent

# Runs in a fresh interpreter where importing the installed nichekpi is forbidden, so
# the bundle has to bring everything it uses. It prints what xlwings registers and the
# results of a few calls, made the way Excel sends them.
PROBE = textwrap.dedent(
    """
    import asyncio, importlib.abc, importlib.util, json, sys

    class NoInstalledNichekpi(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "nichekpi" or name.startswith("nichekpi."):
                raise ImportError(f"the bundle must not import the installed {name}")
            return None

    sys.meta_path.insert(0, NoInstalledNichekpi())
    import xlwings
    from xlwings.server import custom_functions_call, custom_functions_meta

    spec = importlib.util.spec_from_file_location("main", sys.argv[1])
    main = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(main)

    def call(name, *args):
        data = {"func_name": name, "args": list(args), "version": xlwings.__version__,
                "client": "Office.js", "runtime": "1.4", "caller_address": "Sheet1!B2"}
        return asyncio.run(custom_functions_call(data, main))

    calls = json.loads(sys.argv[2])
    print(json.dumps({
        "meta": custom_functions_meta(main),
        "results": [call(name, *args) for name, args in calls],
    }))
    """
)

CALLS = [
    ("CSAT", [[[120], [5], [None], ["x"]], [[150], [0], [10], [10]]]),
    ("CRR", [[[320]], [[50]], [[300]]]),
    ("NPS", [[[60]], [[20]], [[20]]]),
    ("NPS_FROM_SCORES", [[[10], [9], [None], [8], [6], [10]]]),
    ("CSAT_FROM_RATINGS", [[[5], [4], [3], [2], [5]], None, None]),
    ("KPI_TIER", [[[0.9], [0.5]], [["retention_rate"]], [["custom-dollhouses"]]]),
    ("KPI_BENCHMARK", [[["nps"]], [["soundwave-art"]], [["exceptional"]]]),
    ("KPI_LIST", [[["remote-career-coaching"]]]),
    ("KPI_TIER", [[[0.8], [80], [1.5]], [["csat"]], [["custom-dollhouses"]]]),  # issue 8: impossible values
    ("NPS", [[[1e308], [6]], [[1e308], [2]], [[0], [2]]]),  # issue 8: a sum that overflows
    ("KPI_TIER", [[[0.9], [0.5]], [["retention_rate"]], [["custom-dollhouses"]], [["fr"]]]),
    ("KPI_LIST", [[["remote-career-coaching"]], [["es"]]]),
]


@pytest.fixture(scope="module")
def bundle_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lite")
    (folder / "main.py").write_text(lite_bundle()["main.py"], encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(folder / "main.py"), json.dumps(CALLS)],
        capture_output=True,
        text=True,
        check=False,
        cwd=folder,
        env={**os.environ, "PYTHONPATH": ""},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_lite_bundle_registers_the_same_functions_as_the_package(bundle_run):
    assert bundle_run["meta"] == json.loads(json.dumps(custom_functions_meta(udfs)))


def test_lite_bundle_gives_the_same_results_as_the_package(bundle_run):
    expected = [call(name, *args) for name, args in CALLS]
    assert bundle_run["results"] == json.loads(json.dumps(expected))
    assert bundle_run["results"][1] == [[0.9]]
    assert bundle_run["results"][8] == [["Typical"], [NUM], [NUM]]  # issue 8: impossible values
    assert bundle_run["results"][9] == [[NUM], [40.0]]  # issue 8: a sum that overflows
    assert bundle_run["results"][10] == [["Exceptionnel"], ["En dessous du typique"]]  # the words are bundled too
    assert bundle_run["results"][11][1][1] == "Puntuación de satisfacción del cliente (CSS)"


def test_committed_lite_files_match_the_generator():
    for name, text in lite_bundle().items():
        assert (ROOT / "addin" / "lite" / name).read_text(encoding="utf-8") == text, (
            f"addin/lite/{name} is stale: run `nichekpi addin lite --force`"
        )


def test_lite_requirements_pin_the_tested_xlwings_and_leave_numpy_to_pyodide():
    requirements = lite_bundle()["requirements.txt"].splitlines()
    assert XLWINGS_REQUIREMENT in requirements
    assert "numpy" in requirements
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert XLWINGS_REQUIREMENT in project["dependencies"]


def test_lite_requirements_hold_only_lines_micropip_accepts():
    # micropip hands every line to packaging's Requirement: a comment or blank line is refused there.
    lines = (ROOT / "addin" / "lite" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    assert lines, "addin/lite/requirements.txt is empty"
    parsed = [Requirement(line) for line in lines]
    assert [r.name for r in parsed] == ["xlwings", "numpy"]
    assert str(parsed[0].specifier) == "<0.38,>=0.37"
    assert not str(parsed[1].specifier), "numpy comes with Pyodide and must not be pinned"


def test_lite_bundle_header_explains_the_requirements():
    head = lite_bundle()["main.py"].split('"""')[1]
    assert "requirements.txt holds requirement lines only" in head
    assert "numpy unpinned because it comes with Pyodide" in head


def test_addin_lite_command_refuses_to_overwrite(tmp_path, capsys):
    assert main(["addin", "lite", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "main.py").exists() and (tmp_path / "requirements.txt").exists()
    (tmp_path / "main.py").write_text("# mine", encoding="utf-8")
    assert main(["addin", "lite", "--out", str(tmp_path)]) == 2
    assert "already exist; add --force" in capsys.readouterr().err
    assert (tmp_path / "main.py").read_text(encoding="utf-8") == "# mine"
    assert main(["addin", "lite", "--out", str(tmp_path), "--force"]) == 0
    assert (tmp_path / "main.py").read_text(encoding="utf-8") == lite_bundle()["main.py"]


def test_addin_lite_on_an_up_to_date_bundle_says_so(tmp_path, capsys):
    """As in a fresh clone, whose addin/lite/ is the committed, current bundle."""
    assert main(["addin", "lite", "--out", str(tmp_path)]) == 0
    stamps = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    capsys.readouterr()
    assert main(["addin", "lite", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"{tmp_path / 'main.py'} is up to date" in out and "wrote" not in out
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == stamps


# -- the classic add-in's xlwings.conf ---------------------------------------------------

EXISTING = (
    '"INTERPRETER_WIN","C:\\\\Python311\\\\python.exe"\n'
    '"UDF MODULES","my_udfs;pricing"\n'
    '"SHOW CONSOLE","True"\n'
    '"LICENSE_KEY","abc"\n'
)


def test_classic_config_adds_nichekpi_and_keeps_everything_else():
    change = configure_classic(EXISTING, "C:\\Python311\\python.exe")
    lines = change.text.splitlines()
    assert lines[1] == '"UDF MODULES","my_udfs;pricing;nichekpi.udfs"'
    assert [line for i, line in enumerate(lines) if i != 1] == [
        line for i, line in enumerate(EXISTING.splitlines()) if i != 1
    ]
    assert change.changes == ["UDF Modules: added nichekpi.udfs after my_udfs;pricing"]


def test_classic_config_is_idempotent():
    once = configure_classic(EXISTING, "C:\\Python311\\python.exe").text
    again = configure_classic(once, "C:\\Python311\\python.exe")
    assert again.text == once
    assert again.changes == []


def test_classic_config_never_replaces_a_users_interpreter():
    change = configure_classic('"INTERPRETER_WIN","D:\\\\conda\\\\python.exe"\n', "C:\\Python311\\python.exe")
    assert '"INTERPRETER_WIN","D:\\\\conda\\\\python.exe"' in change.text
    assert "INTERPRETER_WIN" not in "".join(change.changes)
    assert any("nichekpi must be installed for that Python" in note for note in change.notes)


def test_classic_config_on_a_fresh_machine():
    change = configure_classic("", "C:\\Python311\\python.exe")
    assert change.text == '"UDF MODULES","nichekpi.udfs"\n"INTERPRETER_WIN","C:\\Python311\\python.exe"\n'


def test_classic_command_writes_with_a_backup_and_dry_run_writes_nothing(tmp_path, capsys):
    config = tmp_path / "xlwings.conf"
    config.write_text(EXISTING, encoding="utf-8")
    assert main(["addin", "classic", "--config", str(config), "--dry-run"]) == 0
    assert config.read_text(encoding="utf-8") == EXISTING
    assert "would change UDF Modules" in capsys.readouterr().out
    assert main(["addin", "classic", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "Import Functions" in out and "xlwings addin install" in out
    assert (tmp_path / "xlwings.conf.bak").read_text(encoding="utf-8") == EXISTING
    assert '"UDF MODULES","my_udfs;pricing;nichekpi.udfs"' in config.read_text(encoding="utf-8")


def test_classic_config_file_is_created_when_missing(tmp_path):
    config = tmp_path / ".xlwings" / "xlwings.conf"
    apply_classic(config, "/usr/bin/python3")
    assert config.read_text(encoding="utf-8").startswith('"UDF MODULES","nichekpi.udfs"')
    assert not (tmp_path / ".xlwings" / "xlwings.conf.bak").exists()
