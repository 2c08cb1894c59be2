from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import mute_logger

from .test_p2p_payments import MAIL, P2PPaymentsCase, remittance_event


@tagged("post_install", "-at_install")
class TestMoneyReviewPayments(P2PPaymentsCase):
    """Remittances found wanting by the AP review: currencies without a rate,
    write-offs exactly at the limit, partial payments in another currency."""

    def third_currency(self):
        """A currency other than the home and foreign ones, with no rate."""
        currency = self.env.ref("base.GBP")
        if currency in self.home | self.foreign:
            currency = self.env.ref("base.CHF")
        currency.active = True
        currency.rate_ids.unlink()
        return currency

    @mute_logger(MAIL)
    def test_a_remittance_in_a_currency_without_a_rate_is_refused(self):
        bill = self.free_bill(1, 50.0)  # 115.00
        third = self.third_currency()
        message = self.refused(
            remittance_event(1, [{"invoice_external_id": "INV-1", "amount": 115.0}]),
            third,
        )
        self.assertEqual(
            message.error_message,
            f"No {third.name} exchange rate is recorded on or before 2026-12-01, "
            f"the payment date, so the remittance cannot be valued in "
            f"{self.home.name}; nothing of this payment was registered. Add the "
            "rate in Accounting > Configuration > Currencies, then process the "
            "payment again.",
        )
        self.assert_open(bill, 115.0, "not_paid")
        # on account, without any document: refused all the same
        message = self.refused(
            remittance_event(2, [], amount=20.0, supplier_external_id="SUP-000001"),
            third,
        )
        self.assertIn(f"No {third.name} exchange rate", message.error_message)
        # with a rate the day before the payment, it is paid
        self.env["res.currency.rate"].create(
            {
                "currency_id": third.id,
                "name": "2026-11-30",
                "rate": 2.0,
                "company_id": self.company.id,
            }
        )
        payment = self.pay(
            remittance_event(3, [{"invoice_external_id": "INV-1", "amount": 230.0}]),
            third,
        )
        self.assertRecordValues(
            self.payment_lines(payment),
            [
                {"amount_currency": -230.0, "balance": -115.0},
                {"amount_currency": 230.0, "balance": 115.0},
            ],
        )
        self.assert_open(bill, 0.0, "paid")

    def test_a_difference_exactly_at_the_write_off_limit_is_written_off(self):
        at_limit = self.free_bill(1, 20.0)  # 46.00: 0.05 is the limit
        beyond = self.free_bill(2, 30.0)  # 69.00
        payment = self.pay(
            remittance_event(1, [{"invoice_external_id": "INV-1", "amount": 45.95}])
        )
        self.assert_open(at_limit, 0.0, "paid")
        self.assertRecordValues(
            self.payment_lines(payment),
            [
                {"account_id": payment.outstanding_account_id.id, "balance": -45.95},
                {"account_id": self.differences.id, "balance": -0.05},
                {"account_id": self.payable(at_limit).account_id.id, "balance": 46.0},
            ],
        )
        # one cent more is a partial payment, 0.06 stays open
        payment = self.pay(
            remittance_event(2, [{"invoice_external_id": "INV-2", "amount": 68.94}])
        )
        self.assertEqual(len(payment.move_id.line_ids), 2)
        self.assert_open(beyond, 0.06, "partial")

    def test_a_partial_payment_in_another_currency_leaves_the_converted_rest(self):
        bill = self.free_bill(1, 20.0)  # 46.00, 57.50 foreign at 1.25
        payment = self.pay(
            remittance_event(1, [{"invoice_external_id": "INV-1", "amount": 50.0}]),
            self.foreign,
        )
        self.assertRecordValues(
            self.payable(payment.move_id),
            [{"amount_currency": 50.0, "balance": 40.0}],
        )
        # 7.50 foreign planned open is 6.00 at the payment date's rate
        self.assert_open(bill, 6.0, "partial")

    @mute_logger(MAIL)
    def test_odoo_leaving_another_rest_open_than_the_converted_plan_is_refused(
        self,
    ):
        bill = self.free_bill(1, 20.0)
        Handler = self.env.registry["fih.payment.handler"]
        original = Handler._check_outcome

        def planned_one_more(handler, plan, currency, company, day):
            # the plan as if 1.00 foreign (0.80 home) more were left open
            (settlement,) = plan.settlements
            shifted = settlement.__class__(
                **{
                    **settlement.__dict__,
                    "remaining": settlement.remaining + 1,
                }
            )
            plan = plan.__class__(
                settlements=(shifted,),
                nettings=plan.nettings,
                on_account=plan.on_account,
                currency=plan.currency,
            )
            return original(handler, plan, currency, company, day)

        with patch.object(Handler, "_check_outcome", planned_one_more):
            message = self.refused(
                remittance_event(1, [{"invoice_external_id": "INV-1", "amount": 50.0}]),
                self.foreign,
            )
        self.assertIn(
            f"Odoo left 6.00 {self.home.name} open on {bill.name}",
            message.error_message,
        )
        self.assertIn(
            f"8.50 {self.foreign.name} (6.80 {self.home.name} at the rate of "
            "2026-12-01)",
            message.error_message,
        )
        self.assert_open(bill, 46.0, "not_paid")
