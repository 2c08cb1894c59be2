from collections import defaultdict
from decimal import Decimal

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..exceptions import FihBusinessException, FihSkipped
from ..lib import tax_check, three_way_match

MOVE = "account.move"


class FihInvoiceHandler(models.AbstractModel):
    """``invoice.upsert``: approved invoices and credit notes from the AP tool
    become vendor bills and refunds linked to their purchase order.

    Before posting, every bill passes the three-way match, the tax check, the
    currency and period-lock checks; one failure and the bill stays in draft
    with an activity that shows the figures compared. Duplicates (same
    supplier and number, or same amount and date) are not created at all.
    """

    _name = "fih.invoice.handler"
    _inherit = ["fih.procure.to.pay.handler"]
    _description = "Vendor Bill Flow"
    _fih_event_type = "invoice.upsert"
    _fih_object_type = "invoice"

    def _apply(self, backend, message, data, company, cache):
        binding = self._binding(backend, "invoice", data["external_id"])
        self._check_not_stale(binding, message, data)
        bill = self._bound_record(binding, MOVE)
        if bill.state == "posted":
            if self._float_differs(bill.amount_total, data["amount_total"]) or (
                (bill.ref or "").lower() != data["invoice_number"].lower()
            ):
                raise FihBusinessException(
                    self.env._(
                        "Bill %(bill)s is already posted for %(posted)s; the AP "
                        "tool now states %(total)s (number %(number)s). A posted "
                        "bill is not changed: agree a credit note or a new "
                        "invoice with the supplier.",
                        bill=bill.name,
                        posted=bill.amount_total,
                        total=data["amount_total"],
                        number=data["invoice_number"],
                    )
                )
            raise FihSkipped(
                self.env._("Bill %s is already posted; it is not changed.", bill.name)
            )
        if bill.state == "cancel":
            raise FihBusinessException(
                self.env._(
                    "Bill %s was cancelled in Odoo; the AP tool's change is not "
                    "applied.",
                    bill.display_name,
                )
            )
        partner = self._supplier(backend, data["supplier_external_id"])
        order = self.env["purchase.order"]
        if data.get("purchase_order_external_id"):
            order = self._purchase_order(backend, data["purchase_order_external_id"])
        move_type = (
            "in_refund" if data["document_type"] == "credit_note" else "in_invoice"
        )
        currency = self._currency(data["currency"])
        self._check_duplicates(company, partner, move_type, data, exclude=bill)
        lines, codes_by_tax = self._lines(backend, company, order, data, cache, partner)
        values = {
            "move_type": move_type,
            "partner_id": partner.id,
            "company_id": company.id,
            "currency_id": currency.id,
            "ref": data["invoice_number"],
            "invoice_date": data["invoice_date"],
            "invoice_origin": order.name or False,
            "fih_external_total": data["amount_total"],
        }
        if data.get("due_date"):
            values["invoice_date_due"] = data["due_date"]
        if bill:
            bill.write({**values, "invoice_line_ids": [fields.Command.clear()]})
            bill.write({"invoice_line_ids": [fields.Command.create(v) for v in lines]})
            operation = "updated"
        else:
            bill = (
                self.env[MOVE]
                .with_company(company)
                # a new bill has nothing to track yet, and the supplier is not
                # made a follower: no e-mails to suppliers
                .with_context(tracking_disable=True)
                .create(
                    {
                        **values,
                        "invoice_line_ids": [fields.Command.create(v) for v in lines],
                    }
                )
            )
            operation = "created"
        findings = self._findings(bill, order, data, codes_by_tax)
        if not findings and backend.bill_posting == "post":
            try:
                # Odoo may refuse after it has set the state: undo it all
                with self.env.cr.savepoint():
                    bill.action_post()
            except UserError as exc:
                bill.invalidate_recordset()
                findings.append(
                    self.env._("Odoo refused to post the bill: %s", exc.args[0])
                )
        self._record_checks(backend, bill, findings)
        self._bind(backend, message, "invoice", data["external_id"], bill, data)
        if findings:
            operation = "held"
        elif bill.state == "posted":
            operation = "posted"
        return [(MOVE, bill.id, operation)] + (
            [(order._name, order.id, "linked")] if order else []
        )

    # -- building the bill --------------------------------------------------------

    def _lines(self, backend, company, order, data, cache=None, partner=None):
        by_external_id = {
            line.fih_external_line_id: line
            for line in order.order_line
            if line.fih_external_line_id
        }
        lines, codes_by_tax = [], {}
        for item in data["lines"]:
            order_line = by_external_id.get(
                item.get("po_line_id") or "", self.env["purchase.order.line"]
            )
            if item.get("po_line_id") and not order_line:
                raise FihBusinessException(
                    self.env._(
                        "Invoice line %(line)s refers to line %(po_line)s, which "
                        "order %(order)s does not have.",
                        line=item["line_id"],
                        po_line=item["po_line_id"],
                        order=order.name or "-",
                    )
                )
            taxes = self._taxes(backend, company, item["tax_codes"], cache)
            for tax, code in zip(taxes, item["tax_codes"], strict=False):
                codes_by_tax[tax.id] = code
            product = (
                order_line.product_id
                if order_line
                else self._product(company, item.get("product_code"), partner)
            )
            lines.append(
                {
                    "fih_external_line_id": item["line_id"],
                    "product_id": product.id,
                    "name": item["description"],
                    "quantity": item["quantity"],
                    "price_unit": item["unit_price"],
                    "tax_ids": [fields.Command.set(taxes.ids)],
                    "purchase_line_id": order_line.id or False,
                    "analytic_distribution": self._analytic_distribution(
                        company, item.get("cost_center")
                    )
                    or order_line.analytic_distribution
                    or False,
                }
            )
        return lines, codes_by_tax

    def _check_duplicates(self, company, partner, move_type, data, exclude=None):
        Move = self.env[MOVE]
        common = [
            ("company_id", "=", company.id),
            ("move_type", "=", move_type),
            ("commercial_partner_id", "=", partner.commercial_partner_id.id),
            ("state", "!=", "cancel"),
            ("id", "not in", exclude.ids if exclude else []),
        ]
        same_number = Move.search(
            common + [("ref", "=ilike", self._like_literal(data["invoice_number"]))],
            limit=1,
        )
        if same_number:
            raise FihBusinessException(
                self.env._(
                    "Duplicate invoice: %(supplier)s's number %(number)s is already "
                    "recorded as %(bill)s. The document was not created.",
                    supplier=partner.display_name,
                    number=data["invoice_number"],
                    bill=same_number.display_name,
                )
            )
        same_amount = Move.search(
            common
            + [
                ("invoice_date", "=", data["invoice_date"]),
                ("amount_total", "=", data["amount_total"]),
            ],
            limit=1,
        )
        if same_amount:
            raise FihBusinessException(
                self.env._(
                    "Possible duplicate invoice: %(supplier)s already has %(bill)s "
                    "(number %(other)s) for the same amount %(amount)s on the same "
                    "date %(date)s. The document was not created; if it is a "
                    "genuine second invoice, record it in Odoo by hand.",
                    supplier=partner.display_name,
                    bill=same_amount.display_name,
                    other=same_amount.ref or "-",
                    amount=data["amount_total"],
                    date=data["invoice_date"],
                )
            )

    # -- checks --------------------------------------------------------------

    def _findings(self, bill, order, data, codes_by_tax):
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
        # the taxes' rounding (a cent each) and the company's tax tolerance
        allowance = Decimal("0.01") * max(len(set(codes_by_tax.values())), 1) + Decimal(
            str(company.fih_tax_tolerance)
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
        findings += self._tax_findings(bill, data, codes_by_tax)
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

    def _record_checks(self, backend, bill, findings):
        reason = "\n".join(findings) or False
        if (bill.fih_hold_reason or False) != reason:
            bill.fih_hold_reason = reason
        activity_type = self.env.ref(
            "finance_integration_hub.mail_activity_type_integration_exception"
        )
        # one open activity per bill: the latest checks replace earlier ones
        earlier = bill.activity_ids.filtered(
            lambda activity: activity.activity_type_id == activity_type
        )
        if not findings:
            earlier.action_feedback(self.env._("The bill passed every check."))
            return
        earlier.unlink()
        note = Markup("<p>%s</p><ul>%s</ul>") % (
            self.env._("The bill was not posted:"),
            Markup("").join(Markup("<li>%s</li>") % escape(text) for text in findings),
        )
        bill.activity_schedule(
            activity_type_id=activity_type.id,
            summary=self.env._("Check the bill before posting"),
            note=note,
            user_id=backend._exception_user().id,
        )

    @api.model
    def _float_differs(self, first, second, allowance=Decimal("0.005")):
        return abs(Decimal(str(first)) - Decimal(str(second))) > allowance
