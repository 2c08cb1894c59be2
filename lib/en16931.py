"""The EN 16931 rules the UBL and the CII readers share.

EN 16931 is one semantic invoice with two syntaxes: UBL 2.1 (Peppol BIS 3,
``lib/ubl_inbound.py``) and UN/CEFACT Cross Industry Invoice (Factur-X,
ZUGFeRD, XRechnung-CII, ``lib/cii_inbound.py``). Each reader finds the
figures in its own syntax and hands them over as a :class:`Reading`;
:func:`to_canonical` checks them with the standard's business rules and
writes the canonical invoice (``schemas/invoice.json``), so that the same
document gives the same bill whichever syntax the supplier chose.

>>> check_line_amount("line 1 of the invoice F1", "EUR", Decimal(3),
...                   Decimal("10"), Decimal(1), Decimal(0), Decimal(0),
...                   Decimal("30.05"))
Traceback (most recent call last):
...
lib.en16931.EN16931Error: line 1 of the invoice F1 states 30.05 EUR but its \
quantity 3 x price 10 comes to 30.00 (BR-LIN-04); ask the supplier for a \
corrected document
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal

from babel.numbers import get_currency_precision

from . import canonical, units
from . import en16931_signs as signs
from .canonical import put_optional
from .money import money, plain, round_half_up, to_decimal
from .price_precision import decimals_needed
from .tax_check import tax_code

PRICE_PLACES = Decimal("0.000001")
DISCOUNT_DIGITS = 2  # Odoo's 'Discount' precision (the % off a bill line)
# a booked amount this close to half a cent may round either way in Odoo's
# floating-point arithmetic: it is not relied on
ROUNDING_MARGIN = Decimal("0.000001")
EXACT_PLACES = 10
# rounding slack of a line against its quantity x price (PEPPOL-EN16931-R120)
LINE_SLACK = Decimal("0.02")
ZERO = Decimal(0)


# EN 16931 codes (BR-CL-01) the hub does not book, and why
NOT_BOOKED = {
    "386": (
        "prepayment invoice",
        "the hub does not book it as a vendor bill, since the final invoice "
        "states the prepayment (TotalPrepaidAmount) and would count it twice; "
        "book the prepayment as an advance, then send the final invoice",
    ),
}


class EN16931Error(ValueError):
    """An e-invoice is refused; the message is meant for a finance user."""


def number(text, what):
    """``text`` as a Decimal, or an error naming ``what``.

    >>> number(" 12.50 ", "the price")
    Decimal('12.50')
    """
    try:
        return to_decimal(text, what)
    except ValueError:
        raise EN16931Error(
            f"{what} must be a number such as 12.50, not {text!r}"
        ) from None


class DocumentReader:
    """Reads amounts and tax categories of one e-invoice, all in its
    currency; each syntax (UBL, CII) names its namespaces, its error and the
    paths of a tax category's scheme, rate and category code."""

    error = EN16931Error
    ns = {}
    tax_paths = ("", "", "")  # (scheme, percent, category code)

    def __init__(self, root, label, currency):
        self.root, self.label, self.currency = root, label, currency

    def text(self, parent, path):
        element = parent.find(path, self.ns)
        return "" if element is None else "".join(element.itertext()).strip()

    def amount(self, parent, path, what, required=True):
        element = parent.find(path, self.ns)
        text = "" if element is None else "".join(element.itertext()).strip()
        if not text:
            if required:
                name = re.sub(r"\b\w+:", "", path)
                raise self.error(f"{what} is missing ({name})")
            return None
        code = (element.get("currencyID") or "").strip()
        if code and code != self.currency:
            raise self.error(f"{what} is in {code}, the document in {self.currency}")
        return number(text, what)

    def price_base(self, basis, what):
        """The quantity a line's price is for (BT-149): 1 when not stated."""
        if not basis:
            return Decimal(1)
        per = number(basis, f"the price base quantity of {what}")
        if per <= 0:
            raise self.error(f"the price base quantity of {what} must be positive")
        return per

    @staticmethod
    def canonical_line(read):
        """The canonical line of the values ``read`` from a document line:
        line_id, po_line_id, product_code, description, quantity, unit_code,
        amount, unit_price, tax_code, cost_center (empty: left out) and the
        optional discount_percent, line_charges and line_allowances of its
        :func:`line_booking`.

        >>> DocumentReader.canonical_line(dict(line_id="2", po_line_id="",
        ...     product_code="P-1", description="", quantity=Decimal(3),
        ...     unit_code="C62", amount=Decimal("12.00"),
        ...     unit_price=Decimal(4), tax_code="S21", cost_center=""))
        ... # doctest: +NORMALIZE_WHITESPACE
        {'line_id': '2', 'product_code': 'P-1', 'description': 'P-1',
         'quantity': 3.0, 'uom': 'Units', 'line_amount': 12.0,
         'unit_price': 4.0, 'tax_codes': ['S21']}
        """
        line = {"line_id": read["line_id"]}
        put_optional(line, "po_line_id", read["po_line_id"])
        put_optional(line, "product_code", read["product_code"])
        line.update(
            description=read["description"]
            or read["product_code"]
            or f"Line {read['line_id']}",
            quantity=float(read["quantity"]),
        )
        put_optional(line, "uom", units.inbound_unit(read["unit_code"]))
        line.update(
            line_amount=float(read["amount"]),
            unit_price=float(read["unit_price"]),
        )
        if read.get("discount_percent") is not None:
            line["discount_percent"] = float(read["discount_percent"])
        for key in ("line_charges", "line_allowances"):
            put_optional(
                line,
                key,
                [
                    dict(entry, amount=float(entry["amount"]))
                    for entry in read.get(key) or []
                ],
            )
        line["tax_codes"] = [read["tax_code"]] if read["tax_code"] else []
        # the buyer's accounting reference (BT-133); the intake decides
        # whether the table 'cost_centers' makes it a cost centre
        put_optional(line, "cost_center", read["cost_center"])
        return line

    def tax_code(self, category, what):
        """The hub's tax code of a tax category element, None without one."""
        if category is None:
            return None
        scheme_path, percent_path, code_path = self.tax_paths
        scheme = self.text(category, scheme_path) or "VAT"
        percent = self.text(category, percent_path) or None
        try:
            return tax_code(scheme, percent, self.text(category, code_path))
        except ValueError as exc:
            raise self.error(f"the tax of {what}: {exc}") from None


