from odoo import api, models


class ResGroups(models.Model):
    """A group edited from its own side (its users, the groups it implies)
    must not make an integration service user an administrator either."""

    _inherit = "res.groups"

    @api.model_create_multi
    def create(self, vals_list):
        groups = super().create(vals_list)
        self._check_no_administrator_service_user()
        return groups

    def write(self, vals):
        result = super().write(vals)
        if {"users", "implied_ids"} & set(vals):
            self._check_no_administrator_service_user()
        return result

    def _check_no_administrator_service_user(self):
        # service users are a handful of technical accounts
        self.env["res.users"].sudo().with_context(active_test=False).search(
            [("fih_is_service_user", "=", True)]
        )._check_fih_service_user_is_no_administrator()
