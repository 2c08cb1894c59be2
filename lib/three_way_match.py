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
    of credit notes.
    """

    line_id: str
    ordered: Decimal
    unit_price: Decimal
    received: Decimal = ZERO
    invoiced: Decimal = ZERO

    def __post_init__(self):
        _set_decimals(
            self,
            ordered=self.ordered,
            unit_price=self.unit_price,
            received=self.received,
            invoiced=self.invoiced,
        )


@dataclass(frozen=True)
class InvoiceLine:
    """A line of the invoice or credit note being matched (quantities positive)."""

    line_id: str
    po_line_id: str | None
    quantity: Decimal
    unit_price: Decimal

    def __post_init__(self):
        _set_decimals(self, quantity=self.quantity, unit_price=self.unit_price)


@dataclass(frozen=True)
class Tolerance:
    """How far an invoice may deviate before it is reported.

    ``quantity_percent``: how much more than ordered (or received) may be
    invoiced. ``price_percent`` limits the unit price difference relative to
    the ordered price, ``price_amount`` the money difference over the whole
    line (quantity times the unit price difference). Every limit that is set
    must hold; a limit left at None does not apply, and with neither price
    limit set the price must be exactly the ordered one.
    """

    quantity_percent: Decimal = ZERO
    price_percent: Decimal | None = None
    price_amount: Decimal | None = None

    def __post_init__(self):
        limits = {"quantity_percent": self.quantity_percent}
        if self.price_percent is not None:
            limits["price_percent"] = self.price_percent
        if self.price_amount is not None:
            limits["price_amount"] = self.price_amount
        for name, number in _set_decimals(self, **limits).items():
            if number < 0:
                raise ValueError(f"the tolerance {name} must not be negative")

    def accepts_price(self, gap, ordered_price, line_gap):
        """Whether a unit price ``gap`` (``line_gap`` over the line) is accepted."""
        limits = []
        if self.price_percent is not None:
            limits.append(abs(gap) * 100 <= ordered_price * self.price_percent)
        if self.price_amount is not None:
            limits.append(abs(line_gap) <= self.price_amount)
        return gap == 0 or (bool(limits) and all(limits))

    def describe(self, currency=""):
        limits = []
        if self.price_percent is not None:
            limits.append(f"{plain(self.price_percent)} %")
        if self.price_amount is not None:
            limits.append(f"{money(self.price_amount)}{currency} on the line")
        if not limits:
            return "no difference is accepted"
        return f"up to {' and '.join(limits)} is accepted"


@dataclass(frozen=True)
class Finding:
    """One reason why the invoice does not match.

    ``kind``: ``price_mismatch``, ``over_invoiced_quantity`` (more than
    ordered), ``not_received`` (more than received), ``over_credited_quantity``
    (a credit note credits more than was invoiced), ``unknown_line`` (the
    order has no such line) or ``unlinked_line`` (no order line given).
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


def _price_finding(line, order, tolerance, currency):
    gap = line.unit_price - order.unit_price
    on_line = round_half_up(gap * abs(line.quantity))
    if tolerance.accepts_price(gap, order.unit_price, on_line):
        return None
    direction = "more" if gap > 0 else "less"
    relative = ""
    if order.unit_price:
        share = round_half_up(abs(gap) * 100 / order.unit_price)
        relative = f", {plain(share)} %"
    return Finding(
        "price_mismatch",
        order.line_id,
        (line.line_id,),
        order.unit_price,
        line.unit_price,
        f"Invoice line {line.line_id} (order line {order.line_id}): unit price "
        f"{price(line.unit_price)}{currency} instead of "
        f"{price(order.unit_price)}{currency} ordered ({price(abs(gap))}"
        f"{currency} {direction} per unit{relative}), {money(abs(on_line))}"
        f"{currency} {direction} on the line; {tolerance.describe(currency)}.",
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
    if total > _with_margin(order.received, tolerance.quantity_percent):
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
):
    """Match ``invoice_lines`` (a document) against ``order_lines``.

    Invoice lines on the same order line are added up for the quantity
    checks; prices are checked line by line. ``credit_note``: the document
    credits quantities, which must not exceed those already invoiced.
    ``currency`` only adds the code to the sentences.

    >>> order = [OrderLine("1", ordered=10, unit_price=5, received=10, invoiced=8)]
    >>> credit = [InvoiceLine("C1", "1", quantity=9, unit_price=5),
    ...           InvoiceLine("C2", None, quantity=1, unit_price=2)]
    >>> for finding in match(order, credit, credit_note=True).findings:
    ...     print(finding.message)
    Invoice line C2 is not linked to an order line, so it cannot be matched.
    Order line 1: the credit note credits 9 but only 8 have been invoiced.
    """
    tolerance = tolerance or Tolerance()
    suffix = f" {currency}" if currency else ""
    orders = {}
    for order in order_lines:
        if order.line_id in orders:
            raise ValueError(f"the order has two lines with the id {order.line_id!r}")
        orders[order.line_id] = order
    findings, per_order_line = [], {}
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
        per_order_line.setdefault(order.line_id, []).append(line)
        if compare_prices:
            finding = _price_finding(line, order, tolerance, suffix)
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
    return MatchResult(tuple(findings))
