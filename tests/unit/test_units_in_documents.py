"""Units of measure as the cXML and UBL readers pass them to the flows: each
UN/ECE code becomes the name of the Odoo unit it means, whatever the document."""

import pytest
from sample_documents import sample, valid

from lib import canonical
from lib.cxml import parse_envelope, to_canonical
from lib.ubl_inbound import invoice_to_canonical

CODES = [
    ("C62", "Units"),
    ("H87", "Units"),
    ("EA", "Units"),
    ("PCE", "Units"),
    ("DZN", "Dozens"),
    ("KGM", "kg"),
    (" dzn ", "Dozens"),
]
CXML_UNIT = b"<UnitOfMeasure>EA</UnitOfMeasure>"


def _cxml_unit(code):
    return b"<UnitOfMeasure>" + code.encode() + b"</UnitOfMeasure>"


def _cxml_lines(name, code):
    converted = to_canonical(
        parse_envelope(sample(name, (CXML_UNIT, _cxml_unit(code))))
    )
    return valid(converted)["lines"]


@pytest.mark.parametrize(("code", "unit"), CODES)
@pytest.mark.parametrize(
    "name",
    [
        "cxml_order_request",
        "cxml_receipt",
        "cxml_ship_notice",
        "cxml_invoice_line_tax",
        "cxml_invoice_header_tax",
        "cxml_credit_memo_lines",
    ],
)
def test_cxml_documents_give_the_flows_the_odoo_unit_of_each_code(name, code, unit):
    assert _cxml_lines(name, code)[0]["uom"] == unit


@pytest.mark.parametrize(("code", "unit"), CODES)
def test_ubl_invoices_give_the_flows_the_odoo_unit_of_each_code(code, unit):
    document = invoice_to_canonical(
        sample(
            "ubl_invoice",
            (
                b'InvoicedQuantity unitCode="EA"',
                f'InvoicedQuantity unitCode="{code}"'.encode(),
            ),
        )
    )
    assert canonical.validate("invoice", document) == []
    assert document["lines"][0]["uom"] == unit


@pytest.mark.parametrize(("code", "unit"), CODES)
def test_ubl_credit_notes_give_the_flows_the_odoo_unit_of_each_code(code, unit):
    document = invoice_to_canonical(
        sample(
            "ubl_credit_note",
            (
                b'CreditedQuantity unitCode="EA"',
                f'CreditedQuantity unitCode="{code}"'.encode(),
            ),
        )
    )
    assert canonical.validate("invoice", document) == []
    assert document["lines"][0]["uom"] == unit


def test_a_code_without_an_odoo_unit_reaches_the_flow_as_sent():
    # the flow then refuses it with a readable reason (unknown unit)
    assert _cxml_lines("cxml_order_request", "PAL")[0]["uom"] == "PAL"
