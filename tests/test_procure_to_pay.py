from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import FihTransactionCase, run_drain_job, supplier_event

MAIL = "odoo.addons.mail.models.mail_mail"  # activity e-mails: no SMTP in tests


def order_event(n=1, version=1, **overrides):
    data = {
        "external_id": f"PO-{n}",
        "supplier_external_id": "SUP-000001",
        "currency": "EUR",
        "order_date": "2026-11-20",
        "state": "approved",
        "approval": {
            "approver": "jane.buyer@example.com",
            "approved_at": "2026-11-20T09:30:00Z",
            "reference": f"REQ-{n}",
        },
        "source_version": version,
        "lines": [
            {
                "line_id": "1",
                "product_code": "PAPER",
                "description": "Paper A4, box of 5 reams",
                "quantity": 10,
                "uom": "Units",
                "unit_price": 4.0,
                "tax_codes": ["VAT15"],
                "cost_center": "CC100",
                "requested_date": "2026-11-30",
            },
            {
                "line_id": "2",
                "description": "Printer installation",
                "quantity": 1,
                "uom": "Units",
                "unit_price": 100.0,
                "tax_codes": ["VAT15"],
            },
        ],
    }
    data.update(overrides)
    return {
        "id": f"evt-po-{n}-v{version}",
        "type": "purchase_order.upsert",
        "occurred_at": "2026-11-20T09:31:00Z",
        "data": data,
    }


def receipt_event(n, lines, order=1):
    return {
        "id": f"evt-gr-{n}",
        "type": "goods_receipt.upsert",
        "occurred_at": "2026-11-25T10:00:00Z",
        "data": {
            "external_id": f"GR-{n}",
            "purchase_order_external_id": f"PO-{order}",
            "receipt_date": "2026-11-25",
            "kind": "goods",
            "lines": [{"po_line_id": line, "quantity": qty} for line, qty in lines],
        },
    }


def invoice_event(n, lines, document_type="invoice", tax=None, order=1, **overrides):
    """``lines``: (po line, quantity, unit price); 15 % tax unless ``tax``."""
    untaxed = round(sum(qty * price for _line, qty, price in lines), 2)
    amount_tax = round(untaxed * 0.15, 2) if tax is None else tax
    data = {
        "external_id": f"INV-{n}",
        "document_type": document_type,
        "supplier_external_id": "SUP-000001",
        "invoice_number": f"F2026-{n:04d}",
        "invoice_date": "2026-11-26",
        "due_date": "2026-12-26",
        "currency": "EUR",
        "purchase_order_external_id": f"PO-{order}",
        "lines": [
            {
                "line_id": str(index),
                "po_line_id": po_line,
                "description": f"Line {index}",
                "quantity": qty,
                "unit_price": price,
                "tax_codes": ["VAT15"],
            }
            for index, (po_line, qty, price) in enumerate(lines, 1)
        ],
        "tax_totals": [{"tax_code": "VAT15", "base": untaxed, "amount": amount_tax}],
        "amount_untaxed": untaxed,
        "amount_tax": amount_tax,
        "amount_total": round(untaxed + amount_tax, 2),
    }
    data.update(overrides)
    return {
        "id": f"evt-inv-{n}",
        "type": "invoice.upsert",
        "occurred_at": "2026-11-26T08:00:00Z",
        "data": data,
    }


def payment_event(n, allocations, **overrides):
    data = {
        "external_id": f"PAY-{n}",
        "supplier_external_id": "SUP-000001",
        "payment_date": "2026-12-01",
        "currency": "EUR",
        "amount": round(sum(amount for _ref, amount in allocations), 2),
        "reference": f"REMIT-{n}",
        "allocations": [
            {"invoice_external_id": ref, "amount": amount}
            for ref, amount in allocations
        ],
    }
    data.update(overrides)
    return {
        "id": f"evt-pay-{n}",
        "type": "payment.upsert",
        "occurred_at": "2026-12-01T08:00:00Z",
        "data": data,
    }


