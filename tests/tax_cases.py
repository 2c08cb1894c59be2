"""The set-up the tax tests share: an AP tool's invoice events, and purchase
taxes of every UNCL5305 category."""

from decimal import Decimal

from odoo import Command

from ..lib.money import round_half_up
from .common import FihTransactionCase


def bill_event(
    n,
    lines,
    tax_totals,
    *,
    currency,
    places=2,
    order=None,
    charges=(),
    allowances=(),
    amount_tax=None,
    **overrides,
):
    """An AP tool's invoice ``n``. ``lines``: ``(description, quantity, unit
    price, tax codes[, order line])``; totals add up from the lines, charges,
    allowances and the stated ``tax_totals`` (``(code, base, amount)``)."""

    def rounded(value):
        return float(round_half_up(Decimal(str(value)), places))

    # each line's amount rounded as the document prints it, then added up
    untaxed = sum(
        round_half_up(Decimal(str(q)) * Decimal(str(p)), places)
        for _d, q, p, *_rest in lines
    )
    untaxed += sum(Decimal(str(c["amount"])) for c in charges)
    untaxed -= sum(Decimal(str(a["amount"])) for a in allowances)
    stated_tax = sum(Decimal(str(amount)) for _c, _b, amount in tax_totals)
    tax = stated_tax if amount_tax is None else Decimal(str(amount_tax))
    data = {
        "external_id": f"INV-{n}",
        "document_type": "invoice",
        "supplier_external_id": "SUP-000001",
        "invoice_number": f"T2026-{n:04d}",
        "invoice_date": "2026-11-26",
        "currency": currency,
        "lines": [],
        "tax_totals": [
            {"tax_code": code, "base": rounded(base), "amount": rounded(amount)}
            for code, base, amount in tax_totals
        ],
        "amount_untaxed": rounded(untaxed),
        "amount_tax": rounded(tax),
        "amount_total": rounded(untaxed + tax),
    }
    for index, (description, quantity, price, codes, *po_line) in enumerate(lines, 1):
        line = {
            "line_id": str(index),
            "description": description,
            "quantity": quantity,
            "unit_price": price,
        }
        if codes is not None:
            line["tax_codes"] = codes
        if po_line:
            line["po_line_id"] = po_line[0]
        data["lines"].append(line)
    if order:
        data["purchase_order_external_id"] = f"PO-{order}"
    if charges:
        data["charges"] = list(charges)
    if allowances:
        data["allowances"] = list(allowances)
    data.update(overrides)
    return {
        "id": f"evt-tax-inv-{n}",
        "type": "invoice.upsert",
        "occurred_at": "2026-11-26T08:00:00Z",
        "data": data,
    }


class P2PTaxCase(FihTransactionCase):
    """A procurement platform, an AP tool, and the purchase taxes of every
    category: the chart's 15 %, a reverse charge (AE) and an intra-community
    (K) tax that self-assess at 15 %, exempt (E), zero-rated (Z) and an
    untagged 0 % tax."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_ap_backend(
            # most bills here have no order: an AP tool trusted to post them
            bill_posting="post",
        )
        cls.company = cls.env.company
        cls.currency = cls.company.currency_id
        cls._setup_paper_and_cost_centre()
        Tax = cls.env["account.tax"]
        cls.vat15 = Tax.search(
            [
                ("type_tax_use", "=", "purchase"),
                ("amount", "=", 15),
                ("company_id", "=", cls.company.id),
            ],
            order="sequence, id",
            limit=1,
        )
        cls.input_vat = cls.vat15.invoice_repartition_line_ids.filtered(
            lambda line: line.repartition_type == "tax"
        ).account_id
        cls.vat_due = cls.env["account.account"].create(
            {
                "name": "VAT due on purchases",
                "code": "FIH251",
                "account_type": "liability_current",
            }
        )
        cls.reverse_charge = cls._self_assessed("15% reverse charge", "AE")
        cls.intra_eu = cls._self_assessed("15% EU acquisitions", "K")
        cls.exempt = cls._zero_rate("0% exempt", "E")
        cls.zero_rated = cls._zero_rate("0% zero rated", "Z")
        cls.untagged_zero = cls._zero_rate("0% other", False)

    @classmethod
    def _repartition(cls, *factors):
        return [Command.create({"repartition_type": "base"})] + [
            Command.create(
                {
                    "repartition_type": "tax",
                    "factor_percent": factor,
                    "account_id": account.id,
                }
            )
            for factor, account in factors
        ]

    @classmethod
    def _self_assessed(cls, name, category):
        factors = ((100, cls.input_vat), (-100, cls.vat_due))
        return cls.env["account.tax"].create(
            {
                "name": name,
                "amount": 15,
                "amount_type": "percent",
                "type_tax_use": "purchase",
                "fih_tax_category": category,
                "tax_group_id": cls.vat15.tax_group_id.id,
                "invoice_repartition_line_ids": cls._repartition(*factors),
                "refund_repartition_line_ids": cls._repartition(*factors),
            }
        )

    @classmethod
    def _zero_rate(cls, name, category):
        return cls.env["account.tax"].create(
            {
                "name": name,
                "amount": 0,
                "amount_type": "percent",
                "type_tax_use": "purchase",
                "fih_tax_category": category,
                "tax_group_id": cls.vat15.tax_group_id.id,
            }
        )

    # -- helpers -------------------------------------------------------------

    def send(self, event):
        """An AP tool event through the signed intake, then processed."""
        return self.deliver(self.ap, event, self.ap_secret)

    def from_procurement(self, event):
        if "currency" in event["data"]:
            event["data"]["currency"] = self.currency.name
        self.assertEqual(self.receive(event).status, 202)
        self.process()
        message = self.messages(idempotency_key=event["id"])
        self.assertEqual(message.state, "done", message.error_message)
        return message

    def bill(self, n):
        binding = self.env["fih.binding"].search(
            [("object_type", "=", "invoice"), ("external_id", "=", f"INV-{n}")]
        )
        return self.env["account.move"].browse(binding.res_id)

    def posted_bill(self, n, event):
        message = self.send(event)
        self.assertEqual(message.state, "done", message.error_message)
        bill = self.bill(n)
        self.assertFalse(bill.fih_hold_reason)
        self.assertEqual(bill.state, "posted")
        return bill

    def lines_of(self, bill, tax):
        return bill.line_ids.filtered(lambda line: line.tax_line_id == tax).sorted(
            "balance"
        )

    def payable(self, bill):
        return bill.line_ids.filtered(
            lambda line: line.account_id.account_type == "liability_payable"
        )
