from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib.money import CENT, money, plain, price, round_half_up, to_decimal


@pytest.mark.parametrize("value", [None, True, "", "abc", "NaN", "Infinity"])
def test_non_numbers_are_refused_readably(value):
    with pytest.raises(ValueError, match="the amount must be a"):
        to_decimal(value)


def test_the_figure_is_named_in_the_refusal():
    with pytest.raises(ValueError, match="^the unit price of line 3 must be a number"):
        to_decimal("12,50", "the unit price of line 3")


def test_floats_are_read_as_written_not_as_binary():
    assert to_decimal(0.1) + to_decimal(0.2) == Decimal("0.3")
    assert to_decimal(24.9) == Decimal("24.9")
    assert to_decimal(" 7 ") == 7


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("2.675", "2.68"),
        ("2.665", "2.67"),
        ("-2.675", "-2.68"),
        ("0.004", "0.00"),
        (10, "10.00"),
        (Decimal("1E+3"), "1000.00"),
    ],
)
def test_money_is_two_decimals_rounded_half_up(value, text):
    assert money(value) == text


def test_rounding_takes_places_as_a_decimal_or_a_count():
    number = Decimal("1.2345675")
    assert round_half_up(number) == Decimal("1.23")
    assert round_half_up(number, CENT) == Decimal("1.23")
    assert round_half_up(number, Decimal("0.000001")) == Decimal("1.234568")
    assert round_half_up(number, 3) == Decimal("1.235")
    assert round_half_up(Decimal("0.5"), 0) == Decimal(1)


@pytest.mark.parametrize(
    ("number", "text"),
    [("21.00", "21"), ("5.50", "5.5"), ("0.000", "0"), ("-0", "0"), ("1E+2", "100")],
)
def test_plain_numbers_have_no_exponent_nor_trailing_zeros(number, text):
    assert plain(Decimal(number)) == text


@pytest.mark.parametrize(
    ("number", "text"),
    [("24.9", "24.90"), ("3", "3.00"), ("0.125", "0.125"), ("18.4000", "18.40")],
)
def test_prices_keep_the_decimals_that_matter(number, text):
    assert price(Decimal(number)) == text


@given(st.decimals(min_value=-(10**15), max_value=10**15, places=4))
def test_money_never_moves_an_amount_by_more_than_half_a_cent(number):
    assert abs(Decimal(money(number)) - number) <= Decimal("0.005")
