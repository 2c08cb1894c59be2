"""Amounts, quantities and prices as Decimals, written the way documents print them.

Every engine of the hub reads figures through :func:`to_decimal` (text, int or
float, never a binary float's noise) and rounds money half up to cents, as
invoices and purchase orders do.

>>> to_decimal(0.1) + to_decimal("0.2")
Decimal('0.3')
>>> money("2.675"), money(10), money(Decimal("-0.005"))
('2.68', '10.00', '-0.01')
>>> round_half_up(Decimal("0.125")), round_half_up(Decimal("2.5"), 0)
(Decimal('0.13'), Decimal('3'))
>>> plain(Decimal("21.00")), plain(Decimal("1E+2")), plain(Decimal("-0"))
('21', '100', '0')
>>> price(Decimal("24.9")), price(Decimal("0.12345"))
('24.90', '0.12345')
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")


def to_decimal(value, what="the amount"):
    """``value`` (number or text) as a finite Decimal; floats go through str.

    ``what`` names the figure in the error, a sentence for a finance user.

    >>> to_decimal(24.9), to_decimal(" 1e2 ")
    (Decimal('24.9'), Decimal('1E+2'))
    >>> to_decimal("twelve", "the quantity of line 2")
    Traceback (most recent call last):
    ...
    ValueError: the quantity of line 2 must be a number, not 'twelve'
    >>> to_decimal("NaN")
    Traceback (most recent call last):
    ...
    ValueError: the amount must be a finite number, not 'NaN'
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{what} must be a number, not {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{what} must be a number, not {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"{what} must be a finite number, not {value!r}")
    return number


def round_half_up(number, places=CENT):
    """``number`` rounded half up to ``places`` (a Decimal such as 0.01, or a
    count of decimals): cents by default."""
    if isinstance(places, int):
        places = Decimal(1).scaleb(-places)
    return Decimal(number).quantize(places, rounding=ROUND_HALF_UP)


def money(number, places=2):
    """Two decimals (or the currency's ``places``), half up, as the documents
    print them (text).

    >>> money("1.0005", 3), money("1234.5", 0)
    ('1.001', '1235')
    """
    return str(round_half_up(number, places))


def plain(number):
    """A Decimal without exponent or trailing zeros: ``21``, ``5.5``, ``0``."""
    text = format(Decimal(number).normalize(), "f")
    return "0" if text in ("-0", "") else text


def price(number, places=2):
    """A unit price: at least two decimals (or the currency's ``places``), more
    only when they matter.

    >>> price(Decimal("1.5"), 3), price(Decimal("1.2345"), 3), price(100, 0)
    ('1.500', '1.2345', '100')
    """
    if Decimal(number).normalize().as_tuple().exponent >= -places:
        return money(number, places)
    return plain(number)
