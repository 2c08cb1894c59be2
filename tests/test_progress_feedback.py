import json
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from .common import FihTransactionCase, supplier_event

BULK = "odoo.addons.finance_integration_hub.models.fih_bulk_operation"
MAIL = "odoo.addons.mail.models.mail_mail"  # activity e-mails: no SMTP in tests


def progress_figures(record):
    record.invalidate_recordset()
    return (
        record.progress_done,
        record.progress_total,
        record.progress_chunks_done,
        record.progress_chunks_total,
    )


class ProgressCase(FihTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.backend.company_id
        cls.handler = cls._user("progress_handler", company, "exception_handler")
        cls.other_company = cls.env["res.company"].create({"name": "Other Co"})
        cls.outsider = cls._user(
            "progress_outsider", cls.other_company, "exception_handler"
        )

    @classmethod
    def _user(cls, login, company, group):
        return cls.env["res.users"].create(
            {
                "name": login.replace("_", " ").title(),
                "login": login,
                "email": f"{login}@example.com",
                "company_id": company.id,
                "company_ids": [Command.set(company.ids)],
                "groups_id": [
                    Command.set(
                        [cls.env.ref(f"finance_integration_hub.group_fih_{group}").id]
                    )
                ],
            }
        )

    def bus_progress(self, user):
        """The progress notifications on ``user``'s partner channel."""
        self.env.cr.flush()  # the bus writes its rows before commit
        channel = json.dumps(
            [self.env.cr.dbname, "res.partner", user.partner_id.id],
            separators=(",", ":"),
        )
        rows = self.env["bus.bus"].sudo().search([("channel", "=", channel)])
        messages = [json.loads(row.message) for row in rows.sorted("id")]
        return [m["payload"] for m in messages if m["type"] == "fih.progress"]

    @mute_logger(MAIL)
    def failed_messages(self, count, first=1):
        self.receive(
            {
                "events": [
                    supplier_event(n, address={"country_code": "ZZ"})
                    for n in range(first, first + count)
                ]
            }
        )
        self.process()
        failed = self.messages(state="failed")
        self.assertEqual(len(failed), count)
        return failed

    def wizard(self, messages, action="retry", user=None, reason=None):
        return (
            self.env["fih.message.action.wizard"]
            .with_user(user or self.handler)
            .create(
                {
                    "message_ids": [Command.set(messages.ids)],
                    "action": action,
                    "reason": reason,
                }
            )
        )

    def run_next_chunk(self, trap):
        """Perform the operation's next chunk job, as the queue would."""
        (job,) = [j for j in trap.enqueued_jobs if j.method_name == "_run_chunk"]
        trap.enqueued_jobs.remove(job)
        env = job.recordset.env
        job.recordset = job.recordset.with_env(
            self.env(user=env.uid, context=env.context)
        )
        job.perform()
        self.env.invalidate_all()


@tagged("post_install", "-at_install")
class TestBulkActionFeedback(ProgressCase):
    """Issue 14: the wizard counted 0 messages and said nothing of what it
    did; issue 15: large bulk actions run in chunks with progress."""

    def test_the_wizard_counts_the_selected_messages(self):
        failed = self.failed_messages(2)
        wizard_model = (
            self.env["fih.message.action.wizard"]
            .with_user(self.handler)
            .with_context(default_message_ids=failed.ids)
        )
        form = Form(wizard_model)
        self.assertEqual(form.message_count, 2)

    def test_a_bulk_retry_confirms_what_it_did_with_counts(self):
        failed = self.failed_messages(3)
        self.receive({"events": [supplier_event(9)]})
        self.process()
        done = self.messages(state="done")
        self.assertEqual(len(done), 1)
        with self.trapped_jobs():
            result = self.wizard(failed | done).action_confirm()
        self.assertEqual(result["tag"], "display_notification")
        self.assertEqual(
            result["params"]["message"],
            "3 messages queued for retry, 1 skipped (already done)",
        )
        self.assertEqual(set(failed.mapped("state")), {"received"})
        self.assertEqual(done.state, "done")
        self.assertEqual(len(failed.operator_action_ids), 3)

    def test_a_bulk_action_with_nothing_to_do_says_why(self):
        self.receive({"events": [supplier_event(9)]})
        self.process()
        with self.assertRaisesRegex(UserError, r"Nothing to do: 0 messages"):
            self.wizard(self.messages(state="done")).action_confirm()

    @patch(f"{BULK}.IMMEDIATE_LIMIT", 2)
    @patch(f"{BULK}.CHUNK_SIZE", 2)
    def test_a_large_bulk_retry_runs_in_chunks_with_exact_progress(self):
        failed = self.failed_messages(5)
        with self.trapped_jobs() as trap:
            result = self.wizard(failed).action_confirm()
            operation = self.env["fih.bulk.operation"].search([])
            self.assertEqual(len(operation), 1)
            self.assertEqual(result["params"]["next"]["res_id"], operation.id)
            self.assertIn("in 3 steps", result["params"]["message"])
            # nothing done yet: the first chunk is queued
            self.assertEqual(progress_figures(operation), (0, 5, 0, 3))
            self.assertEqual(set(failed.mapped("state")), {"failed"})
            figures = []
            for _chunk in range(3):
                self.run_next_chunk(trap)
                figures.append(progress_figures(operation))
            self.assertFalse(
                [j for j in trap.enqueued_jobs if j.method_name == "_run_chunk"]
            )
        self.assertEqual(figures, [(2, 5, 1, 3), (4, 5, 2, 3), (5, 5, 3, 3)])
        self.assertEqual(operation.state, "done")
        self.assertFalse(operation.progress_running)
        self.assertEqual(operation.progress_percent, 100.0)
        self.assertEqual(set(failed.mapped("state")), {"received"})
        self.assertEqual(operation.summary, "5 messages queued for retry")
        self.assertTrue(
            operation.progress_text.startswith("5 of 5 messages · 3 of 3 chunks")
        )

    @patch(f"{BULK}.IMMEDIATE_LIMIT", 2)
    @patch(f"{BULK}.CHUNK_SIZE", 2)
    def test_progress_is_sent_on_the_bus_to_the_user_who_started_it(self):
        failed = self.failed_messages(3)
        with self.trapped_jobs() as trap:
            self.wizard(failed).action_confirm()
            for _chunk in range(2):
                self.run_next_chunk(trap)
        operation = self.env["fih.bulk.operation"].search([])
        payloads = [
            p for p in self.bus_progress(self.handler) if p["id"] == operation.id
        ]
        self.assertEqual(
            [(p["percent"], p["running"]) for p in payloads],
            [(0.0, True), (66.7, True), (100.0, True), (100.0, False)],
        )
        self.assertEqual(payloads[-1]["summary"], "3 messages queued for retry")
        self.assertTrue(payloads[1]["text"].startswith("2 of 3 messages · 1 of 2"))
        self.assertEqual(operation.progress_user_id, self.handler)

    @patch(f"{BULK}.IMMEDIATE_LIMIT", 2)
    @patch(f"{BULK}.CHUNK_SIZE", 2)
    def test_another_companys_user_sees_neither_the_operation_nor_its_progress(
        self,
    ):
        failed = self.failed_messages(3)
        with self.trapped_jobs() as trap:
            self.wizard(failed).action_confirm()
            self.run_next_chunk(trap)
        operation = self.env["fih.bulk.operation"].search([])
        as_outsider = operation.with_user(self.outsider)
        self.assertFalse(as_outsider.search([]))
        with self.assertRaises(AccessError):
            as_outsider.read(["progress_percent", "progress_text", "summary"])
        self.assertFalse(self.bus_progress(self.outsider))
        self.assertTrue(self.bus_progress(self.handler))

    def test_another_companys_user_cannot_run_a_bulk_action_on_our_messages(self):
        failed = self.failed_messages(1)
        with self.assertRaises(AccessError):
            self.wizard(failed, user=self.outsider).action_confirm()
        self.assertEqual(failed.state, "failed")

    def test_a_user_who_only_reads_cannot_start_a_bulk_operation(self):
        failed = self.failed_messages(1)
        reader = self._user("progress_reader", self.backend.company_id, "user")
        with self.assertRaises(AccessError):
            self.env["fih.bulk.operation"].with_user(reader)._start(
                "retry", failed, None, {}
            )
        self.assertFalse(self.env["fih.bulk.operation"].search([]))

    def test_bulk_operations_cannot_be_written_by_people(self):
        failed = self.failed_messages(1)
        with self.trapped_jobs():
            operation = (
                self.env["fih.bulk.operation"]
                .with_user(self.handler)
                ._start("retry", failed, None, {})
            )
        with self.assertRaises(AccessError):
            operation.with_user(self.handler).write({"progress_done": 1})
        self.assertEqual(operation.progress_done, 0)


@tagged("post_install", "-at_install")
class TestBulkActionEndings(ProgressCase):
    """A bulk action says how it ended: finished, or stopped and why."""

    @patch(f"{BULK}.IMMEDIATE_LIMIT", 2)
    @patch(f"{BULK}.CHUNK_SIZE", 2)
    def test_messages_dealt_with_meanwhile_are_skipped_with_their_reason(self):
        failed = self.failed_messages(5).sorted("id")
        with self.trapped_jobs() as trap:
            self.wizard(failed).action_confirm()
            operation = self.env["fih.bulk.operation"].search([])
            failed[0].sudo().write({"state": "done"})
            failed[3].action_retry(reason="colleague")
            for _chunk in range(3):
                self.run_next_chunk(trap)
        self.assertEqual(operation.state, "done")
        self.assertEqual((operation.acted_count, operation.skipped_count), (3, 2))
        self.assertEqual(
            operation.summary,
            "3 messages queued for retry, 2 skipped (1 already done, "
            "1 already in progress)",
        )

    @patch(f"{BULK}.IMMEDIATE_LIMIT", 2)
    @patch(f"{BULK}.CHUNK_SIZE", 2)
    def test_a_stopped_bulk_action_is_announced_as_stopped_not_finished(self):
        failed = self.failed_messages(3)
        refusal = UserError("These messages belong to an archived backend.")
        with self.trapped_jobs() as trap:
            self.wizard(failed).action_confirm()
            operation = self.env["fih.bulk.operation"].search([])
            with patch.object(
                type(self.env["fih.bulk.operation"]), "_act", side_effect=refusal
            ):
                self.run_next_chunk(trap)
        self.assertEqual(operation.state, "failed")
        payloads = [
            p for p in self.bus_progress(self.handler) if p["id"] == operation.id
        ]
        self.assertEqual(
            (payloads[-1]["running"], payloads[-1]["stopped"]), (False, True)
        )
        self.assertEqual(
            payloads[-1]["summary"], "These messages belong to an archived backend."
        )
        self.assertFalse(any(p["stopped"] for p in payloads[:-1]))

    @patch(f"{BULK}.IMMEDIATE_LIMIT", 2)
    @patch(f"{BULK}.CHUNK_SIZE", 2)
    def test_a_finished_bulk_action_is_not_announced_as_stopped(self):
        failed = self.failed_messages(3)
        with self.trapped_jobs() as trap:
            self.wizard(failed).action_confirm()
            for _chunk in range(2):
                self.run_next_chunk(trap)
        operation = self.env["fih.bulk.operation"].search([])
        payloads = [
            p for p in self.bus_progress(self.handler) if p["id"] == operation.id
        ]
        self.assertEqual(
            (payloads[-1]["running"], payloads[-1]["stopped"]), (False, False)
        )
