from odoo import api, fields, models


class FihRecordReferenceMixin(models.AbstractModel):
    """Rows that point to any Odoo record through ``res_model``/``res_id``."""

    _name = "fih.record.reference.mixin"
    _description = "Reference to an Odoo Record"

    record_name = fields.Char(compute="_compute_record_name")

    @api.depends("res_model", "res_id")
    def _compute_record_name(self):
        for row in self:
            record = self.env[row.res_model].browse(row.res_id).exists()
            row.record_name = record.display_name if record else False

    def action_open_record(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
        }
