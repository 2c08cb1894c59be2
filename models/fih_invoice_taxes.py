from collections import defaultdict
from decimal import Decimal

from odoo import models

from ..lib import tax_check


class FihInvoiceTaxes(models.AbstractModel):
    """The taxes of an incoming bill compared, per tax, with what the
    document states."""

    _inherit = "fih.invoice.handler"

    def _tax_findings(self, bill, data, codes_by_tax):
        computed = defaultdict(Decimal)
        for line in bill.line_ids.filtered("tax_line_id"):
            code = codes_by_tax.get(line.tax_line_id.id, line.tax_line_id.name)
            computed[code] += abs(Decimal(str(line.amount_currency)))
        for code in codes_by_tax.values():
            computed.setdefault(code, Decimal(0))
        findings = tax_check.check_invoice_taxes(
            data,
            dict(computed),
            tolerance=Decimal(str(bill.company_id.fih_tax_tolerance)),
        )
        return [finding.message for finding in findings]
