"""Helpers for the workbook tests: random valid inputs, reading LibreOffice's results."""

from __future__ import annotations

import random
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path

from nichekpi import KpiInputError
from nichekpi.catalog import Business, Kpi, year_to_date
from nichekpi.workbook import CHECK_INPUTS, MONTHS, NOT_SCORED

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


def _scaled(kpi: Kpi, rng: random.Random, factor: float) -> list[float]:
    """The article's example scaled by ``factor``, each input jittered a little, valid for the formula."""
    for _ in range(1000):
        values = []
        for item, base in zip(kpi.inputs, kpi.example.inputs):
            value = base * factor * rng.uniform(0.9, 1.1)
            values.append(round(value) if item.whole else round(value, 2))
        try:
            kpi.compute(*values)
        except KpiInputError:
            continue
        return values
    return random_inputs(kpi, rng)


def full_year(business: Business, seed: int) -> dict[str, list[list[float] | None]]:
    """Twelve plausible months per KPI: the article's example, growing a little, stocks chained month to month."""
    rng = random.Random(seed)
    months: dict[str, list[list[float] | None]] = {}
    for kpi in business.kpis:
        params = kpi.formula.params
        rows: list[list[float] | None] = []
        if params == ("customers_end", "new_customers", "customers_start"):
            start = kpi.example.inputs[2]
            for _ in range(MONTHS):  # start is last month's end; most stay, a few are new
                new = round(start * rng.uniform(0.01, 0.04))
                end = round(start * rng.uniform(0.97, 0.995)) + new
                rows.append([end, new, start])
                start = end
        elif params == ("current", "previous"):
            current, previous = kpi.example.inputs
            for _ in range(MONTHS):  # this month's previous is last month's current
                previous, current = current, round(current * rng.uniform(0.98, 1.05))
                rows.append([current, previous])
        else:
            rows = [_scaled(kpi, rng, 1 + month / 20) for month in range(MONTHS)]
        months[kpi.id] = rows
    return months


def year_with_gaps(business: Business, seed: int) -> dict[str, list[list[float] | None]]:
    """A full year with February blank, May breaking a rule (or negative), and one input of August missing."""
    months = full_year(business, seed)
    for kpi in business.kpis:
        rows = months[kpi.id]
        rows[1] = None
        broken = list(rows[4])
        if kpi.formula.rules:
            rule, params = kpi.formula.rules[0], list(kpi.formula.params)
            broken[params.index(rule.left)] = broken[params.index(rule.right)] + 1
        else:
            broken[0] = -1
        rows[4] = broken
        if len(kpi.inputs) > 1:
            partial = list(rows[7])
            partial[-1] = None
            rows[7] = partial
    return months


PASTED = ("12 orders", "n/a", " ")
"""Texts a planner might paste into an input cell (a paste skips data validation)."""


def year_with_text(business: Business, seed: int) -> dict[str, list[list[object] | None]]:
    """A full year with text pasted into one input of March, June and October."""
    months: dict[str, list[list[object] | None]] = dict(full_year(business, seed))
    for kpi in business.kpis:
        for month, text in zip((2, 5, 9), PASTED):
            pasted = list(months[kpi.id][month])
            pasted[month % len(pasted)] = text
            months[kpi.id][month] = pasted
    return months


# -- what every cell should show, from the formula library --------------------------------


def expected_month(kpi: Kpi, inputs) -> float | str | None:
    """A month's KPI cell: the value, ``check inputs`` (text or a broken rule) or ``None`` (not all there)."""
    if inputs is None or all(v is None for v in inputs):
        return None
    if any(isinstance(v, str) for v in inputs):
        return CHECK_INPUTS
    if any(v is None for v in inputs):
        return None
    try:
        return kpi.compute(*inputs)
    except KpiInputError:
        return CHECK_INPUTS


def counted_months(kpi: Kpi, months) -> list[int]:
    """The months (0-11) whose KPI is a number: the ones year to date adds up."""
    return [n for n, m in enumerate(months) if isinstance(expected_month(kpi, m), float)]


def expected_ytd(kpi: Kpi, months) -> float | str | None:
    try:
        return year_to_date(kpi, months)
    except KpiInputError:
        return CHECK_INPUTS


def expected_tier(kpi: Kpi, value, months: int = 1) -> str | None:
    """The tier cell of a value covering ``months`` months (the yearly benchmarks score only a whole year)."""
    if not isinstance(value, float):
        return None
    if kpi.yearly_benchmark and months < MONTHS:
        return NOT_SCORED
    return kpi.tier(value)


# -- what a package holds ---------------------------------------------------------------


def _sheet_path(package: zipfile.ZipFile, sheet: str) -> str:
    workbook = package.read("xl/workbook.xml").decode()
    rel = re.search(rf'<sheet [^>]*name="{sheet}"[^>]*r:id="(\w+)"', workbook).group(1)
    rels = package.read("xl/_rels/workbook.xml.rels").decode()
    for attrs in re.findall(r"<Relationship ([^>]*)/>", rels):
        if f'Id="{rel}"' in attrs:
            target = re.search(r'Target="([^"]+)"', attrs).group(1)
            return target.lstrip("/") if target.startswith("/xl/") else f"xl/{target}"
    raise AssertionError(f"no part for sheet {sheet}")


