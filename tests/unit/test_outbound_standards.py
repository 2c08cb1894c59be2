"""What the hub writes follows the published standards: cXML documents are
valid against the DTD of the version they declare, the UBL Order against the
OASIS UBL 2.5 schema (public corpus in shared/corpus)."""

import pytest
from lxml import etree
from public_corpus import CXML_VERSIONS, UBL_ORDER_XSD, corpus_path, cxml_dtd
from test_outbound_formats import SENDER, _po

from lib import safe_xml
from lib.cxml import render_response
from lib.outbound_formats import render_cxml_order_request, render_ubl_order
from simulator.cxml_fulfill import cxml_confirmation, cxml_payment_remittance


def _errors(dtd, document):
    dtd.validate(document)
    return [error.message for error in dtd.error_log.filter_from_errors()]


def _order_request(po, operation, version):
    return render_cxml_order_request(
        po,
        payload_id="msg-1@finance-integration-hub",
        timestamp="2026-11-26T09:00:00+00:00",
        sender=SENDER,
        operation=operation,
        version=version,
    )


@pytest.mark.parametrize("version", CXML_VERSIONS)
@pytest.mark.parametrize("operation", ["new", "update", "delete"])
def test_order_requests_are_valid_against_the_dtd_they_declare(version, operation):
    body = _order_request(_po(), operation, version)
    document = safe_xml.parse(body)
    assert document.getroottree().docinfo.system_url == (
        f"http://xml.cxml.org/schemas/cXML/{version}/cXML.dtd"
    )
    assert _errors(cxml_dtd(version), document) == []


@pytest.mark.parametrize("version", CXML_VERSIONS)
def test_a_minimal_order_request_is_valid_too(version):
    """Bill-to without postal address, lines without cost center or date."""
    po = _po(bill_to={"name": "Acme"})
    for line in po["lines"]:
        for key in ("cost_center", "cost_center_name", "requested_date"):
            line.pop(key, None)
    document = safe_xml.parse(_order_request(po, "new", version))
    assert _errors(cxml_dtd(version), document) == []


@pytest.mark.parametrize("version", CXML_VERSIONS)
def test_order_requests_without_bill_to_classification_or_segment_text_were_invalid(
    version,
):
    """What the hub wrote before: the DTD refuses it (why the fields exist)."""
    document = safe_xml.parse(_order_request(_po(), "new", version))
    document.find("Request/OrderRequest/OrderRequestHeader/BillTo").getparent().remove(
        document.find("Request/OrderRequest/OrderRequestHeader/BillTo")
    )
    errors = _errors(cxml_dtd(version), document)
    assert any("OrderRequestHeader" in error for error in errors)


def test_the_cxml_response_is_valid_against_the_default_version():
    document = safe_xml.parse(render_response(406, "line 2 has no quantity", "r@h"))
    assert _errors(cxml_dtd("1.2.063"), document) == []


@pytest.mark.parametrize("version", CXML_VERSIONS)
def test_the_simulated_confirmations_follow_the_fulfill_dtd(version):
    dtd = cxml_dtd(version, "Fulfill.dtd")
    for body in (
        cxml_confirmation(
            "PO-1", [(1, 10, [("accept", 10, "2026-12-03")])], shared_secret="s"
        ),
        cxml_confirmation(
            "PO-1",
            [(1, 10, [("detail", 6, "2026-12-10", 4.5, "late"), ("reject", 4)])],
            shared_secret="s",
            comments="Partly out of stock",
        ),
        cxml_confirmation("PO-1", [], shared_secret="s", comments="Discontinued"),
    ):
        assert _errors(dtd, safe_xml.parse(body)) == []


def test_the_simulated_remittance_is_well_formed_cxml():
    """The corpus has no PaymentRemittance DTD: the structure follows the cXML
    reference (header, summary, one RemittanceDetail per invoice)."""
    body = cxml_payment_remittance(
        "PAY-1", "SUP-1", [("F-1", 10.0)], currency="EUR", shared_secret="s"
    )
    request = safe_xml.parse(body).find("Request/PaymentRemittanceRequest")
    assert [child.tag for child in request] == [
        "PaymentRemittanceRequestHeader",
        "PaymentRemittanceSummary",
        "RemittanceDetail",
    ]


def test_the_ubl_order_is_valid_against_the_ubl_2_5_schema():
    schema = etree.XMLSchema(file=str(corpus_path(UBL_ORDER_XSD)))
    body = render_ubl_order(
        _po(),
        buyer={
            "name": "Acme Belgium",
            "id": "BE0123456789",
            "endpoint_id": "0123456789",
            "endpoint_scheme": "0208",
        },
        seller={"id": "SUP-000001"},
    )
    document = safe_xml.parse(body)
    assert schema.validate(document), [e.message for e in schema.error_log]
