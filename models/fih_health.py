from datetime import timedelta

from odoo import api, fields, models

# a backend is degraded above this failure rate, down above the second one
DEGRADED_FAILURE_RATE = 0.05
DOWN_FAILURE_RATE = 0.5


class FihHealth(models.AbstractModel):
    """Integration health figures: the log's counters and its recent messages."""

    _name = "fih.health"
    _description = "Integration Health"

    @api.model
    def _figures(self, backend_ids, hours=24):
        """Per backend: counts, rates, latency percentiles, backlog.

        The backlog, dead letters, messages needing attention and the last
        success come from the log's counters (fih.message.stat); the rates
        and percentiles from the messages received in the window, read on
        the index by receipt time. The cost follows the recent volume, not
        the size of the history.
        """
        if not backend_ids:
            return {}
        figures = {}
        for row in self.env["fih.message.stat"]._sums(backend_ids):
            backend_id, state, now_in, last_done = row[0], row[3], row[5], row[8]
            data = figures.setdefault(backend_id, self._empty())
            if state in ("received", "processing"):
                data["backlog"] += now_in
            elif state == "dead":
                data["dead_letters"] += now_in
            elif state == "failed":
                data["needing_attention"] += now_in
            if last_done and (
                not data["last_success_at"] or last_done > data["last_success_at"]
            ):
                data["last_success_at"] = last_done
        now = fields.Datetime.now()
        self.env.cr.execute(
            """
            SELECT backend_id,
                   count(*) FILTER (WHERE received_at >= %(hour)s),
                   count(*),
                   count(*) FILTER (WHERE state IN ('done', 'skipped')),
                   count(*) FILTER (WHERE state IN ('failed', 'dead')),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms)
                       FILTER (WHERE state = 'done'),
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms)
                       FILTER (WHERE state = 'done')
              FROM fih_message
             WHERE received_at >= %(since)s AND backend_id IN %(backends)s
             GROUP BY backend_id
            """,
            {
                "hour": now - timedelta(hours=1),
                "since": now - timedelta(hours=hours),
                "backends": tuple(backend_ids),
            },
        )
        for row in self.env.cr.fetchall():
            backend_id, last_hour, total, succeeded, failed, p50, p95 = row
            data = figures.setdefault(backend_id, self._empty())
            finished = succeeded + failed
            data.update(
                messages_last_hour=last_hour,
                messages_24h=total,
                success_rate=round(100.0 * succeeded / finished, 1)
                if finished
                else 100.0,
                failure_rate=failed / finished if finished else 0.0,
                latency_p50_ms=int(p50 or 0),
                latency_p95_ms=int(p95 or 0),
            )
        return figures

    @api.model
    def _empty(self):
        return {
            "messages_last_hour": 0,
            "messages_24h": 0,
            "success_rate": 100.0,
            "failure_rate": 0.0,
            "backlog": 0,
            "dead_letters": 0,
            "needing_attention": 0,
            "latency_p50_ms": 0,
            "latency_p95_ms": 0,
            "last_success_at": False,
        }

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
