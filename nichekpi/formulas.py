"""The KPI formulas of small custom-made businesses, as plain Python functions.

Conventions, written down once:

* a ``*_rate`` (and CSAT, CRR, material efficiency) is a fraction in [0, 1]; format it
  as a percentage to show it (0.8 is 80%);
* NPS is a score in points from -100 to 100, not a fraction;
* money is in the currency of the inputs; times keep the unit of the inputs;
* every input is a finite number that is not negative; counts must be whole numbers;
* invalid input raises :class:`~nichekpi.errors.KpiInputError` (a ``ValueError``)
  whose message names the input and the rule. No function ever returns a number
  for input it cannot honestly use.

Each function's arithmetic is the expression given to :func:`formula`; the same
expression becomes the native spreadsheet formula of the template workbooks. The
first line of each docstring is the help Excel shows, and each parameter's
description is the help of that argument.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from numbers import Real
from typing import TYPE_CHECKING

from nichekpi._formula import Formula, formula, show
from nichekpi._problem import Problem
from nichekpi.errors import KpiInputError

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "FORMULAS",
    "average_order_value",
    "average_revenue_per_user",
    "average_time",
    "completion_rate",
    "conversion_rate",
    "count",
    "csat",
    "csat_from_ratings",
    "customer_acquisition_cost",
    "growth_rate",
    "material_efficiency",
    "mean_rating",
    "nps",
    "nps_from_scores",
    "on_time_rate",
    "per_unit",
    "placement_rate",
    "repeat_rate",
    "retention_rate",
    "revision_rate",
    "upload_order_ratio",
]


@formula(
    "satisfied / responses",
    excel="CSAT",
    whole=("satisfied", "responses"),
    rules=("satisfied <= responses",),
    highest=1,
)
def csat(satisfied: float, responses: float) -> float:
    """Customer satisfaction score: the share of survey respondents who were satisfied (a fraction, format as %).

    Parameters
    ----------
    satisfied : int
        Number of respondents who said they were satisfied.
    responses : int
        Number of survey responses in all (greater than 0).

    Returns
    -------
    float
        Fraction from 0 to 1; higher is better.

    Raises
    ------
    KpiInputError
        If responses is 0, a count is negative or not whole, or satisfied > responses.

    Notes
    -----
    ``CSAT = satisfied / responses``. Also used for the customer satisfaction index
    (CSI), the client satisfaction score (CSS) and the share of positive feedback.

    Examples
    --------
    Dreamscape Miniatures surveyed 150 customers and 120 were satisfied:

    >>> csat(120, 150)
    0.8
    """


# Divide first, then scale: the ratio is at most 1 after rounding, so the score never
# leaves [-100, 100] (100 * 0.69 / 0.69 would give 100.00000000000001).
@formula(
    "(promoters - detractors) / (promoters + passives + detractors) * 100",
    excel="NPS",
    lowest=-100,
    highest=100,
)
def nps(promoters: float, passives: float, detractors: float) -> float:
    """Net promoter score in points (-100 to 100): promoters minus detractors, per 100 respondents.

    Parameters
    ----------
    promoters : float
        Respondents who answered 9 or 10 (a count or a share).
    passives : float
        Respondents who answered 7 or 8 (a count or a share).
    detractors : float
        Respondents who answered 0 to 6 (a count or a share).

    Returns
    -------
    float
        Points from -100 to 100 (not a percentage); higher is better.

    Raises
    ------
    KpiInputError
        If an input is negative or all three are 0.

    Notes
    -----
    ``NPS = (promoters - detractors) / (promoters + passives + detractors) * 100``.
    Counts and shares give the same score, so 60%, 20%, 20% works as well as 60, 20, 20.

    Examples
    --------
    Sonic Waves Artistry: 60% promoters, 20% passives, 20% detractors:

    >>> nps(0.6, 0.2, 0.2)
    40.0
    """


@formula(
    "(customers_end - new_customers) / customers_start",
    excel="CRR",
    whole=("customers_end", "new_customers", "customers_start"),
    rules=(
        ("new_customers <= customers_end", "the new customers are part of the customers at the end"),
        (
            "customers_end - new_customers <= customers_start",
            "you cannot keep more customers than you had at the start",
        ),
    ),
    period={"customers_end": "last", "customers_start": "first"},
    highest=1,
)
def retention_rate(customers_end: float, new_customers: float, customers_start: float) -> float:
    """Customer retention rate (CRR): the share of the period's starting customers still there at its end (a fraction).

    Parameters
    ----------
    customers_end : int
        Customers at the end of the period, new ones included.
    new_customers : int
        Customers gained during the period.
    customers_start : int
        Customers at the start of the period (greater than 0).

    Returns
    -------
    float
        Fraction from 0 to 1; higher is better.

    Raises
    ------
    KpiInputError
        If customers_start is 0, a count is negative or not whole,
        new_customers > customers_end, or customers_end - new_customers > customers_start.

    Notes
    -----
    ``CRR = (customers_end - new_customers) / customers_start``.

    Examples
    --------
    Dreamscape Miniatures started with 300 customers, gained 50 and ended with 320:

    >>> retention_rate(320, 50, 300)
    0.9
    """


@formula(
    "repeat_customers / customers",
    excel="REPEAT_RATE",
    whole=("repeat_customers", "customers"),
    rules=("repeat_customers <= customers",),
    highest=1,
)
def repeat_rate(repeat_customers: float, customers: float) -> float:
    """Repeat (returning) customer rate: the share of customers who ordered again (a fraction).

    Parameters
    ----------
    repeat_customers : int
        Customers who bought more than once.
    customers : int
        Customers in all (greater than 0).

    Returns
    -------
    float
        Fraction from 0 to 1; higher is better.

    Raises
    ------
    KpiInputError
        If customers is 0, a count is negative or not whole, or repeat_customers > customers.

    Notes
    -----
    ``repeat rate = repeat_customers / customers``.

    Examples
    --------
    Of TinyCrafters Studio's 500 customers, 200 came back:

    >>> repeat_rate(200, 500)
    0.4
    """


@formula("revenue / orders", excel="AOV", whole=("orders",))
def average_order_value(revenue: float, orders: float) -> float:
    """Average order value (AOV): revenue divided by the number of orders (currency).

    Parameters
    ----------
    revenue : float
        Revenue of the period, in your currency.
    orders : int
        Number of orders in the period (greater than 0).

    Returns
    -------
    float
        Currency per order; higher is better.

    Raises
    ------
    KpiInputError
        If orders is 0 or not whole, or an input is negative.

    Notes
    -----
    ``AOV = revenue / orders``.

    Examples
    --------
    $10,000 of revenue over 100 orders:

    >>> average_order_value(10000, 100)
    100.0
    """


@formula("revenue / users", excel="ARPU", whole=("users",))
def average_revenue_per_user(revenue: float, users: float) -> float:
    """Average revenue per user (ARPU): revenue divided by the number of users or clients (currency).

    Parameters
    ----------
    revenue : float
        Revenue of the period, in your currency.
    users : int
        Number of users or clients (greater than 0).

    Returns
    -------
    float
        Currency per user; higher is better.

    Raises
    ------
    KpiInputError
        If users is 0 or not whole, or an input is negative.

    Notes
    -----
    ``ARPU = revenue / users``.

    Examples
    --------
    Next Level Navigators earned $100,000 from 1,000 clients:

    >>> average_revenue_per_user(100000, 1000)
    100.0
    """


@formula("sales_marketing_cost / new_customers", excel="CAC", whole=("new_customers",))
def customer_acquisition_cost(sales_marketing_cost: float, new_customers: float) -> float:
    """Customer acquisition cost (CAC): sales and marketing spending per new customer (currency).

    Parameters
    ----------
    sales_marketing_cost : float
        Sales and marketing spending of the period, in your currency.
    new_customers : int
        New customers won in the period (greater than 0).

    Returns
    -------
    float
        Currency per new customer; lower is better.

    Raises
    ------
    KpiInputError
        If new_customers is 0 or not whole, or an input is negative.

    Notes
    -----
    ``CAC = sales_marketing_cost / new_customers``.

    Examples
    --------
    Sonic Waves Artistry spent $10,000 and won 100 new customers:

    >>> customer_acquisition_cost(10000, 100)
    100.0
    """


@formula(
    "converted / total", excel="CONVERSION_RATE", whole=("converted", "total"), rules=("converted <= total",), highest=1
)
def conversion_rate(converted: float, total: float) -> float:
    """Conversion rate: the share of visitors, leads or requests that converted (a fraction).

    Parameters
    ----------
    converted : int
        How many converted (leads, paid clients, finished artworks...).
    total : int
        How many had the chance to convert (greater than 0).

    Returns
    -------
    float
        Fraction from 0 to 1; higher is better.

    Raises
    ------
    KpiInputError
        If total is 0, a count is negative or not whole, or converted > total.

    Notes
    -----
    ``conversion rate = converted / total``.

    Examples
    --------
    Of 5,000 unique visitors to Dreamscape Miniatures' site, 250 became leads:

    >>> conversion_rate(250, 5000)
    0.05
    """


@formula(
    "completed / scheduled",
    excel="COMPLETION_RATE",
    whole=("completed", "scheduled"),
    rules=("completed <= scheduled",),
    highest=1,
)
def completion_rate(completed: float, scheduled: float) -> float:
    """Completion rate: the share of scheduled sessions or jobs that were completed (a fraction).

    Parameters
    ----------
    completed : int
        Sessions or jobs completed.
    scheduled : int
        Sessions or jobs scheduled (greater than 0).

    Returns
    -------
    float
        Fraction from 0 to 1; higher is better.

    Raises
    ------
    KpiInputError
        If scheduled is 0, a count is negative or not whole, or completed > scheduled.

    Notes
    -----
    ``completion rate = completed / scheduled``.

    Examples
    --------
    A coach held 40 of 50 scheduled sessions:

    >>> completion_rate(40, 50)
    0.8
    """


@formula(
    "on_time / deliveries",
    excel="ON_TIME_RATE",
    whole=("on_time", "deliveries"),
    rules=("on_time <= deliveries",),
    highest=1,
)
def on_time_rate(on_time: float, deliveries: float) -> float:
    """On-time delivery rate: the share of deliveries that arrived on time (a fraction).

    Parameters
    ----------
    on_time : int
        Deliveries that arrived on or before the promised date.
    deliveries : int
        Deliveries in all (greater than 0).

    Returns
    -------
    float
        Fraction from 0 to 1; higher is better.

    Raises
    ------
    KpiInputError
        If deliveries is 0, a count is negative or not whole, or on_time > deliveries.

    Notes
    -----
    ``on-time rate = on_time / deliveries``.

    Examples
    --------
    ImaginToys 3D delivered 90 of 100 orders on time:

    >>> on_time_rate(90, 100)
    0.9
    """


@formula(
    "revised_projects / projects",
    excel="REVISION_RATE",
    whole=("revised_projects", "projects"),
    rules=("revised_projects <= projects",),
    highest=1,
)
def revision_rate(revised_projects: float, projects: float) -> float:
    """Revision rate: the share of projects whose design had to be revised (a fraction, lower is better).

    Parameters
    ----------
    revised_projects : int
        Projects that needed a design revision.
    projects : int
        Projects in all (greater than 0).

    Returns
    -------
    float
        Fraction from 0 to 1; lower is better.

    Raises
    ------
    KpiInputError
        If projects is 0, a count is negative or not whole, or revised_projects > projects.

    Notes
    -----
    ``revision rate = revised_projects / projects``.

    Examples
    --------
    3 of Dreamscape Miniatures' 10 projects were revised:

    >>> revision_rate(3, 10)
    0.3
    """


@formula(
    "placed / coached", excel="PLACEMENT_RATE", whole=("placed", "coached"), rules=("placed <= coached",), highest=1
)
def placement_rate(placed: float, coached: float) -> float:
    """Placement rate: the share of coached clients who found a job (a fraction).

    Parameters
    ----------
    placed : int
        Clients who found a job.
    coached : int
        Clients coached (greater than 0).

    Returns
    -------
    float
        Fraction from 0 to 1; higher is better.

    Raises
    ------
    KpiInputError
        If coached is 0, a count is negative or not whole, or placed > coached.

    Notes
    -----
    ``placement rate = placed / coached``.

    Examples
    --------
    30 of 50 coached clients found a job:

    >>> placement_rate(30, 50)
    0.6
    """


@formula("total_time / units", excel="AVG_TIME", whole=("units",))
def average_time(total_time: float, units: float) -> float:
    """Average time per unit: total time divided by units produced or clients served (same time unit as the input).

    Parameters
    ----------
    total_time : float
        Total time spent, in hours, days or months.
    units : int
        Models, projects, toys or clients it was spent on (greater than 0).

    Returns
    -------
    float
        Time per unit, in the unit of total_time; lower is better.

    Raises
    ------
    KpiInputError
        If units is 0 or not whole, or an input is negative.

    Notes
    -----
    ``average time = total_time / units``.

    Examples
    --------
    TinyCrafters Studio spent 100 hours on 20 models:

    >>> average_time(100, 20)
    5.0
    """


@formula("total / units", excel="PER_UNIT", whole=("units",))
def per_unit(total: float, units: float) -> float:
    """Amount per unit: a total divided by the number of units (for example custom features per dollhouse).

    Parameters
    ----------
    total : float
        The total to share out (features, hours, items...).
    units : int
        Number of units (greater than 0).

    Returns
    -------
    float
        Amount per unit.

    Raises
    ------
    KpiInputError
        If units is 0 or not whole, or an input is negative.

    Notes
    -----
    ``per unit = total / units``.

    Examples
    --------
    60 custom features over 10 dollhouses:

    >>> per_unit(60, 10)
    6.0
    """


@formula(
    "(current - previous) / previous", excel="GROWTH_RATE", period={"current": "last", "previous": "first"}, lowest=-1
)
def growth_rate(current: float, previous: float) -> float:
    """Growth rate: the change from the previous period to this one, as a fraction of the previous one.

    Parameters
    ----------
    current : float
        Value of this period (engagements, followers, revenue...).
    previous : float
        Value of the previous period (greater than 0).

    Returns
    -------
    float
        Fraction, negative for a decline (0.6 is 60% growth); higher is better.

    Raises
    ------
    KpiInputError
        If previous is 0 or an input is negative.

    Notes
    -----
    ``growth rate = (current - previous) / previous``.

    Examples
    --------
    Social media engagements rose from 500 to 800:

    >>> growth_rate(800, 500)
    0.6
    """


@formula(
    "(material_used - material_waste) / material_used",
    excel="MATERIAL_EFFICIENCY",
    rules=(("material_waste <= material_used", "the waste is part of the material used"),),
    highest=1,
)
def material_efficiency(material_used: float, material_waste: float) -> float:
    """Material usage efficiency: the share of material used that ended up in products (a fraction).

    Parameters
    ----------
    material_used : float
        Material used, waste included (kg, grams, metres...).
    material_waste : float
        Material wasted, in the same unit.

    Returns
    -------
    float
        Fraction from 0 to 1; higher is better.

    Raises
    ------
    KpiInputError
        If material_used is 0, an input is negative, or material_waste > material_used.

    Notes
    -----
    ``efficiency = (material_used - material_waste) / material_used``.

    Examples
    --------
    ImaginToys 3D used 100 kg of filament and wasted 20 kg:

    >>> material_efficiency(100, 20)
    0.8
    """


@formula("rating_sum / responses", excel="MEAN_RATING", whole=("responses",))
def mean_rating(rating_sum: float, responses: float) -> float:
    """Mean rating: the sum of all ratings divided by the number of responses (on the survey's scale).

    Parameters
    ----------
    rating_sum : float
        Sum of all the ratings given.
    responses : int
        Number of ratings (greater than 0).

    Returns
    -------
    float
        Average rating, on the survey's scale; higher is better.

    Raises
    ------
    KpiInputError
        If responses is 0 or not whole, or an input is negative.

    Notes
    -----
    ``mean rating = rating_sum / responses``.

    Examples
    --------
    100 ImaginToys 3D customers gave ratings out of 10 that add up to 850:

    >>> mean_rating(850, 100)
    8.5
    """


@formula("design_uploads / orders", excel="UPLOAD_ORDER_RATIO", whole=("design_uploads", "orders"))
def upload_order_ratio(design_uploads: float, orders: float) -> float:
    """Design uploads per order: design files uploaded divided by orders placed (a plain ratio).

    Parameters
    ----------
    design_uploads : int
        Design files customers uploaded.
    orders : int
        Orders placed (greater than 0).

    Returns
    -------
    float
        Uploads per order.

    Raises
    ------
    KpiInputError
        If orders is 0, or a count is negative or not whole.

    Notes
    -----
    ``ratio = design_uploads / orders``.

    Examples
    --------
    500 uploads for 150 orders:

    >>> round(upload_order_ratio(500, 150), 2)
    3.33
    """


@formula("count", excel=None, whole=("count",))
def count(count: float) -> float:
    """A count entered directly, such as custom orders completed in the month.

    Parameters
    ----------
    count : int
        The number counted.

    Returns
    -------
    float
        The count itself.

    Raises
    ------
    KpiInputError
        If the count is negative or not whole.

    Examples
    --------
    >>> count(150)
    150.0
    """


FORMULAS: dict[str, Formula] = {
    f.formula.name: f.formula
    for f in (
        csat,
        nps,
        retention_rate,
        repeat_rate,
        average_order_value,
        average_revenue_per_user,
        customer_acquisition_cost,
        conversion_rate,
        completion_rate,
        on_time_rate,
        revision_rate,
        placement_rate,
        average_time,
        per_unit,
        growth_rate,
        material_efficiency,
        mean_rating,
        upload_order_ratio,
        count,
    )
}
"""Every declared formula by its Python name; the catalog refers to them by that name."""


# -- raw survey answers -------------------------------------------------------------

PROMOTERS_FROM = 9  #: on the 0-10 "would you recommend us?" scale, 9 and 10 are promoters
DETRACTORS_UP_TO = 6  #: 0 to 6 are detractors; 7 and 8 are passives
SATISFIED_FROM = {5: 4, 10: 8}  #: the lowest satisfied rating on a 1-5 and on a 1-10 scale
MAX_SCALE = 1000  #: the longest rating scale csat_from_ratings accepts (1-1000; 1-5 and 1-10 are usual)


def _flatten(values: object) -> list[object]:
    import numpy as np  # only here: the command line's kpis and score start without numpy

    def flat(value: object) -> list[object]:
        if isinstance(value, (list, tuple, np.ndarray)):
            return [item for part in value for item in flat(part)]
        return [value]

    return flat(values)


def _plain_numbers(values: object) -> np.ndarray | None:
    """The answers as floats (NaN for a blank ``None``) when all are plain numbers or ``None``; else ``None``.

    This is the common case, a range of numbers and empty cells, done in one numpy
    conversion; a ``NaN`` (which is not a blank), ``TRUE``, text or anything else
    returns ``None`` and leaves it to :func:`_checked_numbers` to name the answer.
    """
    import numpy as np  # only here: the command line's kpis and score start without numpy

    if isinstance(values, np.ndarray):
        if values.dtype.kind not in "iuf":
            return None
        numbers = values.astype(float).ravel()
        return None if np.isnan(numbers).any() else numbers
    if not isinstance(values, (list, tuple)):
        return None
    flat = values
    kinds = set(map(type, flat))
    if kinds and kinds <= {list, tuple}:  # a range: a list of rows
        flat = list(itertools.chain.from_iterable(values))
        kinds = set(map(type, flat))
    if not kinds <= {int, float, type(None), np.float64, np.int64}:
        return None
    try:
        numbers = np.array(flat, dtype=float)
    except OverflowError:  # an integer beyond any float
        return None
    nans = np.count_nonzero(np.isnan(numbers))
    if nans and nans != (flat.count(None) if type(None) in kinds else 0):  # a NaN that was not an empty cell
        return None
    return numbers


def _checked_numbers(values: object, name: str, low: int, high: int) -> np.ndarray:
    """The answers one by one, raising :class:`KpiInputError` at the first that is not a number from the scale."""
    import numpy as np  # only here: the command line's kpis and score start without numpy

    if not isinstance(values, (list, tuple, np.ndarray)):
        values = list(values) if isinstance(values, Iterable) and not isinstance(values, str) else [values]
    flat = _flatten(values)
    blank = [value is None or (isinstance(value, str) and not value.strip()) for value in flat]
    for position, (value, empty) in enumerate(zip(flat, blank), start=1):
        if not empty and (isinstance(value, (str, bool, np.bool_)) or not isinstance(value, Real)):
            raise KpiInputError(
                f"{name} must be numbers from {low} to {high}; answer {position} is {show(value)}",
                argument=name,
                problem=Problem.NOT_A_NUMBER,
            )
    for position, (value, empty) in enumerate(zip(flat, blank), start=1):
        if not empty and not (low <= value <= high and float(value).is_integer()):  # NaN fails low <= value
            raise KpiInputError(
                f"{name} must be whole numbers from {low} to {high}; answer {position} is {show(value)}",
                argument=name,
                problem=Problem.OUT_OF_RANGE,
            )
    return np.array([math.nan if empty else float(value) for value, empty in zip(flat, blank)], dtype=float)


def _answers(values: Iterable[object], name: str, low: int, high: int) -> np.ndarray:
    """Survey answers as a flat float array of whole numbers from ``low`` to ``high``, blanks dropped.

    Blanks are ``None`` (an empty cell) or empty text. An answer that is text (even
    ``"10"``), ``TRUE``/``FALSE`` or NaN is an error naming its position (counted
    along the rows of a range), never a number or a blank.
    """
    import numpy as np  # only here: the command line's kpis and score start without numpy

    numbers = _plain_numbers(values)
    if numbers is None:
        numbers = _checked_numbers(values, name, low, high)
    given = ~np.isnan(numbers)
    answers = numbers[given]
    bad = (answers < low) | (answers > high) | (np.floor(answers) != answers)
    if bad.any():
        position = int(np.flatnonzero(given)[np.argmax(bad)]) + 1
        raise KpiInputError(
            f"{name} must be whole numbers from {low} to {high}; answer {position} is {show(numbers[position - 1])}",
            argument=name,
            problem=Problem.OUT_OF_RANGE,
        )
    if answers.size == 0:
        raise KpiInputError(f"{name} holds no answers; at least one is needed", argument=name, problem=Problem.EMPTY)
    return answers


def nps_from_scores(scores: Iterable[object]) -> float:
    """Net promoter score in points (-100 to 100) from the raw 0-10 answers of a survey; blanks are ignored.

    Parameters
    ----------
    scores : sequence of int
        Answers from 0 to 10 to "how likely are you to recommend us?"; nested lists
        (a range of cells) are flattened and blanks (``None`` or empty text) skipped.

    Returns
    -------
    float
        Points from -100 to 100; higher is better.

    Raises
    ------
    KpiInputError
        If an answer is text, not whole or outside 0-10, or there are no answers.

    Notes
    -----
    Answers of 9-10 are promoters, 7-8 passives, 0-6 detractors; the score is
    :func:`nps` of those counts.

    Examples
    --------
    Five customers answered 10, 9, 8, 6 and 10:

    >>> nps_from_scores([10, 9, 8, 6, 10])
    40.0
    """
    import numpy as np  # only here: the command line's kpis and score start without numpy

    answers = _answers(scores, "scores", 0, 10)
    promoters = int(np.count_nonzero(answers >= PROMOTERS_FROM))
    detractors = int(np.count_nonzero(answers <= DETRACTORS_UP_TO))
    return nps(promoters, answers.size - promoters - detractors, detractors)


def csat_from_ratings(
    ratings: Iterable[object], *, scale_max: int = 5, satisfied_from: int = SATISFIED_FROM[5]
) -> float:
    """Customer satisfaction score (a fraction) from raw 1-5 or 1-10 ratings; blanks are ignored.

    Parameters
    ----------
    ratings : sequence of int
        Ratings from 1 to ``scale_max``; nested lists are flattened and blanks skipped.
    scale_max : int, default 5
        The top of the rating scale (5 for 1-5, 10 for 1-10; at most 1000).
    satisfied_from : int, default 4
        The lowest rating that counts as satisfied.

    Returns
    -------
    float
        Fraction from 0 to 1; higher is better.

    Raises
    ------
    KpiInputError
        If a rating is text, not whole or off the scale, the options do not fit the
        scale, or there are no ratings.

    Notes
    -----
    :func:`csat` of the ratings at or above ``satisfied_from`` over all ratings.

    Examples
    --------
    Five ratings out of 5, three of them 4 or better:

    >>> csat_from_ratings([5, 4, 3, 5, 2])
    0.6
    """
    import numpy as np  # only here: the command line's kpis and score start without numpy

    for name, value in (("scale_max", scale_max), ("satisfied_from", satisfied_from)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise KpiInputError(f"{name} must be a whole number; got {show(value)}", argument=name)
        if not -MAX_SCALE <= value <= MAX_SCALE:  # NaN, infinity, or a whole number too large for a float
            raise KpiInputError(f"{name} must be a whole number up to {MAX_SCALE}; got {show(value)}", argument=name)
        if not float(value).is_integer():
            raise KpiInputError(f"{name} must be a whole number; got {show(value)}", argument=name)
    if scale_max < 2:
        raise KpiInputError(f"scale_max must be at least 2; got {show(scale_max)}", argument="scale_max")
    if not 1 <= satisfied_from <= scale_max:
        raise KpiInputError(
            f"satisfied_from must be from 1 to scale_max ({show(scale_max)}); got {show(satisfied_from)}",
            argument="satisfied_from",
        )
    answers = _answers(ratings, "ratings", 1, int(scale_max))
    return csat(int(np.count_nonzero(answers >= satisfied_from)), answers.size)
