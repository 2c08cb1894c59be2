"""cXML OrderRequest -> canonical purchase order."""

import pytest
from sample_documents import sample, sample_root, valid

from lib import canonical
from lib.cxml import (
    CXMLError,
    parse_envelope,
    to_canonical,
)
from lib.cxml.order import order_request_to_canonical
from lib.outbound_formats import render_cxml_order_request

# -- OrderRequest --------------------------------------------------------------


def test_order_request_becomes_an_approved_purchase_order():
    converted = to_canonical(parse_envelope(sample("cxml_order_request")))
    assert (converted.object_type, converted.operation) == ("purchase_order", "new")
    document = valid(converted)
    example = canonical.example("purchase_order")
    for key in ("external_id", "supplier_external_id", "currency", "order_date"):
        assert document[key] == example[key]
    assert document["lines"] == example["lines"]
    assert document["state"] == "approved"
    assert document["approval"] == {
        "approver": "NetworkID:AN-BUYER-01",
        "approved_at": "2026-11-26T08:15:00+01:00",
        "reference": "REQ-000001",
    }
    assert document["source_version"] == 1
    assert document["updated_at"] == "2026-11-26T09:00:00+01:00"
    assert document["extensions"] == {
        "cxml_payload_id": "1764147600.order.1@buyer.example"
    }


def test_order_update_stays_approved_and_delete_cancels():
    update = order_request_to_canonical(
        sample_root("cxml_order_request", (b'type="new"', b'type="update"'))
    )
    assert (update.operation, valid(update)["state"]) == ("update", "approved")
    delete = order_request_to_canonical(
        sample_root("cxml_order_request", (b'type="new"', b'type="delete"'))
    )
    document = valid(delete)
    assert (delete.operation, document["state"]) == ("delete", "cancelled")
    assert "approval" not in document


def test_order_type_defaults_to_new_and_others_are_refused():
    converted = order_request_to_canonical(
        sample_root("cxml_order_request", (b' type="new"', b""))
    )
    assert converted.operation == "new"
    with pytest.raises(CXMLError, match="must be new, update or delete, not 'copy'"):
        order_request_to_canonical(
            sample_root("cxml_order_request", (b'type="new"', b'type="copy"'))
        )


def test_order_supplier_comes_from_the_supplier_contact_without_supplier_ids():
    root = sample_root(
        "cxml_order_request",
        (b'<SupplierID domain="buyerSupplierID">SUP-000001</SupplierID>', b""),
    )
    document = valid(order_request_to_canonical(root))
    assert document["supplier_external_id"] == "SUP-FROM-CONTACT"


def test_order_without_supplier_is_refused_unless_the_caller_names_it():
    root = sample_root(
        "cxml_order_request",
        (b'<SupplierID domain="buyerSupplierID">SUP-000001</SupplierID>', b""),
        (b'role="supplierCorporate"', b'role="buyer"'),
    )
    with pytest.raises(CXMLError, match="does not name its supplier"):
        order_request_to_canonical(root)
    converted = order_request_to_canonical(root, supplier_external_id="SUP-9")
    assert valid(converted)["supplier_external_id"] == "SUP-9"


def test_order_items_naming_different_suppliers_are_refused():
    data = sample("cxml_order_request")
    data = data.replace(b">SUP-000001<", b">SUP-000002<", 1)
    with pytest.raises(CXMLError, match="different suppliers"):
        order_request_to_canonical(parse_envelope(data).root)


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (
            b'<Money currency="EUR">18.40</Money>',
            b'<Money currency="USD">18.40</Money>',
            "the unit price of line 2 of the order PO-000001 is in USD, "
            "the document in EUR",
        ),
        (
            b'quantity="12.5"',
            b'quantity="12,5"',
            "the quantity of line 2 of the order PO-000001 must be a number "
            "such as 12.5, not '12,5'",
        ),
        (b'quantity="12.5"', b'quantity="0"', "must be positive, not 0"),
        (b'lineNumber="2"', b'lineNumber="1"', "has two lines numbered 1"),
        (b"<UnitOfMeasure>KGM</UnitOfMeasure>", b"", "has no unit of measure"),
        (b'orderDate="2026-11-26T08:15:00+01:00"', b'orderDate="26/11/2026"', "date"),
    ],
)
def test_order_content_problems_are_refused_readably(old, new, reason):
    with pytest.raises(CXMLError, match=reason.replace("(", r"\(")):
        order_request_to_canonical(sample_root("cxml_order_request", (old, new)))


def test_order_price_for_a_basis_quantity_is_brought_to_one_unit():
    root = sample_root(
        "cxml_order_request",
        (
            b'<Money currency="EUR">18.40</Money></UnitPrice>',
            b'<Money currency="EUR">184.00</Money></UnitPrice>'
            b'<PriceBasisQuantity quantity="10" conversionFactor="1">'
            b"<UnitOfMeasure>KGM</UnitOfMeasure></PriceBasisQuantity>",
        ),
    )
    assert valid(order_request_to_canonical(root))["lines"][1]["unit_price"] == 18.4


def test_order_date_without_time_zone_is_approved_at_the_message_time():
    root = sample_root(
        "cxml_order_request",
        (b'orderDate="2026-11-26T08:15:00+01:00"', b'orderDate="2026-11-26T08:15:00"'),
    )
    document = valid(order_request_to_canonical(root))
    assert document["order_date"] == "2026-11-26"
    assert document["approval"]["approved_at"] == "2026-11-26T09:00:00+01:00"


def test_orders_the_hub_renders_read_back_the_same():
    po = canonical.example("purchase_order")
    sender = {
        "from_domain": "NetworkID",
        "from_identity": "AN-HUB-01",
        "to_domain": "NetworkID",
        "to_identity": "AN-SUP-000001",
        "sender_domain": "NetworkID",
        "sender_identity": "AN-HUB-01",
        "shared_secret": "s3cr3t",
    }
    sent = render_cxml_order_request(
        po, payload_id="p-1@hub", timestamp="2026-11-26T09:00:00Z", sender=sender
    )
    converted = order_request_to_canonical(
        parse_envelope(sent).root, supplier_external_id=po["supplier_external_id"]
    )
    document = valid(converted)
    fields = ("line_id", "product_code", "description", "quantity", "uom")
    fields += ("unit_price", "cost_center", "requested_date")
    for read, written in zip(document["lines"], po["lines"], strict=True):
        assert {key: read[key] for key in fields} == {
            key: written[key] for key in fields
        }