def unit_price(amount, quantity, price, adjusted):
    """The unit price that gives the stated line ``amount``: amount / quantity
    when that is an exact decimal (up to 10 places), else the stated net price
    per unit when no line allowance or charge changes the amount, else
    amount / quantity to 6 places (the price-precision check then holds the
    bill if Odoo cannot keep it).

    >>> unit_price(Decimal("10.00"), Decimal(3), Decimal("4"), True)
    Decimal('3.333333')
    """
    if not quantity:
        return price
    exact = amount / quantity
    if exact * quantity == amount and decimals_needed(exact) <= EXACT_PLACES:
        return exact
    if not adjusted:
        return price
    return round_half_up(exact, PRICE_PLACES)


def check_line_amount(
    what, currency, quantity, price, per, charges, allowances, amount
):
    """BR-LIN-04 / PEPPOL-EN16931-R120: the stated ``amount`` of a line is
    quantity x net price / base quantity + charges - allowances, within the
    rounding slack; returns the unit price the bill line carries."""
    computed = quantity * price / per + charges - allowances
    if abs(round_half_up(computed) - amount) > LINE_SLACK:
        raise EN16931Error(
            f"{what} states {money(amount)} {currency} but its quantity "
            f"{plain(quantity)} x price {plain(price)}"
            + (f" per {plain(per)}" if per != 1 else "")
            + (f" + charges {money(charges)}" if charges else "")
            + (f" - allowances {money(allowances)}" if allowances else "")
            + f" comes to {money(computed)} (BR-LIN-04); ask the supplier for a "
            "corrected document"
        )
    return unit_price(amount, quantity, price / per, bool(charges or allowances))


