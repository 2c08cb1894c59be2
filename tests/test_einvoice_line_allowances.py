"""Line allowances and charges of an e-invoice (UBL line AllowanceCharge,
BG-27/BG-28) booked as Odoo's own e-invoice import books them: an allowance
as the line's discount percent when that gives the stated line amount to the
cent, else as a negative line of its own; a charge as a line of its own with
the line's taxes. The bill is the document to the cent, or held with the
figures compared; never a cent off silently."""

from odoo.tests import tagged

from .common import FihTransactionCase
from .test_p2p_matching_and_posting import P2PMatchingCase, order_line
from .test_procure_to_pay import invoice_event

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
 xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
<cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>
<cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>
<cbc:ID>{number}</cbc:ID><cbc:IssueDate>2026-11-20</cbc:IssueDate>
<cbc:DueDate>2026-12-20</cbc:DueDate><cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
<cac:AccountingSupplierParty><cac:Party>
<cbc:EndpointID schemeID="0088">7300010000001</cbc:EndpointID>
<cac:PartyName><cbc:Name>Line Allowance Supplier</cbc:Name></cac:PartyName>
<cac:PartyTaxScheme><cbc:CompanyID>GB1232434</cbc:CompanyID>
<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>
<cac:PartyLegalEntity>
<cbc:RegistrationName>Line Allowance Supplier</cbc:RegistrationName>
</cac:PartyLegalEntity>
</cac:Party></cac:AccountingSupplierParty>
<cac:AccountingCustomerParty><cac:Party>
<cbc:EndpointID schemeID="0088">7300010000002</cbc:EndpointID>
<cac:PartyLegalEntity><cbc:RegistrationName>Buyer</cbc:RegistrationName>
</cac:PartyLegalEntity></cac:Party></cac:AccountingCustomerParty>
"""
TAX = (
    "<cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>25</cbc:Percent>"
    "<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory>"
)


def allowance_charge(charge, amount, reason):
    indicator = "true" if charge else "false"
    return (
        f"<cac:AllowanceCharge><cbc:ChargeIndicator>{indicator}</cbc:ChargeIndicator>"
        f"<cbc:AllowanceChargeReason>{reason}</cbc:AllowanceChargeReason>"
        f'<cbc:Amount currencyID="EUR">{amount}</cbc:Amount></cac:AllowanceCharge>'
    )


def ubl(number, quantity, price, line_amount, tax, total, parts=""):
    """A Peppol invoice in EUR of one line at 25 % VAT, with the line's own
    allowances and charges ``parts``."""
    body = HEAD.format(number=number)
    body += (
        f'<cac:TaxTotal><cbc:TaxAmount currencyID="EUR">{tax}</cbc:TaxAmount>'
        f'<cac:TaxSubtotal><cbc:TaxableAmount currencyID="EUR">{line_amount}'
        f'</cbc:TaxableAmount><cbc:TaxAmount currencyID="EUR">{tax}</cbc:TaxAmount>'
        f"{TAX}</cac:TaxSubtotal></cac:TaxTotal>"
        f"<cac:LegalMonetaryTotal>"
        f'<cbc:LineExtensionAmount currencyID="EUR">{line_amount}'
        "</cbc:LineExtensionAmount>"
        f'<cbc:TaxExclusiveAmount currencyID="EUR">{line_amount}'
        "</cbc:TaxExclusiveAmount>"
        f'<cbc:TaxInclusiveAmount currencyID="EUR">{total}</cbc:TaxInclusiveAmount>'
        f'<cbc:PayableAmount currencyID="EUR">{total}</cbc:PayableAmount>'
        f"</cac:LegalMonetaryTotal>"
        f'<cac:InvoiceLine><cbc:ID>1</cbc:ID><cbc:InvoicedQuantity unitCode="C62">'
        f"{quantity}</cbc:InvoicedQuantity>"
        f'<cbc:LineExtensionAmount currencyID="EUR">{line_amount}'
        "</cbc:LineExtensionAmount>"
        f"{parts}<cac:Item><cbc:Name>Paper</cbc:Name><cac:ClassifiedTaxCategory>"
        f"<cbc:ID>S</cbc:ID><cbc:Percent>25</cbc:Percent><cac:TaxScheme><cbc:ID>VAT"
        f"</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory></cac:Item>"
        f'<cac:Price><cbc:PriceAmount currencyID="EUR">{price}</cbc:PriceAmount>'
        f"</cac:Price></cac:InvoiceLine>"
    )
    return (body + "</Invoice>").encode()


# 3 x 9.99 less a 1.00 line allowance: 28.97, VAT 7.24, total 36.21
ALLOWANCE = ubl(
    "LAC-1",
    3,
    "9.99",
    "28.97",
    "7.24",
    "36.21",
    allowance_charge(False, "1.00", "Discount"),
)
# 3 x 10.00 plus a 1.00 line charge: 31.00, VAT 7.75, total 38.75
CHARGE = ubl(
    "LCH-1",
    3,
    "10.00",
    "31.00",
    "7.75",
    "38.75",
    allowance_charge(True, "1.00", "Freight"),
)


@tagged("post_install", "-at_install")
class TestEinvoiceLineAllowances(FihTransactionCase):
    """An AP backend posting the Peppol invoices of a supplier found by its
    VAT number; purchases at 25 % VAT."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ap, cls.ap_secret = cls._setup_other_backend(
            code="test-line-allowances", kind="ap_automation", bill_posting="post"
        )
        cls.company = cls.env.company
        cls.vat25 = cls._purchase_tax(25)
        cls.eur = cls.env.ref("base.EUR")
        cls.eur.active = True
        if cls.company.currency_id != cls.eur:
            cls.env["res.currency.rate"].create(
                {"name": "2026-01-01", "rate": 2.0, "currency_id": cls.eur.id}
            )
        cls.supplier = cls.env["res.partner"].create(
            {"name": "Line Allowance Supplier", "is_company": True}
        )
        cls.supplier.write({"vat": "GB1232434"})

    def test_a_line_allowance_is_booked_as_a_discount_and_the_bill_posts_to_the_cent(
        self,
    ):
        bill = self.bill_of(ALLOWANCE)
        self.assertFalse(bill.fih_hold_reason)
        self.assertEqual(bill.state, "posted")
        self.assertEqual(
            (bill.amount_untaxed, bill.amount_tax, bill.amount_total),
            (28.97, 7.24, 36.21),
        )
        self.assertEqual(bill.amount_residual, 36.21)
        line = bill.invoice_line_ids
        # as Odoo's own import: the stated price, 3.34 % off (28.969002)
        self.assertEqual(len(line), 1)
        self.assertEqual((line.quantity, line.price_unit), (3, 9.99))
        self.assertEqual((line.discount, line.price_subtotal), (3.34, 28.97))
        self.assertEqual(line.tax_ids, self.vat25)
        payable = bill.line_ids.filtered(
            lambda aml: aml.account_id.account_type == "liability_payable"
        )
        self.assertEqual(payable.amount_currency, -36.21)

    def test_a_line_charge_is_a_line_of_its_own_with_the_line_taxes(self):
        # the company accepts charges up to 5.00 without review
        self.company.fih_charges_tolerance_amount = 5
        bill = self.bill_of(CHARGE)
        self.assertFalse(bill.fih_hold_reason)
        self.assertEqual(bill.state, "posted")
        self.assertEqual(
            (bill.amount_untaxed, bill.amount_tax, bill.amount_total),
            (31.0, 7.75, 38.75),
        )
        goods, charge = bill.invoice_line_ids.sorted("price_subtotal", reverse=True)
        self.assertEqual((goods.quantity, goods.price_unit, goods.discount), (3, 10, 0))
        self.assertEqual(goods.price_subtotal, 30.0)
        self.assertFalse(goods.fih_charge_kind)
        self.assertEqual((charge.quantity, charge.price_subtotal), (1, 1.0))
        self.assertEqual(charge.name, "Freight (line 1)")
        self.assertEqual(charge.fih_charge_kind, "charge")
        self.assertEqual(charge.tax_ids, goods.tax_ids)
        self.assertEqual(charge.tax_ids, self.vat25)

    def test_a_line_charge_counts_against_the_charges_tolerance_like_a_header_charge(
        self,
    ):
        # no tolerance: every charge is reviewed, a line's own as the document's
        self.company.fih_charges_tolerance_amount = 0
        self.company.fih_charges_tolerance_percent = 0
        bill = self.bill_of(CHARGE)
        self.assertEqual(bill.state, "draft")
        self.assertEqual(bill.amount_total, 38.75)  # to the cent all the same
        self.assertIn(
            "Charges: the supplier adds 1.00 EUR of charges (Freight (line 1) 1.00) "
            "to 30.00 EUR of goods",
            bill.fih_hold_reason,
        )
        # the only reason: no price rounding, no line or total difference
        self.assertEqual(len(bill.fih_hold_reason.splitlines()), 1)

    def test_an_allowance_no_discount_percent_gives_exactly_is_a_negative_line(self):
        # 1 x 10000.00 less 0.50: 0.01 % off would be 1.00; no discount is exact
        body = ubl(
            "LAC-2",
            1,
            "10000.00",
            "9999.50",
            "2499.88",
            "12499.38",
            allowance_charge(False, "0.50", "Rounding rebate"),
        )
        bill = self.bill_of(body)
        self.assertFalse(bill.fih_hold_reason)
        self.assertEqual(bill.state, "posted")
        self.assertEqual((bill.amount_untaxed, bill.amount_total), (9999.5, 12499.38))
        goods, allowance = bill.invoice_line_ids.sorted("price_subtotal", reverse=True)
        self.assertEqual((goods.price_unit, goods.discount), (10000, 0))
        self.assertEqual(allowance.price_subtotal, -0.5)
        self.assertEqual(allowance.fih_charge_kind, "allowance")
        self.assertEqual(allowance.name, "Rounding rebate (line 1)")
        self.assertEqual(allowance.tax_ids, self.vat25)

    def test_a_discount_odoo_would_round_holds_the_bill_with_both_line_amounts(self):
        # an administrator keeps discounts to 1 decimal: 3.34 % would be 3.3 %
        self.env.ref("product.decimal_discount").digits = 1
        bill = self.bill_of(ALLOWANCE)
        self.assertEqual(bill.state, "draft")
        self.assertIn("Line 1: the document states 28.97", bill.fih_hold_reason)

    def test_the_bill_is_the_one_odoo_own_import_makes_of_the_document(self):
        if not self.env["ir.module.module"].search_count(
            [("name", "=", "account_edi_ubl_cii"), ("state", "=", "installed")]
        ):
            self.skipTest("Odoo's UBL importer (account_edi_ubl_cii) is not installed")
        self.company.fih_charges_tolerance_amount = 5
        journal = self.env["account.journal"].search(
            [("type", "=", "purchase"), ("company_id", "=", self.company.id)], limit=1
        )
        for body in (ALLOWANCE, CHARGE):
            bill = self.bill_of(body)
            lines = bill.invoice_line_ids.sorted("price_subtotal", reverse=True)
            attachment = self.env["ir.attachment"].create(
                {"name": "bill.xml", "raw": body}
            )
            odoo = journal.with_context(
                default_move_type="in_invoice"
            )._create_document_from_attachment(attachment.ids)
            odoo_lines = odoo.invoice_line_ids.sorted("price_subtotal", reverse=True)
            self.assertEqual(bill.state, "posted")
            self.assertEqual(bill.amount_total, odoo.amount_total)
            self.assertEqual(
                [
                    (line.price_unit, line.discount, line.price_subtotal)
                    for line in lines
                ],
                # Odoo's import keeps every decimal of the discount it infers
                # (3.33667...); its bill shows it to 2, as the hub books it
                [
                    (line.price_unit, round(line.discount, 2), line.price_subtotal)
                    for line in odoo_lines
                ],
            )
            odoo.unlink()


