"""The supplier's payment term against the document's due date, the unit
codes of Peppol documents, and the figures of price precision messages,
played through the signed intakes and compared with what Odoo itself does."""

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

from odoo import fields
from odoo.tests import tagged

from .common import FihTransactionCase, run_drain_job, supplier_event
from .test_p2p_payments import P2PPaymentsCase, remittance_event
from .test_procure_to_pay import invoice_event

EARLY_DISCOUNT = "account.account_payment_term_30days_early_discount"


@tagged("post_install", "-at_install")
class TestDueDateAndEarlyPaymentDiscount(P2PPaymentsCase):
    """Bill INV-n: 2 x 20.00 + 15 % = 46.00, invoiced 2026-11-26; the
    supplier's payment term 2/7 Net 30 makes it due 2026-12-26 and grants
    2 % (0.92) for payment by 2026-12-03."""

    def setUp(self):
        super().setUp()
        self.from_procurement(supplier_event(1))
        self.supplier = self.partners_by_external_id("SUP-000001")
        self.term = self.env.ref(EARLY_DISCOUNT)
        self.supplier.property_supplier_payment_term_id = self.term
        self.ap.bill_posting = "post"

    def bill_due(self, n, due_date):
        event = invoice_event(n, [(None, 2, 20.0)], due_date=due_date)
        del event["data"]["purchase_order_external_id"]
        for line in event["data"]["lines"]:
            del line["po_line_id"]
        self.assertEqual(self.from_ap(event).state, "done")
        return self.bill(n)

    def notes(self, move):
        return "\n".join(move.message_ids.mapped("body"))

    def odoo_bill(self):
        """The same bill entered in Odoo by hand, with the supplier's term."""
        bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": self.supplier.id,
                "invoice_date": "2026-11-26",
                "ref": "BY-HAND",
                "invoice_line_ids": [
                    fields.Command.create(
                        {
                            "name": "Paper",
                            "quantity": 2,
                            "price_unit": 20.0,
                            "tax_ids": [fields.Command.set(self.tax_15().ids)],
                        }
                    )
                ],
            }
        )
        bill.action_post()
        return bill

    def tax_15(self):
        return self.env["account.tax"].search(
            [
                ("type_tax_use", "=", "purchase"),
                ("amount", "=", 15),
                ("company_id", "=", self.env.company.id),
            ],
            limit=1,
        )

    def payment_items(self, payment):
        """(account code, debit, credit) of ``payment``'s journal items, the
        payable line left out (it differs by partner only)."""
        return sorted(
            (line.account_id.code, line.debit, line.credit)
            for line in payment.move_id.line_ids
            if line.account_id.account_type != "liability_payable"
        )

    def test_a_due_date_the_agreed_term_gives_keeps_the_term_and_its_discount(self):
        bill = self.bill_due(1, "2026-12-26")
        self.assertEqual(bill.state, "posted", bill.fih_hold_reason)
        self.assertEqual(bill.invoice_payment_term_id, self.term)
        self.assertEqual(bill.invoice_date_due, date(2026, 12, 26))
        payable = self.payable(bill)
        self.assertEqual(
            (payable.credit, payable.discount_amount_currency, payable.discount_date),
            (46.0, -45.08, date(2026, 12, 3)),
        )
        self.assertNotIn("kept as the supplier", self.notes(bill))

    def test_a_remittance_of_the_discounted_amount_settles_the_bill_as_odoo_does(self):
        gain = self.env.company.account_journal_early_pay_discount_gain_account_id
        self.assertTrue(gain, "the company has an early payment discount account")
        bill = self.bill_due(1, "2026-12-26")
        message = self.from_ap(
            remittance_event(1, [{"invoice_external_id": "INV-1", "amount": 45.08}])
        )
        self.env.invalidate_all()
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual((bill.payment_state, bill.amount_residual), ("paid", 0.0))
        payment = self.payments("PAY-1")
        self.assertEqual(payment.amount, 45.08)
        # Odoo's own payment registration of the same bill on the same day
        by_hand = self.odoo_bill()
        wizard = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=by_hand.ids)
            .create({"payment_date": "2026-12-01"})
        )
        self.assertEqual(wizard.amount, 45.08)
        odoo_payment = wizard._create_payments()
        self.assertEqual(
            (by_hand.payment_state, by_hand.amount_residual), ("paid", 0.0)
        )
        self.assertEqual(self.payment_items(payment), self.payment_items(odoo_payment))
        # the discount on Odoo's early payment discount account, not on the
        # hub's payment difference account
        accounts = payment.move_id.line_ids.account_id
        self.assertIn(gain, accounts)
        self.assertNotIn(self.differences, accounts)

    def test_after_the_discount_window_the_discounted_amount_pays_in_part(self):
        bill = self.bill_due(1, "2026-12-26")
        event = remittance_event(
            1,
            [{"invoice_external_id": "INV-1", "amount": 45.08}],
            payment_date="2026-12-04",
        )
        message = self.from_ap(event)
        self.env.invalidate_all()
        self.assertEqual(message.state, "done", message.error_message)
        self.assert_open(bill, 0.92, "partial")

    def test_a_due_date_the_term_does_not_give_holds_the_early_payment_discount(self):
        bill = self.bill_due(1, "2026-12-10")
        self.assertEqual(bill.state, "draft")
        self.assertFalse(bill.invoice_payment_term_id)
        self.assertEqual(bill.invoice_date_due, date(2026, 12, 10))
        reason = bill.fih_hold_reason
        self.assertIn("asks payment by 2026-12-10", reason)
        self.assertIn("2/7 Net 30 makes the bill due on 2026-12-26", reason)
        self.assertIn("2% early payment discount for payment within 7 days", reason)
        self.assertIn("set the payment term 2/7 Net 30 on the bill", reason)
        self.assertIn("Due date 2026-12-10 kept", self.notes(bill))
        self.assertIn("would make the bill due on 2026-12-26", self.notes(bill))

    def test_a_replaced_term_without_discount_is_noted_and_the_bill_posted(self):
        self.supplier.property_supplier_payment_term_id = self.env.ref(
            "account.account_payment_term_30days"
        )
        bill = self.bill_due(1, "2026-12-10")
        self.assertEqual(bill.state, "posted", bill.fih_hold_reason)
        self.assertFalse(bill.invoice_payment_term_id)
        self.assertEqual(self.payable(bill).date_maturity, date(2026, 12, 10))
        self.assertIn("Due date 2026-12-10 kept", self.notes(bill))
        self.assertIn("carries no payment term", self.notes(bill))

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


