import copy
import doctest
from decimal import Decimal
from pathlib import Path

import pytest

from lib import canonical, cxml_inbound, three_way_match, ubl_inbound
from lib.three_way_match import (
    InvoiceLine,
    OrderLine,
    Tolerance,
    invoiced_quantities,
    match,
    match_documents,
    received_quantities,
)

SAMPLES = Path(__file__).resolve().parent / "samples"


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


def test_a_lower_price_is_reported_too():
    (finding,) = match(_order(), _invoice(unit_price="20")).findings
    assert "unit price 20.00 instead of 24.90 ordered (4.90 less per unit" in (
        finding.message
    )


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


def test_credit_note_prices_are_checked_too():
    result = match(
        _order(invoiced=10), _invoice(quantity=2, unit_price=30), credit_note=True
    )
    assert _kinds(result) == ["price_mismatch"]


def test_credit_notes_reduce_the_invoiced_quantities():
    documents = [
        {"document_type": "invoice", "lines": [{"po_line_id": "1", "quantity": 10}]},
        {"document_type": "credit_note", "lines": [{"po_line_id": "1", "quantity": 4}]},
        {"document_type": "invoice", "lines": [{"line_id": "x", "quantity": 1}]},
    ]
    assert invoiced_quantities(documents) == {"1": Decimal(6)}


def test_received_quantities_add_up_per_order_line():
    receipts = [
        {
            "lines": [
                {"po_line_id": "1", "quantity": 4},
                {"po_line_id": 2, "quantity": 1},
            ]
        },
        {"lines": [{"po_line_id": "1", "quantity": 2.5}]},
    ]
    assert received_quantities(receipts) == {"1": Decimal("6.5"), "2": Decimal(1)}


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


# -- canonical documents -------------------------------------------------------


def _receipt(**changes):
    receipt = canonical.example("goods_receipt")
    receipt.update(changes)
    return receipt


def test_canonical_examples_match():
    result = match_documents(
        canonical.example("purchase_order"),
        canonical.example("invoice"),
        receipts=[_receipt()],
    )
    assert result.matched


def test_receipts_of_other_orders_do_not_count():
    result = match_documents(
        canonical.example("purchase_order"),
        canonical.example("invoice"),
        receipts=[_receipt(purchase_order_external_id="PO-000002")],
    )
    assert _kinds(result) == ["not_received", "not_received"]


def test_an_earlier_version_of_the_same_invoice_is_not_counted_twice():
    invoice = canonical.example("invoice")
    other = {**copy.deepcopy(invoice), "external_id": "DOC-INV-000002"}
    kwargs = {"receipts": [_receipt()]}
    order = canonical.example("purchase_order")
    assert match_documents(order, invoice, earlier_invoices=[invoice], **kwargs).matched
    result = match_documents(order, invoice, earlier_invoices=[other], **kwargs)
    assert set(_kinds(result)) == {"over_invoiced_quantity", "not_received"}


def test_a_credit_note_against_the_order_reduces_what_was_invoiced():
    invoice = canonical.example("invoice")
    credit = copy.deepcopy(invoice)
    credit.update(external_id="DOC-CN-1", document_type="credit_note")
    credit["lines"] = [{**invoice["lines"][0], "quantity": 3.0}]
    order = canonical.example("purchase_order")
    assert match_documents(order, credit, earlier_invoices=[invoice]).matched
    credit["lines"][0]["quantity"] = 11.0
    result = match_documents(order, credit, earlier_invoices=[invoice])
    assert _kinds(result) == ["over_credited_quantity"]


def test_invoice_in_another_currency_reports_it_and_skips_prices():
    invoice = {**canonical.example("invoice"), "currency": "USD"}
    result = match_documents(
        canonical.example("purchase_order"), invoice, receipts=[_receipt()]
    )
    (finding,) = result.findings
    assert (finding.kind, finding.expected, finding.actual) == (
        "currency_mismatch",
        "EUR",
        "USD",
    )
    assert finding.message == (
        "The invoice is in USD but the order is in EUR; unit prices cannot be "
        "compared."
    )


def test_matching_an_invoice_against_another_order_is_a_programming_error():
    invoice = {**canonical.example("invoice"), "purchase_order_external_id": "PO-9"}
    with pytest.raises(ValueError, match="refers to the purchase order 'PO-9'"):
        match_documents(canonical.example("purchase_order"), invoice)


def test_inbound_cxml_documents_match_end_to_end():
    def convert(name):
        envelope = cxml_inbound.parse_envelope((SAMPLES / f"{name}.xml").read_bytes())
        return cxml_inbound.to_canonical(envelope).document

    order, receipt = convert("cxml_order_request"), convert("cxml_receipt")
    invoice = convert("cxml_invoice_line_tax")
    assert match_documents(order, invoice, receipts=[receipt]).matched
    # the later invoice bills 6 more kg of coffee: over the order and the receipt
    second = convert("cxml_invoice_header_tax")
    result = match_documents(
        order, second, receipts=[receipt], earlier_invoices=[invoice]
    )
    assert _kinds(result) == [
        "unlinked_line",  # the shipping charge
        "over_invoiced_quantity",
        "not_received",
        "over_invoiced_quantity",
        "not_received",
    ]
    assert result.of_kind("over_invoiced_quantity")[1].message == (
        "Order line 2: 18.5 invoiced in total (12.5 before, 6 on this invoice) "
        "but only 12.5 ordered."
    )


def test_inbound_ubl_credit_note_matches_against_the_invoiced_order():
    order = canonical.example("purchase_order")
    invoice = ubl_inbound.invoice_to_canonical(
        (SAMPLES / "ubl_invoice.xml").read_bytes()
    )
    credit = ubl_inbound.invoice_to_canonical(
        (SAMPLES / "ubl_credit_note.xml").read_bytes()
    )
    assert match_documents(order, credit, earlier_invoices=[invoice]).matched
