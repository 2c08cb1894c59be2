from unittest.mock import patch

import psycopg2

from odoo.tests import tagged

from .common import FihTransactionCase, supplier_event


@tagged("post_install", "-at_install")
class TestExceptionRefiling(FihTransactionCase):
    """A failed message is always filed under its current cause."""

    def failed_with(self, code, params, n=1):
        self.receive(supplier_event(n))
        message = self.messages().filtered(lambda m: m.state == "received")[:1]
        message.sudo().write(
            {"state": "failed", "error_kind": "business", "error_message": "Problem"}
        )
        message._schedule_exception_activity("Problem", code, params)
        return message

    def test_a_retried_message_failing_for_another_cause_moves_to_its_group(self):
        message = self.failed_with("tax.unknown_code", {"code": "VAT21"})
        tax_group = message.exception_group_id
        self.assertEqual(tax_group.cause_code, "tax.unknown_code")
        message.action_retry(reason="tax mapping added")
        message.sudo().write(
            {"state": "failed", "error_kind": "business", "error_message": "Other"}
        )
        message._schedule_exception_activity(
            "Other", "currency.inactive", {"code": "USD"}
        )
        self.assertEqual(message.exception_group_id.cause_code, "currency.inactive")
        tax_group.invalidate_recordset()
        self.assertEqual((tax_group.state, tax_group.open_count), ("resolved", 0))
        self.assertFalse(tax_group.activity_ids)

    def test_a_message_failing_again_for_the_same_cause_stays_in_its_group(self):
        message = self.failed_with("tax.unknown_code", {"code": "VAT21"})
        group = message.exception_group_id
        message.action_retry(reason="try again")
        message.sudo().write({"state": "failed", "error_kind": "business"})
        message._schedule_exception_activity(
            "Problem", "tax.unknown_code", {"code": "VAT21"}
        )
        self.assertEqual(message.exception_group_id, group)
        self.assertEqual((group.state, len(group.activity_ids)), ("open", 1))

    def test_an_unfiled_failed_message_is_filed_by_the_recovery_sweep(self):
        busy = psycopg2.errors.SerializationFailure("could not serialize access")
        with patch.object(
            type(self.env["fih.exception.group"]),
            "_file_in_transaction",
            side_effect=busy,
        ):
            message = self.failed_with("tax.unknown_code", {"code": "VAT21"})
        self.assertFalse(message.exception_group_id)
        self.env["fih.message"]._cron_recover()
        message.invalidate_recordset()
        self.assertEqual(message.exception_group_id.cause_code, "tax.unknown_code")
        self.assertEqual(message.exception_group_id.open_count, 1)

    def test_the_sweep_files_unfiled_failures_in_bounded_chunks(self):
        busy = psycopg2.errors.SerializationFailure("could not serialize access")
        with patch.object(
            type(self.env["fih.exception.group"]),
            "_file_in_transaction",
            side_effect=busy,
        ):
            messages = self.env["fih.message"]
            for n in range(1, 6):
                messages |= self.failed_with("tax.unknown_code", {"code": "VAT21"}, n)
        self.assertFalse(messages.exception_group_id)
        Group = self.env["fih.exception.group"]
        offered = []

        def count_only(model, ids):
            offered.append(list(ids))
            return True

        # a run takes at most `chunks` chunks of `chunk` messages each
        with patch.object(type(Group), "_file_messages", count_only):
            Group._cron_file_unfiled(chunk=2, chunks=2)
        self.assertEqual(
            offered, [messages.sorted("id").ids[:2], messages.sorted("id").ids[2:4]]
        )
        Group._cron_file_unfiled(chunk=2, chunks=2)
        messages.invalidate_recordset()
        self.assertTrue(all(messages.mapped("exception_group_id")))
        self.assertEqual(len(messages.exception_group_id), 1)
        self.assertEqual(messages.exception_group_id.open_count, 5)

    def test_a_tax_mapping_fix_opens_the_entry_already_in_the_table(self):
        table = self.env["fih.value.map"].create(
            {"name": "Taxes", "code": "taxes", "backend_id": self.backend.id}
        )
        entry = self.env["fih.value.map.entry"].create(
            {"map_id": table.id, "external_value": "VAT21", "canonical_value": "x"}
        )
        message = self.failed_with("tax.mapping_invalid", {"code": "VAT21"})
        action = message.exception_group_id.action_fix()
        self.assertEqual(
            (action["res_model"], action.get("res_id")),
            ("fih.value.map.entry", entry.id),
        )
