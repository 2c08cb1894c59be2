"""Guards of two operator tools, tested from the attacker's side.

*Link to Supplier*: a Finance Exception Handler points a failed supplier
message at an existing partner; the retry then writes the supplier's name,
VAT number and bank accounts onto that partner. It must never be the
company's own partner, a user's partner, a contact person or a partner of
another company: refused on write, and again by the flow for a link stored
before.

*Replay*: a replay's key is ``<event id>:replay:<n>``. A sender must not be
able to take that key beforehand and so block every replay of its event.
"""

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import (
    FihTransactionCase,
    supplier_data,
    supplier_event,
)


def _handler(env, login):
    return env["res.users"].create(
        {
            "name": "Exception handler",
            "login": login,
            "groups_id": [
                Command.set(
                    [env.ref("finance_integration_hub.group_fih_exception_handler").id]
                )
            ],
        }
    )


@tagged("post_install", "-at_install")
class TestLinkToSupplierGuards(FihTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.handler = _handler(cls.env, "fxlink_link_handler")
        cls.company = cls.env.company
        cls.acme = cls.env["res.partner"].create(
            {"name": "Acme NV", "vat": supplier_data(1)["vat"], "is_company": True}
        )

    def failed_duplicate_vat(self):
        self.receive(supplier_event(1))
        self.process()
        message = self.messages()
        self.assertEqual(message.state, "failed")  # a duplicate VAT: asks a person
        return message

    def company_snapshot(self):
        self.env.invalidate_all()
        partner = self.company.partner_id
        return (
            self.company.name,
            self.company.vat,
            partner.email,
            sorted(partner.bank_ids.mapped("acc_number")),
        )

    def assert_link_refused(self, message, partner, *words):
        with self.assertRaises(ValidationError) as caught:
            message.with_user(self.handler).write({"resolution_partner_id": partner.id})
        for word in words:
            self.assertIn(word, str(caught.exception))
        self.env.invalidate_all()
        self.assertFalse(message.resolution_partner_id)

    def test_a_supplier_cannot_be_linked_to_the_companys_own_partner(self):
        before = self.company_snapshot()
        message = self.failed_duplicate_vat()
        self.assert_link_refused(
            message,
            self.company.partner_id,
            "partner of company",
            "Link to Supplier",
        )
        # the retry goes on without a link: still the duplicate VAT question
        message.with_user(self.handler).action_retry(reason="same company")
        self.process()
        self.assertEqual(message.state, "failed")
        self.assertEqual(self.company_snapshot(), before)
        self.assertFalse(self.partners_by_external_id("SUP-000001"))

    def test_a_supplier_cannot_be_linked_to_a_users_partner(self):
        message = self.failed_duplicate_vat()
        self.assert_link_refused(
            message, self.handler.partner_id, "partner of user Exception handler"
        )
        self.assert_link_refused(message, self.env.ref("base.partner_admin"), "user")

    def test_a_supplier_cannot_be_linked_to_a_contact_person(self):
        contact = self.env["res.partner"].create(
            {"name": "Jane Buyer", "parent_id": self.acme.id}
        )
        message = self.failed_duplicate_vat()
        self.assert_link_refused(message, contact, "is a contact of 'Acme NV'")

    def test_a_supplier_cannot_be_linked_to_a_partner_of_another_company(self):
        other = self.env["res.company"].create({"name": "Other Company BV"})
        foreign = self.env["res.partner"].create(
            {"name": "Foreign Supplier", "company_id": other.id}
        )
        message = self.failed_duplicate_vat()
        # the handler works in this company only: cannot even see it
        self.assert_link_refused(message, foreign, "partner you can see")
        # an administrator sees it, and is refused all the same
        with self.assertRaises(ValidationError) as caught:
            message.write({"resolution_partner_id": foreign.id})
        self.assertIn("belongs to company Other Company BV", str(caught.exception))

    def test_a_link_stored_before_the_rule_is_refused_by_the_retry(self):
        before = self.company_snapshot()
        message = self.failed_duplicate_vat()
        # stored without the check (e.g. before this rule existed)
        self.env.cr.execute(
            "UPDATE fih_message SET resolution_partner_id = %s WHERE id = %s",
            (self.company.partner_id.id, message.id),
        )
        self.env.invalidate_all()
        message.with_user(self.handler).action_retry(reason="same company")
        self.process()
        self.assertEqual(message.state, "failed")
        self.assertIn("was not linked", message.error_message)
        self.assertIn("partner of company", message.error_message)
        self.assertEqual(self.company_snapshot(), before)
        self.assertFalse(self.partners_by_external_id("SUP-000001"))

    def test_a_sender_cannot_bind_its_supplier_to_the_company_by_its_vat(self):
        """With the 'link' duplicate policy a supplier sharing a partner's VAT
        number is linked to it: a sender using the company's own VAT number
        must not take over the company's partner."""
        self.backend.supplier_duplicate_policy = "link"
        self.company.partner_id.vat = supplier_data(2)["vat"]
        before = self.company_snapshot()
        self.receive(supplier_event(2))
        self.process()
        message = self.messages()
        self.assertEqual(message.state, "failed")
        self.assertIn("partner of company", message.error_message)
        self.assertIn("never linked", message.error_message)
        self.assertEqual(self.company_snapshot(), before)
        self.assertFalse(self.partners_by_external_id("SUP-000002"))

    def test_a_handler_still_links_a_supplier_to_its_existing_partner(self):
        message = self.failed_duplicate_vat()
        message.with_user(self.handler).write({"resolution_partner_id": self.acme.id})
        message.with_user(self.handler).action_retry(reason="same company")
        self.process()
        self.assertEqual(message.state, "done")
        self.assertEqual(message.link_ids.operation, "linked")
        self.assertEqual(self.partners_by_external_id("SUP-000001"), self.acme)
        self.assertEqual(self.acme.name, "Supplier 000001 Ltd")

    def test_a_handler_can_clear_a_link(self):
        message = self.failed_duplicate_vat()
        handler_message = message.with_user(self.handler)
        handler_message.write({"resolution_partner_id": self.acme.id})
        handler_message.write({"resolution_partner_id": False})
        self.env.invalidate_all()
        self.assertFalse(message.resolution_partner_id)


@tagged("post_install", "-at_install")
class TestReplayKeyGuards(FihTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.handler = _handler(cls.env, "fxlink_replay_handler")

    def replay(self, message):
        return message.with_user(self.handler).action_replay(
            reason="restore the supplier's data"
        )

    def test_a_sender_cannot_send_an_event_id_reserved_for_replays(self):
        event = supplier_event(1)
        self.assertEqual(self.receive(event).status, 202)
        squatter = dict(supplier_event(2), id=f"{event['id']}:replay:1")
        refused = self.receive(squatter)
        self.assertEqual(refused.status, 400)
        self.assertEqual(refused.payload["details"][0]["path"], "$.id")
        self.assertIn("marks the replays", refused.payload["details"][0]["reason"])
        self.assertEqual(len(self.messages()), 1)
        self.process()
        original = self.messages(idempotency_key=event["id"])
        replays = self.replay(original)
        self.assertEqual(len(replays), 1)
        self.assertEqual(replays.replay_of_id, original)
        self.assertEqual(replays.sudo().idempotency_key, f"{event['id']}:replay:1")

    def test_a_replay_key_taken_by_a_sender_does_not_block_the_replay(self):
        """Without an event id the webhook-id is the key: a sender can still
        choose one that looks like a replay; the replay takes the next one."""
        event = supplier_event(1)
        self.assertEqual(self.receive(event).status, 202)
        squatter = supplier_event(2)
        del squatter["id"]
        for number in (1, 2):
            result = self.receive(squatter, webhook_id=f"{event['id']}:replay:{number}")
            self.assertEqual(result.status, 202, result.payload)
        self.process()
        original = self.messages(idempotency_key=event["id"])
        self.assertEqual(original.state, "done")
        first = self.replay(original)
        second = self.replay(original)
        self.assertEqual(
            (first | second).sudo().mapped("idempotency_key"),
            [f"{event['id']}:replay:3", f"{event['id']}:replay:4"],
        )
        self.assertEqual((first | second).replay_of_id, original)
        self.process()
        self.assertEqual(set((first | second).mapped("state")), {"done"})

    def test_an_outbound_event_is_still_replayed_under_new_keys(self):
        receiver, _secret = self._setup_other_backend(
            code="fxlink-receiver",
            kind="ap_automation",
            base_url="https://ap.example",
        )
        self.env["fih.subscription"].create(
            {
                "backend_id": receiver.id,
                "event_code": "supplier.created",
                "endpoint_path": "/suppliers",
            }
        )
        self.env["res.partner"].create({"name": "Acme NV", "supplier_rank": 1})
        sent = self.Message.search(
            [("backend_id", "=", receiver.id), ("direction", "=", "outbound")]
        )
        self.assertEqual(len(sent), 1)
        sent.sudo().write({"state": "done"})
        first = self.replay(sent)
        second = self.replay(sent)
        self.assertEqual(
            (first | second).sudo().mapped("idempotency_key"),
            [f"{sent.idempotency_key}:replay:{n}" for n in (1, 2)],
        )
        self.assertEqual(set((first | second).mapped("direction")), {"outbound"})
        self.assertEqual(set((first | second).mapped("state")), {"received"})
