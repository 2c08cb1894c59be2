"""Each transform of a mapping rule, its parameters and its refusals."""

import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mapping_cases import mapped, reasons

from lib import mapping_engine as me
from lib.mapping_engine import MappingError, Rule

# -- transforms ------------------------------------------------------------------


@pytest.mark.parametrize(
    "transform,params,value,expected",
    [
        ("copy", {}, {"a": [1]}, {"a": [1]}),
        ("trim", {}, "  Acme Ltd \n", "Acme Ltd"),
        ("trim", {}, 1000, "1000"),
        ("trim", {}, 12.0, "12"),
        ("trim", {}, 12.5, "12.5"),
        ("upper", {}, " be ", "BE"),
        ("lower", {}, " AP@Acme.Example ", "ap@acme.example"),
        ("title", {}, "ACME LTD", "Acme Ltd"),
        ("compact", {}, "be 0477.472-701", "BE0477472701"),
        ("date", {"format": "%d/%m/%Y"}, "26/11/2026", "2026-11-26"),
        ("date", {"format": "%Y%m%d"}, "20261126", "2026-11-26"),
        ("date", {}, " 2026-11-26 ", "2026-11-26"),
        ("date", {}, "2026-11-26T23:30:00-05:00", "2026-11-26"),
        ("datetime", {}, "2026-11-26T07:00:00+01:00", "2026-11-26T06:00:00Z"),
        ("datetime", {}, "2026-11-26T06:00:00.999Z", "2026-11-26T06:00:00Z"),
        ("datetime", {}, "2026-11-26 06:00", "2026-11-26T06:00:00Z"),
        (
            "datetime",
            {"timezone": "Europe/Brussels"},
            "2026-07-01T12:00:00",
            "2026-07-01T10:00:00Z",
        ),
        (
            "datetime",
            {"format": "%d/%m/%Y %H:%M", "timezone": "America/New_York"},
            "26/11/2026 09:15",
            "2026-11-26T14:15:00Z",
        ),
        (
            "datetime",
            {"timezone": "Europe/Brussels"},
            "2026-11-26T07:00:00Z",
            "2026-11-26T07:00:00Z",
        ),
        ("decimal", {}, "12.5", 12.5),
        ("decimal", {}, " -3 ", -3.0),
        ("decimal", {}, ".5", 0.5),
        ("decimal", {}, 7, 7),
        ("decimal", {}, 2.5, 2.5),
        ("decimal", {"decimal_separator": ","}, "12,5", 12.5),
        (
            "decimal",
            {"decimal_separator": ",", "thousands_separator": "."},
            "1.234.567,891",
            1234567.891,
        ),
        (
            "decimal",
            {"decimal_separator": ",", "thousands_separator": "."},
            "1234,5",
            1234.5,
        ),
        ("decimal", {"thousands_separator": ","}, "1,234.50", 1234.5),
        (
            "decimal",
            {"decimal_separator": ",", "thousands_separator": " "},
            "1\u00a0234,5",
            1234.5,
        ),
        ("decimal", {"thousands_separator": "'"}, "1'234.5", 1234.5),
        ("decimal", {"digits": 2}, "2.675", 2.68),
        ("decimal", {"digits": 2}, 0.1 + 0.2, 0.3),
        ("decimal", {"digits": 0}, 7, 7.0),
        ("integer", {}, " 42 ", 42),
        ("integer", {}, "-7", -7),
        ("integer", {}, 3.0, 3),
        ("scale", {"factor": 0.01}, 1250, 12.5),
        ("scale", {"factor": 0.01}, "1999", 19.99),
        ("scale", {"factor": 3}, 0.1, 0.3),
        ("scale", {"factor": 1e-7}, 1, 0.0),
        ("unit", {}, "C62", "Units"),
        ("unit", {}, " ea ", "Units"),
        ("unit", {}, "PCE", "Units"),
        ("unit", {}, "KGM", "kg"),
        ("unit", {}, "GRM", "g"),
        ("unit", {}, "LTR", "L"),
        ("unit", {}, "MTR", "m"),
        ("unit", {}, "HUR", "Hours"),
        ("unit", {}, "DAY", "Days"),
        ("unit", {"table": "units"}, "kilo", "kg"),
        ("currency", {}, 978, "EUR"),
        ("currency", {}, "978", "EUR"),
        ("currency", {}, "036", "AUD"),
        ("currency", {}, 36, "AUD"),
        ("currency", {}, " usd ", "USD"),
        ("currency", {"table": "currencies"}, 1, "EUR"),
        ("lookup", {"table": "payment_terms"}, " NET30 ", "30 Days"),
        (
            "lookup",
            {"table": "payment_terms", "default": "Immediate"},
            "X",
            "Immediate",
        ),
        ("boolean", {}, "Y", True),
        ("boolean", {}, " no ", False),
        ("boolean", {}, "TRUE", True),
        ("boolean", {}, 0, False),
        ("boolean", {}, 1, True),
        ("boolean", {}, False, False),
    ],
)
def test_transforms(transform, params, value, expected):
    result = mapped(value, transform, **params)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize(
    "code,alpha",
    [
        ("978", "EUR"),
        ("840", "USD"),
        ("826", "GBP"),
        ("756", "CHF"),
        ("392", "JPY"),
        ("752", "SEK"),
        ("208", "DKK"),
        ("578", "NOK"),
        ("985", "PLN"),
        ("203", "CZK"),
        ("124", "CAD"),
        ("036", "AUD"),
        ("156", "CNY"),
        ("356", "INR"),
    ],
)
def test_currency_numeric_codes(code, alpha):
    assert mapped(code, "currency") == alpha


