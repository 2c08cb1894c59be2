"""The net amount of a cXML invoice line, and its discount.

An ``InvoiceDetailItem`` states its quantity and unit price, its
``SubtotalAmount`` and, when the supplier grants one, an
``InvoiceDetailDiscount`` (a ``percentageRate``, an amount, or both) and a
``NetAmount``. Senders read the standard two ways: the subtotal is quantity x
unit price (the DTD) or already less the discount; the line's net amount
includes its tax (the DTD) or not. Either reading is taken when the figures
agree with it; the line is booked as Odoo books a discounted line (unit price
and its Discount percent) and carries the net amount the document states, so
that the bill's check compares it with what Odoo books, to the cent.
"""

from dataclasses import dataclass
from decimal import Decimal

from ..money import money, plain, round_half_up
from ..price_precision import decimals_needed
from .envelope import CXMLError

# Odoo's 'Discount' decimal precision (2 by default): a percent with more
# decimals is rounded by Odoo; the line amount check then holds the bill
DISCOUNT_PLACES = 2
# a net unit price with more decimals than this is not an exact price
EXACT_PRICE_PLACES = 10
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class LineAmount:
    """How a line is booked: ``unit_price``, ``discount_percent`` (None: no
    discount) and ``line_amount``, the net amount the document states
    (None: it states none)."""

    unit_price: Decimal
    discount_percent: Decimal | None
    line_amount: Decimal | None


def line_amount(
    quantity, unit_price, subtotal, rate=None, discount=None, net=None, tax=None
):
    """The booking of one line from its stated figures (Decimals; ``rate``
    the discount's percentageRate, ``discount`` its amount, ``net`` the
    line's NetAmount, ``tax`` the line's tax; None: not stated).

    Without a discount the line is quantity x unit price, and its stated
    amount is its subtotal:

    >>> line_amount(Decimal(1), Decimal(4), Decimal("4.01"))
    LineAmount(unit_price=Decimal('4'), discount_percent=None, \
line_amount=Decimal('4.01'))

    A discount of 10 % (and 4.00) on 10 x 4.00, the subtotal stated before or
    after it, is booked at 4.00 less 10 %, 36.00 net:

    >>> line_amount(Decimal(10), Decimal(4), Decimal("40.00"), Decimal(10),
    ...             Decimal("4.00"), Decimal("41.40"), Decimal("5.40"))
    LineAmount(unit_price=Decimal('4'), discount_percent=Decimal('10'), \
line_amount=Decimal('36.00'))

    A discount stated as an amount only becomes a percent when Odoo books it
    to the cent (1.00 off 3 x 9.99: 3.34 %), else a net unit price:

    >>> line_amount(Decimal(3), Decimal("9.99"), None, None, Decimal("1.00"))
    LineAmount(unit_price=Decimal('9.99'), discount_percent=Decimal('3.34'), \
line_amount=Decimal('28.97'))
    >>> line_amount(Decimal(2), Decimal("5000.00"), None, None, Decimal("0.02"))
    LineAmount(unit_price=Decimal('4999.99'), discount_percent=None, \
line_amount=Decimal('9999.98'))

    A percent and an amount that disagree are refused:

    >>> line_amount(Decimal(10), Decimal(4), None, Decimal(10), Decimal(5))
    Traceback (most recent call last):
    ...
    lib.cxml.envelope.CXMLError: the discount of 10 % on 40.00 is 4.00, \
but the line states 5.00
    """
    gross = quantity * unit_price
    if rate is None and discount is None:
        return LineAmount(unit_price, None, subtotal)
    if rate is not None and not Decimal(0) <= rate <= HUNDRED:
        raise CXMLError(f"the discount rate {plain(rate)} % is not between 0 and 100")
    if discount is not None:
        discount = abs(discount)
        if rate is not None:
            places = max(decimals_needed(discount), 2)
            computed = round_half_up(gross * rate / HUNDRED, places)
            if computed != discount:
                raise CXMLError(
                    f"the discount of {plain(rate)} % on {money(gross, places)} "
                    f"is {money(computed, places)}, but the line states "
                    f"{money(discount, places)}"
                )
        stated_net = gross - discount
    else:
        # a percent only: the net amount is printed in cents, half up (as
        # Odoo rounds the line)
        stated_net = gross * (HUNDRED - rate) / HUNDRED
        if decimals_needed(stated_net) > 2:
            stated_net = round_half_up(stated_net)
    price, percent = unit_price, rate
    if percent is None:
        price, percent = _booking_of_amount(quantity, unit_price, gross, discount)
    return LineAmount(price, percent, _stated(stated_net, gross, subtotal, net, tax))


def _booking_of_amount(quantity, unit_price, gross, discount):
    """``(unit price, percent)`` of a discount stated as an amount: the exact
    percent when Odoo keeps it, else the percent at Odoo's precision when
    it books the same net amount, else the exact net unit price, else that
    percent (the line amount check then holds the bill, naming it)."""
    if not gross:
        return unit_price, None
    exact = discount * HUNDRED / gross
    if exact * gross == discount * HUNDRED and (
        decimals_needed(exact) <= DISCOUNT_PLACES
    ):
        return unit_price, exact.normalize()
    percent = round_half_up(exact, DISCOUNT_PLACES)
    net = gross - discount
    if round_half_up(gross * (HUNDRED - percent) / HUNDRED) == net:
        return unit_price, percent
    if quantity:
        price = net / quantity
        if price * quantity == net and decimals_needed(price) <= EXACT_PRICE_PLACES:
            return price.normalize(), None
    return unit_price, percent


def _stated(net, gross, subtotal, line_net, tax):
    """The net amount the document states for a discounted line: ``net``
    when its subtotal (before or after the discount) and its NetAmount
    (without or with its tax) agree with it, else the figure that does not,
    for the bill's check to hold the line."""
    if subtotal is not None and subtotal not in (gross, net):
        return subtotal
    if line_net is not None and line_net not in (net, net + (tax or 0)):
        return line_net
    return net