def currency_places(currency):
    """The decimals of a currency's amounts (ISO 4217 minor units): 2 unless
    the currency says otherwise.

    >>> currency_places("EUR"), currency_places("JPY"), currency_places("KWD")
    (2, 0, 3)
    """
    return get_currency_precision(currency)


def rounds_to(value, amount, places):
    """Whether ``value`` rounds to the stated ``amount`` at ``places``
    decimals, clear of the half-way point (where Odoo's floating-point
    arithmetic could round either way).

    >>> rounds_to(Decimal("28.969002"), Decimal("28.97"), 2)
    True
    >>> rounds_to(Decimal("28.965"), Decimal("28.97"), 2)
    False
    """
    half = Decimal(1).scaleb(-places) / 2
    return abs(value - amount) < half - ROUNDING_MARGIN


def line_discount(quantity, price, goods, places):
    """The discount percent, to Odoo's 'Discount' precision, that books
    ``quantity`` x ``price`` at exactly the ``goods`` amount of a line, as
    Odoo computes a bill line (quantity x price x (1 - discount / 100),
    rounded to the currency); None when no such discount exists.

    3 x 9.99 less a 1.00 allowance is 28.97: 3.34 % off 29.97 is 28.969002,
    booked as 28.97:

    >>> line_discount(Decimal(3), Decimal("9.99"), Decimal("28.97"), 2)
    Decimal('3.34')

    1 x 10000.00 less 0.50: a discount of 0.01 % is 1.00 off, none is exact:

    >>> line_discount(Decimal(1), Decimal("10000"), Decimal("9999.50"), 2) is None
    True
    """
    gross = quantity * price
    if not gross:
        return None
    percent = round_half_up(100 * (1 - goods / gross), DISCOUNT_DIGITS)
    if not ZERO < percent <= 100:
        return None
    if not rounds_to(gross * (1 - percent / 100), goods, places):
        return None
    return percent


def line_booking(what, currency, quantity, price, per, charges, allowances, amount):
    """How a document line with its own ``charges`` and ``allowances``
    (entries of amount, reason, reason_code) is booked to the cent of its
    stated ``amount``, as Odoo's own e-invoice import books it:

    - ``line_charges``: each charge is a bill line of its own, taxed as the
      line; the line itself is booked at the stated amount less its charges;
    - the allowances are a ``discount_percent`` on the stated net price when
      a discount at Odoo's 'Discount' precision gives exactly that amount;
    - else ``line_allowances``: each allowance is a negative bill line of its
      own (the line at the net price gives its gross amount exactly);
    - else the allowances are folded into the ``unit_price`` (the amount per
      unit; the price precision check holds the bill when Odoo cannot keep
      it). Nothing is ever a cent off silently.

    Checks the amount first (BR-LIN-04, :func:`check_line_amount`).

    >>> allowance = {"amount": Decimal("1.00"), "reason": "Discount"}
    >>> booking = line_booking("line 1", "EUR", Decimal(3), Decimal("9.99"),
    ...                        Decimal(1), [], [allowance], Decimal("28.97"))
    >>> booking["unit_price"], booking["discount_percent"]
    (Decimal('9.99'), Decimal('3.34'))
    >>> charge = {"amount": Decimal("1.00"), "reason": "Freight"}
    >>> booking = line_booking("line 1", "EUR", Decimal(3), Decimal("10.00"),
    ...                        Decimal(1), [charge], [], Decimal("31.00"))
    >>> booking["unit_price"], booking["line_charges"] == [charge]
    (Decimal('10.00'), True)
    >>> allowance = {"amount": Decimal("0.50"), "reason": "Rebate"}
    >>> booking = line_booking("line 1", "EUR", Decimal(1), Decimal("10000"),
    ...                        Decimal(1), [], [allowance], Decimal("9999.50"))
    >>> booking["unit_price"], booking["line_allowances"] == [allowance]
    (Decimal('10000.00'), True)
    """
    charge_sum = sum((entry["amount"] for entry in charges), ZERO)
    allowance_sum = sum((entry["amount"] for entry in allowances), ZERO)
    folded = check_line_amount(
        what, currency, quantity, price, per, charge_sum, allowance_sum, amount
    )
    if not (charges or allowances):
        return {"unit_price": folded}
    places = currency_places(currency)
    net = price / per
    goods = amount - charge_sum  # the line without its own charges
    booking = {"line_charges": list(charges)}
    if not allowances:
        exact = unit_price(goods, quantity, net, False)
        if rounds_to(quantity * exact, goods, places):
            return dict(booking, unit_price=exact)
        return dict(booking, unit_price=unit_price(goods, quantity, net, True))
    if net * per == price:  # a net price Odoo can keep as stated
        discount = line_discount(quantity, net, goods, places)
        if discount is not None:
            return dict(booking, unit_price=net, discount_percent=discount)
    gross = goods + allowance_sum  # the line before its own allowances
    exact = unit_price(gross, quantity, net, False)
    if rounds_to(quantity * exact, gross, places):
        return dict(booking, unit_price=exact, line_allowances=list(allowances))
    return dict(booking, unit_price=unit_price(goods, quantity, net, True))


