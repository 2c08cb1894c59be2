import json
import os
from datetime import timedelta
from unittest.mock import patch

from cryptography.fernet import Fernet

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from ..lib import standard_webhooks
from .common import FihTransactionCase, supplier_data, supplier_event


@tagged("post_install", "-at_install")
class TestSecurityGovernance(FihTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create({"name": "Company B"})
        # an administrator allows the service user in company B (never implicit)
        cls.backend.service_user_id.company_ids = [(4, cls.company_b.id)]
        cls.backend_b = cls.env["fih.backend"].create(
            {
                "name": "B's platform",
                "code": "b-platform",
                "company_id": cls.company_b.id,
            }
        )
        group = cls.env.ref("finance_integration_hub.group_fih_exception_handler")
        cls.user_a = cls.env["res.users"].create(
            {
                "name": "Handler of A",
                "login": "fih_handler_a",
                "email": "handler.a@example.com",
                "company_id": cls.backend.company_id.id,
                "company_ids": [(6, 0, cls.backend.company_id.ids)],
                "groups_id": [(6, 0, [group.id])],
            }
        )

    def test_a_user_of_company_a_never_sees_or_replays_company_b(self):
        self.receive(supplier_event(1))
        self.process()
        message_b = self.Message.sudo().create(
            {
                "backend_id": self.backend_b.id,
                "event_type": "supplier.upsert",
                "idempotency_key": "b-1",
                "payload": "{}",
                "state": "done",
            }
        )
        Message = self.Message.with_user(self.user_a)
        visible = Message.search([])
        self.assertIn(self.messages(), visible)
        self.assertNotIn(message_b, visible)
        with self.assertRaises(AccessError):
            message_b.with_user(self.user_a).action_replay(reason="try")
        self.assertFalse(
            self.env["fih.backend"]
            .with_user(self.user_a)
            .search([("id", "=", self.backend_b.id)])
        )

    def test_people_cannot_edit_the_log_directly(self):
        self.receive(supplier_event(1))
        message = self.messages().with_user(self.user_a)
        with self.assertRaises(AccessError):
            message.write({"payload": '{"data": {"iban": "forged"}}'})
        with self.assertRaises(AccessError):
            message.write({"state": "done"})
        supplier = self.Partner.create({"name": "Acme NV", "is_company": True})
        message.write({"resolution_partner_id": supplier.id})
        self.assertEqual(message.resolution_partner_id, supplier)

    def test_a_changed_stored_payload_is_not_processed(self):
        self.receive(supplier_event(1))
        self.env.cr.execute(
            "UPDATE fih_message SET payload = replace(payload, 'Supplier', 'Forged') "
            "WHERE backend_id = %s",
            (self.backend.id,),
        )
        self.env.invalidate_all()
        self.process()
        message = self.messages()
        self.assertEqual(message.state, "failed")
        self.assertIn("no longer matches", message.error_message)
        self.assertFalse(self.partners_by_external_id("SUP-000001"))

    def test_a_service_user_without_the_right_fails_readably_and_writes_nothing(self):
        service = self.backend.service_user_id
        service.groups_id = [(3, self.env.ref("base.group_partner_manager").id)]
        self.receive({"events": [supplier_event(1), supplier_event(2)]})
        self.process()
        messages = self.messages()
        self.assertEqual(set(messages.mapped("state")), {"failed"})
        self.assertIn("not allowed", messages[0].error_message)
        self.assertNotIn("Traceback", messages[0].error_message)
        self.assertEqual(
            self.Partner.search_count([("name", "like", "Supplier 00000")]), 0
        )

    def test_sensitive_payload_values_are_masked_for_non_managers(self):
        self.receive(supplier_event(1))
        message = self.messages()
        iban = supplier_data(1)["bank_accounts"][0]["iban"]
        masked = message.with_user(self.user_a).payload_display
        self.assertNotIn(iban, masked)
        self.assertNotIn("BE0000000001", masked)
        self.assertIn(iban[:2] + "••", masked)
        self.assertIn("Supplier 000001 Ltd", masked)
        self.assertIn(iban, message.payload_display)  # the manager (admin) sees it
        with self.assertRaises(AccessError):
            message.with_user(self.user_a).read(["payload"])
        self.backend.data_classification = "internal"
        message.invalidate_recordset()
        self.assertIn(iban, message.with_user(self.user_a).payload_display)

    def test_configuration_changes_are_audited_without_secrets(self):
        Audit = self.env["fih.audit.log"]
        self.backend.rate_limit_per_minute = 77
        change = Audit.search(
            [
                ("res_model", "=", "fih.backend"),
                ("res_id", "=", self.backend.id),
                ("action", "=", "write"),
            ],
            limit=1,
        )
        self.assertEqual(
            json.loads(change.changes)["rate_limit_per_minute"],
            {"before": 1200, "after": 77},
        )
        self.assertEqual(change.user_id, self.env.user)
        new_secret = standard_webhooks.generate_secret()
        self.backend.webhook_secret = new_secret
        secret_entries = Audit.search(
            [("res_id", "=", self.backend.id), ("action", "=", "secret")]
        )
        self.assertTrue(secret_entries)
        everything = " ".join(Audit.search([]).mapped(lambda a: a.changes or ""))
        self.assertNotIn(new_secret, everything)
        self.assertNotIn(self.secret, everything)
        self.assertNotIn(new_secret.removeprefix("whsec_"), everything)
        with self.assertRaises(UserError):
            change.write({"changes": "{}"})
        with self.assertRaises(UserError):
            change.unlink()

    def test_secrets_do_not_leave_through_exports_or_reads(self):
        exported = self.backend.export_data(["webhook_secret", "api_key", "name"])[
            "datas"
        ]
        self.assertEqual(exported[0][:2], ["", ""])
        manager = self.env["res.users"].create(
            {
                "name": "Manager",
                "login": "fih_mgr_export",
                "groups_id": [
                    (
                        6,
                        0,
                        [self.env.ref("finance_integration_hub.group_fih_manager").id],
                    )
                ],
            }
        )
        with self.assertRaises(AccessError):
            self.backend.with_user(manager).read(["webhook_secret_encrypted"])

    def test_the_master_key_can_be_rotated_without_downtime(self):
        old_key = os.environ["FIH_MASTER_KEY"]
        new_key = Fernet.generate_key().decode()
        self.backend.api_key = "api-123"
        with patch.dict(os.environ, {"FIH_MASTER_KEY": f"{new_key},{old_key}"}):
            # both keys configured: everything still readable, then re-encrypted
            self.assertEqual(
                self.backend._webhook_verification_secrets(), [self.secret]
            )
            count = self.env["fih.backend"]._reencrypt_all_secrets()
            self.assertGreaterEqual(count, 2)
        with patch.dict(os.environ, {"FIH_MASTER_KEY": new_key}):
            self.assertEqual(
                self.backend._webhook_verification_secrets(), [self.secret]
            )
            self.assertEqual(self.backend._get_secret("api_key"), "api-123")
        with (
            patch.dict(os.environ, {"FIH_MASTER_KEY": old_key}),
            self.assertRaisesRegex(UserError, "cannot be decrypted"),
        ):
            self.backend._webhook_verification_secrets()
        rotation = self.env["fih.audit.log"].search([("action", "=", "key_rotation")])
        self.assertEqual(len(rotation), 1)

    def test_an_exception_handler_resolves_an_exception_only_by_acting(self):
        """Issue 13, finding 13b: writing the state hid an exception with no
        trace in the operator actions."""
        self.receive(supplier_event(1))
        self.env.cr.execute(
            "UPDATE fih_message SET payload = replace(payload, 'Supplier', 'Forged') "
            "WHERE backend_id = %s",
            (self.backend.id,),
        )
        self.env.invalidate_all()
        self.process()
        message = self.messages()
        group = message.exception_group_id
        self.assertEqual((message.state, group.state), ("failed", "open"))
        as_handler = group.with_user(self.user_a)
        with self.assertRaisesRegex(AccessError, "operator actions"):
            as_handler.write({"state": "resolved"})
        with self.assertRaises(AccessError):
            as_handler.write({"message_ids_open": [(5, 0, 0)]})
        self.assertEqual(group.state, "open")
        self.assertFalse(self.env["fih.operator.action"].search([]))
        # a reader may not act at all
        reader = self.user_a.copy(
            {
                "login": "fih_reader_a",
                "groups_id": [
                    (
                        6,
                        0,
                        [self.env.ref("finance_integration_hub.group_fih_user").id],
                    )
                ],
            }
        )
        with self.assertRaises(AccessError):
            group.with_user(reader).action_retry_all()
        # the action is kept, and the handler may still comment
        as_handler.action_retry_all()
        actions = self.env["fih.operator.action"].search([])
        self.assertEqual(
            (actions.message_id, actions.action, actions.user_id),
            (message, "retry", self.user_a),
        )
        as_handler.message_post(body="Asked the supplier to resend.")

    def test_owners_are_reminded_before_credentials_expire(self):
        today = fields.Date.today()
        self.backend.write(
            {
                "credential_expiry_date": today + timedelta(days=5),
                "credential_reminder_days": 14,
            }
        )
        self.backend_b.write({"credential_expiry_date": today + timedelta(days=60)})
        Backend = self.env["fih.backend"]
        Backend._cron_credential_reminders()
        Backend._cron_credential_reminders()
        reminders = self.backend.activity_ids.filtered(
            lambda a: "expire" in (a.summary or "")
        )
        self.assertEqual(len(reminders), 1)
        self.assertEqual(reminders.user_id, self.backend.owner_id)
        self.assertFalse(self.backend_b.activity_ids)
