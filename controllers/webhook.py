import json

from odoo import http
from odoo.http import request

from .request_body import body_reader, client_address

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


def _signed_intake(intake, backend_code):
    """Hand a signed request to the ``intake`` model's ``_receive`` and answer
    its JSON result."""
    httprequest = request.httprequest
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
