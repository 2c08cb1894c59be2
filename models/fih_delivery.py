import json
import logging
import random
import threading
import time
from datetime import timedelta

import requests

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import config

from ..lib import (
    circuit_breaker,
    delivery_policy,
    outbound_formats,
    standard_webhooks,
    url_guard,
)
from .fih_message import read_committed_cursor

_logger = logging.getLogger(__name__)

# one pooled HTTP session per backend and worker process
_SESSIONS = {}
_TOKENS = {}  # backend id -> (access token, expiry epoch)
_LOCK = threading.Lock()
MAX_EXCERPT = 2000
MAX_RESPONSE_BYTES = 1_000_000


def _cache_key(backend):
    """Per database, backend and credentials: a staging copy of a database or a
    new client secret never reuses another's session or token."""
    backend = backend.sudo()
    return (
        backend.env.cr.dbname,
        backend.id,
        backend.base_url,
        backend.oauth_token_url,
        backend.oauth_client_id,
        backend.oauth_client_secret_encrypted,
        backend.api_key_encrypted,
    )


def _session(backend):
    key = _cache_key(backend)
    with _LOCK:
        session = _SESSIONS.get(key)
        if session is None:
            session = _SESSIONS[key] = requests.Session()
            session.trust_env = False  # no proxies from the environment
        return session


