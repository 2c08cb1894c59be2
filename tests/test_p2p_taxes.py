import re

from odoo import Command
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..simulator.p2p_documents import cxml_invoice
from .common import run_drain_job, supplier_event
from .tax_cases import P2PTaxCase, bill_event
from .test_procure_to_pay import order_event, payment_event, receipt_event

MAIL = "odoo.addons.mail.models.mail_mail"  # activity e-mails: no SMTP in tests


@tagged("post_install", "-at_install")
class TestP2PTaxes(P2PTaxCase):
    """Taxes booked as the supplier states them, by their real category."""

    def setUp(self):
        super().setUp()
        self.from_procurement(supplier_event(1))
        self.cur = self.currency.name

    # -- rule 3: categories ----------------------------------------------------------

    def test_a_reverse_charge_bill_self_assesses_the_vat_and_owes_the_untaxed_amount(
        self,
    ):
        event = bill_event(
            1,
            [("Consulting", 2, 100.0, ["VAT0-AE"])],
            [("VAT0-AE", 200, 0)],
            currency=self.cur,
        )
        bill = self.posted_bill(1, event)
        self.assertRecordValues(
            bill.line_ids.sorted("balance"),
            [
                {
                    "balance": -200.0,
                    "account_id": self.payable(bill).account_id.id,
                    "tax_line_id": False,
                    "tax_ids": [],
                },
                {
                    "balance": -30.0,
                    "account_id": self.vat_due.id,
                    "tax_line_id": self.reverse_charge.id,
                    "tax_ids": [],
                },
                {
                    "balance": 30.0,
                    "account_id": self.input_vat.id,
                    "tax_line_id": self.reverse_charge.id,
                    "tax_ids": [],
                },
                {
                    "balance": 200.0,
                    "account_id": bill.invoice_line_ids.account_id.id,
                    "tax_line_id": False,
                    "tax_ids": self.reverse_charge.ids,
                },
            ],
        )
        self.assertEqual(self.payable(bill).balance, -200.0)
        self.assertEqual(
            (bill.amount_untaxed, bill.amount_tax, bill.amount_total),
            (200.0, 0.0, 200.0),
        )

    def test_intra_community_and_exempt_lines_book_their_own_taxes(self):
        event = bill_event(
            2,
            [
                ("Goods from Germany", 1, 100.0, ["VAT0-K"]),
                ("Training", 1, 50.0, ["VAT0-E"]),
            ],
            [("VAT0-K", 100, 0), ("VAT0-E", 50, 0)],
            currency=self.cur,
        )
        bill = self.posted_bill(2, event)
        goods, training = bill.invoice_line_ids.sorted("fih_external_line_id")
        self.assertEqual(goods.tax_ids, self.intra_eu)
        self.assertEqual(training.tax_ids, self.exempt)
        self.assertRecordValues(
            self.lines_of(bill, self.intra_eu),
            [
                {"balance": -15.0, "account_id": self.vat_due.id},
                {"balance": 15.0, "account_id": self.input_vat.id},
            ],
        )
        self.assertEqual(self.payable(bill).balance, -150.0)
        self.assertEqual((bill.amount_tax, bill.amount_total), (0.0, 150.0))

    def test_exempt_and_zero_rated_lines_are_told_apart_and_the_bill_posted(self):
        event = bill_event(
            3,
            [
                ("Insurance", 1, 50.0, ["VAT0-E"]),
                ("Books", 3, 10.0, ["VAT0-Z"]),
            ],
            [("VAT0-E", 50, 0), ("VAT0-Z", 30, 0)],
            currency=self.cur,
        )
        bill = self.posted_bill(3, event)
        insurance, books = bill.invoice_line_ids.sorted("fih_external_line_id")
        self.assertEqual(
            (insurance.tax_ids, books.tax_ids), (self.exempt, self.zero_rated)
        )
        self.assertEqual(insurance.fih_tax_codes, {"VAT0-E": self.exempt.id})
        self.assertEqual(self.payable(bill).balance, -80.0)
        self.assertEqual(bill.amount_tax, 0.0)

    @mute_logger(MAIL)
    def test_a_reverse_charge_code_without_its_tax_fails_readably_and_posts_nothing(
        self,
    ):
        self.reverse_charge.fih_tax_category = False
        self.untagged_zero.fih_tax_category = "AE"  # tagged, but no -100 % line
        event = bill_event(
            4,
            [("Consulting", 1, 100.0, ["VAT0-AE"])],
            [("VAT0-AE", 100, 0)],
            currency=self.cur,
        )
        message = self.send(event)
        self.assertEqual((message.state, message.error_kind), ("failed", "business"))
        self.assertIn("Tax code VAT0-AE (AE (reverse charge))", message.error_message)
        self.assertIn("self-assesses it", message.error_message)
        self.assertIn(
            "0% other has the category but no -100 % tax line", (message.error_message)
        )
        self.assertIn("cross-reference table 'taxes' of", message.error_message)
        self.assertFalse(self.bill(4))
        self.assertFalse(self.env["account.move"].search([("ref", "=", "T2026-0004")]))

    @mute_logger(MAIL)
    def test_two_intra_community_taxes_need_the_cross_reference_table(self):
        services = self._self_assessed("15% EU services", "K")
        event = bill_event(
            12,
            [("Hosting from Ireland", 1, 80.0, ["VAT0-K"])],
            [("VAT0-K", 80, 0)],
            currency=self.cur,
        )
        message = self.send(event)
        self.assertEqual((message.state, message.error_kind), ("failed", "business"))
        self.assertIn(
            "Tax code VAT0-K (K (intra-community supply)) matches several purchase "
            "taxes in",
            message.error_message,
        )
        self.assertIn("15% EU acquisitions, 15% EU services", message.error_message)
        self.assertFalse(self.bill(12))
        self.env["fih.value.map"].create(
            {
                "name": "Taxes",
                "code": "taxes",
                "backend_id": self.ap.id,
                "target_model": "account.tax",
                "entry_ids": [
                    Command.create(
                        {
                            "external_value": "VAT0-K",
                            "record_ref": f"account.tax,{services.id}",
                        }
                    )
                ],
            }
        )
        bill = self.posted_bill(12, event | {"id": "evt-tax-inv-12b"})
        self.assertEqual(bill.invoice_line_ids.tax_ids, services)
        self.assertEqual(
            sorted(self.lines_of(bill, services).mapped("balance")), [-12.0, 12.0]
        )

    # -- rule 5: stated tax amounts ---------------------------------------------------

    def test_tax_rounded_per_rate_is_booked_as_stated_and_the_remittance_pays_it(
        self,
    ):
        # 15 % of 10.03 is 1.5045: Odoo rounds per line (1.50 + 1.50), the
        # supplier per rate (3.009 -> 3.01)
        event = bill_event(
            5,
            [("Paper", 1, 10.03, ["VAT15"]), ("Paper", 1, 10.03, ["VAT15"])],
            [("VAT15", 20.06, 3.01)],
            currency=self.cur,
        )
        bill = self.posted_bill(5, event)
        self.assertRecordValues(
            self.lines_of(bill, self.vat15),
            [{"balance": 3.01, "amount_currency": 3.01}],
        )
        self.assertEqual(self.payable(bill).balance, -23.07)
        self.assertEqual(
            (bill.amount_untaxed, bill.amount_tax, bill.amount_total),
            (20.06, 3.01, 23.07),
        )
        payment = self.send(payment_event(1, [("INV-5", 23.07)], currency=self.cur))
        self.assertEqual(payment.state, "done", payment.error_message)
        self.assertEqual((bill.payment_state, bill.amount_residual), ("paid", 0.0))

    @mute_logger(MAIL)
    def test_a_tax_difference_beyond_the_allowance_holds_the_bill_with_the_figures(
        self,
    ):
        event = bill_event(
            6,
            [("Paper", 1, 10.03, ["VAT15"]), ("Paper", 1, 10.03, ["VAT15"])],
            [("VAT15", 20.06, 3.03)],
            currency=self.cur,
        )
        message = self.send(event)
        self.assertEqual(message.state, "done", message.error_message)
        bill = self.bill(6)
        self.assertEqual(bill.state, "draft")
        cur = self.cur
        self.assertIn(
            f"VAT15: the document states 3.03 {cur} of tax, 3.00 {cur} is computed "
            f"from its lines (0.03 {cur} more); up to 0.02 {cur} is accepted as "
            "rounding.",
            bill.fih_hold_reason,
        )
        # Odoo's own computation stays on the draft
        self.assertEqual(self.lines_of(bill, self.vat15).balance, 3.0)
        self.assertEqual(bill.amount_total, 23.06)

    @mute_logger(MAIL)
    def test_a_yen_bill_is_allowed_whole_yen_per_line(self):
        yen = self.env.ref("base.JPY")
        yen.active = True
        self.env["res.currency.rate"].create(
            {"currency_id": yen.id, "name": "2026-01-01", "rate": 150.0}
        )
        lines = [("Cable", 1, 1003.0, ["VAT15"])] * 3
        # per line 150.45 -> 150 three times; per rate 451.35 -> 451
        bill = self.posted_bill(
            7,
            bill_event(7, lines, [("VAT15", 3009, 451)], currency="JPY", places=0),
        )
        self.assertEqual(bill.currency_id, yen)
        # in the company's currency at the bill's rate: 451 / 150
        self.assertRecordValues(
            self.lines_of(bill, self.vat15),
            [{"amount_currency": 451.0, "balance": 3.01}],
        )
        self.assertEqual(self.payable(bill).amount_currency, -3460.0)
        self.assertEqual((bill.amount_tax, bill.amount_total), (451.0, 3460.0))
        # four yen more than Odoo's 450 is beyond three lines' rounding
        message = self.send(
            bill_event(
                8,
                lines,
                [("VAT15", 3009, 454)],
                currency="JPY",
                places=0,
                invoice_date="2026-11-27",
            )
        )
        held = self.bill(8)
        self.assertEqual((message.state, held.state), ("done", "draft"))
        self.assertIn(
            "VAT15: the document states 454 JPY of tax, 450 JPY is computed from "
            "its lines (4 JPY more); up to 3 JPY is accepted as rounding.",
            held.fih_hold_reason,
        )

    # -- rule 11: header charges and allowances ---------------------------------------

    def test_freight_is_a_charge_line_with_its_vat_not_an_unmatched_line(self):
        self.from_procurement(order_event())
        self.from_procurement(receipt_event(1, [("1", 10)]))
        freight_in = self.env["account.account"].create(
            {"name": "Freight in", "code": "FIH611", "account_type": "expense"}
        )
        self.company.write(
            {
                "fih_charges_account_id": freight_in.id,
                "fih_charges_tolerance_amount": 15.0,
                "fih_charges_tolerance_percent": 30.0,
            }
        )
        freight = {"amount": 10.0, "reason": "Freight", "tax_codes": ["VAT15"]}
        event = bill_event(
            9,
            [("Paper A4", 10, 4.0, ["VAT15"], "1")],
            [("VAT15", 50, 7.5)],
            currency=self.cur,
            order=1,
            charges=[freight],
        )
        bill = self.posted_bill(9, event)
        charge = bill.invoice_line_ids.filtered("fih_charge_kind")
        self.assertRecordValues(
            charge,
            [
                {
                    "name": "Freight",
                    "fih_charge_kind": "charge",
                    "account_id": freight_in.id,
                    "balance": 10.0,
                    "tax_ids": self.vat15.ids,
                    "purchase_line_id": False,
                }
            ],
        )
        self.assertEqual(self.lines_of(bill, self.vat15).balance, 7.5)
        self.assertEqual(self.payable(bill).balance, -57.5)

    @mute_logger(MAIL)
    def test_charges_beyond_the_tolerance_hold_the_bill(self):
        self.company.fih_charges_tolerance_amount = 5.0
        freight = {"amount": 10.0, "reason": "Freight", "tax_codes": ["VAT15"]}
        event = bill_event(
            10,
            [("Paper A4", 10, 4.0, ["VAT15"])],
            [("VAT15", 50, 7.5)],
            currency=self.cur,
            charges=[freight],
        )
        message = self.send(event)
        self.assertEqual(message.state, "done", message.error_message)
        bill = self.bill(10)
        self.assertEqual(bill.state, "draft")
        self.assertIn(
            f"Charges: the supplier adds 10.00 {self.cur} of charges (Freight "
            f"10.00) to 40.00 {self.cur} of goods; up to 5.00 {self.cur} is "
            "accepted without review.",
            bill.fih_hold_reason,
        )
        self.assertEqual(bill.amount_total, 57.5)

    @mute_logger(MAIL)
    def test_the_charges_tolerance_is_converted_to_the_bills_currency(self):
        """5.00 in the company's currency is 750 JPY at 150 JPY a unit: 700 JPY
        of freight passes, 800 JPY holds the bill, and the reason says 750."""
        yen = self.env.ref("base.JPY")
        yen.active = True
        self.env["res.currency.rate"].create(
            {"currency_id": yen.id, "name": "2026-01-01", "rate": 150.0}
        )
        self.company.fih_charges_tolerance_amount = 5.0
        lines = [("Cable", 1, 10000.0, ["VAT15"])]
        for n, freight in ((12, 700.0), (13, 800.0)):
            charge = {"amount": freight, "reason": "Freight", "tax_codes": ["VAT15"]}
            tax = round((10000 + freight) * 0.15)
            message = self.send(
                bill_event(
                    n,
                    lines,
                    [("VAT15", 10000 + freight, tax)],
                    currency="JPY",
                    places=0,
                    charges=[charge],
                )
            )
            self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(self.bill(12).state, "posted")
        held = self.bill(13)
        self.assertEqual(held.state, "draft")
        self.assertIn(
            "Charges: the supplier adds 800 JPY of charges (Freight 800) to "
            "10000 JPY of goods; up to 750 JPY is accepted without review.",
            held.fih_hold_reason,
        )

    def test_a_header_discount_reduces_the_vat_base(self):
        discount = {"amount": 10.0, "reason": "Volume discount", "tax_codes": ["VAT15"]}
        event = bill_event(
            11,
            [("Paper A4", 1, 100.0, ["VAT15"])],
            [("VAT15", 90, 13.5)],
            currency=self.cur,
            allowances=[discount],
        )
        bill = self.posted_bill(11, event)
        allowance = bill.invoice_line_ids.filtered("fih_charge_kind")
        self.assertRecordValues(
            allowance,
            [
                {
                    "name": "Volume discount",
                    "fih_charge_kind": "allowance",
                    "balance": -10.0,
                    "tax_ids": self.vat15.ids,
                }
            ],
        )
        self.assertEqual(self.lines_of(bill, self.vat15).balance, 13.5)
        self.assertEqual(self.payable(bill).balance, -103.5)
        self.assertEqual(
            (bill.amount_untaxed, bill.amount_tax, bill.amount_total),
            (90.0, 13.5, 103.5),
        )

    # -- rule 12: tax stated in the cXML summary only ----------------------------------

    def test_a_cxml_invoice_with_summary_tax_takes_the_order_lines_taxes(self):
        self.ap.cxml_shared_secret = "supplier-secret-Kx7pQ2vZ"
        self.from_procurement(order_event())
        self.from_procurement(receipt_event(1, [("1", 10)]))
        order_line = self.env["purchase.order.line"].search(
            [("fih_external_line_id", "=", "1")]
        )
        document = cxml_invoice(
            "F-12",
            "PO-1",
            "SUP-000001",
            [(1, 1, 10, 4.0, 15)],
            currency=self.cur,
            shared_secret="supplier-secret-Kx7pQ2vZ",
        ).decode()
        # the item states no tax; the summary states 15 % on 40.00
        document, count = re.subn(
            r"<Tax>(?:(?!</Tax>).)*</Tax></InvoiceDetailItem>",
            "</InvoiceDetailItem>",
            document,
        )
        self.assertEqual(count, 1)
        document = document.replace(
            '<Description xml:lang="en">Total VAT</Description></Tax>',
            '<Description xml:lang="en">Total VAT</Description>'
            '<TaxDetail purpose="tax" category="vat" percentageRate="15">'
            f'<TaxableAmount><Money currency="{self.cur}">40.00</Money>'
            f'</TaxableAmount><TaxAmount><Money currency="{self.cur}">6.00</Money>'
            "</TaxAmount></TaxDetail></Tax>",
        )
        body = document.encode()
        result = self.env["fih.cxml.intake"]._receive(
            self.ap.code, lambda: body, len(body)
        )
        self.assertEqual(result.status, 201, result.body)
        run_drain_job(self.ap)
        self.env.invalidate_all()
        message = self.Message.search([("backend_id", "=", self.ap.id)])
        self.assertEqual(message.state, "done", message.error_message)
        bill = self.env["account.move"].search([("ref", "=", "F-12")])
        self.assertEqual(bill.state, "posted", bill.fih_hold_reason)
        self.assertEqual(bill.invoice_line_ids.tax_ids, order_line.taxes_id)
        self.assertEqual(
            bill.invoice_line_ids.fih_tax_codes, {"VAT15": order_line.taxes_id.id}
        )
        self.assertEqual(self.lines_of(bill, order_line.taxes_id).balance, 6.0)
        self.assertEqual(self.payable(bill).balance, -46.0)
