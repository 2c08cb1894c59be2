"""What the supplier asks to be paid, and the amounts of cXML lines, to the
cent: a bill whose amount due is not its total (prepaid, rounded, a deposit
already settled) or that is sent for information only is held with the
figures; cXML line amounts and discounts are booked as stated or held."""

from odoo.tests import tagged

from ..simulator.p2p_documents import cxml_envelope, cxml_order_request, cxml_receipt
from .common import FihTransactionCase, run_drain_job, supplier_event
from .test_procure_to_pay import invoice_event, order_event, receipt_event

UBL_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
 xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
<cbc:CustomizationID>{customization}</cbc:CustomizationID>
<cbc:ID>{number}</cbc:ID><cbc:IssueDate>2026-11-20</cbc:IssueDate>
<cbc:DueDate>2026-12-20</cbc:DueDate><cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
<cac:AccountingSupplierParty><cac:Party>
<cbc:EndpointID schemeID="0088">7300010000001</cbc:EndpointID>
<cac:PartyTaxScheme><cbc:CompanyID>GB1232434</cbc:CompanyID>
<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>
</cac:Party></cac:AccountingSupplierParty>
<cac:AccountingCustomerParty><cac:Party>
<cbc:EndpointID schemeID="0088">7300010000002</cbc:EndpointID>
</cac:Party></cac:AccountingCustomerParty>
"""
PEPPOL = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"


def ubl(number, quantity, price, untaxed, tax, total, payable, extra_totals=""):
    """A Peppol invoice of one line at 25 % VAT, in EUR."""
    eur = 'currencyID="EUR"'
    return (
        UBL_HEAD.format(number=number, customization=PEPPOL)
        + f"<cac:TaxTotal><cbc:TaxAmount {eur}>{tax}</cbc:TaxAmount><cac:TaxSubtotal>"
        f"<cbc:TaxableAmount {eur}>{untaxed}</cbc:TaxableAmount>"
        f"<cbc:TaxAmount {eur}>{tax}</cbc:TaxAmount><cac:TaxCategory>"
        "<cbc:ID>S</cbc:ID><cbc:Percent>25</cbc:Percent>"
        "<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory>"
        "</cac:TaxSubtotal>"
        "</cac:TaxTotal><cac:LegalMonetaryTotal>"
        f"<cbc:LineExtensionAmount {eur}>{untaxed}</cbc:LineExtensionAmount>"
        f"<cbc:TaxExclusiveAmount {eur}>{untaxed}</cbc:TaxExclusiveAmount>"
        f"<cbc:TaxInclusiveAmount {eur}>{total}</cbc:TaxInclusiveAmount>{extra_totals}"
        f"<cbc:PayableAmount {eur}>{payable}</cbc:PayableAmount>"
        "</cac:LegalMonetaryTotal>"
        "<cac:InvoiceLine><cbc:ID>1</cbc:ID>"
        f'<cbc:InvoicedQuantity unitCode="C62">{quantity}</cbc:InvoicedQuantity>'
        f"<cbc:LineExtensionAmount {eur}>{untaxed}</cbc:LineExtensionAmount>"
        "<cac:Item><cbc:Name>Item 1</cbc:Name>"
        "<cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID>"
        "<cbc:Percent>25</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>"
        "</cac:ClassifiedTaxCategory></cac:Item>"
        f"<cac:Price><cbc:PriceAmount {eur}>{price}</cbc:PriceAmount></cac:Price>"
        "</cac:InvoiceLine></Invoice>"
    ).encode()


def cx_invoice(number, items, currency, sub=None, tax=None, net=None, due=None):
    """A cXML invoice of PO-1 (lines of 15 % VAT): ``items`` are
    ``(line, order line, quantity, price, subtotal, tax, extra)``."""

    def m(value):
        return f'<Money currency="{currency}">{value:.2f}</Money>'

    body = []
    for line, order_line, quantity, price, subtotal, line_tax, extra in items:
        body.append(
            f'<InvoiceDetailItem invoiceLineNumber="{line}" quantity="{quantity}">'
            f"<UnitOfMeasure>EA</UnitOfMeasure><UnitPrice>{m(price)}</UnitPrice>"
            f'<InvoiceDetailItemReference lineNumber="{order_line}">'
            f'<Description xml:lang="en">L{line}</Description>'
            f"</InvoiceDetailItemReference><SubtotalAmount>{m(subtotal)}</SubtotalAmount>"
            f'<Tax>{m(line_tax)}<Description xml:lang="en">VAT</Description>'
            '<TaxDetail purpose="tax" category="vat" percentageRate="15">'
            "<TaxableAmount>"
            f"{m(subtotal)}</TaxableAmount><TaxAmount>{m(line_tax)}</TaxAmount></TaxDetail>"
            f"</Tax>{extra}</InvoiceDetailItem>"
        )
    sub = sum(item[4] for item in items) if sub is None else sub
    tax = sum(item[5] for item in items) if tax is None else tax
    net = sub + tax if net is None else net
    due = net if due is None else due
    request = (
        f'<InvoiceDetailRequest><InvoiceDetailRequestHeader invoiceID="{number}" '
        'purpose="standard" operation="new" invoiceDate="2026-11-27T09:00:00+00:00">'
        '<InvoiceDetailHeaderIndicator/><InvoiceDetailLineIndicator isTaxInLine="yes"/>'
        '<InvoicePartner><Contact role="from" addressID="SUP-000001">'
        '<Name xml:lang="en">Supplier</Name></Contact></InvoicePartner>'
        "</InvoiceDetailRequestHeader>"
        '<InvoiceDetailOrder><InvoiceDetailOrderInfo><OrderReference orderID="PO-1">'
        '<DocumentReference payloadID="PO-1@procurement.example"/></OrderReference>'
        "</InvoiceDetailOrderInfo>"
        + "".join(body)
        + f"</InvoiceDetailOrder><InvoiceDetailSummary><SubtotalAmount>{m(sub)}"
        f"</SubtotalAmount><Tax>{m(tax)}"
        '<Description xml:lang="en">Total VAT</Description>'
        f"</Tax><GrossAmount>{m(net)}</GrossAmount><NetAmount>{m(net)}</NetAmount>"
        f"<DueAmount>{m(due)}</DueAmount></InvoiceDetailSummary></InvoiceDetailRequest>"
    )
    return cxml_envelope(
        f"{number}@ap.example",
        request,
        shared_secret="supplier-secret-Kx7pQ2vZ",
        sender="AN-SUPPLIER-01",
    )


def payable_of(bill):
    """What the bill's payable journal items owe, in the bill's currency."""
    return -sum(
        bill.line_ids.filtered(
            lambda line: line.account_id.account_type == "liability_payable"
        ).mapped("amount_currency")
    )


@tagged("post_install", "-at_install")
class TestAmountDueUbl(FihTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ap, cls.ap_secret = cls._setup_other_backend(
            code="test-due", kind="ap_automation", bill_posting="post"
        )
        company = cls.env.company
        cls._purchase_tax(25)
        cls.env.ref("base.EUR").active = True
        if company.currency_id.name != "EUR":
            cls.env["res.currency.rate"].create(
                {
                    "name": "2026-01-01",
                    "rate": 2.0,
                    "currency_id": cls.env.ref("base.EUR").id,
                }
            )
        cls.supplier = cls.env["res.partner"].create(
            {"name": "Due Supplier", "is_company": True, "vat": "GB1232434"}
        )

    def test_invoice_whose_amount_due_is_its_total_is_posted(self):
        bill = self.bill_of(
            ubl("DUE0", 4, "25.00", "100.00", "25.00", "125.00", "125.00")
        )
        self.assertEqual(
            (bill.state, bill.amount_total, bill.amount_residual, payable_of(bill)),
            ("posted", 125.0, 125.0, 125.0),
            bill.fih_hold_reason,
        )

    def test_prepaid_invoice_is_held_at_its_total_naming_the_prepayment(self):
        prepaid = '<cbc:PrepaidAmount currencyID="EUR">50.00</cbc:PrepaidAmount>'
        bill = self.bill_of(
            ubl("DUE1", 4, "25.00", "100.00", "25.00", "125.00", "75.00", prepaid)
        )
        self.assertEqual((bill.state, bill.amount_total), ("draft", 125.0))
        self.assertIn(
            "Amount due: the supplier states 50.00 EUR already paid and asks 75.00 "
            "of the total 125.00 EUR.",
            bill.fih_hold_reason,
        )
        self.assertEqual(bill.fih_sync_state, "attention")

    def test_payable_rounding_is_held_naming_the_rounding(self):
        rounding = (
            '<cbc:PayableRoundingAmount currencyID="EUR">-0.01'
            "</cbc:PayableRoundingAmount>"
        )
        bill = self.bill_of(
            ubl("DUE2", 1, "10.01", "10.01", "2.50", "12.51", "12.50", rounding)
        )
        self.assertEqual((bill.state, bill.amount_total), ("draft", 12.51))
        self.assertIn(
            "the supplier rounds the amount to pay by -0.01 to 12.50 EUR; the "
            "bill's total is 12.51",
            bill.fih_hold_reason,
        )

    def test_a_negative_peppol_line_allowance_is_held_as_a_line_charge(self):
        """An allowance of -7.77 raises the line as a charge of 7.77 does: the
        bill is booked at the document's 134.71 and held for the charge."""
        body = ubl("NEG1", 1, "100.00", "107.77", "26.94", "134.71", "134.71").decode()
        body = body.replace(
            "<cac:Item>",
            "<cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator>"
            "<cbc:AllowanceChargeReason>Rebate</cbc:AllowanceChargeReason>"
            '<cbc:Amount currencyID="EUR">-7.77</cbc:Amount></cac:AllowanceCharge>'
            "<cac:Item>",
        )
        bill = self.bill_of(body.encode())
        self.assertEqual(
            (bill.state, bill.amount_untaxed, bill.amount_total),
            ("draft", 107.77, 134.71),
        )
        self.assertIn("Rebate (line 1) 7.77", bill.fih_hold_reason)


