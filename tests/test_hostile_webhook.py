"""Hostile requests to the webhook, over real HTTP: the webhook.

Every request must be answered 4xx with a JSON ``error`` or accepted (202);
never 5xx. Hostile but valid content (formula-injection and SQL-looking
strings, right-to-left and zero-width characters) is accepted and stored
verbatim: escaping for CSV is the exporter's job. Refused requests write
nothing but, at most, the exchange log.

Tests whose docstring starts with "Fixed" pin down defects this suite
found (500s, crashes of the drain job) and that were fixed.
"""

import codecs
import json
import time
from unittest.mock import patch

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from ..lib import standard_webhooks
from ..models import fih_auth_throttle
from .common import (
    BackendMixin,
    run_drain_job,
    supplier_event,
)
from .hostile_common import (
    ENGINE_LOGGERS,
    INJECTED_EMAILS,
    INJECTIONS,
    MB,
    HostileTally,
    nested_json,
)


@tagged("post_install", "-at_install")
class TestHostileWebhook(HostileTally, BackendMixin, HttpCase):
    """Hostile requests to POST /finance_hub/webhook/<code>, over real HTTP."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_tally()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.other = cls._setup_backend(
            code="hostile-b", name="Hostile B", rate_limit_per_minute=0
        )
        cls.other_secret = cls.secret
        cls.backend = cls._setup_backend(
            code="hostile-a", name="Hostile A", rate_limit_per_minute=0
        )
        cls.url = f"/finance_hub/webhook/{cls.backend.code}"
        cls.other_url = f"/finance_hub/webhook/{cls.other.code}"

    @classmethod
    def tearDownClass(cls):
        cls._log_tally()
        super().tearDownClass()

    # -- helpers ---------------------------------------------------------------

    def send(self, body, headers, url=None):
        """POST ``body`` as is (url_open turns an empty body into a GET)."""
        self.tally["tried"] += 1
        response = self.opener.post(
            self.base_url() + (url or self.url),
            data=body,
            headers=headers,
            timeout=60,
            allow_redirects=False,
        )
        status = response.status_code
        if status >= 500:
            self.tally["crashes"] += 1
        elif status == 202:
            self.tally["accepted"] += 1
        else:
            self.tally["rejected"] += 1
        self.assertLess(
            status, 500, f"{status} for {body[:100]!r}: {response.text[:300]}"
        )
        self.assertNotIn("Traceback", response.text)
        if status != 202:
            self.assertGreaterEqual(status, 400)
            self.assertEqual(
                response.headers.get("Content-Type", "").split(";")[0],
                "application/json",
            )
            answer = response.json()
            self.assertIsInstance(answer.get("error"), str)
            self.assertTrue(answer.get("message"), answer)
        return response

    def post_signed(self, payload, content_type="application/json", **sign):
        body, headers = self.signed(payload, **sign)
        if content_type is None:
            del headers["content-type"]
        else:
            headers["content-type"] = content_type
        return self.send(body, headers)

    def counts(self):
        self.env.invalidate_all()
        return (
            self.env["res.partner"].with_context(active_test=False).search_count([]),
            self.env["fih.message"].search_count([]),
        )

    def process(self, backend=None):
        backend = backend or self.backend
        with mute_logger(*ENGINE_LOGGERS):
            run_drain_job(backend)
        self.env.invalidate_all()

    def message(self, event_id, backend=None):
        return self.env["fih.message"].search(
            [
                ("backend_id", "=", (backend or self.backend).id),
                ("idempotency_key", "=", event_id),
            ]
        )

    def partner(self, external_id):
        binding = self.env["fih.binding"].search(
            [("backend_id", "=", self.backend.id), ("external_id", "=", external_id)]
        )
        return self.env["res.partner"].browse(binding.res_id)

    def assert_readable_failure(self, message, *fragments):
        if "Unexpected error" in (message.error_message or ""):
            self.tally["crashes"] += 1  # the engine's catch-all for exceptions
        self.assertEqual(message.state, "failed", message.error_message)
        self.assertTrue(message.error_message)
        self.assertNotIn("Traceback", message.error_message)
        self.assertNotIn("Unexpected error", message.error_message)
        for fragment in fragments:
            self.assertIn(fragment, message.error_message)

    # -- malformed bodies --------------------------------------------------------

    def hostile_bodies(self):
        """``(label, body, content type, status, error code)``."""
        event = supplier_event(1)
        valid = json.dumps(event).encode()
        text = valid.decode()

        def dumps(value):
            return json.dumps(value).encode()

        def in_data(raw):
            return valid.replace(b'"EUR"', raw)

        deep_data = "{" + '"a":{' * 10_000 + "}" * 10_001
        malformed = {
            "empty": b"",
            "blank": b" \n\t",
            "NUL bytes": b"\x00" * 32,
            "raw NUL in a string": valid.replace(b"Ltd", b"L\x00d"),
            "truncated": valid[: len(valid) // 2],
            "truncated by one byte": valid[:-1],
            "single quotes": valid.replace(b'"', b"'"),
            "trailing comma": valid[:-1] + b",}",
            "two documents": valid + valid,
            "garbage after": valid + b"garbage",
            "NaN": in_data(b"NaN"),
            "Infinity": in_data(b"Infinity"),
            "-Infinity": in_data(b"-Infinity"),
            "hex number": in_data(b"0x10"),
            "10**5000": in_data(b"9" * 5000),
            "BOM": codecs.BOM_UTF8 + valid,
            "UTF-16": text.encode("utf-16"),
            "UTF-16-LE": text.encode("utf-16-le"),
            "UTF-32": text.encode("utf-32"),
            "latin-1": valid.replace(b"Ltd", b"S\xe0rl"),
            "invalid UTF-8": valid.replace(b"Ltd", b"\xff\xfe"),
            "overlong UTF-8": valid.replace(b"Ltd", b"\xc0\xaf"),
            "CESU-8 surrogate": valid.replace(b"Ltd", b"\xed\xa0\x80"),
            "nesting 10,000 deep": nested_json(10_000).encode(),
            "nesting 10,000 deep in data": in_data(deep_data.encode()),
        }
        invalid = {
            "null": b"null",
            "a number": b"42",
            "a string": b'"event"',
            "an empty array": b"[]",
            "an array of events": dumps([event]),
            "events not a list": dumps({"events": event}),
            "events empty": dumps({"events": []}),
            "data a list": dumps({**event, "data": [1]}),
            "data a string": dumps({**event, "data": "x"}),
            "no data": dumps({"id": "x", "type": "supplier.upsert"}),
            "id a number": dumps({**event, "id": 7}),
            "id blank": dumps({**event, "id": " "}),
            "id of 100,000 chars": dumps({**event, "id": "i" * 100_000}),
            "type unknown": dumps({**event, "type": "invoice.teleport"}),
            "type upper case": dumps({**event, "type": "Supplier.Upsert"}),
            "type with a newline": dumps({**event, "type": "supplier.upsert\n"}),
            "type a list": dumps({**event, "type": ["supplier.upsert"]}),
            "occurred_at a number": dumps({**event, "occurred_at": 1}),
            "batch with a bad event": dumps({"events": [event, {"id": "x"}]}),
            "batch repeating an id": dumps({"events": [event, event]}),
        }
        json_type = "application/json"
        for label, body in malformed.items():
            yield label, body, json_type, 400, "malformed_json"
        yield (
            "UTF-16 with its charset",
            text.encode("utf-16"),
            "application/json; charset=utf-16",
            400,
            "malformed_json",
        )
        for label, body in invalid.items():
            yield label, body, json_type, 400, "invalid_envelope"
        batch = dumps({"events": [supplier_event(n) for n in range(1000)]})
        yield "1,000 events", batch, json_type, 400, "batch_too_large"
        big = b'{"x": "' + b"x" * (10 * MB) + b'"}'
        yield "10 MB", big, json_type, 413, "body_too_large"
        for content_type in (
            None,
            "",
            "text/plain",
            "text/json",
            "application/xml",
            "application/jsonx",
            "application/json-patch+json",
            "multipart/form-data; boundary=x",
            "application/x-www-form-urlencoded",
        ):
            label = f"content type {content_type!r}"
            yield label, valid, content_type, 415, "unsupported_media_type"

    def test_hostile_bodies_are_4xx_with_a_json_error(self):
        before = self.counts()
        for label, body, content_type, status, code in self.hostile_bodies():
            with self.subTest(label):
                _body, headers = self.signed(body)
                if content_type is None:
                    del headers["content-type"]
                else:
                    headers["content-type"] = content_type
                response = self.send(body, headers)
                self.assertEqual(response.status_code, status, response.text[:300])
                self.assertEqual(response.json()["error"], code, response.text[:300])
        self.assertEqual(self.counts(), before, "a refused request wrote something")

    # -- hostile but valid content -------------------------------------------------

    def test_hostile_but_valid_content_is_accepted_and_kept_verbatim(self):
        partners, messages = self.counts()
        accepted = set()
        events = []
        for n, name in enumerate(INJECTIONS, start=100):
            email = INJECTED_EMAILS[n % len(INJECTED_EMAILS)]
            event = supplier_event(n, name=name, email=email)
            event["data"]["address"].update(city=name, street=name)
            events.append((event, name, email))
        # one by one, then again in a batch: the batch is all duplicates
        for event, _name, _email in events:
            response = self.post_signed(event)
            self.assertEqual(response.status_code, 202, response.text)
            accepted.add(event["id"])
        batch = {"events": [event for event, _name, _email in events]}
        response = self.post_signed(batch)
        self.assertEqual(response.json()["duplicates"], len(events))
        # SQL-looking ids and 100,000-character values are data, too
        sql_id = "evt-'; DROP TABLE fih_message; --"
        long_name = supplier_event(200, name="N" * 100_000)
        for event in (
            {**supplier_event(201), "id": sql_id},
            long_name,
            supplier_event(202, name="=1+1", vat="'; DROP TABLE res_partner; --"),
        ):
            self.assertEqual(self.post_signed(event).status_code, 202)
            accepted.add(event["id"])
        self.assertEqual(self.counts(), (partners, messages + len(accepted)))

        self.process()
        for event, name, email in events:
            with self.subTest(name):
                message = self.message(event["id"])
                self.assertEqual(message.state, "done", message.error_message)
                self.assertEqual(json.loads(message.payload)["data"]["name"], name)
                partner = self.partner(event["data"]["external_id"])
                # nothing executed, nothing escaped away
                self.assertEqual(partner.name, name)
                self.assertEqual(partner.city, name)
                self.assertEqual(partner.street, name)
                self.assertEqual(partner.email, email)
        self.assertEqual(self.message(sql_id).state, "done")
        self.assert_readable_failure(
            self.message(long_name["id"]), "name", "256 characters"
        )
        sql_vat = self.message(supplier_event(202)["id"])
        self.assertIn(sql_vat.state, ("done", "failed"), sql_vat.error_message)
        self.assertNotIn("Traceback", sql_vat.error_message or "")
        # the log is intact; one partner per applied message, none for the rest
        done = self.env["fih.message"].search_count(
            [("backend_id", "=", self.backend.id), ("state", "=", "done")]
        )
        self.assertEqual(self.counts(), (partners + done, messages + len(accepted)))

    # -- signatures ------------------------------------------------------------------

    def test_forged_replayed_and_foreign_signatures_are_401(self):
        # each forgery is answered on its own here; that many failures from
        # one address end in 429 (test_a_flood_of_bad_signatures_...)
        self.startPatcher(patch.object(fih_auth_throttle, "ADDRESS_LIMIT", 1000))
        partners, messages = self.counts()
        body, headers = self.signed(supplier_event(1), webhook_id="msg_captured")
        self.assertEqual(self.send(body, headers).status_code, 202)
        # the captured request again, within tolerance: a duplicate, no new work
        again = self.send(body, headers)
        self.assertEqual(again.status_code, 202)
        self.assertTrue(again.json()["duplicate"])
        stale = time.time() - 301
        other_body = json.dumps(supplier_event(2)).encode()
        signature = headers["webhook-signature"]
        forged = {
            "replayed after 5 minutes": self.signed(
                supplier_event(1), webhook_id="msg_captured", timestamp=stale
            )[1],
            "re-dated without re-signing": {
                **headers,
                "webhook-timestamp": str(int(time.time()) + 5),
            },
            "another backend's secret": self.signed(
                supplier_event(1), secret=self.other_secret
            )[1],
            "signature of another body": {
                **headers,
                "webhook-signature": self.signed(other_body, webhook_id="msg_captured")[
                    1
                ]["webhook-signature"],
            },
            "signature of another delivery id": {**headers, "webhook-id": "msg_other"},
            "v1, and garbage": {**headers, "webhook-signature": "v1,!!not*base64!!"},
            "v1, and nothing": {**headers, "webhook-signature": "v1,"},
            "v1, and short base64": {**headers, "webhook-signature": "v1,AAAA"},
            "v2 scheme": {**headers, "webhook-signature": "v2," + signature[3:]},
            "100 wrong signatures": {
                **headers,
                "webhook-signature": " ".join(["v1,AAAA" + signature[7:]] * 100),
            },
            "webhook-id of 10,000 chars": {**headers, "webhook-id": "i" * 10_000},
            "timestamp not a number": {**headers, "webhook-timestamp": "yesterday"},
            "timestamp of 5,000 digits": {**headers, "webhook-timestamp": "9" * 5000},
            "no signature header": {
                key: value
                for key, value in headers.items()
                if key != "webhook-signature"
            },
            "no headers at all": {"content-type": "application/json"},
        }
        for label, forged_headers in forged.items():
            with self.subTest(label):
                response = self.send(body, forged_headers)
                self.assertEqual(response.status_code, 401, response.text)
                self.assertEqual(response.json()["error"], "invalid_signature")
        # a signature valid for backend A, posted to backend B's URL
        with self.subTest("backend A's request at backend B"):
            response = self.send(*self.signed(supplier_event(3)), url=self.other_url)
            self.assertEqual(response.status_code, 401)
        # one matching signature among 100 is enough
        body, headers = self.signed(supplier_event(4))
        headers["webhook-signature"] = " ".join(
            ["v1,AAAA" + headers["webhook-signature"][7:]] * 99
            + [headers["webhook-signature"]]
        )
        self.assertEqual(self.send(body, headers).status_code, 202)
        # only the two accepted events are in the log; nothing else was written
        self.assertEqual(self.counts(), (partners, messages + 2))
        self.assertFalse(
            self.env["fih.message"].search([("backend_id", "=", self.other.id)])
        )

    def test_a_flood_of_bad_signatures_is_answered_429_and_not_checked(self):
        wrong = standard_webhooks.generate_secret()
        statuses = [
            self.send(*self.signed(supplier_event(n), secret=wrong)).status_code
            for n in range(1, fih_auth_throttle.ADDRESS_LIMIT + 1)
        ]
        self.assertEqual(
            statuses, [401] * (fih_auth_throttle.ADDRESS_LIMIT - 1) + [429]
        )
        # while it waits, even a valid signature from that address is not heard
        response = self.send(*self.signed(supplier_event(20)))
        self.assertEqual(response.status_code, 429)
        self.assertEqual(response.json()["error"], "too_many_failures")
        self.assertGreaterEqual(int(response.headers["Retry-After"]), 1)
        self.assertFalse(
            self.env["fih.message"].search([("backend_id", "=", self.backend.id)])
        )

    # -- defects found by this suite -------------------------------------------------

    def test_lone_surrogate_is_400_not_500(self):
        """Fixed: ``"\\ud800"`` (valid JSON syntax, not Unicode text) passes
        envelope.parse_json; fih_intake._store_inbound_events then fails on
        ``raw.encode()`` (UnicodeEncodeError) and the webhook answers 500."""
        messages = self.counts()[1]
        for text in ('"\\ud800"', '"a\\udfffb"'):
            body = json.dumps(supplier_event(1)).replace('"Supplier 000001 Ltd"', text)
            with self.subTest(text):
                response = self.post_signed(body.encode())
                self.assertEqual(response.status_code, 400)
        self.assertEqual(self.counts()[1], messages)

    def test_nul_in_an_event_id_is_400_not_500(self):
        """Fixed: an event id with ``\\u0000`` passes the envelope (the id is a
        non-empty string) and PostgreSQL refuses the NUL when the id is
        inserted as idempotency_key: psycopg2 raises ValueError in
        fih_intake._store_inbound_events and the webhook answers 500."""
        response = self.post_signed({**supplier_event(1), "id": "evt-\u0000-1"})
        self.assertEqual(response.status_code, 400)

    def test_numbers_beyond_float_range_are_400(self):
        """Fixed: ``1e400`` parses to ``inf`` (envelope.parse_json refuses the
        literal Infinity, not a number that overflows to it); the event is
        accepted and fih.message.payload holds the non-JSON token Infinity."""
        for number in ("1e400", "-1e400"):
            with self.subTest(number):
                body = json.dumps(supplier_event(1)).replace('"EUR"', number)
                response = self.post_signed(body.encode())
                self.assertEqual(response.status_code, 400, response.text)

    def test_values_the_schema_accepts_fail_readably_not_as_retries(self):
        """Fixed: values the canonical supplier schema accepts but Odoo cannot
        store are retried as "Unexpected error (...)" until the message is
        dead, instead of failing at once with a readable reason:

        - ``source_version`` above 2**31-1 (fih.binding.source_version is an
          int4; the schema has no maximum): NumericValueOutOfRange;
        - ``updated_at`` "9999-12-31T23:59:59-23:59": lib/ordering.py
          parse_timestamp raises OverflowError converting it to UTC;
        - a NUL character in a text field (name, external_id): psycopg2
          ValueError when the partner or binding is written.
        The valid event of the same delivery must be applied regardless."""
        cases = {
            "source_version 2**31": supplier_event(301, source_version=2**31),
            "updated_at year 9999": supplier_event(
                302, updated_at="9999-12-31T23:59:59-23:59"
            ),
            "NUL in name": supplier_event(303, name="Acme\u0000Ltd"),
            "NUL in external_id": supplier_event(304, external_id="SUP-\u0000"),
        }
        valid = supplier_event(305)
        response = self.post_signed({"events": [*cases.values(), valid]})
        self.assertEqual(response.status_code, 202)
        self.process()
        self.assertEqual(self.message(valid["id"]).state, "done")
        for label, event in cases.items():
            with self.subTest(label):
                message = self.message(event["id"])
                self.assert_readable_failure(message)
                self.assertEqual(message.error_kind, "permanent")

    def test_deep_nesting_through_a_mapping_fails_the_message_not_the_drain(self):
        """Fixed: the shipped procurement_platform_v2_supplier mapping copies
        ``id`` (transform copy = copy.deepcopy); an ``id`` nested 700 levels
        deep, which the webhook accepts, raises RecursionError in
        mapping_engine, which fih_message._prepare_documents does not catch:
        the drain job fails as a whole and every message of the batch stays
        "processing" until the lease expires (then the same again)."""
        secret = self.secret
        backend = self._setup_backend(
            code="hostile-v2", name="Hostile v2", api_version="v2"
        )
        self.addCleanup(setattr, type(self), "secret", secret)
        self.env["fih.mapping"]._activate_template_for_backend(
            "procurement_platform_v2_supplier.json", backend.id
        )
        deep = {"number": "SUP-V2-1", "name": "Deep Ltd", "id": "X"}
        fine = {"number": "SUP-V2-2", "name": "Fine Ltd", "id": 4711}
        body = (
            json.dumps(
                {
                    "events": [
                        {"id": "evt-v2-1", "type": "supplier.upsert", "data": deep},
                        {"id": "evt-v2-2", "type": "supplier.upsert", "data": fine},
                    ]
                }
            )
            .replace('"X"', nested_json(700))
            .encode()
        )
        _body, headers = self.signed(body, secret=self.secret)
        response = self.send(body, headers, url=f"/finance_hub/webhook/{backend.code}")
        self.assertEqual(response.status_code, 202, response.text)
        try:
            self.process(backend)
        except RecursionError:
            self.tally["crashes"] += 1
            self.fail("the drain job crashed on one deeply nested message")
        self.assertEqual(self.message("evt-v2-2", backend).state, "done")
        self.assert_readable_failure(self.message("evt-v2-1", backend))
