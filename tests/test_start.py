"""What makes the quick commands start fast gives the same answers: formulas compiled on first
use, the catalog's TOML files read from ``data/parsed.cache``, a parser built for one command."""

from __future__ import annotations

import inspect
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tomllib
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

import nichekpi
from nichekpi import _datacache, catalog, cli, formulas
from nichekpi._formula import formula
from nichekpi.errors import KpiInputError
from nichekpi.formulas import FORMULAS

LAZY = ("_parsed", "expression", "rules", "denominators", "kernel", "accept")


# -- formulas compiled on first use ------------------------------------------------------


def _ratio():
    @formula("part / whole", excel="RATIO", whole=("part", "whole"), rules=(("part <= whole", "a part of it"),))
    def ratio(part: float, whole: float) -> float:
        """A part of a whole."""

    return ratio


def test_a_formula_compiles_nothing_until_it_is_used_and_then_words_every_error():
    ratio = _ratio()
    spec = ratio.formula
    assert not set(LAZY) & set(vars(spec))  # declared only
    assert ratio(1, 4) == 0.25
    with pytest.raises(KpiInputError, match=r"^part \(5\) must not be more than whole \(4\): a part of it$"):
        ratio(5, 4)
    with pytest.raises(KpiInputError, match=r"^whole must be greater than 0; got 0$"):
        ratio(0, 0)
    with pytest.raises(KpiInputError, match=r"^part must be a whole number \(it counts something\); got 1.5$"):
        ratio(1.5, 4)
    with pytest.raises(KpiInputError, match=r"^part must be a number; got text 'x'$"):
        spec.validate(["x", 4])
    with pytest.raises(TypeError):  # Python words a wrong call, through the declared signature
        ratio(1, 2, 3)
    assert ratio(whole=4, part=2) == 0.5
    assert spec.expression == "part / whole"
    assert spec.spreadsheet_checks(["A1", "B1"]) == ["A1>=0", "B1>=0", "INT(A1)=A1", "INT(B1)=B1", "B1>0", "A1<=B1"]


def test_each_part_is_built_once():
    spec = _ratio().formula
    assert spec.accept is spec.accept and spec.rules is spec.rules and spec.kernel is spec.kernel


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_every_declared_formula_compiles_and_keeps_its_declared_signature(name):
    spec = FORMULAS[name]
    for part in LAZY:
        getattr(spec, part)
    function = getattr(formulas, name)
    assert spec.params == tuple(inspect.signature(function).parameters)


@pytest.mark.parametrize(
    ("expression", "rules", "message"),
    [
        ("part / other", (), "'part / other' uses 'other', which is not one of ['part', 'whole']"),
        ("part ** whole", (), "'part ** whole': only + - * / are allowed"),
        ("part / 'whole'", (), "\"part / 'whole'\": only numbers may appear as constants"),
        ("part / whole", ("part < whole",), "rule 'part < whole' must have the form 'part <= whole'"),
    ],
)
def test_a_declaration_that_is_no_formula_is_refused_before_anything_is_compiled(expression, rules, message):
    @formula(expression, excel=None, rules=rules)
    def bad(part: float, whole: float) -> float:
        """Not a formula."""

    for part in LAZY:  # whichever part is asked for first
        with pytest.raises(ValueError, match="^" + __import__("re").escape(message) + "$"):
            getattr(bad.formula, part)


def test_formula_inputs_must_still_be_plain_positional_parameters():
    with pytest.raises(ValueError, match="formula inputs must be plain positional parameters"):

        @formula("a", excel=None)
        def star(*a: float) -> float:
            """Not plain."""

    with pytest.raises(ValueError, match="formula inputs must be plain positional parameters"):

        @formula("a", excel=None)
        def keyword(*, a: float) -> float:
            """Not plain."""

    with pytest.raises(ValueError, match="whole inputs \\['b'\\] are not parameters of only_a"):

        @formula("a", excel=None, whole=("b",))
        def only_a(a: float) -> float:
            """Not whole."""


def test_the_package_names_are_those_of_its_modules():
    namespace: dict[str, object] = {}
    exec("from nichekpi import *", namespace)  # noqa: S102
    assert set(nichekpi.__all__) <= set(namespace)
    assert nichekpi.csat is formulas.csat and nichekpi.default_catalog is catalog.default_catalog
    with pytest.raises(AttributeError, match="module 'nichekpi' has no attribute 'nothing'"):
        nichekpi.nothing  # noqa: B018


# -- the parsed catalog ----------------------------------------------------------------


def _texts(folder: Path) -> dict[str, str]:
    return {name: (folder / name).read_text(encoding="utf-8") for name in catalog.cached_data_names()}


