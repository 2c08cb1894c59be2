import json
import time
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from ..lib import canonical, circuit_breaker, standard_webhooks
from .common import FihTransactionCase, run_drain_job, supplier_event


@tagged("post_install", "-at_install")
class TestOutboundDelivery(FihTransactionCase):
    """The outbox against the simulator on 127.0.0.1, with injected faults."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sim = cls._start_simulator()
        cls.receiver, cls.receiver_secret = cls._setup_other_backend(
            code="ap-receiver",
            kind="ap_automation",
            base_url=cls.sim.url,
            private_host_allowlist="127.0.0.1",
            retry_base_seconds=1,
            retry_max_attempts=20,
            breaker_threshold=3,
            breaker_cooldown_seconds=30,
            read_timeout=1.0,
        )
        cls.env["fih.subscription"].create(
            [
                {
                    "backend_id": cls.receiver.id,
                    "event_code": code,
                    "endpoint_path": "/suppliers",
                }
                for code in ("supplier.created", "supplier.changed")
            ]
        )

    def setUp(self):
        super().setUp()
        self.sim.reset()

    def new_supplier(self, name="Acme NV", **values):
        return self.Partner.create({"name": name, "supplier_rank": 1, **values})

    def outbox(self, **domain):
        return self.Message.search(
            [("backend_id", "=", self.receiver.id), ("direction", "=", "outbound")]
            + [(key, "=", value) for key, value in domain.items()],
            order="id",
        )

    def deliver(self, rounds=1, make_due=False):
        for _round in range(rounds):
            if make_due:
                self.outbox(state="received").write(
                    {"next_attempt_at": fields.Datetime.now() - timedelta(seconds=1)}
                )
            run_drain_job(self.receiver, "outbound")
            self.env.invalidate_all()

    def delivered_ids(self):
        """webhook-ids the receiver answered 2xx to, in arrival order."""
        return [
            request.headers["webhook-id"]
            for request in self.sim.requests("/suppliers")
            if not request.fault
        ]

    def test_the_event_is_written_with_the_change_and_rolled_back_with_it(self):
        with self.assertRaises(RuntimeError), self.env.cr.savepoint():
            self.new_supplier("Rolled back")
            self.assertEqual(len(self.outbox()), 1)
            raise RuntimeError("business transaction fails")
        self.assertFalse(self.outbox())
        partner = self.new_supplier()
        message = self.outbox()
        self.assertEqual(len(message), 1)
        self.assertEqual(
            (message.record_model, message.record_id), ("res.partner", partner.id)
        )
        envelope = json.loads(message.payload)
        self.assertEqual(envelope["type"], "supplier.created")
        self.assertEqual(canonical.validate("supplier", envelope["data"]), [])
        self.assertEqual(envelope["data"]["name"], "Acme NV")

    def test_irrelevant_changes_send_nothing(self):
        partner = self.new_supplier()
        self.deliver()
        partner.comment = "internal note"
        self.assertEqual(len(self.outbox()), 1)
        partner.phone = "+32 2 000 00 00"
        self.assertEqual(len(self.outbox()), 2)

    def test_delivered_once_signed_with_a_stable_webhook_id(self):
        self.new_supplier()
        self.deliver()
        message = self.outbox()
        self.assertEqual((message.state, message.http_status), ("done", 200))
        (request,) = self.sim.requests("/suppliers")
        self.assertEqual(request.headers["webhook-id"], message.idempotency_key)
        standard_webhooks.verify(
            [self.receiver_secret], request.headers, request.raw_body
        )

    def test_server_errors_are_retried_with_the_same_webhook_id(self):
        self.sim.add_fault(kind="status", status=503, count=2, path_prefix="/suppliers")
        self.new_supplier()
        self.deliver()
        message = self.outbox()
        self.assertEqual(message.state, "received")
        self.assertEqual(message.http_status, 503)
        self.assertGreater(
            message.next_attempt_at, fields.Datetime.now() - timedelta(seconds=1)
        )
        self.deliver(rounds=2, make_due=True)
        self.assertEqual((message.state, message.attempts), ("done", 3))
        ids = [
            request.headers["webhook-id"] for request in self.sim.requests("/suppliers")
        ]
        self.assertEqual(ids, [message.idempotency_key] * 3)

    def test_429_retry_after_is_honoured(self):
        self.sim.add_fault(kind="rate_limit", retry_after=120, count=1)
        self.new_supplier()
        before = fields.Datetime.now()
        self.deliver()
        message = self.outbox()
        self.assertEqual(message.state, "received")
        self.assertGreaterEqual(
            message.next_attempt_at, before + timedelta(seconds=119)
        )

    def test_a_refusal_is_permanent_and_explained(self):
        self.sim.add_fault(kind="status", status=422, count=1)
        self.new_supplier()
        self.deliver()
        message = self.outbox()
        self.assertEqual((message.state, message.error_kind), ("failed", "permanent"))
        self.assertIn("422", message.error_message)
        self.assertEqual(len(message.exception_group_id.activity_ids), 1)
        self.deliver(make_due=True)
        self.assertEqual(len(self.sim.requests("/suppliers")), 1)

    def test_timeouts_and_dropped_connections_are_retried(self):
        self.sim.add_fault(kind="timeout", seconds=1.5, count=1)
        self.sim.add_fault(kind="drop", count=1)
        self.new_supplier()
        self.deliver()
        message = self.outbox()
        self.assertEqual(message.state, "received")
        self.assertIn("could not be reached", message.error_message)
        for _round in range(4):
            if message.state == "done":
                break
            time.sleep(0.5)  # let the simulator finish its slow answer
            self.deliver(make_due=True)
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(message.attempts, 3)
        ids = {request.headers["webhook-id"] for request in self.sim.requests()}
        self.assertEqual(ids, {message.idempotency_key})

    def test_events_of_one_record_keep_their_order_and_do_not_block_others(self):
        first = self.new_supplier("First")
        other = self.new_supplier("Other")
        self.sim.add_fault(kind="status", status=503, count=1)
        for phone in ("1", "2", "3"):
            first.phone = phone
        # one call at a time: the first call, the one that fails, is First's
        # (side by side, Other's call may reach the receiver first)
        self.receiver.outbound_concurrency = 1
        self.deliver()
        by_record = {
            (m.record_id, json.loads(m.payload)["data"].get("phone")): m.state
            for m in self.outbox()
        }
        # the first message of "First" failed: its later events wait
        self.assertEqual(by_record[(first.id, None)], "received")
        self.assertEqual(by_record[(first.id, "3")], "received")
        self.assertEqual(by_record[(other.id, None)], "done")
        self.deliver(rounds=4, make_due=True)
        self.assertEqual(set(self.outbox().mapped("state")), {"done"})
        phones = [
            json.loads(request.raw_body)["data"].get("phone")
            for request in self.sim.requests("/suppliers")
            if not request.fault
            and json.loads(request.raw_body)["data"]["name"] == "First"
        ]
        self.assertEqual(phones, [None, "1", "2", "3"])

    def test_the_circuit_opens_tells_the_owner_and_closes_after_a_probe(self):
        self.sim.add_fault(kind="status", status=500)  # until cleared
        partners = [self.new_supplier(f"Supplier {n}") for n in range(5)]
        self.deliver()
        self.assertEqual(self.receiver.breaker_status, "open")
        sent = len(self.sim.requests("/suppliers"))
        self.assertEqual(sent, 3)  # the threshold; the others were held back
        held = self.outbox(state="received")
        self.assertEqual(len(held), 5)
        # held-back messages did not use up attempts
        self.assertEqual(sorted(held.mapped("attempts")), [0, 0, 1, 1, 1])
        activity = self.receiver.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertIn("paused", activity.summary)
        self.deliver(make_due=True)  # still within the pause: nothing sent
        self.assertEqual(len(self.sim.requests("/suppliers")), sent)
        self.sim.clear_faults()
        self.env["fih.delivery"]._store_breaker_state(
            self.receiver,
            circuit_breaker.BreakerState(
                "open", 3, self.receiver.breaker_opened_at - 31
            ),
        )
        self.deliver(make_due=True)
        self.assertEqual(self.receiver.breaker_status, "closed")
        self.assertEqual(set(self.outbox().mapped("state")), {"done"})
        self.assertEqual(len(set(self.delivered_ids())), len(partners))

    def test_an_outage_loses_nothing_and_delivers_each_event_once(self):
        self.receiver.breaker_threshold = 1000  # measure retries, not the circuit
        self.sim.add_fault(kind="status", status=503, count=25)
        for n in range(10):
            partner = self.new_supplier(f"Outage {n}")
            partner.phone = f"+32 {n}"
        self.assertEqual(len(self.outbox()), 20)
        self.deliver(rounds=8, make_due=True)
        self.assertEqual(set(self.outbox().mapped("state")), {"done"})
        delivered = self.delivered_ids()
        self.assertEqual(len(delivered), 20)
        self.assertEqual(set(delivered), set(self.outbox().mapped("idempotency_key")))

    def test_private_addresses_are_refused_unless_allowed(self):
        self.receiver.private_host_allowlist = False
        self.new_supplier()
        self.deliver()
        message = self.outbox()
        self.assertEqual(message.state, "failed")
        self.assertIn("not allowed", message.error_message)
        self.assertFalse(self.sim.requests())

    def test_a_test_database_never_calls_production(self):
        self.receiver.environment = "prod"
        self.new_supplier()
        self.deliver()
        message = self.outbox()
        self.assertEqual(message.state, "failed")
        self.assertIn("never calls the production system", message.error_message)
        self.assertFalse(self.sim.requests())

    def test_a_change_is_not_echoed_to_the_backend_it_came_from(self):
        self.env["fih.subscription"].create(
            {
                "backend_id": self.backend.id,
                "event_code": "supplier.created",
                "endpoint_path": "/echo",
            }
        )
        self.backend.write(
            {"base_url": self.sim.url, "private_host_allowlist": "127.0.0.1"}
        )
        self.receive(supplier_event(1))
        self.process()
        partner = self.partners_by_external_id("SUP-000001")
        self.assertTrue(partner)
        echo = self.Message.search(
            [("backend_id", "=", self.backend.id), ("direction", "=", "outbound")]
        )
        self.assertFalse(echo)
        # the other backend, which did not send it, is told
        self.assertEqual(self.outbox().record_id, partner.id)

    def test_the_rate_limit_holds_messages_back_without_using_attempts(self):
        self.receiver.outbound_rate_limit_per_minute = 2
        for n in range(3):
            self.new_supplier(f"Limited {n}")
        self.deliver()
        states = sorted(self.outbox().mapped("state"))
        self.assertEqual(states, ["done", "done", "received"])
        waiting = self.outbox(state="received")
        self.assertEqual(waiting.attempts, 0)
        self.assertIn("rate limit", waiting.error_message)

    def test_bank_details_changed_on_their_own_are_a_supplier_change(self):
        partner = self.new_supplier(
            "Banked", bank_ids=[(0, 0, {"acc_number": "BE71096123456769"})]
        )
        self.assertEqual(self.outbox().mapped("event_type"), ["supplier.created"])
        partner.bank_ids.acc_number = "BE68539007547034"
        self.env["res.partner.bank"].create(
            {"partner_id": partner.id, "acc_number": "DE89370400440532013000"}
        )
        events = self.outbox().mapped("event_type")
        self.assertEqual(
            events, ["supplier.created", "supplier.changed", "supplier.changed"]
        )
        last = json.loads(self.outbox()[-1].payload)["data"]
        self.assertEqual(
            {account["iban"] for account in last["bank_accounts"]},
            {"BE68539007547034", "DE89370400440532013000"},
        )

    def test_a_partner_becoming_a_supplier_through_a_bill_is_announced(self):
        partner = self.Partner.create({"name": "Occasional vendor"})
        self.assertFalse(self.outbox())
        partner._increase_rank("supplier_rank")
        self.assertEqual(self.outbox().mapped("event_type"), ["supplier.created"])
        partner._increase_rank("supplier_rank")
        self.assertEqual(len(self.outbox()), 1)
