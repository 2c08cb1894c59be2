"""Hostile supplier payloads, canonical documents and update times (see
hostile_inputs.py)."""

import pytest
from hostile_inputs import (
    DEEP,
    FUZZ,
    HOSTILE_VALUES,
    HUGE_INT,
    INJECTIONS,
    JSON_DEEP,
    JSON_DEPTH,
    JSON_VALUES,
    TALLY,
    crash,
    expect,
    expect_validation,
    nested,
    nested_dict,
)
from hypothesis import given
from hypothesis import strategies as st

from lib import (
    canonical,
    ordering,
    supplier_payload,
)

# -- supplier payload ------------------------------------------------------------------

PAYLOAD_FIELDS = [
    "external_id",
    "name",
    "vat",
    "company_registry",
    "email",
    "phone",
    "currency",
    "payment_terms",
    "updated_at",
    "address",
    "bank_accounts",
]


def _supplier(**values):
    return {"external_id": "SUP-1", "name": "Acme", **values}


def test_hostile_supplier_payloads_are_refused_or_accepted_never_crash():
    documents = [None, [], "supplier", 42, nested(5000), nested_dict(5000)]
    for field in PAYLOAD_FIELDS:
        documents.extend(_supplier(**{field: value}) for value in HOSTILE_VALUES)
    for value in HOSTILE_VALUES:
        documents.append(_supplier(address={"city": value, "country_code": value}))
        documents.append(_supplier(bank_accounts=[{"iban": value, "bic": value}]))
        documents.append(_supplier(bank_accounts=[value]))
    documents.append(_supplier(bank_accounts=[{"iban": "BE71096123456769"}] * 10_000))
    documents.append(_supplier(bank_accounts=[{"iban": "BE" + "9" * 100_000}]))
    for document in documents:
        expect(supplier_payload.normalize, supplier_payload.PayloadError, document)


@pytest.mark.parametrize("value", INJECTIONS)
def test_formula_and_sql_strings_are_kept_verbatim(value):
    supplier = expect(
        supplier_payload.normalize,
        supplier_payload.PayloadError,
        _supplier(name=value, address={"city": value, "street": value}),
    )
    # not executed, not escaped: escaping for CSV is the exporter's job
    assert supplier["name"] == value.strip()
    assert supplier["address"]["city"] == value.strip()


@FUZZ
@given(
    data=st.dictionaries(
        st.sampled_from(PAYLOAD_FIELDS) | st.text(max_size=8), JSON_VALUES, max_size=8
    )
)
def test_random_supplier_payloads_never_crash(data):
    expect(supplier_payload.normalize, supplier_payload.PayloadError, data)


@FUZZ
@given(iban=st.text(max_size=60))
def test_random_ibans_never_crash(iban):
    TALLY["tried"] += 1
    try:
        valid = supplier_payload.iban_is_valid(supplier_payload.compact(iban))
    except Exception as exc:
        crash("iban_is_valid", exc)
    TALLY["accepted" if valid else "rejected"] += 1


# -- canonical model -------------------------------------------------------------------


CANONICAL_VALUES = [
    value for value in HOSTILE_VALUES if not any(value is deep for deep in DEEP)
] + list(JSON_DEEP)


def _hostile_documents(object_type):
    example = canonical.example(object_type)
    yield from (None, [], "x", 0, HUGE_INT, *JSON_DEEP, [example])
    for key in example:
        for value in CANONICAL_VALUES:
            yield {**example, key: value}
    yield {**example, "extensions": JSON_DEEP[1]}
    yield {**example, "unexpected": JSON_DEEP[0]}
    yield {**example, "unexpected": DEEP[0]}  # not reported: no repr() of it
    yield {**example, **{f"x{n}": n for n in range(2000)}}
    lists = [key for key, value in example.items() if isinstance(value, list)]
    for key in lists:
        yield {**example, key: example[key] * 5000}
        yield {**example, key: [nested(JSON_DEPTH - 1)]}
        yield {**example, key: [{**item, "x": 1} for item in example[key][:1]]}


@pytest.mark.parametrize("object_type", canonical.OBJECT_TYPES)
def test_hostile_canonical_documents_give_readable_errors(object_type):
    for document in _hostile_documents(object_type):
        expect_validation(object_type, document)
    errors = expect_validation(object_type, {**canonical.example(object_type), "x": 1})
    assert errors == [{"path": "$", "reason": "must not have the unexpected field 'x'"}]
    outcome = expect(canonical.check, canonical.CanonicalError, object_type, [])
    assert isinstance(outcome, canonical.CanonicalError)


def test_unknown_object_types_are_a_value_error():
    for object_type in ("res.partner", "", "../supplier", "supplier.v2"):
        outcome = expect(canonical.validate, ValueError, object_type, {})
        assert isinstance(outcome, ValueError)


@pytest.mark.parametrize("value", INJECTIONS)
def test_canonical_suppliers_keep_hostile_text(value):
    document = {**canonical.example("supplier"), "name": value}
    assert expect_validation("supplier", document) == []


@FUZZ
@given(
    object_type=st.sampled_from(canonical.OBJECT_TYPES),
    document=JSON_VALUES,
    key=st.text(max_size=20),
)
def test_random_documents_never_crash_validate(object_type, document, key):
    expect_validation(object_type, document)
    expect_validation(object_type, {**canonical.example(object_type), key: document})


DATE_TIMES = [
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+23:59",
    "9999-12-31T23:59:59Z",
    "2026-02-30T00:00:00Z",
    "2026-11-26T24:00:00Z",
    "２０２６-11-26T06:00:00Z",
    "2026-11-26T06:00:00+99:99",
]


def _canonical_then_timestamp(value):
    errors = canonical.validate("supplier", _supplier(updated_at=value))
    if errors:
        raise canonical.CanonicalError(errors)
    return ordering.parse_timestamp(value)


def test_date_times_the_schema_refuses_are_refused_cleanly():
    for value in DATE_TIMES[3:]:
        outcome = expect(_canonical_then_timestamp, canonical.CanonicalError, value)
        assert isinstance(outcome, canonical.CanonicalError), value


def test_long_fractions_of_seconds_are_accepted():
    moment = expect(
        _canonical_then_timestamp,
        canonical.CanonicalError,
        "2026-11-26T06:00:00.99999999999999999999Z",
    )
    assert moment.isoformat() == "2026-11-26T06:00:00.999999"


def test_date_times_the_schema_accepts_can_be_ordered():
    """Fixed: "9999-12-31T23:59:59-23:59" is a valid canonical updated_at, but
    ordering.parse_timestamp raises OverflowError converting it to UTC
    (lib/ordering.py, ``moment.astimezone(UTC)``; only TypeError/ValueError
    are caught). The supplier flow then retries the message as an
    "Unexpected error (OverflowError)" until it is dead."""
    for value in DATE_TIMES[:3]:
        expect(_canonical_then_timestamp, canonical.CanonicalError, value)


# -- ordering (update times of canonical documents) ------------------------------------


@FUZZ
@given(value=st.text(max_size=40) | st.sampled_from(DATE_TIMES[3:]))
def test_random_timestamps_never_crash_parse_timestamp(value):
    TALLY["tried"] += 1
    try:
        moment = ordering.parse_timestamp(value)
    except Exception as exc:
        crash("ordering.parse_timestamp", exc)
    TALLY["rejected" if moment is None else "accepted"] += 1