def test_the_committed_cache_is_made_from_the_data_files_as_they_are():
    folder = Path(catalog.data_folder())
    assert (folder / _datacache.NAME).read_bytes() == _datacache.build(_texts(folder)), (
        "run: python -m nichekpi._datacache"
    )


def _usable(path: Path) -> bool:
    """Whether the cache at ``path`` is read (it then gives the built-in units.toml)."""
    text = (Path(catalog.data_folder()) / "units.toml").read_text(encoding="utf-8")
    return _datacache.Cache(path).parsed("units.toml", text) is not None


def test_the_cache_gives_what_tomllib_gives_for_every_file():
    folder = Path(catalog.data_folder())
    cache = _datacache.Cache(folder / _datacache.NAME)
    for name, text in _texts(folder).items():
        parsed = cache.parsed(name, text)
        assert parsed is not None, name
        assert repr(parsed) == repr(tomllib.loads(text)), name  # same types, values and order


def test_an_entry_is_handed_out_once():
    folder = Path(catalog.data_folder())
    cache = _datacache.Cache(folder / _datacache.NAME)
    text = (folder / "units.toml").read_text(encoding="utf-8")
    assert cache.parsed("units.toml", text) is not None
    assert cache.parsed("units.toml", text) is None


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """A copy of the package's data folder, which the catalog reads instead of its own."""
    folder = tmp_path / "data"
    shutil.copytree(Path(catalog.data_folder()), folder)
    monkeypatch.setattr(catalog, "data_folder", lambda: folder)
    monkeypatch.setattr(catalog, "_CACHE", None)
    monkeypatch.setattr(catalog, "_DEFAULT", None)
    monkeypatch.setattr(catalog, "_WORDS", {})
    return folder


def _csat_typical() -> float:
    return catalog.default_catalog().kpi("custom-dollhouses", "csat").thresholds["typical"]


def test_a_data_file_changed_after_the_cache_was_made_is_parsed(data_copy):
    path = data_copy / "businesses" / "custom-dollhouses.toml"
    text = path.read_text(encoding="utf-8")
    before = _csat_typical()
    data = tomllib.loads(text)
    csat = next(k for k in data["kpis"] if k["id"] == "csat")
    old = f"typical = {csat['thresholds']['typical']}"
    assert text.count(old) == 1
    path.write_text(text.replace(old, "typical = 0.71"), encoding="utf-8")
    catalog._CACHE, catalog._DEFAULT = None, None
    assert before != 0.71 and _csat_typical() == 0.71


def test_a_changed_words_file_is_parsed(data_copy):
    path = data_copy / "words.es.toml"
    text = path.read_text(encoding="utf-8")
    assert text.count('"Exceptional" = "Excepcional"') == 1
    path.write_text(text.replace('"Exceptional" = "Excepcional"', '"Exceptional" = "Sobresaliente"'), encoding="utf-8")
    assert catalog.tier_names("es")[3] == "Sobresaliente"


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data.replace(b'"typical": 0.', b'"typical": 1.', 1),  # a value changed: the CRC no longer matches
        lambda data: data.replace(b'"text": [0, ', b'"text": [1, ', 1),  # the index changed
        lambda data: data[: len(data) // 2],  # cut short
        lambda data: data + b" ",
        lambda data: b"",
        lambda data: b"not a cache\n{}\n",
        lambda data: data.replace(b"crc32 ", b"crc32 zz", 1),
        lambda data: data.replace(b"layout 2", b"layout 9", 1),
        lambda data: b"\xff\xfe not UTF-8" + data,
    ],
)
def test_a_damaged_cache_is_not_read(data_copy, damage):
    expected = _csat_typical()
    path = data_copy / _datacache.NAME
    assert _usable(path)
    damaged = damage(path.read_bytes())
    assert damaged != path.read_bytes()
    path.write_bytes(damaged)
    assert not _usable(path)
    catalog._CACHE, catalog._DEFAULT = None, None
    assert _csat_typical() == expected


def test_a_cache_with_a_matching_crc_is_still_not_believed_over_the_files(data_copy):
    """Even a cache made consistently from other texts cannot stand for files it was not made from."""
    path = data_copy / _datacache.NAME
    texts = _texts(data_copy)
    name = "businesses/custom-dollhouses.toml"
    other = texts[name].replace("[[kpis]]", "# a comment\n[[kpis]]", 1)
    path.write_bytes(_datacache.build({**texts, name: other}))
    cache = _datacache.Cache(path)
    assert cache.parsed(name, texts[name]) is None  # not the text it was made from: parsed instead
    assert _datacache.Cache(path).parsed(name, other) is not None


