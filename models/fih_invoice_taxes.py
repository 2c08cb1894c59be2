from decimal import Decimal

from odoo import models

from ..exceptions import FihBusinessException
from ..lib import tax_check


def _decimal(value):
    return Decimal(str(value))


class FihInvoiceTaxes(models.AbstractModel):
    """The taxes of an incoming bill: each line gets the taxes of the codes
    the supplier gave it; before the other checks, Odoo's computation is
    compared per code with what the document states, and the stated amounts
    within the rounding allowance are booked on the draft, so that the bill
    carries the supplier's figures to the cent."""

    _inherit = "fih.invoice.handler"

    # -- the taxes of a line -------------------------------------------------------

    def _line_taxes(self, backend, company, item, order_line, data, cache=None):
        """``(taxes, {code: tax id})`` of one document line. A line without
        tax codes (a cXML invoice stating its tax only in the summary) takes
        the taxes of the order line it invoices, each under the stated code
        that names it."""
        if "tax_codes" in item:
            return self._coded_taxes(backend, company, item["tax_codes"], cache)
        if not order_line:
            raise FihBusinessException(
                self.env._(
                    "Invoice line %(line)s states no taxes and invoices no order "
                    "line to take them from; the supplier must state the taxes "
                    "of the line.",
                    line=item["line_id"],
                )
            )
        taxes = order_line.taxes_id
        codes = {}
        for total in data.get("tax_totals") or []:
            tax = self._tax(backend, company, total["tax_code"], cache)
            if tax in taxes:
                codes.setdefault(total["tax_code"], tax.id)
        return taxes, codes

    def _coded_taxes(self, backend, company, codes, cache=None):
        taxes = self.env["account.tax"]
        coded = {}
        for code in codes:
            tax = self._tax(backend, company, code, cache)
            taxes |= tax
            coded[code] = tax.id
        return taxes, coded

    # -- Odoo's computation per stated code ------------------------------------------

    def _computed_taxes(self, bill):
        """Odoo's own computation of the bill's taxes (as if no amount had
        been set by hand), per tax code the supplier gave each line:
        ``{code: {"amount", "base", "lines", "self_assessed", "taxes"}}`` with
        signed amounts in the bill's currency, positive for a tax charged
        (credit notes too), and ``taxes`` the amount per Odoo tax. A reverse
        charge's tax line and its opposite net to zero under their code."""
        base_lines, _tax_lines = bill._get_rounded_base_and_tax_lines(
            round_from_tax_lines=False
        )
        figures = {}
        for base_line in base_lines:
            line = base_line["record"]
            code_of = {}
            for code, tax_id in (line.fih_tax_codes or {}).items():
                code_of.setdefault(tax_id, code)
            counted = set()
            for tax_data in base_line["tax_details"]["taxes_data"]:
                tax = tax_data["tax"]
                group = tax_data.get("group") or tax
                code = code_of.get(tax.id) or code_of.get(group.id) or tax.name
                figure = figures.setdefault(
                    code,
                    {
                        "amount": Decimal(0),
                        "base": Decimal(0),
                        "lines": 0,
                        "self_assessed": False,
                        "taxes": {},
                    },
                )
                amount = _decimal(tax_data["tax_amount_currency"])
                figure["amount"] += amount
                figure["taxes"][tax] = figure["taxes"].get(tax, Decimal(0)) + amount
                figure["self_assessed"] |= tax.has_negative_factor
                if code not in counted and not tax_data.get("is_reverse_charge"):
                    counted.add(code)
                    figure["base"] += _decimal(tax_data["base_amount_currency"])
                    figure["lines"] += 1
        return figures

    # -- compared and booked ---------------------------------------------------------

    def _findings(self, bill, order, data):
        """The tax findings first: booking the stated taxes changes the
        total the other checks compare."""
        findings = self._tax_findings(bill, data)
        return findings + super()._findings(bill, order, data)

    def _tax_findings(self, bill, data):
        """Sentences for the taxes that do not agree; when they all do, the
        stated amounts are booked on the draft bill."""
        company, currency = bill.company_id, bill.currency_id
        figures = self._computed_taxes(bill)
        outcome = tax_check.reconcile_invoice_taxes(
            data,
            {
                code: {key: figure[key] for key in ("amount", "base", "lines")}
                | {"self_assessed": figure["self_assessed"]}
                for code, figure in figures.items()
            },
            rounding=_decimal(currency.rounding)
            * _decimal(company.fih_tax_rounding_units),
            tolerance=_decimal(company.fih_tax_tolerance),
        )
        if outcome.adopted and bill.state == "draft":
            self._book_stated_taxes(bill, figures, outcome.adopted)
        return [finding.message for finding in outcome.findings]

    def _book_stated_taxes(self, bill, figures, adopted):
        """Put each adopted code's difference on the largest tax line of its
        tax, the way Odoo keeps an amount set by hand: the payable line
        follows, and posting does not compute the taxes again."""
        sign = bill.direction_sign
        targets = {}  # tax -> what its tax lines must come to
        for figure in figures.values():
            for tax, amount in figure["taxes"].items():
                targets[tax] = targets.get(tax, Decimal(0)) + amount
        for code, stated in adopted.items():
            figure = figures[code]
            tax = max(figure["taxes"], key=lambda t: abs(figure["taxes"][t]))
            targets[tax] += stated - figure["amount"]
        with bill._get_edi_creation() as move:
            for tax, target in targets.items():
                lines = move.line_ids.filtered(
                    lambda line, t=tax: line.tax_line_id == t
                )
                if not lines or tax.has_negative_factor:
                    continue
                booked = sum(
                    (_decimal(line.amount_currency) for line in lines), Decimal(0)
                )
                difference = target - booked * sign
                if difference:
                    largest = max(lines, key=lambda line: abs(line.amount_currency))
                    largest.amount_currency = float(
                        _decimal(largest.amount_currency) + difference * sign
                    )
