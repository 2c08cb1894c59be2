import hmac
import os

from prometheus_client import CONTENT_TYPE_LATEST

from odoo import http
from odoo.http import request
from odoo.tools import config

from ..lib import prometheus


class FinanceHubMetricsController(http.Controller):
    @http.route(
        "/finance_hub/metrics",
        type="http",
        auth="none",
        methods=["GET"],
        csrf=False,
        save_session=False,
        # the request's own cursor stays on the primary: fih.read.replica
        # decides whether the figures are read on the replica
        readonly=False,
    )
    def metrics(self):
        """Prometheus metrics; off unless a token is configured (fih_metrics_token)."""
        token = config.get("fih_metrics_token") or os.environ.get("FIH_METRICS_TOKEN")
        if not token:
            return request.make_response("not enabled", status=404)
        given = request.httprequest.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return request.make_response(
                "unauthorized", status=401, headers=[("WWW-Authenticate", "Bearer")]
            )
        # metrics cover every company: the token holder is the monitoring system
        with request.env["fih.read.replica"].sudo()._reading() as (env, source):
            body = env["fih.metrics"]._render()
        body += prometheus.render(lambda: _read_source_families(source))
        return request.make_response(
            body,
            headers=[
                ("Content-Type", CONTENT_TYPE_LATEST),
                ("X-FIH-Read-From", source.server),
            ],
        )


def _read_source_families(source):
    yield prometheus.gauge(
        "fih_metrics_read_from_replica",
        "1 when this scrape was read on the database replica, 0 on the primary "
        "(no replica, replica unreachable or too far behind).",
        [],
        [(int(source.server == "replica"),)],
    )
    if source.lag_seconds is not None:
        yield prometheus.gauge(
            "fih_replica_lag_seconds",
            "How far the database replica was behind the primary at this scrape.",
            [],
            [(source.lag_seconds,)],
        )
