"""Hostile documents, rules and values against the mapping engine (see
hostile_inputs.py)."""

import copy
import json
import time
from pathlib import Path

import pytest
from hostile_inputs import (
    DEEP,
    FUZZ,
    HOSTILE_VALUES,
    INJECTIONS,
    JSON_VALUES,
    expect,
    expect_validation,
    nested,
    nested_dict,
)
from hypothesis import given
from hypothesis import strategies as st

from lib import (
    canonical,
    mapping_engine,
)
from lib.mapping_engine import MappingError, Rule

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"

# -- mapping engine --------------------------------------------------------------------


def _shipped_rules(name):
    definition = json.loads((MAPPINGS / name).read_text())
    return [Rule.from_dict(rule) for rule in definition["rules"]]


PLATFORM_RULES = _shipped_rules("procurement_platform_v2_supplier.json")
LOOKUP = mapping_engine.dict_lookup({"payment_terms": {"NET30": "30 Days"}})
PLATFORM_SAMPLE = json.loads(
    (MAPPINGS / "samples" / "procurement_platform_v2_supplier.json").read_text()
)
PLATFORM_SAMPLE = PLATFORM_SAMPLE.get("data", PLATFORM_SAMPLE)
SOURCE_KEYS = sorted(
    {rule.source.split(".")[0].removesuffix("[]") for rule in PLATFORM_RULES}
)
# copied values are deep-copied: deep nesting there is test_copy_of_...
COPIED_KEYS = {rule.source for rule in PLATFORM_RULES if rule.transform == "copy"}
# inf cannot come from JSON (the envelope refuses it, see test_numbers_...)
MAPPED_VALUES = [value for value in HOSTILE_VALUES if value != float("inf")]


def _apply(rules, document):
    output = mapping_engine.apply(rules, document, lookup=LOOKUP)
    # what the wizard and the log do with the result
    json.dumps(output, ensure_ascii=False, default=str)
    return output


def test_hostile_documents_never_crash_a_shipped_mapping():
    assert expect(_apply, MappingError, PLATFORM_RULES, PLATFORM_SAMPLE)
    documents = [None, [], "x", 5, nested(5000), [PLATFORM_SAMPLE]]
    for key in SOURCE_KEYS:
        documents.extend(
            {**PLATFORM_SAMPLE, key: value}
            for value in MAPPED_VALUES
            if key not in COPIED_KEYS or not any(value is deep for deep in DEEP)
        )
        if key not in COPIED_KEYS:
            documents.append({**PLATFORM_SAMPLE, key: [nested_dict(5000)]})
    for document in documents:
        expect(_apply, MappingError, PLATFORM_RULES, document)


@pytest.mark.parametrize("value", INJECTIONS)
def test_mapped_hostile_text_is_kept(value):
    output = expect(
        _apply, MappingError, PLATFORM_RULES, {**PLATFORM_SAMPLE, "name": value}
    )
    assert output["name"] == value.strip()


HOSTILE_PARAMS = {
    "format": ["", "%", "%Q", "\x00", "x" * 10_000, "%Y" + "%%" * 1000, 5, None],
    "timezone": ["", "\x00", "../../etc/passwd", "/etc/localtime", "x" * 10_000, 5],
    "decimal_separator": ["", "ab", "1", "-", None, 5],
    "thousands_separator": ["ab", "1", "+", 5],
    "digits": [-1, 13, 10**400, 2.5, True, "2", None],
    "factor": [float("inf"), float("nan"), "0.01", True, None],
    "table": ["", " ", 5, None, ["x"]],
    "value": [None, "", nested_dict(50), 10**400],
    "unknown": [1],
}
TRANSFORM_OF = {
    "format": "date",
    "timezone": "datetime",
    "decimal_separator": "decimal",
    "thousands_separator": "decimal",
    "digits": "decimal",
    "factor": "scale",
    "table": "lookup",
    "value": "constant",
    "unknown": "copy",
}
HOSTILE_PATHS = [
    "",
    ".",
    "a.",
    ".a",
    "a..b",
    "[]",
    "a[",
    "a]",
    "a[0]",
    "a[][]",
    "a[].b[]",
    "x" * 10_000,
    ".".join(["a"] * 2000),
    ".".join(["a[]"] * 50),
    "a b",
    "a\x00b",
    None,
    5,
    False,
]


