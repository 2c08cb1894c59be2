"""Issue #13, the intake's findings, each reproduced as the attacker did it:
an unsigned sender, or the lowest group that sees the exchange log."""

import base64
import contextlib
import hashlib
import json
import socket
import time
from unittest.mock import patch

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import HttpCase, tagged
from odoo.tools import config

from ..lib import safe_xml, standard_webhooks
from ..models import fih_auth_throttle
from ..simulator.p2p_documents import cxml_order_request, ubl_invoice
from ..tools import event_json
from .common import BackendMixin, FihTransactionCase, supplier_data, supplier_event

CLOCK = "odoo.addons.finance_integration_hub.models.fih_rate_counter._now"
SECRET = "buyer-secret-Kx7pQ2vZ"
ATTACKER = "203.0.113.9"
SENDER = "198.51.100.7"
T0 = 1_800_000_000.0
IBAN = "BE71096123456769"
VAT = "BE0477472701"


@tagged("post_install", "-at_install")
class TestSecurityIntake(FihTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend.cxml_shared_secret = SECRET
        cls.currency = cls.env.company.currency_id.name
        cls.clerk = cls.env["res.users"].create(
            {
                "name": "AP clerk",
                "login": "fih_intake_clerk",
                "email": "clerk@example.com",
                "company_id": cls.backend.company_id.id,
                "company_ids": [(6, 0, cls.backend.company_id.ids)],
                "groups_id": [
                    (6, 0, [cls.env.ref("finance_integration_hub.group_fih_user").id])
                ],
            }
        )

    def setUp(self):
        super().setUp()
        self.now = T0
        self.startPatcher(patch(CLOCK, side_effect=lambda: self.now))

    # -- helpers ---------------------------------------------------------------

    def cxml(self, secret=SECRET, code=None, address=SENDER, payload="PO-1"):
        body = cxml_order_request(
            payload,
            "SUP-000001",
            [(1, "PAPER", "Paper A4", 10, 4.0, 15)],
            currency=self.currency,
            shared_secret=secret,
        )
        self.env.flush_all()  # the intake reads its backend with SQL
        result = self.env["fih.cxml.intake"]._receive(
            code or self.backend.code, lambda: body, len(body), address
        )
        self.env.invalidate_all()
        return result

    def webhook(self, payload, secret=None, code=None, address=SENDER):
        body, headers = self.signed(payload, secret=secret)
        self.env.flush_all()  # the intake reads its backend with SQL
        result = self.env["fih.webhook.intake"]._receive(
            code or self.backend.code,
            headers,
            lambda limit: body[:limit],
            headers["content-type"],
            len(body),
            address,
        )
        self.env.invalidate_all()
        return result

    def cxml_text(self, result):
        return safe_xml.parse(result.body).find("Response/Status").text

    # -- 5: the fingerprint is no oracle ----------------------------------------

    def test_the_payload_fingerprint_cannot_be_brute_forced_or_read_by_a_clerk(self):
        event = supplier_event(1, vat=VAT)
        self.assertEqual(self.webhook(event).status, 202)
        message = self.messages()
        # the clerk sees masked payloads: the fingerprint is not theirs to read
        with self.assertRaises(AccessError):
            message.with_user(self.clerk).read(["payload_sha256"])
        with self.assertRaises(AccessError):
            self.Message.with_user(self.clerk).search([("payload_sha256", "!=", False)])
        # the attack: hash each candidate VAT in the event, compare
        stored = message.payload_sha256
        candidates = [VAT, "BE0477472702", "BE0000000001"]
        guesses = {
            hashlib.sha256(
                event_json({**event, "data": {**event["data"], "vat": c}}).encode()
            ).hexdigest()
            for c in candidates
        }
        self.assertFalse(any(guess in stored for guess in guesses))
        self.assertTrue(stored.startswith("hmac-sha256:"))

    def test_redeliveries_are_still_recognised_by_their_keyed_fingerprint(self):
        self.assertEqual(self.cxml().status, 201)
        self.assertEqual(self.cxml().status, 200)
        changed = cxml_order_request(
            "PO-1",
            "SUP-000001",
            [(1, "PAPER", "Paper A4", 11, 4.0, 15)],
            currency=self.currency,
            shared_secret=SECRET,
        )
        result = self.env["fih.cxml.intake"]._receive(
            self.backend.code, lambda: changed, len(changed), SENDER
        )
        self.assertEqual(result.status, 409)

    def test_a_message_fingerprinted_before_the_upgrade_is_still_processed(self):
        self.assertEqual(self.webhook(supplier_event(1)).status, 202)
        message = self.messages()
        message.sudo().payload_sha256 = hashlib.sha256(
            message.sudo().payload.encode()
        ).hexdigest()
        self.process()
        self.assertEqual(message.state, "done", message.error_message)

    # -- 10: guessing shared secrets ---------------------------------------------

    def test_a_weak_shared_secret_is_refused_with_the_reason(self):
        for weak in ("x", "aaaaaaaaaaaaaaaaaaaa", "1234567890123456"):
            with self.subTest(weak), self.assertRaises(ValidationError) as caught:
                self.backend.cxml_shared_secret = weak
            self.assertIn("cXML Shared Secret is not usable", str(caught.exception))
        repeated = "whsec_" + base64.b64encode(b"ab" * 16).decode()
        with self.assertRaises(ValidationError):
            self.backend.webhook_secret = repeated
        # the stored secret did not change
        self.assertEqual(self.cxml().status, 201)

    def test_guessing_the_shared_secret_is_answered_429_with_a_growing_wait(self):
        statuses = [
            self.cxml(secret=f"guess-{n}", address=ATTACKER).status for n in range(10)
        ]
        self.assertEqual(statuses, [401] * 9 + [429])
        blocked = self.cxml(address=ATTACKER)  # even the right secret must wait
        self.assertEqual(blocked.status, 429)
        self.assertEqual(blocked.http_status, 429)
        first_wait = int(blocked.headers["Retry-After"])
        self.assertEqual(first_wait, 30)
        # the legitimate sender, elsewhere, is not locked out
        self.assertEqual(self.cxml(address=SENDER).status, 201)
        self.now += first_wait + 1
        again = self.cxml(secret="guess-10", address=ATTACKER)
        self.assertEqual(again.status, 429)
        self.assertEqual(int(again.headers["Retry-After"]), 60)
        # after a quiet period the count starts again
        self.now += 60 + fih_auth_throttle.QUIET + 1
        self.assertEqual(self.cxml(secret="guess-11", address=ATTACKER).status, 401)
        self.assertFalse(self.messages().filtered(lambda m: "guess" in m.payload))

    def test_guessing_from_many_addresses_never_locks_out_the_known_sender(self):
        self.assertEqual(self.cxml(address=SENDER, payload="PO-1").status, 201)
        self.startPatcher(patch.object(fih_auth_throttle, "BACKEND_LIMIT", 5))
        statuses = [
            self.cxml(secret="guess", address=f"203.0.113.{n}").status
            for n in range(10, 15)
        ]
        self.assertEqual(statuses, [401] * 4 + [429])
        # a new address is not heard while the backend is under attack...
        self.assertEqual(self.cxml(address="203.0.113.99", payload="PO-2").status, 429)
        # ...the address that authenticated before is
        self.assertEqual(self.cxml(address=SENDER, payload="PO-3").status, 201)
        self.now += fih_auth_throttle.MAX_DELAY + fih_auth_throttle.QUIET + 1
        self.assertEqual(self.cxml(address="203.0.113.99", payload="PO-4").status, 201)

    def test_bad_webhook_signatures_are_counted_the_same_way(self):
        wrong = standard_webhooks.generate_secret()
        statuses = [
            self.webhook(supplier_event(n), secret=wrong, address=ATTACKER).status
            for n in range(1, 11)
        ]
        self.assertEqual(statuses, [401] * 9 + [429])
        blocked = self.webhook(supplier_event(11), address=ATTACKER)
        self.assertEqual(blocked.status, 429)
        self.assertEqual(blocked.payload["error"], "too_many_failures")
        self.assertGreaterEqual(int(blocked.headers["Retry-After"]), 1)
        self.assertEqual(self.webhook(supplier_event(12)).status, 202)
        self.assertEqual(len(self.messages()), 1)

    # -- 11: route parameters -------------------------------------------------

    def test_a_backend_code_with_control_characters_is_never_looked_up(self):
        forged = "x\n2026-12-01 12:00:00,000 1 INFO db odoo: admin logged in\x00"
        with self.assertNoLogs("odoo.addons.finance_integration_hub", "WARNING"):
            cxml = self.cxml(code=forged)
            webhook = self.webhook(supplier_event(1), code=forged)
        self.assertEqual(cxml.status, 401)
        self.assertEqual(webhook.status, 401)
        self.assertEqual(webhook.payload["error"], "invalid_signature")

    # -- 13a: unknown, archived and wrong alike -------------------------------

    def test_unknown_archived_and_wrongly_signed_are_answered_alike(self):
        wrong = standard_webhooks.generate_secret()
        event = supplier_event(1)
        unknown = self.webhook(event, code="nobody-here")
        bad = self.webhook(event, secret=wrong)
        self.backend.active = False
        archived = self.webhook(event)
        answers = {(r.status, json.dumps(r.payload)) for r in (unknown, bad, archived)}
        self.assertEqual(len(answers), 1, answers)
        self.assertEqual(unknown.status, 401)
        self.backend.active = True
        cxml_answers = [
            self.cxml(code="nobody-here"),
            self.cxml(secret="wrong-secret"),
        ]
        self.backend.active = False
        cxml_answers.append(self.cxml())
        self.assertEqual({r.status for r in cxml_answers}, {401})
        self.assertEqual(len({self.cxml_text(r) for r in cxml_answers}), 1)

    # -- 12: what a clerk sees ------------------------------------------------

    def test_a_clerk_reads_problems_keys_and_causes_masked(self):
        self.assertEqual(self.backend.data_classification, "confidential")
        self.assertEqual(self.webhook(supplier_event(1)).status, 202)
        message = self.messages()
        problem = f"The bank account {IBAN} of supplier {VAT} is blocked."
        message.sudo().write(
            {"state": "failed", "error_kind": "permanent", "error_message": problem}
        )
        message._schedule_exception_activity(problem)
        as_clerk = message.with_user(self.clerk)
        (values,) = as_clerk.read(["error_message", "display_name"])
        for shown in (
            values["error_message"],
            as_clerk.exception_group_id.example_message,
        ):
            self.assertNotIn(IBAN, shown)
            self.assertNotIn(VAT, shown)
            self.assertIn("is blocked", shown)
        # an Integration Manager (here the administrator) sees the text
        self.assertIn(IBAN, message.error_message)

    def test_a_clerk_reads_sensitive_keys_masked_however_they_are_spelt(self):
        data = supplier_data(
            1,
            bankAccountNumber="123-4567890-12",
            account_no="ACC-778899",
            vat_id="DE 123 456 789",
            taxNumber="12/345/67890",
            swiftCode="GEBABEBB",
            fax="+32 2 555 0101",
            telephone="+32 2 555 0102",
            bank_accounts=[{"iban": IBAN, "holder": "Supplier"}],
        )
        data["contacts"] = {"email": ["ap@acme.example"], "iban": {"main": IBAN}}
        self.assertEqual(self.webhook({**supplier_event(1), "data": data}).status, 202)
        shown = self.messages().with_user(self.clerk).payload_display
        for secret in (
            "123-4567890-12",
            "ACC-778899",
            "DE 123 456 789",
            "12/345/67890",
            "GEBABEBB",
            "555 0101",
            "555 0102",
            IBAN,
            "ap@acme.example",
        ):
            self.assertNotIn(secret, shown)
        self.assertIn("Supplier 000001 Ltd", shown)

    def test_a_ubl_message_key_does_not_name_the_supplier(self):
        self._setup_ap_backend()
        self.env.flush_all()
        invoice = ubl_invoice(
            "U-1", "PO-1", "0477472701", [(1, "1", 10, 4.0, 15)], currency=self.currency
        )
        result = self.receive_on(
            self.ap,
            invoice,
            intake="fih.ubl.intake",
            secret=self.ap_secret,
            content_type="application/xml",
        )
        self.assertEqual(result.status, 202, result.payload)
        message = self.Message.browse(result.payload["message_id"])
        self.assertNotIn("0477472701", message.idempotency_key)
        self.assertTrue(message.idempotency_key.endswith("/invoice/U-1"))
        shown = message.with_user(self.clerk).payload_display
        self.assertNotIn("0477472701", shown)
        # the same document again is the same message
        again = self.receive_on(
            self.ap,
            invoice,
            intake="fih.ubl.intake",
            secret=self.ap_secret,
            content_type="application/xml",
        )
        self.assertTrue(again.payload["duplicate"])


@tagged("post_install", "-at_install")
class TestSecurityIntakeHttp(BackendMixin, HttpCase):
    """The same doors over real HTTP, as an unsigned sender."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls._setup_backend(code="sec-http", rate_limit_per_minute=0)
        cls.url = f"/finance_hub/webhook/{cls.backend.code}"

    def raw_request(self, head, body_bytes=b"", interval=0.3, rounds=20):
        """Send ``head``, then ``body_bytes`` one byte every ``interval``
        seconds; return (the answer, seconds from the end of the head)."""
        port = self.http_port()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(head.replace("{port}", str(port)).encode())
            started = time.monotonic()
            answer = b""
            for byte in [body_bytes[i : i + 1] for i in range(len(body_bytes))][
                :rounds
            ]:
                sock.settimeout(interval)
                with contextlib.suppress(TimeoutError):
                    answer = sock.recv(65536)
                if answer:
                    break
                try:
                    sock.sendall(byte)
                except OSError:
                    break
            sock.settimeout(10)
            while True:
                try:
                    chunk = sock.recv(65536)
                except (TimeoutError, OSError):
                    break
                if not chunk:
                    break
                answer += chunk
                if b"\r\n\r\n" in answer and b"}" in answer.split(b"\r\n\r\n", 1)[1]:
                    break
            return answer, time.monotonic() - started

    def test_a_body_sent_byte_by_byte_is_cut_off_in_bounded_time(self):
        head = (
            f"POST {self.url} HTTP/1.1\r\nHost: 127.0.0.1:{{port}}\r\n"
            "Content-Type: application/json\r\nContent-Length: 200\r\n\r\n"
        )
        with patch.dict(config.options, {"fih_request_body_timeout": 1.0}):
            answer, seconds = self.raw_request(head, b"{" * 200, interval=0.3)
        status_line = answer.split(b"\r\n", 1)[0]
        self.assertIn(b" 408 ", status_line, answer[:300])
        self.assertIn(b"request_timeout", answer)
        # one byte every 0.3 s would take 60 s; the intake stops it after 1 s
        self.assertLess(seconds, 4)

    def test_a_form_body_is_refused_before_it_is_read(self):
        head = (
            f"POST {self.url} HTTP/1.1\r\nHost: 127.0.0.1:{{port}}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            "Content-Length: 200\r\n\r\n"
        )
        answer, seconds = self.raw_request(head, b"a" * 200, interval=0.3)
        self.assertIn(b" 415 ", answer.split(b"\r\n", 1)[0], answer[:300])
        self.assertLess(seconds, 2)

    def test_forged_log_lines_and_nul_in_the_address_are_a_plain_401(self):
        forged = "x%0a2026-12-01%2012:00:00,000%20INFO%20admin%20logged%20in%00"
        with self.assertNoLogs("odoo.addons.finance_integration_hub", "WARNING"):
            cxml = self.url_open(
                f"/finance_hub/cxml/{forged}",
                data=b"<cXML/>",
                headers={"Content-Type": "text/xml"},
            )
            webhook = self.url_open(
                "/finance_hub/webhook/x%00",
                data=b"{}",
                headers={"Content-Type": "application/json"},
            )
        self.assertEqual(cxml.status_code, 406)  # not even a cXML document
        self.assertIn("<cXML", cxml.text)
        self.assertEqual(webhook.status_code, 401)
        self.assertEqual(webhook.json()["error"], "invalid_signature")

    def test_unknown_and_archived_backends_answer_like_a_wrong_signature(self):
        body, headers = self.signed(supplier_event(1))
        wrong = self.signed(
            supplier_event(1), secret=standard_webhooks.generate_secret()
        )
        answers = [
            self.url_open("/finance_hub/webhook/nobody", data=body, headers=headers),
            self.url_open(self.url, data=wrong[0], headers=wrong[1]),
        ]
        self.backend.active = False
        answers.append(self.url_open(self.url, data=body, headers=headers))
        self.assertEqual({a.status_code for a in answers}, {401})
        self.assertEqual(len({a.text for a in answers}), 1)
