"""How a KPI formula is declared once and used everywhere.

A formula is an arithmetic expression over named inputs, such as
``"(customers_end - new_customers) / customers_start"``, plus the rules its inputs
must obey. From that one declaration this module derives

* the scalar Python function (validation in plain Python, then the arithmetic),
* the vectorized evaluation over numpy arrays, with a per-element :class:`Problem`,
* the native spreadsheet formula (``=(B5-B6)/B7``) used by the template workbooks,
* the zero-denominator checks (every divisor in the expression must be above zero).

Every input is a non-negative, finite number; inputs listed as ``whole`` must be
whole numbers no larger than :data:`MAX_COUNT`; ``rules`` are comparisons such as
``"satisfied <= responses"``. A divisor too large for a float (a sum that overflows)
is an error, as is a result that is not finite.
The expression language is the common part of Python and spreadsheet formulas:
names, numbers, ``+ - * /`` and parentheses.
"""

from __future__ import annotations

import functools
import math
import numbers
import re
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nichekpi._problem import Problem
from nichekpi.errors import KpiInputError

if TYPE_CHECKING:
    import ast

    import numpy as np

MAX_COUNT = 2**53 - 1
"""The largest count a float (and a spreadsheet cell) holds exactly: above it, 2**53 + 1
reads as 2**53, and a rule such as ``satisfied <= responses`` would pass when it should not."""


NUMBER_TEXT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
"""A number as text, as a person types it: ASCII digits only (no ``1_000``, no other scripts' digits)."""


def show(value: object) -> str:
    """Echo a value in a message the way a person would type it (80, 2.5, text 'abc')."""
    if isinstance(value, str):
        return f"text {value!r}"
    if value is None:
        return "an empty value"
    if isinstance(value, bool) or (type(value).__module__ == "numpy" and type(value).__name__ in ("bool", "bool_")):
        return "TRUE" if value else "FALSE"
    if isinstance(value, numbers.Real):
        try:
            value = float(value)
        except OverflowError:  # an integer too large for a float, such as 10**400
            return f"a number of {int(math.log10(abs(value))) + 1} digits"
        if math.isnan(value):
            return "NaN (not a number)"
        if math.isinf(value):
            return "infinity" if value > 0 else "minus infinity"
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.10g}"
    return f"{type(value).__name__} {value!r}"


def _check_expression(node: ast.AST, params: Sequence[str], source: str) -> None:
    import ast  # only when a formula is first compiled: the command line starts without it

    operators = (ast.Add, ast.Sub, ast.Mult, ast.Div)
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            if sub.id not in params:
                raise ValueError(f"{source!r} uses {sub.id!r}, which is not one of {list(params)}")
        elif isinstance(sub, ast.Constant):
            if not isinstance(sub.value, (int, float)) or isinstance(sub.value, bool):
                raise ValueError(f"{source!r}: only numbers may appear as constants")
        elif isinstance(sub, ast.BinOp):
            if type(sub.op) not in operators:
                raise ValueError(f"{source!r}: only + - * / are allowed")
        elif not isinstance(sub, (ast.Expression, ast.Load, *operators)):
            raise ValueError(f"{source!r}: {type(sub).__name__} is not allowed in a formula")


def _compile(source: str, params: Sequence[str]) -> Callable[..., object]:
    return eval(f"lambda {', '.join(params)}: {source}", {"__builtins__": {}})  # noqa: S307


@dataclass(frozen=True)
class Rule:
    """``left <= right``: a part that must not be larger than its whole."""

    left: str
    right: str
    why: str
    check: Callable[..., object]
    left_value: Callable[..., object]
    right_value: Callable[..., object]

    def message(self, env: Mapping[str, float], rename: Mapping[str, str]) -> str:
        text = (
            f"{_rename(self.left, rename)} ({show(self.left_value(**env))}) must not be more than "
            f"{_rename(self.right, rename)} ({show(self.right_value(**env))})"
        )
        return f"{text}: {self.why}" if self.why else text


def _rename(source: str, names: Mapping[str, str]) -> str:
    """``source`` written again (``ast.unparse``) with each name replaced by ``names``' entry for it."""
    pieces, originals = _renamable(source)
    out = [pieces[0]]
    for at in range(1, len(pieces), 2):
        original = originals[int(pieces[at])]
        out.append(names.get(original, original))
        out.append(pieces[at + 1])
    return "".join(out)


