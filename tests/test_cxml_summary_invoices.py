"""cXML summary invoices (``InvoiceDetailRequest`` with one
``InvoiceDetailOrder`` per order) through ``POST /finance_hub/cxml/<code>``
over real HTTP: one vendor bill whose lines are linked to the lines of each
order, checked against the summary, with Odoo's own bill of the same orders
as the oracle of every amount."""

import contextlib
from xml.sax.saxutils import escape, quoteattr

from odoo.tests import HttpCase, tagged

from ..lib import safe_xml
from ..simulator.p2p_documents import cxml_envelope, cxml_order_request, cxml_receipt
from .common import BackendMixin, ProcureToPayMixin, run_drain_job, supplier_event

BUYER_SECRET = "buyer-summary-invoices-Xk29q"
SUPPLIER_SECRET = "supplier-summary-invoices-Pq81z"


class _Rollback(Exception):
    """Undo the oracle bill."""


def _money(amount, currency):
    return f'<Money currency="{escape(currency)}">{amount:.2f}</Money>'


def summary_invoice(
    number, supplier_id, orders, *, currency, net_amount=None, by_payload_id=()
):
    """A cXML InvoiceDetailRequest covering several orders, with the line tax
    of each item and the summary of them all. ``orders``: ``[(order id,
    [(invoice line, order line, quantity, unit price, tax %)])]``; the orders
    of ``by_payload_id`` are named only by their OrderRequest's payloadID
    (orderID is optional)."""
    blocks, subtotal, tax_total = [], 0, 0
    for order_id, lines in orders:
        items = []
        for number_, order_line, quantity, price, rate in lines:
            amount = round(quantity * price + 1e-9, 2)
            tax = round(amount * rate / 100 + 1e-9, 2)
            subtotal += amount
            tax_total += tax
            items.append(
                f'<InvoiceDetailItem invoiceLineNumber="{number_}" '
                f'quantity="{quantity}"><UnitOfMeasure>EA</UnitOfMeasure>'
                f"<UnitPrice>{_money(price, currency)}</UnitPrice>"
                f'<InvoiceDetailItemReference lineNumber="{order_line}">'
                f'<Description xml:lang="en">Line {number_}</Description>'
                "</InvoiceDetailItemReference>"
                f"<SubtotalAmount>{_money(amount, currency)}</SubtotalAmount>"
                f"<Tax>{_money(tax, currency)}"
                f'<Description xml:lang="en">VAT {rate} %</Description>'
                f'<TaxDetail purpose="tax" category="vat" percentageRate="{rate}">'
                f"<TaxableAmount>{_money(amount, currency)}</TaxableAmount>"
                f"<TaxAmount>{_money(tax, currency)}</TaxAmount></TaxDetail></Tax>"
                "</InvoiceDetailItem>"
            )
        blocks.append(
            "<InvoiceDetailOrder><InvoiceDetailOrderInfo>"
            + (
                "<OrderReference>"
                if order_id in by_payload_id
                else f"<OrderReference orderID={quoteattr(order_id)}>"
            )
            + f'<DocumentReference payloadID="{escape(order_id)}.v1@procurement.'
            'example"/>'
            f"</OrderReference></InvoiceDetailOrderInfo>{''.join(items)}"
            "</InvoiceDetailOrder>"
        )
    subtotal, tax_total = round(subtotal, 2), round(tax_total, 2)
    net = round(subtotal + tax_total, 2) if net_amount is None else net_amount
    request = (
        "<InvoiceDetailRequest><InvoiceDetailRequestHeader "
        f'invoiceID={quoteattr(number)} purpose="standard" operation="new" '
        'invoiceDate="2026-11-26T09:00:00+00:00"><InvoiceDetailHeaderIndicator/>'
        '<InvoiceDetailLineIndicator isTaxInLine="yes"/>'
        f'<InvoicePartner><Contact role="from" addressID={quoteattr(supplier_id)}>'
        '<Name xml:lang="en">Supplier</Name></Contact></InvoicePartner>'
        "</InvoiceDetailRequestHeader>"
        f"{''.join(blocks)}<InvoiceDetailSummary>"
        f"<SubtotalAmount>{_money(subtotal, currency)}</SubtotalAmount>"
        f"<Tax>{_money(tax_total, currency)}"
        '<Description xml:lang="en">Total VAT</Description></Tax>'
        f"<GrossAmount>{_money(net, currency)}</GrossAmount>"
        f"<NetAmount>{_money(net, currency)}</NetAmount>"
        "</InvoiceDetailSummary></InvoiceDetailRequest>"
    )
    return cxml_envelope(
        f"{number}@ap.example",
        request,
        shared_secret=SUPPLIER_SECRET,
        sender="AN-SUPPLIER-01",
    )


