"""Every Factur-X / ZUGFeRD (UN/CEFACT CII) file Odoo 18 ships, read as
suppliers send it, and real-document mutations refused with the rule.

Each document is either read faithfully (the canonical totals, taxes and
lines are the document's own SpecifiedTradeSettlementHeaderMonetarySummation,
ApplicableTradeTax and line figures) or refused with a reason the standard
gives; anything else is wrong. The files are read in place from Odoo's
source (``/opt/odoo-18.0``), never copied; a test skips when they are absent.
"""

from decimal import Decimal

import pytest
from public_corpus import ODOO_ADDONS

from lib import canonical, safe_xml
from lib.cii_inbound import NS, CIIError, root_to_canonical
from lib.einvoice_inbound import read

ODOO = ODOO_ADDONS
FOLDERS = (
    ODOO / "account_edi_ubl_cii" / "tests" / "test_files",
    ODOO / "l10n_account_edi_ubl_cii_tests" / "tests" / "test_files",
)
CII_ROOT = b"CrossIndustryInvoice:100"
# documents refused on purpose, with the rule of the standard (none: every
# Factur-X file Odoo ships is read)
REFUSED = {}
SUMMATION = (
    "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/"
    "ram:SpecifiedTradeSettlementHeaderMonetarySummation"
)


def _paths():
    found = []
    for folder in FOLDERS:
        if folder.exists():
            found += [
                path
                for path in sorted(folder.glob("**/*.xml"))
                if CII_ROOT in path.read_bytes()[:3000]
            ]
    return found


PATHS = _paths()


def _document(name):
    for path in PATHS:
        if path.name == name:
            return path.read_bytes()
    pytest.skip(f"{name} is not here (Odoo 18's test files in {ODOO})")


def _stated(data):
    """The document's own figures: untaxed, tax, total, due, taxes per rate,
    line amounts."""
    root = safe_xml.parse(data)
    totals = root.find(SUMMATION, NS)

    def figure(name):
        return Decimal(totals.findtext(f"ram:{name}", namespaces=NS))

    settlement = totals.getparent()
    taxes = sorted(
        (
            Decimal(tax.findtext("ram:RateApplicablePercent", namespaces=NS) or 0),
            Decimal(tax.findtext("ram:BasisAmount", namespaces=NS)),
            Decimal(tax.findtext("ram:CalculatedAmount", namespaces=NS)),
        )
        for tax in settlement.iterfind("ram:ApplicableTradeTax", NS)
    )
    lines = [
        Decimal(amount.text)
        for amount in root.iterfind(
            ".//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount",
            NS,
        )
    ]
    return {
        "untaxed": figure("TaxBasisTotalAmount"),
        "tax": figure("TaxTotalAmount"),
        "total": figure("GrandTotalAmount"),
        "due": figure("DuePayableAmount"),
        "taxes": taxes,
        "lines": lines,
        "type": root.findtext("rsm:ExchangedDocument/ram:TypeCode", namespaces=NS),
    }


def test_the_odoo_factur_x_files_are_here_or_the_corpus_tests_skip():
    if not PATHS:
        pytest.skip(f"Odoo 18's Factur-X test files are not in {ODOO}")
    # 2 in account_edi_ubl_cii, 4 from the Factur-X documentation, 7 of
    # Odoo's own exports
    assert len(PATHS) >= 13


@pytest.mark.parametrize("path", PATHS, ids=[path.name for path in PATHS])
def test_factur_x_document_is_read_faithfully_or_refused_for_a_reason(path):
    data = path.read_bytes()
    if path.name in REFUSED:
        with pytest.raises(CIIError, match=REFUSED[path.name]):
            read(data)
        return
    document = read(data)
    assert canonical.validate("invoice", document) == []
    stated = _stated(data)
    # a negative invoice (380) is a correction: booked as a credit note
    sign = -1 if stated["total"] < 0 else 1
    expected_type = "credit_note" if sign < 0 or stated["type"] == "381" else "invoice"
    assert document["document_type"] == expected_type
    for key, figure in (
        ("amount_untaxed", "untaxed"),
        ("amount_tax", "tax"),
        ("amount_total", "total"),
    ):
        assert Decimal(str(document[key])) == sign * stated[figure], key
    # the amount due (BT-115): always carried
    assert Decimal(str(document["amount_due"])) == sign * stated["due"]
    assert [Decimal(str(line["line_amount"])) for line in document["lines"]] == [
        sign * amount for amount in stated["lines"]
    ]
    read_taxes = sorted(
        (
            Decimal(tax_check_percent(total["tax_code"])),
            Decimal(str(total["base"])),
            Decimal(str(total["amount"])),
        )
        for total in document.get("tax_totals", [])
    )
    assert read_taxes == sorted(
        (rate, sign * base, sign * amount) for rate, base, amount in stated["taxes"]
    )
    lines = sum(Decimal(str(line["line_amount"])) for line in document["lines"])
    charges = sum(Decimal(str(c["amount"])) for c in document.get("charges", []))
    allowances = sum(Decimal(str(a["amount"])) for a in document.get("allowances", []))
    assert lines + charges - allowances == Decimal(str(document["amount_untaxed"]))


