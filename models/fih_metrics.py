from collections import defaultdict
from typing import NamedTuple

from odoo import api, models

from ..lib import prometheus

OPEN_STATES = ("received", "processing")


class Backend(NamedTuple):
    code: str
    active: bool
    breaker_status: str


class FihMetrics(models.AbstractModel):
    """Figures of the exchange log for Prometheus, from its counters.

    A scrape reads the counter rows (one per backend, direction, event type
    and state, plus the rows written since the last compaction), never the
    messages: its cost does not grow with the history.
    """

    _name = "fih.metrics"
    _description = "Integration Metrics"

    @api.model
    def _render(self):
        """The metrics in Prometheus' text format (bytes), read at this scrape."""
        return prometheus.render(self._metric_families)

    @api.model
    def _metric_families(self):
        self.env["fih.backend"].flush_model(["code", "active", "breaker_status"])
        self.env.cr.execute("SELECT id, code, active, breaker_status FROM fih_backend")
        backends = {row[0]: Backend(*row[1:]) for row in self.env.cr.fetchall()}
        current = defaultdict(int)
        entered = defaultdict(int)
        latency = defaultdict(lambda: [{}, 0.0])  # per bucket, sum
        per_backend = defaultdict(lambda: defaultdict(int))
        for row in self.env["fih.message.stat"]._sums():
            backend_id, direction, event_type, state, bucket = row[:5]
            now_in, ever, latency_sum, _last_done = row[5:]
            backend = backends.get(backend_id)
            if not backend:
                continue
            key = (backend.code, direction, event_type, state)
            current[key] += now_in
            entered[key] += ever
            per_backend[backend_id][state] += now_in
            if state == "done" and bucket is not None:
                histogram = latency[key[:3]]
                histogram[0][bucket] = histogram[0].get(bucket, 0) + ever
                histogram[1] += latency_sum
        yield prometheus.gauge(
            "fih_messages_total",  # a gauge: messages change state, counts go down
            "Messages in the exchange log now, by backend, direction, type, state.",
            ["backend", "direction", "event_type", "state"],
            [(*key, value) for key, value in sorted(current.items())],
        )
        yield prometheus.counter(
            "fih_message_state_changes",
            "Times a message entered a state (received includes retries), ever: "
            "archived messages still count.",
            ["backend", "direction", "event_type", "state"],
            [(*key, value) for key, value in sorted(entered.items())],
        )
        samples = []
        for labels, (per_bucket, total_sum) in sorted(latency.items()):
            counts, total = prometheus.cumulative_buckets(per_bucket)
            samples.append((labels, counts, total_sum, total))
        yield prometheus.histogram(
            "fih_message_latency_ms",
            "Time from receipt to the processing or delivery result, of every "
            "message processed (archived ones included).",
            ["backend", "direction", "event_type"],
            samples,
        )
        active = sorted(
            (
                (backend_id, backend)
                for backend_id, backend in backends.items()
                if backend.active
            ),
            key=lambda item: item[1].code,
        )
        yield prometheus.gauge(
            "fih_backlog",
            "Messages waiting to be processed.",
            ["backend"],
            [
                (b.code, sum(per_backend[backend_id][state] for state in OPEN_STATES))
                for backend_id, b in active
            ],
        )
        yield prometheus.gauge(
            "fih_dead_letters",
            "Messages parked as dead letters.",
            ["backend"],
            [(b.code, per_backend[backend_id]["dead"]) for backend_id, b in active],
        )
        yield prometheus.gauge(
            "fih_circuit_open",
            "1 when deliveries are paused.",
            ["backend"],
            [(b.code, int(b.breaker_status == "open")) for _id, b in active],
        )