# -- units of Peppol documents --------------------------------------------------------

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"
NORWEGIAN = (
    CORPUS / "peppol-bis-3" / "national-examples" / "NO" / "Norwegian-example-1.xml"
)

UBL_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
 xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
<cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>
<cbc:ID>{number}</cbc:ID><cbc:IssueDate>2026-11-20</cbc:IssueDate>
<cbc:DueDate>2026-12-20</cbc:DueDate><cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
<cbc:DocumentCurrencyCode>{currency}</cbc:DocumentCurrencyCode>
<cac:AccountingSupplierParty><cac:Party>
<cbc:EndpointID schemeID="0088">7300010000001</cbc:EndpointID>
<cac:PartyTaxScheme><cbc:CompanyID>GB1232434</cbc:CompanyID>
<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>
</cac:Party></cac:AccountingSupplierParty>
<cac:AccountingCustomerParty><cac:Party>
<cbc:EndpointID schemeID="0088">7300010000002</cbc:EndpointID>
</cac:Party></cac:AccountingCustomerParty>
"""

UBL_LINE = """<cac:InvoiceLine><cbc:ID>{n}</cbc:ID>
<cbc:InvoicedQuantity unitCode="{unit}">{quantity}</cbc:InvoicedQuantity>
<cbc:LineExtensionAmount currencyID="{currency}">{amount}</cbc:LineExtensionAmount>
<cac:Item><cbc:Name>Item {n}</cbc:Name>{code}<cac:ClassifiedTaxCategory>
<cbc:ID>S</cbc:ID><cbc:Percent>25</cbc:Percent>
<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory></cac:Item>
<cac:Price><cbc:PriceAmount currencyID="{currency}">{price}</cbc:PriceAmount>
<cbc:BaseQuantity>{base}</cbc:BaseQuantity></cac:Price>
</cac:InvoiceLine>"""


def peppol_invoice(number, lines, currency="EUR", places=2):
    """A Peppol invoice at 25 % VAT whose totals add up; ``lines``: (unit
    code, quantity, price as text, seller's item code or None[, price base
    quantity]); amounts in ``places`` decimals."""
    cent = Decimal(1).scaleb(-places)
    amounts = [
        (Decimal(line[2]) * line[1] / (line[4] if len(line) > 4 else 1)).quantize(cent)
        for line in lines
    ]
    untaxed = sum(amounts)
    tax = (untaxed * Decimal("0.25")).quantize(cent)

    def amount(name, value):
        return f'<cbc:{name} currencyID="{currency}">{value}</cbc:{name}>'

    body = UBL_HEAD.format(number=number, currency=currency)
    body += (
        "<cac:TaxTotal>"
        + amount("TaxAmount", tax)
        + "<cac:TaxSubtotal>"
        + amount("TaxableAmount", untaxed)
        + amount("TaxAmount", tax)
        + "<cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>25</cbc:Percent>"
        "<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory>"
        "</cac:TaxSubtotal></cac:TaxTotal><cac:LegalMonetaryTotal>"
        + amount("LineExtensionAmount", untaxed)
        + amount("TaxExclusiveAmount", untaxed)
        + amount("TaxInclusiveAmount", untaxed + tax)
        + amount("PayableAmount", untaxed + tax)
        + "</cac:LegalMonetaryTotal>"
    )
    for n, (line, line_amount) in enumerate(zip(lines, amounts, strict=True), 1):
        unit, quantity, price, code = line[:4]
        body += UBL_LINE.format(
            n=n,
            unit=unit,
            quantity=quantity,
            currency=currency,
            amount=line_amount,
            price=price,
            base=line[4] if len(line) > 4 else 1,
            code=(
                f"<cac:SellersItemIdentification><cbc:ID>{code}</cbc:ID>"
                "</cac:SellersItemIdentification>"
                if code
                else ""
            ),
        )
    return (body + "</Invoice>").encode()


class PeppolBillsCase(FihTransactionCase):
    """Peppol invoices without an order from a trusted AP backend that posts
    bills; the supplier found by its VAT number."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ap, cls.ap_secret = cls._setup_other_backend(
            code="test-units", kind="ap_automation", bill_posting="post"
        )
        company = cls.env.company
        standard = cls.env["account.tax"].search(
            [
                ("type_tax_use", "=", "purchase"),
                ("amount", "=", 15),
                ("company_id", "=", company.id),
            ],
            limit=1,
        )
        cls.vat15 = standard
        cls.vat25 = standard.copy({"name": "25% purchases", "amount": 25})
        cls.eur = cls.env.ref("base.EUR")
        cls.eur.active = True
        if company.currency_id != cls.eur:
            cls.env["res.currency.rate"].create(
                {"name": "2013-01-01", "rate": 2.0, "currency_id": cls.eur.id}
            )
        cls.supplier = cls.env["res.partner"].create(
            {"name": "Units Supplier", "is_company": True}
        )
        cls.supplier.write({"vat": "GB1232434"})
        cls.units = cls.env.ref("uom.product_uom_unit")

    def message_of(self, body):
        result = self.post_ubl(body)
        self.assertEqual(result.status, 202, result.payload)
        run_drain_job(self.ap)
        self.env.invalidate_all()
        return self.Message.browse(result.payload["message_id"])

    def bill_of(self, body):
        message = self.message_of(body)
        self.assertEqual(message.state, "done", message.error_message)
        return self.env["account.move"].search(
            [("commercial_partner_id", "=", self.supplier.id)],
            order="id desc",
            limit=1,
        )


