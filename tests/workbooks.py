"""Helpers for the workbook tests: random valid inputs, reading LibreOffice's results."""

from __future__ import annotations

import random
from html.parser import HTMLParser

from nichekpi import KpiInputError
from nichekpi.catalog import Business, Kpi
from nichekpi.workbook import MONTHS

ERROR_TEXTS = ("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "Err:")


def random_inputs(kpi: Kpi, rng: random.Random) -> list[float]:
    """One month of inputs the KPI's formula accepts (rejection sampling over plausible values)."""
    for _ in range(10_000):
        values = []
        for item in kpi.inputs:
            if item.whole:
                values.append(rng.randint(0, rng.choice((10, 200, 5000))))
            else:
                values.append(round(rng.uniform(0, rng.choice((10, 1000, 50_000))), 2))
        try:
            kpi.compute(*values)
        except KpiInputError:
            continue
        return values
    raise AssertionError(f"no valid inputs found for {kpi.id}")


def random_months(business: Business, seed: int) -> dict[str, list[list[float] | None]]:
    """Twelve months per KPI: mostly valid, some missing, one with a broken rule where the formula has rules."""
    rng = random.Random(seed)
    months: dict[str, list[list[float] | None]] = {}
    for kpi in business.kpis:
        rows: list[list[float] | None] = []
        for month in range(MONTHS):
            if month >= 10 or rng.random() < 0.15:
                rows.append(None)  # not entered yet
            else:
                rows.append(random_inputs(kpi, rng))
        if kpi.formula.rules:  # month 3: a part larger than its whole
            rule, params = kpi.formula.rules[0], list(kpi.formula.params)
            broken = list(random_inputs(kpi, rng))
            broken[params.index(rule.left)] = broken[params.index(rule.right)] + 1
            rows[2] = broken
        if len(kpi.inputs) > 1:  # month 4: one input left empty
            partial = list(random_inputs(kpi, rng))
            partial[-1] = None
            rows[3] = partial
        months[kpi.id] = rows
    return months


def as_values(business: Business, months: dict[str, list[list[float] | None]]) -> dict[tuple[str, str], list]:
    """The months in the shape :func:`nichekpi.workbook.build_workbook` takes."""
    values = {}
    for kpi in business.kpis:
        for position, item in enumerate(kpi.inputs):
            values[(kpi.id, item.id)] = [None if m is None else m[position] for m in months[kpi.id]]
    return values


class Tables(HTMLParser):
    """The tables of LibreOffice's HTML export: per table, rows of (text, bgcolor)."""

    def __init__(self, html: str):
        super().__init__()
        self.tables: list[list[list[tuple[str, str | None]]]] = []
        self._cell: list[str] | None = None
        self._colour: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag == "td":
            self._cell, self._colour = [], dict(attrs).get("bgcolor")

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.tables[-1][-1].append(("".join(self._cell).strip(), self._colour))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
