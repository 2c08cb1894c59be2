from odoo.tests import tagged

from .common import FihTransactionCase, run_drain_job, supplier_event
from .test_invoice_amount_due import TestAmountDueUbl, ubl
from .test_invoice_terms_and_units import TestDueDateAndEarlyPaymentDiscount
from .test_p2p_payments import remittance_event
from .test_procure_to_pay import invoice_event, order_event, receipt_event


@tagged("post_install", "-at_install")
class TestInvoiceFiguresASupplierCannotBend(FihTransactionCase):
    """A supplier's figures that would move money past the checks are refused
    or held: a negative allowance (a hidden surcharge), a discount above
    100 %, a prepayment that contradicts the amount due. PO-1: line 1 is
    10 x 4.00 received, line 2 1 x 100.00; 15 % VAT."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_ap_backend()
        cls._setup_paper_and_cost_centre()

    def setUp(self):
        super().setUp()
        for event in (supplier_event(1), order_event(), receipt_event(1, [("1", 10)])):
            self.receive(self.home_currency(event))
            self.process()
        order = self.bound("purchase_order", "PO-1", "purchase.order")
        order.order_line.filtered(
            lambda line: not line.product_id.is_storable
        ).qty_received = 1

    def home_currency(self, event):
        if "currency" in event["data"]:
            event["data"]["currency"] = self.env.company.currency_id.name
        return event

    def send_bill(self, event):
        message = self.deliver(self.ap, self.home_currency(event), self.ap_secret)
        bill = self.bound("invoice", event["data"]["external_id"], "account.move")
        return message, bill

    def restated(self, event, untaxed, tax):
        event["data"].update(
            amount_untaxed=untaxed,
            amount_tax=tax,
            amount_total=round(untaxed + tax, 2),
            tax_totals=[{"tax_code": "VAT15", "base": untaxed, "amount": tax}],
        )
        return event

    def test_a_negative_line_allowance_is_refused_not_booked_as_a_surcharge(self):
        event = invoice_event(1, [("1", 10, 4.0), ("2", 1, 100.0)])
        event["data"]["lines"][0]["line_allowances"] = [
            {"amount": -4.0, "reason": "Rebate"}
        ]
        message, bill = self.send_bill(self.restated(event, 144.0, 21.6))
        self.assertEqual(message.state, "failed")
        self.assertIn("line_allowances", message.error_message)
        self.assertFalse(bill)

    def test_a_discount_above_100_percent_is_refused(self):
        event = invoice_event(1, [("1", 10, 4.0), ("2", 1, 100.0)])
        event["data"]["lines"][0]["discount_percent"] = 150
        message, bill = self.send_bill(self.restated(event, 80.0, 12.0))
        self.assertEqual(message.state, "failed")
        self.assertIn("discount_percent", message.error_message)
        self.assertFalse(bill)

    def test_a_prepayment_the_amount_due_does_not_reflect_holds_the_bill(self):
        event = invoice_event(1, [("1", 10, 4.0), ("2", 1, 100.0)])
        event["data"].update(amount_due=161.0, amount_prepaid=50.0)
        message, bill = self.send_bill(event)
        self.assertEqual((message.state, bill.state), ("done", "draft"))
        self.assertIn("comes to 111.00", bill.fih_hold_reason)
        self.assertIn("50.00 prepaid", bill.fih_hold_reason)
        self.assertEqual(bill.amount_total, 161.0)

    def test_an_amount_due_below_zero_says_the_supplier_owes_money_back(self):
        event = invoice_event(1, [("1", 10, 4.0), ("2", 1, 100.0)])
        event["data"].update(amount_due=-39.0, amount_prepaid=200.0)
        message, bill = self.send_bill(event)
        self.assertEqual((message.state, bill.state), ("done", "draft"))
        self.assertIn("owes 39.00", bill.fih_hold_reason)


@tagged("post_install", "-at_install")
class TestPeppolNegativeLineAllowance(TestAmountDueUbl):
    def test_a_negative_peppol_line_allowance_is_refused_at_the_door(self):
        body = ubl("NEG1", 1, "100.00", "107.77", "26.94", "134.71", "134.71").decode()
        body = body.replace(
            "<cac:Item>",
            "<cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator>"
            "<cbc:AllowanceChargeReason>Rebate</cbc:AllowanceChargeReason>"
            '<cbc:Amount currencyID="EUR">-7.77</cbc:Amount></cac:AllowanceCharge>'
            "<cac:Item>",
        )
        result = self.post_ubl(body.encode())
        self.assertEqual(result.status, 400)
        self.assertEqual(result.payload["error"], "invalid_ubl")
        self.assertIn(
            "line_allowances[0].amount must be at least 0", result.payload["message"]
        )
        run_drain_job(self.ap)
        bills = self.env["account.move"].search([("partner_id", "=", self.supplier.id)])
        self.assertFalse(bills.filtered(lambda bill: bill.state == "posted"))


@tagged("post_install", "-at_install")
class TestEarlyDiscountWithACreditNote(TestDueDateAndEarlyPaymentDiscount):
    def test_an_early_discount_net_of_a_credit_note_is_refused_with_the_way_out(self):
        bill = self.bill_due(1, "2026-12-26")  # 46.00, 45.08 until 2026-12-03
        event = invoice_event(2, [(None, 1, 10.0)], "credit_note")  # 11.50
        del event["data"]["purchase_order_external_id"]
        del event["data"]["lines"][0]["po_line_id"]
        self.assertEqual(self.from_ap(event).state, "done")
        message = self.from_ap(
            remittance_event(
                1,
                [
                    {"invoice_external_id": "INV-1", "amount": 45.08},
                    {
                        "invoice_external_id": "INV-2",
                        "amount": 11.5,
                        "document_type": "credit_note",
                    },
                ],
            )
        )
        self.env.invalidate_all()
        self.assertEqual(message.state, "failed")
        self.assertIn("paid in one go", message.error_message)
        self.assertIn("Nothing of payment", message.error_message)
        self.assertEqual((bill.payment_state, bill.amount_residual), ("not_paid", 46.0))
