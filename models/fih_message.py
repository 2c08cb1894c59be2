import hashlib
import json
import logging
import math
import traceback
from contextlib import contextmanager
from datetime import timedelta
from typing import NamedTuple

import psycopg2
from psycopg2.extras import execute_values

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..lib import canonical, mapping_engine, masking
from ..lib.supplier_payload import PayloadError

_logger = logging.getLogger(__name__)

# How long a claimed message may stay "processing" before the sweeper assumes
# its worker died and hands it back.
PROCESSING_LEASE = timedelta(minutes=15)
# days a payload is kept after processing, by the backend's data classification
RETENTION_DEFAULT_DAYS = {
    "public": 365,
    "internal": 365,
    "confidential": 180,
    "restricted": 90,
}
PURGE_CHUNK = 1000
# what a finance user may change on a message (the rest is the hub's)
USER_WRITABLE_FIELDS = {"resolution_partner_id"}
MESSAGE_STATES = [
    ("received", "Received"),
    ("processing", "Processing"),
    ("done", "Done"),
    ("failed", "Needs attention"),
    ("dead", "Dead letter"),
    ("skipped", "Skipped (outdated)"),
    ("cancelled", "Cancelled"),
]


class FihPermanentError(Exception):
    """Retrying cannot help: the payload or the configuration must change."""

    def __init__(self, message, detail=None, kind="permanent"):
        super().__init__(message)
        self.detail = detail
        self.kind = kind


class FihBusinessException(FihPermanentError):
    """A finance user must decide; the message carries an activity."""

    def __init__(self, message, detail=None):
        super().__init__(message, detail=detail, kind="business")


class FihSkipped(Exception):
    """Nothing to apply (e.g. older than what Odoo already has); not an error."""


class FihTransientError(Exception):
    """Worth retrying later (the other side or a lock was not available)."""


@contextmanager
def read_committed_cursor(registry):
    """A new cursor whose transaction runs at READ COMMITTED, committed on exit.

    Odoo's REPEATABLE READ turns a row changed by a concurrent, committed
    transaction into a serialization error; for the queue-like statements of
    the hub (INSERT .. ON CONFLICT, UPDATE .. SKIP LOCKED) waiting for or
    skipping that row is the intended behaviour.
    """
    with registry.cursor() as cr:
        if not registry.in_test_mode():  # the test cursor is already in use
            cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        yield cr


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


