import calendar
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError


class FihBiPeriodWizard(models.TransientModel):
    _name = "fih.bi.period.wizard"
    _description = "Publish one accounting period"

    publication_id = fields.Many2one("fih.bi.publication", required=True)
    month = fields.Date(
        required=True,
        default=lambda self: fields.Date.context_today(self).replace(day=1)
        - timedelta(days=1),
        help="Any day of the month to publish.",
    )
    period_start = fields.Date(compute="_compute_period")
    period_end = fields.Date(compute="_compute_period")
    locked = fields.Boolean(
        compute="_compute_period",
        help="A locked period is immutable: publishing it again sends the same "
        "bytes, and a change is refused instead of sent.",
    )

    def _period_bounds(self):
        day = fields.Date.to_date(self.month) or fields.Date.context_today(self)
        start = day.replace(day=1)
        return start, day.replace(day=calendar.monthrange(day.year, day.month)[1])

    @api.depends("month", "publication_id")
    def _compute_period(self):
        for wizard in self:
            wizard.period_start, wizard.period_end = wizard._period_bounds()
            wizard.locked = bool(
                wizard.publication_id
                and wizard.publication_id._is_locked(wizard.period_end)
            )

    def action_publish(self):
        self.ensure_one()
        if not self.publication_id._dataset().incremental:
            raise UserError(
                self.env._("A snapshot dataset cannot be published per period.")
            )
        load = self.publication_id._start_load(
            "period", period=(self.period_start, self.period_end)
        )
        if not load:
            raise UserError(
                self.env._(
                    "A load of %s is already in progress; publish the period when "
                    "it has finished.",
                    self.publication_id.name,
                )
            )
        return {"type": "ir.actions.act_window_close"}
