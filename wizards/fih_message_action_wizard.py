from odoo import fields, models
from odoo.exceptions import UserError


class FihMessageActionWizard(models.TransientModel):
    _name = "fih.message.action.wizard"
    _description = "Retry, Replay or Cancel Integration Messages"

    message_ids = fields.Many2many("fih.message", string="Messages", required=True)
    action = fields.Selection(
        [
            ("retry", "Retry: process again now"),
            ("replay", "Replay: process the stored payload again as a new message"),
            ("cancel", "Cancel: stop trying, keep for audit"),
        ],
        required=True,
        default="retry",
    )
    reason = fields.Text(
        help="Why you do this; kept in the audit trail. Required to cancel."
    )
    message_count = fields.Integer(compute="_compute_message_count")

    def _compute_message_count(self):
        for wizard in self:
            wizard.message_count = len(wizard.message_ids)

    def action_confirm(self):
        self.ensure_one()
        if self.action == "cancel" and not (self.reason or "").strip():
            raise UserError(self.env._("Say why these messages are cancelled."))
        messages = self.message_ids
        if self.action == "retry":
            messages.action_retry(reason=self.reason)
        elif self.action == "replay":
            replays = messages.action_replay(reason=self.reason)
            action = self.env["ir.actions.act_window"]._for_xml_id(
                "finance_integration_hub.fih_message_action"
            )
            action["domain"] = [("id", "in", replays.ids)]
            return action
        else:
            messages.action_cancel(reason=self.reason)
        return {"type": "ir.actions.act_window_close"}
