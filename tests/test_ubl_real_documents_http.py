"""Public Peppol BIS 3 documents through ``POST /finance_hub/ubl/<code>``
over real HTTP, signed as a Peppol access point would forward them, to
posted vendor bills and credit notes whose amounts are the document's own,
to the cent."""

from decimal import Decimal
from pathlib import Path

from odoo.tests import HttpCase, tagged

from ..lib import safe_xml
from ..lib.ubl_inbound import NS
from .common import BackendMixin, run_drain_job

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"


@tagged("post_install", "-at_install")
class TestUblRealDocumentsOverHttp(BackendMixin, HttpCase):
    """An AP backend receiving real Peppol documents from a known supplier."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.ap = cls._setup_backend(
            code="peppol-http", kind="ap_automation", bill_posting="post"
        )
        company = cls.env.company
        eur = cls.env.ref("base.EUR")
        eur.active = True
        if company.currency_id != eur:
            cls.env["res.currency.rate"].create(
                {"name": "2017-01-01", "rate": 1.25, "currency_id": eur.id}
            )
        standard = cls.env["account.tax"].search(
            [
                ("type_tax_use", "=", "purchase"),
                ("amount", "=", 15),
                ("company_id", "=", company.id),
            ],
            limit=1,
        )
        standard.copy({"name": "25% purchases", "amount": 25})
        # the examples' insurance charges and discounts: accepted without review
        company.fih_charges_tolerance_amount = 1000
        cls.supplier = cls.env["res.partner"].create(
            {"name": "SupplierTradingName Ltd.", "is_company": True}
        )
        cls.supplier.write({"vat": "GB 123 2434"})  # as the clerk typed it

    def document(self, name):
        path = CORPUS / "peppol-bis-3" / name
        if not path.exists():
            self.skipTest(f"{path} is not here (public corpus beside the repository)")
        return path.read_bytes()

    def booked(self, name):
        """POST the document over HTTP, process it: its bill."""
        body = self.document(name)
        _body, headers = self.signed(body)
        headers["content-type"] = "application/xml"
        response = self.url_open(
            f"/finance_hub/ubl/{self.ap.code}", data=body, headers=headers
        )
        self.assertEqual(response.status_code, 202, response.text)
        run_drain_job(self.ap)
        self.env.invalidate_all()
        message = self.env["fih.message"].browse(response.json()["message_id"])
        self.assertEqual(
            message.state, "done", f"{message.error_message} {message.error_detail}"
        )
        bill = self.env["account.move"].browse(
            message.link_ids.filtered(
                lambda link: link.res_model == "account.move"
            ).res_id
        )
        return body, bill

    def assert_booked_as_stated(self, body, bill):
        """Untaxed, tax, total and amount due are the document's figures."""
        root = safe_xml.parse(body)
        totals = root.find("cac:LegalMonetaryTotal", NS)

        def stated(parent, path):
            return abs(Decimal(parent.findtext(path, namespaces=NS)))

        self.assertEqual(bill.state, "posted", bill.fih_hold_reason)
        self.assertEqual(bill.partner_id, self.supplier)
        self.assertEqual(
            [
                Decimal(str(amount))
                for amount in (bill.amount_untaxed, bill.amount_tax, bill.amount_total)
            ],
            [
                stated(totals, "cbc:TaxExclusiveAmount"),
                stated(root, "cac:TaxTotal/cbc:TaxAmount"),
                stated(totals, "cbc:TaxInclusiveAmount"),
            ],
        )
        self.assertEqual(
            Decimal(str(bill.amount_residual)), stated(totals, "cbc:PayableAmount")
        )

    def test_an_invoice_with_two_vat_rates_is_posted_to_the_cent(self):
        body, bill = self.booked("Vat-category-S.xml")
        self.assertEqual(bill.move_type, "in_invoice")
        self.assert_booked_as_stated(body, bill)
        rates = bill.line_ids.filtered(lambda line: line.display_type == "tax")
        self.assertEqual(sorted(rates.tax_line_id.mapped("amount")), [15.0, 25.0])

    def test_a_credit_note_is_posted_as_a_vendor_credit_note_to_the_cent(self):
        # it credits consultancy days without a catalogue number
        days = self.env.ref("uom.product_uom_day")
        self.env.ref("finance_integration_hub.product_non_catalogue").write(
            {"uom_id": days.id, "uom_po_id": days.id}
        )
        body, refund = self.booked("base-creditnote-correction.xml")
        self.assertEqual(refund.move_type, "in_refund")
        self.assert_booked_as_stated(body, refund)
