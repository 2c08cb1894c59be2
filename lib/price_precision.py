"""Unit prices against the number of decimals Odoo keeps.

Odoo stores every unit price of an order or a bill rounded to the "Product
Price" precision (two decimals unless an administrator raises it). A price
with more decimals than that would be changed without a word: 250 units at
1.789 become 250 at 1.79, 447.50 instead of 447.25. The hub never lets that
happen silently. A price is accepted when rounding it changes no amount: it
has no more decimals than kept (4.000 is 4.00), or its line comes to the same
amount either way, in the decimals of the document's currency. Otherwise
:func:`price_loss` says what would be lost, and which precision would book
the line as stated; the document is held until the precision is raised.

>>> price_loss("1", 250, "1.789", 2).message
'Line 1: the unit price 1.789 has 3 decimals but Odoo keeps unit prices to \
2 decimals (Product Price precision): it would become 1.79, and 250 units \
would come to 447.50 instead of 447.25.'
>>> price_loss("1", 250, "4.000", 2) is None, price_loss("2", 1, "1.7891", 2)
(True, None)
>>> price_loss("3", 100, "0.125", 2).stored_amount
Decimal('13.00')
>>> decimals_needed(Decimal("0.12500")), decimals_needed(4), decimals_needed("1E+2")
(3, 0, 0)

Amounts are written in the decimals of the currency (three for a Kuwaiti
dinar):

>>> price_loss("1", 3, "1.235", 2, currency_places=3).message[-45:]
'3 units would come to 3.720 instead of 3.705.'

A price of 10.00 for a price base quantity of 3 is 10/3 a unit, a repeating
decimal that no precision keeps exactly (the hub receives it as the binary
float 3.3333333333333335); three decimals are enough to book 7 units at
23.33, as stated:

>>> loss = price_loss("2", 7, 10 / 3, 2)
>>> loss.exact, loss.decimals, loss.enough_digits
(Fraction(10, 3), None, 3)
>>> print(loss.message)
Line 2: the unit price 10/3 (3.333333…) is a repeating decimal, which no \
Product Price precision keeps exactly; at the 2 decimals Odoo keeps (Product \
Price precision) it would become 3.33, and 7 units would come to 23.31 \
instead of 23.33. At 3 decimals the line comes to 23.33 as stated.
"""

from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction

from .money import money, plain, price, round_half_up, to_decimal

# the most decimals the hub advises for unit prices: beyond them, Odoo's
# binary floats no longer hold a price of thousands to the last decimal
MAX_PRICE_DIGITS = 10

# a binary float with this many significant digits is the noise of a
# division (10 / 3), not a price a document stated
_FLOAT_NOISE_DIGITS = 16


def decimals_needed(number):
    """How many decimals ``number`` really has (trailing zeros do not count)."""
    exponent = to_decimal(number).normalize().as_tuple().exponent
    return max(-exponent, 0)


def exact_price(value, what="the unit price"):
    """The price ``value`` means, as a Fraction: a decimal number as written;
    a binary float carrying a division (3.3333333333333335 for 10 / 3) as the
    simplest fraction that is that same float.

    >>> exact_price("1.789"), exact_price(1.789), exact_price(10 / 3)
    (Fraction(1789, 1000), Fraction(1789, 1000), Fraction(10, 3))
    >>> exact_price(0.1 + 0.2)
    Fraction(7500000000000001, 25000000000000000)
    """
    number = to_decimal(value, what)
    if isinstance(value, float) and len(number.as_tuple().digits) >= (
        _FLOAT_NOISE_DIGITS
    ):
        simple = Fraction(value).limit_denominator(10**6)
        if float(simple) == value:
            return simple
    return Fraction(number)


def terminating_decimals(fraction):
    """How many decimals write ``fraction`` exactly, None when it repeats.

    >>> [terminating_decimals(Fraction(n, d)) for n, d in ((1789, 1000), (10, 3))]
    [3, None]
    """
    denominator, twos, fives = fraction.denominator, 0, 0
    while denominator % 2 == 0:
        denominator, twos = denominator // 2, twos + 1
    while denominator % 5 == 0:
        denominator, fives = denominator // 5, fives + 1
    return max(twos, fives) if denominator == 1 else None


def _rounded(fraction, places):
    """``fraction`` half up to ``places`` decimals, as a Decimal."""
    with localcontext() as context:
        context.prec = 60
        return round_half_up(
            Decimal(fraction.numerator) / Decimal(fraction.denominator), places
        )