@tagged("post_install", "-at_install")
class TestCxmlSummaryInvoices(BackendMixin, ProcureToPayMixin, HttpCase):
    """A supplier bills two receipted orders with one summary invoice."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.backend = cls._setup_backend(code="summary-buyer")
        cls.backend.cxml_shared_secret = BUYER_SECRET
        cls._setup_ap_backend(bill_posting="post")
        cls.ap.cxml_shared_secret = SUPPLIER_SECRET
        cls._setup_paper_and_cost_centre()
        cls.currency = cls.env.company.currency_id.name

    # -- helpers ---------------------------------------------------------------

    def post_cxml(self, body, backend):
        """POST over HTTP: the cXML status code and its text."""
        response = self.opener.post(
            f"{self.base_url()}/finance_hub/cxml/{backend.code}",
            data=body,
            headers={"Content-Type": "text/xml; charset=utf-8"},
            timeout=60,
        )
        status = safe_xml.parse(response.content).find("Response/Status")
        self.assertEqual(
            response.status_code,
            200
            if status.get("code")
            in (
                "200",
                "201",
            )
            else int(status.get("code")),
        )
        return int(status.get("code")), status.text or ""

    def accepted(self, body, backend):
        code, text = self.post_cxml(body, backend)
        self.assertEqual(code, 201, text)
        run_drain_job(backend)
        self.env.invalidate_all()
        return self.env["fih.message"].search(
            [("backend_id", "=", backend.id)], order="id desc", limit=1
        )

    def supplier(self, n):
        body, headers = self.signed(supplier_event(n))
        response = self.url_open(
            f"/finance_hub/webhook/{self.backend.code}", data=body, headers=headers
        )
        self.assertEqual(response.status_code, 202, response.text)
        run_drain_job(self.backend)

    def ordered_and_received(self, order_id, supplier_id, lines, received):
        order = cxml_order_request(
            order_id,
            supplier_id,
            lines,
            currency=self.currency,
            shared_secret=BUYER_SECRET,
        )
        message = self.accepted(order, self.backend)
        self.assertEqual(message.state, "done", message.error_message)
        receipt = cxml_receipt(
            f"GR-{order_id}", order_id, received, shared_secret=BUYER_SECRET
        )
        message = self.accepted(receipt, self.backend)
        self.assertEqual(message.state, "done", message.error_message)
        return self.env["purchase.order"].search([("partner_ref", "=", order_id)])

    def odoo_bill_figures(self, orders):
        """What Odoo's own "Create Bill" makes of ``orders`` (undone after):
        totals and journal items, the oracle of the hub's bill."""
        with contextlib.suppress(_Rollback), self.env.cr.savepoint():
            orders.action_create_invoice()
            bill = orders.invoice_ids
            self.assertEqual(len(bill), 1)  # Odoo groups one supplier's orders
            bill.invoice_date = "2026-11-26"
            figures = self.figures(bill)
            raise _Rollback
        self.env.invalidate_all()
        return figures

    def figures(self, bill):
        return {
            "totals": (bill.amount_untaxed, bill.amount_tax, bill.amount_total),
            "items": sorted(
                (line.display_type, line.balance, line.account_id.id)
                for line in bill.line_ids
            ),
            "billed": sorted(
                (line.purchase_line_id.id, line.quantity, line.price_subtotal)
                for line in bill.invoice_line_ids
            ),
        }

    # -- tests -------------------------------------------------------------------

    def test_a_summary_invoice_of_two_orders_becomes_one_posted_bill(self):
        self.supplier(1)
        lines = [
            (1, "PAPER", "Paper A4", 10, 4.0, 15),
            (2, "SVC", "Installation", 1, 100.0, 15),
        ]
        first = self.ordered_and_received(
            "PO-A", "SUP-000001", lines, [(1, 10), (2, 1)]
        )
        second = self.ordered_and_received(
            "PO-B", "SUP-000001", [(1, "PAPER", "Paper A4", 5, 4.1, 15)], [(1, 5)]
        )
        orders = first | second
        # received on the receipt's date, not on the day it was processed
        moves = orders.picking_ids.move_ids.filtered(lambda m: m.state == "done")
        self.assertEqual({str(move.date.date()) for move in moves}, {"2026-11-26"})
        oracle = self.odoo_bill_figures(orders)
        invoice = summary_invoice(
            "F-SUM-1",
            "SUP-000001",
            [
                ("PO-A", [(1, 1, 10, 4.0, 15), (2, 2, 1, 100.0, 15)]),
                ("PO-B", [(3, 1, 5, 4.1, 15)]),
            ],
            currency=self.currency,
        )
        message = self.accepted(invoice, self.ap)
        self.assertEqual(
            message.state, "done", f"{message.error_message} {message.error_detail}"
        )
        bill = self.env["account.move"].browse(
            message.link_ids.filtered(
                lambda link: link.res_model == "account.move"
            ).res_id
        )
        self.assertEqual(
            (bill.move_type, bill.state, bill.fih_hold_reason),
            ("in_invoice", "posted", False),
        )
        # 40.00 + 100.00 + 20.50; VAT 6.00 + 15.00 + 3.08 (3.075 per line)
        self.assertEqual(oracle["totals"], (160.5, 24.08, 184.58))
        self.assertEqual(self.figures(bill), oracle)
        self.assertEqual(bill.amount_residual, 184.58)
        self.assertEqual(bill.invoice_line_ids.purchase_line_id.order_id, orders)
        self.assertEqual(
            set(bill.invoice_origin.split(", ")), set(orders.mapped("name"))
        )
        self.assertEqual(
            [line.qty_invoiced for line in first.order_line.sorted("id")], [10.0, 1.0]
        )
        self.assertEqual(second.order_line.qty_invoiced, 5.0)
        self.assertEqual(orders.mapped("invoice_status"), ["invoiced", "invoiced"])
        self.assertEqual(
            set(
                message.link_ids.filtered(
                    lambda link: link.res_model == "purchase.order"
                ).mapped("res_id")
            ),
            set(orders.ids),
        )

    def test_a_summary_invoice_whose_summary_disagrees_is_held(self):
        self.supplier(1)
        first = self.ordered_and_received(
            "PO-C", "SUP-000001", [(1, "PAPER", "Paper A4", 10, 4.0, 15)], [(1, 10)]
        )
        second = self.ordered_and_received(
            "PO-D", "SUP-000001", [(1, "PAPER", "Paper A4", 5, 4.0, 15)], [(1, 5)]
        )
        invoice = summary_invoice(
            "F-SUM-2",
            "SUP-000001",
            [("PO-C", [(1, 1, 10, 4.0, 15)]), ("PO-D", [(2, 1, 5, 4.0, 15)])],
            currency=self.currency,
            net_amount=70.0,  # the lines and tax come to 69.00
        )
        message = self.accepted(invoice, self.ap)
        bill = self.env["account.move"].search([("ref", "=", "F-SUM-2")])
        self.assertEqual((message.state, bill.state), ("done", "draft"))
        self.assertIn("Total: the document states 70.00", bill.fih_hold_reason)
        self.assertIn("69.00", bill.fih_hold_reason)
        self.assertEqual(
            bill.invoice_line_ids.purchase_line_id.order_id, first | second
        )

    def test_a_summary_invoice_over_another_supplier_s_order_is_held(self):
        self.supplier(1)
        self.supplier(2)
        own = self.ordered_and_received(
            "PO-E", "SUP-000001", [(1, "PAPER", "Paper A4", 10, 4.0, 15)], [(1, 10)]
        )
        other = self.ordered_and_received(
            "PO-F", "SUP-000002", [(1, "PAPER", "Paper A4", 5, 4.0, 15)], [(1, 5)]
        )
        invoice = summary_invoice(
            "F-SUM-3",
            "SUP-000001",
            [("PO-E", [(1, 1, 10, 4.0, 15)]), ("PO-F", [(2, 1, 5, 4.0, 15)])],
            currency=self.currency,
        )
        message = self.accepted(invoice, self.ap)
        bill = self.env["account.move"].search([("ref", "=", "F-SUM-3")])
        self.assertEqual((message.state, bill.state), ("done", "draft"))
        self.assertIn(
            f"order {other.name} was placed with {other.partner_id.display_name}",
            bill.fih_hold_reason,
        )
        self.assertNotIn(f"order {own.name} was placed", bill.fih_hold_reason)
        self.assertEqual(bill.activity_ids.summary, "Check the bill before posting")

    def test_an_order_named_only_by_its_order_request_s_payload_id_is_matched(self):
        """cXML makes OrderReference@orderID optional: the DocumentReference
        (the payloadID of the OrderRequest) names the order then."""
        self.supplier(1)
        first = self.ordered_and_received(
            "PO-G", "SUP-000001", [(1, "PAPER", "Paper A4", 10, 4.0, 15)], [(1, 10)]
        )
        second = self.ordered_and_received(
            "PO-H", "SUP-000001", [(1, "PAPER", "Paper A4", 5, 4.0, 15)], [(1, 5)]
        )
        invoice = summary_invoice(
            "F-SUM-4",
            "SUP-000001",
            [("PO-G", [(1, 1, 10, 4.0, 15)]), ("PO-H", [(2, 1, 5, 4.0, 15)])],
            currency=self.currency,
            by_payload_id=("PO-G",),
        )
        self.assertNotIn(b'orderID="PO-G"', invoice)
        message = self.accepted(invoice, self.ap)
        self.assertEqual(
            message.state, "done", f"{message.error_message} {message.error_detail}"
        )
        bill = self.env["account.move"].search([("ref", "=", "F-SUM-4")])
        self.assertEqual(bill.state, "posted", bill.fih_hold_reason)
        self.assertEqual(bill.amount_total, 69.0)
        self.assertEqual(
            bill.invoice_line_ids.purchase_line_id.order_id, first | second
        )
        self.assertEqual(first.order_line.qty_invoiced, 10.0)
