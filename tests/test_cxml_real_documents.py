from pathlib import Path
from unittest import SkipTest

from odoo.tests import tagged

from ..simulator.cxml_fulfill import cxml_confirmation, cxml_payment_remittance
from ..simulator.p2p_documents import cxml_invoice, cxml_order_request, cxml_receipt
from .common import FihTransactionCase, run_drain_job, supplier_event

# public real-world documents, read in place (never copied into the repository)
CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "cxml"
SECRET = "buyer-secret-Kx7pQ2vZ"


def public_document(name, secret=SECRET):
    """A public cXML document with its shared secret replaced by ``secret``."""
    path = CORPUS / name
    if not path.exists():
        raise SkipTest(
            f"the public corpus is not here ({path}); it lives in shared/corpus "
            "beside the repository"
        )
    data = path.read_bytes()
    for original in (b"coyote", b"abracadabra", b"Secret!123"):
        data = data.replace(
            b"<SharedSecret>" + original + b"</SharedSecret>",
            b"<SharedSecret>" + secret.encode() + b"</SharedSecret>",
        )
    return data


class CxmlCase(FihTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend.cxml_shared_secret = SECRET
        cls.currency = cls.env.company.currency_id.name

    def accepted(self, body, backend=None):
        status, text = self.post_cxml(body, backend)
        self.assertEqual(status, 201, text)
        run_drain_job(backend or self.backend)
        self.env.invalidate_all()
        return self.Message.search(
            [("backend_id", "=", (backend or self.backend).id)],
            order="id desc",
            limit=1,
        )

    def order_by_reference(self, reference):
        return self.env["purchase.order"].search([("partner_ref", "=", reference)])


@tagged("post_install", "-at_install")
class TestPublicCxmlDocuments(CxmlCase):
    """The public OrderRequest and ShipNoticeRequest through the endpoint."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.ref("base.EUR").active = True
        cls.supplier = cls.env["res.partner"].create(
            {"name": "Supplier Inc", "supplier_rank": 1}
        )
        cls.other_supplier = cls.env["res.partner"].create(
            {"name": "Acme Test Supplies", "supplier_rank": 1}
        )
        # the suppliers' network ids, as the company knows them
        cls.env["fih.value.map"].create(
            {
                "name": "Suppliers on the network",
                "code": "suppliers",
                "backend_id": cls.backend.id,
                "target_model": "res.partner",
                "entry_ids": [
                    (
                        0,
                        0,
                        {
                            "external_value": "NetworkId:supplier@supplier.com",
                            "record_ref": f"res.partner,{cls.supplier.id}",
                        },
                    ),
                    (
                        0,
                        0,
                        {
                            "external_value": "AN00000456",  # the identity alone
                            "record_ref": f"res.partner,{cls.other_supplier.id}",
                        },
                    ),
                ],
            }
        )
        cls.items = cls.env["product.product"].create(
            [
                {"name": "Item 1", "default_code": "1233244", "type": "consu"},
                {"name": "Item 2", "default_code": "1233245", "type": "consu"},
            ]
        )

    def test_the_public_order_request_becomes_a_confirmed_purchase_order(self):
        message = self.accepted(public_document("OrderRequest.xml"))
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(message.event_type, "purchase_order.upsert")
        order = self.order_by_reference("DO1234")
        self.assertEqual(
            (order.state, order.partner_id, order.currency_id.name),
            ("purchase", self.supplier, "EUR"),
        )
        self.assertEqual(
            [
                (
                    line.product_id,
                    line.product_qty,
                    line.price_unit,
                    line.price_subtotal,
                )
                for line in order.order_line.sorted("fih_external_line_id")
            ],
            [(self.items[0], 10.0, 2.1, 21.0), (self.items[1], 20.0, 3.2, 64.0)],
        )
        self.assertEqual(order.amount_untaxed, 85.0)  # the stated Total
        self.assertEqual(order.amount_total, 85.0)  # the order states no tax
        self.assertEqual(
            {str(line.date_planned.date()) for line in order.order_line},
            {"2020-02-28"},
        )
        self.assertEqual(
            order.fih_approved_by, "NetworkId:inbound@prominate-platform.com"
        )
        self.assertNotIn(SECRET, message.source_document)

    def test_the_public_ship_notice_announces_the_whole_order_on_its_receipt(self):
        self.accepted(public_document("OrderRequest.xml"))
        order = self.order_by_reference("DO1234")
        message = self.accepted(public_document("ShipNoticeRequest.xml"))
        self.assertEqual(
            (message.event_type, message.state),
            ("ship_notice.upsert", "done"),
            message.error_message,
        )
        picking = order.picking_ids
        self.assertEqual(str(picking.scheduled_date.date()), "2000-10-18")
        note = picking.message_ids[0].body
        self.assertIn("AN00000123/S2-123", note)
        self.assertIn("the whole order", note)
        self.assertIn("10.0 Units x hello from item 1", note)
        self.assertIn("20.0 Units x hello from item 2", note)
        # announced, not received: only the buyer's receipt receives
        self.assertEqual(order.order_line.mapped("qty_received"), [0.0, 0.0])
        self.assertEqual(picking.state, "assigned")

    def test_a_goods_receipt_of_the_whole_order_must_count_its_lines(self):
        """Only a ship notice may announce a whole order; a receipt counts."""
        self.accepted(public_document("OrderRequest.xml"))
        event = {
            "id": "evt-gr-whole",
            "type": "goods_receipt.upsert",
            "occurred_at": "2000-10-18T10:00:00Z",
            "data": {
                "external_id": "GR-WHOLE",
                "purchase_order_external_id": "DO1234",
                "receipt_date": "2000-10-18",
                "kind": "goods",
                "whole_order": True,
            },
        }
        self.assertEqual(self.receive(event).status, 202)
        self.process()
        message = self.messages(idempotency_key="evt-gr-whole")
        self.assertEqual((message.state, message.error_kind), ("failed", "business"))
        self.assertIn("without counting it", message.error_message)
        order = self.order_by_reference("DO1234")
        self.assertEqual(order.order_line.mapped("qty_received"), [0.0, 0.0])

    def test_the_handling_order_reaches_the_supplier_named_by_its_identity(self):
        message = self.accepted(public_document("OrderRequest-handling.xml"))
        self.assertEqual(message.state, "done", message.error_message)
        order = self.order_by_reference("acme-1-1")
        self.assertEqual(order.partner_id, self.other_supplier)
        self.assertEqual(order.amount_untaxed, 10.0)
        self.assertEqual(str(order.order_line.date_planned.date()), "2025-01-28")

    def test_an_order_of_an_unknown_network_supplier_waits_and_says_where_to_add_it(
        self,
    ):
        data = public_document("OrderRequest.xml").replace(
            b"supplier@supplier.com", b"newcomer@supplier.com"
        )
        message = self.accepted(data)
        self.assertEqual((message.state, message.error_kind), ("received", "transient"))
        self.assertIn("NetworkId:newcomer@supplier.com", message.error_message)
        self.assertIn("cross-reference table 'suppliers'", message.error_message)

    def test_the_builder_order_without_a_shared_secret_is_unauthorized(self):
        data = public_document("OrderRequest-builder.xml")
        self.assertEqual(
            self.post_cxml(data),
            (401, "The Sender credential's SharedSecret is wrong."),
        )
        self.assertFalse(self.messages())

    def test_a_total_the_lines_do_not_add_up_to_is_refused_with_both_figures(self):
        data = public_document("OrderRequest.xml").replace(
            b'<Money currency="EUR">85.00</Money>',
            b'<Money currency="EUR">58.00</Money>',
        )
        status, text = self.post_cxml(data)
        self.assertEqual(status, 406)
        self.assertIn("the total of the order DO1234 is 58.00 EUR", text)
        self.assertIn("its lines add up to 85.00 EUR", text)
        self.assertFalse(self.messages())

    def test_unhandled_document_types_are_answered_406_naming_them(self):
        data = public_document("ShipNoticeRequest.xml")
        start = data.index(b"<ShipNoticeRequest>")
        end = data.index(b"</ShipNoticeRequest>") + len(b"</ShipNoticeRequest>")
        for kind in (b"QuoteRequest", b"StatusUpdateRequest", b"ProfileRequest"):
            with self.subTest(kind=kind):
                body = data[:start] + b"<" + kind + b"/>" + data[end:]
                body = body.replace(b"0c30050@", b"0c30050." + kind + b"@")
                status, text = self.post_cxml(body)
                self.assertEqual(status, 406)
                self.assertIn(f"cannot process {kind.decode()} documents", text)
        self.assertFalse(self.messages())

    def test_mutated_public_documents_are_always_answered_with_a_cxml_status(self):
        order = public_document("OrderRequest.xml")
        notice = public_document("ShipNoticeRequest.xml")
        mutations = [
            (order, b'quantity="10"', b'quantity="ten"', 406),
            (order, b'quantity="10"', b'quantity="1e400"', 406),
            (order, b'quantity="20"', b'quantity="-20"', 406),
            (order, b'<Money currency="EUR">2.10', b'<Money currency="EUR">NaN', 406),
            (order, b'orderDate="2000-10-12T18:41:29-08:00"', b'orderDate="soon"', 406),
            (order, b'orderID="DO1234"', b'orderID=""', 406),
            (order, b'orderID="DO1234"', b'orderID="' + b"D" * 300 + b'"', 406),
            (order, b'lineNumber="2"', b'lineNumber="1"', 406),
            (order, b"<Identity>supplier@supplier.com", b"<Identity>", 406),
            (order, b'encoding="UTF-8"', b'encoding="ISO-8859-1"', 406),
            (order, b"</cXML>", b"", 406),
            (
                notice,
                b'deliveryDate="2000-10-18T09:00:00-08:00"',
                b'deliveryDate="x"',
                406,
            ),
            (notice, b'shipmentID="S2-123"', b'shipmentID=" "', 406),
            (notice, b'orderID="DO1234"', b'orderID="DO1234" orderDate="never"', 201),
        ]
        for index, (data, old, new, expected) in enumerate(mutations):
            with self.subTest(new=new[:40]):
                self.assertIn(old, data)
                body = data.replace(old, new).replace(
                    b'payloadID="', b'payloadID="m%d.' % index, 1
                )
                status, text = self.post_cxml(body)
                self.assertEqual(status, expected, text)
        # the same order in UTF-16, with a byte-order mark: read as it is
        utf16 = order.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
        status, text = self.post_cxml(utf16.encode("utf-16"))
        self.assertEqual(status, 201, text)


@tagged("post_install", "-at_install")
class TestCxmlConfirmationsAndRemittances(CxmlCase):
    """ConfirmationRequest and PaymentRemittanceRequest end to end."""

    LINES = [
        (1, "PAPER", "Paper A4", 10, 4.0, 15),
        (2, "PAPER", "Paper A4, second delivery", 5, 4.0, 15),
    ]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ap, _secret = cls._setup_other_backend(code="test-ap", kind="ap_automation")
        cls.ap.cxml_shared_secret = "supplier-secret-Kx7pQ2vZ"
        cls.paper = cls.env["product.product"].create(
            {
                "name": "Paper A4",
                "default_code": "PAPER",
                "type": "consu",
                "is_storable": True,
                "purchase_method": "receive",
            }
        )

    def setUp(self):
        super().setUp()
        self.assertEqual(self.receive(supplier_event(1)).status, 202)
        message = self.accepted(
            cxml_order_request(
                "PO-1",
                "SUP-000001",
                self.LINES,
                currency=self.currency,
                shared_secret=SECRET,
            )
        )
        self.assertEqual(message.state, "done", message.error_message)
        self.order = self.order_by_reference("PO-1")
        self.line_1, self.line_2 = self.order.order_line.sorted("fih_external_line_id")

    def confirm(self, lines, **kwargs):
        message = self.accepted(
            cxml_confirmation(
                "PO-1", lines, shared_secret=SECRET, currency=self.currency, **kwargs
            )
        )
        self.assertEqual(message.event_type, "order_confirmation.upsert")
        return message

    def decisions(self):
        return self.order.activity_ids.filtered(
            lambda activity: activity.summary.startswith("Supplier's confirmation")
        )

    def test_an_accepted_order_gets_the_suppliers_dates_and_no_activity(self):
        message = self.confirm(
            [
                (1, 10, [("accept", 10, "2026-12-10")]),
                (2, 5, [("accept", 5, "2026-12-17")]),
            ]
        )
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(str(self.line_1.date_planned.date()), "2026-12-10")
        self.assertEqual(str(self.line_2.date_planned.date()), "2026-12-17")
        # the receipt's deadlines follow the expected arrival
        self.assertEqual(str(self.line_2.move_ids.date_deadline.date()), "2026-12-17")
        self.assertTrue(self.order.mail_reception_confirmed)
        self.assertFalse(self.decisions())
        self.assertIn("CONF-1", self.order.message_ids[0].body)

    def test_a_rejected_line_reaches_the_buyer_with_the_suppliers_comments(self):
        message = self.confirm(
            [
                (1, 10, [("detail", 10, "2026-12-10")]),
                (2, 5, [("reject", 5, None, None, "Sold out until March")]),
            ],
            comments="One delivery only",
        )
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(str(self.line_1.date_planned.date()), "2026-12-10")
        (activity,) = self.decisions()
        self.assertEqual(activity.user_id, self.backend._exception_user())
        self.assertIn("Line 2", activity.note)
        self.assertIn("5.0 Units of 5.0 rejected", activity.note)
        self.assertIn("Sold out until March", activity.note)
        self.assertIn("One delivery only", activity.note)
        # the order itself is not changed: the buyer decides
        self.assertEqual(
            (self.line_2.product_qty, self.order.amount_untaxed), (5.0, 60.0)
        )

    def test_a_rejected_order_is_declined_and_reaches_the_buyer(self):
        message = self.confirm([], comments="We no longer sell paper.")
        self.assertEqual(message.state, "done", message.error_message)
        self.assertTrue(self.order.mail_reception_declined)
        self.assertEqual(self.order.state, "purchase")
        (activity,) = self.decisions()
        self.assertIn("rejected the whole order", activity.note)
        self.assertIn("We no longer sell paper.", activity.note)

    def test_a_confirmed_price_change_is_a_decision_not_a_new_price(self):
        message = self.confirm(
            [(1, 10, [("detail", 10, None, 4.4)]), (2, 5, [("accept", 5)])]
        )
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(self.line_1.price_unit, 4.0)
        (activity,) = self.decisions()
        self.assertIn("confirmed at 4.4", activity.note)
        self.assertIn("instead of 4.0", activity.note)

    def test_a_confirmation_of_a_line_the_order_does_not_have_is_an_exception(self):
        planned = self.line_1.date_planned
        message = self.confirm(
            [(1, 10, [("accept", 10, "2026-12-10")]), (7, 1, [("accept", 1)])]
        )
        self.assertEqual((message.state, message.error_kind), ("failed", "business"))
        self.assertIn("has no such line", message.error_message)
        self.assertEqual(self.line_1.date_planned, planned)  # nothing applied

    def post_bill(self):
        receipt = cxml_receipt("GR-1", "PO-1", [(1, 10), (2, 5)], shared_secret=SECRET)
        self.assertEqual(self.accepted(receipt).state, "done")
        invoice = cxml_invoice(
            "F-1",
            "PO-1",
            "SUP-000001",
            [(1, 1, 10, 4.0, 15), (2, 2, 5, 4.0, 15)],
            currency=self.currency,
            shared_secret="supplier-secret-Kx7pQ2vZ",
        )
        message = self.accepted(invoice, self.ap)
        self.assertEqual(message.state, "done", message.error_message)
        bill = self.env["account.move"].search([("ref", "=", "F-1")])
        self.assertEqual((bill.state, bill.amount_total), ("posted", 69.0))
        return bill

    def remit(self, allocations, remittance_id="PAY-1"):
        return self.accepted(
            cxml_payment_remittance(
                remittance_id,
                "SUP-000001",
                allocations,
                currency=self.currency,
                shared_secret="supplier-secret-Kx7pQ2vZ",
            ),
            self.ap,
        )

    def test_a_payment_remittance_pays_the_posted_bill(self):
        bill = self.post_bill()
        message = self.remit([("F-1", 69.0)])
        self.assertEqual(
            (message.event_type, message.state),
            ("payment.upsert", "done"),
            message.error_message,
        )
        self.assertEqual((bill.payment_state, bill.amount_residual), ("paid", 0.0))
        payment = self.env["account.payment"].search(
            [("fih_external_reference", "=", "PAY-1")]
        )
        self.assertEqual(
            (payment.amount, payment.partner_id, str(payment.date)),
            (69.0, bill.partner_id, "2026-12-01"),
        )
        payable = bill.line_ids.filtered(
            lambda line: line.account_id.account_type == "liability_payable"
        )
        self.assertTrue(payable.reconciled)
        self.assertEqual(payable.balance, -69.0)

    def test_a_partial_remittance_leaves_the_rest_of_the_bill_open(self):
        bill = self.post_bill()
        message = self.remit([("F-1", 20.0)])
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual((bill.payment_state, bill.amount_residual), ("partial", 49.0))

    def test_a_remittance_that_does_not_add_up_is_refused_at_once(self):
        self.post_bill()
        body = cxml_payment_remittance(
            "PAY-2",
            "SUP-000001",
            [("F-1", 20.0)],
            currency=self.currency,
            shared_secret="supplier-secret-Kx7pQ2vZ",
        ).replace(
            b">20.00</Money></NetAmount></PaymentRemittanceSummary>",
            b">25.00</Money></NetAmount></PaymentRemittanceSummary>",
        )
        status, text = self.post_cxml(body, self.ap)
        self.assertEqual(status, 406)
        self.assertIn("pays 25.00", text)
        self.assertIn("add up to 20.00", text)
