"""cXML InvoiceDetailRequest -> canonical invoice or credit note."""

import pytest
from sample_documents import sample, sample_root, valid

from lib import canonical
from lib.cxml import (
    CXMLError,
    parse_envelope,
    to_canonical,
)
from lib.cxml.invoice import invoice_detail_to_canonical

# -- InvoiceDetailRequest ------------------------------------------------------


def test_invoice_with_line_level_tax_becomes_a_canonical_invoice():
    converted = to_canonical(parse_envelope(sample("cxml_invoice_line_tax")))
    assert (converted.object_type, converted.operation) == ("invoice", "new")
    document = valid(converted)
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
        "line_amount": 249.0,  # its SubtotalAmount, checked against the bill
        "tax_codes": ["VAT21"],
        "cost_center": "FIN-100",
    }
    assert (second["quantity"], second["uom"], second["tax_codes"]) == (
        12.5,
        "kg",
        ["VAT6"],
    )


def test_invoice_with_header_level_tax_takes_the_summary_rates():
    document = valid(
        invoice_detail_to_canonical(sample_root("cxml_invoice_header_tax"))
    )
    # lines without their own Tax have no tax codes: they take the taxes of
    # the order lines they invoice
    assert len(document["lines"]) == 2
    assert ["tax_codes" in line for line in document["lines"]] == [False, False]
    assert [line["po_line_id"] for line in document["lines"]] == ["1", "2"]
    # the shipping of the summary is a charge, taxed as its shippingTax says
    assert document["charges"] == [
        {"amount": 10.0, "reason": "Shipping", "tax_codes": ["VAT21"]}
    ]
    assert document["tax_totals"] == [
        {"tax_code": "VAT21", "base": 259.0, "amount": 54.39},
        {"tax_code": "VAT6", "base": 110.4, "amount": 6.62},
    ]
    assert (document["amount_untaxed"], document["amount_tax"]) == (369.4, 61.01)
    assert document["amount_total"] == 430.41
    assert document["purchase_order_external_id"] == "PO-000001"  # OrderIDInfo
    assert document["due_date"] == "2027-01-03"
    assert document["amount_due"] == 400.0


def test_invoice_supplier_falls_back_on_the_from_credential():
    document = valid(
        invoice_detail_to_canonical(sample_root("cxml_invoice_header_tax"))
    )
    assert document["supplier_external_id"] == "AN-SUP-000001"
    assert document["external_id"] == "AN-SUP-000001/INV-2026-000002"
    named = invoice_detail_to_canonical(
        sample_root("cxml_invoice_header_tax"), supplier_external_id="SUP-000001"
    )
    assert valid(named)["external_id"] == "SUP-000001/INV-2026-000002"


def test_line_level_credit_memo_becomes_a_credit_note_with_positive_amounts():
    document = valid(invoice_detail_to_canonical(sample_root("cxml_credit_memo_lines")))
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
    document = valid(
        invoice_detail_to_canonical(sample_root("cxml_credit_memo_header"))
    )
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
    negative = sample(
        "cxml_credit_memo_header",
        (b">20.00<", b">-20.00<"),
        (b">4.20<", b">-4.20<"),
        (b">24.20<", b">-24.20<"),
    )
    document = invoice_detail_to_canonical(parse_envelope(negative).root).document
    positive = invoice_detail_to_canonical(
        sample_root("cxml_credit_memo_header")
    ).document
    assert document == positive


def test_debit_memo_is_an_invoice():
    root = sample_root(
        "cxml_invoice_line_tax", (b'purpose="standard"', b'purpose="debitMemo"')
    )
    assert valid(invoice_detail_to_canonical(root))["document_type"] == "invoice"


def test_invoice_delete_keeps_the_document_for_the_binding():
    root = sample_root(
        "cxml_invoice_line_tax", (b'operation="new"', b'operation="delete"')
    )
    converted = invoice_detail_to_canonical(root)
    assert converted.operation == "delete"
    assert valid(converted)["external_id"] == "SUP-000001/INV-2026-000001"


def test_information_only_invoices_are_flagged():
    root = sample_root(
        "cxml_invoice_line_tax",
        (b'purpose="standard"', b'purpose="standard" isInformationOnly="yes"'),
    )
    assert valid(invoice_detail_to_canonical(root))["information_only"] is True


DISCOUNT = (
    b"<GrossAmount>",
    b'<InvoiceDetailDiscount percentageRate="1"><Money currency="EUR">3.59'
    b"</Money></InvoiceDetailDiscount><GrossAmount>",
)


def test_summary_discount_is_an_allowance_taxed_as_the_goods_it_reduces():
    # all the goods at 6 %: the discount lowers the 6 % taxable amount
    root = sample_root(
        "cxml_invoice_line_tax",
        (b'percentageRate="21"', b'percentageRate="6"'),
        DISCOUNT,
    )
    document = valid(invoice_detail_to_canonical(root))
    assert document["allowances"] == [
        {"amount": 3.59, "reason": "Discount", "tax_codes": ["VAT6"]}
    ]
    assert len(document["lines"]) == 2
    assert document["tax_totals"] == [
        {"tax_code": "VAT6", "base": 479.0, "amount": 66.09}
    ]


