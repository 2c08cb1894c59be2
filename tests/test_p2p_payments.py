"""Remittances that pay exactly what they say, played through the signed
intake: one bill named twice, numbers written another way, other
currencies, small differences under the write-off policy, credit notes
deducted, payments on account, redelivery."""

from psycopg2 import IntegrityError

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import FihTransactionCase, supplier_event
from .test_procure_to_pay import invoice_event, order_event, receipt_event

MAIL = "odoo.addons.mail.models.mail_mail"  # activity e-mails: no SMTP in tests


def remittance_event(n, allocations, amount=None, **overrides):
    """``allocations``: canonical allocation dicts; ``amount``: their net sum
    unless given."""
    net = sum(
        item["amount"] * (-1 if item.get("document_type") == "credit_note" else 1)
        for item in allocations
    )
    data = {
        "external_id": f"PAY-{n}",
        "supplier_external_id": "SUP-000001",
        "payment_date": "2026-12-01",
        "currency": "EUR",
        "amount": round(net if amount is None else amount, 2),
        "reference": f"REMIT-{n}",
        "allocations": allocations,
    }
    data.update(overrides)
    data = {key: value for key, value in data.items() if value not in (None, [])}
    return {
        "id": f"evt-pay-{n}",
        "type": "payment.upsert",
        "occurred_at": "2026-12-01T08:00:00Z",
        "data": data,
    }