def _related(package: zipfile.ZipFile, part: str, kind: str) -> list[str]:
    folder, name = part.rsplit("/", 1)
    rels = package.read(f"{folder}/_rels/{name}.rels").decode()
    targets = []
    for attrs in re.findall(r"<Relationship ([^>]*)/>", rels):
        if f"/{kind}" in attrs:
            target = re.search(r'Target="([^"]+)"', attrs).group(1)
            parts = (folder + "/" + target).split("/") if not target.startswith("/") else target[1:].split("/")
            resolved: list[str] = []
            for piece in parts:
                if piece == "..":
                    resolved.pop()
                elif piece != ".":
                    resolved.append(piece)
            targets.append("/".join(resolved))
    return targets


def anchor_boxes(path: Path, sheet: str = "Dashboard") -> list[tuple[float, float, float, float]]:
    """Each drawing's (left, top, right, bottom) in pixels, from its anchor and the sheet's grid.

    Widths in characters become 7 pixels each (Calibri 11, Excel's default); a row without
    a height is 20 pixels; a one-cell anchor's size comes from its extent.
    """
    with zipfile.ZipFile(path) as package:
        part = _sheet_path(package, sheet)
        xml = package.read(part).decode()
        (drawing,) = _related(package, part, "drawing")
        anchors = package.read(drawing).decode()
    widths: dict[int, float] = {}
    for attrs in re.findall(r"<(?:\w+:)?col ([^>]*)/?>", xml):
        low, high = int(re.search(r'min="(\d+)"', attrs).group(1)), int(re.search(r'max="(\d+)"', attrs).group(1))
        width = float(re.search(r'width="([\d.]+)"', attrs).group(1))
        for column in range(low, min(high, 64) + 1):
            widths[column - 1] = width
    default_width = float((re.search(r'defaultColWidth="([\d.]+)"', xml) or re.search("()", "")).group(1) or 8.43)
    heights = {
        int(row) - 1: float(height)
        for row, height in re.findall(r'<(?:\w+:)?row [^>]*?r="(\d+)"[^>]*?ht="([\d.]+)"', xml)
    }

    def x(column: int, offset: int) -> float:
        return sum(7 * widths.get(c, default_width) for c in range(column)) + offset / 9525

    def y(row: int, offset: int) -> float:
        return sum(heights.get(r, 15) * 4 / 3 for r in range(row)) + offset / 9525

    def marker(text: str) -> tuple[int, int, int, int]:
        return tuple(
            int(re.search(rf"<(?:\w+:)?{tag}>(-?\d+)<", text).group(1)) for tag in ("col", "colOff", "row", "rowOff")
        )

    boxes = []
    kinds = r"(?:twoCellAnchor|oneCellAnchor)"
    for anchor in re.findall(rf"<(?:\w+:)?{kinds}\b.*?</(?:\w+:)?{kinds}>", anchors, re.S):
        col, col_off, row, row_off = marker(re.search(r"<(?:\w+:)?from>(.*?)</(?:\w+:)?from>", anchor, re.S).group(1))
        left, top = x(col, col_off), y(row, row_off)
        end = re.search(r"<(?:\w+:)?to>(.*?)</(?:\w+:)?to>", anchor, re.S)
        if end:
            col, col_off, row, row_off = marker(end.group(1))
            right, bottom = x(col, col_off), y(row, row_off)
        else:
            ext = re.search(r'<(?:\w+:)?ext cx="(\d+)" cy="(\d+)"', anchor)
            right, bottom = left + int(ext.group(1)) / 9525, top + int(ext.group(2)) / 9525
        boxes.append((left, top, right, bottom))
    return boxes


def overlapping(boxes) -> list[tuple[int, int]]:
    """Pairs of boxes that share more than a pixel's width of area."""
    pairs = []
    for i, a in enumerate(boxes):
        for j, b in enumerate(boxes[i + 1 :], start=i + 1):
            if min(a[2], b[2]) - max(a[0], b[0]) > 1 and min(a[3], b[3]) - max(a[1], b[1]) > 1:
                pairs.append((i, j))
    return pairs


def chart_series(path: Path) -> dict[str, list[tuple[str, list[float]]]]:
    """Per chart title, each series' cached name and values, as the engine that saved ``path`` computed them."""
    charts = {}
    with zipfile.ZipFile(path) as package:
        for name in package.namelist():
            if not re.match(r"xl/charts/chart\d+\.xml$", name):
                continue
            xml = package.read(name).decode()
            title = "".join(re.findall(r"<a:t>([^<]*)</a:t>", re.search(r"<c:title>.*?</c:title>", xml, re.S).group(0)))
            series = []
            for ser in re.findall(r"<c:ser>.*?</c:ser>", xml, re.S):
                label = re.search(r"<c:tx>.*?<c:v>([^<]*)</c:v>", ser, re.S).group(1)
                values = re.search(r"<c:val>.*?</c:val>", ser, re.S).group(0)
                series.append((label, [float(v) for v in re.findall(r"<c:v>([^<]*)</c:v>", values)]))
            charts[title.replace("&amp;", "&")] = series
    return charts
