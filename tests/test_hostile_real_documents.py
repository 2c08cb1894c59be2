"""Real documents, mutated: the hostile-input suite on public Peppol, Factur-X
and cXML documents (read in place, never copied into the repository).

Each mutation (a number one cent off, an impossible date, a duplicated
identifier, another encoding, a byte order mark, an absurd currency) is
either refused at once with a reason the sender can act on (UBL 400/409,
cXML 406), or accepted and then booked to the cent or stopped with a
readable reason; never a 500, never a wrong bill.
"""

import os
import re
from pathlib import Path
from unittest.mock import patch

from cryptography.fernet import Fernet

from odoo.modules.module import get_module_path
from odoo.tests import tagged

from .common import FihTransactionCase, run_drain_job
from .test_cxml_real_documents import CxmlCase, public_document

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"
BOM = b"\xef\xbb\xbf"


def mutated(data, old, new, count=1):
    """``data`` with ``old`` replaced by ``new``; the mutation must apply."""
    assert old in data, f"{old!r} is not in the document"
    return data.replace(old, new, count)


@tagged("post_install", "-at_install")
class TestHostileRealPeppolDocuments(FihTransactionCase):
    """Mutations of the Peppol BIS 3 base example at the UBL endpoint."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ap, cls.ap_secret = cls._setup_other_backend(
            code="hostile-peppol", kind="ap_automation", bill_posting="post"
        )
        cls.company = cls.env.company
        cls.eur = cls.env.ref("base.EUR")
        cls.eur.active = True
        if cls.company.currency_id != cls.eur:
            cls.env["res.currency.rate"].create(
                {"name": "2017-01-01", "rate": 1.25, "currency_id": cls.eur.id}
            )
        standard = cls.env["account.tax"].search(
            [
                ("type_tax_use", "=", "purchase"),
                ("amount", "=", 15),
                ("company_id", "=", cls.company.id),
            ],
            limit=1,
        )
        standard.copy({"name": "25% purchases", "amount": 25})
        cls.company.fih_charges_tolerance_amount = 100  # the 25.00 insurance
        days = cls.env.ref("uom.product_uom_day")
        cls.env.ref("finance_integration_hub.product_non_catalogue").write(
            {"uom_id": days.id, "uom_po_id": days.id}
        )
        cls.supplier = cls.env["res.partner"].create(
            {"name": "SupplierTradingName Ltd.", "is_company": True}
        )
        cls.supplier.write({"vat": "GB 123 2434"})

    def setUp(self):
        super().setUp()
        path = CORPUS / "peppol-bis-3" / "base-example.xml"
        if not path.exists():
            self.skipTest(f"{path} is not here (public corpus beside the repository)")
        self.base = path.read_bytes()

    def refused(self, body, reason):
        """``body`` is answered 400 with ``reason``; nothing is stored."""
        result = self.post_ubl(body)
        self.assertEqual(result.status, 400, result.payload)
        self.assertRegex(result.payload["message"], reason)
        self.assertFalse(self.Message.search([("backend_id", "=", self.ap.id)]))
        self.assertFalse(self.env["account.move"].search([("ref", "=", "Snippet1")]))

    def processed(self, body):
        result = self.post_ubl(body)
        self.assertEqual(result.status, 202, result.payload)
        run_drain_job(self.ap)
        self.env.invalidate_all()
        return self.Message.browse(result.payload["message_id"])

    def test_a_line_amount_one_cent_off_is_refused_naming_both_sums(self):
        body = mutated(
            self.base,
            b">2800</cbc:LineExtensionAmount>",
            b">2800.01</cbc:LineExtensionAmount>",
        )
        self.refused(body, r"add up to 1300\.01 EUR but the document states 1300\.00")

    def test_an_impossible_date_is_refused(self):
        body = mutated(
            self.base, b"2017-11-13</cbc:IssueDate>", b"2026-02-30</cbc:IssueDate>"
        )
        self.refused(body, r"must be a date .*'2026-02-30'")

    def test_a_latin1_document_with_accented_names_is_refused_naming_the_encodings(
        self,
    ):
        body = mutated(self.base, b'encoding="UTF-8"', b'encoding="ISO-8859-1"')
        body = mutated(
            body,
            b"SupplierTradingName Ltd.",
            "Société Générale Ltd.".encode("latin-1"),
        )
        self.refused(body, "ISO-8859-1.*only UTF-8 and UTF-16 are accepted")

    def test_duplicated_line_ids_are_refused(self):
        body = mutated(self.base, b"<cbc:ID>2</cbc:ID>", b"<cbc:ID>1</cbc:ID>")
        self.refused(body, "two lines numbered 1")

    def test_a_currency_code_that_is_no_iso_code_is_refused(self):
        body = re.sub(
            rb'"EUR"|>EUR<', lambda m: m.group(0).replace(b"EUR", b"EURO"), self.base
        )
        self.refused(body, r"\$\.currency .*ISO 4217")

    def test_an_unknown_currency_stops_the_bill_with_a_reason(self):
        body = re.sub(
            rb'"EUR"|>EUR<', lambda m: m.group(0).replace(b"EUR", b"ZZZ"), self.base
        )
        message = self.processed(body)
        self.assertEqual((message.state, message.error_kind), ("failed", "business"))
        self.assertIn("Currency ZZZ is not active in Odoo", message.error_message)
        self.assertFalse(self.env["account.move"].search([("ref", "=", "Snippet1")]))

    def test_a_byte_order_mark_is_read_and_the_bill_booked_to_the_cent(self):
        message = self.processed(BOM + self.base)
        self.assertEqual(message.state, "done", message.error_message)
        bill = self.env["account.move"].search([("ref", "=", "Snippet1")])
        self.assertEqual(bill.state, "posted", bill.fih_hold_reason)
        self.assertEqual(
            (bill.amount_untaxed, bill.amount_tax, bill.amount_total),
            (1325.0, 331.25, 1656.25),
        )
        self.assertEqual(bill.partner_id, self.supplier)

    def test_the_same_number_with_another_due_date_is_a_conflict(self):
        self.assertEqual(self.processed(self.base).state, "done")
        changed = mutated(
            self.base, b"<cbc:DueDate>2017-12-01", b"<cbc:DueDate>2017-12-02"
        )
        result = self.post_ubl(changed)
        self.assertEqual(result.status, 409, result.payload)
        self.assertIn("different content", result.payload["message"])
        self.assertEqual(
            len(self.env["account.move"].search([("ref", "=", "Snippet1")])), 1
        )


@tagged("post_install", "-at_install")
class TestHostileRealCxmlDocuments(CxmlCase):
    """Mutations of the public cXML OrderRequest at the cXML endpoint."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.ref("base.EUR").active = True
        cls.supplier = cls.env["res.partner"].create(
            {"name": "Supplier Inc", "supplier_rank": 1}
        )
        cls.env["fih.value.map"].create(
            {
                "name": "Suppliers on the network",
                "code": "suppliers",
                "backend_id": cls.backend.id,
                "target_model": "res.partner",
                "entry_ids": [
                    (
                        0,
                        0,
                        {
                            "external_value": "NetworkId:supplier@supplier.com",
                            "record_ref": f"res.partner,{cls.supplier.id}",
                        },
                    )
                ],
            }
        )

    def setUp(self):
        super().setUp()
        self.order = public_document("OrderRequest.xml")

    def refused(self, body, reason):
        status, text = self.post_cxml(body)
        self.assertEqual(status, 406, text)
        self.assertRegex(text, reason)
        self.assertFalse(self.Message.search([("backend_id", "=", self.backend.id)]))

    def test_a_unit_price_one_cent_off_is_refused_naming_both_totals(self):
        body = mutated(
            self.order,
            b'<Money currency="EUR">2.10</Money>',
            b'<Money currency="EUR">2.11</Money>',
        )
        self.refused(body, r"85\.00 EUR.*85\.10 EUR")

    def test_an_impossible_order_date_is_refused(self):
        body = mutated(self.order, b'orderDate="2000-10-12', b'orderDate="2026-02-30')
        self.refused(body, "must be a date .*2026-02-30")

    def test_a_latin1_order_with_accented_text_is_refused_naming_the_encodings(self):
        body = mutated(self.order, b'encoding="UTF-8"', b'encoding="ISO-8859-1"')
        body = mutated(body, b"hello from item 1", "Crème brûlée".encode("latin-1"))
        self.refused(body, "ISO-8859-1.*only UTF-8 and UTF-16 are accepted")

    def test_duplicated_line_numbers_are_refused(self):
        body = mutated(self.order, b'lineNumber="2"', b'lineNumber="1"')
        self.refused(body, "two lines numbered 1")

    def test_a_currency_code_that_is_no_iso_code_is_refused(self):
        body = self.order.replace(b'currency="EUR"', b'currency="EURO"')
        self.refused(body, r"\$\.currency must be an ISO 4217 currency code")

    def test_an_unknown_currency_stops_the_order_with_a_reason(self):
        body = self.order.replace(b'currency="EUR"', b'currency="ZZZ"')
        message = self.accepted(body)
        self.assertEqual((message.state, message.error_kind), ("failed", "business"))
        self.assertIn("ZZZ", message.error_message)
        self.assertFalse(self.order_by_reference("DO1234"))

    def test_a_byte_order_mark_is_read_and_the_order_booked(self):
        self.env["product.product"].create(
            [
                {"name": "Item 1", "default_code": "1233244", "type": "consu"},
                {"name": "Item 2", "default_code": "1233245", "type": "consu"},
            ]
        )
        message = self.accepted(BOM + self.order)
        self.assertEqual(message.state, "done", message.error_message)
        order = self.order_by_reference("DO1234")
        self.assertEqual((order.state, order.amount_untaxed), ("purchase", 85.0))


