from odoo import api, models
from odoo.tools import SQL

from ..lib import prometheus


class FihMetrics(models.AbstractModel):
    """Figures of the exchange log for Prometheus, from a few SQL queries."""

    _name = "fih.metrics"
    _description = "Integration Metrics"

    @api.model
    def _render(self):
        self.env["fih.message"].flush_model()
        cr = self.env.cr
        cr.execute(
            """
            SELECT b.code, m.direction, m.event_type, m.state, count(*)
              FROM fih_message m JOIN fih_backend b ON b.id = m.backend_id
             GROUP BY 1, 2, 3, 4
            """
        )
        totals = [
            (
                {
                    "backend": code,
                    "direction": direction,
                    "event_type": event,
                    "state": state,
                },
                count,
            )
            for code, direction, event, state, count in cr.fetchall()
        ]
        buckets = SQL(", ").join(
            SQL("count(*) FILTER (WHERE m.latency_ms <= %s)", bound)
            for bound in prometheus.LATENCY_BUCKETS_MS
        )
        cr.execute(
            SQL(
                """
                SELECT b.code, m.direction, m.event_type, %s,
                       coalesce(sum(m.latency_ms), 0), count(*)
                  FROM fih_message m JOIN fih_backend b ON b.id = m.backend_id
                 WHERE m.state = 'done' AND m.latency_ms IS NOT NULL
                 GROUP BY 1, 2, 3
                """,
                buckets,
            )
        )
        latency = []
        for row in cr.fetchall():
            code, direction, event = row[:3]
            counts = dict(zip(prometheus.LATENCY_BUCKETS_MS, row[3:-2], strict=True))
            latency.extend(
                prometheus.histogram_samples(
                    "fih_message_latency_ms",
                    {"backend": code, "direction": direction, "event_type": event},
                    counts,
                    row[-2],
                    row[-1],
                )
            )
        cr.execute(
            """
            SELECT b.code, b.breaker_status,
                   count(m.id) FILTER (WHERE m.state IN ('received', 'processing')),
                   count(m.id) FILTER (WHERE m.state = 'dead')
              FROM fih_backend b LEFT JOIN fih_message m ON m.backend_id = b.id
             WHERE b.active
             GROUP BY 1, 2
            """
        )
        backlog, circuit, dead = [], [], []
        for code, breaker, waiting, dead_count in cr.fetchall():
            backlog.append(({"backend": code}, waiting))
            circuit.append(({"backend": code}, 1 if breaker == "open" else 0))
            dead.append(({"backend": code}, dead_count))
        return prometheus.render(
            [
                (
                    "fih_messages_total",
                    "gauge",  # messages change state: the counts go down too
                    "Messages in the exchange log by backend, direction, type, state.",
                    totals,
                ),
                (
                    "fih_message_latency_ms",
                    "histogram",
                    "Time from receipt to the processing or delivery result.",
                    latency,
                ),
                ("fih_backlog", "gauge", "Messages waiting to be processed.", backlog),
                ("fih_dead_letters", "gauge", "Messages parked as dead letters.", dead),
                ("fih_circuit_open", "gauge", "1 when deliveries are paused.", circuit),
            ]
        )