@pytest.mark.parametrize(
    "transform,params,value,reason",
    [
        ("trim", {}, ["a"], "a list is not text"),
        ("upper", {}, {"a": 1}, "an object is not text"),
        ("trim", {}, True, "true is not text"),
        (
            "date",
            {"format": "%d/%m/%Y"},
            "2026-11-26",
            "'2026-11-26' is not a date in the format '%d/%m/%Y' "
            "(such as '26/11/2026')",
        ),
        (
            "date",
            {},
            "26/11/2026",
            "'26/11/2026' is not an ISO date such as '2026-11-26'",
        ),
        ("date", {}, 20261126, "20261126 is not a date written as text"),
        (
            "datetime",
            {},
            "yesterday",
            "'yesterday' is not an ISO date and time such as "
            "'2026-11-26T07:00:00+01:00'",
        ),
        (
            "decimal",
            {"decimal_separator": ","},
            "12,5x",
            "'12,5x' is not a number with ',' as decimal separator",
        ),
        (
            "decimal",
            {"decimal_separator": ",", "thousands_separator": "."},
            "1.23,5",
            "'1.23,5' is not a number with ',' as decimal separator and '.' "
            "as thousands separator",
        ),
        ("decimal", {}, "1,5", "'1,5' is not a number with '.' as decimal separator"),
        ("decimal", {}, "1e5", "'1e5' is not a number with '.' as decimal separator"),
        ("decimal", {}, "NaN", "'NaN' is not a number with '.' as decimal separator"),
        ("decimal", {}, float("inf"), "inf is not a finite number"),
        ("decimal", {}, True, "true is not a number with '.' as decimal separator"),
        ("decimal", {}, "9" * 400, f"'{'9' * 57}...' is too large"),
        ("integer", {}, "12.5", "'12.5' is not a whole number"),
        ("integer", {}, 1.5, "1.5 is not a whole number"),
        ("integer", {}, False, "false is not a whole number"),
        ("integer", {}, "1" * 5000, f"'{'1' * 57}...' is not a whole number"),
        (
            "scale",
            {"factor": 0.01},
            "abc",
            "'abc' is not a number with '.' as " "decimal separator",
        ),
        ("scale", {"factor": 0.01}, [1], "a list is not a number"),
        (
            "unit",
            {},
            "BOX",
            "'BOX' is not a known UN/ECE unit code (known: C62, CMT, DAY, DZN, "
            "E48, EA, FOT, FTK, FTQ, GLL, GRM, H87, HUR, INH, INQ, KGM, KMT, LBR, "
            "LS, LTR, MMT, MTK, MTQ, MTR, NAR, ONZ, OZA, PCE, QT, SMI, TNE, YRD)",
        ),
        (
            "unit",
            {},
            "pr",
            "'pr' (pair) has no standard Odoo unit; map it with a cross-reference "
            "table (parameter 'table')",
        ),
        (
            "unit",
            {"table": "units"},
            "kg",
            "no entry for 'kg' in cross-reference " "table 'units'",
        ),
        ("currency", {}, "999", "'999' is not a known ISO 4217 numeric currency code"),
        (
            "currency",
            {},
            "EURO",
            "'EURO' is not an ISO 4217 currency such as 'EUR' " "or 978",
        ),
        ("currency", {}, -5, "-5 is not an ISO 4217 currency such as 'EUR' or 978"),
        (
            "lookup",
            {"table": "payment_terms"},
            "NET99",
            "no entry for 'NET99' in cross-reference table 'payment_terms'",
        ),
        (
            "lookup",
            {"table": "unknown_table"},
            "NET30",
            "no entry for 'NET30' in cross-reference table 'unknown_table'",
        ),
        (
            "boolean",
            {},
            "maybe",
            "'maybe' is not a yes/no value (true/false, Y/N, " "1/0)",
        ),
        ("boolean", {}, 2, "2 is not a yes/no value (true/false, Y/N, 1/0)"),
    ],
)
def test_transform_errors_are_readable(transform, params, value, reason):
    errors = reasons({"in": value}, Rule("out", "in", transform, params))
    assert errors == [{"path": "in", "reason": reason}]


