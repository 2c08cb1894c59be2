"""Real Factur-X (UN/CEFACT CII) documents through ``POST /finance_hub/ubl/<code>``
over real HTTP, signed as the AP tool forwards them, to posted vendor bills
and credit notes whose amounts, computed by Odoo, are the document's own to
the cent; and mutations of them refused with the rule of the standard.

The documents are the Factur-X files shipped with Odoo 18, read in place
(never copied into the repository); a test skips when they are absent.
"""

import re
from decimal import Decimal
from pathlib import Path

from odoo.modules.module import get_module_path
from odoo.tests import HttpCase, tagged

from ..lib import safe_xml
from ..lib.cii_inbound import NS
from .common import BackendMixin, run_drain_job

ORDER_REFERENCE = re.compile(
    rb"<ram:BuyerOrderReferencedDocument>.*?</ram:BuyerOrderReferencedDocument>",
    re.S,
)
SUMMATION = (
    "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/"
    "ram:SpecifiedTradeSettlementHeaderMonetarySummation"
)


def without_order(body):
    """The document without its order reference (BT-13, optional): an
    invoice for goods bought without a purchase order in Odoo."""
    assert ORDER_REFERENCE.search(body), "the document names no order"
    return ORDER_REFERENCE.sub(b"", body)


def odoo_test_file(module, *parts):
    return (
        Path(get_module_path(module, display_warning=False) or "/nonexistent")
        / "tests"
        / "test_files"
        / Path(*parts)
    )


