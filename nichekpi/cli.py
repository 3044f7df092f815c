"""The ``nichekpi`` command line: a thin layer over the catalog and the formulas."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from nichekpi._formula import NUMBER_TEXT
from nichekpi.catalog import (
    LANGUAGES,
    TIER_KEYS,
    TIERS,
    Business,
    Catalog,
    Kpi,
    default_catalog,
    load_business_file,
    tier_names,
    with_business_files,
    words,
)
from nichekpi.errors import CatalogError, KpiError, KpiInputError, UnknownNameError

USAGE_ERROR = 2  #: unknown names, wrong number of arguments (as argparse does)
INPUT_ERROR = 1  #: well-formed command, values a formula cannot use
INTERNAL_ERROR = 70  #: a bug of ours (EX_SOFTWARE): reported on one line, asking for a report
INTERRUPTED = 130  #: Ctrl+C, as shells report SIGINT


class CommandError(Exception):
    """A problem to report on one line, with the exit status to use."""

    def __init__(self, message: str, status: int = USAGE_ERROR):
        super().__init__(message)
        self.status = status


def kpi_record(kpi: Kpi) -> dict[str, object]:
    """One KPI as the JSON object of ``nichekpi kpis BUSINESS --json``."""
    return {
        "id": kpi.id,
        "name": kpi.name,
        "function": kpi.function,
        "unit": kpi.unit.id,
        "better": kpi.better,
        "thresholds": {key: kpi.thresholds[key] for key in TIER_KEYS},
    }


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _business_table(catalog: Catalog) -> str:
    rows = [("BUSINESS", "NAME", "KPIS", "SOURCE")]
    for business in catalog:
        source = business.source
        when = f", {source.published.isoformat()}" if source.published else ""
        rows.append((business.id, business.name, str(len(business.kpis)), f"{source.language}{when}".strip(", ")))
    return _table(rows)


def _kpi_table(business: Business) -> str:
    lang = business.language
    if lang == "en":
        rows = [("KPI", "NAME", "EXCEL FUNCTION", "UNIT", "BETTER", "TYPICAL", "ABOVE AVG", "EXCEPTIONAL")]
    else:
        rows = [tuple(title.upper() for title in words(lang)["kpi_list"]["header"])]
    directly = words(lang)["kpi_list"]["entered_directly"].strip("()")
    for kpi in business.kpis:
        arguments = ", ".join(i.id for i in kpi.inputs)
        function = f"{kpi.function}({arguments})" if kpi.function else f"{directly} ({arguments})"
        rows.append(
            (
                kpi.id,
                kpi.name,
                function,
                kpi.unit.label,
                words(lang)["better"][kpi.better],
                *(kpi.unit.format(kpi.thresholds[key], label=False) for key in TIER_KEYS),
            )
        )
    return f"{business.name} ({business.id})\n\n{_table(rows)}"


def _number_argument(text: str) -> object:
    """A command-line input as a number; text that is no number is passed on for the formula to reject.

    A number is written as the inputs table of ``refresh`` takes it (``NUMBER_TEXT``): ``1_000``
    or digits of another script are text, though Python's ``int`` would read them.
    """
    if not NUMBER_TEXT.fullmatch(text.strip()):
        return text
    try:
        return int(text)
    except ValueError:
        return float(text)


def _out_folder(folder: Path) -> None:
    """Refuse an ``--out`` that is not a folder before anything is written."""
    if folder.exists() and not folder.is_dir():
        raise CommandError(f"--out {folder} is a file, not a folder; give a folder to write into")


def _cannot_write(path: Path, error: OSError) -> CommandError:
    reason = error.strerror or str(error)
    return CommandError(f"cannot write {path}: {reason}", INPUT_ERROR)


def _printable(text: str) -> str:
    """Text read from a file with bytes that are not UTF-8 kept as they were, shown as \\xe9."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _catalog(args: argparse.Namespace) -> Catalog:
    try:
        return with_business_files(args.business_file) if args.business_file else default_catalog()
    except CatalogError as error:
        raise CommandError(str(error)) from None


