from odoo.tests import HttpCase, tagged

from .common import MasterKeyMixin


@tagged("post_install", "-at_install")
class TestFinanceTours(MasterKeyMixin, HttpCase):
    """Finance users in the browser: a mapping from a shipped template,
    approved by a second manager; a held bill found from the Vendor Bills."""

    def _manager(self, login):
        return self.env["res.users"].create(
            {
                "name": login.replace("_", " ").title(),
                "login": login,
                "password": login,  # the tour logs in with the login as password
                "email": f"{login}@example.com",
                "groups_id": [
                    (
                        6,
                        0,
                        [self.env.ref("finance_integration_hub.group_fih_manager").id],
                    )
                ],
            }
        )

    def test_a_template_becomes_an_approved_mapping_with_two_managers(self):
        self._setup_master_key()
        author = self._manager("fih_tour_author")
        reviewer = self._manager("fih_tour_reviewer")
        backend = self.env["fih.backend"].create(
            {"name": "Tour platform", "code": "tour-mapping", "kind": "procurement"}
        )
        self.start_tour(
            "/web#action=finance_integration_hub.fih_backend_action"
            f"&id={backend.id}&view_type=form",
            "fih_template_to_submitted_mapping",
            login=author.login,
        )
        mapping = self.env["fih.mapping"].search([("backend_id", "=", backend.id)])
        self.assertEqual(len(mapping), 1)
        self.assertEqual(
            (mapping.state, mapping.author_id, mapping.template_id.backend_id),
            ("to_approve", author, self.env["fih.backend"]),
        )
        self.start_tour(
            "/web#action=finance_integration_hub.fih_mapping_action"
            f"&id={mapping.id}&view_type=form",
            "fih_approve_submitted_mapping",
            login=reviewer.login,
        )
        mapping.invalidate_recordset()
        self.assertEqual((mapping.state, mapping.approver_id), ("active", reviewer))

    def test_a_held_bill_is_found_from_the_vendor_bills_list(self):
        held_vendor, clean_vendor = self.env["res.partner"].create(
            [{"name": "Held Tour Supplies"}, {"name": "Clean Tour Supplies"}]
        )
        held, _clean = self.env["account.move"].create(
            [
                {"move_type": "in_invoice", "partner_id": held_vendor.id},
                {"move_type": "in_invoice", "partner_id": clean_vendor.id},
            ]
        )
        held.sudo().write(
            {"fih_hold_reason": "No purchase order matches this bill's lines."}
        )
        self.start_tour(
            "/web#action=account.action_move_in_invoice_type",
            "fih_held_bill_from_vendor_bills",
            login="admin",
        )
