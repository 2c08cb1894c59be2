from odoo import models
from odoo.exceptions import UserError


class FihCompanyLockedMixin(models.AbstractModel):
    """Integration settings stay in the company they were created in.

    A backend, publication, subscription, pull or binding moved to another
    company would read that company's records and send them to an address
    set up in the first one. Moving is refused, whether by changing the
    company or by attaching the record to a backend of another company;
    the setting is created again in the other company instead.
    """

    _name = "fih.company.locked.mixin"
    _description = "Integration setting bound to its company"

    def write(self, vals):
        self._check_company_kept(vals)
        return super().write(vals)

    def _check_company_kept(self, vals):
        targets = []
        if "company_id" in vals:
            targets.append(
                self.env["res.company"].browse(int(vals["company_id"] or 0)).sudo()
            )
        if "backend_id" in vals and "backend_id" in self._fields:
            backend = self.env["fih.backend"].browse(int(vals["backend_id"] or 0))
            targets.append(backend.sudo().company_id)
        for target in targets:
            for record in self.sudo():
                if record.company_id and record.company_id != target:
                    raise UserError(
                        self.env._(
                            "%(record)s belongs to %(company)s and stays there: "
                            "it cannot be moved to %(other)s. Create it anew in "
                            "%(other)s instead.",
                            record=record.display_name,
                            company=record.company_id.name,
                            other=target.name or self.env._("no company"),
                        )
                    )
