from odoo import api, models

COST_CENTER_FIELDS = {"name", "code", "active", "company_id", "currency_id"}


class AccountAnalyticAccount(models.Model):
    _inherit = "account.analytic.account"

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
