from odoo import fields, models


class FihSyncedMixin(models.AbstractModel):
    """Business documents exchanged with external systems: their messages,
    inbound (records touched) and outbound (events sent), and sync status."""

    _name = "fih.synced.mixin"
    _description = "Synchronised Business Document"

    fih_message_count = fields.Integer(
        string="Integration Messages", compute="_compute_fih_sync"
    )
    fih_sync_state = fields.Selection(
        [
            ("synced", "In sync"),
            ("pending", "Waiting"),
            ("attention", "Needs attention"),
        ],
        string="Sync Status",
        compute="_compute_fih_sync",
        help="Of the latest exchange with external systems about this record.",
    )

    def _fih_message_domain(self):
        return [
            "|",
            "&",
            ("record_model", "=", self._name),
            ("record_id", "in", self.ids),
            "&",
            ("link_ids.res_model", "=", self._name),
            ("link_ids.res_id", "in", self.ids),
        ]

    def _compute_fih_sync(self):
        # the user's own rights: no count of other companies' messages
        if not self.env.user.has_group("finance_integration_hub.group_fih_user"):
            self.fih_message_count = 0
            self.fih_sync_state = False
            return
        messages = self.env["fih.message"].search(
            self._fih_message_domain(), order="id desc"
        )
        by_record = {}
        for message in messages:
            ids = {message.record_id} if message.record_model == self._name else set()
            ids |= {
                link.res_id for link in message.link_ids if link.res_model == self._name
            }
            for record_id in ids:
                by_record.setdefault(record_id, []).append(message)
        for record in self:
            record_messages = by_record.get(record.id, [])
            record.fih_message_count = len(record_messages)
            if not record_messages:
                record.fih_sync_state = False
            elif any(m.state in ("failed", "dead") for m in record_messages):
                record.fih_sync_state = "attention"
            elif record_messages[0].state in ("received", "processing"):
                record.fih_sync_state = "pending"
            else:
                record.fih_sync_state = "synced"

    def action_open_fih_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "finance_integration_hub.fih_message_action"
        )
        action["domain"] = self._fih_message_domain()
        action["context"] = {"create": False}
        return action
