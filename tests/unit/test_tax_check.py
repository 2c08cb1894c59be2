import doctest
from decimal import Decimal
from pathlib import Path

import pytest

from lib import canonical, cxml_inbound, tax_check, ubl_inbound
from lib.tax_check import (
    check_invoice_taxes,
    check_taxes,
    compute_taxes,
    tax_code,
    to_decimal,
)

SAMPLES = Path(__file__).resolve().parent / "samples"
RATES = {"VAT21": 21, "VAT6": 6}
COMPUTED = {"VAT21": "52.29", "VAT6": "13.80"}  # the canonical example invoice


def _kinds(findings):
    return [finding.kind for finding in findings]


def test_module_examples_hold():
    result = doctest.testmod(tax_check, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


# -- tax codes -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        (("VAT", "21"), "VAT21"),
        (("vat", "21.000"), "VAT21"),
        (("VAT", "5.50"), "VAT5.5"),
        (("VAT", "20"), "VAT20"),
        (("VAT", "0", "E"), "VAT0-E"),
        (("VAT", "0", "ae"), "VAT0-AE"),
        (("VAT", "21", "S"), "VAT21"),
        (("gst", None), "GST"),
        (("sales", " "), "SALES"),
    ],
)
def test_tax_codes_join_scheme_rate_and_non_standard_category(arguments, code):
    assert tax_code(*arguments) == code


def test_tax_code_needs_a_scheme_and_a_numeric_rate():
    with pytest.raises(ValueError, match="needs a scheme"):
        tax_code(" ", "21")
    with pytest.raises(ValueError, match="the VAT rate must be a number, not '21%'"):
        tax_code("VAT", "21%")


@pytest.mark.parametrize("value", [None, True, "", "abc", "NaN", "Infinity"])
def test_non_numbers_are_refused_readably(value):
    with pytest.raises(ValueError, match="the amount must be a"):
        to_decimal(value)


# -- computing -----------------------------------------------------------------


def test_taxes_computed_from_the_canonical_example_lines():
    computed = compute_taxes(canonical.example("invoice")["lines"], RATES)
    assert computed == {
        "VAT21": {"base": Decimal("249.00"), "amount": Decimal("52.29")},
        "VAT6": {"base": Decimal("230.00"), "amount": Decimal("13.80")},
    }


def test_lines_with_several_taxes_and_without_tax():
    lines = [
        {"quantity": 2, "unit_price": "10", "tax_codes": ["VAT21", "ECO"]},
        {"quantity": 1, "unit_price": "5", "tax_codes": []},
    ]
    computed = compute_taxes(lines, {**RATES, "ECO": "0.5"})
    assert computed["VAT21"]["amount"] == Decimal("4.20")
    assert computed["ECO"] == {"base": Decimal("20.00"), "amount": Decimal("0.10")}


def test_a_tax_code_without_a_rate_is_a_setup_problem():
    lines = [{"quantity": 1, "unit_price": 1, "tax_codes": ["VAT12"]}]
    with pytest.raises(ValueError, match="no rate is known for the tax code 'VAT12'"):
        compute_taxes(lines, RATES)


# -- checking ------------------------------------------------------------------


def test_equal_taxes_have_no_findings():
    assert check_taxes({"VAT21": "52.29"}, {"VAT21": Decimal("52.29")}) == []


def test_one_cent_per_tax_is_rounding():
    assert check_taxes({"VAT21": "52.30", "VAT6": "13.79"}, COMPUTED) == []


def test_more_than_rounding_is_a_mismatch_with_both_figures():
    (finding,) = check_taxes({"VAT21": "52.31"}, {"VAT21": "52.29"}, currency="EUR")
    assert finding.kind == "tax_mismatch"
    assert finding.tax_code == "VAT21"
    assert (finding.declared, finding.computed) == (Decimal("52.31"), Decimal("52.29"))
    assert finding.difference == Decimal("0.02")
    assert finding.message == (
        "VAT21: the document states 52.31 EUR of tax, 52.29 EUR is computed from "
        "its lines (0.02 EUR more); up to 0.01 EUR is accepted as rounding."
    )


def test_less_tax_than_computed_is_reported_as_less():
    (finding,) = check_taxes({"VAT21": "50"}, {"VAT21": "52.29"})
    assert "(2.29 less)" in finding.message


def test_the_tolerance_widens_the_allowance():
    declared, computed = {"VAT21": "52.34"}, {"VAT21": "52.29"}
    assert _kinds(check_taxes(declared, computed)) == ["tax_mismatch"]
    assert check_taxes(declared, computed, tolerance="0.04") == []
    (finding,) = check_taxes(declared, computed, rounding=0, tolerance="0.04")
    assert "up to 0.04 is accepted" in finding.message


