from odoo import api, fields, models


class FihMessageLink(models.Model):
    _name = "fih.message.link"
    _description = "Record Touched by an Integration Message"
    _order = "id"

    message_id = fields.Many2one(
        "fih.message", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="message_id.company_id", store=True)
    res_model = fields.Char(string="Model", required=True, index=True)
    res_id = fields.Many2oneReference(
        string="Record ID", model_field="res_model", required=True, index=True
    )
    operation = fields.Selection(
        [("created", "Created"), ("updated", "Updated"), ("linked", "Linked")],
        required=True,
    )
    record_name = fields.Char(compute="_compute_record_name")

    @api.depends("res_model", "res_id")
    def _compute_record_name(self):
        for link in self:
            record = self.env[link.res_model].browse(link.res_id).exists()
            link.record_name = record.display_name if record else False

    def action_open_record(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
        }
