from datetime import timedelta

from odoo import api, fields, models

from .fih_bi_publication import SCHEDULE_PERIODS


class FihBiPublicationAttention(models.Model):
    """Why a publication needs attention, in the words of its owner: the
    last load failed or stopped, its totals did not reconcile, or its data
    is older than its schedule allows."""

    _inherit = "fih.bi.publication"

    attention_reason = fields.Char(
        string="Needs attention because",
        compute="_compute_last_load",
        help="What to look at first; empty when the publication is fine.",
    )

    @api.depends("schedule", "sla_minutes", "active")
    def _compute_last_load(self):
        result = super()._compute_last_load()
        now = fields.Datetime.now()
        for publication in self:
            reason = publication._attention_reason(now)
            publication.attention_reason = reason or False
            if reason and publication.status in ("ok", "never"):
                publication.status = "attention"
        return result

    def _attention_reason(self, now):
        latest = self.load_ids[:1]
        if latest.state == "refused":
            return self.env._(
                "The last load stopped: %s",
                _first_line(latest.error_message) or self.env._("no reason recorded"),
            )
        if latest.state == "failed":
            return self.env._(
                "The last load was interrupted and will resume: %s",
                _first_line(latest.error_message) or self.env._("no reason recorded"),
            )
        if latest.state == "mismatch":
            return self.env._(
                "The destination's totals do not match the ledger's: %s",
                _first_line(latest.differences) or self.env._("see the load"),
            )
        sla = timedelta(minutes=self.sla_minutes or 60)
        if (
            latest.state == "awaiting_ack"
            and latest.finished_at
            and latest.finished_at < now - sla
        ):
            return self.env._(
                "The reporting platform has not confirmed the totals of the "
                "last load since %s.",
                latest.finished_at,
            )
        period = SCHEDULE_PERIODS.get(self.schedule)
        if period and self.active:
            last = self.last_success_at
            created = self.create_date or now
            if (last or created) < now - period - sla:
                return self.env._(
                    "The published data is stale: no successful load since %s.",
                    last or self.env._("the publication was created"),
                )
        return ""


def _first_line(text):
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""
