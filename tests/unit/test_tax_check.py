import doctest
from decimal import Decimal
from pathlib import Path

import pytest

from lib import canonical, cxml, tax_check, ubl_inbound
from lib.cxml.invoice import invoice_detail_to_canonical
from lib.tax_check import (
    check_taxes,
    parse_tax_code,
    reconcile_invoice_taxes,
    tax_code,
)

SAMPLES = Path(__file__).resolve().parent / "samples"
COMPUTED = {"VAT21": "52.29", "VAT6": "13.80"}  # the canonical example invoice
# what the books compute at 21 % and 6 % for each document's lines
COMPUTED_TOTALS = {
    "example": {"VAT21": ("249.00", "52.29"), "VAT6": ("230.00", "13.80")},
    "cxml_invoice_line_tax": {
        "VAT21": ("249.00", "52.29"),
        "VAT6": ("230.00", "13.80"),
    },
    "cxml_invoice_header_tax": {
        "VAT21": ("259.00", "54.39"),
        "VAT6": ("110.40", "6.62"),
    },
    # the header-level document's lines as received: only shipping carries a code
    "cxml_invoice_header_tax_as_sent": {"VAT21": ("10.00", "2.10")},
    "ubl_invoice": {"VAT21": ("259.00", "54.39"), "VAT6": ("230.00", "13.80")},
    "ubl_credit_note": {"VAT21": ("49.80", "10.46")},
}


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


def check_invoice_taxes(invoice, computed, **options):
    return list(reconcile_invoice_taxes(invoice, computed, **options).findings)


def _computed(document):
    return [
        {"tax_code": code, "base": base, "amount": amount}
        for code, (base, amount) in COMPUTED_TOTALS[document].items()
    ]


def test_canonical_example_invoice_passes_and_books_nothing_new():
    outcome = reconcile_invoice_taxes(
        canonical.example("invoice"), _computed("example")
    )
    assert (outcome.findings, outcome.adopted) == ((), {})


def test_invoice_total_tax_must_agree_with_the_taxes_it_states():
    # the breakdown is booked as stated: a total that differs from it is held
    invoice = {**canonical.example("invoice"), "amount_tax": 66.2}
    findings = check_invoice_taxes(invoice, _computed("example"))
    (finding,) = findings
    assert (finding.kind, finding.tax_code) == ("total_mismatch", None)
    assert (finding.declared, finding.computed) == (Decimal("66.2"), Decimal("66.09"))
    assert finding.message == (
        "The document states 66.20 EUR of tax in total, the bill comes to 66.09 "
        "EUR (0.11 EUR more); the bill books the tax per rate as stated, so the "
        "total must agree."
    )


def test_invoice_without_tax_totals_checks_the_total_only():
    invoice = canonical.example("invoice")
    del invoice["tax_totals"]
    assert check_invoice_taxes(invoice, _computed("example")) == []


def test_inbound_cxml_invoices_pass_the_tax_check():
    for name in ("cxml_invoice_line_tax", "cxml_invoice_header_tax"):
        data = (SAMPLES / f"{name}.xml").read_bytes()
        root = cxml.parse_envelope(data).root
        invoice = invoice_detail_to_canonical(root).document
        assert check_invoice_taxes(invoice, _computed(name)) == [], name


def test_header_level_taxes_not_computed_from_the_lines_are_unexpected():
    data = (SAMPLES / "cxml_invoice_header_tax.xml").read_bytes()
    root = cxml.parse_envelope(data).root
    invoice = invoice_detail_to_canonical(root).document
    findings = check_invoice_taxes(
        invoice, _computed("cxml_invoice_header_tax_as_sent")
    )
    # only the shipping carries a tax here: the check shows the gap
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
        assert check_invoice_taxes(invoice, _computed(name)) == [], name


def test_taxes_computed_by_the_books_as_decimals_per_code():
    # the invoice handler passes {code: figure}; a 0 % tax nobody states is fine
    invoice = canonical.example("invoice")
    computed = {"VAT21": Decimal("52.29"), "VAT6": Decimal("13.80"), "VAT0-E": 0}
    assert check_invoice_taxes(invoice, computed) == []


def test_without_a_breakdown_several_taxes_must_agree_exactly():
    invoice = {**canonical.example("invoice"), "amount_tax": 66.10}
    del invoice["tax_totals"]
    (finding,) = check_invoice_taxes(invoice, COMPUTED, tolerance="0.05")
    assert finding.kind == "total_mismatch"
    assert finding.message.endswith(
        "the document gives no tax per rate, so its tax cannot be booked as "
        "stated: ask the supplier for the tax per rate or correct the bill by hand."
    )


def test_without_a_breakdown_one_tax_is_booked_as_its_total_states():
    invoice = {"currency": "EUR", "amount_tax": "66.11"}
    outcome = reconcile_invoice_taxes(invoice, {"VAT21": "66.10"})
    assert (outcome.findings, outcome.adopted) == ((), {"VAT21": Decimal("66.11")})
    finding, total = check_invoice_taxes(invoice, {"VAT21": "66.09"})
    assert (finding.kind, finding.tax_code, total.kind) == (
        "tax_mismatch",
        "VAT21",
        "total_mismatch",
    )
    assert finding.message.endswith("up to 0.01 EUR is accepted as rounding.")


def test_an_invoice_without_its_tax_amount_is_refused_readably():
    with pytest.raises(ValueError, match="the document's tax amount must be a number"):
        check_invoice_taxes({"currency": "EUR"}, COMPUTED)


