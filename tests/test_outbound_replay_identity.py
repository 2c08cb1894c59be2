"""A replayed outbound event reaches the receiver under the id of the event
it repeats: receivers that deduplicate on it (Standard Webhooks' webhook-id,
a cXML payloadID) recognise the redelivery instead of applying it twice."""

import json

from odoo import Command
from odoo.tests import tagged

from ..lib import outbound_formats, safe_xml, standard_webhooks
from .common import FihTransactionCase, run_drain_job

CXML_RESPONSE = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.014/cXML.dtd">
<cXML payloadID="resp-1@supplier" timestamp="2026-11-26T08:00:00Z">
  <Response><Status code="{code}" text="{text}"/></Response>
</cXML>"""


@tagged("post_install", "-at_install")
class TestOutboundReplayIdentity(FihTransactionCase):
    """A Finance Exception Handler replays delivered events; the receivers
    deduplicate as their standards prescribe and must see the same id."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sim = cls._start_simulator()
        cls.receiver, cls.receiver_secret = cls._setup_other_backend(
            code="replay-receiver",
            kind="ap_automation",
            base_url=cls.sim.url,
            private_host_allowlist="127.0.0.1",
        )
        cls.suppliers_subscription = cls.env["fih.subscription"].create(
            {
                "backend_id": cls.receiver.id,
                "event_code": "supplier.created",
                "endpoint_path": "/suppliers",
            }
        )
        cls.platform = cls.env["fih.backend"].create(
            {
                "name": "Supplier network",
                "code": "replay-network",
                "base_url": cls.sim.url,
                "private_host_allowlist": "127.0.0.1",
                "cxml_from_identity": "ACME-BUYER",
                "cxml_to_identity": "NETWORK-1",
            }
        )
        cls.platform.cxml_shared_secret = "s3cr3t-shared-Kx7pQ2vZ"
        cls.env["fih.subscription"].create(
            {
                "backend_id": cls.platform.id,
                "event_code": "purchase_order.confirmed",
                "endpoint_path": "/cxml",
                "payload_format": "cxml_order_request",
            }
        )
        cls.vendor = cls.env["res.partner"].create({"name": "Paper & Co"})
        cls.product = cls.env["product.product"].create(
            {"name": "Paper A4", "default_code": "PAP-A4", "type": "consu"}
        )
        cls.handler = cls.env["res.users"].create(
            {
                "name": "Exception handler",
                "login": "replay_identity_handler",
                "groups_id": [
                    Command.set(
                        [
                            cls.env.ref(
                                "finance_integration_hub.group_fih_exception_handler"
                            ).id
                        ]
                    )
                ],
            }
        )

    def setUp(self):
        super().setUp()
        self.sim.reset()
        self.applied = []  # event ids the receivers acted on
        self.recognised = []  # ids they recognised as already received
        self.before = self.Message.search([], order="id desc", limit=1).id or 0

    # -- receivers that deduplicate ----------------------------------------------

    def json_receiver(self):
        """/suppliers checks the signature over the webhook-id and applies
        each webhook-id once (Standard Webhooks); a redelivery is answered
        2xx and not applied again."""
        seen = set()

        def receive(request):
            try:
                standard_webhooks.verify(
                    [self.receiver_secret], request.headers, request.raw_body
                )
            except standard_webhooks.SignatureError:
                return 401, {}, {"status": "bad signature"}
            webhook_id = request.headers["webhook-id"]
            if webhook_id in seen:
                self.recognised.append(webhook_id)
                return 200, {}, {"status": "already received"}
            seen.add(webhook_id)
            body = json.loads(request.raw_body)
            self.applied += [event["id"] for event in body.get("events", [body])]
            return 200, {}, {"status": "ok"}

        route = self.sim.add_route("POST", "/suppliers", receive)
        self.addCleanup(self.sim.remove_route, route)

    def cxml_supplier(self):
        """/cxml takes each payloadID once; an order it already has is
        answered with cXML status 409."""
        seen = set()

        def receive(request):
            payload_id = safe_xml.parse(request.raw_body).get("payloadID")
            if payload_id in seen:
                self.recognised.append(payload_id)
                body = CXML_RESPONSE.format(code=409, text="Conflict")
            else:
                seen.add(payload_id)
                self.applied.append(payload_id)
                body = CXML_RESPONSE.format(code=200, text="OK")
            return 200, {"Content-Type": "text/xml"}, body

        route = self.sim.add_route("POST", "/cxml", receive)
        self.addCleanup(self.sim.remove_route, route)

    # -- helpers ------------------------------------------------------------------

    def outbox(self, backend):
        return self.Message.search(
            [
                ("backend_id", "=", backend.id),
                ("direction", "=", "outbound"),
                ("id", ">", self.before),
            ],
            order="id",
        )

    def deliver(self, backend):
        run_drain_job(backend, "outbound")
        self.env.invalidate_all()

    def replay(self, messages):
        """The Finance Exception Handler replays ``messages``."""
        replays = messages.with_user(self.handler).action_replay(
            reason="the receiver asked for it again"
        )
        self.assertEqual(replays.replay_of_id, messages)
        return replays.sudo()

    def calls(self, path):
        return [call for call in self.sim.requests(path) if not call.fault]

    # -- one JSON event -----------------------------------------------------------

    def test_a_replayed_event_reaches_the_receiver_under_its_own_webhook_id(self):
        self.json_receiver()
        self.env["res.partner"].create({"name": "Acme NV", "supplier_rank": 1})
        self.deliver(self.receiver)
        original = self.outbox(self.receiver)
        self.assertEqual(original.state, "done")
        replay = self.replay(original)
        self.deliver(self.receiver)
        first, again = self.calls("/suppliers")
        self.assertEqual(again.raw_body, first.raw_body)
        self.assertEqual(first.headers["webhook-id"], original.idempotency_key)
        self.assertEqual(again.headers["webhook-id"], original.idempotency_key)
        # signed over that id: the receiver accepted it and recognised it
        self.assertEqual(self.applied, [original.idempotency_key])
        self.assertEqual(self.recognised, [original.idempotency_key])
        self.assertEqual(replay.state, "done")
        self.assertEqual(replay.http_status, 200)
        # the exchange log keeps each message under its own key
        self.assertNotEqual(replay.idempotency_key, original.idempotency_key)

    def test_a_replay_of_a_replay_still_carries_the_first_events_id(self):
        self.json_receiver()
        self.env["res.partner"].create({"name": "Beta BV", "supplier_rank": 1})
        self.deliver(self.receiver)
        original = self.outbox(self.receiver)
        replay = self.replay(original)
        self.deliver(self.receiver)
        self.assertEqual(replay.state, "done")
        second = self.replay(replay)
        self.deliver(self.receiver)
        self.assertEqual(second.state, "done")
        webhook_ids = [call.headers["webhook-id"] for call in self.calls("/suppliers")]
        self.assertEqual(webhook_ids, [original.idempotency_key] * 3)
        self.assertEqual(self.applied, [original.idempotency_key])
        self.assertEqual(len(self.recognised), 2)
        keys = (original | replay | second).mapped("idempotency_key")
        self.assertEqual(len(set(keys)), 3)

    def test_a_cancelled_event_replayed_is_applied_once_under_its_own_id(self):
        self.json_receiver()
        self.env["res.partner"].create({"name": "Gamma SA", "supplier_rank": 1})
        original = self.outbox(self.receiver)
        self.assertEqual(original.state, "received")
        original.with_user(self.handler).action_cancel(reason="wrong supplier data")
        self.deliver(self.receiver)
        self.assertFalse(self.calls("/suppliers"))
        replay = self.replay(original)
        self.deliver(self.receiver)
        self.assertEqual(replay.state, "done")
        self.assertEqual(self.applied, [original.idempotency_key])
        self.assertFalse(self.recognised)

    # -- a batch ----------------------------------------------------------------

    def test_a_replayed_batch_reaches_the_receiver_under_the_batch_webhook_id(self):
        self.suppliers_subscription.write(
            {"delivery_mode": "batch", "batch_max_events": 3}
        )
        self.json_receiver()
        self.env["res.partner"].create(
            [
                {"name": "Delta GmbH", "supplier_rank": 1},
                {"name": "Epsilon Oy", "supplier_rank": 1},
            ]
        )
        self.deliver(self.receiver)
        originals = self.outbox(self.receiver)
        self.assertEqual(originals.mapped("state"), ["done", "done"])
        replays = self.replay(originals)
        self.deliver(self.receiver)
        first, again = self.calls("/suppliers")
        batch_id = outbound_formats.batch_webhook_id(
            originals.mapped("idempotency_key")
        )
        self.assertEqual(first.headers["webhook-id"], batch_id)
        self.assertEqual(again.headers["webhook-id"], batch_id)
        self.assertEqual(
            [event["id"] for event in json.loads(again.raw_body)["events"]],
            originals.mapped("idempotency_key"),
        )
        self.assertEqual(
            sorted(self.applied), sorted(originals.mapped("idempotency_key"))
        )
        self.assertEqual(self.recognised, [batch_id])
        self.assertEqual(replays.mapped("state"), ["done", "done"])

    # -- a cXML order ------------------------------------------------------------

    def test_a_replayed_cxml_order_is_recognised_by_the_supplier_not_ordered_twice(
        self,
    ):
        self.cxml_supplier()
        order = self.env["purchase.order"].create(
            {
                "partner_id": self.vendor.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": self.product.id,
                            "product_qty": 10,
                            "price_unit": 24.9,
                        }
                    )
                ],
            }
        )
        order.button_confirm()
        self.deliver(self.platform)
        original = self.outbox(self.platform)
        self.assertEqual(original.state, "done")
        replay = self.replay(original)
        self.deliver(self.platform)
        payload_id = outbound_formats.cxml_payload_id(original.idempotency_key)
        sent = [
            safe_xml.parse(call.raw_body).get("payloadID")
            for call in self.calls("/cxml")
        ]
        self.assertEqual(sent, [payload_id, payload_id])
        self.assertEqual(self.applied, [payload_id])  # one order at the supplier
        self.assertEqual(self.recognised, [payload_id])
        self.assertEqual(replay.state, "done")
        self.assertIn("already has this order", replay.error_message)
