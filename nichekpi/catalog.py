"""The catalog: business types, their KPIs, inputs, units, directions and thresholds.

This is the single source of truth. The data lives in TOML files (one per business
type, under ``nichekpi/data/businesses/``, plus ``units.toml``); this module loads and
checks them and answers questions about them. A user describes one more business
type in a file of the same shape and loads it with :func:`load_business_file` or
``nichekpi ... --business-file FILE``; the README's "Your own business type" shows one.

Only the standard library and the formula registry are used here, so the catalog
also runs inside xlwings Lite (Pyodide).
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nichekpi._formula import Formula, show
from nichekpi._problem import Problem
from nichekpi.errors import CatalogError, KpiInputError, UnknownNameError
from nichekpi.formulas import FORMULAS

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    import numpy as np

TIER_KEYS = ("typical", "above_average", "exceptional")
"""Threshold keys, from the lowest tier that has a threshold to the highest."""

TIERS = ("Below typical", "Typical", "Above average", "Exceptional")
"""Tier names, from worst to best (the English ones are also the keys of the other languages' names)."""

LANGUAGES = ("en", "es", "fr")
"""The languages of the workbooks, the command line and the Excel functions (``data/words.<lang>.toml``)."""


EXPORT_METRICS = {
    "orders.revenue": "the amounts of the month's orders, added up",
    "orders.count": "orders placed in the month",
    "orders.completed": "orders delivered in the month (orders placed, when the export has no delivery dates)",
    "orders.customers": "customers who ordered in the month",
    "orders.repeat_customers": "of those, customers who had ordered before, or ordered twice in the month",
    "orders.deliveries": "orders delivered in the month that had a promised date",
    "orders.on_time": "of those, orders delivered on or before the promised date",
    "survey.responses": "survey answers in the month",
    "survey.satisfied": "answers at or above 4 of 5 (8 of 10) on a 1-5 or 1-10 survey",
    "survey.rating_sum": "the scores of the month's answers, added up",
    "survey.promoters": "answers of 9 or 10 on a 0-10 survey",
    "survey.passives": "answers of 7 or 8 on a 0-10 survey",
    "survey.detractors": "answers of 0 to 6 on a 0-10 survey",
}
"""Figures ``nichekpi refresh`` computes per month from raw exports; an input's ``export`` names one."""
BETTER = ("higher", "lower")

_INPUT_TEXTS = ("label", "unit", "help")

_BUSINESS_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_NAME_ID = re.compile(r"^[a-z][a-z0-9_]*$")

MAX_FILE_SIZE = 1_000_000
"""The largest business-type file read, in bytes (the built-in ones are under 10 kB)."""

MAX_ID_LENGTH = 64
"""The longest business, KPI or input id. What breaks first without a limit: a business
id names the template file, and ``ID.bak.xlsx`` and the temporary ``.ID.XXXXXXXX.xlsx``
beside it must fit a file system's 255-byte names (and Windows' 260-character paths,
folder included); a KPI id and an input id together make Excel names such as
``in_KPI_INPUT`` and ``bench_KPI_above_average``, which Excel limits to 255 characters.
64 leaves room for the folder on every side."""


@dataclass(frozen=True)
class Unit:
    """A result unit: how a value is shown in text and in a workbook cell."""

    id: str
    label: str
    style: str  #: "percent", "currency" or "number"
    excel_format: str
    named: bool = True  #: whether a plain number is followed by the label ("5 hours", but "3.33", not "3.33 ratio")
    lowest: float = -math.inf  #: the lowest value the unit holds (NPS points: -100)
    highest: float = math.inf  #: the highest value the unit holds (a score out of 10: 10)
    labels: Mapping[str, str] = field(default_factory=dict, compare=False)  #: the label in other languages

    def in_language(self, lang: str) -> Unit:
        """The unit with its label in ``lang`` (English when the data gives none)."""
        return replace(self, label=self.labels.get(lang, self.label))

    def format(self, value: float | None, *, label: bool = True) -> str:
        """``value`` as a person reads it: ``90%``, ``$100.00``, ``5 hours``, ``-`` for none.

        ``label=False`` leaves out the unit's name after a plain number (for tables
        whose heading already names the unit).
        """
        if value is None:
            return "-"
        if self.style == "percent":
            return f"{value * 100:.1f}".removesuffix(".0") + "%"
        if self.style == "currency":
            return f"{self.label}{value:,.2f}"
        text = f"{value:,.2f}".rstrip("0").rstrip(".")
        return f"{text} {self.label}" if label and self.named else text


@dataclass(frozen=True)
class Input:
    """One input of a KPI, as a planner types it each month."""

    id: str
    label: str
    unit: str
    help: str
    whole: bool  #: taken from the formula: counts must be whole numbers
    export: str | None = None  #: the figure of an order or survey export that fills it (see EXPORT_METRICS)


@dataclass(frozen=True)
class Example:
    """The article's worked example: the inputs in order and the result it states."""

    inputs: tuple[float, ...]
    result: float


@dataclass(frozen=True)
class Kpi:
    """One KPI of one business type."""

    id: str
    name: str
    original_name: str
    formula: Formula
    unit: Unit
    better: str
    thresholds: Mapping[str, float | None]
    sources: Mapping[str, str]
    inputs: tuple[Input, ...]
    example: Example | None = None
    note: str = ""
    lowest: float = -math.inf  #: the lowest value the KPI can take: its formula's and its unit's range together
    highest: float = math.inf  #: the highest value the KPI can take
    translations: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, compare=False)
    """Per language (``es``, ``fr``, ``en``): name, note, inputs' label, unit and help, and the
    sources' sentences translated from the article's language; what is missing stays English."""
    language: str = "en"  #: the language of :attr:`name`, the labels and :attr:`translated_sources`

    def in_language(self, lang: str) -> Kpi:
        """The KPI with its name, note, inputs and unit in ``lang``, English where no translation is given."""
        words = self.translations.get(lang, {})
        inputs = words.get("inputs", {})
        localized = tuple(
            replace(item, **{key: inputs.get(item.id, {}).get(key, getattr(item, key)) for key in _INPUT_TEXTS})
            for item in self.inputs
        )
        return replace(
            self,
            name=words.get("name", self.name),
            note=words.get("note", self.note) if self.note else "",
            inputs=localized,
            unit=self.unit.in_language(lang),
            language=lang,
        )

    @property
    def translated_sources(self) -> Mapping[str, str]:
        """The sources' sentences in :attr:`language`, by tier key (none where the article is in it)."""
        return self.translations.get(self.language, {}).get("sources", {})

    @property
    def function(self) -> str | None:
        """The Excel function computing this KPI (``None`` for a count entered directly)."""
        return self.formula.excel_name

    def compute(self, *values: object) -> float:
        """The KPI from its inputs, in the order of :attr:`inputs`; messages use the input ids.

        Inputs that give a value the KPI cannot take break a rule too: a sum of ratings
        larger than ten times the responses gives a mean above a score out of 10.

        >>> toys = default_catalog().kpi("custom-3d-printed-toys", "post_production_satisfaction")
        >>> toys.compute(850, 100)
        8.5
        >>> toys.compute(2422, 100)
        Traceback (most recent call last):
        ...
        nichekpi.errors.KpiInputError: these inputs give post_production_satisfaction 24.22, which it cannot be: \
value must be from 0 to 10 for post_production_satisfaction; got 24.22
        """
        value = self.formula(*values, names=[i.id for i in self.inputs])
        if not self.lowest <= value <= self.highest:
            raise KpiInputError(
                f"these inputs give {self.id} {show(value)}, which it cannot be: {self.out_of_range_message(value)}",
                problem=Problem.OUT_OF_RANGE,
            )
        return value

    @property
    def bounded(self) -> bool:
        """Whether :attr:`lowest` or :attr:`highest` narrows what the formula alone can give."""
        low, high = self.formula.lowest, self.formula.highest
        return self.lowest > low or self.highest < high

    def tier(self, value: float) -> str:
        """The benchmark tier of ``value`` for this KPI; see :func:`tier_for` and :meth:`check_value`."""
        return tier_for(self.check_value(value), self.better, self.thresholds)

    def check_value(self, value: object) -> float:
        """``value`` as a float if this KPI can take it, or :class:`KpiInputError` saying why not.

        A value must be a finite number from :attr:`lowest` to :attr:`highest`: a share
        from 0 to 1, NPS from -100 to 100 points, money and times not negative. A value
        from 2 to 100 times the top of a percent unit was most likely typed as a
        percentage (80 for 80%), and the message says so; 1.5 gets the plain rule.

        >>> csat = default_catalog().kpi("custom-dollhouses", "csat")
        >>> csat.check_value(80)
        Traceback (most recent call last):
        ...
        nichekpi.errors.KpiInputError: value must be from 0 to 1 (0% to 100%) for csat; got 80; \
80 looks like a percentage: type 80% or 0.8
        """
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise KpiInputError(f"value must be a finite number; got {show(value)}", argument="value")
        try:
            number = float(value)
        except OverflowError:  # an integer beyond any float, such as 10**400
            number = math.inf if value > 0 else -math.inf
        else:
            if not math.isfinite(number):
                raise KpiInputError(f"value must be a finite number; got {show(value)}", argument="value")
        if not self.lowest <= number <= self.highest:
            raise KpiInputError(self.out_of_range_message(value), argument="value", problem=Problem.OUT_OF_RANGE)
        if math.isinf(number):
            raise KpiInputError(
                f"value is too large to compute with; got {show(value)}", argument="value", problem=Problem.OUT_OF_RANGE
            )
        return number

    def out_of_range(self, values: np.ndarray) -> np.ndarray:
        """Which of ``values`` this KPI cannot take (infinity included; NaN, an empty cell, is not flagged)."""
        import numpy as np

        with np.errstate(invalid="ignore"):
            return (values < self.lowest) | (values > self.highest) | np.isinf(values)

    def out_of_range_message(self, value: object) -> str:
        """The rule a value outside :attr:`lowest` to :attr:`highest` breaks, with the percentage hint."""
        if math.isfinite(self.highest):
            rule, ends = f"must be from {show(self.lowest)} to {show(self.highest)}", (self.lowest, self.highest)
        elif self.lowest == 0:
            rule, ends = "must not be negative", ()
        else:
            rule, ends = f"must be at least {show(self.lowest)}", (self.lowest,)
        if self.unit.style == "percent" and ends:
            rule += f" ({' to '.join(self.unit.format(end) for end in ends)})"
        text = f"value {rule} for {self.id}; got {show(value)}"
        if self.unit.style == "percent" and 2 * self.highest <= value <= 100 * self.highest:  # type: ignore[operator]
            text += f"; {show(value)} looks like a percentage: type {show(value)}% or {show(float(value) / 100)}"
        return text

    @property
    def yearly_benchmark(self) -> bool:
        """Whether the benchmark is meant for a whole year: the KPI takes a stock as input.

        A rate built on customers at the start and end of a period (retention) or on a
        previous period (growth) changes with the length of the period, and the
        articles state none: their figures are read as yearly. Rates and averages of
        flows (CSAT, conversion, order value) mean the same for a month and a year.
        """
        return any(how != "sum" for how in self.formula.period.values())