@dataclass(frozen=True)
class PriceLoss:
    """A unit price Odoo would round, and what the rounding would change.

    ``exact``: the price as a Fraction; ``places``: the decimals of the
    document's currency; ``enough_digits``: the fewest decimals of Product
    Price precision that book the line as stated, None when none up to
    :data:`MAX_PRICE_DIGITS` does."""

    line_id: str
    quantity: Decimal
    price: Decimal
    stored: Decimal
    digits: int
    amount: Decimal
    stored_amount: Decimal
    exact: Fraction = None
    places: int = 2
    enough_digits: int | None = None

    @property
    def decimals(self):
        """How many decimals the price has; None for a repeating decimal."""
        if self.exact is None:
            return decimals_needed(self.price)
        return terminating_decimals(self.exact)

    @property
    def message(self):
        stored, quantity = price(self.stored, self.digits), plain(self.quantity)
        amounts = (
            f"{quantity} units would come to {money(self.stored_amount, self.places)} "
            f"instead of {money(self.amount, self.places)}."
        )
        if self.decimals is not None:
            return (
                f"Line {self.line_id}: the unit price {plain(self.price)} has "
                f"{self.decimals} decimals but Odoo keeps unit prices to "
                f"{self.digits} decimals (Product Price precision): it would "
                f"become {stored}, and {amounts}"
            )
        shown = _rounded(self.exact, 6)
        text = (
            f"Line {self.line_id}: the unit price {self.exact} ({plain(shown)}…) is "
            "a repeating decimal, which no Product Price precision keeps exactly; "
            f"at the {self.digits} decimals Odoo keeps (Product Price precision) "
            f"it would become {stored}, and {amounts}"
        )
        if self.enough_digits is None:
            return text + (
                f" No precision up to {MAX_PRICE_DIGITS} decimals books the line "
                "as stated: ask the supplier to state the price of one unit "
                "(without a price base quantity), or enter the line in Odoo by "
                "hand."
            )
        return text + (
            f" At {self.enough_digits} decimals the line comes to "
            f"{money(self.amount, self.places)} as stated."
        )


def _line_amount(quantity, unit_price, places):
    return _rounded(Fraction(quantity) * unit_price, places)


def price_loss(line_id, quantity, unit_price, digits, currency_places=2):
    """What storing ``unit_price`` to ``digits`` decimals would change on a
    line of ``quantity``, or None when it changes no amount.

    ``currency_places``: the decimals of the document currency (cents: 2).

    >>> loss = price_loss("1", 3, "0.333", 2)
    >>> loss.stored, loss.stored_amount, loss.amount, loss.enough_digits
    (Decimal('0.33'), Decimal('0.99'), Decimal('1.00'), 3)
    >>> price_loss("1", 3, "0.3333", 3) is None
    True
    """
    quantity = to_decimal(quantity, f"the quantity of line {line_id}")
    exact = exact_price(unit_price, f"the unit price of line {line_id}")
    amount = _line_amount(quantity, exact, currency_places)

    stored = _rounded(exact, digits)
    if Fraction(stored) == exact:
        return None
    stored_amount = _line_amount(quantity, Fraction(stored), currency_places)
    if amount == stored_amount:
        return None
    decimals = terminating_decimals(exact)
    enough = next(
        (
            places
            for places in range(digits + 1, max(MAX_PRICE_DIGITS, decimals or 0) + 1)
            if _line_amount(
                quantity, Fraction(_rounded(exact, places)), currency_places
            )
            == amount
        ),
        None,
    )
    shown = _rounded(exact, decimals) if decimals is not None else stored
    return PriceLoss(
        str(line_id),
        quantity,
        shown,
        stored,
        digits,
        amount,
        stored_amount,
        exact,
        currency_places,
        enough,
    )


def quantity_loss(line_id, quantity, digits):
    """A sentence when storing ``quantity`` to ``digits`` decimals (Odoo's
    "Product Unit of Measure" precision) would change it, else None.

    >>> quantity_loss("1", "2.125", 2)
    'Line 1: the quantity 2.125 has 3 decimals but Odoo keeps quantities to \
2 decimals (Product Unit of Measure precision): it would become 2.13.'
    >>> quantity_loss("1", "2.500", 2) is None, quantity_loss("2", "1.005", 3)
    (True, None)
    """
    quantity = to_decimal(quantity, f"the quantity of line {line_id}")
    stored = round_half_up(quantity, digits)
    if stored == quantity:
        return None
    return (
        f"Line {line_id}: the quantity {plain(quantity)} has "
        f"{decimals_needed(quantity)} decimals but Odoo keeps quantities to "
        f"{digits} decimals (Product Unit of Measure precision): it would "
        f"become {plain(stored)}."
    )