SUMMARY_DETAILS = (
    b'<Description xml:lang="en">Total VAT</Description>',
    b'<Description xml:lang="en">Total VAT</Description>'
    b'<TaxDetail purpose="tax" category="vat" percentageRate="21">'
    b'<TaxableAmount><Money currency="EUR">249.00</Money></TaxableAmount>'
    b'<TaxAmount><Money currency="EUR">52.29</Money></TaxAmount></TaxDetail>'
    b'<TaxDetail purpose="tax" category="vat" percentageRate="6">'
    b'<TaxableAmount><Money currency="EUR">226.41</Money></TaxableAmount>'
    b'<TaxAmount><Money currency="EUR">13.58</Money></TaxAmount></TaxDetail>',
)


def test_a_discount_among_several_taxes_takes_the_one_whose_base_it_reduces():
    # the summary states the 6 % base less the discount: 230.00 - 3.59
    root = sample_root("cxml_invoice_line_tax", DISCOUNT, SUMMARY_DETAILS)
    document = valid(invoice_detail_to_canonical(root))
    assert document["allowances"][0]["tax_codes"] == ["VAT6"]
    assert document["tax_totals"][1] == {
        "tax_code": "VAT6",
        "base": 226.41,
        "amount": 13.58,
    }


def test_a_discount_that_cannot_be_given_a_tax_is_refused():
    for root in (
        sample_root("cxml_invoice_header_tax", DISCOUNT),
        sample_root("cxml_invoice_line_tax", DISCOUNT),
    ):
        with pytest.raises(CXMLError, match=r"\(3.59\) cannot be given a tax: the "):
            invoice_detail_to_canonical(root)


def test_exempt_and_zero_rated_taxes_keep_their_reason_in_the_code():
    root = sample_root(
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
        invoice_detail_to_canonical(sample_root("cxml_invoice_line_tax", *replacements))
    assert caught.value.status_code == 406


SECOND_ORDER = (
    b'<InvoiceDetailItem invoiceLineNumber="2" quantity="12.5">',
    b"</InvoiceDetailOrder><InvoiceDetailOrder><InvoiceDetailOrderInfo>"
    b'<OrderReference orderID="PO-000002"><DocumentReference '
    b'payloadID="2.order@buyer.example"/></OrderReference>'
    b'</InvoiceDetailOrderInfo><InvoiceDetailItem invoiceLineNumber="2" '
    b'quantity="12.5">',
)


def test_a_summary_invoice_covering_two_orders_names_each_line_s_order():
    """One InvoiceDetailOrder per order (cXML summary invoice): the lines
    carry their own order, the summary covers both."""
    document = valid(
        invoice_detail_to_canonical(sample_root("cxml_invoice_line_tax", SECOND_ORDER))
    )
    assert "purchase_order_external_id" not in document
    assert [
        (line["line_id"], line["po_line_id"], line["purchase_order_external_id"])
        for line in document["lines"]
    ] == [("1", "1", "PO-000001"), ("2", "2", "PO-000002")]
    assert (document["amount_untaxed"], document["amount_total"]) == (479.0, 545.09)


def test_line_numbers_repeated_per_order_are_qualified_by_their_order():
    renumbered = (SECOND_ORDER[1], SECOND_ORDER[1].replace(b'"2" q', b'"1" q'))
    document = valid(
        invoice_detail_to_canonical(
            sample_root("cxml_invoice_line_tax", SECOND_ORDER, renumbered)
        )
    )
    assert [line["line_id"] for line in document["lines"]] == [
        "PO-000001/1",
        "PO-000002/1",
    ]


def test_a_summary_invoice_with_an_order_not_named_is_refused():
    """Only the supplier's order number: the lines cannot be matched."""
    supplier_order_only = (
        SECOND_ORDER[0],
        SECOND_ORDER[1].replace(
            b'<OrderReference orderID="PO-000002"><DocumentReference '
            b'payloadID="2.order@buyer.example"/></OrderReference>',
            b'<SupplierOrderInfo orderID="SO-77"/>',
        ),
    )
    with pytest.raises(CXMLError, match="one of its InvoiceDetailOrder names no"):
        invoice_detail_to_canonical(
            sample_root("cxml_invoice_line_tax", supplier_order_only)
        )


def test_a_negative_shipping_amount_on_an_invoice_is_refused_not_flipped():
    root = sample_root(
        "cxml_invoice_header_tax",
        (
            b'<ShippingAmount><Money currency="EUR">10.00</Money>',
            b'<ShippingAmount><Money currency="EUR">-10.00</Money>',
        ),
    )
    with pytest.raises(CXMLError, match="negative shipping amount.*credit memo"):
        invoice_detail_to_canonical(root)
