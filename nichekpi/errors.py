"""The exceptions nichekpi raises: one small family, every message readable in a cell."""

from __future__ import annotations

from nichekpi._problem import Problem


class KpiError(Exception):
    """Base class of every error nichekpi raises on purpose."""


class KpiInputError(KpiError, ValueError):
    """An input a KPI formula cannot use: the message names the argument and the rule.

    ``argument`` is the name of the offending input (or ``None`` when several are
    involved) and ``problem`` says what kind of rule was broken, so that the Excel
    layer can pick the matching error value.
    """

    def __init__(self, message: str, *, argument: str | None = None, problem: Problem | None = None):
        super().__init__(message)
        self.argument = argument
        self.problem = problem


class UnknownNameError(KpiError, LookupError):
    """A business type, KPI or tier name that the catalog does not know."""

    def __init__(self, what: str, name: object, choices: list[str], *, context: str = ""):
        self.what = what
        self.name = name
        self.choices = list(choices)
        super().__init__(f"unknown {what} {name!r}{context}; choose one of: {', '.join(self.choices)}")


class CatalogError(KpiError):
    """A business-type data file that does not describe a usable set of KPIs."""
