import json
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.sql_db import db_connect
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..tools import DRAIN_LOCK_NAMESPACE, drain_lock_key, somebody_holds
from .common import FihTransactionCase, run_drain_job


@tagged("post_install", "-at_install")
class TestOutboundDrainEconomy(FihTransactionCase):
    """A delivery job prepares a batch of events together (one access check,
    one look-up of the receiver's ids, one statement for the results) and
    the outbox queues no new job while a drain already runs, without ever
    leaving an event behind."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sim = cls._start_simulator()
        cls.receiver, _secret = cls._setup_other_backend(
            code="ap-economy",
            kind="ap_automation",
            base_url=cls.sim.url,
            private_host_allowlist="127.0.0.1",
            retry_base_seconds=1,
            retry_max_attempts=20,
            breaker_threshold=1000,
            outbound_concurrency=2,
            outbound_rate_limit_per_minute=0,
        )
        cls.env["fih.subscription"].create(
            {
                "backend_id": cls.receiver.id,
                "event_code": "supplier.created",
                "endpoint_path": "/suppliers",
                "payload_timing": "on_delivery",
                "delivery_mode": "batch",
                "batch_max_events": 50,
            }
        )

    def setUp(self):
        super().setUp()
        self.sim.reset()

    def outbox(self):
        return self.Message.search(
            [("backend_id", "=", self.receiver.id), ("direction", "=", "outbound")],
            order="id",
        )

    def deliver(self):
        run_drain_job(self.receiver, "outbound")
        self.env.invalidate_all()

    def sent_events(self):
        events = []
        for request in self.sim.requests("/suppliers"):
            if not request.fault:  # answered 200 by the simulator
                events.extend(json.loads(request.raw_body)["events"])
        return events

    def new_supplier(self, name, **values):
        return self.Partner.create({"name": name, "supplier_rank": 1, **values})

    # -- one batch, prepared together ------------------------------------------

    def test_a_batch_carries_the_receivers_own_ids_and_odoo_ids(self):
        known = self.new_supplier("Known to the receiver")
        unknown = self.new_supplier("New to the receiver")
        self.env["fih.binding"].create(
            {
                "backend_id": self.receiver.id,
                "object_type": "supplier",
                "res_model": "res.partner",
                "res_id": known.id,
                "external_id": "RCV-0042",
            }
        )
        self.deliver()
        self.assertEqual(set(self.outbox().mapped("state")), {"done"})
        ids = {
            event["data"]["name"]: event["data"]["external_id"]
            for event in self.sent_events()
        }
        self.assertEqual(
            ids,
            {
                known.name: "RCV-0042",
                unknown.name: f"odoo-res.partner-{unknown.id}",
            },
        )
        self.assertEqual(len(self.sim.requests("/suppliers")), 1)  # one batch

    def test_a_record_the_service_user_may_not_read_fails_only_its_event(self):
        # the receiver's service user may not read suppliers named "Hidden"
        self.env["ir.rule"].create(
            {
                "name": "Service users: no hidden suppliers",
                "model_id": self.env.ref("base.model_res_partner").id,
                "groups": [
                    (4, self.env.ref("finance_integration_hub.group_fih_service").id)
                ],
                "domain_force": "[('name', 'not like', 'Hidden')]",
                "perm_read": True,
            }
        )
        hidden = self.new_supplier("Hidden supplier")
        visible = self.new_supplier("Visible supplier")
        self.deliver()
        messages = {m.record_id: m for m in self.outbox()}
        failed, done = messages[hidden.id], messages[visible.id]
        self.assertEqual((failed.state, failed.error_kind), ("failed", "permanent"))
        self.assertIn("may not read this record", failed.error_message)
        self.assertEqual(done.state, "done")
        self.assertEqual(
            [event["data"]["name"] for event in self.sent_events()], [visible.name]
        )

    def test_a_failed_statement_stops_only_its_event(self):
        broken = self.new_supplier("Breaks the statement")
        fine = [self.new_supplier(f"Fine {n}") for n in range(3)]
        export = type(self.env["fih.canonical.export"])
        original = export._supplier

        def supplier(exporter, partner, backend):
            if partner.id == broken.id:
                exporter.env.cr.execute("SELECT * FROM no_such_table_here")
            return original(exporter, partner, backend)

        # the failing statement is logged by Odoo's cursor: expected here
        with patch.object(export, "_supplier", supplier), mute_logger("odoo.sql_db"):
            self.deliver()
        messages = {m.record_id: m for m in self.outbox()}
        self.assertEqual(messages[broken.id].state, "failed")
        self.assertIn("could not be prepared", messages[broken.id].error_message)
        self.assertEqual({messages[partner.id].state for partner in fine}, {"done"})
        self.assertEqual(
            sorted(event["data"]["name"] for event in self.sent_events()),
            sorted(partner.name for partner in fine),
        )

    def test_a_delivered_retry_keeps_no_problem_text_masked_or_not(self):
        self.sim.add_fault(kind="status", status=503, path_prefix="/suppliers")
        self.new_supplier("Retried")
        self.deliver()
        message = self.outbox()
        self.assertEqual(message.state, "received")
        self.assertTrue(message.error_message)
        self.assertTrue(message.error_message_masked)
        self.sim.clear_faults()
        message.next_attempt_at = fields.Datetime.now() - timedelta(seconds=1)
        self.deliver()
        self.assertEqual(message.state, "done")
        self.assertFalse(message.error_message)
        self.assertFalse(message.error_message_masked)
        self.assertGreaterEqual(message.latency_ms, 0)
        self.assertEqual(message.attempts, 2)

    # -- no job while a drain runs, and nothing left behind -------------------

    def hold_drain_lock(self):
        """Hold the outbound drain's liveness lock on a connection of its
        own, as a running drain does."""
        cr = db_connect(self.env.cr.dbname).cursor()
        self.addCleanup(cr.close)
        self.addCleanup(cr.rollback)
        cr.execute(
            "SELECT pg_advisory_xact_lock_shared(%s, %s)",
            (DRAIN_LOCK_NAMESPACE, drain_lock_key(self.receiver.id, "outbound")),
        )
        return cr

    def enqueued(self, **options):
        with self.trapped_jobs() as trap:
            self.Message._enqueue_work(self.receiver, "outbound", **options)
            return len(trap.enqueued_jobs)

    def drain_runs(self):
        key = drain_lock_key(self.receiver.id, "outbound")
        return somebody_holds(self.env.cr, DRAIN_LOCK_NAMESPACE, key)

    def test_the_outbox_queues_no_job_while_a_drain_runs(self):
        self.assertFalse(self.drain_runs())
        self.assertEqual(self.enqueued(unless_draining=True), 1)
        self.hold_drain_lock()
        self.assertTrue(self.drain_runs())
        self.assertEqual(self.enqueued(unless_draining=True), 0)
        # a drain handing over, and delayed retries, always get their job
        self.assertEqual(self.enqueued(), 1)
        later = fields.Datetime.now() + timedelta(minutes=1)
        self.assertEqual(self.enqueued(unless_draining=True, eta=later), 1)

    def test_a_drain_sees_events_due_now_and_not_those_due_later(self):
        self.assertFalse(self.Message._due_exists(self.receiver, "outbound"))
        self.new_supplier("Due later")
        message = self.outbox()
        message.next_attempt_at = fields.Datetime.now() + timedelta(hours=1)
        message.flush_recordset()
        self.assertFalse(self.Message._due_exists(self.receiver, "outbound"))
        self.assertFalse(
            self.Message._more_due(self.receiver, "outbound", 0.1, float("inf"))
        )
        message.next_attempt_at = False
        message.flush_recordset()
        self.assertTrue(self.Message._due_exists(self.receiver, "outbound"))
        self.assertTrue(
            self.Message._more_due(self.receiver, "outbound", 0.1, float("inf"))
        )
        self.assertFalse(self.Message._due_exists(self.receiver, "inbound"))

    def test_an_event_held_behind_its_records_failed_one_is_not_due(self):
        supplier = self.new_supplier("Held behind")
        first = self.outbox()
        first.write({"state": "failed", "error_message": "needs a person"})
        self.env["fih.outbox"]._emit("supplier.created", supplier)
        second = self.outbox() - first
        self.assertEqual(second.state, "received")
        second.flush_recordset()
        first.flush_recordset()
        # waiting, due, but not claimable: no drain waits or restarts for it
        self.assertFalse(self.Message._due_exists(self.receiver, "outbound"))
        self.deliver()
        self.assertEqual(second.state, "received")
        self.assertFalse(self.sim.requests("/suppliers"))
