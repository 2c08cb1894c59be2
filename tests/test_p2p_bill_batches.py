from datetime import date

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import FihTransactionCase, run_drain_job, supplier_event

MAIL = "odoo.addons.mail.models.mail_mail"  # activity e-mails: no SMTP in tests


def direct_bill(n, currency, lines, tax, invoice_date="2026-11-26"):
    """An approved invoice without an order: ``lines`` (quantity, unit price),
    15 % tax, the tax stated as ``tax``."""
    untaxed = round(sum(qty * price for qty, price in lines), 2)
    return {
        "id": f"evt-batch-inv-{n}",
        "type": "invoice.upsert",
        "occurred_at": "2026-11-26T08:00:00Z",
        "data": {
            "external_id": f"BATCH-{n}",
            "document_type": "invoice",
            "supplier_external_id": "SUP-000001",
            "invoice_number": f"B2026-{n:04d}",
            "invoice_date": invoice_date,
            "currency": currency,
            "lines": [
                {
                    "line_id": str(k),
                    "description": f"Item {k}",
                    "quantity": qty,
                    "unit_price": price,
                    "tax_codes": ["VAT15"],
                }
                for k, (qty, price) in enumerate(lines, 1)
            ],
            "tax_totals": [{"tax_code": "VAT15", "base": untaxed, "amount": tax}],
            "amount_untaxed": untaxed,
            "amount_tax": tax,
            "amount_total": round(untaxed + tax, 2),
        },
    }


@tagged("post_install", "-at_install")
class TestP2PBillBatches(FihTransactionCase):
    """Bills of one batch are checked one by one but their stated taxes are
    booked together and they are posted together: every bill still ends
    with its own document's figures, balanced, on its own date."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_ap_backend(bill_posting="post")
        cls.company = cls.env.company
        cls.cur = cls.company.currency_id.name

    def setUp(self):
        super().setUp()
        self.assertEqual(self.receive(supplier_event(1)).status, 202)
        self.process()

    def batch(self, events):
        result = self.receive_on(self.ap, {"events": events}, secret=self.ap_secret)
        self.assertEqual(result.status, 202, result.payload)
        run_drain_job(self.ap)
        self.env.invalidate_all()

    def bill(self, n):
        return self.bound("invoice", f"BATCH-{n}", "account.move")

    def payable(self, bill):
        return bill.line_ids.filtered(
            lambda line: line.account_id.account_type == "liability_payable"
        )

    def assertBooked(self, bill, untaxed, tax):
        self.assertEqual(bill.state, "posted", bill.fih_hold_reason)
        self.assertEqual(
            (bill.amount_untaxed, bill.amount_tax, bill.amount_total),
            (untaxed, tax, round(untaxed + tax, 2)),
        )
        tax_lines = bill.line_ids.filtered("tax_line_id")
        self.assertAlmostEqual(sum(tax_lines.mapped("balance")), tax, places=2)
        self.assertAlmostEqual(self.payable(bill).balance, -(untaxed + tax), places=2)
        self.assertAlmostEqual(sum(bill.line_ids.mapped("balance")), 0.0, places=2)

    @mute_logger(MAIL)
    def test_a_batch_books_each_bills_stated_tax_and_holds_only_the_wrong_one(self):
        # per line, 15 % of 1.03 rounds to 0.15 (0.45 for three lines); the
        # supplier rounds the total: 0.46, a cent the bill must book as stated
        self.batch(
            [
                direct_bill(1, self.cur, [(1, 1.03)] * 3, 0.46),
                direct_bill(2, self.cur, [(1, 100.0)], 15.0),
                direct_bill(3, self.cur, [(1, 100.0)], 20.0),
                direct_bill(4, self.cur, [(1, 2.03)] * 3, 0.91),
            ]
        )
        self.assertBooked(self.bill(1), 3.09, 0.46)
        self.assertBooked(self.bill(2), 100.0, 15.0)
        self.assertBooked(self.bill(4), 6.09, 0.91)
        held = self.bill(3)
        self.assertEqual(held.state, "draft")
        self.assertIn("20", held.fih_hold_reason)
        self.assertEqual((held.amount_tax, held.amount_total), (15.0, 115.0))
        self.assertEqual(
            len(self.bill(1).line_ids.filtered("tax_line_id")),
            1,
            "one tax line per bill, not one per bill of the batch",
        )

    def test_a_bill_in_a_locked_period_and_an_open_one_post_in_one_batch(self):
        self.company.fiscalyear_lock_date = date(2026, 11, 30)
        self.batch(
            [
                direct_bill(5, self.cur, [(1, 1.03)] * 3, 0.46, "2026-11-26"),
                direct_bill(6, self.cur, [(1, 2.03)] * 3, 0.91, "2026-12-01"),
            ]
        )
        locked, open_ = self.bill(5), self.bill(6)
        self.assertBooked(locked, 3.09, 0.46)
        self.assertBooked(open_, 6.09, 0.91)
        self.assertEqual(
            (locked.invoice_date, locked.date), (date(2026, 11, 26), date(2026, 12, 1))
        )
        self.assertEqual(set(locked.line_ids.mapped("date")), {date(2026, 12, 1)})
        self.assertEqual(
            (open_.invoice_date, open_.date), (date(2026, 12, 1), date(2026, 12, 1))
        )
        self.assertNotEqual(locked.name, open_.name)
