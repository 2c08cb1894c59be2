"""Public Peppol BIS Billing 3.0 documents, as suppliers send them, through
the UBL intake into vendor bills: the supplier found by its VAT number, the
amounts of the document to the cent."""

from decimal import Decimal
from pathlib import Path

from odoo.tests import tagged

from ..lib import safe_xml
from ..lib.ubl_inbound import NS
from .common import FihTransactionCase, run_drain_job

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"


@tagged("post_install", "-at_install")
class TestUblStandard(FihTransactionCase):
    """A trusted AP backend receiving real Peppol invoices in EUR."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ap, cls.ap_secret = cls._setup_other_backend(
            code="test-peppol", kind="ap_automation", bill_posting="post"
        )
        cls.company = cls.env.company
        cls.eur = cls.env.ref("base.EUR")
        cls.eur.active = True
        if cls.company.currency_id != cls.eur:
            cls.env["res.currency.rate"].create(
                {"name": "2017-01-01", "rate": 1.25, "currency_id": cls.eur.id}
            )
        cls.vat25 = cls._purchase_tax(25)
        # the examples add a 25.00 insurance charge: accepted without review
        cls.company.fih_charges_tolerance_amount = 100
        # the examples bill consultancy days without a catalogue number
        days = cls.env.ref("uom.product_uom_day")
        cls.env.ref("finance_integration_hub.product_non_catalogue").write(
            {"uom_id": days.id, "uom_po_id": days.id}
        )
        cls.supplier = cls.env["res.partner"].create(
            {"name": "SupplierTradingName Ltd.", "is_company": True}
        )
        # set without the country's format check: the example number is short
        cls.supplier.write({"vat": "GB 123 2434"})

    def document(self, name):
        path = CORPUS / "peppol-bis-3" / name
        if not path.exists():
            self.skipTest(f"{path} is not here (public corpus beside the repository)")
        return path.read_bytes()

    def assert_totals_of_the_document(self, bill, body, sign=1):
        root = safe_xml.parse(body)
        totals = root.find("cac:LegalMonetaryTotal", NS)

        def stated(path):
            return sign * Decimal(totals.findtext(path, namespaces=NS))

        self.assertEqual(bill.currency_id, self.eur)
        self.assertEqual(
            Decimal(str(bill.amount_untaxed)), stated("cbc:TaxExclusiveAmount")
        )
        self.assertEqual(
            Decimal(str(bill.amount_total)), stated("cbc:TaxInclusiveAmount")
        )

    def test_real_peppol_invoice_is_booked_for_the_supplier_of_its_vat_number(self):
        body = self.document("base-example.xml")
        bill = self.bill_of(body)
        self.assertEqual(bill.move_type, "in_invoice")
        self.assertEqual(bill.state, "posted", bill.fih_hold_reason)
        self.assertEqual(bill.ref, "Snippet1")
        self.assertEqual(str(bill.invoice_date_due), "2017-12-01")
        self.assert_totals_of_the_document(bill, body)
        self.assertEqual(bill.amount_tax, 331.25)
        goods = bill.invoice_line_ids.filtered(lambda line: line.quantity != 1)
        self.assertEqual(sorted(goods.mapped("price_subtotal")), [-1500.0, 2800.0])
        # the buyer's accounting string is no cost centre here: kept in the label
        self.assertIn(
            "Accounting cost: Konteringsstreng",
            " ".join(bill.invoice_line_ids.mapped("name")),
        )
        self.assertFalse(any(bill.invoice_line_ids.mapped("analytic_distribution")))
        payable = bill.line_ids.filtered(
            lambda line: line.account_id.account_type == "liability_payable"
        )
        self.assertEqual(payable.amount_currency, -1656.25)

    def test_negative_peppol_invoice_is_booked_as_a_credit_note(self):
        body = self.document("base-negative-inv-correction.xml")
        bill = self.bill_of(body)
        self.assertEqual(bill.move_type, "in_refund")
        self.assertEqual(bill.state, "posted", bill.fih_hold_reason)
        self.assertEqual(bill.ref, "Correction1")
        self.assert_totals_of_the_document(bill, body, sign=-1)
        self.assertEqual(bill.amount_tax, 331.25)

    def test_a_vat_number_on_two_partners_names_both_and_books_nothing(self):
        twin = self.env["res.partner"].create(
            {"name": "Supplier twin", "is_company": True}
        )
        twin.write({"vat": "GB1232434"})
        result = self.post_ubl(self.document("base-example.xml"))
        run_drain_job(self.ap)
        self.env.invalidate_all()
        message = self.Message.browse(result.payload["message_id"])
        self.assertEqual(message.state, "failed")
        self.assertIn("SupplierTradingName Ltd.", message.error_message)
        self.assertIn("Supplier twin", message.error_message)
        self.assertFalse(self.env["account.move"].search([("ref", "=", "Snippet1")]))