@functools.lru_cache(maxsize=1024)
def _renamable(source: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``source`` unparsed once, its names marked: text, name number, text ... and the names.

    ``ast.unparse`` writes a name as it is, so the text around the names does not
    depend on what they are renamed to; the NULs marking the names cannot be confused
    with the source's text (``ast.parse`` refuses a NUL, ``ast.unparse`` escapes one).
    """
    import ast  # only when a formula is first used: the quick commands need none

    tree = ast.parse(source, mode="eval")
    originals = []
    for sub in ast.walk(tree):
        if isinstance(sub, ast.Name):
            originals.append(sub.id)
            sub.id = f"\0{len(originals) - 1}\0"
    return tuple(ast.unparse(tree).split("\0")), tuple(originals)


class _Parsed:
    """A formula's texts, checked, and written out as Python writes them.

    (A plain class: a dataclass would cost every start of the command line the
    compilation of its methods.)
    """

    __slots__ = ("divisors", "expression", "rules")

    def __init__(self, expression: str, divisors: tuple[str, ...], rules: tuple[tuple[str, ...], ...]):
        self.expression = expression
        self.divisors = divisors
        self.rules = rules  #: (rule as declared, rule as Python writes it, left, right, why) for each ``left <= right``


@dataclass(frozen=True)
class Formula:
    """One KPI formula, declared once; see the module docstring.

    Only the declaration is kept when a formula is made (the ``formulas`` module
    declares all of them at import, and ``nichekpi kpis`` needs none of their code).
    The texts are parsed and checked, and each function compiled, the first time it
    is used: :attr:`expression`, :attr:`rules`, :attr:`denominators`, :attr:`kernel`
    and :attr:`accept` are built once each, on first use.
    """

    name: str
    excel_name: str | None
    params: tuple[str, ...]
    declared: str  #: the expression as declared (:attr:`expression` is it checked and normalised)
    whole: frozenset[str]
    declared_rules: tuple[tuple[str, str], ...]  #: each rule as declared, and why it holds
    period: Mapping[str, str]  #: how each input adds up over months: "sum", "first" or "last"
    lowest: float = 0.0  #: the lowest value the result can take (NPS: -100, growth: -1)
    highest: float = math.inf  #: the highest value the result can take (a share: 1, NPS: 100)

    # -- built on first use ------------------------------------------------------
    @functools.cached_property
    def _parsed(self) -> _Parsed:
        """The declaration's texts, checked (a ``ValueError`` for one that is no formula)."""
        import ast  # only here: the command line starts without it

        tree = ast.parse(self.declared, mode="eval")
        _check_expression(tree, self.params, self.declared)
        rules = []
        for text, why in self.declared_rules:
            compare = ast.parse(text, mode="eval").body
            if not (isinstance(compare, ast.Compare) and len(compare.ops) == 1 and isinstance(compare.ops[0], ast.LtE)):
                raise ValueError(f"rule {text!r} must have the form 'part <= whole'")
            left, right = ast.unparse(compare.left), ast.unparse(compare.comparators[0])
            for side in (left, right):
                _check_expression(ast.parse(side, mode="eval"), self.params, side)
            rules.append((text, ast.unparse(compare), left, right, why))
        return _Parsed(ast.unparse(tree), tuple(_divisors(tree)), tuple(rules))

    @functools.cached_property
    def expression(self) -> str:
        """The arithmetic, as Python writes it: ``(customers_end - new_customers) / customers_start``."""
        return self._parsed.expression

    @functools.cached_property
    def rules(self) -> tuple[Rule, ...]:
        """The ``part <= whole`` rules between inputs, each compiled."""
        return tuple(
            Rule(
                left, right, why, _compile(text, self.params), _compile(left, self.params), _compile(right, self.params)
            )
            for text, _, left, right, why in self._parsed.rules
        )

    @functools.cached_property
    def denominators(self) -> tuple[tuple[str, Callable[..., object]], ...]:
        """Every divisor of the expression, as text and compiled: each must be above zero."""
        return tuple((text, _compile(text, self.params)) for text in self._parsed.divisors)

    @functools.cached_property
    def kernel(self) -> Callable[..., object]:
        """The arithmetic alone, compiled: no checks."""
        self._parsed  # noqa: B018 - the text is checked before it is compiled
        return _compile(self.declared, self.params)

    @functools.cached_property
    def accept(self) -> Callable[..., float | None]:
        """The same checks compiled for this formula, for inputs that pass them all: the result,
        or ``None`` for anything else, which :meth:`validate` then words (see :func:`_acceptor`)."""
        parsed = self._parsed
        rules = [normalised for _, normalised, _, _, _ in parsed.rules]
        return _acceptor(self.params, self.whole, parsed.divisors, rules, parsed.expression)

    # -- scalar path -------------------------------------------------------------
    def validate(self, values: Sequence[object], names: Sequence[str] | None = None) -> tuple[float, ...]:
        """Check one set of inputs and return them as floats, or raise :class:`KpiInputError`.

        The checks run in this order, and the first that fails is reported: an input
        that is not a number; an input that is negative, not finite, not whole or a count
        above :data:`MAX_COUNT`; a divisor that is 0 or too large for a float; a part
        larger than its whole.

        ``names`` replaces the parameter names in messages (a KPI's own input names,
        such as ``total_hours`` for the ``total_time`` of ``AVG_TIME``).
        """
        labels = tuple(names) if names is not None else self.params
        if len(values) != len(self.params):
            raise KpiInputError(
                f"{self.excel_name or self.name} takes {len(self.params)} inputs "
                f"({', '.join(labels)}); got {len(values)}"
            )
        for value, label in zip(values, labels):  # text anywhere is reported before any value rule
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                check_number(value, label)
        floats = tuple(
            check_number(value, label, whole=param in self.whole)
            for value, param, label in zip(values, self.params, labels)
        )
        env = dict(zip(self.params, floats))
        rename = dict(zip(self.params, labels))
        for text, divisor in self.denominators:
            value = divisor(**env)
            if value == 0 or not math.isfinite(value):  # a sum can overflow: 1e308 + 1e308
                shown = _rename(text, rename)
                raise KpiInputError(
                    f"{shown} must be greater than 0; got 0" if value == 0 else f"{shown} is too large to compute with",
                    argument=shown if shown in labels else None,
                    problem=Problem.ZERO_DENOMINATOR if value == 0 else Problem.OUT_OF_RANGE,
                )
        for rule in self.rules:
            if not rule.check(**env):
                raise KpiInputError(rule.message(env, rename), problem=Problem.OUT_OF_RANGE)
        return floats

    def __call__(self, *values: object, names: Sequence[str] | None = None) -> float:
        if self.accept is not None and len(values) == len(self.params):
            try:
                result = self.accept(*values)
            except (ArithmeticError, ValueError):  # the checks below say what is wrong
                result = None
            if result is not None:
                return result
        result = float(self.kernel(*self.validate(values, names)))
        if not math.isfinite(result):
            raise KpiInputError(
                f"{self.excel_name or self.name} is too large to compute from these inputs",
                problem=Problem.OUT_OF_RANGE,
            )
        return result

    # -- vectorized path ---------------------------------------------------------
    def evaluate(self, *arrays: object) -> tuple[np.ndarray, np.ndarray]:
        """Evaluate element by element over numpy arrays (broadcast together).

        Returns ``(values, problems)``: float results, and a :class:`Problem` code per
        element. Elements with a problem have ``nan`` as value; the caller decides how
        to show them. Inputs must already be numeric (NaN marks an empty cell); text
        detection is the caller's job because only it knows what it received.
        """
        import numpy as np  # not at module level: the command line's kpis and score start without it

        if len(arrays) != len(self.params):
            raise KpiInputError(f"{self.excel_name or self.name} takes {len(self.params)} inputs; got {len(arrays)}")
        columns = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in arrays))
        env = dict(zip(self.params, columns))
        shape = columns[0].shape if columns else ()
        empty = np.zeros(shape, dtype=bool)
        invalid = np.zeros(shape, dtype=bool)
        with np.errstate(all="ignore"):
            for param, column in env.items():
                empty |= np.isnan(column)
                invalid |= np.isinf(column) | (column < 0)
                if param in self.whole:
                    invalid |= (np.floor(column) != column) | (column > MAX_COUNT)
            zero = np.zeros(shape, dtype=bool)
            overflow = np.zeros(shape, dtype=bool)
            for _, divisor in self.denominators:
                divided_by = divisor(**env)
                zero |= divided_by == 0
                overflow |= np.isinf(divided_by)
            broken = np.zeros(shape, dtype=bool)
            for rule in self.rules:
                broken |= ~rule.check(**env)
            values = np.asarray(self.kernel(**env), dtype=float)
        # Same precedence as the scalar path: each input on its own, then the
        # divisors, then the rules between inputs.
        problems = np.full(shape, Problem.OK, dtype=np.int8)
        problems[broken] = Problem.OUT_OF_RANGE
        problems[overflow] = Problem.OUT_OF_RANGE
        problems[zero] = Problem.ZERO_DENOMINATOR
        problems[invalid | ((problems == Problem.OK) & ~np.isfinite(values))] = Problem.OUT_OF_RANGE
        problems[empty] = Problem.EMPTY
        values = np.where(problems == Problem.OK, values, np.nan)
        return values, problems

    # -- spreadsheet path ----------------------------------------------------------
    def spreadsheet_formula(self, refs: Mapping[str, str] | Sequence[str]) -> str:
        """The expression with each input replaced by a cell reference, without ``=``.

        References must not contain spaces (sheet names such as ``Inputs`` are fine).

        >>> from nichekpi.formulas import retention_rate
        >>> retention_rate.formula.spreadsheet_formula(["C5", "C6", "C7"])
        '(C5-C6)/C7'
        """
        return _rename(self.expression, self._refs(refs)).replace(" ", "")

    def spreadsheet_checks(self, refs: Mapping[str, str] | Sequence[str]) -> list[str]:
        """Conditions that must all hold for the result to be valid, as spreadsheet expressions.

        The same rules as :meth:`validate`, for cells known to hold numbers.

        >>> from nichekpi.formulas import csat
        >>> csat.formula.spreadsheet_checks(["B2", "B3"])
        ['B2>=0', 'B3>=0', 'INT(B2)=B2', 'INT(B3)=B3', 'B3>0', 'B2<=B3']
        """
        refs = self._refs(refs)
        checks = [f"{refs[p]}>=0" for p in self.params]
        checks += [f"INT({refs[p]})={refs[p]}" for p in self.params if p in self.whole]
        checks += [_rename(text, refs).replace(" ", "") + ">0" for text, _ in self.denominators]
        checks += [f"{_rename(rule.left, refs)}<={_rename(rule.right, refs)}".replace(" ", "") for rule in self.rules]
        return checks

    def _refs(self, refs: Mapping[str, str] | Sequence[str]) -> Mapping[str, str]:
        if not isinstance(refs, Mapping):
            refs = dict(zip(self.params, refs))
        missing = set(self.params) - set(refs)
        if missing:
            raise ValueError(f"no cell reference for {sorted(missing)}")
        return refs


