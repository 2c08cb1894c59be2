"""Every public UBL document of the corpus, read as suppliers send it.

Each document is either read faithfully (the canonical totals, tax and line
count are the document's own LegalMonetaryTotal and TaxTotal figures) or
refused with a reason that is legitimate for it; anything else is wrong.
The documents are read in place (``shared/corpus`` beside the repository,
and Odoo's own Peppol example); a test skips when its document is absent.
"""

from decimal import Decimal

import pytest
from public_corpus import CORPUS, ODOO_ADDONS

from lib import canonical, safe_xml
from lib.ubl_inbound import NS, UBLError, invoice_to_canonical

PEPPOL = CORPUS / "peppol-bis-3"
ODOO_EXAMPLE = (
    ODOO_ADDONS
    / "account_edi_ubl_cii"
    / "tests"
    / "test_files"
    / "bis3_bill_example.xml"
)
NAMES = (
    "base-example.xml",
    "base-creditnote-correction.xml",
    "base-negative-inv-correction.xml",
    "Allowance-example.xml",
    "Vat-category-S.xml",
    "vat-category-E.xml",
    "vat-category-O.xml",
    "vat-category-Z.xml",
    "sales-order-example.xml",
    "national-examples/GR/GR-base-example-correct.xml",
    "national-examples/GR/GR-base-example-TaxRepresentative.xml",
    "national-examples/NO/Norwegian-example-1.xml",
)
# documents refused on purpose, with the reason that makes it legitimate
# (none today; the Factur-X CII files are read in test_cii_corpus.py)
REFUSED = {}


def _document(name):
    path = ODOO_EXAMPLE if name == "odoo" else PEPPOL / name
    if not path.exists():
        pytest.skip(f"{path} is not here (public corpus beside the repository)")
    return path.read_bytes()


def _stated(data):
    """The document's own figures: (untaxed, tax, total, line count, sign)."""
    root = safe_xml.parse(data)
    currency = root.findtext("cbc:DocumentCurrencyCode", namespaces=NS)
    totals = root.find("cac:LegalMonetaryTotal", NS)

    def figure(path):
        return Decimal(totals.findtext(path, namespaces=NS))

    tax = next(
        Decimal(element.text)
        for element in root.iterfind("cac:TaxTotal/cbc:TaxAmount", NS)
        if element.get("currencyID") == currency
    )
    lines = len(root.findall("cac:InvoiceLine", NS)) + len(
        root.findall("cac:CreditNoteLine", NS)
    )
    total = figure("cbc:TaxInclusiveAmount")
    return figure("cbc:TaxExclusiveAmount"), tax, total, lines


@pytest.mark.parametrize("name", [*NAMES, "odoo"])
def test_public_ubl_document_is_read_faithfully_or_refused_for_a_reason(name):
    data = _document(name)
    if name in REFUSED:
        with pytest.raises(UBLError, match=REFUSED[name]):
            invoice_to_canonical(data)
        return
    document = invoice_to_canonical(data)
    assert canonical.validate("invoice", document) == []
    untaxed, tax, total, count = _stated(data)
    sign = -1 if total < 0 else 1  # a negative invoice is read as a credit note
    assert Decimal(str(document["amount_untaxed"])) == sign * untaxed
    assert Decimal(str(document["amount_tax"])) == sign * tax
    assert Decimal(str(document["amount_total"])) == sign * total
    assert len(document["lines"]) == count
    lines = sum(Decimal(str(line["line_amount"])) for line in document["lines"])
    charges = sum(Decimal(str(c["amount"])) for c in document.get("charges", []))
    allowances = sum(Decimal(str(a["amount"])) for a in document.get("allowances", []))
    assert lines + charges - allowances == Decimal(str(document["amount_untaxed"]))


def test_negative_invoice_is_read_as_a_credit_note_under_its_own_identity():
    document = invoice_to_canonical(_document("base-negative-inv-correction.xml"))
    assert document["document_type"] == "credit_note"
    assert document["external_id"] == "0088:9482348239847239874/invoice/Correction1"
    assert document["extensions"]["ubl_negative_invoice"] is True
    assert (document["amount_untaxed"], document["amount_tax"]) == (1325.0, 331.25)
    assert document["amount_total"] == 1656.25
    assert document["charges"][0]["amount"] == 25.0
    assert sum(line["line_amount"] for line in document["lines"]) == 1300.0


def test_real_peppol_invoice_names_its_supplier_every_way_it_can():
    document = invoice_to_canonical(_document("base-example.xml"))
    kinds = [entry["kind"] for entry in document["supplier_identifiers"]]
    assert kinds[0] == "endpoint"
    assert "vat" in kinds
