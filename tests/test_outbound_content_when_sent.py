import json
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from ..lib import safe_xml, standard_webhooks
from .test_outbound_concurrency import TestOutboundConcurrency
from .test_outbound_formats_and_auth import CXML_RESPONSE, TestOutboundFormatsAndAuth


@tagged("post_install", "-at_install")
class TestOutboundContentTakenWhenSent(TestOutboundConcurrency):
    """Subscriptions that take the event's content when it is sent: saving
    notes only which record changed; the delivery job prepares the content.
    Every guarantee of the side-by-side and batched deliveries (inherited
    tests) holds the same way: per-record order, one acceptance per event
    across outages, the breaker, batch signing."""

    allow_inherited_tests_method = True  # Odoo's loader: run them here too

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.subscriptions.write({"payload_timing": "on_delivery"})

    # -- inherited tests whose content differs: the record as sent ----------

    def test_a_records_events_keep_their_order_when_the_first_fails(self):
        failed_once = []

        def first_call_fails(request):
            if not failed_once:
                failed_once.append(request.seq)
                return 503
            return 200

        self.answer(first_call_fails)
        first = self.new_supplier("First")
        for phone in ("1", "2", "3"):
            first.phone = phone
        others = [self.new_supplier(f"Other {n}") for n in range(4)]
        self.receiver.outbound_concurrency = 1  # the first call is First's
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
        events = [e for e in self.accepted_events() if e["data"]["name"] == "First"]
        # in order, each once; each carries the record as it was when sent
        self.assertEqual([e["id"] for e in events], by_record.mapped("idempotency_key"))
        self.assertEqual(
            [e["type"] for e in events], ["supplier.created"] + 3 * ["supplier.changed"]
        )
        self.assertEqual({e["data"].get("phone") for e in events}, {"3"})

    def test_a_batch_is_signed_once_and_each_member_is_marked_delivered(self):
        self.batched(3)
        self.answer(lambda _request: 200)
        suppliers = [self.new_supplier(f"Batch {n}") for n in range(4)]
        suppliers[0].phone = "+32 1"
        self.deliver()
        calls = self.accepted()
        sizes = [len(json.loads(call.raw_body)["events"]) for call in calls]
        self.assertEqual((sorted(sizes[:2]), sizes[2:]), ([1, 3], [1]))
        for call in calls:
            standard_webhooks.verify(
                [self.receiver_secret], call.headers, call.raw_body
            )
        messages = self.outbox()
        self.assertEqual(set(messages.mapped("state")), {"done"})
        events = self.accepted_events()
        self.assertEqual(
            sorted(event["id"] for event in events),
            sorted(messages.mapped("idempotency_key")),
        )
        # every member was given its content before it was sent
        self.assertTrue(all(messages.sudo().mapped("payload")))

    # -- the capture itself ---------------------------------------------------

    def test_saving_notes_which_record_changed_without_preparing_it(self):
        supplier = self.new_supplier("Noted only")
        message = self.outbox()
        self.assertEqual(len(message), 1)
        self.assertEqual(
            (message.record_model, message.record_id, message.state),
            ("res.partner", supplier.id, "received"),
        )
        self.assertFalse(message.sudo().payload)

    def test_the_content_is_prepared_once_and_every_retry_sends_the_same_bytes(self):
        self.sim.add_fault(kind="status", status=503, count=1, path_prefix="/suppliers")
        self.answer(lambda _request: 200)
        supplier = self.new_supplier("Same bytes")
        self.deliver()
        message = self.outbox().sudo()
        self.assertEqual(message.state, "received")
        stored = message.payload
        self.assertTrue(stored)
        # a change after the first attempt is its own event, not a new content
        supplier.phone = "+32 9"
        self.deliver(rounds=3, make_due=True)
        calls = [
            c
            for c in self.sim.requests("/suppliers")
            if c.headers.get("webhook-id") == message.idempotency_key
        ]
        self.assertEqual(len(calls), 2)
        self.assertEqual(calls[0].raw_body, calls[1].raw_body)
        self.assertEqual(json.loads(calls[1].raw_body)["data"].get("phone"), None)
        self.assertEqual(message.payload, stored)
        self.assertTrue(
            message.env["fih.message"]._fingerprint_matches(
                message.payload_sha256, stored
            )
        )
        self.assertEqual(set(self.outbox().mapped("state")), {"done"})

    def test_the_content_is_the_record_as_it_is_when_sent(self):
        self.answer(lambda _request: 200)
        supplier = self.new_supplier("Old name")
        supplier.name = "New name"
        self.deliver(rounds=2)
        created, changed = self.accepted_events()
        messages = self.outbox()
        self.assertEqual(
            [(created["id"], created["type"]), (changed["id"], changed["type"])],
            list(
                zip(
                    messages.mapped("idempotency_key"),
                    messages.mapped("event_type"),
                    strict=False,
                )
            ),
        )
        # both were prepared after the rename: each carries the record as sent
        self.assertEqual(
            [created["data"]["name"], changed["data"]["name"]], ["New name"] * 2
        )
        self.assertEqual(
            created["occurred_at"],
            messages[0].received_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )

    def test_delivered_events_count_their_latency_in_the_log_counters(self):
        self.answer(lambda _request: 200)
        for n in range(5):
            self.new_supplier(f"Counted {n}")
        # written a few seconds ago: every latency is at least 3 s
        self.outbox().sudo().write(
            {"received_at": fields.Datetime.now() - timedelta(seconds=3)}
        )
        self.deliver()
        messages = self.outbox()
        self.assertEqual(set(messages.mapped("state")), {"done"})
        self.assertTrue(all(m.latency_ms >= 3000 for m in messages))
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT coalesce(sum(entered_count), 0), coalesce(sum(latency_sum), 0)"
            " FROM fih_message_stat WHERE backend_id = %s AND state = 'done'"
            " AND received_hour IS NULL",
            (self.receiver.id,),
        )
        entered, latency = self.env.cr.fetchone()
        # the state and the latency changed in one statement: both counted
        self.assertEqual(entered, 5)
        self.assertEqual(latency, sum(messages.mapped("latency_ms")))

    def test_a_record_deleted_before_sending_fails_its_event_with_the_reason(self):
        self.answer(lambda _request: 200)
        gone = self.new_supplier("Deleted soon")
        kept = self.new_supplier("Kept")
        gone.unlink()
        self.deliver()
        lost, sent = self.outbox()
        self.assertEqual((lost.state, lost.error_kind), ("failed", "permanent"))
        self.assertIn("deleted before the event was sent", lost.error_message)
        self.assertEqual(len(lost.exception_group_id.activity_ids), 1)
        self.assertEqual(sent.state, "done")
        self.assertEqual(
            [event["data"]["name"] for event in self.accepted_events()], [kept.name]
        )


