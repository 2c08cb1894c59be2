from odoo.tests import tagged
from odoo.tools import mute_logger

from . import test_procure_to_pay as p2p
from .common import FihTransactionCase, supplier_event
from .test_procure_to_pay import invoice_event, order_event, receipt_event

MAIL = p2p.MAIL


def order_of(product_code, quantity, uom, unit_price=4.0, n=1):
    """Order ``n``: one line (line 1) of ``quantity`` ``uom`` at ``unit_price``."""
    line = {
        "line_id": "1",
        "product_code": product_code,
        "description": f"{product_code} as ordered",
        "quantity": quantity,
        "uom": uom,
        "unit_price": unit_price,
        "tax_codes": ["VAT15"],
    }
    return order_event(n, lines=[line])


def receipt_in(n, quantity, uom, order=1):
    """Receipt ``n`` of ``quantity`` ``uom`` on line 1 of ``order``."""
    event = receipt_event(n, [("1", quantity)], order=order)
    event["data"]["lines"][0]["uom"] = uom
    return event


def bill_in(n, quantity, uom, unit_price, order=1):
    """Bill ``n``: ``quantity`` ``uom`` at ``unit_price`` on line 1, 15 % tax."""
    event = invoice_event(n, [("1", quantity, unit_price)], order=order)
    event["data"]["lines"][0]["uom"] = uom
    return event


