"""What a backend may send and how a webhook is read before any money moves:
the backend's kind limits its flows (supplier payments only from an AP
tool, at the intake and again before a stored message is applied); an event
id redelivered with another content is a conflict, not a silent duplicate;
a key repeated in one JSON object is refused; a partial payment across three
currencies is registered exactly as Odoo's own payment wizard registers it;
a credit note never takes more of a bill than it has open."""

import json
from contextlib import closing

from odoo.tests import tagged
from odoo.tools import mute_logger

from ..lib import standard_webhooks
from ..simulator.cxml_fulfill import cxml_payment_remittance
from .common import run_drain_job
from .test_p2p_payments import MAIL, P2PPaymentsCase, remittance_event
from .test_procure_to_pay import invoice_event


@tagged("post_install", "-at_install")
class TestPaymentAndWebhookGuards(P2PPaymentsCase):
    def raw(self, body, webhook_id, backend=None, secret=None):
        """``body`` signed by the AP backend (or ``backend``), straight to
        the webhook intake, not processed."""
        headers = standard_webhooks.sign(secret or self.ap_secret, webhook_id, body)
        headers["content-type"] = "application/json"
        result = self.env["fih.webhook.intake"]._receive(
            (backend or self.ap).code,
            headers,
            lambda n: body[:n],
            headers["content-type"],
            len(body),
        )
        self.env.invalidate_all()
        return result

    def stored(self, event_id, backend=None):
        return self.env["fih.message"].search(
            [
                ("backend_id", "=", (backend or self.ap).id),
                ("idempotency_key", "=", event_id),
            ]
        )

    def remittance(self, n, allocations, currency=None, **kwargs):
        event = remittance_event(n, allocations, **kwargs)
        event["data"]["currency"] = (currency or self.home).name
        return event

    # -- D1: a backend's kind decides which flows it may use ------------------------

    def test_a_reporting_platform_cannot_register_a_supplier_payment(self):
        bill = self.free_bill(1, 20.0)  # 46.00
        self.backend.kind = "bi"  # a reporting platform's signing secret
        event = self.remittance(1, [{"invoice_external_id": "INV-1", "amount": 46.0}])
        result = self.receive_on(self.backend, event, secret=self.secret)
        self.assertEqual(result.status, 403, result.payload)
        self.assertEqual(result.payload["error"], "event_type_not_allowed")
        reason = result.payload["message"]
        self.assertIn("'BI / reporting'", reason)
        self.assertIn("'payment.upsert'", reason)
        self.assertIn("'AP automation'", reason)
        self.assertEqual(result.payload["details"][0]["path"], "$.type")
        self.assertFalse(self.stored("evt-pay-1", self.backend))
        self.assertFalse(self.payments("PAY-1"))
        self.assert_open(bill, 46.0, "not_paid")

    def test_supplier_payments_come_only_from_an_ap_automation_backend(self):
        self.free_bill(1, 20.0)
        event = self.remittance(1, [{"invoice_external_id": "INV-1", "amount": 46.0}])
        for kind in ("procurement", "bi", "bank", "tax", "other"):
            with self.subTest(kind=kind):
                self.backend.kind = kind
                result = self.receive_on(self.backend, event, secret=self.secret)
                self.assertEqual(result.status, 403, result.payload)
        self.backend.kind = "ap_automation"
        result = self.receive_on(self.backend, event, secret=self.secret)
        self.assertEqual(result.status, 202, result.payload)

    def test_a_batch_with_one_event_the_kind_may_not_send_stores_nothing(self):
        self.free_bill(1, 20.0)
        self.backend.kind = "procurement"
        payment = self.remittance(1, [{"invoice_external_id": "INV-1", "amount": 46.0}])
        supplier = {
            "id": "evt-sup-batch",
            "type": "supplier.upsert",
            "data": {"external_id": "SUP-000009", "name": "Batch supplier"},
        }
        result = self.receive_on(
            self.backend, {"events": [supplier, payment]}, secret=self.secret
        )
        self.assertEqual(result.status, 403, result.payload)
        self.assertEqual(
            [d["path"] for d in result.payload["details"]], ["$.events[1].type"]
        )
        self.assertFalse(self.stored("evt-sup-batch", self.backend))
        self.assertFalse(self.stored("evt-pay-1", self.backend))

    def test_a_cxml_payment_remittance_from_a_procurement_platform_is_refused(self):
        bill = self.free_bill(1, 20.0)  # 46.00, invoice number F2026-0001
        self.backend.cxml_shared_secret = "procurement-secret-Kx7pQ2vZ"
        body = cxml_payment_remittance(
            "PAY-1",
            "SUP-000001",
            [("F2026-0001", 46.0)],
            currency=self.home.name,
            shared_secret="procurement-secret-Kx7pQ2vZ",
        )
        status, text = self.post_cxml(body, self.backend)
        self.assertEqual(status, 406, text)
        self.assertIn("'Procurement platform'", text)
        self.assertIn("'payment.upsert'", text)
        self.assertFalse(
            self.env["fih.message"].search(
                [
                    ("backend_id", "=", self.backend.id),
                    ("event_type", "=", "payment.upsert"),
                ]
            )
        )
        self.assert_open(bill, 46.0, "not_paid")

    @mute_logger(MAIL)
    def test_a_stored_payment_is_not_applied_once_its_backend_is_not_an_ap_tool(
        self,
    ):
        """Defence in depth: a payment accepted while the backend was an AP
        tool, processed (or retried, replayed) after its kind changed to a
        reporting platform, fails with the reason and pays nothing."""
        bill = self.free_bill(1, 20.0)
        event = self.remittance(1, [{"invoice_external_id": "INV-1", "amount": 46.0}])
        accepted = self.receive_on(self.ap, event, secret=self.ap_secret)
        self.assertEqual(accepted.status, 202, accepted.payload)
        self.ap.kind = "bi"
        run_drain_job(self.ap)
        self.env.invalidate_all()
        message = self.env["fih.message"].browse(accepted.payload["message_id"])
        self.assertEqual((message.state, message.error_kind), ("failed", "permanent"))
        self.assertIn("kind 'BI / reporting'", message.error_message)
        self.assertIn("'payment.upsert'", message.error_message)
        self.assertIn("nothing of it is applied", message.error_message)
        self.assertFalse(self.payments("PAY-1"))
        self.assert_open(bill, 46.0, "not_paid")
        # the exception inbox files it by its cause, with the backend to open
        self.assertEqual(message.cause_code, "backend.kind_not_allowed")
        group = message.exception_group_id
        self.assertEqual(
            (group.cause_code, group.fix_action),
            ("backend.kind_not_allowed", "open_backend"),
        )
        self.assertEqual(group.action_fix()["res_id"], self.ap.id)
        # retried without correcting the kind: refused again
        message.action_retry()
        run_drain_job(self.ap)
        self.env.invalidate_all()
        self.assertEqual(message.state, "failed")
        self.assertFalse(self.payments("PAY-1"))
        # the kind corrected, the same message is applied when retried
        self.ap.kind = "ap_automation"
        message.action_retry()
        run_drain_job(self.ap)
        self.env.invalidate_all()
        self.assertEqual(message.state, "done", message.error_message)
        self.assert_open(bill, 0.0, "paid")

    def test_every_kind_that_sends_bills_may_send_them_and_suppliers(self):
        allowed = self.env["fih.handler"]._fih_kind_refusal
        for kind in ("procurement", "ap_automation", "other"):
            for event_type in ("supplier.upsert", "invoice.upsert"):
                with self.subTest(kind=kind, event_type=event_type):
                    self.assertIsNone(allowed(kind, event_type, "X"))
        for kind in ("bi", "bank", "tax"):
            with self.subTest(kind=kind):
                self.assertTrue(allowed(kind, "invoice.upsert", "X"))

    # -- D2: one event id, one content ------------------------------------------------

    def test_an_event_id_sent_again_with_another_content_is_a_conflict(self):
        first = self.raw(json.dumps(self.remittance(1, [], amount=10.0)).encode(), "m1")
        again = self.raw(
            json.dumps(self.remittance(1, [], amount=1000.0)).encode(), "m2"
        )
        self.assertEqual(first.status, 202, first.payload)
        self.assertEqual(again.status, 409, again.payload)
        self.assertEqual(again.payload["error"], "conflict")
        self.assertIn("evt-pay-1", again.payload["message"])
        self.assertIn("different content", again.payload["message"])
        self.assertEqual(again.payload["message_id"], first.payload["message_id"])
        message = self.stored("evt-pay-1")
        self.assertEqual(len(message), 1)
        self.assertEqual(json.loads(message.payload)["data"]["amount"], 10.0)
        # the identical redelivery stays a duplicate
        same = self.raw(json.dumps(self.remittance(1, [], amount=10.0)).encode(), "m3")
        self.assertEqual((same.status, same.payload["duplicate"]), (202, True))

    def test_the_same_event_with_its_keys_in_another_order_is_a_redelivery(self):
        event = self.remittance(1, [], amount=10.0)
        first = self.raw(json.dumps(event).encode(), "m1")
        reordered = json.dumps(event, sort_keys=True, indent=2).encode()
        self.assertNotEqual(reordered, json.dumps(event).encode())
        again = self.raw(reordered, "m2")
        self.assertEqual((first.status, again.status), (202, 202), again.payload)
        self.assertTrue(again.payload["duplicate"])
        # a number written another way is another content: 10 is not 10.5
        event["data"]["amount"] = 10.5
        changed = self.raw(json.dumps(event, sort_keys=True).encode(), "m3")
        self.assertEqual(changed.status, 409, changed.payload)

    def test_one_webhook_id_with_another_body_and_no_event_id_is_a_conflict(self):
        event = self.remittance(1, [], amount=10.0)
        del event["id"]
        first = self.raw(json.dumps(event).encode(), "msg-same")
        event["data"]["amount"] = 1000.0
        again = self.raw(json.dumps(event).encode(), "msg-same")
        self.assertEqual((first.status, again.status), (202, 409), again.payload)
        stored = self.stored("msg-same")
        self.assertEqual(json.loads(stored.payload)["data"]["amount"], 10.0)

    def test_a_batch_naming_a_known_id_with_another_content_is_a_conflict(self):
        self.raw(json.dumps(self.remittance(1, [], amount=10.0)).encode(), "m1")
        batch = {
            "events": [
                self.remittance(2, [], amount=20.0),
                self.remittance(1, [], amount=1000.0),
            ]
        }
        answer = self.raw(json.dumps(batch).encode(), "m2")
        self.assertEqual(answer.status, 409, answer.payload)
        self.assertEqual(
            [(d["path"], d["event_id"]) for d in answer.payload["details"]],
            [("$.events[1]", "evt-pay-1")],
        )
        self.assertEqual(
            [(e["duplicate"], e["conflict"]) for e in answer.payload["events"]],
            [(False, False), (True, True)],
        )
        self.assertEqual(answer.payload["accepted"], 1)
        self.assertEqual(
            json.loads(self.stored("evt-pay-1").payload)["data"]["amount"], 10.0
        )

    # -- D3: a key once per object ----------------------------------------------------

    def test_a_key_repeated_in_one_object_is_refused_as_malformed_json(self):
        body = (
            b'{"id": "e1", "type": "payment.upsert", "data": {"external_id": "P",'
            b' "payment_date": "2026-12-01", "currency": "USD",'
            b' "amount": 10.0, "amount": 1000.0}}'
        )
        answer = self.raw(body, "m3")
        self.assertEqual(answer.status, 400, answer.payload)
        self.assertEqual(answer.payload["error"], "malformed_json")
        self.assertIn("'amount' appears twice", answer.payload["message"])
        self.assertFalse(self.stored("e1"))

    # -- D4: three currencies, the outcome of Odoo's own wizard ----------------------

    def test_a_partial_payment_across_three_currencies_is_booked_like_odoo(self):
        """Company in the home currency, bill in JPY, remittance in the
        foreign currency: the hub registers what Odoo's payment wizard
        registers on the same bill, to the yen and the cent."""
        jpy = self.env.ref("base.JPY")
        jpy.active = True
        self.env["res.currency.rate"].create(
            [
                {
                    "name": day,
                    "rate": rate,
                    "currency_id": jpy.id,
                    "company_id": self.company.id,
                }
                for day, rate in (("2026-01-01", 150.0), ("2026-12-01", 157.3))
            ]
        )
        self.free_bill(9, 1.0)  # the supplier, bill_posting = post
        event = invoice_event(1, [(None, 2, 4999.0)])  # 11498 JPY = 76.65 home
        del event["data"]["purchase_order_external_id"]
        del event["data"]["lines"][0]["po_line_id"]
        self.from_ap(event, jpy)
        bill = self.bill(1)
        self.assertEqual((bill.currency_id, bill.amount_total), (jpy, 11498.0))

        def outcome(payments):
            return {
                "bill": (
                    bill.amount_residual,
                    self.home.round(abs(bill.amount_residual_signed)),
                    bill.payment_state,
                ),
                "payment": sorted(
                    (
                        line.account_id.id,
                        line.currency_id.name,
                        line.amount_currency,
                        line.balance,
                    )
                    for line in payments.move_id.line_ids
                ),
            }

        # the oracle: Odoo's wizard paying 50.00 in the foreign currency
        with closing(self.env.cr.savepoint()):
            wizard = (
                self.env["account.payment.register"]
                .with_context(active_model="account.move", active_ids=bill.ids)
                .create(
                    {
                        "payment_date": "2026-12-01",
                        "amount": 50.0,
                        "currency_id": self.foreign.id,
                        "payment_difference_handling": "open",
                    }
                )
            )
            odoo = outcome(wizard._create_payments())
        self.env.invalidate_all()
        self.assertEqual(odoo["bill"], (5498.0, 36.65, "partial"))
        self.assert_open(bill, 11498.0, "not_paid")

        message = self.from_ap(
            remittance_event(1, [{"invoice_external_id": "INV-1", "amount": 50.0}]),
            self.foreign,
        )
        self.assertEqual(message.state, "done", message.error_message)
        self.env.invalidate_all()
        payments = self.payments("PAY-1")
        self.assertEqual(payments.mapped("amount"), [50.0])
        self.assertEqual(outcome(payments), odoo)
        self.assert_open(bill, 5498.0, "partial")

    # -- D5: a credit note takes no more of a bill than it has open ------------------

    @mute_logger(MAIL)
    def test_a_credit_note_settling_an_overpaid_bill_refuses_the_remittance(self):
        """The bill has 46.00 open, the remittance allocates 46.04 (0.04 more,
        within the write-off policy) and deducts a 46.00 credit note: the
        credit note settles the whole bill, and Odoo cannot write off 0.04
        paid on a bill with nothing left to pay. Refused as a whole, in
        business words; nothing booked."""
        bill = self.free_bill(1, 20.0)  # 46.00
        credit = invoice_event(2, [(None, 2, 20.0)], "credit_note")  # 46.00
        del credit["data"]["purchase_order_external_id"]
        del credit["data"]["lines"][0]["po_line_id"]
        self.from_ap(credit)
        credit_note = self.bill(2)
        self.assertEqual(credit_note.state, "posted")
        message = self.refused(
            remittance_event(
                1,
                [
                    {"invoice_external_id": "INV-1", "amount": 46.04},
                    {"invoice_external_id": "INV-2", "amount": -46.0},
                ],
                amount=0.04,
            )
        )
        self.assertIn(
            f"settle all of {bill.name} (F2026-0001) (46.00 {self.home.name}), "
            "which leaves "
            f"nothing open for the 0.04 {self.home.name}",
            message.error_message,
        )
        self.assertNotIn("Traceback", message.error_message)
        self.assert_open(bill, 46.0, "not_paid")
        self.assert_open(credit_note, 46.0, "not_paid")

    def test_an_overpaid_bill_less_part_of_a_credit_note_writes_the_overpayment_off(
        self,
    ):
        """46.04 allocated to a 46.00 bill, a 20.00 credit note deducted: the
        credit note takes 20.00, 26.04 is paid and 0.04 written off."""
        bill = self.free_bill(1, 20.0)  # 46.00
        credit = invoice_event(2, [(None, 1, 17.39)], "credit_note")  # 20.00
        del credit["data"]["purchase_order_external_id"]
        del credit["data"]["lines"][0]["po_line_id"]
        self.from_ap(credit)
        credit_note = self.bill(2)
        self.assertEqual(credit_note.amount_total, 20.0, credit_note.fih_hold_reason)
        payments = self.pay(
            remittance_event(
                1,
                [
                    {"invoice_external_id": "INV-1", "amount": 46.04},
                    {"invoice_external_id": "INV-2", "amount": -20.0},
                ],
                amount=26.04,
            )
        )
        self.assertEqual(payments.mapped("amount"), [26.04])
        self.assert_open(bill, 0.0, "paid")
        self.assert_open(credit_note, 0.0, "paid")
        written_off = payments.move_id.line_ids.filtered(
            lambda line: line.account_id == self.differences
        )
        self.assertEqual(written_off.balance, 0.04)  # an expense: paid 0.04 more
