from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import AccessError, ValidationError


class ResUsers(models.Model):
    """Integration service users: technical accounts an administrator marks
    as such, never a person's account and never an administrator."""

    _name = "res.users"
    _inherit = ["res.users", "fih.default.guard.mixin"]
    _fih_admin_only_fields = frozenset({"fih_is_service_user"})

    fih_is_service_user = fields.Boolean(
        string="Integration Service User",
        groups="base.group_system",
        copy=False,
        help="Set by a system administrator only, on a dedicated technical user "
        "that no person logs in with. Only such users can process a backend's "
        "messages, and only in the companies the administrator allowed them.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        if any(vals.get("fih_is_service_user") for vals in vals_list):
            self._check_fih_service_user_rights()
        return super().create(vals_list)

    def write(self, vals):
        if "fih_is_service_user" in vals:
            self._check_fih_service_user_rights()
        return super().write(vals)

    def _check_fih_service_user_rights(self):
        if not (self.env.su or self.env.user.has_group("base.group_system")):
            raise AccessError(
                self.env._(
                    "Only a system administrator can mark a user as an "
                    "integration service user."
                )
            )

    def _fih_service_user_problem(self):
        """Why this user cannot be a backend's service user, None if it can."""
        self.ensure_one()
        user = self.sudo()
        if not user:
            return self.env._("no user is set.")
        if (
            user.id == SUPERUSER_ID
            or user == self.env.ref("base.user_admin", raise_if_not_found=False)
            or user._is_admin()
            or user._is_system()
        ):
            return self.env._("an administrator can never be a service user.")
        if user.share:
            return self.env._("a portal or public user can never be a service user.")
        if not user.fih_is_service_user:
            return self.env._(
                "it is not marked as an integration service user (a person's "
                "account must never process messages)."
            )
        return None

    @api.constrains("fih_is_service_user", "groups_id")
    def _check_fih_service_user_is_no_administrator(self):
        for user in self.sudo().filtered("fih_is_service_user"):
            if user.id == SUPERUSER_ID or user._is_admin() or user._is_system():
                raise ValidationError(
                    self.env._(
                        "%s is an integration service user and cannot be an "
                        "administrator: use a separate account for "
                        "administration.",
                        user.name,
                    )
                )
