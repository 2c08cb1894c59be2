import os
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import mute_logger

from ..simulator.p2p_documents import (
    cxml_envelope,
    cxml_invoice,
    cxml_order_request,
    cxml_receipt,
    ubl_invoice,
)
from .common import FihTransactionCase, run_drain_job, supplier_event
from .test_procure_to_pay import payment_event, receipt_event

INTAKE = "odoo.addons.finance_integration_hub.models.fih_cxml_intake"
ORDER_LINES = [
    (1, "PAPER", "Paper A4", 10, 4.0, 15),
    (2, "SVC", "Installation", 1, 100.0, 15),
]


@tagged("post_install", "-at_install")
class TestCxmlIntake(FihTransactionCase):
    """cXML documents at /finance_hub/cxml/<backend>, each status code."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_cxml_trading()

    def order(self, **kwargs):
        return cxml_order_request(
            "PO-1",
            "SUP-000001",
            ORDER_LINES,
            currency=self.currency,
            shared_secret="buyer-secret-Kx7pQ2vZ",
            **kwargs,
        )

    def test_an_order_request_is_accepted_once_and_becomes_a_purchase_order(self):
        self.receive(supplier_event(1))
        self.assertEqual(self.post_cxml(self.order())[0], 201)
        self.assertEqual(
            self.post_cxml(self.order()), (200, "Already received; nothing changed.")
        )
        self.process()
        message = self.messages(event_type="purchase_order.upsert")
        self.assertEqual(
            (len(message), message.state), (1, "done"), message.error_message
        )
        order = self.env["purchase.order"].browse(message.link_ids.res_id)
        self.assertEqual(order.state, "purchase")
        self.assertEqual(order.amount_untaxed, 140.0)
        self.assertEqual(order.order_line.taxes_id.amount, 15)
        self.assertEqual(message.idempotency_key, "PO-1.v1@procurement.example")
        self.assertIn("<SharedSecret>***</SharedSecret>", message.source_document)
        self.assertNotIn(
            "buyer-secret-Kx7pQ2vZ", message.source_document + message.payload
        )

    def test_the_same_payload_id_with_another_content_is_a_conflict(self):
        self.post_cxml(self.order())
        changed = cxml_order_request(
            "PO-1",
            "SUP-000001",
            ORDER_LINES[:1],
            currency=self.currency,
            shared_secret="buyer-secret-Kx7pQ2vZ",
        )
        status, text = self.post_cxml(changed)
        self.assertEqual(status, 409)
        self.assertIn("new payloadID", text)
        self.assertEqual(len(self.messages()), 1)

    def test_a_wrong_shared_secret_or_backend_is_401_and_stores_nothing(self):
        wrong = cxml_order_request(
            "PO-1",
            "SUP-000001",
            ORDER_LINES,
            currency=self.currency,
            shared_secret="guess",
        )
        self.assertEqual(self.post_cxml(wrong)[0], 401)
        status = (
            self.env["fih.cxml.intake"]
            ._receive("nope", lambda: wrong, len(wrong))
            .status
        )
        self.assertEqual(status, 401)
        self.assertFalse(self.messages())

    def test_unreadable_and_hostile_documents_are_406(self):
        self.assertEqual(self.post_cxml(b"<cXML><Header>")[0], 406)
        xxe = (
            b'<?xml version="1.0"?><!DOCTYPE cXML [<!ENTITY x SYSTEM '
            b'"file:///etc/passwd">]><cXML payloadID="1" timestamp="now">&x;</cXML>'
        )
        status, text = self.post_cxml(xxe)
        self.assertEqual(status, 406)
        self.assertIn("refused for security reasons", text)
        bomb = b"<cXML>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</cXML>"
        self.assertEqual(self.post_cxml(bomb)[0], 406)
        too_big = self.env["fih.cxml.intake"]._receive(
            self.backend.code, lambda: b"", 10**9
        )
        self.assertEqual(too_big.status, 406)
        self.assertFalse(self.messages())

    def test_without_the_master_key_the_answer_is_500(self):
        with (
            patch.dict(os.environ, {"FIH_MASTER_KEY": ""}),
            mute_logger(
                INTAKE, "odoo.addons.finance_integration_hub.models.fih_backend"
            ),
        ):
            status, _text = self.post_cxml(self.order())
        self.assertEqual(status, 500)
        self.assertFalse(self.messages())

    def test_an_invoice_detail_request_becomes_a_posted_bill_and_a_credit_memo_a_refund(
        self,
    ):
        self.receive(supplier_event(1))
        self.post_cxml(self.order())
        self.process()
        receipt = cxml_receipt(
            "GR-1", "PO-1", [(1, 10)], shared_secret="buyer-secret-Kx7pQ2vZ"
        )
        self.assertEqual(self.post_cxml(receipt)[0], 201)
        self.process()
        receipt_message = self.messages(event_type="goods_receipt.upsert")
        self.assertEqual(receipt_message.state, "done", receipt_message.error_message)
        invoice = cxml_invoice(
            "F-1",
            "PO-1",
            "SUP-000001",
            [(1, 1, 10, 4.0, 15)],
            currency=self.currency,
            shared_secret="supplier-secret-Kx7pQ2vZ",
        )
        self.assertEqual(self.post_cxml(invoice, self.ap)[0], 201)
        credit = cxml_invoice(
            "CN-1",
            "PO-1",
            "SUP-000001",
            [(1, 1, 2, 4.0, 15)],
            currency=self.currency,
            shared_secret="supplier-secret-Kx7pQ2vZ",
            credit_memo=True,
        )
        self.assertEqual(self.post_cxml(credit, self.ap)[0], 201)
        run_drain_job(self.ap)
        self.env.invalidate_all()
        messages = self.Message.search([("backend_id", "=", self.ap.id)], order="id")
        self.assertEqual(
            messages.mapped("state"), ["done", "done"], messages.mapped("error_message")
        )
        bill, refund = (self.move_of(m) for m in messages)
        self.assertEqual(
            (bill.move_type, bill.state, bill.amount_total),
            ("in_invoice", "posted", 46.0),
        )
        self.assertEqual(
            (refund.move_type, refund.state, refund.amount_total),
            ("in_refund", "posted", 9.2),
        )
        self.assertEqual(bill.ref, "F-1")
        # the remittance closes the cycle: the bill is paid and reconciled
        self.pay(payment_event(1, [("SUP-000001/F-1", 46.0)]))
        self.assertEqual(bill.payment_state, "paid")
        self.assertTrue(bill.line_ids.filtered("reconciled"))

    def header_credit_memo(self, number, subtotal, tax):
        """A header-level credit memo (InvoiceDetailHeaderOrder, no item
        lines: a goodwill credit on the order as a whole)."""
        currency = self.currency
        money = f'<Money currency="{currency}">%.2f</Money>'
        taxes = (
            f"<Tax>{money % tax}"
            '<Description xml:lang="en">VAT 15 %</Description>'
            '<TaxDetail purpose="tax" category="vat" percentageRate="15">'
            f"<TaxableAmount>{money % subtotal}</TaxableAmount>"
            f"<TaxAmount>{money % tax}</TaxAmount></TaxDetail></Tax>"
        )
        request = (
            "<InvoiceDetailRequest><InvoiceDetailRequestHeader "
            f'invoiceID="{number}" purpose="creditMemo" '
            'invoiceDate="2026-11-27T09:00:00+00:00">'
            '<InvoiceDetailHeaderIndicator isHeaderInvoice="yes"/>'
            "<InvoiceDetailLineIndicator/>"
            '<InvoicePartner><Contact role="from" addressID="SUP-000001">'
            '<Name xml:lang="en">Supplier</Name></Contact></InvoicePartner>'
            "</InvoiceDetailRequestHeader><InvoiceDetailHeaderOrder>"
            '<InvoiceDetailOrderInfo><OrderReference orderID="PO-1">'
            '<DocumentReference payloadID="PO-1@procurement.example"/>'
            "</OrderReference></InvoiceDetailOrderInfo>"
            '<InvoiceDetailOrderSummary invoiceLineNumber="1">'
            f"<SubtotalAmount>{money % subtotal}</SubtotalAmount>{taxes}"
            '<Comments xml:lang="en">Goodwill credit for the late delivery</Comments>'
            "</InvoiceDetailOrderSummary></InvoiceDetailHeaderOrder>"
            f"<InvoiceDetailSummary><SubtotalAmount>{money % subtotal}"
            f"</SubtotalAmount>{taxes}"
            f"<NetAmount>{money % (subtotal + tax)}</NetAmount>"
            "</InvoiceDetailSummary></InvoiceDetailRequest>"
        )
        return cxml_envelope(
            f"{number}@ap.example",
            request,
            shared_secret="supplier-secret-Kx7pQ2vZ",
            sender="AN-SUPPLIER-01",
        )

    def test_a_header_level_credit_memo_credits_the_order_to_the_cent(self):
        self.receive(supplier_event(1))
        self.post_cxml(self.order())
        self.process()
        receipt = cxml_receipt(
            "GR-1", "PO-1", [(1, 10), (2, 1)], shared_secret="buyer-secret-Kx7pQ2vZ"
        )
        self.assertEqual(self.post_cxml(receipt)[0], 201)
        self.process()
        invoice = cxml_invoice(
            "F-1",
            "PO-1",
            "SUP-000001",
            [(1, 1, 10, 4.0, 15), (2, 2, 1, 100.0, 15)],
            currency=self.currency,
            shared_secret="supplier-secret-Kx7pQ2vZ",
        )
        self.assertEqual(self.post_cxml(invoice, self.ap)[0], 201)
        self.assertEqual(
            self.post_cxml(self.header_credit_memo("CM-1", 20.0, 3.0), self.ap)[0],
            201,
        )
        run_drain_job(self.ap)
        self.env.invalidate_all()
        messages = self.Message.search([("backend_id", "=", self.ap.id)], order="id")
        self.assertEqual(
            messages.mapped("state"), ["done", "done"], messages.mapped("error_message")
        )
        bill, refund = (self.move_of(m) for m in messages)
        self.assertEqual((bill.state, bill.amount_total), ("posted", 161.0))
        self.assertEqual(refund.move_type, "in_refund")
        self.assertEqual(refund.ref, "CM-1")
        self.assertEqual(
            (refund.amount_untaxed, refund.amount_tax, refund.amount_total),
            (20.0, 3.0, 23.0),
        )
        # a credit on the order as a whole matches no order line: held for
        # the clerk with that reason, its amounts already the document's
        self.assertEqual(refund.state, "draft")
        self.assertIn(
            "Invoice line 1 is not linked to an order line", refund.fih_hold_reason
        )
        self.assertEqual(
            refund.invoice_line_ids.name, "Goodwill credit for the late delivery"
        )

    def move_of(self, message):
        """The bill or credit note ``message`` created."""
        return self.env["account.move"].browse(
            message.link_ids.filtered(
                lambda link: link.res_model == "account.move"
            ).res_id
        )

    def pay(self, event):
        event["data"]["currency"] = self.currency
        message = self.deliver(self.ap, event, self.ap_secret)
        self.assertEqual(message.state, "done", message.error_message)

    def test_a_peppol_invoice_and_credit_note_become_posted_documents(self):
        self.receive(supplier_event(1))  # company registry 0000000001
        self.post_cxml(self.order())
        self.process()
        self.receive(receipt_event(1, [("1", 10)]))
        self.process()
        invoice = ubl_invoice(
            "U-1", "PO-1", "0000000001", [(1, "1", 10, 4.0, 15)], currency=self.currency
        )
        result = self.post_ubl(invoice)
        self.assertEqual(result.status, 202, result.payload)
        self.assertEqual(result.payload["invoice"], "0208:0000000001/invoice/U-1")
        self.assertTrue(self.post_ubl(invoice).payload["duplicate"])
        credit = ubl_invoice(
            "U-C1",
            "PO-1",
            "0000000001",
            [(1, "1", 3, 4.0, 15)],
            currency=self.currency,
            credit_note=True,
        )
        self.assertEqual(self.post_ubl(credit).status, 202)
        run_drain_job(self.ap)
        self.env.invalidate_all()
        messages = self.Message.search([("backend_id", "=", self.ap.id)], order="id")
        self.assertEqual(len(messages), 2)
        self.assertEqual(
            messages.mapped("state"), ["done", "done"], messages.mapped("error_message")
        )
        order = self.env["purchase.order"].search([("partner_ref", "=", "PO-1")])
        bills = order.invoice_ids.sorted("id")
        self.assertEqual(bills.mapped("move_type"), ["in_invoice", "in_refund"])
        self.assertEqual(bills.mapped("state"), ["posted", "posted"])
        self.assertEqual(bills.mapped("amount_total"), [46.0, 13.8])
        self.assertIn("<cbc:ID>U-1</cbc:ID>", messages[0].source_document)
        self.pay(payment_event(1, [("0208:0000000001/invoice/U-1", 46.0)]))
        self.assertEqual(bills[0].payment_state, "paid")

    def test_ubl_documents_are_identified_by_type_supplier_and_number(self):
        """Documents are identified by type, supplier and number: a credit note
        numbered like its invoice is a document of its own, an identical
        re-send is a duplicate, and another content under the same identity
        is a visible 409, never a silent success."""
        self.receive(supplier_event(1))
        self.post_cxml(self.order())
        self.process()
        self.receive(receipt_event(1, [("1", 10)]))
        self.process()
        lines = [(1, "1", 10, 4.0, 15)]
        invoice = ubl_invoice(
            "U-7", "PO-1", "0000000001", lines, currency=self.currency
        )
        credit = ubl_invoice(
            "U-7",
            "PO-1",
            "0000000001",
            [(1, "1", 2, 4.0, 15)],
            currency=self.currency,
            credit_note=True,
        )
        self.assertEqual(self.post_ubl(invoice).status, 202)
        answer = self.post_ubl(credit)
        self.assertEqual(answer.status, 202, answer.payload)
        self.assertFalse(answer.payload["duplicate"])
        self.assertEqual(answer.payload["invoice"], "0208:0000000001/credit_note/U-7")
        again = self.post_ubl(invoice)
        self.assertEqual((again.status, again.payload["duplicate"]), (202, True))
        changed = ubl_invoice(
            "U-7", "PO-1", "0000000001", [(1, "1", 9, 4.0, 15)], currency=self.currency
        )
        conflict = self.post_ubl(changed)
        self.assertEqual(conflict.status, 409, conflict.payload)
        self.assertIn("different content", conflict.payload["message"])
        run_drain_job(self.ap)
        self.env.invalidate_all()
        order = self.env["purchase.order"].search([("partner_ref", "=", "PO-1")])
        bills = order.invoice_ids.sorted("id")
        self.assertEqual(bills.mapped("move_type"), ["in_invoice", "in_refund"])
        self.assertEqual(bills.mapped("amount_total"), [46.0, 9.2])

    def test_unsigned_wrong_type_or_unreadable_ubl_is_refused(self):
        invoice = ubl_invoice(
            "U-1", "PO-1", "0000000001", [(1, "1", 1, 4.0, 15)], currency=self.currency
        )
        self.assertEqual(self.post_ubl(invoice, secret="whsec_" + "B" * 32).status, 401)
        self.assertEqual(
            self.post_ubl(invoice, content_type="application/json").status, 415
        )
        order = b'<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"/>'
        result = self.post_ubl(order)
        self.assertEqual(result.status, 400)
        self.assertIn("not an Invoice or a CreditNote", result.payload["message"])
        self.assertFalse(self.Message.search([("backend_id", "=", self.ap.id)]))

    def test_a_ship_notice_announces_the_delivery_without_receiving_it(self):
        self.receive(supplier_event(1))
        self.post_cxml(self.order())
        self.process()
        notice = (
            b'<?xml version="1.0"?><cXML payloadID="asn-1@supplier" '
            b'timestamp="2026-11-26T09:00:00+00:00"><Header><From><Credential '
            b'domain="NetworkID"><Identity>AN-SUP</Identity></Credential></From>'
            b'<To><Credential domain="NetworkID"><Identity>AN-HUB</Identity>'
            b'</Credential></To><Sender><Credential domain="NetworkID"><Identity>'
            b"AN-SUP</Identity><SharedSecret>buyer-secret-Kx7pQ2vZ</SharedSecret>"
            b"</Credential><UserAgent>x</UserAgent></Sender></Header><Request>"
            b'<ShipNoticeRequest><ShipNoticeHeader shipmentID="SHIP-1" '
            b'noticeDate="2026-11-26T09:00:00+00:00" '
            b'deliveryDate="2026-11-28T09:00:00+00:00" operation="new"/>'
            b'<ShipNoticePortion><OrderReference orderID="PO-1"/>'
            b'<ShipNoticeItem quantity="10" lineNumber="1"><UnitOfMeasure>EA'
            b"</UnitOfMeasure></ShipNoticeItem></ShipNoticePortion>"
            b"</ShipNoticeRequest></Request></cXML>"
        )
        status, text = self.post_cxml(notice)
        self.assertEqual(status, 201, text)
        self.process()
        message = self.messages(event_type="ship_notice.upsert")
        self.assertEqual(message.state, "done", message.error_message)
        order = self.env["purchase.order"].search([("partner_ref", "=", "PO-1")])
        picking = order.picking_ids
        self.assertEqual(str(picking.scheduled_date.date()), "2026-11-28")
        self.assertEqual(order.order_line.mapped("qty_received"), [0.0, 0.0])
        self.assertIn("SHIP-1", picking.message_ids[0].body)

    def test_a_ship_notice_of_two_orders_announces_each_on_its_receipt(self):
        """Fulfill DTD: a ShipNoticePortion per order; the second ships whole."""
        self.receive(supplier_event(1))
        self.post_cxml(self.order())
        self.post_cxml(
            cxml_order_request(
                "PO-2",
                "SUP-000001",
                ORDER_LINES,
                currency=self.currency,
                shared_secret="buyer-secret-Kx7pQ2vZ",
            )
        )
        self.process()
        notice = (
            b'<?xml version="1.0"?><cXML payloadID="asn-2@supplier" '
            b'timestamp="2026-11-26T09:00:00+00:00"><Header><From><Credential '
            b'domain="NetworkID"><Identity>AN-SUP</Identity></Credential></From>'
            b'<To><Credential domain="NetworkID"><Identity>AN-HUB</Identity>'
            b'</Credential></To><Sender><Credential domain="NetworkID"><Identity>'
            b"AN-SUP</Identity><SharedSecret>buyer-secret-Kx7pQ2vZ</SharedSecret>"
            b"</Credential><UserAgent>x</UserAgent></Sender></Header><Request>"
            b'<ShipNoticeRequest><ShipNoticeHeader shipmentID="SHIP-2" '
            b'noticeDate="2026-11-26T09:00:00+00:00" '
            b'deliveryDate="2026-11-28T09:00:00+00:00" operation="new"/>'
            b'<ShipNoticePortion><OrderReference orderID="PO-1"/>'
            b'<ShipNoticeItem quantity="10" lineNumber="1"><UnitOfMeasure>EA'
            b"</UnitOfMeasure></ShipNoticeItem></ShipNoticePortion>"
            b'<ShipNoticePortion><OrderReference orderID="PO-2"/>'
            b"</ShipNoticePortion></ShipNoticeRequest></Request></cXML>"
        )
        status, text = self.post_cxml(notice)
        self.assertEqual(status, 201, text)
        self.process()
        message = self.messages(event_type="ship_notice.upsert")
        self.assertEqual(message.state, "done", message.error_message)
        orders = self.env["purchase.order"].search(
            [("partner_ref", "in", ("PO-1", "PO-2"))], order="partner_ref"
        )
        self.assertEqual(len(orders), 2)
        for order in orders:
            picking = order.picking_ids
            self.assertEqual(str(picking.scheduled_date.date()), "2026-11-28")
            self.assertEqual(order.order_line.mapped("qty_received"), [0.0, 0.0])
            self.assertIn("SHIP-2", picking.message_ids[0].body)
        self.assertIn("the whole order", orders[1].picking_ids.message_ids[0].body)
        self.assertNotIn("the whole order", orders[0].picking_ids.message_ids[0].body)
        self.assertEqual(len(message.link_ids), 2)

    def test_a_receipt_counting_goods_of_another_order_is_refused(self):
        """Only a ship notice announces several orders; a receipt counts one."""
        self.receive(supplier_event(1))
        self.post_cxml(self.order())
        self.process()
        event = receipt_event(1, [("1", 5)])
        event["data"]["lines"].append(
            {"po_line_id": "1", "quantity": 2, "purchase_order_external_id": "PO-9"}
        )
        self.receive(event)
        self.process()
        message = self.messages(event_type="goods_receipt.upsert")
        self.assertEqual(message.state, "failed")
        self.assertIn("Send one receipt per order", message.error_message)
        order = self.env["purchase.order"].search([("partner_ref", "=", "PO-1")])
        self.assertEqual(order.order_line.mapped("qty_received"), [0.0, 0.0])

    def test_an_unexpected_error_is_answered_in_cxml(self):
        def broken(*_args, **_kwargs):
            raise RuntimeError("disk full")

        with (
            patch(f"{INTAKE}.FihCxmlIntake._store", broken),
            mute_logger(INTAKE),
        ):
            status, text = self.post_cxml(self.order())
        self.assertEqual(status, 500)
        self.assertIn("send it again later", text)
