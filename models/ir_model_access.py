from odoo import api, models
from odoo.exceptions import AccessError

# the hub's rights a person can be given, the least first
PERSON_GROUPS = (
    "finance_integration_hub.group_fih_user",
    "finance_integration_hub.group_fih_exception_handler",
    "finance_integration_hub.group_fih_manager",
)
# who may give a right: whoever manages users' access rights
GRANTING_GROUP = "base.group_erp_manager"
NAMED_GRANTERS = 3


class IrModelAccess(models.Model):
    """A refusal on a hub record says which right to ask for, and whom."""

    _inherit = "ir.model.access"

    def _make_access_error(self, model, mode):
        if not model.startswith("fih."):
            return super()._make_access_error(model, mode)
        group = self._fih_right_to_ask_for(model, mode)
        if not group:
            return super()._make_access_error(model, mode)
        operations = {
            "read": self.env._("see"),
            "write": self.env._("change"),
            "create": self.env._("create"),
            "unlink": self.env._("delete"),
        }
        kind = self.env["ir.model"]._get(model).name or model
        user = self.env.user
        if user.share:
            # portal and public users are told no more than the refusal
            return AccessError(
                self.env._(
                    "You cannot %(operation)s %(kind)s records.",
                    operation=operations[mode],
                    kind=kind,
                )
            )
        # only administrators the user works with: never those of other companies
        granters = (
            self.env["res.users"]
            .sudo()
            .search(
                [
                    ("groups_id", "in", self.env.ref(GRANTING_GROUP).ids),
                    ("share", "=", False),
                    ("company_ids", "in", user.sudo().company_ids.ids),
                ],
                limit=NAMED_GRANTERS,
                order="id",
            )
        )
        return AccessError(
            self.env._(
                "You cannot %(operation)s %(kind)s records: that needs the "
                "'%(right)s' right. Ask your Finance Integration administrator "
                "(%(who)s) to give it to you in Settings > Users & Companies > "
                "Users, under Finance Integration.",
                operation=operations[mode],
                kind=kind,
                right=group.sudo().name,
                who=", ".join(granters.mapped("name"))
                or self.env._("an administrator"),
            )
        )

    @api.model
    def _fih_right_to_ask_for(self, model, mode):
        """The least of the hub's rights that grants ``mode`` on ``model``,
        from the model's own access rules; nothing when none does."""
        rules = (
            self.sudo()
            .search([("model_id.model", "=", model), (f"perm_{mode}", "=", True)])
            .group_id
        )
        for xmlid in PERSON_GROUPS:
            group = self.env.ref(xmlid, raise_if_not_found=False)
            # a right grants what the rights it implies grant (itself included)
            if group and (group | group.sudo().trans_implied_ids) & rules:
                return group
        return self.env["res.groups"]
