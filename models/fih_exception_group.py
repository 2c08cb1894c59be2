import hashlib
import re

from odoo import api, fields, models

# figures and quoted values differ from one message to the next; the cause not
QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
FIGURES = re.compile(r"\b[A-Z]{0,4}[0-9][0-9A-Z.,:/\-]*\b")


def cause_key(backend_id, error_kind, text):
    """Same backend, kind and wording (less names and figures): same cause."""
    wording = FIGURES.sub("#", QUOTED.sub("'…'", text or ""))
    return hashlib.sha1(
        f"{backend_id}|{error_kind}|{wording}".encode(), usedforsecurity=False
    ).hexdigest()


class FihExceptionGroup(models.Model):
    """Messages failing for one root cause: one activity, however many messages.

    An expired credential that fails a thousand messages gives one exception
    to act on, not a thousand activities.
    """

    _name = "fih.exception.group"
    _description = "Integration Exception"
    _inherit = ["mail.thread", "mail.activity.mixin", "fih.governed.mixin"]
    _order = "last_seen desc, id desc"

    backend_id = fields.Many2one(
        "fih.backend", required=True, ondelete="cascade", index=True, readonly=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    cause_key = fields.Char(required=True, readonly=True, index=True)
    name = fields.Text(
        string="Problem",
        required=True,
        readonly=True,
        help="The first occurrence, in business words; the others are alike.",
    )
    error_kind = fields.Selection(
        [
            ("permanent", "Data or configuration"),
            ("business", "Decision needed"),
            ("transient", "Temporary"),
        ],
        readonly=True,
    )
    state = fields.Selection(
        [("open", "Open"), ("resolved", "Resolved")],
        default="open",
        required=True,
        readonly=True,
        index=True,
    )
    message_ids_open = fields.One2many(
        "fih.message",
        "exception_group_id",
        string="Failing Messages",
        readonly=True,
    )
    open_count = fields.Integer(
        string="Open Messages", compute="_compute_open_count", store=True
    )
    first_seen = fields.Datetime(readonly=True, default=fields.Datetime.now)
    last_seen = fields.Datetime(readonly=True, default=fields.Datetime.now)

    def init(self):
        # one open group per cause: concurrent failures meet at this index
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS fih_exception_group_open_cause_idx
                ON fih_exception_group (cause_key) WHERE state = 'open'
            """
        )

    @api.depends("message_ids_open.state")
    def _compute_open_count(self):
        for group in self:
            group.open_count = len(
                group.message_ids_open.filtered(lambda m: m.state in ("failed", "dead"))
            )

    @api.model
    def _for_cause(self, backend, error_kind, text):
        """The open group of this cause, created when it is the first."""
        key = cause_key(backend.id, error_kind, text)
        now = fields.Datetime.now()
        self.env.cr.execute(
            """
            INSERT INTO fih_exception_group
                (backend_id, company_id, cause_key, name, error_kind, state,
                 first_seen, last_seen, open_count, create_uid, create_date,
                 write_uid, write_date)
            VALUES (%s, %s, %s, %s, %s, 'open', %s, %s, 0, %s, %s, %s, %s)
            ON CONFLICT (cause_key) WHERE state = 'open'
            DO UPDATE SET last_seen = EXCLUDED.last_seen
            RETURNING id, (xmax = 0)
            """,
            (
                backend.id,
                backend.company_id.id,
                key,
                text,
                error_kind,
                now,
                now,
                self.env.uid,
                now,
                self.env.uid,
                now,
            ),
        )
        group_id, created = self.env.cr.fetchone()
        group = self.browse(group_id)
        group.invalidate_recordset()
        return group, created

    def _fih_action_only_text(self):
        return self.env._(
            "An exception is resolved when its messages are dealt with: use "
            "Fixed: Retry All, or retry, replay or cancel its messages, so that "
            "each step is kept in the operator actions."
        )

    def _refresh(self):
        """Resolve groups whose messages were all dealt with."""
        self.flush_recordset()
        for group in self.sudo():
            group._compute_open_count()
            if group.state == "open" and not group.open_count:
                group.write({"state": "resolved"})
                group.activity_ids.action_feedback(
                    feedback=self.env._(
                        "All messages of this exception were dealt with."
                    )
                )

    def action_retry_all(self):
        self.check_access("write")
        messages = self.message_ids_open.filtered(
            lambda m: m.state in ("failed", "dead")
        )
        messages.action_retry(
            reason=self.env._("Retry of exception: %s", self.name[:80])
        )
        return True

    def action_open_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "finance_integration_hub.fih_message_action"
        )
        action["domain"] = [("exception_group_id", "=", self.id)]
        action["context"] = {"search_default_attention": 1}
        return action
