import time
from datetime import timedelta

from odoo import api, fields, models

from ..tools import (
    DRAIN_LOCK_NAMESPACE,
    drain_lock_key,
    liveness_lock,
    nobody_holds,
    read_committed_cursor,
    somebody_holds,
)

# How long a claimed message may stay "processing" before the sweeper assumes
# its worker died and hands it back.
PROCESSING_LEASE = timedelta(minutes=15)
# seconds a drain job works before handing over (worker time limits are ~120 s)
DRAIN_TIME_BUDGET = 60
# seconds an outbound drain waits for more events once none is due, looking
# every DRAIN_LOOK_SECONDS: records saved one after the other are sent by one
# job instead of one job each (a job costs more than the look-ups)
DRAIN_LINGER_SECONDS = 0.5
DRAIN_LOOK_SECONDS = 0.05


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
    def _enqueue_work(self, backend, direction, eta=None, unless_draining=False):
        """Queue one drain job per backend and direction; a job already
        waiting with the same identity takes the new messages too.

        ``unless_draining``: no job when a drain of that backend and
        direction runs now: it takes the new messages too. Only for callers
        that look again once their messages are committed (the outbox's
        wake-up): a drain ending meanwhile looks for due messages after it
        let go of its liveness lock, so one of the two always sees them.

        The job runs as the backend's service user, in the backend's company.
        """
        for one in backend:
            identity_key = f"fih-{direction}-{one.id}-{eta or 'now'}"
            if self._drain_job_waiting(identity_key):
                continue
            if (
                unless_draining
                and not eta
                and somebody_holds(
                    self.env.cr,
                    DRAIN_LOCK_NAMESPACE,
                    drain_lock_key(one.id, direction),
                )
            ):
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
        never runs into the worker's time limit). Returns the count.

        An outbound drain waits a moment for more events before it ends
        (see DRAIN_LINGER_SECONDS); the outbox queues no job while it runs.
        Once it let go of its liveness lock it looks once more, and queues a
        job for events committed while it was ending."""
        claim = self._claim_outbound if direction == "outbound" else self._claim_inbound
        handled = 0
        deadline = time.monotonic() + time_budget
        due_by = fields.Datetime.now()
        # the liveness lock is real outside tests: only then do the outbox's
        # wake-ups count on a running drain
        live = not self.env.registry.in_test_mode()
        linger = DRAIN_LINGER_SECONDS if live and direction == "outbound" else 0
        # while this drain lives, the sweeper leaves what it claimed alone
        key = drain_lock_key(backend.id, direction)
        lingered = False
        with liveness_lock(self.env.registry, DRAIN_LOCK_NAMESPACE, key):
            while True:
                if time.monotonic() > deadline:
                    self._enqueue_work(backend, direction)
                    return handled
                messages = claim(backend, backend.processing_batch_size, due_by)
                if not messages:
                    # waits once; found nothing after waiting: done
                    if lingered or not self._more_due(
                        backend, direction, linger, deadline
                    ):
                        break
                    lingered = True
                    due_by = fields.Datetime.now()
                    continue
                lingered = False
                handle(messages, deadline)
                handled += len(messages)
        if live and direction == "outbound" and self._due_exists(backend, direction):
            self._enqueue_work(backend, direction)
        return handled

    @api.model
    def _more_due(self, backend, direction, linger, deadline):
        """Whether due messages came within ``linger`` seconds (never past
        ``deadline``), looking every DRAIN_LOOK_SECONDS."""
        until = min(time.monotonic() + linger, deadline)
        while time.monotonic() < until:
            time.sleep(DRAIN_LOOK_SECONDS)
            if self._due_exists(backend, direction):
                return True
        return False

    @api.model
    def _due_exists(self, backend, direction):
        """Whether a committed message of ``backend`` waits in ``direction``,
        is due now and could be claimed now (outbound: the oldest waiting
        event of its record); a fresh snapshot, not the job's."""
        with read_committed_cursor(self.env.registry) as cr:
            cr.execute(
                """
                SELECT 1 FROM fih_message m
                 WHERE m.backend_id = %(backend)s AND m.direction = %(direction)s
                   AND m.state = 'received'
                   AND (m.next_attempt_at IS NULL
                        OR m.next_attempt_at <= clock_timestamp() AT TIME ZONE 'UTC')
                   AND (m.direction = 'inbound' OR NOT EXISTS (
                        SELECT 1 FROM fih_message e
                         WHERE e.backend_id = m.backend_id
                           AND e.direction = 'outbound'
                           AND e.record_model IS NOT DISTINCT FROM m.record_model
                           AND e.record_id IS NOT DISTINCT FROM m.record_id
                           AND e.id < m.id
                           AND e.state IN ('received', 'processing', 'failed',
                                           'dead')))
                 LIMIT 1
                """,
                {"backend": backend.id, "direction": direction},
            )
            return bool(cr.fetchone())
