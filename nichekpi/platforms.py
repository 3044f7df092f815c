"""The export formats of shop platforms and survey tools, read from ``data/formats.toml``.

A format says which of a file's columns play which part (the order's id, the customer,
the date, the amount...), whether the amount is the order's total written once or a
line's part to add up, and which orders a platform marks as cancelled, refunded or
test orders. :mod:`nichekpi.exports` reads every format the same way; only these facts
differ, and they are data.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

ORDER_ROLES = (
    "order_id", "customer_id", "email", "order_date", "order_time", "amount", "adjusted", "refunded", "currency",
    "promised_date", "delivered_date",
)  # fmt: skip
"""What a column of an order export can be, for ``--order-columns``."""
SURVEY_ROLES = ("date", "score")


@dataclass(frozen=True)
class LeaveOut:
    """Orders whose ``column`` holds one of ``values`` (or anything, with ``any``) are left out, for ``why``."""

    column: str
    values: tuple[str, ...]
    any: bool
    why: str


@dataclass(frozen=True)
class Format:
    """One platform's export: its name, how to recognise it, and what its columns are."""

    id: str
    kind: str  #: "orders" or "survey"
    name: str
    detect: tuple[str, ...]
    columns: dict[str, str]  #: role -> the platform's column
    amount_is: str = "line"  #: "line" (added up) or "order" (the order's total, counted once)
    signed: bool = False  #: amounts may be negative (refund rows)
    customer_optional: bool = False
    date_format: str | None = None
    leave_out: tuple[LeaveOut, ...] = field(default_factory=tuple)

    def with_columns(self, mapping: dict[str, str]) -> Format:
        """The format with some roles' columns renamed (``--order-columns`` on top of a format)."""
        return Format(
            self.id, self.kind, self.name, self.detect, {**self.columns, **mapping}, self.amount_is, self.signed,
            self.customer_optional, self.date_format, self.leave_out,
        )  # fmt: skip


@cache
def formats(kind: str) -> dict[str, Format]:
    """The known formats of ``kind`` ("orders" or "survey"), generic first."""
    data = tomllib.loads(resources.files("nichekpi").joinpath("data", "formats.toml").read_text(encoding="utf-8"))
    found = {}
    for format_id, spec in data[kind].items():
        leave_out = tuple(
            LeaveOut(r["column"], tuple(v.lower() for v in r.get("values", ())), bool(r.get("any")), r["why"])
            for r in spec.get("leave_out", ())
        )
        found[format_id] = Format(
            format_id,
            kind,
            spec["name"],
            tuple(spec["detect"]),
            dict(spec["columns"]),
            spec.get("amount_is", "line"),
            bool(spec.get("signed")),
            bool(spec.get("customer_optional")),
            spec.get("date_format"),
            leave_out,
        )
    return found


def detect(kind: str, header: list[str]) -> Format | None:
    """The format whose columns are all in ``header`` (platforms before nichekpi's own); ``None`` if none."""
    names = set(header)
    known = formats(kind)
    for format_id in [f for f in known if f != "generic"] + ["generic"]:
        if all(column in names for column in known[format_id].detect):
            return known[format_id]
    return None
