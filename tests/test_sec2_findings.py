from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import FihTransactionCase


@tagged("post_install", "-at_install")
class TestSec2Findings(FihTransactionCase):
    """A cross-reference entry points only to records its author may see."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.backend.company_id
        cls.company_b = cls.env["res.company"].create({"name": "Sec2 Company B"})
        cls.manager_a = new_test_user(
            cls.env,
            login="fih_sec2_manager_a",
            groups="finance_integration_hub.group_fih_manager,base.group_user",
            company_id=cls.company_a.id,
            company_ids=[Command.set(cls.company_a.ids)],
        )
        cls.partner_b = cls.env["res.partner"].create(
            {"name": "Sec2 B-only supplier", "company_id": cls.company_b.id}
        )

    def _table(self, code, target_model):
        return (
            self.env["fih.value.map"]
            .with_user(self.manager_a)
            .create(
                {
                    "name": code,
                    "code": code,
                    "backend_id": self.backend.id,
                    "target_model": target_model,
                }
            )
        )

    def test_manager_cannot_route_entity_code_to_a_company_they_do_not_work_in(self):
        table = self._table("companies", "res.company")
        Entry = self.env["fih.value.map.entry"].with_user(self.manager_a)
        with self.assertRaises(AccessError) as caught:
            Entry.create(
                {
                    "map_id": table.id,
                    "external_value": "ENT-B",
                    "record_ref": f"res.company,{self.company_b.id}",
                }
            )
        self.assertIn("cross-reference", str(caught.exception))
        self.assertFalse(
            self.env["fih.value.map.entry"].search([("map_id", "=", table.id)])
        )
        # nor by changing an entry that pointed to their own company
        entry = Entry.create(
            {
                "map_id": table.id,
                "external_value": "ENT-A",
                "record_ref": f"res.company,{self.company_a.id}",
            }
        )
        with self.assertRaises(AccessError):
            entry.write({"record_ref": f"res.company,{self.company_b.id}"})
        self.assertEqual(entry.sudo().record_ref, self.company_a)
        # a document naming that code still lands in company A only
        self.assertEqual(
            self.env["fih.value.map"]._record_for("companies", "ENT-A", self.backend),
            self.company_a,
        )

    def test_manager_cannot_map_a_supplier_of_another_company(self):
        table = self._table("suppliers", "res.partner")
        with self.assertRaises(AccessError):
            self.env["fih.value.map.entry"].with_user(self.manager_a).create(
                {
                    "map_id": table.id,
                    "external_value": "S-B",
                    "record_ref": f"res.partner,{self.partner_b.id}",
                }
            )
        self.assertIsNone(
            self.env["fih.value.map"]._record_for("suppliers", "S-B", self.backend)
        )

    def test_manager_of_both_companies_routes_entity_codes_to_either(self):
        self.manager_a.company_ids = [Command.link(self.company_b.id)]
        table = self._table("companies", "res.company")
        self.env["fih.value.map.entry"].with_user(self.manager_a).create(
            {
                "map_id": table.id,
                "external_value": "ENT-B",
                "record_ref": f"res.company,{self.company_b.id}",
            }
        )
        self.assertEqual(
            self.env["fih.value.map"]._record_for("companies", "ENT-B", self.backend),
            self.company_b,
        )

    def test_manager_cannot_move_a_table_to_a_backend_of_another_company(self):
        self.backend.service_user_id.company_ids = [Command.link(self.company_b.id)]
        backend_b, _secret = self._setup_other_backend(
            code="sec2-b", company_id=self.company_b.id
        )
        table = self._table("companies", "res.company")
        self.env["fih.value.map.entry"].with_user(self.manager_a).create(
            {
                "map_id": table.id,
                "external_value": "ENT-B",
                "record_ref": f"res.company,{self.company_a.id}",
            }
        )
        with self.assertRaises(AccessError):
            table.write({"backend_id": backend_b.id})
        self.assertEqual(table.sudo().backend_id, self.backend)
        # company B's documents naming ENT-B are not routed into company A
        self.assertIsNone(
            self.env["fih.value.map"]._record_for("companies", "ENT-B", backend_b)
        )