def test_line_ends_of_windows_or_no_cache_at_all_still_give_the_catalog(data_copy):
    expected = _csat_typical()
    path = data_copy / _datacache.NAME
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))  # a checkout that turned line ends to CRLF
    assert _usable(path)  # still read, as Python reads the TOML files themselves
    catalog._CACHE, catalog._DEFAULT = None, None
    assert _csat_typical() == expected
    path.unlink()
    assert not _usable(path)
    catalog._CACHE, catalog._DEFAULT = None, None
    assert _csat_typical() == expected


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write anywhere")
def test_a_read_only_installation_reads_the_cache_and_writes_nothing(data_copy):
    for path in [data_copy, *data_copy.rglob("*")]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        before = sorted(p.name for p in data_copy.rglob("*"))
        assert (
            _csat_typical()
            == catalog.catalog_from_texts(*catalog.builtin_texts())
            .kpi("custom-dollhouses", "csat")
            .thresholds["typical"]
        )
        assert sorted(p.name for p in data_copy.rglob("*")) == before
    finally:
        for path in [data_copy, *data_copy.rglob("*")]:
            path.chmod(path.stat().st_mode | stat.S_IWUSR)


def test_loading_the_catalog_opens_no_file_for_writing(data_copy, monkeypatch):
    """As in a read-only installation, which the test above cannot make for root."""
    real_open = io.open

    def read_only(file, mode="r", *args, **kwargs):
        if set(mode) & set("wax+"):
            raise PermissionError(13, "Read-only file system", str(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(io, "open", read_only)
    monkeypatch.setattr("builtins.open", read_only)
    assert catalog.default_catalog().kpi("custom-dollhouses", "csat").compute(120, 150) == 0.8
    assert catalog.tier_names("fr")[0] == "En dessous du typique"


def test_the_cache_is_only_read(data_copy):
    path = data_copy / _datacache.NAME
    before = (path.stat().st_mtime_ns, path.read_bytes())
    catalog.default_catalog()
    catalog.words("fr")
    assert (path.stat().st_mtime_ns, path.read_bytes()) == before


def test_the_catalog_from_the_cache_is_the_catalog_from_the_files():
    from_files = catalog.catalog_from_texts(*catalog.builtin_texts())
    assert list(catalog.default_catalog()) == list(from_files)
    assert [b.origin for b in catalog.default_catalog()] == [b.origin for b in from_files]


def test_score_reads_no_toml_and_compiles_the_fast_path_of_its_formula_only():
    script = (
        "import sys\nfrom nichekpi.cli import main\n"
        "main(['score', 'custom-dollhouses', 'csat', '120', '150'])\n"
        "from nichekpi.formulas import FORMULAS\n"
        "print('tomllib' in sys.modules, [n for n, f in FORMULAS.items() if 'accept' in vars(f)], file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert result.stdout == "Customer satisfaction score (CSAT): 80% (Typical)\n"
    assert result.stderr.strip().splitlines()[-1] == "False ['csat']", result.stderr


# -- a parser built for one command -------------------------------------------------------


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as exit:
            code = exit.code
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    "command",
    ["kpis", "score", "templates", "check-business", "refresh", "addin"],
)
def test_a_parser_built_for_one_command_parses_and_helps_as_the_whole_one(command, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    whole, one = cli.build_parser(), cli.build_parser(command)
    for argv in ([command, "--help"], ["--help"], ["addin", "lite", "--help"], ["addin", "classic", "--help"]):
        if argv[0] not in ("--help", command):
            continue
        outputs = []
        for parser in (whole, one):
            out = io.StringIO()
            with redirect_stdout(out), pytest.raises(SystemExit):
                parser.parse_args(argv)
            outputs.append(out.getvalue())
        assert outputs[0] == outputs[1], argv
    assert cli._command([command, "x"]) == command
    assert cli._command(["--help"]) == "" and cli._command(["bogus", "kpis"]) == ""


@pytest.mark.parametrize(
    "argv",
    [
        ["kpis", "--json"],
        ["kpis", "custom-dollhouses", "--lang", "fr"],
        ["score", "custom-dollhouses", "csat", "120", "150", "--json"],
        ["score", "custom-dollhouses", "csat", "160", "150"],
        ["kpis", "--nope"],
        ["bogus"],
        [],
        ["-", "kpis"],
        ["--", "kpis"],
        ["refresh"],
        ["addin"],
    ],
)
def test_main_answers_as_with_the_whole_parser(argv, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    ours = _run(argv)
    monkeypatch.setattr(cli, "_command", lambda argv: None)  # the whole parser, every command's arguments
    assert _run(argv) == ours
    json.dumps(ours)  # plain values