class FihMessage(models.Model):
    _name = "fih.message"
    _description = "Integration Message"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _rec_names_search = ["idempotency_key", "event_type"]

    backend_id = fields.Many2one(
        "fih.backend",
        required=True,
        index=True,
        ondelete="restrict",
        readonly=True,
        help="External system the message came from or goes to.",
    )
    company_id = fields.Many2one(
        related="backend_id.company_id", store=True, index=True, readonly=True
    )
    direction = fields.Selection(
        [("inbound", "Inbound"), ("outbound", "Outbound")],
        required=True,
        readonly=True,
        default="inbound",
    )
    event_type = fields.Char(
        required=True,
        readonly=True,
        index=True,
        help="What happened, e.g. supplier.upsert.",
    )
    idempotency_key = fields.Char(
        required=True,
        readonly=True,
        help="Identifier of the event at the source. The same key from the same "
        "backend is stored once, however often it is delivered.",
    )
    delivery_id = fields.Char(
        readonly=True,
        help="webhook-id of the HTTP delivery that carried the event.",
    )
    correlation_id = fields.Char(
        readonly=True,
        index=True,
        help="Shared by all messages of one request or business transaction.",
    )
    state = fields.Selection(
        MESSAGE_STATES,
        required=True,
        default="received",
        readonly=True,
        index=True,
        help="Received: waiting to be processed. Needs attention: a person must "
        "fix the data or decide. Dead letter: retried until the limit, then "
        "parked; retry it once the cause is fixed.",
    )
    attempts = fields.Integer(
        readonly=True, default=0, help="Processing attempts so far."
    )
    received_at = fields.Datetime(readonly=True, default=fields.Datetime.now)
    started_at = fields.Datetime(readonly=True, help="Start of the last attempt.")
    done_at = fields.Datetime(readonly=True)
    lease_until = fields.Datetime(readonly=True)
    next_attempt_at = fields.Datetime(
        readonly=True, help="Earliest time of the next automatic retry."
    )
    latency_ms = fields.Integer(
        string="Latency (ms)",
        readonly=True,
        help="Time from receipt to the last processing result.",
    )
    payload = fields.Text(
        string="Raw Payload",
        readonly=True,
        groups="finance_integration_hub.group_fih_manager,"
        "finance_integration_hub.group_fih_service",
        help="The event exactly as received; replays start from it.",
    )
    payload_display = fields.Text(
        string="Payload",
        compute="_compute_payload_display",
        help="The event as received. Bank accounts, tax ids and contact details "
        "are masked unless you are an Integration Manager or the backend's data "
        "is classified public or internal.",
    )
    payload_sha256 = fields.Char(string="Payload SHA-256", readonly=True)
    source_document = fields.Text(
        string="Original document",
        readonly=True,
        groups="finance_integration_hub.group_fih_manager",
        help="The cXML or UBL document as received (shared secrets redacted); "
        "the payload holds its canonical form.",
    )
    payload_purged_at = fields.Datetime(
        readonly=True,
        help="The payload was deleted at the end of its retention period; the "
        "message's other data is kept for audit.",
    )
    error_kind = fields.Selection(
        [
            ("permanent", "Data or configuration"),
            ("business", "Decision needed"),
            ("transient", "Temporary"),
        ],
        readonly=True,
    )
    error_message = fields.Text(
        string="Problem",
        readonly=True,
        help="What went wrong, in business words.",
    )
    error_detail = fields.Text(
        string="Technical Detail",
        readonly=True,
        groups="finance_integration_hub.group_fih_manager",
    )
    object_type = fields.Char(
        readonly=True, help="Canonical object the event is about, e.g. supplier."
    )
    mapping_id = fields.Many2one(
        "fih.mapping",
        readonly=True,
        index="btree_not_null",
        help="Mapping version that turned the payload into the canonical document; "
        "empty when the backend sends the canonical shape.",
    )
    canonical_payload = fields.Text(
        readonly=True,
        groups="finance_integration_hub.group_fih_manager,"
        "finance_integration_hub.group_fih_service",
        help="The canonical document the mapping produced.",
    )
    subscription_id = fields.Many2one(
        "fih.subscription", readonly=True, ondelete="set null", index="btree_not_null"
    )
    record_model = fields.Char(
        readonly=True, help="Odoo record an outbound message is about."
    )
    record_id = fields.Many2oneReference(model_field="record_model", readonly=True)
    http_status = fields.Integer(
        string="HTTP Status", readonly=True, help="Answer of the last delivery."
    )
    response_excerpt = fields.Text(
        readonly=True,
        groups="finance_integration_hub.group_fih_manager,"
        "finance_integration_hub.group_fih_service",
        help="Beginning of the receiving system's last answer.",
    )
    exception_group_id = fields.Many2one(
        "fih.exception.group",
        string="Exception",
        readonly=True,
        index="btree_not_null",
        help="Root cause this message fails for, shared with similar messages.",
    )
    resolution_partner_id = fields.Many2one(
        "res.partner",
        string="Link to Supplier",
        help="Set by a finance user to link the incoming supplier to this "
        "existing partner on the next attempt.",
    )
    replay_of_id = fields.Many2one(
        "fih.message",
        readonly=True,
        index="btree_not_null",
        help="Original message this one replays.",
    )
    link_ids = fields.One2many(
        "fih.message.link", "message_id", string="Records", readonly=True
    )
    operator_action_ids = fields.One2many(
        "fih.operator.action", "message_id", string="Operator Actions", readonly=True
    )

    _sql_constraints = [
        (
            "idempotency_uniq",
            "unique(backend_id, direction, idempotency_key)",
            "This event was already received from this backend.",
        ),
    ]

    def init(self):
        # claim query: oldest due messages of one backend
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS fih_message_due_idx
                ON fih_message (backend_id, id)
             WHERE state = 'received'
            """
        )
        # outbound claim: the oldest waiting message of each record
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS fih_message_outbound_head_idx
                ON fih_message (backend_id, record_model, record_id, id)
             WHERE direction = 'outbound'
               AND state IN ('received', 'processing', 'failed', 'dead')
            """
        )
        # history of a business document (smart buttons)
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS fih_message_record_idx
                ON fih_message (record_model, record_id)
             WHERE record_model IS NOT NULL
            """
        )

    @api.model_create_multi
    def create(self, vals_list):
        self._check_hub_write()
        return super().create(vals_list)

    def write(self, vals):
        protected = {
            name
            for name in vals
            if name not in USER_WRITABLE_FIELDS
            and not name.startswith(("message_", "activity_"))
        }
        if protected:
            self._check_hub_write()
        return super().write(vals)

    def _check_hub_write(self):
        """Only the hub (its service users, or code running as superuser) writes
        the log: a person editing a payload would bypass the signature check."""
        if self.env.su or self.env.user.has_group(
            "finance_integration_hub.group_fih_service"
        ):
            return
        raise AccessError(
            self.env._(
                "Integration messages are written by the integration only; use "
                "Retry, Replay or Cancel."
            )
        )

    @api.depends("payload")
    @api.depends_context("uid")
    def _compute_payload_display(self):
        sees_all = self.env.user.has_group("finance_integration_hub.group_fih_manager")
        for message in self:
            raw = message.sudo().payload or ""
            classification = message.backend_id.sudo().data_classification
            if sees_all or classification in ("public", "internal"):
                message.payload_display = raw
                continue
            try:
                document = json.loads(raw)
            except ValueError:
                message.payload_display = self.env._("(hidden: sensitive data)")
                continue
            message.payload_display = json.dumps(
                masking.mask_document(document), indent=2, ensure_ascii=False
            )

    @api.depends("event_type", "idempotency_key")
    def _compute_display_name(self):
        for message in self:
            message.display_name = f"{message.event_type} {message.idempotency_key}"

    # -- intake -----------------------------------------------------------

    @api.model
    def _store_inbound_events(
        self, backend_id, company_id, events, delivery_id, correlation_id
    ):
        """Store events once each; return one dict per event, in order.

        Deduplication is the unique constraint: INSERT .. ON CONFLICT DO
        NOTHING, which also holds under concurrent redelivery.
        """
        now = fields.Datetime.now()
        uid = self.env.uid
        rows = []
        for event in events:
            raw = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
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
                    hashlib.sha256(raw.encode()).hexdigest(),
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
        self.invalidate_model()
        return [
            {
                "event_id": key,
                "message_id": new_ids.get(key) or existing.get(key),
                "duplicate": key not in new_ids,
            }
            for key in keys
        ]

    # -- claiming and processing -------------------------------------------

    @api.model
    def _claim_inbound(self, backend, limit, due_by=None):
        """Mark up to ``limit`` due messages as processing and commit that.

        Only messages due by ``due_by`` (the start of the drain) are claimed:
        a retry scheduled during the drain waits for its own wake-up job
        instead of being hammered in the same run.
        Times use clock_timestamp(): now() is the start of the transaction.
        The claim is committed on its own cursor so that a worker killed
        mid-batch leaves "processing" messages with an expiring lease (the
        sweeper hands them back) and the attempt is counted.
        """
        self.flush_model()
        with read_committed_cursor(self.env.registry) as cr:
            cr.execute(
                """
                UPDATE fih_message
                   SET state = 'processing',
                       attempts = coalesce(attempts, 0) + 1,
                       started_at = clock_timestamp() AT TIME ZONE 'UTC',
                       lease_until = clock_timestamp() AT TIME ZONE 'UTC' + %s,
                       next_attempt_at = NULL
                 WHERE id IN (
                        SELECT id FROM fih_message
                         WHERE backend_id = %s AND direction = 'inbound'
                           AND state = 'received'
                           AND (next_attempt_at IS NULL OR next_attempt_at
                                <= LEAST(clock_timestamp() AT TIME ZONE 'UTC',
                                         coalesce(%s::timestamp, 'infinity')))
                         ORDER BY id
                         LIMIT %s
                           FOR UPDATE SKIP LOCKED)
             RETURNING id
                """,
                (PROCESSING_LEASE, backend.id, due_by, limit),
            )
            ids = sorted(row[0] for row in cr.fetchall())
        return self.browse(ids)

    @api.model
    def _claim_outbound(self, backend, limit, due_by=None):
        """Claim due outbound messages, only the oldest waiting one per record.

        A record's later events wait while an earlier one is being delivered,
        retried, or needs attention (per-record order: a receiver never gets
        an older state after a newer one); other records are not held up.
        """
        self.flush_model()
        with read_committed_cursor(self.env.registry) as cr:
            cr.execute(
                """
                WITH heads AS (
                    SELECT DISTINCT ON (record_model, record_id)
                           id, state, next_attempt_at
                      FROM fih_message
                     WHERE backend_id = %(backend)s AND direction = 'outbound'
                       AND state IN ('received', 'processing', 'failed', 'dead')
                     ORDER BY record_model, record_id, id
                )
                UPDATE fih_message
                   SET state = 'processing',
                       attempts = coalesce(attempts, 0) + 1,
                       started_at = clock_timestamp() AT TIME ZONE 'UTC',
                       lease_until = clock_timestamp() AT TIME ZONE 'UTC' + %(lease)s,
                       next_attempt_at = NULL
                 WHERE id IN (
                        SELECT m.id FROM fih_message m JOIN heads h ON h.id = m.id
                         -- on m, re-checked once locked: another worker may
                         -- have claimed it since the heads were read
                         WHERE m.state = 'received'
                           AND (m.next_attempt_at IS NULL OR m.next_attempt_at
                                <= LEAST(clock_timestamp() AT TIME ZONE 'UTC',
                                         coalesce(%(due_by)s::timestamp, 'infinity')))
                         ORDER BY m.id
                         LIMIT %(limit)s
                           FOR UPDATE OF m SKIP LOCKED)
             RETURNING id
                """,
                {
                    "backend": backend.id,
                    "lease": PROCESSING_LEASE,
                    "limit": limit,
                    "due_by": due_by,
                },
            )
            ids = sorted(row[0] for row in cr.fetchall())
        return self.browse(ids)

    def _process(self):
        """Process claimed messages in a fresh transaction, committed at the end.

        Business changes and the "done" state commit together, so a crash
        can never apply a message twice.
        """
        if not self:
            return
        self.env.flush_all()
        with self._accounting_turn():
            with self.env.registry.cursor() as cr:
                env = self.env(cr=cr)
                env["fih.message"].browse(self.ids)._process_in_transaction()
        self.invalidate_recordset()

    @contextmanager
    def _accounting_turn(self):
        """Batches that post documents take turns per company.

        Posting numbers moves from one journal sequence: two batches posting
        at once would fail with a serialization error and be redone. The
        lock is taken on a connection of its own *before* the batch's
        transaction starts, so the batch's snapshot already sees the
        previous batch's numbers.
        """
        with self.env.registry.cursor() as lock_cr:
            try:
                # read on this fresh cursor: the caller's snapshot may predate
                # the messages
                lock_cr.execute(
                    """
                    SELECT DISTINCT company_id FROM fih_message
                     WHERE id IN %s AND event_type IN %s ORDER BY company_id
                    """,
                    (tuple(self.ids), tuple(sorted(SERIAL_EVENT_TYPES))),
                )
                for (company_id,) in lock_cr.fetchall():
                    lock_cr.execute(
                        "SELECT pg_advisory_xact_lock(%s, %s)",
                        (ACCOUNTING_LOCK_NAMESPACE, company_id),
                    )
                yield
            finally:
                # ends the lock's transaction; it wrote nothing (and under tests
                # this keeps the batch's work, which shares the connection)
                lock_cr.commit()

    def _handler_models(self):
        """Event type -> model implementing ``_fih_process(messages)``."""
        return {
            "supplier.upsert": "fih.supplier.handler",
            "purchase_order.upsert": "fih.purchase.order.handler",
            "goods_receipt.upsert": "fih.goods.receipt.handler",
            "ship_notice.upsert": "fih.ship.notice.handler",
            "invoice.upsert": "fih.invoice.handler",
            "payment.upsert": "fih.payment.handler",
        }

    def _process_in_transaction(self):
        handlers = self._handler_models()
        outcomes = {}
        by_type = {}
        for message in self:
            if message.event_type in handlers:
                by_type.setdefault(message.event_type, self.browse())
                by_type[message.event_type] |= message
            else:
                outcomes[message.id] = FihPermanentError(
                    self.env._(
                        "No flow handles events of type '%(type)s'. Known types: "
                        "%(known)s.",
                        type=message.event_type,
                        known=", ".join(sorted(handlers)),
                    )
                )
        for event_type, messages in by_type.items():
            handler = self.env[handlers[event_type]]
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
                if hashlib.sha256(message.sudo().payload.encode()).hexdigest() != (
                    message.payload_sha256
                ):
                    raise FihPermanentError(
                        self.env._(
                            "The stored payload no longer matches what was received "
                            "(its fingerprint differs); it is not processed."
                        )
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
                    )
                if errors:
                    raise PayloadError(errors)
                company = self._route_company(backend, document)
                refusal = self.env["fih.sor.rule"]._owner_refusal(
                    company, object_type, backend
                )
                if refusal:
                    raise FihBusinessException(refusal)
            except mapping_engine.MappingError as exc:
                refused[message.id] = PayloadError(exc.errors)
                continue
            except RecursionError:
                refused[message.id] = FihPermanentError(
                    self.env._("The payload is nested too deeply to be processed.")
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
                )
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
        handler = handler.with_context(fih_origin_backend_id=messages.backend_id.id)
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
        values = {"lease_until": False, "latency_ms": latency, "error_detail": detail}
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
                    "The integration is not allowed to do this: %s", message_text
                )
            values.update(state="failed", error_kind=kind, error_message=message_text)
            self.sudo().write(values)
            self._schedule_exception_activity(message_text)
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
            self._schedule_exception_activity(values["error_message"])
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
        self.backend_id._enqueue_processing(eta=wake_up)

    def _transient_reason(self, exc):
        if isinstance(exc, TRANSIENT_DB_ERRORS):
            return self.env._(
                "The database was busy with a concurrent change; it will be "
                "retried automatically."
            )
        if isinstance(exc, FihTransientError):
            return str(exc)
        return self.env._(
            "Unexpected error (%s); it will be retried automatically. If it "
            "persists, give the technical detail to your integration team.",
            type(exc).__name__,
        )

    # -- exceptions for finance users ------------------------------------------

    def _schedule_exception_activity(self, summary_text):
        """File the message under its root cause; the cause's first message
        gives the exception handler one activity for all of them."""
        activity_type = self.env.ref(
            "finance_integration_hub.mail_activity_type_integration_exception"
        )
        Group = self.env["fih.exception.group"].sudo()
        for message in self.sudo():
            group, created = Group._for_cause(
                message.backend_id, message.error_kind or "permanent", summary_text
            )
            message.exception_group_id = group
            if created:
                group.activity_schedule(
                    activity_type_id=activity_type.id,
                    summary=self.env._(
                        "Integration exception (%s)", message.backend_id.name
                    ),
                    note=summary_text,
                    user_id=message.backend_id._exception_user().id,
                )

    def _close_exception_activities(self):
        groups = self.sudo().exception_group_id
        if groups:
            groups._refresh()

    # -- sweeper -----------------------------------------------------------

    @api.model
    def _cron_recover(self):
        """Hand back messages of dead workers and restart idle backends."""
        self = self.sudo()  # a system task: it writes the log as the hub
        self.flush_model()
        self.env.cr.execute(
            """
            SELECT m.id FROM fih_message m
             WHERE m.state = 'processing'
               AND m.lease_until < clock_timestamp() AT TIME ZONE 'UTC'
            """
        )
        stale = self.browse([row[0] for row in self.env.cr.fetchall()])
        for message in stale:
            policy = message.backend_id._retry_policy()
            if message.attempts >= policy.max_attempts:
                reason = self.env._(
                    "Processing was interrupted %s times (worker stopped or "
                    "timed out); parked as a dead letter.",
                    message.attempts,
                )
                message.write(
                    {
                        "state": "dead",
                        "lease_until": False,
                        "error_kind": "transient",
                        "error_message": reason,
                    }
                )
                message._schedule_exception_activity(reason)
            else:
                message.write({"state": "received", "lease_until": False})
        self.flush_model()
        self.env.cr.execute(
            """
            SELECT DISTINCT backend_id, direction FROM fih_message
             WHERE state = 'received'
               AND (next_attempt_at IS NULL
                    OR next_attempt_at <= clock_timestamp() AT TIME ZONE 'UTC')
            """
        )
        Backend = self.env["fih.backend"]
        for backend_id, direction in self.env.cr.fetchall():
            backend = Backend.browse(backend_id)
            if backend.active:
                backend._enqueue_work(direction)
        return len(stale)

    # -- retention -------------------------------------------------------------

    @api.model
    def _cron_purge_payloads(self, chunk=PURGE_CHUNK):
        """Delete payloads past their retention, in bounded chunks.

        Only settled messages (done, skipped, cancelled) lose their payload;
        messages that may still be retried keep it. The rest of the message
        stays for audit. Returns the number of payloads purged.
        """
        params = self.env["ir.config_parameter"].sudo()
        now = fields.Datetime.now()
        purged = 0
        for classification, default_days in RETENTION_DEFAULT_DAYS.items():
            days = int(
                params.get_param(
                    f"finance_integration_hub.retention_days_{classification}",
                    default_days,
                )
            )
            self.env.cr.execute(
                """
                UPDATE fih_message
                   SET payload = NULL, canonical_payload = NULL,
                       response_excerpt = NULL, payload_purged_at = %s
                 WHERE id IN (
                        SELECT m.id FROM fih_message m
                          JOIN fih_backend b ON b.id = m.backend_id
                         WHERE b.data_classification = %s
                           AND m.received_at < %s
                           AND m.payload IS NOT NULL
                           AND m.state IN ('done', 'skipped', 'cancelled')
                         ORDER BY m.id
                         LIMIT %s)
                """,
                (now, classification, now - timedelta(days=days), chunk - purged),
            )
            purged += self.env.cr.rowcount
            if purged >= chunk:
                break
        self.invalidate_model(["payload", "canonical_payload", "response_excerpt"])
        if purged:
            self.env["fih.audit.log"].sudo().create(
                {
                    "res_model": self._name,
                    "record_name": self.env._("Exchange log"),
                    "action": "purge",
                    "changes": f'{{"payloads_purged": {purged}}}',
                }
            )
        # a full chunk: the cron runs again at once for the rest
        self.env["ir.cron"]._notify_progress(
            done=purged, remaining=1 if purged >= chunk else 0
        )
        return purged

    # -- operator actions ----------------------------------------------------

    def _log_operator_action(self, action, reason):
        self.env["fih.operator.action"].sudo().create(
            [
                {"message_id": message.id, "action": action, "reason": reason or False}
                for message in self
            ]
        )

    def action_retry(self, reason=None):
        """Process messages that need attention or are dead letters again now."""
        retryable = self.filtered(lambda m: m.state in ("failed", "dead"))
        if not retryable:
            raise UserError(
                self.env._(
                    "Only messages that need attention or are dead letters can be "
                    "retried."
                )
            )
        retryable.check_access("write")
        retryable._log_operator_action("retry", reason)
        retryable.sudo().write(
            {"state": "received", "next_attempt_at": False, "attempts": 0}
        )
        for message in retryable:
            message.backend_id._enqueue_work(message.direction)
        return True

    def action_replay(self, reason=None):
        """Process the stored payload again as a new message."""
        if any(m.state not in ("done", "cancelled") for m in self):
            raise UserError(
                self.env._(
                    "Only processed or cancelled messages can be replayed; retry "
                    "the others."
                )
            )
        if any(m.payload_purged_at for m in self):
            raise UserError(
                self.env._(
                    "The payload of this message was deleted at the end of its "
                    "retention period: it cannot be replayed."
                )
            )
        self.check_access("write")
        self._log_operator_action("replay", reason)
        replays = self.browse()
        for message in self:
            count = self.search_count([("replay_of_id", "=", message.id)])
            replays |= self.sudo().create(
                {
                    "backend_id": message.backend_id.id,
                    "direction": message.direction,
                    "event_type": message.event_type,
                    "idempotency_key": f"{message.idempotency_key}:replay:{count + 1}",
                    "delivery_id": message.delivery_id,
                    "correlation_id": message.correlation_id,
                    # raw payloads are for the hub; the user's right was checked
                    "payload": message.sudo().payload,
                    "payload_sha256": message.payload_sha256,
                    "replay_of_id": message.id,
                    "subscription_id": message.subscription_id.id,
                    "record_model": message.record_model,
                    "record_id": message.record_id,
                    "object_type": message.object_type,
                }
            )
        for replay in replays:
            replay.backend_id._enqueue_work(replay.direction)
        return replays.sudo(False)

    def action_cancel(self, reason=None):
        """Give up on messages on purpose; they are kept for audit."""
        if any(m.state in ("done", "processing") for m in self):
            raise UserError(
                self.env._("Processed or running messages cannot be cancelled.")
            )
        if not reason:
            raise UserError(self.env._("Say why the messages are cancelled."))
        self.check_access("write")
        self._log_operator_action("cancel", reason)
        self.sudo().write({"state": "cancelled", "next_attempt_at": False})
        self._close_exception_activities()
        return True

    def action_open_wizard(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "finance_integration_hub.fih_message_action_wizard_action"
        )
        action["context"] = {
            "default_message_ids": self.ids,
            "default_action": self.env.context.get("fih_action", "retry"),
        }
        return action


class _RetryWithout(Exception):
    """Internal signal: roll the batch back and retry it without these messages."""

    def __init__(self, errors):
        super().__init__()
        self.errors = errors


class Document(NamedTuple):
    """A canonical document ready for a flow, with the company it lands in."""

    data: dict
    company: models.BaseModel
