import json

from odoo.tests import tagged

from .common import FihTransactionCase, supplier_event


@tagged("post_install", "-at_install")
class TestOwnershipAndOrdering(FihTransactionCase):
    """System-of-record rules, stale updates, entity routing, the try-it wizard."""

    def test_a_backend_that_does_not_own_suppliers_is_refused(self):
        other = self.env["fih.backend"].create(
            {"name": "AP tool", "code": "ap-tool", "kind": "ap_automation"}
        )
        self.env["fih.sor.rule"].create(
            {
                "company_id": self.backend.company_id.id,
                "object_type": "supplier",
                "owner_backend_id": other.id,
            }
        )
        self.receive(supplier_event(1))
        self.process()
        message = self.messages()
        self.assertEqual(message.state, "failed")
        self.assertEqual(message.error_kind, "business")
        self.assertIn(f"owned by {other.name}", message.error_message)
        self.assertFalse(self.partners_by_external_id("SUP-000001"))
        self.assertEqual(len(message.exception_group_id.activity_ids), 1)

    def test_the_owner_is_applied(self):
        self.env["fih.sor.rule"].create(
            {
                "company_id": self.backend.company_id.id,
                "object_type": "supplier",
                "owner_backend_id": self.backend.id,
            }
        )
        self.receive(supplier_event(1))
        self.process()
        self.assertEqual(self.messages().state, "done")

    def test_an_older_version_arriving_late_is_skipped(self):
        self.receive(supplier_event(1, version=3, source_version=3, phone="+32 3"))
        self.process()
        self.receive(supplier_event(1, version=2, source_version=2, phone="+32 2"))
        self.receive(supplier_event(1, version=9, source_version=3, phone="+32 9"))
        self.process()
        partner = self.partners_by_external_id("SUP-000001")
        self.assertEqual(partner.phone, "+32 3")
        states = {m.idempotency_key: m.state for m in self.messages()}
        self.assertEqual(states["evt-sup-000001-v3"], "done")
        self.assertEqual(states["evt-sup-000001-v2"], "skipped")
        self.assertEqual(states["evt-sup-000001-v9"], "skipped")
        late = self.messages().filtered(lambda m: m.idempotency_key.endswith("v2"))
        self.assertIn("older than version 3", late.error_message)
        self.assertFalse(late.exception_group_id)
        binding = self.env["fih.binding"].search([("external_id", "=", "SUP-000001")])
        self.assertEqual(binding.source_version, 3)

    def test_an_older_change_time_is_skipped_without_versions(self):
        self.receive(
            supplier_event(
                1, version=2, updated_at="2026-11-26T10:00:00+01:00", phone="new"
            )
        )
        self.process()
        self.receive(
            supplier_event(1, version=1, updated_at="2026-11-26T08:30:00Z", phone="old")
        )
        self.process()
        self.assertEqual(self.partners_by_external_id("SUP-000001").phone, "new")
        late = self.messages().filtered(lambda m: m.idempotency_key.endswith("v1"))
        self.assertEqual(late.state, "skipped")

    def test_a_replay_is_applied_even_when_not_newer(self):
        self.receive(supplier_event(1, source_version=1))
        self.process()
        partner = self.partners_by_external_id("SUP-000001")
        partner.phone = "changed in Odoo"
        replay = self.messages().action_replay(reason="restore the source data")
        self.process()
        self.assertEqual(replay.state, "done")
        self.assertEqual(partner.phone, "+32 2 555 0001")

    def test_entity_codes_route_to_their_company(self):
        company_b = self.env["res.company"].create({"name": "Finance BE"})
        self.backend.service_user_id.company_ids = [(4, company_b.id)]
        term_b = self.env["account.payment.term"].create(
            {"name": "60 Days B", "company_id": company_b.id}
        )
        self.env["fih.value.map"].create(
            {
                "name": "Entities",
                "code": "companies",
                "backend_id": self.backend.id,
                "target_model": "res.company",
                "entry_ids": [
                    (
                        0,
                        0,
                        {
                            "external_value": "BE01",
                            "record_ref": f"res.company,{company_b.id}",
                        },
                    )
                ],
            }
        )
        self.receive(supplier_event(1, company_code="BE01", payment_terms="60 Days B"))
        self.receive(supplier_event(2, company_code="XX99"))
        self.process()
        partner = self.partners_by_external_id("SUP-000001")
        self.assertEqual(
            partner.with_company(company_b).property_supplier_payment_term_id, term_b
        )
        unknown = self.messages().filtered(lambda m: "000002" in m.idempotency_key)
        self.assertEqual(unknown.state, "failed")
        self.assertIn("entity code 'XX99'", unknown.error_message)

    def test_try_it_shows_the_result_and_writes_nothing(self):
        partners_before = self.Partner.search_count([])
        wizard = self.env["fih.mapping.try.wizard"].create(
            {
                "backend_id": self.backend.id,
                "object_type": "supplier",
                "sample_payload": json.dumps(supplier_event(1)),
            }
        )
        wizard.action_try()
        self.assertFalse(wizard.problems)
        self.assertIn("Create supplier 'Supplier 000001 Ltd'", wizard.preview)
        self.assertIn('"external_id": "SUP-000001"', wizard.canonical_result)
        self.assertEqual(self.Partner.search_count([]), partners_before)
        self.assertFalse(self.messages())
        # once the supplier exists, the preview lists the changes
        self.receive(supplier_event(1))
        self.process()
        wizard.sample_payload = json.dumps(supplier_event(1, version=2, phone="+32 9"))
        wizard.action_try()
        self.assertIn("Update supplier 'Supplier 000001 Ltd'", wizard.preview)
        self.assertIn("+32 2 555 0001 → +32 9", wizard.preview)
        wizard.sample_payload = json.dumps({"name": 42})
        wizard.action_try()
        self.assertIn("external_id", wizard.problems)
        self.assertFalse(wizard.preview)
        wizard.sample_payload = "{not json"
        wizard.action_try()
        self.assertIn("not valid JSON", wizard.problems)
