"""Hostile request bodies against the webhook envelope (see hostile_inputs.py)."""

import codecs
import json

import pytest
from hostile_inputs import (
    FUZZ,
    INJECTIONS,
    JSON_VALUES,
    MB,
    VALID_BODY,
    VALID_EVENT,
    assert_storable,
    expect,
    nested,
)
from hypothesis import given
from hypothesis import strategies as st

from lib import (
    envelope,
)

# -- envelope --------------------------------------------------------------------------

KNOWN_TYPES = {"supplier.upsert"}

HOSTILE_BODIES = [
    b"",
    b" ",
    b"\n\t",
    b"{",
    b"}",
    b"[",
    b"null",
    b"true",
    b"0",
    b'"just a string"',
    b"[]",
    b"{}",
    b'{"events": []}',
    b'{"events": {}}',
    b'{"events": null}',
    b'{"events": [1, "two", null, []]}',
    b'[{"id": "a", "type": "supplier.upsert", "data": {}}]',
    b'{"id": "a", "type": "supplier.upsert", "data": []}',
    b'{"id": "a", "type": "supplier.upsert", "data": "x"}',
    b'{"id": 1, "type": "supplier.upsert", "data": {}}',
    b'{"id": "", "type": "supplier.upsert", "data": {}}',
    b'{"id": "   ", "type": "supplier.upsert", "data": {}}',
    b'{"id": "a", "type": "Supplier.Upsert", "data": {}}',
    b'{"id": "a", "type": "supplier.upsert\\n", "data": {}}',
    b'{"id": "a", "type": "supplier", "data": {}}',
    b'{"id": "a", "type": "invoice.teleport", "data": {}}',
    b'{"id": "a", "type": ["supplier.upsert"], "data": {}}',
    b'{"id": "a", "type": "supplier.upsert", "data": {}, "occurred_at": 5}',
    b'{"id": "a", "type": "supplier.upsert", "data": {"x": NaN}}',
    b'{"id": "a", "type": "supplier.upsert", "data": {"x": Infinity}}',
    b'{"id": "a", "type": "supplier.upsert", "data": {"x": -Infinity}}',
    b'{"id": "a", "type": "supplier.upsert", "data": {"x": 0x10}}',
    b'{"id": "a", "type": "supplier.upsert", "data": {"x": 01}}',
    b'{"id": "a", "type": "supplier.upsert", "data": {"x": .5}}',
    b'{"id": "a", "type": "supplier.upsert", "data": {"x": +1}}',
    b'{"id": "a", "type": "supplier.upsert", "data": {"x": 1e}}',
    b"{'id': 'a', 'type': 'supplier.upsert', 'data': {}}",
    b'{"id": "a", "type": "supplier.upsert", "data": {},}',
    b'{"id": "a" "type": "supplier.upsert"}',
    b'{"id": "a\x00b", "type": "supplier.upsert", "data": {}}',  # raw NUL
    b'{"id": "a\nb", "type": "supplier.upsert", "data": {}}',  # raw newline
    b'{"id": "a\\x41", "type": "supplier.upsert", "data": {}}',
    b'{"id": "a\\u12", "type": "supplier.upsert", "data": {}}',
    b"\xff\xfe{}",
    b'{"id": "\xff", "type": "supplier.upsert", "data": {}}',
    b'{"id": "\xc0\xaf", "type": "supplier.upsert", "data": {}}',  # overlong "/"
    b'{"id": "\xed\xa0\x80", "type": "supplier.upsert", "data": {}}',  # CESU-8
    b'{"id": "\xf4\x90\x80\x80", "type": "supplier.upsert", "data": {}}',
    b'{"id": "caf\xe9", "type": "supplier.upsert", "data": {}}',  # latin-1
    b"\x00" * 64,
    codecs.BOM_UTF8 + VALID_BODY,
    VALID_BODY.decode().encode("utf-16"),
    VALID_BODY.decode().encode("utf-16-le"),
    VALID_BODY.decode().encode("utf-16-be"),
    VALID_BODY.decode().encode("utf-32"),
    VALID_BODY.decode().encode("cp500"),  # EBCDIC
    VALID_BODY + b"\x00",
    VALID_BODY + b"garbage",
    VALID_BODY + VALID_BODY,
    b"[" * 5000 + b"]" * 5000,
    b'{"a":' * 5000 + b"1" + b"}" * 5000,
    b"[" * 100_000,
    b'{"id": "a", "type": "supplier.upsert", "data": {"n": ' + b"9" * 5000 + b"}}",
    b'{"id": "a", "type": "supplier.upsert", "data": {"n": -' + b"9" * 4301 + b"}}",
    b'{"events": [' + b",".join([VALID_BODY] * 3) + b"]}",  # repeated ids
]


def _accepted_envelope(body, max_events=500):
    document = envelope.parse_json(body)
    assert_storable(document)
    events, _is_batch = envelope.split_events(document, max_events, KNOWN_TYPES)
    return events


