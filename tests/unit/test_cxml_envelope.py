"""Reading the cXML envelope: credentials, modes, refusals."""

import pytest
from sample_documents import BILLION_LAUGHS, SAMPLES, TOO_DEEP, XXE, sample, sample_root

from lib import safe_xml
from lib.cxml import (
    CXMLError,
    parse_envelope,
    to_canonical,
)
from lib.cxml.envelope import Credential
from lib.cxml.order import order_request_to_canonical

# -- envelope ------------------------------------------------------------------


def test_envelope_reads_ids_credentials_kind_and_mode():
    envelope = parse_envelope(sample("cxml_invoice_line_tax"))
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
    assert parse_envelope(sample("cxml_receipt")).deployment_mode == "production"


def test_envelope_keeps_the_shared_secret_out_of_its_repr():
    envelope = parse_envelope(sample("cxml_order_request"))
    assert envelope.shared_secret == "order-secret-1"
    assert "order-secret-1" not in repr(envelope)
    assert "order-secret-1" not in str(envelope)


def test_envelope_without_shared_secret_leaves_the_401_to_the_caller():
    data = sample(
        "cxml_order_request", (b"<SharedSecret>order-secret-1</SharedSecret>", b"")
    )
    assert parse_envelope(data).shared_secret is None


def test_sender_credential_with_the_secret_comes_first():
    data = sample(
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
    data = sample(
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
        parse_envelope(sample("cxml_order_request", *replacements))
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
    envelope = parse_envelope(sample("cxml_ship_notice"))
    assert envelope.root.getroottree().docinfo.system_url.endswith("Fulfill.dtd")


def test_documents_the_hub_does_not_take_are_refused_readably():
    data = sample(
        "cxml_receipt",
        (b"<ReceiptRequest>", b"<QuoteRequest>"),
        (b"</ReceiptRequest>", b"</QuoteRequest>"),
    )
    envelope = parse_envelope(data)
    with pytest.raises(CXMLError, match="cannot process QuoteRequest documents; it"):
        to_canonical(envelope)


def test_a_converter_refuses_another_document_kind():
    with pytest.raises(CXMLError, match="not a cXML OrderRequest"):
        order_request_to_canonical(sample_root("cxml_receipt"))
