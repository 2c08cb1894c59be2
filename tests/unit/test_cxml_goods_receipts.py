"""cXML ShipNoticeRequest and ReceiptRequest -> canonical goods receipt."""

import pytest
from sample_documents import sample, sample_root, valid

from lib import canonical
from lib.cxml import (
    CXMLError,
    parse_envelope,
    to_canonical,
)
from lib.cxml.receipt import receipt_to_canonical, ship_notice_to_canonical

# -- ShipNoticeRequest and ReceiptRequest ----------------------------------------


def test_ship_notice_becomes_a_goods_receipt():
    converted = to_canonical(parse_envelope(sample("cxml_ship_notice")))
    assert (converted.object_type, converted.operation) == ("goods_receipt", "new")
    document = valid(converted)
    example = canonical.example("goods_receipt")
    assert document["lines"] == example["lines"]
    assert document["receipt_date"] == example["receipt_date"]
    assert document["purchase_order_external_id"] == "PO-000001"
    assert document["external_id"] == "AN-SUP-000001/SN-000001"
    assert document["extensions"]["cxml_document"] == "ShipNoticeRequest"


def test_ship_notice_without_delivery_date_is_dated_by_its_shipment():
    root = sample_root(
        "cxml_ship_notice", (b' deliveryDate="2026-12-01T10:00:00+01:00"', b"")
    )
    assert valid(ship_notice_to_canonical(root))["receipt_date"] == "2026-11-30"


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (b'shipmentType="actual"', b'shipmentType="planned"', "planned shipment"),
        (b'shipmentType="actual"', b'reason="return"', "is for a return"),
        (b'quantity="12.5"', b'quantity="-1"', "returns and corrections"),
        (b'operation="new"', b'operation="replace"', "not 'replace'"),
    ],
)
def test_ship_notices_the_hub_cannot_receive_are_refused(old, new, reason):
    with pytest.raises(CXMLError, match=reason):
        ship_notice_to_canonical(sample_root("cxml_ship_notice", (old, new)))


def test_a_ship_notice_may_name_its_order_by_the_order_request_s_payload_id():
    """orderID is optional in OrderReference (every DTD version): the
    DocumentReference's payloadID names the order then."""
    root = sample_root(
        "cxml_ship_notice",
        (b'<OrderReference orderID="PO-000001">', b"<OrderReference>"),
    )
    reference = root.find(".//OrderReference/DocumentReference").get("payloadID")
    document = valid(ship_notice_to_canonical(root))
    assert document["purchase_order_external_id"] == reference


def test_deleting_a_ship_notice_needs_only_its_id():
    data = sample("cxml_ship_notice", (b'operation="new"', b'operation="delete"'))
    start, end = data.index(b"<ShipNoticePortion>"), data.index(b"</ShipNoticeRequest>")
    converted = ship_notice_to_canonical(parse_envelope(data[:start] + data[end:]).root)
    assert converted == (
        "goods_receipt",
        "delete",
        {"external_id": "AN-SUP-000001/SN-000001"},
    )


def test_receipt_request_becomes_a_goods_receipt():
    converted = to_canonical(parse_envelope(sample("cxml_receipt")))
    assert (converted.object_type, converted.operation) == ("goods_receipt", "new")
    document = valid(converted)
    example = canonical.example("goods_receipt")
    for key in ("external_id", "purchase_order_external_id", "receipt_date", "lines"):
        assert document[key] == example[key]


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (
            b'quantity="12.5" type="received"',
            b'quantity="12.5" type="returned"',
            "is a return",
        ),
        (b'quantity="12.5"', b'quantity="-2.5"', "is -2.5; returns and corrections"),
        (b'operation="new"', b'operation="update"', "must be new or delete"),
        (b'receiptDate="2026-12-01T14:05:00+01:00"', b"", "the date of the receipt"),
    ],
)
def test_receipts_the_hub_cannot_take_are_refused(old, new, reason):
    with pytest.raises(CXMLError, match=reason):
        receipt_to_canonical(sample_root("cxml_receipt", (old, new)))


