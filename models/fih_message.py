from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from ..lib import envelope, fingerprint
from ..tools import master_keys

# days a payload is kept after processing, by the backend's data classification
RETENTION_DEFAULT_DAYS = {
    "public": 365,
    "internal": 365,
    "confidential": 180,
    "restricted": 90,
}
PURGE_CHUNK = 1000
# a replay's key is the original's key, this mark and its number
REPLAY_KEY_MARK = envelope.RESERVED_ID_MARK
REPLAY_KEY_PROBES = 20  # replay keys looked up at once
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


class FihMessage(models.Model):
    _name = "fih.message"
    _description = "Integration Message"
    _inherit = ["mail.thread", "mail.activity.mixin", "fih.masked.texts.mixin"]
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
        string="Age at Result (ms)",
        readonly=True,
        help="Time from receipt to the last processing result, waiting and "
        "retries included.",
    )
    processing_ms = fields.Integer(
        string="Processing Time (ms)",
        readonly=True,
        help="Time the last attempt took, from its start to its result (set by "
        "the database when the message gets its result).",
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
    payload_sha256 = fields.Char(
        string="Payload Fingerprint",
        readonly=True,
        groups="finance_integration_hub.group_fih_manager,"
        "finance_integration_hub.group_fih_service",
        help="Keyed fingerprint (HMAC-SHA256 under a key kept outside the "
        "database) of the payload as received: proves the stored payload was "
        "not changed, and cannot be used to guess masked values.",
    )
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
        # the choices; the rule itself is _check_resolution_partner
        domain="[('parent_id', '=', False), ('company_id', 'in', [company_id, False]),"
        " ('user_ids', '=', False)]",
        help="Set by a finance user to link the incoming supplier to this "
        "existing partner on the next attempt: a supplier (not a contact) of this "
        "company or shared, never a company's or a user's own partner.",
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
        if vals.get("resolution_partner_id"):
            self._check_resolution_partner(
                self.env["res.partner"].browse(vals["resolution_partner_id"])
            )
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

    # -- fingerprints ------------------------------------------------------

    @api.model
    def _fingerprint_keys(self):
        """Keys of the payload fingerprints: the master keys (outside the
        database), newest first; without any, the database's own secret,
        which only administrators can read, so that the exchange log keeps
        working on a server not yet given a master key."""
        try:
            keys = master_keys()
        except UserError:
            keys = []
        database_secret = (
            self.env["ir.config_parameter"].sudo().get_param("database.secret")
        )
        return [*keys, database_secret] if database_secret else keys

    @api.model
    def _fingerprint(self, raw):
        """The keyed fingerprint stored in ``payload_sha256`` for ``raw``."""
        return fingerprint.fingerprint(self._fingerprint_keys(), raw)

    @api.model
    def _identifier_token(self, identifier):
        """A keyed stand-in for a supplier identifier in a message key.

        Keyed with the database's own secret, not the master key: a message
        key must stay the same when the master key is rotated, or a document
        sent again after a rotation would not be known as a redelivery. It
        hides the identifier from readers of the exchange log, who cannot
        read that secret (administrators only)."""
        database_secret = (
            self.env["ir.config_parameter"].sudo().get_param("database.secret")
        )
        return fingerprint.token([database_secret], identifier)

    @api.model
    def _fingerprint_matches(self, stored, raw):
        """Whether ``stored`` is the fingerprint of ``raw`` (keyed, or a plain
        SHA-256 stored before keyed fingerprints); a fingerprint made with a
        master key no longer configured is a readable UserError."""
        try:
            return fingerprint.matches(self._fingerprint_keys(), stored, raw)
        except fingerprint.UnknownKeyError as exc:
            raise UserError(
                self.env._(
                    "The payload's fingerprint was made with a master key that is "
                    "no longer configured: add the previous key back to "
                    "fih_master_key (after the new one) and retry."
                )
            ) from exc

    # -- exceptions for finance users ------------------------------------------

    # _schedule_exception_activity: see fih_message_processing.py (by cause)

    def _close_exception_activities(self):
        groups = self.sudo().exception_group_id
        if groups:
            groups._refresh()

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
            replays |= self.sudo().create(
                {
                    "backend_id": message.backend_id.id,
                    "direction": message.direction,
                    "event_type": message.event_type,
                    "idempotency_key": message._next_replay_key(),
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

    def _next_replay_key(self):
        """``<key>:replay:<n>``: the first number after this message's replays
        so far that no message of its backend holds yet. A sender may have
        sent such an id itself; its event must not block the replay."""
        self.ensure_one()
        number = self.sudo().search_count([("replay_of_id", "=", self.id)])
        while True:
            keys = [
                f"{self.idempotency_key}{REPLAY_KEY_MARK}{number + step}"
                for step in range(1, REPLAY_KEY_PROBES + 1)
            ]
            self.env.cr.execute(
                """
                SELECT idempotency_key FROM fih_message
                 WHERE backend_id = %s AND direction = %s
                   AND idempotency_key IN %s
                """,
                (self.backend_id.id, self.direction, tuple(keys)),
            )
            taken = {key for (key,) in self.env.cr.fetchall()}
            free = [key for key in keys if key not in taken]
            if free:
                return free[0]
            number += REPLAY_KEY_PROBES

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