# -- stated amounts booked ---------------------------------------------------------


def _stated(amount, code="VAT15", base="20.06", tax=None):
    return {
        "currency": "EUR",
        "amount_tax": amount if tax is None else tax,
        "tax_totals": [{"tax_code": code, "base": base, "amount": amount}],
    }


def test_per_rate_rounding_is_booked_as_stated_within_a_unit_per_line():
    # two lines of 10.03 at 15 %: 1.50 + 1.50 per line, 3.01 per rate
    computed = {"VAT15": {"amount": "3.00", "base": "20.06", "lines": 2}}
    outcome = reconcile_invoice_taxes(_stated("3.01"), computed)
    assert outcome.agreed
    assert outcome.adopted == {"VAT15": Decimal("3.01")}
    assert reconcile_invoice_taxes(_stated("3.02"), computed).adopted == {
        "VAT15": Decimal("3.02")
    }


def test_beyond_the_allowance_nothing_is_booked_and_the_figures_are_shown():
    computed = {"VAT15": {"amount": "3.00", "base": "20.06", "lines": 2}}
    outcome = reconcile_invoice_taxes(_stated("3.03"), computed)
    assert outcome.adopted == {}
    finding = outcome.findings[0]
    assert (finding.kind, finding.declared, finding.computed) == (
        "tax_mismatch",
        Decimal("3.03"),
        Decimal("3.00"),
    )
    assert finding.message == (
        "VAT15: the document states 3.03 EUR of tax, 3.00 EUR is computed from "
        "its lines (0.03 EUR more); up to 0.02 EUR is accepted as rounding."
    )


def test_the_allowance_follows_the_currency_and_the_tolerance():
    yen = {
        "currency": "JPY",
        "amount_tax": 452,
        "tax_totals": [{"tax_code": "VAT15", "base": 3009, "amount": 452}],
    }
    computed = {"VAT15": {"amount": 450, "base": 3009, "lines": 3}}
    outcome = reconcile_invoice_taxes(yen, computed, rounding=1)
    assert outcome.adopted == {"VAT15": Decimal("452")}
    held = reconcile_invoice_taxes(
        {
            **yen,
            "amount_tax": 454,
            "tax_totals": [{"tax_code": "VAT15", "base": 3009, "amount": 454}],
        },
        computed,
        rounding=1,
    )
    assert held.findings[0].message == (
        "VAT15: the document states 454 JPY of tax, 450 JPY is computed from its "
        "lines (4 JPY more); up to 3 JPY is accepted as rounding."
    )
    # a factor of two units per line, shown in whole yen
    doubled = reconcile_invoice_taxes(
        {
            **yen,
            "amount_tax": 457,
            "tax_totals": [{"tax_code": "VAT15", "base": 3009, "amount": 457}],
        },
        computed,
        rounding="2.0",
        places=0,
    )
    assert doubled.findings[0].message.endswith("up to 6 JPY is accepted as rounding.")
    widened = reconcile_invoice_taxes(
        _stated("3.05"), {"VAT15": "3.00"}, tolerance="0.04"
    )
    assert widened.adopted == {"VAT15": Decimal("3.05")}


def test_a_reverse_charge_nets_to_zero_and_allows_no_difference():
    computed = {
        "VAT0-AE": {"amount": "0", "base": "100", "lines": 1, "self_assessed": True}
    }
    agreed = reconcile_invoice_taxes(_stated("0", "VAT0-AE", "100"), computed)
    assert (agreed.findings, agreed.adopted) == ((), {})
    (finding, _total) = reconcile_invoice_taxes(
        _stated("0.01", "VAT0-AE", "100"), computed
    ).findings
    assert finding.message.endswith(
        "a self-assessed tax (reverse charge) nets to zero on the bill, so no "
        "difference is accepted."
    )


def test_taxes_are_compared_with_their_signs():
    # a discount line taxed alone: its tax is negative on both sides
    declared = {"VAT21": "-2.10", "VAT6": "13.80"}
    assert check_taxes(declared, {"VAT21": "-2.10", "VAT6": "13.80"}) == []
    (finding,) = check_taxes(declared, {"VAT21": "2.10", "VAT6": "13.80"})
    assert finding.difference == Decimal("-4.20")


# -- tax codes taken apart ---------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "parts"),
    [
        ("VAT15", ("VAT", Decimal("15"), "S")),
        ("VAT5.5", ("VAT", Decimal("5.5"), "S")),
        ("VAT0-AE", ("VAT", Decimal("0"), "AE")),
        ("vat0-k", ("VAT", Decimal("0"), "K")),
        ("VAT-O", ("VAT", None, "O")),
        ("GST", ("GST", None, "S")),
    ],
)
def test_tax_codes_are_taken_apart_into_scheme_rate_and_category(code, parts):
    assert tuple(parse_tax_code(code)) == parts


@pytest.mark.parametrize("code", ["IVA 21", "21", "VAT21%", ""])
def test_codes_of_another_form_are_not_taken_apart(code):
    assert parse_tax_code(code) is None


def test_every_code_the_readers_make_can_be_taken_apart():
    for args in (
        ("VAT", "21"),
        ("VAT", "0", "E"),
        ("VAT", "0", "AE"),
        ("VAT", None, "O"),
    ):
        parsed = parse_tax_code(tax_code(*args))
        assert parsed.scheme == "VAT"