def cmd_kpis(args: argparse.Namespace) -> None:
    catalog = _catalog(args)
    if args.business is None:
        catalog = Catalog(b.in_language(args.lang or "en") for b in catalog)
        if args.json:
            records = [{"id": b.id, "name": b.name, "kpis": [k.id for k in b.kpis]} for b in catalog]
            print(json.dumps(records, indent=2, ensure_ascii=False))
        else:
            print(_business_table(catalog))
        return
    business = catalog.business(args.business).in_language(args.lang or "en")
    if args.json:
        print(json.dumps([kpi_record(k) for k in business.kpis], indent=2, ensure_ascii=False))
    else:
        print(_kpi_table(business))


def cmd_score(args: argparse.Namespace) -> None:
    kpi = _catalog(args).kpi(args.business, args.kpi).in_language(args.lang or "en")
    names = [i.id for i in kpi.inputs]
    if len(args.inputs) != len(names):
        raise CommandError(f"{kpi.id} takes {len(names)} inputs ({', '.join(names)}); got {len(args.inputs)}")
    try:
        value = kpi.compute(*(_number_argument(text) for text in args.inputs))
    except KpiInputError as error:
        raise CommandError(str(error), INPUT_ERROR) from None
    try:
        tier = kpi.tier(value)
    except KpiInputError as error:  # valid inputs, impossible result: a mean rating of 100 on a score out of 10
        raise CommandError(
            f"these inputs give {kpi.id} {_shown(value)}, which it cannot be: {error}", INPUT_ERROR
        ) from None
    tier = tier_names(kpi.language)[TIERS.index(tier)]
    if args.json:
        print(json.dumps({"id": kpi.id, "value": value, "unit": kpi.unit.id, "tier": tier}))
    else:
        print(f"{kpi.name}: {kpi.unit.format(value)} ({tier})")


def _holds(path: Path, text: str) -> bool:
    """Whether the file at ``path`` already holds exactly ``text``."""
    try:
        return path.read_text(encoding="utf-8") == text
    except (OSError, UnicodeDecodeError):
        return False


def cmd_addin_lite(args: argparse.Namespace) -> None:
    from nichekpi._files import write_text
    from nichekpi.addin import lite_bundle

    files = lite_bundle()
    _out_folder(args.out)
    targets = {name: args.out / name for name in files}
    stale = {name: path for name, path in targets.items() if not _holds(path, files[name])}
    existing = [str(path) for path in stale.values() if path.exists()]
    if existing and not args.force:
        raise CommandError(f"{', '.join(existing)} already exist; add --force to replace them")
    for name, path in targets.items():
        if name in stale:
            try:
                write_text(path, files[name])
            except OSError as error:
                raise _cannot_write(path, error) from None
            print(f"wrote {path}")
        else:
            print(f"{path} is up to date")
    print(
        "In Excel: open xlwings Lite (Home tab), paste main.py into the editor and requirements.txt "
        "into its requirements.txt tab; then type =CSAT(120,150) in a cell."
    )


def cmd_addin_classic(args: argparse.Namespace) -> None:
    from nichekpi.addin import CLASSIC_STEPS, apply_classic, default_config_path

    path = args.config or default_config_path()
    if args.interpreter is not None and ('"' in args.interpreter or not args.interpreter.isprintable()):
        raise CommandError(f"--interpreter must be a path without quotes or line breaks; got {args.interpreter!r}")
    if path.is_dir():
        raise CommandError(f"--config {path} is a folder; give the path of an xlwings.conf file")
    try:
        change = apply_classic(path, args.interpreter, dry_run=args.dry_run)
    except OSError as error:
        raise CommandError(
            f"{path}: cannot update it: {error.strerror or error}; the file was not changed", INPUT_ERROR
        ) from None
    verb = "would change" if args.dry_run else "changed"
    for line in change.changes:
        print(f"{path}: {verb} {_printable(line)}")
    for line in change.notes:
        print(f"{path}: note: {_printable(line)}")
    if not change.changes:
        print(f"{path}: nothing to change")
    print()
    print(CLASSIC_STEPS, end="")


