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
                ),
                cause="tax.missing",
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

    def _computed_taxes(self, bill, base_lines=None):
        """Odoo's own computation of the bill's taxes (as if no amount had
        been set by hand), per tax code the supplier gave each line:
        ``{code: {"amount", "base", "lines", "self_assessed"}}`` with
        signed amounts in the bill's currency, positive for a tax charged
        (credit notes too). A reverse charge's tax line and its opposite net
        to zero under their code. ``base_lines``: Odoo's tax details of the
        bill's lines, when the caller has them already."""
        if base_lines is None:
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

    def _findings(self, bill, order, data, tax_findings=None):
        """The tax findings first: booking the stated taxes changes the
        total the other checks compare. ``tax_findings``: those the batch
        found and booked already (``_check_taxes``)."""
        if tax_findings is None:
            tax_findings = self._tax_findings(bill, data)
        return tax_findings + super()._findings(bill, order, data, tax_findings)

    def _tax_findings(self, bill, data):
        """Sentences for the taxes that do not agree; when they all do, the
        stated amounts are booked on the draft bill."""
        findings, booking = self._tax_check(bill, data)
        self._book_as_stated([booking] if booking else [])
        return findings

    def _tax_check(self, bill, data):
        """``(findings, booking)``: the sentences for the taxes that do not
        agree, and when they all do, what :meth:`_book_as_stated` books."""
        company, currency = bill.company_id, bill.currency_id
        base_lines, tax_lines = bill._get_rounded_base_and_tax_lines(
            round_from_tax_lines=False
        )
        figures = self._computed_taxes(bill, base_lines)
        outcome = tax_check.reconcile_invoice_taxes(
            data,
            figures,
            rounding=_decimal(currency.rounding)
            * _decimal(company.fih_tax_rounding_units),
            tolerance=_decimal(company.fih_tax_tolerance),
            places=currency.decimal_places,
        )
        booking = None
        if outcome.agreed and bill.state == "draft":
            booking = (bill, base_lines, tax_lines, figures, outcome.adopted)
        return [finding.message for finding in outcome.findings], booking

    def _book_as_stated(self, bookings):
        """Book the document's figures on the draft bills of ``bookings``
        (``(bill, base lines, tax lines, figures, adopted)`` of
        :meth:`_tax_check`) with Odoo's own tax line builder: each line at its
        own amount (rounding taxes globally, Odoo moves a cent of rounding
        onto a line and its tax base), each adopted code's difference on its
        largest tax amount. Like an amount set by hand, they stay: the
        payable lines follow, and posting does not compute the taxes again.
        The lines of every bill are written in one synchronisation."""
        Line = self.env["account.move.line"]
        bills = self.env["account.move"]
        updates, to_delete, to_create = [], [], []
        for bill, base_lines, tax_lines, figures, adopted in bookings:
            results = self._stated_tax_lines(
                bill, base_lines, tax_lines, figures, adopted
            )
            if results is None:
                continue
            bills |= bill
            updates += [
                (base_line["record"], values)
                for base_line, values in results["base_lines_to_update"]
            ]
            updates += [
                (tax_line["record"], values)
                for tax_line, _key, values in results["tax_lines_to_update"]
            ]
            to_delete += [
                tax_line["record"].id for tax_line in results["tax_lines_to_delete"]
            ]
            to_create += [
                {**values, "display_type": "tax", "move_id": bill.id}
                for values in results["tax_lines_to_add"]
            ]
        if not bills:
            return
        with bills._get_edi_creation():
            for line, values in updates:
                self._write_if_changed(line, values)
            Line.browse(to_delete).with_context(dynamic_unlink=True).unlink()
            Line.create(to_create)

    def _stated_tax_lines(self, bill, base_lines, tax_lines, figures, adopted):
        """Odoo's tax lines of ``bill`` with the adopted amounts, as
        ``_prepare_tax_lines`` gives them; None when nothing changes."""
        Tax = self.env["account.tax"]
        company = bill.company_id
        largest = {}  # code -> the tax amount that takes the difference
        coded = {}  # code -> the tax amounts of the code's lines
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
                    coded.setdefault(code, []).append(tax_data)
                    amount = abs(tax_data["tax_amount_currency"])
                    if code not in largest or amount > largest[code][0]:
                        largest[code] = (amount, base_line, tax_data)
        if not moved and not adopted:
            return None
        for code, stated in adopted.items():
            difference = float(stated - figures[code]["amount"])
            if not difference:
                continue  # nothing to move (e.g. reverse charge, +X/-X)
            _amount, base_line, tax_data = largest[code]
            tax_data["tax_amount_currency"] += difference
            tax_data["tax_amount"] += self._company_remainder(
                company.currency_id, stated, base_line["rate"], coded[code]
            )
        Tax._add_accounting_data_in_base_lines_tax_details(
            base_lines, company, include_caba_tags=bill.always_tax_exigible
        )
        return Tax._prepare_tax_lines(base_lines, company, tax_lines=tax_lines)

    def _company_remainder(self, company_currency, stated, rate, taxes_data):
        """What the largest tax amount of a code takes in company currency so
        that the code's lines come to the stated amount valued at the bill's
        rate and rounded once, as Odoo values a tax amount set by hand (5.03
        EUR at 1.25 is 4.02 USD, not the sum of converted line amounts and a
        converted difference)."""
        target = company_currency.round(float(stated) / (rate or 1.0))
        booked = sum(
            company_currency.round(tax_data["tax_amount"]) for tax_data in taxes_data
        )
        return company_currency.round(target - booked)

    def _write_if_changed(self, line, values):
        changed = {
            name: value
            for name, value in values.items()
            if line._fields[name].convert_to_write(line[name], line) != value
        }
        if changed:
            line.write(changed)