def test_a_tax_computed_but_not_stated_is_missing():
    (finding,) = check_taxes({"VAT21": "52.29"}, COMPUTED)
    assert (finding.kind, finding.declared, finding.computed) == (
        "missing_tax",
        None,
        Decimal("13.80"),
    )
    assert finding.message == (
        "VAT6: 13.80 of tax is computed from the lines, but the document does "
        "not state this tax."
    )


def test_a_tax_stated_but_not_computed_is_unexpected():
    (finding,) = check_taxes(COMPUTED, {"VAT21": "52.29"})
    assert (finding.kind, finding.tax_code) == ("unexpected_tax", "VAT6")
    assert finding.difference == Decimal("13.80")


def test_zero_taxes_on_one_side_only_are_not_findings():
    assert check_taxes({"VAT0-E": 0, "VAT21": 1}, {"VAT21": 1, "VAT0-AE": 0}) == []


def test_bases_are_compared_when_both_sides_have_one():
    declared = [{"tax_code": "VAT21", "base": "250.00", "amount": "52.29"}]
    computed = [{"tax_code": "VAT21", "base": "249.00", "amount": "52.29"}]
    (finding,) = check_taxes(declared, computed)
    assert (finding.kind, finding.declared, finding.computed) == (
        "base_mismatch",
        Decimal("250.00"),
        Decimal("249.00"),
    )
    assert check_taxes(declared, {"VAT21": "52.29"}) == []


def test_entries_of_the_same_code_are_added_up():
    declared = [
        {"tax_code": "VAT21", "base": 249, "amount": "52.29"},
        {"tax_code": "VAT21", "base": 10, "amount": "2.10"},
    ]
    computed = {"VAT21": {"base": 259, "amount": "54.39"}}
    computed = [{"tax_code": code, **value} for code, value in computed.items()]
    assert check_taxes(declared, computed) == []


def test_entries_without_code_or_amount_are_refused_readably():
    with pytest.raises(ValueError, match="a declared tax has no tax code"):
        check_taxes([{"amount": 1}], {})
    with pytest.raises(ValueError, match="the computed VAT21 amount must be a number"):
        check_taxes({}, [{"tax_code": "VAT21", "amount": "n/a"}])


# -- invoices ------------------------------------------------------------------


def _computed(invoice):
    computed = compute_taxes(invoice["lines"], RATES)
    return [{"tax_code": code, **total} for code, total in computed.items()]


def test_canonical_example_invoice_passes():
    invoice = canonical.example("invoice")
    assert check_invoice_taxes(invoice, _computed(invoice)) == []


def test_invoice_total_tax_is_checked_against_the_computed_total():
    invoice = {**canonical.example("invoice"), "amount_tax": 66.2}
    findings = check_invoice_taxes(invoice, _computed(invoice))
    (finding,) = findings
    assert (finding.kind, finding.tax_code) == ("total_mismatch", None)
    assert (finding.declared, finding.computed) == (Decimal("66.2"), Decimal("66.09"))
    assert finding.message == (
        "The document states 66.20 EUR of tax in total, 66.09 EUR is computed from "
        "its lines (0.11 EUR more); up to 0.02 EUR is accepted as rounding."
    )


def test_invoice_without_tax_totals_checks_the_total_only():
    invoice = canonical.example("invoice")
    del invoice["tax_totals"]
    assert check_invoice_taxes(invoice, _computed(invoice)) == []


def test_inbound_cxml_invoices_pass_the_tax_check():
    for name in ("cxml_invoice_line_tax", "cxml_invoice_header_tax"):
        data = (SAMPLES / f"{name}.xml").read_bytes()
        root = cxml_inbound.parse_envelope(data).root
        invoice = cxml_inbound.invoice_detail_to_canonical(root).document
        if name == "cxml_invoice_header_tax":
            # the header-level taxes say which rate the goods lines carry
            invoice["lines"][0]["tax_codes"] = ["VAT21"]
            invoice["lines"][1]["tax_codes"] = ["VAT6"]
        assert check_invoice_taxes(invoice, _computed(invoice)) == [], name


def test_header_level_taxes_without_line_codes_are_all_unexpected():
    data = (SAMPLES / "cxml_invoice_header_tax.xml").read_bytes()
    root = cxml_inbound.parse_envelope(data).root
    invoice = cxml_inbound.invoice_detail_to_canonical(root).document
    findings = check_invoice_taxes(invoice, _computed(invoice))
    # only the shipping line carries a tax code: the check shows the gap
    assert _kinds(findings) == [
        "tax_mismatch",
        "base_mismatch",
        "unexpected_tax",
        "total_mismatch",
    ]
    assert findings[0].computed == Decimal("2.10")


def test_inbound_ubl_documents_pass_the_tax_check():
    for name in ("ubl_invoice", "ubl_credit_note"):
        data = (SAMPLES / f"{name}.xml").read_bytes()
        invoice = ubl_inbound.invoice_to_canonical(data)
        assert check_invoice_taxes(invoice, _computed(invoice)) == [], name
