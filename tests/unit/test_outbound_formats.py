import doctest
import json
from decimal import ROUND_HALF_UP, Decimal

import pytest

from lib import canonical, outbound_formats, safe_xml
from lib.cxml import redact_shared_secret
from lib.outbound_formats import (
    render_cxml_order_request,
    render_json,
    render_ubl_order,
)

SENDER = {
    "from_domain": "NetworkID",
    "from_identity": "AN01000000001",
    "to_domain": "DUNS",
    "to_identity": "123456789",
    "sender_domain": "NetworkID",
    "sender_identity": "AN01000000001",
    "shared_secret": "s3cr3t-abc",
    "deployment_mode": "test",
}
UBL = {
    "": "urn:oasis:names:specification:ubl:schema:xsd:Order-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
NS = {"o": UBL[""], "cac": UBL["cac"], "cbc": UBL["cbc"]}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


# what the canonical export adds to an order for cXML (the DTD requires them)
BILL_TO = {
    "name": "Acme Belgium NV",
    "street": "1 Rue Royale",
    "zip": "1000",
    "city": "Brussels",
    "country_code": "BE",
    "email": "ap@acme.example",
}
CLASSIFICATIONS = [
    {"domain": "UNSPSC", "code": "14111507"},
    {"domain": "custom", "code": "All / Food / Coffee"},
]


def _po(**changes):
    po = canonical.example("purchase_order")
    po["bill_to"] = dict(BILL_TO)
    for line, classification in zip(po["lines"], CLASSIFICATIONS, strict=True):
        line["classification"] = dict(classification)
    po["lines"][0]["cost_center_name"] = "Finance"
    po.update(changes)
    return po


def _expected_total(po):
    cent = Decimal("0.01")
    return sum(
        (
            (
                Decimal(str(line["quantity"])) * Decimal(str(line["unit_price"]))
            ).quantize(cent, rounding=ROUND_HALF_UP)
            for line in po["lines"]
        ),
        Decimal(0),
    )


def _cxml(po=None, **kwargs):
    kwargs.setdefault("payload_id", "msg-1@finance-integration-hub")
    kwargs.setdefault("timestamp", "2026-11-26T09:00:00Z")
    kwargs.setdefault("sender", SENDER)
    return render_cxml_order_request(po or _po(), **kwargs)


def test_module_examples_hold():
    result = doctest.testmod(outbound_formats, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


# -- JSON ----------------------------------------------------------------------


def test_render_json_is_compact_utf8_in_envelope_order():
    envelope = {"type": "supplier.upsert", "id": "e1", "data": {"name": "Café Noir"}}
    body = render_json(envelope)
    assert (
        body
        == '{"type":"supplier.upsert","id":"e1","data":{"name":"Café Noir"}}'.encode()
    )
    assert json.loads(body) == envelope


def test_render_json_refuses_nan():
    with pytest.raises(ValueError, match="Out of range float"):
        render_json({"amount": float("nan")})


# -- cXML ----------------------------------------------------------------------


def test_cxml_starts_with_declaration_and_the_doctype_of_its_version():
    assert _cxml().startswith(
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.063/cXML.dtd">\n'
        b"<cXML "
    )
    assert b"/cXML/1.2.050/cXML.dtd" in _cxml(version="1.2.050")
    with pytest.raises(ValueError, match="must look like 1.2.063, not '1.2'"):
        _cxml(version="1.2")


def test_cxml_order_request_from_the_canonical_example():
    po = _po()
    root = safe_xml.parse(_cxml(po))
    assert root.get("payloadID") == "msg-1@finance-integration-hub"
    assert root.get("timestamp") == "2026-11-26T09:00:00Z"
    assert root.get(XML_LANG) == "en-US"
    assert root.findtext("Header/From/Credential/Identity") == "AN01000000001"
    assert root.find("Header/To/Credential").get("domain") == "DUNS"
    assert root.findtext("Header/Sender/UserAgent") == "Finance Integration Hub"
    assert root.find("Request").get("deploymentMode") == "test"
    header = root.find("Request/OrderRequest/OrderRequestHeader")
    assert header.get("orderID") == "PO-000001"
    assert header.get("orderDate") == "2026-11-26T00:00:00+00:00"
    assert header.get("type") == "new"
    address = header.find("BillTo/Address")
    assert address.findtext("Name") == "Acme Belgium NV"
    assert address.findtext("PostalAddress/Street") == "1 Rue Royale"
    assert address.find("PostalAddress/Country").get("isoCountryCode") == "BE"
    assert address.findtext("Email") == "ap@acme.example"
    money = header.find("Total/Money")
    assert money.get("currency") == "EUR"
    assert money.text == str(_expected_total(po)) == "479.00"
    items = root.findall("Request/OrderRequest/ItemOut")
    assert len(items) == len(po["lines"]) == 2


def test_cxml_item_details():
    items = safe_xml.parse(_cxml()).findall("Request/OrderRequest/ItemOut")
    first, second = items
    assert first.get("quantity") == "10"
    assert first.get("lineNumber") == "1"
    assert first.get("requestedDeliveryDate") == "2026-12-03T00:00:00+00:00"
    assert first.findtext("ItemID/SupplierPartID") == "PAP-A4-80"
    classification = first.find("ItemDetail/Classification")
    assert (classification.get("domain"), classification.text) == (
        "UNSPSC",
        "14111507",
    )
    assert first.findtext("ItemDetail/UnitPrice/Money") == "24.90"
    assert first.find("ItemDetail/Description").get(XML_LANG) == "en"
    assert first.findtext("ItemDetail/UnitOfMeasure") == "EA"
    segment = first.find("Distribution/Accounting/AccountingSegment")
    assert first.find("Distribution/Accounting").get("name") == "CostCenter"
    assert segment.get("id") == "FIN-100"
    assert segment.findtext("Name") == "Cost center"
    assert segment.findtext("Description") == "Finance"
    # without a name, the cost center's code describes it
    assert second.findtext("Distribution/Accounting/AccountingSegment/Description") == (
        "OPS-200"
    )
    assert first.findtext("Distribution/Charge/Money") == "249.00"
    assert second.get("quantity") == "12.5"
    assert second.findtext("ItemDetail/UnitOfMeasure") == "KGM"
    assert second.findtext("Distribution/Charge/Money") == "230.00"


def test_cxml_rounds_each_line_half_up_and_totals_the_rounded_lines():
    po = _po()
    po["lines"][0].update(quantity=3, unit_price=0.125)  # 0.375 -> 0.38
    po["lines"][1].update(quantity=1, unit_price=2.675)  # 2.675 -> 2.68
    root = safe_xml.parse(_cxml(po))
    charges = [m.text for m in root.iter("Money") if m.getparent().tag == "Charge"]
    assert charges == ["0.38", "2.68"]
    assert root.findtext("Request/OrderRequest/OrderRequestHeader/Total/Money") == (
        str(_expected_total(po))
    )
    assert str(_expected_total(po)) == "3.06"
    prices = [m.text for m in root.iter("Money") if m.getparent().tag == "UnitPrice"]
    assert prices == ["0.125", "2.675"]  # unit prices keep their precision


def test_xml_special_characters_are_escaped_not_injected():
    po = _po()
    po["lines"][0]["description"] = "Bolts <M8> & nuts"
    po["lines"][1]["description"] = '</Description><SharedSecret>x</SharedSecret> "q"'
    body = _cxml(po)
    assert b"Bolts &lt;M8&gt; &amp; nuts" in body
    root = safe_xml.parse(body)
    descriptions = [d.text for d in root.iterfind(".//ItemDetail/Description")]
    assert descriptions == [
        po["lines"][0]["description"],
        po["lines"][1]["description"],
    ]
    assert len(list(root.iter("SharedSecret"))) == 1


def test_control_characters_give_a_readable_error():
    po = _po()
    po["lines"][0]["description"] = "Paper\x1b[31m"
    with pytest.raises(ValueError, match="description of line 1 contains.*U\\+001B"):
        _cxml(po)


@pytest.mark.parametrize("operation", ["new", "update", "delete"])
def test_cxml_operations(operation):
    root = safe_xml.parse(_cxml(operation=operation))
    header = root.find("Request/OrderRequest/OrderRequestHeader")
    assert header.get("type") == operation


def test_cxml_refuses_unknown_operation_and_incomplete_sender():
    with pytest.raises(ValueError, match="new, update or delete, not 'cancel'"):
        _cxml(operation="cancel")
    sender = {
        k: v for k, v in SENDER.items() if k not in ("to_identity", "shared_secret")
    }
    with pytest.raises(
        ValueError, match="sender settings miss: to_identity, shared_secret"
    ):
        _cxml(sender=sender)
    with pytest.raises(ValueError, match="production or test, not 'prod'"):
        _cxml(sender={**SENDER, "deployment_mode": "prod"})
    with pytest.raises(ValueError, match="payloadID and a timestamp"):
        _cxml(payload_id="")


def test_cxml_deployment_mode_defaults_to_production():
    sender = {k: v for k, v in SENDER.items() if k != "deployment_mode"}
    root = safe_xml.parse(_cxml(sender=sender))
    assert root.find("Request").get("deploymentMode") == "production"


def test_cxml_line_without_product_code_cost_center_or_date():
    po = _po()
    line = po["lines"][0]
    for key in ("product_code", "cost_center", "requested_date"):
        del line[key]
    line["line_id"] = "A-10"
    item = safe_xml.parse(_cxml(po)).find("Request/OrderRequest/ItemOut")
    assert item.findtext("ItemID/SupplierPartID") == "A-10"
    assert item.get("lineNumber") == "1"  # cXML wants a number: the position
    assert item.get("requestedDeliveryDate") is None
    assert item.find("Distribution") is None


def test_invalid_purchase_orders_give_readable_errors():
    with pytest.raises(ValueError, match="'PO-000001' has no lines"):
        _cxml(_po(lines=[]))
    po = _po()
    po["lines"][1]["quantity"] = "twelve"
    with pytest.raises(ValueError, match="quantity of line 2 must be a number"):
        _cxml(po)
    po = _po()
    po["lines"][0]["unit_price"] = float("inf")
    with pytest.raises(ValueError, match="unit price of line 1 must be a finite"):
        _cxml(po)
    with pytest.raises(ValueError, match="misses: currency"):
        _cxml(_po(currency=""))
    with pytest.raises(ValueError, match="misses bill_to .* which cXML requires"):
        _cxml(_po(bill_to={}))
    po = _po()
    del po["lines"][1]["classification"]
    with pytest.raises(ValueError, match="line 2 has no classification"):
        _cxml(po)


def test_a_bill_to_without_street_city_and_country_has_no_postal_address():
    address = safe_xml.parse(_cxml(_po(bill_to={"name": "Acme", "city": "Gent"})))
    address = address.find("Request/OrderRequest/OrderRequestHeader/BillTo/Address")
    assert [element.tag for element in address] == ["Name"]


def test_shared_secret_is_sent_but_redacted_for_the_log():
    body = _cxml()
    root = safe_xml.parse(body)
    assert root.findtext("Header/Sender/Credential/SharedSecret") == "s3cr3t-abc"
    redacted = redact_shared_secret(body)
    assert b"s3cr3t-abc" not in redacted
    again = safe_xml.parse(redacted)
    assert again.findtext("Header/Sender/Credential/SharedSecret") == "***"
    assert again.get("payloadID") == root.get("payloadID")
    assert len(again.findall("Request/OrderRequest/ItemOut")) == 2
    assert redacted.startswith(
        b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE cXML'
    )


def test_redaction_of_unparsable_documents_still_hides_the_secret():
    broken = b"<cXML><SharedSecret>s3cr3t-abc</SharedSecret><Request>"
    assert b"s3cr3t-abc" not in redact_shared_secret(broken)
    truncated = b"<cXML><Sender><SharedSecret>s3cr3t-a"
    assert b"s3cr3t" not in redact_shared_secret(truncated)


def test_redaction_clears_nested_content():
    body = b"<cXML><SharedSecret>a<b>s3cr3t</b>c</SharedSecret></cXML>"
    assert b"s3cr3t" not in redact_shared_secret(body)


# -- UBL -----------------------------------------------------------------------


def _ubl(po=None, **kwargs):
    kwargs.setdefault(
        "buyer",
        {
            "name": "Acme Belgium",
            "id": "BE0123456789",
            "endpoint_id": "0123456789",
            "endpoint_scheme": "0208",
        },
    )
    kwargs.setdefault("seller", {"id": "SUP-000001"})
    return safe_xml.parse(render_ubl_order(po or _po(), **kwargs))


def test_ubl_namespaces_and_header():
    root = _ubl()
    assert root.tag == "{urn:oasis:names:specification:ubl:schema:xsd:Order-2}Order"
    assert root.nsmap == {None: UBL[""], "cac": UBL["cac"], "cbc": UBL["cbc"]}
    assert root.findtext("cbc:UBLVersionID", namespaces=NS) == "2.1"
    assert root.findtext("cbc:CustomizationID", namespaces=NS) == (
        "urn:fdc:peppol.eu:poacc:trns:order:3"
    )
    assert root.findtext("cbc:ID", namespaces=NS) == "PO-000001"
    assert root.findtext("cbc:IssueDate", namespaces=NS) == "2026-11-26"
    assert root.findtext("cbc:DocumentCurrencyCode", namespaces=NS) == "EUR"


def test_ubl_parties():
    root = _ubl()
    buyer = root.find("cac:BuyerCustomerParty/cac:Party", NS)
    endpoint = buyer.find("cbc:EndpointID", NS)
    assert (endpoint.text, endpoint.get("schemeID")) == ("0123456789", "0208")
    assert buyer.findtext("cac:PartyIdentification/cbc:ID", namespaces=NS) == (
        "BE0123456789"
    )
    assert buyer.findtext(
        "cac:PartyLegalEntity/cbc:RegistrationName", namespaces=NS
    ) == ("Acme Belgium")
    seller = root.find("cac:SellerSupplierParty/cac:Party", NS)
    assert seller.findtext("cac:PartyIdentification/cbc:ID", namespaces=NS) == (
        "SUP-000001"
    )
    with pytest.raises(ValueError, match="SellerSupplierParty needs a name or an id"):
        _ubl(seller={})


def test_ubl_totals_and_lines():
    po = _po()
    po["lines"][0]["description"] = "Bolts <M8> & nuts"
    root = _ubl(po)
    payable = root.find("cac:AnticipatedMonetaryTotal/cbc:PayableAmount", NS)
    assert payable.text == str(_expected_total(po)) == "479.00"
    assert payable.get("currencyID") == "EUR"
    lines = root.findall("cac:OrderLine/cac:LineItem", NS)
    assert len(lines) == 2
    first = lines[0]
    assert first.findtext("cbc:ID", namespaces=NS) == "1"
    quantity = first.find("cbc:Quantity", NS)
    assert (quantity.text, quantity.get("unitCode")) == ("10", "EA")
    assert first.findtext("cbc:LineExtensionAmount", namespaces=NS) == "249.00"
    assert first.find("cac:Price/cbc:PriceAmount", NS).text == "24.90"
    assert first.find("cac:Price/cbc:PriceAmount", NS).get("currencyID") == "EUR"
    assert first.findtext("cac:Item/cbc:Name", namespaces=NS) == "Bolts <M8> & nuts"
    assert (
        first.findtext("cac:Item/cac:SellersItemIdentification/cbc:ID", namespaces=NS)
        == "PAP-A4-80"
    )
    assert lines[1].find("cbc:Quantity", NS).get("unitCode") == "KGM"


def test_ubl_child_order_follows_the_schema_sequence():
    root = _ubl()
    names = [child.tag.split("}")[1] for child in root]
    assert names == [
        "UBLVersionID",
        "CustomizationID",
        "ProfileID",
        "ID",
        "IssueDate",
        "DocumentCurrencyCode",
        "BuyerCustomerParty",
        "SellerSupplierParty",
        "AnticipatedMonetaryTotal",
        "OrderLine",
        "OrderLine",
    ]
