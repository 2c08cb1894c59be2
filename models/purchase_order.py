from odoo import api, fields, models

# a confirmed order's changes that matter to the procurement platform
ORDER_FIELDS = {"order_line", "partner_id", "date_planned", "currency_id", "notes"}


class PurchaseOrder(models.Model):
    _name = "purchase.order"
    _inherit = ["purchase.order", "fih.synced.mixin"]

    fih_approved_by = fields.Char(
        string="Approved by",
        readonly=True,
        copy=False,
        help="Who approved the order in the procurement platform.",
    )
    fih_approved_at = fields.Datetime(string="Approved on", readonly=True, copy=False)
    fih_approval_reference = fields.Char(
        string="Approval reference",
        readonly=True,
        copy=False,
        help="Approval or requisition reference in the procurement platform.",
    )

    def button_confirm(self):
        result = super().button_confirm()
        self.env["fih.outbox"]._emit(
            "purchase_order.confirmed", self.filtered(lambda o: o.state == "purchase")
        )
        return result

    def button_cancel(self):
        confirmed = self.filtered(lambda o: o.state in ("purchase", "done"))
        result = super().button_cancel()
        self.env["fih.outbox"]._emit(
            "purchase_order.cancelled",
            confirmed.filtered(lambda o: o.state == "cancel"),
        )
        return result

    def write(self, vals):
        result = super().write(vals)
        if ORDER_FIELDS & set(vals):
            self.env["fih.outbox"]._emit(
                "purchase_order.changed",
                self.filtered(lambda o: o.state in ("purchase", "done")),
            )
        return result

    @api.depends("order_line.fih_price_adjustment_line_ids.move_id")
    def _compute_invoice(self):
        # rebate credit notes are not linked as invoiced quantities: they are
        # the order's documents all the same
        result = super()._compute_invoice()
        for order in self:
            rebates = order.order_line.fih_price_adjustment_line_ids.move_id
            if rebates - order.invoice_ids:
                order.invoice_ids |= rebates
                order.invoice_count = len(order.invoice_ids)
        return result
