from decimal import Decimal

from odoo import fields, models

from ..lib.money import plain, round_half_up, to_decimal

KINDS = (("charge", "charges", 1), ("allowance", "allowances", -1))


def _shown(amount, currency):
    """An amount with the currency's decimals: 12.50, 1250 (JPY), 1.250 (KWD)."""
    return str(round_half_up(to_decimal(amount), currency.decimal_places))


class FihInvoiceCharges(models.AbstractModel):
    """Header charges (freight, handling, surcharges) and allowances (header
    discounts) of an incoming bill: lines of their own, on the company's
    charges product or account, taxed as the document states, so that the
    tax is computed on the discounted amount; charges beyond the company's
    tolerance hold the bill."""

    _inherit = "fih.invoice.handler"

    def _charge_lines(self, backend, company, data, cache=None):
        product = company.fih_charges_product_id or self.env.ref(
            "finance_integration_hub.product_document_charges"
        )
        lines = []
        for kind, key, sign in KINDS:
            for position, entry in enumerate(data.get(key) or [], 1):
                taxes, tax_codes = self._coded_taxes(
                    backend, company, entry["tax_codes"], cache
                )
                values = {
                    "fih_external_line_id": f"{kind}-{position}",
                    "fih_charge_kind": kind,
                    "product_id": product.id,
                    "name": entry["reason"],
                    "quantity": 1,
                    "price_unit": sign * entry["amount"],
                    "tax_ids": [fields.Command.set(taxes.ids)],
                    "fih_tax_codes": tax_codes,
                }
                if company.fih_charges_account_id:
                    values["account_id"] = company.fih_charges_account_id.id
                lines.append(values)
        return lines

    def _findings(self, bill, order, data, tax_findings=None):
        return super()._findings(bill, order, data, tax_findings) + (
            self._charge_findings(bill, data)
        )

    def _charge_findings(self, bill, data):
        """A sentence when the header charges exceed what the company accepts
        without review: an amount, a percentage of the goods, or both."""
        # a line's own charges count as the document's
        charges = list(data.get("charges") or []) + [
            dict(entry, reason=f"{entry['reason']} (line {line['line_id']})")
            for line in data["lines"]
            for entry in line.get("line_charges") or []
        ]
        total = sum((to_decimal(entry["amount"]) for entry in charges), Decimal(0))
        if not total:
            return []
        company, currency = bill.company_id, bill.currency_id
        goods = sum(
            (
                to_decimal(line["quantity"]) * to_decimal(line["unit_price"])
                for line in data["lines"]
            ),
            Decimal(0),
        )
        limits, allowed = [], []
        # the tolerance is set in the company's currency: compared in the
        # bill's, at the bill's date, as Odoo converts amounts
        amount = to_decimal(
            company.currency_id._convert(
                company.fih_charges_tolerance_amount,
                currency,
                company,
                bill.invoice_date or fields.Date.context_today(bill),
                round=True,
            )
        )
        percent = to_decimal(company.fih_charges_tolerance_percent)
        if amount:
            limits.append(amount)
            allowed.append(f"{_shown(amount, currency)} {currency.name}")
        if percent:
            limits.append(abs(goods) * percent / 100)
            allowed.append(self.env._("%s %% of the goods", plain(percent)))
        if limits and total <= min(limits):
            return []
        details = ", ".join(
            f"{entry['reason']} {_shown(entry['amount'], currency)}"
            for entry in charges
        )
        if allowed:
            accepted = self.env._(
                "up to %s is accepted without review", " and ".join(allowed)
            )
        else:
            accepted = self.env._(
                "no charges are accepted without review (Settings > Purchase > "
                "Integrated bills and receipts)"
            )
        return [
            self.env._(
                "Charges: the supplier adds %(total)s %(currency)s of charges "
                "(%(details)s) to %(goods)s %(currency)s of goods; %(accepted)s. "
                "Check them with the order, then post the bill by hand.",
                total=_shown(total, currency),
                currency=currency.name,
                details=details,
                goods=_shown(goods, currency),
                accepted=accepted,
            )
        ]
