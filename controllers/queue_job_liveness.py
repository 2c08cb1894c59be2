from odoo.addons.queue_job.controllers.main import RunJobController

from ..tools import JOB_LOCK_NAMESPACE, liveness_lock


def job_lock_key(cr, job_uuid):
    """32-bit key of a job's liveness lock (PostgreSQL's own text hash)."""
    cr.execute("SELECT hashtext(%s)", (job_uuid,))
    return cr.fetchone()[0]


class LivenessRunJobController(RunJobController):
    """Every job run by this database's workers holds a liveness lock while it
    runs (``tools.liveness_lock``), taken before the job is marked started:
    a job marked started whose lock is free has lost its worker, and the
    sweeper (``queue.job._fih_requeue_dead_jobs``) requeues it. Newer
    queue_job releases do the same with job locks held by the running
    transaction; this works with the release the hub pins."""

    def _try_perform_job(self, env, job):
        key = job_lock_key(env.cr, job.uuid)
        with liveness_lock(env.registry, JOB_LOCK_NAMESPACE, key):
            return super()._try_perform_job(env, job)
