from datetime import timedelta

from odoo import Command, fields
from odoo.tests import tagged

from .bi_common import BiPublicationCase


@tagged("post_install", "-at_install")
class TestBiPublicationDatasets(BiPublicationCase):
    """What each dataset carries to the platform."""

    def test_open_commitments_and_ap_aging_are_snapshots(self):
        product = self.env["product.product"].create(
            {"name": "Paper", "type": "consu", "is_storable": True}
        )
        order = self.env["purchase.order"].create(
            {
                "partner_id": self.supplier.id,
                "order_line": [
                    Command.create(
                        {"product_id": product.id, "product_qty": 10, "price_unit": 4.0}
                    )
                ],
            }
        )
        order.button_confirm()
        picking = order.picking_ids
        picking.move_ids.quantity = 4
        picking.with_context(
            skip_backorder=True, picking_ids_not_to_backorder=picking.ids
        ).button_validate()
        overdue = self.bill(
            [(1, 100.0)],
            invoice_date=fields.Date.today() - timedelta(days=75),
            date=fields.Date.today() - timedelta(days=75),
            invoice_date_due=fields.Date.today() - timedelta(days=45),
        )
        commitments = self.run_load(
            self.publication(code="commitments", dataset="open_commitments")
        )
        self.assertEqual(commitments.mode, "full")
        (row,) = [
            row
            for row in self.warehouse.tables["commitments"].values()
            if row["purchase_order"] == order.name
        ]
        self.assertEqual(
            (row["ordered_qty"], row["received_qty"], row["open_to_receive_qty"]),
            (10.0, 4.0, 6.0),
        )
        self.assertEqual(row["open_amount"], 40)
        aging = self.run_load(self.publication(code="aging", dataset="ap_aging"))
        self.assertEqual(aging.state, "reconciled")
        row = self.warehouse.tables["aging"][str(overdue.id)]
        self.assertEqual((row["bucket"], row["days_overdue"]), ("31-60", 45))
        self.assertEqual(row["open_amount"], overdue.amount_residual)

    def test_payments_and_archived_suppliers_reach_the_platform(self):
        bill = self.bill([(1, 200.0)])
        payment = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=bill.ids)
            .create({"payment_date": "2026-10-20"})
            ._create_payments()
        )
        payments = self.run_load(self.publication(code="payments", dataset="payments"))
        self.assertEqual(payments.state, "reconciled")
        row = self.warehouse.tables["payments"][str(payment.id)]
        self.assertEqual((row["bills"], row["amount"]), (bill.name, payment.amount))
        # cash out is positive in both currencies, whatever the journal entry
        self.assertEqual(row["amount_company"], payment.amount)
        suppliers = self.publication(
            code="suppliers", dataset="suppliers", data_format="csv"
        )
        self.env.cr.execute(
            "UPDATE res_partner SET write_date = %s", (self.ago(hours=1),)
        )
        first = self.run_load(suppliers)
        self.assertIn(str(self.other_supplier.id), self.warehouse.tables["suppliers"])
        self.other_supplier.active = False
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE res_partner SET write_date = %s WHERE id = %s",
            (self.ago(minutes=30), self.other_supplier.id),
        )
        second = self.run_load(suppliers)
        self.assertEqual((first.state, second.state), ("reconciled", "reconciled"))
        self.assertEqual(second.tombstones, 1)
        self.assertNotIn(
            str(self.other_supplier.id), self.warehouse.tables["suppliers"]
        )

    def test_a_contact_that_becomes_a_supplier_through_a_bill_is_published(self):
        contact = self.Partner.create({"name": "Newly used contact"})
        suppliers = self.publication(code="suppliers", dataset="suppliers")
        self.env.flush_all()  # else a pending write would stamp it after this
        self.env.cr.execute(
            "UPDATE res_partner SET write_date = %s", (self.ago(hours=2),)
        )
        self.run_load(suppliers)
        self.assertNotIn(str(contact.id), self.warehouse.tables["suppliers"])
        # what posting its first bill does: the rank is raised in SQL (a bill
        # would also write the contact through the ORM and hide the point)
        contact._increase_rank("supplier_rank")
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE res_partner SET write_date = %s WHERE id = %s "
            "AND write_date > %s",
            (self.ago(minutes=30), contact.id, self.ago(hours=1)),
        )
        self.assertEqual(self.env.cr.rowcount, 1)
        self.run_load(suppliers)
        self.assertIn(str(contact.id), self.warehouse.tables["suppliers"])
