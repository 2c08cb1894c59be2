"""Three-way match: what was ordered, what was received, what is invoiced.

Before a vendor bill is paid, each invoiced line is compared with its order
line: the quantity invoiced so far must not exceed what was ordered nor what
was received, and the unit price must be the ordered one, each within a
tolerance. A credit note reduces the quantity invoiced instead. Every finding
carries the compared figures and a sentence for the finance user; an empty
result means the invoice matches.

>>> order = [OrderLine("1", ordered=10, unit_price="24.90", received=10),
...          OrderLine("2", ordered="12.5", unit_price="18.40", received=6)]
>>> invoice = [InvoiceLine("1", "1", quantity=10, unit_price="24.90"),
...            InvoiceLine("2", "2", quantity="12.5", unit_price="19.00")]
>>> result = match(order, invoice, tolerance=Tolerance(price_percent=2))
>>> result.matched
False
>>> for finding in result.findings:
...     print(finding.kind, finding.expected, finding.actual)
price_mismatch 18.40 19.00
not_received 6 12.5
>>> for finding in result.findings:
...     print(finding.message)
Invoice line 2 (order line 2): unit price 19.00 instead of 18.40 ordered \
(0.60 more per unit, 3.26 %), 7.50 more on the line; up to 2 % is accepted.
Order line 2: 12.5 invoiced but only 6 received.

Quantities and prices are Decimals (text, int or float are converted), so
0.1 + 0.2 is 0.3 here.
"""

from dataclasses import dataclass
from decimal import Decimal

from .money import money, plain, price, round_half_up, to_decimal

ZERO = Decimal(0)
BILLING_CONTROLS = ("received", "ordered")


def _set_decimals(instance, **figures):
    """Store ``figures`` on a frozen dataclass as Decimals, once, at construction;
    returns them converted."""
    kind = type(instance).__name__
    converted = {
        name: to_decimal(value, f"{name.replace('_', ' ')} of {kind}")
        for name, value in figures.items()
    }
    for name, number in converted.items():
        object.__setattr__(instance, name, number)  # the frozen dataclass idiom
    return converted


@dataclass(frozen=True)
class OrderLine:
    """A purchase order line and what happened to it so far.

    ``invoiced`` is the quantity already invoiced by earlier documents, net
    of credit notes; ``billed_value`` what those units were billed at (net,
    in the currency of the document matched; by default ``invoiced`` times
    ``unit_price``) and ``rebated`` what earlier rebates (price adjustments)
    already took off it. ``billing_control`` is the product's rule: ``received``
    (invoice what was received, the default) or ``ordered`` (invoice what
    was ordered, before or without a receipt).
    """

    line_id: str
    ordered: Decimal
    unit_price: Decimal
    received: Decimal = ZERO
    invoiced: Decimal = ZERO
    billing_control: str = "received"
    billed_value: Decimal | None = None
    rebated: Decimal = ZERO

    def __post_init__(self):
        _set_decimals(
            self,
            ordered=self.ordered,
            unit_price=self.unit_price,
            received=self.received,
            invoiced=self.invoiced,
            rebated=self.rebated,
        )
        if self.billed_value is None:
            object.__setattr__(self, "billed_value", self.invoiced * self.unit_price)
        else:
            _set_decimals(self, billed_value=self.billed_value)
        if self.billing_control not in BILLING_CONTROLS:
            raise ValueError(
                f"the billing control of order line {self.line_id} must be one of "
                f"{', '.join(BILLING_CONTROLS)}, not {self.billing_control!r}"
            )

    @property
    def billed_price(self):
        """The price per unit the invoiced units were billed at (the order
        price while nothing is invoiced)."""
        if self.invoiced > 0:
            return self.billed_value / self.invoiced
        return self.unit_price


@dataclass(frozen=True)
class InvoiceLine:
    """A line of the invoice or credit note being matched (quantities positive).

    ``price_adjustment``: the line only lowers the price of units already
    invoiced (a rebate on a credit note, ``unit_price`` per unit); it credits
    no quantity.
    """

    line_id: str
    po_line_id: str | None
    quantity: Decimal
    unit_price: Decimal
    price_adjustment: bool = False

    def __post_init__(self):
        _set_decimals(self, quantity=self.quantity, unit_price=self.unit_price)