@tagged("post_install", "-at_install")
class TestOutboundFormatsContentTakenWhenSent(TestOutboundFormatsAndAuth):
    """cXML orders and OAuth2 with the content taken when the event is sent
    (inherited tests), and the service user's rights checked then."""

    allow_inherited_tests_method = True  # Odoo's loader: run them here too

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["fih.subscription"].search(
            [("backend_id", "=", cls.platform.id)]
        ).payload_timing = "on_delivery"

    def test_a_service_user_without_the_right_fails_the_event_not_the_order(self):
        service = self.platform.service_user_id
        # an internal user with no purchase, stock or invoicing rights
        service.groups_id = [
            (
                6,
                0,
                [
                    self.env.ref("base.group_user").id,
                    self.env.ref("finance_integration_hub.group_fih_service").id,
                ],
            )
        ]
        order = self.confirmed_order()
        self.assertEqual(order.state, "purchase")  # the business change went on
        message = self.env["fih.message"].search(
            [("backend_id", "=", self.platform.id)]
        )
        self.assertEqual(message.state, "received")  # noted, not prepared yet
        self.deliver(self.platform)
        self.assertEqual(message.state, "failed")
        self.assertIn("may not read this record", message.error_message)
        self.assertFalse(message.sudo().payload)
        self.assertEqual(len(message.exception_group_id.activity_ids), 1)
        self.assertFalse(self.sim.requests("/cxml"))
        # once the right is given back, a retry sends the order's real content
        service.groups_id = [(4, self.env.ref("purchase.group_purchase_user").id)]
        message.action_retry(reason="service user may read orders again")
        self.sim.add_response(
            "/cxml",
            content_type="text/xml",
            body=CXML_RESPONSE.format(code=200, text="OK", detail=""),
        )
        self.deliver(self.platform)
        self.assertEqual(message.state, "done")
        (call,) = self.sim.requests("/cxml")
        header = safe_xml.parse(call.raw_body).find(".//OrderRequestHeader")
        self.assertEqual(header.get("orderID"), f"odoo-purchase.order-{order.id}")