def _checked_rules(rules):
    errors = mapping_engine.validate_rules(rules)
    if errors:
        raise MappingError(errors)
    return rules


def test_hostile_rules_are_configuration_errors():
    rules = []
    for name, values in HOSTILE_PARAMS.items():
        rules.extend(Rule("out", "in", TRANSFORM_OF[name], {name: v}) for v in values)
    for path in HOSTILE_PATHS:
        rules.append(Rule(path, "in"))
        rules.append(Rule("out", path))
    rules += [
        Rule("out", "in", "teleport"),
        Rule("out", "in", params=["not", "a", "mapping"]),
        Rule("out", "in", required="yes"),
        Rule("out", "in", sequence="1"),
        Rule("out", None),
        Rule("out[]", "in", "constant", {"value": 1}),
        Rule("out[]", "in"),
        "not a rule",
    ]
    for rule in rules:
        outcome = expect(_checked_rules, MappingError, [rule])
        if isinstance(rule, str):
            assert isinstance(outcome, MappingError)
    # two rules writing the same field, or a field and its parent
    for pair in ([Rule("a", "x"), Rule("a", "y")], [Rule("a", "x"), Rule("a.b", "y")]):
        assert isinstance(expect(_checked_rules, MappingError, pair), MappingError)


TRANSFORM_PARAMS = {
    "copy": [{}],
    "constant": [{"value": "v"}],
    "trim": [{}],
    "upper": [{}],
    "lower": [{}],
    "title": [{}],
    "compact": [{}],
    "date": [{}, {"format": "%d/%m/%Y"}],
    "datetime": [{}, {"format": "%Y-%m-%d %H:%M", "timezone": "Europe/Brussels"}],
    "decimal": [
        {},
        {"decimal_separator": ",", "thousands_separator": "."},
        {"digits": 2, "thousands_separator": " "},
    ],
    "integer": [{}],
    "scale": [{"factor": 0.01}, {"factor": 1e308}],
    "unit": [{}],
    "currency": [{}],
    "lookup": [{"table": "payment_terms"}, {"table": "t", "default": "d"}],
    "boolean": [{}],
}
TRANSFORM_VALUES = [
    value for value in MAPPED_VALUES if not isinstance(value, list | dict) or not value
] + [
    10**4299,
    -(10**4299),
    -1e308,
    5e-324,
    "1" * 4001,
    "1," * 100_000,
    "1 000 000,5",
    "١٢٣",
    "１２",
    "1e5",
    "NaN",
    "Infinity",
    "-0",
    "2026-02-30",
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+14:00",
    "2026-11-26T06:00:00+25:00",
    "26/11/2026\x00",
]


def _transform(name, value, params):
    result = mapping_engine.transform(name, value, params, LOOKUP)
    json.dumps(result, ensure_ascii=False, default=str)
    return result


def test_every_transform_refuses_hostile_values_cleanly():
    for name, variants in TRANSFORM_PARAMS.items():
        for params in variants:
            for value in TRANSFORM_VALUES:
                if name == "scale" and isinstance(value, int) and abs(value) > 10**300:
                    continue  # see test_scale_of_a_huge_integer...
                started = time.monotonic()
                expect(_transform, MappingError, name, value, params)
                assert time.monotonic() - started < 2, (name, params, str(value)[:40])


@FUZZ
@given(
    name=st.sampled_from(sorted(TRANSFORM_PARAMS)),
    variant=st.integers(min_value=0, max_value=2),
    value=JSON_VALUES,
)
def test_random_values_never_crash_a_transform(name, variant, value):
    variants = TRANSFORM_PARAMS[name]
    expect(_transform, MappingError, name, value, variants[variant % len(variants)])


