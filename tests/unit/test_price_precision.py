from decimal import Decimal

import pytest

from lib.price_precision import decimals_needed, price_loss


def test_a_price_rounded_away_is_reported_with_both_line_amounts():
    loss = price_loss("1", 250, 1.789, 2)
    assert (loss.stored, loss.amount, loss.stored_amount) == (
        Decimal("1.79"),
        Decimal("447.25"),
        Decimal("447.50"),
    )
    assert loss.decimals == 3
    assert "Line 1: the unit price 1.789 has 3 decimals" in loss.message


def test_a_price_per_hundred_units_is_reported():
    # UBL: 12.50 for a base quantity of 100 is 0.125 a unit
    loss = price_loss("4", 100, Decimal("12.50") / 100, 2)
    assert (loss.stored, loss.stored_amount, loss.amount) == (
        Decimal("0.13"),
        Decimal("13.00"),
        Decimal("12.50"),
    )


@pytest.mark.parametrize(
    ("quantity", "price", "digits"),
    [
        (250, "4.000", 2),  # trailing zeros: nothing rounded
        (250, "1.789", 3),  # the precision keeps it
        (1, "1.7891", 2),  # rounded, but the line is 1.79 either way
        (3, "-0.10", 2),  # a discount line
    ],
)
def test_a_price_whose_rounding_changes_no_amount_is_accepted(quantity, price, digits):
    assert price_loss("1", quantity, price, digits) is None


def test_a_negative_discount_price_is_checked_too():
    loss = price_loss("2", 10, "-0.125", 2)
    assert (loss.stored, loss.stored_amount, loss.amount) == (
        Decimal("-0.13"),
        Decimal("-1.30"),
        Decimal("-1.25"),
    )


def test_the_currency_decimals_decide_what_an_amount_change_is():
    # in a currency without cents 1000 x 0.0004 rounds to 0 either way
    assert price_loss("1", 1000, "0.0004", 3, currency_places=0) is None
    assert price_loss("1", 1000, "0.0004", 3) is not None


def test_decimals_needed_ignores_trailing_zeros():
    assert [decimals_needed(v) for v in ("4.000", "1.789", "0.125", 12)] == [0, 3, 3, 0]


def test_a_price_that_is_no_number_is_refused_readably():
    with pytest.raises(ValueError, match="the unit price of line 3 must be a number"):
        price_loss("3", 1, "abc", 2)
