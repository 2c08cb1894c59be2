from odoo.tests import tagged

from .test_invoice_amount_due import ApToolOrderCase
from .test_procure_to_pay import invoice_event


@tagged("post_install", "-at_install")
class TestInvoiceFiguresASupplierCannotBend(ApToolOrderCase):
    """A supplier's figures that would move money past the checks are refused
    or held: a negative allowance (a hidden surcharge), a discount above
    100 %, a prepayment that contradicts the amount due."""

    def send_bill(self, event):
        message = self.deliver(self.ap, self.in_company_currency(event), self.ap_secret)
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
