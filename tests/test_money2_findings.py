from odoo.tests import tagged
from odoo.tools import mute_logger

from ..simulator.p2p_documents import cxml_invoice, cxml_receipt
from .common import FihTransactionCase, run_drain_job, supplier_event
from .test_cxml_intake import TestCxmlIntake
from .test_p2p_matching_and_posting import P2PMatchingCase
from .test_procure_to_pay import invoice_event

MAIL = "odoo.addons.mail.models.mail_thread"


@tagged("post_install", "-at_install")
class TestMoney2Findings(FihTransactionCase):
    """AP controller's review, round 2: cXML credit memos against the order."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_cxml_trading()

    order = TestCxmlIntake.order
    move_of = TestCxmlIntake.move_of

    def invoice(self, number, lines, **kwargs):
        return cxml_invoice(
            number,
            "PO-1",
            "SUP-000001",
            lines,
            currency=self.currency,
            shared_secret="supplier-secret-Kx7pQ2vZ",
            **kwargs,
        )

    def price_based_credit_memo(self, number, lines):
        """A line-level credit memo that only lowers the price of units
        already billed (cXML's price-based line-level credit memo)."""
        return (
            self.invoice(number, lines, credit_memo=True)
            .replace(b'purpose="creditMemo"', b'purpose="lineLevelCreditMemo"')
            .replace(
                b"<InvoiceDetailHeaderIndicator/>",
                b"<InvoiceDetailHeaderIndicator "
                b'isPriceBasedLineLevelCreditMemo="yes"/>',
            )
        )

    def billed_paper(self):
        """PO-1 ordered, its 10 reams of paper received and billed at 4.00."""
        self.receive(supplier_event(1))
        self.post_cxml(self.order())
        self.process()
        receipt = cxml_receipt(
            "GR-1", "PO-1", [(1, 10)], shared_secret="buyer-secret-Kx7pQ2vZ"
        )
        self.post_cxml(receipt)
        self.process()
        self.post_cxml(self.invoice("F-1", [(1, 1, 10, 4.0, 15)]), self.ap)
        run_drain_job(self.ap)
        order = self.env["purchase.order"].search([("partner_ref", "=", "PO-1")])
        if not order:
            order = self.env["purchase.order"].search([], order="id desc", limit=1)
        return order.order_line.filtered(lambda line: line.product_qty == 10)

    def test_a_price_based_cxml_credit_memo_posts_as_a_rebate(self):
        paper = self.billed_paper()
        self.assertEqual((paper.qty_invoiced, paper.qty_to_invoice), (10, 0))
        # 0.20 off each of the 10 reams billed: 2.00 + 0.30 VAT
        memo = self.price_based_credit_memo("CN-1", [(1, 1, 10, 0.2, 15)])
        self.assertEqual(self.post_cxml(memo, self.ap)[0], 201)
        run_drain_job(self.ap)
        self.env.invalidate_all()
        message = self.Message.search(
            [("backend_id", "=", self.ap.id)], order="id desc", limit=1
        )
        self.assertEqual(message.state, "done", message.error_message)
        refund = self.move_of(message)
        self.assertEqual(
            (
                refund.move_type,
                refund.state,
                refund.amount_total,
                refund.fih_hold_reason,
            ),
            ("in_refund", "posted", 2.3, False),
        )
        self.assertEqual(refund.invoice_line_ids.fih_price_adjusted_line_id, paper)
        # the 10 reams stay billed: nothing becomes billable a second time
        self.assertEqual((paper.qty_invoiced, paper.qty_to_invoice), (10, 0))

    def test_a_quantity_credit_memo_still_credits_the_quantity(self):
        paper = self.billed_paper()
        memo = self.invoice("CN-1", [(1, 1, 2, 4.0, 15)], credit_memo=True).replace(
            b'purpose="creditMemo"', b'purpose="lineLevelCreditMemo"'
        )
        self.assertEqual(self.post_cxml(memo, self.ap)[0], 201)
        run_drain_job(self.ap)
        self.env.invalidate_all()
        message = self.Message.search(
            [("backend_id", "=", self.ap.id)], order="id desc", limit=1
        )
        refund = self.move_of(message)
        self.assertEqual((refund.state, refund.amount_total), ("posted", 9.2))
        self.assertFalse(refund.invoice_line_ids.fih_price_adjusted_line_id)
        self.assertEqual(paper.qty_invoiced, 8)

    def test_a_price_based_credit_memo_on_more_units_than_billed_is_held(self):
        self.billed_paper()
        memo = self.price_based_credit_memo("CN-1", [(1, 1, 12, 0.2, 15)])
        with mute_logger(MAIL):
            self.post_cxml(memo, self.ap)
            run_drain_job(self.ap)
        self.env.invalidate_all()
        message = self.Message.search(
            [("backend_id", "=", self.ap.id)], order="id desc", limit=1
        )
        refund = self.move_of(message)
        self.assertEqual(refund.state, "draft")
        self.assertIn(
            "the price adjustment applies to 12 units but only 10 have been invoiced",
            refund.fih_hold_reason,
        )

    def test_an_invoice_marked_as_a_price_based_credit_memo_is_refused(self):
        self.receive(supplier_event(1))
        invoice = self.invoice("F-9", [(1, 1, 10, 0.2, 15)]).replace(
            b"<InvoiceDetailHeaderIndicator/>",
            b"<InvoiceDetailHeaderIndicator "
            b'isPriceBasedLineLevelCreditMemo="yes"/>',
        )
        status, text = self.post_cxml(invoice, self.ap)
        self.assertEqual(status, 406, text)
        self.assertIn("purpose lineLevelCreditMemo", text)
        self.assertFalse(self.Message.search([("backend_id", "=", self.ap.id)]))


@tagged("post_install", "-at_install")
class TestMoney2CreditAtBilledPrice(P2PMatchingCase):
    """A return is credited at the price the units were billed at."""

    def test_a_return_credited_at_the_billed_price_posts(self):
        order = self.order_with(received=[("1", 10)])
        # billed below the order's 4.00: the company pays less, accepted
        bill = self.from_ap(invoice_event(1, [("1", 10, 3.9)]))
        self.assertEqual(self.bill(1).state, "posted", bill.error_message)
        credit = invoice_event(2, [("1", 2, 3.9)], document_type="credit_note")
        with mute_logger(MAIL):
            self.from_ap(credit)
        refund = self.bill(2)
        self.assertEqual(
            (refund.state, refund.amount_total, refund.fih_hold_reason),
            ("posted", 8.97, False),
        )
        self.assertEqual(self.paper_line(order).qty_invoiced, 8)