@tagged("post_install", "-at_install")
class TestPeppolUnitCodes(PeppolBillsCase):
    """Bills in the units Peppol suppliers write (UN/ECE Recommendation 20
    codes)."""

    def test_articles_lump_sums_and_service_units_are_booked_in_units(self):
        body = peppol_invoice(
            "U-1",
            [
                ("NAR", 4, "25.00", None),
                ("LS", 1, "80.00", None),
                ("E48", 3, "10.00", None),
            ],
        )
        bill = self.bill_of(body)
        self.assertEqual(bill.state, "posted", bill.fih_hold_reason)
        self.assertEqual(bill.invoice_line_ids.product_uom_id, self.units)
        self.assertEqual(
            bill.invoice_line_ids.sorted("fih_external_line_id").mapped("quantity"),
            [4, 1, 3],
        )
        self.assertEqual((bill.amount_untaxed, bill.amount_total), (210.0, 262.5))

    def test_a_month_odoo_has_no_unit_for_holds_the_bill_with_the_code(self):
        body = peppol_invoice(
            "U-2", [("MON", 3, "150.00", None), ("C62", 2, "5.00", None)]
        )
        bill = self.bill_of(body)
        self.assertEqual(bill.state, "draft")
        self.assertEqual((bill.amount_untaxed, bill.amount_total), (460.0, 575.0))
        month = bill.invoice_line_ids.filtered(lambda line: line.quantity == 3)
        self.assertEqual(
            (month.product_uom_id, month.price_subtotal), (self.units, 450.0)
        )
        self.assertEqual(
            bill.fih_hold_reason,
            "Invoice line 1: unit MON (month) is not a unit of measure in Odoo, so "
            "the line is entered in Units, with its quantity and amount as the "
            "document states them, and the bill is kept in draft. Create the unit "
            "in Odoo (Inventory > Configuration > Units of Measure, named Months) "
            "or correct the line's unit on the bill, then post it.",
        )

    def test_a_kilowatt_hour_is_booked_in_the_energy_unit_the_company_created(self):
        energy = self.env["uom.category"].create({"name": "Energy"})
        kwh = self.env["uom.uom"].create(
            {"name": "kWh", "category_id": energy.id, "uom_type": "reference"}
        )
        self.env["product.product"].create(
            {
                "name": "Electricity",
                "default_code": "POWER",
                "type": "service",
                "uom_id": kwh.id,
                "uom_po_id": kwh.id,
            }
        )
        bill = self.bill_of(peppol_invoice("U-3", [("KWH", 1200, "0.25", "POWER")]))
        self.assertEqual(bill.state, "posted", bill.fih_hold_reason)
        self.assertEqual(bill.invoice_line_ids.product_uom_id, kwh)
        self.assertEqual((bill.amount_untaxed, bill.amount_total), (300.0, 375.0))

    def test_a_kilowatt_hour_on_a_product_counted_in_units_holds_the_bill(self):
        energy = self.env["uom.category"].create({"name": "Energy"})
        self.env["uom.uom"].create(
            {"name": "kWh", "category_id": energy.id, "uom_type": "reference"}
        )
        bill = self.bill_of(peppol_invoice("U-4", [("KWH", 1200, "0.25", None)]))
        self.assertEqual(bill.state, "draft")
        self.assertEqual(bill.amount_total, 375.0)
        self.assertEqual(bill.invoice_line_ids.product_uom_id, self.units)
        self.assertIn(
            "which cannot be converted to kWh (Energy), so the line is entered in "
            "Units",
            bill.fih_hold_reason,
        )

    def test_the_norwegian_peppol_example_counts_its_articles_in_units(self):
        if not NORWEGIAN.exists():
            self.skipTest(
                f"{NORWEGIAN} is not here (public corpus beside the repository)"
            )
        body = NORWEGIAN.read_bytes()
        self.assertIn(b'unitCode="NAR"', body)
        nok = self.env.ref("base.NOK")
        nok.active = True
        self.env["res.currency.rate"].create(
            {"name": "2013-01-01", "rate": 10.0, "currency_id": nok.id}
        )
        seller = self.env["res.partner"].create(
            {"name": "The Sellercompany ASA", "is_company": True}
        )
        seller.write({"vat": "NO123456785MVA"})
        self.vat15.copy({"name": "0% exempt purchases", "amount": 0}).write(
            {"fih_tax_category": "E"}
        )
        # the example invoices order 123, which this database does not know
        body = re.sub(
            rb"<cac:OrderReference>.*?</cac:OrderReference>", b"", body, flags=re.S
        )
        body = re.sub(
            rb"<cac:OrderLineReference>.*?</cac:OrderLineReference>",
            b"",
            body,
            flags=re.S,
        )
        message = self.message_of(body)
        self.assertEqual(message.state, "done", message.error_message)
        bill = self.env["account.move"].search(
            [("commercial_partner_id", "=", seller.id)]
        )
        lines = bill.invoice_line_ids.filtered(
            lambda line: (line.fih_external_line_id or "").isdigit()
        ).sorted(lambda line: int(line.fih_external_line_id))
        # the four lines of articles (NAR) in Units, to the cent
        self.assertEqual(
            [
                (line.product_uom_id, line.quantity, line.price_subtotal)
                for line in lines
            ],
            [
                (self.units, 1, 1273.0),
                (self.units, -1, -3.96),
                (self.units, 2, 4.96),
                (self.units, -1, -25.0),
                (self.units, 250, 187.5),
            ],
        )
        self.assertEqual(bill.amount_untaxed, 1436.5)
        # 250 metres of cable on the non-catalogue product (counted in Units):
        # held with the reason, the document kept
        self.assertEqual(bill.state, "draft")
        self.assertIn(
            "Invoice line 5: Non-catalogue purchase is counted in Units (Unit), "
            "which cannot be converted to m (Length / Distance), so the line is "
            "entered in Units",
            bill.fih_hold_reason,
        )
        self.assertNotIn("NAR", bill.fih_hold_reason)


