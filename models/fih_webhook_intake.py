import logging
import uuid
from typing import NamedTuple

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..lib import envelope, standard_webhooks, ubl_inbound
from .fih_backend import webhook_secrets
from .fih_message import read_committed_cursor

_logger = logging.getLogger(__name__)

JSON_CONTENT_TYPES = ("application/json",)
XML_CONTENT_TYPES = ("application/xml", "text/xml")


class IntakeResult(NamedTuple):
    status: int
    payload: dict
    headers: dict = {}


def _error(status, code, message, details=None, headers=None):
    payload = {"error": code, "message": message}
    if details:
        payload["details"] = details
    return IntakeResult(status, payload, headers or {})


class FihWebhookIntake(models.AbstractModel):
    """The webhook contract: authenticate, store once, enqueue. Nothing heavy."""

    _name = "fih.webhook.intake"
    _description = "Webhook Intake"

    @api.model
    def _receive(self, backend_code, headers, read_body, content_type, content_length):
        """Return an :class:`IntakeResult` for one webhook request.

        ``read_body(limit)`` returns the body (at least ``limit`` bytes of it
        when it is longer).
        """
        verified = self._authenticate(
            backend_code, headers, read_body, content_type, content_length
        )
        if isinstance(verified, IntakeResult):
            return verified
        config, body = verified
        return self._store(config, headers, body)

    @api.model
    def _receive_bi_acknowledgement(
        self, backend_code, headers, read_body, content_type, content_length
    ):
        """A reporting platform confirms what it loaded: compare and answer."""
        verified = self._authenticate(
            backend_code, headers, read_body, content_type, content_length
        )
        if isinstance(verified, IntakeResult):
            return verified
        config, body = verified
        try:
            acknowledgement = envelope.parse_json(body)
        except envelope.EnvelopeError as exc:
            return _error(400, "malformed_json", str(exc))
        if not isinstance(acknowledgement, dict) or not acknowledgement.get("load_id"):
            return _error(
                400, "invalid_acknowledgement", "Send an object with load_id."
            )
        backend = self.env["fih.backend"].sudo().browse(config.id)
        try:
            load = (
                self.env["fih.bi.load"]
                .sudo()
                ._receive_acknowledgement(backend, acknowledgement)
            )
        except UserError as exc:
            return _error(409, "not_acknowledgeable", str(exc))
        return IntakeResult(
            200,
            {
                "load_id": load.uid,
                "state": load.state,
                "differences": (load.differences or "").splitlines(),
            },
        )

    @api.model
    def _receive_ubl(
        self, backend_code, headers, read_body, content_type, content_length
    ):
        """A signed UBL 2.1 / Peppol BIS 3.0 Invoice or CreditNote: check, read,
        store once (per supplier and invoice number), answer 202."""
        verified = self._authenticate(
            backend_code,
            headers,
            read_body,
            content_type,
            content_length,
            media_types=XML_CONTENT_TYPES,
        )
        if isinstance(verified, IntakeResult):
            return verified
        config, body = verified
        try:
            document = ubl_inbound.invoice_to_canonical(body)
        except ubl_inbound.UBLError as exc:
            return _error(400, "invalid_ubl", str(exc))
        event = {
            "id": f"ubl:{document['external_id']}",
            "type": "invoice.upsert",
            "occurred_at": fields.Datetime.now().isoformat() + "Z",
            "data": document,
        }
        self.env.flush_all()
        with read_committed_cursor(self.env.registry) as cr:
            env = self.env(cr=cr, su=True)
            (result,) = env["fih.message"]._store_inbound_events(
                config.id,
                config.company_id,
                [event],
                headers.get("webhook-id"),
                (headers.get("x-correlation-id") or str(uuid.uuid4()))[:128],
            )
            if not result["duplicate"]:
                env["fih.message"].browse(
                    result["message_id"]
                ).source_document = body.decode("utf-8", errors="replace")
                env["fih.backend"].browse(config.id)._enqueue_processing()
        return IntakeResult(
            202,
            {
                "status": "accepted",
                "message_id": result["message_id"],
                "duplicate": result["duplicate"],
                "invoice": document["external_id"],
            },
        )

    @api.model
    def _authenticate(
        self,
        backend_code,
        headers,
        read_body,
        content_type,
        content_length,
        media_types=JSON_CONTENT_TYPES,
    ):
        """Return ``(backend config, body)``, or the :class:`IntakeResult` error."""
        # The sender is authenticated by its signature, not as an Odoo user:
        # the backend's settings are read as superuser, from a per-worker cache.
        config = self.env["fih.backend"].sudo()._webhook_config(backend_code)
        if not config:
            return _error(404, "unknown_backend", "No active backend has this code.")
        limit = config.max_body_kb * 1024
        too_large = _error(
            413, "body_too_large", f"The body exceeds {config.max_body_kb} KB."
        )
        if content_length is None:
            # without it the size is only known after buffering the whole body
            return _error(411, "length_required", "Send a Content-Length header.")
        if content_length > limit:
            return too_large
        body = read_body(limit + 1)
        if len(body) > limit:
            return too_large
        media_type = (content_type or "").split(";")[0].strip().lower()
        if media_type not in media_types:
            return _error(
                415,
                "unsupported_media_type",
                f"Send the body as {' or '.join(media_types)}.",
            )
        try:
            secrets = webhook_secrets(config)
        except UserError as exc:
            _logger.error("Webhook for backend %s refused: %s", backend_code, exc)
            return _error(
                503,
                "not_configured",
                "The receiving side is not configured; try again later.",
                headers={"Retry-After": "300"},
            )
        if not secrets:
            _logger.warning("Backend %s has no webhook signing secret", backend_code)
            return _error(401, "invalid_signature", "No signing secret is configured.")
        try:
            standard_webhooks.verify(secrets, headers, body)
        except standard_webhooks.SignatureError as exc:
            return _error(401, "invalid_signature", str(exc))
        retry_after = self._count_request(config)
        if retry_after:
            return _error(
                429,
                "rate_limited",
                f"More than {config.rate_limit_per_minute} requests per minute.",
                headers={"Retry-After": str(retry_after)},
            )
        return config, body

    def _count_request(self, config):
        """Count against the rate limit in a short transaction of its own, so
        the shared counter row is not locked while the events are stored."""
        if not config.rate_limit_per_minute:
            return 0
        with read_committed_cursor(self.env.registry) as cr:
            return self.env(cr=cr, su=True)["fih.rate.counter"]._hit(
                config.id, config.rate_limit_per_minute
            )

    def _store(self, config, headers, body):
        """Validate and store in a transaction of its own.

        At READ COMMITTED, concurrent redeliveries of one event meet at the
        unique constraint (the later one does nothing) instead of failing with
        a serialization error. The 202 is only answered after the commit.
        """
        self.env.flush_all()
        with read_committed_cursor(self.env.registry) as cr:
            env = self.env(cr=cr, su=True)
            Message = env["fih.message"]
            try:
                document = envelope.parse_json(body)
                events, is_batch = envelope.split_events(
                    document,
                    config.max_batch_events,
                    known_types=set(Message._handler_models()),
                )
            except envelope.EnvelopeError as exc:
                return IntakeResult(400, {**exc.as_response(), "message": str(exc)})
            delivery_id = headers.get("webhook-id")
            correlation_id = (headers.get("x-correlation-id") or str(uuid.uuid4()))[
                :128
            ]
            results = Message._store_inbound_events(
                config.id, config.company_id, events, delivery_id, correlation_id
            )
            if any(not result["duplicate"] for result in results):
                env["fih.backend"].browse(config.id)._enqueue_processing()
        payload = {
            "status": "accepted",
            "correlation_id": correlation_id,
            "accepted": sum(1 for r in results if not r["duplicate"]),
            "duplicates": sum(1 for r in results if r["duplicate"]),
        }
        if is_batch:
            payload["events"] = results
        else:
            payload.update(
                message_id=results[0]["message_id"], duplicate=results[0]["duplicate"]
            )
        return IntakeResult(202, payload)