class P2PPaymentsCase(FihTransactionCase):
    """Set-up and helpers of the remittance scenarios: an AP backend, a
    foreign currency worth 1.00 until the payment date then 0.80, a write-off
    policy in the home currency."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_ap_backend()
        cls.company = cls.env.company
        cls.home = cls.company.currency_id
        cls.foreign = cls.env.ref("base.EUR")
        if cls.foreign == cls.home:
            cls.foreign = cls.env.ref("base.USD")
        cls.foreign.active = True
        # the foreign currency is worth one home unit until the payment
        # date, then 0.80: 1.25 foreign units per home unit
        cls.env["res.currency.rate"].create(
            [
                {
                    "name": "2026-01-01",
                    "rate": 1.0,
                    "currency_id": cls.foreign.id,
                    "company_id": cls.company.id,
                },
                {
                    "name": "2026-12-01",
                    "rate": 1.25,
                    "currency_id": cls.foreign.id,
                    "company_id": cls.company.id,
                },
            ]
        )
        cls._setup_paper_and_cost_centre()
        cls.differences = cls.env["account.account"].create(
            {
                "name": "Payment differences",
                "code": "659900",
                "account_type": "expense",
            }
        )
        cls.policy = cls.env["fih.payment.difference.policy"].create(
            {
                "currency_id": cls.home.id,
                "max_amount": 0.05,
                "max_percent": 1.0,
                "account_id": cls.differences.id,
                "label": "Bank charges and rounding",
            }
        )

    # -- sending --------------------------------------------------------------------

    def send(self, event, backend, secret, currency=None):
        """``event`` signed by ``backend``, in the home currency unless
        ``currency``, then processed."""
        if "currency" in event["data"]:
            event["data"]["currency"] = (currency or self.home).name
        return self.deliver(backend, event, secret)

    def from_procurement(self, event, currency=None):
        message = self.send(event, self.backend, self.secret, currency)
        self.assertEqual(message.state, "done", message.error_detail)
        return message

    def from_ap(self, event, currency=None):
        return self.send(event, self.ap, self.ap_secret, currency)

    def pay(self, event, currency=None):
        """A remittance the hub must apply."""
        message = self.from_ap(event, currency)
        self.assertEqual(message.state, "done", message.error_detail)
        return self.payments(event["data"]["external_id"])

    @mute_logger(MAIL)
    def refused(self, event, currency=None):
        """A remittance the hub must refuse as a whole."""
        message = self.from_ap(event, currency)
        self.assertEqual(
            (message.state, message.error_kind),
            ("failed", "business"),
            message.error_detail,
        )
        self.assertFalse(self.payments(event["data"]["external_id"]))
        self.assertRegex(message.error_message, "[Nn]othing of (this )?payment")
        return message

    def payments(self, external_id):
        return self.env["account.payment"].search(
            [("fih_external_reference", "=", external_id)], order="id"
        )

    def bill(self, n):
        binding = self.env["fih.binding"].search(
            [("object_type", "=", "invoice"), ("external_id", "=", f"INV-{n}")]
        )
        return self.env["account.move"].browse(binding.res_id)

    # -- documents ------------------------------------------------------------------

    def ordered_bills(self, *quantities, currency=None, credit_note=None):
        """Order PO-1 of 10 papers at 4.00 received in full, then bills
        INV-1... of ``quantities`` (15 % tax): 10 -> 46.00, 6 -> 27.60,
        4 -> 18.40; and a credit note of ``credit_note`` papers."""
        self.from_procurement(supplier_event(1))
        self.from_procurement(order_event(), currency)
        self.from_procurement(receipt_event(1, [("1", 10)]))
        for n, quantity in enumerate(quantities, 1):
            self.assertEqual(
                self.from_ap(invoice_event(n, [("1", quantity, 4.0)]), currency).state,
                "done",
            )
        if credit_note:
            n = len(quantities) + 1
            event = invoice_event(n, [("1", credit_note, 4.0)], "credit_note")
            self.assertEqual(self.from_ap(event, currency).state, "done")
        count = len(quantities) + (1 if credit_note else 0)
        documents = [self.bill(n) for n in range(1, count + 1)]
        self.assertEqual({document.state for document in documents}, {"posted"})
        return documents

    def free_bill(self, n, unit_price, quantity=2):
        """Bill INV-n without an order: ``quantity`` x ``unit_price`` + 15 %,
        posted by an AP tool trusted to post bills without an order."""
        self.ap.bill_posting = "post"
        if not self.partners_by_external_id("SUP-000001"):
            self.from_procurement(supplier_event(1))
        event = invoice_event(n, [(None, quantity, unit_price)])
        del event["data"]["purchase_order_external_id"]
        for line in event["data"]["lines"]:
            del line["po_line_id"]
        self.assertEqual(self.from_ap(event).state, "done")
        bill = self.bill(n)
        self.assertEqual(bill.state, "posted", bill.fih_hold_reason)
        return bill

    def payable(self, move):
        return move.line_ids.filtered(
            lambda line: line.account_type == "liability_payable"
        )

    def assert_open(self, bill, residual, state):
        self.assertEqual(
            (bill.currency_id.round(bill.amount_residual), bill.payment_state),
            (residual, state),
        )

    def payment_lines(self, payment):
        return payment.move_id.line_ids.sorted("balance")


@tagged("post_install", "-at_install")
class TestP2PPayments(P2PPaymentsCase):
    """Remittances from the AP tool, checked as a whole and registered with
    Odoo's own payment tools."""

    # -- (a) one bill named twice ---------------------------------------------------

    def test_one_bill_named_twice_is_paid_with_the_sum_or_not_at_all(self):
        (bill,) = self.ordered_bills(10)  # 46.00
        message = self.refused(
            remittance_event(
                1,
                [
                    {"invoice_external_id": "INV-1", "amount": 30.0},
                    {"invoice_number": "F2026-0001", "amount": 30.0},
                ],
            )
        )
        self.assertIn(
            f"allocates 60.00 {self.home.name} to {bill.name} (F2026-0001) "
            f"(INV-1: 30.00, F2026-0001: 30.00), which has only 46.00 "
            f"{self.home.name} left to pay",
            message.error_message,
        )
        self.assert_open(bill, 46.0, "not_paid")
        self.assertFalse(self.payable(bill).matched_debit_ids)
        # named twice within what is open: one bill, paid with the sum
        payments = self.pay(
            remittance_event(
                2,
                [
                    {"invoice_external_id": "INV-1", "amount": 30.0},
                    {"invoice_number": "F2026-0001", "amount": 16.0},
                ],
            )
        )
        self.assertEqual(len(payments), 1)
        self.assertEqual(payments.amount, 46.0)
        self.assert_open(bill, 0.0, "paid")

    # -- (b) numbers written another way --------------------------------------------

    def test_a_bill_is_found_by_its_number_written_another_way(self):
        (bill,) = self.ordered_bills(10)
        self.assertEqual(bill.ref, "F2026-0001")
        payment = self.pay(
            remittance_event(1, [{"invoice_number": "f2026-0001 ", "amount": 46.0}])
        )
        self.assert_open(bill, 0.0, "paid")
        self.assertEqual((payment.memo, payment.currency_id), ("REMIT-1", self.home))
        self.assertRecordValues(
            self.payment_lines(payment),
            [
                {
                    "account_id": payment.outstanding_account_id.id,
                    "balance": -46.0,
                    "amount_residual": -46.0,
                    "reconciled": False,
                },
                {
                    "account_id": self.payable(bill).account_id.id,
                    "balance": 46.0,
                    "amount_residual": 0.0,
                    "reconciled": True,
                },
            ],
        )

    # -- (c) other currencies -------------------------------------------------------

    def test_a_remittance_in_another_currency_is_converted_at_the_payment_date(self):
        bill = self.free_bill(1, 50.0)  # 115.00 in the home currency
        foreign = self.foreign.name
        message = self.refused(
            remittance_event(1, [{"invoice_external_id": "INV-1", "amount": 1000.0}]),
            self.foreign,
        )
        # 115.00 at 1.25 on the payment date is 143.75
        self.assertIn(
            f"allocates 1000.00 {foreign} to {bill.name} (F2026-0001), which has "
            f"only 143.75 {foreign} left to pay",
            message.error_message,
        )
        self.assert_open(bill, 115.0, "not_paid")
        payment = self.pay(
            remittance_event(2, [{"invoice_external_id": "INV-1", "amount": 100.0}]),
            self.foreign,
        )
        self.assertEqual((payment.currency_id, payment.amount), (self.foreign, 100.0))
        self.assertRecordValues(
            self.payment_lines(payment),
            [
                {
                    "account_id": payment.outstanding_account_id.id,
                    "currency_id": self.foreign.id,
                    "amount_currency": -100.0,
                    "balance": -80.0,
                },
                {
                    "account_id": self.payable(bill).account_id.id,
                    "currency_id": self.foreign.id,
                    "amount_currency": 100.0,
                    "balance": 80.0,
                },
            ],
        )
        self.assert_open(bill, 35.0, "partial")

    def test_a_bill_in_another_currency_paid_later_books_the_exchange_difference(self):
        (bill,) = self.ordered_bills(10, currency=self.foreign)
        # booked at 1.00 on the invoice date
        self.assertRecordValues(
            self.payable(bill), [{"amount_currency": -46.0, "balance": -46.0}]
        )
        payment = self.pay(
            remittance_event(1, [{"invoice_external_id": "INV-1", "amount": 46.0}]),
            self.foreign,
        )
        # paid at 0.80 on the payment date
        self.assertRecordValues(
            self.payment_lines(payment),
            [
                {"amount_currency": -46.0, "balance": -36.8},
                {"amount_currency": 46.0, "balance": 36.8},
            ],
        )
        self.assert_open(bill, 0.0, "paid")
        exchange = self.payable(bill).matched_debit_ids.exchange_move_id
        self.assertEqual(exchange.journal_id, self.company.currency_exchange_journal_id)
        self.assertRecordValues(
            exchange.line_ids.sorted("balance"),
            [
                {
                    "account_id": self.company.income_currency_exchange_account_id.id,
                    "balance": -9.2,
                    "amount_currency": 0.0,
                },
                {
                    "account_id": self.payable(bill).account_id.id,
                    "balance": 9.2,
                    "amount_currency": 0.0,
                },
            ],
        )
        self.assertEqual(sum(self.payable(bill).mapped("amount_residual")), 0.0)

    # -- (d) small differences ------------------------------------------------------

    def test_small_differences_are_written_off_under_the_policy_larger_are_not(self):
        short = self.free_bill(1, 20.0)  # 46.00
        partial = self.free_bill(2, 30.0)  # 69.00
        over = self.free_bill(3, 40.0)  # 92.00
        payment = self.pay(
            remittance_event(1, [{"invoice_external_id": "INV-1", "amount": 45.98}])
        )
        self.assert_open(short, 0.0, "paid")
        label = f"{payment.payment_method_line_id.name}: REMIT-1"
        self.assertRecordValues(
            self.payment_lines(payment),
            [
                {
                    "account_id": payment.outstanding_account_id.id,
                    "balance": -45.98,
                    "name": label,
                },
                {
                    "account_id": self.differences.id,
                    "balance": -0.02,
                    "name": "Bank charges and rounding",
                },
                {
                    "account_id": self.payable(short).account_id.id,
                    "balance": 46.0,
                    "name": label,
                },
            ],
        )
        # 5.00 short is beyond 0.05: a partial payment, the 5.00 stays open
        payment = self.pay(
            remittance_event(2, [{"invoice_external_id": "INV-2", "amount": 64.0}])
        )
        self.assertEqual(len(payment.move_id.line_ids), 2)
        self.assert_open(partial, 5.0, "partial")
        # 5.00 more than open is an exception
        message = self.refused(
            remittance_event(3, [{"invoice_external_id": "INV-3", "amount": 97.0}])
        )
        self.assertIn(
            f"which has only 92.00 {self.home.name} left to pay (up to 0.05 "
            f"{self.home.name} and 1 % of the open amount is written off)",
            message.error_message,
        )
        self.assert_open(over, 92.0, "not_paid")

    def test_the_write_off_policy_of_one_currency_does_not_apply_to_another(self):
        bill = self.free_bill(1, 20.0)  # 46.00, 57.50 in the foreign currency
        # 0.02 short in the foreign currency, which has no policy: in part
        payment = self.pay(
            remittance_event(1, [{"invoice_external_id": "INV-1", "amount": 57.48}]),
            self.foreign,
        )
        self.assertEqual(len(payment.move_id.line_ids), 2)
        self.assertRecordValues(
            self.payable(payment.move_id),
            [{"amount_currency": 57.48, "balance": 45.98}],
        )
        self.assert_open(bill, 0.02, "partial")
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
            with self.env.cr.savepoint():
                self.policy.copy({"label": "A second policy"})

    # -- (e) credit notes -----------------------------------------------------------

    def test_credit_notes_are_netted_and_one_payment_pays_the_rest(self):
        first, second, credit = self.ordered_bills(6, 4, credit_note=2)
        self.assertEqual(
            (first.amount_total, second.amount_total, credit.amount_total),
            (27.6, 18.4, 9.2),
        )
        as_a_bill = self.refused(
            remittance_event(
                1,
                [
                    {"invoice_external_id": "INV-1", "amount": 27.6},
                    {"invoice_external_id": "INV-3", "amount": 9.2},
                ],
            )
        )
        self.assertIn("as a bill, but it is a credit note", as_a_bill.error_message)
        payment = self.pay(
            remittance_event(
                2,
                [
                    {"invoice_external_id": "INV-1", "amount": 27.6},
                    {"invoice_number": "F2026-0002", "amount": 18.4},
                    {"invoice_number": "f2026 0003", "amount": -9.2},
                ],
            )
        )
        self.assertEqual(len(payment), 1)
        self.assertEqual(payment.amount, 36.8)
        self.assertRecordValues(
            self.payment_lines(payment),
            [
                {"account_id": payment.outstanding_account_id.id, "balance": -36.8},
                {"account_id": self.payable(first).account_id.id, "balance": 36.8},
            ],
        )
        for document in (first, second, credit):
            self.assert_open(document, 0.0, "paid")
        # the credit note is set off against the first bill, the payment pays
        # the rest of it and all of the second
        self.assertEqual(
            self.payable(credit).matched_credit_ids.credit_move_id.move_id, first
        )
        self.assertEqual(self.payable(credit).matched_credit_ids.amount, 9.2)
        self.assertEqual(
            self.payable(payment.move_id).matched_credit_ids.credit_move_id.move_id,
            first | second,
        )

    # -- (f) payments on account ----------------------------------------------------

    def test_what_no_bill_takes_is_paid_on_account_of_the_supplier(self):
        (bill,) = self.ordered_bills(10)
        to_bill, on_account = self.pay(
            remittance_event(
                1, [{"invoice_external_id": "INV-1", "amount": 46.0}], amount=100.0
            )
        )
        self.assert_open(bill, 0.0, "paid")
        self.assertEqual(to_bill.amount, 46.0)
        supplier = bill.commercial_partner_id
        self.assertRecordValues(
            on_account,
            [
                {
                    "amount": 54.0,
                    "memo": "REMIT-1",
                    "partner_id": supplier.id,
                    "payment_type": "outbound",
                    "state": "in_process",
                }
            ],
        )
        self.assertRecordValues(
            self.payable(on_account.move_id),
            [{"balance": 54.0, "amount_residual": 54.0, "reconciled": False}],
        )
        # no allocation at all: all of it on account
        (alone,) = self.pay(remittance_event(2, [], amount=25.0))
        self.assertEqual((alone.amount, alone.memo), (25.0, "REMIT-2"))
        outstanding = self.env["account.move.line"].search(
            [
                ("partner_id", "=", supplier.id),
                ("account_type", "=", "liability_payable"),
                ("parent_state", "=", "posted"),
                ("reconciled", "=", False),
            ]
        )
        self.assertEqual(sum(outstanding.mapped("amount_residual")), 79.0)
        # without a supplier nobody is paid on account
        message = self.refused(
            remittance_event(3, [], amount=10.0, supplier_external_id=None)
        )
        self.assertIn("names no supplier", message.error_message)

    # -- (g) redelivery -------------------------------------------------------------

    @mute_logger(MAIL)
    def test_a_remittance_sent_again_pays_nothing_twice(self):
        first, second = self.ordered_bills(4, 6)  # 18.40, 27.60
        allocations = [
            {"invoice_external_id": "INV-1", "amount": 18.4},
            {"invoice_external_id": "INV-2", "amount": 10.0},
        ]
        payments = self.pay(remittance_event(1, allocations, amount=40.0))
        self.assertEqual(payments.mapped("amount"), [18.4, 10.0, 11.6])
        again = self.from_ap(
            remittance_event(1, allocations, amount=40.0) | {"id": "evt-pay-1b"}
        )
        self.assertEqual(again.state, "skipped")
        changed = remittance_event(
            1, [allocations[0], {**allocations[1], "amount": 12.0}], amount=40.0
        )
        changed = self.from_ap(changed | {"id": "evt-pay-1c"})
        self.assertEqual((changed.state, changed.error_kind), ("failed", "business"))
        self.assertIn("arrives with another content", changed.error_message)
        self.assertEqual(self.payments("PAY-1"), payments)
        self.assert_open(first, 0.0, "paid")
        self.assert_open(second, 17.6, "partial")
