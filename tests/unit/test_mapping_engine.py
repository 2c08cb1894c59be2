import copy
import datetime
import doctest
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib import mapping_engine as me
from lib.mapping_engine import MappingError, Rule

TABLES = {
    "payment_terms": {"NET30": "30 Days"},
    "units": {"kilo": "kg"},
    "currencies": {"1": "EUR"},
    "flags": {"X": None},
}
LOOKUP = me.dict_lookup(TABLES)


def test_module_examples_hold():
    assert doctest.testmod(me, optionflags=doctest.ELLIPSIS).failed == 0


def mapped(value, transform, **params):
    return me.apply([Rule("out", "in", transform, params)], {"in": value}, LOOKUP)[
        "out"
    ]


def reasons(document, *rules):
    with pytest.raises(MappingError) as info:
        me.apply(rules, document, LOOKUP)
    return info.value.errors


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
            "EA, GRM, H87, HUR, KGM, KMT, LTR, MTK, MTQ, MTR, PCE, TNE)",
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


# -- paths, lists and values ---------------------------------------------------------


def test_nested_lists_keep_indexes():
    rules = [
        Rule("lines[].taxes[].code", "items[].vat[].code", "upper"),
        Rule("lines[].tax_codes[]", "items[].vat[].code", "upper"),
        Rule("lines[].quantity", "items[].qty", "decimal", required=True),
    ]
    document = {
        "items": [
            {"qty": "1", "vat": [{"code": "v21"}, {"code": None}, {"code": "v6"}]},
            {"qty": "2"},
            {"qty": "3", "vat": []},
        ]
    }
    assert me.apply(rules, document) == {
        "lines": [
            {
                "taxes": [{"code": "V21"}, {}, {"code": "V6"}],
                "tax_codes": ["V21", "V6"],
                "quantity": 1.0,
            },
            {"quantity": 2.0},
            {"taxes": [], "tax_codes": [], "quantity": 3.0},
        ]
    }


def test_absent_source_list_writes_no_list_and_empty_one_an_empty_list():
    rules = [Rule("lines[].quantity", "items[].qty", required=True)]
    assert me.apply(rules, {}) == {}
    assert me.apply(rules, {"items": None}) == {}
    assert me.apply(rules, {"items": []}) == {"lines": []}


def test_every_source_item_gives_a_target_item():
    rules = [Rule("lines[].quantity", "items[].qty")]
    assert me.apply(rules, {"items": [{}, {"qty": 2}, {}]}) == {
        "lines": [{}, {"quantity": 2}, {}]
    }


def test_scalar_lists_map_item_by_item():
    rules = [Rule("codes[]", "tags[]", "upper")]
    assert me.apply(rules, {"tags": ["a", " ", "b", None]}) == {"codes": ["A", "B"]}


def test_whole_values_and_lists_are_copied_not_shared():
    document = {"extra": {"a": [1, 2]}, "codes": ["x"]}
    rules = [Rule("extensions", "extra"), Rule("tax_codes", "codes")]
    output = me.apply(rules, document)
    assert output == {"extensions": {"a": [1, 2]}, "tax_codes": ["x"]}
    output["extensions"]["a"].append(3)
    output["tax_codes"].append("y")
    assert document == {"extra": {"a": [1, 2]}, "codes": ["x"]}


def test_missing_parents_and_blank_values_write_nothing():
    rules = [
        Rule("email", "contact.email", "lower"),
        Rule("phone", "contact.phone"),
        Rule("street2", "address.street2", "trim"),
    ]
    assert me.apply(rules, {"contact": None, "address": {"street2": "  "}}) == {}


def test_default_replaces_missing_or_blank_values_as_is():
    rule = Rule("terms", "terms", "lookup", {"table": "payment_terms"}, "30 Days")
    assert me.apply([rule], {}, LOOKUP) == {"terms": "30 Days"}
    assert me.apply([rule], {"terms": " "}, LOOKUP) == {"terms": "30 Days"}
    assert me.apply([rule], {"terms": "NET30"}, LOOKUP) == {"terms": "30 Days"}
    # a default is in target terms: it is not looked up
    rule = Rule("terms", "terms", "lookup", {"table": "payment_terms"}, "NET30")
    assert me.apply([rule], {}, LOOKUP) == {"terms": "NET30"}