@FUZZ
@given(
    document=st.dictionaries(
        st.sampled_from(SOURCE_KEYS) | st.text(max_size=8), JSON_VALUES, max_size=8
    )
)
def test_random_documents_never_crash_the_shipped_mapping(document):
    expect(_apply, MappingError, PLATFORM_RULES, document)


@FUZZ
@given(path=st.text(max_size=30), source=st.text(max_size=30))
def test_random_paths_never_crash_rule_validation(path, source):
    expect(_checked_rules, MappingError, [Rule(path, source)])


def test_copy_of_deeply_nested_values_is_a_mapping_error():
    """Fixed: a value nested a few hundred levels deep, which parse_json and
    json.loads accept (< ~990 levels), makes the ``copy`` transform, and any
    ``default`` or ``constant``, fail with RecursionError from copy.deepcopy
    (lib/mapping_engine.py ``_copy``/``_apply_sourced``/``_apply_constant``).
    The shipped procurement_platform_v2_supplier mapping copies ``id`` to
    ``extensions.platform_id``, so ``{"id": [[[...]]]}`` reaches it."""
    deep = json.loads("[" * 900 + "]" * 900)
    assert not isinstance(
        expect(_apply, MappingError, PLATFORM_RULES, {**PLATFORM_SAMPLE, "id": deep}),
        RecursionError,
    )
    rule = Rule("out", "in", "copy")
    expect(_apply, MappingError, [rule], {"in": copy.deepcopy(nested(300))})
    expect(_apply, MappingError, [rule], {"in": deep})


def test_scale_of_a_huge_integer_is_a_mapping_error():
    """Fixed: ``scale`` on a JSON integer beyond float range (e.g. 400 digits)
    raises OverflowError from ``math.isfinite(value)``
    (lib/mapping_engine.py ``_scale``) instead of MappingError."""
    for value in (10**400, -(10**400), 10**4299):
        outcome = expect(_transform, MappingError, "scale", value, {"factor": 0.01})
        assert isinstance(outcome, MappingError)


def test_a_factor_beyond_float_range_is_a_rule_error():
    """Fixed (low: factors come from a Float field or a mapping file):
    validate_rules raises OverflowError for ``{"factor": 10**400}`` from
    ``math.isfinite`` in lib/mapping_engine.py ``_check_factor``."""
    for factor in (10**400, -(10**400)):
        rule = Rule("out", "in", "scale", {"factor": factor})
        outcome = expect(_checked_rules, MappingError, [rule])
        assert isinstance(outcome, MappingError)


def test_validate_survives_nesting_deeper_than_the_recursion_limit():
    """Fixed (low: json.loads cannot produce such documents, its own limit is
    the same recursion limit): validate() reports a type error by building
    jsonschema's message with repr() of the value, which raises RecursionError
    beyond ~1,000 levels (lib/canonical.py ``validate``), although the
    function is documented never to raise for a JSON-like document."""
    example = canonical.example("supplier")
    for document in (
        DEEP[0],
        {**example, "name": DEEP[0]},
        {**example, "extensions": DEEP[0]},
    ):
        expect_validation("supplier", document)


def test_a_format_repeating_a_directive_is_a_rule_error():
    """Fixed: a ``format`` such as ``%d/%m/%Y %d`` makes validate_rules raise
    re.error ("redefinition of group name") from datetime.strptime in
    lib/mapping_engine.py ``_check_format``, which only catches ValueError;
    submitting such a mapping rule shows a traceback instead of the reason."""
    for fmt in ("%d%d", "%d/%m/%Y %d", "%Y-%m-%d %H:%M %H"):
        for name in ("date", "datetime"):
            rule = Rule("out", "in", name, {"format": fmt})
            outcome = expect(_checked_rules, MappingError, [rule])
            assert isinstance(outcome, MappingError)
