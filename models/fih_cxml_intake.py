import hmac
import logging
import uuid
from typing import NamedTuple

import psycopg2

from odoo import api, models
from odoo.exceptions import UserError

from ..lib import cxml
from ..lib.log_safe import for_log
from ..tools import database_environment
from .fih_intake import DEFAULT_MAX_BODY_KB, LOCAL_ADDRESS, IntakeResult

_logger = logging.getLogger(__name__)

# cXML answers carry their status in the document; HTTP says the same
HTTP_STATUS = {
    200: 200,
    201: 200,
    400: 400,
    401: 401,
    406: 406,
    408: 408,
    409: 409,
    429: 429,
    500: 500,
}
# one answer for an unknown or archived backend and a wrong SharedSecret
UNAUTHENTICATED = "The Sender credential's SharedSecret is wrong."


class CxmlResult(NamedTuple):
    status: int  # the cXML status code
    body: bytes
    headers: dict = {}

    @property
    def http_status(self):
        return HTTP_STATUS[self.status]


class FihCxmlIntake(models.AbstractModel):
    """``POST /finance_hub/cxml/<backend>``: check the shared secret, store the
    business document once per payloadID, and answer a cXML ``Response``.

    The document is converted to the canonical model here, so that the
    sender learns at once (406) that it cannot be read; it is applied later by
    the same flows as webhook events. The stored copy of the XML has its
    SharedSecret redacted.
    """

    _name = "fih.cxml.intake"
    _inherit = ["fih.intake"]
    _description = "cXML Intake"

    @api.model
    def _receive(
        self, backend_code, read_body, content_length, client_address=LOCAL_ADDRESS
    ):
        """``read_body()`` is only called once the size is known to be fine,
        and raises :class:`~lib.bounded_read.BodyTimeout` when the body does
        not arrive in time."""
        try:
            return self._receive_checked(
                backend_code, read_body, content_length, client_address
            )
        except (psycopg2.OperationalError, psycopg2.errors.SerializationFailure):
            _logger.warning(
                "cXML for %s not stored: database busy", for_log(backend_code)
            )
            return self._answer(500, "The hub is busy; send the document again later.")
        except Exception:
            # the sender always gets a cXML answer, never an HTML error page
            _logger.exception("cXML for %s not stored", for_log(backend_code))
            return self._answer(
                500, "The hub could not store the document; send it again later."
            )

    def _receive_checked(self, backend_code, read_body, content_length, address):
        config = self._backend_config(backend_code)
        backend_id = config.id if config else None
        wait, trust = (
            self.env["fih.rate.counter"].sudo()._auth_state(backend_id, address)
        )
        if wait:
            return self._too_many_cxml_failures(wait)
        max_body_kb = config.max_body_kb if config else DEFAULT_MAX_BODY_KB
        if content_length is None or content_length > max_body_kb * 1024:
            return self._answer(
                406,
                f"Send the document with a Content-Length of at most "
                f"{max_body_kb} KB.",
            )
        body = self._read_bounded_body(read_body)
        if isinstance(body, IntakeResult):
            return self._answer(
                body.status, body.payload["message"], headers=body.headers
            )
        try:
            envelope = cxml.parse_envelope(body)
        except cxml.CXMLError as exc:
            return self._answer(exc.status_code, str(exc))
        expected = None
        if config:
            backend = self.env["fih.backend"].sudo().browse(config.id)
            try:
                expected = backend._get_secret("cxml_shared_secret")
            except UserError:
                _logger.error(
                    "cXML for %s refused: secrets cannot be read",
                    for_log(backend_code),
                )
                return self._answer(500, "The receiving side is not configured yet.")
        # compared even without a backend: the answer takes the same path
        offered = (envelope.shared_secret or "").encode()
        if not (
            hmac.compare_digest((expected or "").encode(), offered)
            and expected
            and offered
        ):
            wait = self._count_auth_failure(backend_id, address)
            if wait:
                return self._too_many_cxml_failures(wait)
            return self._answer(401, UNAUTHENTICATED)
        self._auth_succeeded(backend_id, address, trust)
        refusal = self._deployment_mode_refusal(
            self.env["fih.backend"].sudo().browse(config.id), envelope
        )
        if refusal:
            return self._answer(406, refusal)  # refused for good, nothing stored
        try:
            converted = cxml.to_canonical(envelope)
        except cxml.CXMLError as exc:
            return self._answer(exc.status_code, str(exc))
        if (
            converted.operation == "delete"
            and converted.object_type != "purchase_order"
        ):
            return self._answer(
                406,
                "Withdrawing an invoice or a receipt is not accepted; send a credit "
                "memo or a correcting document.",
            )
        try:
            cxml.checked(converted)
        except cxml.CXMLError as exc:
            return self._answer(exc.status_code, str(exc))
        # a ship notice announces a delivery; only a receipt receives
        event_type = (
            "ship_notice.upsert"
            if envelope.kind == "ShipNoticeRequest"
            else f"{converted.object_type}.upsert"
        )
        event = {
            "id": envelope.payload_id,
            "type": event_type,
            "occurred_at": envelope.timestamp,
            "data": converted.document,
        }
        refusal = self._kind_refusal(config, event_type)  # the backend's kind
        if refusal:
            return self._answer(406, refusal)  # refused for good
        return self._store(config, envelope, event, body)

    def _deployment_mode_refusal(self, backend, envelope):
        """Why a test document cannot be taken here, or None.

        ``deploymentMode="test"`` marks a test document (production when
        absent). A connection marked Production, and a production database
        (``fih_environment = prod``), only take production documents: a
        test invoice must never become a bill due for payment. A test
        connection takes both, as a sandbox receives real-looking data.
        """
        if envelope.deployment_mode != "test":
            return None
        if backend.environment == "prod":
            where = "the production connection"
        elif database_environment() == "prod":
            where = "the production system"
        else:
            return None
        _logger.warning(
            "cXML %s for %s refused: a test document sent to %s",
            for_log(envelope.payload_id),
            for_log(backend.code),
            where,
        )
        return (
            f'The document is marked as a test (deploymentMode="test") but was '
            f"sent to {where}; nothing was booked. Send test documents to the "
            "test connection, or send this one again marked as production if it "
            "is a real document."
        )

    def _store(self, config, envelope, event, body):
        (result,) = self._store_events(
            config.id,
            config.company_id,
            [event],
            envelope.payload_id,
            str(uuid.uuid4()),
            source_document=cxml.redact_shared_secret(body).decode(
                "utf-8", errors="replace"
            ),
        )
        if result["duplicate"] and not result["same_content"]:
            return self._answer(
                409,
                f"payloadID {envelope.payload_id} was already received with "
                "a different content; give the new document a new payloadID.",
            )
        if result["duplicate"]:
            return self._answer(200, "Already received; nothing changed.")
        return self._answer(
            201,
            f"Accepted as message {result['message_id']}; it is applied in the "
            "background.",
        )

    def _too_many_cxml_failures(self, wait):
        return self._answer(
            429,
            "Too many documents from this address failed authentication; check "
            "the address and the SharedSecret, and try again later.",
            headers={"Retry-After": str(wait)},
        )

    def _answer(self, status, text, headers=None):
        return CxmlResult(status, cxml.render_response(status, text), headers or {})
