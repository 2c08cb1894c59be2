"""A negative invoice (a correction, EN 16931) with charges and allowances
of the document or of a line: booked as the credit note Odoo itself books
for the same figures entered by hand, to the cent, never refused."""

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import FihTransactionCase
from .ubl_builders import NSDECL, category, money, parties

PARTIES = parties("Probe Supplier", "GB9998887")


def ubl(
    number,
    lines,
    subtotals,
    tax,
    untaxed,
    total,
    cur="EUR",
    header=(),
    credit_note=False,
    issue="2026-11-20",
    extra="",
    line_parts="",
):
    """A Peppol document. ``lines``: (qty, price, amount, cat, percent);
    ``subtotals``: (base, tax, cat, percent); ``header``: (charge, amount,
    reason, cat, percent)."""
    root = "CreditNote" if credit_note else "Invoice"
    line_tag = "CreditNoteLine" if credit_note else "InvoiceLine"
    qty_tag = "CreditedQuantity" if credit_note else "InvoicedQuantity"
    type_tag = (
        "<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>"
        if credit_note
        else "<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>"
    )
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} '
        f'xmlns="urn:oasis:names:specification:ubl:schema:xsd:{root}-2" {NSDECL}>'
        "<cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:"
        "2017:poacc:billing:3.0</cbc:CustomizationID>"
        "<cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>"
        f"<cbc:ID>{number}</cbc:ID><cbc:IssueDate>{issue}</cbc:IssueDate>"
        f"{type_tag}<cbc:DocumentCurrencyCode>{cur}</cbc:DocumentCurrencyCode>"
        f"{extra}{PARTIES}"
    )
    charges = allowances = 0
    for charge, amount, reason, cat, percent in header:
        body += (
            "<cac:AllowanceCharge><cbc:ChargeIndicator>"
            f"{'true' if charge else 'false'}</cbc:ChargeIndicator>"
            f"<cbc:AllowanceChargeReason>{reason}</cbc:AllowanceChargeReason>"
            f"{money('Amount', amount, cur)}{category(cat, percent)}"
            "</cac:AllowanceCharge>"
        )
        if charge:
            charges += float(amount)
        else:
            allowances += float(amount)
    body += f"<cac:TaxTotal>{money('TaxAmount', tax, cur)}"
    for base, amount, cat, percent in subtotals:
        body += (
            f"<cac:TaxSubtotal>{money('TaxableAmount', base, cur)}"
            f"{money('TaxAmount', amount, cur)}{category(cat, percent)}"
            "</cac:TaxSubtotal>"
        )
    line_sum = sum(float(line[2]) for line in lines)
    body += "</cac:TaxTotal><cac:LegalMonetaryTotal>"
    body += money("LineExtensionAmount", f"{line_sum:.2f}", cur)
    body += money("TaxExclusiveAmount", untaxed, cur)
    body += money("TaxInclusiveAmount", total, cur)
    if allowances:
        body += money("AllowanceTotalAmount", f"{allowances:.2f}", cur)
    if charges:
        body += money("ChargeTotalAmount", f"{charges:.2f}", cur)
    body += money("PayableAmount", total, cur) + "</cac:LegalMonetaryTotal>"
    for n, (qty, price, amount, cat, percent) in enumerate(lines, 1):
        body += (
            f"<cac:{line_tag}><cbc:ID>{n}</cbc:ID>"
            f'<cbc:{qty_tag} unitCode="C62">{qty}</cbc:{qty_tag}>'
            f"{money('LineExtensionAmount', amount, cur)}{line_parts}"
            f"<cac:Item><cbc:Name>Item {n}</cbc:Name>"
            f"{category(cat, percent, 'ClassifiedTaxCategory')}</cac:Item>"
            f"<cac:Price>{money('PriceAmount', price, cur)}</cac:Price>"
            f"</cac:{line_tag}>"
        )
    return (body + f"</{root}>").encode()