@tagged("post_install", "-at_install")
class TestCiiRealDocumentsOverHttp(BackendMixin, HttpCase):
    """An AP backend receiving real Factur-X documents from known suppliers,
    each invoicing an order the buyer placed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.ap = cls._setup_backend(
            code="facturx-http", kind="ap_automation", bill_posting="post"
        )
        company = cls.env.company
        for code in ("EUR", "USD"):
            currency = cls.env.ref(f"base.{code}")
            currency.active = True
            if company.currency_id != currency:
                cls.env["res.currency.rate"].create(
                    {"name": "2017-01-01", "rate": 1.25, "currency_id": currency.id}
                )
        standard = cls.env["account.tax"].search(
            [
                ("type_tax_use", "=", "purchase"),
                ("amount", "=", 15),
                ("company_id", "=", company.id),
            ],
            limit=1,
        )
        for rate in (21, 12, 20, 5.5):
            standard.copy({"name": f"{rate}% purchases", "amount": rate})
        # the suppliers, as the AP clerk created them (found by VAT number)
        cls.partner_1 = cls.env["res.partner"].create(
            {"name": "partner_1", "is_company": True}
        )
        cls.partner_1.write({"vat": "FR05677404089"})
        cls.moulin = cls.env["res.partner"].create(
            {"name": "Au bon moulin", "is_company": True}
        )
        cls.moulin.write({"vat": "FR11999999998"})
        # the olive oil is bought by the litre, the nougat by the piece
        litre = cls.env.ref("uom.product_uom_litre")
        cls.env["product.product"].create(
            [
                {"name": "Nougat de l'Abbaye 250g", "default_code": "NOUG250"},
                {
                    "name": "Huile d'olive à l'ancienne",
                    "default_code": "HOLANCL",
                    "uom_id": litre.id,
                    "uom_po_id": litre.id,
                },
            ]
        )

    def _order(self, partner, number, currency):
        """The confirmed order the document names (BuyerOrderReferencedDocument),
        known to the hub under that number."""
        order = self.env["purchase.order"].create(
            {
                "partner_id": partner.id,
                "currency_id": self.env.ref(f"base.{currency}").id,
                "order_line": [
                    (
                        0,
                        0,
                        {
                            "product_id": self.env.ref(
                                "finance_integration_hub.product_non_catalogue"
                            ).id,
                            "name": "Goods",
                            "product_qty": 1,
                            "price_unit": 1,
                        },
                    )
                ],
            }
        )
        order.button_confirm()
        self.env["fih.binding"].create(
            {
                "backend_id": self.ap.id,
                "object_type": "purchase_order",
                "external_id": number,
                "res_model": "purchase.order",
                "res_id": order.id,
            }
        )
        return order

    def document(self, module, *parts):
        path = odoo_test_file(module, *parts)
        if not path.exists():
            self.skipTest(f"{path} is not here (Odoo 18's Factur-X test files)")
        return path.read_bytes()

    def post(self, body):
        _body, headers = self.signed(body)
        headers["content-type"] = "application/xml"
        return self.url_open(
            f"/finance_hub/ubl/{self.ap.code}", data=body, headers=headers
        )

    def booked(self, body):
        """POST the document over HTTP, process it: its bill."""
        response = self.post(body)
        self.assertEqual(response.status_code, 202, response.text)
        run_drain_job(self.ap)
        self.env.invalidate_all()
        message = self.env["fih.message"].browse(response.json()["message_id"])
        self.assertEqual(
            message.state, "done", f"{message.error_message} {message.error_detail}"
        )
        return self.env["account.move"].browse(
            message.link_ids.filtered(
                lambda link: link.res_model == "account.move"
            ).res_id
        )

    def assert_booked_as_stated(self, body, bill, partner):
        """Untaxed, tax, total and amount due, as Odoo computes them on the
        posted bill, are the document's figures (their size: a negative
        invoice is a credit note)."""
        totals = safe_xml.parse(body).find(SUMMATION, NS)

        def stated(name):
            return abs(Decimal(totals.findtext(f"ram:{name}", namespaces=NS)))

        self.assertEqual(bill.state, "posted", bill.fih_hold_reason)
        self.assertEqual(bill.partner_id, partner)
        self.assertEqual(
            [
                Decimal(str(amount))
                for amount in (
                    bill.amount_untaxed,
                    bill.amount_tax,
                    bill.amount_total,
                    bill.amount_residual,
                )
            ],
            [
                stated(name)
                for name in (
                    "TaxBasisTotalAmount",
                    "TaxTotalAmount",
                    "GrandTotalAmount",
                    "DuePayableAmount",
                )
            ],
        )

    def test_a_factur_x_invoice_with_two_vat_rates_is_posted_to_the_cent(self):
        body = without_order(
            self.document("account_edi_ubl_cii", "facturx_out_invoice.xml")
        )
        bill = self.booked(body)
        self.assertEqual(bill.move_type, "in_invoice")
        self.assert_booked_as_stated(body, bill, self.partner_1)
        self.assertEqual(bill.ref, "INV/2017/01/0002")
        self.assertEqual(bill.currency_id.name, "USD")
        self.assertEqual(str(bill.invoice_date_due), "2017-02-28")
        rates = bill.line_ids.filtered(lambda line: line.display_type == "tax")
        self.assertEqual(sorted(rates.tax_line_id.mapped("amount")), [12.0, 21.0])
        # 2 dozens at 891.00, 10 units and a return of 1 unit at 100.00
        products = bill.invoice_line_ids.filtered(
            lambda line: line.display_type == "product"
        )
        self.assertEqual(
            sorted(products.mapped("price_subtotal")), [-100.0, 1000.0, 1782.0]
        )

    def test_an_invoice_naming_an_order_without_its_lines_is_held_for_matching(
        self,
    ):
        # the order reference (BT-13) is read: the bill is matched with the
        # order, whose lines the document does not name (BT-132)
        body = self.document("account_edi_ubl_cii", "facturx_out_invoice.xml")
        order = self._order(self.partner_1, "INV/2017/01/0002: INV/2017/01/0002", "USD")
        bill = self.booked(body)
        self.assertEqual(bill.state, "draft")
        self.assertIn(order.name, bill.invoice_origin or "")
        self.assertIn(
            "Invoice line 1 is not linked to an order line", bill.fih_hold_reason
        )
        self.assertEqual(Decimal(str(bill.amount_total)), Decimal("3164.22"))

    def _credit_note(self, name):
        # the supplier's net price 4.10 gives 20.48 for 5 (BR-LIN-04 allows
        # 0.02): the bill carries 4.096, the AP clerk raised the Product Price
        # precision to 3 decimals as the hold asks
        self.env.ref("product.decimal_price").digits = 3
        body = without_order(
            self.document("l10n_account_edi_ubl_cii_tests", "from_factur-x_doc", name)
        )
        return body, self.booked(body)

    def test_a_factur_x_credit_note_is_posted_as_a_vendor_credit_note(self):
        body, refund = self._credit_note("facturx_credit_note_type381.xml")
        self.assertEqual(refund.move_type, "in_refund")
        self.assert_booked_as_stated(body, refund, self.moulin)
        rates = refund.line_ids.filtered(lambda line: line.display_type == "tax")
        self.assertEqual(sorted(rates.tax_line_id.mapped("amount")), [5.5, 20.0])

    def test_a_negative_factur_x_invoice_is_posted_as_a_credit_note(self):
        body, refund = self._credit_note("facturx_credit_note_type380.xml")
        self.assertEqual(refund.move_type, "in_refund")
        self.assert_booked_as_stated(body, refund, self.moulin)

    def test_mutated_factur_x_invoices_are_answered_400_with_the_rule(self):
        body = self.document("account_edi_ubl_cii", "facturx_out_invoice.xml")
        for old, new, reason in (
            (
                b"<ram:GrandTotalAmount>3164.22<",
                b"<ram:GrandTotalAmount>3164.23<",
                r"states a total of 3164\.23 \(GrandTotalAmount, BR-CO-15\)",
            ),
            (
                b'<udt:DateTimeString format="102">20170101<',
                b'<udt:DateTimeString format="102">2017-01-01<',
                r"must be a date of format 102 \(YYYYMMDD",
            ),
            (
                b"<ram:TypeCode>380<",
                b"<ram:TypeCode>999<",
                r"type code 999 .*BR-CL-01",
            ),
        ):
            with self.subTest(reason=reason):
                self.assertIn(old, body)
                response = self.post(body.replace(old, new, 1))
                self.assertEqual(response.status_code, 400, response.text)
                self.assertEqual(response.json()["error"], "invalid_cii")
                self.assertRegex(response.json()["message"], reason)
        self.assertFalse(
            self.env["fih.message"].search([("backend_id", "=", self.ap.id)])
        )