@dataclass(frozen=True)
class Source:
    """The article a business type's KPIs and benchmarks come from."""

    title: str
    language: str
    published: _dt.date | None
    file: str
    market: str


@dataclass(frozen=True)
class Business:
    """A business type and its KPIs."""

    id: str
    name: str
    example_business: str
    source: Source
    kpis: tuple[Kpi, ...]
    origin: str = field(default="", compare=False)  #: the file it was read from
    names: Mapping[str, str] = field(default_factory=dict, compare=False)  #: the name in other languages
    markets: Mapping[str, str] = field(default_factory=dict, compare=False)  #: the source's market in other languages
    language: str = "en"  #: the language of the names and labels
    lang: str = "en"  #: the language its workbooks are made in unless told otherwise (the file's ``lang``)

    def in_language(self, lang: str) -> Business:
        """The business type with its names and labels in ``lang`` (English where no translation is given)."""
        if lang not in LANGUAGES:
            raise UnknownNameError("language", lang, list(LANGUAGES))
        kpis = tuple(k.in_language(lang) for k in self.kpis)
        source = replace(self.source, market=self.markets.get(lang, self.source.market))
        return replace(self, name=self.names.get(lang, self.name), source=source, kpis=kpis, language=lang)

    def missing_translations(self) -> list[str]:
        """What has no translation, one line each (``es: KPI cac: name``); such texts show in English."""
        missing = [f"{lang}: name" for lang in LANGUAGES[1:] if lang not in self.names]
        if self.source.market:
            missing += [f"{lang}: market" for lang in LANGUAGES[1:] if lang not in self.markets]
        for kpi in self.kpis:
            for lang in LANGUAGES:
                words = kpi.translations.get(lang, {})
                wanted = [] if lang == "en" else ["name", *(["note"] if kpi.note else [])]
                missing += [f"{lang}: KPI {kpi.id}: {key}" for key in wanted if not words.get(key)]
                if lang != "en":
                    inputs = words.get("inputs", {})
                    missing += [
                        f"{lang}: KPI {kpi.id}: input {item.id}: {key}"
                        for item in kpi.inputs
                        for key in _INPUT_TEXTS
                        if (key != "help" or item.help) and not inputs.get(item.id, {}).get(key)
                    ]
                if lang != self.source.language:
                    sentences = words.get("sources", {})
                    missing += [f"{lang}: KPI {kpi.id}: sources: {key}" for key in kpi.sources if key not in sentences]
        return missing

    def kpi(self, kpi_id: str) -> Kpi:
        for kpi in self.kpis:
            if kpi.id == kpi_id:
                return kpi
        raise UnknownNameError("KPI", kpi_id, [k.id for k in self.kpis], context=f" for {self.id}")