# a Factur-X (CII, EN 16931 profile) correction invoice
CII = """<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice
 xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
 xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
 xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">
<rsm:ExchangedDocumentContext><ram:GuidelineSpecifiedDocumentContextParameter>
<ram:ID>urn:cen.eu:en16931:2017</ram:ID>
</ram:GuidelineSpecifiedDocumentContextParameter></rsm:ExchangedDocumentContext>
<rsm:ExchangedDocument><ram:ID>{number}</ram:ID><ram:TypeCode>380</ram:TypeCode>
<ram:IssueDateTime><udt:DateTimeString format="102">20261120</udt:DateTimeString>
</ram:IssueDateTime></rsm:ExchangedDocument>
<rsm:SupplyChainTradeTransaction>
<ram:IncludedSupplyChainTradeLineItem>
<ram:AssociatedDocumentLineDocument><ram:LineID>1</ram:LineID>
</ram:AssociatedDocumentLineDocument>
<ram:SpecifiedTradeProduct><ram:Name>Goods returned</ram:Name>
</ram:SpecifiedTradeProduct>
<ram:SpecifiedLineTradeAgreement><ram:NetPriceProductTradePrice>
<ram:ChargeAmount>100.00</ram:ChargeAmount></ram:NetPriceProductTradePrice>
</ram:SpecifiedLineTradeAgreement>
<ram:SpecifiedLineTradeDelivery>
<ram:BilledQuantity unitCode="C62">-1</ram:BilledQuantity>
</ram:SpecifiedLineTradeDelivery>
<ram:SpecifiedLineTradeSettlement>
<ram:ApplicableTradeTax><ram:TypeCode>VAT</ram:TypeCode>
<ram:CategoryCode>S</ram:CategoryCode>
<ram:RateApplicablePercent>25</ram:RateApplicablePercent></ram:ApplicableTradeTax>
<ram:SpecifiedTradeSettlementLineMonetarySummation>
<ram:LineTotalAmount>-100.00</ram:LineTotalAmount>
</ram:SpecifiedTradeSettlementLineMonetarySummation>
</ram:SpecifiedLineTradeSettlement>
</ram:IncludedSupplyChainTradeLineItem>
<ram:ApplicableHeaderTradeAgreement>
<ram:SellerTradeParty><ram:Name>Probe Supplier</ram:Name>
<ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">GB9998887</ram:ID>
</ram:SpecifiedTaxRegistration></ram:SellerTradeParty>
<ram:BuyerTradeParty><ram:Name>Buyer</ram:Name></ram:BuyerTradeParty>
</ram:ApplicableHeaderTradeAgreement>
<ram:ApplicableHeaderTradeDelivery/>
<ram:ApplicableHeaderTradeSettlement>
<ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>
<ram:ApplicableTradeTax><ram:CalculatedAmount>-22.50</ram:CalculatedAmount>
<ram:TypeCode>VAT</ram:TypeCode><ram:BasisAmount>-90.00</ram:BasisAmount>
<ram:CategoryCode>S</ram:CategoryCode>
<ram:RateApplicablePercent>25</ram:RateApplicablePercent></ram:ApplicableTradeTax>
<ram:SpecifiedTradeAllowanceCharge>
<ram:ChargeIndicator><udt:Indicator>true</udt:Indicator></ram:ChargeIndicator>
<ram:ActualAmount>10.00</ram:ActualAmount><ram:Reason>Restocking fee</ram:Reason>
<ram:CategoryTradeTax><ram:TypeCode>VAT</ram:TypeCode>
<ram:CategoryCode>S</ram:CategoryCode>
<ram:RateApplicablePercent>25</ram:RateApplicablePercent></ram:CategoryTradeTax>
</ram:SpecifiedTradeAllowanceCharge>
<ram:SpecifiedTradeSettlementHeaderMonetarySummation>
<ram:LineTotalAmount>-100.00</ram:LineTotalAmount>
<ram:ChargeTotalAmount>10.00</ram:ChargeTotalAmount>
<ram:TaxBasisTotalAmount>-90.00</ram:TaxBasisTotalAmount>
<ram:TaxTotalAmount currencyID="EUR">-22.50</ram:TaxTotalAmount>
<ram:GrandTotalAmount>-112.50</ram:GrandTotalAmount>
<ram:DuePayableAmount>-112.50</ram:DuePayableAmount>
</ram:SpecifiedTradeSettlementHeaderMonetarySummation>
</ram:ApplicableHeaderTradeSettlement>
</rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>
"""

LINE_CHARGE = (
    "<cac:AllowanceCharge><cbc:ChargeIndicator>true</cbc:ChargeIndicator>"
    "<cbc:AllowanceChargeReason>Restocking fee</cbc:AllowanceChargeReason>"
    '<cbc:Amount currencyID="EUR">10.00</cbc:Amount></cac:AllowanceCharge>'
)
LINE_ALLOWANCE = (
    "<cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator>"
    "<cbc:AllowanceChargeReason>Rebate</cbc:AllowanceChargeReason>"
    '<cbc:Amount currencyID="EUR">5.00</cbc:Amount></cac:AllowanceCharge>'
)


