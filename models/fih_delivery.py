import json
import logging
import random
import time
from collections import defaultdict
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..lib import (
    circuit_breaker,
    delivery_policy,
    outbound_formats,
    standard_webhooks,
)
from ..tools import read_committed_cursor
from . import fih_http_client as http_client
from .fih_backend_credentials import SecretNotUsable

_logger = logging.getLogger(__name__)
_TIME_UP = object()  # the job's time budget is spent: release, no reason


class FihDelivery(models.AbstractModel):
    """Sends outbound messages: format, authenticate, sign, guard, classify."""

    _name = "fih.delivery"
    _description = "Outbound Delivery"

    # -- entry point ----------------------------------------------------------

    @api.model
    def _deliver(self, backend, messages, deadline=None):
        """Send claimed messages, several at a time; the outcomes of the
        calls that came back together commit together, in one transaction,
        while the next calls are on the wire (counted in the breaker before
        any new call starts).

        The claim holds only the oldest waiting message of each record, so the
        messages of one call are for distinct records and may travel side by
        side without reordering any record's events. All database work
        (render, sign, read secrets, record outcomes) happens here, in the
        job's thread; only the HTTP exchange runs in a small thread pool of
        ``outbound_concurrency`` threads. When deliveries must pause (circuit
        open, rate limit, the job's time is up), no new call starts and the
        messages not sent yet are released at once, without using up their
        attempts; calls already under way finish and are recorded.
        """
        messages = self._with_content(messages)
        breaker = self._circuit_breaker(backend)
        # the healthy case costs no breaker query per message: the state is
        # read once per batch and written only when it changes
        state = self._breaker_state(backend)
        pending = self._units(messages)
        signing = {}  # the signing secret, decrypted once for this round
        width = max(backend.outbound_concurrency, 1)
        threshold = max(backend.breaker_threshold, 1)
        in_flight = {}  # future -> (the unit of messages it carries, its call)
        unrecorded = []  # calls back and counted, outcomes not written yet
        with ThreadPoolExecutor(
            max_workers=max(min(width, len(pending)), 1),
            thread_name_prefix="fih-delivery",
        ) as pool:
            while pending or in_flight:
                pause = None
                while pending and len(in_flight) < delivery_policy.calls_allowed(
                    state.status,
                    state.consecutive_failures,
                    len(in_flight),
                    width,
                    threshold,
                ):
                    if deadline and time.monotonic() > deadline:
                        pause = _TIME_UP
                        break
                    if state.status != "closed":
                        verdict = {}
                        _old, state = self._update_breaker(
                            backend,
                            lambda current, verdict=verdict: _allow(
                                breaker, current, verdict
                            ),
                        )
                        if not verdict["allowed"]:
                            pause = _paused(backend, state)
                            break
                    if not self._take_outbound_token(backend):
                        pause = _rate_limited()
                        break
                    unit = pending.pop(0)
                    try:
                        prepared = self._prepare_unit(backend, unit, signing)
                    except Exception as exc:  # noqa: BLE001 - this unit's problem only
                        _logger.info("Message %s not prepared", unit.ids, exc_info=True)
                        prepared = (self._outcome_of(exc), None, None)
                    no_call = not isinstance(prepared, http_client.Prepared)
                    if no_call:  # refused, or not renderable: decided here
                        state = self._conclude(backend, breaker, state, unit, prepared)
                    else:
                        in_flight[pool.submit(http_client.transport, prepared)] = (
                            unit,
                            prepared,
                        )
                if pause:
                    unsent = self.env["fih.message"].browse(
                        [message_id for unit in pending for message_id in unit.ids]
                    )
                    self._release(backend, unsent, None if pause is _TIME_UP else pause)
                    pending = []
                # written while the calls just started are on the wire: the
                # calls that came back together, in one committed transaction
                self._record_all(unrecorded)
                unrecorded = []
                if not in_flight:
                    continue
                done, _running = wait(in_flight, return_when=FIRST_COMPLETED)
                finished = []
                for future in sorted(
                    done, key=lambda done_future: in_flight[done_future][0].ids
                ):
                    unit, prepared = in_flight.pop(future)
                    try:
                        result = self._finish(backend, unit, future.result(), prepared)
                    except Exception as exc:  # noqa: BLE001 - this unit's problem only
                        _logger.info("Delivery of %s failed", unit.ids, exc_info=True)
                        result = (self._outcome_of(exc), None, None)
                    finished.append((unit, result))
                # counted before any new call starts (the breaker decides it)
                for _unit, result in finished:
                    state = self._count_outcome(backend, breaker, state, result[0])
                unrecorded += finished
        self._record_all(unrecorded)

    def _with_content(self, messages):
        """The claimed messages that can be sent: those noted without content
        (their subscription takes it when the event is sent) get it first, in
        a transaction committed before any call; those that cannot get it are
        failed with the reason and left out.

        Runs before this job's own transaction reads anything, so that its
        snapshot, taken at its first statement, sees the committed content.
        """
        with read_committed_cursor(self.env.registry) as cr:
            cr.execute(
                "SELECT id FROM fih_message WHERE id IN %s AND payload IS NULL",
                (tuple(messages.ids) or (0,),),
            )
            thin_ids = [row[0] for row in cr.fetchall()]
            if not thin_ids:
                return messages
            env = self.env(cr=cr, su=True)
            failed = env["fih.outbox"]._prepare_later_events(
                env["fih.message"].browse(thin_ids)
            )
            failed_ids = failed.ids
        messages.invalidate_recordset()
        return messages - messages.browse(failed_ids)

    def _conclude(self, backend, breaker, state, unit, result):
        """Record one call's outcome for every message it carried and count
        it in the breaker; return the breaker state."""
        outcome, status, excerpt = result
        self._record(unit, outcome, status=status, excerpt=excerpt)
        return self._count_outcome(backend, breaker, state, outcome)

    def _units(self, messages):
        """What one call carries: a message, or up to ``batch_max_events``
        messages of one subscription that takes batches, in id order."""
        units, open_batches = [], {}
        for message in messages.sorted("id"):
            subscription = message.subscription_id
            if not subscription or subscription.delivery_mode != "batch":
                units.append(message)
                continue
            index = open_batches.get(subscription.id)
            if index is None or len(units[index]) >= max(
                subscription.batch_max_events, 1
            ):
                open_batches[subscription.id] = len(units)
                units.append(message)
            else:
                units[index] |= message
        return units

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

    def _prepare_unit(self, backend, unit, signing=None):
        """Render, sign and authenticate one call (ORM, job's thread): a
        :class:`http_client.Prepared`, or ``(outcome, status, excerpt)`` when
        no call is to be made. ``signing``: where the decrypted signing
        secret is kept for the calls of one delivery round (held in memory
        for that round only, never written anywhere)."""
        message = unit[0]
        if not message.subscription_id:
            reason = self.env._("The subscription of this message was deleted.")
            return delivery_policy.Outcome("permanent", reason, None), None, None
        Client = self.env["fih.http.client"]
        subscription = message.subscription_id
        if subscription.delivery_mode == "batch":
            # receivers deduplicate on webhook-id: the same members give the
            # same id on every retry and replay; each event keeps its own id
            # inside
            body = outbound_formats.render_json_batch(
                [json.loads(member.payload) for member in unit]
            )
            content_type = "application/json"
            webhook_id = outbound_formats.batch_webhook_id(self._wire_keys(unit))
        else:
            body, content_type = self._render(backend, message)
            webhook_id = self._wire_keys(message)[0]
        headers = {"Content-Type": content_type}
        if backend.has_webhook_secret and content_type == "application/json":
            # receivers deduplicate on webhook-id: it is the same on every
            # retry and replay, and the signature is computed over it
            if signing is None:
                signing = {}
            if "secret" not in signing:
                signing["secret"] = backend._get_secret("webhook_secret")
            headers.update(standard_webhooks.sign(signing["secret"], webhook_id, body))
        prepared = Client._prepare(
            backend,
            "POST",
            Client._url(backend, subscription.endpoint_path),
            headers,
            body,
        )
        if isinstance(prepared, http_client.Reply):
            return self._finish(backend, unit, prepared)
        return prepared

    def _finish(self, backend, unit, answer, prepared=None):
        """``(outcome, status, excerpt)`` of the answer to ``unit``'s call
        (a :class:`http_client.Transported`, or the :class:`http_client.Reply`
        of a call not made)."""
        Client = self.env["fih.http.client"]
        subscription = unit[0].subscription_id
        if isinstance(answer, http_client.Reply):
            reply = answer
        else:
            reply = Client._reply(answer)
            if reply.status == 401 and backend.auth_type == "oauth2":
                # the token expired early: a new one, and the call once more
                Client._forget_token(backend, prepared.headers)
                prepared = self._prepare_unit(backend, unit)
                if not isinstance(prepared, http_client.Prepared):
                    return prepared
                reply = Client._reply(http_client.transport(prepared))
        if reply.error or reply.status is None:
            return reply.outcome, None, reply.error
        excerpt = delivery_policy.response_excerpt(
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
                payload_id=outbound_formats.cxml_payload_id(
                    self._wire_keys(message)[0]
                ),
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

    def _wire_keys(self, messages):
        """The key each of ``messages`` travels under, in their order: that
        of the event it replays, followed back to the first message, so a
        replay reaches the receiver under the id it already knows and is
        recognised as the same event (a replay's own key stays unique in the
        exchange log). An original costs no query."""
        return [
            # the hub's own log: the first message is the replay's, whoever
            # may read it now
            outbound_formats.first_of_chain(
                message.sudo(), _replayed_message
            ).idempotency_key
            for message in messages
        ]

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

    def _record(self, messages, outcome, status=None, excerpt=None):
        """Write the outcome of one call for each message it carried, in a
        committed transaction of its own."""
        self._record_all([(messages, (outcome, status, excerpt))])

    def _record_all(self, finished):
        """Write the outcome of calls, ``[(messages, (outcome, status,
        excerpt))]``, for each message they carried, in one committed
        transaction. Messages retried together (a batch) get the same next
        attempt, so that they travel together again and the receiver sees the
        same batch webhook-id."""
        if not finished:
            return
        with read_committed_cursor(self.env.registry) as cr:
            env = self.env(cr=cr, su=True)
            now = fields.Datetime.now()
            wake_ups = set()  # (backend, 10-second slot) of each retry
            delivered = defaultdict(list)  # identical values -> message ids
            for messages, (outcome, status, excerpt) in finished:
                records = env["fih.message"].browse(messages.ids)
                if outcome.kind == "delivered":
                    duplicate = (
                        outcome.reason if "duplicate" in outcome.reason else False
                    )
                    delivered[(status, excerpt, duplicate)] += records.ids
                    continue
                next_attempt = None
                if outcome.kind not in ("delivered", "permanent"):
                    first = records[0]
                    delay = delivery_policy.next_delay(
                        max(records.mapped("attempts")),
                        outcome.retry_after,
                        first.backend_id.retry_base_seconds,
                        6 * 3600,
                        random.random,
                    )
                    next_attempt = now + timedelta(seconds=delay)
                    wake_ups.add((first.backend_id, _wake_up_at(next_attempt)))
                for record in records:
                    self._write_outcome(
                        record, outcome, status, excerpt, now, next_attempt
                    )
            for (status, excerpt, duplicate), ids in delivered.items():
                self._write_delivered(
                    env["fih.message"].browse(ids), status, excerpt, duplicate, now
                )
            for backend, moment in sorted(wake_ups, key=lambda w: (w[0].id, w[1])):
                backend._enqueue_work("outbound", eta=moment)
        for messages, _result in finished:
            messages.invalidate_recordset()

    def _write_delivered(self, records, status, excerpt, duplicate, now):
        """Mark delivered messages done, each with its latency from its own
        receipt, in one statement (the state and the latency change
        together: the exchange log's counters see both at once). The hub's
        own log, so plain SQL like the inbound flow's results; a receiver's
        "already received" note goes through the ORM, which also keeps the
        masked copy of the text."""
        if duplicate:
            for record in records:
                record.write(
                    {
                        "state": "done",
                        "done_at": now,
                        "lease_until": False,
                        "http_status": status,
                        "response_excerpt": excerpt,
                        "error_kind": False,
                        "error_message": duplicate,
                        "latency_ms": int(
                            (now - record.received_at).total_seconds() * 1000
                        ),
                    }
                )
            records.flush_recordset()
        else:
            records.flush_recordset()
            # on the outcome's own cursor (``records``'), committed with it
            records.env.cr.execute(
                """
                UPDATE fih_message
                   SET state = 'done', done_at = %(now)s, lease_until = NULL,
                       http_status = %(status)s, response_excerpt = %(excerpt)s,
                       error_kind = NULL, error_message = NULL,
                       error_message_masked = NULL,
                       latency_ms = (EXTRACT(EPOCH FROM %(now)s - received_at)
                                     * 1000)::int,
                       write_date = %(now)s, write_uid = %(uid)s
                 WHERE id IN %(ids)s
                """,
                {
                    "now": now,
                    "status": status,
                    "excerpt": excerpt or None,
                    "uid": records.env.uid,
                    "ids": tuple(records.ids),
                },
            )
            records.invalidate_recordset()
        for record in records.filtered("exception_group_id"):
            record._close_exception_activities()

    def _write_outcome(self, record, outcome, status, excerpt, now, next_attempt):
        values = {
            "lease_until": False,
            "http_status": status,
            "response_excerpt": excerpt,
        }
        if outcome.kind == "permanent":
            values.update(
                state="failed",
                error_kind="permanent",
                error_message=outcome.reason,
            )
        else:
            values.update(self._retry_values(record, outcome, now, next_attempt))
        record.write(values)
        if values["state"] in ("failed", "dead"):
            record._schedule_exception_activity(values["error_message"])

    def _retry_values(self, record, outcome, now, next_attempt):
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
        return {
            "state": "received",
            "error_kind": "transient",
            "error_message": outcome.reason,
            "next_attempt_at": next_attempt,
        }


def _replayed_message(message):
    """The message ``message`` replays (empty for an original)."""
    return message.replay_of_id


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
