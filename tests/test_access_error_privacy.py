from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import FihTransactionCase


@tagged("post_install", "-at_install")
class TestAccessErrorPrivacy(FihTransactionCase):
    """A refusal names only administrators the user already works with."""

    def refusal_for(self, user):
        with self.assertRaises(AccessError) as caught:
            self.env["fih.backend"].with_user(user).search([])
        return str(caught.exception)

    def test_a_portal_user_is_refused_without_names_or_technical_words(self):
        admins = (
            self.env["res.users"]
            .sudo()
            .search([("groups_id", "in", self.env.ref("base.group_erp_manager").ids)])
        )
        portal = new_test_user(
            self.env, login="fih_portal_privacy", groups="base.group_portal"
        )
        text = self.refusal_for(portal)
        self.assertIn("You cannot see", text)
        self.assertNotIn("res.groups", text)
        for name in admins.mapped("name"):
            self.assertNotIn(name, text)

    def test_an_administrator_of_another_company_is_not_named(self):
        company_b = self.env["res.company"].create({"name": "Company B privacy"})
        new_test_user(
            self.env,
            login="fih_admin_b_privacy",
            name="Zed Foreign Admin",
            groups="base.group_erp_manager,base.group_user",
            company_id=company_b.id,
            company_ids=[Command.set(company_b.ids)],
        )
        company_a = self.env.company
        new_test_user(
            self.env,
            login="fih_admin_a_privacy",
            name="Anna Local Admin",
            groups="base.group_erp_manager,base.group_user",
            company_id=company_a.id,
            company_ids=[Command.set(company_a.ids)],
        )
        outsider = new_test_user(
            self.env,
            login="fih_plain_privacy",
            groups="base.group_user",
            company_id=company_a.id,
            company_ids=[Command.set(company_a.ids)],
        )
        text = self.refusal_for(outsider)
        self.assertIn("right", text)
        self.assertNotIn("Zed Foreign Admin", text)

    def test_a_shared_cross_reference_of_another_company_shows_its_name(self):
        company_b = self.env["res.company"].create({"name": "Company B names"})
        partner_b = self.env["res.partner"].create(
            {"name": "B-only supplier", "company_id": company_b.id}
        )
        table = self.env["fih.value.map"].create(
            {
                "name": "Shared suppliers",
                "code": "suppliers",
                "target_model": "res.partner",
            }
        )
        entry = self.env["fih.value.map.entry"].create(
            {
                "map_id": table.id,
                "external_value": "S-1",
                "record_ref": f"res.partner,{partner_b.id}",
            }
        )
        company_a = self.backend.company_id
        reader = new_test_user(
            self.env,
            login="fih_reader_names",
            groups="finance_integration_hub.group_fih_user,base.group_user",
            company_id=company_a.id,
            company_ids=[Command.set(company_a.ids)],
        )
        as_reader = entry.with_user(reader)
        self.assertTrue(as_reader.search([("id", "=", entry.id)]))
        self.assertTrue(as_reader.read(["display_name"])[0]["display_name"])
