from unittest.mock import patch

import psycopg2

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import FihTransactionCase, supplier_event
from .tax_cases import P2PTaxCase, bill_event

GROUP = "odoo.addons.finance_integration_hub.models.fih_exception_group"
MAIL = "odoo.addons.mail.models.mail_mail"


@tagged("post_install", "-at_install")
class TestExceptionCauses(FihTransactionCase):
    """Issue 14: the exception inbox files failing messages by cause."""

    def duplicate_vat_suppliers(self, numbers, vat="BE0000000001"):
        self.receive({"events": [supplier_event(n, vat=vat) for n in numbers]})
        self.process()
        return self.messages(state="failed")

    def test_five_duplicate_vat_suppliers_with_different_names_give_one_exception(
        self,
    ):
        existing = self.Partner.create({"name": "Acme NV", "vat": "BE0000000001"})
        failed = self.duplicate_vat_suppliers(range(1, 6))
        self.assertEqual(len(failed), 5)
        self.assertEqual(len(set(failed.mapped("error_message"))), 5)
        group = failed.exception_group_id
        self.assertEqual(len(group), 1)
        self.assertEqual(group.cause_code, "supplier.duplicate_vat")
        self.assertEqual(group.name, "Supplier VAT number already used")
        self.assertEqual((group.state, group.open_count), ("open", 5))
        self.assertEqual(group.age, "now")
        self.assertEqual(len(group.activity_ids), 1)
        self.assertEqual(set(failed.mapped("cause_code")), {"supplier.duplicate_vat"})
        action = group.action_fix()
        self.assertEqual(
            (action["res_model"], action["res_id"]), ("res.partner", existing.id)
        )

    def test_a_second_failure_of_the_cause_joins_the_open_exception(self):
        self.Partner.create({"name": "Acme NV", "vat": "BE0000000001"})
        first = self.duplicate_vat_suppliers([1])
        second = self.duplicate_vat_suppliers([2]) - first
        self.assertEqual(second.exception_group_id, first.exception_group_id)
        self.assertEqual(first.exception_group_id.open_count, 2)
        self.assertEqual(len(first.exception_group_id.activity_ids), 1)

    def test_link_to_that_partner_then_retry_all_resolves_the_exception(self):
        existing = self.Partner.create({"name": "Acme NV", "vat": "BE0000000001"})
        message = self.duplicate_vat_suppliers([1])
        group = message.exception_group_id
        self.assertIn("Link it to that partner", message.error_message)
        # the fix action opens the partner the supplier collides with
        self.assertEqual(group.action_fix()["res_id"], existing.id)
        message.resolution_partner_id = existing
        result = group.action_retry_all()
        self.assertEqual(result["params"]["type"], "success")
        self.assertIn("1 messages queued", result["params"]["message"])
        self.process()
        self.assertEqual(message.state, "done")
        self.assertEqual(message.link_ids.operation, "linked")
        self.assertEqual(self.partners_by_external_id("SUP-000001"), existing)
        self.assertEqual((group.state, group.open_count), ("resolved", 0))
        self.assertFalse(group.activity_ids)

    def test_a_partner_standing_for_another_supplier_is_not_offered_for_linking(self):
        """The flow failed with 'already linked': the message advised linking a
        partner that stands for another supplier of the backend."""
        self.receive(supplier_event(1))
        self.process()
        first_partner = self.partners_by_external_id("SUP-000001")
        message = self.duplicate_vat_suppliers([2])
        self.assertEqual(message.cause_code, "supplier.duplicate_at_source")
        self.assertNotIn("Link it to that partner", message.error_message)
        self.assertIn("SUP-000001", message.error_message)
        self.assertIn("merge or correct them there", message.error_message)
        self.assertEqual(
            message.exception_group_id.action_fix()["res_id"], first_partner.id
        )
        # linked anyway: refused again, saying why and what to do
        message.resolution_partner_id = first_partner
        message.exception_group_id.action_retry_all()
        self.process()
        self.assertEqual(message.state, "failed")
        self.assertIn("one partner stands for one supplier", message.error_message)
        self.assertEqual(self.partners_by_external_id("SUP-000002"), self.Partner)

    def test_retry_all_says_what_it_queued_and_skipped(self):
        self.Partner.create({"name": "Acme NV", "vat": "BE0000000001"})
        failed = self.duplicate_vat_suppliers([1, 2, 3])
        group = failed.exception_group_id
        failed[0].action_retry(reason="one first")
        result = group.action_retry_all()
        self.assertEqual(
            result["params"]["message"],
            "2 messages queued for processing, 1 skipped (already in progress).",
        )
        self.assertEqual(result["params"]["next"]["tag"], "soft_reload")
        self.assertEqual(set(failed.mapped("state")), {"received"})
        self.assertEqual(group.open_count, 0)

    def test_a_failure_without_a_code_gets_the_generic_code_of_its_kind(self):
        self.receive(supplier_event(1))
        message = self.messages()
        message.sudo().write(
            {"state": "failed", "error_kind": "business", "error_message": "Odd"}
        )
        message._schedule_exception_activity("Odd")
        self.assertEqual(message.cause_code, "decision.needed")
        self.assertEqual(message.exception_group_id.name, "Decision needed")
        self.assertFalse(message.exception_group_id.fix_action)

    def test_an_unknown_country_code_is_one_exception_per_code(self):
        self.receive(
            {
                "events": [
                    supplier_event(1, address={"country_code": "ZZ"}),
                    supplier_event(2, address={"country_code": "ZZ"}),
                    supplier_event(3, address={"country_code": "QQ"}),
                ]
            }
        )
        self.process()
        groups = self.messages(state="failed").exception_group_id
        self.assertEqual(
            sorted(groups.mapped("name")),
            ["Country code unknown: QQ", "Country code unknown: ZZ"],
        )
        self.assertEqual(sorted(groups.mapped("open_count")), [1, 2])

    @mute_logger(GROUP)
    def test_a_failing_filing_never_leaves_the_message_processing(self):
        self.Partner.create({"name": "Acme NV", "vat": "BE0000000001"})
        busy = psycopg2.errors.SerializationFailure("could not serialize access")
        with patch.object(
            type(self.env["fih.exception.group"]),
            "_file_in_transaction",
            side_effect=busy,
        ):
            message = self.duplicate_vat_suppliers([1])
        self.assertEqual(message.state, "failed")
        self.assertEqual(message.cause_code, "supplier.duplicate_vat")
        self.assertFalse(message.exception_group_id)
        # the next failure of the backend files it too
        later = self.duplicate_vat_suppliers([2]) - message
        self.assertTrue(later.exception_group_id)
        self.assertEqual(message.exception_group_id, later.exception_group_id)

    def test_a_batch_not_committed_goes_back_to_the_queue_at_once(self):
        self.receive(supplier_event(1))
        busy = psycopg2.errors.SerializationFailure("could not serialize access")
        with patch.object(
            type(self.env["fih.message"]), "_process_in_transaction", side_effect=busy
        ):
            self.process()
        message = self.messages()
        self.assertEqual((message.state, message.error_kind), ("received", "transient"))
        self.assertFalse(message.lease_until)
        self.assertTrue(message.next_attempt_at)

    # -- fix actions ---------------------------------------------------------

    def group_of(self, code, params, kind="business"):
        self.receive(supplier_event(1))
        message = self.messages()
        message.sudo().write(
            {"state": "failed", "error_kind": kind, "error_message": "Problem"}
        )
        message._schedule_exception_activity("Problem", code, params)
        return message.exception_group_id

    def test_an_inactive_currency_opens_that_currency(self):
        chf = self.env.ref("base.CHF")
        chf.active = False
        group = self.group_of("currency.inactive", {"code": "CHF"})
        self.assertEqual(group.name, "Currency not active: CHF")
        action = group.action_fix()
        self.assertEqual(
            (action["res_model"], action["res_id"]), ("res.currency", chf.id)
        )

    def test_an_expired_credential_opens_the_backend(self):
        group = self.group_of("auth.expired", None, kind="permanent")
        action = group.action_fix()
        self.assertEqual(
            (action["res_model"], action["res_id"]), ("fih.backend", self.backend.id)
        )

    def test_an_invalid_payload_opens_the_mapping(self):
        group = self.group_of("schema.invalid", {"path": "vat"}, kind="permanent")
        self.assertEqual(group.name, "Payload does not follow the format: vat")
        action = group.action_fix()
        self.assertEqual(action["res_model"], "fih.mapping")

    def test_an_outbound_refusal_401_is_an_expired_credential(self):
        self.receive(supplier_event(1))
        message = self.messages()
        message.sudo().write(
            {
                "direction": "outbound",
                "state": "failed",
                "error_kind": "permanent",
                "http_status": 401,
                "error_message": "Unauthorized",
            }
        )
        message._schedule_exception_activity("Unauthorized")
        self.assertEqual(message.exception_group_id.cause_code, "auth.expired")
        self.assertEqual(message.exception_group_id.fix_action, "edit_credentials")

    # -- who may see and act ------------------------------------------------------

    def test_a_user_of_another_company_neither_sees_nor_acts_on_the_exception(self):
        self.Partner.create({"name": "Acme NV", "vat": "BE0000000001"})
        group = self.duplicate_vat_suppliers([1]).exception_group_id
        company_b = self.env["res.company"].create({"name": "Company B"})
        outsider = new_test_user(
            self.env,
            login="fih_outsider_b",
            groups="finance_integration_hub.group_fih_manager",
            company_id=company_b.id,
            company_ids=[Command.set(company_b.ids)],
        )
        Group = self.env["fih.exception.group"].with_user(outsider)
        self.assertFalse(Group.search([]))
        with self.assertRaises(AccessError):
            group.with_user(outsider).action_retry_all()
        with self.assertRaises(AccessError):
            group.with_user(outsider).action_fix()
        self.assertEqual(group.state, "open")

    def test_a_reader_cannot_run_a_fix_and_a_handler_cannot_add_a_tax_mapping(self):
        group = self.group_of("tax.unknown_code", {"code": "VAT21"})
        reader = new_test_user(
            self.env,
            login="fih_reader",
            groups="finance_integration_hub.group_fih_user",
        )
        handler = new_test_user(
            self.env,
            login="fih_handler",
            groups="finance_integration_hub.group_fih_exception_handler",
        )
        with self.assertRaises(AccessError):
            group.with_user(reader).action_fix()
        with self.assertRaises(AccessError):
            group.with_user(reader).action_retry_all()
        with self.assertRaisesRegex(AccessError, "Ask an integration manager"):
            group.with_user(handler).action_fix()
        self.assertFalse(self.env["fih.value.map.entry"].search([]))