@tagged("post_install", "-at_install")
class TestNegativeInvoiceCharges(FihTransactionCase):
    """An AP clerk receiving correction invoices (negative totals) from a
    Peppol supplier found by its VAT number, purchases at 25 % (S)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ap, cls.ap_secret = cls._setup_other_backend(
            code="test-probe-money", kind="ap_automation", bill_posting="post"
        )
        cls.company = cls.env.company
        cls.company.fih_charges_tolerance_amount = 1000
        cls.vat25 = cls._purchase_tax(25, fih_tax_category="S")
        cls.vat0z = cls._purchase_tax(0, name="0% zero rated", fih_tax_category="Z")
        cls.usd = cls.env.ref("base.USD")
        cls.eur = cls.env.ref("base.EUR")
        cls.eur.active = True
        # the company keeps its books in USD; bills in EUR are foreign
        cls.foreign = cls.eur if cls.company.currency_id != cls.eur else cls.usd
        cls.foreign.active = True
        cls.env["res.currency.rate"].create(
            {"name": "2026-01-01", "rate": 1.25, "currency_id": cls.foreign.id}
        )
        cls.supplier = cls.env["res.partner"].create(
            {"name": "Probe Supplier", "is_company": True}
        )
        cls.supplier.write({"vat": "GB9998887"})

    def items(self, bill):
        return sorted(
            (
                line.display_type,
                round(line.amount_currency, 2),
                round(line.balance, 2),
            )
            for line in bill.line_ids
        )

    def oracle_refund(self, lines):
        """The same credit note entered in Odoo by hand: ``lines`` of
        (quantity, price), each at 25 %."""
        oracle = self.env["account.move"].create(
            {
                "move_type": "in_refund",
                "partner_id": self.supplier.id,
                "invoice_date": "2026-11-20",
                "currency_id": self.eur.id,
                "invoice_line_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "Item",
                            "quantity": qty,
                            "price_unit": price,
                            "tax_ids": [(6, 0, self.vat25.ids)],
                        },
                    )
                    for qty, price in lines
                ],
            }
        )
        oracle.action_post()
        return oracle

    def assertBookedAs(self, bill, oracle):
        """The bill is a posted credit note with the journal items, taxes and
        amount due of the one Odoo books by hand."""
        self.assertEqual(
            (bill.move_type, bill.state), ("in_refund", "posted"), bill.fih_hold_reason
        )
        for figure in ("amount_untaxed", "amount_tax", "amount_total"):
            self.assertEqual(bill[figure], oracle[figure], figure)
        self.assertEqual(bill.amount_residual, oracle.amount_residual)
        self.assertEqual(self.items(bill), self.items(oracle))

    @mute_logger("odoo.addons.mail")
    def test_a_negative_invoice_with_a_charge_is_a_credit_note_net_of_the_charge(
        self,
    ):
        """100.00 of goods returned less a 10.00 restocking charge: untaxed
        -90.00, VAT -22.50, total -112.50: a credit note of 112.50 whose
        charge lowers the credit as an allowance."""
        bill = self.bill_of(
            ubl(
                "NEG-CHG-1",
                [(-1, "100.00", "-100.00", "S", 25)],
                [("-90.00", "-22.50", "S", 25)],
                "-22.50",
                "-90.00",
                "-112.50",
                header=[(True, "10.00", "Restocking fee", "S", 25)],
            )
        )
        self.assertEqual(
            (bill.amount_untaxed, bill.amount_tax, bill.amount_total),
            (90.0, 22.5, 112.5),
        )
        self.assertBookedAs(bill, self.oracle_refund([(1, 100.0), (1, -10.0)]))
        fee = bill.invoice_line_ids.filtered(lambda line: line.price_subtotal == -10)
        self.assertEqual(fee.tax_ids, self.vat25)
        self.assertIn("Restocking fee", fee.name)

    @mute_logger("odoo.addons.mail")
    def test_a_negative_invoice_with_a_header_allowance_is_a_larger_credit_note(
        self,
    ):
        """-100.00 of goods and a 10.00 allowance: untaxed -110.00, VAT
        -27.50, total -137.50: a credit note of 137.50."""
        bill = self.bill_of(
            ubl(
                "NEG-ALW-1",
                [(-1, "100.00", "-100.00", "S", 25)],
                [("-110.00", "-27.50", "S", 25)],
                "-27.50",
                "-110.00",
                "-137.50",
                header=[(False, "10.00", "Volume rebate", "S", 25)],
            )
        )
        self.assertEqual(
            (bill.amount_untaxed, bill.amount_tax, bill.amount_total),
            (110.0, 27.5, 137.5),
        )
        self.assertBookedAs(bill, self.oracle_refund([(1, 100.0), (1, 10.0)]))

    @mute_logger("odoo.addons.mail")
    def test_a_negative_invoice_with_a_line_charge_is_a_credit_note_net_of_it(self):
        """A line of -1 x 100.00 with its own 10.00 restocking charge (line
        amount -90.00, BR-LIN-04); VAT -22.50, total -112.50: a credit note
        of 112.50."""
        bill = self.bill_of(
            ubl(
                "NEG-LCHG-1",
                [(-1, "100.00", "-90.00", "S", 25)],
                [("-90.00", "-22.50", "S", 25)],
                "-22.50",
                "-90.00",
                "-112.50",
                line_parts=LINE_CHARGE,
            )
        )
        self.assertEqual(
            (bill.amount_untaxed, bill.amount_tax, bill.amount_total),
            (90.0, 22.5, 112.5),
        )
        self.assertBookedAs(bill, self.oracle_refund([(1, 100.0), (1, -10.0)]))

    @mute_logger("odoo.addons.mail")
    def test_a_negative_invoice_with_a_negative_charge_still_raises_the_credit(self):
        """The official Peppol correction states its charge negative (-25):
        -100.00 of goods and a charge of -10.00 come to -110.00, VAT -27.50:
        a credit note of 137.50, the charge raising the credit."""
        bill = self.bill_of(
            ubl(
                "NEG-NCHG-1",
                [(-1, "100.00", "-100.00", "S", 25)],
                [("-110.00", "-27.50", "S", 25)],
                "-27.50",
                "-110.00",
                "-137.50",
                header=[(True, "-10.00", "Correction", "S", 25)],
            )
        )
        self.assertBookedAs(bill, self.oracle_refund([(1, 100.0), (1, 10.0)]))

    @mute_logger("odoo.addons.mail")
    def test_a_delivered_line_of_a_negative_invoice_keeps_its_line_charge(self):
        """A correction of -200.00 of goods returned and a line of 1 x 50.00
        delivered with a 5.00 charge of its own (55.00): untaxed -145.00,
        VAT -36.25; a credit note of 181.25, the delivered line and its
        charge lowering the credit, as Odoo books it by hand."""
        body = ubl(
            "NEG-MIX-1",
            [(-2, "100.00", "-200.00", "S", 25), (1, "50.00", "55.00", "S", 25)],
            [("-145.00", "-36.25", "S", 25)],
            "-36.25",
            "-145.00",
            "-181.25",
        ).decode()
        # the charge on the second line only
        at = body.index("<cac:Item>", body.index("<cbc:ID>2</cbc:ID>"))
        charge = LINE_CHARGE.replace(">10.00<", ">5.00<")
        bill = self.bill_of((body[:at] + charge + body[at:]).encode())
        self.assertEqual(bill.amount_total, 181.25, bill.fih_hold_reason)
        self.assertBookedAs(
            bill, self.oracle_refund([(2, 100.0), (-1, 50.0), (1, -5.0)])
        )

    @mute_logger("odoo.addons.mail")
    def test_a_negative_factur_x_invoice_with_a_charge_is_the_same_credit_note(
        self,
    ):
        """The same correction in Factur-X (CII): -100.00 of goods and a
        10.00 restocking charge, total -112.50: the credit note of 112.50
        the Peppol document gives."""
        bill = self.bill_of(CII.format(number="NEG-CII-1").encode())
        self.assertEqual(
            (bill.amount_untaxed, bill.amount_tax, bill.amount_total),
            (90.0, 22.5, 112.5),
        )
        self.assertBookedAs(bill, self.oracle_refund([(1, 100.0), (1, -10.0)]))

    @mute_logger("odoo.addons.mail")
    def test_a_negative_line_allowance_of_an_invoice_is_booked_as_a_charge(self):
        """An invoice line of 1 x 100.00 with an allowance of -7.77 (which
        raises it to 107.77, BR-LIN-04): booked at 107.77 + 26.94 VAT, not
        refused for its sign."""
        body = ubl(
            "POS-NALW-1",
            [(1, "100.00", "107.77", "S", 25)],
            [("107.77", "26.94", "S", 25)],
            "26.94",
            "107.77",
            "134.71",
            line_parts=LINE_ALLOWANCE.replace(">5.00<", ">-7.77<"),
        )
        bill = self.bill_of(body)
        self.assertEqual(
            (bill.move_type, bill.state, bill.amount_total, bill.amount_residual),
            ("in_invoice", "posted", 134.71, 134.71),
            bill.fih_hold_reason,
        )
        surcharge = bill.invoice_line_ids.filtered(
            lambda line: line.price_subtotal == 7.77
        )
        self.assertEqual(surcharge.tax_ids, self.vat25)
