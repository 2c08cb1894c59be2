import time

from odoo import api, fields, models


def _now():
    return time.time()


class FihRateCounter(models.Model):
    """Requests per backend and minute, shared by every Odoo worker."""

    _name = "fih.rate.counter"
    _description = "Integration Rate Counter"

    backend_id = fields.Many2one("fih.backend", required=True, ondelete="cascade")
    direction = fields.Selection(
        [("inbound", "Inbound"), ("outbound", "Outbound")],
        required=True,
        default="inbound",
    )
    window_start = fields.Integer(required=True, help="Epoch minute of the window.")
    hits = fields.Integer(required=True, default=0)

    _sql_constraints = [
        (
            "window_uniq",
            "unique(backend_id, direction, window_start)",
            "One row per window.",
        ),
    ]

    @api.model
    def _hit(self, backend_id, limit_per_minute, direction="inbound"):
        """Count one request; return seconds to wait when over the limit, else 0."""
        if not limit_per_minute:
            return 0
        now = _now()
        window = int(now // 60)
        self.env.cr.execute(
            """
            INSERT INTO fih_rate_counter (backend_id, direction, window_start, hits)
            VALUES (%s, %s, %s, 1)
            ON CONFLICT (backend_id, direction, window_start)
            DO UPDATE SET hits = fih_rate_counter.hits + 1
            RETURNING hits
            """,
            (backend_id, direction, window),
        )
        hits = self.env.cr.fetchone()[0]
        if hits <= limit_per_minute:
            return 0
        return max(1, int((window + 1) * 60 - now + 0.999))

    @api.autovacuum
    def _gc_windows(self):
        self.env.cr.execute(
            "DELETE FROM fih_rate_counter WHERE window_start < %s",
            (int(_now() // 60) - 60,),
        )
