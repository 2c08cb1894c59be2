"""cXML ConfirmationRequest -> canonical order confirmation."""

import pytest
from sample_documents import valid

from lib import canonical
from lib.cxml import CXMLError, checked, parse_envelope, to_canonical
from simulator.cxml_fulfill import cxml_confirmation


def convert(body):
    return to_canonical(parse_envelope(body))


def confirmation(lines, **kwargs):
    kwargs.setdefault("shared_secret", "s3cr3t")
    return convert(cxml_confirmation("PO-1", lines, **kwargs))


def test_an_accepted_order_with_its_delivery_dates():
    converted = confirmation([(1, 10, [("accept", 10, "2026-12-03")])])
    assert (converted.object_type, converted.operation) == ("order_confirmation", "new")
    document = valid(converted)
    assert {key: document[key] for key in ("external_id", "status")} == {
        "external_id": "AN-SUPPLIER-01/CONF-1",
        "status": "accepted",
    }
    assert document["purchase_order_external_id"] == "PO-1"
    assert document["confirmation_date"] == "2026-11-27"
    assert document["lines"] == [
        {
            "po_line_id": "1",
            "status": "accepted",
            "quantity": 10.0,
            "uom": "Units",
            "delivery_date": "2026-12-03",
        }
    ]
    assert document["source_version"] == 1


def test_changed_rejected_and_backordered_parts_of_lines():
    document = valid(
        confirmation(
            [
                (1, 10, [("detail", 6, "2026-12-10", 4.5, "late"), ("reject", 4)]),
                (2, 1, [("backordered", 1, "2026-12-20")]),
            ],
            comments="Partly out of stock",
        )
    )
    assert document["status"] == "changed"
    assert document["comments"] == "Partly out of stock"
    assert document["currency"] == "EUR"
    assert [
        (
            line["po_line_id"],
            line["status"],
            line["quantity"],
            line.get("delivery_date"),
            line.get("unit_price"),
        )
        for line in document["lines"]
    ] == [
        ("1", "changed", 6.0, "2026-12-10", 4.5),
        ("1", "rejected", 4.0, None, None),
        ("2", "backordered", 1.0, "2026-12-20", None),
    ]
    assert document["lines"][0]["comments"] == "late"


def test_a_rejected_order_carries_the_suppliers_reason():
    document = valid(confirmation([], comments="We no longer make this paper."))
    assert (document["status"], document["comments"]) == (
        "rejected",
        "We no longer make this paper.",
    )
    assert "lines" not in document


def test_a_substitute_item_is_read():
    body = cxml_confirmation(
        "PO-1", [(1, 10, [("detail", 10)])], shared_secret="s"
    ).replace(
        b"<UnitOfMeasure>EA</UnitOfMeasure></ConfirmationStatus>",
        b'<UnitOfMeasure>EA</UnitOfMeasure><ItemIn quantity="10"><ItemID>'
        b"<SupplierPartID>PAP-90</SupplierPartID></ItemID><ItemDetail><UnitPrice>"
        b'<Money currency="EUR">4.00</Money></UnitPrice><Description xml:lang="en">'
        b"Paper 90 g</Description><UnitOfMeasure>EA</UnitOfMeasure></ItemDetail>"
        b"</ItemIn></ConfirmationStatus>",
    )
    (line,) = valid(convert(body))["lines"]
    assert line["substitute"] == {"product_code": "PAP-90", "description": "Paper 90 g"}


@pytest.mark.parametrize(
    ("kind", "lines", "reason"),
    [
        ("requestToPay", [(1, 10, [("accept", 10)])], "asks for payment"),
        ("replace", [(1, 10, [("detail", 10)])], "replaces the whole order"),
        ("maybe", [(1, 10, [("accept", 10)])], "must be one of accept, reject"),
        ("reject", [(1, 10, [("reject", 10)])], "cannot list items"),
        ("detail", [], "lists no items"),
        ("accept", [(1, 10, [("reject", 10)])], "accepts the whole order, but line 1"),
        ("detail", [(1, 10, [("requestToPay", 10)])], "asks for payment"),
        ("detail", [(1, 10, [("accept", -1)])], "must not be negative"),
    ],
)
def test_confirmations_the_hub_cannot_apply_are_refused(kind, lines, reason):
    with pytest.raises(CXMLError, match=reason):
        confirmation(lines, kind=kind)


def test_a_confirmation_cannot_be_deleted():
    with pytest.raises(CXMLError, match="must be new or update, not 'delete'"):
        confirmation([(1, 10, [("accept", 10)])], operation="delete")


def test_prices_in_two_currencies_are_refused():
    body = cxml_confirmation(
        "PO-1",
        [(1, 10, [("detail", 10, None, 4.5)]), (2, 1, [("detail", 1, None, 9.0)])],
        shared_secret="s",
    ).replace(b'currency="EUR">9.00', b'currency="USD">9.00')
    with pytest.raises(CXMLError, match="line 2 .* is in USD, the document in EUR"):
        convert(body)


def test_a_confirmation_without_a_confirm_id_is_keyed_by_its_payload_id():
    body = cxml_confirmation(
        "PO-1", [(1, 10, [("accept", 10)])], shared_secret="s", payload_id="p-9@sup"
    ).replace(b' confirmID="CONF-1"', b"")
    document = checked(convert(body)).document
    assert document["external_id"] == "AN-SUPPLIER-01/p-9@sup"
    assert "supplier_reference" not in document


def test_the_canonical_confirmation_needs_a_currency_for_its_prices():
    document = canonical.example("order_confirmation")
    assert canonical.validate("order_confirmation", document) == []
    del document["currency"]
    assert canonical.validate("order_confirmation", document) == [
        {
            "path": "$.currency",
            "reason": "is required when a line states a unit price",
        }
    ]
