from datetime import timedelta
from unittest.mock import patch

import psycopg2

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from ..models.fih_supplier_handler import FihSupplierHandler
from .common import FihTransactionCase, supplier_event

HANDLER_PROCESS = (
    "odoo.addons.finance_integration_hub.models.fih_supplier_handler."
    "FihSupplierHandler._fih_process"
)


@tagged("post_install", "-at_install")
class TestProcessingEngine(FihTransactionCase):
    def test_received_events_are_processed_by_one_queued_job(self):
        with self.trapped_jobs() as trap:
            self.receive({"events": [supplier_event(n) for n in (1, 2, 3)]})
            self.receive(supplier_event(4))
            # one drain job per backend, not one per event
            trap.assert_jobs_count(1)
            self.perform_jobs(trap)
        self.env.invalidate_all()
        messages = self.messages()
        self.assertEqual(set(messages.mapped("state")), {"done"})
        self.assertEqual(len(messages), 4)
        self.assertEqual(messages.mapped("attempts"), [1, 1, 1, 1])
        partner = self.partners_by_external_id("SUP-000004")
        self.assertEqual(partner.name, "Supplier 000004 Ltd")
        link = messages.filtered(
            lambda m: m.idempotency_key == "evt-sup-000004-v1"
        ).link_ids
        self.assertEqual(
            (link.res_model, link.res_id, link.operation),
            ("res.partner", partner.id, "created"),
        )

    def test_job_runs_as_the_backend_service_user(self):
        with self.trapped_jobs() as trap:
            self.receive(supplier_event(1))
            job = trap.enqueued_jobs[0]
        self.assertEqual(job.recordset.env.uid, self.backend.service_user_id.id)
        self.assertEqual(job.channel, self.backend.channel_id.complete_name)

    def test_redelivery_after_processing_applies_nothing_twice(self):
        self.receive(supplier_event(1))
        self.process()
        self.receive(supplier_event(1))  # same event id
        self.receive(supplier_event(1), webhook_id="msg_other_delivery")
        self.process()
        self.assertEqual(len(self.messages()), 1)
        self.assertEqual(self.Partner.search_count([("vat", "=", "BE0000000001")]), 1)

    def test_temporary_failure_is_retried_with_backoff_then_dead_lettered(self):
        self.receive(supplier_event(1))
        error = psycopg2.errors.SerializationFailure("concurrent update")
        with patch(HANDLER_PROCESS, side_effect=error), self.trapped_jobs() as trap:
            self.process()
            message = self.messages()
            self.assertEqual(message.state, "received")
            self.assertEqual(message.attempts, 1)
            self.assertEqual(message.error_kind, "transient")
            self.assertGreater(message.next_attempt_at, fields.Datetime.now())
            # the retry is queued for when it is due
            # one wake-up per backend and minute, at or after the retry time
            eta = trap.enqueued_jobs[0].eta
            self.assertEqual(eta.second, 0)
            self.assertLessEqual(message.next_attempt_at, eta)
            self.assertLess((eta - message.next_attempt_at).total_seconds(), 61)
            for expected_attempts in (2, 3):
                message.next_attempt_at = fields.Datetime.now() - timedelta(seconds=1)
                self.process()
                self.assertEqual(message.attempts, expected_attempts)
        self.assertEqual(message.state, "dead")
        self.assertIn("Gave up after 3 attempts", message.error_message)
        self.assertEqual(len(message.exception_group_id.activity_ids), 1)
        self.assertFalse(self.partners_by_external_id("SUP-000001"))

    def test_invalid_payload_fails_at_once_without_retry(self):
        self.receive(supplier_event(1, name="", bank_accounts=[{"iban": "BE00123"}]))
        self.process()
        message = self.messages()
        self.assertEqual(message.state, "failed")
        self.assertEqual(message.error_kind, "permanent")
        self.assertIn("$.name: must not be blank", message.error_message)
        self.assertIn("not a valid IBAN", message.error_message)
        self.assertFalse(message.next_attempt_at)

    def test_one_bad_message_does_not_block_its_batch(self):
        self.receive(
            {
                "events": [
                    supplier_event(1),
                    supplier_event(2, address={"country_code": "ZZ"}),
                    supplier_event(3),
                ]
            }
        )
        self.process()
        states = {m.idempotency_key: m.state for m in self.messages()}
        self.assertEqual(
            states,
            {
                "evt-sup-000001-v1": "done",
                "evt-sup-000002-v1": "failed",
                "evt-sup-000003-v1": "done",
            },
        )
        failed = self.messages(state="failed")
        self.assertIn("country code 'ZZ' does not exist", failed.error_message)

    def test_unexpected_error_in_a_batch_isolates_the_culprit(self):
        self.receive({"events": [supplier_event(n) for n in (1, 2, 3)]})
        original = FihSupplierHandler._fih_process

        def explode_on_second(handler, messages, documents):
            if "SUP-000002" in "".join(messages.mapped("payload")):
                raise ZeroDivisionError("bug")
            return original(handler, messages, documents)

        with patch(HANDLER_PROCESS, explode_on_second):
            self.process()
        states = sorted(self.messages().mapped("state"))
        self.assertEqual(states, ["done", "done", "received"])
        culprit = self.messages(state="received")
        self.assertIn("Unexpected error; it will be retried", culprit.error_message)
        # the Python class name is for the technical detail, not for the clerk
        self.assertNotIn("ZeroDivisionError", culprit.error_message)
        self.assertIn("ZeroDivisionError", culprit.sudo().error_detail)

    def test_a_refusal_to_the_service_user_says_whom_to_ask(self):
        self.receive({"events": [supplier_event(1)]})

        def refused(handler, messages, documents):
            raise AccessError(
                self.env._("You are not allowed to modify 'Contact' records.")
            )

        with patch(HANDLER_PROCESS, refused):
            self.process()
        failed = self.messages(state="failed")
        self.assertTrue(
            failed.error_message.startswith(
                "The integration's service user lacks the right for this; ask "
                "an Integration Manager"
            ),
            failed.error_message,
        )

    def test_worker_killed_mid_batch_is_recovered_and_applied_once(self):
        self.receive({"events": [supplier_event(1), supplier_event(2)]})
        # the claim commits, then the worker dies before processing
        claimed = self.Message._claim_inbound(self.backend, 10)
        self.env.invalidate_all()
        self.assertEqual(set(claimed.mapped("state")), {"processing"})
        self.process()  # another worker: nothing due, the lease still holds
        self.assertEqual(set(claimed.mapped("state")), {"processing"})
        claimed.write({"lease_until": fields.Datetime.now() - timedelta(minutes=1)})
        self.assertEqual(self.Message._cron_recover(), 2)
        self.assertEqual(set(claimed.mapped("state")), {"received"})
        # a drain job is waiting (the intake's, or a new one from the sweeper)
        pending = self.env["queue.job"].search_count(
            [
                ("identity_key", "=", f"fih-inbound-{self.backend.id}-now"),
                ("state", "=", "pending"),
            ]
        )
        self.assertEqual(pending, 1)
        self.process()
        self.assertEqual(set(claimed.mapped("state")), {"done"})
        self.assertEqual(claimed.mapped("attempts"), [2, 2])
        self.assertEqual(
            self.Partner.search_count(
                [("vat", "in", ["BE0000000001", "BE0000000002"])]
            ),
            2,
        )

    def test_message_interrupted_too_often_becomes_a_dead_letter(self):
        self.receive(supplier_event(1))
        message = self.messages()
        message.write(
            {
                "state": "processing",
                "attempts": 3,
                "lease_until": fields.Datetime.now() - timedelta(minutes=1),
            }
        )
        self.Message._cron_recover()
        self.assertEqual(message.state, "dead")
        self.assertIn("interrupted 3 times", message.error_message)

    def test_retry_replay_and_cancel_are_audited(self):
        self.receive(supplier_event(1, address={"country_code": "ZZ"}))
        self.receive(supplier_event(2))
        self.process()
        failed = self.messages(state="failed")
        done = self.messages(state="done")
        with self.assertRaises(UserError):
            done.action_retry()
        with self.assertRaises(UserError):
            failed.action_replay()
        with self.assertRaises(UserError):
            failed.action_cancel()  # a reason is required
        failed.action_retry(reason="country fixed")
        self.assertEqual((failed.state, failed.attempts), ("received", 0))
        replay = done.action_replay(reason="re-sync after a manual edit")
        self.process()
        self.assertEqual(replay.state, "done")
        self.assertEqual(replay.replay_of_id, done)
        self.assertEqual(replay.payload, done.payload)
        # the replay updated the same partner; nothing was created twice
        self.assertEqual(replay.link_ids.operation, "updated")
        self.assertEqual(self.Partner.search_count([("vat", "=", "BE0000000002")]), 1)
        failed.action_cancel(reason="supplier withdrawn")
        self.assertEqual(failed.state, "cancelled")
        actions = self.env["fih.operator.action"].search(
            [("message_id", "in", (failed | done).ids)], order="id"
        )
        self.assertEqual(actions.mapped("action"), ["retry", "replay", "cancel"])
        self.assertEqual(actions.mapped("user_id"), self.env.user)
        self.assertEqual(actions[2].reason, "supplier withdrawn")
        with self.assertRaises(UserError):
            actions[0].write({"reason": "rewritten"})
        with self.assertRaises(UserError):
            actions.unlink()

    def test_one_root_cause_gives_one_exception_and_one_activity(self):
        self.receive(
            {
                "events": [
                    supplier_event(n, address={"country_code": "ZZ"})
                    for n in range(1, 6)
                ]
            }
        )
        self.receive(supplier_event(9, payment_terms="Net 999"))
        self.process()
        failed = self.messages(state="failed")
        self.assertEqual(len(failed), 6)
        groups = failed.exception_group_id
        self.assertEqual(len(groups), 2)
        country_group = groups.filtered(lambda g: g.cause_code == "country.unknown")
        self.assertEqual(country_group.open_count, 5)
        self.assertEqual(len(country_group.activity_ids), 1)
        self.assertEqual(
            len(self.env["mail.activity"].search([("res_model", "=", "fih.message")])),
            0,
        )
        # the country is created in Odoo; one click retries the five messages
        self.env["res.country"].create({"name": "Zedland", "code": "ZZ"})
        country_group.action_retry_all()
        self.process()
        self.assertEqual(country_group.state, "resolved")
        self.assertFalse(country_group.activity_ids)
        self.assertEqual(len(self.messages(state="done")), 5)

    def test_bulk_actions_through_the_wizard(self):
        self.receive(
            {
                "events": [
                    supplier_event(n, address={"country_code": "ZZ"}) for n in (1, 2)
                ]
            }
        )
        self.process()
        failed = self.messages(state="failed")
        self.assertEqual(len(failed), 2)
        wizard = self.env["fih.message.action.wizard"].create(
            {"message_ids": [(6, 0, failed.ids)], "action": "cancel"}
        )
        with self.assertRaises(UserError):
            wizard.action_confirm()
        wizard.reason = "duplicates of other suppliers"
        wizard.action_confirm()
        self.assertEqual(set(failed.mapped("state")), {"cancelled"})
        self.assertEqual(len(failed.operator_action_ids), 2)
