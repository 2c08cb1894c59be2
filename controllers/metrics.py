import hmac
import os

from prometheus_client import CONTENT_TYPE_LATEST

from odoo import http
from odoo.http import request
from odoo.tools import config


class FinanceHubMetricsController(http.Controller):
    @http.route(
        "/finance_hub/metrics",
        type="http",
        auth="none",
        methods=["GET"],
        csrf=False,
        save_session=False,
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
        body = request.env["fih.metrics"].sudo()._render()
        return request.make_response(
            body, headers=[("Content-Type", CONTENT_TYPE_LATEST)]
        )