def cmd_templates(args: argparse.Namespace) -> None:
    import datetime as dt

    from nichekpi.workbook import build_workbook, example_values, money, save_atomically

    catalog = _catalog(args)
    if args.business:
        businesses = [catalog.business(b) for b in args.business]
    elif args.business_file:
        builtin = set(default_catalog().ids)
        businesses = [b for b in catalog if b.id not in builtin]
    else:
        businesses = list(default_catalog())
    year = args.year or dt.date.today().year
    if not 1901 <= year <= 9999:
        raise CommandError(
            f"--year must be a year from 1901 (Excel's dates start in 1900) to 9999, such as {dt.date.today().year}; "
            f"got {year}"
        )
    _out_folder(args.out)
    targets = {b.id: args.out / f"{b.id}.xlsx" for b in businesses}
    existing = [str(path) for path in targets.values() if path.exists()]
    if existing and not args.force:
        raise CommandError(f"{', '.join(existing)} already exist; add --force to replace them")
    try:
        money(args.currency, args.lang or "en")
    except KpiInputError as error:
        raise CommandError(f"--currency: {error}") from None
    for business in businesses:
        values = example_values(business) if args.example else None
        workbook = build_workbook(business, year, values, lang=args.lang or business.lang, currency=args.currency)
        try:
            save_atomically(workbook, targets[business.id])
        except OSError as error:
            raise _cannot_write(targets[business.id], error) from None
        print(f"wrote {targets[business.id]}")


def cmd_check_business(args: argparse.Namespace) -> None:
    try:
        business = load_business_file(args.file)
    except CatalogError as error:
        raise CommandError(str(error)) from None
    missing = business.missing_translations()
    for line in missing:
        print(f"{args.file}: no translation: {line} (shown in English)")
    if not missing:
        print(f"{args.file}: {business.id} is valid and has every text in {', '.join(LANGUAGES)}")


