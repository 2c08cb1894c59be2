"""A supplier's stated tax on a bill in a foreign currency: the hub books the
stated amount and values it in company currency as Odoo values a tax amount
set by hand on the same bill, so that paying the bill at its own rate leaves
nothing open and books no exchange difference."""

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import FihTransactionCase
from .ubl_builders import NSDECL, category, money, parties

PARTIES = parties("Fx Supplier", "GB9998886")


def peppol(number, lines, subtotals, cur, credit_note=False):
    """A Peppol invoice or credit note of 20 November 2026. ``lines``:
    ``(amount, percent)`` of one unit each, category S; ``subtotals``:
    ``(base, tax, percent)``; the totals follow from them."""
    root = "CreditNote" if credit_note else "Invoice"
    line_tag = "CreditNoteLine" if credit_note else "InvoiceLine"
    qty_tag = "CreditedQuantity" if credit_note else "InvoicedQuantity"
    type_tag = (
        "<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>"
        if credit_note
        else "<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>"
    )
    untaxed = sum(float(amount) for amount, _percent in lines)
    tax = sum(float(amount) for _base, amount, _percent in subtotals)
    total = f"{untaxed + tax:.2f}"
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} '
        f'xmlns="urn:oasis:names:specification:ubl:schema:xsd:{root}-2" {NSDECL}>'
        "<cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:"
        "2017:poacc:billing:3.0</cbc:CustomizationID>"
        "<cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>"
        f"<cbc:ID>{number}</cbc:ID><cbc:IssueDate>2026-11-20</cbc:IssueDate>"
        f"{type_tag}<cbc:DocumentCurrencyCode>{cur}</cbc:DocumentCurrencyCode>"
        f"{PARTIES}<cac:TaxTotal>{money('TaxAmount', f'{tax:.2f}', cur)}"
    )
    for base, amount, percent in subtotals:
        body += (
            f"<cac:TaxSubtotal>{money('TaxableAmount', base, cur)}"
            f"{money('TaxAmount', amount, cur)}{category('S', percent)}"
            "</cac:TaxSubtotal>"
        )
    body += (
        "</cac:TaxTotal><cac:LegalMonetaryTotal>"
        f"{money('LineExtensionAmount', f'{untaxed:.2f}', cur)}"
        f"{money('TaxExclusiveAmount', f'{untaxed:.2f}', cur)}"
        f"{money('TaxInclusiveAmount', total, cur)}"
        f"{money('PayableAmount', total, cur)}</cac:LegalMonetaryTotal>"
    )
    for n, (amount, percent) in enumerate(lines, 1):
        body += (
            f"<cac:{line_tag}><cbc:ID>{n}</cbc:ID>"
            f'<cbc:{qty_tag} unitCode="C62">1</cbc:{qty_tag}>'
            f"{money('LineExtensionAmount', amount, cur)}"
            f"<cac:Item><cbc:Name>Item {n}</cbc:Name>"
            f"{category('S', percent, 'ClassifiedTaxCategory')}</cac:Item>"
            f"<cac:Price>{money('PriceAmount', amount, cur)}</cac:Price>"
            f"</cac:{line_tag}>"
        )
    return (body + f"</{root}>").encode()


# two lines of 10.05 at 25 %: Odoo rounds per line (2 x 2.51 = 5.02), the
# supplier globally (5.025 -> 5.03)
TWO_AT_25 = [("10.05", 25), ("10.05", 25)]
STATED_25 = [("20.10", "5.03", 25)]