def canonical_problems(document, shown=3):
    """A readable reason when the canonical reading of a document does not
    follow the canonical schema (say a currency 'EURO'), else None.

    >>> canonical_problems({"external_id": "x"})[:60]
    'the document cannot be taken as an invoice: $.amount_tax is '
    """
    errors = canonical.validate("invoice", document)
    if not errors:
        return None
    text = "; ".join(f"{error['path']} {error['reason']}" for error in errors[:shown])
    more = f" (and {len(errors) - shown} more)" if len(errors) > shown else ""
    return f"the document cannot be taken as an invoice: {text}{more}"


@dataclass
class Reading:
    """What a reader found in one document, in its currency, as stated.

    Amounts are Decimals; ``lines`` are canonical lines (floats) already
    checked one by one; ``charges``/``allowances`` carry Decimal amounts.
    ``names`` maps a figure to the element that states it in the document's
    syntax (for messages). A stated figure the syntax leaves optional is
    None when absent; a check whose figure is absent is skipped.
    """

    document_type: str  # invoice | credit_note
    number: str
    label: str  # "the invoice F1", for messages
    currency: str
    supplier: str
    identifiers: list
    invoice_date: str
    lines: list
    untaxed: Decimal
    tax: Decimal
    total: Decimal
    payable: Decimal
    tax_totals: list = field(default_factory=list)
    charges: list = field(default_factory=list)
    allowances: list = field(default_factory=list)
    names: dict = field(default_factory=dict)
    due_date: str = ""
    purchase_order: str = ""
    line_sum: Decimal | None = None  # BR-CO-10
    charge_total: Decimal | None = None  # BR-CO-12
    allowance_total: Decimal | None = None  # BR-CO-11
    category_tax: Decimal | None = None  # BR-CO-14: the sum of the categories
    prepaid: Decimal | None = None
    rounding: Decimal | None = None
    check_payable: bool = False  # BR-CO-16
    payment_terms: str = ""
    billing_references: list = field(default_factory=list)

    def name(self, figure):
        return self.names.get(figure, figure)


