from odoo.tests import tagged

from .common import FihTransactionCase, supplier_data, supplier_event


@tagged("post_install", "-at_install")
class TestSupplierFlow(FihTransactionCase):
    def test_new_supplier_is_created_with_bank_account_and_binding(self):
        term = self.env["account.payment.term"].create({"name": "45 Days Net"})
        self.receive(supplier_event(1, payment_terms="45 days net"))
        self.process()
        partner = self.partners_by_external_id("SUP-000001")
        self.assertEqual(partner.name, "Supplier 000001 Ltd")
        self.assertEqual(partner.vat, "BE0000000001")
        self.assertEqual(partner.supplier_rank, 1)
        self.assertTrue(partner.is_company)
        self.assertEqual(partner.country_id.code, "BE")
        self.assertEqual(partner.email, "ap+1@supplier.example")
        self.assertEqual(
            partner.bank_ids.sanitized_acc_number,
            supplier_data(1)["bank_accounts"][0]["iban"],
        )
        self.assertEqual(
            partner.with_company(
                self.backend.company_id
            ).property_supplier_payment_term_id,
            term,
        )
        self.assertEqual(partner.property_purchase_currency_id.name, "EUR")
        self.assertEqual(partner.fih_binding_count, 1)

    def test_update_changes_the_same_partner(self):
        self.receive(supplier_event(1))
        self.process()
        self.receive(supplier_event(1, version=2, phone="+32 2 999 99 99"))
        self.process()
        partner = self.partners_by_external_id("SUP-000001")
        self.assertEqual(partner.phone, "+32 2 999 99 99")
        self.assertEqual(self.Partner.search_count([("vat", "=", "BE0000000001")]), 1)
        update = self.messages().filtered(lambda m: m.idempotency_key.endswith("v2"))
        self.assertEqual(update.link_ids.operation, "updated")

    def test_update_adds_a_new_iban_and_keeps_the_old_one(self):
        self.receive(supplier_event(1))
        self.process()
        new_iban = supplier_data(77)["bank_accounts"][0]
        accounts = [*supplier_data(1)["bank_accounts"], new_iban]
        self.receive(supplier_event(1, version=2, bank_accounts=accounts))
        self.process()
        partner = self.partners_by_external_id("SUP-000001")
        self.assertEqual(len(partner.bank_ids), 2)

    def test_same_vat_as_an_existing_partner_raises_an_exception(self):
        existing = self.Partner.create({"name": "Acme NV", "vat": "BE 0000.000.001"})
        self.receive(supplier_event(1))
        self.process()
        message = self.messages()
        self.assertEqual(message.state, "failed")
        self.assertEqual(message.error_kind, "business")
        self.assertIn(
            "VAT number BE0000000001 already belongs to 'Acme NV'",
            message.error_message,
        )
        activity = message.exception_group_id.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.backend._exception_user())
        self.assertFalse(self.partners_by_external_id("SUP-000001"))
        self.assertEqual(
            self.Partner.search_count([("name", "=", "Supplier 000001 Ltd")]), 0
        )
        # the finance user links it to the existing partner and retries
        message.resolution_partner_id = existing
        message.action_retry(reason="same company")
        self.process()
        self.assertEqual(message.state, "done")
        self.assertEqual(message.link_ids.operation, "linked")
        self.assertEqual(self.partners_by_external_id("SUP-000001"), existing)
        self.assertEqual(existing.name, "Supplier 000001 Ltd")
        self.assertEqual(message.exception_group_id.state, "resolved")
        self.assertFalse(message.exception_group_id.activity_ids)

    def test_same_iban_as_an_existing_partner_raises_an_exception(self):
        iban = supplier_data(1)["bank_accounts"][0]["iban"]
        other = self.Partner.create(
            {"name": "Other", "bank_ids": [(0, 0, {"acc_number": iban})]}
        )
        self.receive(supplier_event(1, vat=""))
        self.process()
        message = self.messages()
        self.assertEqual(message.state, "failed")
        self.assertIn(f"IBAN {iban} already belongs to 'Other'", message.error_message)
        self.assertEqual(other.bank_ids.acc_number, iban)

    def test_link_policy_binds_to_the_existing_partner(self):
        self.backend.supplier_duplicate_policy = "link"
        existing = self.Partner.create({"name": "Acme NV", "vat": "BE0000000001"})
        self.receive(supplier_event(1))
        self.process()
        self.assertEqual(self.messages().state, "done")
        self.assertEqual(self.partners_by_external_id("SUP-000001"), existing)
        self.assertEqual(existing.supplier_rank, 1)
        # a second external supplier with the same VAT is not linked silently
        self.receive(supplier_event(2, vat="BE0000000001"))
        self.process()
        second = self.messages().filtered(lambda m: "000002" in m.idempotency_key)
        self.assertEqual(second.state, "failed")
        self.assertIn("already linked to another supplier", second.error_message)

    def test_two_suppliers_with_one_vat_in_one_batch(self):
        self.receive(
            {"events": [supplier_event(1), supplier_event(2, vat="BE0000000001")]}
        )
        self.process()
        states = {m.idempotency_key: m.state for m in self.messages()}
        self.assertEqual(states["evt-sup-000001-v1"], "done")
        self.assertEqual(states["evt-sup-000002-v1"], "failed")
        self.assertEqual(self.Partner.search_count([("vat", "=", "BE0000000001")]), 1)

    def test_create_then_update_in_one_batch_apply_in_order(self):
        self.receive(
            {
                "events": [
                    supplier_event(1),
                    supplier_event(1, version=2, phone="+32 2 000 00 02"),
                ]
            }
        )
        self.process()
        self.assertEqual(set(self.messages().mapped("state")), {"done"})
        partner = self.partners_by_external_id("SUP-000001")
        self.assertEqual(partner.phone, "+32 2 000 00 02")

    def test_unknown_payment_term_is_explained(self):
        self.receive(supplier_event(1, payment_terms="Net 999"))
        self.process()
        message = self.messages()
        self.assertEqual(message.state, "failed")
        self.assertIn("payment term 'Net 999' does not exist", message.error_message)

    def test_partner_shows_its_message_history(self):
        self.receive(supplier_event(1))
        self.process()
        partner = self.partners_by_external_id("SUP-000001")
        action = partner.action_open_fih_messages()
        self.assertEqual(self.Message.search_count(action["domain"]), 1)
        action = partner.action_open_fih_bindings()
        bindings = self.env["fih.binding"].search(action["domain"])
        self.assertEqual(bindings.external_id, "SUP-000001")
