from decimal import Decimal

from odoo import models

from ..lib import three_way_match


class FihInvoiceChecks(models.AbstractModel):
    """The checks a bill passes before it is posted: supplier, totals,
    currency, period and the three-way match; each failure is a sentence
    with the figures compared."""

    _inherit = "fih.invoice.handler"

    def _findings(self, bill, order, data):
        """Every reason not to post, as sentences with the figures compared."""
        company = bill.company_id
        findings = []
        if order and order.partner_id.commercial_partner_id != (
            bill.partner_id.commercial_partner_id
        ):
            findings.append(
                self.env._(
                    "Supplier: the bill is from %(bill)s, order %(order)s was placed "
                    "with %(supplier)s.",
                    bill=bill.partner_id.display_name,
                    order=order.name,
                    supplier=order.partner_id.display_name,
                )
            )
        # the taxes are booked as stated (fih_invoice_taxes): only the lines
        # can still round, a smallest amount of the currency each
        allowance = Decimal(str(bill.currency_id.rounding)) * max(
            len(bill.invoice_line_ids), 1
        )
        if self._float_differs(bill.amount_total, data["amount_total"], allowance):
            findings.append(
                self.env._(
                    "Total: the document states %(stated)s, the bill comes to "
                    "%(computed)s %(currency)s.",
                    stated=data["amount_total"],
                    computed=bill.amount_total,
                    currency=bill.currency_id.name,
                )
            )
        if order and order.currency_id != bill.currency_id:
            findings.append(
                self.env._(
                    "Currency: the bill is in %(bill)s, order %(order)s in "
                    "%(order_currency)s.",
                    bill=bill.currency_id.name,
                    order=order.name,
                    order_currency=order.currency_id.name,
                )
            )
        lock_date = max(
            (
                day
                for day in (
                    company.fiscalyear_lock_date,
                    company.purchase_lock_date,
                    company.hard_lock_date,
                )
                if day
            ),
            default=None,
        )
        if lock_date and bill.invoice_date and bill.invoice_date <= lock_date:
            findings.append(
                self.env._(
                    "Period: the invoice date %(date)s falls in a locked period "
                    "(locked up to %(lock)s).",
                    date=bill.invoice_date,
                    lock=lock_date,
                )
            )
        if order:
            findings += [
                finding.message
                for finding in self._three_way_match(bill, order).findings
            ]
        declared = Decimal(str(data["amount_untaxed"]))
        computed = Decimal(str(bill.amount_untaxed))
        if abs(declared - computed) > Decimal("0.01") * max(len(data["lines"]), 1):
            findings.append(
                self.env._(
                    "Untaxed total: the document states %(declared)s, its lines "
                    "add up to %(computed)s %(currency)s.",
                    declared=declared,
                    computed=computed,
                    currency=bill.currency_id.name,
                )
            )
        return findings

    def _three_way_match(self, bill, order):
        company = bill.company_id
        order_lines = []
        # only the lines the bill refers to: the others cannot be matched
        billed = bill.invoice_line_ids.purchase_line_id
        for line in billed.filtered("fih_external_line_id"):
            other = line.invoice_lines.filtered(
                lambda aml: aml.move_id != bill and aml.parent_state != "cancel"
            )
            invoiced = sum(
                (-1 if aml.move_id.move_type == "in_refund" else 1) * aml.quantity
                for aml in other
            )
            order_lines.append(
                three_way_match.OrderLine(
                    line.fih_external_line_id,
                    ordered=str(line.product_qty),
                    unit_price=str(line.price_unit),
                    received=str(line.qty_received),
                    invoiced=str(invoiced),
                )
            )
        invoice_lines = [
            three_way_match.InvoiceLine(
                aml.fih_external_line_id or str(aml.id),
                aml.purchase_line_id.fih_external_line_id or None,
                quantity=str(aml.quantity),
                unit_price=str(aml.price_unit),
            )
            for aml in bill.invoice_line_ids
            if not aml.fih_charge_kind  # header charges have no order line
        ]
        tolerance = three_way_match.Tolerance(
            quantity_percent=str(company.fih_match_quantity_tolerance),
            price_percent=str(company.fih_match_price_tolerance_percent)
            if company.fih_match_price_tolerance_percent
            else None,
            price_amount=str(company.fih_match_price_tolerance_amount)
            if company.fih_match_price_tolerance_amount
            else None,
        )
        return three_way_match.match(
            order_lines,
            invoice_lines,
            credit_note=bill.move_type == "in_refund",
            tolerance=tolerance,
            currency=bill.currency_id.name,
        )
