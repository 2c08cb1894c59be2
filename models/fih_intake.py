import json
import logging
import uuid
from typing import NamedTuple

from psycopg2.extras import execute_values

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..lib import bounded_read, standard_webhooks
from ..lib.backend_kinds import KIND_EVENT_TYPES
from ..lib.log_safe import for_log
from ..tools import event_json, read_committed_cursor
from .fih_backend import CODE_PATTERN
from .fih_backend_credentials import webhook_secrets

_logger = logging.getLogger(__name__)

JSON_CONTENT_TYPES = ("application/json",)
XML_CONTENT_TYPES = ("application/xml", "text/xml")
# the body limit of a backend left at its default, also applied to requests
# for unknown backends so that they are answered like the others
DEFAULT_MAX_BODY_KB = 5120
# who sent a request called from code rather than over HTTP
LOCAL_ADDRESS = "local"


class IntakeResult(NamedTuple):
    status: int
    payload: dict
    headers: dict = {}


def error(status, code, message, details=None, headers=None):
    """A JSON error answer: a clear status, a code and a readable message."""
    payload = {"error": code, "message": message}
    if details:
        payload["details"] = details
    return IntakeResult(status, payload, headers or {})


class FihIntake(models.AbstractModel):
    """What every door into the hub shares: the backend's intake settings,
    the signed-request check, the rate limit, and storing events once in
    the exchange log (deduplicated by the unique constraint) before their
    processing is queued. Webhook, UBL, cXML and BI acknowledgement intakes
    build on it; none does anything heavy during the request.

    An unknown, archived or misspelt backend code is answered exactly like
    a wrong signature, so that nobody learns which backends exist; failed
    authentications are counted (see ``fih_auth_throttle``) and answered 429
    once too many.
    """

    _name = "fih.intake"
    _description = "Intake"

    @api.model
    def _backend_config(self, backend_code):
        """Intake settings of the active backend ``backend_code``, or None.

        A code that cannot be a backend code (control characters, a NUL...)
        is never looked up. The sender is authenticated by its signature or
        shared secret, not as an Odoo user: the settings are read as
        superuser, from a per-worker cache.
        """
        if not isinstance(backend_code, str) or not CODE_PATTERN.fullmatch(
            backend_code
        ):
            return None
        return self.env["fih.backend"].sudo()._webhook_config(backend_code)

    _fih_media_types = JSON_CONTENT_TYPES  # what a signed intake accepts

    @api.model
    def _receive(
        self,
        backend_code,
        headers,
        read_body,
        content_type,
        content_length,
        client_address=LOCAL_ADDRESS,
    ):
        """Answer one signed request: authenticate it, then :meth:`_accept` it.

        ``read_body(length)`` returns ``length`` bytes of the body, or raises
        :class:`~lib.bounded_read.BodyTimeout` (or ``BodyIncomplete``) when
        they do not arrive in time. ``client_address`` is the sender's IP
        address, for counting failed authentications.
        """
        verified = self._authenticate(
            backend_code,
            headers,
            read_body,
            content_type,
            content_length,
            client_address,
        )
        if isinstance(verified, IntakeResult):
            return verified
        config, body = verified
        return self._accept(config, headers, body)

    def _accept(self, config, headers, body):
        """What an intake does with an authenticated body: an IntakeResult."""
        raise NotImplementedError

    @api.model
    def _read_bounded_body(self, read_body, *args):
        """``read_body(*args)``, or the :class:`IntakeResult` of a body that
        did not come in time or in full."""
        try:
            return read_body(*args)
        except bounded_read.BodyTimeout:
            return error(
                408,
                "request_timeout",
                "The body did not arrive in time; send it again at once.",
                headers={"Connection": "close"},
            )
        except bounded_read.BodyIncomplete:
            return error(
                400,
                "incomplete_body",
                "The body is shorter than its Content-Length.",
                headers={"Connection": "close"},
            )

    @api.model
    def _authenticate(
        self,
        backend_code,
        headers,
        read_body,
        content_type,
        content_length,
        client_address=LOCAL_ADDRESS,
    ):
        """Check a signed request (Standard Webhooks): return
        ``(backend config, body)``, or the :class:`IntakeResult` error.

        The body is only read once its length is known to be within the
        backend's limit, and then within a deadline.
        """
        config = self._backend_config(backend_code)
        backend_id = config.id if config else None
        throttle = self.env["fih.rate.counter"].sudo()
        wait, trust = throttle._auth_state(backend_id, client_address)
        if wait:
            return self._too_many_failures(wait)
        max_body_kb = config.max_body_kb if config else DEFAULT_MAX_BODY_KB
        limit = max_body_kb * 1024
        too_large = error(413, "body_too_large", f"The body exceeds {max_body_kb} KB.")
        if content_length is None:
            # without it the size is only known after buffering the whole body
            return error(411, "length_required", "Send a Content-Length header.")
        if content_length > limit:
            return too_large
        body = self._read_bounded_body(read_body, content_length)
        if isinstance(body, IntakeResult):
            return body
        if len(body) > limit:
            return too_large
        media_types = self._fih_media_types
        media_type = (content_type or "").split(";")[0].strip().lower()
        if media_type not in media_types:
            return error(
                415,
                "unsupported_media_type",
                f"Send the body as {' or '.join(media_types)}.",
            )
        secrets = []
        if config:
            try:
                secrets = webhook_secrets(config)
            except UserError as exc:
                _logger.error(
                    "Webhook for backend %s refused: %s", for_log(backend_code), exc
                )
                return error(
                    503,
                    "not_configured",
                    "The receiving side is not configured; try again later.",
                    headers={"Retry-After": "300"},
                )
            if not secrets:
                _logger.warning(
                    "Backend %s has no webhook signing secret", for_log(backend_code)
                )
        try:
            # without a backend or a secret, nothing matches: the same answer
            standard_webhooks.verify(secrets, headers, body)
        except standard_webhooks.SignatureError as exc:
            wait = self._count_auth_failure(backend_id, client_address)
            if wait:
                return self._too_many_failures(wait)
            return error(401, "invalid_signature", str(exc))
        self._auth_succeeded(backend_id, client_address, trust)
        retry_after = self._count_request(config)
        if retry_after:
            return error(
                429,
                "rate_limited",
                f"More than {config.rate_limit_per_minute} requests per minute.",
                headers={"Retry-After": str(retry_after)},
            )
        return config, body

    @api.model
    def _too_many_failures(self, wait):
        return error(
            429,
            "too_many_failures",
            "Too many requests from this address failed authentication; check "
            "the address and the signing secret, and try again later.",
            headers={"Retry-After": str(wait)},
        )

    @api.model
    def _count_auth_failure(self, backend_id, client_address):
        """Count a failed authentication in a transaction of its own; the
        seconds the sender must now wait."""
        with read_committed_cursor(self.env.registry) as cr:
            return self.env(cr=cr, su=True)["fih.rate.counter"]._auth_failed(
                backend_id, client_address
            )

    @api.model
    def _auth_succeeded(self, backend_id, client_address, trust):
        if trust["address_failures"] or trust["own_failures"] or trust["trust_stale"]:
            with read_committed_cursor(self.env.registry) as cr:
                self.env(cr=cr, su=True)["fih.rate.counter"]._auth_succeeded(
                    backend_id, client_address, trust
                )

    def _count_request(self, config):
        """Count against the rate limit in a short transaction of its own, so
        the shared counter row is not locked while the events are stored."""
        if not config.rate_limit_per_minute:
            return 0
        with read_committed_cursor(self.env.registry) as cr:
            return self.env(cr=cr, su=True)["fih.rate.counter"]._hit(
                config.id, config.rate_limit_per_minute
            )

    @api.model
    def _kind_refusal(self, config, event_type):
        """Why the backend of ``config`` may not send ``event_type`` events
        (its kind does not use that flow, see ``KIND_EVENT_TYPES``), or None."""
        if event_type in KIND_EVENT_TYPES.get(config.kind, ()):
            return None  # the common case costs no query
        name = self.env["fih.backend"].sudo().browse(config.id).name
        return self.env["fih.handler"]._fih_kind_refusal(config.kind, event_type, name)

    @api.model
    def _correlation_id(self, headers):
        return (headers.get("x-correlation-id") or str(uuid.uuid4()))[:128]

    @api.model
    def _store_events(
        self,
        backend_id,
        company_id,
        events,
        delivery_id,
        correlation_id,
        source_document=None,
    ):
        """Store ``events`` once each in a transaction of its own, keep the
        original document beside new ones, and queue their processing.

        At READ COMMITTED, concurrent redeliveries of one event meet at the
        unique constraint (the later one does nothing) instead of failing with
        a serialization error. Callers answer only after this commit. Each
        result says whether the event was a duplicate and, if so, whether its
        content equals the stored one (``same_content``).
        """
        self.env.flush_all()
        with read_committed_cursor(self.env.registry) as cr:
            env = self.env(cr=cr, su=True)
            results = env["fih.intake"]._store_inbound_events(
                backend_id, company_id, events, delivery_id, correlation_id
            )
            Message = env["fih.message"]
            duplicates = Message.browse(
                [r["message_id"] for r in results if r["duplicate"]]
            )
            stored = {m.id: m for m in duplicates}
            for result in results:
                raw = result.pop("raw")
                if result["duplicate"]:
                    result["same_content"] = self._same_content(
                        stored[result["message_id"]], raw
                    )
                elif source_document is not None:
                    Message.browse(
                        result["message_id"]
                    ).source_document = source_document
            if any(not result["duplicate"] for result in results):
                env["fih.backend"].browse(backend_id)._enqueue_work("inbound")
        return results

    @api.model
    def _same_content(self, message, raw):
        """Whether a redelivered event says what ``message`` holds: the same
        bytes, or the same JSON written in another key order (a sender that
        serialises again); compared on the stored payload while it is kept,
        on its fingerprint once it is purged."""
        if message._fingerprint_matches(message.payload_sha256, raw):
            return True
        if not message.payload:
            return False
        try:
            return _sorted_json(message.payload) == _sorted_json(raw)
        except ValueError:
            return False

    @api.model
    def _store_inbound_events(
        self, backend_id, company_id, events, delivery_id, correlation_id
    ):
        """Store events once each; return one dict per event, in order.

        Deduplication is the unique constraint: INSERT .. ON CONFLICT DO
        NOTHING, which also holds under concurrent redelivery.
        """
        Message = self.env["fih.message"]
        now = fields.Datetime.now()
        uid = self.env.uid
        rows = []
        for event in events:
            raw = event_json(event)
            rows.append(
                (
                    backend_id,
                    company_id,
                    "inbound",
                    event["type"],
                    event.get("id") or delivery_id,
                    delivery_id,
                    correlation_id,
                    "received",
                    0,
                    now,
                    raw,
                    Message._fingerprint(raw),
                    uid,
                    now,
                    uid,
                    now,
                )
            )
        inserted = execute_values(
            self.env.cr,
            """
            INSERT INTO fih_message (
                backend_id, company_id, direction, event_type, idempotency_key,
                delivery_id, correlation_id, state, attempts, received_at,
                payload, payload_sha256, create_uid, create_date, write_uid,
                write_date)
            VALUES %s
            ON CONFLICT (backend_id, direction, idempotency_key) DO NOTHING
            RETURNING idempotency_key, id
            """,
            rows,
            fetch=True,
        )
        new_ids = dict(inserted)
        keys = [row[4] for row in rows]
        existing = {}
        if len(new_ids) < len(keys):
            self.env.cr.execute(
                """
                SELECT idempotency_key, id FROM fih_message
                 WHERE backend_id = %s AND direction = 'inbound'
                   AND idempotency_key IN %s
                """,
                (backend_id, tuple(set(keys) - set(new_ids))),
            )
            existing = dict(self.env.cr.fetchall())
        Message.invalidate_model()
        return [
            {
                "event_id": key,
                "message_id": new_ids.get(key) or existing.get(key),
                "duplicate": key not in new_ids,
                "raw": row[10],
            }
            for key, row in zip(keys, rows, strict=True)
        ]


def _sorted_json(text):
    """JSON text with its keys in order: the same content, however the sender
    ordered the keys (numbers and booleans keep their own text)."""
    return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