@dataclass(frozen=True)
class Tolerance:
    """How far an invoice may deviate before it is reported.

    ``quantity_percent``: how much more than ordered (or received) may be
    invoiced. Prices have two sides. The upper side is a price that costs the
    company more than ordered (an invoice above the order price, a credit
    note below it): ``price_percent`` limits the unit price difference
    relative to the ordered price, ``price_amount`` the money difference over
    the whole line (quantity times the unit price difference); with neither
    set, no difference is accepted. The lower side (the company pays less) is
    only checked when ``check_lower`` is on, against ``lower_percent`` and
    ``lower_amount`` in the same way. Every limit that is set must hold.

    >>> Tolerance(price_percent=2).describe(" EUR")
    'up to 2 % is accepted'
    >>> Tolerance(check_lower=True, lower_amount=1).describe(" EUR", "lower")
    'up to 1.00 EUR on the line is accepted'
    """

    quantity_percent: Decimal = ZERO
    price_percent: Decimal | None = None
    price_amount: Decimal | None = None
    check_lower: bool = False
    lower_percent: Decimal | None = None
    lower_amount: Decimal | None = None

    def __post_init__(self):
        limits = {
            "quantity_percent": self.quantity_percent,
            "price_percent": self.price_percent,
            "price_amount": self.price_amount,
            "lower_percent": self.lower_percent,
            "lower_amount": self.lower_amount,
        }
        limits = {name: value for name, value in limits.items() if value is not None}
        for name, number in _set_decimals(self, **limits).items():
            if number < 0:
                raise ValueError(f"the tolerance {name} must not be negative")

    def _limits(self, side):
        if side == "lower":
            return self.lower_percent, self.lower_amount
        return self.price_percent, self.price_amount

    def checks(self, side):
        """Whether price differences on ``side`` (upper, lower) are checked."""
        return side == "upper" or self.check_lower

    def accepts_price(self, gap, ordered_price, line_gap, side="upper"):
        """Whether a unit price ``gap`` (``line_gap`` over the line) on ``side``
        of the ordered price is accepted."""
        if gap == 0 or not self.checks(side):
            return True
        percent, amount = self._limits(side)
        limits = []
        if percent is not None:
            limits.append(abs(gap) * 100 <= ordered_price * percent)
        if amount is not None:
            limits.append(abs(line_gap) <= amount)
        return bool(limits) and all(limits)

    def describe(self, currency="", side="upper", places=2):
        percent, amount = self._limits(side)
        limits = []
        if percent is not None:
            limits.append(f"{plain(percent)} %")
        if amount is not None:
            limits.append(f"{money(amount, places)}{currency} on the line")
        if not limits:
            return "no difference is accepted"
        return f"up to {' and '.join(limits)} is accepted"


@dataclass(frozen=True)
class Finding:
    """One reason why the invoice does not match.

    ``kind``: ``price_mismatch``, ``over_invoiced_quantity`` (more than
    ordered), ``not_received`` (more than received), ``over_credited_quantity``
    (a credit note credits more than was invoiced, or lowers the price of
    more units than were invoiced), ``over_credited_price`` (a rebate larger
    than the price the units were billed at, or all rebates on the order
    line together more than their billed value), ``adjustment_not_credit``
    (a price adjustment on an invoice), ``unknown_line`` (the order has no such line) or
    ``unlinked_line`` (no order line given).
    ``expected`` is the figure from the order or the
    receipts, ``actual`` the one from the invoice.
    """

    kind: str
    po_line_id: str | None
    invoice_line_ids: tuple[str, ...]
    expected: Decimal | str | None
    actual: Decimal | str | None
    message: str


@dataclass(frozen=True)
class MatchResult:
    findings: tuple[Finding, ...]

    @property
    def matched(self):
        return not self.findings

    def of_kind(self, kind):
        return [finding for finding in self.findings if finding.kind == kind]


# -- the match -----------------------------------------------------------------


def _price_finding(line, order, tolerance, currency, credit_note=False, places=2):
    """A unit price outside the tolerance. A credit note is compared with the
    price its units were billed at (the order price while they were billed
    at it): a return is credited at what was paid.

    >>> order = OrderLine("1", ordered=10, unit_price=4, received=10,
    ...                   invoiced=10, billed_value=39)
    >>> _price_finding(InvoiceLine("C", "1", 2, "3.90"), order, Tolerance(),
    ...                "", credit_note=True) is None
    True
    >>> print(_price_finding(InvoiceLine("C", "1", 2, "3.80"), order,
    ...                      Tolerance(), "", credit_note=True).message)
    ... # doctest: +ELLIPSIS
    Invoice line C (order line 1): unit price 3.80 instead of 3.90 billed ...
    """
    reference, what = order.unit_price, "ordered"
    if credit_note and order.invoiced > 0 and order.billed_price != order.unit_price:
        reference, what = round_half_up(order.billed_price, 6).normalize(), "billed"
    gap = line.unit_price - reference
    on_line = round_half_up(gap * abs(line.quantity), places)
    # an invoice above the order price, or a credit note below it, costs more
    side = "upper" if (gap > 0) != credit_note else "lower"
    if tolerance.accepts_price(gap, reference, on_line, side):
        return None
    direction = "more" if gap > 0 else "less"
    relative = ""
    if reference:
        share = round_half_up(abs(gap) * 100 / reference)
        relative = f", {plain(share)} %"
    rebate = ""
    if credit_note and gap < 0:
        rebate = (
            " If the credit note only lowers the price of units already invoiced "
            "(a rebate), the line must be marked as a price adjustment."
        )
    return Finding(
        "price_mismatch",
        order.line_id,
        (line.line_id,),
        reference,
        line.unit_price,
        f"Invoice line {line.line_id} (order line {order.line_id}): unit price "
        f"{price(line.unit_price, places)}{currency} instead of "
        f"{price(reference, places)}{currency} {what} "
        f"({price(abs(gap), places)}{currency} {direction} per unit{relative}), "
        f"{money(abs(on_line), places)}{currency} {direction} on the line; "
        f"{tolerance.describe(currency, side, places)}.{rebate}",
    )


