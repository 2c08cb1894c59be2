"""Check the taxes a supplier declares against the taxes computed from the lines.

A supplier's document states its taxes per rate (``tax_totals`` of the
canonical invoice, ``TaxSubtotal`` in UBL, ``TaxDetail`` in cXML). The hub
computes them again from the lines; the two may differ by rounding (per line
or per document), so each tax is compared within a rounding allowance of
0.01 plus a configurable tolerance. Findings carry both figures and a
sentence a finance user can act on.

>>> findings = check_taxes({"VAT21": "52.50", "VAT6": "13.80"},
...                        {"VAT21": "52.29", "VAT6": "13.81"}, currency="EUR")
>>> [finding.kind for finding in findings]
['tax_mismatch']
>>> print(findings[0].message)
VAT21: the document states 52.50 EUR of tax, 52.29 EUR is computed from its \
lines (0.21 EUR more); up to 0.01 EUR is accepted as rounding.

Tax codes are built the same way for every inbound format, so that a cXML
``TaxDetail`` and a UBL ``TaxSubtotal`` for the same tax get the same code:

>>> tax_code("vat", "21.00"), tax_code("VAT", "0", "AE"), tax_code("GST", None)
('VAT21', 'VAT0-AE', 'GST')
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from .money import CENT, money, plain, to_decimal

ROUNDING = CENT  # what rounding alone can explain, per tax
STANDARD_CATEGORIES = {"", "S"}  # UBL "standard rate": no suffix on the code


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


def _totals(figures, what):
    """``{code: {"amount": Decimal, "base": Decimal | None}}`` from a mapping
    ``code -> amount`` or from canonical ``tax_totals`` entries; codes that
    appear twice are added up."""
    if isinstance(figures, Mapping):
        entries = [{"tax_code": code, "amount": v} for code, v in figures.items()]
    else:
        entries = list(figures or ())
    totals = {}
    for entry in entries:
        code = entry.get("tax_code")
        if not code:
            raise ValueError(f"a {what} tax has no tax code: {entry!r}")
        amount = to_decimal(entry.get("amount"), f"the {what} {code} amount")
        base = entry.get("base")
        base = None if base is None else to_decimal(base, f"the {what} {code} base")
        total = totals.setdefault(code, {"amount": Decimal(0), "base": None})
        total["amount"] += amount
        if base is not None:
            total["base"] = (total["base"] or Decimal(0)) + base
    return totals


class _Wording:
    """Amounts with the currency, and the sentence ending about the allowance."""

    def __init__(self, currency, allowance):
        self.currency = f" {currency}" if currency else ""
        self.allowance = allowance

    def amount(self, number):
        return f"{money(number)}{self.currency}"

    def difference(self, declared, computed):
        gap = declared - computed
        more_or_less = "more" if gap > 0 else "less"
        return (
            f"({self.amount(abs(gap))} {more_or_less}); up to "
            f"{self.amount(self.allowance)} is accepted as rounding."
        )


def check_taxes(
    declared,
    computed,
    *,
    rounding=ROUNDING,
    tolerance=Decimal(0),
    currency=None,
):
    """Findings where ``declared`` and ``computed`` taxes differ, ``[]`` if none.

    Both are a mapping ``tax code -> amount`` or canonical ``tax_totals``
    entries (``tax_code``, ``amount``, optional ``base``); bases are compared
    only when both sides have one. A difference is accepted up to
    ``rounding`` (0.01 per tax) plus ``tolerance``.

    >>> declared = [{"tax_code": "VAT6", "base": "230.00", "amount": "13.80"}]
    >>> [f.kind for f in check_taxes(declared, {"VAT6": "13.80", "VAT21": 5})]
    ['missing_tax']
    >>> computed = [{"tax_code": "VAT6", "base": "200.00", "amount": "13.80"}]
    >>> print(check_taxes(declared, computed)[0].message)
    VAT6: the document states a taxable base of 230.00, 200.00 is computed \
from its lines (30.00 more); up to 0.01 is accepted as rounding.
    """
    allowance = to_decimal(rounding, "the rounding") + to_decimal(
        tolerance, "the tolerance"
    )
    words = _Wording(currency, allowance)
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
        if abs(mine["amount"] - theirs["amount"]) > allowance:
            findings.append(
                TaxFinding(
                    "tax_mismatch",
                    code,
                    mine["amount"],
                    theirs["amount"],
                    f"{code}: the document states {words.amount(mine['amount'])} "
                    f"of tax, {words.amount(theirs['amount'])} is computed from "
                    f"its lines {words.difference(mine['amount'], theirs['amount'])}",
                )
            )
        if (
            mine["base"] is not None
            and theirs["base"] is not None
            and abs(mine["base"] - theirs["base"]) > allowance
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
                    f"{words.difference(mine['base'], theirs['base'])}",
                )
            )
    return findings


def check_invoice_taxes(
    invoice,
    computed,
    *,
    rounding=ROUNDING,
    tolerance=Decimal(0),
):
    """Check a canonical invoice: its ``tax_totals`` per code (when it states
    them; the schema does not require them), then its ``amount_tax`` against
    the computed total (rounding allowed once per tax).

    >>> invoice = {"currency": "EUR", "amount_tax": 66.10, "tax_totals": [
    ...     {"tax_code": "VAT21", "base": 249.0, "amount": 52.30},
    ...     {"tax_code": "VAT6", "base": 230.0, "amount": 13.80}]}
    >>> check_invoice_taxes(invoice, {"VAT21": "52.29", "VAT6": "13.80"})
    []
    >>> for finding in check_invoice_taxes(invoice, {"VAT21": "52.29"}):
    ...     print(finding.kind, finding.declared, finding.computed)
    unexpected_tax 13.8 None
    total_mismatch 66.1 52.29
    """
    currency = invoice.get("currency")
    findings = []
    if invoice.get("tax_totals"):
        findings = check_taxes(
            invoice["tax_totals"],
            computed,
            rounding=rounding,
            tolerance=tolerance,
            currency=currency,
        )
    expected = _totals(computed, "computed")
    declared = to_decimal(invoice.get("amount_tax"), "the document's tax amount")
    total = sum((entry["amount"] for entry in expected.values()), Decimal(0))
    allowance = to_decimal(rounding) * max(len(expected), 1) + to_decimal(tolerance)
    if abs(declared - total) > allowance:
        words = _Wording(currency, allowance)
        findings.append(
            TaxFinding(
                "total_mismatch",
                None,
                declared,
                total,
                f"The document states {words.amount(declared)} of tax in total, "
                f"{words.amount(total)} is computed from its lines "
                f"{words.difference(declared, total)}",
            )
        )
    return findings
