from odoo import api, fields, models
from odoo.exceptions import UserError


class FihOperatorAction(models.Model):
    """Audit trail of what people did to messages; append-only."""

    _name = "fih.operator.action"
    _description = "Integration Operator Action"
    _order = "id desc"

    message_id = fields.Many2one(
        "fih.message", required=True, ondelete="cascade", index=True, readonly=True
    )
    company_id = fields.Many2one(related="message_id.company_id", store=True)
    action = fields.Selection(
        [("retry", "Retry"), ("replay", "Replay"), ("cancel", "Cancel")],
        required=True,
        readonly=True,
    )
    reason = fields.Text(readonly=True)
    user_id = fields.Many2one(
        "res.users", required=True, readonly=True, default=lambda self: self.env.user
    )
    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            # the acting user is recorded as the real one, not the sudo caller
            vals["user_id"] = self.env.uid
        return super().create(vals_list)

    def write(self, vals):  # pylint: disable=method-required-super
        raise UserError(
            self.env._("The audit trail of operator actions cannot be changed.")
        )

    def unlink(self):  # pylint: disable=method-required-super
        raise UserError(
            self.env._("The audit trail of operator actions cannot be deleted.")
        )