def test_zero_and_false_are_values_not_missing():
    rules = [Rule("n", "n", required=True), Rule("b", "b", "boolean", required=True)]
    assert me.apply(rules, {"n": 0, "b": False}) == {"n": 0, "b": False}


def test_required_value_missing_after_default():
    errors = reasons(
        {"items": [{"qty": "1"}, {}]},
        Rule("external_id", "header.number", required=True),
        Rule("lines[].quantity", "items[].qty", "decimal", required=True),
    )
    assert errors == [
        {"path": "header.number", "reason": "is required (for external_id)"},
        {"path": "items[1].qty", "reason": "is required (for lines[].quantity)"},
    ]


def test_all_errors_are_collected_in_sequence_order_and_reported_once():
    errors = reasons(
        {"items": [{"a": "x", "b": "y"}, "oops"], "vendor": "ACME"},
        Rule("x[].b", "items[].b", "integer", sequence=20),
        Rule("x[].a", "items[].a", "integer", sequence=10),
        Rule("c", "vendor.number", sequence=30),
        Rule("d", "vendor.name", sequence=40),
    )
    assert errors == [
        {"path": "items[1]", "reason": "must be an object"},
        {"path": "items[0].a", "reason": "'x' is not a whole number"},
        {"path": "items[0].b", "reason": "'y' is not a whole number"},
        {"path": "vendor", "reason": "must be an object"},
    ]


def test_a_source_that_should_be_a_list_is_reported():
    errors = reasons({"items": {"qty": 1}}, Rule("lines[].q", "items[].qty"))
    assert errors == [{"path": "items", "reason": "must be a list"}]


def test_document_must_be_an_object():
    with pytest.raises(MappingError) as info:
        me.apply([Rule("a", "a")], ["not", "an", "object"])
    assert info.value.errors == [{"path": "$", "reason": "must be an object"}]


def test_constants_run_after_sourced_rules_and_fill_existing_items():
    rules = [
        Rule("lines[].uom", None, "constant", {"value": "Units"}, sequence=1),
        Rule("company_code", None, "constant", {"value": "BE01"}),
        Rule("lines[].taxes[].scheme", None, "constant", {"value": "VAT"}),
        Rule("lines[].taxes[].code", "items[].vat[]", sequence=50),
        Rule("lines[].quantity", "items[].qty", sequence=50),
    ]
    output = me.apply(rules, {"items": [{"qty": 1, "vat": ["V21"]}, {"qty": 2}]})
    assert output == {
        "lines": [
            {
                "taxes": [{"code": "V21", "scheme": "VAT"}],
                "quantity": 1,
                "uom": "Units",
            },
            {"quantity": 2, "uom": "Units"},
        ],
        "company_code": "BE01",
    }
    # never invents list items
    assert me.apply(rules[:2], {}) == {"company_code": "BE01"}


def test_constant_values_are_copied():
    value = {"source": "platform"}
    rule = Rule("extensions", None, "constant", {"value": value})
    output = me.apply([rule], {})
    output["extensions"]["source"] = "changed"
    assert value == {"source": "platform"}


def test_input_document_is_not_modified():
    document = {"items": [{"qty": "1,5"}], "name": " A "}
    before = copy.deepcopy(document)
    me.apply(
        [
            Rule("lines[].q", "items[].qty", "decimal", {"decimal_separator": ","}),
            Rule("name", "name", "trim"),
        ],
        document,
    )
    assert document == before


def test_keys_with_dashes_and_at_signs_are_paths():
    rules = [Rule("lines[].x", "order-lines[].@attr.tax-id", "trim")]
    assert me.apply(rules, {"order-lines": [{"@attr": {"tax-id": " 1 "}}]}) == {
        "lines": [{"x": "1"}]
    }


# -- rule validation -----------------------------------------------------------------


