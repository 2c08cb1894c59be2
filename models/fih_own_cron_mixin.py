from odoo import api, fields, models


class FihOwnCronMixin(models.AbstractModel):
    """Records that run on a schedule of their own: one ``ir.cron`` each, kept
    in step with the record, visible and pausable in Odoo's scheduled actions.

    The cron is part of the record, not a system setting: it is written as
    superuser, so Integration Managers without admin rights can schedule.
    """

    _name = "fih.own.cron.mixin"
    _description = "Record with its own scheduled action"
    # fields whose change reschedules the record
    _cron_fields = frozenset({"active"})

    cron_id = fields.Many2one("ir.cron", readonly=True, ondelete="set null", copy=False)

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        records._sync_cron()
        return records

    def write(self, vals):
        result = super().write(vals)
        if self._cron_fields & set(vals):
            self._sync_cron()
        return result

    def unlink(self):
        crons = self.sudo().cron_id
        result = super().unlink()
        crons.unlink()
        return result

    def _cron_schedule(self):
        """``(name, method, interval number, interval type)``, or None when the
        record does not run on its own."""
        raise NotImplementedError

    def _sync_cron(self):
        model = self.env["ir.model"]._get_id(self._name)
        for record in self.sudo():
            schedule = record.active and record._cron_schedule()
            if not schedule:
                if record.cron_id:
                    record.cron_id.active = False
                continue
            name, method, number, interval = schedule
            values = {
                "name": name,
                "model_id": model,
                "state": "code",
                "code": f"model.browse({record.id}).{method}()",
                "interval_number": number,
                "interval_type": interval,
                "active": True,
                "user_id": self.env.ref("base.user_root").id,
            }
            if record.cron_id:
                record.cron_id.write(values)
            else:
                record.cron_id = self.env["ir.cron"].sudo().create(values)
