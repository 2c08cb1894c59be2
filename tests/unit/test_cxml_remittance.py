"""cXML PaymentRemittanceRequest -> canonical payment (the shape of JSON
payment events)."""

import pytest
from sample_documents import valid

from lib import canonical
from lib.cxml import CXMLError, parse_envelope, to_canonical
from simulator.cxml_fulfill import cxml_payment_remittance


def remittance(allocations=(("F-1", 46.0), ("F-2", 10.5)), **kwargs):
    kwargs.setdefault("currency", "EUR")
    kwargs.setdefault("shared_secret", "s3cr3t")
    return cxml_payment_remittance("PAY-1", "SUP-000001", list(allocations), **kwargs)


def convert(body):
    return to_canonical(parse_envelope(body))


def test_a_remittance_is_a_canonical_payment_allocated_by_invoice_number():
    converted = convert(remittance())
    assert (converted.object_type, converted.operation) == ("payment", "new")
    document = valid(converted)
    assert {
        key: value
        for key, value in document.items()
        if key not in ("updated_at", "extensions")
    } == {
        "external_id": "PAY-1",
        "supplier_external_id": "SUP-000001",
        "payment_date": "2026-12-01",
        "currency": "EUR",
        "amount": 56.5,
        "reference": "REMIT-PAY-1",
        "allocations": [
            {"invoice_number": "F-1", "amount": 46.0},
            {"invoice_number": "F-2", "amount": 10.5},
        ],
    }
    # the same keys as a JSON payment event
    assert set(document) <= set(canonical.load_schema("payment")["properties"])


def test_without_a_payee_contact_the_supplier_is_the_addressee():
    body = remittance().replace(b' addressID="SUP-000001"', b"")
    assert convert(body).document["supplier_external_id"] == "NetworkID:AN-HUB-01"


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (
            b'<NetAmount><Money currency="EUR">56.50',
            b'<NetAmount><Money currency="EUR">56.60',
            "pays 56.60 EUR, but its invoices add up to 56.50 EUR",
        ),
        (
            b'<NetAmount><Money currency="EUR">10.50',
            b'<NetAmount><Money currency="EUR">-10.50',
            "line 2 of the remittance PAY-1 deducts 10.50 EUR from invoice F-2",
        ),
        (
            b'<NetAmount><Money currency="EUR">10.50',
            b'<NetAmount><Money currency="USD">10.50',
            "is in USD, the document in EUR",
        ),
        (
            b'<InvoiceIDInfo invoiceID="F-2"/>',
            b'<InvoiceReference><DocumentReference payloadID="x"/></InvoiceReference>',
            "does not give the invoice number",
        ),
        (
            b'<PayableInvoiceInfo><InvoiceIDInfo invoiceID="F-2"/>'
            b"</PayableInvoiceInfo>",
            b'<PayableOrderInfo><OrderIDInfo orderID="PO-1"/></PayableOrderInfo>',
            "pays an order or an agreement, not an invoice",
        ),
        (
            b'paymentDate="2026-12-01T12:00:00+00:00"',
            b'paymentDate="tomorrow"',
            "the payment date of the remittance PAY-1 must be a date",
        ),
        (
            b"<PaymentRemittanceRequestHeader ",
            b'<PaymentRemittanceRequestHeader operation="update" ',
            "is an 'update' of an earlier remittance",
        ),
    ],
)
def test_remittances_the_hub_cannot_register_are_refused(old, new, reason):
    body = remittance()
    assert old in body
    with pytest.raises(CXMLError, match=reason):
        convert(body.replace(old, new))


def test_a_remittance_naming_no_invoice_is_refused():
    body = remittance([("F-1", 1.0)])
    start, end = (
        body.index(b"<RemittanceDetail"),
        body.index(b"</PaymentRemittanceRequest>"),
    )
    with pytest.raises(CXMLError, match="names no invoice"):
        convert(body[:start] + body[end:])
