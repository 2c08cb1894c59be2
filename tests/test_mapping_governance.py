from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, tagged
from odoo.tests.common import JsonRpcException

from .common import BackendMixin, FihTransactionCase, supplier_data


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
        with self.assertRaisesRegex(AccessError, "Only an Integration Manager"):
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

    # -- four-eyes, from the attacker's side (issue 13, finding 4) -------------

    def test_erasing_the_author_does_not_let_the_author_approve(self):
        mapping = self.make_mapping()
        mapping.with_user(self.author).action_submit()
        as_author = mapping.with_user(self.author)
        with self.assertRaisesRegex(AccessError, "four-eyes"):
            as_author.write({"author_id": False})
        with self.assertRaises(AccessError):
            as_author.write({"author_id": self.reviewer.id})
        self.assertEqual(mapping.author_id, self.author)
        with self.assertRaisesRegex(UserError, "four-eyes"):
            as_author.action_approve()
        self.assertEqual(mapping.state, "to_approve")

    def test_a_draft_cannot_be_written_or_created_active(self):
        mapping = self.make_mapping()
        as_author = mapping.with_user(self.author)
        for values in (
            {"state": "active"},
            {"state": "to_approve"},
            {"approver_id": self.reviewer.id},
            {"approved_at": "2026-01-01 00:00:00"},
            {"version": 7},
        ):
            with self.subTest(values=values), self.assertRaises(AccessError):
                as_author.write(values)
        self.assertEqual(mapping.state, "draft")
        Mapping = self.env["fih.mapping"].with_user(self.author)
        values = {
            "name": "Forged",
            "backend_id": self.backend.id,
            "object_type": "supplier",
        }
        with self.assertRaises(AccessError):
            Mapping.create({**values, "state": "active"})
        with self.assertRaises(AccessError):
            as_author.copy({"state": "active", "approver_id": self.reviewer.id})
        # defaults in the context are the caller's values too: ignored
        forged = Mapping.with_context(
            default_state="active", default_approver_id=self.reviewer.id
        ).create(values)
        self.assertEqual((forged.state, forged.approver_id.id), ("draft", False))
        # the backend's one2many reaches the same guard
        with self.assertRaises(AccessError):
            self.backend.with_user(self.author).write(
                {"mapping_ids": [Command.update(mapping.id, {"state": "active"})]}
            )
        self.assertFalse(self.env["fih.mapping"]._find_active(self.backend, "supplier"))

    def test_an_approved_mapping_cannot_be_changed_even_with_a_forged_context(self):
        active = self.activate(self.make_mapping())
        draft = self.make_mapping(name="Other draft")
        forged = {"fih_loading_templates": True, "fih_mapping_creation": True}
        Rule = (
            self.env["fih.mapping.rule"].with_user(self.author).with_context(**forged)
        )
        rule = active.rule_ids[0].with_user(self.author).with_context(**forged)
        with self.assertRaisesRegex(UserError, "Only draft mappings"):
            rule.write({"transform": "upper"})
        with self.assertRaisesRegex(UserError, "Only draft mappings"):
            rule.unlink()
        with self.assertRaisesRegex(UserError, "Only draft mappings"):
            Rule.create(
                {"mapping_id": active.id, "target_path": "name", "source_path": "x"}
            )
        # a rule of a draft moved into the approved version
        with self.assertRaisesRegex(UserError, "Only draft mappings"):
            draft.rule_ids[0].with_user(self.author).write({"mapping_id": active.id})
        as_author = active.with_user(self.author).with_context(**forged)
        with self.assertRaisesRegex(UserError, "Only draft mappings"):
            as_author.write({"api_version": "v9"})
        with self.assertRaisesRegex(UserError, "Only draft mappings"):
            as_author.write({"rule_ids": [Command.create({"target_path": "x"})]})
        # deleting the approved version would let payloads in unmapped
        with self.assertRaisesRegex(UserError, "cannot be deleted"):
            as_author.unlink()
        self.assertEqual(len(active.rule_ids), 4)
        self.assertEqual(active.state, "active")

    def test_a_template_is_only_copied_to_a_backend_the_user_may_change(self):
        template = self.env["fih.mapping"].search(
            [("backend_id", "=", False), ("object_type", "=", "supplier")], limit=1
        )
        other_company = self.env["res.company"].create({"name": "Elsewhere Ltd"})
        # an administrator allows the service user there first
        self.env.ref("finance_integration_hub.user_fih_service").company_ids = [
            Command.link(other_company.id)
        ]
        foreign = self.env["fih.backend"].create(
            {"name": "Foreign", "code": "foreign", "company_id": other_company.id}
        )
        as_author = template.with_user(self.author)
        with self.assertRaises(AccessError):
            as_author.with_context(fih_backend_id=foreign.id).action_use_for_backend()
        action = as_author.with_context(
            fih_backend_id=self.backend.id
        ).action_use_for_backend()
        copy = self.env["fih.mapping"].browse(action["res_id"])
        self.assertEqual((copy.state, copy.template_id), ("draft", template))
        with self.assertRaisesRegex(UserError, "backend"):
            self.env["fih.mapping"].with_user(self.author).create(
                {"name": "A home-made template", "object_type": "supplier"}
            )

    def test_mapping_rules_and_their_audit_stay_within_their_company(self):
        mapping = self.make_mapping()
        other_company = self.env["res.company"].create({"name": "Elsewhere Ltd"})
        manager_b = self.env["res.users"].create(
            {
                "name": "Manager of B",
                "login": "fih_mgr_b",
                "company_id": other_company.id,
                "company_ids": [Command.set(other_company.ids)],
                "groups_id": [
                    Command.set(
                        [self.env.ref("finance_integration_hub.group_fih_manager").id]
                    )
                ],
            }
        )
        Rule = self.env["fih.mapping.rule"].with_user(manager_b)
        self.assertFalse(Rule.search([("id", "in", mapping.rule_ids.ids)]))
        with self.assertRaises(AccessError):
            mapping.rule_ids[0].with_user(manager_b).read(["source_path"])
        audit = self.env["fih.audit.log"].search(
            [
                ("res_model", "=", "fih.mapping.rule"),
                ("res_id", "in", mapping.rule_ids.ids),
            ]
        )
        self.assertTrue(audit)
        self.assertEqual(audit.company_id, self.backend.company_id)
        self.assertFalse(
            self.env["fih.audit.log"]
            .with_user(manager_b)
            .search([("id", "in", audit.ids)])
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


@tagged("post_install", "-at_install")
class TestMappingApprovalOverJsonRpc(BackendMixin, HttpCase):
    """The four-eyes rule as a remote caller meets it: whatever the context
    keys sent with the call, the workflow fields are refused."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls._setup_backend(code="rpc-procurement")
        group = cls.env.ref("finance_integration_hub.group_fih_manager")
        cls.author = cls.env["res.users"].create(
            {
                "name": "RPC author",
                "login": "fih_rpc_author",
                "password": "fih_rpc_author_pw",
                "groups_id": [Command.set([group.id])],
            }
        )
        mapping = (
            cls.env["fih.mapping"]
            .with_user(cls.author)
            .create(
                {
                    "name": "Submitted over RPC",
                    "backend_id": cls.backend.id,
                    "object_type": "supplier",
                    "rule_ids": [
                        Command.create(
                            {"source_path": "ref", "target_path": "external_id"}
                        )
                    ],
                }
            )
        )
        mapping.with_user(cls.author).action_submit()
        cls.mapping = mapping

    def call(self, model, method, args, context=None):
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {
                "model": model,
                "method": method,
                "args": args,
                "kwargs": {"context": context or {}},
            },
        )

    def test_forged_context_keys_do_not_open_the_workflow_fields(self):
        self.authenticate("fih_rpc_author", "fih_rpc_author_pw")
        forged = {
            "fih_loading_templates": True,
            "fih_mapping_creation": True,
            "default_state": "active",
        }
        for values in ({"author_id": False}, {"state": "active"}):
            with (
                self.subTest(values=values),
                self.assertRaisesRegex(JsonRpcException, "AccessError"),
            ):
                self.call("fih.mapping", "write", [self.mapping.ids, values], forged)
        with self.assertRaisesRegex(JsonRpcException, "UserError"):
            self.call(
                "fih.mapping.rule",
                "write",
                [self.mapping.rule_ids.ids, {"transform": "upper"}],
                forged,
            )
        with self.assertRaisesRegex(JsonRpcException, "UserError"):
            self.call("fih.mapping", "action_approve", [self.mapping.ids], forged)
        created = self.call(
            "fih.mapping",
            "create",
            [
                {
                    "name": "Created over RPC",
                    "backend_id": self.backend.id,
                    "object_type": "invoice",
                }
            ],
            forged,
        )
        self.env.invalidate_all()
        self.assertEqual(self.env["fih.mapping"].browse(created).state, "draft")
        self.assertEqual(
            (self.mapping.state, self.mapping.author_id),
            ("to_approve", self.author),
        )
        self.assertEqual(self.mapping.rule_ids.transform, "copy")
