import json
import os
import time
from unittest.mock import patch

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from ..lib import standard_webhooks
from .common import BackendMixin, supplier_event


@tagged("post_install", "-at_install")
class TestWebhookContract(BackendMixin, HttpCase):
    """Every response code of POST /finance_hub/webhook/<code>, over real HTTP."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls._setup_backend(max_batch_events=3, max_body_kb=8)
        cls.url = f"/finance_hub/webhook/{cls.backend.code}"

    def post(self, payload=None, body=None, headers=None, url=None, **sign_kwargs):
        if body is None:
            body, signed_headers = self.signed(payload, **sign_kwargs)
            headers = {**signed_headers, **(headers or {})}
        return self.url_open(url or self.url, data=body, headers=headers)

    def message_count(self):
        return self.env["fih.message"].search_count(
            [("backend_id", "=", self.backend.id)]
        )

    def test_single_event_is_accepted_with_its_message_id(self):
        response = self.post(supplier_event(1))
        self.assertEqual(response.status_code, 202)
        answer = response.json()
        message = self.env["fih.message"].browse(answer["message_id"])
        self.assertEqual(message.state, "received")
        self.assertEqual(message.idempotency_key, "evt-sup-000001-v1")
        self.assertEqual(
            json.loads(message.payload)["data"]["name"], "Supplier 000001 Ltd"
        )
        self.assertFalse(answer["duplicate"])

    def test_batch_is_accepted_event_by_event(self):
        response = self.post({"events": [supplier_event(n) for n in (1, 2, 3)]})
        self.assertEqual(response.status_code, 202)
        answer = response.json()
        self.assertEqual(answer["accepted"], 3)
        self.assertEqual(len(answer["events"]), 3)
        self.assertEqual(self.message_count(), 3)

    def test_redelivery_creates_no_new_work(self):
        first = self.post(supplier_event(1), webhook_id="msg_same")
        again = self.post(supplier_event(1), webhook_id="msg_same")
        self.assertEqual(again.status_code, 202)
        self.assertTrue(again.json()["duplicate"])
        self.assertEqual(again.json()["message_id"], first.json()["message_id"])
        # an event already delivered alone, then again inside a batch
        batch = self.post({"events": [supplier_event(1), supplier_event(2)]})
        self.assertEqual(batch.json()["accepted"], 1)
        self.assertEqual(batch.json()["duplicates"], 1)
        self.assertEqual(self.message_count(), 2)

    def test_bad_missing_or_stale_signature_is_401(self):
        body, headers = self.signed(supplier_event(1))
        wrong = standard_webhooks.generate_secret()
        cases = {
            "missing": {"content-type": "application/json"},
            "wrong secret": self.signed(supplier_event(1), secret=wrong)[1],
            "tampered body": headers,
            "stale": self.signed(supplier_event(1), timestamp=time.time() - 330)[1],
            "future": self.signed(supplier_event(1), timestamp=time.time() + 330)[1],
        }
        for name, case_headers in cases.items():
            with self.subTest(name):
                data = body + b" " if name == "tampered body" else body
                response = self.post(body=data, headers=case_headers)
                self.assertEqual(response.status_code, 401)
                self.assertEqual(response.json()["error"], "invalid_signature")
        self.assertEqual(self.message_count(), 0)

    def test_signature_within_tolerance_is_accepted(self):
        response = self.post(supplier_event(1), timestamp=time.time() - 290)
        self.assertEqual(response.status_code, 202)

    def test_one_of_several_signatures_may_match(self):
        body, headers = self.signed(supplier_event(1))
        other = standard_webhooks.sign(
            standard_webhooks.generate_secret(), headers["webhook-id"], body
        )["webhook-signature"]
        headers["webhook-signature"] = f"{other} {headers['webhook-signature']}"
        self.assertEqual(self.post(body=body, headers=headers).status_code, 202)

    def test_previous_secret_is_accepted_during_grace_only(self):
        old_secret = self.secret
        self.backend.webhook_secret = standard_webhooks.generate_secret()
        response = self.post(supplier_event(1), secret=old_secret)
        self.assertEqual(response.status_code, 202)
        self.backend.action_end_secret_grace()
        response = self.post(supplier_event(2), secret=old_secret)
        self.assertEqual(response.status_code, 401)

    def test_unknown_or_archived_backend_is_401_like_a_wrong_signature(self):
        response = self.post(supplier_event(1), url="/finance_hub/webhook/nobody")
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response.json()["error"], "invalid_signature")
        self.backend.active = False
        response = self.post(supplier_event(1))
        self.assertEqual(response.status_code, 401)

    def test_body_over_the_limit_is_413(self):
        big = supplier_event(1, name="x" * 9000)
        response = self.post(big)
        self.assertEqual(response.status_code, 413)
        self.assertEqual(self.message_count(), 0)

    def test_not_json_is_415(self):
        body, headers = self.signed(b"<xml/>")
        headers["content-type"] = "text/xml"
        self.assertEqual(self.post(body=body, headers=headers).status_code, 415)

    def test_malformed_json_is_400_with_a_machine_readable_error(self):
        response = self.post(b'{"id": "evt-1", "type": ')
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["error"], "malformed_json")

    def test_invalid_envelope_is_400_with_paths(self):
        response = self.post({"events": [{"id": "a", "type": "supplier.upsert"}]})
        self.assertEqual(response.status_code, 400)
        answer = response.json()
        self.assertEqual(answer["error"], "invalid_envelope")
        self.assertEqual(answer["details"][0]["path"], "$.events[0].data")
        unknown = self.post({"id": "b", "type": "invoice.teleport", "data": {}})
        self.assertEqual(unknown.status_code, 400)
        self.assertIn("unknown event type", unknown.json()["details"][0]["reason"])

    def test_batch_over_the_configured_count_is_400(self):
        response = self.post({"events": [supplier_event(n) for n in range(1, 5)]})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["error"], "batch_too_large")
        self.assertEqual(self.message_count(), 0)

    def test_over_the_rate_limit_is_429_with_retry_after(self):
        self.backend.rate_limit_per_minute = 2
        # a fixed clock: the test must not straddle a minute boundary
        frozen = patch(
            "odoo.addons.finance_integration_hub.models.fih_rate_counter._now",
            return_value=1_800_000_000.0,
        )
        self.startPatcher(frozen)
        statuses = [self.post(supplier_event(n)).status_code for n in (1, 2, 3)]
        self.assertEqual(statuses, [202, 202, 429])
        response = self.post(supplier_event(4))
        self.assertEqual(response.status_code, 429)
        self.assertGreaterEqual(int(response.headers["Retry-After"]), 1)
        self.assertEqual(self.message_count(), 2)

    def test_missing_master_key_is_503_and_stores_nothing(self):
        with (
            patch.dict(os.environ, {"FIH_MASTER_KEY": ""}),
            mute_logger("odoo.addons.finance_integration_hub.models.fih_intake"),
        ):
            response = self.post(supplier_event(1))
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.json()["error"], "not_configured")
        self.assertEqual(response.headers["Retry-After"], "300")
        self.assertEqual(self.message_count(), 0)

    def test_get_is_not_allowed(self):
        response = self.url_open(self.url)
        self.assertEqual(response.status_code, 405)