def _shown(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return str(value)


def cmd_refresh(args: argparse.Namespace) -> None:
    from nichekpi.exports import printable
    from nichekpi.refresh import apply, plan, transaction

    try:
        with contextlib.ExitStack() as stack:
            if not args.dry_run:
                stack.enter_context(transaction(args.workbook))
            _refresh(args, plan, apply)
    except KpiError as error:
        # A file's name or text may hold terminal escape sequences: shown escaped, on one line.
        raise CommandError(printable(f"{error} (the workbook was not changed)"), INPUT_ERROR) from None


def _refresh(args: argparse.Namespace, plan, apply) -> None:
    from nichekpi.exports import parse_column_map, printable
    from nichekpi.platforms import ORDER_ROLES, SURVEY_ROLES

    result = plan(
        args.workbook,
        inputs=args.inputs,
        orders=args.orders,
        survey=args.survey,
        months=args.months,
        order_columns=parse_column_map(args.order_columns, ORDER_ROLES, identity=False),
        survey_columns=parse_column_map(args.survey_columns, SURVEY_ROLES, identity=False),
        survey_scale=args.survey_scale,
        catalog=_catalog(args),
        overwrite_formulas=args.overwrite_formulas,
        orders_format=args.orders_format,
        survey_format=args.survey_format,
        survey_question=args.survey_question,
        decimal=args.decimal,
        date_format=args.date_format,
    )
    for note in result.notes:
        print(printable(note))
    for skipped in result.skipped:
        print(printable(f"nichekpi: warning: {skipped}"), file=sys.stderr)
    rows = [("MONTH", "INPUT", "OLD", "NEW", "FROM")]
    rows += [(c.month, c.name, printable(_shown(c.old)), _shown(c.new), printable(c.source)) for c in result.changes]
    if result.changes:
        print(_table(rows))
    print(f"{len(result.changes)} values to write, {result.unchanged} already there")
    if result.unfilled:
        print(f"not filled, no file gave their inputs: {', '.join(result.unfilled)}")
    if result.outside:
        print(f"left out, not months of this workbook: {', '.join(result.outside)}")
    for incomplete in result.incomplete:
        print(f"incomplete: {incomplete}")
    if args.dry_run:
        print("dry run: the workbook was not changed")
        return
    backup = apply(result)
    if backup:
        print(printable(f"wrote {args.workbook} (the previous version is {backup})"))


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser; with ``command``, only that command's own arguments are declared.

    Every command is still listed, with its help, and the named one parses as without
    ``command``; leaving out the other commands' options (refresh has twenty) saves
    their declaration on each start. :func:`main` passes the command its arguments
    name, or ``""`` when they name none (``--help``, or a mistyped command: then no
    command's own parser is used).
    """

    def full(name: str) -> bool:
        return command is None or command == name

    parser = argparse.ArgumentParser(
        prog="nichekpi",
        description="KPIs and industry benchmarks for small custom-made businesses, for Excel.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    catalog_options = argparse.ArgumentParser(add_help=False)
    catalog_options.add_argument(
        "--business-file",
        action="append",
        default=[],
        metavar="FILE",
        help="also load your own business type from this TOML file (may be repeated)",
    )

    lang_option = argparse.ArgumentParser(add_help=False)
    lang_option.add_argument(
        "--lang",
        choices=LANGUAGES,
        help="language of names, labels and tiers (default: en, or a business file's lang for templates)",
    )

    kpis = commands.add_parser(
        "kpis", parents=[catalog_options, lang_option], help="list the business types, or one business type's KPIs"
    )
    if full("kpis"):
        kpis.add_argument("business", nargs="?", metavar="BUSINESS", help="a business type id, e.g. custom-dollhouses")
        kpis.add_argument("--json", action="store_true", help="print JSON instead of a table")
    kpis.set_defaults(handler=cmd_kpis)

    score = commands.add_parser(
        "score", parents=[catalog_options, lang_option], help="compute one KPI and its benchmark tier"
    )
    if full("score"):
        score.add_argument("business", metavar="BUSINESS", help="a business type id, e.g. custom-dollhouses")
        score.add_argument("kpi", metavar="KPI", help="a KPI id of that business type, e.g. retention_rate")
        score.add_argument("inputs", nargs="*", metavar="INPUT", help="the KPI's inputs, in order")
        score.add_argument("--json", action="store_true", help="print JSON instead of a sentence")
    score.set_defaults(handler=cmd_score)

    templates = commands.add_parser(
        "templates", parents=[catalog_options, lang_option], help="write the template workbooks, one per business type"
    )
    if full("templates"):
        templates.add_argument(
            "--business", action="append", metavar="ID", help="only this business type (may be repeated; default: all)"
        )
        templates.add_argument(
            "--out", type=Path, default=Path("templates"), help="folder to write to (default: templates)"
        )
        templates.add_argument("--example", action="store_true", help="fill the first month with the article's example")
        templates.add_argument("--year", type=int, help="the year of the twelve months (default: this year)")
        templates.add_argument("--force", action="store_true", help="replace workbooks that are already there")
        templates.add_argument(
            "--currency", default="USD", help="ISO code of the money shown, e.g. EUR (default: USD, as the benchmarks)"
        )
    templates.set_defaults(handler=cmd_templates)

    check = commands.add_parser(
        "check-business", help="check your business-type file and list the texts it has no translation for"
    )
    if full("check-business"):
        check.add_argument("file", type=Path, metavar="FILE", help="a business-type TOML file")
    check.set_defaults(handler=cmd_check_business)

    refresh = commands.add_parser(
        "refresh", parents=[catalog_options], help="fill a template's inputs from your monthly files"
    )
    if full("refresh"):
        refresh.add_argument("workbook", type=Path, metavar="WORKBOOK", help="a workbook made by nichekpi templates")
        refresh.add_argument("--inputs", type=Path, metavar="FILE", help="monthly inputs table (CSV or XLSX)")
        refresh.add_argument("--orders", type=Path, metavar="FILE", help="order export (CSV, XLSX or Parquet)")
        refresh.add_argument(
            "--survey", type=Path, metavar="FILE", help="survey answers: date and score (CSV, XLSX, Parquet)"
        )
        refresh.add_argument("--months", metavar="FIRST..LAST", help="only these months, e.g. 2026-01..2026-06")
        refresh.add_argument(
            "--orders-format",
            choices=("generic", "shopify", "etsy", "woocommerce", "square"),
            help="the shop platform the order export comes from (default: found from its columns)",
        )
        refresh.add_argument(
            "--order-columns",
            metavar="MAP",
            help="your export's column names, e.g. 'order_id=Order Number,amount=Total' "
            "(expected: order_id, customer_id, order_date, amount, and optionally promised_date, delivered_date; "
            "on top of a platform's format also email, order_time, adjusted, refunded, currency)",
        )
        refresh.add_argument(
            "--survey-format",
            choices=("generic", "google-forms", "typeform"),
            help="the survey tool the answers come from (default: found from the columns)",
        )
        refresh.add_argument(
            "--survey-question",
            metavar="QUESTION",
            help="the question to count in a survey tool's file: its text, the start of it, or its column letter",
        )
        refresh.add_argument(
            "--survey-columns", metavar="MAP", help="e.g. 'date=Submitted,score=Rating' (expected: date, score)"
        )
        refresh.add_argument(
            "--survey-scale",
            choices=("1-5", "1-10", "0-10"),
            help="the survey's answer scale (default: read from the answers; asked when 1-10 and 0-10 both fit)",
        )
        refresh.add_argument(
            "--decimal",
            choices=(".", ","),
            help="the files' decimal separator, when their numbers read both ways (1,234)",
        )
        refresh.add_argument(
            "--date-format",
            choices=("yyyy-mm-dd", "dd/mm/yyyy", "mm/dd/yyyy"),
            help="the order of day and month in the files' dates, when they read both ways (03/04/2026)",
        )
        refresh.add_argument("--dry-run", action="store_true", help="show the changes without writing")
        refresh.add_argument(
            "--overwrite-formulas",
            action="store_true",
            help="replace a formula typed into an input cell (without it, such a cell is left alone with a warning)",
        )
    refresh.set_defaults(handler=cmd_refresh)

    addin = commands.add_parser("addin", help="set up the Excel functions (classic Windows add-in or xlwings Lite)")
    if full("addin"):
        ways = addin.add_subparsers(dest="way", required=True, metavar="WAY")
        lite = ways.add_parser("lite", help="write main.py and requirements.txt to paste into xlwings Lite")
        lite.add_argument(
            "--out", type=Path, default=Path("addin/lite"), help="folder to write to (default: addin/lite)"
        )
        lite.add_argument("--force", action="store_true", help="replace files that are already there")
        lite.set_defaults(handler=cmd_addin_lite)
        classic = ways.add_parser(
            "classic", help="add nichekpi.udfs to the classic xlwings add-in's UDF Modules, and print the steps"
        )
        classic.add_argument(
            "--config", type=Path, help="the xlwings.conf to update (default: the add-in's user config)"
        )
        classic.add_argument("--interpreter", help="Python for the add-in if none is set (default: this one)")
        classic.add_argument("--dry-run", action="store_true", help="show the changes without writing")
        classic.set_defaults(handler=cmd_addin_classic)
    return parser


_COMMANDS = ("kpis", "score", "templates", "check-business", "refresh", "addin")


def _command(argv: Sequence[str]) -> str:
    """The command the arguments name: the first one that is not an option (nichekpi's own
    options, --help and --version, take no value); ``""`` when that is no command."""
    first = next((argument for argument in argv if not argument.startswith("-")), "")
    return first if first in _COMMANDS else ""


def _version() -> str:
    from nichekpi import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser(_command(sys.argv[1:] if argv is None else argv)).parse_args(argv)
        args.handler(args)
        sys.stdout.flush()  # a full disk under the output is reported here, not at exit
    except UnknownNameError as error:
        print(f"nichekpi: {error}", file=sys.stderr)
        return USAGE_ERROR
    except CommandError as error:
        print(f"nichekpi: {error}", file=sys.stderr)
        return error.status
    except BrokenPipeError:  # the reader (head, less) stopped early: not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except OSError as error:  # the system refused (output to a full disk): not a bug to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second failure at exit
        where = f"{error.filename}: " if error.filename else "cannot write the output: "
        print(f"nichekpi: {where}{error.strerror or error}", file=sys.stderr)
        return INPUT_ERROR
    except KeyboardInterrupt:
        return INTERRUPTED
    except Exception as error:  # noqa: BLE001 - the last resort: every known case has its own message above
        print(f"nichekpi: internal error: {_one_line(error)}; please report it", file=sys.stderr)
        return INTERNAL_ERROR
    return 0


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    text = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return text if len(text) <= 300 else text[:297] + "..."


if __name__ == "__main__":
    sys.exit(main())