def test_lookup_receives_the_value_as_text_and_none_means_no_value():
    calls = []

    def lookup(table, value):
        calls.append((table, value))
        return None if value == "X" else f"{table}:{value}"

    rules = [
        Rule("a", "a", "lookup", {"table": "t"}),
        Rule("b", "b", "lookup", {"table": "t"}),
    ]
    assert me.apply(rules, {"a": 4711, "b": " X "}, lookup) == {"a": "t:4711"}
    assert calls == [("t", "4711"), ("t", "X")]


def test_lookup_message_of_the_callable_becomes_the_reason():
    def lookup(table, value):
        raise me.LookupMissing(f"there is no cross-reference table '{table}'")

    with pytest.raises(MappingError) as info:
        me.apply([Rule("a", "a", "lookup", {"table": "nope"})], {"a": "x"}, lookup)
    assert info.value.errors == [
        {"path": "a", "reason": "there is no cross-reference table 'nope'"}
    ]
    rule = Rule("a", "a", "lookup", {"table": "nope", "default": "d"})
    assert me.apply([rule], {"a": "x"}, lookup) == {"a": "d"}


def test_lookup_without_a_callable_is_an_error():
    rule = Rule("terms", "terms", "lookup", {"table": "payment_terms"})
    with pytest.raises(MappingError) as info:
        me.apply([rule], {"terms": "NET30"})
    assert info.value.errors == [
        {
            "path": "terms",
            "reason": "no cross-reference lookup available for table "
            "'payment_terms'",
        }
    ]


def test_transform_preview():
    assert me.transform("currency", 840) == "USD"
    with pytest.raises(MappingError, match="unknown transform"):
        me.transform("round", 1)


# -- properties ---


@given(
    number=st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False)
)
def test_european_text_numbers_read_back_exactly(number):
    text = f"{number:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    result = mapped(text, "decimal", decimal_separator=",", thousands_separator=".")
    assert result == float(number)


@given(
    moment=st.datetimes(
        min_value=datetime.datetime(1900, 1, 2),
        max_value=datetime.datetime(9999, 12, 30),
        timezones=st.sampled_from(
            [datetime.UTC, datetime.timezone(datetime.timedelta(hours=-5, minutes=-30))]
        ),
    )
)
def test_datetimes_become_the_same_instant_in_utc(moment):
    result = mapped(moment.isoformat(), "datetime")
    parsed = datetime.datetime.fromisoformat(result.replace("Z", "+00:00"))
    assert parsed == moment.replace(microsecond=0)
    assert result.endswith("Z") and len(result) == 20


@given(value=st.decimals(min_value=-(10**9), max_value=10**9, places=4))
def test_scale_is_decimal_exact(value):
    assert mapped(float(value), "scale", factor=0.01) == float(
        (value * Decimal("0.01")).quantize(Decimal("0.000001"))
    )
