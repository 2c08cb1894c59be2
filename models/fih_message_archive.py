from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

# messages moved per run of the archive cron; each run commits on its own
ARCHIVE_CHUNK = 2000
SETTLED_STATES = ("done", "skipped", "cancelled")


class FihMessageArchive(models.Model):
    """Settled messages that left the exchange log: what was received, when,
    with which result and which records it touched. Read-only.

    A message moves here in one transaction (copied, then deleted from the
    log), so it is in exactly one of the two. The counters of the log
    (fih.message.stat) keep counting it.
    """

    _name = "fih.message.archive"
    _inherit = ["fih.masked.texts.mixin"]
    _description = "Archived Integration Message"
    _order = "message_id desc"
    _rec_names_search = ["idempotency_key", "event_type"]

    message_id = fields.Integer(
        string="Message ID",
        required=True,
        readonly=True,
        help="Number the message had in the exchange log; audit entries and "
        "operator actions refer to it.",
    )
    backend_id = fields.Many2one(
        "fih.backend", required=True, readonly=True, index=True, ondelete="restrict"
    )
    company_id = fields.Many2one("res.company", readonly=True, index=True)
    direction = fields.Selection(
        [("inbound", "Inbound"), ("outbound", "Outbound")], readonly=True
    )
    event_type = fields.Char(readonly=True)
    idempotency_key = fields.Char(readonly=True)
    delivery_id = fields.Char(readonly=True)
    correlation_id = fields.Char(readonly=True, index=True)
    state = fields.Selection(
        [
            ("done", "Done"),
            ("skipped", "Skipped (outdated)"),
            ("cancelled", "Cancelled"),
        ],
        readonly=True,
    )
    attempts = fields.Integer(readonly=True)
    received_at = fields.Datetime(readonly=True, index=True)
    done_at = fields.Datetime(readonly=True)
    latency_ms = fields.Integer(string="Latency (ms)", readonly=True)
    # as on the message: no fingerprint to test a guess of a masked value
    payload_sha256 = fields.Char(
        string="Payload SHA-256",
        readonly=True,
        groups="finance_integration_hub.group_fih_manager,"
        "finance_integration_hub.group_fih_service",
    )
    payload_purged_at = fields.Datetime(readonly=True)
    error_message = fields.Text(string="Last problem", readonly=True)
    object_type = fields.Char(readonly=True)
    record_model = fields.Char(readonly=True)
    record_id = fields.Integer(readonly=True)
    replay_of_message_id = fields.Integer(string="Replay of Message ID", readonly=True)
    exception_group_id = fields.Many2one(
        "fih.exception.group", string="Exception", readonly=True, ondelete="set null"
    )
    records = fields.Text(
        string="Records touched",
        readonly=True,
        help="The records the message created or changed: model, id, operation.",
    )
    archived_at = fields.Datetime(readonly=True)

    _sql_constraints = [
        (
            "message_uniq",
            "unique(message_id)",
            "A message is archived once.",
        ),
    ]

    @api.depends("event_type", "idempotency_key")
    def _compute_display_name(self):
        for message in self:
            message.display_name = f"{message.event_type} {message.idempotency_key}"

    def write(self, vals):  # pylint: disable=method-required-super
        raise UserError(self.env._("The message archive cannot be changed."))

    def unlink(self):  # pylint: disable=method-required-super
        raise UserError(self.env._("The message archive cannot be deleted."))

    # -- moving messages -----------------------------------------------------

    @api.model
    def _archivable_ids(self, limit):
        """Ids of settled messages past their backend's archive delay.

        Only messages whose payload is gone (purged, or never stored), that
        no person acted on (their operator actions are the audit trail and
        stay with the message) and that no message replays.
        """
        now = fields.Datetime.now()
        ids = []
        backends = self.env["fih.backend"].with_context(active_test=False).search([])
        for backend in backends.sorted("id"):
            if len(ids) >= limit:
                break
            cutoff = now - timedelta(days=backend._archive_after_days())
            self.env.cr.execute(
                """
                SELECT m.id FROM fih_message m
                 WHERE m.backend_id = %s
                   AND m.received_at < %s
                   AND m.state IN %s
                   AND m.payload IS NULL
                   AND NOT EXISTS (SELECT 1 FROM fih_operator_action a
                                    WHERE a.message_id = m.id)
                   AND NOT EXISTS (SELECT 1 FROM fih_message r
                                    WHERE r.replay_of_id = m.id)
                 ORDER BY m.received_at, m.id
                 LIMIT %s
                   FOR UPDATE SKIP LOCKED
                """,
                (backend.id, cutoff, SETTLED_STATES, limit - len(ids)),
            )
            ids.extend(row[0] for row in self.env.cr.fetchall())
        return ids

    @api.model
    def _cron_archive_messages(self, chunk=ARCHIVE_CHUNK):
        """Move up to ``chunk`` old settled messages to the archive.

        Copy and delete happen in this one transaction: a run that is killed
        leaves nothing half-moved, and the next run goes on where it stopped.
        A full chunk asks the scheduler to run again at once. Returns the
        number of messages archived.
        """
        self = self.sudo()  # a system task
        Message = self.env["fih.message"]
        Message.flush_model()
        ids = self._archivable_ids(chunk)
        if ids:
            self.env.cr.execute(
                """
                INSERT INTO fih_message_archive (
                    message_id, backend_id, company_id, direction, event_type,
                    idempotency_key, delivery_id, correlation_id, state, attempts,
                    received_at, done_at, latency_ms, payload_sha256,
                    payload_purged_at, error_message, object_type, record_model,
                    record_id, replay_of_message_id, exception_group_id, records,
                    archived_at, create_uid, create_date, write_uid, write_date)
                SELECT m.id, m.backend_id, m.company_id, m.direction, m.event_type,
                       m.idempotency_key, m.delivery_id, m.correlation_id, m.state,
                       m.attempts, m.received_at, m.done_at, m.latency_ms,
                       m.payload_sha256, m.payload_purged_at, m.error_message,
                       m.object_type, m.record_model, m.record_id, m.replay_of_id,
                       m.exception_group_id,
                       (SELECT json_agg(json_build_object('model', l.res_model,
                                                          'id', l.res_id,
                                                          'operation', l.operation)
                                        ORDER BY l.id)::text
                          FROM fih_message_link l WHERE l.message_id = m.id),
                       now() AT TIME ZONE 'UTC', %(uid)s, now() AT TIME ZONE 'UTC',
                       %(uid)s, now() AT TIME ZONE 'UTC'
                  FROM fih_message m
                 WHERE m.id IN %(ids)s
                ON CONFLICT (message_id) DO NOTHING
                RETURNING id
                """,
                {"ids": tuple(ids), "uid": self.env.uid},
            )
            self._compute_masked_copies_of([row[0] for row in self.env.cr.fetchall()])
            # the ORM's delete also removes the messages' chatter, followers,
            # activities and record links
            Message.browse(ids).unlink()
        return self._chunk_done(
            ids, chunk, Message._name, self.env._("Exchange log"), "archive"
        )

    @api.model
    def _cron_purge_archive(self, chunk=ARCHIVE_CHUNK):
        """Delete up to ``chunk`` archived messages past their backend's
        keeping period, recorded in the audit trail. Returns how many."""
        self = self.sudo()  # a system task
        now = fields.Datetime.now()
        ids = []
        backends = self.env["fih.backend"].with_context(active_test=False).search([])
        for backend in backends.sorted("id"):
            if len(ids) >= chunk:
                break
            cutoff = now - relativedelta(years=backend.archive_keep_years)
            self.env.cr.execute(
                """
                SELECT id FROM fih_message_archive
                 WHERE backend_id = %s AND received_at < %s
                 ORDER BY received_at, id
                 LIMIT %s
                   FOR UPDATE SKIP LOCKED
                """,
                (backend.id, cutoff, chunk - len(ids)),
            )
            ids.extend(row[0] for row in self.env.cr.fetchall())
        if ids:
            # the archive refuses unlink() to everyone; its own keeping period
            # is the one way out, logged below
            self.env.cr.execute(
                "DELETE FROM fih_message_archive WHERE id IN %s", (tuple(ids),)
            )
            self.invalidate_model()
        return self._chunk_done(
            ids, chunk, self._name, self.env._("Message archive"), "archive_purge"
        )

    def _chunk_done(self, ids, chunk, res_model, record_name, action):
        """One audit entry for a chunk moved or deleted; a full chunk asks
        the scheduler to run again at once. Returns how many."""
        if ids:
            self.env["fih.audit.log"].create(
                {
                    "res_model": res_model,
                    "record_name": record_name,
                    "action": action,
                    "changes": f'{{"messages": {len(ids)}}}',
                }
            )
        self.env["ir.cron"]._notify_progress(
            done=len(ids), remaining=1 if len(ids) >= chunk else 0
        )
        return len(ids)

    def _compute_masked_copies_of(self, archive_ids):
        """Fill the masked copies of rows copied by SQL, as the ORM would:
        clerks search and export these, never the raw texts."""
        archives = self.browse(archive_ids)
        for name in ("error_message_masked", "idempotency_key_masked"):
            self.env.add_to_compute(self._fields[name], archives)
        archives.flush_recordset()


class FihAuditLogArchive(models.Model):
    _inherit = "fih.audit.log"

    action = fields.Selection(
        selection_add=[
            ("archive", "Messages archived"),
            ("archive_purge", "Archived messages deleted"),
        ],
        ondelete={"archive": "cascade", "archive_purge": "cascade"},
    )