def database_environment():
    """prod, test or dev: from ``fih_environment`` in the Odoo config."""
    return (config.get("fih_environment") or "dev").strip().lower()


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
        breaker = backend._circuit_breaker()
        # the healthy case costs no breaker query per message: the state is
        # read once per batch and written only when it changes
        state = backend._breaker_state()
        pending = list(messages)
        while pending:
            if deadline and time.monotonic() > deadline:
                self._release(backend, pending, None)
                return
            if state.status != "closed":
                verdict = {}
                _old, state = backend._update_breaker(
                    lambda current, verdict=verdict: _allow(breaker, current, verdict)
                )
                if not verdict["allowed"]:
                    self._release(backend, pending, _paused(backend, state))
                    return
            if not backend._take_outbound_token():
                self._release(backend, pending, _rate_limited())
                return
            message = pending.pop(0)
            try:
                outcome, status, excerpt = self._send(backend, message)
            except Exception as exc:  # noqa: BLE001 - one message's problem only
                _logger.info("Delivery of message %s failed", message.id, exc_info=True)
                outcome, status, excerpt = self._outcome_of(exc), None, None
            self._record(message, outcome, status=status, excerpt=excerpt)
            state = self._update_breaker(backend, breaker, state, outcome)

    def _update_breaker(self, backend, breaker, state, outcome):
        """Count the outcome in the breaker; tell the owner when it opens."""
        if outcome.kind == "permanent":
            return state  # the receiver answered: not a sign of an outage
        healthy = state.status == "closed" and not state.consecutive_failures
        if outcome.kind == "delivered" and healthy:
            return state
        now = time.time()
        old, new = backend._update_breaker(
            lambda current: breaker.record_success(current, now)
            if outcome.kind == "delivered"
            else breaker.record_failure(current, now)
        )
        if circuit_breaker.CircuitBreaker.just_opened(old, new):
            backend._notify_breaker_opened(outcome.reason)
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
        if isinstance(exc, UserError):  # e.g. a secret that cannot be decrypted
            return delivery_policy.Outcome("retry", str(exc), None)
        if isinstance(exc, ValueError | KeyError | TypeError):
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
        backend._enqueue_delivery(eta=_wake_up_at(next_attempt) if delay else None)

    # -- one HTTP call ----------------------------------------------------------

    def _send(self, backend, message):
        """Return (Outcome, http status or None, response excerpt)."""
        refusal = self._refusal(backend, message)
        if refusal:
            return delivery_policy.Outcome("permanent", refusal, None), None, None
        subscription = message.subscription_id
        url = (
            backend.base_url.rstrip("/")
            + "/"
            + (subscription.endpoint_path or "").lstrip("/")
        )
        body, content_type = self._render(backend, message)
        headers = {
            "Content-Type": content_type,
            "User-Agent": "Finance Integration Hub",
        }
        headers.update(self._auth_headers(backend))
        if backend.has_webhook_secret and content_type == "application/json":
            # receivers deduplicate on webhook-id: it is the same on every retry
            headers.update(
                standard_webhooks.sign(
                    backend._get_secret("webhook_secret"),
                    message.idempotency_key,
                    body,
                )
            )
        try:
            status, response_headers, content = self._post(backend, url, body, headers)
            if status == 401 and backend.auth_type == "oauth2":
                _TOKENS.pop(_cache_key(backend), None)  # expired early: refresh once
                headers.update(self._auth_headers(backend))
                status, response_headers, content = self._post(
                    backend, url, body, headers
                )
        except url_guard.UnsafeURLError as exc:
            reason = self.env._("The address is not allowed: %s", exc)
            return delivery_policy.Outcome("permanent", reason, None), None, None
        except requests.RequestException as exc:
            # the type only: the text of some errors quotes header values
            outcome = delivery_policy.classify(None, {}, type(exc).__name__)
            return outcome, None, type(exc).__name__
        excerpt = content[:MAX_EXCERPT].decode("utf-8", errors="replace")
        outcome = delivery_policy.classify(status, response_headers, None)
        if (
            outcome.kind == "delivered"
            and subscription.payload_format == "cxml_order_request"
        ):
            # cXML answers HTTP 200 even when the order was refused
            outcome = delivery_policy.cxml_response_outcome(content)
        return outcome, status, excerpt

    def _post(self, backend, url, body, headers):
        return self._request(backend, "POST", url, headers, body=body)

    def _request(
        self,
        backend,
        method,
        url,
        headers,
        body=None,
        params=None,
        max_bytes=MAX_RESPONSE_BYTES,
    ):
        """Call ``url`` behind the SSRF guard, following one redirect to the
        same origin; return ``(status, headers, first bytes of the body)``."""
        for _hop in range(2):
            url_guard.check_url(url, allow_private=backend.allow_private_network)
            response = _session(backend).request(
                method,
                url,
                data=body,
                params=params,
                headers=headers,
                timeout=(backend.connect_timeout, backend.read_timeout),
                allow_redirects=False,
                verify=True,
                stream=True,  # read a bounded answer, whatever its size
            )
            with response:
                content = response.raw.read(max_bytes, decode_content=True)
                status, response_headers = response.status_code, response.headers
                location = response.headers.get("Location", "")
                if not response.is_redirect:
                    return status, response_headers, content
            target = requests.compat.urljoin(url, location)
            if not url_guard.same_origin(url, target):
                raise url_guard.UnsafeURLError(
                    f"the server redirected to another host ({target})"
                )
            url = target
        return status, response_headers, content

    def _refusal(self, backend, message):
        if not backend.base_url:
            return self.env._("The backend has no base URL.")
        if backend.environment == "prod" and database_environment() != "prod":
            return self.env._(
                "This %(env)s database never calls the production system "
                "%(backend)s (set fih_environment = prod only on production).",
                env=database_environment(),
                backend=backend.name,
            )
        if not message.subscription_id:
            return self.env._("The subscription of this message was deleted.")
        return None

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
                sender=backend._cxml_sender(),
                operation=operation,
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

    def _auth_headers(self, backend):
        auth = backend.auth_type
        if auth == "api_key":
            return {
                backend.api_key_header or "X-API-Key": backend._get_secret("api_key")
            }
        if auth == "bearer":
            return {"Authorization": f"Bearer {backend._get_secret('api_key')}"}
        if auth == "basic":
            token = requests.auth._basic_auth_str(
                backend.basic_username or "", backend._get_secret("api_key") or ""
            )
            return {"Authorization": token}
        if auth == "oauth2":
            return {"Authorization": f"Bearer {self._oauth_token(backend)}"}
        return {}

    def _oauth_token(self, backend):
        cached = _TOKENS.get(_cache_key(backend))
        if cached and cached[1] > time.time() + 30:
            return cached[0]
        url_guard.check_url(
            backend.oauth_token_url, allow_private=backend.allow_private_network
        )
        response = _session(backend).post(
            backend.oauth_token_url,
            data={"grant_type": "client_credentials"},
            auth=(backend.oauth_client_id, backend._get_secret("oauth_client_secret")),
            timeout=(backend.connect_timeout, backend.read_timeout),
            allow_redirects=False,
            verify=True,
        )
        response.raise_for_status()
        answer = response.json()
        token = answer["access_token"]
        _TOKENS[_cache_key(backend)] = (
            token,
            time.time() + int(answer.get("expires_in", 300)),
        )
        return token

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
        backend._enqueue_delivery(eta=_wake_up_at(next_attempt))
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
