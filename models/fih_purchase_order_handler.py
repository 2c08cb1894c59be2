from odoo import fields, models

from ..exceptions import FihBusinessException, FihSkipped
from ..lib.ordering import parse_timestamp

ORDER = "purchase.order"


class FihPurchaseOrderHandler(models.AbstractModel):
    """``purchase_order.upsert``: approved orders become confirmed purchase
    orders; updates and cancellations apply while the order allows them."""

    _name = "fih.purchase.order.handler"
    _inherit = ["fih.procure.to.pay.handler"]
    _description = "Purchase Order Flow"
    _fih_event_type = "purchase_order.upsert"
    _fih_object_type = "purchase_order"

    def _apply(self, backend, message, data, company, cache):
        binding = self._binding(backend, "purchase_order", data["external_id"])
        if binding.res_model == "fih.message":
            # cancelled before any approved version arrived: a cancellation is final
            raise FihSkipped(
                self.env._(
                    "Order %s was cancelled before it reached Odoo; this version "
                    "is not applied.",
                    data["external_id"],
                )
            )
        self._check_not_stale(binding, message, data)
        order = self._bound_record(binding, ORDER)
        if data["state"] == "cancelled":
            if not order:
                # remembered, so that an older approved version arriving late
                # does not create the order
                self._bind(
                    backend,
                    message,
                    "purchase_order",
                    data["external_id"],
                    message,
                    data,
                )
                return []
            self._cancel(order, data)
            self._bind(
                backend, message, "purchase_order", data["external_id"], order, data
            )
            return [(ORDER, order.id, "cancelled")]
        if not data.get("approval"):
            raise FihBusinessException(
                self.env._(
                    "Order %s is approved but carries no approval evidence "
                    "(approver and time); it is not created.",
                    data["external_id"],
                ),
                cause="order.refused",
            )
        line_ids = [line["line_id"] for line in data["lines"]]
        if len(set(line_ids)) != len(line_ids):
            raise FihBusinessException(
                self.env._(
                    "Order %s numbers two lines the same; receipts and invoices "
                    "could not tell them apart.",
                    data["external_id"],
                ),
                cause="order.refused",
            )
        partner = self._supplier(backend, data["supplier_external_id"], company)
        currency = self._currency(data["currency"])
        rounded = self._price_precision_findings(
            currency, data["lines"]
        ) + self._quantity_precision_findings(data["lines"])
        if rounded:
            raise FihBusinessException(
                self.env._(
                    "Order %(order)s is not created or changed: %(reasons)s",
                    order=data["external_id"],
                    reasons=" ".join(rounded),
                ),
                cause="order.refused",
            )
        lines = [
            self._line_values(backend, company, line, partner) for line in data["lines"]
        ]
        self._check_budget(company, currency, lines, order)
        header = {
            "partner_id": partner.id,
            "company_id": company.id,
            "currency_id": currency.id,
            "date_order": parse_timestamp(data["order_date"] + "T00:00:00Z")
            if len(data["order_date"]) == 10
            else parse_timestamp(data["order_date"]),
            "partner_ref": data["external_id"],
            **self._approval_values(data.get("approval")),
        }
        if not order:
            order = (
                self.env[ORDER]
                .with_company(company)
                .create(
                    {**header, "order_line": [fields.Command.create(v) for v in lines]}
                )
            )
            order.button_confirm()
            if order.state == "to approve":
                # approved in the procurement platform: the evidence is on it
                order.button_approve(force=True)
            operation = "created"
        else:
            self._update(order, header, lines)
            operation = "updated"
        self._bind(backend, message, "purchase_order", data["external_id"], order, data)
        return [(ORDER, order.id, operation)]

    def _approval_values(self, approval):
        if not approval:
            return {}
        return {
            "fih_approved_by": approval["approver"],
            "fih_approved_at": parse_timestamp(approval["approved_at"]),
            "fih_approval_reference": approval.get("reference") or False,
        }

    def _line_values(self, backend, company, line, partner):
        code = line.get("product_code")
        product = self._product(company, code, partner)
        description = line["description"]
        if code and product == self.env.ref(
            "finance_integration_hub.product_non_catalogue"
        ):
            # an unknown product: kept visible on the line for the buyer
            description = f"[{code}] {description}"
        values = {
            "fih_external_line_id": line["line_id"],
            "product_id": product.id,
            "name": description,
            "product_qty": line["quantity"],
            "price_unit": line["unit_price"],
            "taxes_id": [
                fields.Command.set(self._taxes(backend, company, line["tax_codes"]).ids)
            ],
            "analytic_distribution": self._analytic_distribution(
                company, line.get("cost_center")
            ),
        }
        if line.get("uom"):
            where = self.env._("Order line %(line)s", line=line["line_id"])
            values["product_uom"] = self._unit(line["uom"], product, where).id
        if line.get("requested_date"):
            values["date_planned"] = line["requested_date"]
        return values

    # -- changes to an existing order -------------------------------------------

    def _progress(self, order):
        lines = order.order_line.filtered(lambda line: not line.display_type)
        return sum(lines.mapped("qty_received")), sum(lines.mapped("qty_invoiced"))

    def _update(self, order, header, lines):
        received, invoiced = self._progress(order)
        if order.state in ("cancel", "done") or received or invoiced:
            raise FihBusinessException(
                self.env._(
                    "Order %(order)s can no longer be changed from the procurement "
                    "platform: it is %(state)s with %(received)s received and "
                    "%(invoiced)s billed. Change it in Odoo, or cancel and reissue "
                    "it in the platform.",
                    order=order.name,
                    state=dict(order._fields["state"].selection)[order.state],
                    received=received,
                    invoiced=invoiced,
                ),
                cause="order.refused",
            )
        existing = {
            line.fih_external_line_id: line
            for line in order.order_line
            if line.fih_external_line_id
        }
        commands = []
        for values in lines:
            line = existing.pop(values["fih_external_line_id"], None)
            commands.append(
                fields.Command.update(line.id, values)
                if line
                else fields.Command.create(values)
            )
        # lines of a confirmed order cannot be deleted: they go to zero
        commands += [
            fields.Command.update(line.id, {"product_qty": 0})
            if order.state == "purchase"
            else fields.Command.delete(line.id)
            for line in existing.values()
        ]
        order.write({**header, "order_line": commands})

    def _cancel(self, order, data):
        if order.state == "cancel":
            raise FihSkipped(self.env._("Order %s is already cancelled.", order.name))
        received, invoiced = self._progress(order)
        if received or invoiced:
            raise FihBusinessException(
                self.env._(
                    "Order %(order)s cannot be cancelled: %(received)s already "
                    "received and %(invoiced)s billed. Agree a return or credit "
                    "note with the supplier first.",
                    order=order.name,
                    received=received,
                    invoiced=invoiced,
                ),
                cause="order.refused",
            )
        order.button_cancel()

    # -- commitment --------------------------------------------------------------

    def _check_budget(self, company, currency, lines, order):
        """Hold an order that would take a cost center over its budget."""
        amounts = {}
        for values in lines:
            distribution = values.get("analytic_distribution") or {}
            amount = values["product_qty"] * values["price_unit"]
            for account_id, percent in distribution.items():
                amounts[int(account_id)] = amounts.get(int(account_id), 0) + (
                    amount * percent / 100
                )
        accounts = self.env["account.analytic.account"].browse(list(amounts))
        for account in accounts.filtered("fih_budget_limit"):
            requested = currency._convert(
                amounts[account.id], company.currency_id, company, fields.Date.today()
            )
            committed = account._fih_committed_amount(exclude_order=order)
            remaining = account.fih_budget_limit - committed
            if requested > remaining + 0.005:
                raise FihBusinessException(
                    self.env._(
                        "Cost center %(code)s would go over budget: this order "
                        "commits %(requested).2f %(currency)s, %(remaining).2f "
                        "remain of %(limit).2f (%(committed).2f already committed). "
                        "The order is held; raise the budget or reduce the order.",
                        code=account.code or account.name,
                        requested=requested,
                        currency=company.currency_id.name,
                        remaining=remaining,
                        limit=account.fih_budget_limit,
                        committed=committed,
                    ),
                    cause="budget.exceeded",
                    params={"code": account.code or account.name},
                )
