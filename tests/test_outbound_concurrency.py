import json
import threading
from datetime import timedelta

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from ..lib import outbound_formats, standard_webhooks
from .common import FihTransactionCase, run_drain_job


@tagged("post_install", "-at_install")
class TestOutboundConcurrency(FihTransactionCase):
    """Deliveries side by side and in batches, against real local receivers:
    per-record order, one acceptance per event, the breaker and the outcome
    of every message a call carried."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sim = cls._start_simulator()
        cls.receiver, cls.receiver_secret = cls._setup_other_backend(
            code="ap-parallel",
            kind="ap_automation",
            base_url=cls.sim.url,
            private_host_allowlist="127.0.0.1",
            retry_base_seconds=1,
            retry_max_attempts=20,
            breaker_threshold=1000,
            breaker_cooldown_seconds=30,
            read_timeout=5.0,
            outbound_concurrency=4,
            outbound_rate_limit_per_minute=0,
        )
        cls.subscriptions = cls.env["fih.subscription"].create(
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
        self.accepted_seqs = set()

    # -- helpers ----------------------------------------------------------------

    def new_supplier(self, name, **values):
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

    def accepted(self):
        """The calls the receiver answered 2xx to, in arrival order."""
        return [
            request
            for request in self.sim.requests("/suppliers")
            if request.seq in self.accepted_seqs
        ]

    def accepted_events(self):
        """Every event the receiver accepted, batches unpacked, in order."""
        events = []
        for request in self.accepted():
            body = json.loads(request.raw_body)
            events.extend(body.get("events", [body]))
        return events

    def answer(self, decide):
        """Route /suppliers to ``decide(request) -> status``, remembering
        which calls it accepted."""

        def handler(request):
            status = decide(request)
            if 200 <= status < 300:
                self.accepted_seqs.add(request.seq)
            return status, {}, {"status": "ok" if status < 300 else "error"}

        route = self.sim.add_route("POST", "/suppliers", handler)
        self.addCleanup(self.sim.remove_route, route)

    def batched(self, size):
        self.subscriptions.write({"delivery_mode": "batch", "batch_max_events": size})

    # -- side by side -------------------------------------------------------------

    def test_deliveries_of_distinct_records_really_travel_side_by_side(self):
        # the receiver answers only once three calls are waiting together:
        # one call at a time would time out on the barrier and get a 503
        barrier = threading.Barrier(3, timeout=4)

        def together(_request):
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                return 503
            return 200

        self.answer(together)
        for n in range(3):
            self.new_supplier(f"Side by side {n}")
        self.deliver()
        messages = self.outbox()
        self.assertEqual(messages.mapped("state"), ["done"] * 3)
        self.assertEqual(messages.mapped("attempts"), [1, 1, 1])
        self.assertEqual(len(self.accepted()), 3)

    def test_one_call_at_a_time_when_the_backend_says_so(self):
        self.receiver.outbound_concurrency = 1
        barrier = threading.Barrier(2, timeout=1)

        def together(_request):
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                barrier.reset()
                return 503
            return 200

        self.answer(together)
        for n in range(2):
            self.new_supplier(f"One by one {n}")
        self.deliver()
        # never two calls under way: neither found a partner at the barrier
        self.assertEqual(self.outbox().mapped("state"), ["received", "received"])

    def test_a_records_events_keep_their_order_when_the_first_fails(self):
        failed_once = set()

        def first_call_of_first_fails(request):
            data = json.loads(request.raw_body)["data"]
            if data["name"] == "First" and "First" not in failed_once:
                failed_once.add("First")
                return 503
            return 200

        self.answer(first_call_of_first_fails)
        first = self.new_supplier("First")
        others = [self.new_supplier(f"Other {n}") for n in range(4)]
        for phone in ("1", "2", "3"):
            first.phone = phone
        self.deliver()
        by_record = self.outbox().filtered(lambda m: m.record_id == first.id)
        self.assertEqual(by_record[0].state, "received")  # retried later
        self.assertEqual(set(by_record[1:].mapped("attempts")), {0})  # held back
        other_ids = [other.id for other in others]
        self.assertEqual(
            {m.state for m in self.outbox() if m.record_id in other_ids}, {"done"}
        )
        self.deliver(rounds=4, make_due=True)
        self.assertEqual(set(self.outbox().mapped("state")), {"done"})
        phones = [
            event["data"].get("phone")
            for event in self.accepted_events()
            if event["data"]["name"] == "First"
        ]
        self.assertEqual(phones, [None, "1", "2", "3"])

    def test_each_event_is_accepted_once_across_an_outage_and_retries(self):
        self.sim.add_fault(
            kind="status", status=503, count=12, path_prefix="/suppliers"
        )
        self.answer(lambda _request: 200)
        for n in range(8):
            partner = self.new_supplier(f"Outage {n}")
            partner.phone = f"+32 {n}"
        self.deliver(rounds=10, make_due=True)
        messages = self.outbox()
        self.assertEqual(set(messages.mapped("state")), {"done"})
        ids = [request.headers["webhook-id"] for request in self.accepted()]
        self.assertEqual(len(ids), 16)
        self.assertEqual(sorted(ids), sorted(messages.mapped("idempotency_key")))

    def test_the_circuit_opening_mid_batch_releases_the_unsent_without_attempts(self):
        self.receiver.write({"breaker_threshold": 3, "outbound_concurrency": 8})
        self.sim.add_fault(kind="status", status=500)  # until cleared
        for n in range(6):
            self.new_supplier(f"Breaker {n}")
        self.deliver()
        self.assertEqual(self.receiver.breaker_status, "open")
        # never more calls under way than failures left before pausing
        self.assertEqual(len(self.sim.requests("/suppliers")), 3)
        messages = self.outbox()
        self.assertEqual(set(messages.mapped("state")), {"received"})
        self.assertEqual(sorted(messages.mapped("attempts")), [0, 0, 0, 1, 1, 1])
        self.assertEqual(len(self.receiver.activity_ids), 1)

    # -- batches ----------------------------------------------------------------

    def test_a_batch_is_signed_once_and_each_member_is_marked_delivered(self):
        self.batched(3)
        self.answer(lambda _request: 200)
        first = self.new_supplier("Batch 0")
        for n in range(1, 4):
            self.new_supplier(f"Batch {n}")
        first.phone = "+32 1"
        self.deliver()
        calls = self.accepted()
        # the four first events (3 + 1, side by side), then the change, which
        # waited for its record's first event to be delivered
        sizes = [len(json.loads(call.raw_body)["events"]) for call in calls]
        self.assertEqual((sorted(sizes[:2]), sizes[2:]), ([1, 3], [1]))
        for call in calls:
            events = json.loads(call.raw_body)["events"]
            members = self.outbox().filtered(
                lambda m, ids={e["id"] for e in events}: m.idempotency_key in ids
            )
            self.assertEqual(
                call.headers["webhook-id"],
                outbound_formats.batch_webhook_id(members.mapped("idempotency_key")),
            )
            standard_webhooks.verify(
                [self.receiver_secret], call.headers, call.raw_body
            )
            # a batch never carries two events of one record
            self.assertEqual(len(set(members.mapped("record_id"))), len(events))
            self.assertEqual(set(members.mapped("state")), {"done"})
            self.assertEqual(set(members.mapped("http_status")), {200})
        self.assertEqual(set(self.outbox().mapped("state")), {"done"})
        events = self.accepted_events()
        self.assertEqual(len(events), 5)
        self.assertEqual(
            sorted(event["id"] for event in events),
            sorted(self.outbox().mapped("idempotency_key")),
        )
        phones = [
            e["data"].get("phone") for e in events if e["data"]["name"] == "Batch 0"
        ]
        self.assertEqual(phones, [None, "+32 1"])

    def test_a_failed_batch_is_retried_whole_under_the_same_webhook_id(self):
        self.batched(10)
        self.sim.add_fault(kind="status", status=503, count=1, path_prefix="/suppliers")
        self.answer(lambda _request: 200)
        for n in range(3):
            self.new_supplier(f"Retried {n}")
        self.deliver()
        messages = self.outbox()
        self.assertEqual(messages.mapped("state"), ["received"] * 3)
        self.assertEqual(messages.mapped("http_status"), [503] * 3)
        self.assertEqual(len(set(messages.mapped("next_attempt_at"))), 1)
        self.deliver(make_due=True)
        self.assertEqual(messages.mapped("state"), ["done"] * 3)
        self.assertEqual(messages.mapped("attempts"), [2] * 3)
        calls = self.sim.requests("/suppliers")
        self.assertEqual(len(calls), 2)
        self.assertEqual(calls[0].headers["webhook-id"], calls[1].headers["webhook-id"])

    def test_a_refused_batch_fails_each_member_with_the_reason(self):
        self.batched(10)
        self.sim.add_fault(kind="status", status=422, count=1, path_prefix="/suppliers")
        for n in range(2):
            self.new_supplier(f"Refused {n}")
        self.deliver()
        messages = self.outbox()
        self.assertEqual(messages.mapped("state"), ["failed", "failed"])
        self.assertEqual(messages.mapped("error_kind"), ["permanent", "permanent"])
        for message in messages:
            self.assertIn("422", message.error_message)

    def test_only_canonical_json_is_sent_several_events_per_call(self):
        with self.assertRaises(ValidationError):
            self.env["fih.subscription"].create(
                {
                    "backend_id": self.receiver.id,
                    "event_code": "purchase_order.confirmed",
                    "endpoint_path": "/orders",
                    "payload_format": "cxml_order_request",
                    "delivery_mode": "batch",
                }
            )

    def test_events_ask_for_a_delivery_job_again_once_committed(self):
        # a job that was waiting when the event was written may run before
        # the commit and find nothing: the hub looks again after the commit
        self.new_supplier("Committed later")
        woken = self.env.cr.postcommit.data.get("fih_outbound_wake_up")
        self.assertEqual(woken, {self.receiver.id})