def tier_indices(values: np.ndarray, better: str, thresholds: Mapping[str, float | None]) -> np.ndarray:
    """The tier of each value as an index into :data:`TIERS` (0 is ``Below typical``).

    A value exactly on a threshold belongs to the better tier. For a lower-is-better
    KPI the comparisons turn round. A tier without a threshold is skipped; with no
    typical threshold, every value short of the next tier is ``Typical``. Values
    must be finite; NaN compares as below every threshold.

    >>> tier_indices([0.7, 0.8, 0.95], "higher", {"typical": 0.75, "above_average": 0.85, "exceptional": 0.9})
    array([0, 1, 3], dtype=int8)
    """
    import numpy as np  # not at module level: the command line's kpis and score start without it

    sign = 1.0 if better == "higher" else -1.0
    signed = sign * np.asarray(values, dtype=float)
    indices = np.full(signed.shape, 0 if thresholds.get("typical") is not None else 1, dtype=np.int8)
    for index, key in enumerate(TIER_KEYS, start=1):  # thresholds rise (signed), so later wins
        threshold = thresholds.get(key)
        if threshold is not None:
            indices[signed >= sign * threshold] = index
    return indices


def tier_for(value: object, better: str, thresholds: Mapping[str, float | None]) -> str:
    """The tier of one value given a direction and thresholds; see :func:`tier_indices`.

    >>> tier_for(0.85, "higher", {"typical": 0.75, "above_average": 0.85, "exceptional": 0.9})
    'Above average'
    >>> tier_for(30, "lower", {"typical": 20, "above_average": None, "exceptional": 10})
    'Below typical'
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise KpiInputError(f"value must be a finite number; got {show(value)}", argument="value")
    # tier_indices' rule for one value, without numpy (a test checks that the two agree)
    sign = 1.0 if better == "higher" else -1.0
    index = 0 if thresholds.get("typical") is not None else 1
    for number, key in enumerate(TIER_KEYS, start=1):
        threshold = thresholds.get(key)
        if threshold is not None and sign * float(value) >= sign * threshold:
            index = number
    return TIERS[index]


def year_to_date(kpi: Kpi, months: Sequence[Sequence[object] | None]) -> float | None:
    """A KPI over several months, from its inputs added up, not from averaging monthly values.

    ``months`` holds each month's inputs in the order of :attr:`Kpi.inputs` (or
    ``None``). Only months whose inputs are complete and valid count. Each input adds
    up as its formula says: most are summed; a stock such as customers at the start
    takes the first month's value, customers at the end the last month's, and then
    every month from the first counted to the last counted must count (a blank month
    in between would drop its new customers from the sum). Returns ``None`` when no
    month counts; raises :class:`KpiInputError` when a stock KPI has such a gap or
    the added-up inputs break a rule.

    >>> crr = default_catalog().kpi("custom-dollhouses", "retention_rate")
    >>> round(year_to_date(crr, [(320, 50, 300), (330, 40, 320)]), 4)
    0.8
    >>> year_to_date(crr, [(320, 50, 300), None, (330, 40, 320)])
    Traceback (most recent call last):
    ...
    nichekpi.errors.KpiInputError: year to date needs months 1 to 3 all complete; month 2 is empty or breaks a rule
    """
    usable, counted = [], []
    for index, values in enumerate(months):
        if values is None or any(v is None for v in values):
            continue
        try:
            kpi.compute(*values)
        except KpiInputError:
            continue
        usable.append([float(v) for v in values])
        counted.append(index)
    if not usable:
        return None
    if kpi.yearly_benchmark and len(counted) != counted[-1] - counted[0] + 1:
        missing = next(m for m in range(counted[0], counted[-1]) if m not in counted)
        raise KpiInputError(
            f"year to date needs months {counted[0] + 1} to {counted[-1] + 1} all complete; "
            f"month {missing + 1} is empty or breaks a rule"
        )
    totals = []
    for position, param in enumerate(kpi.formula.params):
        column = [month[position] for month in usable]
        how = kpi.formula.period[param]
        totals.append(column[0] if how == "first" else column[-1] if how == "last" else math.fsum(column))
    return kpi.compute(*totals)


class Catalog:
    """Business types by id, with look-ups that name the valid choices on a miss."""

    def __init__(self, businesses: Iterable[Business]):
        self._businesses: dict[str, Business] = {}
        for business in businesses:
            if business.id in self._businesses:
                raise CatalogError(
                    f"{business.origin or business.id}: business type {business.id!r} is already defined"
                    f" (in {self._businesses[business.id].origin or 'the catalog'})"
                )
            self._businesses[business.id] = business

    def __iter__(self):
        return iter(self._businesses.values())

    def __len__(self) -> int:
        return len(self._businesses)

    @property
    def ids(self) -> list[str]:
        return list(self._businesses)

    def business(self, business_id: str) -> Business:
        try:
            return self._businesses[business_id]
        except (KeyError, TypeError):
            raise UnknownNameError("business type", business_id, self.ids) from None

    def kpi(self, business_id: str, kpi_id: str) -> Kpi:
        return self.business(business_id).kpi(kpi_id)

    def with_businesses(self, businesses: Iterable[Business]) -> Catalog:
        """A new catalog with more business types (an id already present is an error)."""
        return Catalog([*self, *businesses])


# -- loading -------------------------------------------------------------------------


def parse_units(data: Mapping[str, Any]) -> dict[str, Unit]:
    units = {}
    for unit_id, spec in data.items():
        try:
            label, style, excel_format = str(spec["label"]), str(spec["style"]), str(spec["excel_format"])
            bounds = {
                key: _number(spec[key], f"unit {unit_id!r} {key}") for key in ("lowest", "highest") if key in spec
            }
            labels = {lang: str(spec[lang]) for lang in LANGUAGES[1:] if lang in spec}
            units[unit_id] = Unit(
                unit_id, label, style, excel_format, named=bool(spec.get("named", True)), labels=labels, **bounds
            )
        except KeyError as missing:
            raise CatalogError(f"unit {unit_id!r} has no {missing.args[0]!r}") from None
        if units[unit_id].style not in ("percent", "currency", "number"):
            raise CatalogError(f"unit {unit_id!r}: style must be percent, currency or number")
    return units


class _Reader:
    """Reads one mapping of a data file, naming the place of every problem."""

    def __init__(self, data: object, where: str):
        if type(data) is not dict and not isinstance(data, Mapping):  # a dict first: an ABC check is slow
            raise CatalogError(f"{where}: expected a table of keys and values")
        self.data, self.where = data, where

    def get(self, key: str, kind: type | tuple[type, ...], default: object = ...) -> Any:
        if key not in self.data:
            if default is ...:
                raise CatalogError(f"{self.where}: missing {key!r}")
            return default
        value = self.data[key]
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
            raise CatalogError(f"{self.where}: {key!r} must be {names}; got {value!r}")
        return value

    def text(self, key: str, default: object = ...) -> str:
        value = self.data.get(key) if type(self.data) is dict else None
        if type(value) is str and value.strip():  # the common case, as get() and the check below find it
            return value
        value = self.get(key, str, default)
        if isinstance(value, str) and not value.strip() and default is ...:
            raise CatalogError(f"{self.where}: {key!r} must not be empty")
        return value

    def ident(self, key: str, pattern: re.Pattern[str], rule: str) -> str:
        value = self.text(key)
        if len(value) > MAX_ID_LENGTH:
            raise CatalogError(
                f"{self.where}: {key} {value[:20] + '...'!r} is {len(value)} characters long; the most is "
                f"{MAX_ID_LENGTH} (it becomes part of file names and Excel names)"
            )
        if not pattern.match(value):
            raise CatalogError(f"{self.where}: {key} {value!r} must be {rule}")
        return value


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CatalogError(f"{where}: must be a finite number; got {value!r}")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond any float
        number = math.inf
    if not math.isfinite(number):
        raise CatalogError(f"{where}: must be a finite number; got {show(value)}")
    return number


def _parse_kpi(data: object, units: Mapping[str, Unit], where: str) -> Kpi:
    r = _Reader(data, where)
    kpi_id = r.ident("id", _NAME_ID, "lowercase letters, digits and _ (starting with a letter)")
    where = f"{where} ({kpi_id})"
    r.where = where
    formula_name = r.text("formula")
    if formula_name not in FORMULAS:
        raise CatalogError(f"{where}: unknown formula {formula_name!r}; choose one of: {', '.join(FORMULAS)}")
    formula = FORMULAS[formula_name]
    unit_id = r.text("unit")
    if unit_id not in units:
        raise CatalogError(f"{where}: unknown unit {unit_id!r}; choose one of: {', '.join(units)}")
    better = r.text("better")
    if better not in BETTER:
        raise CatalogError(f"{where}: better must be 'higher' or 'lower'; got {better!r}")

    raw_inputs = r.get("inputs", list)
    if len(raw_inputs) != len(formula.params):
        raise CatalogError(
            f"{where}: formula {formula_name} takes {len(formula.params)} inputs "
            f"({', '.join(formula.params)}); the file gives {len(raw_inputs)}"
        )
    inputs = []
    for position, (raw, param) in enumerate(zip(raw_inputs, formula.params), start=1):
        ir = _Reader(raw, f"{where} input {position}")
        inputs.append(
            Input(
                id=ir.ident("id", _NAME_ID, "lowercase letters, digits and _ (starting with a letter)"),
                label=ir.text("label"),
                unit=ir.text("unit"),
                help=ir.text("help", ""),
                whole=param in formula.whole,
                export=ir.get("export", str, None),
            )
        )
        if inputs[-1].export is not None and inputs[-1].export not in EXPORT_METRICS:
            raise CatalogError(
                f"{ir.where}: unknown export {inputs[-1].export!r}; choose one of: {', '.join(EXPORT_METRICS)}"
            )
    if len({i.id for i in inputs}) != len(inputs):
        raise CatalogError(f"{where}: input ids must be different from each other")

    tr = _Reader(r.get("thresholds", Mapping), f"{where} thresholds")
    unknown = set(tr.data) - set(TIER_KEYS)
    if unknown:
        raise CatalogError(f"{tr.where}: unknown tier {sorted(unknown)}; use {', '.join(TIER_KEYS)}")
    thresholds = {key: (_number(tr.data[key], f"{tr.where} {key}") if key in tr.data else None) for key in TIER_KEYS}
    given = [(key, value) for key, value in thresholds.items() if value is not None]
    if not given:
        raise CatalogError(f"{tr.where}: give at least one threshold")
    unit = units[unit_id]
    lowest, highest = max(unit.lowest, formula.lowest), min(unit.highest, formula.highest)
    if lowest > highest:
        raise CatalogError(f"{where}: unit {unit_id} cannot hold the values of formula {formula_name}")
    for key, value in given:
        if not lowest <= value <= highest:
            raise CatalogError(
                f"{tr.where}: {key} is {show(value)}, which {kpi_id} can never reach "
                f"(its values are from {show(lowest)} to {show(highest)})"
            )
    sign = 1 if better == "higher" else -1
    for (low_key, low), (high_key, high) in zip(given, given[1:]):
        if not sign * low < sign * high:
            order = "rise" if better == "higher" else "fall"
            raise CatalogError(
                f"{tr.where}: for a {better}-is-better KPI the thresholds must {order} from typical to "
                f"exceptional; {low_key} is {show(low)} and {high_key} is {show(high)}"
            )

    sources = r.get("sources", Mapping, {})
    extra = set(sources) - {key for key, _ in given}
    if extra:
        raise CatalogError(f"{where} sources: {sorted(extra)} have no threshold")
    sources = {key: _Reader(sources, f"{where} sources").text(key) for key in sources}

    example = None
    if "example" in r.data:
        er = _Reader(r.data["example"], f"{where} example")
        values = tuple(_number(v, f"{er.where} inputs") for v in er.get("inputs", list))
        example = Example(values, _number(er.data.get("result"), f"{er.where} result"))
        try:
            formula.validate(values, names=[i.id for i in inputs])
        except KpiInputError as error:
            raise CatalogError(f"{er.where}: {error}") from None

    return Kpi(
        id=kpi_id,
        name=r.text("name"),
        original_name=r.text("original_name", ""),
        formula=formula,
        unit=units[unit_id],
        better=better,
        thresholds=thresholds,
        sources=sources,
        inputs=tuple(inputs),
        example=example,
        note=r.text("note", ""),
        lowest=lowest,
        highest=highest,
        translations=_translations(r, {i.id for i in inputs}, set(sources)),
    )


def _translations(r: _Reader, inputs: set[str], sources: set[str]) -> dict[str, dict[str, Any]]:
    """The ``[kpis.<lang>]`` tables: texts only, each checked to name an existing input or source."""
    found: dict[str, dict[str, Any]] = {}
    for lang in LANGUAGES:
        if lang not in r.data:
            continue
        lr = _Reader(r.data[lang], f"{r.where} {lang}")
        words: dict[str, Any] = {key: lr.text(key) for key in ("name", "note") if key in lr.data}
        raw_inputs = _Reader(lr.get("inputs", Mapping, {}), f"{lr.where} inputs")
        unknown = set(raw_inputs.data) - inputs
        if unknown:
            known = ", ".join(sorted(inputs))
            raise CatalogError(f"{raw_inputs.where}: no input {sorted(unknown)[0]!r}; inputs: {known}")
        words["inputs"] = {}
        for input_id in raw_inputs.data:
            ir = _Reader(raw_inputs.data[input_id], f"{raw_inputs.where} {input_id}")
            words["inputs"][input_id] = {key: ir.text(key) for key in _INPUT_TEXTS if key in ir.data}
        raw_sources = _Reader(lr.get("sources", Mapping, {}), f"{lr.where} sources")
        unknown = set(raw_sources.data) - sources
        if unknown:
            raise CatalogError(f"{raw_sources.where}: {sorted(unknown)} have no source sentence to translate")
        words["sources"] = {key: raw_sources.text(key) for key in raw_sources.data}
        found[lang] = words
    return found


def parse_business(data: Mapping[str, Any], units: Mapping[str, Unit], origin: str = "") -> Business:
    """Build a :class:`Business` from the parsed contents of a business-type file."""
    r = _Reader(data, origin or "business type")
    business_id = r.ident("id", _BUSINESS_ID, "lowercase words joined by '-', such as 'custom-candles'")
    sr = _Reader(r.get("source", Mapping, {}), f"{r.where} source")
    published = sr.get("published", (_dt.date, str), None)
    if isinstance(published, str):
        try:
            published = _dt.date.fromisoformat(published)
        except ValueError:
            raise CatalogError(f"{sr.where}: published must be a date like 2024-10-25; got {published!r}") from None
    source = Source(
        title=sr.text("title", ""),
        language=sr.text("language", ""),
        published=published,
        file=sr.text("file", ""),
        market=sr.text("market", ""),
    )
    raw_kpis = r.get("kpis", list)
    if not raw_kpis:
        raise CatalogError(f"{r.where}: give at least one [[kpis]] entry")
    kpis = tuple(_parse_kpi(raw, units, f"{r.where} KPI {n}") for n, raw in enumerate(raw_kpis, start=1))
    ids = [k.id for k in kpis]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise CatalogError(f"{r.where}: KPI ids must be unique; repeated: {', '.join(duplicates)}")
    named: dict[str, tuple[str, str]] = {}
    for kpi in kpis:  # the workbook's in_<kpi>_<input> names and the inputs table's columns
        for item in kpi.inputs:
            name = f"{kpi.id}_{item.id}"
            if name in named:
                raise CatalogError(
                    f"{r.where}: KPI {named[name][0]} input {named[name][1]} and KPI {kpi.id} input {item.id} "
                    f"would share the name {name} in the workbook and the inputs table; rename one of them"
                )
            named[name] = (kpi.id, item.id)
    lang = r.text("lang", "en")
    if lang not in LANGUAGES:
        raise CatalogError(f"{r.where}: lang must be one of {', '.join(LANGUAGES)}; got {lang!r}")
    return Business(
        id=business_id,
        lang=lang,
        name=r.text("name"),
        example_business=r.text("example_business", ""),
        source=source,
        kpis=kpis,
        origin=origin,
        names={lang: _Reader(data[lang], f"{r.where} {lang}").text("name") for lang in LANGUAGES if lang in data},
        markets={
            lang: _Reader(data[lang], f"{r.where} {lang}").text("market")
            for lang in LANGUAGES
            if isinstance(data.get(lang), Mapping) and "market" in data[lang]
        },
    )


def parse_toml(text: str, origin: str) -> dict[str, Any]:
    import tomllib  # only here: the built-in files come parsed (data/parsed.cache)

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CatalogError(f"{origin}: not valid TOML: {error}") from None
    except RecursionError:  # tomllib reads nested arrays and tables recursively
        raise CatalogError(f"{origin}: not valid TOML: arrays or tables nested too deeply") from None
    except ValueError:  # Python's own limit: an integer of more than 4300 digits
        raise CatalogError(f"{origin}: not valid TOML: a number has too many digits") from None


def data_folder() -> Path | Traversable:
    """The package's ``data`` folder (the folder beside this file, as :mod:`importlib.resources` finds it)."""
    here = globals().get("__file__")  # none in the xlwings Lite bundle, which reads no files
    if here:
        folder = Path(here).parent / "data"
        if folder.is_dir():  # not in a zip file: the same folder resources.files() gives, without its imports
            return folder
    from importlib import resources

    return resources.files("nichekpi").joinpath("data")


