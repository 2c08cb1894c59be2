from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models import fih_bulk_operation


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

    @api.depends("message_ids")
    def _compute_message_count(self):
        for wizard in self:
            wizard.message_count = len(wizard.message_ids)

    def action_confirm(self):
        """Act at once on a few messages, in background chunks on many; say
        what was done (or started) with counts."""
        self.ensure_one()
        if self.action == "cancel" and not (self.reason or "").strip():
            raise UserError(self.env._("Say why these messages are cancelled."))
        Operation = self.env["fih.bulk.operation"]
        eligible, skipped = Operation._partition(self.action, self.message_ids)
        if len(eligible) > fih_bulk_operation.IMMEDIATE_LIMIT:
            operation = Operation._start(self.action, eligible, self.reason, skipped)
            return self._notify(
                self.env._(
                    "%(messages)s: %(action)s started in the background, in "
                    "%(chunks)s steps; %(skipped)s skipped. The operation shows "
                    "its progress.",
                    messages=Operation._count_text(len(eligible)),
                    action=dict(fih_bulk_operation.ACTIONS)[self.action].lower(),
                    chunks=operation.progress_chunks_total,
                    skipped=sum(skipped.values()),
                ),
                {
                    "type": "ir.actions.act_window",
                    "res_model": "fih.bulk.operation",
                    "res_id": operation.id,
                    "views": [(False, "form")],
                    "target": "current",
                },
                title=self.env._("Started"),
            )
        if not eligible:
            raise UserError(
                self.env._(
                    "Nothing to do: %s. Select messages this action applies to.",
                    Operation._summary_text(self.action, 0, skipped),
                )
            )
        _acted, replays, _skipped = Operation._act(self.action, eligible, self.reason)
        summary = Operation._summary_text(self.action, len(eligible), skipped)
        following = {"type": "ir.actions.act_window_close"}
        if replays:
            following = self.env["ir.actions.act_window"]._for_xml_id(
                "finance_integration_hub.fih_message_action"
            )
            following["domain"] = [("id", "in", replays.ids)]
        return self._notify(summary, following)

    def _notify(self, message, following, title=None):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "title": title or self.env._("Done"),
                "message": message,
                "sticky": False,
                "next": following,
            },
        }