@tagged("post_install", "-at_install")
class TestProcureToPay(FihTransactionCase):
    """Supplier -> order -> receipt -> bill -> payment, from two platforms."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_ap_backend()
        cls._setup_paper_and_cost_centre()
        cls.company = cls.env.company

    # -- helpers -------------------------------------------------------------

    def in_company_currency(self, event):
        if "currency" in event["data"]:
            event["data"]["currency"] = self.company.currency_id.name
        return event

    def from_ap(self, event):
        return self.deliver(self.ap, self.in_company_currency(event), self.ap_secret)

    def from_procurement(self, event):
        event = self.in_company_currency(event)
        self.assertEqual(self.receive(event).status, 202)
        self.process()
        return self.messages(idempotency_key=event["id"])

    def order(self, n=1):
        return self.bound("purchase_order", f"PO-{n}", "purchase.order")

    def bill(self, n):
        return self.bound("invoice", f"INV-{n}", "account.move")

    def supplier_and_order(self):
        self.from_procurement(supplier_event(1))
        message = self.from_procurement(order_event())
        self.assertEqual(message.state, "done", message.error_message)
        return self.order()

    # -- purchase orders -----------------------------------------------------------

    def test_an_approved_order_is_confirmed_with_its_approval_evidence(self):
        order = self.supplier_and_order()
        self.assertEqual(order.state, "purchase")
        self.assertEqual(order.partner_id, self.partners_by_external_id("SUP-000001"))
        self.assertEqual(
            (order.fih_approved_by, order.fih_approval_reference),
            ("jane.buyer@example.com", "REQ-1"),
        )
        paper, install = order.order_line.sorted("fih_external_line_id")
        self.assertEqual(
            (paper.product_id, paper.product_qty, paper.price_unit),
            (self.paper, 10, 4.0),
        )
        self.assertEqual(paper.analytic_distribution, {str(self.marketing.id): 100.0})
        self.assertEqual(paper.taxes_id.amount, 15)
        self.assertEqual(str(paper.date_planned.date()), "2026-11-30")
        self.assertEqual(
            install.product_id,
            self.env.ref("finance_integration_hub.product_non_catalogue"),
        )
        self.assertEqual(install.name, "Printer installation")
        self.assertEqual(order.amount_untaxed, 140.0)
        self.assertEqual(len(order.picking_ids), 1)

    def test_a_batch_is_applied_in_arrival_order_across_event_types(self):
        """A bill that arrives after its receipt, in the same batch as a bill
        of another order that came first, is matched against the receipt."""
        self.supplier_and_order()
        self.from_procurement(order_event(2))
        batch = [
            invoice_event(2, [("1", 5, 4.0)], order=2),
            receipt_event(1, [("1", 10)]),
            invoice_event(1, [("1", 10, 4.0)]),
        ]
        for event in batch:
            self.in_company_currency(event)
        self.assertEqual(self.receive({"events": batch}).status, 202)
        self.process()
        messages = self.messages().filtered(
            lambda m: m.idempotency_key in {e["id"] for e in batch}
        )
        self.assertEqual(len(messages), 3)
        self.assertEqual(set(messages.mapped("state")), {"done"})
        self.assertEqual(self.bill(1).state, "posted", self.bill(1).fih_hold_reason)
        self.assertEqual(self.bill(1).amount_total, 46.0)
        self.assertEqual(self.bill(2).state, "draft")  # nothing received on PO-2
        self.assertIn("received", self.bill(2).fih_hold_reason)

    def test_an_order_waits_for_its_supplier_when_it_arrives_first(self):
        message = self.from_procurement(order_event())
        self.assertEqual((message.state, message.error_kind), ("received", "transient"))
        self.assertIn("not known yet", message.error_message)
        self.from_procurement(supplier_event(1))
        message.next_attempt_at = False
        self.process()
        self.assertEqual(message.state, "done")
        self.assertEqual(self.order().state, "purchase")

    def test_updates_apply_until_goods_are_received_then_become_exceptions(self):
        order = self.supplier_and_order()
        update = order_event(version=2)
        update["data"]["lines"][0]["quantity"] = 12
        self.assertEqual(self.from_procurement(update).state, "done")
        self.assertEqual(
            order.order_line.filtered("product_id").mapped("product_qty")[0], 12
        )
        self.from_procurement(receipt_event(1, [("1", 2)]))
        late = order_event(version=3)
        with mute_logger(MAIL):
            message = self.from_procurement(late)
        self.assertEqual(message.state, "failed")
        self.assertIn("can no longer be changed", message.error_message)
        self.assertEqual(
            order.order_line.sorted("fih_external_line_id")[0].product_qty, 12
        )

    def test_a_cancellation_cancels_an_order_nothing_was_received_on(self):
        order = self.supplier_and_order()
        cancelled = order_event(version=2, state="cancelled")
        self.assertEqual(self.from_procurement(cancelled).state, "done")
        self.assertEqual(order.state, "cancel")

    @mute_logger(MAIL)
    def test_an_order_over_the_cost_center_budget_is_held(self):
        self.marketing.fih_budget_limit = 30.0  # the paper line commits 40
        self.from_procurement(supplier_event(1))
        message = self.from_procurement(order_event())
        self.assertEqual((message.state, message.error_kind), ("failed", "business"))
        self.assertIn("Cost center CC100 would go over budget", message.error_message)
        self.assertIn("40.00", message.error_message)
        self.assertFalse(self.order())

    # -- receipts ------------------------------------------------------------------

    def test_a_partial_receipt_leaves_a_backorder(self):
        order = self.supplier_and_order()
        message = self.from_procurement(receipt_event(1, [("1", 4)]))
        self.assertEqual(message.state, "done", message.error_message)
        paper = order.order_line.filtered(lambda line: line.product_id == self.paper)
        self.assertEqual(paper.qty_received, 4)
        self.assertEqual(len(order.picking_ids), 2)
        self.assertEqual(
            sorted(order.picking_ids.mapped("state")), ["assigned", "done"]
        )
        again = self.from_procurement(
            receipt_event(1, [("1", 4)]) | {"id": "evt-gr-1b"}
        )
        self.assertEqual(again.state, "skipped")
        self.assertEqual(paper.qty_received, 4)

    @mute_logger(MAIL)
    def test_an_over_receipt_beyond_the_tolerance_is_refused(self):
        self.company.fih_over_receipt_tolerance = 10
        order = self.supplier_and_order()
        refused = self.from_procurement(receipt_event(1, [("1", 12)]))
        self.assertEqual(refused.state, "failed")
        self.assertIn("11.0", refused.error_message)
        accepted = self.from_procurement(receipt_event(2, [("1", 11)]))
        self.assertEqual(accepted.state, "done")
        paper = order.order_line.filtered(lambda line: line.product_id == self.paper)
        self.assertEqual(paper.qty_received, 11)

    # -- bills -----------------------------------------------------------------------

    def test_a_matching_invoice_is_posted_and_linked_to_the_order(self):
        order = self.supplier_and_order()
        self.from_procurement(receipt_event(1, [("1", 10)]))
        order.order_line.filtered(
            lambda line: not line.product_id.is_storable
        ).qty_received = 1
        message = self.from_ap(invoice_event(1, [("1", 10, 4.0), ("2", 1, 100.0)]))
        self.assertEqual(message.state, "done", message.error_message)
        bill = self.bill(1)
        self.assertEqual(bill.state, "posted")
        self.assertEqual((bill.ref, bill.amount_total), ("F2026-0001", 161.0))
        self.assertEqual(bill.invoice_line_ids.purchase_line_id, order.order_line)
        self.assertEqual(order.invoice_ids, bill)
        self.assertEqual(sorted(order.order_line.mapped("qty_invoiced")), [1.0, 10.0])
        self.assertFalse(bill.fih_hold_reason)

    @mute_logger(MAIL)
    def test_invoicing_more_than_received_keeps_the_bill_in_draft(self):
        self.supplier_and_order()
        self.from_procurement(receipt_event(1, [("1", 4)]))
        message = self.from_ap(invoice_event(1, [("1", 10, 4.0)]))
        self.assertEqual(message.state, "done")
        bill = self.bill(1)
        self.assertEqual(bill.state, "draft")
        self.assertIn("10 invoiced but only 4 received", bill.fih_hold_reason)
        activity = bill.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.ap._exception_user())
        self.assertIn("only 4 received", str(activity.note))

    @mute_logger(MAIL)
    def test_a_price_above_the_order_keeps_the_bill_in_draft_unless_tolerated(self):
        self.supplier_and_order()
        self.from_procurement(receipt_event(1, [("1", 10)]))
        self.from_ap(invoice_event(1, [("1", 10, 4.2)]))
        bill = self.bill(1)
        self.assertEqual(bill.state, "draft")
        self.assertIn("unit price 4.20", bill.fih_hold_reason)
        self.assertIn("instead of 4.00", bill.fih_hold_reason)
        # the tolerance is raised and the AP tool sends the invoice again
        self.company.fih_match_price_tolerance_percent = 5
        message = self.from_ap(
            invoice_event(1, [("1", 10, 4.2)]) | {"id": "evt-inv-1b"}
        )
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(self.bill(1), bill)
        self.assertEqual(bill.state, "posted")
        self.assertFalse(bill.fih_hold_reason)

    @mute_logger(MAIL)
    def test_stated_taxes_that_differ_from_odoos_keep_the_bill_in_draft(self):
        self.supplier_and_order()
        self.from_procurement(receipt_event(1, [("1", 10)]))
        self.from_ap(invoice_event(1, [("1", 10, 4.0)], tax=8.0))
        bill = self.bill(1)
        self.assertEqual(bill.state, "draft")
        self.assertIn("VAT15", bill.fih_hold_reason)
        currency = self.company.currency_id.name
        # 8.00 stated, 6.00 computed: 15 % of 40.00
        self.assertEqual(
            bill.fih_hold_reason.splitlines(),
            [
                f"VAT15: the document states 8.00 {currency} of tax, 6.00 {currency} "
                f"is computed from its lines (2.00 {currency} more); up to 0.01 "
                f"{currency} is accepted as rounding.",
                f"The document states 8.00 {currency} of tax in total, the bill "
                f"comes to 6.00 {currency} (2.00 {currency} more); the bill books "
                "the tax per rate as stated, so the total must agree.",
                f"Total: the document states 48.00, the bill comes to 46.00 "
                f"{currency}.",
            ],
        )

    @mute_logger(MAIL)
    def test_a_duplicate_number_is_refused_and_a_possible_duplicate_held(self):
        self.supplier_and_order()
        self.from_procurement(receipt_event(1, [("1", 10)]))
        self.from_ap(invoice_event(1, [("1", 5, 4.0)]))
        same_number = invoice_event(2, [("1", 5, 4.0)], invoice_number="F2026-0001")
        message = self.from_ap(same_number)
        self.assertEqual((message.state, message.error_kind), ("failed", "business"))
        self.assertIn("Duplicate invoice", message.error_message)
        self.assertFalse(self.bill(2))
        # same amount, same date, another number: created, held for a person
        same_amount = invoice_event(3, [("1", 5, 4.0)])
        message = self.from_ap(same_amount)
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(self.bill(3).state, "draft")
        self.assertIn("Possible duplicate of", self.bill(3).fih_hold_reason)

    def test_a_credit_note_is_posted_as_a_refund_of_the_order(self):
        order = self.supplier_and_order()
        self.from_procurement(receipt_event(1, [("1", 10)]))
        self.from_ap(invoice_event(1, [("1", 10, 4.0)]))
        message = self.from_ap(
            invoice_event(2, [("1", 2, 4.0)], document_type="credit_note")
        )
        self.assertEqual(message.state, "done", message.error_message)
        refund = self.bill(2)
        self.assertEqual((refund.move_type, refund.state), ("in_refund", "posted"))
        paper = order.order_line.filtered(lambda line: line.product_id == self.paper)
        self.assertEqual(paper.qty_invoiced, 8)

    def test_the_draft_policy_keeps_even_a_matching_bill_in_draft(self):
        self.ap.bill_posting = "draft"
        self.supplier_and_order()
        self.from_procurement(receipt_event(1, [("1", 10)]))
        self.from_ap(invoice_event(1, [("1", 10, 4.0)]))
        bill = self.bill(1)
        self.assertEqual(bill.state, "draft")
        self.assertFalse(bill.fih_hold_reason)

    # -- payments ------------------------------------------------------------------

    def paid_bills(self):
        self.supplier_and_order()
        self.from_procurement(receipt_event(1, [("1", 10)]))
        self.from_ap(invoice_event(1, [("1", 4, 4.0)]))
        self.from_ap(invoice_event(2, [("1", 6, 4.0)]))
        return self.bill(1), self.bill(2)

    def test_a_remittance_pays_several_bills_fully_or_in_part(self):
        first, second = self.paid_bills()
        self.assertEqual((first.amount_total, second.amount_total), (18.4, 27.6))
        message = self.from_ap(payment_event(1, [("INV-1", 18.4), ("INV-2", 10.0)]))
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(first.payment_state, "paid")
        self.assertEqual(second.payment_state, "partial")
        self.assertAlmostEqual(second.amount_residual, 17.6)
        payments = self.env["account.payment"].search(
            [("fih_external_reference", "=", "PAY-1")]
        )
        self.assertEqual(len(payments), 2)
        self.assertEqual(
            self.from_ap(
                payment_event(1, [("INV-1", 18.4), ("INV-2", 10.0)])
                | {"id": "evt-pay-1b"}
            ).state,
            "skipped",
        )

    @mute_logger(MAIL)
    def test_a_remittance_for_an_unknown_bill_registers_nothing(self):
        first, _second = self.paid_bills()
        self.ap.retry_max_attempts = 1  # give up at once: the bill never comes
        message = self.from_ap(payment_event(1, [("INV-1", 18.4), ("INV-404", 5.0)]))
        self.assertEqual(message.state, "dead")
        self.assertIn("INV-404", message.error_message)
        self.assertEqual(len(message.exception_group_id.activity_ids), 1)
        self.assertEqual(first.payment_state, "not_paid")
        self.assertFalse(
            self.env["account.payment"].search(
                [("fih_external_reference", "=", "PAY-1")]
            )
        )

    def test_a_remittance_that_arrives_before_its_bill_waits_for_it(self):
        self.supplier_and_order()
        self.from_procurement(receipt_event(1, [("1", 10)]))
        payment = self.from_ap(payment_event(1, [("INV-1", 46.0)]))
        self.assertEqual((payment.state, payment.error_kind), ("received", "transient"))
        self.assertIn("does not know (yet)", payment.error_message)
        self.from_ap(invoice_event(1, [("1", 10, 4.0)]))
        payment.next_attempt_at = False
        run_drain_job(self.ap)
        self.env.invalidate_all()
        self.assertEqual(payment.state, "done", payment.error_message)
        self.assertEqual(self.bill(1).payment_state, "paid")

    def test_a_service_only_order_is_confirmed_as_received(self):
        self.from_procurement(supplier_event(1))
        event = order_event()
        event["data"]["lines"] = event["data"]["lines"][1:]  # the installation
        self.from_procurement(event)
        order = self.order()
        message = self.from_procurement(receipt_event(1, [("2", 1)]))
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(message.link_ids.mapped("operation"), ["received"])
        self.assertEqual(order.order_line.qty_received, 1)
        self.assertFalse(order.picking_ids)

    def test_an_invoice_without_an_order_is_checked_and_left_for_approval(self):
        self.from_procurement(supplier_event(1))
        event = invoice_event(1, [(None, 2, 50.0)], purchase_order_external_id=None)
        del event["data"]["purchase_order_external_id"]
        for line in event["data"]["lines"]:
            del line["po_line_id"]
        message = self.from_ap(event)
        self.assertEqual(message.state, "done", message.error_message)
        bill = self.bill(1)
        self.assertEqual((bill.state, bill.amount_total), ("draft", 115.0))
        self.assertFalse(bill.fih_hold_reason)
        self.assertFalse(bill.invoice_line_ids.purchase_line_id)
        # a backend that posts every bill passing the checks posts it
        self.ap.bill_posting = "post"
        self.from_ap(event | {"id": "evt-inv-1b"})
        self.assertEqual((bill.state, bill.amount_total), ("posted", 115.0))

    @mute_logger(MAIL)
    def test_a_bill_without_exchange_rate_stays_in_draft_a_late_one_is_posted(self):
        self.supplier_and_order()
        self.from_procurement(receipt_event(1, [("1", 10)]))
        other = self.env.ref("base.EUR")
        if other == self.company.currency_id:
            other = self.env.ref("base.USD")
        other.active = True
        event = invoice_event(1, [("1", 10, 4.0)])
        event["data"]["currency"] = other.name
        self.deliver(self.ap, event, self.ap_secret)
        bill = self.bill(1)
        self.assertEqual(bill.state, "draft")
        self.assertIn(
            f"Currency: no {other.name} exchange rate is recorded",
            bill.fih_hold_reason,
        )
        bill.button_cancel()
        self.company.fiscalyear_lock_date = "2026-11-30"
        self.from_ap(invoice_event(2, [("1", 1, 4.0)]))
        late = self.bill(2)
        self.assertEqual(late.state, "posted", late.fih_hold_reason)
        self.assertEqual(str(late.invoice_date), "2026-11-26")
        self.assertGreater(str(late.date), "2026-11-30")

    def test_a_cancellation_that_arrives_first_stops_the_late_order(self):
        self.from_procurement(supplier_event(1))
        cancelled = order_event(version=2, state="cancelled")
        self.assertEqual(self.from_procurement(cancelled).state, "done")
        late = self.from_procurement(order_event(version=1))
        self.assertEqual(late.state, "skipped")
        self.assertIn("cancelled before it reached Odoo", late.error_message)
        self.assertFalse(
            self.env["purchase.order"].search([("partner_ref", "=", "PO-1")])
        )

    def test_a_line_removed_from_a_confirmed_order_goes_to_zero(self):
        order = self.supplier_and_order()
        update = order_event(version=2)
        update["data"]["lines"] = update["data"]["lines"][:1]
        self.assertEqual(self.from_procurement(update).state, "done")
        install = order.order_line.filtered(
            lambda line: line.fih_external_line_id == "2"
        )
        self.assertEqual(install.product_qty, 0)
        self.assertEqual(order.amount_untaxed, 40.0)

    def test_services_can_be_confirmed_in_several_receipts(self):
        order = self.supplier_and_order()
        first = self.from_procurement(receipt_event(1, [("2", 0.5)]))
        second = self.from_procurement(receipt_event(2, [("2", 0.5)]))
        self.assertEqual((first.state, second.state), ("done", "done"))
        install = order.order_line.filtered(
            lambda line: line.fih_external_line_id == "2"
        )
        self.assertEqual(install.qty_received, 1)

    @mute_logger(MAIL)
    def test_a_remittance_paying_too_much_or_another_suppliers_bill_is_refused(self):
        first, _second = self.paid_bills()
        too_much = self.from_ap(payment_event(1, [("INV-1", 50.0)]))
        self.assertEqual((too_much.state, too_much.error_kind), ("failed", "business"))
        self.assertIn(
            f"only 18.40 {self.company.currency_id.name} left to pay",
            too_much.error_message,
        )
        self.from_procurement(supplier_event(2))
        other = payment_event(2, [("INV-1", 18.4)], supplier_external_id="SUP-000002")
        refused = self.from_ap(other)
        self.assertEqual(refused.state, "failed")
        self.assertIn("a bill of", refused.error_message)
        self.assertEqual(first.payment_state, "not_paid")

    @mute_logger(MAIL)
    def test_a_bill_from_another_supplier_than_the_order_stays_in_draft(self):
        self.supplier_and_order()
        self.from_procurement(supplier_event(2))
        self.from_procurement(receipt_event(1, [("1", 10)]))
        event = invoice_event(1, [("1", 10, 4.0)], supplier_external_id="SUP-000002")
        self.from_ap(event)
        bill = self.bill(1)
        self.assertEqual(bill.state, "draft")
        self.assertIn(
            "Supplier: the bill is from Supplier 000002", bill.fih_hold_reason
        )

    @mute_logger(MAIL)
    def test_a_receipt_sent_again_with_another_content_needs_a_person(self):
        order = self.supplier_and_order()
        self.from_procurement(receipt_event(1, [("1", 4)]))
        same = self.from_procurement(receipt_event(1, [("1", 4)]) | {"id": "evt-gr-1b"})
        self.assertEqual(same.state, "skipped")
        changed = self.from_procurement(
            receipt_event(1, [("1", 6)]) | {"id": "evt-gr-1c"}
        )
        self.assertEqual((changed.state, changed.error_kind), ("failed", "business"))
        self.assertIn("arrives with another content", changed.error_message)
        paper = order.order_line.filtered(lambda line: line.product_id == self.paper)
        self.assertEqual(paper.qty_received, 4)
