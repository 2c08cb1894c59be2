import json
import logging
from contextlib import contextmanager

import psycopg2
from werkzeug.exceptions import ServiceUnavailable

from odoo import http
from odoo.http import request
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

from .request_body import body_reader, client_address

_logger = logging.getLogger(__name__)

# seconds a sender waits before sending again when the database is away
DATABASE_RETRY_AFTER = 30

# the routes of other systems: authenticated by signature or shared secret,
# not by an Odoo session
INBOUND = {
    "type": "http",
    "auth": "none",
    "methods": ["POST"],
    "csrf": False,
    "save_session": False,
    "readonly": False,
}


@contextmanager
def _database_unavailable_is_503():
    """The database went away during the request (a restart, a failover):
    answer 503 with Retry-After, never a 500. Raised as an HTTP exception,
    so the request's transaction is rolled back; the sender sends again and
    the event ids drop a copy of anything stored before. Concurrency
    conflicts are left to Odoo, which retries the request itself."""
    try:
        yield
    except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
        raise
    except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
        _logger.warning("Intake answered 503, the database is unavailable: %s", exc)
        body = {
            "error": "database_unavailable",
            "message": "The hub cannot store the request right now; send it "
            "again after the Retry-After delay.",
        }
        raise ServiceUnavailable(
            response=request.make_response(
                json.dumps(body),
                headers=[
                    ("Content-Type", "application/json"),
                    ("Retry-After", str(DATABASE_RETRY_AFTER)),
                ],
                status=503,
            )
        ) from exc


def _signed_intake(intake, backend_code):
    """Hand a signed request to the ``intake`` model's ``_receive`` and answer
    its JSON result."""
    httprequest = request.httprequest
    with _database_unavailable_is_503():
        result = intake._receive(
            backend_code,
            {key.lower(): value for key, value in httprequest.headers.items()},
            # only called once Content-Length is known to be within the limit
            body_reader(httprequest),
            httprequest.headers.get("Content-Type"),
            httprequest.content_length,
            client_address(httprequest),
        )
    return request.make_response(
        json.dumps(result.payload),
        headers=[("Content-Type", "application/json"), *result.headers.items()],
        status=result.status,
    )


class FinanceHubWebhookController(http.Controller):
    @http.route("/finance_hub/webhook/<string:backend_code>", **INBOUND)
    def receive_webhook(self, backend_code, **_query):
        return _signed_intake(request.env["fih.webhook.intake"], backend_code)

    @http.route("/finance_hub/bi/ack/<string:backend_code>", **INBOUND)
    def receive_bi_acknowledgement(self, backend_code, **_query):
        """A reporting platform's signed acknowledgement of a load."""
        return _signed_intake(
            request.env["fih.bi.acknowledgement.intake"], backend_code
        )

    @http.route("/finance_hub/ubl/<string:backend_code>", **INBOUND)
    def receive_ubl(self, backend_code, **_query):
        """A UBL / Peppol BIS Invoice or CreditNote, signed like a webhook."""
        return _signed_intake(request.env["fih.ubl.intake"], backend_code)

    @http.route("/finance_hub/cxml/<string:backend_code>", **INBOUND)
    def receive_cxml(self, backend_code, **_query):
        """cXML OrderRequest, InvoiceDetailRequest, ShipNoticeRequest..."""
        httprequest = request.httprequest
        with _database_unavailable_is_503():
            result = request.env["fih.cxml.intake"]._receive(
                backend_code,
                body_reader(httprequest),
                httprequest.content_length,
                client_address(httprequest),
            )
        return request.make_response(
            result.body,
            headers=[
                ("Content-Type", "text/xml; charset=utf-8"),
                *result.headers.items(),
            ],
            status=result.http_status,
        )