def test_receipt_delete_is_passed_on():
    root = sample_root("cxml_receipt", (b'operation="new"', b'operation="delete"'))
    assert receipt_to_canonical(root).operation == "delete"


def test_a_ship_notice_portion_without_items_ships_the_whole_order():
    data = sample("cxml_ship_notice")
    start = data.index(b"<ShipNoticeItem ")
    end = data.index(b"</ShipNoticePortion>")
    document = valid(
        ship_notice_to_canonical(parse_envelope(data[:start] + data[end:]).root)
    )
    assert document["whole_order"] is True
    assert "lines" not in document
    assert document["purchase_order_external_id"] == "PO-000001"
    assert document["receipt_date"] == "2026-12-01"


def test_a_goods_receipt_needs_lines_unless_it_covers_the_whole_order():
    receipt = canonical.example("goods_receipt")
    del receipt["lines"]
    assert canonical.validate("goods_receipt", receipt) == [
        {"path": "$.lines", "reason": "is required"}
    ]
    assert canonical.validate("goods_receipt", {**receipt, "whole_order": True}) == []
    both = {**canonical.example("goods_receipt"), "whole_order": True}
    assert canonical.validate("goods_receipt", both) == [
        {"path": "$.lines", "reason": "must be left out when whole_order is true"}
    ]


SECOND_PORTION_BY_LINE = (
    b"</ShipNoticePortion>",
    b'</ShipNoticePortion><ShipNoticePortion><OrderReference orderID="PO-000002">'
    b'<DocumentReference payloadID="2@buyer.example"/></OrderReference>'
    b'<ShipNoticeItem quantity="3" lineNumber="1"><UnitOfMeasure>EA</UnitOfMeasure>'
    b"</ShipNoticeItem></ShipNoticePortion>",
)
SECOND_PORTION_WHOLE = (
    b"</ShipNoticePortion>",
    b'</ShipNoticePortion><ShipNoticePortion><OrderReference orderID="PO-000003">'
    b'<DocumentReference payloadID="3@buyer.example"/></OrderReference>'
    b"</ShipNoticePortion>",
)


def test_a_ship_notice_of_several_orders_names_each_lines_order():
    """The Fulfill DTD allows a ShipNoticePortion per order: the first is the
    document's order, the others' lines name theirs, a portion without items
    ships its order whole."""
    root = sample_root("cxml_ship_notice", SECOND_PORTION_BY_LINE, SECOND_PORTION_WHOLE)
    document = valid(ship_notice_to_canonical(root))
    assert document["purchase_order_external_id"] == "PO-000001"
    assert [
        (line.get("purchase_order_external_id"), line["po_line_id"], line["quantity"])
        for line in document["lines"]
    ] == [(None, "1", 10.0), (None, "2", 12.5), ("PO-000002", "1", 3.0)]
    assert document["whole_orders"] == ["PO-000003"]
    assert "whole_order" not in document


def test_a_ship_notice_whose_first_order_ships_whole_keeps_the_others_lines():
    data = sample("cxml_ship_notice", SECOND_PORTION_BY_LINE)
    start = data.index(b"<ShipNoticeItem ")
    end = data.index(b"</ShipNoticePortion>")
    document = valid(
        ship_notice_to_canonical(parse_envelope(data[:start] + data[end:]).root)
    )
    assert document["whole_order"] is True
    assert document["lines"] == [
        {
            "po_line_id": "1",
            "quantity": 3.0,
            "uom": "Units",
            "purchase_order_external_id": "PO-000002",
        }
    ]


def test_a_portion_without_an_order_is_refused():
    root = sample_root(
        "cxml_ship_notice",
        (b"</ShipNoticePortion>", b"</ShipNoticePortion><ShipNoticePortion/>"),
    )
    with pytest.raises(CXMLError, match="does not refer to a purchase order"):
        ship_notice_to_canonical(root)
