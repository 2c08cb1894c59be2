from decimal import Decimal

from markupsafe import Markup, escape

from odoo import api, fields, models

from ..exceptions import FihBusinessException, FihSkipped, FihTransientError
from ..lib.money import to_decimal

MOVE = "account.move"
# a line's own charges and allowances booked as lines of their own
LINE_KINDS = (("charge", "line_charges", 1), ("allowance", "line_allowances", -1))


class FihInvoiceHandler(models.AbstractModel):
    """``invoice.upsert``: approved invoices and credit notes from the AP tool
    become vendor bills and refunds linked to their purchase order.

    Before posting, every bill passes the three-way match, the tax, price
    precision, exchange rate and possible-duplicate checks; one failure and
    the bill stays in draft with an activity that shows the figures compared.
    A second document with the same supplier's number is not created at all.
    Bills that pass are posted or left in draft for approval as the posting
    policy of the backend and the supplier says.
    """

    _name = "fih.invoice.handler"
    _inherit = ["fih.procure.to.pay.handler"]
    _description = "Vendor Bill Flow"
    _fih_event_type = "invoice.upsert"
    _fih_object_type = "invoice"

    @api.model
    def _fih_process(self, messages, documents):
        """Bills of a batch in three steps: each is planned on its own (every
        look-up and check that can refuse a document), new bills are created
        together (one ``create`` per company), then each is checked in arrival
        order and those that may be posted are posted together (before a
        later document of the same order is checked). Odoo creates and posts
        a batch of moves far cheaper than one move at a time; a message
        refused at any step is set aside and the batch redone without it."""
        backend = messages.backend_id
        backend.ensure_one()
        outcomes, plans, cache = {}, [], {}
        for message in messages:
            document = documents[message.id]
            try:
                plans.append(
                    self._plan(backend, message, document.data, document.company, cache)
                )
            except (FihBusinessException, FihSkipped, FihTransientError) as exc:
                outcomes[message.id] = exc
        self._create_bills([plan for plan in plans if not plan["bill"]])
        self._check_taxes(plans, outcomes)
        pending = []  # checked bills that may be posted, posted together
        for plan in plans:
            if plan["message"].id in outcomes:
                continue
            # a later document of the same order (a credit note, another bill)
            # is checked against the order's bills as posted
            if plan["order"] and any(p["order"] & plan["order"] for p in pending):
                self._post_pending(pending)
            try:
                plan["findings"] = self._check_bill(backend, plan)
            except (FihBusinessException, FihSkipped, FihTransientError) as exc:
                outcomes[plan["message"].id] = exc
                continue
            if not plan["findings"] and self._may_post(
                backend, plan["bill"], plan["order"], plan["partner"]
            ):
                pending.append(plan)
        self._post_pending(pending)
        for plan in plans:
            message, bill, order = plan["message"], plan["bill"], plan["order"]
            if message.id in outcomes:
                continue
            findings = plan["findings"]
            self._record_checks(backend, bill, findings)
            self._bind(
                backend, message, "invoice", plan["external_id"], bill, plan["data"]
            )
            operation = plan["operation"]
            if findings:
                operation = "held"
            elif bill.state == "posted":
                operation = "posted"
            outcomes[message.id] = [(MOVE, bill.id, operation)] + [
                (one._name, one.id, "linked") for one in order
            ]
        return outcomes

    def _plan(self, backend, message, data, company, cache):
        """Everything a bill needs before it is created or changed; an existing
        draft is rewritten here. Raises what refuses the document."""
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
                    ),
                    cause="bill.locked",
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
                ),
                cause="bill.locked",
            )
        partner = self._supplier(backend, data["supplier_external_id"], company)
        orders = self._invoiced_orders(backend, data)
        order = self.env["purchase.order"].union(*orders.values())
        move_type = (
            "in_refund" if data["document_type"] == "credit_note" else "in_invoice"
        )
        currency = self._currency(data["currency"], cache)
        self._check_duplicate_number(company, partner, move_type, data, exclude=bill)
        self._check_duplicate_in_batch(company, partner, move_type, data, cache)
        lines = self._lines(backend, company, orders, data, cache, partner)
        self._mark_price_adjustments(data, lines)
        lines += self._charge_lines(backend, company, data, cache)
        values = {
            "move_type": move_type,
            "partner_id": partner.id,
            "company_id": company.id,
            "currency_id": currency.id,
            "ref": data["invoice_number"],
            "invoice_date": data["invoice_date"],
            "invoice_origin": ", ".join(order.mapped("name")) or False,
            "fih_external_total": data["amount_total"],
            "invoice_line_ids": [fields.Command.create(v) for v in lines],
        }
        if bill:
            bill.write({**values, "invoice_line_ids": [fields.Command.clear()]})
            bill.write({"invoice_line_ids": values["invoice_line_ids"]})
        return {
            "message": message,
            "data": data,
            "external_id": data["external_id"],
            "company": company,
            "partner": partner,
            "order": order,
            "values": values,
            "bill": bill,
            "operation": "updated" if bill else "created",
        }

    def _post_pending(self, pending):
        """Post the bills of ``pending`` together (emptied); a bill Odoo refuses
        gets the reason as its finding."""
        bills = self.env[MOVE].union(*(plan["bill"] for plan in pending))
        refused = self._post_bills(bills)
        for plan in pending:
            plan["findings"] = refused.get(plan["bill"].id, [])
        pending.clear()

    def _create_bills(self, plans):
        """Create the new bills of a batch, one ``create`` per company."""
        by_company = {}
        for plan in plans:
            by_company.setdefault(plan["company"], []).append(plan)
        for company, group in by_company.items():
            bills = (
                self.env[MOVE]
                .with_company(company)
                # a new bill has nothing to track yet, and the supplier is not
                # made a follower: no e-mails to suppliers
                .with_context(tracking_disable=True)
                .create([plan["values"] for plan in group])
            )
            for plan, bill in zip(group, bills, strict=True):
                plan["bill"] = bill.with_env(self.env)

    def _check_taxes(self, plans, outcomes):
        """The tax check of every bill of the batch, first: each bill's taxes
        are compared with what its document states, and the stated amounts
        of all the bills that agree are booked together (Odoo synchronises
        their payable lines once, not once per bill). The taxes of a bill do
        not depend on the other documents of the batch."""
        bookings = []
        for plan in plans:
            try:
                plan["tax_findings"], booking = self._tax_check(
                    plan["bill"], plan["data"]
                )
            except (FihBusinessException, FihSkipped, FihTransientError) as exc:
                outcomes[plan["message"].id] = exc
                continue
            if booking:
                bookings.append(booking)
        self._book_as_stated(bookings)

    def _check_bill(self, backend, plan):
        """The checks of one created bill, its taxes checked and booked
        already: its findings (empty: it may post)."""
        bill, order, data = plan["bill"], plan["order"], plan["data"]
        due_date_findings = self._keep_due_date(bill, order, data)
        return (
            self._findings(bill, order, data, plan["tax_findings"])
            + due_date_findings
            + self._unit_findings(bill, data)
        )

    # -- building the bill --------------------------------------------------------

    def _invoiced_orders(self, backend, data):
        """``{external id: purchase order}`` of the orders the document
        invoices: the document's own, or each line's (a cXML summary invoice
        covering several orders of the supplier)."""
        external_ids = [data.get("purchase_order_external_id")] + [
            item.get("purchase_order_external_id") for item in data["lines"]
        ]
        return {
            external_id: self._purchase_order(backend, external_id)
            for external_id in dict.fromkeys(filter(None, external_ids))
        }

    def _lines(self, backend, company, orders, data, cache=None, partner=None):
        """Bill line values of the document's lines, each linked to the line
        of its order (``orders``: ``{external id: purchase order}``), with its
        discount percent, and its own charges and allowances beside it."""
        by_external_id = {
            (external_id, line.fih_external_line_id): line
            for external_id, order in orders.items()
            for line in order.order_line
            if line.fih_external_line_id
        }
        lines = []
        for item in data["lines"]:
            order_id = item.get("purchase_order_external_id") or data.get(
                "purchase_order_external_id"
            )
            order = orders.get(order_id, self.env["purchase.order"])
            order_line = by_external_id.get(
                (order_id, item.get("po_line_id") or ""),
                self.env["purchase.order.line"],
            )
            if item.get("po_line_id") and not order_line:
                raise FihBusinessException(
                    self.env._(
                        "Invoice line %(line)s refers to line %(po_line)s, which "
                        "order %(order)s does not have.",
                        line=item["line_id"],
                        po_line=item["po_line_id"],
                        order=order.name or "-",
                    ),
                    cause="order.line_unknown",
                )
            taxes, tax_codes = self._line_taxes(
                backend, company, item, order_line, data, cache
            )
            product = (
                order_line.product_id
                if order_line
                else self._product(company, item.get("product_code"), partner, cache)
            )
            values = {
                "fih_external_line_id": item["line_id"],
                "product_id": product.id,
                "name": item["description"],
                "product_uom_id": self._bill_unit(item, order_line, product).id,
                "quantity": item["quantity"],
                "price_unit": item["unit_price"],
                "tax_ids": [fields.Command.set(taxes.ids)],
                "fih_tax_codes": tax_codes,
                "purchase_line_id": order_line.id or False,
                "analytic_distribution": self._analytic_distribution(
                    company, item.get("cost_center")
                )
                or order_line.analytic_distribution
                or False,
            }
            if item.get("discount_percent") is not None:
                values["discount"] = float(to_decimal(item["discount_percent"]))
            lines.append(values)
            lines += self._line_charge_lines(company, item, values)
        return lines

    def _line_charge_lines(self, company, item, values):
        """The line's own charges and the allowances it does not book as a
        discount (``line_charges``, ``line_allowances``): bill lines of their
        own beside it, on the company's charges product or account, with the
        line's taxes and analytic distribution, as Odoo's e-invoice import
        books a line charge. They invoice no order quantity."""
        product = company.fih_charges_product_id or self.env.ref(
            "finance_integration_hub.product_document_charges"
        )
        lines = []
        for kind, key, sign in LINE_KINDS:
            for position, entry in enumerate(item.get(key) or [], 1):
                extra = {
                    "fih_external_line_id": f"{item['line_id']}/{kind}-{position}",
                    "fih_charge_kind": kind,
                    "product_id": product.id,
                    "name": self.env._(
                        "%(reason)s (line %(line)s)",
                        reason=entry["reason"],
                        line=item["line_id"],
                    ),
                    "quantity": 1,
                    "price_unit": sign * entry["amount"],
                    "tax_ids": values["tax_ids"],
                    "fih_tax_codes": values["fih_tax_codes"],
                    "analytic_distribution": values["analytic_distribution"],
                }
                if company.fih_charges_account_id:
                    extra["account_id"] = company.fih_charges_account_id.id
                lines.append(extra)
        return lines

    def _bill_unit(self, item, order_line, product):
        """The unit of a bill line: the document's (an Odoo unit name or a
        UN/ECE code), else the order line's, else the product's purchase
        unit. Odoo counts what is billed on the order line in the order
        line's unit."""
        if item.get("uom"):
            where = self.env._("Invoice line %(line)s", line=item["line_id"])
            if not order_line:
                # held with a reason, not refused (fih_procure_to_pay_units)
                return self._unit_to_review(item["uom"], product, where)[0]
            return self._unit(item["uom"], product, where)
        return order_line.product_uom or product.uom_po_id

    def _mark_price_adjustments(self, data, lines):
        """Lines the document marks as price adjustments (rebates) keep their
        order line in the hub's own field, not as an invoiced quantity: Odoo
        would lower the quantity billed on the order by the refunded units and
        make them billable again."""
        adjusted = {
            item["line_id"] for item in data["lines"] if item.get("price_adjustment")
        }
        for values in lines:
            if values["fih_external_line_id"] in adjusted:
                values["fih_price_adjusted_line_id"] = values["purchase_line_id"]
                values["purchase_line_id"] = False

    def _record_checks(self, backend, bill, findings):
        reason = "\n".join(findings) or False
        if (bill.fih_hold_reason or False) != reason:
            bill.fih_hold_reason = reason
        if not findings and not bill.activity_ids:
            return  # no activity to close
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
