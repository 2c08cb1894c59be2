import json
import logging
import math
import traceback
from contextlib import contextmanager
from datetime import timedelta
from typing import NamedTuple

import psycopg2
from psycopg2.extras import execute_values

from odoo import fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..exceptions import (
    FihBusinessException,
    FihPermanentError,
    FihSkipped,
    FihTransientError,
)
from ..lib import canonical, causes, mapping_engine
from ..lib.supplier_payload import PayloadError
from .fih_outbox import InboundOrigin

_logger = logging.getLogger(__name__)

# flows that post accounting documents (journal sequences) or move stock
SERIAL_EVENT_TYPES = {
    "purchase_order.upsert",
    "goods_receipt.upsert",
    "invoice.upsert",
    "payment.upsert",
}
ACCOUNTING_LOCK_NAMESPACE = 0x0F1C

TRANSIENT_DB_ERRORS = (
    psycopg2.errors.SerializationFailure,
    psycopg2.errors.DeadlockDetected,
    psycopg2.errors.LockNotAvailable,
    psycopg2.OperationalError,
)


class FihMessageProcessing(models.Model):
    """The pipeline of a claimed batch: payload -> mapping -> canonical
    validation -> company routing -> the event type's flow -> outcome."""

    _inherit = "fih.message"

    cause_code = fields.Char(
        readonly=True, help="Why the message failed, as a code (lib/causes.py)."
    )
    cause_params = fields.Json(readonly=True)
    failed_at = fields.Datetime(readonly=True, help="When it last failed.")

    def _process(self):
        """Process claimed messages in a fresh transaction, committed at the end.

        Business changes and the "done" state commit together, so a crash
        can never apply a message twice. A batch whose transaction fails as a
        whole (a serialization error at commit...) is handed back for a retry
        at once: no message waits in "processing" for its lease to expire.
        """
        if not self:
            return
        self.env.flush_all()
        with self._accounting_turn():
            try:
                with self.env.registry.cursor() as cr:
                    env = self.env(cr=cr)
                    env["fih.message"].browse(self.ids)._process_in_transaction()
            except TRANSIENT_DB_ERRORS as exc:
                _logger.info("batch not committed (%s); handed back for a retry", exc)
                self._hand_back(exc)
        self.invalidate_recordset()

    def _hand_back(self, exc):
        """Record a transient failure for the batch's messages still processing."""
        with self.env.registry.cursor() as cr:
            messages = self.with_env(self.env(cr=cr)).sudo().browse(self.ids)
            now = fields.Datetime.now()
            for message in messages.filtered(lambda m: m.state == "processing"):
                latency = int((now - message.received_at).total_seconds() * 1000)
                message._record_failure(exc, now, latency)

    @contextmanager
    def _accounting_turn(self):
        """Batches that post documents take turns per company.

        Posting numbers moves from one journal sequence: two batches posting
        at once would fail with a serialization error and be redone. The
        lock is taken on a connection of its own *before* the batch's
        transaction starts, so the batch's snapshot already sees the
        previous batch's numbers.
        """
        lock_cr = self.env.registry.cursor()
        try:
            # read on this fresh cursor: the caller's snapshot may predate
            # the messages
            # the backend's company, and every company its entity codes
            # route documents to (cross-reference table 'companies')
            lock_cr.execute(
                """
                WITH serial AS (
                    SELECT DISTINCT backend_id, company_id FROM fih_message
                     WHERE id IN %s AND event_type IN %s
                )
                SELECT company_id FROM serial
                 UNION
                SELECT split_part(e.record_ref, ',', 2)::int
                  FROM serial
                  JOIN fih_value_map v ON v.code = 'companies'
                       AND (v.backend_id = serial.backend_id
                            OR v.backend_id IS NULL)
                  JOIN fih_value_map_entry e ON e.map_id = v.id
                 WHERE e.record_ref LIKE 'res.company,%%'
                 ORDER BY 1
                """,
                (tuple(self.ids), tuple(sorted(SERIAL_EVENT_TYPES))),
            )
            companies = [row[0] for row in lock_cr.fetchall()]
            if not companies and not self.env.registry.in_test_mode():
                # nothing to take turns for: no connection held meanwhile
                lock_cr.commit()
                lock_cr.close()
                lock_cr = None
            for company_id in companies:
                lock_cr.execute(
                    "SELECT pg_advisory_xact_lock(%s, %s)",
                    (ACCOUNTING_LOCK_NAMESPACE, company_id),
                )
            yield
        finally:
            if lock_cr is not None:
                # ends the lock's transaction; it wrote nothing (and under
                # tests this keeps the batch's work, which shares the
                # connection)
                lock_cr.commit()
                lock_cr.close()

    def _process_in_transaction(self):
        """Apply the batch in arrival order: consecutive messages of one event
        type go to their flow together, and a change of type starts a new
        run, so a bill never overtakes the receipt or order change that came
        before it."""
        handlers = self.env["fih.handler"]._fih_handlers()
        outcomes = {}
        runs = []  # [(event type, messages)] in arrival order
        for message in self.sorted("id"):
            if message.event_type not in handlers:
                outcomes[message.id] = FihPermanentError(
                    self.env._(
                        "No flow handles events of type '%(type)s'. Known types: "
                        "%(known)s.",
                        type=message.event_type,
                        known=", ".join(sorted(handlers)),
                    ),
                    cause="event.unknown_type",
                    params={"type": message.event_type},
                )
            elif runs and runs[-1][0] == message.event_type:
                runs[-1] = (message.event_type, runs[-1][1] | message)
            else:
                runs.append((message.event_type, message))
        for event_type, messages in runs:
            handler = handlers[event_type]
            barred = handler._fih_refuse_kinds(messages)  # the backend's kind
            outcomes.update(barred)
            messages = messages.filtered(lambda m, b=barred: m.id not in b)
            if not messages:
                continue
            documents, refused = messages._prepare_documents(handler._fih_object_type)
            outcomes.update(refused)
            ready = messages.filtered(lambda m, d=documents: m.id in d)
            if ready:
                outcomes.update(self._run_handler(handler, ready, documents))
        self._record_outcomes(outcomes)

    def _prepare_documents(self, object_type):
        """Map each payload to the canonical model, validate it, route it.

        Returns ``({message_id: Document}, {message_id: exception})``.
        """
        documents, refused = {}, {}
        backend = self.backend_id
        mapping = self.env["fih.mapping"]._find_active(backend, object_type)
        mapped = []
        for message in self:
            try:
                if not message._fingerprint_matches(
                    message.sudo().payload_sha256, message.sudo().payload
                ):
                    raise FihPermanentError(
                        self.env._(
                            "The stored payload no longer matches what was received "
                            "(its fingerprint differs); it is not processed."
                        ),
                        cause="payload.altered",
                    )
                data = json.loads(message.payload)["data"]
                document = mapping._apply(data) if mapping else data
                errors = canonical.validate(object_type, document)
                if errors and not mapping:
                    raise FihPermanentError(
                        self.env._(
                            "%(backend)s has no active mapping for %(object)s "
                            "(API version %(version)s), so its payloads must be in "
                            "the canonical shape, and this one is not: %(errors)s",
                            backend=backend.name,
                            object=object_type,
                            version=backend.api_version or "-",
                            errors="; ".join(
                                f"{e['path']}: {e['reason']}" for e in errors[:5]
                            ),
                        ),
                        detail=json.dumps(errors),
                        cause="schema.invalid",
                        params={"path": errors[0]["path"]},
                    )
                if errors:
                    raise PayloadError(errors)
                company = self._route_company(backend, document)
                refusal = self.env["fih.sor.rule"]._owner_refusal(
                    company, object_type, backend
                )
                if refusal:
                    raise FihBusinessException(
                        refusal,
                        cause="ownership.refused",
                        params={"object": object_type},
                    )
            except mapping_engine.MappingError as exc:
                refused[message.id] = PayloadError(exc.errors)
                refused[message.id].cause = "mapping.failed"
                continue
            except RecursionError:
                refused[message.id] = FihPermanentError(
                    self.env._("The payload is nested too deeply to be processed."),
                    cause="schema.invalid",
                    params={"path": "$"},
                )
                continue
            except (PayloadError, FihPermanentError) as exc:
                refused[message.id] = exc
                continue
            documents[message.id] = Document(document, company)
            if mapping:
                mapped.append(
                    (message.id, json.dumps(document, ensure_ascii=False, default=str))
                )
        self._record_mapping(object_type, mapping, mapped)
        return documents, refused

    def _route_company(self, backend, document):
        """Company of an entity code (multi-entity routing), else the backend's."""
        code = document.get("company_code")
        if not code:
            return backend.company_id
        company = self.env["fih.value.map"]._record_for("companies", code, backend)
        if not company or company._name != "res.company":
            raise FihPermanentError(
                self.env._(
                    "The entity code '%(code)s' has no company in the "
                    "cross-reference table 'companies' of %(backend)s.",
                    code=code,
                    backend=backend.name,
                ),
                cause="company.unknown",
                params={"code": code},
            )
        return company

    def _record_mapping(self, object_type, mapping, mapped):
        """Which mapping version produced what, in one statement per batch."""
        self.env.cr.execute(
            "UPDATE fih_message SET object_type = %s, mapping_id = %s WHERE id IN %s",
            (object_type, mapping.id or None, tuple(self.ids)),
        )
        if mapped:
            execute_values(
                self.env.cr,
                """
                UPDATE fih_message m SET canonical_payload = v.document
                  FROM (VALUES %s) AS v(id, document) WHERE m.id = v.id
                """,
                mapped,
            )
        self.invalidate_recordset(["object_type", "mapping_id", "canonical_payload"])

    def _run_handler(self, handler, messages, documents):
        """Apply a batch in one savepoint; set aside what fails, then isolate.

        Messages the handler refuses are rolled back with the batch, which is
        tried once more without them; an unexpected error processes each
        message alone so that good ones are never lost.
        """
        # changes made here must not be sent back to the backend they came from
        handler = handler.with_context(
            fih_inbound_origin=InboundOrigin(messages.backend_id.id)
        )
        refused = {}
        batch = messages
        while len(batch) > 1:
            try:
                with self.env.cr.savepoint():
                    outcomes = handler._fih_process(batch, documents)
                    errors = {
                        key: value
                        for key, value in outcomes.items()
                        if isinstance(value, Exception)
                    }
                    if not errors:
                        return {**refused, **outcomes}
                    raise _RetryWithout(errors)
            except _RetryWithout as retry:
                if set(retry.errors) & set(refused):
                    break  # no progress: isolate
                refused.update(retry.errors)
                batch = batch.filtered(lambda m: m.id not in refused)
            except Exception:  # noqa: BLE001 - isolated per message below
                _logger.debug("batch not applied as a whole, isolating messages")
                break
        outcomes = dict(refused)
        for message in batch:
            try:
                with self.env.cr.savepoint():
                    result = handler._fih_process(message, documents)[message.id]
                    if isinstance(result, Exception):
                        raise result
                    outcomes[message.id] = result
            except Exception as exc:  # noqa: BLE001 - classified in _record_outcomes
                exc.fih_trace = traceback.format_exc()
                outcomes[message.id] = exc
        return outcomes

    def _record_outcomes(self, outcomes):
        now = fields.Datetime.now()
        links = []
        done_ids = []
        for message in self:
            outcome = outcomes[message.id]
            if isinstance(outcome, FihSkipped):
                message.sudo().write(
                    {
                        "state": "skipped",
                        "done_at": now,
                        "lease_until": False,
                        "error_kind": False,
                        "error_message": str(outcome),
                    }
                )
                message._close_exception_activities()
                continue
            if isinstance(outcome, Exception):
                latency = int((now - message.received_at).total_seconds() * 1000)
                message._record_failure(outcome, now, latency)
                continue
            done_ids.append(message.id)
            links.extend(
                {
                    "message_id": message.id,
                    "res_model": model_name,
                    "res_id": record_id,
                    "operation": operation,
                }
                for model_name, record_id, operation in outcome
            )
        if done_ids:
            # one statement for the whole batch; latency differs per row
            self.env.cr.execute(
                """
                UPDATE fih_message
                   SET state = 'done', done_at = %(now)s, lease_until = NULL,
                       error_kind = NULL, error_message = NULL, error_detail = NULL,
                       error_message_masked = NULL,
                       latency_ms = (EXTRACT(EPOCH FROM %(now)s - received_at)
                                     * 1000)::int,
                       write_date = %(now)s, write_uid = %(uid)s
                 WHERE id IN %(ids)s
                """,
                {"now": now, "uid": self.env.uid, "ids": tuple(done_ids)},
            )
            done = self.browse(done_ids)
            done.invalidate_recordset()
            if done.filtered("exception_group_id"):
                done._close_exception_activities()
        if links:
            self.env["fih.message.link"].create(links)

    def _record_failure(self, exc, now, latency):
        self.ensure_one()
        detail = getattr(exc, "fih_trace", None) or "".join(
            traceback.format_exception(exc)
        )
        values = {
            "lease_until": False,
            "latency_ms": latency,
            "error_detail": detail,
            "failed_at": now,
        }
        code, params = self._cause_of(exc)
        if isinstance(exc, PayloadError):
            exc = FihPermanentError(
                self.env._("The payload is invalid: %s", exc),
                detail=json.dumps(exc.errors),
            )
        if isinstance(exc, FihPermanentError | UserError | ValidationError):
            kind = getattr(exc, "kind", "permanent")
            message_text = exc.args[0] if exc.args else str(exc)
            if isinstance(exc, AccessError):
                message_text = self.env._(
                    "The integration's service user lacks the right for this; "
                    "ask an Integration Manager to give it that right. "
                    "Refusal: %s",
                    message_text,
                )
            values.update(state="failed", error_kind=kind, error_message=message_text)
            self.sudo().write(values)
            self._schedule_exception_activity(message_text, code, params)
            return
        policy = self.backend_id._retry_policy()
        age = (now - self.received_at).total_seconds()
        reason = self._transient_reason(exc)
        if policy.gives_up(self.attempts, age):
            values.update(
                state="dead",
                error_kind="transient",
                error_message=self.env._(
                    "Gave up after %(attempts)s attempts: %(reason)s",
                    attempts=self.attempts,
                    reason=reason,
                ),
            )
            self.sudo().write(values)
            self._schedule_exception_activity(values["error_message"], code, params)
            return
        # whole seconds, rounded up: the column drops fractions, and a retry
        # must never become due earlier than the policy says
        next_attempt = now + timedelta(seconds=math.ceil(policy.delay(self.attempts)))
        # one delayed job per backend and minute, however many messages wait
        wake_up = next_attempt.replace(second=0, microsecond=0) + timedelta(minutes=1)
        values.update(
            state="received",
            error_kind="transient",
            error_message=reason,
            next_attempt_at=next_attempt,
        )
        self.sudo().write(values)
        self.backend_id._enqueue_work("inbound", eta=wake_up)

    def _cause_of(self, exc):
        """The cause code and parameters of a failure (generic when unnamed)."""
        params = dict(getattr(exc, "params", None) or {})
        code = getattr(exc, "cause", None)
        if isinstance(exc, PayloadError):
            code = code or "schema.invalid"
            errors = exc.errors or [{}]
            params.setdefault("path", errors[0].get("path") or "$")
        elif isinstance(exc, TRANSIENT_DB_ERRORS):
            code = "error.unexpected"
        if isinstance(exc, FihTransientError | FihPermanentError):
            kind = getattr(exc, "kind", "transient")
        elif isinstance(exc, UserError | ValidationError):
            kind = "permanent"
        else:
            kind = "transient"
        return causes.normalize(code, kind), params

    # -- exceptions for finance users ------------------------------------------

    def _schedule_exception_activity(self, summary_text, cause=None, params=None):
        """Record the cause of the failure; the message is filed under its
        cause's group (backend + cause code + the parameter the fix depends
        on) once this transaction commits, and the group gives the exception
        handler one activity for all its messages.

        ``summary_text`` is the message's problem, as stored in
        ``error_message``. Filing never undoes or blocks the failure itself.
        """
        messages = self.sudo()
        left = self.env["fih.exception.group"].sudo()
        for message in messages:
            code = causes.normalize(
                cause or message._derived_cause(), message.error_kind or "permanent"
            )
            values = {
                "cause_code": code,
                "cause_params": params or {},
                "failed_at": fields.Datetime.now(),
            }
            group = message.exception_group_id
            if group and not group._fih_has_cause(code, params):
                # failed again for another cause: filed under the new one
                values["exception_group_id"] = False
                left |= group
            message.write(values)
        messages.flush_recordset()
        if left:
            # the groups it left are resolved when nothing else is open there
            left._refresh()
        self.env["fih.exception.group"].sudo()._file_after_commit(
            self.env.cr, messages.ids
        )
        # filed on a cursor of its own (at once under tests)
        self.invalidate_recordset(["exception_group_id"])

    def _derived_cause(self):
        """The cause of a failure reported as text only (deliveries, sweeper)."""
        self.ensure_one()
        if self.direction == "outbound" and self.http_status in (401, 403):
            return "auth.expired"
        if self.direction == "outbound" and 400 <= (self.http_status or 0) < 500:
            return "delivery.refused"
        if self.state == "dead" and self.error_kind == "transient":
            if self.direction == "outbound" or self.http_status:
                return "service.unavailable"
            return "processing.interrupted"
        return None

    def _transient_reason(self, exc):
        if isinstance(exc, TRANSIENT_DB_ERRORS):
            return self.env._(
                "The database was busy with a concurrent change; it will be "
                "retried automatically."
            )
        if isinstance(exc, FihTransientError):
            return str(exc)
        # the error's technical name stays in the technical detail only
        return self.env._(
            "Unexpected error; it will be retried automatically. If it "
            "persists, give the technical detail to your integration team."
        )


class _RetryWithout(Exception):
    """Internal signal: roll the batch back and retry it without these messages."""

    def __init__(self, errors):
        super().__init__()
        self.errors = errors


class Document(NamedTuple):
    """A canonical document ready for a flow, with the company it lands in."""

    data: dict
    company: models.BaseModel
