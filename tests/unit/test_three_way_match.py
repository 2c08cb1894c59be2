import doctest
from decimal import Decimal

import pytest

from lib import three_way_match
from lib.three_way_match import InvoiceLine, OrderLine, Tolerance, match


def _order(**changes):
    values = {"ordered": 10, "unit_price": "24.90", "received": 10, "invoiced": 0}
    values.update(changes)
    return [OrderLine("1", **values)]


def _invoice(quantity=10, unit_price="24.90", po_line_id="1", line_id="A"):
    return [InvoiceLine(line_id, po_line_id, quantity=quantity, unit_price=unit_price)]


def _kinds(result):
    return [finding.kind for finding in result.findings]


def test_module_examples_hold():
    result = doctest.testmod(three_way_match, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_invoice_matching_order_and_receipt_has_no_findings():
    result = match(_order(), _invoice())
    assert result.matched
    assert result.findings == ()


def test_figures_become_decimals_so_sums_are_exact():
    order = _order(ordered="0.3", received="0.3")
    invoice = [
        InvoiceLine("A", "1", quantity=0.1, unit_price="24.90"),
        InvoiceLine("B", "1", quantity=0.2, unit_price=24.9),
    ]
    assert match(order, invoice).matched
    assert order[0].ordered == Decimal("0.3")


# -- quantities ----------------------------------------------------------------


def test_invoicing_more_than_ordered_is_reported_with_the_figures():
    result = match(_order(received=12), _invoice(quantity=12))
    (finding,) = result.findings
    assert finding.kind == "over_invoiced_quantity"
    assert (finding.po_line_id, finding.invoice_line_ids) == ("1", ("A",))
    assert (finding.expected, finding.actual) == (Decimal(10), Decimal(12))
    assert finding.message == "Order line 1: 12 invoiced but only 10 ordered."


def test_earlier_invoices_count_towards_the_ordered_quantity():
    result = match(_order(invoiced=8), _invoice(quantity=4))
    assert _kinds(result) == ["over_invoiced_quantity", "not_received"]
    assert result.findings[0].actual == Decimal(12)
    assert result.findings[0].message == (
        "Order line 1: 12 invoiced in total (8 before, 4 on this invoice) "
        "but only 10 ordered."
    )


def test_quantity_tolerance_accepts_a_small_excess():
    order = _order(received=11)
    assert match(order, _invoice(quantity=11), tolerance=Tolerance(10)).matched
    result = match(order, _invoice(quantity="11.5"), tolerance=Tolerance(10))
    assert _kinds(result) == ["over_invoiced_quantity"]
    assert "(up to 10 % more is accepted)" in result.findings[0].message


def test_invoicing_before_anything_is_received_is_reported():
    (finding,) = match(_order(received=0), _invoice()).findings
    assert finding.kind == "not_received"
    assert (finding.expected, finding.actual) == (Decimal(0), Decimal(10))
    assert finding.message == (
        "Order line 1: 10 invoiced but nothing has been received yet."
    )


def test_products_billed_on_ordered_quantities_need_no_receipt():
    order = _order(received=0, billing_control="ordered")
    assert match(order, _invoice()).matched
    assert _kinds(match(order, _invoice(quantity=11))) == ["over_invoiced_quantity"]


def test_an_unknown_billing_control_is_refused():
    with pytest.raises(ValueError, match="billing control of order line 1"):
        OrderLine("1", ordered=1, unit_price=1, billing_control="delivered")


def test_invoicing_more_than_received_is_reported():
    (finding,) = match(_order(received=6), _invoice()).findings
    assert finding.kind == "not_received"
    assert finding.message == "Order line 1: 10 invoiced but only 6 received."


def test_lines_on_the_same_order_line_add_up():
    invoice = [*_invoice(quantity=6, line_id="A"), *_invoice(quantity=6, line_id="B")]
    (finding,) = match(_order(received=12), invoice).findings
    assert finding.kind == "over_invoiced_quantity"
    assert finding.invoice_line_ids == ("A", "B")
    assert finding.actual == Decimal(12)


# -- prices --------------------------------------------------------------------


def test_a_different_price_without_tolerance_is_reported():
    (finding,) = match(_order(), _invoice(unit_price="24.91")).findings
    assert finding.kind == "price_mismatch"
    assert (finding.expected, finding.actual) == (Decimal("24.90"), Decimal("24.91"))
    assert finding.message == (
        "Invoice line A (order line 1): unit price 24.91 instead of 24.90 ordered "
        "(0.01 more per unit, 0.04 %), 0.10 more on the line; no difference is "
        "accepted."
    )


def test_price_within_the_percent_tolerance_is_accepted():
    tolerance = Tolerance(price_percent=1)
    assert match(_order(), _invoice(unit_price="25.149"), tolerance=tolerance).matched
    result = match(_order(), _invoice(unit_price="25.15"), tolerance=tolerance)
    assert _kinds(result) == ["price_mismatch"]


def test_price_amount_tolerance_is_on_the_line_total():
    tolerance = Tolerance(price_amount=5)
    # 10 units at 0.50 more: 5.00 on the line
    assert match(_order(), _invoice(unit_price="25.40"), tolerance=tolerance).matched
    result = match(_order(), _invoice(unit_price="25.41"), tolerance=tolerance)
    assert "5.10 more on the line; up to 5.00 on the line is accepted" in (
        result.findings[0].message
    )


def test_every_price_limit_that_is_set_must_hold():
    tolerance = Tolerance(price_percent=5, price_amount=2)
    # 0.50 more per unit is 2 % but 5.00 on the line
    result = match(_order(), _invoice(unit_price="25.40"), tolerance=tolerance)
    assert _kinds(result) == ["price_mismatch"]
    assert "up to 5 % and 2.00 on the line is accepted" in result.findings[0].message


def test_a_lower_price_is_accepted_unless_the_lower_tolerance_is_on():
    assert match(_order(), _invoice(unit_price="20")).matched
    lower = Tolerance(check_lower=True)
    (finding,) = match(_order(), _invoice(unit_price="20"), tolerance=lower).findings
    assert "unit price 20.00 instead of 24.90 ordered (4.90 less per unit" in (
        finding.message
    )
    assert finding.message.endswith("; no difference is accepted.")


def test_the_lower_tolerance_has_its_own_limits():
    # 2 % below the order: 0.498 less per unit
    below = _invoice(unit_price="24.402")
    assert match(_order(), below, tolerance=Tolerance(price_percent=5)).matched
    one_percent = Tolerance(price_percent=5, check_lower=True, lower_percent=1)
    (finding,) = match(_order(), below, tolerance=one_percent).findings
    assert "(0.498 less per unit, 2 %), 4.98 less on the line; up to 1 % is " in (
        finding.message
    )
    three_percent = Tolerance(check_lower=True, lower_percent=3)
    assert match(_order(), below, tolerance=three_percent).matched
    # the lower limits do not widen the upper side
    above = _invoice(unit_price="25.398")
    (finding,) = match(_order(), above, tolerance=three_percent).findings
    assert finding.message.endswith("; no difference is accepted.")


def test_an_amount_limit_on_the_lower_side_is_on_the_line():
    tolerance = Tolerance(check_lower=True, lower_amount=5)
    assert match(_order(), _invoice(unit_price="24.40"), tolerance=tolerance).matched
    result = match(_order(), _invoice(unit_price="24.39"), tolerance=tolerance)
    assert _kinds(result) == ["price_mismatch"]


def test_prices_with_more_decimals_keep_them_and_the_currency_is_named():
    result = match(
        _order(unit_price="0.1234"), _invoice(unit_price="0.1250"), currency="EUR"
    )
    assert "unit price 0.125 EUR instead of 0.1234 EUR ordered" in (
        result.findings[0].message
    )


# -- lines that cannot be matched ----------------------------------------------


def test_invoice_line_for_an_unknown_order_line_is_reported():
    (finding,) = match(_order(), _invoice(po_line_id="9")).findings
    assert (finding.kind, finding.actual) == ("unknown_line", "9")
    assert finding.message == (
        "Invoice line A refers to order line 9, which the order does not have."
    )


def test_invoice_line_without_order_line_is_reported():
    (finding,) = match(_order(), _invoice(po_line_id=None)).findings
    assert finding.kind == "unlinked_line"
    assert finding.invoice_line_ids == ("A",)


def test_order_lines_not_invoiced_yet_are_fine():
    order = [*_order(), OrderLine("2", ordered=5, unit_price=1)]
    assert match(order, _invoice()).matched


# -- credit notes --------------------------------------------------------------


def test_credit_note_within_the_invoiced_quantity_matches():
    result = match(_order(invoiced=10), _invoice(quantity=2), credit_note=True)
    assert result.matched


def test_credit_note_does_not_need_a_receipt():
    order = _order(received=0, invoiced=10)
    assert match(order, _invoice(quantity=2), credit_note=True).matched


def test_crediting_more_than_invoiced_is_reported():
    result = match(_order(invoiced=3), _invoice(quantity=5), credit_note=True)
    (finding,) = result.findings
    assert finding.kind == "over_credited_quantity"
    assert (finding.expected, finding.actual) == (Decimal(3), Decimal(5))
    assert finding.message == (
        "Order line 1: the credit note credits 5 but only 3 have been invoiced."
    )
    (nothing,) = match(_order(), _invoice(quantity=1), credit_note=True).findings
    assert nothing.message.endswith("but nothing has been invoiced yet.")


def test_a_credit_note_below_the_order_price_costs_the_company_and_is_reported():
    result = match(
        _order(invoiced=10), _invoice(quantity=2, unit_price=20), credit_note=True
    )
    (finding,) = result.findings
    assert finding.kind == "price_mismatch"
    assert "unit price 20.00 instead of 24.90 ordered (4.90 less per unit" in (
        finding.message
    )
    assert finding.message.endswith("must be marked as a price adjustment.")
    tolerance = Tolerance(price_percent=20)
    assert match(
        _order(invoiced=10),
        _invoice(quantity=2, unit_price=20),
        credit_note=True,
        tolerance=tolerance,
    ).matched


def test_a_credit_note_above_the_order_price_is_on_the_lower_side():
    order, credit = _order(invoiced=10), _invoice(quantity=2, unit_price=30)
    assert match(order, credit, credit_note=True).matched
    result = match(
        order, credit, credit_note=True, tolerance=Tolerance(check_lower=True)
    )
    assert _kinds(result) == ["price_mismatch"]


# -- price adjustments (rebates) -------------------------------------------------


def _rebate(quantity=10, unit_price="0.40", line_id="R"):
    return [
        InvoiceLine(
            line_id,
            "1",
            quantity=quantity,
            unit_price=unit_price,
            price_adjustment=True,
        )
    ]


def test_a_rebate_on_invoiced_units_matches_without_a_price_check():
    assert match(_order(invoiced=10), _rebate(), credit_note=True).matched


def test_a_rebate_on_more_units_than_invoiced_is_reported():
    (finding,) = match(_order(invoiced=6), _rebate(), credit_note=True).findings
    assert finding.kind == "over_credited_quantity"
    assert finding.message == (
        "Order line 1: the price adjustment applies to 10 units but only 6 have "
        "been invoiced."
    )


def test_a_rebate_larger_than_the_price_is_reported():
    result = match(_order(invoiced=10), _rebate(unit_price=25), credit_note=True)
    (finding,) = result.findings
    assert finding.kind == "over_credited_price"
    assert "lowers the price by 25.00 per unit, more than the 24.90 billed" in (
        finding.message
    )


def test_a_price_adjustment_on_an_invoice_is_reported():
    (finding,) = match(_order(invoiced=10), _rebate()).findings
    assert finding.kind == "adjustment_not_credit"


def test_a_rebate_does_not_count_as_a_credited_quantity():
    credit = [*_invoice(quantity=2, unit_price="24.90"), *_rebate(quantity=8)]
    assert match(_order(invoiced=10), credit, credit_note=True).matched


# -- input problems ------------------------------------------------------------


def test_tolerances_must_not_be_negative():
    with pytest.raises(ValueError, match="price_percent must not be negative"):
        Tolerance(price_percent=-1)


def test_figures_must_be_numbers():
    with pytest.raises(ValueError, match="ordered of OrderLine must be a number"):
        OrderLine("1", ordered="ten", unit_price=1)
    with pytest.raises(ValueError, match="quantity of InvoiceLine must be a number"):
        InvoiceLine("1", "1", quantity=None, unit_price=1)


def test_an_order_with_two_lines_of_the_same_id_is_refused():
    with pytest.raises(ValueError, match="two lines with the id '1'"):
        match([*_order(), *_order()], _invoice())


# -- figures as the ORM gives them ------------------------------------------------


def test_figures_written_as_odoo_floats_match_and_read_plainly():
    # the invoice handler passes str() of Odoo's float fields
    order = [OrderLine("1", ordered="10.0", unit_price="24.9", received="6.0")]
    invoice = [InvoiceLine("7", "1", quantity="10.0", unit_price="24.9")]
    (finding,) = match(order, invoice, currency="EUR").findings
    assert finding.message == "Order line 1: 10 invoiced but only 6 received."


def test_prices_are_not_compared_when_told_not_to():
    result = match(_order(received=6), _invoice(unit_price=99), compare_prices=False)
    assert _kinds(result) == ["not_received"]


def test_findings_can_be_picked_by_kind():
    invoice = [*_invoice(unit_price=30), *_invoice(po_line_id="9", line_id="B")]
    result = match(_order(received=6), invoice)
    assert _kinds(result) == ["price_mismatch", "unknown_line", "not_received"]
    assert [f.invoice_line_ids for f in result.of_kind("unknown_line")] == [("B",)]
    assert result.of_kind("over_credited_quantity") == []


def test_lines_that_cannot_be_matched_do_not_count_towards_quantities():
    invoice = [*_invoice(quantity=10), *_invoice(quantity=5, po_line_id=None)]
    assert _kinds(match(_order(), invoice)) == ["unlinked_line"]


def test_a_free_order_line_gives_no_percentage():
    (finding,) = match(_order(unit_price=0), _invoice(unit_price=1)).findings
    assert "(1.00 more per unit), 10.00 more on the line;" in finding.message


def test_the_quantity_tolerance_does_not_widen_a_credit_note():
    tolerance = Tolerance(quantity_percent=50)
    result = match(
        _order(invoiced=4), _invoice(quantity=5), credit_note=True, tolerance=tolerance
    )
    assert _kinds(result) == ["over_credited_quantity"]


def test_tolerances_read_text_and_describe_themselves():
    tolerance = Tolerance(quantity_percent="2.50", price_amount="1.5")
    assert tolerance.quantity_percent == Decimal("2.5")
    assert tolerance.price_percent is None
    assert tolerance.describe(" EUR") == "up to 1.50 EUR on the line is accepted"
    assert Tolerance().describe() == "no difference is accepted"
    with pytest.raises(ValueError, match="quantity_percent must not be negative"):
        Tolerance(quantity_percent="-0.1")
    with pytest.raises(ValueError, match="price amount of Tolerance must be a number"):
        Tolerance(price_amount="a lot")


# -- rebates across credit notes, at the billed price ---------------------------


def test_earlier_rebates_count_against_the_billed_value():
    order = _order(unit_price=4, invoiced=10, rebated=25)
    (finding,) = match(order, _rebate(unit_price="2.00"), credit_note=True).findings
    assert finding.kind == "over_credited_price"
    assert (finding.expected, finding.actual) == (Decimal(40), Decimal(45))
    assert finding.message == (
        "Order line 1: the rebates take 45.00 off in total (25.00 before, 20.00 "
        "on this credit note), more than the 40.00 its 10 units were billed at."
    )
    # exactly down to zero is still accepted
    assert match(order, _rebate(unit_price="1.50"), credit_note=True).matched


def test_a_rebate_is_capped_at_the_billed_price_not_the_ordered_one():
    # ordered at 4.00 but billed at 3.00 (accepted lower price)
    order = _order(unit_price=4, invoiced=10, billed_value=30)
    (finding,) = match(order, _rebate(unit_price="3.50"), credit_note=True).findings
    assert finding.kind == "over_credited_price"
    assert finding.message.endswith(
        "lowers the price by 3.50 per unit, more than the 3.00 billed."
    )
    assert match(order, _rebate(unit_price="3.00"), credit_note=True).matched


# -- currencies with other decimals than two ------------------------------------


def test_a_price_gap_in_kuwaiti_dinars_is_measured_in_fils():
    order = [OrderLine("1", ordered=3, unit_price="1.000", received=3)]
    invoice = [InvoiceLine("A", "1", quantity=3, unit_price="1.0015")]
    result = match(
        order,
        invoice,
        tolerance=Tolerance(price_amount="0.004"),
        currency="KWD",
        currency_places=3,
    )
    (finding,) = result.findings
    # 3 x 0.0015 = 0.0045, rounded to 0.005 KWD (not 0.00), over 0.004 KWD
    assert finding.message == (
        "Invoice line A (order line 1): unit price 1.0015 KWD instead of "
        "1.000 KWD ordered (0.0015 KWD more per unit, 0.15 %), 0.005 KWD more on "
        "the line; up to 0.004 KWD on the line is accepted."
    )
    accepted = Tolerance(price_amount="0.005")
    assert match(order, invoice, tolerance=accepted, currency_places=3).matched


def test_a_price_gap_in_yen_is_measured_in_whole_yen():
    order = [OrderLine("1", ordered=3, unit_price=100, received=3)]
    invoice = [InvoiceLine("A", "1", quantity=3, unit_price="100.2")]
    tolerance = Tolerance(price_amount=0)
    # 0.60 yen on the line rounds to 1 yen: reported in whole yen
    (finding,) = match(
        order, invoice, tolerance=tolerance, currency="JPY", currency_places=0
    ).findings
    assert finding.message == (
        "Invoice line A (order line 1): unit price 100.2 JPY instead of 100 JPY "
        "ordered (0.2 JPY more per unit, 0.2 %), 1 JPY more on the line; up to "
        "0 JPY on the line is accepted."
    )
