from odoo.tests import TransactionCase, tagged

MODULE = "finance_integration_hub"

# models of the module without a company rule, and why they need none
NO_COMPANY_RULE = {
    "fih.bi.period.wizard": "a wizard: Odoo shows a wizard only to its creator, "
    "and publishing checks the publication's own rules",
    "fih.mapping.try.wizard": "a wizard: Odoo shows a wizard only to its creator, "
    "and Try It checks that the backend and mapping are the user's",
    "fih.message.action.wizard": "a wizard: Odoo shows a wizard only to its "
    "creator, and retry, replay and cancel check each message's rules",
    "fih.mapping.use.wizard": "a wizard: Odoo shows a wizard only to its creator, "
    "and the copy checks that the user may change the chosen backend",
    "fih.secret.reveal.wizard": "a dialog never saved: it cannot be created, and "
    "shows the secret only to the manager who generated it",
}


@tagged("post_install", "-at_install")
class TestRecordRulesCoverage(TransactionCase):
    """Issue 13, finding 9: a model without a company rule showed one
    company's data to another's users."""

    def module_models(self):
        return {
            name
            for name in self.registry
            if self.registry[name]._original_module == MODULE
            and not self.registry[name]._abstract
        }

    def company_rule_models(self):
        rules = self.env["ir.rule"].search([("groups", "=", False)])
        return {
            rule.model_id.model
            for rule in rules
            if "company_ids" in (rule.domain_force or "")
        }

    def test_every_model_has_a_company_rule_or_a_reason(self):
        models = self.module_models()
        self.assertIn("fih.mapping.rule", models)  # the enumeration works
        missing = models - self.company_rule_models() - set(NO_COMPANY_RULE)
        self.assertFalse(
            missing,
            "Models without a company record rule: add one to "
            "security/fih_record_rules.xml, or list the model with the reason "
            "it needs none",
        )
        self.assertFalse(set(NO_COMPANY_RULE) - models, "Stale exemptions")
        for name in NO_COMPANY_RULE:
            self.assertTrue(self.registry[name]._transient, name)

    def test_company_rules_apply_to_every_user_and_operation(self):
        rules = self.env["ir.rule"].search(
            [
                ("model_id.model", "in", list(self.module_models())),
                ("domain_force", "like", "company_ids"),
            ]
        )
        self.assertGreaterEqual(len(rules), 20)
        for rule in rules:
            with self.subTest(rule=rule.name):
                self.assertTrue(rule.active)
                if rule.groups and not rule.perm_read:
                    # narrows who changes what (shared tables): never widens
                    continue
                self.assertFalse(rule.groups, "a company rule is global")
                self.assertTrue(
                    rule.perm_read
                    and rule.perm_write
                    and rule.perm_create
                    and rule.perm_unlink
                )

    def test_a_user_of_another_company_reads_no_mapping_rule_nor_rate(self):
        backend = self.env["fih.backend"].create(
            {"name": "Company A platform", "code": "rules-a"}
        )
        mapping = self.env["fih.mapping"].create(
            {
                "name": "A's supplier mapping",
                "backend_id": backend.id,
                "object_type": "supplier",
                "rule_ids": [(0, 0, {"source_path": "ref", "target_path": "x"})],
            }
        )
        self.env["fih.rate.counter"].create(
            {"backend_id": backend.id, "window_start": 1, "hits": 1}
        )
        company_b = self.env["res.company"].create({"name": "Company B"})
        manager_b = self.env["res.users"].create(
            {
                "name": "Manager of B",
                "login": "fih_rules_manager_b",
                "company_id": company_b.id,
                "company_ids": [(6, 0, company_b.ids)],
                "groups_id": [
                    (
                        6,
                        0,
                        [self.env.ref("finance_integration_hub.group_fih_manager").id],
                    )
                ],
            }
        )
        as_b = self.env(user=manager_b)
        self.assertTrue(
            self.env["fih.mapping.rule"].search([("id", "in", mapping.rule_ids.ids)])
        )
        self.assertFalse(
            as_b["fih.mapping.rule"].search([("id", "in", mapping.rule_ids.ids)])
        )
        self.assertTrue(
            self.env["fih.rate.counter"].search([("backend_id", "=", backend.id)])
        )
        self.assertFalse(
            as_b["fih.rate.counter"].search([("backend_id", "=", backend.id)])
        )
