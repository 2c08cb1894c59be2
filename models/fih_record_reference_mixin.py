from odoo import api, fields, models


class FihRecordReferenceMixin(models.AbstractModel):
    """Rows that point to any Odoo record through ``res_model``/``res_id``."""

    _name = "fih.record.reference.mixin"
    _description = "Reference to an Odoo Record"

    record_name = fields.Char(compute="_compute_record_name")

    @api.depends("res_model", "res_id")
    @api.depends_context("uid")
    def _compute_record_name(self):
        """The record's name; for a record the user may not read, what kind
        of record it is, so that a list of references never fails."""
        for row in self:
            if row.res_model not in self.env:
                row.record_name = False
                continue
            record = self.env[row.res_model].browse(row.res_id).exists()
            if not record:
                row.record_name = False
            elif record.has_access("read"):
                row.record_name = record.display_name
            else:
                row.record_name = self.env._(
                    "%s (not visible to you)",
                    self.env["ir.model"]._get(row.res_model).name or row.res_model,
                )

    def action_open_record(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
        }