@tagged("post_install", "-at_install")
class TestPricePrecisionFigures(PeppolBillsCase):
    """Unit prices Odoo's Product Price precision (2 decimals) would round,
    said in the figures of the document's currency."""

    def test_a_price_per_three_units_holds_the_bill_with_the_precision_that_books_it(
        self,
    ):
        # 10.00 for 3 units, 7 units: 23.33; Odoo would keep 3.33 (23.31)
        bill = self.bill_of(peppol_invoice("P-1", [("C62", 7, "10.00", None, 3)]))
        self.assertEqual(bill.state, "draft")
        reason = bill.fih_hold_reason
        self.assertIn(
            "Line 1: the unit price 10/3 (3.333333…) is a repeating decimal, which "
            "no Product Price precision keeps exactly; at the 2 decimals Odoo keeps "
            "(Product Price precision) it would become 3.33, and 7 units would come "
            "to 23.31 instead of 23.33. At 3 decimals the line comes to 23.33 as "
            "stated.",
            reason,
        )
        self.assertIn("raise the Product Price precision to 3 decimals", reason)
        self.assertNotIn("3.3333333333333335", reason)

    def test_a_price_loss_in_dinars_is_said_in_fils(self):
        kwd = self.env.ref("base.KWD")
        kwd.active = True
        self.env["res.currency.rate"].create(
            {"name": "2026-01-01", "rate": 0.3, "currency_id": kwd.id}
        )
        self.assertEqual(kwd.decimal_places, 3)
        body = peppol_invoice("P-2", [("C62", 3, "1.235", None)], "KWD", places=3)
        bill = self.bill_of(body)
        self.assertEqual(bill.state, "draft")
        self.assertEqual(bill.currency_id, kwd)
        self.assertIn(
            "Line 1: the unit price 1.235 has 3 decimals but Odoo keeps unit prices "
            "to 2 decimals (Product Price precision): it would become 1.24, and 3 "
            "units would come to 3.720 instead of 3.705.",
            bill.fih_hold_reason,
        )
        self.assertIn(
            "raise the Product Price precision to 3 decimals", bill.fih_hold_reason
        )
