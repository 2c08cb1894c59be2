import json
import logging
import time

import psycopg2

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..lib import causes
from ..tools import read_committed_cursor

_logger = logging.getLogger(__name__)

OPEN_STATES = ("failed", "dead")
# the sweep of unfiled failures: messages per chunk, chunks per run
FILING_CHUNK = 200
FILING_SWEEP_CHUNKS = 10
FILING_ATTEMPTS = 3
TRANSIENT_DB_ERRORS = (
    psycopg2.errors.SerializationFailure,
    psycopg2.errors.LockNotAvailable,
)
FIX_SELECTION = [(kind, label) for kind, label in causes.FIX_LABELS.items()]


class FihExceptionGroup(models.Model):
    """Messages failing for one root cause: one row, one activity, one fix.

    A group is keyed by backend + cause code (+ the parameter that makes the
    fix differ, such as the tax code): an expired credential that fails a
    thousand messages gives one exception to act on, and two missing tax
    codes give two. A group is open while one of its messages needs
    attention; the same cause failing again later reopens it.
    """

    _name = "fih.exception.group"
    _description = "Integration Exception"
    _inherit = ["mail.thread", "mail.activity.mixin", "fih.governed.mixin"]
    _order = "id desc"

    backend_id = fields.Many2one(
        "fih.backend", required=True, ondelete="cascade", index=True, readonly=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    cause_key = fields.Char(required=True, readonly=True, index=True)
    cause_code = fields.Char(readonly=True, index=True)
    cause_param = fields.Char(
        string="About", readonly=True, help="The value the cause is about."
    )
    cause_params = fields.Json(readonly=True)
    name = fields.Char(string="Problem", required=True, readonly=True)
    error_kind = fields.Selection(
        [
            ("permanent", "Data or configuration"),
            ("business", "Decision needed"),
            ("transient", "Temporary"),
        ],
        readonly=True,
    )
    fix_action = fields.Selection(FIX_SELECTION, readonly=True)
    fix_label = fields.Char(compute="_compute_fix_label")
    example_message = fields.Text(
        string="Example",
        compute="_compute_counts",
        help="What the latest of its messages says, in business words.",
    )
    state = fields.Selection(
        [("open", "Open"), ("resolved", "Resolved")],
        compute="_compute_counts",
        search="_search_state",
    )
    message_ids_open = fields.One2many(
        "fih.message",
        "exception_group_id",
        string="Failing Messages",
        readonly=True,
        domain=[("state", "in", OPEN_STATES)],
    )
    open_count = fields.Integer(string="Messages to Fix", compute="_compute_counts")
    first_seen = fields.Datetime(compute="_compute_counts")
    last_seen = fields.Datetime(compute="_compute_counts")
    age = fields.Char(
        compute="_compute_counts", help="Since the first of its open messages."
    )

    def init(self):
        # one group per cause: concurrent failures meet at this index (groups
        # of the former wording keys may repeat a key: they keep theirs apart)
        self.env.cr.execute(
            "UPDATE fih_exception_group g SET cause_key = cause_key || '#' || id"
            " WHERE EXISTS (SELECT 1 FROM fih_exception_group o"
            " WHERE o.cause_key = g.cause_key AND o.id < g.id);"
            "DROP INDEX IF EXISTS fih_exception_group_open_cause_idx;"
            "CREATE UNIQUE INDEX IF NOT EXISTS fih_exception_group_cause_uniq"
            " ON fih_exception_group (cause_key)"
        )

    @api.depends("fix_action")
    def _compute_fix_label(self):
        labels = dict(FIX_SELECTION)
        for group in self:
            group.fix_label = labels.get(group.fix_action, False)

    def _compute_counts(self):
        """Counts and ages from the messages: the filing never writes the
        group row, so concurrent failures never update the same row."""
        self.env["fih.message"].flush_model(
            [
                "exception_group_id",
                "state",
                "failed_at",
                "error_message",
                "error_message_masked",
            ]
        )
        figures = {}
        if self.ids:
            self.env.cr.execute(
                """
                SELECT exception_group_id, count(*), min(failed_at), max(failed_at),
                       (array_agg(error_message ORDER BY id DESC))[1],
                       (array_agg(error_message_masked ORDER BY id DESC))[1]
                  FROM fih_message
                 WHERE exception_group_id IN %s AND state IN %s
                 GROUP BY exception_group_id
                """,
                (tuple(self.ids), OPEN_STATES),
            )
            figures = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        now = fields.Datetime.now()
        manager = self.env.user.has_group("finance_integration_hub.group_fih_manager")
        for group in self:
            count, first, last, raw, masked = figures.get(
                group.id, (0, False, False, False, False)
            )
            # the example quotes the sender's data: masked like the messages
            example = (
                raw
                if manager
                or group.backend_id.sudo().data_classification in ("public", "internal")
                else masked
            )
            group.open_count = count
            group.state = "open" if count else "resolved"
            group.first_seen = first or group.create_date
            group.last_seen = last or group.create_date
            group.age = (
                causes.humane_age((now - first).total_seconds()) if first else False
            )
            group.example_message = example

    def _search_state(self, operator, value):
        if operator not in ("=", "!=", "in", "not in"):
            raise UserError(self.env._("This search on the state is not supported."))
        wanted = {value} if isinstance(value, str) else set(value or ())
        if operator in ("!=", "not in"):
            wanted = {"open", "resolved"} - wanted
        self.env["fih.message"].flush_model(["exception_group_id", "state"])
        self.env.cr.execute(
            "SELECT DISTINCT exception_group_id FROM fih_message"
            " WHERE exception_group_id IS NOT NULL AND state IN %s",
            (OPEN_STATES,),
        )
        open_ids = [row[0] for row in self.env.cr.fetchall()]
        if wanted == {"open"}:
            return [("id", "in", open_ids)]
        if wanted == {"resolved"}:
            return [("id", "not in", open_ids)]
        return [(1, "=", 1)] if wanted else [(0, "=", 1)]

    # -- filing ------------------------------------------------------------
    #
    # Filing runs after the failure is committed, on a short cursor of its
    # own at READ COMMITTED. Done inside the processing transaction (REPEATABLE
    # READ), it could neither see a group another job made a moment ago (a
    # serialization error on the insert, or a foreign key "not present" on the
    # link), and a failure there would undo the message's own outcome.

    @api.model
    def _file_after_commit(self, cr, message_ids):
        """File these failed messages once ``cr`` commits (at once in tests,
        where everything shares one transaction)."""
        if self.env.registry.in_test_mode():
            self._file_messages(message_ids)
            return
        pending = cr.postcommit.data.setdefault("fih.exception.filing", set())
        if not pending:
            # filing opens cursors of its own: only the registry is used here
            cr.postcommit.add(lambda: self._file_messages(sorted(pending)))
        pending.update(message_ids)

    @api.model
    def _file_messages(self, message_ids):
        """File messages under their cause's group, making it when it is the
        first; retried when the table is busy. A message that cannot be filed
        keeps its failure, and is filed with the next failure of its backend.
        """
        for attempt in range(FILING_ATTEMPTS):
            try:
                with read_committed_cursor(self.env.registry) as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    env["fih.exception.group"]._file_in_transaction(message_ids)
                return True
            except (psycopg2.errors.SerializationFailure, psycopg2.OperationalError):
                _logger.info("exception groups busy, filing again")
                time.sleep(0.05 * (attempt + 1))
            except Exception:  # noqa: BLE001 - the failures stay recorded
                _logger.exception("failed messages %s not filed", message_ids)
                return False
        _logger.warning("failed messages %s not filed: the table was busy", message_ids)
        return False

    @api.model
    def _file_in_transaction(self, message_ids):
        cr = self.env.cr
        if not self.env.registry.in_test_mode():
            # never wait long on a row held by a transaction still running
            cr.execute("SET LOCAL lock_timeout = '5s'")
        cr.execute(
            "SELECT DISTINCT backend_id FROM fih_message WHERE id IN %s",
            (tuple(message_ids) or (0,),),
        )
        backend_ids = [row[0] for row in cr.fetchall()]
        # these, and those of the same backends a busy table left unfiled
        cr.execute(
            """
            SELECT id FROM fih_message
             WHERE state IN %s AND exception_group_id IS NULL
               AND cause_code IS NOT NULL
               AND (id IN %s OR backend_id IN %s)
             ORDER BY id
             LIMIT 500
            """,
            (OPEN_STATES, tuple(message_ids) or (0,), tuple(backend_ids) or (0,)),
        )
        messages = self.env["fih.message"].browse([row[0] for row in cr.fetchall()])
        by_key = {}
        for message in messages:
            code = causes.normalize(message.cause_code, message.error_kind)
            key = causes.group_key(message.backend_id.id, code, message.cause_params)
            by_key.setdefault(key, []).append(message)
        for key, filed in sorted(by_key.items()):
            group_id = self._group_for(key, filed[0])
            cr.execute(
                "UPDATE fih_message SET exception_group_id = %s"
                " WHERE id IN %s AND exception_group_id IS NULL",
                (group_id, tuple(m.id for m in filed)),
            )
        self.env["fih.message"].invalidate_model(["exception_group_id"])

    def _group_for(self, key, message):
        """The group of ``key``, made from ``message`` when it is the first;
        its activity is scheduled when it has none (first or reopened)."""
        cr = self.env.cr
        backend = message.backend_id
        code = causes.normalize(message.cause_code, message.error_kind)
        params = message.cause_params or {}
        cause = causes.find(code)
        kind = message.error_kind or cause.kind
        now = fields.Datetime.now()
        cr.execute(
            """
            INSERT INTO fih_exception_group
                (backend_id, company_id, cause_key, cause_code, cause_param,
                 cause_params, name, error_kind, fix_action,
                 create_uid, create_date, write_uid, write_date)
            VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (cause_key) DO NOTHING
            """,
            (
                backend.id,
                backend.company_id.id,
                key,
                code,
                causes.key_value(code, params) or None,
                json.dumps(params, default=str),
                causes.short_title(code, params),
                kind,
                cause.fix,
                self.env.uid,
                now,
                self.env.uid,
                now,
            ),
        )
        # concurrent filings of one cause take turns from here to the commit;
        # the lock does not conflict with messages pointing to the group
        cr.execute(
            "SELECT id FROM fih_exception_group WHERE cause_key = %s"
            " FOR NO KEY UPDATE",
            (key,),
        )
        group = self.browse(cr.fetchone()[0])
        cr.execute(
            "SELECT 1 FROM mail_activity WHERE res_model = %s AND res_id = %s LIMIT 1",
            (self._name, group.id),
        )
        if not cr.fetchone():
            note = (
                message.error_message
                if backend.data_classification in ("public", "internal")
                else message.error_message_masked
            )
            group.activity_schedule(
                "finance_integration_hub.mail_activity_type_integration_exception",
                summary=self.env._(
                    "Integration exception (%(backend)s): %(cause)s",
                    backend=backend.name,
                    cause=causes.short_title(code, params),
                ),
                note=note,
                user_id=backend._exception_user().id,
            )
        return group.id

    def _fih_has_cause(self, code, params):
        """Whether this group is the one of cause ``code`` with ``params``."""
        self.ensure_one()
        return (self.cause_code, self.cause_param or "") == (
            code,
            causes.key_value(code, params),
        )

    @api.model
    def _cron_file_unfiled(self, chunk=FILING_CHUNK, chunks=FILING_SWEEP_CHUNKS):
        """File failed messages left out of the exception inbox (their filing
        failed, or their worker stopped before it), in bounded chunks."""
        self.env["fih.message"].flush_model()
        last_id = 0
        for _chunk in range(chunks):
            self.env.cr.execute(
                """
                SELECT id FROM fih_message
                 WHERE state IN %s AND exception_group_id IS NULL
                   AND cause_code IS NOT NULL AND id > %s
                 ORDER BY id
                 LIMIT %s
                """,
                (OPEN_STATES, last_id, chunk),
            )
            ids = [row[0] for row in self.env.cr.fetchall()]
            if not ids or not self._file_messages(ids):
                return
            last_id = ids[-1]

    def _fih_action_only_text(self):
        return self.env._(
            "An exception is resolved when its messages are dealt with: use "
            "Fixed: Retry All, or retry, replay or cancel its messages, so that "
            "each step is kept in the operator actions."
        )

    def _refresh(self):
        """Close the activity of groups whose messages were all dealt with."""
        self.env["fih.message"].flush_model()
        for group in self.sudo():
            group.invalidate_recordset()
            if group.state != "resolved" or not group.activity_ids:
                continue
            try:
                with self.env.cr.savepoint():
                    group.activity_ids.action_feedback(
                        feedback=self.env._(
                            "All messages of this exception were dealt with."
                        )
                    )
            except TRANSIENT_DB_ERRORS:
                # another job closed it at the same moment: nothing is lost
                _logger.info("activity of exception %s closed elsewhere", group.id)

    # -- actions -------------------------------------------------------------

    def action_retry_all(self):
        """Retry the group's messages; says how many were queued or skipped."""
        self.check_access("write")
        retryable = self.message_ids_open.filtered(lambda m: m.state in OPEN_STATES)
        # already waiting or being processed: nothing to do for them
        skipped = self.env["fih.message"].search_count(
            [
                ("exception_group_id", "in", self.ids),
                ("state", "in", ("received", "processing")),
            ]
        )
        if retryable:
            retryable.action_retry(
                reason=self.env._(
                    "Retry of exception: %s", ", ".join(self.mapped("name"))
                )
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Retry All"),
                "message": self.env._(
                    "%(queued)s messages queued for processing, %(skipped)s skipped "
                    "(already in progress).",
                    queued=len(retryable),
                    skipped=skipped,
                ),
                "type": "success" if retryable else "warning",
                "sticky": False,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_open_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "finance_integration_hub.fih_message_action"
        )
        action["domain"] = [("exception_group_id", "=", self.id)]
        action["context"] = {"search_default_attention": 1}
        return action

    def action_fix(self):
        """Open what fixes the cause: the partner, a pre-filled tax mapping,
        the currency, the mapping or the backend's credentials."""
        self.ensure_one()
        self.check_access("write")
        if not self.fix_action:
            raise UserError(
                self.env._(
                    "This exception has no fix in Odoo: read its messages, correct "
                    "the data at the source, then use Fixed: Retry All."
                )
            )
        fixes = {
            causes.OPEN_PARTNER: self._fix_open_partner,
            causes.ADD_TAX_MAPPING: self._fix_add_tax_mapping,
            causes.ACTIVATE_CURRENCY: self._fix_open_currency,
            causes.OPEN_MAPPING: self._fix_open_mapping,
            causes.EDIT_CREDENTIALS: self._fix_open_backend,
            causes.OPEN_BACKEND: self._fix_open_backend,
        }
        return fixes[self.fix_action]()

    def _refused(self, what):
        return AccessError(
            self.env._(
                "You may not %(what)s. Ask an integration manager of %(company)s "
                "to apply this fix, or to give you the rights for it.",
                what=what,
                company=self.company_id.name,
            )
        )

    def _window(self, model, res_id=False, name=None, context=None, domain=None):
        action = {
            "type": "ir.actions.act_window",
            "res_model": model,
            "name": name or self.fix_label,
            "target": "current",
            "context": context or {},
        }
        if res_id:
            action.update(res_id=res_id, view_mode="form", views=[(False, "form")])
        elif domain is not None:
            action.update(domain=domain, view_mode="list,form", views=[(False, "list")])
        else:
            action.update(view_mode="form", views=[(False, "form")])
        return action

    def _fix_open_partner(self):
        ids = set()
        for message in self.sudo().message_ids_open:
            partner_id = (message.cause_params or {}).get("partner_id")
            if partner_id:
                ids.add(partner_id)
        partners = self.env["res.partner"].browse(sorted(ids)).exists()
        if not partners:
            raise UserError(self.env._("The existing partner is no longer in Odoo."))
        if not partners.has_access("read"):
            raise self._refused(self.env._("read this partner"))
        if len(partners) == 1:
            return self._window("res.partner", partners.id)
        return self._window("res.partner", domain=[("id", "in", partners.ids)])

    def _fix_add_tax_mapping(self):
        Entry = self.env["fih.value.map.entry"]
        if not Entry.has_access("create"):
            raise self._refused(self.env._("add tax mappings"))
        table = self.env["fih.value.map"]._find("taxes", self.backend_id)
        if not table:
            return self._window(
                "fih.value.map",
                context={
                    "default_name": self.env._("Taxes"),
                    "default_code": "taxes",
                    "default_backend_id": self.backend_id.id,
                    "default_target_model": "account.tax",
                    "default_entry_ids": [(0, 0, {"external_value": self.cause_param})],
                },
            )
        existing = Entry.search(
            [("map_id", "=", table.id), ("external_value", "=", self.cause_param)],
            limit=1,
        )
        if existing:
            # the code is in the table already: its entry is the one to correct
            return self._window("fih.value.map.entry", existing.id)
        return self._window(
            "fih.value.map.entry",
            context={
                "default_map_id": table.id,
                "default_external_value": self.cause_param,
            },
        )

    def _fix_open_currency(self):
        currency = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "=", self.cause_param)], limit=1)
        )
        if not currency:
            raise UserError(
                self.env._("Odoo has no currency %s.", self.cause_param or "-")
            )
        if not currency.has_access("write"):
            raise self._refused(self.env._("change currencies"))
        return self._window("res.currency", currency.id, context={"active_test": False})

    def _fix_open_mapping(self):
        Mapping = self.env["fih.mapping"]
        if not Mapping.has_access("read"):
            raise self._refused(self.env._("read mappings"))
        object_types = set(self.sudo().message_ids_open.mapped("object_type"))
        domain = [("backend_id", "=", self.backend_id.id)]
        if object_types:
            domain.append(("object_type", "in", sorted(object_types)))
        mappings = Mapping.search(domain, order="id desc")
        active = mappings.filtered(lambda m: m.state == "active")[:1]
        if active:
            return self._window("fih.mapping", active.id)
        return self._window("fih.mapping", domain=domain)

    def _fix_open_backend(self):
        backend = self.backend_id
        if not backend.has_access("write"):
            raise self._refused(self.env._("change the backend"))
        return self._window("fih.backend", backend.id)
