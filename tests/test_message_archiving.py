import json
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from ..lib import masking
from .common import FihTransactionCase, supplier_event

AUDIT_CREATE = (
    "odoo.addons.finance_integration_hub.models.fih_audit_log.FihAuditLog.create"
)


@tagged("post_install", "-at_install")
class TestMessageArchiving(FihTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Archive = cls.env["fih.message.archive"]

    def age(self, days, keys=None):
        """Received ``days`` ago, payload purged (as the retention cron does)."""
        self.env.flush_all()
        self.env.cr.execute(
            """
            UPDATE fih_message
               SET received_at = %s,
                   payload = CASE WHEN state IN ('done', 'skipped', 'cancelled')
                                  THEN NULL ELSE payload END,
                   payload_purged_at = CASE WHEN state IN ('done', 'skipped',
                                  'cancelled') THEN %s END
             WHERE backend_id = %s AND (%s OR idempotency_key = ANY(%s))
            """,
            (
                fields.Datetime.now() - timedelta(days=days),
                fields.Datetime.now(),
                self.backend.id,
                keys is None,
                keys or [],
            ),
        )
        self.env.invalidate_all()

    def test_old_processed_messages_move_to_the_archive_in_bounded_chunks(self):
        self.receive({"events": [supplier_event(n) for n in range(1, 6)]})
        self.process()
        first = self.messages().sorted("id")[0]
        partner = self.partners_by_external_id("SUP-000001")
        self.age(100)
        self.assertEqual(self.Archive._cron_archive_messages(chunk=2), 2)
        self.assertEqual(self.Archive._cron_archive_messages(chunk=2), 2)
        self.assertEqual(self.Archive._cron_archive_messages(chunk=2), 1)
        self.assertEqual(self.Archive._cron_archive_messages(chunk=2), 0)
        self.assertFalse(self.messages())
        archived = self.Archive.search([("backend_id", "=", self.backend.id)])
        self.assertEqual(len(archived), 5)
        kept = archived.filtered(lambda a: a.message_id == first.id)
        self.assertEqual(kept.idempotency_key, "evt-sup-000001-v1")
        self.assertEqual(kept.state, "done")
        self.assertEqual(
            json.loads(kept.records),
            [{"model": "res.partner", "id": partner.id, "operation": "created"}],
        )
        self.assertEqual(
            self.env["fih.audit.log"].search_count([("action", "=", "archive")]), 3
        )

    def test_an_interrupted_run_moves_nothing_and_the_next_one_finishes(self):
        self.receive({"events": [supplier_event(n) for n in range(1, 4)]})
        self.process()
        self.age(100)
        with (
            patch(AUDIT_CREATE, side_effect=RuntimeError("worker killed")),
            self.assertRaises(RuntimeError),
            self.env.cr.savepoint(),
        ):
            self.Archive._cron_archive_messages()
        self.env.invalidate_all()
        self.assertEqual(len(self.messages()), 3)
        self.assertFalse(self.Archive.search([("backend_id", "=", self.backend.id)]))
        self.assertEqual(self.Archive._cron_archive_messages(), 3)
        self.assertFalse(self.messages())

    def test_messages_still_needed_stay_in_the_log(self):
        self.receive(supplier_event(1, address={"country_code": "ZZ"}))  # fails
        self.receive(supplier_event(2))
        self.receive(supplier_event(3))
        self.receive(supplier_event(4))
        self.process()
        replayed = self.messages(idempotency_key="evt-sup-000002-v1")
        replay = replayed.action_replay(reason="re-sync")
        self.process()
        self.age(100)
        recent = ["evt-sup-000004-v1"]
        self.env.cr.execute(
            "UPDATE fih_message SET received_at = now() WHERE idempotency_key = %s",
            (recent[0],),
        )
        # evt 3 keeps its payload (retention not over): it stays as well
        self.env.cr.execute(
            "UPDATE fih_message SET payload = '{}', payload_purged_at = NULL"
            " WHERE idempotency_key = 'evt-sup-000003-v1'"
        )
        self.env.invalidate_all()
        self.assertEqual(self.Archive._cron_archive_messages(), 1)  # the replay
        self.assertFalse(replay.exists())
        # failed, acted on (its operator action is the audit trail), payload
        # kept, recent
        self.assertEqual(len(self.messages()), 4)
        self.assertEqual(
            self.env["fih.operator.action"].search_count(
                [("message_id", "=", replayed.id)]
            ),
            1,
        )
        archived = self.Archive.search([("message_id", "=", replay.id)])
        self.assertEqual(archived.replay_of_message_id, replayed.id)

    def test_a_redelivery_inside_the_window_is_a_duplicate_past_the_archive_delay(
        self,
    ):
        self.backend.write({"archive_after_days": 7, "redelivery_window_days": 35})
        self.receive(supplier_event(1))
        self.process()
        self.age(20)
        self.assertEqual(self.Archive._cron_archive_messages(), 0)
        result = self.receive(supplier_event(1))
        self.assertEqual(result.status, 202)
        self.assertTrue(result.payload["duplicate"])
        self.assertEqual(len(self.messages(idempotency_key="evt-sup-000001-v1")), 1)
        # past the window the message leaves the log; the sender stopped
        # redelivering, so the same id is then a new event
        self.age(40)
        self.assertEqual(self.Archive._cron_archive_messages(), 1)
        result = self.receive(supplier_event(1))
        self.assertFalse(result.payload["duplicate"])

    def test_retention_settings_must_be_at_least_a_day(self):
        with self.assertRaises(ValidationError):
            self.backend.write({"redelivery_window_days": 0})
        with self.assertRaises(ValidationError):
            self.backend.write({"archive_after_days": -1})

    def test_the_archive_is_read_only_and_each_company_sees_its_own(self):
        self.receive(supplier_event(1))
        self.process()
        self.age(100)
        self.Archive._cron_archive_messages()
        archived = self.Archive.search([("backend_id", "=", self.backend.id)])
        self.assertEqual(len(archived), 1)
        group = self.env.ref("finance_integration_hub.group_fih_manager")
        company_b = self.env["res.company"].create({"name": "Company B"})
        manager_b = self.env["res.users"].create(
            {
                "name": "Manager of B",
                "login": "fih_manager_b_archive",
                "company_id": company_b.id,
                "company_ids": [(6, 0, company_b.ids)],
                "groups_id": [(6, 0, [group.id])],
            }
        )
        self.assertFalse(
            self.Archive.with_user(manager_b).search([("id", "=", archived.id)])
        )
        with self.assertRaises(AccessError):
            archived.with_user(manager_b).read(["idempotency_key"])
        with self.assertRaises(UserError):
            archived.with_user(manager_b).write({"state": "cancelled"})
        with self.assertRaises(UserError):
            archived.write({"state": "cancelled"})
        with self.assertRaises(UserError):
            archived.unlink()

    def test_archived_rows_keep_the_masked_copies_clerks_search(self):
        """Rows copied by SQL still get their masked copies: a clerk who sees
        a confidential backend masked finds archived problems by their masked
        text, and never by the bank account they quote."""
        iban = "BE71096123456769"
        self.assertEqual(self.backend.data_classification, "confidential")
        self.receive(supplier_event(1))
        self.process()
        message = self.messages()
        message.sudo().write(
            {"error_message": f"The bank account {iban} was refused once."}
        )
        self.age(100)
        self.assertEqual(self.Archive._cron_archive_messages(), 1)
        archived = self.Archive.search([("message_id", "=", message.id)])
        self.assertTrue(archived.error_message_masked)
        self.assertNotIn(iban, archived.error_message_masked)
        self.assertIn("was refused once", archived.error_message_masked)
        self.assertEqual(
            archived.idempotency_key_masked,
            masking.mask_text("evt-sup-000001-v1"),
        )
        clerk = self.env["res.users"].create(
            {
                "name": "Clerk",
                "login": "fih_clerk_archive_masked",
                "company_id": self.backend.company_id.id,
                "company_ids": [(6, 0, self.backend.company_id.ids)],
                "groups_id": [
                    (6, 0, [self.env.ref("finance_integration_hub.group_fih_user").id])
                ],
            }
        )
        as_clerk = self.Archive.with_user(clerk)
        self.assertEqual(
            as_clerk.search([("error_message", "ilike", "refused once")]), archived
        )
        self.assertFalse(as_clerk.search([("error_message", "ilike", iban)]))

    def test_a_redelivery_window_shorter_than_senders_retry_is_refused(self):
        with self.assertRaises(ValidationError):
            self.backend.write({"redelivery_window_days": 2})
        self.backend.write({"redelivery_window_days": 3})
        self.assertEqual(self.backend.redelivery_window_days, 3)

    def test_archived_messages_past_the_keeping_period_are_deleted_and_logged(self):
        self.receive({"events": [supplier_event(n) for n in range(1, 4)]})
        self.process()
        self.age(100)
        self.assertEqual(self.Archive._cron_archive_messages(), 3)
        archived = self.Archive.search(
            [("backend_id", "=", self.backend.id)], order="id"
        )
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE fih_message_archive SET received_at = %s WHERE id IN %s",
            (
                fields.Datetime.now() - timedelta(days=11 * 366),
                tuple(archived[:2].ids),
            ),
        )
        self.env.invalidate_all()
        self.assertEqual(self.Archive._cron_purge_archive(chunk=1), 1)
        self.assertEqual(self.Archive._cron_purge_archive(chunk=1), 1)
        self.assertEqual(self.Archive._cron_purge_archive(chunk=1), 0)
        self.assertEqual(
            self.Archive.search([("backend_id", "=", self.backend.id)]), archived[2]
        )
        self.assertEqual(
            self.env["fih.audit.log"].search_count([("action", "=", "archive_purge")]),
            2,
        )

    def test_only_an_administrator_shortens_how_long_the_archive_is_kept(self):
        manager = self.env["res.users"].create(
            {
                "name": "Integration Manager",
                "login": "fih_manager_archive_keep",
                "company_id": self.backend.company_id.id,
                "company_ids": [(6, 0, self.backend.company_id.ids)],
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
            self.backend.with_user(manager).write({"archive_keep_years": 1})
        self.assertEqual(self.backend.archive_keep_years, 10)
        # the rest of the backend stays the manager's to change
        self.backend.with_user(manager).write({"archive_after_days": 120})
        self.assertEqual(self.backend.archive_after_days, 120)
        self.backend.write({"archive_keep_years": 7})  # an administrator
        self.assertEqual(self.backend.archive_keep_years, 7)

    def test_a_managers_personal_default_never_shortens_the_archive(self):
        """Attack: a manager stores a personal default of 1 year for the
        archive (``ir.default``, allowed to every internal user) and creates a
        backend without naming the field: the archive keeps 10 years."""
        manager = self.env["res.users"].create(
            {
                "name": "Integration Manager",
                "login": "fih_manager_archive_default",
                "company_id": self.backend.company_id.id,
                "company_ids": [(6, 0, self.backend.company_id.ids)],
                "groups_id": [
                    (
                        6,
                        0,
                        [self.env.ref("finance_integration_hub.group_fih_manager").id],
                    )
                ],
            }
        )
        self.env["ir.default"].with_user(manager).set(
            "fih.backend", "archive_keep_years", 1, user_id=True
        )
        backend = (
            self.env["fih.backend"]
            .with_user(manager)
            .create({"name": "Short memory", "code": "short-memory"})
        )
        self.assertEqual(backend.sudo().archive_keep_years, 10)
        with self.assertRaises(AccessError):
            self.env["fih.backend"].with_user(manager).create(
                {"name": "Shorter", "code": "shorter", "archive_keep_years": 2}
            )
