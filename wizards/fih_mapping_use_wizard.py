from odoo import fields, models
from odoo.exceptions import UserError


class FihMappingUseWizard(models.TransientModel):
    """Choose the backend a shipped template is copied to, as a draft."""

    _name = "fih.mapping.use.wizard"
    _description = "Use a Mapping Template for a Backend"

    template_id = fields.Many2one(
        "fih.mapping",
        required=True,
        readonly=True,
        domain=[("backend_id", "=", False)],
        ondelete="cascade",
    )
    backend_id = fields.Many2one(
        "fih.backend",
        required=True,
        ondelete="cascade",
        help="The backend that will use the mapping. The copy starts as a "
        "draft: try it, submit it, and another Integration Manager approves it.",
    )

    def action_use(self):
        self.ensure_one()
        if self.template_id.backend_id:
            raise UserError(
                self.env._("Only a shipped template is copied to a backend.")
            )
        return self.template_id._copy_to_backend(self.backend_id)