def _data_text(*parts: str) -> str:
    return data_folder().joinpath(*parts).read_text(encoding="utf-8")


_CACHE: Any = None


def _builtin_toml(text: str, name: str, origin: str | None = None) -> dict[str, Any]:
    """:func:`parse_toml` of the built-in data file ``name``, from ``data/parsed.cache`` when it holds this text."""
    global _CACHE
    if _CACHE is None:
        try:
            from nichekpi._datacache import NAME, Cache
        except ImportError:  # a copy of the core without the cache: parse
            _CACHE = False
        else:
            _CACHE = Cache(data_folder() / NAME)
    parsed = _CACHE.parsed(name, text) if _CACHE else None
    return parsed if parsed is not None else parse_toml(text, origin or name)


def cached_data_names() -> list[str]:
    """The data files ``data/parsed.cache`` holds parsed, by their place in ``data/``."""
    _, businesses = builtin_texts()
    return ["units.toml", *(f"words.{lang}.toml" for lang in LANGUAGES), *(f"businesses/{n}" for n in businesses)]


def builtin_units() -> dict[str, Unit]:
    return parse_units(_builtin_toml(_data_text("units.toml"), "units.toml"))


def load_business_file(path: str | Path, units: Mapping[str, Unit] | None = None) -> Business:
    """Read a user's business-type file (TOML, same shape as the built-in ones)."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_SIZE + 1)  # not /dev/zero or a huge file whole into memory
        if len(data) > MAX_FILE_SIZE:
            raise CatalogError(
                f"{path}: larger than {MAX_FILE_SIZE // 1_000_000} MB; a business type file is a few kilobytes"
            )
        text = data.decode("utf-8-sig")  # Windows Notepad may start the file with a byte-order mark
    except OSError as error:
        raise CatalogError(f"{path}: cannot read the file ({error.strerror})") from None
    except UnicodeDecodeError as error:
        raise CatalogError(
            f"{path}: not UTF-8 text (byte {error.object[error.start]:#04x} at position {error.start}); "
            "TOML files are UTF-8: save it again as UTF-8"
        ) from None
    return parse_business(parse_toml(text, str(path)), units or builtin_units(), str(path))


def catalog_from_texts(units_text: str, business_texts: Mapping[str, str]) -> Catalog:
    """A catalog from the texts of the data files (used where there are no package files)."""
    units = parse_units(parse_toml(units_text, "units.toml"))
    return Catalog(parse_business(parse_toml(text, name), units, name) for name, text in business_texts.items())


def _builtin_catalog(units_text: str, business_texts: Mapping[str, str]) -> Catalog:
    """:func:`catalog_from_texts` of the package's own files, read from ``data/parsed.cache`` where it holds them."""
    units = parse_units(_builtin_toml(units_text, "units.toml"))
    return Catalog(
        parse_business(_builtin_toml(text, f"businesses/{name}", name), units, name)
        for name, text in business_texts.items()
    )