def _adjustment_findings(line, order, credit_note, currency, places=2):
    """A price adjustment: only on a credit note, and never more than the
    price the units were billed at."""
    if not credit_note:
        yield Finding(
            "adjustment_not_credit",
            order.line_id,
            (line.line_id,),
            None,
            line.unit_price,
            f"Invoice line {line.line_id} (order line {order.line_id}) is marked as "
            "a price adjustment, which only a credit note can be; a higher price "
            "needs the order changed first.",
        )
    elif line.unit_price > order.billed_price:
        billed = round_half_up(order.billed_price, 6).normalize()
        what = "billed" if order.invoiced > 0 else "ordered"
        yield Finding(
            "over_credited_price",
            order.line_id,
            (line.line_id,),
            billed,
            line.unit_price,
            f"Invoice line {line.line_id} (order line {order.line_id}): the price "
            f"adjustment lowers the price by {price(line.unit_price, places)}"
            f"{currency} per unit, more than the {price(billed, places)}{currency} "
            f"{what}.",
        )


def _with_margin(quantity, percent):
    return quantity * (1 + percent / 100)


def _invoiced_text(order, quantity):
    total = order.invoiced + quantity
    if not order.invoiced:
        return f"{plain(total)} invoiced"
    return (
        f"{plain(total)} invoiced in total ({plain(order.invoiced)} before, "
        f"{plain(quantity)} on this invoice)"
    )


def _quantity_findings(order, line_ids, quantity, tolerance, credit_note):
    if credit_note:
        if quantity > order.invoiced:
            already = (
                f"only {plain(order.invoiced)} have been invoiced"
                if order.invoiced > 0
                else "nothing has been invoiced yet"
            )
            yield Finding(
                "over_credited_quantity",
                order.line_id,
                line_ids,
                order.invoiced,
                quantity,
                f"Order line {order.line_id}: the credit note credits "
                f"{plain(quantity)} but {already}.",
            )
        return
    total = order.invoiced + quantity
    margin = (
        f" (up to {plain(tolerance.quantity_percent)} % more is accepted)"
        if tolerance.quantity_percent
        else ""
    )
    if total > _with_margin(order.ordered, tolerance.quantity_percent):
        yield Finding(
            "over_invoiced_quantity",
            order.line_id,
            line_ids,
            order.ordered,
            total,
            f"Order line {order.line_id}: {_invoiced_text(order, quantity)} but "
            f"only {plain(order.ordered)} ordered{margin}.",
        )
    if order.billing_control == "received" and total > _with_margin(
        order.received, tolerance.quantity_percent
    ):
        received = (
            f"only {plain(order.received)} received"
            if order.received > 0
            else "nothing has been received yet"
        )
        yield Finding(
            "not_received",
            order.line_id,
            line_ids,
            order.received,
            total,
            f"Order line {order.line_id}: {_invoiced_text(order, quantity)} but "
            f"{received}{margin}.",
        )


