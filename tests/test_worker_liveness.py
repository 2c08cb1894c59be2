"""A worker killed mid-job never needs a person: its jobs are requeued and
the messages it had claimed go back to the queue at the next sweep (every
minute), whatever the lease says.

A worker's death is what PostgreSQL sees of it: its connection ends and the
liveness lock it held is released. These tests hold (or drop) the lock on
a connection of their own, as a live (or killed) worker would.
"""

from contextlib import contextmanager

from odoo import fields
from odoo.sql_db import db_connect
from odoo.tests import tagged

from ..tools import DRAIN_LOCK_NAMESPACE, JOB_LOCK_NAMESPACE, drain_lock_key
from .common import FihTransactionCase, supplier_event


@tagged("post_install", "-at_install")
class TestWorkerLiveness(FihTransactionCase):
    @contextmanager
    def live_worker(self, namespace, key):
        """Another process holding the liveness lock, as a running job does."""
        with db_connect(self.env.cr.dbname).cursor() as other:
            other.execute(
                "SELECT pg_advisory_xact_lock_shared(%s, %s)", (namespace, key)
            )
            yield
            other.rollback()

    def started_job(self, minutes_ago=2):
        job = self.env["queue.job"].search(
            [("identity_key", "=", f"fih-inbound-{self.backend.id}-now")], limit=1
        )
        self.assertTrue(job, "the intake queued a drain job")
        self.env.cr.execute(
            "UPDATE queue_job SET state = 'started', worker_pid = 4242,"
            " date_started = (now() AT TIME ZONE 'UTC') - make_interval(mins => %s)"
            " WHERE id = %s",
            (minutes_ago, job.id),
        )
        job.invalidate_recordset()
        self.env.cr.execute("SELECT hashtext(%s)", (job.uuid,))
        return job, self.env.cr.fetchone()[0]

    def test_a_job_whose_worker_died_is_requeued_by_the_next_sweep(self):
        self.receive(supplier_event(1))
        job, _key = self.started_job()
        self.assertEqual(self.Message._cron_recover(), 0)
        self.assertEqual(job.state, "pending")
        self.assertFalse(job.worker_pid)

    def test_a_running_job_is_left_alone(self):
        self.receive(supplier_event(1))
        job, key = self.started_job()
        with self.live_worker(JOB_LOCK_NAMESPACE, key):
            self.Message._cron_recover()
        self.assertEqual(job.state, "started")

    def test_a_job_just_started_is_left_alone(self):
        self.receive(supplier_event(1))
        job, _key = self.started_job(minutes_ago=0)
        self.Message._cron_recover()
        self.assertEqual(job.state, "started")

    def test_messages_of_a_dead_drain_go_back_before_their_lease_ends(self):
        self.receive({"events": [supplier_event(1), supplier_event(2)]})
        claimed = self.Message._claim_inbound(self.backend, 10)
        self.env.invalidate_all()
        self.assertTrue(
            all(
                lease > fields.Datetime.now() for lease in claimed.mapped("lease_until")
            )
        )
        key = drain_lock_key(self.backend.id, "inbound")
        # the drain is alive: its claim is respected
        with self.live_worker(DRAIN_LOCK_NAMESPACE, key):
            self.assertEqual(self.Message._cron_recover(), 0)
        self.assertEqual(set(claimed.mapped("state")), {"processing"})
        # the drain died (its connection, and so its lock, is gone)
        self.assertEqual(self.Message._cron_recover(), 2)
        self.assertEqual(set(claimed.mapped("state")), {"received"})
        self.process()
        self.assertEqual(set(claimed.mapped("state")), {"done"})
        self.assertEqual(
            self.Partner.search_count(
                [("vat", "in", ["BE0000000001", "BE0000000002"])]
            ),
            2,
        )

    def test_the_other_direction_of_a_live_backend_is_recovered(self):
        self.receive(supplier_event(1))
        claimed = self.Message._claim_inbound(self.backend, 10)
        outbound_key = drain_lock_key(self.backend.id, "outbound")
        with self.live_worker(DRAIN_LOCK_NAMESPACE, outbound_key):
            self.assertEqual(self.Message._cron_recover(), 1)
        self.env.invalidate_all()
        self.assertEqual(claimed.state, "received")
        self.assertFalse(claimed.lease_until)