def builtin_texts() -> tuple[str, dict[str, str]]:
    """The texts of the built-in data files: ``(units, {file name: business type})``."""
    folder = data_folder().joinpath("businesses")
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".toml"))
    return _data_text("units.toml"), {name: folder.joinpath(name).read_text(encoding="utf-8") for name in names}


def words_texts() -> dict[str, str]:
    """The texts of ``data/words.<lang>.toml``, by language (the xlwings Lite bundle embeds them)."""
    return {lang: _data_text(f"words.{lang}.toml") for lang in LANGUAGES}


_WORDS: dict[str, dict[str, Any]] = {}


def set_words(texts: Mapping[str, str]) -> None:
    """Use these texts of ``words.<lang>.toml`` (the xlwings Lite bundle has no package files)."""
    _WORDS.clear()
    _WORDS.update({lang: parse_toml(text, f"words.{lang}.toml") for lang, text in texts.items()})


def words(lang: str = "en") -> dict[str, Any]:
    """Every word nichekpi shows in ``lang`` (``data/words.<lang>.toml``), by key."""
    if lang not in LANGUAGES:
        raise UnknownNameError("language", lang, list(LANGUAGES))
    if lang not in _WORDS:
        _WORDS[lang] = _builtin_toml(_data_text(f"words.{lang}.toml"), f"words.{lang}.toml")
    return _WORDS[lang]


