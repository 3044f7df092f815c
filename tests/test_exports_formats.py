"""The exports shops and survey tools really give: each sample in ``examples/exports/`` read
to figures worked out by hand from the file (the arithmetic is in the comments), and
everything ambiguous or inconsistent refused with the file, row, column and option.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from nichekpi import default_catalog
from nichekpi.cli import main
from nichekpi.exports import ExportError, Reading, monthly_orders, monthly_survey
from nichekpi.workbook import build_workbook, layout, save_atomically

SAMPLES = Path(__file__).parent.parent / "examples" / "exports"


def _figures(revenue, count, customers, repeat):
    """A month's order figures; with no delivery dates, an order counts as completed in its month."""
    return {"revenue": revenue, "count": count, "customers": customers, "repeat_customers": repeat, "completed": count}


# -- orders, by hand --------------------------------------------------------------------------

ORDERS = {
    # Shopify: one row per line item, Total on the first row only; #1004 refunded, #1005
    # cancelled, #1006 paid through the Bogus Gateway (a test): left out. #1002 is placed
    # on 31 January at 23:30 -08:00 (1 February in UTC) and counts in January; #1003 on
    # 1 February at 00:10 +01:00 (31 January in UTC) counts in February. ANA@EXAMPLE.COM
    # is ana@example.com. #1007 is partially refunded: 300.00 - 50.00.
    "shopify-orders.csv": (
        "shopify",
        {
            "2026-01": _figures(240.00 + 99.50, 2, 2, 0),  # #1001 ana, #1002 ben
            "2026-02": _figures(150.00 + 250.00, 2, 2, 2),  # #1003 ana, #1007 ben: both ordered in January
        },
        "3 orders left out of every figure (1 cancelled, 1 refunded or voided, 1 test (Shopify's Bogus Gateway))",
    ),
    # Etsy: one row per order, MM/DD/YY dates; 3002 refunded down to 100.00 (Adjusted Order
    # Total), 3004 refunded in full (adjusted to 0.00): left out.
    "etsy-sold-orders.csv": (
        "etsy",
        {
            "2026-01": _figures(45.00 + 100.00, 2, 2, 0),  # 3001 buyer 111, 3002 buyer 222
            "2026-02": _figures(60.00 + 25.50, 2, 2, 1),  # 3003 buyer 111 again, 3005 buyer 444
        },
        "1 order left out of every figure (1 refunded in full)",
    ),
    # WooCommerce: 503 cancelled, 505 refunded, 506 failed: left out; 507 on hold (awaiting a
    # bank transfer) counts. Guests have customer_id 0: Guest@Example.org in January and
    # guest@example.org in February are one customer.
    "woocommerce-orders.csv": (
        "woocommerce",
        {
            "2026-01": _figures(380.00 + 95.25, 2, 2, 0),  # 501 customer 7, 502 the guest
            "2026-02": _figures(120.00 + 210.00, 2, 2, 1),  # 504 the guest again, 507 customer 9
        },
        "3 orders left out of every figure (1 cancelled, 1 never paid",
    ),
    # Square: money as "$1,165.00"; T3 is paid (80.00) then refunded (-80.00): nothing left,
    # left out. T2 is a walk-in sale without a customer: revenue and orders, not customers.
    "square-transactions.csv": (
        "square",
        {
            "2026-01": _figures(1165.00 + 45.00, 2, 1, 0),  # T1 C1, T2 nobody
            "2026-02": _figures(120.00 + 60.50, 2, 2, 1),  # T4 C1 again, T5 C3
        },
        "1 order without a customer id or e-mail",
    ),
    # A French Excel's CSV in Windows-1252: ";" separators, decimal commas, thousands points,
    # a euro sign, dd/mm/yyyy dates; and the same as Excel's "Unicode text" (UTF-16, tabs).
    "european-orders.csv": (
        "generic",
        {
            "2026-01": _figures(1165.00 + 2624.61, 2, 2, 0),  # F-001 Élodie, F-002 Marc
            "2026-02": _figures(89.90 + 1250.00, 2, 2, 1),  # F-003 Élodie again, F-004 Zoé
        },
        "read as Windows-1252 text",
    ),
    "european-orders-unicode.txt": (
        "generic",
        {
            "2026-01": _figures(1165.00 + 2624.61, 2, 2, 0),
            "2026-02": _figures(89.90 + 1250.00, 2, 2, 1),
        },
        "read as UTF-16 text",
    ),
}


