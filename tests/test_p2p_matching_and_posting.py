from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import FihTransactionCase, run_drain_job, supplier_event
from .test_procure_to_pay import MAIL, invoice_event, order_event, receipt_event


def order_line(line_id, code, quantity, price):
    return {
        "line_id": line_id,
        "product_code": code,
        "description": f"Item {code}",
        "quantity": quantity,
        "uom": "Units",
        "unit_price": price,
        "tax_codes": ["VAT15"],
    }


class P2PMatchingCase(FihTransactionCase):
    """Set-up and helpers of the bill checks' scenarios: an AP backend beside
    the procurement one, paper billed on receipt, toner billed on order."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_ap_backend()
        cls.company = cls.env.company
        cls.paper = cls.env["product.product"].create(
            {
                "name": "Paper A4",
                "default_code": "PAPER",
                "type": "consu",
                "is_storable": True,
                "purchase_method": "receive",
            }
        )
        cls.toner = cls.env["product.product"].create(
            {
                "name": "Toner, billed on order",
                "default_code": "TONER",
                "type": "consu",
                "is_storable": True,
                "purchase_method": "purchase",
            }
        )
        plan = cls.env["account.analytic.plan"].create({"name": "Cost centres"})
        cls.env["account.analytic.account"].create(
            {"name": "Marketing", "code": "CC100", "plan_id": plan.id}
        )
        cls.currency = cls.company.currency_id.name
        cls.accountant = cls.env["res.users"].create(
            {
                "name": "Alice Accountant",
                "login": "alice.accountant",
                "email": "alice.accountant@example.com",
                "company_id": cls.company.id,
                "company_ids": [Command.set(cls.company.ids)],
                "groups_id": [
                    Command.set(
                        [
                            cls.env.ref("base.group_user").id,
                            cls.env.ref("account.group_account_invoice").id,
                        ]
                    )
                ],
            }
        )

    # -- helpers -----------------------------------------------------------------------

    def in_currency(self, event, currency=None):
        if "currency" in event["data"]:
            event["data"]["currency"] = currency or self.currency
        return event

    def from_ap(self, event, currency=None):
        return self.deliver(self.ap, self.in_currency(event, currency), self.ap_secret)

    def from_procurement(self, event, currency=None):
        self.assertEqual(self.receive(self.in_currency(event, currency)).status, 202)
        self.process()
        return self.messages(idempotency_key=event["id"])

    def order(self, n=1):
        return self.bound("purchase_order", f"PO-{n}", "purchase.order")

    def bill(self, n):
        return self.bound("invoice", f"INV-{n}", "account.move")

    def order_with(self, n=1, lines=None, received=None, currency=None):
        """Supplier 1 and order ``n`` (10 paper at 4.00 by default), confirmed;
        ``received``: the quantities received per order line."""
        if not self.partners_by_external_id("SUP-000001"):
            self.from_procurement(supplier_event(1))
        event = order_event(n)
        event["data"]["lines"] = lines or [order_line("1", "PAPER", 10, 4.0)]
        message = self.from_procurement(event, currency)
        self.assertEqual(message.state, "done", message.error_message)
        if received:
            receipt = receipt_event(n, received, order=n)
            self.assertEqual(self.from_procurement(receipt).state, "done")
        return self.order(n)

    def paper_line(self, order):
        return order.order_line.filtered(lambda line: line.product_id == self.paper)

    def journal_items(self, move):
        """(account type, or 'tax' for a tax line; debit; credit), debits first."""
        return [
            (
                "tax" if line.tax_line_id else line.account_id.account_type,
                line.debit,
                line.credit,
            )
            for line in move.line_ids.sorted(lambda line: (-line.debit, line.credit))
        ]

    def notes(self, move):
        return "\n".join(move.message_ids.mapped("body"))


@tagged("post_install", "-at_install")
class TestP2PMatchingAndPosting(P2PMatchingCase):
    """The checks before a bill is posted and the posting policy, played
    through the signed intake: prices Odoo would round, the document's due
    date, orders in another currency, duplicates, the posting policy, late
    invoices, the price tolerance per direction, billing control and rebates.
    """

    # -- rule 4: prices with more decimals than Odoo keeps -----------------------------

    @mute_logger(MAIL)
    def test_a_price_odoo_would_round_holds_the_order_and_the_bill(self):
        self.assertEqual(
            self.env["decimal.precision"].precision_get("Product Price"), 2
        )
        self.from_procurement(supplier_event(1))
        event = order_event(1)
        event["data"]["lines"] = [
            order_line("1", "PAPER", 250, 1.789),
            order_line("2", "PAPER", 100, 0.125),  # UBL: 12.50 per 100
            order_line("3", "PAPER", 250, 4.000),  # nothing to round
        ]
        refused = self.from_procurement(event)
        self.assertEqual((refused.state, refused.error_kind), ("failed", "business"))
        self.assertFalse(self.order(1))
        for text in (
            "Line 1: the unit price 1.789 has 3 decimals",
            "it would become 1.79, and 250 units would come to 447.50 instead of "
            "447.25",
            "Line 2: the unit price 0.125",
            "100 units would come to 13.00 instead of 12.50",
            "raise the Product Price precision to 3 decimals (Settings > Technical "
            "> Database Structure > Decimal Accuracy)",
        ):
            self.assertIn(text, refused.error_message)
        self.assertNotIn("Line 3", refused.error_message)
        # an order at 1.79 is billed at 1.789: the bill is held, not rounded
        order = self.order_with(
            2, [order_line("1", "PAPER", 250, 1.79)], received=[("1", 250)]
        )
        self.assertEqual(order.order_line.price_unit, 1.79)
        stated = invoice_event(1, [("1", 250, 1.789)], order=2, tax=67.09)
        self.assertEqual(self.from_ap(stated).state, "done")
        bill = self.bill(1)
        self.assertEqual(bill.state, "draft")
        self.assertIn(
            "Line 1: the unit price 1.789 has 3 decimals", bill.fih_hold_reason
        )
        # the administrator raises the precision; the document is sent again
        self.env.ref("product.decimal_price").digits = 3
        again = self.from_ap(stated | {"id": "evt-inv-1b"})
        self.assertEqual(again.state, "done", again.error_message)
        self.assertEqual(self.bill(1), bill)
        self.assertEqual((bill.state, bill.fih_hold_reason), ("posted", False))
        self.assertEqual(bill.invoice_line_ids.price_unit, 1.789)
        self.assertEqual(
            (bill.amount_untaxed, bill.amount_tax, bill.amount_total),
            (447.25, 67.09, 514.34),
        )
        self.assertEqual(
            self.journal_items(bill),
            [
                ("expense", 447.25, 0.0),
                ("tax", 67.09, 0.0),
                ("liability_payable", 0.0, 514.34),
            ],
        )

    # -- rule 6: the document's due date -----------------------------------------------

    def test_the_documents_due_date_is_kept_and_another_agreed_date_noted(self):
        order = self.order_with(received=[("1", 10)])
        term = self.env.ref("account.account_payment_term_30days")
        order.partner_id.property_supplier_payment_term_id = term
        event = invoice_event(1, [("1", 4, 4.0)], due_date="2026-12-10")
        self.assertEqual(self.from_ap(event).state, "done")
        bill = self.bill(1)
        self.assertEqual(bill.state, "posted")
        self.assertEqual(bill.invoice_date_due, date(2026, 12, 10))
        self.assertFalse(bill.invoice_payment_term_id)
        payable = bill.line_ids.filtered(
            lambda line: line.account_id.account_type == "liability_payable"
        )
        self.assertEqual(
            (payable.date_maturity, payable.credit), (date(2026, 12, 10), 18.4)
        )
        self.assertIn("Due date 2026-12-10 kept", self.notes(bill))
        self.assertIn("would make the bill due on 2026-12-26", self.notes(bill))
        # the agreed date itself: kept, nothing to note
        same = invoice_event(2, [("1", 6, 4.0)], due_date="2026-12-26")
        self.from_ap(same)
        self.assertEqual(self.bill(2).invoice_date_due, date(2026, 12, 26))
        self.assertNotIn("kept", self.notes(self.bill(2)))

    # -- rule 7: a bill in another currency than its order -----------------------------

    @mute_logger(MAIL)
    def test_a_bill_in_another_currency_is_matched_at_the_invoice_date_rate(self):
        company_currency = self.company.currency_id
        foreign = self.env.ref("base.EUR")
        if foreign == company_currency:
            foreign = self.env.ref("base.USD")
        foreign.active = True
        foreign.rate_ids.unlink()
        # on the order date (20 November) 1 foreign = 2.00 company units; from
        # 23 November, before the invoice date (26 November), 1 company unit =
        # 0.8 foreign: 1 foreign = 1.25 company units
        self.env["res.currency.rate"].create(
            [
                {"currency_id": foreign.id, "name": "2026-11-01", "rate": 0.5},
                {"currency_id": foreign.id, "name": "2026-11-23", "rate": 0.8},
            ]
        )
        order = self.order_with(received=[("1", 10)], currency=foreign.name)
        self.assertEqual(order.currency_id, foreign)
        # 4.00 ordered is 5.00 at the invoice date (8.00 at the order date's
        # rate); 5.05 is 1 % more
        event = invoice_event(1, [("1", 10, 5.05)], tax=7.58)
        self.from_ap(event)
        bill = self.bill(1)
        self.assertEqual((bill.state, bill.currency_id), ("draft", company_currency))
        self.assertIn(
            f"unit price 5.05 {company_currency.name} instead of 5.00 "
            f"{company_currency.name} ordered",
            bill.fih_hold_reason,
        )
        self.assertIn(
            f"1 {foreign.name} = 1.25 {company_currency.name}", bill.fih_hold_reason
        )
        self.assertNotIn("Currency:", bill.fih_hold_reason)
        self.company.fih_match_price_tolerance_percent = 2
        self.assertEqual(self.from_ap(event | {"id": "evt-inv-1b"}).state, "done")
        self.assertEqual((bill.state, bill.fih_hold_reason), ("posted", False))
        self.assertEqual(
            self.journal_items(bill),
            [
                ("expense", 50.5, 0.0),
                ("tax", 7.58, 0.0),
                ("liability_payable", 0.0, 58.08),
            ],
        )
        self.assertEqual(self.paper_line(order).qty_invoiced, 10)
        # before the first rate there is nothing to convert with
        early = invoice_event(2, [("1", 1, 5.0)], invoice_date="2026-10-15")
        self.from_ap(early)
        held = self.bill(2)
        self.assertEqual(held.state, "draft")
        self.assertIn(
            f"Currency: no {foreign.name} exchange rate is recorded on or before "
            "2026-10-15",
            held.fih_hold_reason,
        )
        self.assertNotIn("unit price", held.fih_hold_reason)

    # -- rule 8: duplicates ------------------------------------------------------------

    @mute_logger(MAIL)
    def test_one_number_written_three_ways_makes_one_bill_and_two_exceptions(self):
        self.order_with(received=[("1", 10)])
        spellings = ["INV-7008-001", "INV7008001", "inv-7008-001 "]
        messages = [
            self.from_ap(invoice_event(n, [("1", n, 4.0)], invoice_number=number))
            for n, number in enumerate(spellings, 1)
        ]
        bill = self.bill(1)
        self.assertEqual((bill.state, bill.ref), ("posted", "INV-7008-001"))
        self.assertEqual(
            [(m.state, m.error_kind) for m in messages],
            [("done", False), ("failed", "business"), ("failed", "business")],
        )
        for message in messages[1:]:
            self.assertIn("Duplicate invoice", message.error_message)
            self.assertIn(f"already recorded as {bill.name}", message.error_message)
        self.assertFalse(self.bill(2) | self.bill(3))
        self.assertEqual(
            self.env["account.move"].search_count([("fih_ref_key", "=", "INV7008001")]),
            1,
        )

    def test_a_stated_line_amount_odoo_would_book_otherwise_holds_the_bill(self):
        """A line amount the document states is booked exactly, or held."""
        self.order_with(received=[("1", 10)])
        event = invoice_event(1, [("1", 10, 4.0)])
        event["data"]["lines"][0]["line_amount"] = 40.01
        self.assertEqual(self.from_ap(event).state, "done")
        bill = self.bill(1)
        self.assertEqual(bill.state, "draft")
        self.assertIn(
            "Line 1: the document states 40.01, Odoo books 40.00", bill.fih_hold_reason
        )

    def test_one_number_twice_in_one_batch_makes_one_bill_and_one_exception(self):
        """Bills of a batch are created together: the second spelling of a
        number in the same batch is refused as it would be one by one."""
        self.order_with(received=[("1", 10)])
        events = [
            self.in_currency(invoice_event(n, [("1", n, 4.0)], invoice_number=number))
            for n, number in enumerate(["INV-7009-001", "inv 7009/001"], 1)
        ]
        result = self.receive_on(self.ap, {"events": events}, secret=self.ap_secret)
        self.assertEqual(result.status, 202, result.payload)
        run_drain_job(self.ap)
        self.env.invalidate_all()
        first, second = (
            self.Message.search(
                [("backend_id", "=", self.ap.id), ("idempotency_key", "=", e["id"])]
            )
            for e in events
        )
        self.assertEqual(first.state, "done", first.error_message)
        self.assertEqual((second.state, second.error_kind), ("failed", "business"))
        self.assertIn("arrived twice in the same batch", second.error_message)
        self.assertEqual(self.bill(1).state, "posted")
        self.assertEqual(self.bill(1).amount_total, 4.6)
        self.assertFalse(self.bill(2))

    @mute_logger(MAIL)
    def test_a_possible_duplicate_is_held_and_posted_after_review(self):
        order = self.order_with(
            lines=[order_line("1", "PAPER", 20, 4.0)], received=[("1", 20)]
        )
        self.from_ap(invoice_event(1, [("1", 3, 4.0)]))
        first = self.bill(1)
        self.assertEqual(first.state, "posted")
        # another number, the same amount on the same date: created and held
        message = self.from_ap(invoice_event(2, [("1", 3, 4.0)]))
        self.assertEqual(message.state, "done", message.error_message)
        second = self.bill(2)
        self.assertEqual(second.state, "draft")
        self.assertEqual(second.fih_duplicate_of_id, first)
        self.assertIn(
            f"Possible duplicate of {first.name} (number F2026-0001): the same "
            "supplier and the same amount 13.80",
            second.fih_hold_reason,
        )
        self.assertEqual(len(second.activity_ids), 1)
        # a person checks it is a genuine second invoice
        second.with_user(self.accountant).action_fih_not_a_duplicate()
        self.assertEqual(
            (second.fih_duplicate_reviewed, second.fih_hold_reason), (True, False)
        )
        self.assertFalse(second.activity_ids)
        self.assertIn("not a duplicate of", self.notes(second))
        # processed again, it is not held again: it passes and is posted
        again = self.from_ap(invoice_event(2, [("1", 3, 4.0)]) | {"id": "evt-inv-2b"})
        self.assertEqual(again.state, "done", again.error_message)
        self.assertEqual((second.state, second.fih_hold_reason), ("posted", False))
        # a third one is held; after review the accountant posts it by hand
        self.from_ap(invoice_event(3, [("1", 3, 4.0)]))
        third = self.bill(3)
        self.assertEqual(third.fih_duplicate_of_id, first)
        third.with_user(self.accountant).action_fih_not_a_duplicate()
        third.with_user(self.accountant).action_post()
        self.assertEqual(third.state, "posted")
        replayed = self.from_ap(
            invoice_event(3, [("1", 3, 4.0)]) | {"id": "evt-inv-3b"}
        )
        self.assertEqual(replayed.state, "skipped")
        self.assertFalse(third.fih_hold_reason)
        self.assertEqual(self.paper_line(order).qty_invoiced, 9)
        self.assertEqual((first + second + third).mapped("amount_total"), [13.8] * 3)
        # the check can be widened to days apart, or switched off
        self.company.fih_near_duplicate_days = 3
        self.from_ap(invoice_event(4, [("1", 1, 4.0)], invoice_date="2026-11-23"))
        self.from_ap(invoice_event(5, [("1", 1, 4.0)]))
        self.assertEqual(self.bill(5).fih_duplicate_of_id, self.bill(4))
        self.company.fih_near_duplicate_check = False
        self.from_ap(invoice_event(5, [("1", 1, 4.0)]) | {"id": "evt-inv-5b"})
        self.assertEqual(self.bill(5).state, "posted")

    @mute_logger(MAIL)
    def test_a_bill_found_genuine_can_still_be_duplicated_by_a_later_one(self):
        """Within 3 days: the 26th is held as a copy of the 23rd, a person says
        it is genuine; the 28th (5 days after the 23rd, 2 after the 26th) is
        held as a copy of the 26th, not posted because the 26th was reviewed."""
        self.order_with(lines=[order_line("1", "PAPER", 20, 4.0)], received=[("1", 20)])
        self.company.fih_near_duplicate_days = 3
        self.from_ap(invoice_event(1, [("1", 2, 4.0)], invoice_date="2026-11-23"))
        self.from_ap(invoice_event(2, [("1", 2, 4.0)], invoice_date="2026-11-26"))
        first, second = self.bill(1), self.bill(2)
        self.assertEqual(second.fih_duplicate_of_id, first)
        second.with_user(self.accountant).action_fih_not_a_duplicate()
        second.with_user(self.accountant).action_post()
        self.from_ap(invoice_event(3, [("1", 2, 4.0)], invoice_date="2026-11-28"))
        third = self.bill(3)
        self.assertEqual((third.state, third.fih_duplicate_of_id), ("draft", second))
        self.assertIn(f"Possible duplicate of {second.name}", third.fih_hold_reason)
        # the genuine bill itself is not held again by the later one
        self.assertEqual((second.state, second.fih_hold_reason), ("posted", False))

    # -- rule 9: posting policy --------------------------------------------------------

    def test_bills_without_an_order_stay_in_draft_and_a_supplier_setting_wins(self):
        self.assertEqual(self.ap.bill_posting, "matched")
        order = self.order_with(received=[("1", 10)])
        supplier = order.partner_id
        without_order = invoice_event(1, [(None, 2, 50.0)])
        del without_order["data"]["purchase_order_external_id"]
        del without_order["data"]["lines"][0]["po_line_id"]
        self.assertEqual(self.from_ap(without_order).state, "done")
        unordered = self.bill(1)
        self.assertEqual((unordered.state, unordered.amount_total), ("draft", 115.0))
        self.assertFalse(unordered.fih_hold_reason)
        self.assertIn("refers to no purchase order", self.notes(unordered))
        self.from_ap(invoice_event(2, [("1", 4, 4.0)]))
        self.assertEqual(self.bill(2).state, "posted")
        # the supplier's own setting wins over the backend's
        supplier.fih_bill_posting = "draft"
        self.from_ap(invoice_event(3, [("1", 6, 4.0)]))
        kept = self.bill(3)
        self.assertEqual((kept.state, kept.fih_hold_reason), ("draft", False))
        self.assertIn(
            f"the integration bill posting of {supplier.display_name} keeps every "
            "bill in draft",
            self.notes(kept),
        )
        self.ap.bill_posting = "draft"
        supplier.fih_bill_posting = "post"
        other = invoice_event(4, [(None, 1, 50.0)])
        del other["data"]["purchase_order_external_id"]
        del other["data"]["lines"][0]["po_line_id"]
        self.from_ap(other)
        self.assertEqual(
            (self.bill(4).state, self.bill(4).amount_total), ("posted", 57.5)
        )

    def test_the_posting_policy_is_offered_on_every_backend_that_sends_bills(self):
        arch = self.env["fih.backend"].get_view(view_type="form")["arch"]
        self.assertIn("invisible=\"kind in ('bi', 'bank', 'tax')\"", arch)
        kinds = dict(self.env["fih.backend"]._fields["kind"].selection)
        self.assertEqual(
            set(kinds) - {"bi", "bank", "tax"},
            {"procurement", "ap_automation", "other"},
        )
        self.assertEqual(self.backend.bill_posting, "matched")

    # -- rule 10: late invoices --------------------------------------------------------

    @freeze_time("2026-12-01")
    def test_a_bill_dated_in_a_locked_period_is_posted_on_the_first_open_date(self):
        self.order_with(received=[("1", 10)])
        self.company.fiscalyear_lock_date = date(2026, 11, 30)
        message = self.from_ap(invoice_event(1, [("1", 10, 4.0)]))
        self.assertEqual(message.state, "done", message.error_message)
        bill = self.bill(1)
        self.assertEqual(bill.state, "posted")
        self.assertEqual(
            (bill.invoice_date, bill.date), (date(2026, 11, 26), date(2026, 12, 1))
        )
        self.assertEqual(set(bill.line_ids.mapped("date")), {date(2026, 12, 1)})
        self.assertEqual(bill.amount_total, 46.0)
        self.assertIn("booked on 2026-12-01, the first open date", self.notes(bill))

    # -- rule 13: price tolerance per direction ----------------------------------------

    @mute_logger(MAIL)
    def test_an_invoice_below_the_order_price_is_held_only_with_a_lower_tolerance(
        self,
    ):
        order = self.order_with(received=[("1", 10)])
        # 2 % below the order price
        self.from_ap(invoice_event(1, [("1", 5, 3.92)]))
        below = self.bill(1)
        self.assertEqual(below.state, "posted")
        self.assertEqual(
            self.journal_items(below),
            [
                ("expense", 19.6, 0.0),
                ("tax", 2.94, 0.0),
                ("liability_payable", 0.0, 22.54),
            ],
        )
        self.company.write(
            {
                "fih_match_price_lower_check": True,
                "fih_match_price_lower_tolerance_percent": 1,
            }
        )
        self.from_ap(invoice_event(2, [("1", 4, 3.92)]))
        held = self.bill(2)
        self.assertEqual(held.state, "draft")
        currency = self.currency
        self.assertIn(
            f"unit price 3.92 {currency} instead of 4.00 {currency} ordered (0.08 "
            f"{currency} less per unit, 2 %), 0.32 {currency} less on the line; up "
            "to 1 % is accepted.",
            held.fih_hold_reason,
        )
        self.assertEqual(self.paper_line(order).qty_invoiced, 9)

    # -- rule 14: billing control ------------------------------------------------------

    @mute_logger(MAIL)
    def test_a_product_billed_on_ordered_quantities_needs_no_receipt(self):
        order = self.order_with(
            lines=[
                order_line("1", "PAPER", 10, 4.0),
                order_line("2", "TONER", 5, 20.0),
            ]
        )
        self.from_ap(invoice_event(1, [("2", 5, 20.0)]))
        toner_bill = self.bill(1)
        self.assertEqual((toner_bill.state, toner_bill.amount_total), ("posted", 115.0))
        toner = order.order_line.filtered(lambda line: line.product_id == self.toner)
        self.assertEqual(
            (toner.qty_received, toner.qty_invoiced, toner.qty_to_invoice), (0, 5, 0)
        )
        self.from_ap(invoice_event(2, [("1", 10, 4.0)]))
        paper_bill = self.bill(2)
        self.assertEqual(paper_bill.state, "draft")
        self.assertIn(
            "Order line 1: 10 invoiced but nothing has been received yet.",
            paper_bill.fih_hold_reason,
        )

    # -- rule 15: rebates --------------------------------------------------------------

    def test_a_rebate_credit_note_posts_and_leaves_the_billed_quantity_alone(self):
        order = self.order_with(received=[("1", 10)])
        self.from_ap(invoice_event(1, [("1", 10, 4.0)]))
        paper = self.paper_line(order)
        self.assertEqual((paper.qty_invoiced, paper.qty_to_invoice), (10, 0))
        rebate = invoice_event(2, [("1", 10, 0.2)], document_type="credit_note")
        rebate["data"]["lines"][0]["price_adjustment"] = True
        message = self.from_ap(rebate)
        self.assertEqual(message.state, "done", message.error_message)
        refund = self.bill(2)
        self.assertEqual(
            (refund.move_type, refund.state, refund.fih_hold_reason),
            ("in_refund", "posted", False),
        )
        line = refund.invoice_line_ids
        self.assertFalse(line.purchase_line_id)
        self.assertEqual(line.fih_price_adjusted_line_id, paper)
        self.assertEqual(
            self.journal_items(refund),
            [
                ("liability_payable", 2.3, 0.0),
                ("tax", 0.0, 0.3),
                ("expense", 0.0, 2.0),
            ],
        )
        self.env.invalidate_all()
        self.assertEqual((paper.qty_invoiced, paper.qty_to_invoice), (10, 0))
        self.assertEqual(order.invoice_ids, self.bill(1) | refund)
        # a rebate on more units than were billed is held
        too_many = invoice_event(3, [("1", 12, 0.2)], document_type="credit_note")
        too_many["data"]["lines"][0]["price_adjustment"] = True
        with mute_logger(MAIL):
            self.from_ap(too_many)
        self.assertEqual(self.bill(3).state, "draft")
        self.assertIn(
            "the price adjustment applies to 12 units but only 10 have been invoiced",
            self.bill(3).fih_hold_reason,
        )