def tier_names(lang: str = "en") -> tuple[str, ...]:
    """The names of :data:`TIERS` in ``lang``, from worst to best.

    >>> tier_names("es")[3], tier_names("fr")[0]
    ('Excepcional', 'En dessous du typique')
    """
    return tuple(words(lang)["tiers_names"][name] for name in TIERS)


_DEFAULT: Catalog | None = None


def default_catalog() -> Catalog:
    """The built-in catalog: the five business types of the articles."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = _builtin_catalog(*builtin_texts())
    return _DEFAULT


def set_default_catalog(catalog: Catalog) -> None:
    """Replace the built-in catalog (the xlwings Lite bundle embeds its own data files)."""
    global _DEFAULT
    _DEFAULT = catalog


def with_business_files(paths: Sequence[str | Path], catalog: Catalog | None = None) -> Catalog:
    """The catalog plus the business types described in ``paths``."""
    base = catalog or default_catalog()
    units = builtin_units()
    return base.with_businesses(load_business_file(p, units) for p in paths)


def tier(value: float, kpi: str | Kpi, business: str | None = None, *, catalog: Catalog | None = None) -> str:
    """The benchmark tier of a KPI value: ``Below typical``, ``Typical``, ``Above average`` or ``Exceptional``.

    Parameters
    ----------
    value : float
        The KPI's value, in its unit (a fraction for rates, points for NPS).
    kpi : str or Kpi
        The KPI id (``"csat"``), or a :class:`Kpi`.
    business : str
        The business type id (``"custom-dollhouses"``); not needed with a :class:`Kpi`.

    Raises
    ------
    KpiInputError
        If the value is not a finite number, or not one the KPI can take: a rate
        outside 0 to 1 (80 for 80% gets a hint), NPS outside -100 to 100, a negative
        amount, time or count (see :meth:`Kpi.check_value`).
    UnknownNameError
        If the business type or the KPI is not in the catalog.

    Examples
    --------
    Dreamscape Miniatures kept 90% of its customers:

    >>> tier(0.9, "retention_rate", "custom-dollhouses")
    'Exceptional'
    >>> tier(0.3, "design_revision_rate", "custom-dollhouses")
    'Below typical'
    """
    if not isinstance(kpi, Kpi):
        if business is None:
            raise TypeError("tier() needs the business type id when kpi is an id")
        kpi = (catalog or default_catalog()).kpi(business, kpi)
    return kpi.tier(value)