@pytest.mark.parametrize("name", list(ORDERS))
def test_each_sample_order_export_gives_the_figures_worked_out_by_hand(name):
    fmt, expected, note = ORDERS[name]
    reading = Reading()
    got = monthly_orders(SAMPLES / name, reading=reading)
    assert got.keys() == expected.keys()
    for month, figures in expected.items():
        assert got[month] == pytest.approx(figures, abs=1e-9), month
    assert any(note in n for n in reading.notes), reading.notes
    if fmt != "generic":
        assert any("format (found from its columns; --orders-format to choose)" in n for n in reading.notes)
    # The format named explicitly reads the same.
    assert monthly_orders(SAMPLES / name, orders_format=fmt) == got


def test_column_mapping_works_on_top_of_a_format(tmp_path):
    edited = tmp_path / "orders.csv"
    edited.write_text((SAMPLES / "shopify-orders.csv").read_text().replace(",Total,", ",Grand total,", 1))
    got = monthly_orders(edited, {"amount": "Grand total"}, orders_format="shopify")
    assert got["2026-01"]["revenue"] == pytest.approx(339.50)


# -- surveys, by hand -------------------------------------------------------------------------


def test_google_forms_the_question_chosen_by_its_text_and_by_its_column_letter():
    path = SAMPLES / "google-forms-survey.csv"
    reading = Reading()
    satisfied = monthly_survey(path, question="How satisfied", reading=reading)
    # January: 5, 3, 4 (the 31st at 11:58 PM GMT+1 is January); February: 2, 5 (one left blank).
    # Satisfied on 1-5: 4 or 5.
    assert satisfied == {
        "2026-01": {"responses": 3, "rating_sum": 5 + 3 + 4, "satisfied": 2},
        "2026-02": {"responses": 2, "rating_sum": 2 + 5, "satisfied": 1},
    }
    assert any("answers from 2 to 5, read on a 1-5 scale" in n for n in reading.notes)
    # Column C: "How likely are you to recommend us" 0-10: January 9, 6, 10; February 0, 8, 7.
    assert monthly_survey(path, question="C") == {
        "2026-01": {"responses": 3, "rating_sum": 25, "promoters": 2, "passives": 0, "detractors": 1},
        "2026-02": {"responses": 3, "rating_sum": 15, "promoters": 0, "passives": 2, "detractors": 1},
    }


def test_typeform_scale_confirmed_and_the_one_numeric_question_found():
    path = SAMPLES / "typeform-survey.csv"
    reading = Reading()
    got = monthly_survey(path, "1-10", reading=reading)
    # Submitted (UTC): 10 Jan 9, 28 Jan 7, 1 Feb 00:00:20 10, 12 Feb 8. Satisfied on 1-10: 8 to 10.
    assert got == {
        "2026-01": {"responses": 2, "rating_sum": 16, "satisfied": 1},
        "2026-02": {"responses": 2, "rating_sum": 18, "satisfied": 2},
    }
    assert any("counted the answers to 'How satisfied are you with your coaching session?'" in n for n in reading.notes)


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        (
            "google-forms-survey.csv",
            {},
            "2 questions have answers that are all whole numbers from 0 to 10; say which one to count with "
            '--survey-question "the question"',
        ),
        ("google-forms-survey.csv", {"question": "Nothing like it"}, "no question is 'Nothing like it'"),
        ("google-forms-survey.csv", {"question": "How"}, "2 questions start with 'How'"),
        (
            "typeform-survey.csv",
            {},
            "column How satisfied are you with your coaching session?: the answers go from 7 to 10, which fits a "
            "1-10 scale and a 0-10 (recommend) scale; say which with --survey-scale 1-10 or 0-10",
        ),
        (
            "google-forms-survey.csv",
            {"question": "C", "scale": "1-5"},
            "row 2, column How likely are you to recommend us to a friend?: a score on this 1-5 survey",
        ),
    ],
)
def test_survey_questions_and_scales_that_are_not_settled_are_asked_for(name, arguments, message):
    with pytest.raises(ExportError) as error:
        monthly_survey(SAMPLES / name, **arguments)
    assert message in str(error.value)
    assert str(error.value).startswith(str(SAMPLES / name))