@pytest.mark.parametrize(
    "rule,path,reason",
    [
        (
            Rule("a", "a", "round"),
            "rules[0].transform",
            "unknown transform 'round' (known: copy, constant, trim, upper, lower, "
            "title, compact, date, datetime, decimal, integer, scale, unit, "
            "currency, lookup, boolean)",
        ),
        (Rule("a", None), "rules[0].source", "is required (except for constants)"),
        (
            Rule("a", "b", "lookup"),
            "rules[0].params.table",
            "is required by transform 'lookup'",
        ),
        (
            Rule("a", "b", "scale"),
            "rules[0].params.factor",
            "is required by transform 'scale'",
        ),
        (
            Rule("a", None, "constant"),
            "rules[0].params.value",
            "is required by transform 'constant'",
        ),
        (
            Rule("a", "b", "date", {"fromat": "%d"}),
            "rules[0].params.fromat",
            "unknown parameter for transform 'date' (accepted: format)",
        ),
        (
            Rule("a", "b", "trim", {"x": 1}),
            "rules[0].params.x",
            "unknown parameter for transform 'trim' (accepted: none)",
        ),
        (
            Rule("a", "b", "date", {"format": "%d/%Q"}),
            "rules[0].params.format",
            "'%d/%Q' is not a valid format (use codes such as %d/%m/%Y)",
        ),
        (
            Rule("a", "b", "date", {"format": "%H:%M"}),
            "rules[0].params.format",
            "'%H:%M' has no day, month or year",
        ),
        (
            Rule("a", "b", "datetime", {"timezone": "Europe/Atlantis"}),
            "rules[0].params.timezone",
            "'Europe/Atlantis' is not a time zone name such as 'Europe/Brussels'",
        ),
        (
            Rule("a", "b", "datetime", {"timezone": "../etc/passwd"}),
            "rules[0].params.timezone",
            "'../etc/passwd' is not a time zone name such as 'Europe/Brussels'",
        ),
        (
            Rule("a", "b", "decimal", {"decimal_separator": ",,"}),
            "rules[0].params.decimal_separator",
            "must be a single character such as ',' or '.'",
        ),
        (
            Rule("a", "b", "decimal", {"thousands_separator": "."}),
            "rules[0].params.thousands_separator",
            "must differ from the decimal separator",
        ),
        (
            Rule("a", "b", "decimal", {"decimal_separator": "1"}),
            "rules[0].params.decimal_separator",
            "must not be a digit or a sign",
        ),
        (
            Rule("a", "b", "decimal", {"digits": 20}),
            "rules[0].params.digits",
            "must be between 0 and 12",
        ),
        (
            Rule("a", "b", "scale", {"factor": "0.01"}),
            "rules[0].params.factor",
            "must be a number such as 0.01",
        ),
        (
            Rule("a", "b", "scale", {"factor": float("nan")}),
            "rules[0].params.factor",
            "must be a finite number",
        ),
        (
            Rule("a", "b", "lookup", {"table": " "}),
            "rules[0].params.table",
            "must be the name of a cross-reference table",
        ),
        (
            Rule("lines[].q", "qty"),
            "rules[0].target",
            "'lines[].q' has 1 list level(s) ('[]') but source 'qty' has 0",
        ),
        (
            Rule("q", "items[].qty"),
            "rules[0].target",
            "'q' has 0 list level(s) ('[]') but source 'items[].qty' has 1",
        ),
        (
            Rule("a..b", "b"),
            "rules[0].target",
            "'a..b' is not a path such as 'lines[].quantity' (bad part '')",
        ),
        (
            Rule("a", "items[0].qty"),
            "rules[0].source",
            "'items[0].qty' is not a path such as 'lines[].quantity' "
            "(bad part 'items[0]')",
        ),
        (
            Rule("", "a"),
            "rules[0].target",
            "must be a non-empty path such as 'lines[].quantity'",
        ),
        (
            Rule("codes[]", None, "constant", {"value": "x"}),
            "rules[0].target",
            "a constant cannot fill a list of values ('[]' at the end)",
        ),
        (Rule("a", "b", required="yes"), "rules[0].required", "must be true or false"),
        (Rule("a", "b", sequence="1"), "rules[0].sequence", "must be a whole number"),
        (Rule("a", "b", params=[1]), "rules[0].params", "must be an object"),
        ("not a rule", "rules[0]", "must be a Rule"),
    ],
)
def test_validate_rules_explains_each_problem(rule, path, reason):
    assert me.validate_rules([rule]) == [{"path": path, "reason": reason}]


