import json
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from ..lib import safe_xml
from .common import FihTransactionCase, run_drain_job

CXML_RESPONSE = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.014/cXML.dtd">
<cXML payloadID="resp-1@platform" timestamp="2026-11-26T08:00:00Z">
  <Response><Status code="{code}" text="{text}">{detail}</Status></Response>
</cXML>"""


@tagged("post_install", "-at_install")
class TestOutboundFormatsAndAuth(FihTransactionCase):
    """cXML OrderRequest to a procurement platform, OAuth2 client credentials."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sim = cls._start_simulator()
        cls.platform = cls.env["fih.backend"].create(
            {
                "name": "Supplier network",
                "code": "network",
                "base_url": cls.sim.url,
                "private_host_allowlist": "127.0.0.1",
                "retry_base_seconds": 1,
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
        cls.supplier = cls.env["res.partner"].create(
            {"name": "Paper & Co <NV>", "supplier_rank": 1}
        )
        cls.product = cls.env["product.product"].create(
            {"name": "Paper A4", "default_code": "PAP-A4", "type": "consu"}
        )

    def setUp(self):
        super().setUp()
        self.sim.reset()

    def deliver(self, backend):
        self.env["fih.message"].search(
            [("backend_id", "=", backend.id), ("state", "=", "received")]
        ).write({"next_attempt_at": fields.Datetime.now() - timedelta(seconds=1)})
        run_drain_job(backend, "outbound")
        self.env.invalidate_all()

    def confirmed_order(self):
        order = self.env["purchase.order"].create(
            {
                "partner_id": self.supplier.id,
                "order_line": [
                    (
                        0,
                        0,
                        {
                            "product_id": self.product.id,
                            "name": "Paper A4 <80 g> & more",
                            "product_qty": 10,
                            "price_unit": 24.9,
                        },
                    )
                ],
            }
        )
        order.button_confirm()
        return order

    def test_a_cxml_failure_under_http_200_is_retried_then_delivered(self):
        self.sim.add_response(
            "/cxml",
            content_type="text/xml",
            body=CXML_RESPONSE.format(
                code=500, text="Internal Server Error", detail="db down"
            ),
        )
        order = self.confirmed_order()
        message = self.env["fih.message"].search(
            [("backend_id", "=", self.platform.id)]
        )
        self.assertEqual(message.event_type, "purchase_order.confirmed")
        self.deliver(self.platform)
        self.assertEqual(message.state, "received")  # HTTP 200, cXML 500: retry
        self.assertEqual(message.http_status, 200)
        self.assertIn("500", message.error_message)
        self.sim.reset()
        self.sim.add_response(
            "/cxml",
            content_type="text/xml",
            body=CXML_RESPONSE.format(code=200, text="OK", detail=""),
        )
        self.deliver(self.platform)
        self.assertEqual(message.state, "done")
        sent = self.sim.requests("/cxml")[-1]
        self.assertTrue(sent.headers["content-type"].startswith("text/xml"))
        root = safe_xml.parse(sent.raw_body)
        header = root.find(".//OrderRequestHeader")
        self.assertEqual(header.get("orderID"), f"odoo-purchase.order-{order.id}")
        self.assertEqual(header.get("type"), "new")
        self.assertEqual(root.findtext(".//Total/Money"), "249.00")
        self.assertEqual(
            root.findtext(".//Sender/Credential/SharedSecret"), "s3cr3t-shared-Kx7pQ2vZ"
        )
        self.assertEqual(
            root.findtext(".//ItemOut/ItemDetail/Description"), "Paper A4 <80 g> & more"
        )
        # the exchange log keeps the canonical document, never the shared secret
        self.assertNotIn("s3cr3t-shared-Kx7pQ2vZ", message.payload)
        self.assertEqual(
            json.loads(message.payload)["data"]["lines"][0]["quantity"], 10
        )

    def test_oauth2_tokens_are_cached_and_refreshed_once_on_401(self):
        tokens, calls = [], []

        def token_endpoint(request):
            tokens.append(request.headers.get("authorization"))
            return 200, {}, {"access_token": f"tok-{len(tokens)}", "expires_in": 3600}

        def orders(request):
            calls.append(request.headers.get("authorization"))
            # the first token was revoked on the platform's side
            if request.headers.get("authorization") == "Bearer tok-1":
                return 401, {}, {"error": "invalid_token"}
            return 200, {}, {"status": "ok"}

        self.sim.add_route("POST", "/oauth/token", token_endpoint)
        self.sim.add_route("POST", "/orders", orders)
        backend = self.env["fih.backend"].create(
            {
                "name": "OAuth platform",
                "code": "oauth-platform",
                "base_url": self.sim.url,
                "private_host_allowlist": "127.0.0.1",
                "auth_type": "oauth2",
                "oauth_token_url": f"{self.sim.url}/oauth/token",
                "oauth_client_id": "hub-client",
            }
        )
        backend.oauth_client_secret = "client-secret"
        self.env["fih.subscription"].create(
            {
                "backend_id": backend.id,
                "event_code": "purchase_order.confirmed",
                "endpoint_path": "/orders",
            }
        )
        self.confirmed_order()
        self.confirmed_order()
        self.deliver(backend)
        messages = self.env["fih.message"].search([("backend_id", "=", backend.id)])
        self.assertEqual(set(messages.mapped("state")), {"done"})
        self.assertEqual(len(tokens), 2)  # first token, then one refresh
        self.assertTrue(tokens[0].startswith("Basic "))  # client credentials
        # both orders left side by side with the revoked token; the first
        # refusal refreshed it, the second found it refreshed already
        self.assertEqual(
            sorted(calls),
            ["Bearer tok-1", "Bearer tok-1", "Bearer tok-2", "Bearer tok-2"],
        )

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
        self.assertEqual(message.state, "failed")
        self.assertIn("may not read this record", message.error_message)
        self.assertEqual(len(message.exception_group_id.activity_ids), 1)
        self.deliver(self.platform)
        self.assertFalse(self.sim.requests("/cxml"))
