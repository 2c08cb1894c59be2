from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import FihTransactionCase, supplier_data


@tagged("post_install", "-at_install")
class TestMappingGovernance(FihTransactionCase):
    """Versioned mappings: drafts, four-eyes approval, recorded versions."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        manager_group = cls.env.ref("finance_integration_hub.group_fih_manager")
        cls.author, cls.reviewer = cls.env["res.users"].create(
            [
                {
                    "name": name,
                    "login": login,
                    "email": f"{login}@example.com",
                    "groups_id": [(6, 0, [manager_group.id])],
                }
                for name, login in (("Author", "fih_author"), ("Reviewer", "fih_rev"))
            ]
        )
        cls.user = cls.env["res.users"].create(
            {
                "name": "Integration user",
                "login": "fih_plain_user",
                "email": "fih_plain_user@example.com",
                "groups_id": [
                    (6, 0, [cls.env.ref("finance_integration_hub.group_fih_user").id])
                ],
            }
        )

    def make_mapping(self, name="Partner shape", rules=None):
        rules = rules or [
            ("ref", "external_id", "trim", {}),
            ("company", "name", "trim", {}),
            ("vat", "vat", "upper", {}),
            ("bank[].iban", "bank_accounts[].iban", "copy", {}),
        ]
        return (
            self.env["fih.mapping"]
            .with_user(self.author)
            .create(
                {
                    "name": name,
                    "backend_id": self.backend.id,
                    "object_type": "supplier",
                    "rule_ids": [
                        (
                            0,
                            0,
                            {
                                "source_path": source,
                                "target_path": target,
                                "transform": transform,
                                **values,
                            },
                        )
                        for source, target, transform, values in rules
                    ],
                }
            )
        )

    def activate(self, mapping):
        mapping.with_user(self.author).action_submit()
        mapping.with_user(self.reviewer).action_approve()
        return mapping

    def test_the_author_cannot_approve_their_own_mapping(self):
        mapping = self.make_mapping()
        mapping.with_user(self.author).action_submit()
        self.assertEqual(mapping.state, "to_approve")
        self.assertEqual(mapping.author_id, self.author)
        with self.assertRaisesRegex(UserError, "four-eyes"):
            mapping.with_user(self.author).action_approve()
        with self.assertRaisesRegex(UserError, "Only an Integration Manager"):
            mapping.with_user(self.user).action_approve()
        mapping.with_user(self.reviewer).action_approve()
        self.assertEqual(mapping.state, "active")
        self.assertEqual(mapping.approver_id, self.reviewer)

    def test_active_mapping_is_read_only_and_a_new_version_supersedes_it(self):
        first = self.activate(self.make_mapping())
        with self.assertRaisesRegex(UserError, "Only draft mappings"):
            first.rule_ids[0].write({"transform": "upper"})
        action = first.with_user(self.author).action_new_version()
        second = self.env["fih.mapping"].browse(action["res_id"])
        self.assertEqual((second.state, second.version), ("draft", 2))
        self.assertEqual(len(second.rule_ids), len(first.rule_ids))
        second.rule_ids.filtered(lambda r: r.target_path == "name").transform = "upper"
        self.assertEqual(first.state, "active")  # still used until approval
        self.activate(second)
        self.assertEqual(first.state, "superseded")
        self.assertEqual(second.previous_id, first)
        self.assertEqual(
            first.rule_ids.filtered(lambda r: r.target_path == "name").transform, "trim"
        )
        # every rule change is in the chatter
        bodies = " ".join(second.message_ids.mapped("body"))
        self.assertIn("Rule changed", bodies)

    def test_a_mapping_with_a_broken_rule_cannot_be_submitted(self):
        mapping = self.make_mapping(rules=[("ref", "external_id", "lookup", {})])
        with self.assertRaisesRegex(UserError, "cannot be submitted"):
            mapping.with_user(self.author).action_submit()

    def test_messages_record_the_mapping_version_that_processed_them(self):
        first = self.activate(self.make_mapping())
        self.receive(self.event(1, data=self.partner_shape(1)))
        self.process()
        message_v1 = self.messages()
        self.assertEqual(message_v1.state, "done", message_v1.error_message)
        self.assertEqual(message_v1.mapping_id, first)
        partner = self.partners_by_external_id("SUP-000001")
        self.assertEqual(partner.name, "Supplier 000001 Ltd")
        second = self.env["fih.mapping"].browse(
            first.with_user(self.author).action_new_version()["res_id"]
        )
        second.rule_ids.filtered(lambda r: r.target_path == "name").transform = "upper"
        self.activate(second)
        self.receive(self.event(2, data=self.partner_shape(2)))
        self.process()
        message_v2 = self.messages() - message_v1
        self.assertEqual(message_v2.mapping_id, second)
        self.assertEqual(message_v1.mapping_id, first)
        self.assertEqual(
            self.partners_by_external_id("SUP-000002").name, "SUPPLIER 000002 LTD"
        )
        self.assertIn('"name": "SUPPLIER 000002 LTD"', message_v2.canonical_payload)

    def test_a_mapping_problem_is_reported_with_its_path(self):
        self.activate(
            self.make_mapping(
                rules=[
                    ("ref", "external_id", "copy", {"required": True}),
                    ("company", "name", "copy", {}),
                    (
                        "terms",
                        "payment_terms",
                        "lookup",
                        {"table_code": "payment_terms"},
                    ),
                ]
            )
        )
        self.env["fih.value.map"].create(
            {
                "name": "Payment terms",
                "code": "payment_terms",
                "backend_id": self.backend.id,
                "entry_ids": [
                    (0, 0, {"external_value": "NET30", "canonical_value": "30 Days"})
                ],
            }
        )
        self.receive(
            self.event(1, data={"ref": "S1", "company": "Acme", "terms": "NET99"})
        )
        self.receive(self.event(2, data={"company": "No ref", "terms": "NET30"}))
        self.receive(
            self.event(3, data={"ref": "S3", "company": "Acme 3", "terms": "NET30"})
        )
        self.process()
        by_key = {m.idempotency_key: m for m in self.messages()}
        self.assertEqual(by_key["evt-1"].state, "failed")
        self.assertIn("NET99", by_key["evt-1"].error_message)
        self.assertIn("payment_terms", by_key["evt-1"].error_message)
        self.assertEqual(by_key["evt-2"].state, "failed")
        self.assertIn("ref", by_key["evt-2"].error_message)
        self.assertEqual(by_key["evt-3"].state, "done")
        partner = self.partners_by_external_id("S3")
        self.assertEqual(
            partner.with_company(
                self.backend.company_id
            ).property_supplier_payment_term_id.name,
            "30 Days",
        )

    # -- helpers -------------------------------------------------------------

    @staticmethod
    def event(n, data):
        return {"id": f"evt-{n}", "type": "supplier.upsert", "data": data}

    @staticmethod
    def partner_shape(n):
        data = supplier_data(n)
        return {
            "ref": f" {data['external_id']} ",
            "company": data["name"],
            "vat": data["vat"].lower(),
            "bank": [{"iban": data["bank_accounts"][0]["iban"]}],
        }