def check_number(value: object, name: str, *, whole: bool = False) -> float:
    """Return ``value`` as a float if it is a finite, non-negative number (whole if asked).

    >>> check_number(3, "orders", whole=True)
    3.0
    >>> check_number(-1, "orders")
    Traceback (most recent call last):
    ...
    nichekpi.errors.KpiInputError: orders must not be negative; got -1
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise KpiInputError(f"{name} must be a number; got {show(value)}", argument=name, problem=Problem.NOT_A_NUMBER)
    try:
        number = float(value)
    except OverflowError:
        raise KpiInputError(
            f"{name} is too large to compute with; got {show(value)}", argument=name, problem=Problem.OUT_OF_RANGE
        ) from None
    if not math.isfinite(number):
        raise KpiInputError(
            f"{name} must be a finite number; got {show(number)}", argument=name, problem=Problem.OUT_OF_RANGE
        )
    if number < 0:
        raise KpiInputError(
            f"{name} must not be negative; got {show(number)}", argument=name, problem=Problem.OUT_OF_RANGE
        )
    if whole and not number.is_integer():
        raise KpiInputError(
            f"{name} must be a whole number (it counts something); got {show(number)}",
            argument=name,
            problem=Problem.OUT_OF_RANGE,
        )
    if whole and number > MAX_COUNT:
        raise KpiInputError(
            f"{name} must be at most {MAX_COUNT:,} (a larger count cannot be stored exactly); "
            f"got {int(value) if isinstance(value, numbers.Integral) else show(number)}",
            argument=name,
            problem=Problem.OUT_OF_RANGE,
        )
    return number


def _acceptor(
    params: Sequence[str], whole: frozenset[str], denominators: Sequence[str], rules: Sequence[str], expression: str
) -> Callable[..., float | None]:
    """:meth:`Formula.validate` and the kernel as one function compiled for one formula.

    It returns the result for inputs that pass every check (plain ``int`` or ``float``,
    finite, not negative, whole and at most :data:`MAX_COUNT` where asked, divisors not 0
    and finite, rules kept, a finite result) and ``None`` for anything else, so that the
    checks' order and messages stay those of :meth:`Formula.validate`, written once.
    Compiled once, it saves rebuilding the names, labels and checks on every call.
    """
    lines = [f"def accept({', '.join(params)}):"]
    for name in params:
        limit = f" and {name} <= MAX_COUNT" if name in whole else ""
        lines += [
            f"    if type({name}) is int:",
            f"        if not 0 <= {name} <= MAX_COUNT: return None",
            f"        {name} = float({name})",
            f"    elif type({name}) is float:",
            f"        if not (0.0 <= {name} < INF{' and ' + name + '.is_integer()' if name in whole else ''}{limit}):",
            "            return None",
            "    else:",
            "        return None",
        ]
    for divisor in denominators:
        lines += [f"    d = {divisor}", "    if d == 0 or d - d != 0: return None"]
    lines += [f"    if not ({rule}): return None" for rule in rules]
    lines += [f"    r = float({expression})", "    return r if r - r == 0 else None"]
    scope = {"MAX_COUNT": MAX_COUNT, "INF": math.inf, "float": float, "int": int, "type": type}
    exec("\n".join(lines), {"__builtins__": {}, **scope}, namespace := {})  # noqa: S102 - our own formula's text
    return namespace["accept"]


def _divisors(tree: ast.AST) -> list[str]:
    import ast

    return [
        ast.unparse(sub.right) for sub in ast.walk(tree) if isinstance(sub, ast.BinOp) and isinstance(sub.op, ast.Div)
    ]


_VARIADIC = 0x04 | 0x08  # inspect.CO_VARARGS | inspect.CO_VARKEYWORDS


def _plain_parameters(function: Callable[..., object]) -> tuple[str, ...]:
    """The names of ``function``'s parameters, which must all be plain positional ones.

    A plain ``def`` is read from its code object, as :func:`inspect.signature` reads it,
    without importing :mod:`inspect`; anything else goes through :mod:`inspect`.
    """
    if (
        not isinstance(function, types.FunctionType)
        or hasattr(function, "__wrapped__")
        or hasattr(function, "__signature__")
    ):
        import inspect

        parameters = inspect.signature(function).parameters
        plain = all(p.kind is p.POSITIONAL_OR_KEYWORD for p in parameters.values())
        names = tuple(parameters)
    else:
        code = function.__code__
        plain = not (code.co_posonlyargcount or code.co_kwonlyargcount or code.co_flags & _VARIADIC)
        names = code.co_varnames[: code.co_argcount]
    if not plain:
        raise ValueError(f"{function.__name__}: formula inputs must be plain positional parameters")
    return names


def formula(
    expression: str,
    *,
    excel: str | None,
    whole: Sequence[str] = (),
    rules: Sequence[str | tuple[str, str]] = (),
    period: Mapping[str, str] | None = None,
    lowest: float = 0.0,
    highest: float = math.inf,
) -> Callable[[Callable[..., float]], Callable[..., float]]:
    """Declare a KPI formula on a documented signature.

    The decorated function only carries the signature and the docstring; the
    returned function validates its inputs and evaluates ``expression``. It also
    carries the :class:`Formula` as ``.formula``. ``period`` says how an input adds
    up over several months: ``"sum"`` (the default), or the value of the ``"first"``
    or ``"last"`` month (a stock, such as customers at the start or end).
    ``lowest`` and ``highest`` are the lowest and highest values the result can take
    for valid inputs; a value outside them cannot be this KPI (see ``Kpi.check_value``).
    """

    def decorate(signature_holder: Callable[..., float]) -> Callable[..., float]:
        params = _plain_parameters(signature_holder)
        unknown = set(whole) - set(params)
        if unknown:
            raise ValueError(f"whole inputs {sorted(unknown)} are not parameters of {signature_holder.__name__}")
        periods = {param: "sum" for param in params} | dict(period or {})
        if set(periods) - set(params) or set(periods.values()) - {"sum", "first", "last"}:
            raise ValueError(f"period {period!r} must map parameters to 'sum', 'first' or 'last'")
        spec = Formula(
            name=signature_holder.__name__,
            excel_name=excel,
            params=params,
            declared=expression,
            whole=frozenset(whole),
            declared_rules=tuple((rule, "") if isinstance(rule, str) else tuple(rule) for rule in rules),
            period=periods,
            lowest=lowest,
            highest=highest,
        )

        @functools.wraps(signature_holder)
        def compute(*values: object, **named: object) -> float:
            if named or len(values) != len(params):  # let Python word the TypeError
                import inspect

                values = tuple(inspect.signature(signature_holder).bind(*values, **named).arguments.values())
            return spec(*values)

        compute.formula = spec  # type: ignore[attr-defined]
        return compute

    return decorate
