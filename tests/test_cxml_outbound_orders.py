import json
from pathlib import Path
from unittest import SkipTest

from lxml import etree

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from ..lib import safe_xml
from .common import FihTransactionCase

DTDS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "cxml" / "dtd"


def dtd_errors(version, body):
    """What the cXML.dtd of ``version`` (public corpus) finds wrong in ``body``."""
    path = DTDS / version / "cXML.dtd"
    if not path.exists():
        raise SkipTest(f"the public cXML DTDs are not here ({path})")
    dtd = etree.DTD(str(path))
    dtd.validate(safe_xml.parse(body))
    return [error.message for error in dtd.error_log.filter_from_errors()]


@tagged("post_install", "-at_install")
class TestCxmlOutboundOrders(FihTransactionCase):
    """The orders the hub sends in cXML are valid against the DTD of the
    version the backend declares; what the DTD requires comes from Odoo."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.network = cls.env["fih.backend"].create(
            {
                "name": "Supplier network",
                "code": "network",
                "cxml_from_identity": "ACME-BUYER",
                "cxml_to_identity": "NETWORK-1",
                "cxml_version": "1.2.050",
            }
        )
        cls.network.cxml_shared_secret = "s3cr3t-shared-Kx7pQ2vZ"
        for event in (
            "purchase_order.confirmed",
            "purchase_order.changed",
            "purchase_order.cancelled",
        ):
            cls.env["fih.subscription"].create(
                {
                    "backend_id": cls.network.id,
                    "event_code": event,
                    "endpoint_path": "/cxml",
                    "payload_format": "cxml_order_request",
                }
            )
        cls.company = cls.env.company
        cls.company.partner_id.write(
            {
                "street": "1 Rue Royale",
                "city": "Brussels",
                "zip": "1000",
                "country_id": cls.env.ref("base.be").id,
                "email": "info@acme.example",
            }
        )
        cls.invoicing = cls.env["res.partner"].create(
            {
                "name": "Accounts payable",
                "type": "invoice",
                "parent_id": cls.company.partner_id.id,
                "street": "5 Invoice Lane",
                "city": "Ghent",
                "zip": "9000",
                "country_id": cls.env.ref("base.be").id,
                "email": "ap@acme.example",
            }
        )
        office = cls.env["product.category"].create({"name": "Office"})
        paper = cls.env["product.category"].create(
            {"name": "Paper", "parent_id": office.id}
        )
        furniture = cls.env["product.category"].create({"name": "Furniture"})
        cls.env["fih.value.map"].create(
            {
                "name": "UNSPSC codes",
                "code": "unspsc",
                "target_model": "product.category",
                "entry_ids": [
                    (
                        0,
                        0,
                        {
                            "external_value": "44120000",  # office supplies
                            "record_ref": f"product.category,{office.id}",
                        },
                    )
                ],
            }
        )
        cls.paper = cls.env["product.product"].create(
            {"name": "Paper A4", "default_code": "PAP-A4", "categ_id": paper.id}
        )
        cls.chair = cls.env["product.product"].create(
            {"name": "Desk chair", "default_code": "CHAIR", "categ_id": furniture.id}
        )
        plan = cls.env["account.analytic.plan"].create({"name": "Cost centres"})
        cls.marketing = cls.env["account.analytic.account"].create(
            {"name": "Marketing", "code": "CC100", "plan_id": plan.id}
        )
        cls.supplier = cls.env["res.partner"].create(
            {"name": "Paper & Co", "supplier_rank": 1}
        )

    def sent(self, event):
        """The cXML the hub sends for the network's ``event`` message."""
        message = self.env["fih.message"].search(
            [("backend_id", "=", self.network.id), ("event_type", "=", event)],
            order="id desc",
            limit=1,
        )
        self.assertTrue(message, event)
        body, content_type = self.env["fih.delivery"]._render(self.network, message)
        self.assertTrue(content_type.startswith("text/xml"))
        return message, body

    def confirmed_order(self):
        order = self.env["purchase.order"].create(
            {
                "partner_id": self.supplier.id,
                "order_line": [
                    (
                        0,
                        0,
                        {
                            "product_id": self.paper.id,
                            "product_qty": 10,
                            "price_unit": 24.9,
                            "analytic_distribution": {str(self.marketing.id): 100},
                        },
                    ),
                    (
                        0,
                        0,
                        {
                            "product_id": self.chair.id,
                            "product_qty": 1,
                            "price_unit": 120,
                        },
                    ),
                ],
            }
        )
        order.button_confirm()
        return order

    def test_a_new_order_carries_bill_to_classification_and_cost_center_name(self):
        self.confirmed_order()
        message, body = self.sent("purchase_order.confirmed")
        data = json.loads(message.payload)["data"]
        self.assertEqual(
            data["bill_to"],
            {
                "name": self.company.name,
                "street": "5 Invoice Lane",
                "zip": "9000",
                "city": "Ghent",
                "country_code": "BE",
                "email": "ap@acme.example",
            },
        )
        paper, chair = data["lines"]
        # the nearest category with a UNSPSC code, else the category's name
        self.assertEqual(
            paper["classification"], {"domain": "UNSPSC", "code": "44120000"}
        )
        self.assertEqual(
            chair["classification"], {"domain": "custom", "code": "Furniture"}
        )
        self.assertEqual(
            (paper["cost_center"], paper["cost_center_name"]), ("CC100", "Marketing")
        )
        root = safe_xml.parse(body)
        self.assertEqual(
            root.getroottree().docinfo.system_url,
            "http://xml.cxml.org/schemas/cXML/1.2.050/cXML.dtd",
        )
        self.assertEqual(
            root.findtext(".//OrderRequestHeader/BillTo/Address/PostalAddress/City"),
            "Ghent",
        )
        self.assertEqual(root.findtext(".//AccountingSegment/Description"), "Marketing")
        self.assertEqual(root.findtext(".//Total/Money"), "369.00")
        self.assertEqual(dtd_errors("1.2.050", body), [])

    def test_changed_and_cancelled_orders_are_valid_in_the_backends_version(self):
        self.network.cxml_version = "1.2.063"
        order = self.confirmed_order()
        order.order_line[0].product_qty = 12
        order.write({"notes": "Deliver to the back door"})
        _message, changed = self.sent("purchase_order.changed")
        self.assertEqual(
            safe_xml.parse(changed).find(".//OrderRequestHeader").get("type"), "update"
        )
        self.assertEqual(dtd_errors("1.2.063", changed), [])
        order.button_cancel()
        _message, cancelled = self.sent("purchase_order.cancelled")
        self.assertEqual(
            safe_xml.parse(cancelled).find(".//OrderRequestHeader").get("type"),
            "delete",
        )
        self.assertEqual(dtd_errors("1.2.063", cancelled), [])

    def test_the_cxml_version_must_be_a_cxml_version(self):
        with self.assertRaisesRegex(ValidationError, "such as 1.2.063"):
            self.network.cxml_version = "2.0"
