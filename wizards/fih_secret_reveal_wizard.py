from odoo import api, fields, models
from odoo.exceptions import UserError


class FihSecretRevealWizard(models.TransientModel):
    """Shows a newly generated signing secret once, with a copy button.

    The dialog is never saved: the secret travels in the action's defaults
    to the browser that asked for it and is not written to the database.
    """

    _name = "fih.secret.reveal.wizard"
    _description = "New Signing Secret"

    backend_id = fields.Many2one("fih.backend", readonly=True)
    secret = fields.Char(string="New signing secret", readonly=True)
    first_secret = fields.Boolean(readonly=True)
    grace_hours = fields.Integer(readonly=True)
    previous_valid_until = fields.Datetime(
        string="Previous secret accepted until", readonly=True
    )
    webhook_url = fields.Char(related="backend_id.webhook_url")
    instructions = fields.Text(compute="_compute_instructions")

    @api.depends("backend_id", "first_secret", "grace_hours")
    def _compute_instructions(self):
        for wizard in self:
            system = wizard.backend_id.name or ""
            if wizard.first_secret:
                wizard.instructions = self.env._(
                    "This is the first signing secret of %(system)s. Copy it now "
                    "into %(system)s's webhook settings: it is shown only once. "
                    "Webhooks are accepted once they are signed with it.",
                    system=system,
                )
            else:
                wizard.instructions = self.env._(
                    "This secret replaces the previous one. Copy it now into "
                    "%(system)s's webhook settings: it is shown only once. The "
                    "previous secret is still accepted for %(hours)s hours, so "
                    "%(system)s can switch without losing webhooks; revoke it "
                    "sooner with 'Revoke Previous Secret'.",
                    system=system,
                    hours=wizard.grace_hours,
                )

    @api.model_create_multi
    def create(self, vals_list):  # pylint: disable=method-required-super
        """Nothing to save: the secret must not be written anywhere."""
        raise UserError(
            self.env._("Close the dialog once the secret is copied; it is not saved.")
        )
