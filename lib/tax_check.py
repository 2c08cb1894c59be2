"""Check the taxes a supplier states against the taxes computed from the lines,
and decide which stated amounts the bill can carry.

A supplier's document states its taxes per rate (``tax_totals`` of the
canonical invoice, ``TaxSubtotal`` in UBL, ``TaxDetail`` in cXML). The books
compute them again from the lines; the two may differ by rounding (per line
or per rate), so each tax is compared within a rounding allowance of one
smallest unit of the currency per line carrying the tax, plus a configurable
tolerance. Findings carry both figures and a sentence a finance user can act
on; figures within the allowance are booked as the supplier states them.

>>> findings = check_taxes({"VAT21": "52.50", "VAT6": "13.80"},
...                        {"VAT21": "52.29", "VAT6": "13.81"}, currency="EUR")
>>> [finding.kind for finding in findings]
['tax_mismatch']
>>> print(findings[0].message)
VAT21: the document states 52.50 EUR of tax, 52.29 EUR is computed from its \
lines (0.21 EUR more); up to 0.01 EUR is accepted as rounding.

Tax codes are built the same way for every inbound format, so that a cXML
``TaxDetail`` and a UBL ``TaxSubtotal`` for the same tax get the same code:
the scheme, the rate, then the UNCL5305 category when it is not the
standard one.

>>> tax_code("vat", "21.00"), tax_code("VAT", "0", "AE"), tax_code("GST", None)
('VAT21', 'VAT0-AE', 'GST')
>>> parse_tax_code("VAT0-AE")
TaxCode(scheme='VAT', percent=Decimal('0'), category='AE')
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from .money import CENT, plain, round_half_up, to_decimal

ROUNDING = CENT  # what rounding alone can explain, per line carrying a tax
STANDARD_CATEGORIES = {"", "S"}  # UBL "standard rate": no suffix on the code

# UNCL5305 duty or tax or fee categories used on invoices (EN 16931)
CATEGORIES = {
    "S": "standard rate",
    "AE": "reverse charge",
    "K": "intra-community supply",
    "E": "exempt",
    "Z": "zero rated",
    "G": "export outside the EU",
    "O": "outside the scope of VAT",
    "L": "Canary Islands general indirect tax",
    "M": "Ceuta and Melilla tax",
    "B": "transferred VAT (Italy)",
}
# the buyer accounts for the tax itself: the document states 0 %, the books
# self-assess it at the domestic rate (a tax line and its opposite)
SELF_ASSESSED = frozenset({"AE", "K"})

_CODE = re.compile(r"^([A-Z]+?)(\d+(?:\.\d+)?)?(?:-([A-Z]+))?$")


def tax_code(scheme, percent=None, category=None):
    """The hub's code for a tax: scheme and rate, then the category when it
    is not the standard one (``VAT0-E`` exempt, ``VAT0-AE`` reverse charge),
    because a 0 % rate alone does not say why there is no tax."""
    code = str(scheme or "").strip().upper()
    if not code:
        raise ValueError("a tax needs a scheme or category such as VAT")
    if percent is not None and str(percent).strip():
        code += plain(to_decimal(percent, f"the {code} rate"))
    category = str(category or "").strip().upper()
    if category not in STANDARD_CATEGORIES:
        code += f"-{category}"
    return code


class TaxCode(NamedTuple):
    """A tax code taken apart; ``category`` is ``S`` for the standard rate."""

    scheme: str
    percent: Decimal | None
    category: str


def parse_tax_code(code):
    """The scheme, rate and UNCL5305 category of a code made by
    :func:`tax_code`; None for a code of another form (a cross-reference
    table entry such as ``EXEMPT-SERVICES``).

    >>> parse_tax_code("vat15"), parse_tax_code("VAT-O")
    (TaxCode(scheme='VAT', percent=Decimal('15'), category='S'), \
TaxCode(scheme='VAT', percent=None, category='O'))
    >>> parse_tax_code("IVA 21") is None
    True
    """
    match = _CODE.match(str(code or "").strip().upper())
    if not match:
        return None
    scheme, percent, category = match.groups()
    return TaxCode(
        scheme, None if percent is None else Decimal(percent), category or "S"
    )


def category_name(category):
    """``AE (reverse charge)``: a category with its meaning, for messages."""
    meaning = CATEGORIES.get(category)
    return f"{category} ({meaning})" if meaning else category


# -- checking ------------------------------------------------------------------


@dataclass(frozen=True)
class TaxFinding:
    """One difference between what a document states and what is computed.

    ``kind`` is ``tax_mismatch``, ``base_mismatch``, ``missing_tax`` (computed
    but not stated), ``unexpected_tax`` (stated but not computed) or
    ``total_mismatch`` (the document's total tax).
    """

    kind: str
    tax_code: str | None
    declared: Decimal | None
    computed: Decimal | None
    message: str

    @property
    def difference(self):
        """Declared minus computed (a missing figure counts as zero)."""
        return (self.declared or Decimal(0)) - (self.computed or Decimal(0))


def _figure(entry, what, code):
    """``{"amount", "base", "lines", "self_assessed"}`` from one entry: a
    number (the amount) or a mapping with those keys."""
    if not isinstance(entry, Mapping):
        entry = {"amount": entry}
    base = entry.get("base")
    return {
        "amount": to_decimal(entry.get("amount"), f"the {what} {code} amount"),
        "base": None if base is None else to_decimal(base, f"the {what} {code} base"),
        "lines": int(entry.get("lines") or 1),
        "self_assessed": bool(entry.get("self_assessed")),
    }


def _totals(figures, what):
    """``{code: figure}`` from a mapping ``code -> amount or figure`` or from
    canonical ``tax_totals`` entries; codes that appear twice are added up."""
    if isinstance(figures, Mapping):
        entries = [(code, value) for code, value in figures.items()]
    else:
        entries = [(entry.get("tax_code"), entry) for entry in figures or ()]
    totals = {}
    for code, entry in entries:
        if not code:
            raise ValueError(f"a {what} tax has no tax code: {entry!r}")
        figure = _figure(entry, what, code)
        total = totals.setdefault(code, {**figure, "amount": Decimal(0), "base": None})
        total["amount"] += figure["amount"]
        if figure["base"] is not None:
            total["base"] = (total["base"] or Decimal(0)) + figure["base"]
    return totals


def _places(rounding):
    """The decimals a currency rounding shows: 0.01 -> 2, 1 -> 0, 0.001 -> 3."""
    exponent = Decimal(rounding).normalize().as_tuple().exponent
    return max(-exponent, 0) if rounding else 2


class _Wording:
    """Amounts with the currency and its decimals, and the sentence ending
    about the allowance."""

    def __init__(self, currency, places=2):
        self.currency = f" {currency}" if currency else ""
        self.places = places

    def amount(self, number):
        return f"{round_half_up(number, self.places)}{self.currency}"

    def gap(self, declared, computed):
        gap = declared - computed
        more_or_less = "more" if gap > 0 else "less"
        return f"({self.amount(abs(gap))} {more_or_less})"

    def difference(self, declared, computed, allowance, self_assessed=False):
        if self_assessed:
            return (
                f"{self.gap(declared, computed)}; a self-assessed tax (reverse "
                "charge) nets to zero on the bill, so no difference is accepted."
            )
        return (
            f"{self.gap(declared, computed)}; up to "
            f"{self.amount(allowance)} is accepted as rounding."
        )


def _allowance(figure, rounding, tolerance):
    """What rounding can explain for one tax: ``rounding`` per line carrying
    it, plus the tolerance; nothing for a self-assessed tax, which nets to
    zero by construction."""
    if figure["self_assessed"]:
        return Decimal(0)
    return rounding * figure["lines"] + tolerance


def check_taxes(
    declared,
    computed,
    *,
    rounding=ROUNDING,
    tolerance=Decimal(0),
    currency=None,
    places=None,
):
    """Findings where ``declared`` and ``computed`` taxes differ, ``[]`` if none.

    Both are a mapping ``tax code -> amount`` or canonical ``tax_totals``
    entries (``tax_code``, ``amount``, optional ``base``); a computed figure
    may also say on how many ``lines`` the tax is and whether it is
    ``self_assessed`` (reverse charge). Amounts are signed. Bases are
    compared only when both sides have one. A difference is accepted up to
    ``rounding`` per line carrying the tax (one line by default) plus
    ``tolerance``; a self-assessed tax must match exactly. Amounts are shown
    with ``places`` decimals (by default, those of ``rounding``).

    >>> declared = [{"tax_code": "VAT6", "base": "230.00", "amount": "13.80"}]
    >>> [f.kind for f in check_taxes(declared, {"VAT6": "13.80", "VAT21": 5})]
    ['missing_tax']
    >>> computed = [{"tax_code": "VAT6", "base": "200.00", "amount": "13.80"}]
    >>> print(check_taxes(declared, computed)[0].message)
    VAT6: the document states a taxable base of 230.00, 200.00 is computed \
from its lines (30.00 more); up to 0.01 is accepted as rounding.
    >>> check_taxes({"VAT15": "3.01"}, {"VAT15": {"amount": "3.00", "lines": 2}})
    []
    """
    rounding = to_decimal(rounding, "the rounding")
    tolerance = to_decimal(tolerance, "the tolerance")
    words = _Wording(currency, _places(rounding) if places is None else places)
    stated, expected = _totals(declared, "declared"), _totals(computed, "computed")
    findings = []
    for code in [*stated, *(code for code in expected if code not in stated)]:
        mine, theirs = stated.get(code), expected.get(code)
        if theirs is None:
            if mine["amount"] or mine["base"]:
                findings.append(
                    TaxFinding(
                        "unexpected_tax",
                        code,
                        mine["amount"],
                        None,
                        f"{code}: the document states {words.amount(mine['amount'])}"
                        " of tax, but none of its lines carries this tax.",
                    )
                )
            continue
        if mine is None:
            if theirs["amount"]:
                findings.append(
                    TaxFinding(
                        "missing_tax",
                        code,
                        None,
                        theirs["amount"],
                        f"{code}: {words.amount(theirs['amount'])} of tax is "
                        "computed from the lines, but the document does not "
                        "state this tax.",
                    )
                )
            continue
        allowance = _allowance(theirs, rounding, tolerance)
        if abs(mine["amount"] - theirs["amount"]) > allowance:
            findings.append(
                TaxFinding(
                    "tax_mismatch",
                    code,
                    mine["amount"],
                    theirs["amount"],
                    f"{code}: the document states {words.amount(mine['amount'])} "
                    f"of tax, {words.amount(theirs['amount'])} is computed from "
                    "its lines "
                    + words.difference(
                        mine["amount"],
                        theirs["amount"],
                        allowance,
                        theirs["self_assessed"],
                    ),
                )
            )
        base_allowance = _allowance(
            {**theirs, "self_assessed": False}, rounding, tolerance
        )
        if (
            mine["base"] is not None
            and theirs["base"] is not None
            and abs(mine["base"] - theirs["base"]) > base_allowance
        ):
            findings.append(
                TaxFinding(
                    "base_mismatch",
                    code,
                    mine["base"],
                    theirs["base"],
                    f"{code}: the document states a taxable base of "
                    f"{words.amount(mine['base'])}, {words.amount(theirs['base'])}"
                    " is computed from its lines "
                    + words.difference(mine["base"], theirs["base"], base_allowance),
                )
            )
    return findings


# -- what the bill books ---------------------------------------------------------


@dataclass(frozen=True)
class TaxReconciliation:
    """The outcome of :func:`reconcile_invoice_taxes`.

    ``findings``: reasons to hold the bill (empty when the taxes agree).
    ``adopted``: per tax code, the stated amount the bill books instead of
    the computed one (only codes where they differ, within the allowance).
    """

    findings: tuple = ()
    adopted: dict = field(default_factory=dict)

    @property
    def agreed(self):
        return not self.findings


def reconcile_invoice_taxes(
    invoice,
    computed,
    *,
    rounding=ROUNDING,
    tolerance=Decimal(0),
    places=None,
):
    """Compare a canonical invoice's stated taxes with the computed ones and
    say which stated amounts to book.

    ``computed`` is a mapping ``code -> amount or figure`` (see
    :func:`check_taxes`), signed, per code the supplier gave the lines.
    ``rounding`` is the currency's smallest amount times the company's
    factor, allowed once per line carrying a tax; ``places`` the decimals
    of the currency, for the sentences.

    Each stated tax (``tax_totals``) within its allowance is booked as
    stated; beyond it, or for a tax stated but not on the lines (or the
    reverse), the bill is held. A document without a breakdown per tax has
    its ``amount_tax`` booked when the lines carry one tax; with several,
    nothing can be booked as stated, so the total must agree exactly. The
    document's ``amount_tax`` must equal what the bill books.

    >>> invoice = {"currency": "EUR", "amount_tax": 3.01,
    ...            "tax_totals": [{"tax_code": "VAT15", "base": 20.06, "amount": 3.01}]}
    >>> reconcile_invoice_taxes(invoice, {"VAT15": {"amount": "3.00", "base":
    ...     "20.06", "lines": 2}})
    TaxReconciliation(findings=(), adopted={'VAT15': Decimal('3.01')})
    >>> outcome = reconcile_invoice_taxes(invoice, {"VAT15": "2.98"})
    >>> [finding.kind for finding in outcome.findings], outcome.adopted
    (['tax_mismatch', 'total_mismatch'], {})
    """
    currency = invoice.get("currency")
    rounding = to_decimal(rounding, "the rounding")
    tolerance = to_decimal(tolerance, "the tolerance")
    places = _places(rounding) if places is None else places
    words = _Wording(currency, places)
    expected = _totals(computed, "computed")
    declared_tax = to_decimal(invoice.get("amount_tax"), "the document's tax amount")
    stated = invoice.get("tax_totals") or []
    breakdown = bool(stated)
    if not stated and len(expected) == 1:
        # one tax on the lines: the document's tax amount is that tax's
        (code,) = expected
        stated = [{"tax_code": code, "amount": declared_tax}]
    findings = []
    if stated:
        findings = check_taxes(
            stated,
            expected,
            rounding=rounding,
            tolerance=tolerance,
            currency=currency,
            places=places,
        )
    adopted = {}
    if not findings:
        for code, figure in _totals(stated, "declared").items():
            if code in expected and figure["amount"] != expected[code]["amount"]:
                adopted[code] = figure["amount"]
    booked = sum(
        (adopted.get(code, figure["amount"]) for code, figure in expected.items()),
        Decimal(0),
    )
    if declared_tax != booked:
        if breakdown or len(expected) <= 1:
            cause = (
                "; the bill books the tax per rate as stated, so the total must "
                "agree."
            )
        else:
            cause = (
                "; the document gives no tax per rate, so its tax cannot be "
                "booked as stated: ask the supplier for the tax per rate or "
                "correct the bill by hand."
            )
        findings.append(
            TaxFinding(
                "total_mismatch",
                None,
                declared_tax,
                booked,
                f"The document states {words.amount(declared_tax)} of tax in "
                f"total, the bill comes to {words.amount(booked)} "
                f"{words.gap(declared_tax, booked)}{cause}",
            )
        )
    return TaxReconciliation(tuple(findings), adopted if not findings else {})
