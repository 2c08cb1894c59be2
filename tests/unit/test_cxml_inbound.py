import doctest
from pathlib import Path

import pytest

from lib import canonical, cxml_inbound, safe_xml
from lib.cxml_inbound import (
    STATUS_TEXTS,
    Credential,
    CXMLError,
    invoice_detail_to_canonical,
    order_request_to_canonical,
    parse_envelope,
    receipt_to_canonical,
    redact_shared_secret,
    render_response,
    ship_notice_to_canonical,
    to_canonical,
)
from lib.outbound_formats import render_cxml_order_request

SAMPLES = Path(__file__).resolve().parent / "samples"
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE cXML [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<cXML payloadID="x" timestamp="2026-11-26T09:00:00Z">&lol9;</cXML>"""
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE cXML [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<cXML payloadID="x" timestamp="2026-11-26T09:00:00Z">'
    b"<Header><From><Credential domain='d'><Identity>&xxe;</Identity>"
    b"</Credential></From></Header></cXML>"
)
TOO_DEEP = b"<cXML>" + b"<Extrinsic>" * 150 + b"</Extrinsic>" * 150 + b"</cXML>"


def _sample(name, *replacements):
    """A sample document, with ``(old, new)`` byte replacements that must apply."""
    data = (SAMPLES / f"{name}.xml").read_bytes()
    for old, new in replacements:
        assert old in data, f"{old!r} is not in {name}.xml"
        data = data.replace(old, new)
    return data


def _root(name, *replacements):
    return parse_envelope(_sample(name, *replacements)).root


def _valid(converted):
    assert canonical.validate(converted.object_type, converted.document) == []
    return converted.document


def test_module_examples_hold():
    result = doctest.testmod(cxml_inbound, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


# -- envelope ------------------------------------------------------------------


def test_envelope_reads_ids_credentials_kind_and_mode():
    envelope = parse_envelope(_sample("cxml_invoice_line_tax"))
    assert envelope.payload_id == "1764752400.invoice.7@supplier.example"
    assert envelope.timestamp == "2026-12-03T10:00:00+01:00"
    assert envelope.kind == "InvoiceDetailRequest"
    assert envelope.deployment_mode == "test"
    assert envelope.from_credentials == (Credential("NetworkID", "AN-SUP-000001"),)
    assert envelope.to_credentials == (Credential("NetworkID", "AN-HUB-01"),)
    assert envelope.sender == Credential("NetworkID", "AN-SUP-000001")
    assert envelope.user_agent == "Supplier billing 2.0"
    assert envelope.shared_secret == "invoice-secret-7"


def test_deployment_mode_defaults_to_production():
    assert parse_envelope(_sample("cxml_receipt")).deployment_mode == "production"


def test_envelope_keeps_the_shared_secret_out_of_its_repr():
    envelope = parse_envelope(_sample("cxml_order_request"))
    assert envelope.shared_secret == "order-secret-1"
    assert "order-secret-1" not in repr(envelope)
    assert "order-secret-1" not in str(envelope)


def test_envelope_without_shared_secret_leaves_the_401_to_the_caller():
    data = _sample(
        "cxml_order_request", (b"<SharedSecret>order-secret-1</SharedSecret>", b"")
    )
    assert parse_envelope(data).shared_secret is None


def test_sender_credential_with_the_secret_comes_first():
    data = _sample(
        "cxml_order_request",
        (
            b"<Sender>\n",
            b'<Sender><Credential domain="DUNS"><Identity>123456789</Identity>'
            b"</Credential>\n",
        ),
    )
    envelope = parse_envelope(data)
    assert len(envelope.sender_credentials) == 2
    assert envelope.sender == Credential("NetworkID", "AN-BUYER-01")
    assert envelope.shared_secret == "order-secret-1"


def test_message_documents_have_an_envelope_too():
    data = _sample(
        "cxml_receipt",
        (b"<Request>", b'<Message deploymentMode="test">'),
        (b"</Request>", b"</Message>"),
    )
    envelope = parse_envelope(data)
    assert (envelope.kind, envelope.deployment_mode) == ("ReceiptRequest", "test")


@pytest.mark.parametrize(
    ("replacements", "reason"),
    [
        ([(b' payloadID="1764147600.order.1@buyer.example"', b"")], "no payloadID"),
        ([(b' timestamp="2026-11-26T09:00:00+01:00"', b"")], "no timestamp"),
        ([(b"<Sender>", b"<Nobody>"), (b"</Sender>", b"</Nobody>")], "Sender"),
        (
            [(b"<Identity>AN-HUB-01</Identity>", b"<Identity> </Identity>")],
            "To credential needs a domain and an Identity",
        ),
        ([(b'deploymentMode="production"', b'deploymentMode="staging"')], "staging"),
        (
            [(b"</OrderRequest>", b"</OrderRequest><OrderRequest/>")],
            "exactly one document",
        ),
        (
            [(b"<Request ", b"<Requests "), (b"</Request>", b"</Requests>")],
            "neither a Request nor a Message",
        ),
    ],
)
def test_malformed_envelopes_are_refused_with_406(replacements, reason):
    with pytest.raises(CXMLError, match=reason) as caught:
        parse_envelope(_sample("cxml_order_request", *replacements))
    assert caught.value.status_code == 406


def test_other_documents_than_cxml_are_refused():
    with pytest.raises(CXMLError, match="root element is <Invoice>"):
        parse_envelope((SAMPLES / "ubl_invoice.xml").read_bytes())


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (BILLION_LAUGHS, "declares its own DTD or entities"),
        (XXE, "declares its own DTD or entities"),
        (TOO_DEEP, "nested more than 100 levels deep"),
        (b"<cXML><Header>", "not well-formed XML"),
        (b"", "empty"),
        ("<cXML/>".encode("utf-32"), "UTF-32"),
    ],
)
def test_hostile_or_broken_xml_is_refused_readably_through_safe_xml(data, reason):
    with pytest.raises(CXMLError, match=reason) as caught:
        parse_envelope(data)
    assert caught.value.status_code == 406
    assert not isinstance(caught.value, safe_xml.UnsafeXMLError)


def test_the_cxml_doctype_is_accepted_but_never_fetched():
    envelope = parse_envelope(_sample("cxml_ship_notice"))
    assert envelope.root.getroottree().docinfo.system_url.endswith("Fulfill.dtd")


def test_documents_the_hub_does_not_take_are_refused_readably():
    data = _sample(
        "cxml_receipt",
        (b"<ReceiptRequest>", b"<ConfirmationRequest>"),
        (b"</ReceiptRequest>", b"</ConfirmationRequest>"),
    )
    envelope = parse_envelope(data)
    with pytest.raises(CXMLError, match="does not accept cXML ConfirmationRequest"):
        to_canonical(envelope)


def test_a_converter_refuses_another_document_kind():
    with pytest.raises(CXMLError, match="not a cXML OrderRequest"):
        order_request_to_canonical(_root("cxml_receipt"))


# -- OrderRequest --------------------------------------------------------------


def test_order_request_becomes_an_approved_purchase_order():
    converted = to_canonical(parse_envelope(_sample("cxml_order_request")))
    assert (converted.object_type, converted.operation) == ("purchase_order", "new")
    document = _valid(converted)
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
        _root("cxml_order_request", (b'type="new"', b'type="update"'))
    )
    assert (update.operation, _valid(update)["state"]) == ("update", "approved")
    delete = order_request_to_canonical(
        _root("cxml_order_request", (b'type="new"', b'type="delete"'))
    )
    document = _valid(delete)
    assert (delete.operation, document["state"]) == ("delete", "cancelled")
    assert "approval" not in document


def test_order_type_defaults_to_new_and_others_are_refused():
    converted = order_request_to_canonical(
        _root("cxml_order_request", (b' type="new"', b""))
    )
    assert converted.operation == "new"
    with pytest.raises(CXMLError, match="must be new, update or delete, not 'copy'"):
        order_request_to_canonical(
            _root("cxml_order_request", (b'type="new"', b'type="copy"'))
        )


def test_order_supplier_comes_from_the_supplier_contact_without_supplier_ids():
    root = _root(
        "cxml_order_request",
        (b'<SupplierID domain="buyerSupplierID">SUP-000001</SupplierID>', b""),
    )
    document = _valid(order_request_to_canonical(root))
    assert document["supplier_external_id"] == "SUP-FROM-CONTACT"


def test_order_without_supplier_is_refused_unless_the_caller_names_it():
    root = _root(
        "cxml_order_request",
        (b'<SupplierID domain="buyerSupplierID">SUP-000001</SupplierID>', b""),
        (b'role="supplierCorporate"', b'role="buyer"'),
    )
    with pytest.raises(CXMLError, match="does not name its supplier"):
        order_request_to_canonical(root)
    converted = order_request_to_canonical(root, supplier_external_id="SUP-9")
    assert _valid(converted)["supplier_external_id"] == "SUP-9"


def test_order_items_naming_different_suppliers_are_refused():
    data = _sample("cxml_order_request")
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
        order_request_to_canonical(_root("cxml_order_request", (old, new)))


def test_order_price_for_a_basis_quantity_is_brought_to_one_unit():
    root = _root(
        "cxml_order_request",
        (
            b'<Money currency="EUR">18.40</Money></UnitPrice>',
            b'<Money currency="EUR">184.00</Money></UnitPrice>'
            b'<PriceBasisQuantity quantity="10" conversionFactor="1">'
            b"<UnitOfMeasure>KGM</UnitOfMeasure></PriceBasisQuantity>",
        ),
    )
    assert _valid(order_request_to_canonical(root))["lines"][1]["unit_price"] == 18.4


def test_order_date_without_time_zone_is_approved_at_the_message_time():
    root = _root(
        "cxml_order_request",
        (b'orderDate="2026-11-26T08:15:00+01:00"', b'orderDate="2026-11-26T08:15:00"'),
    )
    document = _valid(order_request_to_canonical(root))
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
    document = _valid(converted)
    fields = ("line_id", "product_code", "description", "quantity", "uom")
    fields += ("unit_price", "cost_center", "requested_date")
    for read, written in zip(document["lines"], po["lines"], strict=True):
        assert {key: read[key] for key in fields} == {
            key: written[key] for key in fields
        }


# -- InvoiceDetailRequest ------------------------------------------------------


def test_invoice_with_line_level_tax_becomes_a_canonical_invoice():
    converted = to_canonical(parse_envelope(_sample("cxml_invoice_line_tax")))
    assert (converted.object_type, converted.operation) == ("invoice", "new")
    document = _valid(converted)
    example = canonical.example("invoice")
    for key in ("invoice_number", "invoice_date", "due_date", "currency"):
        assert document[key] == example[key]
    for key in ("purchase_order_external_id", "tax_totals", "amount_untaxed"):
        assert document[key] == example[key]
    assert (document["amount_tax"], document["amount_total"]) == (66.09, 545.09)
    assert document["document_type"] == "invoice"
    assert document["supplier_external_id"] == "SUP-000001"
    assert document["external_id"] == "SUP-000001/INV-2026-000001"
    first, second = document["lines"]
    assert first == {
        "line_id": "1",
        "po_line_id": "1",
        "product_code": "PAP-A4-80",
        "description": "Copy paper A4 80 g/m2, box of 5 reams",
        "quantity": 10.0,
        "uom": "Units",
        "unit_price": 24.9,
        "tax_codes": ["VAT21"],
        "cost_center": "FIN-100",
    }
    assert (second["quantity"], second["uom"], second["tax_codes"]) == (
        12.5,
        "kg",
        ["VAT6"],
    )


def test_invoice_with_header_level_tax_takes_the_summary_rates():
    document = _valid(invoice_detail_to_canonical(_root("cxml_invoice_header_tax")))
    # lines without their own Tax stay without tax codes: nothing is guessed
    assert [line["tax_codes"] for line in document["lines"][:2]] == [[], []]
    # the shipping of the summary is a line, taxed as its shippingTax says
    assert document["lines"][2] == {
        "line_id": "shipping",
        "description": "Shipping",
        "quantity": 1.0,
        "unit_price": 10.0,
        "tax_codes": ["VAT21"],
    }
    assert document["tax_totals"] == [
        {"tax_code": "VAT21", "base": 259.0, "amount": 54.39},
        {"tax_code": "VAT6", "base": 110.4, "amount": 6.62},
    ]
    assert (document["amount_untaxed"], document["amount_tax"]) == (369.4, 61.01)
    assert document["amount_total"] == 430.41
    assert document["purchase_order_external_id"] == "PO-000001"  # OrderIDInfo
    assert document["due_date"] == "2027-01-03"
    assert document["extensions"]["cxml_due_amount"] == 400.0


def test_invoice_supplier_falls_back_on_the_from_credential():
    document = _valid(invoice_detail_to_canonical(_root("cxml_invoice_header_tax")))
    assert document["supplier_external_id"] == "AN-SUP-000001"
    assert document["external_id"] == "AN-SUP-000001/INV-2026-000002"
    named = invoice_detail_to_canonical(
        _root("cxml_invoice_header_tax"), supplier_external_id="SUP-000001"
    )
    assert _valid(named)["external_id"] == "SUP-000001/INV-2026-000002"


def test_line_level_credit_memo_becomes_a_credit_note_with_positive_amounts():
    document = _valid(invoice_detail_to_canonical(_root("cxml_credit_memo_lines")))
    assert document["document_type"] == "credit_note"
    assert document["lines"][0]["quantity"] == 2.0
    assert document["lines"][0]["unit_price"] == 24.9
    assert document["lines"][0]["po_line_id"] == "1"
    assert document["tax_totals"] == [
        {"tax_code": "VAT21", "base": 49.8, "amount": 10.46}
    ]
    assert (document["amount_untaxed"], document["amount_tax"]) == (49.8, 10.46)
    assert document["amount_total"] == 60.26
    assert document["extensions"]["cxml_purpose"] == "lineLevelCreditMemo"


def test_header_level_credit_memo_gets_one_line_per_order():
    document = _valid(invoice_detail_to_canonical(_root("cxml_credit_memo_header")))
    assert document["document_type"] == "credit_note"
    assert document["lines"] == [
        {
            "line_id": "1",
            "description": "Goodwill credit for the late delivery",
            "quantity": 1.0,
            "unit_price": 20.0,
            "tax_codes": ["VAT21"],
        }
    ]
    assert (document["amount_tax"], document["amount_total"]) == (4.2, 24.2)


def test_credit_memo_signs_do_not_matter():
    negative = _sample(
        "cxml_credit_memo_header",
        (b">20.00<", b">-20.00<"),
        (b">4.20<", b">-4.20<"),
        (b">24.20<", b">-24.20<"),
    )
    document = invoice_detail_to_canonical(parse_envelope(negative).root).document
    positive = invoice_detail_to_canonical(_root("cxml_credit_memo_header")).document
    assert document == positive


def test_debit_memo_is_an_invoice():
    root = _root(
        "cxml_invoice_line_tax", (b'purpose="standard"', b'purpose="debitMemo"')
    )
    assert _valid(invoice_detail_to_canonical(root))["document_type"] == "invoice"


def test_invoice_delete_keeps_the_document_for_the_binding():
    root = _root("cxml_invoice_line_tax", (b'operation="new"', b'operation="delete"'))
    converted = invoice_detail_to_canonical(root)
    assert converted.operation == "delete"
    assert _valid(converted)["external_id"] == "SUP-000001/INV-2026-000001"


def test_information_only_invoices_are_flagged():
    root = _root(
        "cxml_invoice_line_tax",
        (b'purpose="standard"', b'purpose="standard" isInformationOnly="yes"'),
    )
    extensions = _valid(invoice_detail_to_canonical(root))["extensions"]
    assert extensions["cxml_information_only"] is True


def test_summary_discount_becomes_a_negative_line():
    root = _root(
        "cxml_invoice_header_tax",
        (
            b"<GrossAmount>",
            b'<InvoiceDetailDiscount percentageRate="1"><Money currency="EUR">3.59'
            b"</Money></InvoiceDetailDiscount><GrossAmount>",
        ),
        (
            b'<NetAmount><Money currency="EUR">430.41',
            b'<NetAmount><Money currency="EUR">426.82',
        ),
    )
    document = _valid(invoice_detail_to_canonical(root))
    assert document["lines"][-1] == {
        "line_id": "discount",
        "description": "Discount",
        "quantity": 1.0,
        "unit_price": -3.59,
        "tax_codes": [],
    }
    assert document["amount_untaxed"] == pytest.approx(365.81)
    lines_total = sum(
        line["quantity"] * line["unit_price"] for line in document["lines"]
    )
    assert lines_total == pytest.approx(document["amount_untaxed"])


def test_exempt_and_zero_rated_taxes_keep_their_reason_in_the_code():
    root = _root(
        "cxml_invoice_line_tax",
        (
            b'category="vat" percentageRate="6"',
            b'category="vat" percentageRate="0" exemptDetail="exempt"',
        ),
    )
    document = invoice_detail_to_canonical(root).document
    assert document["lines"][1]["tax_codes"] == ["VAT0-E"]


@pytest.mark.parametrize(
    ("replacements", "reason"),
    [
        (
            [(b'purpose="standard"', b'purpose="proforma"')],
            "the purpose of the invoice INV-2026-000001 must be one of",
        ),
        (
            [(b'operation="new"', b'operation="update"')],
            "must be new or delete, not 'update'",
        ),
        (
            [
                (b">545.09</Money></NetAmount>", b">-545.09</Money></NetAmount>"),
            ],
            "negative total \\(-545.09 EUR\\); a refund is sent as a credit memo",
        ),
        (
            [
                (
                    b'<Money currency="EUR">13.80</Money>',
                    b'<Money currency="USD">13.80</Money>',
                )
            ],
            "is in USD, the document in EUR",
        ),
        (
            [(b'percentageRate="6"', b'percentageRate="six"')],
            "the VAT rate must be a number",
        ),
        (
            [(b'invoiceDate="2026-12-03T09:30:00+01:00"', b"")],
            "the date of the invoice INV-2026-000001 is missing",
        ),
        (
            [(b'invoiceLineNumber="2"', b'invoiceLineNumber="1"')],
            "has two lines numbered 1",
        ),
        (
            [(b"<NetAmount>", b"<Net>"), (b"</NetAmount>", b"</Net>")],
            "the total of the invoice INV-2026-000001 is missing",
        ),
    ],
)
def test_invoice_problems_are_refused_readably(replacements, reason):
    with pytest.raises(CXMLError, match=reason) as caught:
        invoice_detail_to_canonical(_root("cxml_invoice_line_tax", *replacements))
    assert caught.value.status_code == 406


def test_invoice_covering_two_orders_is_refused():
    data = _sample("cxml_invoice_line_tax")
    order = data[
        data.index(b"<InvoiceDetailOrder>") : data.index(b"<InvoiceDetailSummary>")
    ]
    second = order.replace(b'orderID="PO-000001"', b'orderID="PO-000002"')
    second = second.replace(b'invoiceLineNumber="', b'invoiceLineNumber="1')
    data = data.replace(order, order + second)
    with pytest.raises(
        CXMLError, match=r"several purchase orders \(PO-000001, PO-000002\)"
    ):
        invoice_detail_to_canonical(parse_envelope(data).root)


# -- ShipNoticeRequest and ReceiptRequest ----------------------------------------


def test_ship_notice_becomes_a_goods_receipt():
    converted = to_canonical(parse_envelope(_sample("cxml_ship_notice")))
    assert (converted.object_type, converted.operation) == ("goods_receipt", "new")
    document = _valid(converted)
    example = canonical.example("goods_receipt")
    assert document["lines"] == example["lines"]
    assert document["receipt_date"] == example["receipt_date"]
    assert document["purchase_order_external_id"] == "PO-000001"
    assert document["external_id"] == "AN-SUP-000001/SN-000001"
    assert document["extensions"]["cxml_document"] == "ShipNoticeRequest"


def test_ship_notice_without_delivery_date_is_dated_by_its_shipment():
    root = _root(
        "cxml_ship_notice", (b' deliveryDate="2026-12-01T10:00:00+01:00"', b"")
    )
    assert _valid(ship_notice_to_canonical(root))["receipt_date"] == "2026-11-30"


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (b'shipmentType="actual"', b'shipmentType="planned"', "planned shipment"),
        (b'shipmentType="actual"', b'reason="return"', "is for a return"),
        (b'quantity="12.5"', b'quantity="-1"', "returns and corrections"),
        (b'operation="new"', b'operation="replace"', "not 'replace'"),
        (b'<OrderReference orderID="PO-000001">', b"<OrderReference>", "orderID"),
    ],
)
def test_ship_notices_the_hub_cannot_receive_are_refused(old, new, reason):
    with pytest.raises(CXMLError, match=reason):
        ship_notice_to_canonical(_root("cxml_ship_notice", (old, new)))


def test_deleting_a_ship_notice_needs_only_its_id():
    data = _sample("cxml_ship_notice", (b'operation="new"', b'operation="delete"'))
    start, end = data.index(b"<ShipNoticePortion>"), data.index(b"</ShipNoticeRequest>")
    converted = ship_notice_to_canonical(parse_envelope(data[:start] + data[end:]).root)
    assert converted == (
        "goods_receipt",
        "delete",
        {"external_id": "AN-SUP-000001/SN-000001"},
    )


def test_receipt_request_becomes_a_goods_receipt():
    converted = to_canonical(parse_envelope(_sample("cxml_receipt")))
    assert (converted.object_type, converted.operation) == ("goods_receipt", "new")
    document = _valid(converted)
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
        receipt_to_canonical(_root("cxml_receipt", (old, new)))


def test_receipt_delete_is_passed_on():
    root = _root("cxml_receipt", (b'operation="new"', b'operation="delete"'))
    assert receipt_to_canonical(root).operation == "delete"


# -- redaction -----------------------------------------------------------------


def test_redaction_replaces_the_shared_secret_and_keeps_the_rest():
    data = _sample("cxml_order_request")
    redacted = redact_shared_secret(data)
    assert b"order-secret-1" not in redacted
    envelope = parse_envelope(redacted)
    assert envelope.shared_secret == "***"
    assert envelope.payload_id == "1764147600.order.1@buyer.example"
    converted = order_request_to_canonical(envelope.root)
    assert (
        converted.document
        == order_request_to_canonical(_root("cxml_order_request")).document
    )


def test_redaction_covers_every_shared_secret():
    data = _sample(
        "cxml_order_request",
        (
            b"<Identity>AN-BUYER-01</Identity></Credential></From>",
            b"<Identity>AN-BUYER-01</Identity><SharedSecret>second</SharedSecret>"
            b"</Credential></From>",
        ),
    )
    redacted = redact_shared_secret(data)
    assert b"order-secret-1" not in redacted and b"second" not in redacted
    assert redacted.count(b"<SharedSecret>***</SharedSecret>") == 2


@pytest.mark.parametrize(
    "data",
    [
        b"<cXML><Header><SharedSecret>top-secret</SharedSecret>",
        XXE.replace(b"&xxe;", b"<SharedSecret>top-secret</SharedSecret>"),
        b"<cXML><SharedSecret>top-secret",
    ],
)
def test_redaction_also_covers_documents_that_are_refused(data):
    with pytest.raises(CXMLError):
        parse_envelope(data)
    assert b"top-secret" not in redact_shared_secret(data)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_redaction_of_broken_wide_documents(codec):
    data = "<cXML><SharedSecret>top-secret</SharedSecret><Broken>".encode(codec)
    redacted = redact_shared_secret(data)
    assert "top-secret".encode(codec.replace("utf-32", "utf-32-le")) not in redacted
    assert "top-secret" not in redacted.decode(codec)
    assert "<SharedSecret>***</SharedSecret>" in redacted.decode(codec)


def test_redaction_of_a_parsable_utf16_document():
    text = (
        _sample("cxml_order_request")
        .decode()
        .replace('encoding="UTF-8"', 'encoding="UTF-16"')
    )
    redacted = redact_shared_secret(text.encode("utf-16"))
    assert b"order-secret-1" not in redacted
    assert parse_envelope(redacted).shared_secret == "***"


# -- Response ------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(STATUS_TEXTS))
def test_every_status_code_renders_a_cxml_response(code):
    body = render_response(code, "details", "r-1@hub", timestamp="2026-11-26T09:00:00Z")
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE cXML')
    root = safe_xml.parse(body)
    assert (root.tag, root.get("payloadID")) == ("cXML", "r-1@hub")
    assert root.get("timestamp") == "2026-11-26T09:00:00Z"
    status = root.find("Response/Status")
    assert status.get("code") == str(code)
    assert status.get("text") == STATUS_TEXTS[code]
    assert status.text == "details"


def test_status_text_that_repeats_the_standard_wording_is_not_doubled():
    status = safe_xml.parse(render_response(200, "OK")).find("Response/Status")
    assert (status.get("text"), status.text) == ("OK", None)


def test_responses_get_a_new_payload_id_and_the_current_utc_time():
    first, second = (safe_xml.parse(render_response(201, "")) for _ in range(2))
    assert first.get("payloadID") != second.get("payloadID")
    assert first.get("payloadID").endswith("@finance-integration-hub")
    assert first.get("timestamp").endswith("+00:00")


def test_response_text_is_escaped_and_stripped_of_control_characters():
    body = render_response(406, 'line <1> & "2"\x00\x1b: bad')
    status = safe_xml.parse(body).find("Response/Status")
    assert status.text == 'line <1> & "2"\ufffd\ufffd: bad'


def test_response_text_is_capped():
    status = safe_xml.parse(render_response(500, "x" * 5000)).find("Response/Status")
    assert len(status.text) == 1000


def test_unknown_status_codes_are_a_programming_error():
    with pytest.raises(ValueError, match="not 404"):
        render_response(404, "not found")


def test_a_refusal_answers_with_its_own_status_and_reason():
    with pytest.raises(CXMLError) as caught:
        parse_envelope(BILLION_LAUGHS)
    body = render_response(caught.value.status_code, str(caught.value))
    status = safe_xml.parse(body).find("Response/Status")
    assert status.get("code") == "406"
    assert "declares its own DTD or entities" in status.text
