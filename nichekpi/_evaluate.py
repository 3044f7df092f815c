"""Evaluate the templates' formulas in Python, so the package can carry their values.

Exactly the spreadsheet functions the templates use (``workbook.FUNCTIONS``), with
Excel's rules for empty cells, text and errors: an empty cell is 0 in arithmetic and
``""`` next to text, ``COUNT``/``SUM``/``MAX``/``MIN``/``AND`` skip text in ranges,
an error travels through arithmetic and ``IF``'s condition, ``ISNUMBER`` of an error
is FALSE. Anything else (another function, an array, a cycle) raises
:class:`Unsupported`, and the caller writes no value rather than a wrong one.

Only the standard library: no Excel, no openpyxl.
"""

from __future__ import annotations

import functools
import math
import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


class Unsupported(Exception):
    """A formula outside the subset this evaluator knows."""


@dataclass(frozen=True)
class Error:
    """A spreadsheet error value such as ``#N/A``."""

    code: str


class _Failed(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class _Range:
    """A rectangle of cells on a sheet (a single cell: top == bottom, left == right)."""

    __slots__ = ("sheet", "top", "left", "bottom", "right")

    def __init__(self, sheet: str, top: int, left: int, bottom: int, right: int):
        self.sheet, self.top, self.left, self.bottom, self.right = sheet, top, left, bottom, right

    def __eq__(self, other) -> bool:
        if not isinstance(other, _Range):
            return NotImplemented
        return (self.sheet, self.top, self.left, self.bottom, self.right) == (
            other.sheet,
            other.top,
            other.left,
            other.bottom,
            other.right,
        )

    def __hash__(self) -> int:
        return hash((self.sheet, self.top, self.left, self.bottom, self.right))

    def __repr__(self) -> str:
        return f"_Range({self.sheet!r}, {self.top}, {self.left}, {self.bottom}, {self.right})"


# Possessive runs (``*+``, ``++``) where giving characters back can never make a match
# (the next character could not follow them anyway): the same tokens, without backtracking.
_STRING = r'(?P<str>"(?:[^"]|"")*")'
_REF = r"(?P<ref>(?:(?:'(?:[^']|'')+'|[A-Za-z_][\w.]*+)!)?\$?[A-Z]{1,3}+\$?\d++(?::\$?[A-Z]{1,3}+\$?\d++)?)(?![\w.(!])"
_TOKEN = re.compile(
    rf"""\s*(?:
    {_STRING}
  | {_REF}
  | (?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)
  | (?P<func>[A-Za-z_][\w.]*+)\(
  | (?P<name>[A-Za-z_][\w.]*+)
  | (?P<op><=|>=|<>|[-+*/^&=<>(),])
    )""",
    re.VERBOSE,
)
_CELL = re.compile(r"\$?([A-Z]{1,3})\$?(\d+)")
_BINARY = {"=": 1, "<>": 1, "<": 1, ">": 1, "<=": 1, ">=": 1, "&": 2, "+": 3, "-": 3, "*": 4, "/": 4, "^": 5}


def _column(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def parse_cell(text: str) -> tuple[int, int]:
    """``"$B$12"`` -> (row 12, column 2)."""
    return _cell_at(text)


@functools.lru_cache(maxsize=65536)
def _cell_at(text: str) -> tuple[int, int]:
    """:func:`parse_cell`, each reference worked out once: the same cells are read again and again."""
    match = _CELL.fullmatch(text)
    if not match:
        raise Unsupported(f"not a cell: {text}")
    return int(match.group(2)), _column(match.group(1))


def _tokens(formula: str) -> list[tuple[str, str]]:
    text = formula.rstrip()
    tokens, at = [], 0
    for match in iter(_TOKEN.scanner(text).match, None):  # each token where the last one ended
        tokens.append((match.lastgroup, match[match.lastindex]))
        at = match.end()
    if at < len(text):
        raise Unsupported(f"cannot read {text[at : at + 20]!r}")
    return tokens


_END = ("end", "")  # after the last token


class _Parser:
    def __init__(self, formula: str, sheet: str):
        self.tokens = _tokens(formula)
        self.tokens.append(_END)
        self.at = 0
        self.sheet = sheet

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.at]
        if token is _END:
            raise Unsupported("formula ends too early")
        self.at += 1
        return token

    def expect(self, op: str) -> None:
        if self.take() != ("op", op):
            raise Unsupported(f"expected {op}")

    def parse(self):
        node = self.expression(1)
        token = self.tokens[self.at]
        if token is not _END:
            raise Unsupported(f"unexpected {token[1]}")
        return node

    def expression(self, lowest: int):
        left = self.unary()
        tokens = self.tokens
        while True:
            kind, text = tokens[self.at]
            if kind != "op":
                return left
            strength = _BINARY.get(text)
            if strength is None or strength < lowest:
                return left
            self.at += 1
            right = self.expression(strength + 1)
            left = ("bin", text, left, right)

    def unary(self):
        kind, text = self.take()
        if kind == "ref":
            return ("range", self.range(text))
        if kind == "func":
            args = []
            name = text.upper()
            if self.tokens[self.at] == ("op", ")"):
                self.at += 1
                return ("call", name, args)
            while True:
                args.append(self.expression(1))
                token = self.take()
                if token == ("op", ")"):
                    return ("call", name, args)
                if token != ("op", ","):
                    raise Unsupported("expected , or )")
        if kind == "str":
            return ("value", text[1:-1].replace('""', '"'))
        if kind == "num":
            return ("value", float(text))
        if kind == "op" and text in "+-":
            operand = self.unary()
            return ("neg", operand) if text == "-" else operand
        if kind == "op" and text == "(":
            node = self.expression(1)
            self.expect(")")
            return node
        if kind == "name":
            if text.upper() in ("TRUE", "FALSE"):
                return ("value", text.upper() == "TRUE")
            return ("name", text)
        raise Unsupported(f"unexpected {text}")

    def range(self, text: str) -> _Range:
        return _range(text, self.sheet)


@functools.lru_cache(maxsize=65536)
def _range(text: str, sheet: str) -> _Range:
    """A reference as a range (``sheet`` when it names none), worked out once: formulas share most."""
    if "!" in text:
        sheet, text = text.rsplit("!", 1)
        if sheet.startswith("'"):
            sheet = sheet[1:-1].replace("''", "'")
    first, _, last = text.partition(":")
    top, left = parse_cell(first)
    bottom, right = parse_cell(last) if last else (top, left)
    return _Range(sheet, min(top, bottom), min(left, right), max(top, bottom), max(left, right))


@functools.lru_cache(maxsize=65536)
def _parsed(formula: str, sheet: str):
    """A formula's tree, parsed once: the five templates share most of their formulas' texts.

    Most formulas differ from another only in their references (the same formula down a
    column, or across the months): each shape is tokenized and parsed once, and its tree
    takes the references of the formula at hand (see :func:`_shape`).
    """
    refs: list[str] = []

    def take(match: re.Match) -> str:
        if match.lastgroup != "ref":
            return match[0]
        refs.append(match[0])
        return f"'\0'!A{len(refs)}"  # a reference no formula can hold: the sheet's name is NUL

    shape = _REFERENCE.sub(take, formula)
    if not refs:
        return _Parser(formula, sheet).parse()
    return _fill(_shape(shape, sheet), refs, sheet)


# A string, or a reference exactly as the tokenizer reads one: a reference starts where no
# name, number or reference goes on (the tokenizer reads ``LOG10``, ``X1Y`` or ``1E5`` whole).
_REFERENCE = re.compile(rf"{_STRING}|(?<![\w.$'!:]){_REF}")


@functools.lru_cache(maxsize=4096)
def _shape(shape: str, sheet: str):
    """The tree of a formula on ``sheet`` whose N-th reference is ``'\0'!AN``: :func:`_fill` puts the real ones in."""
    return _Parser(shape, sheet).parse()


def _fill(node, refs: list[str], sheet: str):
    """``node`` with every placeholder reference replaced by ``refs[N - 1]``, read on ``sheet``."""
    kind = node[0]
    if kind == "range":
        placeholder = node[1]
        if placeholder.sheet != "\0":
            return node
        return ("range", _range(refs[placeholder.top - 1], sheet))
    if kind == "bin":
        return ("bin", node[1], _fill(node[2], refs, sheet), _fill(node[3], refs, sheet))
    if kind == "call":
        return ("call", node[1], [_fill(arg, refs, sheet) for arg in node[2]])
    if kind == "neg":
        return ("neg", _fill(node[1], refs, sheet))
    return node  # a value or a name


def evaluate(cells: Mapping[str, Mapping[tuple[int, int], object]], names: Mapping[str, str]) -> dict:
    """The value of every formula cell.

    ``cells``: per sheet, (row, column) -> a number, text, bool, :class:`Error`, or a
    formula as text starting with ``=``. ``names``: defined name -> its reference
    (``"Inputs!$D$3:$O$3"``). Returns (sheet, row, column) -> float, str, bool or
    :class:`Error`, for each formula cell. Raises :class:`Unsupported`.
    """
    return _Book(cells, names).run()


UNKNOWN = object()
"""Put in ``cells`` for a formula this evaluator must not read (a shared or array formula):
the cell, and every formula that needs it, is left out of :func:`evaluate_some`'s answer."""


def evaluate_some(
    cells: Mapping[str, Mapping[tuple[int, int], object]],
    names: Mapping[str, str],
    targets: list[tuple[str, int, int]],
) -> dict:
    """The values of the formula cells ``targets`` that the evaluator can compute.

    Like :func:`evaluate`, but a formula outside its subset (or :data:`UNKNOWN`, or one
    that needs such a cell, or a sheet not in ``cells``) is left out of the answer
    instead of stopping everything: a workbook a planner added to keeps the values
    nichekpi can vouch for. ``cells`` is read sheet by sheet, only when a formula needs
    a sheet, so a mapping that builds sheets on demand reads only those.
    """
    book = _Book(cells, names)
    for sheet, row, column in targets:
        try:
            book.cell(sheet, row, column)
        except Unsupported:
            book.busy.clear()  # the formulas under way all needed the one it cannot read
    return {key: book.values[key] for key in targets if key in book.values}


_NOT_YET = object()


class _Book:
    def __init__(self, cells, names):
        self.cells = cells
        self.names = {}
        for name, target in names.items():
            try:
                self.names[name.upper()] = _Parser(target, "").parse()
            except Unsupported:
                self.names[name.upper()] = ("unknown", name)  # an error only for the formulas that use it
        self.values: dict[tuple[str, int, int], object] = {}
        self.busy: set[tuple[str, int, int]] = set()

    def run(self) -> dict:
        for sheet, sheet_cells in self.cells.items():
            for (row, column), content in sheet_cells.items():
                if isinstance(content, str) and content.startswith("="):
                    self.cell(sheet, row, column)
        return dict(self.values)

    def cell(self, sheet: str, row: int, column: int):
        """The cell's value: None when empty."""
        key = (sheet, row, column)
        known = self.values.get(key, _NOT_YET)  # only formula cells are in values
        if known is not _NOT_YET:
            return known
        if sheet not in self.cells:
            raise Unsupported(f"no sheet {sheet}")
        content = self.cells[sheet].get((row, column))
        if content is UNKNOWN:
            raise Unsupported(f"a formula it does not read in {sheet} row {row} column {column}")
        if not (isinstance(content, str) and content.startswith("=")):
            return float(content) if isinstance(content, int) and not isinstance(content, bool) else content
        if key in self.busy:
            raise Unsupported(f"a cycle through {sheet} row {row} column {column}")
        self.busy.add(key)
        try:
            value = self.scalar(_parsed(content[1:], sheet), empty=0.0)
        except _Failed as failed:
            value = Error(failed.code)
        self.busy.discard(key)
        self.values[key] = value
        return value

    # -- values ---------------------------------------------------------------------------

    def node(self, node):
        """A value, or a _Range for a reference."""
        kind = node[0]
        if kind == "range" or kind == "value":
            return node[1]
        if kind == "call":
            return self.call(node[1], node[2])
        if kind == "bin":
            return self.binary(node[1], node[2], node[3])
        if kind == "name":
            if node[1].upper() not in self.names:
                raise Unsupported(f"unknown name {node[1]}")
            target = self.names[node[1].upper()]
            if target[0] == "unknown":
                raise Unsupported(f"the name {node[1]} points to something it does not read")
            return self.node(target)
        if kind == "neg":
            return -self.number(self.scalar(node[1]))
        raise Unsupported(kind)

    def scalar(self, node, *, empty=None):
        value = self.node(node)
        if isinstance(value, _Range):
            if (value.top, value.left) != (value.bottom, value.right):
                raise Unsupported("a range where one value is meant")
            value = self.cell(value.sheet, value.top, value.left)
        if isinstance(value, Error):
            raise _Failed(value.code)
        return empty if value is None else value

    def cells_of(self, value):
        """The values of a reference's cells (a scalar: itself)."""
        if not isinstance(value, _Range):
            return [value]
        return [
            self.cell(value.sheet, row, column)
            for row in range(value.top, value.bottom + 1)
            for column in range(value.left, value.right + 1)
        ]

    @staticmethod
    def number(value) -> float:
        if value is None:
            return 0.0
        if isinstance(value, bool):
            return float(value)
        if isinstance(value, float):
            return value
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                raise _Failed("#VALUE!") from None
        raise Unsupported(repr(value))

    @staticmethod
    def text(value) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, float):
            return general(value)
        return value

    @staticmethod
    def truth(value) -> bool:
        if value is None:
            return False
        if isinstance(value, str):
            raise _Failed("#VALUE!")
        return bool(value)

    def binary(self, op: str, left_node, right_node):
        left, right = self.scalar(left_node), self.scalar(right_node)
        if op == "&":
            return self.text(left) + self.text(right)
        if _BINARY[op] == 1:
            return _compare(op, left, right)
        a, b = self.number(left), self.number(right)
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            if b == 0:
                raise _Failed("#DIV/0!")
            return a / b
        return a**b

    # -- functions ------------------------------------------------------------------------

    def call(self, name: str, args):
        if name == "IF":
            if len(args) not in (2, 3):
                raise Unsupported("IF takes 2 or 3 arguments")
            if self.truth(self.scalar(args[0])):
                return self.node(args[1])
            return self.node(args[2]) if len(args) == 3 else False
        if name == "ISNUMBER":
            try:
                value = self.scalar(args[0])
            except _Failed:
                return False
            return isinstance(value, float)
        if name in ("TRUE", "FALSE") and not args:  # LibreOffice saves TRUE as TRUE()
            return name == "TRUE"
        if name == "NA":
            raise _Failed("#N/A")
        if name == "COUNT":
            return float(sum(1 for a in args for v in self._loose(a) if isinstance(v, float)))
        if name == "COUNTA":
            return float(sum(1 for a in args for v in self._loose(a) if v is not None))
        if name in ("SUM", "MAX", "MIN"):
            numbers = [v for a in args for v in self._numbers(a)]
            if name == "SUM":
                return float(math.fsum(numbers))
            return (max if name == "MAX" else min)(numbers) if numbers else 0.0
        if name in ("AND", "OR"):
            truths = []
            for a in args:
                value = self.node(a)
                if isinstance(value, _Range):
                    for v in self.cells_of(value):
                        if isinstance(v, Error):
                            raise _Failed(v.code)
                        if isinstance(v, (bool, float)):
                            truths.append(bool(v))
                else:
                    truths.append(self.truth(self.scalar(a)))
            if not truths:
                raise _Failed("#VALUE!")
            return all(truths) if name == "AND" else any(truths)
        if name == "INT":
            return float(math.floor(self.number(self.scalar(args[0]))))
        if name == "ROUND":
            value, digits = self.number(self.scalar(args[0])), int(self.number(self.scalar(args[1])))
            return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))
        if name == "INDEX":
            return self._index(args)
        if name == "MATCH":
            return self._match(args)
        raise Unsupported(f"function {name}")

    def _loose(self, node) -> list:
        """An argument's values, errors kept as values (COUNT and COUNTA skip or count them)."""
        value = self.node(node)
        if isinstance(value, _Range):
            return self.cells_of(value)
        return [self.scalar(node)]

    def _numbers(self, node) -> list[float]:
        value = self.node(node)
        if isinstance(value, _Range):
            found = []
            for v in self.cells_of(value):
                if isinstance(v, Error):
                    raise _Failed(v.code)
                if isinstance(v, float):
                    found.append(v)
            return found
        return [self.number(self.scalar(node))]

    def _index(self, args):
        area = self.node(args[0])
        if not isinstance(area, _Range):
            raise Unsupported("INDEX of something other than a range")
        row = int(self.number(self.scalar(args[1])))
        column = int(self.number(self.scalar(args[2]))) if len(args) > 2 else 1
        height, width = area.bottom - area.top + 1, area.right - area.left + 1
        if not (1 <= row <= height and 1 <= column <= width):
            raise _Failed("#REF!")
        at_row, at_column = area.top + row - 1, area.left + column - 1
        return _Range(area.sheet, at_row, at_column, at_row, at_column)

    def _match(self, args):
        if len(args) != 3 or self.number(self.scalar(args[2])) != 0:
            raise Unsupported("MATCH other than an exact match")
        wanted = self.scalar(args[0])
        area = self.node(args[1])
        for position, value in enumerate(self.cells_of(area), start=1):
            if not isinstance(value, Error) and value is not None and _compare("=", wanted, value):
                return float(position)
        raise _Failed("#N/A")


def _rank(value) -> int:
    return 0 if isinstance(value, float) else 1 if isinstance(value, str) else 2


_EMPTY_AS = (0.0, "", False)  # an empty cell beside a number, a text, a logical
_COMPARISONS = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}


def _compare(op: str, left, right) -> bool:
    """Excel's comparison: an empty cell is 0 or "" or FALSE after the other side; numbers < text < logicals."""
    if left is None and right is None:
        left = right = 0.0
    elif left is None:
        left = _EMPTY_AS[_rank(right)]
    elif right is None:
        right = _EMPTY_AS[_rank(left)]
    a, b = (_rank(left), left), (_rank(right), right)
    if a[0] == 1 and b[0] == 1:
        a, b = (1, left.lower()), (1, right.lower())
    elif a[0] == b[0] == 2:
        a, b = (2, float(left)), (2, float(right))
    return _COMPARISONS[op](a, b)


def general(number: float) -> str:
    """A number as text the way ``&`` shows it: up to 15 significant digits, no trailing zeros."""
    if number == 0:
        return "0"
    text = f"{number:.15g}"
    if "e" in text:
        text = format(Decimal(text), "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    return text
