import os
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common import BackendMixin, FihTransactionCase, supplier_event


@tagged("post_install", "-at_install")
class TestOperationsCockpit(FihTransactionCase):
    def set_latencies(self, values):
        messages = self.messages(state="done").sorted("id")
        for message, latency in zip(messages, values, strict=False):
            self.env.cr.execute(
                "UPDATE fih_message SET processing_ms = %s WHERE id = %s",
                (latency, message.id),
            )
        self.env.invalidate_all()

    def test_dashboard_figures_match_the_log(self):
        self.receive({"events": [supplier_event(n) for n in range(1, 9)]})
        self.receive(supplier_event(20, address={"country_code": "ZZ"}))
        self.receive(supplier_event(21, address={"country_code": "ZZ"}))
        self.process()
        self.set_latencies([100, 200, 300, 400, 500, 600, 700, 800])
        self.receive(supplier_event(30))  # waiting: the backlog
        dead = self.messages(state="failed")[:1]
        dead.sudo().write({"state": "dead"})
        backend = self.backend
        backend.invalidate_recordset()
        self.assertEqual(backend.messages_24h, 11)
        self.assertEqual(backend.backlog_count, 1)
        self.assertEqual(backend.dead_letter_count, 1)
        self.assertEqual(backend.success_rate, 80.0)  # 8 done of 10 finished
        # estimated within latency buckets (interpolated between values:
        # 450, 765)
        self.assertEqual(backend.latency_p50_ms, 400)
        self.assertEqual(backend.latency_p95_ms, 760)
        self.assertEqual(backend.health_status, "degraded")
        self.assertIn("1 dead letters", backend.health_reason)
        self.assertTrue(backend.last_success_at)

    def test_health_is_down_when_most_messages_fail(self):
        self.receive(
            {
                "events": [
                    supplier_event(n, address={"country_code": "ZZ"})
                    for n in range(1, 5)
                ]
            }
        )
        self.process()
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.health_status, "down")
        self.assertIn("100% of the messages", self.backend.health_reason)

    def test_business_documents_show_their_sync_status(self):
        self.receive(supplier_event(1))
        self.process()
        partner = self.partners_by_external_id("SUP-000001")
        self.assertEqual(partner.fih_message_count, 1)
        self.assertEqual(partner.fih_sync_state, "synced")
        self.env["fih.subscription"].create(
            {
                "backend_id": self.backend.id,
                "event_code": "purchase_order.confirmed",
                "endpoint_path": "/orders",
            }
        )
        product = self.env["product.product"].create({"name": "Paper", "type": "consu"})
        order = self.env["purchase.order"].create(
            {
                "partner_id": partner.id,
                "order_line": [
                    (
                        0,
                        0,
                        {"product_id": product.id, "product_qty": 3, "price_unit": 7},
                    )
                ],
            }
        )
        self.assertEqual(order.fih_message_count, 0)
        order.button_confirm()
        order.invalidate_recordset()
        self.assertEqual(order.fih_message_count, 1)
        self.assertEqual(order.fih_sync_state, "pending")
        action = order.action_open_fih_messages()
        message = self.Message.search(action["domain"])
        self.assertEqual(message.event_type, "purchase_order.confirmed")

    # the owner's assignment e-mails cannot leave a test database
    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_alerts_are_sent_once_per_interval(self):
        self.backend.owner_id = self.env.ref("base.user_admin")
        self.receive(
            {
                "events": [
                    supplier_event(n, address={"country_code": "ZZ"})
                    for n in range(1, 13)
                ]
            }
        )
        self.process()
        self.messages(state="failed")[:2].sudo().write({"state": "dead"})
        Backend = self.env["fih.backend"]
        Backend._cron_alerts()
        Backend._cron_alerts()
        alerts = self.backend.activity_ids.filtered(
            lambda a: "Integration alert" in (a.summary or "")
        )
        self.assertEqual(len(alerts), 2)  # failure rate, dead letters: once each
        notes = " ".join(alerts.mapped("note"))
        self.assertIn("100% of the last hour's messages", notes)
        self.assertIn("2 messages", notes)
        self.assertTrue(self.backend.last_alert_failure_at)
        posted = self.backend.message_ids.filtered(
            lambda m: "Integration alert" in (m.subject or "")
        )
        self.assertEqual(len(posted), 2)
        self.assertIn(self.env.ref("base.user_admin").partner_id, posted.partner_ids)

    def test_old_payloads_are_purged_and_metadata_kept(self):
        self.receive(
            {
                "events": [
                    supplier_event(1),
                    supplier_event(2, address={"country_code": "ZZ"}),
                ]
            }
        )
        self.process()
        old = fields.Datetime.now() - timedelta(days=200)
        self.env.cr.execute(
            "UPDATE fih_message SET received_at = %s WHERE backend_id = %s",
            (old, self.backend.id),
        )
        self.env.invalidate_all()
        purged = self.Message._cron_purge_payloads()
        self.assertEqual(purged, 1)  # confidential: 180 days; the failed one stays
        done = self.messages(state="done")
        self.assertFalse(done.payload)
        self.assertTrue(done.payload_purged_at)
        self.assertTrue(done.payload_sha256)
        self.assertEqual(done.idempotency_key, "evt-sup-000001-v1")
        self.assertTrue(self.messages(state="failed").payload)
        self.assertTrue(self.env["fih.audit.log"].search([("action", "=", "purge")]))
        self.assertEqual(self.Message._cron_purge_payloads(), 0)

    def test_purge_works_in_bounded_chunks(self):
        self.receive({"events": [supplier_event(n) for n in range(1, 6)]})
        self.process()
        self.env.cr.execute(
            "UPDATE fih_message SET received_at = %s WHERE backend_id = %s",
            (fields.Datetime.now() - timedelta(days=400), self.backend.id),
        )
        self.assertEqual(self.Message._cron_purge_payloads(chunk=2), 2)
        self.assertEqual(self.Message._cron_purge_payloads(chunk=2), 2)
        self.assertEqual(self.Message._cron_purge_payloads(chunk=2), 1)


@tagged("post_install", "-at_install")
class TestMetricsEndpoint(BackendMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls._setup_backend(code="metrics-test")

    def test_metrics_are_token_protected_and_count_the_log(self):
        self.assertEqual(self.url_open("/finance_hub/metrics").status_code, 404)
        body, headers = self.signed(supplier_event(1))
        self.url_open(
            f"/finance_hub/webhook/{self.backend.code}", data=body, headers=headers
        )
        with patch.dict(os.environ, {"FIH_METRICS_TOKEN": "s3cret-token"}):
            denied = self.url_open(
                "/finance_hub/metrics", headers={"Authorization": "Bearer wrong"}
            )
            self.assertEqual(denied.status_code, 401)
            response = self.url_open(
                "/finance_hub/metrics", headers={"Authorization": "Bearer s3cret-token"}
            )
        self.assertEqual(response.status_code, 200)
        text = response.text
        self.assertIn("# TYPE fih_messages_total gauge", text)
        self.assertIn(
            'fih_messages_total{backend="metrics-test",direction="inbound",'
            'event_type="supplier.upsert",state="received"} 1',
            text,
        )
        self.assertIn('fih_backlog{backend="metrics-test"} 1', text)
        self.assertIn('fih_circuit_open{backend="metrics-test"} 0', text)
