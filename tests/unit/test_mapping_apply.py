"""Applying a mapping to a document: paths, lists, defaults, constants, errors."""

import copy
import doctest

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mapping_cases import LOOKUP, reasons

from lib import mapping_engine as me
from lib.mapping_engine import MappingError, Rule


def test_module_examples_hold():
    assert doctest.testmod(me, optionflags=doctest.ELLIPSIS).failed == 0


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