# -- refusals ---------------------------------------------------------------------------------

HEADER = "order_id,customer_id,order_date,amount\n"


@pytest.mark.parametrize(
    ("content", "arguments", "message"),
    [
        (
            HEADER + '1,a,2026-01-02,"1,234"\n2,b,2026-01-03,"2,500"\n',
            {},
            "column amount: numbers such as 1,234 (row 2) read two ways, with a decimal point or a thousands "
            "separator, and every number in the column fits both; say which with --decimal .",
        ),
        (
            HEADER + "1,a,03/04/2026,10\n2,b,05/06/2026,12\n",
            {},
            "every date reads both ways, such as 03/04/2026 (row 2)",
        ),
        (
            HEADER + "1,a,13/04/2026,10\n2,b,05/16/2026,12\n",
            {},
            "column order_date: row 2 has a date with the day first and row 3 one with the month first",
        ),
        (HEADER + '1,a,2026-01-02,"$10.00"\n2,b,2026-01-03,"€12.00"\n', {}, "amounts in 2 currencies ($, €)"),
    ],
    ids=["ambiguous number", "ambiguous date", "two date orders", "two currency symbols"],
)
def test_what_reads_two_ways_is_refused_naming_file_row_column_and_option(tmp_path, content, arguments, message):
    path = tmp_path / "orders.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ExportError) as error:
        monthly_orders(path, **arguments)
    assert str(error.value).startswith(f"{path}: ")
    assert message in str(error.value)


def test_the_option_settles_what_reads_two_ways(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + '1,a,03/04/2026,"1,234"\n2,b,05/06/2026,"2,500"\n', encoding="utf-8")
    assert monthly_orders(path, reading=Reading(decimal=".", date_format="dd/mm/yyyy")) == {
        "2026-04": _figures(1234.0, 1, 1, 0),  # 3 April
        "2026-06": _figures(2500.0, 1, 1, 0),  # 5 June
    }
    assert monthly_orders(path, reading=Reading(decimal=",", date_format="mm/dd/yyyy")) == {
        "2026-03": _figures(1.234, 1, 1, 0),  # 4 March
        "2026-05": _figures(2.5, 1, 1, 0),  # 6 May
    }


def test_two_currencies_in_one_file_are_refused():
    with pytest.raises(ExportError, match=r"column Currency: the orders are in 2 currencies \(CAD, USD\)"):
        monthly_orders(SAMPLES / "shopify-orders-two-currencies.csv")


# -- a template refreshed from the samples ----------------------------------------------------


@pytest.fixture
def miniatures(tmp_path):
    business = default_catalog().business("custom-miniature-modeling")
    path = tmp_path / f"{business.id}.xlsx"
    save_atomically(build_workbook(business, 2026), path)
    return business, path


def _input(path, business, kpi_id, input_id, month):
    row = layout(business).input_rows[(kpi_id, input_id)]
    return openpyxl.load_workbook(path, data_only=True)["Inputs"].cell(row=row, column=4 + month).value


