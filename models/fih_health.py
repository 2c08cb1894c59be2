from datetime import timedelta

from odoo import api, fields, models

# a backend is degraded above this failure rate, down above the second one
DEGRADED_FAILURE_RATE = 0.05
DOWN_FAILURE_RATE = 0.5


class FihHealth(models.AbstractModel):
    """Integration health figures, computed from the exchange log in SQL."""

    _name = "fih.health"
    _description = "Integration Health"

    @api.model
    def _figures(self, backend_ids, hours=24):
        """Per backend: counts, rates, latency percentiles, backlog."""
        if not backend_ids:
            return {}
        self.env["fih.message"].flush_model()
        since = fields.Datetime.now() - timedelta(hours=hours)
        hour_ago = fields.Datetime.now() - timedelta(hours=1)
        self.env.cr.execute(
            """
            SELECT backend_id,
                   count(*) FILTER (WHERE received_at >= %(hour)s),
                   count(*) FILTER (WHERE received_at >= %(since)s),
                   count(*) FILTER (WHERE received_at >= %(since)s
                                     AND state IN ('done', 'skipped')),
                   count(*) FILTER (WHERE received_at >= %(since)s
                                     AND state IN ('failed', 'dead')),
                   count(*) FILTER (WHERE state IN ('received', 'processing')),
                   count(*) FILTER (WHERE state = 'dead'),
                   count(*) FILTER (WHERE state = 'failed'),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms)
                       FILTER (WHERE received_at >= %(since)s AND state = 'done'),
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms)
                       FILTER (WHERE received_at >= %(since)s AND state = 'done'),
                   max(done_at) FILTER (WHERE state = 'done')
              FROM fih_message
             WHERE backend_id IN %(backends)s
             GROUP BY backend_id
            """,
            {"hour": hour_ago, "since": since, "backends": tuple(backend_ids)},
        )
        figures = {}
        for row in self.env.cr.fetchall():
            (
                backend_id,
                last_hour,
                total,
                succeeded,
                failed,
                backlog,
                dead,
                attention,
                p50,
                p95,
                last_done,
            ) = row
            finished = succeeded + failed
            figures[backend_id] = {
                "messages_last_hour": last_hour,
                "messages_24h": total,
                "success_rate": round(100.0 * succeeded / finished, 1)
                if finished
                else 100.0,
                "failure_rate": failed / finished if finished else 0.0,
                "backlog": backlog,
                "dead_letters": dead,
                "needing_attention": attention,
                "latency_p50_ms": int(p50 or 0),
                "latency_p95_ms": int(p95 or 0),
                "last_success_at": last_done,
            }
        return figures

    @api.model
    def _status(self, backend, figures):
        """(ok | degraded | down, reason in words)."""
        if not backend.active:
            return "down", self.env._("The backend is archived.")
        if backend.breaker_status == "open":
            return "down", self.env._("Deliveries are paused after repeated failures.")
        if figures["failure_rate"] >= DOWN_FAILURE_RATE:
            return "down", self.env._(
                "%s%% of the messages of the last 24 hours failed.",
                round(100 * figures["failure_rate"]),
            )
        if figures["dead_letters"]:
            return "degraded", self.env._(
                "%s dead letters wait for a decision.", figures["dead_letters"]
            )
        if figures["failure_rate"] >= DEGRADED_FAILURE_RATE:
            return "degraded", self.env._(
                "%s%% of the messages of the last 24 hours failed.",
                round(100 * figures["failure_rate"]),
            )
        if backend.breaker_status == "half_open":
            return "degraded", self.env._(
                "Deliveries resume: a probe message is being sent."
            )
        return "ok", self.env._("All good.")
