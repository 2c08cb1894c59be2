"""Issue #13, finding 12: what masking missed, as the attacker saw it."""

import json

import pytest

from lib.masking import mask_document, mask_text

IBAN = "BE71096123456769"
VAT = "BE0477472701"


@pytest.mark.parametrize(
    "key",
    [
        "bankAccountNumber",
        "account_no",
        "vat_id",
        "taxNumber",
        "swiftCode",
        "fax",
        "telephone",
        "Supplier-VAT-Number",
        "BANK_ACCOUNT",
    ],
)
def test_sensitive_keys_are_masked_however_they_are_spelt(key):
    masked = json.dumps(mask_document({key: "GEBABEBB-0123456789"}))
    assert "GEBABEBB-0123456789" not in masked


@pytest.mark.parametrize(
    "value",
    [[IBAN, "BE68539007547034"], {"number": IBAN, "bic": "GEBABEBB"}, [{"x": IBAN}]],
)
def test_sensitive_keys_holding_a_list_or_an_object_are_masked_throughout(value):
    masked = json.dumps(mask_document({"bank_accounts": {"iban": value}}))
    assert IBAN not in masked
    assert "GEBABEBB" not in masked


@pytest.mark.parametrize(
    "value",
    [IBAN, "BE71 0961 2345 6769", VAT, "ap@acme.example", "+32 2 123 45 67"],
)
def test_values_are_masked_for_what_they_are_under_any_key(value):
    masked = json.dumps(mask_document({"reference": value, "lines": [value]}))
    assert value not in masked


def test_ubl_supplier_identifiers_are_masked_in_keys_and_payloads():
    document = {
        "external_id": "0208:0477472701/invoice/INV-7",
        "supplier_external_id": "0208:0477472701",
    }
    masked = json.dumps(mask_document(document))
    assert "0477472701" not in masked
    assert "INV-7" in masked


def test_exception_texts_quoting_ibans_and_vat_numbers_are_masked():
    text = (
        f"The bank account {IBAN} of supplier {VAT} is not the one on file "
        "for DE 123 456 789."
    )
    masked = mask_text(text)
    for secret in (IBAN, VAT, "123 456 789"):
        assert secret not in masked
    assert "is not the one on file" in masked


def test_xml_documents_are_masked_by_element_name_and_value():
    xml = (
        "<Invoice><cbc:CompanyID>0477472701</cbc:CompanyID>"
        f"<cbc:ID>{IBAN}</cbc:ID><Email>ap@acme.example</Email>"
        "<cbc:Note>Pay INV-7</cbc:Note></Invoice>"
    )
    masked = mask_text(xml)
    for secret in ("0477472701", IBAN, "ap@acme.example"):
        assert secret not in masked
    assert "Pay INV-7" in masked


@pytest.mark.parametrize(
    "text",
    [
        "INV-2026-0001",
        "2026-11-26T09:00:00Z",
        "1234567.89",
        "the total of the order DO1234 is 58.00 EUR",
        "AN01000000001",
        "tax code VAT21",
    ],
)
def test_business_references_and_amounts_stay_readable(text):
    assert mask_text(text) == text
    assert mask_document({"vat_rate": 21, "amount_tax": 12.5}) == {
        "vat_rate": 21,
        "amount_tax": 12.5,
    }
