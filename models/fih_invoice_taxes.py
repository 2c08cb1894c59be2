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
        ``{code: {"amount", "base", "lines", "self_assessed"}}`` with
        signed amounts in the bill's currency, positive for a tax charged
        (credit notes too). A reverse charge's tax line and its opposite net
        to zero under their code."""
        base_lines, _tax_lines = bill._get_rounded_base_and_tax_lines(
            round_from_tax_lines=False
        )
        currency = bill.currency_id
        figures = {}
        for base_line in base_lines:
            counted = set()
            for tax_data in base_line["tax_details"]["taxes_data"]:
                tax = tax_data["tax"]
                code = self._stated_code(base_line, tax_data)
                figure = figures.setdefault(
                    code,
                    {
                        "amount": Decimal(0),
                        "base": Decimal(0),
                        "lines": 0,
                        "self_assessed": False,
                    },
                )
                figure["amount"] += _decimal(
                    currency.round(tax_data["tax_amount_currency"])
                )
                figure["self_assessed"] |= tax.has_negative_factor
                if code not in counted and not tax_data.get("is_reverse_charge"):
                    counted.add(code)
                    # the line's own base: the lines are booked at their own
                    # amount, without a global-rounding delta
                    figure["base"] += _decimal(
                        currency.round(tax_data["raw_base_amount_currency"])
                    )
                    figure["lines"] += 1
        return figures

    def _stated_code(self, base_line, tax_data):
        """The code the document gave the line for this tax (the tax's name
        for a tax no code names)."""
        tax = tax_data["tax"]
        group = tax_data.get("group") or tax
        code_of = {}
        for code, tax_id in (base_line["record"].fih_tax_codes or {}).items():
            code_of.setdefault(tax_id, code)
        return code_of.get(tax.id) or code_of.get(group.id) or tax.name

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
            figures,
            rounding=_decimal(currency.rounding)
            * _decimal(company.fih_tax_rounding_units),
            tolerance=_decimal(company.fih_tax_tolerance),
            places=currency.decimal_places,
        )
        if outcome.agreed and bill.state == "draft":
            self._book_as_stated(bill, figures, outcome.adopted)
        return [finding.message for finding in outcome.findings]

    def _book_as_stated(self, bill, figures, adopted):
        """Book the document's figures on the draft with Odoo's own tax line
        builder: each line at its own amount (rounding taxes globally, Odoo
        moves a cent of rounding onto a line and its tax base), each adopted
        code's difference on its largest tax amount. Like an amount set by
        hand, they stay: the payable line follows, and posting does not
        compute the taxes again."""
        Tax = self.env["account.tax"]
        company = bill.company_id
        base_lines, tax_lines = bill._get_rounded_base_and_tax_lines(
            round_from_tax_lines=False
        )
        largest = {}  # code -> the tax amount that takes the difference
        moved = False  # a line carries a global-rounding delta
        for base_line in base_lines:
            details = base_line["tax_details"]
            moved |= bool(
                details["delta_base_amount_currency"] or details["delta_base_amount"]
            )
            details["delta_base_amount_currency"] = details["delta_base_amount"] = 0.0
            currency = base_line["currency_id"] or company.currency_id
            for tax_data in details["taxes_data"]:
                tax_data["base_amount_currency"] = currency.round(
                    tax_data["raw_base_amount_currency"]
                )
                tax_data["base_amount"] = company.currency_id.round(
                    tax_data["raw_base_amount"]
                )
                code = self._stated_code(base_line, tax_data)
                if code in adopted and not tax_data["is_reverse_charge"]:
                    amount = abs(tax_data["tax_amount_currency"])
                    if code not in largest or amount > largest[code][0]:
                        largest[code] = (amount, base_line, tax_data)
        if not moved and not adopted:
            return
        for code, stated in adopted.items():
            _amount, base_line, tax_data = largest[code]
            difference = float(stated - figures[code]["amount"])
            tax_data["tax_amount_currency"] += difference
            tax_data["tax_amount"] += difference / (base_line["rate"] or 1.0)
        Tax._add_accounting_data_in_base_lines_tax_details(
            base_lines, company, include_caba_tags=bill.always_tax_exigible
        )
        results = Tax._prepare_tax_lines(base_lines, company, tax_lines=tax_lines)
        Line = self.env["account.move.line"]
        with bill._get_edi_creation():
            for base_line, values in results["base_lines_to_update"]:
                self._write_if_changed(base_line["record"], values)
            for tax_line, _key, values in results["tax_lines_to_update"]:
                self._write_if_changed(tax_line["record"], values)
            Line.browse(
                [tax_line["record"].id for tax_line in results["tax_lines_to_delete"]]
            ).with_context(dynamic_unlink=True).unlink()
            Line.create(
                [
                    {**values, "display_type": "tax", "move_id": bill.id}
                    for values in results["tax_lines_to_add"]
                ]
            )

    def _write_if_changed(self, line, values):
        changed = {
            name: value
            for name, value in values.items()
            if line._fields[name].convert_to_write(line[name], line) != value
        }
        if changed:
            line.write(changed)
