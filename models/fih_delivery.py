import json
import logging
import random
import time
from datetime import timedelta
from http import HTTPStatus

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..lib import (
    circuit_breaker,
    delivery_policy,
    outbound_formats,
    standard_webhooks,
)
from ..tools import read_committed_cursor
from .fih_backend_credentials import SecretNotUsable

_logger = logging.getLogger(__name__)

MAX_EXCERPT = 2000
BREAKER_COLUMNS = ["breaker_status", "breaker_failures", "breaker_opened_at"]
# answers worth keeping an excerpt of, per format; anything else keeps its
# status line only, so that an internal service's answer is never stored
EXPECTED_ANSWERS = {
    "json": ("application/json", "+json"),
    "cxml_order_request": ("text/xml", "application/xml", "+xml"),
    "ubl_order": ("text/xml", "application/xml", "+xml"),
}


def response_excerpt(status, headers, content, payload_format):
    """What is kept of an answer: the first bytes of a 2xx answer of the
    expected content type, the status line of any other."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    status_line = f"HTTP {status} {phrase}".strip()
    content_type = (headers or {}).get("Content-Type", "").split(";")[0].strip().lower()
    expected = EXPECTED_ANSWERS.get(payload_format, ())
    if not 200 <= status < 300 or not any(
        content_type == kind or (kind.startswith("+") and content_type.endswith(kind))
        for kind in expected
    ):
        return status_line
    return content[:MAX_EXCERPT].decode("utf-8", errors="replace")


class FihDelivery(models.AbstractModel):
    """Sends outbound messages: format, authenticate, sign, guard, classify."""

    _name = "fih.delivery"
    _description = "Outbound Delivery"

    # -- entry point ----------------------------------------------------------

    @api.model
    def _deliver(self, backend, messages, deadline=None):
        """Send claimed messages one by one; each outcome commits on its own.

        When deliveries must pause (circuit open, rate limit, the job's time
        is up), the messages not sent yet are released at once, without
        using up their attempts.
        """
        breaker = self._circuit_breaker(backend)
        # the healthy case costs no breaker query per message: the state is
        # read once per batch and written only when it changes
        state = self._breaker_state(backend)
        pending = list(messages)
        while pending:
            if deadline and time.monotonic() > deadline:
                self._release(backend, pending, None)
                return
            if state.status != "closed":
                verdict = {}
                _old, state = self._update_breaker(
                    backend,
                    lambda current, verdict=verdict: _allow(breaker, current, verdict),
                )
                if not verdict["allowed"]:
                    self._release(backend, pending, _paused(backend, state))
                    return
            if not self._take_outbound_token(backend):
                self._release(backend, pending, _rate_limited())
                return
            message = pending.pop(0)
            try:
                outcome, status, excerpt = self._send(backend, message)
            except Exception as exc:  # noqa: BLE001 - one message's problem only
                _logger.info("Delivery of message %s failed", message.id, exc_info=True)
                outcome, status, excerpt = self._outcome_of(exc), None, None
            self._record(message, outcome, status=status, excerpt=excerpt)
            state = self._count_outcome(backend, breaker, state, outcome)

    def _count_outcome(self, backend, breaker, state, outcome):
        """Count the outcome in the breaker; tell the owner when it opens."""
        if outcome.kind == "permanent":
            return state  # the receiver answered: not a sign of an outage
        healthy = state.status == "closed" and not state.consecutive_failures
        if outcome.kind == "delivered" and healthy:
            return state
        now = time.time()
        old, new = self._update_breaker(
            backend,
            lambda current: breaker.record_success(current, now)
            if outcome.kind == "delivered"
            else breaker.record_failure(current, now),
        )
        if circuit_breaker.CircuitBreaker.just_opened(old, new):
            self._notify_breaker_opened(backend, outcome.reason)
        return new

    def _outcome_of(self, exc):
        """An unexpected error while preparing or sending, as an outcome."""
        if isinstance(exc, OSError):  # DNS failure, refused connection...
            return delivery_policy.Outcome(
                "retry",
                self.env._(
                    "The receiving system could not be reached (%s).",
                    type(exc).__name__,
                ),
                None,
            )
        if isinstance(exc, SecretNotUsable):  # entered for another address
            return delivery_policy.Outcome("permanent", str(exc), None)
        if isinstance(exc, UserError):  # e.g. a secret that cannot be decrypted
            return delivery_policy.Outcome("retry", str(exc), None)
        if isinstance(exc, ValueError):  # the renderers say what is missing
            return delivery_policy.Outcome(
                "permanent",
                self.env._(
                    "The message could not be put in the receiver's format: %s.",
                    exc,
                ),
                None,
            )
        if isinstance(exc, KeyError | TypeError):
            return delivery_policy.Outcome(
                "permanent",
                self.env._(
                    "The message could not be put in the receiver's format (%s).",
                    type(exc).__name__,
                ),
                None,
            )
        return delivery_policy.Outcome(
            "retry",
            self.env._(
                "Unexpected error (%s); it will be retried.", type(exc).__name__
            ),
            None,
        )

    def _release(self, backend, messages, outcome):
        """Hand claimed messages back unsent, in one statement and one job."""
        delay = (outcome.retry_after or 0) if outcome else 0
        next_attempt = fields.Datetime.now() + timedelta(seconds=delay)
        with read_committed_cursor(self.env.registry) as cr:
            cr.execute(
                """
                UPDATE fih_message
                   SET state = 'received', lease_until = NULL,
                       attempts = greatest(coalesce(attempts, 0) - 1, 0),
                       next_attempt_at = %s,
                       error_kind = CASE WHEN %s THEN 'transient' ELSE error_kind END,
                       error_message = coalesce(%s, error_message)
                 WHERE id IN %s AND state = 'processing'
                """,
                (
                    next_attempt if delay else None,
                    bool(outcome),
                    outcome.reason if outcome else None,
                    tuple(message.id for message in messages),
                ),
            )
        backend._enqueue_work(
            "outbound", eta=_wake_up_at(next_attempt) if delay else None
        )

    # -- one HTTP call ----------------------------------------------------------

    def _send(self, backend, message):
        """Return (Outcome, http status or None, response excerpt)."""
        if not message.subscription_id:
            reason = self.env._("The subscription of this message was deleted.")
            return delivery_policy.Outcome("permanent", reason, None), None, None
        Client = self.env["fih.http.client"]
        refusal = Client._refusal(backend)
        if refusal:
            return delivery_policy.Outcome("permanent", refusal, None), None, None
        subscription = message.subscription_id
        body, content_type = self._render(backend, message)
        headers = {"Content-Type": content_type}
        if backend.has_webhook_secret and content_type == "application/json":
            # receivers deduplicate on webhook-id: it is the same on every retry
            headers.update(
                standard_webhooks.sign(
                    backend._get_secret("webhook_secret"),
                    message.idempotency_key,
                    body,
                )
            )
        reply = Client._call(
            backend,
            "POST",
            Client._url(backend, subscription.endpoint_path),
            headers,
            body,
        )
        if reply.error or reply.status is None:
            return reply.outcome, None, reply.error
        excerpt = response_excerpt(
            reply.status, reply.headers, reply.content, subscription.payload_format
        )
        outcome = reply.outcome
        if (
            outcome.kind == "delivered"
            and subscription.payload_format == "cxml_order_request"
        ):
            # cXML answers HTTP 200 even when the order was refused
            outcome = delivery_policy.cxml_response_outcome(reply.content)
        return outcome, reply.status, excerpt

    def _render(self, backend, message):
        envelope = json.loads(message.payload)
        subscription_format = message.subscription_id.payload_format
        if subscription_format == "cxml_order_request":
            operation = (
                "delete"
                if envelope["type"].endswith("cancelled")
                else ("update" if envelope["type"].endswith("changed") else "new")
            )
            body = outbound_formats.render_cxml_order_request(
                envelope["data"],
                payload_id=f"{message.idempotency_key}@finance-integration-hub",
                timestamp=envelope["occurred_at"],
                sender=self._cxml_sender(backend),
                operation=operation,
                version=backend.cxml_version or outbound_formats.CXML_VERSION,
            )
            return body, "text/xml; charset=utf-8"
        if subscription_format == "ubl_order":
            company = backend.company_id
            body = outbound_formats.render_ubl_order(
                envelope["data"],
                buyer={"name": company.name, "id": company.vat or company.name},
                seller={"id": envelope["data"]["supplier_external_id"]},
            )
            return body, "application/xml"
        return outbound_formats.render_json(envelope), "application/json"

    # -- circuit breaker, shared by every worker ------------------------------

    def _circuit_breaker(self, backend):
        return circuit_breaker.CircuitBreaker(
            failure_threshold=max(backend.breaker_threshold, 1),
            cooldown_seconds=backend.breaker_cooldown_seconds,
        )

    def _breaker_state(self, backend):
        """The breaker as committed now (not as this transaction saw it)."""
        backend.ensure_one()
        self.env["fih.backend"].flush_model(BREAKER_COLUMNS)
        with read_committed_cursor(self.env.registry) as cr:
            return self._read_breaker(cr, backend)

    def _read_breaker(self, cr, backend, lock=False):
        cr.execute(
            "SELECT breaker_status, breaker_failures, breaker_opened_at "
            "FROM fih_backend WHERE id = %s" + (" FOR UPDATE" if lock else ""),
            (backend.id,),
        )
        status, failures, opened_at = cr.fetchone()
        return circuit_breaker.BreakerState(
            status=status or "closed",
            consecutive_failures=failures or 0,
            opened_at=opened_at or None,
        )

    def _update_breaker(self, backend, change):
        """Apply ``change(state) -> state`` atomically across workers, in a
        short transaction of its own; return ``(old, new)``."""
        backend.ensure_one()
        with read_committed_cursor(self.env.registry) as cr:
            old = self._read_breaker(cr, backend, lock=True)
            new = change(old)
            if new != old:
                # raw SQL: workers update it concurrently, tracking would be noise
                cr.execute(
                    "UPDATE fih_backend SET breaker_status = %s, breaker_failures = %s,"
                    " breaker_opened_at = %s WHERE id = %s",
                    (new.status, new.consecutive_failures, new.opened_at, backend.id),
                )
        backend.invalidate_recordset(BREAKER_COLUMNS)
        return old, new

    def _store_breaker_state(self, backend, state):
        self._update_breaker(backend, lambda _old: state)

    def _notify_breaker_opened(self, backend, reason):
        backend = backend.sudo()
        backend.activity_schedule(
            "mail.mail_activity_data_warning",
            summary=self.env._("Deliveries to %s are paused", backend.name),
            note=self.env._(
                "%(count)s deliveries failed in a row; the last one: %(reason)s. "
                "Deliveries resume by themselves once a probe succeeds.",
                count=backend.breaker_threshold,
                reason=reason,
            ),
            user_id=(backend.owner_id or self.env.ref("base.user_admin")).id,
        )

    # -- rate limit and sender identity ---------------------------------------

    def _take_outbound_token(self, backend):
        """One call against the outbound rate limit shared by every worker."""
        backend.ensure_one()
        if not backend.outbound_rate_limit_per_minute:
            return True
        with read_committed_cursor(self.env.registry) as cr:
            wait = self.env(cr=cr, su=True)["fih.rate.counter"]._hit(
                backend.id, backend.outbound_rate_limit_per_minute, direction="outbound"
            )
        return not wait

    def _cxml_sender(self, backend):
        return {
            "from_domain": backend.cxml_from_domain or "NetworkID",
            "from_identity": backend.cxml_from_identity or backend.company_id.name,
            "to_domain": backend.cxml_to_domain or "NetworkID",
            "to_identity": backend.cxml_to_identity or backend.name,
            "sender_domain": backend.cxml_from_domain or "NetworkID",
            "sender_identity": backend.cxml_from_identity or backend.company_id.name,
            "shared_secret": backend._get_secret("cxml_shared_secret") or "",
            "deployment_mode": "production"
            if backend.environment == "prod"
            else "test",
        }

    # -- outcome ----------------------------------------------------------------

    def _record(self, message, outcome, status=None, excerpt=None):
        """Write the outcome of one attempt in its own committed transaction."""
        with read_committed_cursor(self.env.registry) as cr:
            env = self.env(cr=cr, su=True)
            record = env["fih.message"].browse(message.id)
            values = {
                "lease_until": False,
                "http_status": status,
                "response_excerpt": excerpt,
            }
            now = fields.Datetime.now()
            if outcome.kind == "delivered":
                values.update(
                    state="done",
                    done_at=now,
                    error_kind=False,
                    error_message=outcome.reason
                    if "duplicate" in outcome.reason
                    else False,
                    latency_ms=int((now - record.received_at).total_seconds() * 1000),
                )
            elif outcome.kind == "permanent":
                values.update(
                    state="failed", error_kind="permanent", error_message=outcome.reason
                )
            else:
                values.update(self._retry_values(record, outcome, now))
            record.write(values)
            if values["state"] in ("failed", "dead"):
                record._schedule_exception_activity(values["error_message"])
            elif values["state"] == "done" and record.exception_group_id:
                record._close_exception_activities()
        message.invalidate_recordset()

    def _retry_values(self, record, outcome, now):
        backend = record.backend_id
        age = (now - record.received_at).total_seconds()
        if delivery_policy.gives_up(
            record.attempts,
            age,
            backend.retry_max_attempts,
            backend.retry_max_age_hours * 3600,
        ):
            return {
                "state": "dead",
                "error_kind": "transient",
                "error_message": self.env._(
                    "Not delivered after %(attempts)s attempts: %(reason)s",
                    attempts=record.attempts,
                    reason=outcome.reason,
                ),
            }
        delay = delivery_policy.next_delay(
            record.attempts,
            outcome.retry_after,
            backend.retry_base_seconds,
            6 * 3600,
            random.random,
        )
        next_attempt = now + timedelta(seconds=delay)
        backend._enqueue_work("outbound", eta=_wake_up_at(next_attempt))
        return {
            "state": "received",
            "error_kind": "transient",
            "error_message": outcome.reason,
            "next_attempt_at": next_attempt,
        }


def _allow(breaker, state, verdict):
    """breaker.allow() as a state change; the verdict is noted in ``verdict``."""
    verdict["allowed"], new_state = breaker.allow(state, time.time())
    return new_state


def _wake_up_at(moment):
    """Round up to 10 seconds: one delayed job per backend and slot, however
    many messages wait."""
    return moment.replace(microsecond=0) + timedelta(seconds=10 - moment.second % 10)


def _paused(backend, state):
    resume = (state.opened_at or time.time()) + backend.breaker_cooldown_seconds
    return delivery_policy.Outcome(
        "retry",
        "Deliveries to this system are paused after repeated failures (circuit "
        "open); the next probe is automatic.",
        max(1.0, resume - time.time()),
    )


def _rate_limited():
    return delivery_policy.Outcome(
        "retry", "Waiting for the system's rate limit (requests per minute).", 60.0
    )
