from odoo import fields, models


class FihMessageLink(models.Model):
    _name = "fih.message.link"
    _inherit = ["fih.record.reference.mixin"]
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
        [
            ("created", "Created"),
            ("updated", "Updated"),
            ("linked", "Linked"),
            ("cancelled", "Cancelled"),
            ("received", "Received"),
            ("held", "Held for review"),
            ("posted", "Posted"),
            ("paid", "Paid"),
        ],
        required=True,
    )
