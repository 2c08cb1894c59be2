from odoo import api, fields, models

COST_CENTER_FIELDS = {"name", "code", "active", "company_id", "currency_id"}


class AccountAnalyticAccount(models.Model):
    _inherit = "account.analytic.account"

    fih_budget_limit = fields.Monetary(
        string="Commitment budget",
        currency_field="currency_id",
        help="When set, a purchase order from an integrated platform that would "
        "commit more than what remains of this amount (confirmed orders, in "
        "company currency) is held as an exception instead of being created.",
    )

    def _fih_committed_amount(self, exclude_order=None):
        """Confirmed purchase order lines charged to this cost center, in
        company currency, by their share of the analytic distribution."""
        self.ensure_one()
        self.env["purchase.order.line"].flush_model(
            ["analytic_distribution", "price_subtotal", "order_id"]
        )
        self.env["purchase.order"].flush_model(["state", "currency_rate"])
        self.env.cr.execute(
            """
            SELECT coalesce(sum(l.price_subtotal / nullif(o.currency_rate, 0)
                                * (l.analytic_distribution->>%(account)s)::numeric
                                / 100), 0)
              FROM purchase_order_line l
              JOIN purchase_order o ON o.id = l.order_id
             WHERE o.state IN ('purchase', 'done')
               AND l.analytic_distribution ? %(account)s
               AND o.id <> %(exclude)s
            """,
            {
                "account": str(self.id),
                "exclude": exclude_order.id if exclude_order else 0,
            },
        )
        return float(self.env.cr.fetchone()[0])

    @api.model_create_multi
    def create(self, vals_list):
        accounts = super().create(vals_list)
        self.env["fih.outbox"]._emit("cost_center.changed", accounts)
        return accounts

    def write(self, vals):
        result = super().write(vals)
        if COST_CENTER_FIELDS & set(vals):
            self.env["fih.outbox"]._emit("cost_center.changed", self)
        return result
