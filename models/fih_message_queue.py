import time
from datetime import timedelta

from odoo import api, fields, models

from ..tools import (
    DRAIN_LOCK_NAMESPACE,
    drain_lock_key,
    liveness_lock,
    nobody_holds,
    read_committed_cursor,
)

# How long a claimed message may stay "processing" before the sweeper assumes
# its worker died and hands it back.
PROCESSING_LEASE = timedelta(minutes=15)
# seconds a drain job works before handing over (worker time limits are ~120 s)
DRAIN_TIME_BUDGET = 60


class FihMessageQueue(models.Model):
    """The exchange log as a work queue: drain jobs per backend and
    direction claim due messages in micro-batches; a sweeper hands back the
    messages of workers that died."""

    _inherit = "fih.message"

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

    # -- sweeper -----------------------------------------------------------

    @api.model
    def _cron_recover(self):
        """Hand back the work of dead workers and restart idle backends.

        A job whose worker died is requeued (its liveness lock is free); the
        messages a dead drain had claimed go back at once (no drain of their
        backend and direction holds its liveness lock any more), and any
        message past its lease goes back too. Runs every minute.
        """
        self = self.sudo()  # a system task: it writes the log as the hub
        # failures left out of the exception inbox, before this run's own
        self.env["fih.exception.group"]._cron_file_unfiled()
        self.env["queue.job"]._fih_requeue_dead_jobs()
        self.flush_model()
        cr = self.env.cr
        cr.execute(
            "SELECT DISTINCT backend_id, direction FROM fih_message"
            " WHERE state = 'processing'"
        )
        orphaned = [
            f"{backend_id}:{direction}"
            for backend_id, direction in cr.fetchall()
            if nobody_holds(
                cr, DRAIN_LOCK_NAMESPACE, drain_lock_key(backend_id, direction)
            )
        ]
        cr.execute(
            """
            SELECT m.id FROM fih_message m
             WHERE m.state = 'processing'
               AND (m.lease_until < clock_timestamp() AT TIME ZONE 'UTC'
                    OR m.backend_id || ':' || m.direction = ANY(%s))
             ORDER BY m.id
            """,
            (orphaned,),
        )
        stale = self.browse([row[0] for row in cr.fetchall()])
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

    # -- drain jobs -----------------------------------------------------------

    @api.model
    def _enqueue_work(self, backend, direction, eta=None):
        """Queue one drain job per backend and direction; a job already
        waiting with the same identity takes the new messages too.

        The job runs as the backend's service user, in the backend's company.
        """
        for one in backend:
            identity_key = f"fih-{direction}-{one.id}-{eta or 'now'}"
            if self._drain_job_waiting(identity_key):
                continue
            delayable = (
                self.with_user(one.service_user_id)
                # the backend's company only, not the caller's other companies
                .with_context(allowed_company_ids=one.company_id.ids)
                .with_delay(
                    channel=one._channel_name(),
                    identity_key=identity_key,
                    eta=eta,
                    description=self.env._("Deliver outbound messages to %s", one.name)
                    if direction == "outbound"
                    else self.env._("Process inbound messages of %s", one.name),
                )
            )
            if direction == "outbound":
                delayable._deliver_outbound_messages(one)
            else:
                delayable._process_inbound_messages(one)

    @api.model
    def _drain_job_waiting(self, identity_key):
        """Cheap probe before queue_job's own identity check (hot path)."""
        self.env["queue.job"].flush_model(["identity_key", "state"])
        self.env.cr.execute(
            """
            SELECT 1 FROM queue_job
             WHERE identity_key = %s
               AND state IN ('pending', 'enqueued', 'wait_dependencies')
             LIMIT 1
            """,
            (identity_key,),
        )
        return bool(self.env.cr.fetchone())

    @api.model
    def _process_inbound_messages(self, backend, time_budget=DRAIN_TIME_BUDGET):
        """Job: process received messages in micro-batches until none is left."""
        # whatever context the job kept: the backend's company only
        self = self.with_context(  # noqa: PLW0642
            allowed_company_ids=self.env["fih.backend"]
            .sudo()
            .browse(backend.id)
            .company_id.ids
        )
        backend = backend.with_env(self.env)  # the job's user, company, cursor
        backend.ensure_one()
        processed = self._drain(
            backend,
            "inbound",
            lambda messages, _deadline: messages._process(),
            time_budget,
        )
        return self.env._("%s messages processed", processed)

    @api.model
    def _deliver_outbound_messages(self, backend, time_budget=DRAIN_TIME_BUDGET):
        """Job: deliver due outbound messages, oldest first per record."""
        # whatever context the job kept: the backend's company only
        self = self.with_context(  # noqa: PLW0642
            allowed_company_ids=self.env["fih.backend"]
            .sudo()
            .browse(backend.id)
            .company_id.ids
        )
        backend = backend.with_env(self.env)  # the job's user, company, cursor
        backend.ensure_one()

        def deliver(messages, deadline):
            # a fresh transaction: this job's snapshot predates the claim
            self.env.flush_all()
            with self.env.registry.cursor() as cr:
                env = self.env(cr=cr)
                env["fih.delivery"]._deliver(
                    backend.with_env(env), messages.with_env(env), deadline
                )

        delivered = self._drain(backend, "outbound", deliver, time_budget)
        return self.env._("%s messages handled", delivered)

    @api.model
    def _drain(self, backend, direction, handle, time_budget):
        """Claim and handle due messages in micro-batches until none is left,
        or hand over to a new job when ``time_budget`` is spent (a backlog
        never runs into the worker's time limit). Returns the count."""
        claim = self._claim_outbound if direction == "outbound" else self._claim_inbound
        handled = 0
        deadline = time.monotonic() + time_budget
        due_by = fields.Datetime.now()
        # while this drain lives, the sweeper leaves what it claimed alone
        key = drain_lock_key(backend.id, direction)
        with liveness_lock(self.env.registry, DRAIN_LOCK_NAMESPACE, key):
            while True:
                if time.monotonic() > deadline:
                    self._enqueue_work(backend, direction)
                    break
                messages = claim(backend, backend.processing_batch_size, due_by)
                if not messages:
                    break
                handle(messages, deadline)
                handled += len(messages)
        return handled
