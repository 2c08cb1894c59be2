"""Validating the rules of a mapping before it is activated."""

import pytest

from lib import mapping_engine as me
from lib.mapping_engine import MappingError, Rule

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
