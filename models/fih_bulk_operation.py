import json
import math
from collections import Counter

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

CHUNK_SIZE = 200  # messages per job of a bulk operation
IMMEDIATE_LIMIT = 100  # up to this many messages, the wizard acts at once
ACTIONS = [
    ("retry", "Retry"),
    ("replay", "Replay"),
    ("cancel", "Cancel"),
]
# states from which each action applies
ELIGIBLE_STATES = {
    "retry": ("failed", "dead"),
    "replay": ("done", "cancelled"),
    "cancel": ("received", "failed", "dead", "skipped"),
}
# why a message is skipped, by its state (failed or dead ones asked to be
# replayed: not processed yet)
SKIP_BY_STATE = {
    "done": "done",
    "received": "in_progress",
    "processing": "in_progress",
    "cancelled": "cancelled",
    "skipped": "outdated",
}


class FihBulkOperation(models.Model):
    """Retry, replay or cancel of many messages, run in the background in
    chunks, each chunk a job that commits with its progress."""

    _name = "fih.bulk.operation"
    _description = "Bulk Action on Integration Messages"
    _inherit = ["fih.progress.mixin"]
    _order = "id desc"
    _fih_progress_unit = "messages"

    name = fields.Char(compute="_compute_name")
    action = fields.Selection(ACTIONS, required=True, readonly=True)
    reason = fields.Text(readonly=True)
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True
    )
    message_ids = fields.Many2many(
        "fih.message",
        "fih_bulk_operation_message_rel",
        "operation_id",
        "message_id",
        string="Messages",
        readonly=True,
    )
    state = fields.Selection(
        [
            ("running", "Running"),
            ("done", "Done"),
            ("failed", "Stopped"),
        ],
        default="running",
        required=True,
        readonly=True,
    )
    acted_count = fields.Integer(string="Acted on", readonly=True)
    skipped_count = fields.Integer(string="Skipped", readonly=True)
    skipped_reasons = fields.Text(
        readonly=True, help="Skipped messages by reason, as JSON."
    )
    summary = fields.Char(compute="_compute_summary")
    error_message = fields.Text(readonly=True)

    @api.depends("action", "progress_total")
    def _compute_name(self):
        labels = dict(self._fields["action"]._description_selection(self.env))
        for operation in self:
            count = f"{operation.progress_total:,}"
            operation.name = self.env._(
                "%(action)s of %(count)s messages",
                action=labels.get(operation.action, ""),
                count=count,
            )

    @api.depends("action", "acted_count", "skipped_count", "skipped_reasons")
    def _compute_summary(self):
        for operation in self:
            operation.summary = self._summary_text(
                operation.action,
                operation.acted_count,
                Counter(json.loads(operation.skipped_reasons or "{}")),
            )

    # -- sorting messages: what the action applies to, and why not ------------

    @api.model
    def _partition(self, action, messages):
        """``(eligible messages, Counter of skip reasons)`` for ``action``."""
        allowed = ELIGIBLE_STATES[action]
        eligible = messages.browse()
        skipped = Counter()
        for message in messages:
            if message.state not in allowed:
                skipped[SKIP_BY_STATE.get(message.state, "not_processed")] += 1
            elif action == "replay" and message.payload_purged_at:
                skipped["purged"] += 1
            else:
                eligible |= message
        return eligible, skipped

    @api.model
    def _skip_label(self, key):
        labels = {
            "done": self.env._("already done"),
            "in_progress": self.env._("already in progress"),
            "cancelled": self.env._("already cancelled"),
            "outdated": self.env._("outdated"),
            "not_processed": self.env._("not processed yet: retry them instead"),
            "purged": self.env._("payload deleted after its retention"),
        }
        return labels[key]

    @api.model
    def _count_text(self, count):
        if count == 1:
            return self.env._("1 message")
        shown = f"{count:,}"
        return self.env._("%s messages", shown)

    @api.model
    def _summary_text(self, action, acted, skipped):
        """ "12 messages queued for retry, 3 skipped (already done)"."""
        messages = self._count_text(acted)
        if action == "retry":
            text = self.env._("%s queued for retry", messages)
        elif action == "replay":
            text = self.env._("%s replayed as new messages", messages)
        else:
            text = self.env._("%s cancelled", messages)
        total_skipped = sum(skipped.values())
        if total_skipped:
            reasons = ", ".join(
                self._skip_label(key)
                if len(skipped) == 1
                else f"{count:,} {self._skip_label(key)}"
                for key, count in sorted(skipped.items())
            )
            count = f"{total_skipped:,}"
            text = self.env._(
                "%(done)s, %(count)s skipped (%(reasons)s)",
                done=text,
                count=count,
                reasons=reasons,
            )
        return text

    # -- acting ------------------------------------------------------------

    @api.model
    def _act(self, action, messages, reason):
        """Apply ``action`` to the eligible ``messages`` as the current user:
        ``(messages acted on, replays, skip reasons)``."""
        eligible, skipped = self._partition(action, messages)
        replays = messages.browse()
        if eligible:
            if action == "retry":
                eligible.action_retry(reason=reason)
            elif action == "replay":
                replays = eligible.action_replay(reason=reason)
            else:
                eligible.action_cancel(reason=reason)
        return eligible, replays, skipped

    @api.model
    def _start(self, action, messages, reason, skipped):
        """Create the operation for the eligible ``messages`` and queue its
        first chunk, run as the current user."""
        messages = messages.with_env(self.env)
        messages.check_access("write")
        companies = messages.company_id
        operation = self.sudo().create(
            {
                "action": action,
                "reason": reason or False,
                "company_id": (
                    companies.id if len(companies) == 1 else self.env.company.id
                ),
                "message_ids": [fields.Command.set(messages.ids)],
                "skipped_count": sum(skipped.values()),
                "skipped_reasons": json.dumps(skipped),
            }
        )
        operation._progress_start(
            total=len(messages),
            chunks_total=math.ceil(len(messages) / CHUNK_SIZE),
            user=self.env.user,
        )
        operation = operation.sudo(False)
        operation._enqueue_chunk()
        return operation

    def _enqueue_chunk(self):
        self.ensure_one()
        number = self.progress_chunks_done + 1
        self.with_delay(
            channel="root.finance_hub",
            identity_key=f"fih-bulk-operation-{self.id}-{number}",
            description=self.env._(
                "%(name)s: chunk %(number)s of %(chunks)s",
                name=self.name,
                number=number,
                chunks=self.progress_chunks_total,
            ),
        )._run_chunk()

    def _run_chunk(self):
        """Job: act on the next chunk as the user who started the operation,
        then queue the next one. The chunk, its progress and the next job
        commit together: progress never counts work that did not happen."""
        self.ensure_one()
        operation = self.sudo()
        if operation.state != "running":
            return self.env._("Nothing to do: the operation has ended.")
        start = operation.progress_done
        batch = operation.message_ids.sorted("id")[start : start + CHUNK_SIZE]
        messages = self.env["fih.message"].browse(batch.ids)
        try:
            with self.env.cr.savepoint():
                acted, _replays, skipped = self._act(
                    operation.action, messages, operation.reason
                )
        except (AccessError, UserError) as exc:
            operation.write({"state": "failed", "error_message": str(exc)})
            operation._progress_finish(summary=str(exc), stopped=True)
            return str(exc)
        reasons = Counter(json.loads(operation.skipped_reasons or "{}"))
        reasons.update(skipped)
        operation.write(
            {
                "acted_count": operation.acted_count + len(acted),
                "skipped_count": operation.skipped_count + sum(skipped.values()),
                "skipped_reasons": json.dumps(reasons),
            }
        )
        operation._progress_advance(len(batch))
        if operation.progress_done < len(operation.message_ids):
            self._enqueue_chunk()
        else:
            operation.write({"state": "done"})
            operation._progress_finish(summary=operation.summary)
        return operation.summary