@tagged("post_install", "-at_install")
class TestTaxCodeExceptions(P2PTaxCase):
    """Two different missing tax codes are two causes: two exceptions."""

    def setUp(self):
        super().setUp()
        self.from_procurement(supplier_event(1))

    @mute_logger(MAIL)
    def test_two_unknown_tax_codes_give_two_exceptions_with_their_fix(self):
        cur = self.currency.name
        for n, code in ((1, "VAT21"), (2, "VAT21"), (3, "VAT19")):
            event = bill_event(
                n, [("Consulting", 1, 100.0, [code])], [(code, 100, 0)], currency=cur
            )
            message = self.send(event)
            self.assertEqual(message.state, "failed", message.error_message)
        groups = (
            self.env["fih.message"]
            .search([("state", "=", "failed")])
            .exception_group_id
        )
        self.assertEqual(
            sorted(groups.mapped("name")),
            ["Tax code not mapped: VAT19", "Tax code not mapped: VAT21"],
        )
        vat21 = groups.filtered(lambda g: g.cause_param == "VAT21")
        self.assertEqual(vat21.open_count, 2)
        # the fix: a tax mapping for that very code, pre-filled
        action = vat21.action_fix()
        context = action["context"]
        prefilled = (
            context.get("default_external_value")
            or (context["default_entry_ids"][0][2]["external_value"])
        )
        self.assertEqual(prefilled, "VAT21")
        self.assertIn(action["res_model"], ("fih.value.map", "fih.value.map.entry"))