@tagged("post_install", "-at_install")
class TestLineDiscountMatching(P2PMatchingCase):
    """A line's discount percent (``discount_percent`` of the canonical
    invoice, as the e-invoice readers write it) through the AP webhook: the
    bill line carries it and the three-way match compares the price the bill
    pays per unit."""

    def test_a_discounted_line_is_matched_at_its_net_price_and_posts(self):
        order = self.order_with(
            1, [order_line("1", "PAPER", 10, 3.6)], received=[("1", 10)]
        )
        # 10 paper at 4.00 less 10 %: 36.00, the order's 3.60 a unit
        event = invoice_event(1, [("1", 10, 4.0)], tax=5.4)
        event["data"]["lines"][0]["discount_percent"] = 10
        event["data"].update(amount_untaxed=36.0, amount_total=41.4)
        event["data"]["tax_totals"][0]["base"] = 36.0
        message = self.from_ap(event)
        self.assertEqual(message.state, "done", message.error_message)
        bill = self.bill(1)
        self.assertFalse(bill.fih_hold_reason)
        self.assertEqual(bill.state, "posted")
        line = bill.invoice_line_ids
        self.assertEqual((line.price_unit, line.discount), (4.0, 10.0))
        self.assertEqual(line.purchase_line_id, self.paper_line(order))
        self.assertEqual((bill.amount_untaxed, bill.amount_total), (36.0, 41.4))

    def test_a_discounted_price_above_the_order_holds_the_bill_with_the_net_price(
        self,
    ):
        self.order_with(1, [order_line("1", "PAPER", 10, 3.6)], received=[("1", 10)])
        # 4.00 less 5 % is 3.80 a unit, above the order's 3.60
        event = invoice_event(1, [("1", 10, 4.0)], tax=5.7)
        event["data"]["lines"][0]["discount_percent"] = "5"
        event["data"].update(amount_untaxed=38.0, amount_total=43.7)
        event["data"]["tax_totals"][0]["base"] = 38.0
        self.assertEqual(self.from_ap(event).state, "done")
        bill = self.bill(1)
        self.assertEqual(bill.state, "draft")
        self.assertEqual(bill.amount_total, 43.7)
        self.assertIn(
            f"Invoice line 1 (order line 1): unit price 3.80 {self.currency} instead "
            f"of 3.60 {self.currency} ordered",
            bill.fih_hold_reason,
        )
