import contextlib
import dataclasses
import json
import logging
import uuid

import psycopg2
from psycopg2.extras import execute_values

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import AccessError

from .fih_subscription import EVENTS

_logger = logging.getLogger(__name__)

# context key of changes applied from one backend's inbound messages
INBOUND_ORIGIN = "fih_inbound_origin"


@dataclasses.dataclass(frozen=True)
class InboundOrigin:
    """The backend whose inbound message is being applied: its changes are
    not sent back to it (no sync loops). Only the hub's processing sets it;
    a remote caller's context (JSON) cannot carry this object, so a person
    cannot pass their own change off as that backend's."""

    backend_id: int


class FihOutbox(models.AbstractModel):
    """Transactional outbox: business changes write their events here, in the
    same transaction; queue_job delivers them after the commit.

    A subscription takes the event's content either with the change (the
    record as saved, prepared in the saving transaction) or when the event is
    sent (the saving transaction only notes which record changed; the
    delivery job prepares the content right after the commit, off the user's
    save)."""

    _name = "fih.outbox"
    _description = "Outbound Event Capture"

    @api.model
    def _emit(self, event_code, records):
        """Queue ``event_code`` for ``records`` to every subscribed backend.

        A record changed by an inbound message of a backend is not sent back
        to that backend (no sync loops).
        """
        if not records:
            return self.env["fih.message"]
        subscription_ids = self.env["fih.subscription"]._ids_for_event(event_code)
        if not subscription_ids:
            return self.env["fih.message"]
        records = records.exists()
        object_type = EVENTS[event_code][0]
        subscriptions = self.env["fih.subscription"].sudo().browse(subscription_ids)
        origin = self.env.context.get(INBOUND_ORIGIN)
        origin = origin.backend_id if isinstance(origin, InboundOrigin) else None
        now = fields.Datetime.now()
        rows = []
        for subscription in subscriptions:
            backend = subscription.backend_id
            if backend.id == origin:
                continue
            company_records = records.filtered(
                lambda r, c=backend.company_id: "company_id" not in r._fields
                or not r.company_id
                or r.company_id == c
            )
            matching = subscription._matching(company_records)
            if subscription.payload_timing == "on_delivery":
                # only which record changed: the delivery job prepares it
                rows += [
                    self._event_row(subscription, event_code, object_type, record)
                    for record in matching
                ]
                continue
            self.env.flush_all()  # once, not at each record's savepoint
            exporter = self._exporter(backend)
            readable = self._readable(exporter, matching)
            with exporter._external_ids_known(backend, object_type, readable):
                for record in matching:
                    row = self._event_row(subscription, event_code, object_type, record)
                    row.update(
                        self._prepared(
                            exporter,
                            backend,
                            record,
                            row,
                            event_code,
                            now,
                            checked=record in readable,
                        )
                    )
                    rows.append(row)
        if not rows:
            return self.env["fih.message"]
        # the log is not a document people follow: no followers, no chatter
        messages = (
            self.env["fih.message"]
            .sudo()
            .with_context(
                tracking_disable=True,
                mail_create_nolog=True,
                mail_create_nosubscribe=True,
            )
            .create(rows)
        )
        failed = messages.filtered(lambda m: m.state == "failed")
        for message in failed:
            message._schedule_exception_activity(message.error_message)
        backends = (messages - failed).backend_id
        self.env["fih.message"]._enqueue_work(
            backends, "outbound", unless_draining=True
        )
        self._wake_up_after_commit(backends)
        return messages

    @api.model
    def _event_row(self, subscription, event_code, object_type, record):
        """The exchange log row of one event, without its content."""
        return {
            "backend_id": subscription.backend_id.id,
            "direction": "outbound",
            "event_type": event_code,
            "object_type": object_type,
            "idempotency_key": f"evt_{uuid.uuid4().hex}",
            "subscription_id": subscription.id,
            "record_model": record._name,
            "record_id": record.id,
        }

    @api.model
    def _exporter(self, backend):
        """The canonical export as the backend's service user: it sees what
        its flows may send, whoever made the change."""
        return (
            self.env["fih.canonical.export"]
            .with_user(backend.service_user_id)
            .with_context(allowed_company_ids=backend.company_id.ids)
        )

    @api.model
    def _prepared(
        self, exporter, backend, record, row, event_code, occurred_at, checked=False
    ):
        """Values of one event's content: its payload and fingerprint, or
        the failure that stops it when the service user may not read the
        record (the business change goes on; the event waits for a fix).
        ``checked``: the caller already checked, for a whole batch, that the
        service user may read the record."""
        problem = None
        as_service = record.with_env(exporter.env)
        try:
            if checked:
                document = exporter._document(
                    row["object_type"], as_service, backend.with_env(exporter.env)
                )
            else:
                with self.env.cr.savepoint(flush=False):
                    # explicit: values already cached would skip the check
                    as_service.check_access("read")
                    document = exporter._document(
                        row["object_type"], as_service, backend.with_env(exporter.env)
                    )
        except AccessError as exc:
            document = {"external_id": f"odoo-{record._name}-{record.id}"}
            problem = self.env._(
                "The service user of %(backend)s may not read this "
                "record, so the event could not be prepared: %(error)s",
                backend=backend.name,
                error=exc.args[0] if exc.args else exc,
            )
        payload = json.dumps(
            {
                "id": row["idempotency_key"],
                "type": event_code,
                "occurred_at": occurred_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "data": document,
            },
            ensure_ascii=False,
            default=str,
        )
        values = {
            "payload": payload,
            "payload_sha256": self.env["fih.message"]._fingerprint(payload),
        }
        if problem:
            values.update(state="failed", error_kind="permanent", error_message=problem)
        return values

    @api.model
    def _readable(self, exporter, records):
        """The ``records`` the service user may read: one access check for
        all of them, one each only when some may not be read."""
        as_service = records.with_env(exporter.env)
        try:
            with self.env.cr.savepoint(flush=False):
                as_service.check_access("read")
            return records
        except AccessError:
            readable = records.browse()
            for record in as_service:
                try:
                    with self.env.cr.savepoint(flush=False):
                        record.check_access("read")
                    readable |= record
                except AccessError:
                    continue
            return readable.with_env(records.env)

    @api.model
    def _prepare_later_events(self, messages):
        """Give claimed events noted without content (subscriptions taking it
        when the event is sent) their payload, as the record is now. Runs in
        a transaction of its own, committed before anything is sent, so every
        retry sends the same bytes. Returns the events that cannot be sent
        (record deleted since, or unreadable by the service user): they are
        failed with the reason and a person is told; they keep no stand-in
        content, so that a retry once the cause is fixed prepares the real
        one."""
        messages = messages.sudo().filtered(lambda m: not m.payload)
        prepared, failures = [], {}
        for backend in messages.backend_id:
            exporter = self._exporter(backend)
            of_backend = messages.filtered(lambda m, b=backend: m.backend_id == b)
            for model in sorted(set(of_backend.mapped("record_model"))):
                batch = of_backend.filtered(lambda m, r=model: m.record_model == r)
                try:
                    # one savepoint, one access check and one look-up of the
                    # receiver's ids for the batch
                    with self.env.cr.savepoint(flush=False):
                        done, failed = self._prepare_batch(exporter, backend, batch)
                except psycopg2.Error:
                    # a statement failed: each event on its own, so that one
                    # record's problem stops only its event
                    done, failed = self._prepare_batch(
                        exporter, backend, batch, together=False
                    )
                prepared += done
                failures.update(failed)
        if prepared:
            # the hub's own log, in one statement: content only, no state
            self.env["fih.message"].flush_model(["payload", "payload_sha256"])
            execute_values(
                self.env.cr,
                "UPDATE fih_message SET payload = v.payload,"
                " payload_sha256 = v.sha FROM (VALUES %s) AS v(id, payload, sha)"
                " WHERE fih_message.id = v.id AND fih_message.payload IS NULL",
                prepared,
            )
            messages.invalidate_recordset(["payload", "payload_sha256"])
        failed = messages.browse()
        for message, reason in failures.items():
            message.write(
                {
                    "state": "failed",
                    "lease_until": False,
                    "error_kind": "permanent",
                    "error_message": reason,
                }
            )
            message._schedule_exception_activity(reason)
            failed |= message
        return failed

    @api.model
    def _prepare_batch(self, exporter, backend, batch, together=True):
        """Prepare the content of ``batch`` (events of one backend, on
        records of one model): ``([(id, payload, sha256)], {message:
        reason})``. ``together``: the records are read together, checked
        once and their receiver's ids looked up in one query; otherwise
        each event is prepared on its own, in a savepoint of its own."""
        prepared, failures = [], {}
        model = batch[:1].record_model
        # read together: one query per field for the whole batch
        records = self.env[model].browse(batch.mapped("record_id")).exists()
        by_id = {record.id: record for record in records}
        readable = set((self._readable(exporter, records) if together else records).ids)
        with contextlib.ExitStack() as known:
            if together:
                for object_type in sorted(set(batch.mapped("object_type"))):
                    known.enter_context(
                        exporter._external_ids_known(
                            backend, object_type, records.browse(sorted(readable))
                        )
                    )
            for message in batch:
                record = by_id.get(message.record_id)
                if record is None:
                    failures[message] = self.env._(
                        "The record of this event was deleted before the "
                        "event was sent, so there is nothing to send: cancel "
                        "this message."
                    )
                    continue
                row = {
                    "idempotency_key": message.idempotency_key,
                    "object_type": message.object_type,
                }
                try:
                    values = self._prepared(
                        exporter,
                        backend,
                        record,
                        row,
                        message.event_type,
                        message.received_at,
                        checked=together and record.id in readable,
                    )
                except Exception as exc:  # noqa: BLE001 - this event's problem only
                    if together and isinstance(exc, psycopg2.Error):
                        raise  # the transaction is lost: one by one instead
                    _logger.info("Event %s not prepared", message.id, exc_info=True)
                    failures[message] = self._not_prepared_text(type(exc).__name__)
                    continue
                if values.get("state") == "failed":
                    failures[message] = values["error_message"]
                else:
                    prepared.append(
                        (message.id, values["payload"], values["payload_sha256"])
                    )
        return prepared, failures

    def _not_prepared_text(self, cause):
        return self.env._(
            "The event could not be prepared (%s): check the record, then "
            "retry this message.",
            cause,
        )

    def _wake_up_after_commit(self, backends):
        """Look again once the events are committed: a delivery job that was
        waiting when they were written may have run and found nothing before
        the commit; without this, they would wait for the minute sweeper."""
        if not backends:
            return
        woken = self.env.cr.postcommit.data.setdefault("fih_outbound_wake_up", set())
        if not woken:
            registry = self.env.registry

            @self.env.cr.postcommit.add
            def wake_up():
                with registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    env["fih.message"]._enqueue_work(
                        env["fih.backend"].browse(sorted(woken)).exists(),
                        "outbound",
                        unless_draining=True,
                    )

        woken.update(backends.ids)
