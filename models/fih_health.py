from collections import Counter, defaultdict
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from odoo import api, fields, models

from ..lib import prometheus, traffic_chart

# a backend is degraded above this failure rate, down above the second one
DEGRADED_FAILURE_RATE = 0.05
DOWN_FAILURE_RATE = 0.5
# the dashboard's order: problems first, backends without traffic last
STATUS_RANK = {"down": 0, "degraded": 1, "ok": 2, "idle": 3}


class FihHealth(models.AbstractModel):
    """Integration health figures, from the exchange log's counters."""

    _name = "fih.health"
    _description = "Integration Health"

    @api.model
    def _figures(self, backend_ids, hours=24):
        """Per backend: counts, rates, latency percentiles, backlog.

        Everything comes from the log's counters (fih.message.stat), never
        from the messages, so the cost does not grow with the history: the
        backlog, dead letters and messages needing attention are exact; the
        windows count the messages received in the last hours to the hour
        (the current hour in full, ``hours`` up to 24), by their state now;
        the processing-time percentiles (start of the last attempt to its
        result, not the age since receipt) are estimated within fine buckets
        (10 ms wide at the bottom, a tenth to a fifth of the value above).
        """
        if not backend_ids:
            return {}
        figures = {}
        for row in self.env["fih.message.stat"]._sums(backend_ids):
            backend_id, state, now_in, last_done = row[0], row[3], row[5], row[8]
            data = figures.get(backend_id) or figures.setdefault(
                backend_id, self._empty()
            )
            data["exchanged"] = data["exchanged"] or bool(row[6])
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
        recent = defaultdict(lambda: {"hour": 0, "window": Counter(), "latency": {}})
        for row in self.env["fih.message.stat"]._recent(backend_ids, hours):
            backend_id, state, bucket, last_hour, in_window = row
            counts = recent[backend_id]
            counts["hour"] += last_hour or 0
            counts["window"][state] += in_window
            if state == "done" and bucket is not None:
                counts["latency"][bucket] = counts["latency"].get(bucket, 0) + in_window
        for backend_id, counts in recent.items():
            data = figures.get(backend_id) or figures.setdefault(
                backend_id, self._empty()
            )
            window = counts["window"]
            succeeded = window["done"] + window["skipped"]
            failed = window["failed"] + window["dead"]
            finished = succeeded + failed
            data.update(
                messages_last_hour=counts["hour"],
                messages_24h=sum(window.values()),
                success_rate=round(100.0 * succeeded / finished, 1)
                if finished
                else 100.0,
                failure_rate=failed / finished if finished else 0.0,
                processing_p50_ms=_quantile(counts["latency"], 0.5),
                processing_p95_ms=_quantile(counts["latency"], 0.95),
            )
            # the backend's fields keep their name: they show processing time
            data["latency_p50_ms"] = data["processing_p50_ms"]
            data["latency_p95_ms"] = data["processing_p95_ms"]
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
            "processing_p50_ms": None,
            "processing_p95_ms": None,
            "last_success_at": False,
            "exchanged": False,
        }

    @api.model
    def _status(self, backend, figures):
        """(ok | degraded | down | idle, reason in words)."""
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
        if figures["needing_attention"] == 1:
            return "degraded", self.env._("1 message needs attention.")
        if figures["needing_attention"]:
            return "degraded", self.env._(
                "%s messages need attention.", figures["needing_attention"]
            )
        if backend.breaker_status == "half_open":
            return "degraded", self.env._(
                "Deliveries resume: one message is tried first."
            )
        if not figures["exchanged"]:
            return "idle", self.env._("No message was received or sent yet.")
        if not figures["messages_24h"]:
            return "ok", self.env._("No message in the last 24 hours.")
        return "ok", self.env._("Messages go through.")

    # -- the dashboard -----------------------------------------------------

    @api.model
    def _dashboard(self, backend_ids, now=None):
        """Per backend: the charts' data (``lib.traffic_chart.series``) and
        the counts of the 24-hour and 7-day windows, from the hourly
        counters only, in the user's time zone."""
        now = now or fields.Datetime.now()
        tz_name = self._tz_name()
        _day_start, week_start = traffic_chart.windows(now, tz_name)
        rows = defaultdict(list)
        for backend_id, hour, state, count in self.env["fih.message.stat"]._hourly(
            backend_ids, week_start
        ):
            rows[backend_id].append((hour, state, count))
        result = {}
        for backend_id in backend_ids:
            charts = traffic_chart.series(rows[backend_id], now, tz_name)
            day = charts["24h"]
            result[backend_id] = {
                "charts": charts,
                "received_24h": sum(day["ok"]) + sum(day["attention"]),
                "attention_24h": sum(day["attention"]),
            }
        return result

    @api.model
    def _tz_name(self):
        name = self.env.context.get("tz") or self.env.user.tz or "UTC"
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            return "UTC"
        return name


def _quantile(per_bucket, fraction):
    value = prometheus.quantile(per_bucket, fraction)
    return None if value is None else int(value)
