from odoo import api, models
from odoo.tools import SQL

from ..lib import prometheus


class FihMetrics(models.AbstractModel):
    """Figures of the exchange log for Prometheus, from a few SQL queries."""

    _name = "fih.metrics"
    _description = "Integration Metrics"

    @api.model
    def _render(self):
        """The metrics in Prometheus' text format (bytes), read at this scrape."""
        self.env["fih.message"].flush_model()
        return prometheus.render(self._metric_families)

    @api.model
    def _metric_families(self):
        cr = self.env.cr
        cr.execute(
            """
            SELECT b.code, m.direction, m.event_type, m.state, count(*)
              FROM fih_message m JOIN fih_backend b ON b.id = m.backend_id
             GROUP BY 1, 2, 3, 4
            """
        )
        yield prometheus.gauge(
            "fih_messages_total",  # a gauge: messages change state, counts go down
            "Messages in the exchange log by backend, direction, type, state.",
            ["backend", "direction", "event_type", "state"],
            cr.fetchall(),
        )
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
        yield prometheus.histogram(
            "fih_message_latency_ms",
            "Time from receipt to the processing or delivery result.",
            ["backend", "direction", "event_type"],
            [(row[:3], row[3:-2], row[-2], row[-1]) for row in cr.fetchall()],
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
        backends = cr.fetchall()
        yield prometheus.gauge(
            "fih_backlog",
            "Messages waiting to be processed.",
            ["backend"],
            [(code, waiting) for code, _breaker, waiting, _dead in backends],
        )
        yield prometheus.gauge(
            "fih_dead_letters",
            "Messages parked as dead letters.",
            ["backend"],
            [(code, dead) for code, _breaker, _waiting, dead in backends],
        )
        yield prometheus.gauge(
            "fih_circuit_open",
            "1 when deliveries are paused.",
            ["backend"],
            [(code, int(breaker == "open")) for code, breaker, *_counts in backends],
        )