@tagged("post_install", "-at_install")
class TestAmountDueCxml(FihTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_cxml_trading(bill_posting="post")

    def setUp(self):
        super().setUp()
        self.receive(supplier_event(1))
        order = cxml_order_request(
            "PO-1",
            "SUP-000001",
            [(1, "PAPER", "Paper A4", 24, 4.0, 15)],
            currency=self.currency,
            shared_secret="buyer-secret-Kx7pQ2vZ",
        )
        self.assertEqual(self.post_cxml(order)[0], 201)
        self.process()
        receipt = cxml_receipt(
            "GR-1", "PO-1", [(1, 24)], shared_secret="buyer-secret-Kx7pQ2vZ"
        )
        self.assertEqual(self.post_cxml(receipt)[0], 201)
        self.process()

    def book(self, number, items, **totals):
        doc = cx_invoice(number, items, self.currency, **totals)
        return self.book_document(doc)

    def book_document(self, doc):
        self.assertEqual(self.post_cxml(doc, self.ap)[0], 201)
        run_drain_job(self.ap)
        self.env.invalidate_all()
        return self.env["account.move"].search(
            [("move_type", "=", "in_invoice")], order="id desc", limit=1
        )

    def money(self, value):
        return f'<Money currency="{self.currency}">{value}</Money>'

    def test_invoice_of_its_lines_is_posted_at_its_total(self):
        bill = self.book("F-OK", [(1, 1, 10, 4.0, 40.0, 6.0, "")])
        self.assertEqual(
            (bill.state, bill.amount_total, bill.amount_residual, payable_of(bill)),
            ("posted", 46.0, 46.0, 46.0),
            bill.fih_hold_reason,
        )

    def test_due_amount_below_net_amount_is_held_naming_both(self):
        bill = self.book("F-DEP", [(1, 1, 10, 4.0, 40.0, 6.0, "")], due=16.0)
        self.assertEqual((bill.state, bill.amount_total), ("draft", 46.0))
        self.assertIn(
            f"Amount due: the supplier asks 16.00 {self.currency} to be paid, less "
            "than the bill's total of 46.00: 30.00 is already paid or credited",
            bill.fih_hold_reason,
        )

    def test_due_amount_above_net_amount_is_held(self):
        bill = self.book("F-MORE", [(1, 1, 10, 4.0, 40.0, 6.0, "")], due=50.0)
        self.assertEqual(bill.state, "draft")
        self.assertIn("more than the bill's total of 46.00", bill.fih_hold_reason)

    def test_information_only_invoice_is_held_never_posted(self):
        doc = cx_invoice("F-INFO", [(1, 1, 10, 4.0, 40.0, 6.0, "")], self.currency)
        bill = self.book_document(
            doc.replace(
                b'purpose="standard"', b'purpose="standard" isInformationOnly="yes"'
            )
        )
        self.assertEqual((bill.state, bill.amount_total), ("draft", 46.0))
        self.assertIn(
            "Information only: the supplier sent invoice F-INFO for your records",
            bill.fih_hold_reason,
        )
        self.assertFalse(bill.line_ids.filtered("reconciled"))

    def test_a_cent_more_per_line_than_quantity_times_price_is_held(self):
        items = [(line, 1, 1, 4.0, 4.01, 0.60, "") for line in range(1, 6)]
        bill = self.book("F-OFF", items, sub=20.05, tax=3.00, net=23.05)
        self.assertEqual((bill.state, bill.amount_untaxed), ("draft", 20.0))
        for line in range(1, 6):
            self.assertIn(
                f"Line {line}: the document states 4.01, Odoo books 4.00",
                bill.fih_hold_reason,
            )
        self.assertIn(
            "Total: the document states 23.05, the bill comes to 23.00",
            bill.fih_hold_reason,
        )

    def test_one_cent_on_the_total_alone_is_held(self):
        # lines agree; the summary states a cent more than they come to
        bill = self.book(
            "F-CENT", [(1, 1, 10, 4.0, 40.0, 6.0, "")], sub=40.0, tax=6.0, net=46.01
        )
        self.assertEqual(bill.state, "draft")
        self.assertIn(
            "Total: the document states 46.01, the bill comes to 46.00",
            bill.fih_hold_reason,
        )

    def test_line_discount_percent_is_booked_to_the_cent(self):
        extra = (
            f'<InvoiceDetailDiscount percentageRate="10">{self.money("4.00")}'
            f"</InvoiceDetailDiscount><NetAmount>{self.money('36.00')}</NetAmount>"
        )
        bill = self.book(
            "F-LD", [(1, 1, 10, 4.0, 36.0, 5.40, extra)], sub=36.0, tax=5.40, net=41.40
        )
        line = bill.invoice_line_ids
        self.assertEqual(
            (bill.state, bill.amount_untaxed, bill.amount_total, payable_of(bill)),
            ("posted", 36.0, 41.40, 41.40),
            bill.fih_hold_reason,
        )
        self.assertEqual(
            (line.price_unit, line.discount, line.price_subtotal), (4.0, 10.0, 36.0)
        )

    def test_line_discount_stated_as_an_amount_is_booked_as_its_percent(self):
        # the DTD's reading: SubtotalAmount before the discount, NetAmount with
        # the tax; the tax is on the discounted 36.00
        extra = (
            f"<InvoiceDetailDiscount>{self.money('4.00')}</InvoiceDetailDiscount>"
            f"<NetAmount>{self.money('41.40')}</NetAmount>"
        )
        doc = cx_invoice(
            "F-LDA",
            [(1, 1, 10, 4.0, 40.0, 5.40, extra)],
            self.currency,
            sub=40.0,
            tax=5.40,
            net=41.40,
        )
        taxable = f"<TaxableAmount>{self.money('40.00')}</TaxableAmount>"
        bill = self.book_document(
            doc.replace(
                taxable.encode(),
                f"<TaxableAmount>{self.money('36.00')}</TaxableAmount>".encode(),
            )
        )
        self.assertEqual(
            (bill.state, bill.amount_total, bill.invoice_line_ids.discount),
            ("posted", 41.40, 10.0),
            bill.fih_hold_reason,
        )

    def test_line_discount_amount_and_rate_that_disagree_are_refused_to_the_sender(
        self,
    ):
        extra = (
            f'<InvoiceDetailDiscount percentageRate="10">{self.money("5.00")}'
            "</InvoiceDetailDiscount>"
        )
        doc = cx_invoice(
            "F-LDR",
            [(1, 1, 10, 4.0, 35.0, 5.25, extra)],
            self.currency,
        )
        # refused to the supplier's network at once, with the figures
        status, text = self.post_cxml(doc, self.ap)
        self.assertEqual(status, 406, text)
        self.assertIn(
            "the discount of 10 % on 40.00 is 4.00, but the line states 5.00", text
        )
        self.assertFalse(
            self.env["account.move"].search([("ref", "=", "F-LDR")]),
        )

    def test_line_discount_that_its_subtotal_contradicts_is_held_naming_it(self):
        extra = (
            f'<InvoiceDetailDiscount percentageRate="10">{self.money("4.00")}'
            "</InvoiceDetailDiscount>"
        )
        bill = self.book(
            "F-LDX", [(1, 1, 10, 4.0, 37.0, 5.55, extra)], sub=37.0, tax=5.55, net=42.55
        )
        self.assertEqual(bill.state, "draft")
        self.assertIn(
            "Line 1: the document states 37.00 after its discount of 10 %, Odoo "
            "books 36.00",
            bill.fih_hold_reason,
        )


class ApToolOrderCase(FihTransactionCase):
    """The AP tool's JSON invoices against PO-1 (line 1: 10 x 4.00 received,
    line 2: 1 x 100.00; 15 % VAT), in the company's currency."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_ap_backend()
        cls._setup_paper_and_cost_centre()
        cls.currency = cls.env.company.currency_id.name

    def setUp(self):
        super().setUp()
        for event in (supplier_event(1), order_event()):
            event = self.in_company_currency(event)
            self.assertEqual(self.receive(event).status, 202)
            self.process()
        self.receive(self.in_company_currency(receipt_event(1, [("1", 10)])))
        self.process()
        order = self.bound("purchase_order", "PO-1", "purchase.order")
        order.order_line.filtered(
            lambda line: not line.product_id.is_storable
        ).qty_received = 1

    def in_company_currency(self, event):
        if "currency" in event["data"]:
            event["data"]["currency"] = self.currency
        return event

    def bill_of(self, event):
        message = self.deliver(self.ap, self.in_company_currency(event), self.ap_secret)
        self.assertEqual(message.state, "done", message.error_message)
        return self.bound("invoice", event["data"]["external_id"], "account.move")


@tagged("post_install", "-at_install")
class TestAmountDueApTool(ApToolOrderCase):
    """The same rules for the AP tool's JSON invoices (canonical fields
    amount_due, amount_prepaid, information_only, lines' discount_percent)."""

    def test_invoice_with_a_deposit_already_paid_is_held_at_its_total(self):
        event = invoice_event(1, [("1", 10, 4.0), ("2", 1, 100.0)])
        event["data"].update(amount_due=111.0, amount_prepaid=50.0)
        bill = self.bill_of(event)
        self.assertEqual((bill.state, bill.amount_total), ("draft", 161.0))
        self.assertIn(
            f"the supplier states 50.00 {self.currency} already paid and asks "
            "111.00 of the total 161.00",
            bill.fih_hold_reason,
        )

    def test_invoice_whose_amount_due_is_its_total_is_posted(self):
        event = invoice_event(1, [("1", 10, 4.0), ("2", 1, 100.0)])
        event["data"]["amount_due"] = 161.0
        bill = self.bill_of(event)
        self.assertEqual(
            (bill.state, bill.amount_residual), ("posted", 161.0), bill.fih_hold_reason
        )

    def test_information_only_invoice_is_held(self):
        event = invoice_event(1, [("1", 10, 4.0), ("2", 1, 100.0)])
        event["data"]["information_only"] = True
        bill = self.bill_of(event)
        self.assertEqual(bill.state, "draft")
        self.assertIn("Information only", bill.fih_hold_reason)

    def test_line_discount_percent_is_booked_to_the_cent(self):
        # 10 x 4.00 less 12.5 % = 35.00, + 100.00; 15 % tax
        event = invoice_event(1, [("1", 10, 4.0), ("2", 1, 100.0)], tax=20.25)
        event["data"]["lines"][0]["discount_percent"] = 12.5
        event["data"].update(
            amount_untaxed=135.0,
            amount_total=155.25,
            tax_totals=[{"tax_code": "VAT15", "base": 135.0, "amount": 20.25}],
        )
        bill = self.bill_of(event)
        first = bill.invoice_line_ids.filtered(lambda line: line.quantity == 10)
        self.assertEqual(
            (bill.state, bill.amount_untaxed, bill.amount_total),
            ("posted", 135.0, 155.25),
            bill.fih_hold_reason,
        )
        self.assertEqual((first.discount, first.price_subtotal), (12.5, 35.0))

    def test_a_cent_more_than_the_lines_is_held(self):
        event = invoice_event(1, [("1", 10, 4.0), ("2", 1, 100.0)])
        event["data"].update(amount_untaxed=140.01, amount_total=161.01)
        bill = self.bill_of(event)
        self.assertEqual(bill.state, "draft")
        self.assertIn(
            "Untaxed total: the document states 140.01, its lines add up to 140.00",
            bill.fih_hold_reason,
        )