def tax_check_percent(code):
    from lib.tax_check import parse_tax_code

    return parse_tax_code(code).percent or 0


def test_a_factur_x_invoice_names_its_supplier_every_way_it_can():
    document = read(_document("facturx_invoice_basis_quantity.xml"))
    assert document["supplier_identifiers"] == [
        {"kind": "endpoint", "id": "moi@seller.com", "scheme": "EM"},
        {"kind": "vat", "id": "FR11123456782"},
        {"kind": "registry", "id": "123456782", "scheme": "0002"},
        {"kind": "gln", "id": "587451236587", "scheme": "0088"},
    ]
    assert document["external_id"] == "EM:moi@seller.com/invoice/F20220024"
    assert (document["invoice_date"], document["due_date"]) == (
        "2022-01-31",
        "2022-03-02",
    )
    assert document["purchase_order_external_id"] == "PO201925478"
    assert [line["po_line_id"] for line in document["lines"]] == ["1", "3", "2"]
    # the buyer's accounting reference (BT-19) reaches every line
    assert {line["cost_center"] for line in document["lines"]} == {"BUYER ACCOUNT REF"}


def test_a_price_per_base_quantity_and_line_allowances_give_the_stated_amount():
    line = read(_document("facturx_invoice_basis_quantity.xml"))["lines"][1]
    # 3 at 30.00 per 3, less 4.00 of allowances, plus 3.00 of charges: the
    # allowances are 16.67 % off 30.00 (24.999, booked 25.00), the charges a
    # line of their own, as Odoo's importer books them
    assert (line["quantity"], line["line_amount"]) == (3.0, 28.0)
    assert (line["unit_price"], line["discount_percent"]) == (10.0, 16.67)
    assert [charge["amount"] for charge in line["line_charges"]] == [1.0, 1.0, 1.0]
    assert line["tax_codes"] == ["VAT20"]


def test_document_allowances_and_charges_keep_their_reason_and_tax():
    document = read(_document("facturx_invoice_basis_quantity.xml"))
    assert document["charges"] == [
        {
            "amount": 10.0,
            "reason": "FRAIS DEPLACEMENT",
            "reason_code": "FC",
            "tax_codes": ["VAT20"],
        }
    ]
    assert document["allowances"][0]["reason"] == "REMISE COMMERCIALE"
    assert document["tax_totals"] == [
        {"tax_code": "VAT20", "base": 40.0, "amount": 8.0},
        {"tax_code": "VAT0-E", "base": 60.0, "amount": 0.0},
    ]


def test_credit_note_381_and_negative_invoice_380_are_the_same_credit_note():
    credit = read(_document("facturx_credit_note_type381.xml"))
    negative = read(_document("facturx_credit_note_type380.xml"))
    assert credit["document_type"] == negative["document_type"] == "credit_note"
    # each keeps its own identity: a 381 is a credit note, a 380 an invoice
    assert credit["external_id"].endswith("/credit_note/AV-2017-0005")
    assert negative["external_id"].endswith("/invoice/AV-2017-0005")
    assert negative["extensions"]["ubl_negative_invoice"] is True
    for key in ("amount_untaxed", "amount_tax", "amount_total", "tax_totals"):
        assert credit[key] == negative[key], key
    assert [line["line_amount"] for line in negative["lines"]] == [20.48, 198.0]
    assert [line["quantity"] for line in negative["lines"]] == [5.0, 10.0]
    assert credit["extensions"]["ubl_billing_references"] == ["FA-2017-0010"]
    assert credit["lines"][1]["uom"] == "L"


def test_negative_invoice_with_prepayment_is_turned_whole():
    document = read(_document("facturx_invoice_negative_amounts.xml"))
    assert document["document_type"] == "credit_note"
    assert (document["amount_untaxed"], document["amount_total"]) == (100.0, 100.0)
    assert document["charges"][0]["amount"] == 10.0
    assert document["allowances"][0]["amount"] == 5.0
    assert document["amount_prepaid"] == 10.0
    assert document["amount_due"] == 90.0
    assert document["lines"][0]["tax_codes"] == ["VAT0-K"]


def _mutated(name, old, new):
    data = _document(name)
    assert old in data, f"{old!r} is not in {name}"
    return data.replace(old, new, 1)