def match(
    order_lines,
    invoice_lines,
    *,
    credit_note=False,
    tolerance=None,
    currency=None,
    compare_prices=True,
    currency_places=2,
):
    """Match ``invoice_lines`` (a document) against ``order_lines``.

    Invoice lines on the same order line are added up for the quantity
    checks; prices are checked line by line. ``credit_note``: the document
    credits quantities, which must not exceed those already invoiced.
    ``currency`` only adds the code to the sentences; ``currency_places`` is
    its number of decimals (3 for KWD, 0 for JPY): money is rounded and
    printed to it.

    >>> order = [OrderLine("1", ordered=10, unit_price=5, received=10, invoiced=8)]
    >>> credit = [InvoiceLine("C1", "1", quantity=9, unit_price=5),
    ...           InvoiceLine("C2", None, quantity=1, unit_price=2)]
    >>> for finding in match(order, credit, credit_note=True).findings:
    ...     print(finding.message)
    Invoice line C2 is not linked to an order line, so it cannot be matched.
    Order line 1: the credit note credits 9 but only 8 have been invoiced.

    A rebate of 0.50 per unit on the 8 units invoiced credits no quantity:

    >>> rebate = [InvoiceLine("R1", "1", quantity=8, unit_price="0.50",
    ...                       price_adjustment=True)]
    >>> match(order, rebate, credit_note=True).matched
    True
    """
    tolerance = tolerance or Tolerance()
    suffix = f" {currency}" if currency else ""
    orders = {}
    for order in order_lines:
        if order.line_id in orders:
            raise ValueError(f"the order has two lines with the id {order.line_id!r}")
        orders[order.line_id] = order
    findings, per_order_line, adjustments = [], {}, {}
    for line in invoice_lines:
        if not line.po_line_id:
            findings.append(
                Finding(
                    "unlinked_line",
                    None,
                    (line.line_id,),
                    None,
                    None,
                    f"Invoice line {line.line_id} is not linked to an order line, "
                    "so it cannot be matched.",
                )
            )
            continue
        order = orders.get(line.po_line_id)
        if order is None:
            findings.append(
                Finding(
                    "unknown_line",
                    line.po_line_id,
                    (line.line_id,),
                    None,
                    line.po_line_id,
                    f"Invoice line {line.line_id} refers to order line "
                    f"{line.po_line_id}, which the order does not have.",
                )
            )
            continue
        if line.price_adjustment:
            adjustments.setdefault(order.line_id, []).append(line)
            if compare_prices:
                findings.extend(
                    _adjustment_findings(
                        line, order, credit_note, suffix, currency_places
                    )
                )
            continue
        per_order_line.setdefault(order.line_id, []).append(line)
        if compare_prices:
            finding = _price_finding(
                line, order, tolerance, suffix, credit_note, currency_places
            )
            if finding:
                findings.append(finding)
    for order in orders.values():
        lines = per_order_line.get(order.line_id)
        if lines:
            quantity = sum((line.quantity for line in lines), ZERO)
            line_ids = tuple(line.line_id for line in lines)
            findings.extend(
                _quantity_findings(order, line_ids, quantity, tolerance, credit_note)
            )
        lines = adjustments.get(order.line_id)
        if lines and credit_note:
            findings.extend(_adjusted_quantity_findings(order, lines))
            if compare_prices:
                findings.extend(
                    _rebated_value_findings(order, lines, suffix, currency_places)
                )
    return MatchResult(tuple(findings))


def _rebated_value_findings(order, lines, currency, places):
    """All rebates on an order line together never take off more than its
    units were billed at: this credit note's and the earlier ones.

    >>> order = OrderLine("1", ordered=10, unit_price=4, received=10,
    ...                   invoiced=10, rebated=25)
    >>> rebate = [InvoiceLine("B", "1", quantity=10, unit_price=2,
    ...                       price_adjustment=True)]
    >>> print(match([order], rebate, credit_note=True).findings[0].message)
    Order line 1: the rebates take 45.00 off in total (25.00 before, 20.00 on \
this credit note), more than the 40.00 its 10 units were billed at.
    """
    if any(line.unit_price > order.billed_price for line in lines):
        return  # already reported per unit
    value = sum((line.quantity * line.unit_price for line in lines), ZERO)
    total = order.rebated + value
    if total <= order.billed_value:
        return
    before = (
        f" ({money(order.rebated, places)}{currency} before, "
        f"{money(value, places)}{currency} on this credit note)"
        if order.rebated
        else ""
    )
    yield Finding(
        "over_credited_price",
        order.line_id,
        tuple(line.line_id for line in lines),
        order.billed_value,
        total,
        f"Order line {order.line_id}: the rebates take {money(total, places)}"
        f"{currency} off in total{before}, more than the "
        f"{money(order.billed_value, places)}{currency} its "
        f"{plain(order.invoiced)} units were billed at.",
    )


def _adjusted_quantity_findings(order, lines):
    """A rebate lowers the price of units already invoiced, never of more."""
    quantity = sum((line.quantity for line in lines), ZERO)
    if quantity > order.invoiced:
        yield Finding(
            "over_credited_quantity",
            order.line_id,
            tuple(line.line_id for line in lines),
            order.invoiced,
            quantity,
            f"Order line {order.line_id}: the price adjustment applies to "
            f"{plain(quantity)} units but only {plain(order.invoiced)} have been "
            "invoiced.",
        )
