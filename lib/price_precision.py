"""Unit prices against the number of decimals Odoo keeps.

Odoo stores every unit price of an order or a bill rounded to the "Product
Price" precision (two decimals unless an administrator raises it). A price
with more decimals than that would be changed without a word: 250 units at
1.789 become 250 at 1.79, 447.50 instead of 447.25. The hub never lets that
happen silently. A price is accepted when rounding it changes no amount: it
has no more decimals than kept (4.000 is 4.00), or its line comes to the same
cents either way. Otherwise :func:`price_loss` says what would be lost, and
the document is held until the precision is raised.

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
"""

from dataclasses import dataclass
from decimal import Decimal

from .money import money, plain, price, round_half_up, to_decimal


def decimals_needed(number):
    """How many decimals ``number`` really has (trailing zeros do not count)."""
    exponent = to_decimal(number).normalize().as_tuple().exponent
    return max(-exponent, 0)


@dataclass(frozen=True)
class PriceLoss:
    """A unit price Odoo would round, and what the rounding would change."""

    line_id: str
    quantity: Decimal
    price: Decimal
    stored: Decimal
    digits: int
    amount: Decimal
    stored_amount: Decimal

    @property
    def decimals(self):
        return decimals_needed(self.price)

    @property
    def message(self):
        return (
            f"Line {self.line_id}: the unit price {plain(self.price)} has "
            f"{self.decimals} decimals but Odoo keeps unit prices to {self.digits} "
            f"decimals (Product Price precision): it would become "
            f"{price(self.stored)}, and {plain(self.quantity)} units would come to "
            f"{money(self.stored_amount)} instead of {money(self.amount)}."
        )


def price_loss(line_id, quantity, unit_price, digits, currency_places=2):
    """What storing ``unit_price`` to ``digits`` decimals would change on a
    line of ``quantity``, or None when it changes no amount.

    ``currency_places``: the decimals of the document currency (cents: 2).

    >>> loss = price_loss("1", 3, "0.333", 2)
    >>> loss.stored, loss.stored_amount, loss.amount
    (Decimal('0.33'), Decimal('0.99'), Decimal('1.00'))
    >>> price_loss("1", 3, "0.3333", 3) is None
    True
    """
    quantity = to_decimal(quantity, f"the quantity of line {line_id}")
    unit_price = to_decimal(unit_price, f"the unit price of line {line_id}")
    stored = round_half_up(unit_price, digits)
    if stored == unit_price:
        return None
    amount = round_half_up(quantity * unit_price, currency_places)
    stored_amount = round_half_up(quantity * stored, currency_places)
    if amount == stored_amount:
        return None
    return PriceLoss(
        str(line_id), quantity, unit_price, stored, digits, amount, stored_amount
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