@pytest.mark.parametrize("body", HOSTILE_BODIES, ids=range(len(HOSTILE_BODIES)))
def test_hostile_bodies_are_refused_with_an_envelope_error(body):
    outcome = expect(_accepted_envelope, envelope.EnvelopeError, body)
    assert isinstance(outcome, envelope.EnvelopeError), "accepted a hostile body"
    assert outcome.code in ("malformed_json", "invalid_envelope", "batch_too_large")
    response = outcome.as_response()
    assert response["error"] == outcome.code
    for error in response["details"]:
        assert error["path"].startswith("$") and error["reason"]
    json.dumps(response)  # the 400 body can always be written


def test_every_truncation_of_a_valid_body_is_refused():
    for length in range(len(VALID_BODY)):
        outcome = expect(
            _accepted_envelope, envelope.EnvelopeError, VALID_BODY[:length]
        )
        assert isinstance(outcome, envelope.EnvelopeError), VALID_BODY[:length]
    assert expect(_accepted_envelope, envelope.EnvelopeError, VALID_BODY)


@pytest.mark.parametrize("value", INJECTIONS)
def test_hostile_but_valid_content_is_accepted_verbatim(value):
    event = {"id": value, "type": "supplier.upsert", "data": {"name": value}}
    events = expect(_accepted_envelope, envelope.EnvelopeError, json.dumps(event))
    assert events[0]["id"] == value and events[0]["data"]["name"] == value


def test_big_but_valid_bodies_are_accepted():
    bodies = [
        json.dumps({**VALID_EVENT, "data": {"name": "x" * MB}}).encode(),
        json.dumps({**VALID_EVENT, "data": {"n": 10**4299}}).encode(),  # 4300 digits
        json.dumps({**VALID_EVENT, "data": {"deep": nested(400)}}).encode(),
        json.dumps({**VALID_EVENT, "id": "x" * envelope.MAX_ID_LENGTH}).encode(),
        json.dumps({**VALID_EVENT, "data": {"s": "\u0000\u0001\u001f"}}).encode(),
    ]
    for body in bodies:
        assert expect(_accepted_envelope, envelope.EnvelopeError, body)


def test_batches_over_the_limit_or_with_bad_members_are_refused():
    events = [{**VALID_EVENT, "id": f"evt-{n}"} for n in range(1000)]
    outcome = expect(
        _accepted_envelope, envelope.EnvelopeError, json.dumps({"events": events}), 500
    )
    assert outcome.code == "batch_too_large"
    broken = [*events[:3], {"id": "evt-x", "type": "supplier.upsert"}]
    outcome = expect(
        _accepted_envelope, envelope.EnvelopeError, json.dumps({"events": broken}), 10
    )
    assert outcome.errors == [
        {"path": "$.events[3].data", "reason": "required, a JSON object"}
    ]
    long_id = {**VALID_EVENT, "id": "x" * (envelope.MAX_ID_LENGTH + 1)}
    outcome = expect(_accepted_envelope, envelope.EnvelopeError, json.dumps(long_id))
    assert "longer than" in str(outcome)


@FUZZ
@given(body=st.binary(max_size=400))
def test_random_bytes_never_crash_the_envelope(body):
    outcome = expect(_accepted_envelope, envelope.EnvelopeError, body)
    assert isinstance(outcome, envelope.EnvelopeError | list)


@FUZZ
@given(text=st.text(max_size=300))
def test_random_text_never_crashes_the_envelope(text):
    expect(_accepted_envelope, envelope.EnvelopeError, text.encode("utf-8"))


@FUZZ
@given(
    document=JSON_VALUES
    | st.fixed_dictionaries(
        {"id": JSON_VALUES, "type": JSON_VALUES, "data": JSON_VALUES},
        optional={"occurred_at": JSON_VALUES, "events": JSON_VALUES},
    ),
    max_events=st.integers(min_value=1, max_value=5),
)
def test_random_documents_never_crash_split_events(document, max_events):
    expect(
        envelope.split_events, envelope.EnvelopeError, document, max_events, KNOWN_TYPES
    )


def test_escaped_lone_surrogates_are_refused_as_malformed():
    """Fixed: ``"\\ud800"`` is valid JSON syntax but not Unicode text. parse_json
    accepts it; storing the event then fails with UnicodeEncodeError when the
    exchange log hashes the payload (fih_intake._store_inbound_events:
    ``hashlib.sha256(raw.encode())``), i.e. a 500 at the webhook."""
    for text in ('"\\ud800"', '"\\udfff"', '"a\\udc00b"', '"\\ud83d"'):
        body = f'{{"id": {text}, "type": "supplier.upsert", "data": {{}}}}'
        outcome = expect(_accepted_envelope, envelope.EnvelopeError, body.encode())
        assert isinstance(outcome, envelope.EnvelopeError), body


def test_numbers_beyond_float_range_are_refused():
    """Fixed: ``1e400`` parses to ``inf``: parse_json refuses the literal
    ``Infinity`` but not a number that overflows to it, and the log then
    stores the non-JSON token ``Infinity`` in fih.message.payload."""
    for number in ("1e400", "-1e400", "1" + "0" * 400 + ".0"):
        body = f'{{"id": "a", "type": "supplier.upsert", "data": {{"x": {number}}}}}'
        outcome = expect(_accepted_envelope, envelope.EnvelopeError, body.encode())
        assert isinstance(outcome, envelope.EnvelopeError), number