@tagged("post_install", "-at_install")
class TestStatedTaxForeignCurrency(FihTransactionCase):
    """Peppol bills in a foreign currency valued at 1.25 in company currency,
    whose stated tax differs from Odoo's by a rounding cent; the oracle is
    the same bill entered in Odoo with its tax amounts set by hand."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ap, cls.ap_secret = cls._setup_other_backend(
            code="test-stated-tax-fx", kind="ap_automation", bill_posting="post"
        )
        cls.company = cls.env.company
        cls.vat25 = cls._purchase_tax(25, fih_tax_category="S")
        cls.vat10 = cls._purchase_tax(10, fih_tax_category="S")
        cls.eur = cls.env.ref("base.EUR")
        cls.foreign = (
            cls.eur if cls.company.currency_id != cls.eur else cls.env.ref("base.USD")
        )
        cls.foreign.active = True
        cls.env["res.currency.rate"].create(
            {"name": "2026-01-01", "rate": 1.25, "currency_id": cls.foreign.id}
        )
        cls.supplier = cls.env["res.partner"].create(
            {"name": "Fx Supplier", "is_company": True, "vat": "GB9998886"}
        )

    # -- helpers ----------------------------------------------------------------

    def items(self, move):
        """``(kind, amount in the bill's currency, balance)`` of every
        journal item, sorted."""
        return sorted(
            (line.display_type, round(line.amount_currency, 2), round(line.balance, 2))
            for line in move.line_ids
        )

    def oracle(self, lines, currency, stated, move_type="in_invoice"):
        """The same document entered in Odoo, each tax line of ``stated``
        (``{tax: amount}``) set to that amount by hand, then posted."""
        move = self.env["account.move"].create(
            {
                "move_type": move_type,
                "partner_id": self.supplier.id,
                "invoice_date": "2026-11-20",
                "currency_id": currency.id,
                "invoice_line_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "Item",
                            "quantity": 1,
                            "price_unit": price,
                            "tax_ids": [(6, 0, tax.ids)],
                        },
                    )
                    for price, tax in lines
                ],
            }
        )
        sign = 1 if move_type == "in_invoice" else -1
        edits = []
        for tax, amount in stated.items():
            tax_line = move.line_ids.filtered(lambda line, t=tax: line.tax_line_id == t)
            self.assertEqual(len(tax_line), 1)
            edits.append((1, tax_line.id, {"amount_currency": sign * amount}))
        move.write({"line_ids": edits})
        move.action_post()
        return move

    def balance_of(self, move, kind):
        return round(
            sum(
                move.line_ids.filtered(lambda line: line.display_type == kind).mapped(
                    "balance"
                )
            ),
            2,
        )

    # -- bills and credit notes ---------------------------------------------------

    @mute_logger("odoo.addons.mail")
    def test_a_stated_tax_in_a_foreign_currency_is_valued_at_the_bill_rate(self):
        """Tax stated 5.03 (Odoo 5.02) at 1.25: the tax is 4.02 in company
        currency (5.03 / 1.25 = 4.024), the payable 20.10 (25.13 / 1.25), as
        Odoo books the bill with its tax set to 5.03 by hand."""
        bill = self.bill_of(peppol("FX-TAX-1", TWO_AT_25, STATED_25, self.foreign.name))
        self.assertEqual(
            (bill.state, bill.currency_id, bill.amount_tax, bill.amount_total),
            ("posted", self.foreign, 5.03, 25.13),
            bill.fih_hold_reason,
        )
        self.assertEqual(self.balance_of(bill, "tax"), 4.02)
        self.assertEqual(self.balance_of(bill, "payment_term"), -20.10)
        oracle = self.oracle(
            [(10.05, self.vat25)] * 2, self.foreign, {self.vat25: 5.03}
        )
        self.assertEqual(oracle.amount_total, 25.13)
        self.assertEqual(self.items(bill), self.items(oracle))

    @mute_logger("odoo.addons.mail")
    def test_a_foreign_credit_note_with_a_stated_tax_is_valued_as_odoo_values_it(
        self,
    ):
        """The credit note of the same figures books the opposite items: a
        tax of -4.02 and a payable of +20.10 in company currency."""
        refund = self.bill_of(
            peppol("FX-CN-1", TWO_AT_25, STATED_25, self.foreign.name, credit_note=True)
        )
        self.assertEqual(
            (refund.state, refund.move_type, refund.amount_total),
            ("posted", "in_refund", 25.13),
            refund.fih_hold_reason,
        )
        self.assertEqual(self.balance_of(refund, "tax"), -4.02)
        self.assertEqual(self.balance_of(refund, "payment_term"), 20.10)
        oracle = self.oracle(
            [(10.05, self.vat25)] * 2,
            self.foreign,
            {self.vat25: 5.03},
            move_type="in_refund",
        )
        self.assertEqual(self.items(refund), self.items(oracle))

    @mute_logger("odoo.addons.mail")
    def test_each_rate_of_a_foreign_bill_is_valued_at_the_bill_rate(self):
        """Two rates, each stated a cent off Odoo's: 25 % stated 5.03 (Odoo
        5.02), 10 % on two lines of 10.16 stated 2.03 (Odoo 2 x 1.02 = 2.04).
        Each tax is valued once at 1.25: 4.02 and 1.62 (2.03 / 1.25 =
        1.624), not 1.63 from the lines' 0.82 + 0.82 less a converted cent."""
        lines = TWO_AT_25 + [("10.16", 10), ("10.16", 10)]
        subtotals = STATED_25 + [("20.32", "2.03", 10)]
        bill = self.bill_of(peppol("FX-MULTI-1", lines, subtotals, self.foreign.name))
        self.assertEqual(
            (bill.state, bill.amount_tax, bill.amount_total),
            ("posted", 7.06, 47.48),
            bill.fih_hold_reason,
        )
        taxes = {
            line.tax_line_id: round(line.balance, 2)
            for line in bill.line_ids
            if line.display_type == "tax"
        }
        self.assertEqual(taxes, {self.vat25: 4.02, self.vat10: 1.62})
        self.assertEqual(self.balance_of(bill, "payment_term"), -37.98)
        oracle = self.oracle(
            [(10.05, self.vat25)] * 2 + [(10.16, self.vat10)] * 2,
            self.foreign,
            {self.vat25: 5.03, self.vat10: 2.03},
        )
        self.assertEqual(oracle.amount_total, 47.48)
        self.assertEqual(self.items(bill), self.items(oracle))

    @mute_logger("odoo.addons.mail")
    def test_a_stated_tax_in_the_company_currency_books_the_stated_amount(self):
        """The same figures in the company's own currency: the tax and its
        balance are both the stated 5.03, as before."""
        currency = self.company.currency_id
        bill = self.bill_of(peppol("CC-TAX-1", TWO_AT_25, STATED_25, currency.name))
        self.assertEqual(
            (bill.state, bill.amount_tax, bill.amount_total),
            ("posted", 5.03, 25.13),
            bill.fih_hold_reason,
        )
        self.assertEqual(self.balance_of(bill, "tax"), 5.03)
        self.assertEqual(self.balance_of(bill, "payment_term"), -25.13)
        oracle = self.oracle([(10.05, self.vat25)] * 2, currency, {self.vat25: 5.03})
        self.assertEqual(self.items(bill), self.items(oracle))

    # -- paid at its own rate -----------------------------------------------------

    @mute_logger("odoo.addons.mail")
    def test_paying_a_foreign_bill_at_its_own_rate_books_no_exchange_difference(
        self,
    ):
        """The bill of 25.13 paid in full by the AP tool at the bill's own rate
        (no other rate recorded): nothing stays open, in the bill's currency
        or the company's, and no exchange difference is booked."""
        cur = self.foreign.name
        bill = self.bill_of(peppol("FX-PAY-1", TWO_AT_25, STATED_25, cur))
        self.assertEqual((bill.state, bill.amount_total), ("posted", 25.13))
        event = {
            "id": "evt-fx-tax-pay-1",
            "type": "payment.upsert",
            "occurred_at": "2026-11-30T08:00:00Z",
            "data": {
                "external_id": "PAY-FX-TAX-1",
                "payment_date": "2026-11-30",
                "currency": cur,
                "amount": 25.13,
                "allocations": [
                    {
                        "invoice_external_id": "0088:7300010000091/invoice/FX-PAY-1",
                        "amount": 25.13,
                    }
                ],
            },
        }
        message = self.deliver(self.ap, event, self.ap_secret)
        self.assertEqual(message.state, "done", message.error_message)
        payable = bill.line_ids.filtered(
            lambda line: line.display_type == "payment_term"
        )
        self.assertIn(bill.payment_state, ("paid", "in_payment"))
        self.assertEqual(bill.amount_residual, 0.0)
        self.assertEqual(
            (payable.reconciled, payable.amount_residual, payable.balance),
            (True, 0.0, -20.10),
        )
        partials = payable.matched_debit_ids
        self.assertTrue(partials)
        self.assertFalse(partials.exchange_move_id)
