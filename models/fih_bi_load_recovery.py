from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..lib import delivery_policy
from .fih_bi_load import ACTIVE_STATES, MAX_RUNS, _try_lock


class FihBiLoadRecovery(models.Model):
    """What happens when a load stops: automatic resumes with backoff, the
    owner alerted once it gives up, stranded loads recovered, and the
    Resume and Cancel buttons."""

    _inherit = "fih.bi.load"

    def _stopped(self, stop):
        publication = self.publication_id
        if stop.retry and self.runs < MAX_RUNS:
            policy = publication.backend_id._retry_policy()
            delay = delivery_policy.next_delay(
                self.runs,
                stop.retry_after,
                base=policy.base_seconds,
                cap=policy.cap_seconds,
            )
            next_run = fields.Datetime.now() + timedelta(seconds=max(delay, 1))
            self.write(
                {
                    "state": "failed",
                    "error_message": self.env._(
                        "%(reason)s The load resumes after chunk %(chunk)s at "
                        "%(when)s.",
                        # one full stop after the reason, whoever wrote it
                        reason=str(stop).rstrip().rstrip(".") + ".",
                        chunk=len(self.chunk_ids),
                        when=next_run,
                    ),
                    "next_run_at": next_run,
                }
            )
            self._checkpoint()
            self._enqueue(eta=next_run)
            return
        self.write(
            {
                "state": "refused",
                "error_message": str(stop),
                "finished_at": fields.Datetime.now(),
            }
        )
        publication._alert(
            self.env._("Publication stopped: %s", publication.name),
            self.env._(
                "Load %(load)s of %(publication)s stopped after %(chunks)s chunks: "
                "%(reason)s",
                load=self.uid,
                publication=publication.name,
                chunks=len(self.chunk_ids),
                reason=str(stop),
            ),
        )

    def _fih_action_only_text(self):
        return self.env._(
            "A load changes only through its Resume and Cancel buttons; its "
            "progress is written by the load itself."
        )

    def action_resume(self):
        # the load is then written as superuser: check the caller's right first
        self.check_access("write")
        for load in self:
            if load.state not in ("failed", "refused"):
                raise UserError(
                    self.env._("Only an interrupted or stopped load can be resumed.")
                )
            if load.state == "refused" and load.reference_load_id:
                raise UserError(
                    self.env._(
                        "This locked period changed since it was first published; "
                        "it cannot be resumed. Unlock and re-publish it on purpose, "
                        "or restore the period."
                    )
                )
            if load.search_count(
                [
                    ("publication_id", "=", load.publication_id.id),
                    ("state", "in", ACTIVE_STATES),
                    ("id", "!=", load.id),
                ]
            ):
                raise UserError(
                    self.env._(
                        "Another load of %s is in progress; resume this one when "
                        "it has finished.",
                        load.publication_id.name,
                    )
                )
            load.sudo().write({"state": "failed", "runs": 0})
            load._enqueue()
        return True

    @api.model
    def _cron_recover(self):
        """Resume loads whose worker died: running, but nobody holds their lock
        and no job is waiting for them."""
        now = fields.Datetime.now()
        loads = self.sudo().search([("state", "in", ("running", "queued", "failed"))])
        recovered = self.browse()
        for load in loads:
            if load.create_date > now - timedelta(minutes=2):
                continue  # its job may not have started yet
            if load.state == "failed" and (
                not load.next_run_at or load.next_run_at > now - timedelta(minutes=2)
            ):
                continue  # its resume is scheduled (or it waits for a person)
            if _try_lock(self.env.cr, load.id) and not load._job_waiting():
                recovered |= load
        for load in recovered:
            load.write({"state": "failed"})
            load._enqueue()
        return recovered

    def _job_waiting(self):
        self.ensure_one()
        self.env["queue.job"].flush_model(["identity_key", "state"])
        self.env.cr.execute(
            """
            SELECT 1 FROM queue_job
             WHERE identity_key LIKE %s
               AND state IN ('pending', 'enqueued', 'wait_dependencies')
             LIMIT 1
            """,
            (f"fih-bi-load-{self.id}-%",),
        )
        return bool(self.env.cr.fetchone())

    def action_cancel(self):
        self.check_access("write")
        for load in self:
            if load.state not in ACTIVE_STATES:
                raise UserError(
                    self.env._("Only a load that has not finished can be cancelled.")
                )
            if not _try_lock(self.env.cr, load.id):
                raise UserError(
                    self.env._(
                        "Load %s is sending right now; cancel it once it has "
                        "stopped or finished.",
                        load.uid,
                    )
                )
            load.sudo().write(
                {
                    "state": "refused",
                    "error_message": self.env._("Cancelled by %s.", self.env.user.name),
                    "finished_at": fields.Datetime.now(),
                }
            )
        return True
