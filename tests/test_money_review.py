from datetime import date

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import supplier_event
from .test_p2p_matching_and_posting import P2PMatchingCase, order_line
from .test_procure_to_pay import MAIL, invoice_event, order_event, receipt_event


def rebate_event(n, quantity, per_unit, order=1):
    """A credit note that only lowers the price of ``quantity`` billed units."""
    event = invoice_event(
        n, [("1", quantity, per_unit)], document_type="credit_note", order=order
    )
    event["data"]["lines"][0]["price_adjustment"] = True
    return event


@tagged("post_install", "-at_install")
class TestMoneyReview(P2PMatchingCase):
    """Money rules found by the AP review, played through the signed intake:
    rebates across credit notes, the agreed payment term, held drafts."""

    # -- rebates: all credit notes together, at the billed price -----------------------

    @mute_logger(MAIL)
    def test_rebates_on_several_credit_notes_never_take_off_more_than_was_billed(
        self,
    ):
        order = self.order_with(received=[("1", 10)])
        self.from_ap(invoice_event(1, [("1", 10, 4.0)]))
        self.assertEqual(self.bill(1).state, "posted")
        first = self.from_ap(rebate_event(2, 10, 2.5))
        self.assertEqual(first.state, "done", first.error_message)
        self.assertEqual(
            (self.bill(2).state, self.bill(2).amount_total), ("posted", 28.75)
        )
        # 2.50 + 2.00 = 4.50 off a 4.00 price: held, whatever the order says
        self.from_ap(rebate_event(3, 10, 2.0))
        second = self.bill(3)
        self.assertEqual(second.state, "draft")
        self.assertEqual(
            second.fih_hold_reason,
            f"Order line 1: the rebates take 45.00 {self.currency} off in total "
            f"(25.00 {self.currency} before, 20.00 {self.currency} on this credit "
            f"note), more than the 40.00 {self.currency} its 10 units were billed "
            "at.",
        )
        # down to exactly nothing is accepted: 2.50 + 1.50 = 4.00
        self.from_ap(rebate_event(4, 10, 1.5))
        last = self.bill(4)
        self.assertEqual((last.state, last.fih_hold_reason), ("posted", False))
        self.assertEqual(
            self.journal_items(last),
            [
                ("liability_payable", 17.25, 0.0),
                ("tax", 0.0, 2.25),
                ("expense", 0.0, 15.0),
            ],
        )
        # the held draft did not count: the billed quantity stays 10
        paper = self.paper_line(order)
        self.assertEqual((paper.qty_invoiced, paper.qty_to_invoice), (10, 0))

    @mute_logger(MAIL)
    def test_a_rebate_is_limited_by_the_price_billed_not_the_price_ordered(self):
        self.order_with(received=[("1", 10)])
        # billed below the order price: 3.80 instead of 4.00 (the lower side is
        # not checked by default)
        self.from_ap(invoice_event(1, [("1", 10, 3.8)]))
        self.assertEqual(self.bill(1).state, "posted")
        self.from_ap(rebate_event(2, 10, 3.9))
        held = self.bill(2)
        self.assertEqual(held.state, "draft")
        self.assertEqual(
            held.fih_hold_reason,
            "Invoice line 1 (order line 1): the price adjustment lowers the price "
            f"by 3.90 {self.currency} per unit, more than the 3.80 {self.currency} "
            "billed.",
        )

    @mute_logger(MAIL)
    def test_a_rebate_greater_than_the_ordered_price_before_any_billing_is_held(
        self,
    ):
        self.order_with(received=[("1", 10)])
        self.from_ap(rebate_event(1, 10, 4.5))
        held = self.bill(1)
        self.assertEqual(held.state, "draft")
        self.assertIn(
            f"the price adjustment lowers the price by 4.50 {self.currency} per "
            f"unit, more than the 4.00 {self.currency} ordered.",
            held.fih_hold_reason,
        )
        self.assertIn(
            "the price adjustment applies to 10 units but only 0 have been "
            "invoiced.",
            held.fih_hold_reason,
        )

    @mute_logger(MAIL)
    def test_a_price_adjustment_flag_on_an_invoice_is_held(self):
        self.order_with(received=[("1", 10)])
        event = invoice_event(1, [("1", 10, 0.5)])
        event["data"]["lines"][0]["price_adjustment"] = True
        self.from_ap(event)
        held = self.bill(1)
        self.assertEqual((held.move_type, held.state), ("in_invoice", "draft"))
        self.assertIn(
            "Invoice line 1 (order line 1) is marked as a price adjustment, which "
            "only a credit note can be",
            held.fih_hold_reason,
        )

    # -- held drafts are not invoiced quantities ---------------------------------------

    @mute_logger(MAIL)
    def test_a_held_draft_does_not_use_up_the_quantity_a_correct_bill_needs(self):
        order = self.order_with(received=[("1", 10)])
        self.from_ap(invoice_event(1, [("1", 10, 4.5)]))
        self.assertEqual(self.bill(1).state, "draft")
        self.from_ap(invoice_event(2, [("1", 10, 4.0)]))
        correct = self.bill(2)
        self.assertEqual((correct.state, correct.fih_hold_reason), ("posted", False))
        self.assertEqual(
            self.journal_items(correct),
            [
                ("expense", 40.0, 0.0),
                ("tax", 6.0, 0.0),
                ("liability_payable", 0.0, 46.0),
            ],
        )
        # a credit note is measured against the posted bill only
        self.from_ap(invoice_event(3, [("1", 10, 4.0)], document_type="credit_note"))
        self.assertEqual(self.bill(3).state, "posted")
        self.env.invalidate_all()
        self.assertEqual(self.paper_line(order).qty_invoiced, 10)

    # -- the agreed payment term -------------------------------------------------------

    def test_without_a_due_date_the_orders_payment_term_beats_the_suppliers(self):
        order = self.order_with(received=[("1", 10)])
        order.partner_id.property_supplier_payment_term_id = self.env.ref(
            "account.account_payment_term_30days"
        )
        order.payment_term_id = self.env.ref("account.account_payment_term_45days")
        event = invoice_event(1, [("1", 10, 4.0)])
        del event["data"]["due_date"]
        self.from_ap(event)
        bill = self.bill(1)
        self.assertEqual(bill.state, "posted", bill.fih_hold_reason)
        self.assertEqual(bill.invoice_payment_term_id, order.payment_term_id)
        # invoiced on 26 November 2026: due 45 days later
        self.assertEqual(bill.invoice_date_due, date(2027, 1, 10))
        payable = bill.line_ids.filtered("date_maturity")
        self.assertEqual(
            (payable.date_maturity, payable.credit), (date(2027, 1, 10), 46.0)
        )

    # -- Peppol participants -----------------------------------------------------------

    @mute_logger(MAIL)
    def test_a_peppol_supplier_is_found_in_the_orders_company_and_never_guessed(self):
        other_company = self.env["res.company"].create({"name": "Other Company"})
        Partner = self.env["res.partner"]
        Partner.create(
            {
                "name": "Acme Papers (other company)",  # sorts first
                "company_registry": "0123456789",
                "company_id": other_company.id,
            }
        )
        shared = Partner.create(
            {"name": "Paper Mill (shared)", "company_registry": "0123456789"}
        )
        lines = [order_line("1", "PAPER", 10, 4.0)]
        event = order_event(1, supplier_external_id="0208:0123456789", lines=lines)
        message = self.from_procurement(event)
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(self.order(1).partner_id, shared)
        # a second partner with the same number in reach: refused, not guessed
        Partner.create({"name": "Paper Mill BV", "vat": "BE0123456789"})
        again = order_event(2, supplier_external_id="0208:0123456789", lines=lines)
        refused = self.from_procurement(again)
        self.assertEqual((refused.state, refused.error_kind), ("failed", "business"))
        self.assertEqual(
            refused.error_message,
            "Supplier 0208:0123456789: several partners have the number 0123456789 "
            "(Paper Mill (shared), Paper Mill BV), so the document cannot tell "
            "which supplier it is from. Keep the number on one partner only, or "
            "name the supplier in the cross-reference table 'suppliers'.",
        )
        self.assertFalse(self.order(2))

    # -- quantities Odoo would round ---------------------------------------------------

    @mute_logger(MAIL)
    def test_a_quantity_odoo_would_round_refuses_the_order_and_receipt_holds_the_bill(
        self,
    ):
        self.assertEqual(
            self.env["decimal.precision"].precision_get("Product Unit of Measure"), 2
        )
        self.from_procurement(supplier_event(1))
        event = order_event(1, lines=[order_line("1", "PAPER", 2.125, 4.0)])
        refused = self.from_procurement(event)
        self.assertEqual((refused.state, refused.error_kind), ("failed", "business"))
        self.assertEqual(
            refused.error_message,
            "Order PO-1 is not created or changed: Line 1: the quantity 2.125 has 3 "
            "decimals but Odoo keeps quantities to 2 decimals (Product Unit of "
            "Measure precision): it would become 2.13. Quantities are never "
            "rounded silently: raise the Product Unit of Measure precision to 3 "
            "decimals (Settings > Technical > Database Structure > Decimal "
            "Accuracy), then process the document again.",
        )
        self.assertFalse(self.order(1))
        order = self.order_with(2, [order_line("1", "PAPER", 10, 4.0)])
        receipt = receipt_event(1, [("1", 1.005)], order=2)
        refused = self.from_procurement(receipt)
        self.assertEqual((refused.state, refused.error_kind), ("failed", "business"))
        self.assertIn(
            "Receipt GR-1 is not booked: Line 1: the quantity 1.005 has 3 decimals",
            refused.error_message,
        )
        self.assertEqual(self.paper_line(order).qty_received, 0)
        # received in full; the bill states 1.005 units: held, not rounded
        self.assertEqual(
            self.from_procurement(receipt_event(2, [("1", 10)], order=2)).state,
            "done",
        )
        self.from_ap(invoice_event(1, [("1", 1.005, 4.0)], order=2, tax=0.6))
        held = self.bill(1)
        self.assertEqual(held.state, "draft")
        self.assertIn(
            "Line 1: the quantity 1.005 has 3 decimals but Odoo keeps quantities "
            "to 2 decimals (Product Unit of Measure precision): it would become "
            "1.01.",
            held.fih_hold_reason,
        )
