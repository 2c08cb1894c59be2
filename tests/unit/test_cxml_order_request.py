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
    read_extra = ("cost_center_name", "classification")
    assert [
        {key: value for key, value in line.items() if key not in read_extra}
        for line in document["lines"]
    ] == example["lines"]
    assert [
        (line["cost_center_name"], line["classification"]) for line in document["lines"]
    ] == [
        ("Finance", {"domain": "UNSPSC", "code": "14111507"}),
        ("Operations", {"domain": "UNSPSC", "code": "50201706"}),
    ]
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


def test_order_without_supplier_ids_goes_to_the_party_it_is_addressed_to():
    """Real orders often name the supplier only as the To credential."""
    root = sample_root(
        "cxml_order_request",
        (b'<SupplierID domain="buyerSupplierID">SUP-000001</SupplierID>', b""),
        (b'role="supplierCorporate"', b'role="buyer"'),
    )
    converted = order_request_to_canonical(root)
    assert valid(converted)["supplier_external_id"] == "NetworkID:AN-HUB-01"
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
    po["bill_to"] = {"name": "Acme Belgium NV"}
    po["lines"][0].update(
        cost_center_name="Finance",
        classification={"domain": "UNSPSC", "code": "14111507"},
    )
    po["lines"][1].update(
        cost_center_name="Operations",
        classification={"domain": "custom", "code": "All / Coffee"},
    )
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
    fields += ("cost_center_name", "classification")
    for read, written in zip(document["lines"], po["lines"], strict=True):
        assert {key: read[key] for key in fields} == {
            key: written[key] for key in fields
        }


# -- what real orders carry ------------------------------------------------------


def test_a_total_the_lines_do_not_add_up_to_is_refused_naming_both_figures():
    root = sample_root(
        "cxml_order_request",
        (
            b'<Money currency="EUR">479.00</Money>',
            b'<Money currency="EUR">497.00</Money>',
        ),
    )
    with pytest.raises(CXMLError) as caught:
        order_request_to_canonical(root)
    assert str(caught.value) == (
        "the total of the order PO-000001 is 497.00 EUR, but its lines add up to "
        "479.00 EUR (545.09 EUR with the tax and shipping it states); correct the "
        "total or the lines and send the order again"
    )
    assert caught.value.status_code == 406


def _half_cent_lines(total):
    """Two lines of 0.375 each: 0.76 rounded per line, 0.75 rounded once."""
    return sample_root(
        "cxml_order_request",
        (
            b'<Money currency="EUR">479.00</Money>',
            b'<Money currency="EUR">%s</Money>' % total,
        ),
        (b'quantity="10" lineNumber="1"', b'quantity="3" lineNumber="1"'),
        (
            b'<Money currency="EUR">24.90</Money>',
            b'<Money currency="EUR">0.125</Money>',
        ),
        (b'<Money currency="EUR">18.40</Money>', b'<Money currency="EUR">0.03</Money>'),
    )


@pytest.mark.parametrize("total", [b"0.76", b"0.75", b"66.85"])
def test_a_total_rounded_per_line_or_once_or_with_the_stated_taxes_is_accepted(total):
    document = valid(order_request_to_canonical(_half_cent_lines(total)))
    assert [line["unit_price"] for line in document["lines"]] == [0.125, 0.03]


def test_a_total_a_cent_off_is_refused():
    with pytest.raises(
        CXMLError, match="is 0.77 EUR, but its lines add up to 0.76 EUR"
    ):
        order_request_to_canonical(_half_cent_lines(b"0.77"))


def test_a_cancellation_is_not_refused_for_its_total():
    root = sample_root(
        "cxml_order_request",
        (b'type="new"', b'type="delete"'),
        (
            b'<Money currency="EUR">479.00</Money>',
            b'<Money currency="EUR">1.00</Money>',
        ),
    )
    assert valid(order_request_to_canonical(root))["state"] == "cancelled"


def test_old_style_cost_center_segments_are_read():
    root = sample_root(
        "cxml_order_request",
        (
            b'<AccountingSegment id="FIN-100">\n              <Name xml:lang="en">'
            b'Cost center</Name>\n              <Description xml:lang="en">Finance'
            b"</Description>\n            </AccountingSegment>",
            b'<Segment type="Cost Center" id="FIN-110" description="Finance EU"/>',
        ),
        (b'<Accounting name="CostCenter">', b'<Accounting name="Acct">'),
    )
    line = valid(order_request_to_canonical(root))["lines"][0]
    assert (line["cost_center"], line["cost_center_name"]) == ("FIN-110", "Finance EU")


def test_a_line_split_over_two_cost_centers_is_refused():
    root = sample_root(
        "cxml_order_request",
        (
            b'</Distribution>\n      </ItemOut>\n      <ItemOut quantity="12.5"',
            b'</Distribution><Distribution><Accounting name="CostCenter">'
            b'<Segment type="CostCenter" id="HR-1" description="HR"/></Accounting>'
            b'<Charge><Money currency="EUR">0</Money></Charge></Distribution>\n'
            b'      </ItemOut>\n      <ItemOut quantity="12.5"',
        ),
    )
    with pytest.raises(
        CXMLError, match=r"line 1 .* several cost centers \(FIN-100, HR-1\)"
    ):
        order_request_to_canonical(root)


def test_a_blanket_order_is_refused():
    root = sample_root(
        "cxml_order_request", (b'type="new"', b'type="new" orderType="blanket"')
    )
    with pytest.raises(CXMLError, match="is a blanket order"):
        order_request_to_canonical(root)


def test_lines_without_a_date_take_the_header_requested_date():
    root = sample_root(
        "cxml_order_request",
        (
            b'type="new"',
            b'type="new" requestedDeliveryDate="2026-12-24T10:00:00+01:00"',
        ),
        (b' lineNumber="2" requestedDeliveryDate="2026-12-03"', b' lineNumber="2"'),
    )
    lines = valid(order_request_to_canonical(root))["lines"]
    assert [line["requested_date"] for line in lines] == ["2026-12-03", "2026-12-24"]


@pytest.mark.parametrize("figure", [b"1e15", b"99999999999999999999"])
def test_figures_no_business_document_needs_are_refused(figure):
    root = sample_root(
        "cxml_order_request", (b'quantity="12.5"', b'quantity="' + figure + b'"')
    )
    with pytest.raises(CXMLError, match="too large for a business document"):
        order_request_to_canonical(root)
    root = sample_root(
        "cxml_order_request",
        (b'quantity="12.5"', b'quantity="99999999"'),
        (
            b'<Money currency="EUR">18.40</Money>',
            b'<Money currency="EUR">99999999</Money>',
        ),
    )
    with pytest.raises(
        CXMLError, match="line 2 .* amounts to 99999999 x 99999999, too large"
    ):
        order_request_to_canonical(root)