def test_refresh_from_shopify_and_google_forms_writes_the_hand_worked_figures(miniatures, capsys):
    business, path = miniatures
    assert main([
        "refresh", str(path), "--orders", str(SAMPLES / "shopify-orders.csv"),
        "--survey", str(SAMPLES / "google-forms-survey.csv"), "--survey-question", "How satisfied",
    ]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "shopify-orders.csv: read in the Shopify format (found from its columns" in out
    assert "google-forms-survey.csv: read in the Google Forms format" in out
    assert _input(path, business, "aov", "revenue", 0) == pytest.approx(339.50)  # see ORDERS
    assert _input(path, business, "aov", "orders", 1) == 2
    assert _input(path, business, "return_customer_rate", "repeat_customers", 1) == 2
    assert _input(path, business, "csat", "satisfied", 0) == 2
    assert _input(path, business, "csat", "responses", 1) == 2
    # Again with the same files: nothing to write, and it says so.
    assert main([
        "refresh", str(path), "--orders", str(SAMPLES / "shopify-orders.csv"),
        "--survey", str(SAMPLES / "google-forms-survey.csv"), "--survey-question", "How satisfied",
    ]) == 0  # fmt: skip
    # Orders give 5 inputs of this business (aov revenue and orders, return_customer_rate repeat
    # customers and customers, orders_completed) and the survey 2 (csat), for 2 months each.
    assert "0 values to write, 14 already there" in capsys.readouterr().out


def test_refresh_from_a_spanish_excel_inputs_table(miniatures, capsys):
    business, path = miniatures
    assert main(["refresh", str(path), "--inputs", str(SAMPLES / "european-inputs.csv")]) == 0
    assert "european-inputs.csv: column avg_production_time_total_hours read with a decimal comma" in (
        capsys.readouterr().out
    )
    assert _input(path, business, "avg_production_time", "total_hours", 0) == 412.5
    assert _input(path, business, "avg_production_time", "total_hours", 1) == 398.75
    assert _input(path, business, "social_engagement_growth", "current", 1) == 2450


def test_a_file_without_a_month_of_the_workbooks_year_is_an_error(miniatures, tmp_path, capsys):
    _, path = miniatures
    before = path.read_bytes()
    old = tmp_path / "orders-2025.csv"
    old.write_text(HEADER + "1,a,2025-03-02,10\n2,b,2025-05-03,12\n", encoding="utf-8")
    assert main(["refresh", str(path), "--orders", str(old)]) == 1
    err = capsys.readouterr().err
    assert "orders-2025.csv: none of its months is in the workbook, which covers 2026-01 to 2026-12" in err
    assert "the file has 2025-03 and 2025-05" in err
    assert path.read_bytes() == before


def test_a_kpi_month_with_some_inputs_but_not_all_is_listed_as_incomplete(miniatures, tmp_path, capsys):
    _, path = miniatures
    table = tmp_path / "inputs.csv"
    table.write_text("month,csat_satisfied,csat_responses\n2026-01,3,\n2026-02,4,5\n", encoding="utf-8")
    assert main(["refresh", str(path), "--inputs", str(table)]) == 0
    out = capsys.readouterr().out
    assert "incomplete: 2026-01 csat: no csat_responses" in out
    assert "2026-02 csat" not in out


def test_a_two_digit_year_is_read_as_excel_reads_it(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "1,a,01/15/26,10\n2,b,12/31/99,12\n", encoding="utf-8")
    # 26 is 2026 and 99 is 1999 (Excel: 00-29 are 2000-2029, 30-99 are 1930-1999)
    assert set(monthly_orders(path)) == {"2026-01", "1999-12"}


def test_a_platform_export_without_a_status_column_says_what_it_cannot_leave_out(tmp_path):
    path = tmp_path / "orders_export.csv"
    lines = (SAMPLES / "shopify-orders.csv").read_text().splitlines()
    header = lines[0].split(",")
    drop = header.index("Cancelled at")
    path.write_text("\n".join(",".join(c for n, c in enumerate(line.split(",")) if n != drop) for line in lines) + "\n")
    reading = Reading()
    got = monthly_orders(path, reading=reading)
    assert "orders_export.csv: no column 'Cancelled at', so no order could be left out as cancelled" in reading.notes
    # #1005 (cancelled, 60.00, dan, 4 February) now counts: February 150.00 + 60.00 + 250.00, three customers.
    assert got["2026-02"] == pytest.approx(_figures(150.00 + 60.00 + 250.00, 3, 3, 2))


def test_a_day_that_does_not_exist_is_refused_naming_the_order_read(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "1,a,15/01/2026,10\n2,b,31/02/2026,12\n", encoding="utf-8")
    with pytest.raises(ExportError) as error:
        monthly_orders(path)
    assert str(error.value) == (
        f"{path}, row 3, column order_date: this is not a calendar date (the column's dates read as dd/mm/yyyy; "
        "--date-format to say otherwise); got text '31/02/2026'"
    )
