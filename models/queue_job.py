import logging

from odoo import api, models

from ..tools import JOB_LOCK_NAMESPACE, nobody_holds

_logger = logging.getLogger(__name__)

# a job's liveness lock is taken before it is marked started; this margin
# only covers clocks and the commit that marks it
STARTED_GRACE_SECONDS = 30


class QueueJob(models.Model):
    _inherit = "queue.job"

    @api.model
    def _fih_requeue_dead_jobs(self):
        """Requeue jobs marked started whose worker died: their liveness lock
        (taken by every job this database's runner starts, see
        ``controllers/queue_job_liveness.py``) is free. Returns the number
        requeued."""
        self.flush_model(["state", "date_started"])
        self.env.cr.execute(
            """
            SELECT id, uuid, hashtext(uuid) FROM queue_job
             WHERE state = 'started'
               AND date_started < (now() AT TIME ZONE 'UTC')
                                  - make_interval(secs => %s)
             ORDER BY id
            """,
            (STARTED_GRACE_SECONDS,),
        )
        dead = [
            (job_id, uuid)
            for job_id, uuid, key in self.env.cr.fetchall()
            if nobody_holds(self.env.cr, JOB_LOCK_NAMESPACE, key)
        ]
        if dead:
            jobs = self.sudo().browse([job_id for job_id, _uuid in dead])
            _logger.warning(
                "Requeued %s job(s) whose worker stopped while running them: %s",
                len(jobs),
                ", ".join(uuid for _id, uuid in dead),
            )
            jobs.requeue()
        return len(dead)