def to_canonical(reading):
    """The canonical invoice of a checked reading.

    The external_id is ``<supplier>/<document type>/<number>``: numbers are
    only unique per supplier and type (a credit note may reuse its
    invoice's number). A negative invoice (a correction, allowed by Peppol
    BIS 3 and EN 16931) is booked as a credit note with its signs turned,
    under the identity of an invoice; a negative credit note is refused.
    The canonical document states no negative charge or allowance, of the
    document or of a line: one that turns negative (a restocking charge of
    10.00 on a negative invoice lowers the credit) is stated as the other
    kind, of the opposite amount (``en16931_signs.by_sign``), so that every
    EN 16931 total is booked as stated.

    >>> def entry(amount):
    ...     return {"amount": Decimal(amount), "reason": "Restocking fee",
    ...             "tax_code": "S25"}
    >>> doc = to_canonical(Reading("invoice", "N1", "the invoice N1", "EUR",
    ...     "S1", [], "2026-11-20",
    ...     [{"line_id": "1", "description": "Goods", "quantity": -1.0,
    ...       "line_amount": -100.0, "unit_price": 100.0,
    ...       "tax_codes": ["S25"]}],
    ...     Decimal("-90.00"), Decimal("-22.50"), Decimal("-112.50"),
    ...     Decimal("-112.50"),
    ...     tax_totals=[{"tax_code": "S25", "base": -90.0, "amount": -22.5}],
    ...     charges=[entry("10.00")]))
    >>> doc["document_type"], doc["amount_total"], doc.get("charges")
    ('credit_note', 112.5, None)
    >>> doc["allowances"][0]["amount"], doc["lines"][0]["quantity"]
    (10.0, 1.0)
    """
    r = reading
    _check_unique_lines(r)
    _check_summation(r)
    negative = r.total < 0
    if negative and r.document_type != "invoice":
        raise EN16931Error(
            f"{r.label} has a negative total ({money(r.total)} {r.currency}); "
            "send an invoice instead"
        )
    if r.untaxed + r.tax != r.total:  # BR-CO-15
        raise EN16931Error(
            f"the untaxed total ({money(r.untaxed)}) plus the tax ({money(r.tax)}) "
            f"of {r.label} come to {money(r.untaxed + r.tax)} {r.currency}, but "
            f"the document states a total of {money(r.total)} "
            f"({r.name('total')}, BR-CO-15); ask the supplier for a corrected "
            "document"
        )
    if r.check_payable:  # BR-CO-16
        due = r.total - (r.prepaid or ZERO) + (r.rounding or ZERO)
        if due != r.payable:
            raise EN16931Error(
                f"the total ({money(r.total)}) less the prepaid amount "
                f"({money(r.prepaid or ZERO)}) of {r.label} comes to "
                f"{money(due)} {r.currency}, but the document states "
                f"{money(r.payable)} as the amount due ({r.name('payable')}, "
                "BR-CO-16); ask the supplier for a corrected document"
            )
    lines, charges, allowances, tax_totals = (
        r.lines,
        r.charges,
        r.allowances,
        r.tax_totals,
    )
    untaxed, tax, total, payable, prepaid, rounding = (
        r.untaxed,
        r.tax,
        r.total,
        r.payable,
        r.prepaid,
        r.rounding,
    )
    if negative:
        lines, charges, allowances, tax_totals = signs.turned(
            lines, charges, allowances, tax_totals
        )
        untaxed, tax, total, payable = -untaxed, -tax, -total, -payable
        prepaid = None if prepaid is None else -prepaid
        rounding = None if rounding is None else -rounding
    charges, allowances = (
        signs.as_numbers(entries) for entries in signs.by_sign(charges, allowances)
    )
    lines = signs.lines_by_sign(lines)

    document = {
        # a credit note may reuse its invoice's number: the type is part of
        # the identity (a negative invoice keeps the identity of an invoice)
        "external_id": f"{r.supplier}/{r.document_type}/{r.number}",
        "document_type": "credit_note" if negative else r.document_type,
        "supplier_external_id": r.supplier,
    }
    put_optional(document, "supplier_identifiers", r.identifiers)
    document.update(invoice_number=r.number, invoice_date=r.invoice_date)
    put_optional(document, "due_date", r.due_date)
    document["currency"] = r.currency
    put_optional(document, "purchase_order_external_id", r.purchase_order)
    if not r.purchase_order:
        # a line reference without the order it belongs to cannot be matched:
        # the lines stand on their own (their taxes are stated)
        lines = [
            {key: value for key, value in line.items() if key != "po_line_id"}
            for line in lines
        ]
    document["lines"] = lines
    put_optional(document, "tax_totals", tax_totals)
    put_optional(document, "charges", charges)
    put_optional(document, "allowances", allowances)
    document.update(
        amount_untaxed=float(untaxed),
        amount_tax=float(tax),
        amount_total=float(total),
    )
    document.update(_amount_due(payable, prepaid, rounding))
    # what the hub does not book but keeps (the names are those of the first
    # reader, UBL; they mean the EN 16931 business terms in either syntax)
    extensions = {}
    put_optional(extensions, "ubl_payment_terms", r.payment_terms)
    put_optional(extensions, "ubl_billing_references", r.billing_references)
    if negative:
        extensions["ubl_negative_invoice"] = True
    put_optional(document, "extensions", extensions)
    return document


