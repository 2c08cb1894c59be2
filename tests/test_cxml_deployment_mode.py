"""cXML ``deploymentMode``: a supplier's or a buyer's test document
(``deploymentMode="test"``) is refused by a connection marked Production and
by a production database, before anything is stored; it never becomes a
purchase order or a bill due for payment. A test connection takes both."""

from unittest.mock import patch

from odoo.tests import HttpCase, tagged
from odoo.tools import config, mute_logger

from ..lib import safe_xml
from ..simulator.p2p_documents import cxml_invoice, cxml_order_request, cxml_receipt
from .common import BackendMixin, FihTransactionCase, run_drain_job, supplier_event

INTAKE = "odoo.addons.finance_integration_hub.models.fih_cxml_intake"
BUYER_SECRET = "buyer-secret-Dm4pQ8vZ"
SUPPLIER_SECRET = "supplier-secret-Dm4pQ8vZ"
ORDER_LINES = [(1, "PAPER", "Paper A4", 10, 4.0, 15)]


def order(mode="production", secret=BUYER_SECRET, currency="USD"):
    return cxml_order_request(
        "PO-1",
        "SUP-000001",
        ORDER_LINES,
        currency=currency,
        shared_secret=secret,
        deployment_mode=mode,
    )


@tagged("post_install", "-at_install")
class TestCxmlDeploymentMode(FihTransactionCase):
    """The buyer's and the supplier's connections are marked Production."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_cxml_trading(BUYER_SECRET, SUPPLIER_SECRET, environment="prod")

    def order(self, mode="production", secret=BUYER_SECRET):
        return order(mode, secret, self.currency)

    def invoice(self, mode):
        return cxml_invoice(
            "F-TEST-1",
            "PO-1",
            "SUP-000001",
            [(1, 1, 10, 4.0, 15)],
            currency=self.currency,
            shared_secret=SUPPLIER_SECRET,
            deployment_mode=mode,
        )

    def receipted_order(self):
        """PO-1 ordered and received in production, ready to be billed."""
        self.receive(supplier_event(1))
        self.assertEqual(self.post_cxml(self.order())[0], 201)
        self.process()
        receipt = cxml_receipt(
            "GR-1",
            "PO-1",
            [(1, 10)],
            shared_secret=BUYER_SECRET,
            deployment_mode="production",
        )
        self.assertEqual(self.post_cxml(receipt)[0], 201)
        self.process()
        self.assertEqual(self.messages().mapped("state"), ["done", "done", "done"])

    def bills(self):
        return self.env["account.move"].search([("ref", "=", "F-TEST-1")])

    def assert_test_document_refused(self, status, text, where):
        self.assertEqual(status, 406, text)
        self.assertIn('marked as a test (deploymentMode="test")', text)
        self.assertIn(f"sent to {where}; nothing was booked", text)
        self.assertIn("Send test documents to the test connection", text)

    def test_a_test_invoice_to_the_production_connection_is_refused_never_booked(
        self,
    ):
        self.receipted_order()
        with self.assertLogs(INTAKE, "WARNING") as logs:
            status, text = self.post_cxml(self.invoice("test"), self.ap)
        self.assert_test_document_refused(status, text, "the production connection")
        self.assertIn("F-TEST-1@ap.example", logs.output[0])
        self.assertFalse(self.Message.search([("backend_id", "=", self.ap.id)]))
        run_drain_job(self.ap)
        self.env.invalidate_all()
        self.assertFalse(self.bills())

    def test_the_refused_invoice_sent_again_as_production_is_booked_once(self):
        self.receipted_order()
        with mute_logger(INTAKE):
            self.assertEqual(self.post_cxml(self.invoice("test"), self.ap)[0], 406)
        # the same payloadID: the refusal kept nothing that blocks it
        self.assertEqual(self.post_cxml(self.invoice("production"), self.ap)[0], 201)
        run_drain_job(self.ap)
        self.env.invalidate_all()
        bill = self.bills()
        self.assertEqual(
            (len(bill), bill.move_type, bill.state, bill.amount_total),
            (1, "in_invoice", "posted", 46.0),
        )

    def test_a_test_order_to_the_production_connection_creates_no_purchase_order(
        self,
    ):
        self.receive(supplier_event(1))
        self.process()
        orders_before = self.env["purchase.order"].search_count([])
        with mute_logger(INTAKE):
            status, text = self.post_cxml(self.order("test"))
        self.assert_test_document_refused(status, text, "the production connection")
        self.process()
        self.assertFalse(self.messages(event_type="purchase_order.upsert"))
        self.assertEqual(self.env["purchase.order"].search_count([]), orders_before)

    def test_a_document_without_deployment_mode_is_a_production_document(self):
        body = self.order(mode=None)
        self.assertNotIn(b"deploymentMode", body)
        self.receive(supplier_event(1))
        self.assertEqual(self.post_cxml(body)[0], 201)
        self.process()
        message = self.messages(event_type="purchase_order.upsert")
        self.assertEqual(message.state, "done", message.error_message)

    def test_a_test_connection_takes_production_and_test_documents(self):
        self.backend.environment = "test"
        self.receive(supplier_event(1))
        self.assertEqual(self.post_cxml(self.order("production"))[0], 201)
        test_order = cxml_order_request(
            "PO-2",
            "SUP-000001",
            ORDER_LINES,
            currency=self.currency,
            shared_secret=BUYER_SECRET,
            deployment_mode="test",
        )
        self.assertEqual(self.post_cxml(test_order)[0], 201)
        self.process()
        self.assertEqual(
            self.messages(event_type="purchase_order.upsert").mapped("state"),
            ["done", "done"],
        )

    def test_a_production_database_refuses_test_documents_even_on_a_test_connection(
        self,
    ):
        self.backend.environment = "test"
        with (
            patch.dict(config.options, {"fih_environment": "prod"}),
            mute_logger(INTAKE),
        ):
            status, text = self.post_cxml(self.order("test"))
            self.assert_test_document_refused(status, text, "the production system")
            self.assertFalse(self.messages())
            # a production document is still taken
            self.assertEqual(self.post_cxml(self.order("production"))[0], 201)
        self.assertEqual(len(self.messages()), 1)

    def test_a_wrong_shared_secret_is_401_whatever_the_deployment_mode(self):
        status, text = self.post_cxml(self.order("test", secret="guess"))
        self.assertEqual(status, 401)
        self.assertNotIn("test", text)
        self.assertFalse(self.messages())


@tagged("post_install", "-at_install")
class TestCxmlDeploymentModeOverHttp(BackendMixin, HttpCase):
    """The refusal through ``POST /finance_hub/cxml/<backend>`` itself."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls._setup_backend(
            code="deployment-mode-buyer", environment="prod"
        )
        cls.backend.cxml_shared_secret = BUYER_SECRET

    def test_a_test_order_posted_to_a_production_connection_is_answered_406(self):
        with mute_logger(INTAKE):
            response = self.opener.post(
                f"{self.base_url()}/finance_hub/cxml/{self.backend.code}",
                data=order("test", currency=self.env.company.currency_id.name),
                headers={"Content-Type": "text/xml; charset=utf-8"},
                timeout=60,
            )
        self.assertEqual(response.status_code, 406)
        status = safe_xml.parse(response.content).find("Response/Status")
        self.assertEqual(status.get("code"), "406")
        self.assertIn("sent to the production connection", status.text)
        self.assertFalse(
            self.env["fih.message"].search([("backend_id", "=", self.backend.id)])
        )
