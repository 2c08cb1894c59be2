import json

from odoo import api, fields, models

from ..lib import traffic_chart
from .fih_health import STATUS_RANK


class FihBackendDashboard(models.Model):
    """The integration dashboard's card of a backend: its status (problems
    first), the counts that open the lists behind them, its processing time
    and its traffic over 24 hours and 7 days. Every figure comes from the
    exchange log's counters (fih.message.stat), never from the messages."""

    _inherit = "fih.backend"

    health_status = fields.Selection(
        selection_add=[("idle", "No traffic yet")],
        help="Down: most messages fail, deliveries are paused or the backend is "
        "archived. Degraded: some messages fail or dead letters wait. OK: "
        "messages go through. No traffic yet: nothing was received or sent.",
    )
    latency_p50_ms = fields.Integer(
        string="Processing Time p50 (ms)",
        help="Half of the last 24 hours' processed messages took at most this "
        "long, from the start of their last attempt to its result.",
    )
    latency_p95_ms = fields.Integer(
        string="Processing Time p95 (ms)",
        help="95% of the last 24 hours' processed messages took at most this long.",
    )
    dashboard_to_fix = fields.Integer(
        string="To Fix",
        compute="_compute_dashboard",
        help="Messages that need attention or are dead letters, whenever received.",
    )
    dashboard_waiting = fields.Integer(
        string="Waiting",
        compute="_compute_dashboard",
        help="Messages received or being processed, not finished yet.",
    )
    dashboard_received_24h = fields.Integer(
        string="Received (24 h)",
        compute="_compute_dashboard",
        help="Messages received in the current hour and the 23 before.",
    )
    dashboard_attention_24h = fields.Integer(
        string="Failed (24 h)",
        compute="_compute_dashboard",
        help="Of the messages received in the last 24 hours, those that need "
        "attention or are dead letters now.",
    )
    processing_time = fields.Char(
        compute="_compute_dashboard",
        help="Typical processing time of the last 24 hours (half of the "
        "messages took at most this long), in seconds.",
    )
    processing_time_slow = fields.Char(
        string="Processing Time (slowest 5%)",
        compute="_compute_dashboard",
        help="95% of the last 24 hours' messages took at most this long.",
    )
    deliveries_label = fields.Char(
        string="Deliveries",
        compute="_compute_dashboard",
        help="Whether outgoing deliveries run, are paused after repeated "
        "failures, or are trying again with one message.",
    )
    traffic_chart = fields.Text(
        compute="_compute_dashboard",
        help="Messages received per hour (24 hours) and per day (7 days), "
        "those needing attention apart.",
    )

    dashboard_read_note = fields.Char(
        string="Figures Read From",
        compute="_compute_dashboard",
        help="Set when a read replica is configured but the figures were read "
        "from the primary database, with the reason (the replica is behind "
        "or cannot be reached).",
    )

    def _compute_dashboard(self):
        # read-only figures go to the replica when one is current (the
        # counters, never the messages), else to the primary, saying why
        with self.env["fih.read.replica"]._reading() as (read_env, source):
            Health = read_env["fih.health"]
            figures = Health._figures(self.ids)
            windows = Health._dashboard(self.ids)
        empty = Health._empty()
        note = source.reason if source.fell_back else False
        deliveries = {
            "open": self.env._("Deliveries paused"),
            "half_open": self.env._("Deliveries resuming"),
        }
        for backend in self:
            data = figures.get(backend.id, empty)
            window = windows[backend.id] if backend.id else {}
            backend.dashboard_to_fix = data["needing_attention"] + data["dead_letters"]
            backend.dashboard_waiting = data["backlog"]
            backend.dashboard_received_24h = window.get("received_24h", 0)
            backend.dashboard_attention_24h = window.get("attention_24h", 0)
            backend.processing_time = traffic_chart.seconds(data["processing_p50_ms"])
            backend.processing_time_slow = traffic_chart.seconds(
                data["processing_p95_ms"]
            )
            backend.deliveries_label = deliveries.get(backend.breaker_status, False)
            backend.traffic_chart = json.dumps(window.get("charts"))
            backend.dashboard_read_note = note

    def _health_sorted(self):
        """The backends problems first: down, degraded, OK, no traffic yet;
        within a status, the most messages to fix first, then by name."""
        return self.sorted(
            lambda b: (
                STATUS_RANK.get(b.health_status, len(STATUS_RANK)),
                -b.dashboard_to_fix,
                (b.name or "").lower(),
                b.id,
            )
        )

    @api.model
    @api.readonly
    def web_search_read(
        self, domain, specification, offset=0, limit=None, order=None, count_limit=None
    ):
        """The dashboard asks for its cards problems first (a computed order,
        so sorted here: a company has a few backends, not thousands)."""
        if not self.env.context.get("fih_health_first"):
            return super().web_search_read(
                domain,
                specification,
                offset=offset,
                limit=limit,
                order=order,
                count_limit=count_limit,
            )
        ranked = self.search(domain)._health_sorted()
        page = ranked[offset : offset + limit] if limit else ranked[offset:]
        return {"length": len(ranked), "records": page.web_read(specification)}