@pytest.mark.parametrize(
    "first,second,reason",
    [
        ("name", "name", "'name' is already written by another rule (rules[0])"),
        (
            "address",
            "address.city",
            "'address.city' overlaps another rule's target (one contains the "
            "other) (rules[0])",
        ),
        (
            "lines[].a",
            "lines.b",
            "'lines.b' uses the same field as a list and as a single value "
            "(rules[0])",
        ),
        (
            "lines[].tax_codes",
            "lines[].tax_codes[]",
            "'lines[].tax_codes[]' uses the same field as a list and as a single "
            "value (rules[0])",
        ),
    ],
)
def test_validate_rules_refuses_clashing_targets(first, second, reason):
    source = "items[].x" if "[]" in first else "x"
    other = (
        "items[].y[]"
        if second.endswith("[]")
        else ("items[].y" if "[]" in second else "y")
    )
    rules = [Rule(first, source), Rule(second, other)]
    assert me.validate_rules(rules) == [{"path": "rules[1].target", "reason": reason}]


def test_valid_rules_have_no_errors_and_apply_refuses_invalid_ones():
    rules = [
        Rule(
            "a", "b", "decimal", {"decimal_separator": ",", "thousands_separator": "."}
        ),
        Rule("c", None, "constant", {"value": None}),
        Rule("lines[].d", "x[].d", "lookup", {"table": "t", "default": None}),
        Rule("e", "e", "datetime", {"format": "%d.%m.%Y %H:%M", "timezone": "UTC"}),
    ]
    assert me.validate_rules(rules) == []
    with pytest.raises(MappingError, match=r"rules\[0\].transform: unknown"):
        me.apply([Rule("a", "a", "nope")], {"a": 1})


def test_rule_json_round_trip():
    rule = Rule("lines[].q", "items[].qty", "decimal", {"digits": 2}, 0, True, 30)
    assert Rule.from_dict(rule.as_dict()) == rule
    assert Rule.from_dict({"target": "a"}) == Rule("a", None)
    with pytest.raises(ValueError, match="unknown rule fields: transfrom"):
        Rule.from_dict({"target": "a", "source": "a", "transfrom": "trim"})


def test_identity_rules_copy_paths_in_order():
    rules = me.identity_rules(["a", "lines[].b"], required=["a"])
    assert rules == [
        Rule("a", "a", required=True, sequence=10),
        Rule("lines[].b", "lines[].b", sequence=20),
    ]
    document = {"a": 1, "lines": [{"b": 2}, {"b": 3}]}
    assert me.apply(rules, document) == document


def test_transform_catalogue_matches_parameters():
    assert list(me.TRANSFORMS) == list(me.TRANSFORM_PARAMETERS)
    assert all(me.TRANSFORMS.values())


# -- properties --------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(
        st.sampled_from(["a", "b", "items", "qty"]), children, max_size=3
    ),
    max_leaves=15,
)
ALL_TRANSFORM_RULES = [
    Rule(f"out_{name}[].v", "items[].qty", name, params)
    for name, params in {
        "copy": {},
        "trim": {},
        "upper": {},
        "lower": {},
        "title": {},
        "compact": {},
        "date": {"format": "%d/%m/%Y"},
        "datetime": {"timezone": "Europe/Brussels"},
        "decimal": {"decimal_separator": ",", "thousands_separator": ".", "digits": 2},
        "integer": {},
        "scale": {"factor": 0.01},
        "unit": {},
        "currency": {},
        "lookup": {"table": "payment_terms"},
        "boolean": {},
    }.items()
] + [Rule("a.b", "a.b", required=True), Rule("c", None, "constant", {"value": 1})]


@given(document=JSON)
def test_apply_only_ever_raises_mapping_error(document):
    try:
        me.apply(ALL_TRANSFORM_RULES, document, LOOKUP)
    except MappingError as exc:
        assert exc.errors
        assert all(set(error) == {"path", "reason"} for error in exc.errors)


@given(items=st.lists(JSON, max_size=4))
def test_apply_on_any_item_values_only_raises_mapping_error(items):
    try:
        me.apply(ALL_TRANSFORM_RULES, {"items": [{"qty": item} for item in items]})
    except MappingError as exc:
        assert all(error["path"].startswith(("items[", "a.b")) for error in exc.errors)


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