INVOICE = "facturx_invoice_basis_quantity.xml"


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        # BR-CO-10: one cent off the sum of the lines
        (
            b"<ram:LineTotalAmount>95.00<",
            b"<ram:LineTotalAmount>95.01<",
            r"add up to 95\.00 EUR but the document states 95\.01 .*LineTotalAmount, "
            r"BR-CO-10\)",
        ),
        # BR-CO-15: the grand total one cent off
        (
            b"<ram:GrandTotalAmount>108.00<",
            b"<ram:GrandTotalAmount>108.01<",
            r"come to 108\.00 EUR, but the document states a total of 108\.01 "
            r"\(GrandTotalAmount, BR-CO-15\)",
        ),
        # BR-CO-16: the amount due one cent off
        (
            b"<ram:DuePayableAmount>108.00<",
            b"<ram:DuePayableAmount>107.99<",
            r"states 107\.99 as the amount due \(DuePayableAmount, BR-CO-16\)",
        ),
        # BR-CO-14: the tax total against its breakdown
        (
            b'currencyID="EUR">8.00<',
            b'currencyID="EUR">8.01<',
            r"taxes per category .* add up to 8\.00 EUR .* 8\.01 .*BR-CO-14",
        ),
        # BR-CO-12: the charge total against the charges
        (
            b"<ram:ChargeTotalAmount>10.00<",
            b"<ram:ChargeTotalAmount>10.01<",
            r"charges .* add up to 10\.00 EUR .* 10\.01 .*BR-CO-12",
        ),
        # BR-LIN-04: a line amount against its quantity and price
        (
            b"<ram:LineTotalAmount>7.00<",
            b"<ram:LineTotalAmount>7.05<",
            r"line 3 of the invoice F20220024 states 7\.05 EUR but its quantity "
            r"1 x price 7 comes to 7\.00 \(BR-LIN-04\)",
        ),
        # dates are format 102 (YYYYMMDD)
        (
            b'format="102">20220131<',
            b'format="102">2022-01-31<',
            r"the date of the invoice F20220024 must be a date of format 102 "
            r"\(YYYYMMDD.*'2022-01-31'",
        ),
        (
            b'format="102">20220131<',
            b'format="203">202201311200<',
            r"must be a date of format 102 .*not format 203 '202201311200'",
        ),
        (
            b'format="102">20220131<',
            b'format="102">20220230<',
            r"must be a date of format 102 .*'20220230'",
        ),
        # BR-CL-01: the document type code
        (
            b"<ram:TypeCode>380<",
            b"<ram:TypeCode>999<",
            r"type code 999 is no invoice or credit note code of EN 16931 .*BR-CL-01",
        ),
        (
            b"<ram:TypeCode>380<",
            b"<ram:TypeCode>386<",
            r"prepayment invoice \(type code 386\).*count it twice",
        ),
        (
            b"<ram:TypeCode>380<",
            b"<ram:TypeCode>393<",
            r"type code 393 is not one the hub books .*380, 326, 384, 389, 751",
        ),
        # BR-21: two lines with one number
        (
            b"<ram:LineID>2</ram:LineID>\n         </ram:Associated",
            b"<ram:LineID>1</ram:LineID>\n         </ram:Associated",
            "two lines numbered 1",
        ),
        # BR-26: a line without its net price
        (
            b"<ram:ChargeAmount>7.0000</ram:ChargeAmount>",
            b"",
            r"the price of line 3 .* is missing \(NetPriceProductTradePrice",
        ),
        (
            b"<ram:InvoiceCurrencyCode>EUR<",
            b"<ram:InvoiceCurrencyCode><",
            r"has no currency \(InvoiceCurrencyCode\)",
        ),
        (
            b'currencyID="EUR">8.00<',
            b'currencyID="USD">8.00<',
            r"states no tax total in EUR \(TaxTotalAmount\)",
        ),
    ],
)
def test_mutated_factur_x_invoice_is_refused_naming_the_rule(old, new, reason):
    with pytest.raises(CIIError, match=reason):
        read(_mutated(INVOICE, old, new))


def test_a_credit_note_with_a_negative_total_is_refused():
    data = _document("facturx_credit_note_type380.xml").replace(
        b"<ram:TypeCode>380<", b"<ram:TypeCode>381<"
    )
    with pytest.raises(CIIError, match="negative total .* send an invoice instead"):
        read(data)


def test_corrected_and_self_billed_invoices_are_invoices():
    for code in (b"384", b"389", b"751", b"326"):
        data = _mutated(INVOICE, b"<ram:TypeCode>380<", b"<ram:TypeCode>" + code + b"<")
        assert read(data)["document_type"] == "invoice"
    data = _mutated(INVOICE, b"<ram:TypeCode>380<", b"<ram:TypeCode>261<")
    assert read(data)["document_type"] == "credit_note"


def test_a_profile_without_lines_is_refused_with_br_16():
    data = _document("facturx_out_invoice.xml")
    root = safe_xml.parse(data)
    transaction = root.find("rsm:SupplyChainTradeTransaction", NS)
    for line in transaction.findall("ram:IncludedSupplyChainTradeLineItem", NS):
        transaction.remove(line)
    with pytest.raises(CIIError, match=r"has no lines .*BR-16.*MINIMUM"):
        root_to_canonical(root)


def test_the_same_supplier_has_the_same_id_in_ubl_and_cii():
    # a VAT registration (schemeID VA) names the supplier without the VA,
    # as a UBL PartyTaxScheme CompanyID does
    document = read(_document("facturx_out_invoice.xml"))
    assert document["supplier_external_id"] == "FR05677404089"
    assert document["supplier_identifiers"] == [{"kind": "vat", "id": "FR05677404089"}]