def _amount_due(payable, prepaid, rounding):
    """The amount due (BT-115) and, when stated and not zero, the prepaid
    amount (BT-113) and the rounding (BT-114) that explain why it differs
    from the total: the bill is booked at its total, and the hub holds it
    when the supplier asks another amount to be paid.

    >>> _amount_due(Decimal("75.00"), Decimal("50.00"), None)
    {'amount_due': 75.0, 'amount_prepaid': 50.0}
    >>> _amount_due(Decimal("12.50"), Decimal("0.00"), Decimal("-0.01"))
    {'amount_due': 12.5, 'amount_rounding': -0.01}
    """
    due = {"amount_due": float(payable)}
    if prepaid:
        due["amount_prepaid"] = float(prepaid)
    if rounding:
        due["amount_rounding"] = float(rounding)
    return due


def _check_unique_lines(r):
    """BR-21: every line has its own identifier."""
    seen = set()
    for line in r.lines:
        if line["line_id"] in seen:
            raise EN16931Error(f"{r.label} has two lines numbered {line['line_id']}")
        seen.add(line["line_id"])


def _sum(entries, key="amount"):
    return sum((Decimal(str(entry[key])) for entry in entries), ZERO)


def _check_summation(r):
    """BR-CO-10 to BR-CO-14: the stated sums agree with the lines, the
    allowances, the charges and the tax breakdown."""
    line_sum = _sum(r.lines, "line_amount")
    if r.line_sum is not None and r.line_sum != line_sum:
        raise EN16931Error(
            f"the lines of {r.label} add up to {money(line_sum)} "
            f"{r.currency} but the document states {money(r.line_sum)} as their "
            f"sum ({r.name('line_sum')}, BR-CO-10); ask the supplier for a "
            "corrected document"
        )
    plus, minus = _sum(r.charges), _sum(r.allowances)
    for stated, computed, kind, figure, rule in (
        (r.allowance_total, minus, "allowances", "allowance_total", "BR-CO-11"),
        (r.charge_total, plus, "charges", "charge_total", "BR-CO-12"),
    ):
        if stated is not None and stated != computed:
            raise EN16931Error(
                f"the document {kind} of {r.label} add up to {money(computed)} "
                f"{r.currency} but the document states {money(stated)} as their "
                f"sum ({r.name(figure)}, {rule}); ask the supplier for a "
                "corrected document"
            )
    if line_sum + plus - minus != r.untaxed:  # BR-CO-13
        raise EN16931Error(
            f"the lines of {r.label} ({money(line_sum)}) plus charges "
            f"({money(plus)}) less allowances ({money(minus)}) come to "
            f"{money(line_sum + plus - minus)} {r.currency}, but the document "
            f"states an untaxed total of {money(r.untaxed)} ({r.name('untaxed')}, "
            "BR-CO-13); ask the supplier for a corrected document"
        )
    if r.category_tax is not None and r.category_tax != r.tax:  # BR-CO-14
        raise EN16931Error(
            f"the taxes per category of {r.label} add up to "
            f"{money(r.category_tax)} {r.currency} but the document states a tax "
            f"total of {money(r.tax)} ({r.name('tax')}, BR-CO-14); ask the "
            "supplier for a corrected document"
        )
