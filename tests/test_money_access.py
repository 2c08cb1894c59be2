"""The money settings and actions added for procure-to-pay, tried from the
side of a user who must not use them."""

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import FihTransactionCase


@tagged("post_install", "-at_install")
class TestMoneyAccess(FihTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.clerk = new_test_user(
            cls.env,
            login="integration-clerk",
            groups="base.group_user,finance_integration_hub.group_fih_user",
        )
        cls.buyer = new_test_user(
            cls.env,
            login="buyer",
            groups="base.group_user,purchase.group_purchase_user",
        )
        cls.expense = cls.env["account.account"].search(
            [
                ("account_type", "=", "expense"),
                *cls.env["account.account"]._check_company_domain(cls.env.company),
            ],
            limit=1,
        )
        cls.policy = cls.env["fih.payment.difference.policy"].create(
            {
                "currency_id": cls.env.company.currency_id.id,
                "max_amount": 0.05,
                "account_id": cls.expense.id,
                "label": "Rounding",
            }
        )
        supplier = cls.env["res.partner"].create({"name": "Supplier"})
        cls.bill = cls.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": supplier.id,
                "invoice_date": "2026-11-26",
                "invoice_line_ids": [
                    Command.create({"name": "Paper", "quantity": 1, "price_unit": 10})
                ],
            }
        )

    def test_an_integration_user_cannot_widen_the_write_off_policy(self):
        policy = self.policy.with_user(self.clerk)
        self.assertEqual(policy.max_amount, 0.05)  # may read it
        with self.assertRaises(AccessError):
            policy.write({"max_amount": 1000.0})
        with self.assertRaises(AccessError):
            policy.copy({"currency_id": self.env.ref("base.USD").id})
        with self.assertRaises(AccessError):
            policy.unlink()
        self.assertEqual(self.policy.max_amount, 0.05)

    def test_a_user_without_rights_on_bills_cannot_lift_a_duplicate_hold(self):
        self.bill.write(
            {
                "fih_hold_reason": "Possible duplicate of BILL/1",
                "fih_duplicate_reviewed": False,
            }
        )
        with self.assertRaises(AccessError):
            self.bill.with_user(self.buyer).action_fih_not_a_duplicate()
        self.assertFalse(self.bill.fih_duplicate_reviewed)
        self.assertEqual(self.bill.fih_hold_reason, "Possible duplicate of BILL/1")

    def test_a_write_off_policy_of_another_company_is_not_seen(self):
        other = self.env["res.company"].create({"name": "Other company"})
        manager = new_test_user(
            self.env,
            login="other-manager",
            groups="base.group_user,finance_integration_hub.group_fih_manager",
            company_id=other.id,
            company_ids=[Command.set(other.ids)],
        )
        Policy = self.env["fih.payment.difference.policy"].with_user(manager)
        self.assertFalse(Policy.search([("id", "=", self.policy.id)]))
        with self.assertRaises(AccessError):
            self.policy.with_user(manager).max_amount  # noqa: B018
