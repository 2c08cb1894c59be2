import logging
import uuid
from typing import NamedTuple

from odoo import api, models
from odoo.exceptions import UserError

from ..lib import envelope, standard_webhooks

_logger = logging.getLogger(__name__)

JSON_CONTENT_TYPES = ("application/json",)


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

        ``read_body(limit)`` returns at most ``limit`` bytes of the body.
        """
        # The sender is authenticated by its signature, not as an Odoo user:
        # reading the backend needs sudo. Only the exchange log is written here.
        Backend = self.env["fih.backend"].sudo()
        backend = Backend.search([("code", "=", backend_code)], limit=1)
        if not backend:
            return _error(404, "unknown_backend", "No active backend has this code.")
        limit = backend.max_body_kb * 1024
        if content_length and content_length > limit:
            return _error(
                413, "body_too_large", f"The body exceeds {backend.max_body_kb} KB."
            )
        body = read_body(limit + 1)
        if len(body) > limit:
            return _error(
                413, "body_too_large", f"The body exceeds {backend.max_body_kb} KB."
            )
        media_type = (content_type or "").split(";")[0].strip().lower()
        if media_type not in JSON_CONTENT_TYPES:
            return _error(
                415, "unsupported_media_type", "Send the events as application/json."
            )
        try:
            secrets = backend._webhook_verification_secrets()
        except UserError as exc:
            _logger.error("Webhook for backend %s refused: %s", backend.code, exc)
            return _error(
                503,
                "not_configured",
                "The receiving side is not configured; try again later.",
                headers={"Retry-After": "300"},
            )
        if not secrets:
            _logger.warning("Backend %s has no webhook signing secret", backend.code)
            return _error(401, "invalid_signature", "No signing secret is configured.")
        try:
            standard_webhooks.verify(secrets, headers, body)
        except standard_webhooks.SignatureError as exc:
            return _error(401, "invalid_signature", str(exc))
        return self._store(backend, headers, body)

    def _store(self, backend, headers, body):
        """Rate-count, validate and store in a committed READ COMMITTED transaction.

        READ COMMITTED lets concurrent redeliveries of one event meet at the
        unique constraint (the later one does nothing) instead of failing with
        a serialization error; the 202 is only answered after the commit.
        """
        registry = self.env.registry
        self.env.flush_all()
        with registry.cursor() as cr:
            if not registry.in_test_mode():
                cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            env = self.env(cr=cr, su=True)
            retry_after = env["fih.rate.counter"]._hit(
                backend.id, backend.rate_limit_per_minute
            )
            if retry_after:
                return _error(
                    429,
                    "rate_limited",
                    f"More than {backend.rate_limit_per_minute} requests per minute.",
                    headers={"Retry-After": str(retry_after)},
                )
            Message = env["fih.message"]
            try:
                document = envelope.parse_json(body)
                events, is_batch = envelope.split_events(
                    document,
                    backend.max_batch_events,
                    known_types=set(Message._handler_models()),
                )
            except envelope.EnvelopeError as exc:
                return IntakeResult(400, {**exc.as_response(), "message": str(exc)})
            delivery_id = headers.get("webhook-id")
            correlation_id = headers.get("x-correlation-id") or str(uuid.uuid4())
            results = Message._store_inbound_events(
                env["fih.backend"].browse(backend.id),
                events,
                delivery_id,
                correlation_id[:128],
            )
            if any(not result["duplicate"] for result in results):
                env["fih.backend"].browse(backend.id)._enqueue_processing()
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