@tagged("post_install", "-at_install")
class TestHostileRealFacturXDocuments(FihTransactionCase):
    """Mutations of a real Factur-X (CII) invoice at the UBL endpoint: each
    refused at once with the rule of EN 16931, or a visible conflict."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ap, cls.ap_secret = cls._setup_other_backend(
            code="hostile-facturx", kind="ap_automation", bill_posting="post"
        )
        usd = cls.env.ref("base.USD")
        usd.active = True
        if cls.env.company.currency_id != usd:
            cls.env["res.currency.rate"].create(
                {"name": "2017-01-01", "rate": 1.25, "currency_id": usd.id}
            )
        standard = cls.env["account.tax"].search(
            [
                ("type_tax_use", "=", "purchase"),
                ("amount", "=", 15),
                ("company_id", "=", cls.env.company.id),
            ],
            limit=1,
        )
        for rate in (21, 12):
            standard.copy({"name": f"{rate}% purchases", "amount": rate})
        supplier = cls.env["res.partner"].create(
            {"name": "partner_1", "is_company": True}
        )
        supplier.write({"vat": "FR05677404089"})

    def setUp(self):
        super().setUp()
        path = Path(get_module_path("account_edi_ubl_cii") or "/nonexistent")
        path = path / "tests" / "test_files" / "facturx_out_invoice.xml"
        if not path.exists():
            self.skipTest(f"{path} is not here (Odoo 18's Factur-X test files)")
        # an invoice for goods bought without an order in Odoo (BT-13 dropped)
        self.base = re.sub(
            rb"<ram:BuyerOrderReferencedDocument>.*?</ram:BuyerOrderReferencedDocument>",
            b"",
            path.read_bytes(),
            flags=re.S,
        )

    def refused(self, body, reason):
        """``body`` is answered 400 with ``reason``; nothing is stored."""
        result = self.post_ubl(body)
        self.assertEqual(result.status, 400, result.payload)
        self.assertEqual(result.payload["error"], "invalid_cii")
        self.assertRegex(result.payload["message"], reason)
        self.assertFalse(self.Message.search([("backend_id", "=", self.ap.id)]))

    def test_a_line_amount_one_cent_off_is_refused_naming_both_sums(self):
        # within the line's rounding slack (BR-LIN-04), not within its sum
        body = mutated(
            self.base,
            b"<ram:LineTotalAmount>1000.00</ram:LineTotalAmount>",
            b"<ram:LineTotalAmount>1000.01</ram:LineTotalAmount>",
        )
        self.refused(
            body,
            r"the lines of the invoice INV/2017/01/0002 add up to 2682\.01 USD but "
            r"the document states 2682\.00 as their sum \(LineTotalAmount, BR-CO-10\)",
        )

    def test_a_line_amount_off_beyond_the_rounding_is_refused_naming_the_line(self):
        body = mutated(
            self.base,
            b"<ram:LineTotalAmount>1000.00</ram:LineTotalAmount>",
            b"<ram:LineTotalAmount>1000.10</ram:LineTotalAmount>",
        )
        self.refused(
            body,
            r"line 2 of the invoice INV/2017/01/0002 states 1000\.10 USD but its "
            r"quantity 10 x price 100 comes to 1000\.00 \(BR-LIN-04\)",
        )

    def test_a_tax_total_one_cent_off_is_refused_with_br_co_14(self):
        body = mutated(
            self.base,
            b'currencyID="USD">482.22<',
            b'currencyID="USD">482.23<',
        )
        self.refused(body, r"add up to 482\.22 USD .* 482\.23 .*BR-CO-14")

    def test_a_date_in_another_format_than_102_is_refused(self):
        body = mutated(
            self.base,
            b'<udt:DateTimeString format="102">20170101<',
            b'<udt:DateTimeString format="610">201701<',
        )
        self.refused(body, r"format 102 \(YYYYMMDD.*not format 610 '201701'")

    def test_an_impossible_date_is_refused(self):
        body = mutated(self.base, b">20170228<", b">20170230<")
        self.refused(body, r"the due date .* must be a date of format 102 .*20170230")

    def test_an_unknown_type_code_is_refused_naming_the_codes_taken(self):
        body = mutated(self.base, b"<ram:TypeCode>380<", b"<ram:TypeCode>876<")
        self.refused(body, r"type code 876 is not one the hub books .*\(381, 261\)")

    def test_a_latin1_document_is_refused_naming_the_encodings(self):
        body = mutated(self.base, b"encoding='UTF-8'", b"encoding='ISO-8859-1'")
        body = mutated(body, "Jaurès".encode(), "Jaurès".encode("latin-1"))
        result = self.post_ubl(body)
        self.assertEqual(result.status, 400, result.payload)
        self.assertRegex(
            result.payload["message"], "ISO-8859-1.*only UTF-8 and UTF-16 are accepted"
        )

    def test_the_same_number_with_another_due_date_is_a_conflict(self):
        first = self.post_ubl(self.base)
        self.assertEqual(first.status, 202, first.payload)
        again = self.post_ubl(self.base)
        self.assertEqual((again.status, again.payload["duplicate"]), (202, True))
        changed = mutated(self.base, b">20170228<", b">20170301<")
        result = self.post_ubl(changed)
        self.assertEqual(result.status, 409, result.payload)
        self.assertIn("Invoice INV/2017/01/0002", result.payload["message"])
        self.assertEqual(len(self.Message.search([("backend_id", "=", self.ap.id)])), 1)

    def test_a_document_sent_again_after_a_master_key_rotation_is_a_duplicate(self):
        first = self.post_ubl(self.base)
        self.assertEqual(first.status, 202, first.payload)
        old_key = os.environ["FIH_MASTER_KEY"]
        new_key = Fernet.generate_key().decode()
        with patch.dict(os.environ, {"FIH_MASTER_KEY": f"{new_key},{old_key}"}):
            again = self.post_ubl(self.base)
        self.assertEqual((again.status, again.payload["duplicate"]), (202, True))
        self.assertEqual(len(self.Message.search([("backend_id", "=", self.ap.id)])), 1)

    def test_a_credit_note_under_the_invoice_number_is_its_own_document(self):
        self.assertEqual(self.post_ubl(self.base).status, 202)
        credit = mutated(self.base, b"<ram:TypeCode>380<", b"<ram:TypeCode>381<")
        result = self.post_ubl(credit)
        self.assertEqual(result.status, 202, result.payload)
        self.assertFalse(result.payload["duplicate"])
        self.assertTrue(
            result.payload["invoice"].endswith("/credit_note/INV/2017/01/0002")
        )