@tagged("post_install", "-at_install")
class TestP2PUnitsOfMeasure(FihTransactionCase):
    """Orders, receipts and bills each in their own unit, converted and
    booked as Odoo converts them; a unit that cannot count the product is
    an exception, never replaced."""

    # the procure-to-pay helpers: signed events through the intake, processed
    in_company_currency = p2p.TestProcureToPay.in_company_currency
    from_ap = p2p.TestProcureToPay.from_ap
    from_procurement = p2p.TestProcureToPay.from_procurement
    order = p2p.TestProcureToPay.order
    bill = p2p.TestProcureToPay.bill

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ap, cls.ap_secret = cls._setup_other_backend(
            code="test-ap", kind="ap_automation"
        )
        cls.units = cls.env.ref("uom.product_uom_unit")
        cls.dozens = cls.env.ref("uom.product_uom_dozen")
        Product = cls.env["product.product"]
        goods = {"type": "consu", "is_storable": True, "purchase_method": "receive"}
        cls.paper = Product.create(
            {"name": "Paper A4", "default_code": "PAPER", **goods}
        )
        # stocked and bought by the dozen
        cls.bolts = Product.create(
            {
                "name": "Bolts M8",
                "default_code": "BOLTS",
                "uom_id": cls.dozens.id,
                "uom_po_id": cls.dozens.id,
                **goods,
            }
        )
        cls.company = cls.env.company

    def ordered(self, product_code, quantity, uom, unit_price=4.0, n=1):
        self.from_procurement(supplier_event(1))
        message = self.from_procurement(
            order_of(product_code, quantity, uom, unit_price, n=n)
        )
        self.assertEqual(message.state, "done", message.error_message)
        return self.order(n).order_line

    def assert_refused(self, message, *words):
        self.assertEqual((message.state, message.error_kind), ("failed", "business"))
        for word in words:
            self.assertIn(word, message.error_message)

    # -- receipts ----------------------------------------------------------------

    def test_a_receipt_in_dozens_receives_twelve_units_a_dozen(self):
        line = self.ordered("PAPER", 24, "Units")
        self.assertEqual((line.product_uom, line.product_qty), (self.units, 24))
        message = self.from_procurement(receipt_in(1, 2, "Dozens"))
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(line.qty_received, 24)
        self.assertEqual(self.paper.qty_available, 24)
        move = line.move_ids.filtered(lambda m: m.state == "done")
        self.assertEqual((move.product_uom, move.quantity), (self.units, 24))
        self.assertEqual(len(self.order().picking_ids), 1)  # all received

    @mute_logger(MAIL)
    def test_a_product_stocked_in_dozens_receives_its_units_as_dozens(self):
        self.company.fih_over_receipt_tolerance = 10
        line = self.ordered("BOLTS", 24, "Units")
        self.assertEqual((line.product_uom, line.product_qty), (self.units, 24))
        # 25 dozens are 300 units for 24 ordered: the guard stops them
        refused = self.from_procurement(receipt_in(1, 25, "Dozens"))
        self.assert_refused(
            refused, "Over-receipt", "300.0 Units would be received for 24.0 Units"
        )
        self.assertEqual((line.qty_received, self.bolts.qty_available), (0, 0))
        message = self.from_procurement(receipt_in(2, 24, "Units"))
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(line.qty_received, 24)
        self.assertEqual(self.bolts.qty_available, 2)  # in dozens: 24 units
        move = line.move_ids.filtered(lambda m: m.state == "done")
        self.assertEqual((move.product_uom, move.quantity), (self.dozens, 2))
        quant = self.env["stock.quant"].search(
            [
                ("product_id", "=", self.bolts.id),
                ("location_id.usage", "=", "internal"),
            ]
        )
        self.assertEqual(sum(quant.mapped("quantity")), 2)

    @mute_logger(MAIL)
    def test_a_receipt_a_stock_unit_cannot_hold_exactly_is_refused(self):
        line = self.ordered("BOLTS", 24, "Units")
        # 5 units are 0.416667 dozens: the stock would be rounded to 0.42
        refused = self.from_procurement(receipt_in(1, 5, "Units"))
        self.assert_refused(refused, "5 Units is 0.416667 Dozens", "round")
        self.assertEqual((line.qty_received, self.bolts.qty_available), (0, 0))

    def test_a_service_is_confirmed_in_the_order_lines_unit(self):
        self.from_procurement(supplier_event(1))
        event = order_of(None, 24, "Units")
        del event["data"]["lines"][0]["product_code"]
        self.from_procurement(event)
        line = self.order().order_line
        self.assertEqual(line.product_id.type, "service")
        message = self.from_procurement(receipt_in(1, 2, "Dozens"))
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(line.qty_received, 24)

    # -- bills -------------------------------------------------------------------

    def test_a_bill_in_dozens_is_booked_in_dozens_and_matched_in_units(self):
        line = self.ordered("PAPER", 24, "Units", unit_price=4.0)
        self.from_procurement(receipt_in(1, 24, "Units"))
        message = self.from_ap(bill_in(1, 2, "Dozens", 48.0))
        self.assertEqual(message.state, "done", message.error_message)
        bill = self.bill(1)
        self.assertEqual(bill.state, "posted", bill.fih_hold_reason)
        self.assertFalse(bill.fih_hold_reason)
        self.assertRecordValues(
            bill.invoice_line_ids,
            [
                {
                    "product_uom_id": self.dozens.id,
                    "quantity": 2.0,
                    "price_unit": 48.0,
                    "purchase_line_id": line.id,
                }
            ],
        )
        self.assertEqual(line.qty_invoiced, 24)
        expense = self.paper.product_tmpl_id.get_product_accounts(
            bill.fiscal_position_id
        )["expense"]
        tax = line.taxes_id
        tax_account = tax.invoice_repartition_line_ids.filtered(
            lambda rep: rep.repartition_type == "tax"
        ).account_id
        payable = bill.partner_id.property_account_payable_id
        self.assertRecordValues(
            bill.line_ids.sorted("balance"),
            [
                {"account_id": payable.id, "balance": -110.40, "tax_line_id": False},
                {"account_id": tax_account.id, "balance": 14.40, "tax_line_id": tax.id},
                {"account_id": expense.id, "balance": 96.00, "tax_line_id": False},
            ],
        )
        self.assertEqual(bill.line_ids.sorted("balance")[2].tax_ids, tax)
        self.assertEqual(bill.amount_residual, 110.40)

    @mute_logger(MAIL)
    def test_a_bill_for_more_dozens_than_units_received_is_held(self):
        line = self.ordered("PAPER", 36, "Units", unit_price=4.0)
        self.from_procurement(receipt_in(1, 24, "Units"))
        message = self.from_ap(bill_in(1, 3, "Dozens", 48.0))
        self.assertEqual(message.state, "done", message.error_message)
        bill = self.bill(1)
        self.assertEqual(bill.state, "draft")
        self.assertIn("36 invoiced but only 24 received", bill.fih_hold_reason)
        self.assertNotIn("unit price", bill.fih_hold_reason)
        # Odoo counts a draft bill too, in the order line's unit
        self.assertEqual(line.qty_invoiced, 36)

    @mute_logger(MAIL)
    def test_a_bill_priced_higher_per_dozen_is_held_with_the_price_per_unit(self):
        self.ordered("PAPER", 24, "Units", unit_price=4.0)
        self.from_procurement(receipt_in(1, 24, "Units"))
        self.from_ap(bill_in(1, 2, "Dozens", 50.40))
        bill = self.bill(1)
        self.assertEqual(bill.state, "draft")
        # 50.40 a dozen is 4.20 a unit: 0.20 more on each of 24 units
        self.assertIn("unit price 4.20", bill.fih_hold_reason)
        self.assertIn("4.80", bill.fih_hold_reason)

    # -- units that cannot count the product -----------------------------------------

    @mute_logger(MAIL)
    def test_a_unit_of_another_category_is_refused_and_nothing_is_booked(self):
        self.from_procurement(supplier_event(1))
        refused = self.from_procurement(order_of("PAPER", 24, "kg"))
        self.assert_refused(refused, "Order line 1", "Units (Unit)", "kg (Weight)")
        self.assertFalse(self.order())
        line = self.ordered("PAPER", 24, "Units", n=2)
        refused = self.from_procurement(receipt_in(1, 2, "kg", order=2))
        self.assert_refused(refused, "Units (Unit)", "kg (Weight)")
        self.assertEqual((line.qty_received, self.paper.qty_available), (0, 0))
        refused = self.from_ap(bill_in(1, 2, "KGM", 48.0, order=2))
        self.assert_refused(refused, "Invoice line 1", "kg (Weight)")
        self.assertFalse(self.bill(1))
        self.assertFalse(
            self.env["account.move"].search([("partner_id", "=", line.partner_id.id)])
        )

    @mute_logger(MAIL)
    def test_an_unknown_unit_is_refused_with_what_to_send(self):
        self.from_procurement(supplier_event(1))
        refused = self.from_procurement(order_of("PAPER", 24, "Crates"))
        self.assert_refused(refused, "unit Crates is not known", "DZN")
        self.assertFalse(self.order())

    # -- UN/ECE codes ------------------------------------------------------------------

    def test_un_ece_codes_work_as_the_odoo_units_they_mean(self):
        line = self.ordered("PAPER", 24, "C62", unit_price=4.0)
        self.assertEqual(line.product_uom, self.units)
        received = self.from_procurement(receipt_in(1, 2, "DZN"))
        self.assertEqual(received.state, "done", received.error_message)
        self.assertEqual((line.qty_received, self.paper.qty_available), (24, 24))
        billed = self.from_ap(bill_in(1, 2, "DZN", 48.0))
        self.assertEqual(billed.state, "done", billed.error_message)
        bill = self.bill(1)
        self.assertEqual(bill.state, "posted", bill.fih_hold_reason)
        self.assertEqual(bill.invoice_line_ids.product_uom_id, self.dozens)
        self.assertEqual((line.qty_invoiced, bill.amount_total), (24, 110.40))
