import doctest
from pathlib import Path

import pytest
from sample_documents import sample

from lib import canonical, safe_xml, ubl_inbound
from lib.outbound_formats import render_ubl_order
from lib.ubl_inbound import UBLError, invoice_to_canonical

SAMPLES = Path(__file__).resolve().parent / "samples"
SUPPLIER_PARTY = b'<cbc:EndpointID schemeID="0208">0123456749</cbc:EndpointID>'
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE Invoice [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol9 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<Invoice>&lol9;</Invoice>"""
XXE = (
    b'<?xml version="1.0"?>'
    b'<!DOCTYPE Invoice [<!ENTITY xxe SYSTEM "http://169.254.169.254/latest/">]>'
    b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">'
    b"&xxe;</Invoice>"
)


def _invoice(*replacements):
    document = invoice_to_canonical(sample("ubl_invoice", *replacements))
    assert canonical.validate("invoice", document) == []
    return document


def test_module_examples_hold():
    result = doctest.testmod(ubl_inbound, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_peppol_invoice_becomes_a_canonical_invoice():
    document = _invoice()
    assert document["document_type"] == "invoice"
    assert document["supplier_external_id"] == "0208:0123456749"
    assert document["external_id"] == "0208:0123456749/invoice/INV-2026-000101"
    assert document["invoice_number"] == "INV-2026-000101"
    assert (document["invoice_date"], document["due_date"]) == (
        "2026-12-03",
        "2027-01-02",
    )
    assert document["currency"] == "EUR"
    assert document["purchase_order_external_id"] == "PO-000001"
    example_lines = canonical.example("invoice")["lines"]
    for read, expected in zip(document["lines"], example_lines, strict=False):
        for key in ("po_line_id", "product_code", "quantity", "uom", "unit_price"):
            assert read[key] == expected[key]
        assert read["tax_codes"] == expected["tax_codes"]
    assert document["lines"][0]["description"] == "Copy paper A4 80 g/m2"
    assert document["lines"][0]["cost_center"] == "FIN-100"


def test_price_for_a_base_quantity_is_brought_to_one_unit():
    # the coffee is priced 184.00 per 10 kg
    assert _invoice()["lines"][1]["unit_price"] == 18.4


def test_document_charges_keep_their_reason_and_tax():
    document = _invoice()
    assert len(document["lines"]) == 2
    assert document["charges"] == [
        {"amount": 10.0, "reason": "Freight", "tax_codes": ["VAT21"]}
    ]
    assert "allowances" not in document
    lines = sum(line["quantity"] * line["unit_price"] for line in document["lines"])
    assert lines + 10.0 == pytest.approx(document["amount_untaxed"])


def test_document_allowances_are_header_discounts_with_their_tax():
    document = _invoice(
        (b"<cbc:ChargeIndicator>true", b"<cbc:ChargeIndicator>false"),
        (
            b"<cbc:AllowanceChargeReason>Freight",
            b"<cbc:AllowanceChargeReasonCode>95</cbc:AllowanceChargeReasonCode>"
            b"<cbc:AllowanceChargeReason>Volume",
        ),
        (
            b'"EUR">489.00</cbc:TaxExclusiveAmount>',
            b'"EUR">469.00</cbc:TaxExclusiveAmount>',
        ),
        (
            b'"EUR">557.19</cbc:TaxInclusiveAmount>',
            b'"EUR">537.19</cbc:TaxInclusiveAmount>',
        ),
        (b'"EUR">68.19</cbc:TaxAmount>', b'"EUR">68.19</cbc:TaxAmount>'),
        (
            b'<cbc:ChargeTotalAmount currencyID="EUR">10.00</cbc:ChargeTotalAmount>',
            b'<cbc:AllowanceTotalAmount currencyID="EUR">10.00'
            b"</cbc:AllowanceTotalAmount>",
        ),
        (b'"EUR">500.00</cbc:PayableAmount>', b'"EUR">480.00</cbc:PayableAmount>'),
    )
    assert "charges" not in document
    assert document["allowances"] == [
        {
            "amount": 10.0,
            "reason": "Volume",
            "reason_code": "95",
            "tax_codes": ["VAT21"],
        }
    ]


def test_a_charge_keeps_its_own_tax_category():
    document = _invoice(
        (
            b"    <cac:TaxCategory>\n      <cbc:ID>S</cbc:ID>\n"
            b"      <cbc:Percent>21</cbc:Percent>",
            b"    <cac:TaxCategory>\n      <cbc:ID>E</cbc:ID>\n"
            b"      <cbc:Percent>0</cbc:Percent>",
        ),
    )
    assert document["charges"][0]["tax_codes"] == ["VAT0-E"]


def test_taxes_and_totals_are_taken_as_stated():
    document = _invoice()
    assert document["tax_totals"] == [
        {"tax_code": "VAT21", "base": 259.0, "amount": 54.39},
        {"tax_code": "VAT6", "base": 230.0, "amount": 13.8},
    ]
    assert document["amount_untaxed"] == 489.0
    assert document["amount_tax"] == 68.19  # the EUR TaxTotal, not the USD one
    assert document["amount_total"] == 557.19
    # what is left to pay after the prepayment
    assert "extensions" not in document
    # booked at its total, held for the prepayment to be matched
    assert (document["amount_due"], document["amount_prepaid"]) == (500.0, 57.19)


def test_a_line_allowance_is_a_discount_on_the_stated_price():
    document = _invoice(
        (
            b'currencyID="EUR">249.00</cbc:LineExtensionAmount>',
            b'currencyID="EUR">224.10</cbc:LineExtensionAmount>'
            b"<cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator>"
            b'<cbc:Amount currencyID="EUR">24.90</cbc:Amount></cac:AllowanceCharge>',
        ),
        (
            b'"EUR">479.00</cbc:LineExtensionAmount>',
            b'"EUR">454.10</cbc:LineExtensionAmount>',
        ),
        (
            b'"EUR">489.00</cbc:TaxExclusiveAmount>',
            b'"EUR">464.10</cbc:TaxExclusiveAmount>',
        ),
        (
            b'"EUR">557.19</cbc:TaxInclusiveAmount>',
            b'"EUR">532.29</cbc:TaxInclusiveAmount>',
        ),
        (b'"EUR">500.00</cbc:PayableAmount>', b'"EUR">475.10</cbc:PayableAmount>'),
    )
    line = document["lines"][0]
    # 10 x 24.90 less 24.90: 10 % off 24.90, as Odoo's importer books it
    assert (line["line_amount"], line["unit_price"]) == (224.10, 24.90)
    assert line["discount_percent"] == 10.0


def test_credit_note_becomes_a_canonical_credit_note():
    document = invoice_to_canonical(sample("ubl_credit_note"))
    assert canonical.validate("invoice", document) == []
    assert document["document_type"] == "credit_note"
    assert document["invoice_number"] == "CN-2026-000007"
    assert document["due_date"] == "2026-12-22"  # from PaymentMeans
    assert document["lines"] == [
        {
            "line_id": "1",
            "po_line_id": "1",
            "product_code": "PAP-A4-80",
            "description": "Copy paper A4 80 g/m2, damaged boxes",
            "quantity": 2.0,
            "uom": "Units",
            "line_amount": 49.8,
            "unit_price": 24.9,
            "tax_codes": ["VAT21"],
        }
    ]
    assert (document["amount_untaxed"], document["amount_tax"]) == (49.8, 10.46)
    assert document["amount_total"] == 60.26
    assert document["extensions"] == {"ubl_billing_references": ["INV-2026-000101"]}


@pytest.mark.parametrize(
    ("replacements", "supplier"),
    [
        ([(SUPPLIER_PARTY, b"")], "SUP-000001"),
        (
            [
                (SUPPLIER_PARTY, b""),
                (b"<cac:PartyIdentification><cbc:ID>SUP-000001</cbc:ID>", b"<cac:X>"),
                (b"</cac:PartyIdentification>", b"</cac:X>"),
            ],
            "0208:0123456749",
        ),
        (
            [
                (SUPPLIER_PARTY, b""),
                (b"<cac:PartyIdentification><cbc:ID>SUP-000001</cbc:ID>", b"<cac:X>"),
                (b"</cac:PartyIdentification>", b"</cac:X>"),
                (b'<cbc:CompanyID schemeID="0208">0123456749</cbc:CompanyID>', b""),
            ],
            "BE0123456749",
        ),
    ],
)
def test_supplier_id_falls_back_from_endpoint_to_party_id_to_company_id(
    replacements, supplier
):
    document = _invoice(*replacements)
    assert document["supplier_external_id"] == supplier
    assert document["external_id"] == f"{supplier}/invoice/INV-2026-000101"


def test_supplier_party_identification_keeps_its_scheme():
    document = invoice_to_canonical(sample("ubl_credit_note", (SUPPLIER_PARTY, b"")))
    assert document["supplier_external_id"] == "0088:5412345000013"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (
            render_ubl_order(
                canonical.example("purchase_order"),
                buyer={"name": "Acme"},
                seller={"name": "Paper & Beans"},
            ),
            "the document is a UBL Order, not an Invoice or a CreditNote",
        ),
        (
            (SAMPLES / "cxml_invoice_line_tax.xml").read_bytes(),
            "the document is a cXML, not an Invoice or a CreditNote",
        ),
        (
            b'<Invoice xmlns="urn:example:invoice"/>',
            "the document is a Invoice, not",
        ),
        (b"<Invoice/>", "the document is a Invoice, not"),
    ],
)
def test_other_documents_are_refused_readably(data, reason):
    with pytest.raises(UBLError, match=reason):
        invoice_to_canonical(data)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (BILLION_LAUGHS, "declares its own DTD or entities"),
        (XXE, "declares its own DTD or entities"),
        (
            b"<Invoice>" + b"<a>" * 120 + b"</a>" * 120 + b"</Invoice>",
            "nested more than 100 levels deep",
        ),
        (b"<Invoice><cbc:ID>1</cbc:ID></Invoice>", "not well-formed XML"),
    ],
)
def test_hostile_xml_is_refused_readably_through_safe_xml(data, reason):
    with pytest.raises(UBLError, match=reason) as caught:
        invoice_to_canonical(data)
    assert not isinstance(caught.value, safe_xml.UnsafeXMLError)


@pytest.mark.parametrize(
    ("replacements", "reason"),
    [
        (
            [
                (b"<cac:AccountingSupplierParty>", b"<cac:Y>"),
                (b"</cac:AccountingSupplierParty>", b"</cac:Y>"),
            ],
            "does not identify its supplier",
        ),
        ([(b"<cbc:ID>INV-2026-000101</cbc:ID>", b"")], "has no number"),
        (
            [(b"<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>", b"")],
            "has no currency",
        ),
        (
            [
                (
                    b"<cbc:IssueDate>2026-12-03</cbc:IssueDate>",
                    b"<cbc:IssueDate>03/12/2026</cbc:IssueDate>",
                )
            ],
            "the date of the invoice INV-2026-000101 must be a date such as 2026-12-03",
        ),
        (
            [(b'unitCode="KGM">12.5<', b'unitCode="KGM">12,5<')],
            "the quantity of line 2 of the invoice INV-2026-000101 must be a number",
        ),
        (
            [
                (
                    b'<cbc:PriceAmount currencyID="EUR">24.90',
                    b'<cbc:PriceAmount currencyID="USD">24.90',
                )
            ],
            "the price of line 1 of the invoice INV-2026-000101 is in USD, the "
            "document in EUR",
        ),
        (
            [
                (
                    b'<cbc:TaxInclusiveAmount currencyID="EUR">557.19',
                    b'<cbc:TaxInclusiveAmount currencyID="EUR">-557.19',
                )
            ],
            "the untaxed total \\(489.00\\) plus the tax \\(68.19\\) of the "
            "invoice INV-2026-000101 come to 557.19 EUR, but the document "
            "states a total of -557.19",
        ),
        (
            [
                (
                    b'<cbc:TaxAmount currencyID="EUR">68.19',
                    b'<cbc:TaxAmount currencyID="GBP">68.19',
                )
            ],
            "states no tax total in EUR",
        ),
        (
            [(b"<cbc:ID>2</cbc:ID>", b"<cbc:ID>1</cbc:ID>")],
            "has two lines numbered 1",
        ),
        (
            [(b"<cbc:Percent>6</cbc:Percent>", b"<cbc:Percent>six</cbc:Percent>")],
            "the VAT rate must be a number",
        ),
        (
            [
                (b"<cac:LegalMonetaryTotal>", b"<cac:Z>"),
                (b"</cac:LegalMonetaryTotal>", b"</cac:Z>"),
            ],
            "has no totals",
        ),
    ],
)
def test_invoice_problems_are_refused_readably(replacements, reason):
    with pytest.raises(UBLError, match=reason):
        invoice_to_canonical(sample("ubl_invoice", *replacements))


def test_invoice_without_lines_is_refused():
    data = sample("ubl_invoice")
    data = data[: data.index(b"<cac:InvoiceLine>")] + b"</Invoice>"
    with pytest.raises(UBLError, match="has no lines \\(InvoiceLine\\)"):
        invoice_to_canonical(data)


def test_negative_credit_note_is_refused():
    data = sample(
        "ubl_credit_note",
        (
            b'TaxInclusiveAmount currencyID="EUR">60.26',
            b'TaxInclusiveAmount currencyID="EUR">-60.26',
        ),
    )
    with pytest.raises(UBLError, match="send an invoice instead"):
        invoice_to_canonical(data)


@pytest.mark.parametrize(
    ("category", "percent", "code"),
    [
        ("S", "21", "VAT21"),
        ("E", "0", "VAT0-E"),
        ("AE", "0", "VAT0-AE"),
        ("Z", "0.00", "VAT0-Z"),
    ],
)
def test_tax_categories_give_the_hub_tax_codes(category, percent, code):
    document = _invoice(
        (
            b"<cbc:ID>S</cbc:ID>\n        <cbc:Percent>6</cbc:Percent>",
            f"<cbc:ID>{category}</cbc:ID><cbc:Percent>{percent}</cbc:Percent>".encode(),
        ),
    )
    assert document["lines"][1]["tax_codes"] == [code]


def test_a_line_contradicting_its_quantity_and_price_is_refused_naming_it():
    data = sample(
        "ubl_invoice",
        (
            b'"EUR">249.00</cbc:LineExtensionAmount>',
            b'"EUR">250.00</cbc:LineExtensionAmount>',
        ),
    )
    with pytest.raises(
        UBLError, match="line 1 of the invoice INV-2026-000101 states 250.00"
    ):
        invoice_to_canonical(data)


def test_a_line_within_the_rounding_slack_keeps_its_stated_amount():
    # 10 units at 24.899 come to 248.99: the supplier states 249.00, within 0.02
    document = _invoice(
        (
            b'<cbc:PriceAmount currencyID="EUR">24.90',
            b'<cbc:PriceAmount currencyID="EUR">24.899',
        ),
    )
    line = document["lines"][0]
    assert line["line_amount"] == 249.0
    assert line["unit_price"] == 24.9  # 249.00 / 10, exact


def test_lines_that_do_not_add_up_to_the_untaxed_total_are_refused():
    data = sample(
        "ubl_invoice",
        (
            b'"EUR">489.00</cbc:TaxExclusiveAmount>',
            b'"EUR">490.00</cbc:TaxExclusiveAmount>',
        ),
        (
            b'"EUR">557.19</cbc:TaxInclusiveAmount>',
            b'"EUR">558.19</cbc:TaxInclusiveAmount>',
        ),
    )
    with pytest.raises(
        UBLError,
        match=r"come to 489.00 EUR, but the document states an untaxed total of 490.00",
    ):
        invoice_to_canonical(data)


def test_unit_price_is_the_exact_amount_per_unit_or_the_stated_price():
    from lib.ubl_inbound import _unit_price

    D = ubl_inbound.Decimal
    assert _unit_price(D("10.00"), D("4"), D("2.5"), False) == D("2.5")
    # 10.00 for 3 at 3.333: no exact quotient, the stated price stays
    assert _unit_price(D("10.00"), D("3"), D("3.333"), False) == D("3.333")
    # a line allowance: the net price per unit to 6 places
    assert _unit_price(D("10.00"), D("3"), D("4"), True) == D("3.333333")
    # a return line keeps its sign in the quantity
    assert _unit_price(D("-1500"), D("-3"), D("500"), False) == D("500")


def test_a_prepayment_invoice_is_refused_as_in_cii():
    """A prepayment invoice (386) would be counted twice: the final invoice
    states the prepayment. UBL and CII refuse it alike."""
    body = sample(
        "ubl_invoice",
        (
            b"<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>",
            b"<cbc:InvoiceTypeCode>386</cbc:InvoiceTypeCode>",
        ),
    )
    with pytest.raises(UBLError, match=r"prepayment invoice \(type code 386\)"):
        invoice_to_canonical(body)


def test_stated_charges_and_amount_due_must_add_up():
    """BR-CO-12 and BR-CO-16 hold for UBL as for CII: a charge total or an
    amount due that disagrees with the document is refused naming the rule."""
    with pytest.raises(UBLError, match="BR-CO-12"):
        invoice_to_canonical(
            sample(
                "ubl_invoice",
                (
                    b'"EUR">10.00</cbc:ChargeTotalAmount>',
                    b'"EUR">10.01</cbc:ChargeTotalAmount>',
                ),
            )
        )
    with pytest.raises(UBLError, match="BR-CO-16"):
        invoice_to_canonical(
            sample(
                "ubl_invoice",
                (
                    b'"EUR">500.00</cbc:PayableAmount>',
                    b'"EUR">500.01</cbc:PayableAmount>',
                ),
            )
        )


def test_a_tax_total_that_is_not_the_sum_of_its_subtotals_is_refused():
    """BR-CO-14: the document's tax equals the sum of its rates' tax."""
    with pytest.raises(UBLError, match="BR-CO-14"):
        invoice_to_canonical(
            sample(
                "ubl_invoice",
                (b'"EUR">13.80</cbc:TaxAmount>', b'"EUR">13.81</cbc:TaxAmount>'),
            )
        )
